package wasend_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
)

// A host's calls into a sleeping context's session (CheckNumber,
// MarkRead) wake it, as a due job does, instead of failing on its closed
// browser; it sleeps again when idle.
func TestHibernationHostCallsWakeTheContext(t *testing.T) {
	h, clock, bc := sleepingContext(t)
	first := h.pool.Session(bc.SystemID)
	require.True(t, first.Closed())

	info, err := h.client.CheckNumber(bg, bc.ID, "+5491122334455")
	require.NoError(t, err)
	assert.True(t, info.OnWhatsApp)
	assert.Equal(t, 2, h.pool.Launches(), "the check woke the context")
	assert.False(t, h.contextStats(bc.ID).Asleep)

	clock.advance(2 * time.Minute)
	h.waitAsleep(bc.ID, true)
	require.NoError(t, h.client.MarkRead(bg, bc.ID, "+5491122334455"))
	assert.Equal(t, 3, h.pool.Launches(), "marking a chat read woke it again")
	assert.False(t, h.contextStats(bc.ID).Asleep)

	job, err := h.client.Send(bg, bc.ID, "+5491122334455", "after the calls")
	require.NoError(t, err)
	h.waitJob(job.ID, wasend.JobCompleted)
	assert.Equal(t, 1, h.pool.Count("+5491122334455", "after the calls"))
	got, err := h.store.Context(bg, bc.ID)
	require.NoError(t, err)
	assert.Equal(t, wasend.ContextAvailable, got.Status, "the calls leave the context available")
}
