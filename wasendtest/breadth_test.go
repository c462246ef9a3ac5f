package wasendtest_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/wasendtest"
)

var bg = context.Background()

// sentMessages records a job of n messages on a new context and marks
// them sent at the given times; it returns the context and the messages.
func sentMessages(t *testing.T, s *wasendtest.Store, at ...time.Time) (int64, []wasend.Message) {
	t.Helper()
	bc, err := s.CreateContext(bg, wasend.BrowserContext{Status: wasend.ContextAvailable})
	require.NoError(t, err)
	j := wasend.Job{ContextID: bc.ID, Kind: wasend.KindBulk}
	for range at {
		j.Messages = append(j.Messages, wasend.Message{To: "+5491100000001", Text: "t"})
	}
	job, err := s.CreateJob(bg, j)
	require.NoError(t, err)
	for i, m := range job.Messages {
		ok, err := s.Apply(bg, wasend.Step{Message: &wasend.MessageTransition{ID: m.ID, From: []wasend.MessageStatus{wasend.MessagePending},
			To: wasend.MessageSending}})
		require.NoError(t, err)
		require.True(t, ok)
		ok, err = s.Apply(bg, wasend.Step{Message: &wasend.MessageTransition{ID: m.ID, From: []wasend.MessageStatus{wasend.MessageSending},
			To: wasend.MessageSent, SentAt: at[i], WAMessageID: "wa" + string(rune('a'+i))}})
		require.NoError(t, err)
		require.True(t, ok)
	}
	got, err := s.Job(bg, job.ID)
	require.NoError(t, err)
	return bc.ID, got.Messages
}

func receipt(id int64, ack wasend.Ack, at time.Time) wasend.Step {
	return wasend.Step{Receipt: &wasend.ReceiptTransition{MessageID: id, Ack: ack, At: at}}
}

// Step.Receipt applies as its doc says: to a sent message, and only when
// it changes a column.
func TestStoreReceipts(t *testing.T) {
	s := wasendtest.NewStore()
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	ctxID, msgs := sentMessages(t, s, t0, t0.Add(time.Minute), t0.Add(2*time.Minute))
	a, b, c := msgs[0].ID, msgs[1].ID, msgs[2].ID

	apply := func(st wasend.Step) bool {
		ok, err := s.Apply(bg, st)
		require.NoError(t, err)
		return ok
	}
	assert.True(t, apply(receipt(a, wasend.AckDelivered, t0.Add(time.Second))))
	assert.False(t, apply(receipt(a, wasend.AckDelivered, t0.Add(2*time.Second))), "delivered already")
	assert.False(t, apply(receipt(a, wasend.AckSent, t0)), "changes nothing")
	assert.True(t, apply(receipt(a, wasend.AckRead, t0.Add(3*time.Second))))
	assert.False(t, apply(receipt(a, wasend.AckPlayed, t0.Add(4*time.Second))), "read already")
	assert.True(t, apply(receipt(b, wasend.AckRead, t0.Add(5*time.Second))), "read sets delivered too")
	assert.False(t, apply(receipt(424242, wasend.AckRead, t0)), "no such message")
	assert.True(t, apply(wasend.Step{Receipt: &wasend.ReceiptTransition{MessageID: c, Undelivered: true, At: t0.Add(time.Hour)}}))
	assert.False(t, apply(wasend.Step{Receipt: &wasend.ReceiptTransition{MessageID: c, Undelivered: true, At: t0.Add(2 * time.Hour)}}),
		"undelivered once")
	_, err := s.Apply(bg, wasend.Step{Receipt: &wasend.ReceiptTransition{MessageID: c, Ack: wasend.Ack(7)}})
	assert.ErrorIs(t, err, wasend.ErrInvalidStep)
	_, err = s.Apply(bg, wasend.Step{Receipt: &wasend.ReceiptTransition{}})
	assert.ErrorIs(t, err, wasend.ErrInvalidStep)

	job, err := s.Job(bg, msgs[0].JobID)
	require.NoError(t, err)
	ma, mb, mc := job.Messages[0], job.Messages[1], job.Messages[2]
	assert.Equal(t, t0.Add(time.Second), ma.DeliveredAt)
	assert.Equal(t, t0.Add(3*time.Second), ma.ReadAt)
	assert.Equal(t, t0.Add(5*time.Second), mb.DeliveredAt)
	assert.Equal(t, t0.Add(5*time.Second), mb.ReadAt)
	assert.Equal(t, t0.Add(time.Hour), mc.UndeliveredAt)
	assert.True(t, mc.DeliveredAt.IsZero())

	unread, err := s.Unread(bg, wasend.ReceiptFilter{ContextID: ctxID})
	require.NoError(t, err)
	require.Len(t, unread, 1)
	assert.Equal(t, c, unread[0].ID)
	assert.True(t, apply(receipt(c, wasend.AckDelivered, t0.Add(3*time.Hour))), "delivered after all")
	unread, err = s.Unread(bg, wasend.ReceiptFilter{ContextID: ctxID, Undelivered: true})
	require.NoError(t, err)
	assert.Empty(t, unread, "delivered or marked")

	counts, err := s.Counts(bg)
	require.NoError(t, err)
	require.Len(t, counts.Receipts, 1)
	assert.Equal(t, wasend.ReceiptCount{ContextID: ctxID, Delivered: 3, Read: 2, Undelivered: 1}, counts.Receipts[0], "c was marked undelivered, then delivered after all: it counts in both")
}

func TestStoreUnreadFilters(t *testing.T) {
	s := wasendtest.NewStore()
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	ctxID, msgs := sentMessages(t, s, t0, t0.Add(time.Hour), t0.Add(2*time.Hour), t0.Add(3*time.Hour))
	other, _ := sentMessages(t, s, t0)
	ids := func(f wasend.ReceiptFilter) []int64 {
		got, err := s.Unread(bg, f)
		require.NoError(t, err)
		var out []int64
		for _, m := range got {
			out = append(out, m.ID)
		}
		return out
	}
	all := []int64{msgs[0].ID, msgs[1].ID, msgs[2].ID, msgs[3].ID}
	assert.Equal(t, all, ids(wasend.ReceiptFilter{ContextID: ctxID}))
	assert.Equal(t, all[1:], ids(wasend.ReceiptFilter{ContextID: ctxID, SentAfter: t0.Add(time.Hour)}), "at or after")
	assert.Equal(t, all[:2], ids(wasend.ReceiptFilter{ContextID: ctxID, SentBefore: t0.Add(2 * time.Hour)}), "before")
	assert.Equal(t, all[2:3], ids(wasend.ReceiptFilter{ContextID: ctxID, AfterID: all[1], Limit: 1}))
	assert.Len(t, ids(wasend.ReceiptFilter{ContextID: other}), 1)
	_, err := s.Unread(bg, wasend.ReceiptFilter{})
	assert.Error(t, err, "a context is required")
}

func TestStoreNumberCache(t *testing.T) {
	s := wasendtest.NewStore()
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	require.NoError(t, s.CacheNumbers(bg, []wasend.NumberInfo{
		{Phone: "+5491100000001", OnWhatsApp: true, CheckedAt: t0, ContextID: 1},
		{Phone: "+5491100000002", CheckedAt: t0.Add(time.Hour)},
	}))
	require.NoError(t, s.CacheNumbers(bg, []wasend.NumberInfo{
		{Phone: "+5491100000001", OnWhatsApp: true, Canonical: "+541100000001", CheckedAt: t0.Add(2 * time.Hour), ContextID: 2},
	}), "replaces the older answer")
	got, err := s.CachedNumbers(bg, []string{"+5491100000001", "+5491100000002", "+5491100000003"}, t0.Add(90*time.Minute))
	require.NoError(t, err)
	require.Len(t, got, 1, "checked at or after since")
	assert.Equal(t, "+541100000001", got["+5491100000001"].Canonical)
	assert.Equal(t, int64(2), got["+5491100000001"].ContextID)
	got, err = s.CachedNumbers(bg, []string{"+5491100000002"}, t0)
	require.NoError(t, err)
	assert.False(t, got["+5491100000002"].OnWhatsApp)
	assert.Error(t, s.CacheNumbers(bg, []wasend.NumberInfo{{}}), "a number is required")
}

func TestStoreSuppressionList(t *testing.T) {
	s := wasendtest.NewStore()
	for _, p := range []string{"+5491100000003", "+5491100000001", "+5491100000002"} {
		ok, err := s.Suppress(bg, wasend.Suppression{Phone: p, Reason: wasend.SuppressHost}, nil)
		require.NoError(t, err)
		assert.True(t, ok)
	}
	ok, err := s.Suppress(bg, wasend.Suppression{Phone: "+5491100000001", Reason: "again"}, nil)
	require.NoError(t, err)
	assert.False(t, ok, "suppressed already")
	got, err := s.Suppressed(bg, []string{"+5491100000001", "+5491100000009"})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, wasend.SuppressHost, got["+5491100000001"].Reason, "the first reason stays")
	assert.False(t, got["+5491100000001"].CreatedAt.IsZero())
	page, err := s.Suppressions(bg, wasend.SuppressionFilter{Limit: 2})
	require.NoError(t, err)
	require.Len(t, page, 2)
	assert.Equal(t, "+5491100000001", page[0].Phone)
	page, err = s.Suppressions(bg, wasend.SuppressionFilter{AfterPhone: page[1].Phone})
	require.NoError(t, err)
	require.Len(t, page, 1)
	assert.Equal(t, "+5491100000003", page[0].Phone)
	removed, err := s.Unsuppress(bg, "+5491100000001")
	require.NoError(t, err)
	assert.True(t, removed)
	removed, err = s.Unsuppress(bg, "+5491100000001")
	require.NoError(t, err)
	assert.False(t, removed)
}

func TestStoreInbox(t *testing.T) {
	s := wasendtest.NewStore()
	a, err := s.CreateContext(bg, wasend.BrowserContext{})
	require.NoError(t, err)
	b, err := s.CreateContext(bg, wasend.BrowserContext{})
	require.NoError(t, err)
	in := func(ctxID int64, from, id string) (wasend.IncomingMessage, bool) {
		m, fresh, err := s.RecordIncoming(bg, wasend.IncomingMessage{ContextID: ctxID, From: from, Text: "t", WAMessageID: id,
			At: time.Now()}, nil)
		require.NoError(t, err)
		return m, fresh
	}
	m1, fresh := in(a.ID, "+5491100000001", "w1")
	assert.True(t, fresh)
	assert.NotZero(t, m1.ID)
	again, fresh := in(a.ID, "+5491100000001", "w1")
	assert.False(t, fresh)
	assert.Equal(t, m1.ID, again.ID, "the stored one")
	_, fresh = in(b.ID, "+5491100000001", "w1")
	assert.True(t, fresh, "the same id in another context is another message")
	in(a.ID, "+5491100000002", "w2")
	list, err := s.Incoming(bg, wasend.InboxFilter{ContextID: a.ID})
	require.NoError(t, err)
	assert.Len(t, list, 2)
	list, err = s.Incoming(bg, wasend.InboxFilter{From: "+5491100000001"})
	require.NoError(t, err)
	assert.Len(t, list, 2)
	list, err = s.Incoming(bg, wasend.InboxFilter{Newest: true, Limit: 1})
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, "w2", list[0].WAMessageID)
	_, _, err = s.RecordIncoming(bg, wasend.IncomingMessage{ContextID: 4242, From: "+5491100000001", WAMessageID: "x"}, nil)
	assert.ErrorIs(t, err, wasend.ErrContextNotFound)
}
