//go:build linux

package procfs

import (
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"
)

func TestTreeAliveAndMemory(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	child := cmd.Process.Pid
	tree := Tree(os.Getpid())
	if len(tree) == 0 || tree[0] != os.Getpid() || !slices.Contains(tree, child) {
		t.Fatalf("Tree(self) = %v, want self first and the child %d", tree, child)
	}
	if !Alive(child) {
		t.Fatal("the child is not alive")
	}
	m, err := Memory(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if m.PSS <= 0 || m.USS <= 0 {
		t.Fatalf("Memory(self) = %+v, want both positive", m)
	}
	_ = cmd.Process.Kill()
	// Killed but not reaped: a zombie is not alive, and not in the tree.
	deadline := time.Now().Add(5 * time.Second)
	for Alive(child) {
		if time.Now().After(deadline) {
			t.Fatal("the killed child still looks alive")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if slices.Contains(Tree(os.Getpid()), child) {
		t.Fatal("a zombie is in the tree")
	}
	_ = cmd.Wait()
	if Alive(child) || Tree(child) != nil {
		t.Fatal("a reaped process is alive")
	}
	if _, err := Memory(child); err == nil {
		t.Fatal("Memory of a gone process did not fail")
	}
}
