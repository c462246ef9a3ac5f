package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wasend/wasend"
)

// Receipts: the optional wasend.ReceiptStore, and the columns that came
// with it: a message's Media and a context's Account. Run registers this
// group only for a store that implements it.

var receiptTests = []test{
	{"Conditional", testReceiptConditional},
	{"ReadImpliesDelivered", testReceiptReadImpliesDelivered},
	{"Undelivered", testReceiptUndelivered},
	{"AtZeroIsNow", testReceiptNow},
	{"Atomic", testReceiptAtomic},
	{"WithMessage", testReceiptWithMessage},
	{"Invalid", testReceiptInvalid},
	{"Unread", testReceiptUnread},
	{"UnreadPaging", testReceiptUnreadPaging},
	{"UnreadInvalid", testReceiptUnreadInvalid},
	{"Counts", testReceiptCounts},
	{"Media", testMedia},
	{"MediaInvalid", testMediaInvalid},
	{"Account", testAccount},
}

// receiptStore returns the store under test as a ReceiptStore.
func receiptStore(t *testing.T, s *store) wasend.ReceiptStore {
	t.Helper()
	return optional[wasend.ReceiptStore](t, s)
}

// markSent moves a pending message to sent, sent at at.
func markSent(t *testing.T, s wasend.Store, id int64, at time.Time) {
	t.Helper()
	wantApply(t, s, wasend.Step{Message: &wasend.MessageTransition{ID: id, From: msgPend, To: wasend.MessageSent,
		SentAt: at, At: at, WAMessageID: fmt.Sprintf("wamid-%d", id)}}, true)
}

func receipt(id int64, ack wasend.Ack, at time.Time) wasend.Step {
	return wasend.Step{Receipt: &wasend.ReceiptTransition{MessageID: id, Ack: ack, At: at}}
}

func undelivered(id int64, at time.Time) wasend.Step {
	return wasend.Step{Receipt: &wasend.ReceiptTransition{MessageID: id, Undelivered: true, At: at}}
}

// mustMessage returns message i of a job, as Job reads it.
func mustMessage(t *testing.T, s wasend.Store, jobID int64, i int) wasend.Message {
	t.Helper()
	j := mustGetJob(t, s, jobID)
	if i >= len(j.Messages) {
		t.Fatalf("job %d has %d messages, want more than %d", jobID, len(j.Messages), i)
	}
	return j.Messages[i]
}

// checkReceipts fails unless the message's receipts are these times (zero
// for none).
func checkReceipts(t *testing.T, what string, m wasend.Message, delivered, read, undelivered time.Time) {
	t.Helper()
	var d []string
	d = diffTime(d, "DeliveredAt", m.DeliveredAt, delivered)
	d = diffTime(d, "ReadAt", m.ReadAt, read)
	d = diffTime(d, "UndeliveredAt", m.UndeliveredAt, undelivered)
	for _, x := range []time.Time{m.DeliveredAt, m.ReadAt, m.UndeliveredAt} {
		if !x.IsZero() && x.Location() != time.UTC {
			d = append(d, fmt.Sprintf("time %v not in UTC", x))
		}
	}
	if len(d) > 0 {
		t.Fatalf("%s: message %d: %s", what, m.ID, strings.Join(d, "; "))
	}
}

// testReceiptConditional: a receipt applies only to a sent message, and
// only when it sets a column that is not set: each ack is recorded once,
// at the time of its first report.
func testReceiptConditional(t *testing.T, s *store) {
	bc := newContext(t, s, wasend.ContextAvailable)
	j := mustJob(t, s, job(bc.ID, wasend.KindBulk, 2))
	m := j.Messages[0]
	b := s.base()
	at := func(n int) time.Time { return b.Add(time.Duration(n) * time.Minute) }

	// Not sent yet: no receipt applies, whatever the ack.
	for _, ack := range []wasend.Ack{wasend.AckDelivered, wasend.AckRead, wasend.AckPlayed} {
		wantApply(t, s, receipt(m.ID, ack, at(1)), false)
	}
	wantApply(t, s, undelivered(m.ID, at(1)), false)
	checkReceipts(t, "receipts of a pending message", mustMessage(t, s, j.ID, 0), time.Time{}, time.Time{}, time.Time{})

	markSent(t, s, m.ID, at(2))
	// The acks a sent message has already change nothing.
	for _, ack := range []wasend.Ack{wasend.AckNone, wasend.AckPending, wasend.AckSent} {
		wantApply(t, s, receipt(m.ID, ack, at(3)), false)
	}
	before := mustMessage(t, s, j.ID, 0)
	checkReceipts(t, "after acks below delivered", before, time.Time{}, time.Time{}, time.Time{})

	wantApply(t, s, receipt(m.ID, wasend.AckDelivered, at(4)), true)
	got := mustMessage(t, s, j.ID, 0)
	checkReceipts(t, "delivered", got, at(4), time.Time{}, time.Time{})
	// Nothing else of the message changes (updated_at aside).
	want := before
	want.DeliveredAt, want.UpdatedAt = at(4), got.UpdatedAt
	for _, d := range diffMessage(got, want) {
		t.Fatalf("delivered: message %d: %s", m.ID, d)
	}
	// Delivered again: the first report stays.
	wantApply(t, s, receipt(m.ID, wasend.AckDelivered, at(5)), false)
	checkReceipts(t, "delivered twice", mustMessage(t, s, j.ID, 0), at(4), time.Time{}, time.Time{})

	wantApply(t, s, receipt(m.ID, wasend.AckRead, at(6)), true)
	checkReceipts(t, "read", mustMessage(t, s, j.ID, 0), at(4), at(6), time.Time{})
	for _, ack := range []wasend.Ack{wasend.AckDelivered, wasend.AckRead, wasend.AckPlayed} {
		wantApply(t, s, receipt(m.ID, ack, at(7)), false)
	}
	checkReceipts(t, "read, then acks again", mustMessage(t, s, j.ID, 0), at(4), at(6), time.Time{})
	// The other message was left alone.
	checkReceipts(t, "the other message", mustMessage(t, s, j.ID, 1), time.Time{}, time.Time{}, time.Time{})
	// A message that failed, or that does not exist, takes none.
	wantApply(t, s, wasend.Step{Message: &wasend.MessageTransition{ID: j.Messages[1].ID, From: msgPend, To: wasend.MessageFailed}}, true)
	wantApply(t, s, receipt(j.Messages[1].ID, wasend.AckRead, at(8)), false)
	wantApply(t, s, receipt(missingID, wasend.AckRead, at(8)), false)
}

// testReceiptReadImpliesDelivered: a read (or played) message was
// delivered: a first ack of read sets both.
func testReceiptReadImpliesDelivered(t *testing.T, s *store) {
	bc := newContext(t, s, wasend.ContextAvailable)
	j := mustJob(t, s, job(bc.ID, wasend.KindBulk, 2))
	b := s.base()
	for i, ack := range []wasend.Ack{wasend.AckRead, wasend.AckPlayed} {
		id := j.Messages[i].ID
		markSent(t, s, id, b)
		at := b.Add(time.Duration(i+1) * time.Minute)
		wantApply(t, s, receipt(id, ack, at), true)
		checkReceipts(t, "first ack "+ack.String(), mustMessage(t, s, j.ID, i), at, at, time.Time{})
		wantApply(t, s, receipt(id, wasend.AckDelivered, at.Add(time.Minute)), false)
		checkReceipts(t, "delivered after "+ack.String(), mustMessage(t, s, j.ID, i), at, at, time.Time{})
	}
}

// testReceiptUndelivered: Undelivered is recorded once, and a delivery
// that comes after it is still recorded, with undelivered_at kept.
func testReceiptUndelivered(t *testing.T, s *store) {
	bc := newContext(t, s, wasend.ContextAvailable)
	j := mustJob(t, s, job(bc.ID, wasend.KindSingle, 1))
	id := j.Messages[0].ID
	b := s.base()
	markSent(t, s, id, b)
	wantApply(t, s, undelivered(id, b.Add(time.Hour)), true)
	checkReceipts(t, "undelivered", mustMessage(t, s, j.ID, 0), time.Time{}, time.Time{}, b.Add(time.Hour))
	wantApply(t, s, undelivered(id, b.Add(2*time.Hour)), false)
	checkReceipts(t, "undelivered twice", mustMessage(t, s, j.ID, 0), time.Time{}, time.Time{}, b.Add(time.Hour))
	wantApply(t, s, receipt(id, wasend.AckDelivered, b.Add(3*time.Hour)), true)
	checkReceipts(t, "delivered late", mustMessage(t, s, j.ID, 0), b.Add(3*time.Hour), time.Time{}, b.Add(time.Hour))
	// Both set: neither applies again, alone or together.
	wantApply(t, s, wasend.Step{Receipt: &wasend.ReceiptTransition{MessageID: id, Ack: wasend.AckDelivered, Undelivered: true,
		At: b.Add(4 * time.Hour)}}, false)
	checkReceipts(t, "both again", mustMessage(t, s, j.ID, 0), b.Add(3*time.Hour), time.Time{}, b.Add(time.Hour))
}

// testReceiptNow: a receipt with a zero At is recorded at the store's now.
func testReceiptNow(t *testing.T, s *store) {
	bc := newContext(t, s, wasend.ContextAvailable)
	j := mustJob(t, s, job(bc.ID, wasend.KindSingle, 1))
	markSent(t, s, j.Messages[0].ID, s.base())
	wantApply(t, s, wasend.Step{Receipt: &wasend.ReceiptTransition{MessageID: j.Messages[0].ID, Ack: wasend.AckRead}}, true)
	got := mustMessage(t, s, j.ID, 0)
	s.checkSet(t, "ReadAt of a receipt with a zero At", got.ReadAt)
	checkTime(t, "DeliveredAt of a read with a zero At", got.DeliveredAt, got.ReadAt)
}

// testReceiptAtomic: a receipt is one condition of its step: a step
// whose other transition does not match records no receipt, and one
// whose receipt does not apply changes nothing else. With an outbox, its
// events are recorded only when it applies.
func testReceiptAtomic(t *testing.T, s *store) {
	bc := newContext(t, s, wasend.ContextAvailable)
	j := mustJob(t, s, job(bc.ID, wasend.KindSingle, 1))
	id := j.Messages[0].ID
	b := s.base()
	markSent(t, s, id, b)
	o, outbox := s.Store.(wasend.OutboxStore)
	events := []wasend.Event{{Topic: wasend.TopicMessageDelivered, At: b, MessageID: id, Status: string(wasend.MessageSent)}}
	wantEvents := func(what string, n int64) {
		t.Helper()
		if !outbox {
			return
		}
		if c := mustEventCounts(t, o); c.Pending != n {
			t.Fatalf("%s: %d events pending, want %d", what, c.Pending, n)
		}
	}

	// The context is not busy: nothing happens.
	wantApply(t, s, wasend.Step{Receipt: &wasend.ReceiptTransition{MessageID: id, Ack: wasend.AckDelivered, At: b.Add(time.Minute)},
		Context: &wasend.ContextTransition{ID: bc.ID, From: busy, To: wasend.ContextAvailable}, Events: events}, false)
	checkReceipts(t, "step whose context does not match", mustMessage(t, s, j.ID, 0), time.Time{}, time.Time{}, time.Time{})
	wantEvents("step that did not apply", 0)

	wantApply(t, s, wasend.Step{Receipt: &wasend.ReceiptTransition{MessageID: id, Ack: wasend.AckDelivered, At: b.Add(time.Minute)},
		Events: events}, true)
	wantEvents("receipt that applied", 1)

	// Delivered already: the context's change does not happen either.
	ctxBefore := mustGetContext(t, s, bc.ID)
	wantApply(t, s, wasend.Step{Receipt: &wasend.ReceiptTransition{MessageID: id, Ack: wasend.AckDelivered, At: b.Add(2 * time.Minute)},
		Context: &wasend.ContextTransition{ID: bc.ID, From: available, To: wasend.ContextBusy, At: b.Add(2 * time.Minute)}, Events: events}, false)
	checkContext(t, "context of a step whose receipt did not apply", mustGetContext(t, s, bc.ID), ctxBefore)
	wantEvents("receipt that did not apply", 1)

	// Both match: both happen.
	wantApply(t, s, wasend.Step{Receipt: &wasend.ReceiptTransition{MessageID: id, Ack: wasend.AckRead, At: b.Add(3 * time.Minute)},
		Job:     &wasend.JobTransition{ID: j.ID, From: pending, To: wasend.JobCompleted, At: b.Add(3 * time.Minute)},
		Context: &wasend.ContextTransition{ID: bc.ID, From: available, To: wasend.ContextBusy, At: b.Add(3 * time.Minute)}}, true)
	got := mustGetJob(t, s, j.ID)
	if got.Status != wasend.JobCompleted || mustGetContext(t, s, bc.ID).Status != wasend.ContextBusy {
		t.Fatalf("step of a job, a receipt and a context: job %q, context %q; want completed, busy", got.Status, mustGetContext(t, s, bc.ID).Status)
	}
	checkReceipts(t, "read with a job and a context", got.Messages[0], b.Add(time.Minute), b.Add(3*time.Minute), time.Time{})

	if outbox {
		evs := mustClaim(t, o, "relay", b.Add(time.Hour), b.Add(2*time.Hour), 10)
		if len(evs) != 1 {
			t.Fatalf("ClaimEvents = %d events, want the receipt's 1", len(evs))
		}
		checkEvent(t, "receipt's event", evs[0], wasend.Event{Topic: wasend.TopicMessageDelivered, At: b, JobID: j.ID, MessageID: id,
			ContextID: bc.ID, Status: string(wasend.MessageSent), Version: wasend.EventVersion})
	}
}

// testReceiptWithMessage: a step that sends a message and records its
// first receipt at once applies both: the receipt sees the message sent.
func testReceiptWithMessage(t *testing.T, s *store) {
	bc := newContext(t, s, wasend.ContextAvailable)
	j := mustJob(t, s, job(bc.ID, wasend.KindSingle, 1))
	b := s.base()
	id := j.Messages[0].ID
	wantApply(t, s, wasend.Step{
		Message: &wasend.MessageTransition{ID: id, From: msgPend, To: wasend.MessageSent, SentAt: b, At: b},
		Receipt: &wasend.ReceiptTransition{MessageID: id, Ack: wasend.AckDelivered, At: b.Add(time.Second)}}, true)
	got := mustMessage(t, s, j.ID, 0)
	if got.Status != wasend.MessageSent {
		t.Fatalf("status = %q, want sent", got.Status)
	}
	checkReceipts(t, "sent and delivered in one step", got, b.Add(time.Second), time.Time{}, time.Time{})
	// The receipt of a message that the step does not send fails the step.
	j2 := mustJob(t, s, job(bc.ID, wasend.KindBulk, 2))
	wantApply(t, s, wasend.Step{
		Message: &wasend.MessageTransition{ID: j2.Messages[0].ID, From: msgPend, To: wasend.MessageSent, SentAt: b, At: b},
		Receipt: &wasend.ReceiptTransition{MessageID: j2.Messages[1].ID, Ack: wasend.AckDelivered, At: b}}, false)
	if got := mustMessage(t, s, j2.ID, 0); got.Status != wasend.MessagePending {
		t.Fatalf("message of a step whose receipt did not apply: status %q, want pending", got.Status)
	}
}

// testReceiptInvalid: a receipt of no message, or with an unknown ack, is
// a malformed step.
func testReceiptInvalid(t *testing.T, s *store) {
	bc := newContext(t, s, wasend.ContextAvailable)
	j := mustJob(t, s, job(bc.ID, wasend.KindSingle, 1))
	markSent(t, s, j.Messages[0].ID, s.base())
	for _, r := range []wasend.ReceiptTransition{
		{MessageID: 0, Ack: wasend.AckDelivered},
		{MessageID: -1, Ack: wasend.AckDelivered},
		{MessageID: j.Messages[0].ID, Ack: wasend.AckPlayed + 1},
		{MessageID: j.Messages[0].ID, Ack: -1},
	} {
		ok, err := s.Apply(t.Context(), wasend.Step{Receipt: &r})
		if ok || !errors.Is(err, wasend.ErrInvalidStep) {
			t.Fatalf("Apply(receipt of message %d, ack %s) = %v, %v; want false and an error wrapping %q", r.MessageID, r.Ack, ok, err,
				wasend.ErrInvalidStep)
		}
	}
	checkReceipts(t, "after malformed receipts", mustMessage(t, s, j.ID, 0), time.Time{}, time.Time{}, time.Time{})
}

// mustUnread calls Unread and fails unless it gives the messages want (by
// id), each as Job reads it.
func mustUnread(t *testing.T, s *store, f wasend.ReceiptFilter, want ...wasend.Message) []wasend.Message {
	t.Helper()
	got, err := receiptStore(t, s).Unread(t.Context(), f)
	if err != nil {
		t.Fatalf("Unread(%+v): %v", f, err)
	}
	var gotIDs, wantIDs []int64
	for _, m := range got {
		gotIDs = append(gotIDs, m.ID)
	}
	for _, m := range want {
		wantIDs = append(wantIDs, m.ID)
	}
	if !reflect.DeepEqual(gotIDs, wantIDs) {
		t.Fatalf("Unread(%+v) = messages %v, want %v", f, gotIDs, wantIDs)
	}
	for i := range got {
		if d := diffMessage(got[i], want[i]); len(d) > 0 {
			t.Fatalf("Unread(%+v): message %d differs from what Job reads:\n  %s", f, got[i].ID, strings.Join(d, "\n  "))
		}
	}
	return got
}

// testReceiptUnread: Unread gives a context's sent messages that are not
// read, by id, as the filter selects them.
func testReceiptUnread(t *testing.T, s *store) {
	a := newContext(t, s, wasend.ContextAvailable)
	other := newContext(t, s, wasend.ContextAvailable)
	b := s.base()
	h := func(n int) time.Time { return b.Add(time.Duration(n) * time.Hour) }
	j := mustJob(t, s, job(a.ID, wasend.KindBulk, 7))
	jo := mustJob(t, s, job(other.ID, wasend.KindSingle, 1))
	id := func(i int) int64 { return j.Messages[i].ID }
	// 0: sent; 1: delivered; 2: read; 3: undelivered; 4: pending; 5:
	// failed; 6: sent later.
	for i, n := range map[int]int{0: -5, 1: -4, 2: -3, 3: -2, 6: -1} {
		markSent(t, s, id(i), h(n))
	}
	markSent(t, s, jo.Messages[0].ID, h(-3))
	wantApply(t, s, receipt(id(1), wasend.AckDelivered, h(0)), true)
	wantApply(t, s, receipt(id(2), wasend.AckRead, h(0)), true)
	wantApply(t, s, undelivered(id(3), h(0)), true)
	wantApply(t, s, wasend.Step{Message: &wasend.MessageTransition{ID: id(5), From: msgPend, To: wasend.MessageFailed}}, true)
	got := mustGetJob(t, s, j.ID).Messages
	m := func(i int) wasend.Message { return got[i] }

	mustUnread(t, s, wasend.ReceiptFilter{ContextID: a.ID}, m(0), m(1), m(3), m(6))
	mustUnread(t, s, wasend.ReceiptFilter{ContextID: a.ID, Undelivered: true}, m(0), m(6))
	// SentAfter is inclusive, SentBefore exclusive.
	mustUnread(t, s, wasend.ReceiptFilter{ContextID: a.ID, SentAfter: h(-4)}, m(1), m(3), m(6))
	mustUnread(t, s, wasend.ReceiptFilter{ContextID: a.ID, SentBefore: h(-2)}, m(0), m(1))
	mustUnread(t, s, wasend.ReceiptFilter{ContextID: a.ID, SentAfter: h(-4), SentBefore: h(-1), Undelivered: true})
	mustUnread(t, s, wasend.ReceiptFilter{ContextID: a.ID, SentAfter: h(-4), SentBefore: h(-1)}, m(1), m(3))
	mustUnread(t, s, wasend.ReceiptFilter{ContextID: a.ID, Limit: 2}, m(0), m(1))
	mustUnread(t, s, wasend.ReceiptFilter{ContextID: a.ID, AfterID: id(1), Limit: 2}, m(3), m(6))
	mustUnread(t, s, wasend.ReceiptFilter{ContextID: other.ID}, mustGetJob(t, s, jo.ID).Messages[0])
	mustUnread(t, s, wasend.ReceiptFilter{ContextID: missingID})
	// Once read, a message leaves the list.
	wantApply(t, s, receipt(id(0), wasend.AckPlayed, h(1)), true)
	wantApply(t, s, receipt(id(3), wasend.AckRead, h(1)), true)
	mustUnread(t, s, wasend.ReceiptFilter{ContextID: a.ID}, mustMessage(t, s, j.ID, 1), mustMessage(t, s, j.ID, 6))
}

// testReceiptUnreadPaging: paging by AfterID walks every unread message
// once, in order, across jobs.
func testReceiptUnreadPaging(t *testing.T, s *store) {
	bc := newContext(t, s, wasend.ContextAvailable)
	b := s.base()
	var want []wasend.Message
	for n := range 4 {
		j := mustJob(t, s, job(bc.ID, wasend.KindBulk, 3))
		for i, m := range j.Messages {
			markSent(t, s, m.ID, b.Add(-time.Duration(n*3+i)*time.Minute))
		}
		want = append(want, mustGetJob(t, s, j.ID).Messages...)
	}
	var after int64
	for page := 0; ; page++ {
		if page > len(want) {
			t.Fatalf("paging did not end")
		}
		end := min(len(want), page*5+5)
		got := mustUnread(t, s, wasend.ReceiptFilter{ContextID: bc.ID, SentAfter: b.Add(-time.Hour), AfterID: after, Limit: 5},
			want[min(page*5, len(want)):end]...)
		if len(got) == 0 {
			break
		}
		after = got[len(got)-1].ID
	}
}

// testReceiptUnreadInvalid: Unread needs a context, and a limit that is
// not negative.
func testReceiptUnreadInvalid(t *testing.T, s *store) {
	r := receiptStore(t, s)
	for _, f := range []wasend.ReceiptFilter{{}, {ContextID: -1}, {ContextID: 1, Limit: -1}} {
		if _, err := r.Unread(t.Context(), f); !errors.Is(err, wasend.ErrInvalidFilter) {
			t.Fatalf("Unread(%+v): error = %v, want one wrapping %q", f, err, wasend.ErrInvalidFilter)
		}
	}
}

// testReceiptCounts: Counts counts the receipts by context.
func testReceiptCounts(t *testing.T, s *store) {
	a := newContext(t, s, wasend.ContextAvailable)
	b := newContext(t, s, wasend.ContextAvailable)
	newContext(t, s, wasend.ContextAvailable)
	base := s.base()
	ja := mustJob(t, s, job(a.ID, wasend.KindBulk, 5))
	jb := mustJob(t, s, job(b.ID, wasend.KindBulk, 2))
	for _, m := range append(ja.Messages[:4:4], jb.Messages...) {
		markSent(t, s, m.ID, base)
	}
	wantApply(t, s, receipt(ja.Messages[0].ID, wasend.AckDelivered, base), true)
	wantApply(t, s, receipt(ja.Messages[1].ID, wasend.AckRead, base), true)
	wantApply(t, s, undelivered(ja.Messages[2].ID, base), true)
	wantApply(t, s, receipt(jb.Messages[0].ID, wasend.AckPlayed, base), true)
	c, err := s.Counts(t.Context())
	if err != nil {
		t.Fatalf("Counts: %v", err)
	}
	got := map[int64]wasend.ReceiptCount{}
	for _, r := range c.Receipts {
		if _, dup := got[r.ContextID]; dup {
			t.Fatalf("Counts: receipts of context %d given twice", r.ContextID)
		}
		if r != (wasend.ReceiptCount{ContextID: r.ContextID}) {
			got[r.ContextID] = r
		}
	}
	want := map[int64]wasend.ReceiptCount{
		a.ID: {ContextID: a.ID, Delivered: 2, Read: 1, Undelivered: 1},
		b.ID: {ContextID: b.ID, Delivered: 1, Read: 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Counts().Receipts = %+v, want %+v", got, want)
	}
}

// mediaJob is a bulk job of a text message, an image and a document with
// names that are not ASCII, and a document that gives only its path.
func mediaJob(contextID int64) wasend.Job {
	return wasend.Job{ContextID: contextID, Kind: wasend.KindBulk, MaxAttempts: 3, Messages: []wasend.Message{
		{To: "+15550000001", Text: "just text"},
		{To: "+15550000002", Text: "¡Hola! 😀\nline two\n\tthird line", Media: &wasend.Media{Kind: wasend.MediaImage,
			Path: "/var/lib/app/médias/fotografía 😀 番号.jpg", Name: "fotografía 😀 番号.jpg", Type: "image/jpeg", Size: 123456,
			SHA256: strings.Repeat("ab", 32)}},
		{To: "+15550000003", Media: &wasend.Media{Kind: wasend.MediaDocument, Path: "/srv/docs/Überweisung März 2026 (1).pdf",
			Name: "Überweisung März 2026 (1).pdf", Type: "application/pdf", Size: 100 << 20, SHA256: strings.Repeat("0F", 32)}},
		{To: "+15550000004", Text: "caption", Media: &wasend.Media{Kind: wasend.MediaDocument, Path: "relative/имя файла.txt"}},
	}}
}

// testMedia: a message's Media is stored as given and read back by Job,
// by Unread, and once sent with its receipts, and a message that moves to
// another context (CampaignStore) keeps it; the store keeps no alias of
// the caller's value.
func testMedia(t *testing.T, s *store) {
	bc := newContext(t, s, wasend.ContextAvailable)
	in := mediaJob(bc.ID)
	wantMedia := make([]*wasend.Media, len(in.Messages))
	for i, m := range in.Messages {
		if m.Media != nil {
			c := *m.Media
			wantMedia[i] = &c
		}
	}
	j := mustJob(t, s, in)
	check := func(what string, msgs []wasend.Message) {
		t.Helper()
		if len(msgs) != len(wantMedia) {
			t.Fatalf("%s: %d messages, want %d", what, len(msgs), len(wantMedia))
		}
		for i, m := range msgs {
			if (m.Media == nil) != (wantMedia[i] == nil) || (m.Media != nil && *m.Media != *wantMedia[i]) {
				t.Fatalf("%s: message %d: Media = %s, want %s", what, i, describeMedia(m.Media), describeMedia(wantMedia[i]))
			}
			if m.Text != in.Messages[i].Text {
				t.Fatalf("%s: message %d: Text differs (%d bytes, want %d)", what, i, len(m.Text), len(in.Messages[i].Text))
			}
		}
	}
	check("CreateJob", j.Messages)
	// The caller's values change; the stored ones do not.
	in.Messages[1].Media.Name, in.Messages[2].Media.Size = "changed.jpg", 1
	j.Messages[3].Media.Path = "changed"
	check("Job", mustGetJob(t, s, j.ID).Messages)

	b := s.base()
	markSent(t, s, j.Messages[1].ID, b)
	markSent(t, s, j.Messages[2].ID, b)
	wantApply(t, s, receipt(j.Messages[2].ID, wasend.AckDelivered, b), true)
	got := mustGetJob(t, s, j.ID)
	check("Job after the sends", got.Messages)
	mustUnread(t, s, wasend.ReceiptFilter{ContextID: bc.ID}, got.Messages[1], got.Messages[2])

	if cs, ok := s.Store.(wasend.CampaignStore); ok {
		checkMediaMove(t, s, cs)
	}
}

// checkMediaMove checks that a message that moves to another context
// keeps its Media.
func checkMediaMove(t *testing.T, s *store, cs wasend.CampaignStore) {
	t.Helper()
	a := newContext(t, s, wasend.ContextAvailable)
	b := newContext(t, s, wasend.ContextAvailable)
	in := mediaJob(a.ID)
	c := mustCampaign(t, cs, wasend.Campaign{Contexts: []int64{a.ID, b.ID}, Move: true, Jobs: []wasend.Job{in}})
	src := c.Jobs[0]
	nj := mustMove(t, cs, wasend.MessageMove{FromJob: src.ID, ToContext: b.ID, Messages: []int64{src.Messages[2].ID, src.Messages[1].ID}})
	got := mustGetJob(t, s, nj.ID)
	if len(got.Messages) != 2 {
		t.Fatalf("moved job: %d messages, want 2", len(got.Messages))
	}
	for i, from := range []int{2, 1} {
		m, want := got.Messages[i], in.Messages[from].Media
		if m.Media == nil || *m.Media != *want {
			t.Fatalf("moved message %d (from %d): Media = %s, want %s", i, from, describeMedia(m.Media), describeMedia(want))
		}
	}
}

// testMediaInvalid: Media that is malformed gives an error wrapping
// wasend.ErrInvalidMedia, and the job is not stored.
func testMediaInvalid(t *testing.T, s *store) {
	bc := newContext(t, s, wasend.ContextAvailable)
	for _, md := range []wasend.Media{
		{Kind: "video", Path: "/a.mp4"},
		{Kind: "", Path: "/a.jpg"},
		{Kind: wasend.MediaImage},
		{Kind: wasend.MediaDocument, Path: "/a\x00b"},
		{Kind: wasend.MediaDocument, Path: "/a", Name: "bad \xff name"},
		{Kind: wasend.MediaDocument, Path: "/a", Size: -1},
	} {
		j := job(bc.ID, wasend.KindBulk, 2)
		j.Messages[1].Media = &md
		_, err := s.CreateJob(t.Context(), j)
		if !errors.Is(err, wasend.ErrInvalidMedia) {
			t.Fatalf("CreateJob with Media %s: error = %v, want one wrapping %q", describeMedia(&md), err, wasend.ErrInvalidMedia)
		}
	}
	if list, err := s.Jobs(t.Context(), wasend.JobFilter{}); err != nil || len(list) != 0 {
		t.Fatalf("Jobs after refused media = %d jobs, %v; want none", len(list), err)
	}
}

// testAccount: a context transition's Account is stored as the context's
// account, and read back by Context and Contexts; transitions without one
// keep it, and one that does not apply stores nothing.
func testAccount(t *testing.T, s *store) {
	bc := newContext(t, s, wasend.ContextDisconnected)
	other := newContext(t, s, wasend.ContextDisconnected)
	b := s.base()
	acc := func(v string) *string { return &v }
	step := func(n int, from, to wasend.ContextStatus, account *string, want bool) {
		t.Helper()
		wantApply(t, s, wasend.Step{Context: &wasend.ContextTransition{ID: bc.ID, From: []wasend.ContextStatus{from}, To: to,
			Account: account, At: b.Add(time.Duration(n) * time.Second)}}, want)
	}
	check := func(what, want string) {
		t.Helper()
		if got := mustGetContext(t, s, bc.ID).Account; got != want {
			t.Fatalf("%s: Context.Account = %s, want %s", what, wasend.MaskPhone(got), wasend.MaskPhone(want))
		}
		list := mustContexts(t, s, 2)
		if list[0].Account != want || list[1].ID != other.ID || list[1].Account != "" {
			t.Fatalf("%s: Contexts accounts = %s, %s; want %s and none", what, wasend.MaskPhone(list[0].Account),
				wasend.MaskPhone(list[1].Account), wasend.MaskPhone(want))
		}
	}
	check("new context", "")
	step(1, wasend.ContextDisconnected, wasend.ContextAvailable, acc("+5511987654321"), true)
	check("logged in", "+5511987654321")
	step(2, wasend.ContextAvailable, wasend.ContextBusy, nil, true)
	check("transition without an account", "+5511987654321")
	// A transition that does not apply stores nothing.
	step(3, wasend.ContextAvailable, wasend.ContextBusy, acc("+5511000000000"), false)
	check("transition that did not apply", "+5511987654321")
	step(4, wasend.ContextBusy, wasend.ContextBusy, acc("+5491112345678"), true)
	check("another account", "+5491112345678")
	step(5, wasend.ContextBusy, wasend.ContextDisconnected, acc(""), true)
	check("account cleared", "")
}
