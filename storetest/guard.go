package storetest

import (
	"errors"
	"testing"

	"github.com/wasend/wasend"
)

// SuppressionGuard: the optional wasend.SuppressionGuard. Run registers
// this group only for a store that implements it. A store that claims it
// and ignores the conditions would let messages reach suppressed
// numbers: each test fails such a store.

var guardTests = []test{
	{"CreateJob", testGuardCreateJob},
	{"Precedence", testGuardPrecedence},
	{"Apply", testGuardApply},
	{"TooMany", testGuardTooMany},
}

// guardSuppress suppresses phone through the store under test.
func guardSuppress(t *testing.T, s *store, phone string) {
	t.Helper()
	mustSuppress(t, suppressionStore(t, s), wasend.Suppression{Phone: phone, Reason: wasend.SuppressHost}, nil, true)
}

// testGuardCreateJob: a job with a suppressed number among its
// Unsuppressed is not recorded (ErrSuppressed); one without is, and
// neither the job returned nor the job read keeps Unsuppressed.
func testGuardCreateJob(t *testing.T, s *store) {
	bc := newContext(t, s, wasend.ContextAvailable)
	guardSuppress(t, s, "+5511987654321")
	in := job(bc.ID, wasend.KindSingle, 1)
	in.Messages[0].To = "+551187654321"
	in.Unsuppressed = []string{"+551187654321", "+5511987654321"} // the two forms of a Brazilian mobile
	_, err := s.CreateJob(t.Context(), in)
	if !errors.Is(err, wasend.ErrSuppressed) {
		t.Fatalf("CreateJob with a suppressed number in Unsuppressed: error = %v, want one wrapping ErrSuppressed", err)
	}
	if jobs, err := s.Jobs(t.Context(), wasend.JobFilter{ContextID: bc.ID}); err != nil || len(jobs) != 0 {
		t.Fatalf("Jobs after a refused CreateJob = %d jobs, %v; want none recorded", len(jobs), err)
	}
	in.Unsuppressed = []string{"+15550000001", "+15550000002"}
	j := mustJob(t, s, in)
	if j.Unsuppressed != nil {
		t.Fatalf("CreateJob returned Unsuppressed %v, want nil: it is on the way in only", j.Unsuppressed)
	}
	if got := mustGetJob(t, s, j.ID); got.Unsuppressed != nil || len(got.Messages) != 1 {
		t.Fatalf("Job = %d messages, Unsuppressed %v; want 1 message and nil", len(got.Messages), got.Unsuppressed)
	}
}

// testGuardPrecedence: a job whose key another job holds gives that job
// (ErrJobExists) even with a suppressed number; a suppressed number comes
// before a context that takes no jobs.
func testGuardPrecedence(t *testing.T, s *store) {
	bc := newContext(t, s, wasend.ContextAvailable)
	first := job(bc.ID, wasend.KindSingle, 1)
	first.IdempotencyKey = "k-guard"
	held := mustJob(t, s, first)
	guardSuppress(t, s, first.Messages[0].To)
	again := first
	again.Unsuppressed = []string{first.Messages[0].To}
	got, err := s.CreateJob(t.Context(), again)
	if !errors.Is(err, wasend.ErrJobExists) || got.ID != held.ID {
		t.Fatalf("CreateJob with a held key and a suppressed number = job %d, %v; want job %d and ErrJobExists", got.ID, err, held.ID)
	}
	closed := newContext(t, s, wasend.ContextClosed)
	in := job(closed.ID, wasend.KindSingle, 1)
	in.Unsuppressed = []string{first.Messages[0].To}
	if _, err := s.CreateJob(t.Context(), in); !errors.Is(err, wasend.ErrSuppressed) {
		t.Fatalf("CreateJob for a closed context with a suppressed number: error = %v, want one wrapping ErrSuppressed", err)
	}
}

// testGuardApply: a step with a suppressed number among its Unsuppressed
// does not apply, none of its parts (the ledger entry neither); without
// one it applies.
func testGuardApply(t *testing.T, s *store) {
	bc := newContext(t, s, wasend.ContextAvailable)
	j := mustJob(t, s, job(bc.ID, wasend.KindSingle, 1))
	m := j.Messages[0]
	guardSuppress(t, s, m.To)
	claim := func(phones ...string) wasend.Step {
		return wasend.Step{
			Job:          &wasend.JobTransition{ID: j.ID, From: pending, To: wasend.JobRunning, Claim: "w1", IfVersion: 1},
			Message:      &wasend.MessageTransition{ID: m.ID, From: []wasend.MessageStatus{wasend.MessagePending}, To: wasend.MessageSending, StartAttempt: true},
			Context:      &wasend.ContextTransition{ID: bc.ID, From: []wasend.ContextStatus{wasend.ContextAvailable}, To: wasend.ContextBusy},
			Send:         &wasend.SendRecord{ContextID: bc.ID, Recipient: "r-guard", At: s.base()},
			Unsuppressed: phones,
		}
	}
	wantApply(t, s, claim("+15559999999", m.To), false)
	got := mustGetJob(t, s, j.ID)
	if got.Status != wasend.JobPending || got.Version != 1 || got.Messages[0].Status != wasend.MessagePending {
		t.Fatalf("after a refused step: job %s version %d, message %s; want pending, 1, pending", got.Status, got.Version, got.Messages[0].Status)
	}
	if bcNow := mustGetContext(t, s, bc.ID); bcNow.Status != wasend.ContextAvailable {
		t.Fatalf("after a refused step: context %s, want available", bcNow.Status)
	}
	if sends, err := s.Sends(t.Context(), bc.ID, s.base().Add(-1)); err != nil || len(sends) != 0 {
		t.Fatalf("ledger after a refused step = %d entries, %v; want none", len(sends), err)
	}
	// A step of one transition is refused too.
	wantApply(t, s, wasend.Step{Job: &wasend.JobTransition{ID: j.ID, From: pending, To: wasend.JobPending}, Unsuppressed: []string{m.To}}, false)
	wantApply(t, s, claim("+15559999999"), true)
	if got := mustGetJob(t, s, j.ID); got.Status != wasend.JobRunning || got.Messages[0].Status != wasend.MessageSending {
		t.Fatalf("after the step: job %s, message %s; want running, sending", got.Status, got.Messages[0].Status)
	}
}

// testGuardTooMany: more than MaxUnsuppressed numbers is a malformed
// step, and a malformed job.
func testGuardTooMany(t *testing.T, s *store) {
	bc := newContext(t, s, wasend.ContextAvailable)
	many := make([]string, wasend.MaxUnsuppressed+1)
	for i := range many {
		many[i] = "+1555000000" + string(rune('0'+i%10))
	}
	j := mustJob(t, s, job(bc.ID, wasend.KindSingle, 1))
	_, err := s.Apply(t.Context(), wasend.Step{Job: &wasend.JobTransition{ID: j.ID, From: pending, To: wasend.JobPending}, Unsuppressed: many})
	if !errors.Is(err, wasend.ErrInvalidStep) {
		t.Fatalf("Apply with %d numbers in Unsuppressed: error = %v, want one wrapping ErrInvalidStep", len(many), err)
	}
	in := job(bc.ID, wasend.KindSingle, 1)
	in.Unsuppressed = many
	if _, err := s.CreateJob(t.Context(), in); !errors.Is(err, wasend.ErrInvalidStep) {
		t.Fatalf("CreateJob with %d numbers in Unsuppressed: error = %v, want one wrapping ErrInvalidStep", len(many), err)
	}
}
