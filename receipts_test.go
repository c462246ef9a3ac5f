package wasend_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/wasendtest"
)

// followed waits until the session follows a message, and returns it.
func followed(t *testing.T, sess *wasendtest.Session, id int64) wasend.TrackedMessage {
	t.Helper()
	var got wasend.TrackedMessage
	eventually(t, func() bool {
		for _, m := range sess.Followed() {
			if m.MessageID == id {
				got = m
				return true
			}
		}
		return false
	}, "the session to follow message %d", id)
	return got
}

func ackEvents(h *harness) []wasend.SessionEvent {
	var out []wasend.SessionEvent
	for _, ev := range h.events.all() {
		if ev.Type == wasend.EventAck {
			out = append(out, ev)
		}
	}
	return out
}

func message(t *testing.T, h *harness, jobID int64) wasend.Message {
	t.Helper()
	j, err := h.client.Job(bg, jobID)
	require.NoError(t, err)
	return j.Messages[0]
}

// After a send, the session is given the message to follow; its ticks are
// recorded once each, in any order and however often the page reports
// them, with their events, and Stats counts them.
func TestAcksAreRecordedOnceEach(t *testing.T) {
	rec := &received{}
	h := newHarness(t, harnessOpt{opts: []wasend.Option{withOutbox(rec)}})
	bc, sess := h.newContext()
	a, err := h.client.Send(bg, bc.ID, "+5491100000001", "first")
	require.NoError(t, err)
	b, err := h.client.Send(bg, bc.ID, "+5491100000002", "second")
	require.NoError(t, err)
	h.waitJob(a.ID, wasend.JobCompleted)
	h.waitJob(b.ID, wasend.JobCompleted)
	ma, mb := message(t, h, a.ID), message(t, h, b.ID)
	tr := followed(t, sess, ma.ID)
	assert.Equal(t, "+5491100000001", tr.To)
	assert.Equal(t, ma.WAMessageID, tr.WAMessageID)
	assert.NotEmpty(t, tr.WAMessageID)
	assert.Equal(t, "first", tr.Text)
	assert.Equal(t, wasend.AckSent, tr.Ack)
	followed(t, sess, mb.ID)

	sess.Ack(ma.ID, wasend.AckDelivered)
	sess.Ack(ma.ID, wasend.AckDelivered) // the same tick again
	sess.Ack(ma.ID, wasend.AckRead)
	sess.Ack(mb.ID, wasend.AckRead) // read first: delivered with it
	sess.Ack(mb.ID, wasend.AckDelivered)
	sess.Ack(mb.ID, wasend.AckPlayed)
	eventually(t, func() bool { return len(ackEvents(h)) == 3 }, "three acks told (got %d)", func() any { return len(ackEvents(h)) })
	ma, mb = message(t, h, a.ID), message(t, h, b.ID)
	assert.False(t, ma.DeliveredAt.IsZero())
	assert.False(t, ma.ReadAt.IsZero())
	assert.False(t, ma.ReadAt.Before(ma.DeliveredAt))
	assert.False(t, mb.DeliveredAt.IsZero(), "a read message was delivered")
	assert.Equal(t, mb.DeliveredAt, mb.ReadAt)
	assert.True(t, ma.UndeliveredAt.IsZero())
	for _, ev := range ackEvents(h) {
		assert.Equal(t, bc.ID, ev.ContextID)
		assert.NotEmpty(t, ev.To)
	}

	rec.waitFor(t, "the receipt events", func(evs []wasend.Event) bool {
		return len(ofTopic(evs, wasend.TopicMessageRead)) == 2
	})
	var topics []wasend.Topic
	for _, ev := range rec.all() {
		if ev.MessageID == ma.ID || ev.MessageID == mb.ID {
			topics = append(topics, ev.Topic)
		}
		if ev.Topic == wasend.TopicMessageDelivered || ev.Topic == wasend.TopicMessageRead {
			assert.Equal(t, bc.ID, ev.ContextID)
			assert.NotZero(t, ev.JobID, "the store fills in the job")
		}
	}
	assert.Equal(t, []wasend.Topic{wasend.TopicMessageSent, wasend.TopicMessageSent, wasend.TopicMessageDelivered,
		wasend.TopicMessageRead, wasend.TopicMessageRead}, topics)

	st, err := h.client.Stats(bg)
	require.NoError(t, err)
	assert.Equal(t, int64(2), st.Delivered)
	assert.Equal(t, int64(2), st.Read)
	require.Len(t, st.Contexts, 1)
	assert.Equal(t, int64(2), st.Contexts[0].Delivered)
	assert.Equal(t, int64(2), st.Contexts[0].Read)

	// Read messages are followed no more.
	c, err := h.client.Send(bg, bc.ID, "+5491100000003", "third")
	require.NoError(t, err)
	h.waitJob(c.ID, wasend.JobCompleted)
	mc := message(t, h, c.ID)
	followed(t, sess, mc.ID)
	for _, m := range sess.Followed() {
		assert.NotEqual(t, ma.ID, m.MessageID)
	}
}

// What a page may report wrong: an ack for no message, for a message of
// another context, below delivered, or past what the store knows.
func TestHostileAcksAreDropped(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	a, sa := h.newContext()
	b, sb := h.newContext()
	ja, err := h.client.Send(bg, a.ID, "+5491100000001", "for a")
	require.NoError(t, err)
	jb, err := h.client.Send(bg, b.ID, "+5491100000001", "for b")
	require.NoError(t, err)
	h.waitJob(ja.ID, wasend.JobCompleted)
	h.waitJob(jb.ID, wasend.JobCompleted)
	ma, mb := message(t, h, ja.ID), message(t, h, jb.ID)

	sa.Ack(424242, wasend.AckDelivered)                                                              // no such message
	sa.Ack(mb.ID, wasend.AckDelivered)                                                               // another context's
	sa.Ack(ma.ID, wasend.AckSent)                                                                    // nothing to record
	sa.Ack(ma.ID, wasend.Ack(9))                                                                     // no such tick
	sa.Ack(-1, wasend.AckRead)                                                                       // no id
	sb.Ack(mb.ID, wasend.AckDelivered)                                                               // the one that counts
	sessEmit(sa, &wasend.IncomingMessage{From: "+5491100000009", Text: "sync", WAMessageID: "sync"}) // a marker behind them
	eventually(t, func() bool { return len(incomingEvents(h)) == 1 && len(ackEvents(h)) == 1 }, "the acks handled")
	require.Len(t, ackEvents(h), 1)
	assert.Equal(t, mb.ID, ackEvents(h)[0].MessageID)
	assert.Equal(t, b.ID, ackEvents(h)[0].ContextID, "context a's ack for b's message was dropped")
	ma, mb = message(t, h, ja.ID), message(t, h, jb.ID)
	assert.True(t, ma.DeliveredAt.IsZero(), "context a's message was never delivered")
	assert.False(t, mb.DeliveredAt.IsZero())
}

// A message never seen delivered within the receipt window is marked
// undelivered, once, with its event; one delivered is not; a delivery
// that comes later is still recorded.
func TestUndeliveredAfterTheReceiptWindow(t *testing.T) {
	rec := &received{}
	h := newHarness(t, harnessOpt{opts: []wasend.Option{withOutbox(rec), wasend.WithReceiptWindow(300 * time.Millisecond)}})
	bc, sess := h.newContext()
	ok, err := h.client.Send(bg, bc.ID, "+5491100000001", "arrives")
	require.NoError(t, err)
	lost, err := h.client.Send(bg, bc.ID, "+5491100000002", "never arrives")
	require.NoError(t, err)
	h.waitJob(ok.ID, wasend.JobCompleted)
	h.waitJob(lost.ID, wasend.JobCompleted)
	mok := message(t, h, ok.ID)
	followed(t, sess, mok.ID)
	sess.Ack(mok.ID, wasend.AckDelivered)
	eventually(t, func() bool { return !message(t, h, lost.ID).UndeliveredAt.IsZero() }, "the lost message marked undelivered")
	assert.True(t, message(t, h, ok.ID).UndeliveredAt.IsZero())
	rec.waitFor(t, "the undelivered event", func(evs []wasend.Event) bool {
		return len(ofTopic(evs, wasend.TopicMessageUndelivered)) == 1
	})
	time.Sleep(500 * time.Millisecond) // more sweeps: still one event
	assert.Len(t, ofTopic(rec.all(), wasend.TopicMessageUndelivered), 1)
	ev := ofTopic(rec.all(), wasend.TopicMessageUndelivered)[0]
	assert.Equal(t, message(t, h, lost.ID).ID, ev.MessageID)
	assert.Equal(t, lost.ID, ev.JobID)

	sess.Ack(message(t, h, lost.ID).ID, wasend.AckDelivered)
	eventually(t, func() bool { return !message(t, h, lost.ID).DeliveredAt.IsZero() }, "the late delivery recorded")
}

// A session that cannot follow acks is given nothing, and its messages
// are never marked undelivered; one whose FollowAcks fails or hangs never
// holds up a send.
func TestFollowingNeverHoldsUpASend(t *testing.T) {
	legacy := newHarness(t, harnessOpt{pool: []wasendtest.Option{wasendtest.WithLegacySessions()},
		opts: []wasend.Option{wasend.WithReceiptWindow(100 * time.Millisecond)}})
	lbc, _ := legacy.newContext()
	j, err := legacy.client.Send(bg, lbc.ID, "+5491100000001", "legacy")
	require.NoError(t, err)
	legacy.waitJob(j.ID, wasend.JobCompleted)
	time.Sleep(time.Second)
	assert.True(t, message(t, legacy, j.ID).UndeliveredAt.IsZero(), "nobody followed it: nothing is known")

	h := newHarness(t, harnessOpt{opts: []wasend.Option{wasend.WithSendTimeout(300 * time.Millisecond)}})
	bc, sess := h.newContext()
	sess.SetFollowBlock(true)
	start := time.Now()
	for i := range 3 {
		j, err := h.client.Send(bg, bc.ID, "+5491100000001", "blocked follow "+string(rune('a'+i)))
		require.NoError(t, err)
		h.waitJob(j.ID, wasend.JobCompleted)
	}
	assert.Less(t, time.Since(start), 5*time.Second, "the sends did not wait for the follower")
	eventually(t, func() bool { return containsLog(h, "did not take the messages to follow") }, "the failed follow logged")
	sess.SetFollowBlock(false)
	sess.SetFollowError(wasend.ErrSelectors)
	j, err = h.client.Send(bg, bc.ID, "+5491100000001", "failing follow")
	require.NoError(t, err)
	h.waitJob(j.ID, wasend.JobCompleted)
	sess.SetFollowError(nil)
	j, err = h.client.Send(bg, bc.ID, "+5491100000001", "working follow")
	require.NoError(t, err)
	h.waitJob(j.ID, wasend.JobCompleted)
	followed(t, sess, message(t, h, j.ID).ID)
}

func containsLog(h *harness, s string) bool { return strings.Contains(h.logs.String(), s) }

// A session is given its messages again when it logs in, and at most the
// newest WithAckFollowing allows.
func TestFollowAtLoginAndCapped(t *testing.T) {
	h := newHarness(t, harnessOpt{opts: []wasend.Option{wasend.WithAckFollowing(time.Hour, 2)}})
	bc, sess := h.newContext()
	job, err := h.client.SendBulk(bg, bc.ID, []wasend.BulkMessage{
		{To: "+5491100000001", Text: "1"}, {To: "+5491100000002", Text: "2"}, {To: "+5491100000003", Text: "3"}})
	require.NoError(t, err)
	done := h.waitJob(job.ID, wasend.JobCompleted)
	eventually(t, func() bool {
		f := sess.Followed()
		return len(f) == 2 && f[0].MessageID == done.Messages[1].ID && f[1].MessageID == done.Messages[2].ID
	}, "the newest two followed (got %v)", func() any { return sess.Followed() })
	calls := sess.FollowCalls()
	sess.Logout()
	h.waitContext(bc.ID, wasend.ContextDisconnected)
	sess.Login()
	h.waitContext(bc.ID, wasend.ContextAvailable)
	eventually(t, func() bool { return sess.FollowCalls() > calls }, "a follow after the login")
}

// Without a store that keeps receipts, nothing is followed and acks are
// dropped.
func TestNoReceiptStore(t *testing.T) {
	h := newHarness(t, harnessOpt{wrap: func(s wasend.Store) wasend.Store { return struct{ wasend.Store }{s} }})
	bc, sess := h.newContext()
	j, err := h.client.Send(bg, bc.ID, "+5491100000001", "untracked")
	require.NoError(t, err)
	h.waitJob(j.ID, wasend.JobCompleted)
	sess.Ack(message(t, h, j.ID).ID, wasend.AckDelivered)
	sessEmit(sess, &wasend.IncomingMessage{From: "+5491100000009", Text: "sync", WAMessageID: "sync"})
	eventually(t, func() bool { return len(incomingEvents(h)) == 1 }, "the events handled")
	time.Sleep(1500 * time.Millisecond) // past the follower's debounce
	assert.Zero(t, sess.FollowCalls())
	assert.Empty(t, ackEvents(h))
	st, err := h.client.Stats(context.Background())
	require.NoError(t, err)
	assert.Zero(t, st.Delivered)
}
