package chromedpdriver

import (
	"fmt"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/internal/procfs"
)

// Memory is the memory of a session's browser, in bytes, summed over its
// process tree: the browser process and its renderer, GPU and utility
// processes.
type Memory struct {
	// PSS is the proportional set size: private pages, plus each shared
	// page divided among the processes that map it (Pss in
	// /proc/<pid>/smaps_rollup). It falls as other browsers start, since
	// they share pages of the same program.
	PSS int64
	// USS is the unique set size (Private_Clean + Private_Dirty): what the
	// browser alone holds, which closing it would free.
	USS int64
	// Processes is how many processes were read.
	Processes int
}

// Memory returns the memory of the session's browser, read from Linux's
// /proc; it fails on other systems. For an ephemeral session it is the
// browser that the pool's ephemeral sessions share. A process that exits
// while the tree is read is left out. It fails, wrapping
// wasend.ErrDisconnected, when the session has no browser, and with the
// cause when no process of its tree could be read (always, off Linux).
func (s *Session) Memory() (Memory, error) {
	pids := s.pids()
	if len(pids) == 0 {
		return Memory{}, fmt.Errorf("%w: no browser process", wasend.ErrDisconnected)
	}
	var m Memory
	var firstErr error
	for _, pid := range pids {
		pm, err := procfs.Memory(pid)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		m.PSS += pm.PSS
		m.USS += pm.USS
		m.Processes++
	}
	if m.Processes == 0 {
		return Memory{}, fmt.Errorf("chromedpdriver: reading the browser's memory: %w", firstErr)
	}
	return m, nil
}

// MemoryPSS implements wasend.ResourceReporter: it is Memory's PSS.
func (s *Session) MemoryPSS() (int64, error) {
	m, err := s.Memory()
	return m.PSS, err
}

// pids returns the process ids of the session's browser: the main process
// first, then its children. An ephemeral session shares its browser with
// the pool's other ephemeral sessions.
func (s *Session) pids() []int {
	inc := s.current()
	if inc == nil {
		return nil
	}
	return processTree(inc.pid)
}
