package wasend_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/wasendtest"
)

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

func TestLifecycle(t *testing.T) {
	// Registered first, so it runs last: after the harness's Close and the
	// queue's.
	t.Cleanup(func() { goleak.VerifyNone(t) })
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

// New starts no goroutine; Close without Run is fine, and so is a second
// Close; Run after Close says so.
func TestCloseWithoutRun(t *testing.T) {
	pool, queue, store := wasendtest.NewPool(), wasendtest.NewQueue(), wasendtest.NewStore()
	defer goleak.VerifyNone(t)
	defer func() { require.NoError(t, queue.Close()) }()
	before := goleak.IgnoreCurrent()
	c, err := wasend.New(pool, queue, store, wasend.WithLeaser(wasendtest.NewLeaser()), wasend.WithPacing(wasend.NoPacing()))
	require.NoError(t, err)
	goleak.VerifyNone(t, before) // New started nothing
	require.NoError(t, c.Close())
	require.NoError(t, c.Close(), "a second Close is fine")
	require.ErrorIs(t, c.Run(bg), wasend.ErrClosed)
	_, err = c.CreateContext(bg)
	require.ErrorIs(t, err, wasend.ErrClosed)
}

// Close waits for every goroutine the Client started: Run's, the event
// pump's, the lease keeper's heartbeat, and the one that closes the
// session of a context whose lease another process took.
func TestCloseLeavesNoGoroutine(t *testing.T) {
	pool, queue, store := wasendtest.NewPool(), wasendtest.NewQueue(), wasendtest.NewStore()
	leaser := wasendtest.NewLeaser()
	defer goleak.VerifyNone(t)
	defer func() { require.NoError(t, queue.Close()) }()
	events := &eventLog{}
	opts := append(fastOptions(), wasend.WithLeaser(leaser), wasend.WithLeaseTTL(150*time.Millisecond),
		wasend.WithOwnerID("A"), wasend.WithEventHandler(events.add))
	c, err := wasend.New(pool, queue, store, opts...)
	require.NoError(t, err)

	kept, err := c.CreateContext(bg)
	require.NoError(t, err)
	lost, err := c.CreateContext(bg)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(bg)
	runDone := make(chan error, 1)
	go func() { runDone <- c.Run(ctx) }()
	eventually(t, func() bool {
		bc, err := store.Context(bg, kept.ID)
		return err == nil && bc.Status == wasend.ContextAvailable
	}, "the context to log in")
	job, err := c.Send(bg, kept.ID, "+5491122334455", "hello")
	require.NoError(t, err)
	eventually(t, func() bool {
		j, err := c.Job(bg, job.ID)
		return err == nil && j.Status == wasend.JobCompleted
	}, "the job to complete")

	// Another process takes the second context's lease: the heartbeat drops
	// it, and closes its session on a goroutine of its own.
	leaser.Drop()
	ok, err := leaser.Acquire(bg, lost.ID, "B", time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	eventually(t, func() bool {
		bc, err := c.Context(bg, lost.ID)
		return err == nil && bc.Session == nil
	}, "the context whose lease was lost to leave this process")

	cancel()
	select {
	case err := <-runDone:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
	}
	require.NoError(t, c.Close())
	require.NoError(t, c.Close(), "a second Close is fine")
	assert.True(t, pool.Session(kept.SystemID).Closed())
	assert.True(t, pool.Session(lost.SystemID).Closed())
}
