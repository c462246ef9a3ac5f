package wasend_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/wasendtest"
)

func TestSendCompletes(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	bc, sess := h.newContext()
	job, err := h.client.Send(bg, bc.ID, "+54 9 11 2233-4455", "Hola 👋\nsegunda línea", wasend.Metadata(map[string]any{"priority": "high"}))
	require.NoError(t, err)
	assert.Equal(t, wasend.JobPending, job.Status)
	assert.Equal(t, wasend.KindSingle, job.Kind)
	assert.Equal(t, "+5491122334455", job.Messages[0].To)

	job = h.waitJob(job.ID, wasend.JobCompleted)
	m := job.Messages[0]
	assert.Equal(t, wasend.MessageSent, m.Status)
	assert.False(t, m.SentAt.IsZero())
	assert.NotEmpty(t, m.WAMessageID)
	assert.Equal(t, 1, m.Attempts)
	assert.Equal(t, map[string]any{"priority": "high"}, job.Metadata)
	assert.False(t, job.StartedAt.IsZero())
	assert.False(t, job.FinishedAt.IsZero())
	assert.Equal(t, 1, sess.Count("+5491122334455", "Hola 👋\nsegunda línea"))
	h.waitContext(bc.ID, wasend.ContextAvailable)
}

func TestRetryableErrorIsRetriedWithBackoff(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	bc, sess := h.newContext()
	sess.Script(wasendtest.Action{Err: wasend.ErrTimeout}, wasendtest.Action{Err: wasendtest.ErrScripted})
	job, err := h.client.Send(bg, bc.ID, "+5491122334455", "retry me")
	require.NoError(t, err)
	job = h.waitJob(job.ID, wasend.JobCompleted)
	assert.Equal(t, 3, job.Messages[0].Attempts)
	assert.Equal(t, 3, job.Attempts, "the job counts every attempt of its messages")
	assert.Equal(t, wasend.ErrorKindNone, job.ErrorKind, "success clears the error")
	assert.Equal(t, 1, sess.Count("+5491122334455", "retry me"))
	assert.Equal(t, 3, sess.Calls())
}

func TestRetryableErrorExhaustsAttempts(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	bc, sess := h.newContext()
	sess.Script(wasendtest.Action{Err: wasend.ErrTimeout}, wasendtest.Action{Err: wasend.ErrTimeout}, wasendtest.Action{Err: wasend.ErrTimeout})
	job, err := h.client.Send(bg, bc.ID, "+5491122334455", "never")
	require.NoError(t, err)
	job = h.waitJob(job.ID, wasend.JobFailed)
	assert.Equal(t, wasend.ErrorKindTimeout, job.ErrorKind)
	assert.Equal(t, wasend.MessageFailed, job.Messages[0].Status)
	assert.Equal(t, 3, sess.Calls())
	h.waitContext(bc.ID, wasend.ContextAvailable)
}

func TestPermanentErrorFailsAtOnce(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	bc, sess := h.newContext()
	sess.SetNotOnWhatsApp("+5491100000000")
	job, err := h.client.Send(bg, bc.ID, "+5491100000000", "nobody")
	require.NoError(t, err)
	job = h.waitJob(job.ID, wasend.JobFailed)
	assert.Equal(t, wasend.ErrorKindNotOnWhatsApp, job.ErrorKind)
	assert.Equal(t, wasend.ErrorKindNotOnWhatsApp, job.Messages[0].ErrorKind)
	assert.Contains(t, job.Messages[0].Error, "not on WhatsApp")
	assert.Equal(t, 1, sess.Calls())
	h.waitContext(bc.ID, wasend.ContextAvailable)
}

func TestLogoutParksJobsUntilLogin(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	bc, sess := h.newContext()
	sess.Logout()
	h.waitContext(bc.ID, wasend.ContextDisconnected)
	job, err := h.client.Send(bg, bc.ID, "+5491122334455", "after login")
	require.NoError(t, err, "a disconnected context still takes jobs")
	// The job waits without spending attempts.
	time.Sleep(100 * time.Millisecond)
	j, err := h.client.Job(bg, job.ID)
	require.NoError(t, err)
	assert.Equal(t, wasend.JobPending, j.Status)
	assert.Equal(t, 0, j.Messages[0].Attempts)
	assert.Equal(t, 0, sess.Calls())
	sess.Login()
	h.waitJob(job.ID, wasend.JobCompleted)
	assert.Equal(t, 1, sess.Count("+5491122334455", "after login"))
}

func TestSessionErrorDuringSendDisconnectsContext(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	bc, sess := h.newContext()
	sess.Script(wasendtest.Action{Err: fmt.Errorf("page says: %w", wasend.ErrLoggedOut)})
	job, err := h.client.Send(bg, bc.ID, "+5491122334455", "interrupted")
	require.NoError(t, err)
	h.waitContext(bc.ID, wasend.ContextDisconnected)
	j := h.waitJob(job.ID, wasend.JobPending)
	assert.Equal(t, wasend.ErrorKindLoggedOut, j.ErrorKind)
	assert.Equal(t, wasend.MessagePending, j.Messages[0].Status)
	sess.Login()
	h.waitJob(job.ID, wasend.JobCompleted)
	assert.Equal(t, 1, sess.Count("+5491122334455", "interrupted"))
}

func TestPanicInTransportIsRecovered(t *testing.T) {
	t.Run("delivered before the panic: the guard finds it", func(t *testing.T) {
		h := newHarness(t, harnessOpt{})
		bc, sess := h.newContext()
		sess.Script(wasendtest.Action{Panic: "boom", Deliver: true})
		job, err := h.client.Send(bg, bc.ID, "+5491122334455", "panic after click")
		require.NoError(t, err)
		j := h.waitJob(job.ID, wasend.JobCompleted)
		assert.Equal(t, 1, sess.Count("+5491122334455", "panic after click"), "never twice")
		assert.Equal(t, 1, sess.Calls(), "the guard found it without sending")
		assert.Equal(t, wasend.MessageSent, j.Messages[0].Status)
		h.waitContext(bc.ID, wasend.ContextAvailable)
	})
	t.Run("not delivered: sent on the next attempt", func(t *testing.T) {
		h := newHarness(t, harnessOpt{})
		bc, sess := h.newContext()
		sess.Script(wasendtest.Action{Panic: errors.New("boom")})
		job, err := h.client.Send(bg, bc.ID, "+5491122334455", "panic before click")
		require.NoError(t, err)
		h.waitJob(job.ID, wasend.JobCompleted)
		assert.Equal(t, 1, sess.Count("+5491122334455", "panic before click"))
		assert.Equal(t, 2, sess.Calls())
	})
}

func TestUnconfirmedSendIsNeverRepeated(t *testing.T) {
	t.Run("with a finder", func(t *testing.T) {
		h := newHarness(t, harnessOpt{})
		bc, sess := h.newContext()
		sess.Script(wasendtest.Action{Err: wasend.Unconfirmed(wasend.ErrTimeout), Deliver: true})
		job, err := h.client.Send(bg, bc.ID, "+5491122334455", "tick lost")
		require.NoError(t, err)
		h.waitJob(job.ID, wasend.JobCompleted)
		assert.Equal(t, 1, sess.Count("+5491122334455", "tick lost"))
	})
	t.Run("without a finder, unknown", func(t *testing.T) {
		h := newHarness(t, harnessOpt{pool: []wasendtest.Option{wasendtest.WithoutFinder()}})
		bc, sess := h.newContext()
		sess.Script(wasendtest.Action{Err: wasend.Unconfirmed(wasend.ErrTimeout), Deliver: true})
		job, err := h.client.Send(bg, bc.ID, "+5491122334455", "tick lost")
		require.NoError(t, err)
		j := h.waitJob(job.ID, wasend.JobCompleted)
		assert.Equal(t, wasend.ErrorKindUnknownOutcome, j.ErrorKind)
		assert.Equal(t, wasend.MessageUnknown, j.Messages[0].Status, "never failed: it may have been sent")
		assert.Equal(t, 1, sess.Count("+5491122334455", "tick lost"))
	})
	t.Run("without a finder, resend by policy", func(t *testing.T) {
		h := newHarness(t, harnessOpt{pool: []wasendtest.Option{wasendtest.WithoutFinder()},
			opts: []wasend.Option{wasend.WithUnknownOutcome(wasend.ResendUnknown)}})
		bc, sess := h.newContext()
		sess.Script(wasendtest.Action{Err: wasend.Unconfirmed(wasend.ErrTimeout)})
		job, err := h.client.Send(bg, bc.ID, "+5491122334455", "tick lost")
		require.NoError(t, err)
		h.waitJob(job.ID, wasend.JobCompleted)
		assert.Equal(t, 1, sess.Count("+5491122334455", "tick lost"))
	})
}

func TestDuplicateDeliveriesSendOnce(t *testing.T) {
	h := newHarness(t, harnessOpt{noRun: true})
	bc, sess := h.newContext()
	job, err := h.client.Send(bg, bc.ID, "+5491122334455", "once")
	require.NoError(t, err)
	d := wasend.Delivery{JobID: job.ID, ContextID: bc.ID, Kind: wasend.KindSingle}
	for range 10 {
		require.NoError(t, h.queue.Enqueue(bg, d, 0))
	}
	h.run()
	h.waitJob(job.ID, wasend.JobCompleted)
	eventually(t, func() bool {
		st, _ := h.queue.Stats(bg)
		return st.Waiting == 0 && st.InFlight == 0
	}, "queue to drain")
	assert.Equal(t, 1, sess.Calls())
	assert.Equal(t, 1, sess.Count("+5491122334455", "once"))
}

func TestBusyContextSerializesSends(t *testing.T) {
	h := newHarness(t, harnessOpt{queue: []wasendtest.QueueOption{wasendtest.WithWorkers(4)}})
	bc, sess := h.newContext()
	var ids []int64
	for i := range 8 {
		sess.Script(wasendtest.Action{Delay: 20 * time.Millisecond})
		job, err := h.client.Send(bg, bc.ID, "+5491122334455", fmt.Sprintf("msg %d", i))
		require.NoError(t, err)
		ids = append(ids, job.ID)
	}
	for _, id := range ids {
		j := h.waitJob(id, wasend.JobCompleted)
		assert.Equal(t, 1, j.Attempts, "waiting spends no attempt")
		assert.Equal(t, 1, j.Messages[0].Attempts)
	}
	assert.Equal(t, 1, sess.MaxConcurrent(), "one context never runs two sends at once")
	assert.Equal(t, 8, sess.Calls())
}

func TestConcurrencyLimitAcrossContexts(t *testing.T) {
	h := newHarness(t, harnessOpt{opts: []wasend.Option{wasend.WithSingleConcurrency(2)}})
	var sessions []*wasendtest.Session
	var jobs []int64
	for range 4 {
		bc, sess := h.newContext()
		sessions = append(sessions, sess)
		for range 3 {
			sess.Script(wasendtest.Action{Delay: 30 * time.Millisecond})
		}
		for i := range 3 {
			j, err := h.client.Send(bg, bc.ID, "+5491122334455", fmt.Sprint(i))
			require.NoError(t, err)
			jobs = append(jobs, j.ID)
		}
	}
	// Sample the number of sends in flight across sessions.
	peak := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, id := range jobs {
			h.waitJob(id, wasend.JobCompleted)
		}
	}()
	for {
		select {
		case <-done:
			assert.LessOrEqual(t, peak, 2, "at most 2 single jobs at once")
			assert.Positive(t, peak)
			return
		default:
		}
		st, err := h.client.Stats(bg)
		require.NoError(t, err)
		peak = max(peak, int(st.Jobs[wasend.KindSingle][wasend.JobRunning]))
		time.Sleep(2 * time.Millisecond)
	}
}

func TestBulkSendsInOrderWithDelay(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	bc, sess := h.newContext()
	var msgs []wasend.BulkMessage
	for i := range 5 {
		msgs = append(msgs, wasend.BulkMessage{To: fmt.Sprintf("+54911000000%02d", i), Text: fmt.Sprintf("bulk %d", i)})
	}
	job, err := h.client.SendBulk(bg, bc.ID, msgs, wasend.Delay(40*time.Millisecond))
	require.NoError(t, err)
	assert.Equal(t, 40*time.Millisecond, job.Delay)
	job = h.waitJob(job.ID, wasend.JobCompleted)
	sent := sess.Sent()
	require.Len(t, sent, 5)
	for i, s := range sent {
		assert.Equal(t, msgs[i].Text, s.Text, "in order")
		assert.Equal(t, wasend.MessageSent, job.Messages[i].Status)
		if i > 0 {
			assert.GreaterOrEqual(t, s.At.Sub(sent[i-1].At), 35*time.Millisecond, "delay between messages")
		}
	}
}

func TestBulkDefaultAndNoDelay(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	bc, _ := h.newContext()
	msgs := []wasend.BulkMessage{{To: "+5491122334455", Text: "a"}}
	job, err := h.client.SendBulk(bg, bc.ID, msgs)
	require.NoError(t, err)
	assert.Equal(t, 10*time.Millisecond, job.Delay, "zero means the default")
	job, err = h.client.SendBulk(bg, bc.ID, msgs, wasend.Delay(0))
	require.NoError(t, err)
	assert.Equal(t, time.Duration(0), job.Delay)
}

func bulkOf(n int) []wasend.BulkMessage {
	msgs := make([]wasend.BulkMessage, n)
	for i := range msgs {
		msgs[i] = wasend.BulkMessage{To: fmt.Sprintf("+549110000%04d", i), Text: fmt.Sprintf("message %d", i)}
	}
	return msgs
}

func assertSentOnce(t *testing.T, sess *wasendtest.Session) {
	t.Helper()
	seen := map[string]int{}
	for _, s := range sess.Sent() {
		seen[s.To+"|"+s.Text]++
	}
	for k, n := range seen {
		assert.Equal(t, 1, n, "%s sent %d times", k, n)
	}
}

func TestBulkPauseAndResume(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	bc, sess := h.newContext()
	msgs := bulkOf(6)
	for range 6 {
		sess.Script(wasendtest.Action{Delay: 30 * time.Millisecond})
	}
	job, err := h.client.SendBulk(bg, bc.ID, msgs, wasend.Delay(20*time.Millisecond))
	require.NoError(t, err)
	eventually(t, func() bool { return len(sess.Sent()) >= 2 }, "two messages sent")
	paused, err := h.client.Pause(bg, job.ID)
	require.NoError(t, err)
	assert.Equal(t, wasend.JobPaused, paused.Status)
	// It stops after the message in flight.
	time.Sleep(150 * time.Millisecond)
	n := len(sess.Sent())
	assert.Less(t, n, 6)
	time.Sleep(100 * time.Millisecond)
	assert.Equal(t, n, len(sess.Sent()), "nothing is sent while paused")
	j, err := h.client.Job(bg, job.ID)
	require.NoError(t, err)
	assert.Equal(t, wasend.JobPaused, j.Status)
	_, err = h.client.Pause(bg, job.ID)
	require.NoError(t, err, "pausing twice does nothing")

	_, err = h.client.Resume(bg, job.ID)
	require.NoError(t, err)
	j = h.waitJob(job.ID, wasend.JobCompleted)
	for _, m := range j.Messages {
		assert.Equal(t, wasend.MessageSent, m.Status)
	}
	require.Len(t, sess.Sent(), 6)
	assertSentOnce(t, sess)
	for i, s := range sess.Sent() {
		assert.Equal(t, msgs[i].Text, s.Text, "order kept across pause")
	}
}

func TestBulkCancelMarksUnsentCancelled(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	bc, sess := h.newContext()
	for range 6 {
		sess.Script(wasendtest.Action{Delay: 30 * time.Millisecond})
	}
	job, err := h.client.SendBulk(bg, bc.ID, bulkOf(6), wasend.Delay(20*time.Millisecond))
	require.NoError(t, err)
	eventually(t, func() bool { return len(sess.Sent()) >= 2 }, "two messages sent")
	j, err := h.client.Cancel(bg, job.ID)
	require.NoError(t, err)
	assert.Equal(t, wasend.JobCancelled, j.Status)
	time.Sleep(150 * time.Millisecond)
	j, err = h.client.Job(bg, job.ID)
	require.NoError(t, err)
	sent := 0
	for _, m := range j.Messages {
		switch m.Status {
		case wasend.MessageSent:
			sent++
		case wasend.MessageCancelled:
		default:
			t.Errorf("message %d is %s", m.Position, m.Status)
		}
	}
	assert.Equal(t, len(sess.Sent()), sent, "the store agrees with WhatsApp")
	assert.Less(t, sent, 6)
	_, err = h.client.Cancel(bg, job.ID)
	require.ErrorIs(t, err, wasend.ErrJobFinished)
	h.waitContext(bc.ID, wasend.ContextAvailable)
}

func TestBulkRetryNeverResendsSentMessages(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	bc, sess := h.newContext()
	sess.Script(wasendtest.Action{}, wasendtest.Action{}, wasendtest.Action{Err: wasend.ErrTimeout}, wasendtest.Action{Err: wasend.ErrTimeout})
	job, err := h.client.SendBulk(bg, bc.ID, bulkOf(4), wasend.Delay(0))
	require.NoError(t, err)
	j := h.waitJob(job.ID, wasend.JobCompleted)
	require.Len(t, sess.Sent(), 4)
	assertSentOnce(t, sess)
	assert.Equal(t, 3, j.Messages[2].Attempts)
	assert.Equal(t, 1, j.Messages[0].Attempts)
	assert.Equal(t, 6, j.Attempts, "the job counts every attempt of its messages")
}

func TestBulkFailedMessageDoesNotStopTheJob(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	bc, sess := h.newContext()
	msgs := bulkOf(3)
	sess.SetNotOnWhatsApp(msgs[1].To)
	job, err := h.client.SendBulk(bg, bc.ID, msgs, wasend.Delay(0))
	require.NoError(t, err)
	j := h.waitJob(job.ID, wasend.JobCompleted)
	assert.Equal(t, wasend.MessageSent, j.Messages[0].Status)
	assert.Equal(t, wasend.MessageFailed, j.Messages[1].Status)
	assert.Equal(t, wasend.ErrorKindNotOnWhatsApp, j.Messages[1].ErrorKind)
	assert.Equal(t, wasend.MessageSent, j.Messages[2].Status)
}

func TestBulkYieldsSoSinglesInterleave(t *testing.T) {
	h := newHarness(t, harnessOpt{opts: []wasend.Option{wasend.WithBulkSlice(60 * time.Millisecond)}})
	bc, sess := h.newContext()
	bulk, err := h.client.SendBulk(bg, bc.ID, bulkOf(10), wasend.Delay(25*time.Millisecond))
	require.NoError(t, err)
	eventually(t, func() bool { return len(sess.Sent()) >= 1 }, "bulk started")
	single, err := h.client.Send(bg, bc.ID, "+5491199999999", "urgent")
	require.NoError(t, err)
	h.waitJob(single.ID, wasend.JobCompleted)
	b, err := h.client.Job(bg, bulk.ID)
	require.NoError(t, err)
	assert.NotEqual(t, wasend.JobCompleted, b.Status, "the single job did not wait for the whole bulk")
	h.waitJob(bulk.ID, wasend.JobCompleted)
	assertSentOnce(t, sess)
	assert.Len(t, sess.Sent(), 11)
	assert.Equal(t, 1, sess.MaxConcurrent())
}

func TestLogoutMidBulkKeepsSentMessages(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	bc, sess := h.newContext()
	sess.Script(wasendtest.Action{}, wasendtest.Action{}, wasendtest.Action{Err: wasend.ErrLoggedOut})
	job, err := h.client.SendBulk(bg, bc.ID, bulkOf(5), wasend.Delay(0))
	require.NoError(t, err)
	h.waitContext(bc.ID, wasend.ContextDisconnected)
	j := h.waitJob(job.ID, wasend.JobPending)
	assert.Equal(t, wasend.MessageSent, j.Messages[0].Status)
	assert.Equal(t, wasend.MessageSent, j.Messages[1].Status)
	assert.Equal(t, wasend.MessagePending, j.Messages[2].Status)
	sess.Login()
	h.waitJob(job.ID, wasend.JobCompleted)
	assert.Len(t, sess.Sent(), 5)
	assertSentOnce(t, sess)
}

func TestDeadLetterMarksJobFailed(t *testing.T) {
	var fj *flakyJobs
	h := newHarness(t, harnessOpt{queue: []wasendtest.QueueOption{wasendtest.WithRetry(3, time.Millisecond)},
		wrap: func(s wasend.Store) wasend.Store { fj = &flakyJobs{Store: s, on: make(chan struct{})}; return fj }})
	bc, sess := h.newContext()
	job, err := h.client.Send(bg, bc.ID, "+5491122334455", "dead")
	require.NoError(t, err)
	eventually(t, func() bool {
		j, err := h.store.Job(bg, job.ID)
		require.NoError(t, err)
		return j.Status == wasend.JobFailed
	}, "the dead letter to fail the job")
	close(fj.on)
	j, err := h.client.Job(bg, job.ID)
	require.NoError(t, err)
	assert.Equal(t, wasend.ErrorKindQueue, j.ErrorKind)
	assert.Equal(t, wasend.MessageFailed, j.Messages[0].Status)
	assert.Equal(t, 0, sess.Calls())
}

func TestLogsNeverShowBodiesOrNumbers(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	bc, sess := h.newContext()
	sess.SetNotOnWhatsApp("+5491177776666")
	sess.Script(wasendtest.Action{Err: wasend.ErrTimeout}, wasendtest.Action{Panic: "secret-panic", Deliver: true})
	a, err := h.client.Send(bg, bc.ID, "+5491122334455", "TOP-SECRET-BODY-1")
	require.NoError(t, err)
	b, err := h.client.Send(bg, bc.ID, "+5491177776666", "TOP-SECRET-BODY-2")
	require.NoError(t, err)
	c, err := h.client.SendBulk(bg, bc.ID, []wasend.BulkMessage{{To: "+5491133332222", Text: "TOP-SECRET-BODY-3"}}, wasend.Delay(0))
	require.NoError(t, err)
	h.waitJob(a.ID, wasend.JobCompleted)
	h.waitJob(b.ID, wasend.JobFailed)
	h.waitJob(c.ID, wasend.JobCompleted)
	logs := h.logs.String()
	require.NotEmpty(t, logs)
	assert.NotContains(t, logs, "TOP-SECRET-BODY")
	for _, n := range []string{"5491122334455", "5491177776666", "5491133332222", "91122334455"} {
		assert.NotContains(t, logs, n)
	}
	assert.Contains(t, logs, "4455", "masked numbers keep their last 4 digits")
}
