//go:build !linux

package chromedpdriver

func dirProcesses(dir string) []int { return nil }

func killDirProcesses(dir string) {}
