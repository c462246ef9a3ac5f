package wasend_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
)

// The context's account: the first login records it, the same account
// again changes nothing, and a different one holds the context's jobs
// until the host confirms it.
func TestContextAccount(t *testing.T) {
	rec := &received{}
	h := newHarness(t, harnessOpt{opts: []wasend.Option{withOutbox(rec)}})
	bc, sess := h.newContext()
	const first, second = "+5511987654321", "+5511912345678"

	sess.Report(wasend.SessionEvent{Type: wasend.EventAccount, Account: "+55 11 98765-4321"})
	eventually(t, func() bool {
		got, err := h.client.Context(bg, bc.ID)
		require.NoError(t, err)
		return got.Account == first
	}, "the first account to be recorded")
	eventually(t, func() bool { return len(ofTopic(rec.all(), wasend.TopicContextAccount)) == 1 }, "context.account")
	ev := ofTopic(rec.all(), wasend.TopicContextAccount)[0]
	assert.Equal(t, bc.ID, ev.ContextID)
	assert.Equal(t, wasend.MaskPhone(first), ev.Data["account"], "masked without WithEventPII")

	// The same account again: nothing. A message goes.
	sess.Report(wasend.SessionEvent{Type: wasend.EventAccount, Account: first})
	job, err := h.client.Send(bg, bc.ID, "+5491122334455", "one")
	require.NoError(t, err)
	h.waitJob(job.ID, wasend.JobCompleted)
	assert.Len(t, ofTopic(rec.all(), wasend.TopicContextAccount), 1, "the same account is not told again")
	assert.Equal(t, wasend.ContextAvailable, h.waitContext(bc.ID, wasend.ContextAvailable).Status)

	// A different account: the context is held, its job waits.
	sess.Report(wasend.SessionEvent{Type: wasend.EventAccount, Account: second})
	held := h.waitContext(bc.ID, wasend.ContextRestricted)
	assert.Equal(t, wasend.RestrictionAccount, held.Restriction.Kind)
	assert.Equal(t, first, held.Account, "the new account waits for the host")
	assert.NotContains(t, held.Restriction.Reason, "912345678")
	eventually(t, func() bool {
		for _, ev := range h.events.all() {
			if ev.Type == wasend.EventAccountChanged {
				return true
			}
		}
		return false
	}, "EventAccountChanged")
	for _, ev := range h.events.all() {
		if ev.Type == wasend.EventAccountChanged {
			assert.Equal(t, bc.ID, ev.ContextID)
			assert.Equal(t, wasend.MaskPhone(second), ev.Account)
			assert.Equal(t, wasend.RestrictionAccount, ev.Restriction.Kind)
		}
	}
	eventually(t, func() bool { return len(ofTopic(rec.all(), wasend.TopicContextAccountChanged)) == 1 },
		"context.account_changed")
	assert.Equal(t, wasend.MaskPhone(second), ofTopic(rec.all(), wasend.TopicContextAccountChanged)[0].Data["account"])
	// Told again, it changes nothing more.
	sess.Report(wasend.SessionEvent{Type: wasend.EventAccount, Account: second})

	job2, err := h.client.Send(bg, bc.ID, "+5491122334466", "two")
	require.NoError(t, err)
	eventually(t, func() bool {
		j, err := h.client.Job(bg, job2.ID)
		require.NoError(t, err)
		return j.Status == wasend.JobPending && j.Wait == wasend.WaitRestricted && j.NextRunAt.After(time.Now().Add(time.Minute))
	}, "the job to wait for the hold, for long")
	time.Sleep(300 * time.Millisecond)
	assert.Equal(t, 0, h.pool.Count("+5491122334466", "two"), "nothing is sent while the context is held")
	j, err := h.client.Job(bg, job2.ID)
	require.NoError(t, err)
	assert.Equal(t, 0, j.Attempts, "waiting spends no attempt")

	// The host confirms: the account is stored, the job goes.
	require.NoError(t, h.client.ConfirmAccount(bg, bc.ID))
	h.waitJob(job2.ID, wasend.JobCompleted)
	assert.Equal(t, 1, h.pool.Count("+5491122334466", "two"))
	got, err := h.client.Context(bg, bc.ID)
	require.NoError(t, err)
	assert.Equal(t, second, got.Account)
	assert.Equal(t, wasend.RestrictionNone, got.Restriction.Kind)
	eventually(t, func() bool { return len(ofTopic(rec.all(), wasend.TopicContextAccount)) == 2 }, "context.account of the confirmed one")
	assert.Equal(t, wasend.MaskPhone(second), ofTopic(rec.all(), wasend.TopicContextAccount)[1].Data["account"])

	err = h.client.ConfirmAccount(bg, bc.ID)
	require.ErrorIs(t, err, wasend.ErrNoAccountChange)
	assert.Equal(t, wasend.ErrorKindNoAccountChange, wasend.KindOf(err))
	require.ErrorIs(t, h.client.ConfirmAccount(bg, 999999), wasend.ErrContextNotFound)

	logs := h.logs.String()
	for _, n := range []string{"987654321", "912345678"} {
		assert.NotContains(t, logs, n, "no whole number in the logs")
	}
}

// The account that the context had, logging back in before the host
// confirms the other, ends the hold; a bad account is dropped.
func TestContextAccountBackEndsHold(t *testing.T) {
	h := newHarness(t, harnessOpt{opts: []wasend.Option{wasend.WithEventPII(true)}})
	bc, sess := h.newContext()
	const first, second = "+5511987654321", "+5511912345678"
	sess.Report(wasend.SessionEvent{Type: wasend.EventAccount, Account: "not a number"})
	sess.Report(wasend.SessionEvent{Type: wasend.EventAccount, Account: first})
	eventually(t, func() bool {
		got, err := h.client.Context(bg, bc.ID)
		require.NoError(t, err)
		return got.Account == first
	}, "the first account to be recorded")
	sess.Report(wasend.SessionEvent{Type: wasend.EventAccount, Account: second})
	h.waitContext(bc.ID, wasend.ContextRestricted)
	var changed *wasend.SessionEvent
	for _, ev := range h.events.all() {
		if ev.Type == wasend.EventAccountChanged {
			changed = &ev
		}
	}
	require.NotNil(t, changed)
	assert.Equal(t, second, changed.Account, "whole with WithEventPII")
	sess.Report(wasend.SessionEvent{Type: wasend.EventAccount, Account: first})
	got := h.waitContext(bc.ID, wasend.ContextAvailable)
	assert.Equal(t, first, got.Account)
	assert.Equal(t, wasend.RestrictionNone, got.Restriction.Kind)
	assert.True(t, errors.Is(h.client.ConfirmAccount(bg, bc.ID), wasend.ErrNoAccountChange))
	job, err := h.client.Send(bg, bc.ID, "+5491122334455", "one")
	require.NoError(t, err)
	h.waitJob(job.ID, wasend.JobCompleted)
}
