// Package procfs reads processes from Linux's /proc: liveness, the process
// tree, and memory from smaps_rollup. chromedpdriver measures its browsers
// with it, and the benchmarks their floors, so that both read memory the
// same way. On other systems Alive asks the OS, Tree is the root alone and
// Memory fails.
package procfs

import "errors"

// ErrUnsupported is Memory's error off Linux.
var ErrUnsupported = errors.New("procfs: needs Linux")

// Mem is a process's memory, in bytes.
type Mem struct {
	// PSS is the proportional set size: private pages, plus each shared
	// page divided among the processes that map it.
	PSS int64
	// USS is the unique set size (Private_Clean + Private_Dirty): what the
	// process alone holds, whatever else runs.
	USS int64
}
