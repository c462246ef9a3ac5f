package sqlstore_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/sqlstore"
)

// TestLedgerRows: what the ledger and the contacts hold, row by row. A
// send is a ledger row with hashes only (no number, no text); the contacts
// hold one row per recipient, from its first send, however many sends and
// whichever way Apply runs the step (one statement, or a transaction when
// the step moves the messages of a job it also changes one of). Settings
// are stored as JSON text and NULL.
func TestLedgerRows(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, b backend) {
		s := newStore(t, b, "")
		ctx := t.Context()
		c := wasend.BrowserContext{ID: mustAvailable(t, s)}
		j, err := s.CreateJob(ctx, wasend.Job{ContextID: c.ID, Kind: wasend.KindBulk,
			Messages: []wasend.Message{{To: "+34600000001", Text: "hola"}, {To: "+34600000002", Text: "hola"}}})
		require.NoError(t, err)
		at := time.Date(2026, 8, 1, 10, 0, 0, 0, time.UTC)
		rec := func(to string, at time.Time) *wasend.SendRecord {
			return &wasend.SendRecord{ContextID: c.ID, At: at, Recipient: wasend.HashRecipient(to), TextHash: wasend.HashText("hola")}
		}
		steps := []wasend.Step{
			// The message and a move of the job's messages: a transaction.
			{Job: &wasend.JobTransition{ID: j.ID, From: []wasend.JobStatus{wasend.JobPending}, To: wasend.JobRunning, Claim: "w",
				PendingMessagesTo: wasend.MessagePending},
				Message: &wasend.MessageTransition{ID: j.Messages[0].ID, From: []wasend.MessageStatus{wasend.MessagePending},
					To: wasend.MessageSending, StartAttempt: true},
				Send: rec("+34600000001", at)},
			// One UPDATE and the INSERTs.
			{Message: &wasend.MessageTransition{ID: j.Messages[1].ID, From: []wasend.MessageStatus{wasend.MessagePending},
				To: wasend.MessageSending, StartAttempt: true},
				Send: rec("+34600000001", at.Add(time.Minute))},
		}
		for i, st := range steps {
			ok, err := s.Apply(ctx, st)
			require.NoError(t, err, "step %d", i)
			require.True(t, ok, "step %d", i)
		}
		require.Equal(t, 2, count(t, s, "SELECT COUNT(*) FROM browser_context_sends"))
		require.Equal(t, 0, count(t, s, "SELECT COUNT(*) FROM browser_context_sends WHERE recipient_hash LIKE '%3460%' OR text_hash LIKE '%hola%'"))
		require.Equal(t, 1, count(t, s, "SELECT COUNT(*) FROM browser_context_contacts"))
		// The contact is from the first send.
		require.Equal(t, 1, count(t, s, "SELECT COUNT(*) FROM browser_context_contacts WHERE first_sent_at = (SELECT MIN(sent_at) FROM browser_context_sends)"))
		require.Equal(t, 1, count(t, s, "SELECT COUNT(*) FROM browser_context_sends WHERE sent_at > (SELECT first_sent_at FROM browser_context_contacts)"))

		// Hashes longer than the column are refused.
		long := rec("+1", at)
		long.Recipient = strings.Repeat("a", sqlstore.MaxLedgerHashLength+1)
		_, err = s.Apply(ctx, wasend.Step{Context: &wasend.ContextTransition{ID: c.ID, From: []wasend.ContextStatus{wasend.ContextAvailable},
			To: wasend.ContextBusy}, Send: long})
		require.ErrorIs(t, err, sqlstore.ErrInvalidStep)

		// Settings: JSON text, and NULL when there are none.
		p := wasend.DefaultPacing()
		withSettings, err := s.CreateContext(ctx, wasend.BrowserContext{Pacing: &p, Proxy: "http://u:p@proxy.example:3128"})
		require.NoError(t, err)
		require.Equal(t, 1, count(t, s, "SELECT COUNT(*) FROM browser_context WHERE pacing IS NULL AND proxy IS NULL"))
		require.Equal(t, 1, count(t, s, "SELECT COUNT(*) FROM browser_context WHERE pacing LIKE '{\"min_gap\":%' AND proxy IS NOT NULL"))
		var none *wasend.Pacing
		empty := ""
		_, err = s.UpdateContext(ctx, withSettings.ID, wasend.ContextSettings{Pacing: &none, Proxy: &empty})
		require.NoError(t, err)
		require.Equal(t, 2, count(t, s, "SELECT COUNT(*) FROM browser_context WHERE pacing IS NULL AND proxy IS NULL"))
	})
}

// TestLedgerConcurrentContacts: steps that send to one new recipient at
// once all apply, and leave one contact.
func TestLedgerConcurrentContacts(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, b backend) {
		s := newStore(t, b, "")
		ctx := t.Context()
		const n = 8
		var ids []int64
		for range n {
			j, err := s.CreateJob(ctx, wasend.Job{ContextID: mustAvailable(t, s), Kind: wasend.KindSingle,
				Messages: []wasend.Message{{To: "+1", Text: "x"}}})
			require.NoError(t, err)
			ids = append(ids, j.ID)
		}
		c := wasend.BrowserContext{ID: mustAvailable(t, s)}
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i, id := range ids {
			wg.Go(func() {
				var ok bool
				ok, errs[i] = s.Apply(ctx, wasend.Step{Job: &wasend.JobTransition{ID: id, From: []wasend.JobStatus{wasend.JobPending},
					To: wasend.JobPaused}, Send: &wasend.SendRecord{ContextID: c.ID, Recipient: wasend.HashRecipient("+1"), NewContact: true}})
				if errs[i] == nil && !ok {
					errs[i] = errNotApplied
				}
			})
		}
		wg.Wait()
		for i, err := range errs {
			require.NoError(t, err, "step %d", i)
		}
		sends, err := s.Sends(ctx, c.ID, time.Time{})
		require.NoError(t, err)
		require.Len(t, sends, n)
		require.Equal(t, 1, count(t, s, "SELECT COUNT(*) FROM browser_context_contacts"))
	})
}

var errNotApplied = errors.New("step did not apply")

func mustAvailable(t *testing.T, s *sqlstore.Store) int64 {
	t.Helper()
	c, err := s.CreateContext(t.Context(), wasend.BrowserContext{Status: wasend.ContextAvailable})
	require.NoError(t, err)
	return c.ID
}
