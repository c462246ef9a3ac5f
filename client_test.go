package wasend_test

import (
	"context"
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

// *Client is the Sender that hosts call.
var _ wasend.Sender = (*wasend.Client)(nil)

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

// Apply fails the claims too until on is closed: the first delivery of a
// job Send just recorded does not read it (it claims it).
func (f *flakyJobs) Apply(ctx context.Context, s wasend.Step) (bool, error) {
	select {
	case <-f.on:
	default:
		if s.Job != nil && s.Job.To == wasend.JobRunning {
			return false, fmt.Errorf("%w: connection refused", wasend.ErrStore)
		}
	}
	return f.Store.Apply(ctx, s)
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

// racingPool holds every Launch until two have begun, so that two
// OpenContext calls of one id both launch a session, and it keeps every
// session it launched.
type racingPool struct {
	*wasendtest.Pool
	mu       sync.Mutex
	sessions []wasend.Session
	begun    chan struct{}
}

func (p *racingPool) Launch(ctx context.Context, req wasend.LaunchRequest) (wasend.Session, error) {
	p.begun <- struct{}{}
	for len(p.begun) < cap(p.begun) {
		time.Sleep(time.Millisecond) // the other Launch has not begun yet
	}
	s, err := p.Pool.Launch(ctx, req)
	if err == nil {
		p.mu.Lock()
		p.sessions = append(p.sessions, s)
		p.mu.Unlock()
	}
	return s, err
}

// Two OpenContext calls of one id that race both launch a session: the
// first to go live stays, both calls return it, and the other session is
// closed rather than left open.
func TestConcurrentOpenContextKeepsOneSession(t *testing.T) {
	store := wasendtest.NewStore()
	h1 := newHarness(t, harnessOpt{store: store})
	bc, _ := h1.newContext()
	h1.stop()
	require.NoError(t, h1.client.Close())

	pool := &racingPool{Pool: wasendtest.NewPool(), begun: make(chan struct{}, 2)}
	c, err := wasend.New(pool, wasendtest.NewQueue(), store, fastOptions()...)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, c.Close()) })
	got := make([]wasend.BrowserContext, 2)
	var wg sync.WaitGroup
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			got[i], err = c.OpenContext(bg, bc.ID)
			assert.NoError(t, err)
		}()
	}
	wg.Wait()
	require.Len(t, pool.sessions, 2, "both calls launched")
	require.NotNil(t, got[0].Session)
	assert.Same(t, got[0].Session, got[1].Session, "both calls return the session that went live")
	open := 0
	for _, s := range pool.sessions {
		if !s.(*wasendtest.Session).Closed() {
			open++
			assert.Same(t, got[0].Session, s)
		}
	}
	assert.Equal(t, 1, open, "the session that lost the race is closed")
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

	h.stop() // Run may not have begun yet: stop it before Close, so that it does not begin after
	require.NoError(t, h.client.Close())
	_, err = h.client.RequestPairingCode(bg, bc.ID, "+447700900123")
	require.ErrorIs(t, err, wasend.ErrClosed)
}
