//go:build !linux

package procfs

import (
	"os"
	"syscall"
)

// Alive reports whether pid runs.
func Alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	return p.Signal(syscall.Signal(0)) == nil
}

// ParentPIDs is empty off Linux.
func ParentPIDs() map[int]int { return nil }

// Tree is root alone off Linux, or nil when it does not run.
func Tree(root int) []int {
	if !Alive(root) {
		return nil
	}
	return []int{root}
}

// Memory fails off Linux.
func Memory(pid int) (Mem, error) { return Mem{}, ErrUnsupported }
