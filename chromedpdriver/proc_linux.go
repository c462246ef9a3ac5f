//go:build linux

package chromedpdriver

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
)

// dirProcesses returns the processes whose command line has
// --user-data-dir=dir. Chrome passes it to all its children.
func dirProcesses(dir string) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	want := []byte("--user-data-dir=" + dir + "\x00")
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmd, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil {
			continue
		}
		if bytes.Contains(append(cmd, 0), want) && processAlive(pid) {
			out = append(out, pid)
		}
	}
	return out
}

// killDirProcesses kills the processes left over by a Chrome that used the
// profile folder dir.
func killDirProcesses(dir string) {
	for range 3 {
		pids := dirProcesses(dir)
		if len(pids) == 0 {
			return
		}
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}
