package wasend_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/wasendtest"
)

// Each incoming message is recorded once per context and WhatsApp id,
// with one message.incoming event, and told to the host once; the event
// holds no number and no text unless the host opts in.
func TestIncomingIsRecordedOnceWithItsEvent(t *testing.T) {
	rec := &received{}
	h := newHarness(t, harnessOpt{opts: []wasend.Option{withOutbox(rec)}})
	bc, sess := h.newContext()
	sess.Receive("+5491100000001", "hola, ¿llegó mi pedido?\nsaludos", "in-1")
	sess.Receive("+5491100000001", "hola, ¿llegó mi pedido?\nsaludos", "in-1")
	sess.Receive("+54 9 11 0000-0002", "baja", "in-2")
	eventually(t, func() bool { return len(incomingEvents(h)) == 2 }, "two incoming messages")
	rec.waitFor(t, "two message.incoming events", func(evs []wasend.Event) bool {
		return len(ofTopic(evs, wasend.TopicMessageIncoming)) == 2
	})

	list, err := h.client.Inbox(bg, wasend.InboxFilter{ContextID: bc.ID})
	require.NoError(t, err)
	require.Len(t, list, 2)
	assert.Equal(t, "+5491100000001", list[0].From)
	assert.Equal(t, "hola, ¿llegó mi pedido?\nsaludos", list[0].Text)
	assert.Equal(t, "in-1", list[0].WAMessageID)
	assert.False(t, list[0].OptOut)
	assert.NotZero(t, list[0].ID)
	assert.False(t, list[0].CreatedAt.IsZero())
	assert.Equal(t, "+5491100000002", list[1].From, "stored in its canonical form")
	assert.True(t, list[1].OptOut)

	told := incomingEvents(h)
	assert.Equal(t, list[0].ID, told[0].Incoming.ID, "the host hears the stored message")
	assert.Equal(t, bc.ID, told[0].Incoming.ContextID)

	evs := ofTopic(rec.all(), wasend.TopicMessageIncoming)
	for _, ev := range evs {
		assert.Equal(t, bc.ID, ev.ContextID)
		assert.Zero(t, ev.JobID)
		assert.Zero(t, ev.MessageID)
		assert.NotContains(t, ev.Metadata, "text")
		assert.NotContains(t, ev.Metadata, "wa_message_id", "WhatsApp's id holds the number")
		assert.NotContains(t, ev.Data["from"], "1100000", "masked")
	}
	assert.Equal(t, false, evs[0].Data["opt_out"])
	assert.Equal(t, true, evs[1].Data["opt_out"])
	assert.NotContains(t, h.logs.String(), "pedido", "no text in the logs")
	assert.NotContains(t, h.logs.String(), "5491100000001", "no whole number in the logs")

	mine, err := h.client.Inbox(bg, wasend.InboxFilter{From: "+54 9 11 0000-0002"})
	require.NoError(t, err)
	require.Len(t, mine, 1)
	assert.Equal(t, "in-2", mine[0].WAMessageID)
	newest, err := h.client.Inbox(bg, wasend.InboxFilter{Newest: true, Limit: 1})
	require.NoError(t, err)
	require.Len(t, newest, 1)
	assert.Equal(t, list[1].ID, newest[0].ID)
	older, err := h.client.Inbox(bg, wasend.InboxFilter{Newest: true, BeforeID: newest[0].ID})
	require.NoError(t, err)
	require.Len(t, older, 1)
	assert.Equal(t, list[0].ID, older[0].ID)
}

func TestEventPIIPutsNumbersAndTextsInEvents(t *testing.T) {
	rec := &received{}
	h := newHarness(t, harnessOpt{opts: []wasend.Option{withOutbox(rec), wasend.WithEventPII(true)}})
	_, sess := h.newContext()
	sess.Receive("+5491100000001", "STOP please", "in-1")
	rec.waitFor(t, "the incoming and suppression events", func(evs []wasend.Event) bool {
		return len(ofTopic(evs, wasend.TopicMessageIncoming)) == 1 && len(ofTopic(evs, wasend.TopicSuppressionAdded)) == 1
	})
	in := ofTopic(rec.all(), wasend.TopicMessageIncoming)[0]
	assert.Equal(t, "+5491100000001", in.Data["from"])
	assert.Equal(t, "STOP please", in.Data["text"])
	assert.Equal(t, "in-1", in.Data["wa_message_id"])
	sup := ofTopic(rec.all(), wasend.TopicSuppressionAdded)[0]
	assert.Equal(t, "+5491100000001", sup.Data["phone"])
	assert.NotContains(t, h.logs.String(), "STOP please", "the logs never carry them")
	assert.NotContains(t, h.logs.String(), "5491100000001")
}

// What a page may report wrong: no message, a sender that is not a phone
// number, a text that is not UTF-8, no WhatsApp id (the same row twice is
// still told once).
func TestIncomingFromAHostilePage(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	bc, sess := h.newContext()
	emit := func(m *wasend.IncomingMessage) { sessEmit(sess, m) }
	emit(nil)
	emit(&wasend.IncomingMessage{From: "status@broadcast", Text: "hi", WAMessageID: "x1"})
	emit(&wasend.IncomingMessage{From: "+5491100000001", Text: "bad \xff byte\x00", WAMessageID: "x2"})
	at := time.Date(2026, 12, 7, 10, 30, 0, 0, time.UTC) // the page's minute
	emit(&wasend.IncomingMessage{From: "+5491100000001", Text: "no id", At: at})
	emit(&wasend.IncomingMessage{From: "+5491100000001", Text: "no id", At: at})
	emit(&wasend.IncomingMessage{From: "+5491100000001", Text: "last", WAMessageID: "x3"})
	eventually(t, func() bool { return len(incomingEvents(h)) == 3 }, "three messages told")
	list, err := h.client.Inbox(bg, wasend.InboxFilter{ContextID: bc.ID})
	require.NoError(t, err)
	require.Len(t, list, 3)
	assert.Equal(t, "bad \uFFFD byte", list[0].Text)
	assert.True(t, strings.HasPrefix(list[1].WAMessageID, "wasend:"), "an id stands in for the missing one")
	assert.Equal(t, "last", list[2].Text)
	assert.Contains(t, h.logs.String(), "not a phone number")
}

// sessEmit makes a session report an incoming message as it is.
func sessEmit(s *wasendtest.Session, m *wasend.IncomingMessage) {
	s.Report(wasend.SessionEvent{Type: wasend.EventIncoming, Incoming: m})
}

// A message recorded before a restart is not told again by the next
// process: the inbox is the judge.
func TestIncomingSeenBeforeARestartIsNotToldAgain(t *testing.T) {
	store := wasendtest.NewStore()
	h1 := newHarness(t, harnessOpt{store: store})
	bc, sess := h1.newContext()
	sess.Receive("+5491100000001", "first", "in-1")
	eventually(t, func() bool { return len(incomingEvents(h1)) == 1 }, "the first message")
	h1.stop()
	require.NoError(t, h1.client.Close())

	h2 := newHarness(t, harnessOpt{store: store, sharedPool: h1.pool})
	_, err := h2.client.OpenContext(bg, bc.ID)
	require.NoError(t, err)
	h2.waitContext(bc.ID, wasend.ContextAvailable)
	again := h2.pool.Session(bc.SystemID)
	again.Receive("+5491100000001", "first", "in-1")
	again.Receive("+5491100000001", "second", "in-2")
	eventually(t, func() bool { return len(incomingEvents(h2)) >= 1 }, "the second message")
	require.Len(t, incomingEvents(h2), 1)
	assert.Equal(t, "second", incomingEvents(h2)[0].Incoming.Text)
	list, err := h2.client.Inbox(bg, wasend.InboxFilter{})
	require.NoError(t, err)
	assert.Len(t, list, 2)
}

// When the store cannot record an incoming message, the host still hears
// of it at once, the failure is logged, and an opt-out is written once the
// store is back.
func TestIncomingWhenTheStoreFails(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	_, sess := h.newContext()
	h.stop()
	h.store.SetFailure(errors.New("disk full"))
	sess.Receive("+5491100000001", "STOP", "in-1")
	eventually(t, func() bool { return len(incomingEvents(h)) == 1 }, "the host to hear of it")
	assert.Contains(t, h.logs.String(), "could not record an incoming message")
	h.store.SetFailure(nil)
	eventually(t, func() bool {
		list, err := h.client.Suppressions(bg, wasend.SuppressionFilter{})
		require.NoError(t, err)
		return len(list) == 1
	}, "the opt-out to be written once the store is back")
}

func TestInboxAndMarkReadNeedWhatTheyUse(t *testing.T) {
	plain := newHarness(t, harnessOpt{wrap: func(s wasend.Store) wasend.Store { return struct{ wasend.Store }{s} }})
	bc, sess := plain.newContext()
	_, err := plain.client.Inbox(bg, wasend.InboxFilter{})
	assert.ErrorIs(t, err, wasend.ErrNotSupported)
	// Without an inbox, a message is still told once.
	sess.Receive("+5491100000001", "hi", "in-1")
	sess.Receive("+5491100000001", "hi", "in-1")
	sess.Receive("+5491100000001", "bye", "in-2")
	eventually(t, func() bool { return len(incomingEvents(plain)) == 2 }, "two messages told")

	require.NoError(t, plain.client.MarkRead(bg, bc.ID, "+5491100000001"))
	assert.Equal(t, []string{"+5491100000001"}, sess.Reads())
	sess.SetMarkReadError(wasend.ErrTimeout)
	assert.ErrorIs(t, plain.client.MarkRead(bg, bc.ID, "+5491100000001"), wasend.ErrTimeout)
	assert.ErrorIs(t, plain.client.MarkRead(bg, bc.ID, "nope"), wasend.ErrInvalidPhone)
	assert.ErrorIs(t, plain.client.MarkRead(bg, 4242, "+5491100000001"), wasend.ErrContextNotFound)

	legacy := newHarness(t, harnessOpt{pool: []wasendtest.Option{wasendtest.WithLegacySessions()}})
	lbc, _ := legacy.newContext()
	assert.ErrorIs(t, legacy.client.MarkRead(bg, lbc.ID, "+5491100000001"), wasend.ErrNotSupported)

	// A context this process does not hold.
	other := newHarness(t, harnessOpt{store: legacy.store, noRun: true})
	assert.ErrorIs(t, other.client.MarkRead(bg, lbc.ID, "+5491100000001"), wasend.ErrContextNotAvailable)

	for _, f := range []wasend.InboxFilter{{Limit: -1}, {Limit: wasend.MaxJobsPage + 1}, {AfterID: -1}, {From: "x"}} {
		_, err := legacy.client.Inbox(bg, f)
		assert.ErrorIs(t, err, wasend.ErrInvalidFilter, "%+v", f)
	}
}

// WithMarkRead marks each new incoming message read, through its session.
func TestWithMarkReadMarksNewMessagesRead(t *testing.T) {
	h := newHarness(t, harnessOpt{opts: []wasend.Option{wasend.WithMarkRead(true)}})
	_, sess := h.newContext()
	sess.Receive("+5491100000001", "read me", "in-1")
	sess.Receive("+5491100000001", "read me", "in-1")
	eventually(t, func() bool { return len(sess.Reads()) == 1 }, "the chat marked read")
	eventually(t, func() bool { return len(incomingEvents(h)) == 1 }, "the message told")
	assert.Equal(t, []string{"+5491100000001"}, sess.Reads(), "once: the second was the same row")

	// Without it, nothing is marked read.
	off := newHarness(t, harnessOpt{})
	_, sess = off.newContext()
	sess.Receive("+5491100000001", "do not read me", "in-1")
	eventually(t, func() bool { return len(incomingEvents(off)) == 1 }, "the message told")
	assert.Empty(t, sess.Reads())
}
