package wasend_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
)

// jobReads counts the Store's Job calls.
type jobReads struct {
	wasend.Store
	n atomic.Int64
}

func (s *jobReads) Job(ctx context.Context, id int64) (wasend.Job, error) {
	s.n.Add(1)
	return s.Store.Job(ctx, id)
}

// The first delivery of a job Send has just recorded starts from the job
// Send got back from the store: the store is not read again.
func TestFirstDeliveryDoesNotReadTheJobBack(t *testing.T) {
	var reads *jobReads
	h := newHarness(t, harnessOpt{wrap: func(s wasend.Store) wasend.Store {
		reads = &jobReads{Store: s}
		return reads
	}})
	bc, sess := h.newContext()
	before := reads.n.Load()
	job, err := h.client.Send(bg, bc.ID, "+5491122334455", "hola")
	require.NoError(t, err)
	eventually(t, func() bool {
		j, err := h.store.Job(bg, job.ID)
		require.NoError(t, err)
		return j.Status == wasend.JobCompleted
	}, "job %d to complete", job.ID)
	assert.Equal(t, int64(0), reads.n.Load()-before, "Job reads for a delivery of a job Send just recorded")
	assert.Equal(t, 1, sess.Calls())
}

// A job another process cancels between Send and its delivery is not
// sent: the delivery's claim is conditional on the version Send recorded.
func TestJobCancelledElsewhereBeforeItsFirstDeliveryIsNotSent(t *testing.T) {
	h := newHarness(t, harnessOpt{noRun: true})
	bc, sess := h.newContext()
	job, err := h.client.Send(bg, bc.ID, "+5491122334455", "never")
	require.NoError(t, err)
	ok, err := h.store.Apply(bg, wasend.Step{
		Job:     &wasend.JobTransition{ID: job.ID, From: []wasend.JobStatus{wasend.JobPending}, To: wasend.JobCancelled},
		Message: &wasend.MessageTransition{ID: job.Messages[0].ID, From: []wasend.MessageStatus{wasend.MessagePending}, To: wasend.MessageCancelled},
	})
	require.NoError(t, err)
	require.True(t, ok)
	h.run()
	time.Sleep(300 * time.Millisecond) // several sweeps
	assert.Equal(t, 0, sess.Calls())
	j, err := h.store.Job(bg, job.ID)
	require.NoError(t, err)
	assert.Equal(t, wasend.JobCancelled, j.Status)
}

// A job another process postpones between Send and its delivery (it
// stays pending, at a new version) is sent once, and not before its new
// time, although the job Send got back says it is due.
func TestJobPostponedElsewhereBeforeItsFirstDeliveryWaits(t *testing.T) {
	h := newHarness(t, harnessOpt{noRun: true})
	bc, sess := h.newContext()
	job, err := h.client.Send(bg, bc.ID, "+5491122334455", "later")
	require.NoError(t, err)
	later := time.Now().Add(700 * time.Millisecond)
	ok, err := h.store.Apply(bg, wasend.Step{Job: &wasend.JobTransition{ID: job.ID,
		From: []wasend.JobStatus{wasend.JobPending}, To: wasend.JobPending, NextRunAt: later, Wait: wasend.WaitGap}})
	require.NoError(t, err)
	require.True(t, ok)
	h.run()
	j := h.waitJob(job.ID, wasend.JobCompleted)
	require.Equal(t, 1, sess.Calls())
	assert.False(t, j.Messages[0].SentAt.Before(later.Truncate(time.Millisecond)),
		"sent at %s, before the job's new time %s", j.Messages[0].SentAt, later)
}
