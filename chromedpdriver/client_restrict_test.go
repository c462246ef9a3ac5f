package chromedpdriver

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
)

// The restrictions of WhatsApp Web, end to end: the local imitation shows
// them, the driver reads them from the page, and the Client holds, resumes
// or fails the jobs.

// waitFor polls a job for up to a minute until cond holds.
func (h *clientHarness) waitFor(id int64, what string, cond func(wasend.Job) bool) wasend.Job {
	h.t.Helper()
	return h.waitUntil(id, time.Minute, what, cond)
}

func TestClientTemporaryBanHoldsJobsUntilThePageLiftsIt(t *testing.T) {
	t.Parallel()
	f, base := startFake(t)
	p, _ := testPool(t, base)
	h := newClientHarness(t, f, p)
	const me, to = "15550008101", "15551230001"
	bc := h.newContext(me)

	f.TemporaryBan(me, 104, 2*time.Hour)
	h.waitContext(bc.ID, wasend.ContextRestricted)
	stored, err := h.store.Context(context.Background(), bc.ID)
	require.NoError(t, err)
	assert.Equal(t, wasend.RestrictionTemporary, stored.Restriction.Kind)
	assert.WithinDuration(t, time.Now().Add(2*time.Hour), stored.Restriction.Until, 2*time.Minute, "the end the page shows")

	job, err := h.client.Send(context.Background(), bc.ID, "+"+to, "held during the ban")
	require.NoError(t, err)
	j := h.waitFor(job.ID, "to wait for the ban", func(j wasend.Job) bool { return j.Wait == wasend.WaitRestricted })
	assert.Equal(t, wasend.JobPending, j.Status)
	assert.Equal(t, 0, j.Attempts)
	assert.Empty(t, f.Received(me, to))

	f.LiftTemporaryBan(me)
	h.waitContext(bc.ID, wasend.ContextAvailable)
	h.waitJob(job.ID, wasend.JobCompleted, 60*time.Second)
	assert.Len(t, f.Received(me, to), 1)
}

func TestClientBanClosesTheContext(t *testing.T) {
	t.Parallel()
	f, base := startFake(t)
	p, _ := testPool(t, base)
	h := newClientHarness(t, f, p)
	const me, to = "15550008102", "15551230002"
	bc := h.newContext(me)
	paused, err := h.client.SendBulk(context.Background(), bc.ID, []wasend.BulkMessage{{To: "+" + to, Text: "never"}})
	require.NoError(t, err)
	_, err = h.client.Pause(context.Background(), paused.ID)
	require.NoError(t, err)

	f.Ban(me)
	h.waitContext(bc.ID, wasend.ContextClosed)
	stored, err := h.store.Context(context.Background(), bc.ID)
	require.NoError(t, err)
	assert.Equal(t, wasend.RestrictionBanned, stored.Restriction.Kind)
	j := h.waitJob(paused.ID, wasend.JobFailed, 30*time.Second)
	assert.Equal(t, wasend.ErrorKindBanned, j.ErrorKind)
	assert.Equal(t, wasend.MessageCancelled, j.Messages[0].Status)
	assert.Empty(t, f.Received(me, to))
}

func TestClientNewChatsLockHoldsNewContactsOnly(t *testing.T) {
	t.Parallel()
	f, base := startFake(t)
	p, _ := testPool(t, base)
	// The ledger that tells new contacts from known ones is pacing's.
	h := newClientHarness(t, f, p, wasend.WithPacing(wasend.Pacing{PerDay: 1000}))
	const me, known, cold = "15550008103", "15551230003", "15551230004"
	bc := h.newContext(me)
	first, err := h.client.Send(context.Background(), bc.ID, "+"+known, "before the lock")
	require.NoError(t, err)
	h.waitJob(first.ID, wasend.JobCompleted, 60*time.Second)

	f.Timelock(me, time.Now().Add(3*time.Hour), "")
	job, err := h.client.Send(context.Background(), bc.ID, "+"+cold, "to a new contact")
	require.NoError(t, err)
	j := h.waitFor(job.ID, "to wait for the lock", func(j wasend.Job) bool { return j.Wait == wasend.WaitNewChatsLocked })
	assert.Equal(t, 0, j.Attempts, "nothing was sent: no attempt spent")
	assert.WithinDuration(t, time.Now().Add(3*time.Hour), j.NextRunAt, 2*time.Minute, "until the end the modal shows")
	assert.Empty(t, f.Received(me, cold))

	reply, err := h.client.Send(context.Background(), bc.ID, "+"+known, "in a chat that exists")
	require.NoError(t, err)
	h.waitJob(reply.ID, wasend.JobCompleted, 60*time.Second)
	assert.Len(t, f.Received(me, known), 2)
	h.waitContext(bc.ID, wasend.ContextAvailable)
}
