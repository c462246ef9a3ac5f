package storetest

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/wasend/wasend"
)

// Inbox: the optional wasend.InboxStore. Run registers this group only for
// a store that implements it.

var inboxTests = []test{
	{"Record", testInboxRecord},
	{"Duplicate", testInboxDuplicate},
	{"Race", testInboxRace},
	{"Events", testInboxEvents},
	{"Filter", testInboxFilter},
	{"Paging", testInboxPaging},
	{"Invalid", testInboxInvalid},
	{"CleanKeeps", testInboxCleanKeeps},
}

// inboxStore returns the store under test as an InboxStore.
func inboxStore(t *testing.T, s *store) wasend.InboxStore {
	t.Helper()
	return optional[wasend.InboxStore](t, s)
}

// incoming builds an incoming message.
func incoming(contextID int64, from, waID, text string, at time.Time) wasend.IncomingMessage {
	return wasend.IncomingMessage{ContextID: contextID, From: from, WAMessageID: waID, Text: text, At: at}
}

func mustRecord(t *testing.T, in wasend.InboxStore, m wasend.IncomingMessage, events []wasend.Event, wantStored bool) wasend.IncomingMessage {
	t.Helper()
	got, stored, err := in.RecordIncoming(t.Context(), m, events)
	if err != nil {
		t.Fatalf("RecordIncoming(context %d, id %q): %v", m.ContextID, m.WAMessageID, err)
	}
	if stored != wantStored {
		t.Fatalf("RecordIncoming(context %d, id %q) stored = %v, want %v", m.ContextID, m.WAMessageID, stored, wantStored)
	}
	if got.ID <= 0 {
		t.Fatalf("RecordIncoming(context %d, id %q) = ID %d, want one set", m.ContextID, m.WAMessageID, got.ID)
	}
	return got
}

// diffIncoming lists the differences between two incoming messages; it
// never prints a phone number or a text.
func diffIncoming(got, want wasend.IncomingMessage) []string {
	var d []string
	f := func(what string, g, w any) {
		if g != w {
			d = append(d, fmt.Sprintf("%s = %#v, want %#v", what, g, w))
		}
	}
	f("ID", got.ID, want.ID)
	f("ContextID", got.ContextID, want.ContextID)
	if got.From != want.From {
		d = append(d, fmt.Sprintf("From = %s, want %s", wasend.MaskPhone(got.From), wasend.MaskPhone(want.From)))
	}
	if got.Text != want.Text {
		d = append(d, fmt.Sprintf("Text differs: got %d bytes, want %d bytes (first difference at byte %d)",
			len(got.Text), len(want.Text), firstDiff(got.Text, want.Text)))
	}
	d = diffTime(d, "At", got.At, want.At)
	f("WAMessageID", got.WAMessageID, want.WAMessageID)
	f("OptOut", got.OptOut, want.OptOut)
	d = diffTime(d, "CreatedAt", got.CreatedAt, want.CreatedAt)
	for _, x := range []time.Time{got.At, got.CreatedAt} {
		if !x.IsZero() && x.Location() != time.UTC {
			d = append(d, fmt.Sprintf("time %v not in UTC", x))
		}
	}
	return d
}

func checkIncoming(t *testing.T, what string, got, want wasend.IncomingMessage) {
	t.Helper()
	if d := diffIncoming(got, want); len(d) > 0 {
		t.Fatalf("%s: incoming message %d differs:\n  %v", what, want.ID, d)
	}
}

// mustIncoming lists incoming messages and fails unless they are want.
func mustIncoming(t *testing.T, in wasend.InboxStore, f wasend.InboxFilter, want ...wasend.IncomingMessage) []wasend.IncomingMessage {
	t.Helper()
	got, err := in.Incoming(t.Context(), f)
	if err != nil {
		t.Fatalf("Incoming(%+v): %v", f, err)
	}
	var gotIDs, wantIDs []int64
	for _, m := range got {
		gotIDs = append(gotIDs, m.ID)
	}
	for _, m := range want {
		wantIDs = append(wantIDs, m.ID)
	}
	if !reflect.DeepEqual(gotIDs, wantIDs) {
		t.Fatalf("Incoming(context %d, after %d, before %d, newest %v, limit %d) = %v, want %v", f.ContextID, f.AfterID, f.BeforeID,
			f.Newest, f.Limit, gotIDs, wantIDs)
	}
	for i := range got {
		checkIncoming(t, "Incoming", got[i], want[i])
	}
	return got
}

// testInboxRecord: a message is stored as given, with its id and
// CreatedAt, and read back as stored; texts (those of Texts, and none) are
// kept byte for byte.
func testInboxRecord(t *testing.T, s *store) {
	in := inboxStore(t, s)
	bc := newContext(t, s, wasend.ContextAvailable)
	b := s.base()
	texts := []string{"STOP", ""}
	for _, name := range slices.Sorted(maps.Keys(Texts())) {
		texts = append(texts, Texts()[name])
	}
	var want []wasend.IncomingMessage
	for i, text := range texts {
		m := incoming(bc.ID, fmt.Sprintf("+3460000000%d", i), fmt.Sprintf("false_3460000000%d@c.us_3EB0%02d", i, i), text,
			b.Add(-time.Duration(i)*time.Minute))
		m.OptOut = i == 0
		got := mustRecord(t, in, m, nil, true)
		s.checkSet(t, "CreatedAt", got.CreatedAt)
		if len(want) > 0 && got.ID <= want[len(want)-1].ID {
			t.Fatalf("incoming ids do not grow: %d after %d", got.ID, want[len(want)-1].ID)
		}
		m.ID, m.CreatedAt = got.ID, got.CreatedAt
		checkIncoming(t, "RecordIncoming", got, m)
		want = append(want, m)
	}
	mustIncoming(t, in, wasend.InboxFilter{Limit: len(want)}, want...)
	// A given CreatedAt is kept; a zero At is CreatedAt.
	m := incoming(bc.ID, "+15550001111", "wa-created", "x", time.Time{})
	m.CreatedAt = b.Add(-time.Hour)
	got := mustRecord(t, in, m, nil, true)
	m.ID, m.At = got.ID, m.CreatedAt
	checkIncoming(t, "RecordIncoming with a zero At", got, m)
}

// testInboxDuplicate: a message with a context's WhatsApp id stored
// already is not stored again: the first one is returned, with false.
// Another context may have the same id.
func testInboxDuplicate(t *testing.T, s *store) {
	in := inboxStore(t, s)
	a := newContext(t, s, wasend.ContextAvailable)
	other := newContext(t, s, wasend.ContextAvailable)
	b := s.base()
	first := mustRecord(t, in, incoming(a.ID, "+15550000001", "wa-1", "first", b), nil, true)
	again := incoming(a.ID, "+15550000002", "wa-1", "second", b.Add(time.Minute))
	again.OptOut = true
	got := mustRecord(t, in, again, nil, false)
	checkIncoming(t, "RecordIncoming of a duplicate", got, first)
	o := mustRecord(t, in, incoming(other.ID, "+15550000001", "wa-1", "first", b), nil, true)
	mustIncoming(t, in, wasend.InboxFilter{}, first, o)
	// Ids that differ only in case or trailing spaces are other messages.
	mustRecord(t, in, incoming(a.ID, "+15550000001", "WA-1", "x", b), nil, true)
	mustRecord(t, in, incoming(a.ID, "+15550000001", "wa-1 ", "x", b), nil, true)
	// A missing context stores nothing.
	_, _, err := in.RecordIncoming(t.Context(), incoming(missingID, "+15550000001", "wa-9", "x", b), nil)
	checkErrorIs(t, "RecordIncoming for a missing context", err, wasend.ErrContextNotFound)
	mustIncoming(t, in, wasend.InboxFilter{ContextID: missingID})
}

// testInboxRace: callers that record one message at once store it once:
// one reports it stored, and every one returns the same message.
func testInboxRace(t *testing.T, s *store) {
	in := inboxStore(t, s)
	bc := newContext(t, s, wasend.ContextAvailable)
	o, outbox := s.Store.(wasend.OutboxStore)
	for round := range 3 {
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			won   int
			ids   = map[int64]bool{}
			errs  []error
			start = make(chan struct{})
		)
		m := incoming(bc.ID, "+15550000001", fmt.Sprintf("wa-race-%d", round), "STOP", s.base())
		for i := range racers {
			wg.Go(func() {
				<-start
				got, stored, err := in.RecordIncoming(t.Context(), m, []wasend.Event{{Topic: wasend.TopicMessageIncoming, ContextID: bc.ID}})
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, fmt.Errorf("goroutine %d: %w", i, err))
					return
				}
				if stored {
					won++
				}
				ids[got.ID] = true
			})
		}
		close(start)
		wg.Wait()
		for _, err := range errs {
			t.Errorf("RecordIncoming: %v", err)
		}
		if len(errs) > 0 {
			t.FailNow()
		}
		if won != 1 || len(ids) != 1 {
			t.Fatalf("round %d: %d of %d callers stored the message, with %d ids; want 1 and 1", round, won, racers, len(ids))
		}
		if outbox {
			if c := mustEventCounts(t, o); c.Pending != int64(round+1) {
				t.Fatalf("round %d: %d events pending, want %d: one per message stored", round, c.Pending, round+1)
			}
		}
	}
	if list, err := in.Incoming(t.Context(), wasend.InboxFilter{}); err != nil || len(list) != 3 {
		t.Fatalf("Incoming = %d messages, %v; want the 3 stored", len(list), err)
	}
}

// testInboxEvents: with an outbox, the events of a message stored are
// recorded with it, and those of a duplicate are not.
func testInboxEvents(t *testing.T, s *store) {
	in := inboxStore(t, s)
	bc := newContext(t, s, wasend.ContextAvailable)
	b := s.base()
	ev := []wasend.Event{{Topic: wasend.TopicMessageIncoming, At: b, ContextID: bc.ID}, {Topic: wasend.TopicSuppressionAdded, At: b, ContextID: bc.ID}}
	first := mustRecord(t, in, incoming(bc.ID, "+15550000001", "wa-1", "STOP", b), ev, true)
	mustRecord(t, in, incoming(bc.ID, "+15550000001", "wa-1", "STOP", b), ev, false)
	o, ok := s.Store.(wasend.OutboxStore)
	if !ok {
		mustIncoming(t, in, wasend.InboxFilter{}, first)
		return
	}
	// Malformed events store nothing.
	if _, _, err := in.RecordIncoming(t.Context(), incoming(bc.ID, "+15550000001", "wa-2", "x", b), []wasend.Event{{Topic: ""}}); err == nil {
		t.Fatalf("RecordIncoming with an event of no topic: no error")
	}
	mustIncoming(t, in, wasend.InboxFilter{}, first)
	evs := mustClaim(t, o, "relay", b.Add(time.Minute), b.Add(time.Hour), 10)
	if len(evs) != 2 {
		t.Fatalf("ClaimEvents = %d events, want the 2 of the message stored", len(evs))
	}
	for i, want := range ev {
		want.Version = wasend.EventVersion
		checkEvent(t, "incoming message's event", evs[i], want)
	}
}

// testInboxFilter: Incoming selects by context and by sender.
func testInboxFilter(t *testing.T, s *store) {
	in := inboxStore(t, s)
	a := newContext(t, s, wasend.ContextAvailable)
	bb := newContext(t, s, wasend.ContextAvailable)
	b := s.base()
	var all []wasend.IncomingMessage
	for i, c := range []struct {
		ctx  int64
		from string
	}{{a.ID, "+1"}, {bb.ID, "+1"}, {a.ID, "+2"}, {a.ID, "+1"}, {bb.ID, "+3"}} {
		all = append(all, mustRecord(t, in, incoming(c.ctx, c.from, fmt.Sprintf("wa-%d", i), "t", b), nil, true))
	}
	mustIncoming(t, in, wasend.InboxFilter{ContextID: a.ID}, all[0], all[2], all[3])
	mustIncoming(t, in, wasend.InboxFilter{From: "+1"}, all[0], all[1], all[3])
	mustIncoming(t, in, wasend.InboxFilter{ContextID: a.ID, From: "+1"}, all[0], all[3])
	mustIncoming(t, in, wasend.InboxFilter{ContextID: bb.ID, From: "+2"})
	mustIncoming(t, in, wasend.InboxFilter{ContextID: missingID})
	mustIncoming(t, in, wasend.InboxFilter{Newest: true}, all[4], all[3], all[2], all[1], all[0])
}

// testInboxPaging: AfterID and BeforeID walk the messages both ways.
func testInboxPaging(t *testing.T, s *store) {
	in := inboxStore(t, s)
	bc := newContext(t, s, wasend.ContextAvailable)
	var all []wasend.IncomingMessage
	for i := range 8 {
		all = append(all, mustRecord(t, in, incoming(bc.ID, "+15550000001", fmt.Sprintf("wa-%d", i), "t", s.base()), nil, true))
	}
	var after int64
	for page := range 4 {
		want := all[min(page*3, 8):min(page*3+3, 8)]
		got := mustIncoming(t, in, wasend.InboxFilter{ContextID: bc.ID, AfterID: after, Limit: 3}, want...)
		if len(got) == 0 {
			break
		}
		after = got[len(got)-1].ID
	}
	before := int64(0)
	for page := range 4 {
		var want []wasend.IncomingMessage
		for i := 7 - page*3; i >= max(0, 7-page*3-2); i-- {
			want = append(want, all[i])
		}
		got := mustIncoming(t, in, wasend.InboxFilter{BeforeID: before, Newest: true, Limit: 3}, want...)
		if len(got) == 0 {
			break
		}
		before = got[len(got)-1].ID
	}
	mustIncoming(t, in, wasend.InboxFilter{AfterID: all[2].ID, BeforeID: all[5].ID}, all[3], all[4])
	if _, err := in.Incoming(t.Context(), wasend.InboxFilter{Limit: -1}); err == nil {
		t.Fatalf("Incoming with a negative limit: no error")
	}
}

// testInboxInvalid: a message without a sender or a WhatsApp id is
// refused, and nothing is stored.
func testInboxInvalid(t *testing.T, s *store) {
	in := inboxStore(t, s)
	bc := newContext(t, s, wasend.ContextAvailable)
	for _, m := range []wasend.IncomingMessage{
		incoming(bc.ID, "", "wa-1", "x", s.base()),
		incoming(bc.ID, "+1\xff", "wa-1", "x", s.base()),
		incoming(bc.ID, "+15550000001", "", "x", s.base()),
	} {
		if _, _, err := in.RecordIncoming(t.Context(), m, nil); err == nil {
			t.Fatalf("RecordIncoming(from %s, id %q): no error", wasend.MaskPhone(m.From), m.WAMessageID)
		}
	}
	mustIncoming(t, in, wasend.InboxFilter{})
}

// testInboxCleanKeeps: Clean deletes finished jobs, never the inbox.
func testInboxCleanKeeps(t *testing.T, s *store) {
	in := inboxStore(t, s)
	bc := newContext(t, s, wasend.ContextAvailable)
	m := mustRecord(t, in, incoming(bc.ID, "+15550000001", "wa-1", "x", s.base().Add(-48*time.Hour)), nil, true)
	if _, err := s.Clean(t.Context(), s.now().Add(1000*time.Hour)); err != nil {
		t.Fatalf("Clean: %v", err)
	}
	mustIncoming(t, in, wasend.InboxFilter{}, m)
}

// Suppressions: the optional wasend.SuppressionStore. Run registers this
// group only for a store that implements it.

var suppressionTests = []test{
	{"Suppress", testSuppress},
	{"Race", testSuppressRace},
	{"Events", testSuppressEvents},
	{"Many", testSuppressedMany},
	{"Paging", testSuppressionsPaging},
	{"Invalid", testSuppressInvalid},
}

// suppressionStore returns the store under test as a SuppressionStore.
func suppressionStore(t *testing.T, s *store) wasend.SuppressionStore {
	t.Helper()
	return optional[wasend.SuppressionStore](t, s)
}

func mustSuppress(t *testing.T, ss wasend.SuppressionStore, sp wasend.Suppression, events []wasend.Event, want bool) {
	t.Helper()
	got, err := ss.Suppress(t.Context(), sp, events)
	if err != nil {
		t.Fatalf("Suppress(%s): %v", wasend.MaskPhone(sp.Phone), err)
	}
	if got != want {
		t.Fatalf("Suppress(%s) = %v, want %v", wasend.MaskPhone(sp.Phone), got, want)
	}
}

func mustSuppressed(t *testing.T, ss wasend.SuppressionStore, phones []string) map[string]wasend.Suppression {
	t.Helper()
	got, err := ss.Suppressed(t.Context(), phones)
	if err != nil {
		t.Fatalf("Suppressed(%d numbers): %v", len(phones), err)
	}
	return got
}

func checkSuppression(t *testing.T, what string, got, want wasend.Suppression) {
	t.Helper()
	if got.Phone != want.Phone || got.Reason != want.Reason || got.ContextID != want.ContextID ||
		!got.CreatedAt.Equal(want.CreatedAt) || got.CreatedAt.Location() != time.UTC {
		t.Fatalf("%s: suppression of %s = %s, %q, context %d, %v; want %s, %q, context %d, %v (UTC)", what, wasend.MaskPhone(want.Phone),
			wasend.MaskPhone(got.Phone), got.Reason, got.ContextID, got.CreatedAt, wasend.MaskPhone(want.Phone), want.Reason,
			want.ContextID, want.CreatedAt)
	}
}

// testSuppress: Suppress adds a number once, keeping the first reason;
// Unsuppress removes it; Suppressed answers for the numbers asked. Clean
// leaves the list alone.
func testSuppress(t *testing.T, s *store) {
	ss := suppressionStore(t, s)
	bc := newContext(t, s, wasend.ContextAvailable)
	b := s.base()
	first := wasend.Suppression{Phone: "+34600000001", Reason: wasend.SuppressOptOut, ContextID: bc.ID, CreatedAt: b.Add(-time.Hour)}
	mustSuppress(t, ss, first, nil, true)
	mustSuppress(t, ss, wasend.Suppression{Phone: first.Phone, Reason: wasend.SuppressHost}, nil, false)
	host := wasend.Suppression{Phone: "+34600000002", Reason: wasend.SuppressHost}
	mustSuppress(t, ss, host, nil, true)
	got := mustSuppressed(t, ss, []string{first.Phone, "+34600000009", host.Phone, first.Phone})
	if len(got) != 2 {
		t.Fatalf("Suppressed = %d numbers, want 2", len(got))
	}
	checkSuppression(t, "Suppressed", got[first.Phone], first)
	s.checkSet(t, "CreatedAt of a suppression with none", got[host.Phone].CreatedAt)
	host.CreatedAt = got[host.Phone].CreatedAt
	checkSuppression(t, "Suppressed", got[host.Phone], host)
	if _, err := s.Clean(t.Context(), s.now().Add(1000*time.Hour)); err != nil {
		t.Fatalf("Clean: %v", err)
	}
	if got := mustSuppressed(t, ss, []string{first.Phone, host.Phone}); len(got) != 2 {
		t.Fatalf("Suppressed after Clean = %d numbers, want 2: Clean never deletes suppressions", len(got))
	}

	unsuppress := func(phone string, want bool) {
		t.Helper()
		ok, err := ss.Unsuppress(t.Context(), phone)
		if err != nil || ok != want {
			t.Fatalf("Unsuppress(%s) = %v, %v; want %v", wasend.MaskPhone(phone), ok, err, want)
		}
	}
	unsuppress(first.Phone, true)
	unsuppress(first.Phone, false)
	unsuppress("+34600000009", false)
	if got := mustSuppressed(t, ss, []string{first.Phone, host.Phone}); len(got) != 1 || got[host.Phone].Phone != host.Phone {
		t.Fatalf("Suppressed after Unsuppress = %v, want the host's number alone", len(got))
	}
	// Suppressed again, with a new reason.
	mustSuppress(t, ss, wasend.Suppression{Phone: first.Phone, Reason: "complaint", CreatedAt: b}, nil, true)
	checkSuppression(t, "suppressed again", mustSuppressed(t, ss, []string{first.Phone})[first.Phone],
		wasend.Suppression{Phone: first.Phone, Reason: "complaint", CreatedAt: b})
	if got := mustSuppressed(t, ss, nil); len(got) != 0 {
		t.Fatalf("Suppressed(nil) = %d numbers, want none", len(got))
	}
}

// testSuppressRace: callers that suppress one number at once add it once.
func testSuppressRace(t *testing.T, s *store) {
	ss := suppressionStore(t, s)
	for round := range 3 {
		phone := fmt.Sprintf("+3460000000%d", round)
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			won   []int
			errs  []error
			start = make(chan struct{})
		)
		for i := range racers {
			wg.Go(func() {
				<-start
				ok, err := ss.Suppress(t.Context(), wasend.Suppression{Phone: phone, Reason: fmt.Sprintf("r%d", i)}, nil)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
				}
				if ok {
					won = append(won, i)
				}
			})
		}
		close(start)
		wg.Wait()
		if len(errs) > 0 {
			t.Fatalf("Suppress: %v", errors.Join(errs...))
		}
		if len(won) != 1 {
			t.Fatalf("round %d: %d of %d callers added the number (%v), want 1", round, len(won), racers, won)
		}
		if got := mustSuppressed(t, ss, []string{phone})[phone]; got.Reason != fmt.Sprintf("r%d", won[0]) {
			t.Fatalf("round %d: reason %q, want the winner's r%d", round, got.Reason, won[0])
		}
	}
}

// testSuppressEvents: with an outbox, the events of a number added are
// recorded with it, and those of a number suppressed already are not.
func testSuppressEvents(t *testing.T, s *store) {
	ss := suppressionStore(t, s)
	bc := newContext(t, s, wasend.ContextAvailable)
	b := s.base()
	ev := []wasend.Event{{Topic: wasend.TopicSuppressionAdded, At: b, ContextID: bc.ID}}
	mustSuppress(t, ss, wasend.Suppression{Phone: "+1", Reason: wasend.SuppressOptOut}, ev, true)
	mustSuppress(t, ss, wasend.Suppression{Phone: "+1", Reason: wasend.SuppressOptOut}, ev, false)
	o, ok := s.Store.(wasend.OutboxStore)
	if !ok {
		return
	}
	if _, err := ss.Suppress(t.Context(), wasend.Suppression{Phone: "+2"}, []wasend.Event{{Topic: ""}}); err == nil {
		t.Fatalf("Suppress with an event of no topic: no error")
	}
	if got := mustSuppressed(t, ss, []string{"+1", "+2"}); len(got) != 1 {
		t.Fatalf("Suppressed = %d numbers, want 1: a malformed event stores nothing", len(got))
	}
	evs := mustClaim(t, o, "relay", b.Add(time.Minute), b.Add(time.Hour), 10)
	if len(evs) != 1 {
		t.Fatalf("ClaimEvents = %d events, want 1", len(evs))
	}
	checkEvent(t, "suppression's event", evs[0], wasend.Event{Topic: wasend.TopicSuppressionAdded, At: b, ContextID: bc.ID,
		Version: wasend.EventVersion})
}

// testSuppressedMany: Suppressed answers for a list of 10,000 numbers,
// with repeats, in one call.
func testSuppressedMany(t *testing.T, s *store) {
	ss := suppressionStore(t, s)
	const n = 10000
	phones := make([]string, 0, n+100)
	want := map[string]bool{}
	for i := range n {
		phones = append(phones, fmt.Sprintf("+1555%07d", i))
	}
	for i := 0; i < n; i += 199 {
		want[phones[i]] = true
		mustSuppress(t, ss, wasend.Suppression{Phone: phones[i], Reason: wasend.SuppressOptOut}, nil, true)
	}
	// The last numbers of the list, and repeats.
	want[phones[n-1]] = true
	mustSuppress(t, ss, wasend.Suppression{Phone: phones[n-1], Reason: wasend.SuppressOptOut}, nil, true)
	phones = append(phones, phones[:100]...)
	got := mustSuppressed(t, ss, phones)
	if len(got) != len(want) {
		t.Fatalf("Suppressed(%d numbers) = %d numbers, want %d", len(phones), len(got), len(want))
	}
	for p := range want {
		if got[p].Phone != p {
			t.Fatalf("Suppressed(%d numbers): %s missing", len(phones), wasend.MaskPhone(p))
		}
	}
}

// testSuppressionsPaging: Suppressions lists by number, byte for byte,
// after AfterPhone.
func testSuppressionsPaging(t *testing.T, s *store) {
	ss := suppressionStore(t, s)
	phones := []string{"+447700900001", "+15550000002", "+5511987654321", "+15550000001", "+34600000001", "+1555000000", "+8613800000000"}
	for _, p := range phones {
		mustSuppress(t, ss, wasend.Suppression{Phone: p, Reason: wasend.SuppressHost}, nil, true)
	}
	sorted := []string{"+1555000000", "+15550000001", "+15550000002", "+34600000001", "+447700900001", "+5511987654321", "+8613800000000"}
	var got []string
	after := ""
	for page := 0; ; page++ {
		if page > len(sorted) {
			t.Fatalf("paging did not end")
		}
		list, err := ss.Suppressions(t.Context(), wasend.SuppressionFilter{AfterPhone: after, Limit: 3})
		if err != nil {
			t.Fatalf("Suppressions: %v", err)
		}
		if len(list) > 3 {
			t.Fatalf("Suppressions(limit 3) = %d numbers", len(list))
		}
		if len(list) == 0 {
			break
		}
		for _, sp := range list {
			got = append(got, sp.Phone)
		}
		after = list[len(list)-1].Phone
	}
	if !reflect.DeepEqual(got, sorted) {
		t.Fatalf("Suppressions, by pages of 3, gave %d numbers in another order than the numbers' bytes (%d wanted)", len(got), len(sorted))
	}
	all, err := ss.Suppressions(t.Context(), wasend.SuppressionFilter{})
	if err != nil || len(all) != len(sorted) {
		t.Fatalf("Suppressions(default limit) = %d numbers, %v; want %d", len(all), err, len(sorted))
	}
}

// testSuppressInvalid: a number a phone column cannot hold is refused
// with wasend.ErrInvalidPhone.
func testSuppressInvalid(t *testing.T, s *store) {
	ss := suppressionStore(t, s)
	for _, p := range []string{"", "+1\xff", "+123456789012345678901234567890123"} {
		_, err := ss.Suppress(t.Context(), wasend.Suppression{Phone: p, Reason: wasend.SuppressHost}, nil)
		checkErrorIs(t, "Suppress of a malformed number", err, wasend.ErrInvalidPhone)
	}
	list, err := ss.Suppressions(t.Context(), wasend.SuppressionFilter{})
	if err != nil || len(list) != 0 {
		t.Fatalf("Suppressions after refused numbers = %d, %v; want none", len(list), err)
	}
	if _, err := ss.Suppressions(t.Context(), wasend.SuppressionFilter{Limit: -1}); err == nil {
		t.Fatalf("Suppressions with a negative limit: no error")
	}
}
