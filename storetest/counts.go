package storetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/wasend/wasend"
)

var countTests = []test{
	{"Empty", testCountsEmpty},
	{"Mix", testCountsMix},
}

var cleanTests = []test{
	{"FinalAndOld", testClean},
	{"FreesKeys", testCleanFreesKeys},
}

var errorTests = []test{
	{"Canceled", testCanceled},
	{"DeadlineExceeded", testDeadline},
}

type jobKey struct {
	ctx    int64
	kind   wasend.JobKind
	status wasend.JobStatus
}

type msgKey struct {
	ctx    int64
	status wasend.MessageStatus
}

// countMaps turns counts into maps, without the zero counts, and fails on
// a group given twice.
func countMaps(t *testing.T, c wasend.StoreCounts) (map[jobKey]int64, map[msgKey]int64) {
	t.Helper()
	jobs, msgs := map[jobKey]int64{}, map[msgKey]int64{}
	for _, x := range c.Jobs {
		k := jobKey{x.ContextID, x.Kind, x.Status}
		if _, dup := jobs[k]; dup {
			t.Fatalf("Counts: job group %+v given twice", k)
		}
		if x.N != 0 {
			jobs[k] = x.N
		}
	}
	for _, x := range c.Messages {
		k := msgKey{x.ContextID, x.Status}
		if _, dup := msgs[k]; dup {
			t.Fatalf("Counts: message group %+v given twice", k)
		}
		if x.N != 0 {
			msgs[k] = x.N
		}
	}
	return jobs, msgs
}

func mustCounts(t *testing.T, s wasend.Store) (map[jobKey]int64, map[msgKey]int64) {
	t.Helper()
	c, err := s.Counts(t.Context())
	if err != nil {
		t.Fatalf("Counts: %v", err)
	}
	return countMaps(t, c)
}

func testCountsEmpty(t *testing.T, s *store) {
	newContext(t, s, wasend.ContextAvailable)
	jobs, msgs := mustCounts(t, s)
	if len(jobs) != 0 || len(msgs) != 0 {
		t.Fatalf("Counts of an empty store = %v, %v; want nothing", jobs, msgs)
	}
}

func testCountsMix(t *testing.T, s *store) {
	a := newContext(t, s, wasend.ContextAvailable)
	b := newContext(t, s, wasend.ContextAvailable)
	newContext(t, s, wasend.ContextAvailable) // no jobs
	mustJob(t, s, job(a.ID, wasend.KindSingle, 1))
	mustJob(t, s, job(a.ID, wasend.KindSingle, 1))
	ja := mustJob(t, s, job(a.ID, wasend.KindBulk, 3))
	wantApply(t, s, wasend.Step{Job: &wasend.JobTransition{ID: ja.ID, From: pending, To: wasend.JobRunning, Claim: "c"}}, true)
	wantApply(t, s, wasend.Step{Message: &wasend.MessageTransition{ID: ja.Messages[0].ID, From: msgPend, To: wasend.MessageSending}}, true)
	wantApply(t, s, wasend.Step{Message: &wasend.MessageTransition{ID: ja.Messages[0].ID, From: msgSend, To: wasend.MessageSent}}, true)
	wantApply(t, s, wasend.Step{Message: &wasend.MessageTransition{ID: ja.Messages[1].ID, From: msgPend, To: wasend.MessageSending}}, true)

	jb1 := mustJob(t, s, job(b.ID, wasend.KindSingle, 1))
	wantApply(t, s, wasend.Step{Job: &wasend.JobTransition{ID: jb1.ID, From: pending, To: wasend.JobRunning, Claim: "c"}}, true)
	wantApply(t, s, wasend.Step{Message: &wasend.MessageTransition{ID: jb1.Messages[0].ID, From: msgPend, To: wasend.MessageSending}}, true)
	wantApply(t, s, wasend.Step{
		Job:     &wasend.JobTransition{ID: jb1.ID, From: running, To: wasend.JobCompleted},
		Message: &wasend.MessageTransition{ID: jb1.Messages[0].ID, From: msgSend, To: wasend.MessageSent}}, true)
	jb2 := mustJob(t, s, job(b.ID, wasend.KindBulk, 2))
	wantApply(t, s, wasend.Step{Job: &wasend.JobTransition{ID: jb2.ID, From: pending, To: wasend.JobCancelled,
		PendingMessagesTo: wasend.MessageCancelled}}, true)
	paused := job(b.ID, wasend.KindBulk, 2)
	paused.Status = wasend.JobPaused
	mustJob(t, s, paused)
	// One message unconfirmed, one unknown.
	jb3 := mustJob(t, s, job(b.ID, wasend.KindBulk, 2))
	for _, m := range jb3.Messages {
		wantApply(t, s, wasend.Step{Message: &wasend.MessageTransition{ID: m.ID, From: msgPend, To: wasend.MessageSending}}, true)
		wantApply(t, s, wasend.Step{Message: &wasend.MessageTransition{ID: m.ID, From: msgSend, To: wasend.MessageUnconfirmed}}, true)
	}
	wantApply(t, s, wasend.Step{Message: &wasend.MessageTransition{ID: jb3.Messages[1].ID, From: msgUnconf, To: wasend.MessageUnknown}}, true)

	jobs, msgs := mustCounts(t, s)
	wantJobs := map[jobKey]int64{
		{a.ID, wasend.KindSingle, wasend.JobPending}:   2,
		{a.ID, wasend.KindBulk, wasend.JobRunning}:     1,
		{b.ID, wasend.KindSingle, wasend.JobCompleted}: 1,
		{b.ID, wasend.KindBulk, wasend.JobCancelled}:   1,
		{b.ID, wasend.KindBulk, wasend.JobPaused}:      1,
		{b.ID, wasend.KindBulk, wasend.JobPending}:     1,
	}
	wantMsgs := map[msgKey]int64{
		{a.ID, wasend.MessagePending}:     3,
		{a.ID, wasend.MessageSending}:     1,
		{a.ID, wasend.MessageSent}:        1,
		{b.ID, wasend.MessageSent}:        1,
		{b.ID, wasend.MessageCancelled}:   2,
		{b.ID, wasend.MessagePending}:     2,
		{b.ID, wasend.MessageUnconfirmed}: 1,
		{b.ID, wasend.MessageUnknown}:     1,
	}
	if !maps.Equal(jobs, wantJobs) {
		t.Fatalf("job counts = %v, want %v", jobs, wantJobs)
	}
	if !maps.Equal(msgs, wantMsgs) {
		t.Fatalf("message counts = %v, want %v", msgs, wantMsgs)
	}
}

func testClean(t *testing.T, s *store) {
	bc := newContext(t, s, wasend.ContextAvailable)
	cut := s.base()
	type tc struct {
		name    string
		to      wasend.JobStatus // "" leaves the job as created
		created wasend.JobStatus
		at      time.Time
		deleted bool
	}
	cases := []tc{
		{"completed long ago", wasend.JobCompleted, "", cut.Add(-48 * time.Hour), true},
		{"failed an hour ago", wasend.JobFailed, "", cut.Add(-time.Hour), true},
		{"cancelled just before", wasend.JobCancelled, "", cut.Add(-time.Millisecond), true},
		{"completed at the cut", wasend.JobCompleted, "", cut, false},
		{"completed after the cut", wasend.JobCompleted, "", cut.Add(time.Hour), false},
		{"running since long ago", wasend.JobRunning, "", cut.Add(-48 * time.Hour), false},
		{"paused long ago", wasend.JobPaused, "", cut.Add(-48 * time.Hour), false},
		{"pending long ago", wasend.JobPending, "", cut.Add(-48 * time.Hour), false},
		{"pending", "", wasend.JobPending, time.Time{}, false},
		{"paused", "", wasend.JobPaused, time.Time{}, false},
	}
	jobs := make([]wasend.Job, len(cases))
	for i, c := range cases {
		in := job(bc.ID, wasend.KindBulk, 3)
		in.Status = c.created
		jobs[i] = mustJob(t, s, in)
		if c.to != "" {
			wantApply(t, s, wasend.Step{Job: &wasend.JobTransition{ID: jobs[i].ID, From: pending, To: c.to,
				Claim: "c", At: c.at, PendingMessagesTo: wasend.MessageCancelled}}, true)
		}
	}
	n, err := s.Clean(t.Context(), cut)
	if err != nil {
		t.Fatalf("Clean: %v", err)
	}
	if n != 3 {
		t.Fatalf("Clean = %d, want 3", n)
	}
	kept := 0
	for i, c := range cases {
		_, err := s.Job(t.Context(), jobs[i].ID)
		switch {
		case c.deleted:
			checkErrorIs(t, fmt.Sprintf("%s: Job after Clean", c.name), err, wasend.ErrJobNotFound)
		case err != nil:
			t.Fatalf("%s: Job after Clean: %v (the job must stay)", c.name, err)
		default:
			if got := len(mustGetJob(t, s, jobs[i].ID).Messages); got != 3 {
				t.Fatalf("%s: %d messages after Clean, want 3", c.name, got)
			}
			kept++
		}
	}
	// The deleted jobs' messages are gone too.
	_, msgs := mustCounts(t, s)
	var m int64
	for _, v := range msgs {
		m += v
	}
	if m != int64(3*kept) {
		t.Fatalf("messages after Clean = %d (%v), want %d", m, msgs, 3*kept)
	}
	if n, err := s.Clean(t.Context(), cut); err != nil || n != 0 {
		t.Fatalf("second Clean = %d, %v; want 0, nil", n, err)
	}
}

// callAll calls every method of s with ctx and returns their errors by
// name.
func callAll(t *testing.T, s wasend.Store, ctx context.Context, bc wasend.BrowserContext, j wasend.Job) map[string]error {
	errs := map[string]error{}
	_, errs["CreateContext"] = s.CreateContext(ctx, wasend.BrowserContext{})
	_, errs["Context"] = s.Context(ctx, bc.ID)
	_, errs["Contexts"] = s.Contexts(ctx)
	_, errs["CreateJob"] = s.CreateJob(ctx, job(bc.ID, wasend.KindSingle, 1))
	_, errs["Job"] = s.Job(ctx, j.ID)
	_, errs["Jobs"] = s.Jobs(ctx, wasend.JobFilter{})
	_, errs["Apply"] = s.Apply(ctx, wasend.Step{Job: &wasend.JobTransition{ID: j.ID, From: pending, To: wasend.JobPaused}})
	_, errs["Counts"] = s.Counts(ctx)
	_, errs["Clean"] = s.Clean(ctx, time.Now())
	proxy := ""
	_, errs["UpdateContext"] = s.UpdateContext(ctx, bc.ID, wasend.ContextSettings{Proxy: &proxy})
	_, errs["Apply with a Send"] = s.Apply(ctx, wasend.Step{Context: &wasend.ContextTransition{ID: bc.ID, From: available, To: wasend.ContextBusy},
		Send: send(bc.ID, "+1", time.Time{}, true)})
	_, errs["Sends"] = s.Sends(ctx, bc.ID, time.Time{})
	_, errs["Contacted"] = s.Contacted(ctx, bc.ID, wasend.HashRecipient("+1"))
	_, errs["PruneSends"] = s.PruneSends(ctx, time.Now())
	return errs
}

func testCanceled(t *testing.T, s *store) {
	bc := newContext(t, s, wasend.ContextAvailable)
	j := mustJob(t, s, job(bc.ID, wasend.KindSingle, 1))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for name, err := range callAll(t, s, ctx, bc, j) {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a canceled context: error = %v, want one wrapping context.Canceled", name, err)
		}
	}
	if got := mustGetJob(t, s, j.ID); got.Status != wasend.JobPending {
		t.Fatalf("job status after a canceled Apply = %q, want pending", got.Status)
	}
}

func testDeadline(t *testing.T, s *store) {
	bc := newContext(t, s, wasend.ContextAvailable)
	j := mustJob(t, s, job(bc.ID, wasend.KindSingle, 1))
	ctx, cancel := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer cancel()
	for name, err := range callAll(t, s, ctx, bc, j) {
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s with an expired context: error = %v, want one wrapping context.DeadlineExceeded", name, err)
		}
	}
}
