package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/wasend/wasend"
)

var contextTests = []test{
	{"CreateDefaults", testContextCreateDefaults},
	{"CreateEachStatus", testContextCreateEachStatus},
	{"List", testContextList},
	{"DuplicateSystemID", testContextDuplicateSystemID},
	{"NotFound", testContextNotFound},
	{"Transitions", testContextTransitions},
	{"TransitionAtZeroIsNow", testContextTransitionNow},
}

func testContextCreateDefaults(t *testing.T, s *store) {
	c := mustContext(t, s, wasend.BrowserContext{})
	if c.ID <= 0 {
		t.Fatalf("ID = %d, want > 0", c.ID)
	}
	if c.Status != wasend.ContextDisconnected {
		t.Fatalf("Status = %q, want %q (the default)", c.Status, wasend.ContextDisconnected)
	}
	if c.SystemID != "" {
		t.Fatalf("SystemID = %q, want empty", c.SystemID)
	}
	s.checkSet(t, "CreatedAt", c.CreatedAt)
	checkTime(t, "UpdatedAt", c.UpdatedAt, c.CreatedAt)
	checkContext(t, "Context after CreateContext", mustGetContext(t, s, c.ID), c)
}

func testContextCreateEachStatus(t *testing.T, s *store) {
	for _, st := range wasend.ContextStatuses() {
		in := wasend.BrowserContext{Status: st, SystemID: "profile-" + string(st) + "-ñ-😀"}
		c := mustContext(t, s, in)
		if c.Status != st || c.SystemID != in.SystemID {
			t.Fatalf("CreateContext(%+v) = status %q, system id %q; want %q, %q", in, c.Status, c.SystemID, st, in.SystemID)
		}
		checkContext(t, "Context after CreateContext", mustGetContext(t, s, c.ID), c)
	}
}

func testContextList(t *testing.T, s *store) {
	list, err := s.Contexts(t.Context())
	if err != nil {
		t.Fatalf("Contexts on an empty store: %v", err)
	}
	if len(list) != 0 {
		t.Fatalf("Contexts on an empty store = %d contexts, want 0", len(list))
	}
	var want []wasend.BrowserContext
	for i, sys := range []string{"a", "", "b", ""} {
		c := mustContext(t, s, wasend.BrowserContext{SystemID: sys, Status: wasend.ContextStatuses()[i%len(wasend.ContextStatuses())]})
		if len(want) > 0 && c.ID <= want[len(want)-1].ID {
			t.Fatalf("context ids do not grow: %d after %d", c.ID, want[len(want)-1].ID)
		}
		want = append(want, c)
	}
	list = mustContexts(t, s, len(want))
	for i := range want {
		checkContext(t, fmt.Sprintf("Contexts()[%d]", i), list[i], want[i])
	}
}

func testContextDuplicateSystemID(t *testing.T, s *store) {
	first := mustContext(t, s, wasend.BrowserContext{SystemID: "profile-1"})
	_, err := s.CreateContext(t.Context(), wasend.BrowserContext{SystemID: "profile-1", Status: wasend.ContextAvailable})
	checkErrorIs(t, "CreateContext with a taken system id", err, wasend.ErrDuplicateContext)
	// Contexts without a system id never collide.
	mustContext(t, s, wasend.BrowserContext{})
	mustContext(t, s, wasend.BrowserContext{})
	list := mustContexts(t, s, 3)
	checkContext(t, "first context", list[0], first)
}

func testContextNotFound(t *testing.T, s *store) {
	_, err := s.Context(t.Context(), missingID)
	checkErrorIs(t, "Context of a missing id", err, wasend.ErrContextNotFound)
	wantApply(t, s, wasend.Step{Context: &wasend.ContextTransition{ID: missingID,
		From: []wasend.ContextStatus{wasend.ContextAvailable}, To: wasend.ContextBusy}}, false)
}

func testContextTransitions(t *testing.T, s *store) {
	b := s.base()
	type tc struct {
		start wasend.ContextStatus
		from  []wasend.ContextStatus
		to    wasend.ContextStatus
		want  bool
	}
	var cases []tc
	// Every change is allowed from the right status and refused from the
	// others.
	for _, start := range wasend.ContextStatuses() {
		for _, to := range wasend.ContextStatuses() {
			cases = append(cases, tc{start, []wasend.ContextStatus{start}, to, true})
			var others []wasend.ContextStatus
			for _, o := range wasend.ContextStatuses() {
				if o != start {
					others = append(others, o)
				}
			}
			cases = append(cases, tc{start, others, to, false})
		}
	}
	cases = append(cases,
		tc{wasend.ContextBusy, []wasend.ContextStatus{wasend.ContextAvailable, wasend.ContextBusy}, wasend.ContextAvailable, true},
		tc{wasend.ContextClosed, []wasend.ContextStatus{wasend.ContextAvailable, wasend.ContextBusy, wasend.ContextDisconnected, wasend.ContextError}, wasend.ContextDisconnected, false},
	)
	for i, c := range cases {
		bc := newContext(t, s, c.start)
		at := b.Add(time.Duration(i+1) * time.Second)
		ok := mustApply(t, s, wasend.Step{Context: &wasend.ContextTransition{ID: bc.ID, From: c.from, To: c.to, At: at}})
		if ok != c.want {
			t.Fatalf("case %d: %s, From %v, To %s: Apply = %v, want %v", i, c.start, c.from, c.to, ok, c.want)
		}
		want := bc
		if c.want {
			want.Status, want.UpdatedAt = c.to, at
		}
		checkContext(t, fmt.Sprintf("case %d: %s, From %v, To %s", i, c.start, c.from, c.to), mustGetContext(t, s, bc.ID), want)
	}
}

func testContextTransitionNow(t *testing.T, s *store) {
	bc := newContext(t, s, wasend.ContextDisconnected)
	wantApply(t, s, wasend.Step{Context: &wasend.ContextTransition{ID: bc.ID,
		From: []wasend.ContextStatus{wasend.ContextDisconnected}, To: wasend.ContextAvailable}}, true)
	got := mustGetContext(t, s, bc.ID)
	if got.Status != wasend.ContextAvailable {
		t.Fatalf("Status = %q, want %q", got.Status, wasend.ContextAvailable)
	}
	s.checkSet(t, "UpdatedAt", got.UpdatedAt)
	if got.UpdatedAt.Before(bc.UpdatedAt) {
		t.Fatalf("UpdatedAt = %v, before the creation (%v)", got.UpdatedAt, bc.UpdatedAt)
	}
	checkTime(t, "CreatedAt", got.CreatedAt, bc.CreatedAt)
}
