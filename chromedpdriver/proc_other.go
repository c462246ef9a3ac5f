//go:build !linux

package chromedpdriver

import (
	"errors"
	"os"
	"syscall"
)

func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	return p.Signal(syscall.Signal(0)) == nil
}

func processTree(root int) []int {
	if !processAlive(root) {
		return nil
	}
	return []int{root}
}

func processPSS(pid int) (int64, error) {
	return 0, errors.New("chromedpdriver: memory measurement needs Linux")
}

func dirProcesses(dir string) []int { return nil }

func killDirProcesses(dir string) {}
