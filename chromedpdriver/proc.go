package chromedpdriver

import "github.com/wasend/wasend/internal/procfs"

// processAlive reports whether pid runs and is not a zombie.
func processAlive(pid int) bool { return procfs.Alive(pid) }

// processTree returns root and its live descendants, root first.
func processTree(root int) []int { return procfs.Tree(root) }
