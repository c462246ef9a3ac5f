package wasend_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/wasendtest"
)

var bg = context.Background()

func TestSendValidation(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	bc, _ := h.newContext()
	tests := []struct {
		name     string
		to, text string
		md       map[string]any
		want     error
		field    string
	}{
		{"letters in phone", "+54abc", "hi", nil, wasend.ErrInvalidPhone, "to"},
		{"short phone", "+1234", "hi", nil, wasend.ErrInvalidPhone, "to"},
		{"long phone", "+1234567890123456", "hi", nil, wasend.ErrInvalidPhone, "to"},
		{"leading zero", "+0123456789", "hi", nil, wasend.ErrInvalidPhone, "to"},
		{"empty phone", "", "hi", nil, wasend.ErrInvalidPhone, "to"},
		{"empty text", "+5491122334455", "", nil, wasend.ErrEmptyText, "text"},
		{"blank text", "+5491122334455", " \n\t ", nil, wasend.ErrEmptyText, "text"},
		{"too long", "+5491122334455", strings.Repeat("é", wasend.MaxTextLength+1), nil, wasend.ErrTextTooLong, "text"},
		{"invalid utf8", "+5491122334455", "a\xffb", nil, wasend.ErrInvalidText, "text"},
		{"nul", "+5491122334455", "a\x00b", nil, wasend.ErrInvalidText, "text"},
		{"metadata", "+5491122334455", "hi", map[string]any{"f": func() {}}, wasend.ErrInvalidMetadata, "metadata"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := h.client.Send(bg, bc.ID, tt.to, tt.text, wasend.Metadata(tt.md))
			require.ErrorIs(t, err, tt.want)
			var ve *wasend.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tt.field, ve.Field)
			assert.Equal(t, -1, ve.Index)
		})
	}
	// The longest text is accepted.
	_, err := h.client.Send(bg, bc.ID, "+5491122334455", strings.Repeat("😀", wasend.MaxTextLength))
	require.NoError(t, err)
	counts, err := h.store.Counts(bg)
	require.NoError(t, err)
	require.Len(t, counts.Jobs, 1, "only the valid send is recorded")
}

func TestSendRejectsUnusableContexts(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	_, err := h.client.Send(bg, 999, "+5491122334455", "hi")
	require.ErrorIs(t, err, wasend.ErrContextNotFound)

	bc, _ := h.newContext()
	_, err = h.store.Apply(bg, wasend.Step{Context: &wasend.ContextTransition{ID: bc.ID,
		From: []wasend.ContextStatus{wasend.ContextAvailable}, To: wasend.ContextError}})
	require.NoError(t, err)
	_, err = h.client.Send(bg, bc.ID, "+5491122334455", "hi")
	require.ErrorIs(t, err, wasend.ErrContextNotAvailable)

	require.NoError(t, h.client.CloseContext(bg, bc.ID))
	_, err = h.client.SendBulk(bg, bc.ID, []wasend.BulkMessage{{To: "+5491122334455", Text: "x"}})
	require.ErrorIs(t, err, wasend.ErrContextNotAvailable)
	require.ErrorIs(t, err, wasend.ErrContextClosed)

	counts, err := h.store.Counts(bg)
	require.NoError(t, err)
	require.Empty(t, counts.Jobs)
}

func TestSendBulkValidation(t *testing.T) {
	h := newHarness(t, harnessOpt{opts: []wasend.Option{wasend.WithMaxBulkMessages(3)}})
	bc, _ := h.newContext()
	ok := wasend.BulkMessage{To: "+5491122334455", Text: "hi"}
	tests := []struct {
		name  string
		msgs  []wasend.BulkMessage
		delay time.Duration
		want  error
		index int
	}{
		{"none", nil, 0, wasend.ErrNoMessages, -1},
		{"too many", []wasend.BulkMessage{ok, ok, ok, ok}, 0, wasend.ErrTooManyMessages, -1},
		{"negative delay", []wasend.BulkMessage{ok}, -5 * time.Second, wasend.ErrInvalidDelay, -1},
		{"bad phone at 1", []wasend.BulkMessage{ok, {To: "12", Text: "x"}}, 0, wasend.ErrInvalidPhone, 1},
		{"empty text at 2", []wasend.BulkMessage{ok, ok, {To: "+5491122334455"}}, 0, wasend.ErrEmptyText, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := h.client.SendBulk(bg, bc.ID, tt.msgs, wasend.Delay(tt.delay))
			require.ErrorIs(t, err, tt.want)
			var ve *wasend.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tt.index, ve.Index)
		})
	}
	counts, err := h.store.Counts(bg)
	require.NoError(t, err)
	require.Empty(t, counts.Jobs, "nothing is recorded for bad input")
}

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

func TestShutdownCancelsBlockedSendAndReturnsJobToPending(t *testing.T) {
	h := newHarness(t, harnessOpt{opts: []wasend.Option{wasend.WithShutdownTimeout(100 * time.Millisecond),
		wasend.WithSendTimeout(time.Minute)}})
	bc, sess := h.newContext()
	sess.Script(wasendtest.Action{Block: true})
	job, err := h.client.Send(bg, bc.ID, "+5491122334455", "blocked")
	require.NoError(t, err)
	h.waitJob(job.ID, wasend.JobRunning)
	h.waitContext(bc.ID, wasend.ContextBusy)
	h.stop()
	j, err := h.client.Job(bg, job.ID)
	require.NoError(t, err)
	assert.Equal(t, wasend.JobPending, j.Status, "canceled work goes back to pending")
	assert.Equal(t, wasend.MessagePending, j.Messages[0].Status)
	h.waitContext(bc.ID, wasend.ContextAvailable)
	// A new Run sends it.
	h.run()
	h.waitJob(job.ID, wasend.JobCompleted)
	assert.Equal(t, 1, sess.Count("+5491122334455", "blocked"))
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

func TestEnqueueFailureKeepsJobAndSweepRecovers(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	bc, sess := h.newContext()
	h.queue.SetFailure(errors.New("redis down"))
	job, err := h.client.Send(bg, bc.ID, "+5491122334455", "survives")
	require.NoError(t, err, "the job is recorded; the sweep enqueues it")
	assert.Equal(t, wasend.JobPending, job.Status)
	assert.Contains(t, h.logs.String(), "not enqueued")
	h.queue.SetFailure(nil)
	h.waitJob(job.ID, wasend.JobCompleted)
	assert.Equal(t, 1, sess.Count("+5491122334455", "survives"))
}

func TestQueueLosingEverythingIsRecovered(t *testing.T) {
	h := newHarness(t, harnessOpt{noRun: true})
	bc, sess := h.newContext()
	var ids []int64
	for i := range 5 {
		j, err := h.client.Send(bg, bc.ID, "+5491122334455", fmt.Sprint("lost ", i))
		require.NoError(t, err)
		ids = append(ids, j.ID)
	}
	b, err := h.client.SendBulk(bg, bc.ID, bulkOf(3), wasend.Delay(0))
	require.NoError(t, err)
	ids = append(ids, b.ID)
	require.Equal(t, 6, h.queue.Lose(), "a Redis restart without persistence")
	h.run()
	for _, id := range ids {
		h.waitJob(id, wasend.JobCompleted)
	}
	assertSentOnce(t, sess)
	assert.Len(t, sess.Sent(), 8)
}

func TestStoreFailureOnSendRecordsNothing(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	bc, _ := h.newContext()
	h.store.SetFailure(errors.New("db down"))
	_, err := h.client.Send(bg, bc.ID, "+5491122334455", "x")
	require.ErrorIs(t, err, wasend.ErrStore)
	h.store.SetFailure(nil)
	counts, err := h.store.Counts(bg)
	require.NoError(t, err)
	require.Empty(t, counts.Jobs)
}

// flakyJobs fails Job reads while on.
type flakyJobs struct {
	wasend.Store
	on chan struct{}
}

func (f *flakyJobs) Job(ctx context.Context, id int64) (wasend.Job, error) {
	select {
	case <-f.on:
		return f.Store.Job(ctx, id)
	default:
		return wasend.Job{}, fmt.Errorf("%w: connection refused", wasend.ErrStore)
	}
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

func TestJobControlErrors(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	bc, _ := h.newContext()
	for _, f := range []func(context.Context, int64) (wasend.Job, error){h.client.Cancel, h.client.Pause, h.client.Resume, h.client.Job} {
		_, err := f(bg, 12345)
		require.ErrorIs(t, err, wasend.ErrJobNotFound)
	}
	job, err := h.client.Send(bg, bc.ID, "+5491122334455", "done")
	require.NoError(t, err)
	h.waitJob(job.ID, wasend.JobCompleted)
	for _, f := range []func(context.Context, int64) (wasend.Job, error){h.client.Cancel, h.client.Pause, h.client.Resume} {
		_, err := f(bg, job.ID)
		require.ErrorIs(t, err, wasend.ErrJobFinished)
	}
}

func TestCancelPendingJobSendsNothing(t *testing.T) {
	h := newHarness(t, harnessOpt{noRun: true})
	bc, sess := h.newContext()
	job, err := h.client.Send(bg, bc.ID, "+5491122334455", "never")
	require.NoError(t, err)
	j, err := h.client.Cancel(bg, job.ID)
	require.NoError(t, err)
	assert.Equal(t, wasend.MessageCancelled, j.Messages[0].Status)
	h.run()
	time.Sleep(100 * time.Millisecond)
	assert.Equal(t, 0, sess.Calls())
}

func TestStatsAndClean(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	bc, sess := h.newContext()
	sess.SetNotOnWhatsApp("+5491166666666")
	ok, err := h.client.Send(bg, bc.ID, "+5491122334455", "a")
	require.NoError(t, err)
	bad, err := h.client.Send(bg, bc.ID, "+5491166666666", "b")
	require.NoError(t, err)
	bulk, err := h.client.SendBulk(bg, bc.ID, bulkOf(2), wasend.Delay(0))
	require.NoError(t, err)
	h.waitJob(ok.ID, wasend.JobCompleted)
	h.waitJob(bad.ID, wasend.JobFailed)
	h.waitJob(bulk.ID, wasend.JobCompleted)

	st, err := h.client.Stats(bg)
	require.NoError(t, err)
	assert.Equal(t, int64(1), st.Jobs[wasend.KindSingle][wasend.JobCompleted])
	assert.Equal(t, int64(1), st.Jobs[wasend.KindSingle][wasend.JobFailed])
	assert.Equal(t, int64(1), st.Jobs[wasend.KindBulk][wasend.JobCompleted])
	assert.Equal(t, int64(0), st.Jobs[wasend.KindBulk][wasend.JobPaused], "every status is present")
	assert.Equal(t, int64(3), st.Messages[wasend.MessageSent])
	assert.Equal(t, int64(1), st.Messages[wasend.MessageFailed])
	require.Len(t, st.Contexts, 1)
	assert.True(t, st.Contexts[0].Live)
	assert.Equal(t, int64(wasendtest.FakePSS), st.Contexts[0].MemoryPSS)
	assert.Equal(t, int64(2), st.Contexts[0].Jobs[wasend.JobCompleted])
	assert.Positive(t, st.Queue.Processed)
	assert.Equal(t, 1, st.Queue.Consumers)

	_, err = h.client.Clean(bg, -time.Second)
	require.ErrorIs(t, err, wasend.ErrInvalidOption)
	n, err := h.client.Clean(bg, time.Hour)
	require.NoError(t, err)
	assert.Equal(t, int64(0), n, "nothing is that old")
	n, err = h.client.Clean(bg, 0)
	require.NoError(t, err)
	assert.Equal(t, int64(3), n)
	_, err = h.client.Job(bg, ok.ID)
	require.ErrorIs(t, err, wasend.ErrJobNotFound)
}

func TestCloseContextFailsItsJobs(t *testing.T) {
	h := newHarness(t, harnessOpt{noRun: true})
	bc, sess := h.newContext()
	job, err := h.client.Send(bg, bc.ID, "+5491122334455", "x")
	require.NoError(t, err)
	require.NoError(t, h.client.CloseContext(bg, bc.ID))
	assert.True(t, sess.Closed())
	j, err := h.client.Job(bg, job.ID)
	require.NoError(t, err)
	assert.Equal(t, wasend.JobFailed, j.Status)
	assert.Equal(t, wasend.ErrorKindContextClosed, j.ErrorKind)
	assert.Equal(t, wasend.MessageCancelled, j.Messages[0].Status)
	_, err = h.client.OpenContext(bg, bc.ID)
	require.ErrorIs(t, err, wasend.ErrContextClosed)
	require.ErrorIs(t, h.client.CloseContext(bg, 777), wasend.ErrContextNotFound)
}

func TestOpenContextResumesSession(t *testing.T) {
	store := wasendtest.NewStore()
	h1 := newHarness(t, harnessOpt{store: store})
	bc, _ := h1.newContext()
	job, err := h1.client.Send(bg, bc.ID, "+5491122334455", "first")
	require.NoError(t, err)
	h1.waitJob(job.ID, wasend.JobCompleted)
	h1.stop()
	require.NoError(t, h1.client.Close())
	h1.waitContext(bc.ID, wasend.ContextDisconnected)

	h2 := newHarness(t, harnessOpt{store: store})
	got, err := h2.client.OpenContext(bg, bc.ID)
	require.NoError(t, err)
	assert.Equal(t, bc.SystemID, got.SystemID)
	require.NotNil(t, got.Session)
	h2.waitContext(bc.ID, wasend.ContextAvailable)
	job, err = h2.client.Send(bg, bc.ID, "+5491122334455", "second")
	require.NoError(t, err)
	h2.waitJob(job.ID, wasend.JobCompleted)
	assert.Equal(t, 1, h2.pool.Session(bc.SystemID).Count("+5491122334455", "second"))
	again, err := h2.client.OpenContext(bg, bc.ID)
	require.NoError(t, err)
	assert.Equal(t, got.Session, again.Session, "opening a held context returns it")
	assert.Equal(t, 1, h2.pool.Launches())
}

func TestEventsReachTheHostWithContextID(t *testing.T) {
	h := newHarness(t, harnessOpt{pool: []wasendtest.Option{wasendtest.WithAutoLogin(false)}})
	bc, err := h.client.CreateContext(bg)
	require.NoError(t, err)
	assert.Equal(t, wasend.ContextDisconnected, bc.Status)
	eventually(t, func() bool { return len(h.events.all()) >= 1 }, "the QR event")
	ev := h.events.all()[0]
	assert.Equal(t, wasend.EventQR, ev.Type)
	assert.Equal(t, bc.ID, ev.ContextID, "events sent before the context had an id are replayed with it")
	assert.NotEmpty(t, ev.QR)
	h.pool.Session(bc.SystemID).Login()
	h.waitContext(bc.ID, wasend.ContextAvailable)
	eventually(t, func() bool { return len(h.events.all()) >= 2 }, "the status event")
	assert.Equal(t, wasend.ContextAvailable, h.events.all()[1].Status)
}

func TestLifecycle(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	bc, sess := h.newContext()
	eventually(t, func() bool {
		st, err := h.queue.Stats(bg)
		return err == nil && st.Consumers == 1
	}, "Run to consume the context")
	require.ErrorIs(t, h.client.Run(bg), wasend.ErrRunning)
	h.stop()
	require.NoError(t, h.client.Close())
	require.NoError(t, h.client.Close(), "Close is idempotent")
	assert.True(t, sess.Closed())
	_, err := h.client.Send(bg, bc.ID, "+5491122334455", "x")
	require.ErrorIs(t, err, wasend.ErrClosed)
	require.ErrorIs(t, h.client.Run(bg), wasend.ErrClosed)
	_, err = h.client.CreateContext(bg)
	require.ErrorIs(t, err, wasend.ErrClosed)
}

func TestNewValidatesOptions(t *testing.T) {
	pool, queue, store := wasendtest.NewPool(), wasendtest.NewQueue(), wasendtest.NewStore()
	_, err := wasend.New(nil, queue, store)
	require.ErrorIs(t, err, wasend.ErrInvalidOption)
	bad := []wasend.Option{
		wasend.WithSingleConcurrency(0),
		wasend.WithBulkConcurrency(-1),
		wasend.WithMaxAttempts(0),
		wasend.WithBackoff(0, time.Second, 0),
		wasend.WithBackoff(time.Second, time.Millisecond, 0),
		wasend.WithBackoff(time.Second, time.Minute, 2),
		wasend.WithBulkDelay(-time.Second),
		wasend.WithSendTimeout(0),
		wasend.WithBulkSlice(0),
		wasend.WithContextWait(0),
		wasend.WithSweep(0, time.Second),
		wasend.WithShutdownTimeout(0),
		wasend.WithMaxBulkMessages(0),
		wasend.WithUnknownOutcome(7),
		wasend.WithLogger(nil),
		wasend.WithClock(nil),
	}
	for i, o := range bad {
		_, err := wasend.New(pool, queue, store, o)
		require.ErrorIs(t, err, wasend.ErrInvalidOption, "option %d", i)
	}
	c, err := wasend.New(pool, queue, store, nil, wasend.WithMaxAttempts(1), wasend.WithMaxAttempts(5))
	require.NoError(t, err, "nil options are ignored; the last one wins")
	require.NoError(t, c.Close())
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

func TestRequestPairingCode(t *testing.T) {
	h := newHarness(t, harnessOpt{pool: []wasendtest.Option{wasendtest.WithAutoLogin(false)}})
	bc, err := h.client.CreateContext(bg)
	require.NoError(t, err)

	_, err = h.client.RequestPairingCode(bg, bc.ID, "12")
	require.ErrorIs(t, err, wasend.ErrInvalidPhone)
	var ve *wasend.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "phone", ve.Field)

	_, err = h.client.RequestPairingCode(bg, bc.ID+100, "+447700900123")
	require.ErrorIs(t, err, wasend.ErrContextNotFound)

	_, err = h.client.RequestPairingCode(bg, bc.ID, "+447700900123")
	require.ErrorIs(t, err, wasend.ErrNotSupported, "the scripted session cannot pair")
	assert.False(t, wasend.Retryable(err))

	other := newHarness(t, harnessOpt{store: h.store})
	_, err = other.client.RequestPairingCode(bg, bc.ID, "+447700900123")
	require.ErrorIs(t, err, wasend.ErrContextNotAvailable, "another process does not hold the context")

	h.stop()
	require.NoError(t, h.client.Close())
	_, err = h.client.RequestPairingCode(bg, bc.ID, "+447700900123")
	require.ErrorIs(t, err, wasend.ErrClosed)
}
