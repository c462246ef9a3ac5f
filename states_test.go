package wasend

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

// The state machine's tables, walked: every edge is well formed and
// reachable from a starting status, no edge leaves a final status, every
// status is covered, and the package doc shows the tables as they are.

func TestJobEdges(t *testing.T) {
	walk(t, jobEdges, JobStatuses(), []JobStatus{JobPending}, JobStatus.Final)
}

func TestMessageEdges(t *testing.T) {
	walk(t, messageEdges, MessageStatuses(), []MessageStatus{MessagePending}, MessageStatus.Final)
}

func TestContextEdges(t *testing.T) {
	// A context starts disconnected (CreateContext); a store may hold one
	// in any status, since the status table predates the Client.
	walk(t, contextEdges, ContextStatuses(), []ContextStatus{ContextDisconnected},
		func(s ContextStatus) bool { return s == ContextClosed })
}

func walk[S ~string](t *testing.T, edges []edge[S], statuses []S, start []S, final func(S) bool) {
	t.Helper()
	names := map[string]bool{}
	for _, e := range edges {
		if names[e.name] {
			t.Errorf("two edges are named %q", e.name)
		}
		names[e.name] = true
		if len(e.from) == 0 {
			t.Errorf("edge %q has no From", e.name)
		}
		if e.what == "" {
			t.Errorf("edge %q does not say when it is taken", e.name)
		}
		for _, s := range append(slices.Clone(e.from), e.to) {
			if !slices.Contains(statuses, s) {
				t.Errorf("edge %q: unknown status %q", e.name, s)
			}
		}
		for _, f := range e.from {
			if final(f) {
				t.Errorf("edge %q leads out of the final status %q", e.name, f)
			}
		}
	}
	// Reachability: from the starting statuses, following the edges.
	reached := map[S]bool{}
	for _, s := range start {
		reached[s] = true
	}
	for changed := true; changed; {
		changed = false
		for _, e := range edges {
			if reached[e.to] {
				continue
			}
			for _, f := range e.from {
				if reached[f] {
					reached[e.to] = true
					changed = true
					break
				}
			}
		}
	}
	for _, e := range edges {
		ok := false
		for _, f := range e.from {
			ok = ok || reached[f]
		}
		if !ok {
			t.Errorf("edge %q cannot be taken: none of %v is reachable", e.name, e.from)
		}
	}
	for _, s := range statuses {
		if !reached[s] {
			t.Errorf("status %q is not reachable", s)
		}
		if !final(s) {
			leaves := false
			for _, e := range edges {
				leaves = leaves || (slices.Contains(e.from, s) && e.to != s)
			}
			if !leaves {
				t.Errorf("status %q is not final, but no edge leaves it", s)
			}
		}
	}
}

// stateTable renders the edges as the package doc shows them.
func stateTable() string {
	var b strings.Builder
	row := func(kind, name string, from []string, to, what string) {
		fmt.Fprintf(&b, "//\t%-8s %-22s %-36s %s\n", kind, name, strings.Join(from, "|")+" -> "+to, what)
	}
	for _, e := range jobEdges {
		row("job", e.name, strs(e.from), string(e.to), e.what)
	}
	for _, e := range messageEdges {
		row("message", e.name, strs(e.from), string(e.to), e.what)
	}
	for _, e := range contextEdges {
		row("context", e.name, strs(e.from), string(e.to), e.what)
	}
	return b.String()
}

func strs[S ~string](in []S) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = string(s)
	}
	return out
}

const (
	tableStart = "// The table (generated from states.go; TestDocShowsTheStateMachine checks it):\n//\n"
	tableEnd   = "//\n// End of the table.\n"
)

func TestDocShowsTheStateMachine(t *testing.T) {
	b, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i, j := strings.Index(doc, tableStart), strings.Index(doc, tableEnd)
	want := stateTable()
	if i < 0 || j < i {
		t.Fatalf("doc.go has no state table between %q and %q", tableStart, tableEnd)
	}
	got := doc[i+len(tableStart) : j]
	if got != want {
		if os.Getenv("WASEND_UPDATE_DOC") != "" {
			if err := os.WriteFile("doc.go", []byte(doc[:i+len(tableStart)]+want+doc[j:]), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("doc.go's state table is out of date (WASEND_UPDATE_DOC=1 go test -run TestDocShowsTheStateMachine rewrites it); want:\n%s", want)
	}
}

// The status lists cannot be changed from outside: each call returns a
// new slice, and Valid does not read them.
func TestStatusListsAreImmutable(t *testing.T) {
	JobStatuses()[0] = "x"
	MessageStatuses()[0] = "x"
	ContextStatuses()[0] = "x"
	JobKinds()[0] = "x"
	if !JobPending.Valid() || !MessagePending.Valid() || !ContextAvailable.Valid() || !KindSingle.Valid() {
		t.Fatal("changing a returned list changed what is valid")
	}
	if JobStatuses()[0] != JobPending || MessageStatuses()[0] != MessagePending ||
		ContextStatuses()[0] != ContextAvailable || JobKinds()[0] != KindSingle {
		t.Fatal("changing a returned list changed the list")
	}
	if JobStatus("x").Valid() || MessageStatus("x").Valid() || ContextStatus("x").Valid() {
		t.Fatal("an unknown status is valid")
	}
}
