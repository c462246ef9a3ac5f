package storetest

import (
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wasend/wasend"
)

// Idempotency keys: the store keeps at most one job per key.

var keyTests = []test{
	{"Returned", testKeyReturned},
	{"Repeated", testKeyRepeated},
	{"RepeatedBeatsContext", testKeyRepeatedBeatsContext},
	{"Exact", testKeyExact},
	{"Race", testKeyRace},
	{"Invalid", testKeyInvalid},
}

func keyedJob(contextID int64, key string, n int) wasend.Job {
	j := job(contextID, wasend.KindBulk, n)
	j.IdempotencyKey = key
	return j
}

func testKeyReturned(t *testing.T, s *store) {
	bc := newContext(t, s, wasend.ContextAvailable)
	j := mustJob(t, s, keyedJob(bc.ID, "order-42", 2))
	if j.IdempotencyKey != "order-42" {
		t.Fatalf("CreateJob: IdempotencyKey = %q, want %q", j.IdempotencyKey, "order-42")
	}
	checkJob(t, "Job", mustGetJob(t, s, j.ID), j)
	// Many jobs may have no key.
	none1 := mustJob(t, s, job(bc.ID, wasend.KindSingle, 1))
	none2 := mustJob(t, s, job(bc.ID, wasend.KindSingle, 1))
	list, err := s.Jobs(t.Context(), wasend.JobFilter{})
	if err != nil {
		t.Fatalf("Jobs: %v", err)
	}
	if len(list) != 3 {
		t.Fatalf("Jobs = %v, want 3 jobs", ids(list))
	}
	for i, want := range []string{"order-42", "", ""} {
		if list[i].IdempotencyKey != want {
			t.Fatalf("Jobs()[%d].IdempotencyKey = %q, want %q", i, list[i].IdempotencyKey, want)
		}
	}
	if none1.IdempotencyKey != "" || none2.IdempotencyKey != "" {
		t.Fatalf("jobs with no key: IdempotencyKey = %q, %q; want empty", none1.IdempotencyKey, none2.IdempotencyKey)
	}
}

// checkExists fails unless CreateJob returned the job that holds the key,
// with its messages, and an error wrapping ErrJobExists.
func checkExists(t *testing.T, what string, got wasend.Job, err error, want wasend.Job) {
	t.Helper()
	if !errors.Is(err, wasend.ErrJobExists) {
		t.Fatalf("%s: error = %v, want one wrapping %q", what, err, wasend.ErrJobExists)
	}
	checkJob(t, what+": the job returned", got, want)
}

func testKeyRepeated(t *testing.T, s *store) {
	bc := newContext(t, s, wasend.ContextAvailable)
	other := newContext(t, s, wasend.ContextAvailable)
	first := mustJob(t, s, keyedJob(bc.ID, "k", 3))
	// The job moves on; the repeat gets it as it is now.
	wantApply(t, s, wasend.Step{Job: &wasend.JobTransition{ID: first.ID, From: pending, To: wasend.JobRunning, Claim: "w"},
		Message: &wasend.MessageTransition{ID: first.Messages[0].ID, From: msgPend, To: wasend.MessageSending, AddAttempt: true}}, true)
	now := mustGetJob(t, s, first.ID)
	jobs0, msgs0 := mustCounts(t, s)

	repeats := map[string]wasend.Job{
		"the same request": keyedJob(bc.ID, "k", 3),
		"other messages":   keyedJob(bc.ID, "k", 7),
		"another context":  keyedJob(other.ID, "k", 1),
		"another kind":     {ContextID: bc.ID, Kind: wasend.KindSingle, IdempotencyKey: "k", Messages: []wasend.Message{{To: "+1", Text: "x"}}},
		"no messages":      keyedJob(bc.ID, "k", 0),
	}
	for name, in := range repeats {
		got, err := s.CreateJob(t.Context(), in)
		checkExists(t, name, got, err, now)
	}
	jobs, msgs := mustCounts(t, s)
	if !maps.Equal(jobs, jobs0) || !maps.Equal(msgs, msgs0) {
		t.Fatalf("counts after the repeats = %v, %v; want %v, %v (nothing recorded)", jobs, msgs, jobs0, msgs0)
	}
	// Another key is another job.
	second := mustJob(t, s, keyedJob(bc.ID, "k2", 1))
	if second.ID == first.ID {
		t.Fatalf("a job with another key got id %d, the first job's", second.ID)
	}
}

func testKeyRepeatedBeatsContext(t *testing.T, s *store) {
	// A repeat finds its job even when the job's context takes no more
	// jobs: the request was recorded before.
	for _, st := range []wasend.ContextStatus{wasend.ContextError, wasend.ContextClosed} {
		bc := newContext(t, s, wasend.ContextAvailable)
		key := "key-" + string(st)
		first := mustJob(t, s, keyedJob(bc.ID, key, 2))
		wantApply(t, s, wasend.Step{Context: &wasend.ContextTransition{ID: bc.ID, From: available, To: st}}, true)
		got, err := s.CreateJob(t.Context(), keyedJob(bc.ID, key, 2))
		checkExists(t, "a repeat for a context in "+string(st), got, err, first)
		// A new key for that context is refused as before.
		_, err = s.CreateJob(t.Context(), keyedJob(bc.ID, key+"-new", 2))
		checkErrorIs(t, "a new key for a context in "+string(st), err, wasend.ErrContextNotAvailable)
	}
}

func testKeyExact(t *testing.T, s *store) {
	bc := newContext(t, s, wasend.ContextAvailable)
	// Keys are compared byte for byte: no case folding, no padding, no
	// normalisation.
	keys := []string{"k", "K", "k ", " k", "k\t", "é", "e\u0301", "😀", strings.Repeat("x", wasend.MaxIdempotencyKeyLength),
		strings.Repeat("é", wasend.MaxIdempotencyKeyLength/2)}
	seen := map[int64]string{}
	for _, k := range keys {
		j := mustJob(t, s, keyedJob(bc.ID, k, 1))
		if prev, dup := seen[j.ID]; dup {
			t.Fatalf("keys %q and %q gave one job", prev, k)
		}
		seen[j.ID] = k
		if got := mustGetJob(t, s, j.ID).IdempotencyKey; got != k {
			t.Fatalf("key %q read back as %q", k, got)
		}
	}
	for id, k := range seen {
		got, err := s.CreateJob(t.Context(), keyedJob(bc.ID, k, 1))
		if !errors.Is(err, wasend.ErrJobExists) || got.ID != id {
			t.Fatalf("repeat of key %q: job %d, error %v; want job %d and ErrJobExists", k, got.ID, err, id)
		}
	}
}

func testKeyRace(t *testing.T, s *store) {
	bc := newContext(t, s, wasend.ContextAvailable)
	const n = 8
	for round := range 3 {
		key := fmt.Sprintf("race-%d", round)
		var (
			wg    sync.WaitGroup
			start = make(chan struct{})
			jobs  = make([]wasend.Job, n)
			errs  = make([]error, n)
		)
		for i := range n {
			wg.Go(func() {
				<-start
				jobs[i], errs[i] = s.CreateJob(t.Context(), keyedJob(bc.ID, key, 3))
			})
		}
		close(start)
		wg.Wait()
		created, exists := -1, 0
		for i, err := range errs {
			switch {
			case err == nil && created >= 0:
				t.Fatalf("round %d: goroutines %d and %d both created a job (%d and %d)", round, created, i, jobs[created].ID, jobs[i].ID)
			case err == nil:
				created = i
			case errors.Is(err, wasend.ErrJobExists):
				exists++
			default:
				t.Fatalf("round %d: goroutine %d: CreateJob: %v", round, i, err)
			}
		}
		if created < 0 {
			t.Fatalf("round %d: no goroutine created the job (%d got ErrJobExists)", round, exists)
		}
		want := jobs[created]
		for i := range n {
			checkJob(t, fmt.Sprintf("round %d, goroutine %d", round, i), jobs[i], want)
		}
		list, err := s.Jobs(t.Context(), wasend.JobFilter{AfterID: want.ID - 1})
		if err != nil {
			t.Fatalf("Jobs: %v", err)
		}
		if len(list) != 1 || list[0].ID != want.ID {
			t.Fatalf("round %d: jobs from the race = %v, want only %d", round, ids(list), want.ID)
		}
	}
	_, msgs := mustCounts(t, s)
	if got := msgs[msgKey{bc.ID, wasend.MessagePending}]; got != 3*3 {
		t.Fatalf("pending messages after the races = %d, want %d: the losers recorded nothing", got, 3*3)
	}
}

func testKeyInvalid(t *testing.T, s *store) {
	bc := newContext(t, s, wasend.ContextAvailable)
	bad := map[string]string{
		"one byte too long": strings.Repeat("x", wasend.MaxIdempotencyKeyLength+1),
		"too long in bytes": strings.Repeat("é", wasend.MaxIdempotencyKeyLength/2+1),
		"much too long":     strings.Repeat("x", 10*wasend.MaxIdempotencyKeyLength),
		"not UTF-8":         "key \xff",
		"a cut character":   "😀"[:3],
	}
	for name, k := range bad {
		_, err := s.CreateJob(t.Context(), keyedJob(bc.ID, k, 2))
		checkErrorIs(t, "CreateJob with a key "+name, err, wasend.ErrInvalidIdempotencyKey)
	}
	jobs, msgs := mustCounts(t, s)
	if len(jobs) != 0 || len(msgs) != 0 {
		t.Fatalf("counts after invalid keys = %v, %v; want nothing", jobs, msgs)
	}
}

func testCleanFreesKeys(t *testing.T, s *store) {
	bc := newContext(t, s, wasend.ContextAvailable)
	cut := s.base()
	old := mustJob(t, s, keyedJob(bc.ID, "done", 2))
	kept := mustJob(t, s, keyedJob(bc.ID, "running", 2))
	wantApply(t, s, wasend.Step{Job: &wasend.JobTransition{ID: old.ID, From: pending, To: wasend.JobCompleted,
		PendingMessagesTo: wasend.MessageSent, At: cut.Add(-time.Hour)}}, true)
	wantApply(t, s, wasend.Step{Job: &wasend.JobTransition{ID: kept.ID, From: pending, To: wasend.JobRunning, Claim: "w",
		At: cut.Add(-time.Hour)}}, true)
	if n, err := s.Clean(t.Context(), cut); err != nil || n != 1 {
		t.Fatalf("Clean = %d, %v; want 1, nil", n, err)
	}
	// The deleted job's key is free again; the kept job's is not.
	again := mustJob(t, s, keyedJob(bc.ID, "done", 1))
	if again.ID == old.ID || again.IdempotencyKey != "done" {
		t.Fatalf("CreateJob with a cleaned key = job %d key %q; want a new job (not %d) with the key", again.ID, again.IdempotencyKey, old.ID)
	}
	got, err := s.CreateJob(t.Context(), keyedJob(bc.ID, "running", 1))
	checkExists(t, "the key of a job Clean kept", got, err, mustGetJob(t, s, kept.ID))
}
