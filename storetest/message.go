package storetest

import (
	"testing"
	"time"

	"github.com/wasend/wasend"
)

// The columns of a message that a MessageTransition names: attempts,
// attempted_at, guard_since, guard_mark and lookups change only when the
// transition asks, and the moves of a job's messages change status and
// updated_at only.

// messageStepper applies message transitions to the only message of a new
// job and checks the whole message after each.
type messageStepper struct {
	t     *testing.T
	s     wasend.Store
	jobID int64
	want  wasend.Message
	b     time.Time
}

func newMessageStepper(t *testing.T, s *store) *messageStepper {
	t.Helper()
	bc := newContext(t, s, wasend.ContextAvailable)
	j := mustJob(t, s, job(bc.ID, wasend.KindSingle, 1))
	return &messageStepper{t: t, s: s, jobID: j.ID, want: j.Messages[0], b: s.base()}
}

// at is the time of step n.
func (m *messageStepper) at(n int) time.Time { return m.b.Add(time.Duration(n) * time.Second) }

// step applies tr to the message, at step n, and fails unless it happens.
// It returns the expected message with the status and updated_at changed,
// for the caller to complete and check.
func (m *messageStepper) step(n int, tr wasend.MessageTransition) *wasend.Message {
	m.t.Helper()
	tr.ID, tr.At = m.want.ID, m.at(n)
	wantApply(m.t, m.s, wasend.Step{Message: &tr}, true)
	m.want.Status, m.want.UpdatedAt = tr.To, tr.At
	return &m.want
}

// check fails unless the stored message is the expected one.
func (m *messageStepper) check(what string) {
	m.t.Helper()
	got := mustGetJob(m.t, m.s, m.jobID).Messages[0]
	for _, d := range diffMessage(got, m.want) {
		m.t.Fatalf("%s: message %d: %s", what, m.want.ID, d)
	}
}

var msgAny = wasend.MessageStatuses()

func testApplyNoImplicitColumns(t *testing.T, s *store) {
	m := newMessageStepper(t, s)
	// A change to sending that names nothing else counts no attempt and
	// starts no guard: the store has no implicit rule.
	m.step(1, wasend.MessageTransition{From: msgPend, To: wasend.MessageSending})
	m.check("to sending, naming nothing")
	m.step(2, wasend.MessageTransition{From: msgSend, To: wasend.MessageUnconfirmed, ErrorKind: wasend.ErrorKindTimeout, Error: "timeout"})
	m.want.ErrorKind, m.want.Error = wasend.ErrorKindTimeout, "timeout"
	m.check("to unconfirmed")

	// Once the columns are set, transitions that do not name them keep
	// them, whatever the statuses.
	m.step(3, wasend.MessageTransition{From: msgUnconf, To: wasend.MessageSending, AddAttempt: true, StartAttempt: true,
		Mark: "rows:a,b", AddLookup: true})
	m.want.Attempts, m.want.AttemptedAt, m.want.GuardSince, m.want.GuardMark, m.want.Lookups = 1, m.at(3), m.at(3), "rows:a,b", 1
	m.check("with every column named")
	for i, to := range []wasend.MessageStatus{wasend.MessageUnconfirmed, wasend.MessagePending, wasend.MessageSending,
		wasend.MessageFailed, wasend.MessageUnknown, wasend.MessageCancelled} {
		m.step(4+i, wasend.MessageTransition{From: msgAny, To: to})
		m.check("to " + string(to) + ", naming nothing")
	}
	// A change to sent sets sent_at and wa_message_id, nothing else.
	m.step(10, wasend.MessageTransition{From: msgAny, To: wasend.MessageSent, WAMessageID: "wamid"})
	m.want.SentAt, m.want.WAMessageID = m.at(10), "wamid"
	m.check("to sent")
}

func testApplyAddAttempt(t *testing.T, s *store) {
	m := newMessageStepper(t, s)
	m.step(1, wasend.MessageTransition{From: msgPend, To: wasend.MessageSending, AddAttempt: true})
	m.want.Attempts = 1
	m.check("first AddAttempt (attempted_at and the guard untouched)")
	m.step(2, wasend.MessageTransition{From: msgSend, To: wasend.MessagePending, AddAttempt: true})
	m.step(3, wasend.MessageTransition{From: msgPend, To: wasend.MessagePending, AddAttempt: true})
	m.want.Attempts = 3
	m.check("three AddAttempts")
	// A transition that does not match adds nothing.
	wantApply(t, s, wasend.Step{Message: &wasend.MessageTransition{ID: m.want.ID, From: msgSend, To: wasend.MessageSending,
		AddAttempt: true, At: m.at(4)}}, false)
	m.check("a refused AddAttempt")
}

func testApplyStartAttempt(t *testing.T, s *store) {
	m := newMessageStepper(t, s)
	m.step(1, wasend.MessageTransition{From: msgPend, To: wasend.MessageSending, StartAttempt: true})
	m.want.AttemptedAt, m.want.GuardSince = m.at(1), m.at(1)
	m.check("first StartAttempt (attempts untouched)")
	// Unconfirmed, then a new attempt: attempted_at moves, guard_since
	// stays at the first attempt whose outcome is not known.
	m.step(2, wasend.MessageTransition{From: msgSend, To: wasend.MessageUnconfirmed})
	m.step(3, wasend.MessageTransition{From: msgUnconf, To: wasend.MessageSending, StartAttempt: true})
	m.want.AttemptedAt = m.at(3)
	m.check("second StartAttempt keeps guard_since")
	m.step(4, wasend.MessageTransition{From: msgSend, To: wasend.MessageSending, StartAttempt: true, AddAttempt: true})
	m.want.AttemptedAt, m.want.Attempts = m.at(4), 1
	m.check("third StartAttempt keeps guard_since")
	// Cleared, the next StartAttempt sets it again.
	m.step(5, wasend.MessageTransition{From: msgSend, To: wasend.MessagePending, ClearGuard: true})
	m.want.GuardSince = time.Time{}
	m.check("after ClearGuard")
	m.step(6, wasend.MessageTransition{From: msgPend, To: wasend.MessageSending, StartAttempt: true})
	m.want.AttemptedAt, m.want.GuardSince = m.at(6), m.at(6)
	m.check("StartAttempt after ClearGuard")
}

func testApplyMark(t *testing.T, s *store) {
	m := newMessageStepper(t, s)
	m.step(1, wasend.MessageTransition{From: msgPend, To: wasend.MessageSending, StartAttempt: true})
	m.want.AttemptedAt, m.want.GuardSince = m.at(1), m.at(1)
	m.check("no mark")
	mark := `{"rows":["true_1@c.us_3EB0A","true_1@c.us_3EB0B"],"n":2} ñ 😀`
	m.step(2, wasend.MessageTransition{From: msgSend, To: wasend.MessageSending, Mark: mark})
	m.want.GuardMark = mark
	m.check("first Mark")
	// The mark is set once: a later one, or an empty one, leaves it.
	m.step(3, wasend.MessageTransition{From: msgSend, To: wasend.MessageUnconfirmed, Mark: "another"})
	m.check("second Mark is ignored")
	m.step(4, wasend.MessageTransition{From: msgUnconf, To: wasend.MessageSending, StartAttempt: true})
	m.want.AttemptedAt = m.at(4)
	m.check("an empty Mark leaves it")
	// Cleared, the next mark is stored.
	m.step(5, wasend.MessageTransition{From: msgSend, To: wasend.MessagePending, ClearGuard: true})
	m.want.GuardSince, m.want.GuardMark = time.Time{}, ""
	m.check("after ClearGuard")
	m.step(6, wasend.MessageTransition{From: msgPend, To: wasend.MessageSending, Mark: "third"})
	m.want.GuardMark = "third"
	m.check("Mark after ClearGuard")
}

func testApplyAddLookup(t *testing.T, s *store) {
	m := newMessageStepper(t, s)
	m.step(1, wasend.MessageTransition{From: msgPend, To: wasend.MessageSending, AddAttempt: true, StartAttempt: true, Mark: "x"})
	m.want.Attempts, m.want.AttemptedAt, m.want.GuardSince, m.want.GuardMark = 1, m.at(1), m.at(1), "x"
	m.step(2, wasend.MessageTransition{From: msgSend, To: wasend.MessageUnconfirmed})
	for i := 1; i <= 3; i++ {
		m.step(2+i, wasend.MessageTransition{From: msgUnconf, To: wasend.MessageUnconfirmed, AddLookup: true})
		m.want.Lookups = i
		m.check("after a lookup that could not answer")
	}
	m.step(6, wasend.MessageTransition{From: msgUnconf, To: wasend.MessageUnknown, AddLookup: true,
		ErrorKind: wasend.ErrorKindUnknownOutcome, Error: "lookups kept failing"})
	m.want.Lookups, m.want.ErrorKind, m.want.Error = 4, wasend.ErrorKindUnknownOutcome, "lookups kept failing"
	m.check("unknown after the last lookup")
}

func testApplyClearGuard(t *testing.T, s *store) {
	m := newMessageStepper(t, s)
	m.step(1, wasend.MessageTransition{From: msgPend, To: wasend.MessageSending, AddAttempt: true, StartAttempt: true, Mark: "x"})
	m.step(2, wasend.MessageTransition{From: msgSend, To: wasend.MessageUnconfirmed, AddLookup: true})
	m.step(3, wasend.MessageTransition{From: msgUnconf, To: wasend.MessageUnconfirmed, AddLookup: true})
	m.want.Attempts, m.want.AttemptedAt, m.want.GuardSince, m.want.GuardMark, m.want.Lookups = 1, m.at(1), m.at(1), "x", 2
	m.check("before ClearGuard")
	// The lookup found the message not sent: back to pending, the guard
	// cleared; attempts and attempted_at stay.
	m.step(4, wasend.MessageTransition{From: msgUnconf, To: wasend.MessagePending, ClearGuard: true})
	m.want.GuardSince, m.want.GuardMark, m.want.Lookups = time.Time{}, "", 0
	m.check("after ClearGuard")
	// Clearing what is clear changes nothing but the status and time.
	m.step(5, wasend.MessageTransition{From: msgPend, To: wasend.MessagePending, ClearGuard: true})
	m.check("a second ClearGuard")
}

func testApplyClearGuardFirst(t *testing.T, s *store) {
	m := newMessageStepper(t, s)
	m.step(1, wasend.MessageTransition{From: msgPend, To: wasend.MessageSending, AddAttempt: true, StartAttempt: true, Mark: "old"})
	m.step(2, wasend.MessageTransition{From: msgSend, To: wasend.MessageUnconfirmed, AddLookup: true})
	m.want.Attempts, m.want.AttemptedAt, m.want.GuardSince, m.want.GuardMark, m.want.Lookups = 1, m.at(1), m.at(1), "old", 1
	m.check("before")
	// ClearGuard applies before the others: together they start the guard
	// afresh.
	m.step(3, wasend.MessageTransition{From: msgUnconf, To: wasend.MessageSending, ClearGuard: true,
		AddAttempt: true, StartAttempt: true, Mark: "new", AddLookup: true})
	m.want.Attempts, m.want.AttemptedAt, m.want.GuardSince, m.want.GuardMark, m.want.Lookups = 2, m.at(3), m.at(3), "new", 1
	m.check("ClearGuard with StartAttempt, Mark and AddLookup")
	m.step(4, wasend.MessageTransition{From: msgSend, To: wasend.MessageSending, ClearGuard: true, StartAttempt: true})
	m.want.AttemptedAt, m.want.GuardSince, m.want.GuardMark, m.want.Lookups = m.at(4), m.at(4), "", 0
	m.check("ClearGuard with StartAttempt alone")
}

// unconfirmedJob creates a bulk job whose messages are, in order: pending,
// unconfirmed (guard, mark, lookup and error set), unconfirmed, sent,
// sending (guard set) and pending.
func unconfirmedJob(t *testing.T, s wasend.Store, contextID int64, b time.Time) wasend.Job {
	t.Helper()
	j := mustJob(t, s, job(contextID, wasend.KindBulk, 6))
	step := func(i int, tr wasend.MessageTransition) {
		t.Helper()
		tr.ID, tr.At = j.Messages[i].ID, b
		wantApply(t, s, wasend.Step{Message: &tr}, true)
	}
	for _, i := range []int{1, 2, 3, 4} {
		step(i, wasend.MessageTransition{From: msgPend, To: wasend.MessageSending, AddAttempt: true, StartAttempt: true, Mark: "mark"})
	}
	step(1, wasend.MessageTransition{From: msgSend, To: wasend.MessageUnconfirmed, AddLookup: true,
		ErrorKind: wasend.ErrorKindTimeout, Error: "timed out"})
	step(2, wasend.MessageTransition{From: msgSend, To: wasend.MessageUnconfirmed})
	step(3, wasend.MessageTransition{From: msgSend, To: wasend.MessageSent, WAMessageID: "wamid"})
	return mustGetJob(t, s, j.ID)
}

func testApplyUnconfirmedMessages(t *testing.T, s *store) {
	bc := newContext(t, s, wasend.ContextAvailable)
	b := s.base()
	j := unconfirmedJob(t, s, bc.ID, b)
	other := unconfirmedJob(t, s, bc.ID, b)

	// A job change that does not match moves no message.
	wantApply(t, s, wasend.Step{Job: &wasend.JobTransition{ID: j.ID, From: running, To: wasend.JobCancelled,
		UnconfirmedMessagesTo: wasend.MessageUnknown, At: b.Add(time.Second)}}, false)
	checkJob(t, "after a refused change", mustGetJob(t, s, j.ID), j)

	// The unconfirmed messages become unknown: status and updated_at
	// only, the guard, attempts and error stay.
	at := b.Add(2 * time.Second)
	wantApply(t, s, wasend.Step{Job: &wasend.JobTransition{ID: j.ID, From: pending, To: wasend.JobPaused,
		UnconfirmedMessagesTo: wasend.MessageUnknown, At: at}}, true)
	want := j
	want.Messages = append([]wasend.Message(nil), j.Messages...)
	want.Status, want.UpdatedAt = wasend.JobPaused, at
	for _, i := range []int{1, 2} {
		want.Messages[i].Status, want.Messages[i].UpdatedAt = wasend.MessageUnknown, at
	}
	checkJob(t, "after the move", mustGetJob(t, s, j.ID), want)
	checkJob(t, "another job", mustGetJob(t, s, other.ID), other)

	// No unconfirmed message left: the step still happens.
	at2 := at.Add(time.Second)
	wantApply(t, s, wasend.Step{Job: &wasend.JobTransition{ID: j.ID, From: []wasend.JobStatus{wasend.JobPaused}, To: wasend.JobPending,
		UnconfirmedMessagesTo: wasend.MessagePending, At: at2}}, true)
	want.Status, want.UpdatedAt = wasend.JobPending, at2
	checkJob(t, "with no unconfirmed message", mustGetJob(t, s, j.ID), want)
}

func testApplyMessagesToTogether(t *testing.T, s *store) {
	bc := newContext(t, s, wasend.ContextAvailable)
	b := s.base()

	// A cancel: the step's message (sending) becomes unconfirmed, then
	// the pending messages cancelled and the unconfirmed ones, the step's
	// included, unknown.
	j := unconfirmedJob(t, s, bc.ID, b)
	at := b.Add(time.Second)
	wantApply(t, s, wasend.Step{
		Job: &wasend.JobTransition{ID: j.ID, From: pending, To: wasend.JobCancelled,
			PendingMessagesTo: wasend.MessageCancelled, UnconfirmedMessagesTo: wasend.MessageUnknown, At: at},
		Message: &wasend.MessageTransition{ID: j.Messages[4].ID, From: msgSend, To: wasend.MessageUnconfirmed,
			ErrorKind: wasend.ErrorKindCanceled, Error: "cancelled", At: at},
		Context: &wasend.ContextTransition{ID: bc.ID, From: available, To: wasend.ContextAvailable, At: at},
	}, true)
	want := j
	want.Messages = append([]wasend.Message(nil), j.Messages...)
	want.Status, want.UpdatedAt, want.FinishedAt = wasend.JobCancelled, at, at
	for i, st := range map[int]wasend.MessageStatus{0: wasend.MessageCancelled, 1: wasend.MessageUnknown,
		2: wasend.MessageUnknown, 4: wasend.MessageUnknown, 5: wasend.MessageCancelled} {
		want.Messages[i].Status, want.Messages[i].UpdatedAt = st, at
	}
	want.Messages[4].ErrorKind, want.Messages[4].Error = wasend.ErrorKindCanceled, "cancelled"
	checkJob(t, "after the cancel", mustGetJob(t, s, j.ID), want)

	// The step's message left pending: PendingMessagesTo does not see it.
	j = unconfirmedJob(t, s, bc.ID, b)
	wantApply(t, s, wasend.Step{
		Job: &wasend.JobTransition{ID: j.ID, From: pending, To: wasend.JobPaused,
			PendingMessagesTo: wasend.MessagePending, UnconfirmedMessagesTo: wasend.MessageUnknown, At: at},
		Message: &wasend.MessageTransition{ID: j.Messages[0].ID, From: msgPend, To: wasend.MessageSending,
			AddAttempt: true, StartAttempt: true, At: at},
	}, true)
	want = j
	want.Messages = append([]wasend.Message(nil), j.Messages...)
	want.Status, want.UpdatedAt = wasend.JobPaused, at
	m0 := &want.Messages[0]
	m0.Status, m0.Attempts, m0.AttemptedAt, m0.GuardSince, m0.UpdatedAt = wasend.MessageSending, 1, at, at, at
	for _, i := range []int{1, 2} {
		want.Messages[i].Status, want.Messages[i].UpdatedAt = wasend.MessageUnknown, at
	}
	want.Messages[5].UpdatedAt = at
	checkJob(t, "after a step that sends its message", mustGetJob(t, s, j.ID), want)

	// Both moves read the statuses as they were: a message that one
	// moves, the other does not move again.
	j = unconfirmedJob(t, s, bc.ID, b)
	wantApply(t, s, wasend.Step{Job: &wasend.JobTransition{ID: j.ID, From: pending, To: wasend.JobPending,
		PendingMessagesTo: wasend.MessageUnconfirmed, UnconfirmedMessagesTo: wasend.MessagePending, At: at}}, true)
	want = j
	want.Messages = append([]wasend.Message(nil), j.Messages...)
	want.UpdatedAt = at
	for i, st := range map[int]wasend.MessageStatus{0: wasend.MessageUnconfirmed, 1: wasend.MessagePending,
		2: wasend.MessagePending, 5: wasend.MessageUnconfirmed} {
		want.Messages[i].Status, want.Messages[i].UpdatedAt = st, at
	}
	checkJob(t, "after a swap", mustGetJob(t, s, j.ID), want)
}
