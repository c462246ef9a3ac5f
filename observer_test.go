package wasend_test

import (
	"context"
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

// recordingObserver keeps what an Observer is told.
type recordingObserver struct {
	mu       sync.Mutex
	attempts []wasend.Attempt
	ends     []wasend.AttemptEnd
	turns    []wasend.Turn
	waits    []wasend.Wait
}

type spanKey struct{}

func (o *recordingObserver) StartAttempt(ctx context.Context, a wasend.Attempt) (context.Context, func(wasend.AttemptEnd)) {
	o.mu.Lock()
	o.attempts = append(o.attempts, a)
	o.mu.Unlock()
	once := sync.Once{}
	return context.WithValue(ctx, spanKey{}, a.MessageID), func(e wasend.AttemptEnd) {
		once.Do(func() {
			o.mu.Lock()
			o.ends = append(o.ends, e)
			o.mu.Unlock()
		})
	}
}

func (o *recordingObserver) Turn(t wasend.Turn) {
	o.mu.Lock()
	o.turns = append(o.turns, t)
	o.mu.Unlock()
}

func (o *recordingObserver) Waited(w wasend.Wait) {
	o.mu.Lock()
	o.waits = append(o.waits, w)
	o.mu.Unlock()
}

func (o *recordingObserver) snapshot() ([]wasend.Attempt, []wasend.AttemptEnd, []wasend.Turn, []wasend.Wait) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]wasend.Attempt(nil), o.attempts...), append([]wasend.AttemptEnd(nil), o.ends...),
		append([]wasend.Turn(nil), o.turns...), append([]wasend.Wait(nil), o.waits...)
}

func TestObserverSeesAttemptsTurnsAndWaits(t *testing.T) {
	obs := &recordingObserver{}
	gap := 200 * time.Millisecond
	h := newHarness(t, harnessOpt{opts: []wasend.Option{wasend.WithObserver(obs),
		wasend.WithPacing(wasend.Pacing{MinGap: gap, MaxGap: gap})}})
	bc, sess := h.newContext()
	// The first attempt fails before the click and is retried; the
	// second job's message is not on WhatsApp.
	sess.Script(wasendtest.Action{Err: wasendtest.ErrScripted})
	first, err := h.client.Send(bg, bc.ID, "+5491122334455", "observed")
	require.NoError(t, err)
	h.waitJob(first.ID, wasend.JobCompleted)
	sess.SetNotOnWhatsApp("+5491122334466")
	second, err := h.client.Send(bg, bc.ID, "+5491122334466", "nobody")
	require.NoError(t, err)
	h.waitJob(second.ID, wasend.JobFailed)

	attempts, ends, turns, waits := obs.snapshot()
	require.Len(t, attempts, 3)
	require.Len(t, ends, 3, "every attempt that starts ends once")
	assert.Equal(t, 1, attempts[0].Number)
	assert.Equal(t, 2, attempts[1].Number, "the retry is the message's second attempt")
	assert.Equal(t, first.Messages[0].ID, attempts[1].MessageID)
	assert.Equal(t, bc.ID, attempts[0].ContextID)
	assert.Error(t, ends[0].Err)
	assert.NoError(t, ends[1].Err)
	assert.Equal(t, wasend.ErrorKindNotOnWhatsApp, ends[2].ErrorKind)
	for _, e := range ends {
		assert.Positive(t, e.Duration)
	}
	var finals []wasend.MessageStatus
	for _, tr := range turns {
		if tr.Final {
			finals = append(finals, tr.Status)
		}
	}
	assert.Equal(t, []wasend.MessageStatus{wasend.MessageSent, wasend.MessageFailed}, finals)
	require.NotEmpty(t, waits, "the second job waited for the gap")
	assert.Equal(t, wasend.WaitGap, waits[len(waits)-1].Reason)
	// Nothing it is told holds a number or a text.
	for _, v := range []any{attempts, turns, waits} {
		s := strings.ToLower(fmtAll(v))
		assert.NotContains(t, s, "334455")
		assert.NotContains(t, s, "observed")
	}
}

func fmtAll(v any) string { return strings.TrimSpace(fmt.Sprintf("%+v", v)) }

func TestObserverSeesOutcomesOutsideTurns(t *testing.T) {
	obs := &recordingObserver{}
	h := newHarness(t, harnessOpt{noRun: true, opts: []wasend.Option{wasend.WithObserver(obs)}})
	bc, _ := h.newContext()
	job, err := h.client.SendBulk(bg, bc.ID, recipients(3, "never sent"))
	require.NoError(t, err)
	_, err = h.client.Cancel(bg, job.ID)
	require.NoError(t, err)
	_, _, turns, _ := obs.snapshot()
	require.Len(t, turns, 3)
	for i, tr := range turns {
		assert.Equal(t, job.Messages[i].ID, tr.MessageID)
		assert.Equal(t, wasend.MessageCancelled, tr.Status)
		assert.True(t, tr.Final)
		assert.False(t, tr.Attempted)
	}
	// Cancelling again tells nothing new.
	_, err = h.client.Cancel(bg, job.ID)
	assert.ErrorIs(t, err, wasend.ErrJobFinished)
	_, _, turns, _ = obs.snapshot()
	assert.Len(t, turns, 3)
}
