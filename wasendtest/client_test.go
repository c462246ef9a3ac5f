package wasendtest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/wasendtest"
)

var (
	_ wasend.Sender      = (*wasendtest.FakeSender)(nil)
	_ wasend.Sender      = (*wasendtest.Client)(nil)
	_ wasend.Leaser      = (*wasendtest.Leaser)(nil)
	_ wasend.BrowserPool = (*wasendtest.Pool)(nil)
	_ wasendtest.TB      = (*testing.T)(nil)
)

func TestClientSendsAndWaits(t *testing.T) {
	kit := wasendtest.NewClient(t)
	ctx := context.Background()
	bc := kit.NewContext()
	assert.Equal(t, wasend.ContextAvailable, bc.Status)

	j, err := kit.SendBulk(ctx, bc.ID, []wasend.BulkMessage{
		{To: "+447700900001", Text: "one"}, {To: "+447700900002", Text: "two ✓\nline"},
	})
	require.NoError(t, err)
	done := kit.WaitJobStatus(j.ID, wasend.JobCompleted)
	require.Len(t, done.Messages, 2)
	sent := kit.Sent()
	require.Len(t, sent, 2)
	assert.Equal(t, "two ✓\nline", sent[1].Text)
	assert.Equal(t, bc.SystemID, sent[0].From)
	assert.Equal(t, 1, kit.Count("+447700900002", "two ✓\nline"))

	var statuses []wasend.ContextStatus
	for _, ev := range kit.Events() {
		if ev.Type == wasend.EventStatus {
			statuses = append(statuses, ev.Status)
		}
	}
	assert.Contains(t, statuses, wasend.ContextAvailable, "the host sees the session's events")
}

func TestClientScriptedFailure(t *testing.T) {
	kit := wasendtest.NewClient(t, wasendtest.WithClientOptions(wasend.WithMaxAttempts(2)))
	bc := kit.NewContext()
	kit.Session(bc.ID).Script(wasendtest.Action{Err: wasendtest.ErrScripted}, wasendtest.Action{Err: wasendtest.ErrScripted})
	j, err := kit.Send(context.Background(), bc.ID, "+447700900003", "never")
	require.NoError(t, err)
	got := kit.WaitJob(j.ID)
	assert.Equal(t, wasend.JobFailed, got.Status)
	assert.Equal(t, 2, kit.Session(bc.ID).Calls())
	assert.Empty(t, kit.Sent())
}

func TestClientWithoutRun(t *testing.T) {
	kit := wasendtest.NewClient(t, wasendtest.WithRun(false))
	bc := kit.NewContext()
	j, err := kit.Send(context.Background(), bc.ID, "+447700900004", "waits")
	require.NoError(t, err)
	got, err := kit.Job(context.Background(), j.ID)
	require.NoError(t, err)
	assert.Equal(t, wasend.JobPending, got.Status)
	assert.Zero(t, kit.Session(bc.ID).Calls(), "no worker runs")
}

func TestClientNotLoggedIn(t *testing.T) {
	kit := wasendtest.NewClient(t, wasendtest.WithPoolOptions(wasendtest.WithAutoLogin(false)))
	bc := kit.NewContext() // logs the session in itself
	assert.Equal(t, wasend.ContextAvailable, bc.Status)
}

func TestPoolPairing(t *testing.T) {
	ctx := context.Background()
	t.Run("off by default", func(t *testing.T) {
		s, err := wasendtest.NewPool().Launch(ctx, wasend.LaunchRequest{})
		require.NoError(t, err)
		_, ok := s.(wasend.PhonePairer)
		assert.False(t, ok)
	})
	for _, finder := range []bool{true, false} {
		opts := []wasendtest.Option{wasendtest.WithPairing(true), wasendtest.WithAutoLogin(false)}
		if !finder {
			opts = append(opts, wasendtest.WithoutFinder())
		}
		p := wasendtest.NewPool(opts...)
		var codes []string
		s, err := p.Launch(ctx, wasend.LaunchRequest{OnEvent: func(ev wasend.SessionEvent) {
			if ev.Type == wasend.EventPairingCode {
				codes = append(codes, ev.Code)
			}
		}})
		require.NoError(t, err)
		_, isFinder := s.(wasend.SentFinder)
		assert.Equal(t, finder, isFinder)
		pp, ok := s.(wasend.PhonePairer)
		require.True(t, ok)
		code, err := pp.RequestPairingCode(ctx, "+447700900123")
		require.NoError(t, err)
		assert.Equal(t, []string{code}, codes)
		sess := p.Session(s.SystemID())
		assert.Error(t, sess.ConfirmPairingCode("WRONG"))
		require.NoError(t, sess.ConfirmPairingCode(code))
		_, err = pp.RequestPairingCode(ctx, "+447700900123")
		assert.ErrorIs(t, err, wasendtest.ErrLoggedIn)
		assert.ErrorIs(t, err, wasend.ErrLoggedIn)
		assert.False(t, wasend.Retryable(err), "pairing a logged-in session again cannot help")
	}
}

func TestFakeSender(t *testing.T) {
	ctx := context.Background()
	f := wasendtest.NewFakeSender()

	bc, err := f.CreateContext(ctx)
	require.NoError(t, err)
	assert.Equal(t, wasend.ContextAvailable, bc.Status)

	j, err := f.Send(ctx, bc.ID, "0044 7700 900123", "hi", wasend.Metadata(map[string]any{"a": 1}))
	require.NoError(t, err)
	assert.Equal(t, wasend.JobPending, j.Status)
	assert.Equal(t, "+447700900123", j.Messages[0].To, "normalized as the Client does")

	_, err = f.Send(ctx, bc.ID, "12", "hi")
	var ve *wasend.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "to", ve.Field)
	assert.ErrorIs(t, err, wasend.ErrInvalidPhone)
	_, err = f.SendBulk(ctx, bc.ID, []wasend.BulkMessage{{To: "+447700900123", Text: "a"}, {To: "+447700900124", Text: " "}})
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, 1, ve.Index)
	assert.ErrorIs(t, err, wasend.ErrEmptyText)

	paused, err := f.Pause(ctx, j.ID)
	require.NoError(t, err)
	assert.Equal(t, wasend.JobPaused, paused.Status)
	_, err = f.Pause(ctx, j.ID)
	assert.ErrorIs(t, err, wasend.ErrJobState)
	resumed, err := f.Resume(ctx, j.ID)
	require.NoError(t, err)
	assert.Equal(t, wasend.JobPending, resumed.Status)
	cancelled, err := f.Cancel(ctx, j.ID)
	require.NoError(t, err)
	assert.Equal(t, wasend.JobCancelled, cancelled.Status)
	assert.Equal(t, wasend.MessageCancelled, cancelled.Messages[0].Status)
	_, err = f.Cancel(ctx, j.ID)
	assert.ErrorIs(t, err, wasend.ErrJobFinished)
	_, err = f.Job(ctx, 99)
	assert.ErrorIs(t, err, wasend.ErrJobNotFound)

	st, err := f.Stats(ctx)
	require.NoError(t, err)
	assert.EqualValues(t, 1, st.Jobs[wasend.KindSingle][wasend.JobCancelled])
	assert.EqualValues(t, 1, st.Messages[wasend.MessageCancelled])
	require.Len(t, st.Contexts, 1)
	assert.EqualValues(t, 1, st.Contexts[0].Jobs[wasend.JobCancelled])

	boom := errors.New("boom")
	f.Fail("Job", boom)
	_, err = f.Job(ctx, j.ID)
	assert.ErrorIs(t, err, boom)
	f.Fail("Job", nil)
	_, err = f.Job(ctx, j.ID)
	assert.NoError(t, err)
	assert.Panics(t, func() { f.Fail("Sned", boom) }, "a typo is caught")

	code, err := f.RequestPairingCode(ctx, bc.ID, "+447700900123")
	require.NoError(t, err)
	assert.Equal(t, "FAKE0001", code)
	require.NoError(t, f.CloseContext(ctx, bc.ID))
	_, err = f.OpenContext(ctx, bc.ID)
	assert.ErrorIs(t, err, wasend.ErrContextClosed)
	_, err = f.Context(ctx, 42)
	assert.ErrorIs(t, err, wasend.ErrContextNotFound)

	runDone := make(chan error, 1)
	go func() { runDone <- f.Run(ctx) }()
	require.Eventually(t, func() bool { return len(f.CallsOf("Run")) == 1 }, time.Minute, time.Millisecond)
	require.NoError(t, f.Close())
	require.NoError(t, <-runDone, "Close ends Run")
	require.NoError(t, f.Close(), "Close is idempotent")
	_, err = f.Send(ctx, bc.ID, "+447700900123", "late")
	assert.ErrorIs(t, err, wasend.ErrClosed)

	calls := f.CallsOf("Send")
	require.Len(t, calls, 3)
	assert.Equal(t, wasendtest.Call{Method: "Send", ContextID: bc.ID, To: "0044 7700 900123", Text: "hi", Options: 1}, calls[0])
	assert.Len(t, f.Calls(), 21)
}
