package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/wasend/wasend"
)

var applyTests = []test{
	{"JobLifecycle", testApplyJobLifecycle},
	{"JobVersion", testApplyJobVersion},
	{"JobFinalAndBack", testApplyJobFinal},
	{"JobTimes", testApplyJobTimes},
	{"JobFromSeveral", testApplyJobFromSeveral},
	{"Messages", testApplyMessages},
	{"PendingMessagesTo", testApplyPendingMessages},
	{"NoImplicitColumns", testApplyNoImplicitColumns},
	{"AddAttempt", testApplyAddAttempt},
	{"StartAttempt", testApplyStartAttempt},
	{"Mark", testApplyMark},
	{"AddLookup", testApplyAddLookup},
	{"ClearGuard", testApplyClearGuard},
	{"ClearGuardFirst", testApplyClearGuardFirst},
	{"UnconfirmedMessagesTo", testApplyUnconfirmedMessages},
	{"MessagesToTogether", testApplyMessagesToTogether},
	{"SameValues", testApplySameValues},
	{"Atomicity", testApplyAtomicity},
	{"Invalid", testApplyInvalid},
	{"MissingRows", testApplyMissingRows},
	{"RaceClaim", testApplyRaceClaim},
	{"RaceContext", testApplyRaceContext},
	{"RaceStep", testApplyRaceStep},
}

var (
	pending   = []wasend.JobStatus{wasend.JobPending}
	running   = []wasend.JobStatus{wasend.JobRunning}
	msgPend   = []wasend.MessageStatus{wasend.MessagePending}
	msgSend   = []wasend.MessageStatus{wasend.MessageSending}
	msgUnconf = []wasend.MessageStatus{wasend.MessageUnconfirmed}
	available = []wasend.ContextStatus{wasend.ContextAvailable}
	busy      = []wasend.ContextStatus{wasend.ContextBusy}
)

// testApplyJobVersion checks that a job's version starts at 1, grows with
// every change of the job (and only then), and that IfVersion holds a
// change to the version it names, within a step.
func testApplyJobVersion(t *testing.T, s *store) {
	bc := newContext(t, s, wasend.ContextAvailable)
	j := mustJob(t, s, job(bc.ID, wasend.KindSingle, 1))
	if j.Version != 1 {
		t.Fatalf("a new job's version: got %d, want 1", j.Version)
	}
	if got := mustGetJob(t, s, j.ID).Version; got != 1 {
		t.Fatalf("read back: version %d, want 1", got)
	}
	m := j.Messages[0]
	// A change with the version read applies, and moves it.
	wantApply(t, s, wasend.Step{
		Job:     &wasend.JobTransition{ID: j.ID, From: pending, To: wasend.JobRunning, Claim: "w1", IfVersion: 1},
		Message: &wasend.MessageTransition{ID: m.ID, From: []wasend.MessageStatus{wasend.MessagePending}, To: wasend.MessageSending},
	}, true)
	if got := mustGetJob(t, s, j.ID).Version; got != 2 {
		t.Fatalf("after a change: version %d, want 2", got)
	}
	// A message-only change leaves the job's version.
	wantApply(t, s, wasend.Step{Message: &wasend.MessageTransition{ID: m.ID,
		From: []wasend.MessageStatus{wasend.MessageSending}, To: wasend.MessageSending, Mark: "m"}}, true)
	// A change with a stale version does not apply, and neither does the
	// rest of its step.
	wantApply(t, s, wasend.Step{
		Job:     &wasend.JobTransition{ID: j.ID, From: running, To: wasend.JobPending, IfVersion: 1},
		Message: &wasend.MessageTransition{ID: m.ID, From: []wasend.MessageStatus{wasend.MessageSending}, To: wasend.MessagePending},
	}, false)
	got := mustGetJob(t, s, j.ID)
	if got.Version != 2 || got.Status != wasend.JobRunning || got.Messages[0].Status != wasend.MessageSending {
		t.Fatalf("after a stale change: version %d, job %s, message %s; want 2, running, sending",
			got.Version, got.Status, got.Messages[0].Status)
	}
	// Without IfVersion any version goes; a change to the same status
	// counts too.
	wantApply(t, s, wasend.Step{Job: &wasend.JobTransition{ID: j.ID, From: running, To: wasend.JobRunning, Claim: "w1"}}, true)
	wantApply(t, s, wasend.Step{Job: &wasend.JobTransition{ID: j.ID, From: running, To: wasend.JobPending, IfVersion: 3}}, true)
	if got := mustGetJob(t, s, j.ID).Version; got != 4 {
		t.Fatalf("after two more changes: version %d, want 4", got)
	}
	list, err := s.Jobs(t.Context(), wasend.JobFilter{ContextID: bc.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Version != 4 {
		t.Fatalf("Jobs: %+v, want one job of version 4", list)
	}
}

func testApplyJobLifecycle(t *testing.T, s *store) {
	bc := newContext(t, s, wasend.ContextAvailable)
	j := mustJob(t, s, job(bc.ID, wasend.KindSingle, 1))
	b := s.base()
	t1, t2, t3, t4 := b.Add(time.Second), b.Add(2*time.Second), b.Add(3*time.Second), b.Add(4*time.Second)
	want := j

	// A worker claims the job.
	wantApply(t, s, wasend.Step{Job: &wasend.JobTransition{ID: j.ID, From: pending, To: wasend.JobRunning,
		Claim: "w1", AddAttempt: true, At: t1}}, true)
	want.Status, want.Claim, want.Attempts, want.StartedAt, want.UpdatedAt = wasend.JobRunning, "w1", 1, t1, t1
	checkJob(t, "after the claim", mustGetJob(t, s, j.ID), want)

	// It fails and hands the job back for a retry.
	wantApply(t, s, wasend.Step{Job: &wasend.JobTransition{ID: j.ID, From: running, IfClaim: "w1", To: wasend.JobPending,
		ErrorKind: wasend.ErrorKindTimeout, Error: "send timed out", NextRunAt: t2.Add(30 * time.Second), At: t2}}, true)
	want.Status, want.Claim, want.UpdatedAt = wasend.JobPending, "", t2
	want.ErrorKind, want.Error, want.NextRunAt = wasend.ErrorKindTimeout, "send timed out", t2.Add(30*time.Second)
	checkJob(t, "after the retry (claim cleared, started_at kept)", mustGetJob(t, s, j.ID), want)

	// Another worker claims it: started_at stays the first time.
	wantApply(t, s, wasend.Step{Job: &wasend.JobTransition{ID: j.ID, From: pending, To: wasend.JobRunning,
		Claim: "w2", AddAttempt: true, ClearError: true, At: t3}}, true)
	want.Status, want.Claim, want.Attempts, want.UpdatedAt = wasend.JobRunning, "w2", 2, t3
	want.ErrorKind, want.Error = "", ""
	checkJob(t, "after the second claim", mustGetJob(t, s, j.ID), want)

	// The first worker's claim is stale.
	wantApply(t, s, wasend.Step{Job: &wasend.JobTransition{ID: j.ID, From: running, IfClaim: "w1", To: wasend.JobCompleted, At: t4}}, false)
	checkJob(t, "after a stale claim's change", mustGetJob(t, s, j.ID), want)

	// The second completes it.
	wantApply(t, s, wasend.Step{Job: &wasend.JobTransition{ID: j.ID, From: running, IfClaim: "w2", To: wasend.JobCompleted, At: t4}}, true)
	want.Status, want.Claim, want.FinishedAt, want.UpdatedAt = wasend.JobCompleted, "", t4, t4
	checkJob(t, "after completion", mustGetJob(t, s, j.ID), want)

	// A final job refuses a change from another status.
	wantApply(t, s, wasend.Step{Job: &wasend.JobTransition{ID: j.ID, From: []wasend.JobStatus{wasend.JobPending, wasend.JobRunning, wasend.JobPaused},
		To: wasend.JobCancelled, At: t4.Add(time.Second)}}, false)
	checkJob(t, "after a refused cancel", mustGetJob(t, s, j.ID), want)
}

func testApplyJobFinal(t *testing.T, s *store) {
	bc := newContext(t, s, wasend.ContextAvailable)
	b := s.base()
	for i, to := range []wasend.JobStatus{wasend.JobCompleted, wasend.JobFailed, wasend.JobCancelled} {
		j := mustJob(t, s, job(bc.ID, wasend.KindSingle, 1))
		at := b.Add(time.Duration(i+1) * time.Second)
		wantApply(t, s, wasend.Step{Job: &wasend.JobTransition{ID: j.ID, From: pending, To: wasend.JobRunning, Claim: "c", At: at}}, true)
		wantApply(t, s, wasend.Step{Job: &wasend.JobTransition{ID: j.ID, From: running, To: to,
			ErrorKind: wasend.ErrorKindOther, Error: "why", At: at.Add(time.Millisecond)}}, true)
		got := mustGetJob(t, s, j.ID)
		if got.Status != to || got.Claim != "" || got.ErrorKind != wasend.ErrorKindOther || got.Error != "why" {
			t.Fatalf("to %s: status %q, claim %q, error %q %q", to, got.Status, got.Claim, got.ErrorKind, got.Error)
		}
		checkTime(t, "StartedAt", got.StartedAt, at)
		checkTime(t, "FinishedAt", got.FinishedAt, at.Add(time.Millisecond))
	}
	// Pausing is not final: no finished_at.
	j := mustJob(t, s, job(bc.ID, wasend.KindBulk, 2))
	wantApply(t, s, wasend.Step{Job: &wasend.JobTransition{ID: j.ID, From: pending, To: wasend.JobPaused, At: b}}, true)
	got := mustGetJob(t, s, j.ID)
	checkTime(t, "FinishedAt of a paused job", got.FinishedAt, time.Time{})
	checkTime(t, "StartedAt of a paused job", got.StartedAt, time.Time{})
}

func testApplyJobTimes(t *testing.T, s *store) {
	bc := newContext(t, s, wasend.ContextAvailable)
	j := mustJob(t, s, job(bc.ID, wasend.KindSingle, 1))
	b := s.base()
	// NextRunAt and EnqueuedAt are kept when set and left alone when zero.
	wantApply(t, s, wasend.Step{Job: &wasend.JobTransition{ID: j.ID, From: pending, To: wasend.JobPending,
		EnqueuedAt: b.Add(time.Minute), At: b}}, true)
	got := mustGetJob(t, s, j.ID)
	checkTime(t, "EnqueuedAt", got.EnqueuedAt, b.Add(time.Minute))
	checkTime(t, "NextRunAt (unchanged)", got.NextRunAt, j.NextRunAt)
	checkTime(t, "UpdatedAt", got.UpdatedAt, b)
	wantApply(t, s, wasend.Step{Job: &wasend.JobTransition{ID: j.ID, From: pending, To: wasend.JobPending,
		NextRunAt: b.Add(time.Hour), At: b.Add(time.Second)}}, true)
	got = mustGetJob(t, s, j.ID)
	checkTime(t, "NextRunAt", got.NextRunAt, b.Add(time.Hour))
	checkTime(t, "EnqueuedAt (unchanged)", got.EnqueuedAt, b.Add(time.Minute))
	// Times in another location are kept as the same instant, in UTC.
	east := b.Add(2 * time.Second).In(time.FixedZone("UTC+5", 5*3600))
	wantApply(t, s, wasend.Step{Job: &wasend.JobTransition{ID: j.ID, From: pending, To: wasend.JobPending,
		NextRunAt: east, EnqueuedAt: east, At: east}}, true)
	got = mustGetJob(t, s, j.ID)
	checkTime(t, "NextRunAt", got.NextRunAt, east.UTC())
	checkTime(t, "EnqueuedAt", got.EnqueuedAt, east.UTC())
	checkTime(t, "UpdatedAt", got.UpdatedAt, east.UTC())
	// A zero At means now.
	wantApply(t, s, wasend.Step{Job: &wasend.JobTransition{ID: j.ID, From: pending, To: wasend.JobPaused}}, true)
	got = mustGetJob(t, s, j.ID)
	s.checkSet(t, "UpdatedAt", got.UpdatedAt)
	// The attempts add up.
	for i := range 3 {
		wantApply(t, s, wasend.Step{Job: &wasend.JobTransition{ID: j.ID, From: []wasend.JobStatus{wasend.JobPaused},
			To: wasend.JobPaused, AddAttempt: true}}, true)
		if got := mustGetJob(t, s, j.ID).Attempts; got != i+1 {
			t.Fatalf("Attempts = %d, want %d", got, i+1)
		}
	}
}

func testApplyJobFromSeveral(t *testing.T, s *store) {
	bc := newContext(t, s, wasend.ContextAvailable)
	for _, st := range []wasend.JobStatus{wasend.JobPending, wasend.JobPaused} {
		in := job(bc.ID, wasend.KindSingle, 1)
		in.Status = st
		j := mustJob(t, s, in)
		wantApply(t, s, wasend.Step{Job: &wasend.JobTransition{ID: j.ID,
			From: []wasend.JobStatus{wasend.JobRunning, wasend.JobCompleted}, To: wasend.JobCancelled}}, false)
		wantApply(t, s, wasend.Step{Job: &wasend.JobTransition{ID: j.ID,
			From: []wasend.JobStatus{wasend.JobPending, wasend.JobRunning, wasend.JobPaused}, To: wasend.JobCancelled}}, true)
		if got := mustGetJob(t, s, j.ID).Status; got != wasend.JobCancelled {
			t.Fatalf("Status = %q, want cancelled", got)
		}
	}
}

func testApplyMessages(t *testing.T, s *store) {
	bc := newContext(t, s, wasend.ContextAvailable)
	j := mustJob(t, s, job(bc.ID, wasend.KindBulk, 3))
	b := s.base()
	at := func(n int) time.Time { return b.Add(time.Duration(n) * time.Second) }
	m0, m1, m2 := j.Messages[0], j.Messages[1], j.Messages[2]
	check := func(what string, want wasend.Message) {
		t.Helper()
		got := mustGetJob(t, s, j.ID).Messages[want.Position]
		for _, d := range diffMessage(got, want) {
			t.Fatalf("%s: message %d: %s", what, want.ID, d)
		}
	}

	// m0: sending, then sent with WhatsApp's time and id.
	wantApply(t, s, wasend.Step{Message: &wasend.MessageTransition{ID: m0.ID, From: msgPend, To: wasend.MessageSending,
		AddAttempt: true, StartAttempt: true, At: at(1)}}, true)
	m0.Status, m0.Attempts, m0.AttemptedAt, m0.GuardSince, m0.UpdatedAt = wasend.MessageSending, 1, at(1), at(1), at(1)
	check("m0 sending", m0)
	wantApply(t, s, wasend.Step{Message: &wasend.MessageTransition{ID: m0.ID, From: msgSend, To: wasend.MessageSent,
		SentAt: at(2).Add(-time.Millisecond), WAMessageID: "true_34600000001@c.us_3EB0ABCDEF", At: at(2)}}, true)
	m0.Status, m0.SentAt, m0.WAMessageID, m0.UpdatedAt = wasend.MessageSent, at(2).Add(-time.Millisecond), "true_34600000001@c.us_3EB0ABCDEF", at(2)
	check("m0 sent", m0)

	// m1: an attempt fails and is retried; the error is kept, then cleared.
	wantApply(t, s, wasend.Step{Message: &wasend.MessageTransition{ID: m1.ID, From: msgPend, To: wasend.MessageSending,
		AddAttempt: true, StartAttempt: true, Mark: "mark-1", At: at(3)}}, true)
	wantApply(t, s, wasend.Step{Message: &wasend.MessageTransition{ID: m1.ID, From: msgSend, To: wasend.MessagePending,
		ClearGuard: true, ErrorKind: wasend.ErrorKindPhoneOffline, Error: "phone offline", At: at(4)}}, true)
	m1.Status, m1.Attempts, m1.AttemptedAt, m1.UpdatedAt = wasend.MessagePending, 1, at(3), at(4)
	m1.ErrorKind, m1.Error = wasend.ErrorKindPhoneOffline, "phone offline"
	check("m1 back to pending (guard cleared)", m1)
	wantApply(t, s, wasend.Step{Message: &wasend.MessageTransition{ID: m1.ID, From: msgPend, To: wasend.MessageSending,
		AddAttempt: true, StartAttempt: true, At: at(5)}}, true)
	m1.Status, m1.Attempts, m1.AttemptedAt, m1.GuardSince, m1.UpdatedAt = wasend.MessageSending, 2, at(5), at(5), at(5)
	check("m1 second attempt (error kept)", m1)
	// Sent with no SentAt: sent_at is At; no WhatsApp id.
	wantApply(t, s, wasend.Step{Message: &wasend.MessageTransition{ID: m1.ID, From: msgSend, To: wasend.MessageSent,
		ClearError: true, At: at(6)}}, true)
	m1.Status, m1.SentAt, m1.UpdatedAt, m1.ErrorKind, m1.Error = wasend.MessageSent, at(6), at(6), "", ""
	check("m1 sent", m1)

	// m2: a change from the wrong status is refused; then it fails.
	wantApply(t, s, wasend.Step{Message: &wasend.MessageTransition{ID: m2.ID, From: msgSend, To: wasend.MessageSent, At: at(7)}}, false)
	check("m2 unchanged", m2)
	wantApply(t, s, wasend.Step{Message: &wasend.MessageTransition{ID: m2.ID,
		From: []wasend.MessageStatus{wasend.MessagePending, wasend.MessageSending}, To: wasend.MessageFailed,
		ErrorKind: wasend.ErrorKindNotOnWhatsApp, Error: "not on WhatsApp", At: at(8)}}, true)
	m2.Status, m2.UpdatedAt, m2.ErrorKind, m2.Error = wasend.MessageFailed, at(8), wasend.ErrorKindNotOnWhatsApp, "not on WhatsApp"
	check("m2 failed", m2)

	// Messages do not touch their job.
	got := mustGetJob(t, s, j.ID)
	got.Messages = nil
	j.Messages = nil
	checkJob(t, "the job after its messages changed", got, j)
}

func testApplyPendingMessages(t *testing.T, s *store) {
	bc := newContext(t, s, wasend.ContextAvailable)
	j := mustJob(t, s, job(bc.ID, wasend.KindBulk, 5))
	b := s.base()
	ms := j.Messages
	step := func(id int64, from []wasend.MessageStatus, to wasend.MessageStatus) {
		t.Helper()
		wantApply(t, s, wasend.Step{Message: &wasend.MessageTransition{ID: id, From: from, To: to, At: b}}, true)
	}
	step(ms[0].ID, msgPend, wasend.MessageSending)
	step(ms[0].ID, msgSend, wasend.MessageSent)
	step(ms[1].ID, msgPend, wasend.MessageSending)
	step(ms[1].ID, msgSend, wasend.MessageFailed)
	step(ms[2].ID, msgPend, wasend.MessageSending)
	before := mustGetJob(t, s, j.ID)

	// A job change that does not match moves no message.
	wantApply(t, s, wasend.Step{Job: &wasend.JobTransition{ID: j.ID, From: running, To: wasend.JobCancelled,
		PendingMessagesTo: wasend.MessageCancelled, At: b.Add(time.Second)}}, false)
	checkJob(t, "after a refused cancel", mustGetJob(t, s, j.ID), before)

	at := b.Add(2 * time.Second)
	wantApply(t, s, wasend.Step{Job: &wasend.JobTransition{ID: j.ID, From: pending, To: wasend.JobCancelled,
		PendingMessagesTo: wasend.MessageCancelled, At: at}}, true)
	want := before
	want.Messages = append([]wasend.Message(nil), before.Messages...)
	want.Status, want.UpdatedAt, want.FinishedAt = wasend.JobCancelled, at, at
	for i := 3; i < 5; i++ {
		want.Messages[i].Status, want.Messages[i].UpdatedAt = wasend.MessageCancelled, at
	}
	checkJob(t, "after the cancel", mustGetJob(t, s, j.ID), want)

	// No pending message left: the step still happens.
	at2 := at.Add(time.Second)
	wantApply(t, s, wasend.Step{Job: &wasend.JobTransition{ID: j.ID, From: []wasend.JobStatus{wasend.JobCancelled}, To: wasend.JobFailed,
		PendingMessagesTo: wasend.MessageFailed, At: at2}}, true)
	want.Status, want.UpdatedAt, want.FinishedAt = wasend.JobFailed, at2, at2
	checkJob(t, "with no pending message", mustGetJob(t, s, j.ID), want)

	// Another job's pending messages are left alone.
	other := mustJob(t, s, job(bc.ID, wasend.KindBulk, 2))
	j3 := mustJob(t, s, job(bc.ID, wasend.KindBulk, 2))
	wantApply(t, s, wasend.Step{Job: &wasend.JobTransition{ID: j3.ID, From: pending, To: wasend.JobRunning, Claim: "c",
		PendingMessagesTo: wasend.MessageFailed, At: at2}}, true)
	checkJob(t, "another job", mustGetJob(t, s, other.ID), other)
	for _, m := range mustGetJob(t, s, j3.ID).Messages {
		if m.Status != wasend.MessageFailed {
			t.Fatalf("message %d of the moved job: status %q, want failed", m.ID, m.Status)
		}
	}
}

func testApplySameValues(t *testing.T, s *store) {
	bc := newContext(t, s, wasend.ContextAvailable)
	j := mustJob(t, s, job(bc.ID, wasend.KindSingle, 1))
	at := s.base()
	// A change that leaves every column as it was still happens: some
	// databases report such an UPDATE as touching no row.
	for i := range 3 {
		wantApply(t, s, wasend.Step{Job: &wasend.JobTransition{ID: j.ID, From: pending, To: wasend.JobPending,
			NextRunAt: at, EnqueuedAt: at, At: at}}, true)
		wantApply(t, s, wasend.Step{Message: &wasend.MessageTransition{ID: j.Messages[0].ID, From: msgPend, To: wasend.MessagePending, At: at}}, true)
		wantApply(t, s, wasend.Step{Context: &wasend.ContextTransition{ID: bc.ID, From: available, To: wasend.ContextAvailable, At: at}}, true)
		wantApply(t, s, wasend.Step{
			Job:     &wasend.JobTransition{ID: j.ID, From: pending, To: wasend.JobPending, NextRunAt: at, EnqueuedAt: at, At: at},
			Message: &wasend.MessageTransition{ID: j.Messages[0].ID, From: msgPend, To: wasend.MessagePending, At: at},
			Context: &wasend.ContextTransition{ID: bc.ID, From: available, To: wasend.ContextAvailable, At: at},
		}, true)
		if i == 0 {
			continue
		}
		// A stale step with the same values is still refused.
		wantApply(t, s, wasend.Step{Job: &wasend.JobTransition{ID: j.ID, From: running, To: wasend.JobPending,
			NextRunAt: at, EnqueuedAt: at, At: at}}, false)
	}
	got := mustGetJob(t, s, j.ID)
	checkTime(t, "UpdatedAt", got.UpdatedAt, at)
	checkTime(t, "Messages[0].UpdatedAt", got.Messages[0].UpdatedAt, at)
	checkTime(t, "context UpdatedAt", mustGetContext(t, s, bc.ID).UpdatedAt, at)
}

// snapshot is the state of the rows a step may touch.
type snapshot struct {
	job wasend.Job
	bc  wasend.BrowserContext
}

func takeSnapshot(t *testing.T, s wasend.Store, jobID, contextID int64) snapshot {
	t.Helper()
	return snapshot{mustGetJob(t, s, jobID), mustGetContext(t, s, contextID)}
}

func checkSnapshot(t *testing.T, what string, got, want snapshot) {
	t.Helper()
	checkJob(t, what, got.job, want.job)
	checkContext(t, what, got.bc, want.bc)
}

func testApplyAtomicity(t *testing.T, s *store) {
	type parts struct{ job, msg, ctx, pendingTo, unconfTo bool }
	cases := []struct {
		name  string
		match parts // which transitions match their row
		set   parts // which transitions the step has
		want  bool
	}{
		{"job ok, message refused", parts{job: true}, parts{job: true, msg: true}, false},
		{"job refused, message ok", parts{msg: true}, parts{job: true, msg: true}, false},
		{"job and message ok, context refused", parts{job: true, msg: true}, parts{job: true, msg: true, ctx: true}, false},
		{"job and context ok, message refused", parts{job: true, ctx: true}, parts{job: true, msg: true, ctx: true}, false},
		{"message and context ok, job refused", parts{msg: true, ctx: true}, parts{job: true, msg: true, ctx: true}, false},
		{"message ok, context refused", parts{msg: true}, parts{msg: true, ctx: true}, false},
		{"job ok with pending messages, context refused", parts{job: true}, parts{job: true, ctx: true, pendingTo: true}, false},
		{"job ok with unconfirmed messages, context refused", parts{job: true}, parts{job: true, ctx: true, unconfTo: true}, false},
		{"job ok with unconfirmed messages, message refused", parts{job: true}, parts{job: true, msg: true, unconfTo: true}, false},
		{"job ok with both moves, message refused", parts{job: true, ctx: true},
			parts{job: true, msg: true, ctx: true, pendingTo: true, unconfTo: true}, false},
		{"job refused with both moves", parts{msg: true, ctx: true},
			parts{job: true, msg: true, ctx: true, pendingTo: true, unconfTo: true}, false},
		{"nothing matches", parts{}, parts{job: true, msg: true, ctx: true}, false},
		{"all match", parts{job: true, msg: true, ctx: true}, parts{job: true, msg: true, ctx: true}, true},
		{"all match, with pending messages", parts{job: true, ctx: true}, parts{job: true, ctx: true, pendingTo: true}, true},
		{"all match, with unconfirmed messages", parts{job: true, ctx: true}, parts{job: true, ctx: true, unconfTo: true}, true},
		{"all match, with a message and both moves", parts{job: true, msg: true, ctx: true},
			parts{job: true, msg: true, ctx: true, pendingTo: true, unconfTo: true}, true},
	}
	for i, c := range cases {
		bc := newContext(t, s, wasend.ContextAvailable)
		// Message 0 is the step's message, 1 is pending and 2 unconfirmed.
		j := mustJob(t, s, job(bc.ID, wasend.KindBulk, 3))
		b := s.base()
		wantApply(t, s, wasend.Step{Message: &wasend.MessageTransition{ID: j.Messages[2].ID, From: msgPend, To: wasend.MessageSending,
			AddAttempt: true, StartAttempt: true, Mark: "m", At: b}}, true)
		wantApply(t, s, wasend.Step{Message: &wasend.MessageTransition{ID: j.Messages[2].ID, From: msgSend, To: wasend.MessageUnconfirmed,
			ErrorKind: wasend.ErrorKindTimeout, Error: "timed out", At: b}}, true)
		before := takeSnapshot(t, s, j.ID, bc.ID)
		at := b.Add(time.Duration(i+1) * time.Second)
		var st wasend.Step
		if c.set.job {
			from := running
			if c.match.job {
				from = pending
			}
			st.Job = &wasend.JobTransition{ID: j.ID, From: from, To: wasend.JobRunning, Claim: "claim", AddAttempt: true, At: at}
			if c.set.pendingTo {
				st.Job.PendingMessagesTo = wasend.MessageCancelled
			}
			if c.set.unconfTo {
				st.Job.UnconfirmedMessagesTo = wasend.MessageUnknown
			}
		}
		if c.set.msg {
			from := msgSend
			if c.match.msg {
				from = msgPend
			}
			st.Message = &wasend.MessageTransition{ID: j.Messages[0].ID, From: from, To: wasend.MessageSending,
				AddAttempt: true, StartAttempt: true, At: at}
		}
		if c.set.ctx {
			from := busy
			if c.match.ctx {
				from = available
			}
			st.Context = &wasend.ContextTransition{ID: bc.ID, From: from, To: wasend.ContextBusy, At: at}
		}
		if got := mustApply(t, s, st); got != c.want {
			t.Fatalf("%s: Apply = %v, want %v", c.name, got, c.want)
		}
		after := takeSnapshot(t, s, j.ID, bc.ID)
		if !c.want {
			checkSnapshot(t, c.name+": nothing may change", after, before)
			continue
		}
		want := before
		want.job.Messages = append([]wasend.Message(nil), before.job.Messages...)
		want.job.Status, want.job.Claim, want.job.Attempts = wasend.JobRunning, "claim", 1
		want.job.StartedAt, want.job.UpdatedAt = at, at
		if c.set.msg {
			// Sending now: PendingMessagesTo, which applies after it,
			// leaves it alone.
			m := &want.job.Messages[0]
			m.Status, m.Attempts, m.AttemptedAt, m.GuardSince, m.UpdatedAt = wasend.MessageSending, 1, at, at, at
		} else if c.set.pendingTo {
			want.job.Messages[0].Status, want.job.Messages[0].UpdatedAt = wasend.MessageCancelled, at
		}
		if c.set.pendingTo {
			want.job.Messages[1].Status, want.job.Messages[1].UpdatedAt = wasend.MessageCancelled, at
		}
		if c.set.unconfTo {
			// Status and updated_at only: the guard and the error stay.
			want.job.Messages[2].Status, want.job.Messages[2].UpdatedAt = wasend.MessageUnknown, at
		}
		want.bc.Status, want.bc.UpdatedAt = wasend.ContextBusy, at
		checkSnapshot(t, c.name, after, want)
	}
}

func testApplyInvalid(t *testing.T, s *store) {
	bc := newContext(t, s, wasend.ContextAvailable)
	j := mustJob(t, s, job(bc.ID, wasend.KindBulk, 2))
	mid := j.Messages[0].ID
	okJob := func() *wasend.JobTransition {
		return &wasend.JobTransition{ID: j.ID, From: pending, To: wasend.JobPaused}
	}
	cases := []struct {
		name string
		st   wasend.Step
	}{
		{"empty step", wasend.Step{}},
		{"job: no From", wasend.Step{Job: &wasend.JobTransition{ID: j.ID, To: wasend.JobPaused}}},
		{"job: unknown From", wasend.Step{Job: &wasend.JobTransition{ID: j.ID, From: []wasend.JobStatus{"bogus"}, To: wasend.JobPaused}}},
		{"job: unknown To", wasend.Step{Job: &wasend.JobTransition{ID: j.ID, From: pending, To: "bogus"}}},
		{"job: empty To", wasend.Step{Job: &wasend.JobTransition{ID: j.ID, From: pending}}},
		{"job: running with no claim", wasend.Step{Job: &wasend.JobTransition{ID: j.ID, From: pending, To: wasend.JobRunning}}},
		{"job: unknown PendingMessagesTo", wasend.Step{Job: &wasend.JobTransition{ID: j.ID, From: pending, To: wasend.JobPaused, PendingMessagesTo: "bogus"}}},
		{"job: unknown UnconfirmedMessagesTo", wasend.Step{Job: &wasend.JobTransition{ID: j.ID, From: pending, To: wasend.JobPaused, UnconfirmedMessagesTo: "bogus"}}},
		{"message: no From", wasend.Step{Message: &wasend.MessageTransition{ID: mid, To: wasend.MessageSending}}},
		{"message: unknown From", wasend.Step{Message: &wasend.MessageTransition{ID: mid, From: []wasend.MessageStatus{"bogus"}, To: wasend.MessageSending}}},
		{"message: unknown To", wasend.Step{Message: &wasend.MessageTransition{ID: mid, From: msgPend, To: "bogus"}}},
		{"context: no From", wasend.Step{Context: &wasend.ContextTransition{ID: bc.ID, To: wasend.ContextBusy}}},
		{"context: unknown From", wasend.Step{Context: &wasend.ContextTransition{ID: bc.ID, From: []wasend.ContextStatus{"bogus"}, To: wasend.ContextBusy}}},
		{"context: unknown To", wasend.Step{Context: &wasend.ContextTransition{ID: bc.ID, From: available, To: "bogus"}}},
		{"valid job, invalid message", wasend.Step{Job: okJob(), Message: &wasend.MessageTransition{ID: mid, To: wasend.MessageSending}}},
		{"valid job, invalid context", wasend.Step{Job: okJob(), Context: &wasend.ContextTransition{ID: bc.ID, From: available, To: "bogus"}}},
		{"job: unknown Wait", wasend.Step{Job: &wasend.JobTransition{ID: j.ID, From: pending, To: wasend.JobPaused, Wait: "bogus"}}},
		{"context: unknown restriction kind", wasend.Step{Context: &wasend.ContextTransition{ID: bc.ID, From: available, To: wasend.ContextRestricted,
			Restriction: &wasend.Restriction{Kind: "bogus"}}}},
		{"valid job, send without a recipient", wasend.Step{Job: okJob(), Send: &wasend.SendRecord{ContextID: bc.ID}}},
	}
	before := takeSnapshot(t, s, j.ID, bc.ID)
	for _, c := range cases {
		ok, err := s.Apply(t.Context(), c.st)
		if err == nil {
			t.Fatalf("%s: Apply = %v, nil; want an error", c.name, ok)
		}
		if ok {
			t.Fatalf("%s: Apply = true with error %v; want false", c.name, err)
		}
		if !errors.Is(err, wasend.ErrInvalidStep) {
			t.Fatalf("%s: Apply error = %v; want one wrapping wasend.ErrInvalidStep", c.name, err)
		}
		checkSnapshot(t, c.name+": nothing may change", takeSnapshot(t, s, j.ID, bc.ID), before)
	}
}

func testApplyMissingRows(t *testing.T, s *store) {
	bc := newContext(t, s, wasend.ContextAvailable)
	j := mustJob(t, s, job(bc.ID, wasend.KindSingle, 1))
	before := takeSnapshot(t, s, j.ID, bc.ID)
	cases := []struct {
		name string
		st   wasend.Step
	}{
		{"missing job", wasend.Step{Job: &wasend.JobTransition{ID: missingID, From: pending, To: wasend.JobPaused}}},
		{"missing message", wasend.Step{Message: &wasend.MessageTransition{ID: missingID, From: msgPend, To: wasend.MessageSending}}},
		{"missing context", wasend.Step{Context: &wasend.ContextTransition{ID: missingID, From: available, To: wasend.ContextBusy}}},
		{"existing job, missing message", wasend.Step{
			Job:     &wasend.JobTransition{ID: j.ID, From: pending, To: wasend.JobPaused},
			Message: &wasend.MessageTransition{ID: missingID, From: msgPend, To: wasend.MessageSending}}},
		{"existing job and message, missing context", wasend.Step{
			Job:     &wasend.JobTransition{ID: j.ID, From: pending, To: wasend.JobPaused},
			Message: &wasend.MessageTransition{ID: j.Messages[0].ID, From: msgPend, To: wasend.MessageSending},
			Context: &wasend.ContextTransition{ID: missingID, From: available, To: wasend.ContextBusy}}},
	}
	for _, c := range cases {
		ok, err := s.Apply(t.Context(), c.st)
		if err != nil || ok {
			t.Fatalf("%s: Apply = %v, %v; want false, nil", c.name, ok, err)
		}
		checkSnapshot(t, c.name+": nothing may change", takeSnapshot(t, s, j.ID, bc.ID), before)
	}
}

// race runs n goroutines that call step(i) at once and returns which
// reported true.
func race(t *testing.T, s wasend.Store, n int, step func(i int) wasend.Step) []int {
	t.Helper()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		won   []int
		errs  []error
		start = make(chan struct{})
	)
	for i := range n {
		wg.Go(func() {
			<-start
			ok, err := s.Apply(t.Context(), step(i))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("goroutine %d: %w", i, err))
			}
			if ok {
				won = append(won, i)
			}
		})
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		t.Errorf("Apply: %v", err)
	}
	if len(errs) > 0 {
		t.FailNow()
	}
	return won
}

const racers = 20

func testApplyRaceClaim(t *testing.T, s *store) {
	bc := newContext(t, s, wasend.ContextAvailable)
	for round := range 3 {
		j := mustJob(t, s, job(bc.ID, wasend.KindSingle, 1))
		won := race(t, s, racers, func(i int) wasend.Step {
			return wasend.Step{Job: &wasend.JobTransition{ID: j.ID, From: pending, To: wasend.JobRunning,
				Claim: fmt.Sprintf("worker-%d", i), AddAttempt: true}}
		})
		if len(won) != 1 {
			t.Fatalf("round %d: %d of %d claims of one pending job won (%v), want exactly 1", round, len(won), racers, won)
		}
		got := mustGetJob(t, s, j.ID)
		if want := fmt.Sprintf("worker-%d", won[0]); got.Claim != want || got.Attempts != 1 || got.Status != wasend.JobRunning {
			t.Fatalf("round %d: job claim %q, attempts %d, status %q; want %q, 1, running", round, got.Claim, got.Attempts, got.Status, want)
		}
	}
}

func testApplyRaceContext(t *testing.T, s *store) {
	for round := range 3 {
		bc := newContext(t, s, wasend.ContextAvailable)
		won := race(t, s, racers, func(int) wasend.Step {
			return wasend.Step{Context: &wasend.ContextTransition{ID: bc.ID, From: available, To: wasend.ContextBusy}}
		})
		if len(won) != 1 {
			t.Fatalf("round %d: %d of %d changes of one available context to busy won (%v), want exactly 1", round, len(won), racers, won)
		}
		if got := mustGetContext(t, s, bc.ID).Status; got != wasend.ContextBusy {
			t.Fatalf("round %d: context status %q, want busy", round, got)
		}
	}
}

func testApplyRaceStep(t *testing.T, s *store) {
	bc := newContext(t, s, wasend.ContextAvailable)
	jobs := make([]wasend.Job, racers)
	for i := range jobs {
		jobs[i] = mustJob(t, s, job(bc.ID, wasend.KindSingle, 1))
	}
	// Each goroutine claims its own job and takes the one context: a single
	// step may win, and the losers' jobs stay pending.
	won := race(t, s, racers, func(i int) wasend.Step {
		return wasend.Step{
			Job:     &wasend.JobTransition{ID: jobs[i].ID, From: pending, To: wasend.JobRunning, Claim: fmt.Sprintf("w%d", i)},
			Message: &wasend.MessageTransition{ID: jobs[i].Messages[0].ID, From: msgPend, To: wasend.MessageSending},
			Context: &wasend.ContextTransition{ID: bc.ID, From: available, To: wasend.ContextBusy},
		}
	})
	if len(won) != 1 {
		t.Fatalf("%d of %d steps won (%v), want exactly 1", len(won), racers, won)
	}
	for i, j := range jobs {
		got := mustGetJob(t, s, j.ID)
		wantJob, wantMsg := wasend.JobPending, wasend.MessagePending
		if i == won[0] {
			wantJob, wantMsg = wasend.JobRunning, wasend.MessageSending
		}
		if got.Status != wantJob || got.Messages[0].Status != wantMsg {
			t.Fatalf("job %d (goroutine %d): status %q, message %q; want %q, %q", j.ID, i, got.Status, got.Messages[0].Status, wantJob, wantMsg)
		}
	}
}
