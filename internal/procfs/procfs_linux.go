//go:build linux

package procfs

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// state returns the state letter and the parent of pid from /proc/<pid>/stat.
func state(name string) (byte, int, bool) {
	st, err := os.ReadFile("/proc/" + name + "/stat")
	if err != nil {
		return 0, 0, false
	}
	s := string(st)
	i := strings.LastIndexByte(s, ')') // the command may hold spaces and ')'
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 || f[0] == "" {
		return 0, 0, false
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		return 0, 0, false
	}
	return f[0][0], ppid, true
}

func dead(st byte) bool { return st == 'Z' || st == 'X' }

// Alive reports whether pid runs and is not a zombie.
func Alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	st, _, ok := state(strconv.Itoa(pid))
	return ok && !dead(st)
}

// ParentPIDs maps each live process (zombies left out) to its parent.
func ParentPIDs() map[int]int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	m := make(map[int]int, len(ents))
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, ppid, ok := state(e.Name()); ok && !dead(st) {
			m[pid] = ppid
		}
	}
	return m
}

// Tree returns root and its live descendants, root first, or nil when root
// does not run.
func Tree(root int) []int {
	pp := ParentPIDs()
	if _, ok := pp[root]; !ok {
		return nil
	}
	children := map[int][]int{}
	for pid, ppid := range pp {
		children[ppid] = append(children[ppid], pid)
	}
	out := []int{root}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}

// Memory reads pid's memory from /proc/<pid>/smaps_rollup.
func Memory(pid int) (Mem, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return Mem{}, err
	}
	var m Mem
	found := false
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		kb, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			continue
		}
		switch f[0] {
		case "Pss:":
			m.PSS, found = kb<<10, true
		case "Private_Clean:", "Private_Dirty:":
			m.USS += kb << 10
		}
	}
	if !found {
		return Mem{}, fmt.Errorf("procfs: no Pss in /proc/%d/smaps_rollup", pid)
	}
	return m, nil
}
