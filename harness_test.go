package wasend_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/wasendtest"
)

// harness runs a Client on the in-memory store and queue and the scripted
// pool.
// TestMain fails the package's tests if a goroutine outlives them: every
// goroutine of the Client has an owner that waits for it.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type harness struct {
	t      *testing.T
	store  *wasendtest.Store
	queue  *wasendtest.Queue
	pool   *wasendtest.Pool
	client *wasend.Client
	logs   *wasendtest.LogBuffer
	events *eventLog

	runCancel context.CancelFunc
	runDone   chan error
}

type eventLog struct {
	mu  sync.Mutex
	evs []wasend.SessionEvent
}

func (e *eventLog) add(ev wasend.SessionEvent) {
	e.mu.Lock()
	e.evs = append(e.evs, ev)
	e.mu.Unlock()
}

func (e *eventLog) all() []wasend.SessionEvent {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]wasend.SessionEvent(nil), e.evs...)
}

// fastOptions keeps every wait of the workflow short.
func fastOptions() []wasend.Option {
	return []wasend.Option{
		wasend.WithBackoff(10*time.Millisecond, 50*time.Millisecond, 0.1),
		wasend.WithContextWait(5 * time.Second),
		wasend.WithSweep(50*time.Millisecond, 200*time.Millisecond),
		wasend.WithShutdownTimeout(2 * time.Second),
		wasend.WithSendTimeout(2 * time.Second),
		wasend.WithBulkDelay(10 * time.Millisecond),
		// Pacing and the breaker are tested on their own (pacing_test.go).
		wasend.WithPacing(wasend.NoPacing()),
		wasend.WithBreaker(wasend.Breaker{}),
	}
}

type harnessOpt struct {
	pool  []wasendtest.Option
	queue []wasendtest.QueueOption
	// sharedQueue and sharedPool, when set, are used instead of new ones:
	// two harnesses on them act as two processes on one Redis and one
	// WhatsApp account per profile.
	sharedQueue *wasendtest.Queue
	sharedPool  *wasendtest.Pool
	opts        []wasend.Option
	store       *wasendtest.Store
	wrap        func(wasend.Store) wasend.Store
	noRun       bool
}

func newHarness(t *testing.T, ho harnessOpt) *harness {
	t.Helper()
	h := &harness{t: t, store: ho.store, queue: ho.sharedQueue, pool: ho.sharedPool,
		logs: &wasendtest.LogBuffer{}, events: &eventLog{}}
	if h.queue == nil {
		h.queue = wasendtest.NewQueue(ho.queue...)
	}
	if h.pool == nil {
		h.pool = wasendtest.NewPool(ho.pool...)
	}
	if h.store == nil {
		h.store = wasendtest.NewStore()
	}
	var store wasend.Store = h.store
	if ho.wrap != nil {
		store = ho.wrap(store)
	}
	logger := slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts := append(fastOptions(), wasend.WithLogger(logger), wasend.WithEventHandler(h.events.add))
	opts = append(opts, ho.opts...)
	c, err := wasend.New(h.pool, h.queue, store, opts...)
	require.NoError(t, err)
	h.client = c
	t.Cleanup(func() {
		require.NoError(t, c.Close())
		if ho.sharedQueue == nil {
			require.NoError(t, h.queue.Close())
		}
	})
	if !ho.noRun {
		h.run()
	}
	return h
}

func (h *harness) run() {
	ctx, cancel := context.WithCancel(context.Background())
	h.runCancel = cancel
	h.runDone = make(chan error, 1)
	go func() { h.runDone <- h.client.Run(ctx) }()
	h.t.Cleanup(h.stop)
}

// stop ends Run and waits for it.
func (h *harness) stop() {
	if h.runCancel == nil {
		return
	}
	h.runCancel()
	select {
	case err := <-h.runDone:
		require.NoError(h.t, err)
	case <-time.After(10 * time.Second):
		h.t.Fatal("Run did not return")
	}
	h.runCancel = nil
}

// newContext creates a browser context and waits until it is available.
func (h *harness) newContext() (wasend.BrowserContext, *wasendtest.Session) {
	h.t.Helper()
	bc, err := h.client.CreateContext(context.Background())
	require.NoError(h.t, err)
	sess := h.pool.Session(bc.SystemID)
	require.NotNil(h.t, sess)
	h.waitContext(bc.ID, wasend.ContextAvailable)
	return bc, sess
}

func (h *harness) waitContext(id int64, want wasend.ContextStatus) wasend.BrowserContext {
	h.t.Helper()
	var bc wasend.BrowserContext
	eventually(h.t, func() bool {
		var err error
		bc, err = h.store.Context(context.Background(), id)
		require.NoError(h.t, err)
		return bc.Status == want
	}, "context %d to be %s (is %s)", id, want, func() any { return bc.Status })
	return bc
}

// waitJob waits until the job reaches status want.
func (h *harness) waitJob(id int64, want wasend.JobStatus) wasend.Job {
	h.t.Helper()
	var j wasend.Job
	eventually(h.t, func() bool {
		var err error
		j, err = h.client.Job(context.Background(), id)
		require.NoError(h.t, err)
		return j.Status == want
	}, "job %d to be %s (is %s)", id, want, func() any { return j.Status })
	return j
}

// eventually polls cond for up to a minute: it waits for an event, and
// the limit only bounds a failure, on however loaded a machine.
func eventually(t *testing.T, cond func() bool, format string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	for i, a := range args {
		if f, ok := a.(func() any); ok {
			args[i] = f()
		}
	}
	t.Fatalf("timed out waiting for "+format, args...)
}

var bg = context.Background()
