package wasend_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
)

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
