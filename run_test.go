package wasend_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
