package wasend_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/wasendtest"
)

// The regression tests of issue 10's defects, one per defect, each written
// to fail against the runtime before the fix.

// Defect 1: a session clicks, then hangs until its deadline; the lookup of
// the next turn must search from before the click, not from when the
// unknown outcome was recorded.
func TestDefect1LookupSearchesFromTheFirstUnknownAttempt(t *testing.T) {
	for _, tc := range []struct {
		name string
		act  wasendtest.Action
	}{
		{"hang past the deadline", wasendtest.Action{Deliver: true, After: time.Minute}},
		{"unconfirmed after a delay", wasendtest.Action{Deliver: true, After: 2500 * time.Millisecond,
			Err: wasend.Unconfirmed(wasend.ErrTimeout)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The send takes longer than the guard's skew (2 s), so a
			// window that moved when the outcome was recorded misses the
			// click. Without marks, the lookup relies on the window alone.
			h := newHarness(t, harnessOpt{opts: []wasend.Option{wasend.WithSendTimeout(3 * time.Second)}})
			bc, sess := h.newContext()
			sess.SetMarks(false)
			sess.Script(tc.act)
			// The first lookup cannot answer; the window must not move.
			sess.ScriptFind(wasendtest.Find{Err: errors.New("chat did not load")})
			job, err := h.client.Send(bg, bc.ID, "+5491122334455", "late failure")
			require.NoError(t, err)
			j := h.waitJob(job.ID, wasend.JobCompleted)
			m := j.Messages[0]
			assert.Equal(t, wasend.MessageSent, m.Status)
			assert.Equal(t, 1, sess.Count("+5491122334455", "late failure"), "never twice")
			assert.Equal(t, 1, sess.Calls())
			assert.Equal(t, 1, m.Attempts)
			sent := sess.Sent()[0].At
			qs := sess.Queries()
			for _, q := range qs {
				assert.False(t, q.Since.After(sent), "lookup since %v, after the click at %v", q.Since, sent)
			}
			require.Len(t, qs, 2)
			assert.Equal(t, qs[0].Since, qs[1].Since, "the window does not move while the outcome is unknown")
		})
		t.Run(tc.name+", the first lookup answers", func(t *testing.T) {
			h := newHarness(t, harnessOpt{opts: []wasend.Option{wasend.WithSendTimeout(3 * time.Second)}})
			bc, sess := h.newContext()
			sess.SetMarks(false)
			sess.Script(tc.act)
			job, err := h.client.Send(bg, bc.ID, "+5491122334455", "late failure")
			require.NoError(t, err)
			j := h.waitJob(job.ID, wasend.JobCompleted)
			assert.Equal(t, 1, sess.Count("+5491122334455", "late failure"), "never twice")
			assert.Equal(t, 1, sess.Calls())
			assert.Equal(t, wasend.MessageSent, j.Messages[0].Status)
		})
	}
}

// Defect 2: the same text to the same number twice within a minute. The
// second message's click is lost; its lookup must not take the first
// message's row for it.
func TestDefect2AnEarlierIdenticalMessageIsNotThisOne(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	bc, sess := h.newContext()
	first, err := h.client.Send(bg, bc.ID, "+5491122334455", "Your code is 1234")
	require.NoError(t, err)
	h.waitJob(first.ID, wasend.JobCompleted)
	sess.Script(wasendtest.Action{Lost: true, Err: wasend.Unconfirmed(wasend.ErrTimeout)})
	second, err := h.client.Send(bg, bc.ID, "+5491122334455", "Your code is 1234")
	require.NoError(t, err)
	j := h.waitJob(second.ID, wasend.JobCompleted)
	assert.Equal(t, wasend.MessageSent, j.Messages[0].Status)
	assert.Equal(t, 2, sess.Count("+5491122334455", "Your code is 1234"), "both messages reached WhatsApp, once each")
	assert.Equal(t, 2, j.Messages[0].Attempts, "the lookup did not find it, so it was sent again")
	qs := sess.Queries()
	require.Len(t, qs, 1)
	assert.Contains(t, qs[0].Mark, sess.Sent()[0].ID, "the mark lists the first message's row")
}

// Defect 3: a lookup that fails or panics is not a failed send: it spends
// no attempt and never sends; lookups that keep failing end unknown.
func TestDefect3AFailedLookupIsNotAFailedSend(t *testing.T) {
	t.Run("lookups fail, then answer", func(t *testing.T) {
		h := newHarness(t, harnessOpt{})
		bc, sess := h.newContext()
		sess.Script(wasendtest.Action{Deliver: true, Err: wasend.Unconfirmed(wasend.ErrTimeout)})
		sess.ScriptFind(wasendtest.Find{Err: fmt.Errorf("chat: %w", wasend.ErrTimeout)}, wasendtest.Find{Panic: "boom"},
			wasendtest.Find{Err: errors.New("chat did not load")})
		job, err := h.client.Send(bg, bc.ID, "+5491122334455", "reached WhatsApp")
		require.NoError(t, err)
		j := h.waitJob(job.ID, wasend.JobCompleted)
		assert.Equal(t, wasend.MessageSent, j.Messages[0].Status)
		assert.Equal(t, 1, j.Messages[0].Attempts, "lookups spend no attempt")
		assert.Equal(t, 1, sess.Calls(), "never sent while the lookup cannot answer")
		assert.Len(t, sess.Queries(), 4)
	})
	t.Run("lookups keep failing", func(t *testing.T) {
		h := newHarness(t, harnessOpt{opts: []wasend.Option{wasend.WithMaxLookups(4)}})
		bc, sess := h.newContext()
		sess.Script(wasendtest.Action{Deliver: true, Err: wasend.Unconfirmed(wasend.ErrTimeout)})
		for range 10 {
			sess.ScriptFind(wasendtest.Find{Err: errors.New("chat did not load")}, wasendtest.Find{Panic: "boom"})
		}
		job, err := h.client.Send(bg, bc.ID, "+5491122334455", "reached WhatsApp")
		require.NoError(t, err)
		j := h.waitJob(job.ID, wasend.JobCompleted)
		m := j.Messages[0]
		assert.Equal(t, wasend.MessageUnknown, m.Status, "never failed: it reached WhatsApp")
		assert.Equal(t, wasend.ErrorKindUnknownOutcome, j.ErrorKind)
		assert.Equal(t, 4, m.Lookups)
		assert.Equal(t, 1, m.Attempts)
		assert.Equal(t, 1, sess.Calls())
		assert.Len(t, sess.Queries(), 4)
		st, err := h.client.Stats(bg)
		require.NoError(t, err)
		assert.Equal(t, int64(1), st.Messages[wasend.MessageUnknown], "the host can count it")
		eventually(t, func() bool {
			for _, ev := range h.events.all() {
				if ev.Type == wasend.EventUnknownOutcome && ev.JobID == job.ID && ev.MessageID == m.ID && ev.ContextID == bc.ID {
					return true
				}
			}
			return false
		}, "an event for the unknown outcome")
	})
}

// Defect 4: one attempt per real call of SendText. After one unconfirmed
// attempt, and during the second, the message shows one attempt.
func TestDefect4OneAttemptPerCall(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	bc, sess := h.newContext()
	sess.SetMarks(false)
	sess.Script(wasendtest.Action{Err: wasend.Unconfirmed(wasend.ErrTimeout)}, wasendtest.Action{Block: true})
	job, err := h.client.Send(bg, bc.ID, "+5491122334455", "counted once")
	require.NoError(t, err)
	eventually(t, func() bool { return sess.Active() == 1 && sess.Calls() == 2 }, "the second attempt to run")
	j, err := h.client.Job(bg, job.ID)
	require.NoError(t, err)
	assert.Equal(t, wasend.MessageSending, j.Messages[0].Status)
	assert.Equal(t, 1, j.Messages[0].Attempts, "one unconfirmed attempt, and one in flight")
	sess.Release()
	j = h.waitJob(job.ID, wasend.JobCompleted)
	assert.Equal(t, 2, j.Messages[0].Attempts)
	assert.Equal(t, 2, j.Attempts)
	assert.Equal(t, 1, sess.Count("+5491122334455", "counted once"))
}

// Defect 4, the other way round: an unconfirmed attempt found by its
// lookup is one call and one attempt.
func TestDefect4FoundLookupIsNoAttempt(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	bc, sess := h.newContext()
	sess.Script(wasendtest.Action{Deliver: true, Err: wasend.Unconfirmed(wasend.ErrTimeout)})
	job, err := h.client.Send(bg, bc.ID, "+5491122334455", "one call")
	require.NoError(t, err)
	j := h.waitJob(job.ID, wasend.JobCompleted)
	assert.Equal(t, 1, sess.Calls())
	assert.Len(t, sess.Queries(), 1)
	assert.Equal(t, sess.Calls(), j.Messages[0].Attempts, "one attempt per call of SendText")
}

// Defect 5: a session that says it is logged out only through its
// error parks its context's jobs, as its status event would: no more
// calls and no attempt spent until it is back, then one send.
func TestDefect5GoneByErrorParksLikeTheEvent(t *testing.T) {
	leaser := wasendtest.NewLeaser()
	h := newHarness(t, harnessOpt{opts: []wasend.Option{wasend.WithLeaser(leaser), wasend.WithLeaseTTL(150 * time.Millisecond)}})
	bc, sess := h.newContext()
	for range 10 {
		sess.Script(wasendtest.Action{Err: fmt.Errorf("page: %w", wasend.ErrLoggedOut)})
	}
	job, err := h.client.Send(bg, bc.ID, "+5491122334455", "after the login")
	require.NoError(t, err)
	h.waitContext(bc.ID, wasend.ContextDisconnected)
	// Several heartbeats (every 50 ms) and sweeps pass: none brings the
	// context back, since its session never said it was.
	time.Sleep(600 * time.Millisecond)
	assert.Equal(t, 1, sess.Calls(), "no call while the session is gone")
	j, err := h.client.Job(bg, job.ID)
	require.NoError(t, err)
	assert.Equal(t, wasend.JobPending, j.Status)
	assert.Equal(t, 0, j.Messages[0].Attempts, "no attempt spent")
	assert.Equal(t, wasend.MessagePending, j.Messages[0].Status)
	got, err := h.store.Context(bg, bc.ID)
	require.NoError(t, err)
	assert.Equal(t, wasend.ContextDisconnected, got.Status)
	// The host heard of it.
	eventually(t, func() bool {
		for _, ev := range h.events.all() {
			if ev.Type == wasend.EventStatus && ev.Status == wasend.ContextDisconnected && errors.Is(ev.Err, wasend.ErrLoggedOut) {
				return true
			}
		}
		return false
	}, "a disconnected event")

	sess.ClearScript()
	sess.Login()
	j = h.waitJob(job.ID, wasend.JobCompleted)
	assert.Equal(t, 1, j.Messages[0].Attempts)
	assert.Equal(t, 2, sess.Calls())
	assert.Equal(t, 1, sess.Count("+5491122334455", "after the login"))
}

// Defect 6: the leaser (Redis) is out of reach for longer than the lease.
// The holder keeps the session, takes the lease again when the leaser is
// back, and its jobs go out; no other process took the context.
func TestDefect6LeaserOutageLongerThanTheLease(t *testing.T) {
	leaser := &switchLeaser{Leaser: wasendtest.NewLeaser()}
	h := newHarness(t, harnessOpt{opts: []wasend.Option{wasend.WithLeaser(leaser), wasend.WithLeaseTTL(testTTL)}})
	bc, sess := h.newContext()
	leaser.off.Store(true)
	// The lease runs out at most a TTL after its last renewal, by the
	// clock, however slow the machine.
	time.Sleep(2 * testTTL)
	var ids []int64
	for i := range 10 {
		job, err := h.client.Send(bg, bc.ID, "+5491122334455", fmt.Sprint("during the outage ", i))
		require.NoError(t, err)
		ids = append(ids, job.ID)
	}
	time.Sleep(2 * testTTL) // four leases long in all
	assert.False(t, sess.Closed(), "the session is kept through the outage")
	assert.Zero(t, sess.Calls(), "nothing is sent without the lease")
	leaser.off.Store(false)
	for _, id := range ids {
		h.waitJob(id, wasend.JobCompleted)
	}
	h.waitContext(bc.ID, wasend.ContextAvailable)
	holders, err := leaser.Holders(bg, []int64{bc.ID})
	require.NoError(t, err)
	assert.Equal(t, h.client.Owner(), holders[bc.ID])
	assertSentOnce(t, sess)
	assert.Len(t, sess.Sent(), 10)
}

// Defect 7: metadata is validated in the root for every store: a
// documented depth and size, a typed error, and nothing written.
func TestDefect7MetadataLimits(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	bc, _ := h.newContext()
	nest := func(depth int) map[string]any {
		m := map[string]any{"leaf": 1}
		for range depth - 1 {
			m = map[string]any{"n": m}
		}
		return m
	}
	for _, tc := range []struct {
		name string
		md   map[string]any
		ok   bool
	}{
		{"flat", map[string]any{"order": 17}, true},
		{"at the depth limit", nest(wasend.MaxMetadataDepth), true},
		{"one level too deep", nest(wasend.MaxMetadataDepth + 1), false},
		{"32 deep, as MariaDB refused", nest(32), false},
		{"arrays count too", map[string]any{"a": []any{[]any{[]any{nest(wasend.MaxMetadataDepth - 3)}}}}, false},
		{"a string with brackets is not depth", map[string]any{"s": strings.Repeat("[{", 100)}, true},
		{"too large", map[string]any{"s": strings.Repeat("x", wasend.MaxMetadataSize)}, false},
		{"not JSON", map[string]any{"f": func() {}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := jobCount(t, h.store)
			_, err := h.client.Send(bg, bc.ID, "+5491122334455", "hi", wasend.Metadata(tc.md))
			_, berr := h.client.SendBulk(bg, bc.ID, []wasend.BulkMessage{{To: "+5491122334455", Text: "hi"}}, wasend.Metadata(tc.md))
			if tc.ok {
				require.NoError(t, err)
				require.NoError(t, berr)
				return
			}
			for _, e := range []error{err, berr} {
				require.ErrorIs(t, e, wasend.ErrInvalidMetadata)
				var ve *wasend.ValidationError
				require.ErrorAs(t, e, &ve)
				assert.Equal(t, "metadata", ve.Field)
				assert.False(t, wasend.Retryable(e), "bad input is not worth a retry")
			}
			assert.Equal(t, before, jobCount(t, h.store), "nothing written")
		})
	}
}

func jobCount(t *testing.T, s wasend.Store) int64 {
	c, err := s.Counts(bg)
	require.NoError(t, err)
	var n int64
	for _, jc := range c.Jobs {
		n += jc.N
	}
	return n
}

// A hung call (one that ignores its ctx) is abandoned after the grace: the
// context shows disconnected (jobs are still accepted, and wait) and
// nothing uses the session until the call returns; then the message is
// looked for, and not sent again.
func TestHungSessionIsNotUsedUntilItReturns(t *testing.T) {
	h := newHarness(t, harnessOpt{opts: []wasend.Option{wasend.WithSendTimeout(100 * time.Millisecond),
		wasend.WithHangGrace(50 * time.Millisecond)}})
	bc, sess := h.newContext()
	sess.Script(wasendtest.Action{Deliver: true, Block: true, IgnoreCtx: true})
	job, err := h.client.Send(bg, bc.ID, "+5491122334455", "hung after the click")
	require.NoError(t, err)
	h.waitContext(bc.ID, wasend.ContextDisconnected)
	j, err := h.client.Job(bg, job.ID)
	require.NoError(t, err)
	assert.Equal(t, wasend.MessageUnconfirmed, j.Messages[0].Status)
	assert.Equal(t, wasend.ErrorKindSessionHung, j.Messages[0].ErrorKind)
	other, err := h.client.Send(bg, bc.ID, "+5491122334455", "waits for the session")
	require.NoError(t, err)
	time.Sleep(300 * time.Millisecond)
	assert.Equal(t, 1, sess.Calls(), "nothing uses a wedged session")
	assert.Empty(t, sess.Queries())
	sess.Release()
	h.waitJob(job.ID, wasend.JobCompleted)
	h.waitJob(other.ID, wasend.JobCompleted)
	h.waitContext(bc.ID, wasend.ContextAvailable)
	assert.Equal(t, 1, sess.Count("+5491122334455", "hung after the click"))
	assert.Equal(t, 1, sess.Count("+5491122334455", "waits for the session"))
}

// A hung call that had not clicked (the session marks its clicks) ends as
// a known failure: the message is sent once the session is back, and the
// late click of the hung call is refused.
func TestHungBeforeTheClickIsRefusedItsLateClick(t *testing.T) {
	h := newHarness(t, harnessOpt{opts: []wasend.Option{wasend.WithSendTimeout(100 * time.Millisecond),
		wasend.WithHangGrace(50 * time.Millisecond)}})
	bc, sess := h.newContext()
	sess.Script(wasendtest.Action{Delay: 400 * time.Millisecond, IgnoreCtx: true})
	job, err := h.client.Send(bg, bc.ID, "+5491122334455", "late click")
	require.NoError(t, err)
	j := h.waitJob(job.ID, wasend.JobCompleted)
	assert.Equal(t, wasend.MessageSent, j.Messages[0].Status)
	assert.Equal(t, 1, sess.Count("+5491122334455", "late click"), "the hung call's click was refused")
	assert.Equal(t, 2, j.Messages[0].Attempts)
}

func TestIdempotentSend(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	bc, sess := h.newContext()
	key := wasend.IdempotencyKey("order-17-confirmation")
	first, err := h.client.Send(bg, bc.ID, "+5491122334455", "Order 17 confirmed", key, wasend.Metadata(map[string]any{"order": 17}))
	require.NoError(t, err)
	again, err := h.client.Send(bg, bc.ID, "+54 9 11 2233-4455", "Order 17 confirmed", key)
	require.NoError(t, err, "a retry of the same request")
	assert.Equal(t, first.ID, again.ID)
	assert.Equal(t, "order-17-confirmation", again.IdempotencyKey)
	h.waitJob(first.ID, wasend.JobCompleted)
	// After the send too.
	again, err = h.client.Send(bg, bc.ID, "+5491122334455", "Order 17 confirmed", key)
	require.NoError(t, err)
	assert.Equal(t, first.ID, again.ID)
	assert.Equal(t, wasend.JobCompleted, again.Status)

	_, err = h.client.Send(bg, bc.ID, "+5491122334455", "Something else", key)
	require.ErrorIs(t, err, wasend.ErrIdempotencyConflict)
	_, err = h.client.SendBulk(bg, bc.ID, []wasend.BulkMessage{{To: "+5491122334455", Text: "Order 17 confirmed"}}, key)
	require.ErrorIs(t, err, wasend.ErrIdempotencyConflict, "another kind")

	_, err = h.client.Send(bg, bc.ID, "+5491122334455", "x", wasend.IdempotencyKey(strings.Repeat("k", wasend.MaxIdempotencyKeyLength+1)))
	require.ErrorIs(t, err, wasend.ErrInvalidIdempotencyKey)
	var ve *wasend.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "idempotency_key", ve.Field)

	// Many callers at once with one key: one job.
	var wg sync.WaitGroup
	ids := make([]int64, 8)
	for i := range ids {
		wg.Go(func() {
			j, err := h.client.SendBulk(bg, bc.ID, bulkOf(2), wasend.IdempotencyKey("campaign-3"), wasend.Delay(0))
			assert.NoError(t, err)
			ids[i] = j.ID
		})
	}
	wg.Wait()
	for _, id := range ids {
		assert.Equal(t, ids[0], id)
	}
	h.waitJob(ids[0], wasend.JobCompleted)
	assert.Equal(t, 1, sess.Count("+5491122334455", "Order 17 confirmed"))
	assertSentOnce(t, sess)
	st, err := h.client.Stats(bg)
	require.NoError(t, err)
	assert.Equal(t, int64(1), st.Jobs[wasend.KindSingle][wasend.JobCompleted])
	assert.Equal(t, int64(1), st.Jobs[wasend.KindBulk][wasend.JobCompleted])
}

// The bulk cap (WithBulkConcurrency, 5 by default): a sixth bulk job waits
// for a slot, on any context.
func TestBulkConcurrencyCap(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	var sessions []*wasendtest.Session
	var jobs []int64
	for range wasend.DefaultBulkConcurrency + 2 {
		bc, sess := h.newContext()
		sess.Script(wasendtest.Action{Block: true})
		sessions = append(sessions, sess)
		j, err := h.client.SendBulk(bg, bc.ID, bulkOf(1))
		require.NoError(t, err)
		jobs = append(jobs, j.ID)
	}
	active := func() int {
		n := 0
		for _, s := range sessions {
			n += s.Active()
		}
		return n
	}
	eventually(t, func() bool { return active() == wasend.DefaultBulkConcurrency }, "5 bulk jobs to run")
	time.Sleep(200 * time.Millisecond)
	assert.Equal(t, wasend.DefaultBulkConcurrency, active(), "no sixth bulk job while five run")
	st, err := h.client.Stats(bg)
	require.NoError(t, err)
	assert.Equal(t, int64(wasend.DefaultBulkConcurrency), st.Jobs[wasend.KindBulk][wasend.JobRunning])
	assert.Equal(t, int64(2), st.Jobs[wasend.KindBulk][wasend.JobPending])
	for _, s := range sessions {
		s.Release()
	}
	for _, id := range jobs {
		h.waitJob(id, wasend.JobCompleted)
	}
}

// A job that ends while one of its messages is in an attempt (cancelled
// here; a ban or a closed context does the same): when the attempt then
// fails before its click, the message does not go back to pending in the
// ended job, where nothing would ever take it, but is cancelled with it.
func TestMessageOfAnEndedJobIsNotLeftPending(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	bc, sess := h.newContext()
	sess.Script(wasendtest.Action{Block: true, Err: wasend.ErrTimeout})
	j, err := h.client.SendBulk(bg, bc.ID, bulkOf(1))
	require.NoError(t, err)
	eventually(t, func() bool { return sess.Active() == 1 }, "the attempt to start")
	_, err = h.client.Cancel(bg, j.ID)
	require.NoError(t, err)
	sess.Release()
	eventually(t, func() bool {
		got, err := h.client.Job(bg, j.ID)
		require.NoError(t, err)
		return got.Messages[0].Status == wasend.MessageCancelled
	}, "the message to be cancelled with its job")
	got, err := h.client.Job(bg, j.ID)
	require.NoError(t, err)
	assert.Equal(t, wasend.JobCancelled, got.Status)
	assert.Empty(t, sess.Sent(), "nothing was sent")
}
