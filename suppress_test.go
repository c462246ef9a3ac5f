package wasend_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/wasendtest"
)

// withOutbox adds an outbox whose events rec takes.
func withOutbox(rec *received) wasend.Option {
	return wasend.WithOutbox(func(_ context.Context, ev wasend.Event) error {
		rec.take(ev)
		return nil
	})
}

func ofTopic(evs []wasend.Event, topic wasend.Topic) []wasend.Event {
	var out []wasend.Event
	for _, ev := range evs {
		if ev.Topic == topic {
			out = append(out, ev)
		}
	}
	return out
}

func TestSuppressRefusesSendBeforeAnythingIsWritten(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	bc, _ := h.newContext()
	const to = "+5491122334455"

	added, err := h.client.Suppress(bg, "+54 9 11 2233-4455", "")
	require.NoError(t, err)
	assert.True(t, added)
	added, err = h.client.Suppress(bg, to, "complaint")
	require.NoError(t, err)
	assert.False(t, added, "suppressed already: the first reason stays")
	list, err := h.client.Suppressions(bg, wasend.SuppressionFilter{})
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, to, list[0].Phone)
	assert.Equal(t, wasend.SuppressHost, list[0].Reason)

	_, err = h.client.Send(bg, bc.ID, to, "hello")
	require.ErrorIs(t, err, wasend.ErrSuppressed)
	var ve *wasend.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "to", ve.Field)
	assert.NotContains(t, err.Error(), "1122334455", "the error masks the number")
	assert.Equal(t, wasend.ErrorKindSuppressed, wasend.KindOf(err))
	assert.False(t, wasend.Retryable(err))
	jobs, err := h.store.Jobs(bg, wasend.JobFilter{})
	require.NoError(t, err)
	assert.Empty(t, jobs, "nothing was recorded")

	removed, err := h.client.Unsuppress(bg, to)
	require.NoError(t, err)
	assert.True(t, removed)
	job, err := h.client.Send(bg, bc.ID, to, "hello")
	require.NoError(t, err)
	h.waitJob(job.ID, wasend.JobCompleted)
	assert.Equal(t, 1, h.pool.Count(to, "hello"))
}

func TestSuppressValidates(t *testing.T) {
	h := newHarness(t, harnessOpt{noRun: true})
	for _, tt := range []struct {
		phone, reason, field string
		want                 error
	}{
		{"12", "", "phone", wasend.ErrInvalidPhone},
		{"+5491122334455", "bad \xff", "reason", wasend.ErrInvalidText},
		{"+5491122334455", string(make([]byte, wasend.MaxSuppressionReasonLength+1)), "reason", wasend.ErrInvalidText},
		{"+5491122334455", stringOf('x', wasend.MaxSuppressionReasonLength+1), "reason", wasend.ErrTextTooLong},
	} {
		_, err := h.client.Suppress(bg, tt.phone, tt.reason)
		var ve *wasend.ValidationError
		require.ErrorAs(t, err, &ve)
		assert.Equal(t, tt.field, ve.Field)
		assert.ErrorIs(t, err, tt.want)
	}
	_, err := h.client.Suppressions(bg, wasend.SuppressionFilter{Limit: -1})
	assert.ErrorIs(t, err, wasend.ErrInvalidFilter)
	_, err = h.client.Suppressions(bg, wasend.SuppressionFilter{Limit: wasend.MaxJobsPage + 1})
	assert.ErrorIs(t, err, wasend.ErrInvalidFilter)
	_, err = h.client.Unsuppress(bg, "nope")
	assert.ErrorIs(t, err, wasend.ErrInvalidPhone)
}

func stringOf(r rune, n int) string {
	b := make([]rune, n)
	for i := range b {
		b[i] = r
	}
	return string(b)
}

// SendBulk records the job, and fails its messages to suppressed numbers
// on their own (ErrorKindSuppressed, no attempt, their own events); the
// others go on.
func TestSendBulkFailsSuppressedMessagesOnTheirOwn(t *testing.T) {
	rec := &received{}
	h := newHarness(t, harnessOpt{opts: []wasend.Option{withOutbox(rec)}})
	bc, _ := h.newContext()
	_, err := h.client.Suppress(bg, "+5491100000002", "")
	require.NoError(t, err)
	job, err := h.client.SendBulk(bg, bc.ID, []wasend.BulkMessage{
		{To: "+5491100000001", Text: "one"}, {To: "+54 9 11 0000-0002", Text: "two"}, {To: "+5491100000003", Text: "three"}})
	require.NoError(t, err)
	assert.Equal(t, wasend.MessageFailed, job.Messages[1].Status, "refused before SendBulk returned")
	done := h.waitJob(job.ID, wasend.JobCompleted)
	want := []wasend.MessageStatus{wasend.MessageSent, wasend.MessageFailed, wasend.MessageSent}
	for i, m := range done.Messages {
		assert.Equal(t, want[i], m.Status, "message %d", i)
	}
	refused := done.Messages[1]
	assert.Equal(t, wasend.ErrorKindSuppressed, refused.ErrorKind)
	assert.Zero(t, refused.Attempts, "no attempt")
	assert.Zero(t, h.pool.Count("+5491100000002", "two"), "never reached WhatsApp")
	rec.waitFor(t, "the job's completion", func(evs []wasend.Event) bool { return hasTopic(evs, job.ID, wasend.TopicJobCompleted) })
	failed := ofTopic(rec.all(), wasend.TopicMessageFailed)
	require.Len(t, failed, 1)
	assert.Equal(t, refused.ID, failed[0].MessageID)
	assert.Equal(t, wasend.ErrorKindSuppressed, failed[0].ErrorKind)
	assert.Equal(t, job.ID, failed[0].JobID)

	// Every message suppressed: the job completes at once, and nothing runs.
	all, err := h.client.SendBulk(bg, bc.ID, []wasend.BulkMessage{{To: "+5491100000002", Text: "again"}})
	require.NoError(t, err)
	assert.Equal(t, wasend.JobCompleted, all.Status)
	assert.Equal(t, wasend.MessageFailed, all.Messages[0].Status)
}

// A number suppressed after its message was recorded is not sent: the
// message fails at its turn, without an attempt, in single and bulk jobs.
func TestSuppressedAfterRecordingIsNotSent(t *testing.T) {
	h := newHarness(t, harnessOpt{noRun: true})
	bc, _ := h.newContext()
	single, err := h.client.Send(bg, bc.ID, "+5491100000009", "late")
	require.NoError(t, err)
	bulk, err := h.client.SendBulk(bg, bc.ID, []wasend.BulkMessage{
		{To: "+5491100000009", Text: "late bulk"}, {To: "+5491100000008", Text: "fine"}})
	require.NoError(t, err)
	_, err = h.client.Suppress(bg, "+5491100000009", "opted out by phone")
	require.NoError(t, err)
	h.run()

	j := h.waitJob(single.ID, wasend.JobFailed)
	assert.Equal(t, wasend.ErrorKindSuppressed, j.ErrorKind)
	assert.Equal(t, wasend.MessageFailed, j.Messages[0].Status)
	assert.Equal(t, wasend.ErrorKindSuppressed, j.Messages[0].ErrorKind)
	assert.Zero(t, j.Messages[0].Attempts)
	b := h.waitJob(bulk.ID, wasend.JobCompleted)
	assert.Equal(t, wasend.MessageFailed, b.Messages[0].Status)
	assert.Equal(t, wasend.MessageSent, b.Messages[1].Status)
	assert.Zero(t, h.pool.Count("+5491100000009", "late"))
	assert.Zero(t, h.pool.Count("+5491100000009", "late bulk"))
	assert.Equal(t, 1, h.pool.Count("+5491100000008", "fine"))
	assert.NotContains(t, h.logs.String(), "5491100000009", "no whole number in the logs")
}

// The list counts Brazil's two forms of a mobile number as one: an
// opt-out from the old eight-digit form stops sends to the nine-digit one.
func TestSuppressionCoversBrazilsNinthDigit(t *testing.T) {
	h := newHarness(t, harnessOpt{noRun: true})
	bc, _ := h.newContext()
	_, err := h.client.Suppress(bg, "+55 11 8765-4321", "")
	require.NoError(t, err)
	_, err = h.client.Send(bg, bc.ID, "+55 11 98765-4321", "oi")
	assert.ErrorIs(t, err, wasend.ErrSuppressed)
	removed, err := h.client.Unsuppress(bg, "+5511987654321")
	require.NoError(t, err)
	assert.True(t, removed, "either form removes it")
	_, err = h.client.Send(bg, bc.ID, "+55 11 8765-4321", "oi")
	assert.NoError(t, err)
}

// A contact who writes an opt-out keyword is suppressed, once, with its
// event; one who writes "stopwatch" is not.
func TestOptOutSuppressesTheSender(t *testing.T) {
	rec := &received{}
	h := newHarness(t, harnessOpt{opts: []wasend.Option{withOutbox(rec)}})
	bc, sess := h.newContext()
	sess.Receive("+5491100000001", "Stop.", "in-1")
	sess.Receive("+5491100000002", "my stopwatch broke", "in-2")
	sess.Receive("+5491100000003", "ARRÊT", "in-3")
	sess.Receive("+5491100000001", "Stop.", "in-1") // the same row, seen again
	sess.Receive("+5491100000001", "STOP", "in-4")  // a second opt-out
	eventually(t, func() bool { return len(incomingEvents(h)) == 4 }, "the four incoming messages (got %d)",
		func() any { return len(incomingEvents(h)) })
	list, err := h.client.Suppressions(bg, wasend.SuppressionFilter{})
	require.NoError(t, err)
	require.Len(t, list, 2)
	assert.Equal(t, "+5491100000001", list[0].Phone)
	assert.Equal(t, wasend.SuppressOptOut, list[0].Reason)
	assert.Equal(t, bc.ID, list[0].ContextID)
	assert.Equal(t, "+5491100000003", list[1].Phone)
	_, err = h.client.Send(bg, bc.ID, "+5491100000001", "are you there?")
	assert.ErrorIs(t, err, wasend.ErrSuppressed)
	_, err = h.client.Send(bg, bc.ID, "+5491100000002", "new watch?")
	assert.NoError(t, err)

	got := incomingEvents(h)
	assert.True(t, got[0].Incoming.OptOut)
	assert.False(t, got[1].Incoming.OptOut)
	assert.Equal(t, bc.ID, got[0].ContextID)
	rec.waitFor(t, "two suppression.added events", func(evs []wasend.Event) bool {
		return len(ofTopic(evs, wasend.TopicSuppressionAdded)) == 2
	})
	for _, ev := range ofTopic(rec.all(), wasend.TopicSuppressionAdded) {
		assert.Equal(t, bc.ID, ev.ContextID)
		assert.Equal(t, wasend.SuppressOptOut, ev.Status)
		assert.NotContains(t, ev.Data["phone"], "11000000", "masked without WithEventPII")
	}
	assert.NotContains(t, h.logs.String(), "5491100000001")
	assert.NotContains(t, h.logs.String(), "my stopwatch", "no text in the logs")
}

func incomingEvents(h *harness) []wasend.SessionEvent {
	var out []wasend.SessionEvent
	for _, ev := range h.events.all() {
		if ev.Type == wasend.EventIncoming {
			out = append(out, ev)
		}
	}
	return out
}

func TestOptOutKeywordsCanBeChangedOrTurnedOff(t *testing.T) {
	h := newHarness(t, harnessOpt{opts: []wasend.Option{wasend.WithOptOutKeywords("basta ya")}})
	_, sess := h.newContext()
	sess.Receive("+5491100000001", "STOP", "")
	sess.Receive("+5491100000002", "¡Basta, ya!", "")
	eventually(t, func() bool { return len(incomingEvents(h)) == 2 }, "the incoming messages")
	list, err := h.client.Suppressions(bg, wasend.SuppressionFilter{})
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, "+5491100000002", list[0].Phone)

	off := newHarness(t, harnessOpt{opts: []wasend.Option{wasend.WithOptOutKeywords()}})
	_, sess = off.newContext()
	sess.Receive("+5491100000001", "STOP", "")
	eventually(t, func() bool { return len(incomingEvents(off)) == 1 }, "the incoming message")
	list, err = off.client.Suppressions(bg, wasend.SuppressionFilter{})
	require.NoError(t, err)
	assert.Empty(t, list)

	_, err = wasend.New(wasendtest.NewPool(), wasendtest.NewQueue(), wasendtest.NewStore(), wasend.WithOptOutKeywords("!!"))
	assert.ErrorIs(t, err, wasend.ErrInvalidOption)
}

// A store without a suppression list: Suppress says so, sends are not
// checked, and an opt-out is logged.
func TestNoSuppressionStore(t *testing.T) {
	h := newHarness(t, harnessOpt{wrap: func(s wasend.Store) wasend.Store { return struct{ wasend.Store }{s} }})
	bc, sess := h.newContext()
	_, err := h.client.Suppress(bg, "+5491100000001", "")
	assert.ErrorIs(t, err, wasend.ErrNotSupported)
	_, err = h.client.Unsuppress(bg, "+5491100000001")
	assert.ErrorIs(t, err, wasend.ErrNotSupported)
	_, err = h.client.Suppressions(bg, wasend.SuppressionFilter{})
	assert.ErrorIs(t, err, wasend.ErrNotSupported)
	sess.Receive("+5491100000001", "stop", "")
	eventually(t, func() bool { return len(incomingEvents(h)) == 1 }, "the incoming message")
	job, err := h.client.Send(bg, bc.ID, "+5491100000001", "hi")
	require.NoError(t, err)
	h.waitJob(job.ID, wasend.JobCompleted)
	assert.Contains(t, h.logs.String(), "keeps no suppression list")
}

// SendCampaign fails its messages to suppressed numbers on their own.
func TestSendCampaignFailsSuppressedMessages(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	a, _ := h.newContext()
	b, _ := h.newContext()
	_, err := h.client.Suppress(bg, "+5491100000002", "")
	require.NoError(t, err)
	camp, err := h.client.SendCampaign(bg, []int64{a.ID, b.ID}, []wasend.BulkMessage{
		{To: "+5491100000001", Text: "c"}, {To: "+5491100000002", Text: "c"}, {To: "+5491100000003", Text: "c"}})
	require.NoError(t, err)
	eventually(t, func() bool {
		c, err := h.client.Campaign(bg, camp.ID)
		require.NoError(t, err)
		return c.Status() == wasend.JobCompleted
	}, "the campaign to complete")
	c, err := h.client.Campaign(bg, camp.ID)
	require.NoError(t, err)
	counts := c.Counts()
	assert.Equal(t, int64(2), counts[wasend.MessageSent])
	assert.Equal(t, int64(1), counts[wasend.MessageFailed])
	for _, m := range c.Messages() {
		if m.To == "+5491100000002" {
			assert.Equal(t, wasend.ErrorKindSuppressed, m.ErrorKind)
		}
	}
	assert.Zero(t, h.pool.Count("+5491100000002", "c"))
}

// orderStore logs the calls that record an incoming message and that
// suppress its sender.
type orderStore struct {
	*wasendtest.Store
	mu    sync.Mutex
	calls []string
}

func (s *orderStore) log(c string) {
	s.mu.Lock()
	s.calls = append(s.calls, c)
	s.mu.Unlock()
}

func (s *orderStore) Suppress(ctx context.Context, sup wasend.Suppression, evs []wasend.Event) (bool, error) {
	s.log("suppress " + sup.Phone)
	return s.Store.Suppress(ctx, sup, evs)
}

func (s *orderStore) RecordIncoming(ctx context.Context, m wasend.IncomingMessage, evs []wasend.Event) (wasend.IncomingMessage, bool, error) {
	s.log("record " + m.WAMessageID)
	return s.Store.RecordIncoming(ctx, m, evs)
}

func (s *orderStore) log2() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

// An opt-out is durable before its message is recorded: a process that
// dies between the two leaves the message unrecorded, so the next one
// suppresses it again, where the other order would lose it. An opt-out
// recorded before suppresses nothing when seen again after a restart,
// so a suppression the host lifted stays lifted.
func TestOptOutIsDurableBeforeItsMessageIsRecorded(t *testing.T) {
	store := wasendtest.NewStore()
	ord := &orderStore{Store: store}
	h1 := newHarness(t, harnessOpt{store: store, wrap: func(wasend.Store) wasend.Store { return ord }})
	bc, sess := h1.newContext()
	sess.Receive("+5491100000001", "STOP", "in-1")
	sess.Receive("+5491100000002", "hello", "in-2")
	eventually(t, func() bool { return len(incomingEvents(h1)) == 2 }, "the two messages")
	assert.Equal(t, []string{"suppress +5491100000001", "record in-1", "record in-2"}, ord.log2())

	// The host lifts the suppression; after a restart the session shows
	// the STOP again: it is recorded, so nothing is suppressed.
	ok, err := h1.client.Unsuppress(bg, "+5491100000001")
	require.NoError(t, err)
	require.True(t, ok)
	h1.stop()
	require.NoError(t, h1.client.Close())
	h2 := newHarness(t, harnessOpt{store: store, sharedPool: h1.pool})
	_, err = h2.client.OpenContext(bg, bc.ID)
	require.NoError(t, err)
	h2.waitContext(bc.ID, wasend.ContextAvailable)
	again := h2.pool.Session(bc.SystemID)
	again.Receive("+5491100000001", "STOP", "in-1")
	again.Receive("+5491100000003", "hi", "in-3")
	eventually(t, func() bool { return len(incomingEvents(h2)) == 1 }, "the new message")
	list, err := h2.client.Suppressions(bg, wasend.SuppressionFilter{})
	require.NoError(t, err)
	assert.Empty(t, list, "the lifted suppression stays lifted")

	// A process that died after the suppression and before the record:
	// the message is not in the inbox, the number is suppressed, and the
	// next sight of the message suppresses again without error.
	_, err = store.Suppress(bg, wasend.Suppression{Phone: "+5491100000004", Reason: wasend.SuppressOptOut, ContextID: bc.ID, CreatedAt: time.Now()}, nil)
	require.NoError(t, err)
	again.Receive("+5491100000004", "baja", "in-4")
	eventually(t, func() bool { return len(incomingEvents(h2)) == 2 }, "the opt-out seen after the crash")
	list, err = h2.client.Suppressions(bg, wasend.SuppressionFilter{})
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, "+5491100000004", list[0].Phone)
}
