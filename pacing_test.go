package wasend_test

import (
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/wasendtest"
)

// Pacing, restrictions and the breaker through the whole runtime, on real
// (short) waits. The policies' arithmetic is tested on a fake clock in
// pacer_test.go and pacing_sim_test.go.

// waitsFor returns the EventWait events of a job.
func (e *eventLog) waitsFor(jobID int64) []wasend.SessionEvent {
	var out []wasend.SessionEvent
	for _, ev := range e.all() {
		if ev.Type == wasend.EventWait && ev.JobID == jobID {
			out = append(out, ev)
		}
	}
	return out
}

func (e *eventLog) restrictions(contextID int64) []wasend.Restriction {
	var out []wasend.Restriction
	for _, ev := range e.all() {
		if ev.Type == wasend.EventRestriction && ev.ContextID == contextID {
			out = append(out, ev.Restriction)
		}
	}
	return out
}

func TestPacingSpacesSendsWithoutSpendingAttempts(t *testing.T) {
	gap := 300 * time.Millisecond
	h := newHarness(t, harnessOpt{opts: []wasend.Option{wasend.WithPacing(wasend.Pacing{MinGap: gap, MaxGap: gap + 100*time.Millisecond})}})
	bc, sess := h.newContext()
	var ids []int64
	for _, text := range []string{"one", "two", "three"} {
		job, err := h.client.Send(bg, bc.ID, "+5491122334455", text)
		require.NoError(t, err)
		ids = append(ids, job.ID)
	}
	bulk, err := h.client.SendBulk(bg, bc.ID, []wasend.BulkMessage{{To: "+5491122334466", Text: "four"}, {To: "+5491122334466", Text: "five"}},
		wasend.Delay(0))
	require.NoError(t, err)
	ids = append(ids, bulk.ID)
	waited := 0
	for _, id := range ids {
		j := h.waitJob(id, wasend.JobCompleted)
		for _, m := range j.Messages {
			assert.Equal(t, 1, m.Attempts, "a wait spends no attempt")
		}
		assert.Equal(t, len(j.Messages), j.Attempts)
		assert.Equal(t, wasend.WaitNone, j.Wait, "a finished job waits for nothing")
		waited += len(h.events.waitsFor(id))
	}
	assert.Positive(t, waited, "jobs that waited for the gap were told to the host")
	require.Len(t, sess.Sent(), 5)
	// The gap runs between the begins of two attempts, as the ledger
	// records them (the clicks come a variable time after).
	ledger, err := h.store.Sends(bg, bc.ID, time.Time{})
	require.NoError(t, err)
	require.Len(t, ledger, 5)
	for i := 1; i < len(ledger); i++ {
		assert.GreaterOrEqual(t, ledger[i].At.Sub(ledger[i-1].At), gap,
			"single and bulk sends share one clock: send %d came too soon", i)
		assert.NotContains(t, ledger[i].Recipient, "334455", "the ledger keeps no number")
	}
}

func TestHourlyCapMakesJobsWaitAndSparesOtherContexts(t *testing.T) {
	h := newHarness(t, harnessOpt{opts: []wasend.Option{wasend.WithPacing(wasend.Pacing{PerHour: 1})}})
	a, _ := h.newContext()
	b, _ := h.newContext()
	first, err := h.client.Send(bg, a.ID, "+5491122334455", "first")
	require.NoError(t, err)
	h.waitJob(first.ID, wasend.JobCompleted)
	second, err := h.client.Send(bg, a.ID, "+5491122334455", "second")
	require.NoError(t, err)
	other, err := h.client.Send(bg, b.ID, "+5491122334455", "other context")
	require.NoError(t, err)
	h.waitJob(other.ID, wasend.JobCompleted)

	var j wasend.Job
	eventually(t, func() bool {
		j, err = h.client.Job(bg, second.ID)
		require.NoError(t, err)
		return j.Wait == wasend.WaitHourlyCap
	}, "the second job to wait for the hourly cap (waits %q)", func() any { return j.Wait })
	assert.Equal(t, wasend.JobPending, j.Status)
	assert.Equal(t, 0, j.Attempts)
	assert.Equal(t, wasend.MessagePending, j.Messages[0].Status)
	assert.WithinDuration(t, time.Now().Add(time.Hour), j.NextRunAt, 5*time.Second, "it waits until the first send leaves the hour")
	waits := h.events.waitsFor(second.ID)
	require.NotEmpty(t, waits)
	assert.Equal(t, wasend.WaitHourlyCap, waits[0].Wait)

	st, err := h.client.Stats(bg)
	require.NoError(t, err)
	for _, cs := range st.Contexts {
		require.NotNil(t, cs.Pacing, "context %d", cs.ID)
		if cs.ID == a.ID {
			assert.Equal(t, 0, cs.Pacing.HourLeft)
			assert.Equal(t, -1, cs.Pacing.DayLeft)
			assert.Equal(t, wasend.WaitHourlyCap, cs.Pacing.Wait)
		} else {
			assert.Equal(t, 0, cs.Pacing.HourLeft, "context b sent its one")
		}
	}
}

func TestNotBefore(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	bc, sess := h.newContext()
	at := time.Now().Add(600 * time.Millisecond)
	job, err := h.client.Send(bg, bc.ID, "+5491122334455", "later", wasend.NotBefore(at))
	require.NoError(t, err)
	assert.Equal(t, wasend.WaitNotBefore, job.Wait)
	assert.Equal(t, at.UTC().Truncate(time.Microsecond), job.NotBefore.Truncate(time.Microsecond))
	// A context that comes back wakes its jobs, but not before their time.
	sess.Logout()
	sess.Login()
	h.waitJob(job.ID, wasend.JobCompleted)
	sent := sess.Sent()
	require.Len(t, sent, 1)
	assert.False(t, sent[0].At.Before(at), "sent at %v, not before %v", sent[0].At, at)

	_, err = h.client.Send(bg, bc.ID, "+5491122334455", "far", wasend.NotBefore(time.Now().Add(2*365*24*time.Hour)))
	var ve *wasend.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.ErrorIs(t, err, wasend.ErrInvalidNotBefore)
	assert.Equal(t, "not_before", ve.Field)
}

func TestTemporaryBanHoldsTheContextThenResumes(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	bc, sess := h.newContext()
	// Long enough that the ban has not ended when the send meets it, even
	// on a loaded machine (800 ms was not, once).
	until := time.Now().Add(2 * time.Second)
	sess.Script(wasendtest.Action{Err: &wasend.RestrictionError{Kind: wasend.RestrictionTemporary, Until: until, Code: 101,
		Reason: "You're temporarily banned from WhatsApp"}})
	job, err := h.client.Send(bg, bc.ID, "+5491122334455", "after the ban")
	require.NoError(t, err)
	got := h.waitContext(bc.ID, wasend.ContextRestricted)
	assert.Equal(t, wasend.RestrictionTemporary, got.Restriction.Kind)
	assert.Equal(t, until.UTC().Truncate(time.Microsecond), got.Restriction.Until.Truncate(time.Microsecond))
	j, err := h.client.Job(bg, job.ID)
	require.NoError(t, err)
	if j.Status == wasend.JobPending {
		assert.Equal(t, wasend.WaitRestricted, j.Wait)
		assert.Equal(t, 0, j.Messages[0].Attempts, "nothing was sent: no attempt spent")
	}
	j = h.waitJob(job.ID, wasend.JobCompleted)
	assert.Equal(t, 1, j.Messages[0].Attempts, "the refused attempt did not count, only the one that sent")
	assert.False(t, sess.Sent()[0].At.Before(until), "nothing is sent before the ban ends")
	h.waitContext(bc.ID, wasend.ContextAvailable)
	// The host's events come through the event pump, after the store.
	var rs []wasend.Restriction
	eventually(t, func() bool {
		rs = h.events.restrictions(bc.ID)
		return len(rs) >= 2 && rs[len(rs)-1].Kind == wasend.RestrictionNone
	}, "the host to hear that the ban ended (%v)", func() any { return rs })
	assert.Equal(t, wasend.RestrictionTemporary, rs[0].Kind)
}

func TestBanClosesTheContextAndFailsItsJobs(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	bc, sess := h.newContext()
	sess.Script(wasendtest.Action{Delay: 200 * time.Millisecond, Err: &wasend.RestrictionError{Kind: wasend.RestrictionBanned,
		Reason: "You have been logged out"}})
	first, err := h.client.Send(bg, bc.ID, "+5491122334455", "one")
	require.NoError(t, err)
	second, err := h.client.SendBulk(bg, bc.ID, []wasend.BulkMessage{{To: "+5491122334455", Text: "two"}})
	require.NoError(t, err)
	got := h.waitContext(bc.ID, wasend.ContextClosed)
	assert.Equal(t, wasend.RestrictionBanned, got.Restriction.Kind)
	for _, id := range []int64{first.ID, second.ID} {
		j := h.waitJob(id, wasend.JobFailed)
		assert.Equal(t, wasend.ErrorKindBanned, j.ErrorKind, "job %d", id)
		for _, m := range j.Messages {
			assert.Equal(t, wasend.MessageCancelled, m.Status)
		}
	}
	assert.Empty(t, sess.Sent())
	_, err = h.client.Send(bg, bc.ID, "+5491122334455", "three")
	assert.ErrorIs(t, err, wasend.ErrContextNotAvailable)
}

func TestNewChatsLockHoldsOnlyNewContacts(t *testing.T) {
	// The ledger that tells new contacts from known ones is pacing's.
	h := newHarness(t, harnessOpt{opts: []wasend.Option{wasend.WithPacing(wasend.Pacing{PerDay: 1000})}})
	bc, sess := h.newContext()
	known := "+5491122334455"
	j, err := h.client.Send(bg, bc.ID, known, "hello")
	require.NoError(t, err)
	h.waitJob(j.ID, wasend.JobCompleted)

	sess.Script(wasendtest.Action{Err: &wasend.RestrictionError{Kind: wasend.RestrictionNewChats,
		Until: time.Now().Add(time.Hour), Reason: "Your account is restricted"}})
	cold, err := h.client.Send(bg, bc.ID, "+5491199998888", "cold")
	require.NoError(t, err)
	var c wasend.Job
	eventually(t, func() bool {
		c, err = h.client.Job(bg, cold.ID)
		require.NoError(t, err)
		return c.Wait == wasend.WaitNewChatsLocked
	}, "the job to a new contact to wait for the lock (waits %q)", func() any { return c.Wait })
	assert.Equal(t, 0, c.Attempts)
	assert.Equal(t, wasend.MessagePending, c.Messages[0].Status)
	stored, err := h.client.Context(bg, bc.ID)
	require.NoError(t, err)
	assert.Equal(t, wasend.RestrictionNewChats, stored.Restriction.Kind)
	assert.NotEqual(t, wasend.ContextRestricted, stored.Status, "chats that exist go on")

	again, err := h.client.Send(bg, bc.ID, known, "a reply in an existing chat")
	require.NoError(t, err)
	h.waitJob(again.ID, wasend.JobCompleted)
	c, err = h.client.Job(bg, cold.ID)
	require.NoError(t, err)
	assert.Equal(t, wasend.JobPending, c.Status)
	assert.Equal(t, 0, sess.Count("+5491199998888", "cold"))
}

func TestBreakerOpensCoolsDownAndProbes(t *testing.T) {
	h := newHarness(t, harnessOpt{opts: []wasend.Option{wasend.WithBreaker(wasend.Breaker{Failures: 2,
		Cooldown: 700 * time.Millisecond, MaxCooldown: time.Second})}})
	bc, sess := h.newContext()
	sess.SetNotOnWhatsApp("+5491100000001")
	sess.SetNotOnWhatsApp("+5491100000002")
	for _, to := range []string{"+5491100000001", "+5491100000002"} {
		j, err := h.client.Send(bg, bc.ID, to, "nobody")
		require.NoError(t, err)
		h.waitJob(j.ID, wasend.JobFailed)
	}
	got := h.waitContext(bc.ID, wasend.ContextRestricted)
	assert.Equal(t, wasend.RestrictionBreaker, got.Restriction.Kind)
	probe, err := h.client.Send(bg, bc.ID, "+5491122334455", "probe")
	require.NoError(t, err)
	j := h.waitJob(probe.ID, wasend.JobCompleted)
	assert.False(t, j.Messages[0].SentAt.Before(got.Restriction.Until), "nothing goes out during the cool-down")
	h.waitContext(bc.ID, wasend.ContextAvailable)
	rs := h.events.restrictions(bc.ID)
	require.NotEmpty(t, rs)
	assert.Equal(t, wasend.RestrictionBreaker, rs[0].Kind)
}

func TestTakeoverContinuesTheDailyBudget(t *testing.T) {
	c := newCluster(t, wasend.WithTakeover(5), wasend.WithPacing(wasend.Pacing{PerDay: 2}))
	// A follows the same policy, set on the context itself: it is stored.
	bc, sess := c.a.newContext()
	_, err := c.a.client.UpdateContext(bg, bc.ID, wasend.ContextPacing(&wasend.Pacing{PerDay: 2}))
	require.NoError(t, err)
	for _, text := range []string{"one", "two"} {
		j, err := c.a.client.Send(bg, bc.ID, "+5491122334455", text)
		require.NoError(t, err)
		c.a.waitJob(j.ID, wasend.JobCompleted)
	}
	// A dies (it can renew no lease); B takes the context over mid-day.
	c.aLeaser.off.Store(true)
	c.waitHolder(t, bc.ID, "B")
	third, err := c.b.client.Send(bg, bc.ID, "+5491122334455", "three")
	require.NoError(t, err)
	var j wasend.Job
	eventually(t, func() bool {
		j, err = c.b.client.Job(bg, third.ID)
		require.NoError(t, err)
		return j.Wait == wasend.WaitDailyCap
	}, "B to hold the third message for the day's cap (waits %q)", func() any { return j.Wait })
	assert.Equal(t, 0, j.Attempts)
	assert.Equal(t, 2, len(sess.Sent()), "B respects what A sent")
	st, err := c.b.client.Stats(bg)
	require.NoError(t, err)
	require.NotNil(t, st.Contexts[0].Pacing)
	assert.Equal(t, 0, st.Contexts[0].Pacing.DayLeft)
}

func TestContextProxy(t *testing.T) {
	logs := &wasendtest.LogBuffer{}
	h := newHarness(t, harnessOpt{opts: []wasend.Option{wasend.WithLogger(slog.New(slog.NewTextHandler(logs, nil)))}})
	before := h.pool.Attempts()
	_, err := h.client.CreateContext(bg, wasend.ContextProxy("ftp://user:hunter2@proxy.example:21"))
	var ve *wasend.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.ErrorIs(t, err, wasend.ErrProxy)
	assert.Equal(t, "proxy", ve.Field)
	assert.NotContains(t, err.Error(), "hunter2")
	assert.Equal(t, before, h.pool.Attempts(), "nothing was launched")

	proxy := "socks5://user:hunter2@10.0.0.1:1080"
	bc, err := h.client.CreateContext(bg, wasend.ContextProxy(proxy))
	require.NoError(t, err)
	assert.Equal(t, proxy, h.pool.Session(bc.SystemID).Proxy(), "the pool launches the session through it")
	stored, err := h.client.Context(bg, bc.ID)
	require.NoError(t, err)
	assert.Equal(t, proxy, stored.Proxy)
	_, err = h.client.UpdateContext(bg, bc.ID, wasend.ContextProxy("http://10.0.0.2:3128"))
	require.NoError(t, err)
	_, err = h.client.UpdateContext(bg, bc.ID, wasend.ContextPacing(&wasend.Pacing{MinGap: time.Minute}))
	assert.ErrorIs(t, err, wasend.ErrInvalidPacing)
	assert.NotContains(t, logs.String(), "hunter2")
	assert.Equal(t, "socks5://***@10.0.0.1:1080", wasend.MaskProxy(proxy))
}

func TestPacingIsOnByDefault(t *testing.T) {
	pool, queue, store := wasendtest.NewPool(), wasendtest.NewQueue(), wasendtest.NewStore()
	defer func() { require.NoError(t, queue.Close()) }()
	c, err := wasend.New(pool, queue, store, wasend.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	require.NoError(t, err)
	defer func() { require.NoError(t, c.Close()) }()
	bc, err := c.CreateContext(bg)
	require.NoError(t, err)
	pool.Session(bc.SystemID).Login()
	eventually(t, func() bool {
		got, err := store.Context(bg, bc.ID)
		return err == nil && !got.FirstLoginAt.IsZero()
	}, "the first login to be recorded")
	st, err := c.Stats(bg)
	require.NoError(t, err)
	ps := st.Contexts[0].Pacing
	require.NotNil(t, ps, "the default policy paces")
	assert.Equal(t, wasend.DefaultPerHour, ps.HourLeft)
	assert.Equal(t, wasend.DefaultWarmupStart, ps.DayLeft, "a new account starts its warm-up")
	assert.Equal(t, wasend.DefaultWarmupStart, ps.NewContactsLeft)
	if ps.Wait != wasend.WaitNone {
		assert.Equal(t, wasend.WaitWindow, ps.Wait, "outside 08:00-21:00 UTC the window holds it")
	}
	_, err = wasend.New(pool, queue, store, wasend.WithPacing(wasend.Pacing{PerDay: -1}))
	assert.ErrorIs(t, err, wasend.ErrInvalidOption)
	assert.True(t, errors.Is(err, wasend.ErrInvalidPacing))
}

func TestLookupThatFindsTheMessageRejectedEndsItFailed(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	bc, sess := h.newContext()
	sess.Script(wasendtest.Action{Lost: true, Err: wasend.Unconfirmed(wasend.ErrTimeout)})
	sess.ScriptFind(wasendtest.Find{Err: &wasend.RestrictionError{Kind: wasend.RestrictionNewChats, Err: wasend.ErrMessageRejected}})
	job, err := h.client.Send(bg, bc.ID, "+5491122334455", "rejected")
	require.NoError(t, err)
	j := h.waitJob(job.ID, wasend.JobFailed)
	m := j.Messages[0]
	assert.Equal(t, wasend.MessageFailed, m.Status)
	assert.Equal(t, wasend.ErrorKindMessageRejected, m.ErrorKind)
	assert.Equal(t, 1, m.Attempts, "not sent again")
	assert.Equal(t, 0, sess.Count("+5491122334455", "rejected"))
	stored, err := h.client.Context(bg, bc.ID)
	require.NoError(t, err)
	assert.Equal(t, wasend.RestrictionNewChats, stored.Restriction.Kind, "the rejection said why: the cap on new chats")
}

func TestNewChatsLockEndsByItself(t *testing.T) {
	h := newHarness(t, harnessOpt{opts: []wasend.Option{wasend.WithPacing(wasend.Pacing{PerDay: 1000})}})
	bc, sess := h.newContext()
	until := time.Now().Add(700 * time.Millisecond)
	sess.Script(wasendtest.Action{Err: &wasend.RestrictionError{Kind: wasend.RestrictionNewChats, Until: until}})
	job, err := h.client.Send(bg, bc.ID, "+5491199998888", "cold, then warm")
	require.NoError(t, err)
	j := h.waitJob(job.ID, wasend.JobCompleted)
	assert.Equal(t, 1, j.Messages[0].Attempts, "the refused attempt did not count")
	assert.False(t, j.Messages[0].SentAt.Before(until), "nothing went to the new contact before the lock ended")
	eventually(t, func() bool {
		rs := h.events.restrictions(bc.ID)
		return len(rs) >= 2 && rs[len(rs)-1].Kind == wasend.RestrictionNone
	}, "the host to hear that the lock ended")
}

func TestLookupDuringATemporaryBanWaitsForItsEnd(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	bc, sess := h.newContext()
	until := time.Now().Add(700 * time.Millisecond)
	sess.Script(wasendtest.Action{Deliver: true, Err: wasend.Unconfirmed(wasend.ErrTimeout)})
	sess.ScriptFind(wasendtest.Find{Err: &wasend.RestrictionError{Kind: wasend.RestrictionTemporary, Until: until}})
	job, err := h.client.Send(bg, bc.ID, "+5491122334455", "sent, then banned")
	require.NoError(t, err)
	got := h.waitContext(bc.ID, wasend.ContextRestricted)
	assert.Equal(t, wasend.RestrictionTemporary, got.Restriction.Kind, "restricted, not disconnected")
	j := h.waitJob(job.ID, wasend.JobCompleted)
	m := j.Messages[0]
	assert.Equal(t, wasend.MessageSent, m.Status, "found by the lookup after the ban")
	assert.Equal(t, 0, m.Lookups, "the lookup the ban refused was not spent")
	assert.Equal(t, 1, sess.Count("+5491122334455", "sent, then banned"), "never twice")
	h.waitContext(bc.ID, wasend.ContextAvailable)
}
