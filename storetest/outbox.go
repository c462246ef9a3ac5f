package storetest

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wasend/wasend"
)

// Outbox: the optional wasend.OutboxStore. Run registers this group only
// for a store that implements it.

var outboxTests = []test{
	{"StepEvents", testOutboxStepEvents},
	{"CreateJobEvents", testOutboxCreateJob},
	{"CampaignEvents", testOutboxCampaign},
	{"Claim", testOutboxClaim},
	{"JobOrder", testOutboxJobOrder},
	{"Settle", testOutboxSettle},
	{"SettleNotOwner", testOutboxSettleNotOwner},
	{"CountsPrune", testOutboxCountsPrune},
	{"AddEvents", testOutboxAddEvents},
}

// outboxStore returns the store under test as an OutboxStore.
func outboxStore(t *testing.T, s *store) wasend.OutboxStore {
	t.Helper()
	return optional[wasend.OutboxStore](t, s)
}

func mustClaim(t *testing.T, o wasend.OutboxStore, owner string, now, until time.Time, limit int) []wasend.Event {
	t.Helper()
	evs, err := o.ClaimEvents(t.Context(), owner, now, until, limit)
	if err != nil {
		t.Fatalf("ClaimEvents(%q, limit %d): %v", owner, limit, err)
	}
	for i := 1; i < len(evs); i++ {
		if evs[i].ID <= evs[i-1].ID {
			t.Fatalf("ClaimEvents(%q) = ids %v, want them increasing", owner, eventIDs(evs))
		}
	}
	return evs
}

// wantClaim claims and fails unless the events claimed are want, by id.
func wantClaim(t *testing.T, o wasend.OutboxStore, owner string, now, until time.Time, limit int, want ...int64) []wasend.Event {
	t.Helper()
	evs := mustClaim(t, o, owner, now, until, limit)
	if got := eventIDs(evs); !reflect.DeepEqual(got, want) && (len(got) != 0 || len(want) != 0) {
		t.Fatalf("ClaimEvents(%q, now %v, limit %d) = events %v, want %v", owner, now.Format(time.TimeOnly), limit, got, want)
	}
	return evs
}

func mustSettle(t *testing.T, o wasend.OutboxStore, owner string, rs ...wasend.EventResult) {
	t.Helper()
	if err := o.SettleEvents(t.Context(), owner, rs); err != nil {
		t.Fatalf("SettleEvents(%q, %+v): %v", owner, rs, err)
	}
}

func mustEventCounts(t *testing.T, o wasend.OutboxStore) wasend.OutboxCounts {
	t.Helper()
	c, err := o.EventCounts(t.Context())
	if err != nil {
		t.Fatalf("EventCounts: %v", err)
	}
	return c
}

func eventIDs(evs []wasend.Event) []int64 {
	out := make([]int64, 0, len(evs))
	for _, e := range evs {
		out = append(out, e.ID)
	}
	return out
}

// checkEvent fails unless got is want, but for the ID, which must be set.
func checkEvent(t *testing.T, what string, got, want wasend.Event) {
	t.Helper()
	if got.ID <= 0 {
		t.Fatalf("%s: ID = %d, want one set", what, got.ID)
	}
	want.ID = got.ID
	var d []string
	f := func(name string, g, w any) {
		if !reflect.DeepEqual(g, w) {
			d = append(d, fmt.Sprintf("%s = %#v, want %#v", name, g, w))
		}
	}
	f("Topic", got.Topic, want.Topic)
	d = diffTime(d, "At", got.At, want.At)
	f("JobID", got.JobID, want.JobID)
	f("MessageID", got.MessageID, want.MessageID)
	f("ContextID", got.ContextID, want.ContextID)
	f("CampaignID", got.CampaignID, want.CampaignID)
	f("Status", got.Status, want.Status)
	f("ErrorKind", got.ErrorKind, want.ErrorKind)
	if len(got.Metadata) != 0 || len(want.Metadata) != 0 {
		f("Metadata", got.Metadata, want.Metadata)
	}
	if len(got.Data) != 0 || len(want.Data) != 0 {
		f("Data", got.Data, want.Data)
	}
	f("Version", got.Version, want.Version)
	f("Attempts", got.Attempts, want.Attempts)
	if len(d) > 0 {
		t.Fatalf("%s: event %d differs:\n  %s", what, got.ID, strings.Join(d, "\n  "))
	}
}

// contextEvents records n events of no job (context events) through
// steps that change nothing but the context's updated_at, at the given
// times, and returns nothing: their ids are those ClaimEvents gives.
func contextEvents(t *testing.T, s *store, bc wasend.BrowserContext, ats ...time.Time) {
	t.Helper()
	for _, at := range ats {
		wantApply(t, s, wasend.Step{Context: &wasend.ContextTransition{ID: bc.ID, From: []wasend.ContextStatus{bc.Status}, To: bc.Status},
			Events: []wasend.Event{{Topic: wasend.TopicContextStatus, At: at, ContextID: bc.ID, Status: string(bc.Status)}}}, true)
	}
}

// jobEvents records one event of the job per time, through steps that
// keep the job pending.
func jobEvents(t *testing.T, s *store, j wasend.Job, ats ...time.Time) {
	t.Helper()
	for _, at := range ats {
		wantApply(t, s, wasend.Step{Job: &wasend.JobTransition{ID: j.ID, From: []wasend.JobStatus{wasend.JobPending}, To: wasend.JobPending},
			Events: []wasend.Event{{Topic: wasend.TopicJobResumed, At: at, JobID: j.ID, Status: string(wasend.JobPending)}}}, true)
	}
}

// testOutboxStepEvents: a step's events are recorded only when it
// applies, in order, with what their rows say filled in.
func testOutboxStepEvents(t *testing.T, s *store) {
	o := outboxStore(t, s)
	bc := newContext(t, s, wasend.ContextAvailable)
	md := map[string]any{"order": "A-17", "n": 2.0}
	in := job(bc.ID, wasend.KindBulk, 2)
	in.Metadata = md
	j := mustJob(t, s, in)
	msg := j.Messages[0]
	at := s.base().Add(-time.Minute)
	events := []wasend.Event{
		{Topic: wasend.TopicMessageSent, At: at, MessageID: msg.ID, Status: string(wasend.MessageSent)},
		{Topic: wasend.TopicJobFailed, At: at, JobID: j.ID, Status: string(wasend.JobFailed), ErrorKind: wasend.ErrorKindTimeout},
		{Topic: wasend.TopicContextStatus, At: at, ContextID: bc.ID, Status: string(wasend.ContextBusy)},
	}
	// A step that does not apply records nothing.
	wantApply(t, s, wasend.Step{Message: &wasend.MessageTransition{ID: msg.ID, From: []wasend.MessageStatus{wasend.MessageSending},
		To: wasend.MessageSent}, Events: events}, false)
	wantApply(t, s, wasend.Step{Job: &wasend.JobTransition{ID: j.ID, From: []wasend.JobStatus{wasend.JobRunning}, To: wasend.JobFailed},
		Message: &wasend.MessageTransition{ID: msg.ID, From: []wasend.MessageStatus{wasend.MessagePending}, To: wasend.MessageFailed},
		Events:  events}, false)
	if c := mustEventCounts(t, o); c != (wasend.OutboxCounts{}) {
		t.Fatalf("EventCounts after steps that did not apply = %+v, want none", c)
	}
	wantClaim(t, o, "relay", s.base(), s.base().Add(time.Minute), 10)

	wantApply(t, s, wasend.Step{Message: &wasend.MessageTransition{ID: msg.ID, From: []wasend.MessageStatus{wasend.MessagePending},
		To: wasend.MessageSent}, Events: events}, true)
	if c := mustEventCounts(t, o); c != (wasend.OutboxCounts{Pending: 3}) {
		t.Fatalf("EventCounts = %+v, want 3 pending", c)
	}
	// The message event comes first and holds back the job's: claim the
	// others after it.
	got := mustClaim(t, o, "relay", s.base(), s.base().Add(time.Minute), 10)
	if len(got) != 2 {
		t.Fatalf("ClaimEvents = %d events (%+v), want 2: the message's, and the context's (the job's waits)", len(got), got)
	}
	checkEvent(t, "message event", got[0], wasend.Event{Topic: wasend.TopicMessageSent, At: at, JobID: j.ID, MessageID: msg.ID,
		ContextID: bc.ID, Status: string(wasend.MessageSent), Metadata: md, Version: wasend.EventVersion})
	checkEvent(t, "context event", got[1], wasend.Event{Topic: wasend.TopicContextStatus, At: at, ContextID: bc.ID,
		Status: string(wasend.ContextBusy), Version: wasend.EventVersion})
	mustSettle(t, o, "relay", wasend.EventResult{ID: got[0].ID, Delivered: true}, wasend.EventResult{ID: got[1].ID, Delivered: true})
	jobEv := mustClaim(t, o, "relay", s.base(), s.base().Add(time.Minute), 10)
	if len(jobEv) != 1 {
		t.Fatalf("ClaimEvents after the message's delivery = %d events, want the job's", len(jobEv))
	}
	if !(got[0].ID < jobEv[0].ID && jobEv[0].ID < got[1].ID) {
		t.Fatalf("event ids %d, %d, %d: want them in the order of Step.Events", got[0].ID, jobEv[0].ID, got[1].ID)
	}
	checkEvent(t, "job event", jobEv[0], wasend.Event{Topic: wasend.TopicJobFailed, At: at, JobID: j.ID, ContextID: bc.ID,
		Status: string(wasend.JobFailed), ErrorKind: wasend.ErrorKindTimeout, Metadata: md, Version: wasend.EventVersion})
	mustSettle(t, o, "relay", wasend.EventResult{ID: jobEv[0].ID, Delivered: true})

	// A zero At is the store's now; a later step's events get greater ids.
	wantApply(t, s, wasend.Step{Context: &wasend.ContextTransition{ID: bc.ID, From: []wasend.ContextStatus{wasend.ContextAvailable},
		To: wasend.ContextBusy}, Events: []wasend.Event{{Topic: wasend.TopicContextStatus, ContextID: bc.ID}}}, true)
	later := mustClaim(t, o, "relay", s.base().Add(time.Hour), s.base().Add(2*time.Hour), 10)
	if len(later) != 1 || later[0].ID <= got[1].ID {
		t.Fatalf("ClaimEvents = %v, want one event with an id above %d", eventIDs(later), got[1].ID)
	}
	s.checkSet(t, "At of an event with a zero At", later[0].At)
}

// testOutboxCreateJob: Job.Events are recorded with the job, with its id.
func testOutboxCreateJob(t *testing.T, s *store) {
	o := outboxStore(t, s)
	bc := newContext(t, s, wasend.ContextAvailable)
	at := s.base().Add(-time.Minute)
	in := job(bc.ID, wasend.KindSingle, 1)
	in.Metadata = map[string]any{"k": "v"}
	in.Events = []wasend.Event{{Topic: wasend.TopicJobCreated, At: at, Status: string(wasend.JobPending)}}
	// The event's JobID, if any, is the new job's.
	in.Events[0].JobID = missingID
	j := mustJob(t, s, in)
	got := mustClaim(t, o, "relay", s.base(), s.base().Add(time.Minute), 10)
	if len(got) != 1 {
		t.Fatalf("ClaimEvents after CreateJob with one event = %d events, want 1", len(got))
	}
	checkEvent(t, "job's event", got[0], wasend.Event{Topic: wasend.TopicJobCreated, At: at, JobID: j.ID, ContextID: bc.ID,
		Status: string(wasend.JobPending), Metadata: map[string]any{"k": "v"}, Version: wasend.EventVersion})
	// A job created without events records none.
	mustJob(t, s, job(bc.ID, wasend.KindSingle, 1))
	if c := mustEventCounts(t, o); c != (wasend.OutboxCounts{Pending: 1}) {
		t.Fatalf("EventCounts = %+v, want the 1 event", c)
	}
}

// testOutboxCampaign: the events of a campaign's jobs and of a move are
// recorded with their jobs.
func testOutboxCampaign(t *testing.T, s *store) {
	cs, ok := s.Store.(wasend.CampaignStore)
	if !ok {
		t.Skip("not a CampaignStore")
	}
	o := outboxStore(t, s)
	a := newContext(t, s, wasend.ContextAvailable)
	b := newContext(t, s, wasend.ContextAvailable)
	md := map[string]any{"campaign": "outbox"}
	at := s.base().Add(-time.Minute)
	in := campaignJob(a.ID, 0, 3, md)
	in.Events = []wasend.Event{{Topic: wasend.TopicJobCreated, At: at, Status: string(wasend.JobPending)}}
	c := mustCampaign(t, cs, wasend.Campaign{Contexts: []int64{a.ID, b.ID}, Move: true, Metadata: md, Jobs: []wasend.Job{in}})
	src := c.Jobs[0]
	nj := mustMove(t, cs, wasend.MessageMove{FromJob: src.ID, ToContext: b.ID, At: at, Messages: []int64{src.Messages[1].ID},
		Events: []wasend.Event{{Topic: wasend.TopicJobCreated, At: at, Status: string(wasend.JobPending)}}})
	got := mustClaim(t, o, "relay", s.base(), s.base().Add(time.Minute), 10)
	if len(got) != 2 {
		t.Fatalf("ClaimEvents = %d events, want 2: the campaign job's and the moved job's", len(got))
	}
	checkEvent(t, "campaign job's event", got[0], wasend.Event{Topic: wasend.TopicJobCreated, At: at, JobID: src.ID, ContextID: a.ID,
		CampaignID: c.ID, Status: string(wasend.JobPending), Metadata: md, Version: wasend.EventVersion})
	checkEvent(t, "moved job's event", got[1], wasend.Event{Topic: wasend.TopicJobCreated, At: at, JobID: nj.ID, ContextID: b.ID,
		CampaignID: c.ID, Status: string(wasend.JobPending), Metadata: md, Version: wasend.EventVersion})
}

// testOutboxClaim: ClaimEvents gives the due events by id, up to limit,
// never those claimed (until their claim ends) nor those not due yet.
func testOutboxClaim(t *testing.T, s *store) {
	o := outboxStore(t, s)
	bc := newContext(t, s, wasend.ContextAvailable)
	base := s.base()
	contextEvents(t, s, bc, base, base, base, base, base, base.Add(time.Hour))
	until := base.Add(3 * time.Hour)
	first := mustClaim(t, o, "a", base.Add(30*time.Minute), until, 10)
	if len(first) != 5 {
		t.Fatalf("ClaimEvents = %d events, want the 5 due (the 6th is due in an hour)", len(first))
	}
	id := eventIDs(first)
	// a's claims hold until until, for a too.
	wantClaim(t, o, "a", base.Add(30*time.Minute), until, 10)
	sixth := mustClaim(t, o, "b", base.Add(2*time.Hour), until.Add(time.Hour), 10)
	if len(sixth) != 1 || sixth[0].ID <= id[4] {
		t.Fatalf("ClaimEvents once the 6th is due = %v, want it alone (the others are a's, ids %v)", eventIDs(sixth), id)
	}
	// A claim until now still holds.
	wantClaim(t, o, "b", until, until.Add(time.Hour), 10)
	// Once it ends, another owner may claim them, by id, up to its limit.
	wantClaim(t, o, "b", until.Add(time.Second), until.Add(time.Hour), 3, id[:3]...)
	wantClaim(t, o, "c", until.Add(time.Second), until.Add(time.Hour), 3, id[3:5]...)
	wantClaim(t, o, "c", until.Add(time.Second), until.Add(time.Hour), 3)
}

// testOutboxJobOrder: an event waits for the earlier events of its job
// that are neither delivered nor dead; events of other jobs and of no job
// do not.
func testOutboxJobOrder(t *testing.T, s *store) {
	o := outboxStore(t, s)
	bc := newContext(t, s, wasend.ContextAvailable)
	ja := mustJob(t, s, job(bc.ID, wasend.KindBulk, 1))
	jb := mustJob(t, s, job(bc.ID, wasend.KindBulk, 1))
	base := s.base()
	until := base.Add(10 * time.Hour)
	jobEvents(t, s, ja, base)                // a1
	jobEvents(t, s, jb, base.Add(time.Hour)) // b1: not due before base+1h
	jobEvents(t, s, ja, base, base)          // a2, a3
	contextEvents(t, s, bc, base)            // c1
	jobEvents(t, s, jb, base)                // b2: due, but behind b1
	// An event that waits for a delivery holds back those after it in its
	// job, even when it is not due itself (b1).
	first := mustClaim(t, o, "a", base, until, 10)
	if len(first) != 2 || first[0].JobID != ja.ID || first[1].JobID != 0 {
		t.Fatalf("ClaimEvents = %+v, want 2 events: the first of job %d, and the context's", first, ja.ID)
	}
	a1, c1 := first[0].ID, first[1].ID
	mustSettle(t, o, "a", wasend.EventResult{ID: c1, Delivered: true})
	// a1 is claimed by a: a2 waits for it.
	wantClaim(t, o, "b", base.Add(time.Minute), until, 10)
	// Failed, due again later: a2 still waits.
	mustSettle(t, o, "a", wasend.EventResult{ID: a1, Attempted: true, NextAt: base.Add(30 * time.Minute), Error: "handler: 500"})
	wantClaim(t, o, "b", base.Add(time.Minute), until, 10)
	got := wantClaim(t, o, "b", base.Add(30*time.Minute), until, 10, a1)
	if got[0].Attempts != 1 {
		t.Fatalf("Attempts after a failed delivery = %d, want 1", got[0].Attempts)
	}
	// Dead, it holds back nothing.
	mustSettle(t, o, "b", wasend.EventResult{ID: a1, Attempted: true, Dead: true, Error: "gave up"})
	a2 := mustClaim(t, o, "b", base.Add(30*time.Minute), until, 10)
	if len(a2) != 1 || a2[0].JobID != ja.ID || a2[0].ID <= a1 {
		t.Fatalf("ClaimEvents after a1 died = %+v, want a2 alone", a2)
	}
	// b1 is due at base+1h; a3 waits for a2, claimed by b.
	b1 := mustClaim(t, o, "c", base.Add(time.Hour), until, 10)
	if len(b1) != 1 || b1[0].JobID != jb.ID {
		t.Fatalf("ClaimEvents at base+1h = %+v, want b1 alone", b1)
	}
	mustSettle(t, o, "c", wasend.EventResult{ID: b1[0].ID, Delivered: true})
	mustSettle(t, o, "b", wasend.EventResult{ID: a2[0].ID, Delivered: true})
	rest := mustClaim(t, o, "c", base.Add(time.Hour), until, 10)
	if len(rest) != 2 || rest[0].JobID != ja.ID || rest[1].JobID != jb.ID || rest[0].ID <= a2[0].ID || rest[1].ID <= b1[0].ID {
		t.Fatalf("ClaimEvents once a2 and b1 are delivered = %+v, want a3 and b2", rest)
	}
}

// testOutboxSettle: a delivered event is done; a failed one counts an
// attempt if Attempted and is due again at NextAt; a dead one is done for
// good and counted dead.
func testOutboxSettle(t *testing.T, s *store) {
	o := outboxStore(t, s)
	bc := newContext(t, s, wasend.ContextAvailable)
	base := s.base()
	contextEvents(t, s, bc, base, base, base, base)
	now := base.Add(time.Minute)
	until := now.Add(time.Minute)
	evs := mustClaim(t, o, "relay", now, until, 10)
	if len(evs) != 4 {
		t.Fatalf("ClaimEvents = %d events, want 4", len(evs))
	}
	id := eventIDs(evs)
	mustSettle(t, o, "relay",
		wasend.EventResult{ID: id[0], Delivered: true},
		wasend.EventResult{ID: id[1], Attempted: true, NextAt: now.Add(time.Hour), Error: "timeout"},
		wasend.EventResult{ID: id[2], Attempted: true, Dead: true, Error: "gone"},
		// Held back: no attempt; due again at once.
		wasend.EventResult{ID: id[3], NextAt: now})
	if c := mustEventCounts(t, o); c != (wasend.OutboxCounts{Pending: 2, Dead: 1}) {
		t.Fatalf("EventCounts = %+v, want 2 pending, 1 dead", c)
	}
	// Settling clears the claim: id[3] is due again at once, for anyone;
	// id[1] not before its NextAt.
	far := now.Add(10 * time.Hour)
	got := wantClaim(t, o, "other", now, far, 10, id[3])
	if got[0].Attempts != 0 {
		t.Fatalf("Attempts of an event settled without Attempted = %d, want 0", got[0].Attempts)
	}
	wantClaim(t, o, "other", now.Add(59*time.Minute), far, 10)
	got = wantClaim(t, o, "other", now.Add(time.Hour), far, 10, id[1])
	if got[0].Attempts != 1 {
		t.Fatalf("Attempts after one failed delivery = %d, want 1", got[0].Attempts)
	}
	// Neither the delivered nor the dead one comes back, ever.
	mustSettle(t, o, "other", wasend.EventResult{ID: id[1], Delivered: true}, wasend.EventResult{ID: id[3], Delivered: true})
	wantClaim(t, o, "other", now.Add(1000*time.Hour), now.Add(1001*time.Hour), 10)
	if c := mustEventCounts(t, o); c != (wasend.OutboxCounts{Dead: 1}) {
		t.Fatalf("EventCounts = %+v, want 1 dead", c)
	}
}

// testOutboxSettleNotOwner: settling an event that another owner holds, or
// whose claim passed to another, changes nothing.
func testOutboxSettleNotOwner(t *testing.T, s *store) {
	o := outboxStore(t, s)
	bc := newContext(t, s, wasend.ContextAvailable)
	base := s.base()
	contextEvents(t, s, bc, base)
	now := base.Add(time.Minute)
	until := now.Add(time.Minute)
	ev := mustClaim(t, o, "a", now, until, 1)
	if len(ev) != 1 {
		t.Fatalf("ClaimEvents = %d events, want 1", len(ev))
	}
	id := ev[0].ID
	pending := func(what string) {
		t.Helper()
		if c := mustEventCounts(t, o); c != (wasend.OutboxCounts{Pending: 1}) {
			t.Fatalf("%s: EventCounts = %+v, want the event pending", what, c)
		}
	}
	mustSettle(t, o, "b", wasend.EventResult{ID: id, Delivered: true})
	pending("delivered by another owner")
	mustSettle(t, o, "b", wasend.EventResult{ID: id, Attempted: true, Dead: true})
	pending("killed by another owner")
	// The claim is still a's.
	wantClaim(t, o, "b", now, until, 10)
	// Once it ends, c claims it; a's settlement then changes nothing.
	wantClaim(t, o, "c", until.Add(time.Second), until.Add(time.Hour), 10, id)
	mustSettle(t, o, "a", wasend.EventResult{ID: id, Delivered: true})
	pending("delivered by its former owner")
	wantClaim(t, o, "d", until.Add(2*time.Second), until.Add(time.Hour), 10)
	mustSettle(t, o, "c", wasend.EventResult{ID: id, Delivered: true})
	if c := mustEventCounts(t, o); c != (wasend.OutboxCounts{}) {
		t.Fatalf("EventCounts after the owner's delivery = %+v, want none", c)
	}
}

// testOutboxCountsPrune: EventCounts counts the events not delivered;
// PruneEvents deletes the delivered ones before its time, and nothing for
// a zero time.
func testOutboxCountsPrune(t *testing.T, s *store) {
	o := outboxStore(t, s)
	bc := newContext(t, s, wasend.ContextAvailable)
	base := s.base()
	contextEvents(t, s, bc, base, base, base)
	now := base.Add(time.Minute)
	evs := mustClaim(t, o, "relay", now, now.Add(time.Minute), 2)
	mustSettle(t, o, "relay", wasend.EventResult{ID: evs[0].ID, Delivered: true}, wasend.EventResult{ID: evs[1].ID, Delivered: true})
	if c := mustEventCounts(t, o); c != (wasend.OutboxCounts{Pending: 1}) {
		t.Fatalf("EventCounts = %+v, want 1 pending", c)
	}
	prune := func(before time.Time, want int64) {
		t.Helper()
		n, err := o.PruneEvents(t.Context(), before)
		if err != nil {
			t.Fatalf("PruneEvents(%v): %v", before, err)
		}
		if n != want {
			t.Fatalf("PruneEvents(%v) = %d, want %d", before, n, want)
		}
	}
	// Delivered at the store's now, within an hour of s.now.
	prune(time.Time{}, 0)
	prune(s.now().Add(-2*time.Hour), 0)
	prune(s.now().Add(2*time.Hour), 2)
	prune(s.now().Add(2*time.Hour), 0)
	if c := mustEventCounts(t, o); c != (wasend.OutboxCounts{Pending: 1}) {
		t.Fatalf("EventCounts after PruneEvents = %+v, want 1 pending: the undelivered event stays", c)
	}
	if left := mustClaim(t, o, "relay", now, now.Add(time.Minute), 10); len(left) != 1 || left[0].ID <= evs[1].ID {
		t.Fatalf("ClaimEvents after PruneEvents = %v, want the third event", eventIDs(left))
	}
}

// testOutboxAddEvents: events added on their own are recorded in order,
// with their Data and what their ids leave zero filled in, and keep the
// order of their job; a malformed one records none.
func testOutboxAddEvents(t *testing.T, s *store) {
	o := outboxStore(t, s)
	bc := newContext(t, s, wasend.ContextAvailable)
	in := job(bc.ID, wasend.KindSingle, 1)
	in.Metadata = map[string]any{"order": "B-2"}
	j := mustJob(t, s, in)
	at := s.base().Add(-time.Minute)
	until := at.Add(time.Hour).UTC().Format(time.RFC3339)
	if err := o.AddEvents(t.Context(), []wasend.Event{{Topic: wasend.TopicJobWaiting, At: at}, {}}); err == nil {
		t.Fatalf("AddEvents with an event without a topic: no error")
	}
	if err := o.AddEvents(t.Context(), nil); err != nil {
		t.Fatalf("AddEvents(nil): %v", err)
	}
	if c := mustEventCounts(t, o); c != (wasend.OutboxCounts{}) {
		t.Fatalf("EventCounts after a refused AddEvents = %+v, want none", c)
	}
	err := o.AddEvents(t.Context(), []wasend.Event{
		{Topic: wasend.TopicJobWaiting, At: at, JobID: j.ID, Status: string(wasend.WaitGap), Data: map[string]any{"until": until}},
		{Topic: wasend.TopicContextQR, At: at, ContextID: bc.ID, Data: map[string]any{"qr": "2@abc,def,ghi,1", "n": 3.0, "ok": true}},
	})
	if err != nil {
		t.Fatalf("AddEvents: %v", err)
	}
	got := mustClaim(t, o, "relay", s.base(), s.base().Add(time.Minute), 10)
	if len(got) != 2 {
		t.Fatalf("ClaimEvents = %d events, want the 2 added", len(got))
	}
	checkEvent(t, "job.waiting", got[0], wasend.Event{Topic: wasend.TopicJobWaiting, At: at, JobID: j.ID, ContextID: bc.ID,
		Status: string(wasend.WaitGap), Metadata: in.Metadata, Data: map[string]any{"until": until}, Version: wasend.EventVersion})
	checkEvent(t, "context.qr", got[1], wasend.Event{Topic: wasend.TopicContextQR, At: at, ContextID: bc.ID,
		Data: map[string]any{"qr": "2@abc,def,ghi,1", "n": 3.0, "ok": true}, Version: wasend.EventVersion})
	// An added event keeps its job's order: a later step's event of the
	// job waits behind it.
	jobEvents(t, s, j, at)
	wantClaim(t, o, "other", s.base(), s.base().Add(time.Minute), 10)
	mustSettle(t, o, "relay", wasend.EventResult{ID: got[0].ID, Delivered: true}, wasend.EventResult{ID: got[1].ID, Delivered: true})
	if next := mustClaim(t, o, "other", s.base(), s.base().Add(time.Minute), 10); len(next) != 1 || next[0].ID <= got[1].ID {
		t.Fatalf("ClaimEvents after the delivery = %v, want the job's later event", eventIDs(next))
	}
}
