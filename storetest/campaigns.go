package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wasend/wasend"
)

// Campaigns: the optional wasend.CampaignStore. Run registers this group
// only for a store that implements it.

var campaignTests = []test{
	{"Create", testCampaignCreate},
	{"NotFound", testCampaignNotFound},
	{"List", testCampaignList},
	{"Key", testCampaignKey},
	{"KeyRace", testCampaignKeyRace},
	{"RefusingContext", testCampaignRefusingContext},
	{"Move", testCampaignMove},
	{"MoveCompletes", testCampaignMoveCompletes},
	{"MoveKeepsUnfinished", testCampaignMoveKeepsUnfinished},
	{"MoveRunning", testCampaignMoveRunning},
	{"MoveNothing", testCampaignMoveNothing},
	{"MoveErrors", testCampaignMoveErrors},
	{"Jobs", testCampaignJobs},
	{"Clean", testCampaignClean},
	{"Contacts", testCampaignContacts},
}

// campaignStore returns the store under test as a CampaignStore.
func campaignStore(t *testing.T, s *store) wasend.CampaignStore {
	t.Helper()
	return optional[wasend.CampaignStore](t, s)
}

// optional returns the store under test as the optional interface T.
func optional[T any](t *testing.T, s *store) T {
	t.Helper()
	o, ok := s.Store.(T)
	if !ok {
		t.Fatalf("%T does not implement %T", s.Store, (*T)(nil))
	}
	return o
}

func mustCampaign(t *testing.T, cs wasend.CampaignStore, c wasend.Campaign) wasend.Campaign {
	t.Helper()
	got, err := cs.CreateCampaign(t.Context(), c)
	if err != nil {
		t.Fatalf("CreateCampaign(%d jobs): %v", len(c.Jobs), err)
	}
	return got
}

func mustGetCampaign(t *testing.T, cs wasend.CampaignStore, id int64) wasend.Campaign {
	t.Helper()
	got, err := cs.Campaign(t.Context(), id)
	if err != nil {
		t.Fatalf("Campaign(%d): %v", id, err)
	}
	return got
}

func mustCampaigns(t *testing.T, cs wasend.CampaignStore, f wasend.CampaignFilter) []wasend.Campaign {
	t.Helper()
	list, err := cs.Campaigns(t.Context(), f)
	if err != nil {
		t.Fatalf("Campaigns(%+v): %v", f, err)
	}
	return list
}

func mustMove(t *testing.T, cs wasend.CampaignStore, m wasend.MessageMove) wasend.Job {
	t.Helper()
	got, err := cs.MoveMessages(t.Context(), m)
	if err != nil {
		t.Fatalf("MoveMessages(job %d, %v, to context %d): %v", m.FromJob, m.Messages, m.ToContext, err)
	}
	return got
}

// campaignJob builds a bulk job of n messages of a campaign, whose
// recipients start at first.
func campaignJob(contextID int64, first, n int, md map[string]any) wasend.Job {
	j := wasend.Job{ContextID: contextID, Kind: wasend.KindBulk, Delay: 1500 * time.Millisecond, MaxAttempts: 4, Metadata: md}
	for i := range n {
		j.Messages = append(j.Messages, wasend.Message{To: fmt.Sprintf("+1555%07d", first+i), Text: fmt.Sprintf("campaign message %d", first+i)})
	}
	return j
}

// newCampaign creates a campaign over pool with one job of n messages on
// each of jobsOn.
func newCampaign(t *testing.T, cs wasend.CampaignStore, pool []int64, n int, jobsOn ...int64) wasend.Campaign {
	t.Helper()
	md := map[string]any{"campaign": "spring"}
	c := wasend.Campaign{Contexts: pool, Metadata: md}
	for i, id := range jobsOn {
		c.Jobs = append(c.Jobs, campaignJob(id, i*n, n, md))
	}
	return mustCampaign(t, cs, c)
}

// diffCampaign lists the differences between two campaigns, jobs included.
func diffCampaign(got, want wasend.Campaign) []string {
	var d []string
	f := func(what string, g, w any) {
		if !reflect.DeepEqual(g, w) {
			d = append(d, fmt.Sprintf("%s = %#v, want %#v", what, g, w))
		}
	}
	f("ID", got.ID, want.ID)
	if len(got.Contexts) != 0 || len(want.Contexts) != 0 {
		f("Contexts", got.Contexts, want.Contexts)
	}
	f("Move", got.Move, want.Move)
	if len(got.Metadata) != 0 || len(want.Metadata) != 0 {
		f("Metadata", got.Metadata, want.Metadata)
	}
	f("IdempotencyKey", got.IdempotencyKey, want.IdempotencyKey)
	d = diffTime(d, "CreatedAt", got.CreatedAt, want.CreatedAt)
	if len(got.Jobs) != len(want.Jobs) {
		return append(d, fmt.Sprintf("len(Jobs) = %d (%v), want %d (%v)", len(got.Jobs), ids(got.Jobs), len(want.Jobs), ids(want.Jobs)))
	}
	for i := range got.Jobs {
		for _, x := range diffJob(got.Jobs[i], want.Jobs[i]) {
			d = append(d, fmt.Sprintf("Jobs[%d].%s", i, x))
		}
	}
	return d
}

func checkCampaign(t *testing.T, what string, got, want wasend.Campaign) {
	t.Helper()
	if d := diffCampaign(got, want); len(d) > 0 {
		t.Fatalf("%s: campaign %d differs:\n  %s", what, want.ID, strings.Join(d, "\n  "))
	}
}

// campaignIDs returns the ids of campaigns.
func campaignIDs(list []wasend.Campaign) []int64 {
	out := make([]int64, 0, len(list))
	for _, c := range list {
		out = append(out, c.ID)
	}
	return out
}

func messageIDs(msgs []wasend.Message) []int64 {
	out := make([]int64, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, m.ID)
	}
	return out
}

// allJobs lists every job of the store.
func allJobs(t *testing.T, s wasend.Store) []wasend.Job {
	t.Helper()
	list, err := s.Jobs(t.Context(), wasend.JobFilter{Limit: 1000})
	if err != nil {
		t.Fatalf("Jobs: %v", err)
	}
	return list
}

// checkNothingRecorded fails if the store holds a job or a campaign.
func checkNothingRecorded(t *testing.T, what string, s *store, cs wasend.CampaignStore) {
	t.Helper()
	if list := allJobs(t, s); len(list) != 0 {
		t.Fatalf("%s: the store holds jobs %v, want none", what, ids(list))
	}
	if list := mustCampaigns(t, cs, wasend.CampaignFilter{}); len(list) != 0 {
		t.Fatalf("%s: the store holds campaigns %v, want none", what, campaignIDs(list))
	}
	if jobs, msgs := mustCounts(t, s); len(jobs) != 0 || len(msgs) != 0 {
		t.Fatalf("%s: Counts = %v, %v; want nothing", what, jobs, msgs)
	}
}

func testCampaignCreate(t *testing.T, s *store) {
	cs := campaignStore(t, s)
	a := newContext(t, s, wasend.ContextAvailable)
	b := newContext(t, s, wasend.ContextDisconnected)
	idle := newContext(t, s, wasend.ContextAvailable)
	md := map[string]any{"campaign": "spring", "n": 2.0, "tags": []any{"a", "b"}}
	// The pool keeps the host's order, which is not the order of the ids.
	pool := []int64{b.ID, idle.ID, a.ID}
	in := wasend.Campaign{Contexts: pool, Move: true, Metadata: md,
		Jobs: []wasend.Job{campaignJob(a.ID, 0, 3, md), campaignJob(b.ID, 3, 2, md)}}
	in.Jobs[1].NotBefore = s.base().Add(time.Hour)
	c := mustCampaign(t, cs, in)
	if c.ID <= 0 {
		t.Fatalf("ID = %d, want > 0", c.ID)
	}
	s.checkSet(t, "CreatedAt", c.CreatedAt)
	if !reflect.DeepEqual(c.Contexts, pool) || !c.Move || !reflect.DeepEqual(c.Metadata, md) || c.IdempotencyKey != "" {
		t.Fatalf("CreateCampaign = contexts %v, move %v, metadata %v, key %q; want %v, true, %v, \"\"",
			c.Contexts, c.Move, c.Metadata, c.IdempotencyKey, pool, md)
	}
	if len(c.Jobs) != 2 {
		t.Fatalf("len(Jobs) = %d, want 2", len(c.Jobs))
	}
	seen, seenMsg := map[int64]bool{}, map[int64]bool{}
	for i, j := range c.Jobs {
		src := in.Jobs[i]
		if j.ID <= 0 || seen[j.ID] {
			t.Fatalf("Jobs[%d].ID = %d, want a new id > 0", i, j.ID)
		}
		seen[j.ID] = true
		s.checkSet(t, fmt.Sprintf("Jobs[%d].CreatedAt", i), j.CreatedAt)
		s.checkSet(t, fmt.Sprintf("Jobs[%d].NextRunAt", i), j.NextRunAt)
		s.checkSet(t, fmt.Sprintf("Jobs[%d].EnqueuedAt", i), j.EnqueuedAt)
		if j.CampaignID != c.ID || j.ContextID != src.ContextID || j.Kind != wasend.KindBulk || j.Status != wasend.JobPending ||
			j.Delay != src.Delay || j.MaxAttempts != src.MaxAttempts || !reflect.DeepEqual(j.Metadata, md) || j.IdempotencyKey != "" {
			t.Fatalf("Jobs[%d] = %+v; want campaign %d, context %d, bulk, pending, delay %v, max attempts %d, the metadata, no key",
				i, j, c.ID, src.ContextID, src.Delay, src.MaxAttempts)
		}
		checkTime(t, fmt.Sprintf("Jobs[%d].NotBefore", i), j.NotBefore, src.NotBefore)
		if len(j.Messages) != len(src.Messages) {
			t.Fatalf("len(Jobs[%d].Messages) = %d, want %d", i, len(j.Messages), len(src.Messages))
		}
		for k, m := range j.Messages {
			if m.ID <= 0 || seenMsg[m.ID] {
				t.Fatalf("Jobs[%d].Messages[%d].ID = %d, want a new id > 0", i, k, m.ID)
			}
			seenMsg[m.ID] = true
			if m.JobID != j.ID || m.Position != k || m.To != src.Messages[k].To || m.Text != src.Messages[k].Text ||
				m.Status != wasend.MessagePending || m.MovedFrom != 0 {
				t.Fatalf("Jobs[%d].Messages[%d] = %+v; want job %d, position %d, %q, pending, not moved", i, k, m, j.ID, k, src.Messages[k].To)
			}
		}
		checkJob(t, "Job of a campaign", mustGetJob(t, s, j.ID), j)
	}
	got := mustGetCampaign(t, cs, c.ID)
	checkCampaign(t, "Campaign after CreateCampaign", got, c)
	if n := len(got.Messages()); n != 5 {
		t.Fatalf("Campaign.Messages() = %d messages, want 5", n)
	}
	if st := got.Status(); st != wasend.JobRunning {
		t.Fatalf("Campaign.Status() = %q, want %q", st, wasend.JobRunning)
	}

	// A campaign without Move, metadata or jobs of its own key.
	in2 := wasend.Campaign{Contexts: []int64{a.ID}, Jobs: []wasend.Job{campaignJob(a.ID, 10, 1, nil)}}
	c2 := mustCampaign(t, cs, in2)
	if c2.ID <= c.ID {
		t.Fatalf("second campaign's ID = %d, want > %d", c2.ID, c.ID)
	}
	got2 := mustGetCampaign(t, cs, c2.ID)
	if got2.Move || len(got2.Metadata) != 0 || !reflect.DeepEqual(got2.Contexts, []int64{a.ID}) {
		t.Fatalf("Campaign = move %v, metadata %v, contexts %v; want false, none, %v", got2.Move, got2.Metadata, got2.Contexts, []int64{a.ID})
	}
	checkCampaign(t, "Campaign after CreateCampaign", got2, c2)
}

func testCampaignNotFound(t *testing.T, s *store) {
	cs := campaignStore(t, s)
	_, err := cs.Campaign(t.Context(), missingID)
	checkErrorIs(t, "Campaign of a missing id", err, wasend.ErrCampaignNotFound)
}

func testCampaignList(t *testing.T, s *store) {
	cs := campaignStore(t, s)
	a := newContext(t, s, wasend.ContextAvailable)
	// done: its only job completed; running: one job pending, one
	// completed; paused: its only job paused; empty: no job at all.
	done := newCampaign(t, cs, []int64{a.ID}, 1, a.ID)
	wantApply(t, s, wasend.Step{Job: &wasend.JobTransition{ID: done.Jobs[0].ID, From: pending, To: wasend.JobCompleted,
		PendingMessagesTo: wasend.MessageCancelled}}, true)
	running := newCampaign(t, cs, []int64{a.ID}, 1, a.ID, a.ID)
	wantApply(t, s, wasend.Step{Job: &wasend.JobTransition{ID: running.Jobs[1].ID, From: pending, To: wasend.JobCompleted,
		PendingMessagesTo: wasend.MessageCancelled}}, true)
	pj := campaignJob(a.ID, 0, 1, nil)
	pj.Status = wasend.JobPaused
	paused := mustCampaign(t, cs, wasend.Campaign{Contexts: []int64{a.ID}, IdempotencyKey: "paused", Jobs: []wasend.Job{pj}})
	if paused.Jobs[0].Status != wasend.JobPaused {
		t.Fatalf("a job created paused in a campaign: Status = %q, want %q", paused.Jobs[0].Status, wasend.JobPaused)
	}
	all := []int64{done.ID, running.ID, paused.ID}
	for _, tc := range []struct {
		f    wasend.CampaignFilter
		want []int64
	}{
		{wasend.CampaignFilter{}, all},
		{wasend.CampaignFilter{Active: true}, []int64{running.ID, paused.ID}},
		{wasend.CampaignFilter{AfterID: done.ID}, []int64{running.ID, paused.ID}},
		{wasend.CampaignFilter{Limit: 1}, []int64{done.ID}},
		{wasend.CampaignFilter{AfterID: done.ID, Limit: 1}, []int64{running.ID}},
		{wasend.CampaignFilter{Active: true, AfterID: running.ID}, []int64{paused.ID}},
		{wasend.CampaignFilter{AfterID: paused.ID}, nil},
	} {
		list := mustCampaigns(t, cs, tc.f)
		if got := campaignIDs(list); !slices.Equal(got, tc.want) {
			t.Fatalf("Campaigns(%+v) = %v, want %v", tc.f, got, tc.want)
		}
		for _, c := range list {
			if c.Jobs != nil {
				t.Fatalf("Campaigns(%+v): campaign %d has %d jobs, want none (nil)", tc.f, c.ID, len(c.Jobs))
			}
		}
	}
	list := mustCampaigns(t, cs, wasend.CampaignFilter{})
	for i, want := range []wasend.Campaign{done, running, paused} {
		want.Jobs = nil
		checkCampaign(t, "Campaigns", list[i], want)
	}
	if st := mustGetCampaign(t, cs, done.ID).Status(); st != wasend.JobCompleted {
		t.Fatalf("Status() of a campaign whose jobs completed = %q, want %q", st, wasend.JobCompleted)
	}
	if st := mustGetCampaign(t, cs, paused.ID).Status(); st != wasend.JobPaused {
		t.Fatalf("Status() of a campaign whose job is paused = %q, want %q", st, wasend.JobPaused)
	}
}

func testCampaignKey(t *testing.T, s *store) {
	cs := campaignStore(t, s)
	a := newContext(t, s, wasend.ContextAvailable)
	b := newContext(t, s, wasend.ContextAvailable)
	in := wasend.Campaign{Contexts: []int64{a.ID, b.ID}, IdempotencyKey: "campaign-42",
		Jobs: []wasend.Job{campaignJob(a.ID, 0, 2, nil), campaignJob(b.ID, 2, 1, nil)}}
	// A job of a campaign has no key of its own.
	in.Jobs[0].IdempotencyKey = "job-key"
	first := mustCampaign(t, cs, in)
	if first.IdempotencyKey != "campaign-42" {
		t.Fatalf("IdempotencyKey = %q, want %q", first.IdempotencyKey, "campaign-42")
	}
	for i, j := range first.Jobs {
		if j.IdempotencyKey != "" {
			t.Fatalf("Jobs[%d].IdempotencyKey = %q, want none", i, j.IdempotencyKey)
		}
	}
	jobs0, msgs0 := mustCounts(t, s)

	// The same key again, with other jobs: nothing is recorded, and the
	// first campaign comes back, with its jobs.
	again := wasend.Campaign{Contexts: []int64{b.ID}, IdempotencyKey: "campaign-42", Jobs: []wasend.Job{campaignJob(b.ID, 9, 5, nil)}}
	got, err := cs.CreateCampaign(t.Context(), again)
	if !errors.Is(err, wasend.ErrCampaignExists) {
		t.Fatalf("CreateCampaign with a key taken: error = %v, want one wrapping %q", err, wasend.ErrCampaignExists)
	}
	checkCampaign(t, "CreateCampaign with a key taken: the campaign returned", got, first)
	jobs1, msgs1 := mustCounts(t, s)
	if !reflect.DeepEqual(jobs0, jobs1) || !reflect.DeepEqual(msgs0, msgs1) {
		t.Fatalf("CreateCampaign with a key taken changed the counts: %v, %v; want %v, %v", jobs1, msgs1, jobs0, msgs0)
	}
	if list := mustCampaigns(t, cs, wasend.CampaignFilter{}); len(list) != 1 {
		t.Fatalf("Campaigns = %v, want only %d", campaignIDs(list), first.ID)
	}

	// The campaigns' keys and the jobs' are apart; keys compare exactly.
	mustJob(t, s, keyedJob(a.ID, "campaign-42", 1))
	mustJob(t, s, keyedJob(a.ID, "job-key", 1))
	other := mustCampaign(t, cs, wasend.Campaign{Contexts: []int64{a.ID}, IdempotencyKey: "Campaign-42 ",
		Jobs: []wasend.Job{campaignJob(a.ID, 20, 1, nil)}})
	if other.ID == first.ID {
		t.Fatalf("a campaign with key %q got the id of the one with %q", other.IdempotencyKey, first.IdempotencyKey)
	}

	// A key too long is refused, and nothing is recorded.
	jobs0, msgs0 = mustCounts(t, s)
	long := wasend.Campaign{Contexts: []int64{a.ID}, IdempotencyKey: strings.Repeat("k", wasend.MaxIdempotencyKeyLength+1),
		Jobs: []wasend.Job{campaignJob(a.ID, 30, 1, nil)}}
	_, err = cs.CreateCampaign(t.Context(), long)
	var ve *wasend.ValidationError
	if !errors.As(err, &ve) || !errors.Is(err, wasend.ErrInvalidIdempotencyKey) {
		t.Fatalf("CreateCampaign with a key of %d bytes: error = %v, want a *ValidationError wrapping %q",
			len(long.IdempotencyKey), err, wasend.ErrInvalidIdempotencyKey)
	}
	jobs1, msgs1 = mustCounts(t, s)
	if !reflect.DeepEqual(jobs0, jobs1) || !reflect.DeepEqual(msgs0, msgs1) {
		t.Fatalf("CreateCampaign with an invalid key changed the counts")
	}
	if list := mustCampaigns(t, cs, wasend.CampaignFilter{}); len(list) != 2 {
		t.Fatalf("Campaigns = %v, want 2 campaigns", campaignIDs(list))
	}
	// The longest key is fine.
	mustCampaign(t, cs, wasend.Campaign{Contexts: []int64{a.ID}, IdempotencyKey: strings.Repeat("k", wasend.MaxIdempotencyKeyLength),
		Jobs: []wasend.Job{campaignJob(a.ID, 40, 1, nil)}})
}

func testCampaignKeyRace(t *testing.T, s *store) {
	cs := campaignStore(t, s)
	a := newContext(t, s, wasend.ContextAvailable)
	b := newContext(t, s, wasend.ContextAvailable)
	const n = 8
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		got   = make([]wasend.Campaign, n)
		errs  = make([]error, n)
	)
	for i := range n {
		wg.Go(func() {
			<-start
			got[i], errs[i] = cs.CreateCampaign(t.Context(), wasend.Campaign{Contexts: []int64{a.ID, b.ID}, IdempotencyKey: "race",
				Jobs: []wasend.Job{campaignJob(a.ID, 0, 2, nil), campaignJob(b.ID, 2, 2, nil)}})
		})
	}
	close(start)
	wg.Wait()
	created := -1
	for i, err := range errs {
		switch {
		case err == nil:
			if created >= 0 {
				t.Fatalf("CreateCampaign with one key: calls %d and %d both created a campaign (%d, %d)", created, i, got[created].ID, got[i].ID)
			}
			created = i
		case !errors.Is(err, wasend.ErrCampaignExists):
			t.Fatalf("CreateCampaign %d: %v, want nil or an error wrapping %q", i, err, wasend.ErrCampaignExists)
		}
	}
	if created < 0 {
		t.Fatalf("CreateCampaign with one key: no call created the campaign")
	}
	for i := range got {
		if got[i].ID != got[created].ID || len(got[i].Jobs) != 2 {
			t.Fatalf("CreateCampaign %d returned campaign %d with %d jobs, want %d with 2", i, got[i].ID, len(got[i].Jobs), got[created].ID)
		}
	}
	if list := mustCampaigns(t, cs, wasend.CampaignFilter{}); len(list) != 1 {
		t.Fatalf("Campaigns = %v, want one", campaignIDs(list))
	}
	if list := allJobs(t, s); len(list) != 2 {
		t.Fatalf("Jobs = %v, want the 2 jobs of one campaign", ids(list))
	}
}

func testCampaignRefusingContext(t *testing.T, s *store) {
	cs := campaignStore(t, s)
	a := newContext(t, s, wasend.ContextAvailable)
	for _, tc := range []struct {
		name   string
		status wasend.ContextStatus // "": missing
		want   []error
	}{
		{"closed", wasend.ContextClosed, []error{wasend.ErrContextNotAvailable, wasend.ErrContextClosed}},
		{"in error", wasend.ContextError, []error{wasend.ErrContextNotAvailable}},
		{"missing", "", []error{wasend.ErrContextNotFound}},
	} {
		id := int64(missingID)
		if tc.status != "" {
			id = newContext(t, s, tc.status).ID
		}
		// The refused job comes last: the jobs before it are undone.
		c := wasend.Campaign{Contexts: []int64{a.ID, id}, IdempotencyKey: "k-" + tc.name,
			Jobs: []wasend.Job{campaignJob(a.ID, 0, 2, nil), campaignJob(id, 2, 2, nil)}}
		_, err := cs.CreateCampaign(t.Context(), c)
		for _, w := range tc.want {
			checkErrorIs(t, "CreateCampaign with a job on a context "+tc.name, err, w)
		}
		checkNothingRecorded(t, "CreateCampaign with a job on a context "+tc.name, s, cs)
	}
	// The key was not taken by the campaigns that failed.
	mustCampaign(t, cs, wasend.Campaign{Contexts: []int64{a.ID}, IdempotencyKey: "k-closed", Jobs: []wasend.Job{campaignJob(a.ID, 0, 1, nil)}})
}

// sendMessage sends a message of a job, through a claim of the job that
// ends with the job back in status back.
func sendMessage(t *testing.T, s wasend.Store, jobID, msgID int64, to wasend.MessageStatus, back wasend.JobStatus) {
	t.Helper()
	wantApply(t, s, wasend.Step{Job: &wasend.JobTransition{ID: jobID, From: []wasend.JobStatus{wasend.JobPending, wasend.JobPaused},
		To: wasend.JobRunning, Claim: "w"}}, true)
	wantApply(t, s, wasend.Step{Message: &wasend.MessageTransition{ID: msgID, From: msgPend, To: wasend.MessageSending,
		AddAttempt: true, StartAttempt: true}}, true)
	if to != wasend.MessageSending {
		wantApply(t, s, wasend.Step{Message: &wasend.MessageTransition{ID: msgID, From: msgSend, To: to}}, true)
	}
	wantApply(t, s, wasend.Step{Job: &wasend.JobTransition{ID: jobID, From: running, To: back}}, true)
}

func testCampaignMove(t *testing.T, s *store) {
	cs := campaignStore(t, s)
	a := newContext(t, s, wasend.ContextAvailable)
	b := newContext(t, s, wasend.ContextAvailable)
	md := map[string]any{"campaign": "move"}
	in := campaignJob(a.ID, 0, 5, md)
	in.NotBefore = s.base().Add(-time.Minute)
	c := mustCampaign(t, cs, wasend.Campaign{Contexts: []int64{a.ID, b.ID}, Move: true, Metadata: md, Jobs: []wasend.Job{in}})
	src := c.Jobs[0]
	m := src.Messages
	// Message 0 is sent; the others are pending.
	sendMessage(t, s, src.ID, m[0].ID, wasend.MessageSent, wasend.JobPending)
	before := mustGetJob(t, s, src.ID)
	other := mustJob(t, s, job(a.ID, wasend.KindBulk, 1))

	at := s.base().Add(time.Minute)
	// In the order they are given; the sent message, a message of another
	// job and a missing id stay where they are.
	nj := mustMove(t, cs, wasend.MessageMove{FromJob: src.ID, ToContext: b.ID, At: at,
		Messages: []int64{m[4].ID, m[0].ID, other.Messages[0].ID, m[2].ID, missingID}})
	if nj.ID <= 0 || nj.ID == src.ID {
		t.Fatalf("MoveMessages: new job's ID = %d, want a new id", nj.ID)
	}
	want := wasend.Job{ID: nj.ID, ContextID: b.ID, CampaignID: c.ID, Kind: wasend.KindBulk, Status: wasend.JobPending,
		Delay: in.Delay, Metadata: md, MaxAttempts: in.MaxAttempts, NotBefore: in.NotBefore, NextRunAt: at, EnqueuedAt: at,
		CreatedAt: nj.CreatedAt, UpdatedAt: nj.UpdatedAt}
	if len(nj.Messages) != 2 {
		t.Fatalf("MoveMessages: the new job has %d messages, want 2", len(nj.Messages))
	}
	for i, from := range []wasend.Message{m[4], m[2]} {
		cp := nj.Messages[i]
		if cp.ID <= 0 || cp.ID == from.ID {
			t.Fatalf("copy %d: ID = %d, want a new id", i, cp.ID)
		}
		want.Messages = append(want.Messages, wasend.Message{ID: cp.ID, JobID: nj.ID, Position: i, To: from.To, Text: from.Text,
			Status: wasend.MessagePending, MovedFrom: from.ID, UpdatedAt: cp.UpdatedAt})
	}
	checkJob(t, "MoveMessages", nj, want)
	checkJob(t, "Job of the new job", mustGetJob(t, s, nj.ID), want)

	after := mustGetJob(t, s, src.ID)
	if after.Status != wasend.JobPending {
		t.Fatalf("the job the messages left: Status = %q, want %q (messages are left to send)", after.Status, wasend.JobPending)
	}
	if after.Version != before.Version+1 {
		t.Fatalf("the job the messages left: Version = %d, want %d", after.Version, before.Version+1)
	}
	for i, msg := range after.Messages {
		w := before.Messages[i]
		if i == 4 || i == 2 {
			if msg.Status != wasend.MessageCancelled || msg.ErrorKind != wasend.ErrorKindMoved {
				t.Fatalf("moved message %d: status %q, error kind %q; want %q, %q", i, msg.Status, msg.ErrorKind,
					wasend.MessageCancelled, wasend.ErrorKindMoved)
			}
			w.Status, w.ErrorKind, w.Error, w.UpdatedAt = msg.Status, msg.ErrorKind, msg.Error, msg.UpdatedAt
		}
		if d := diffMessage(msg, w); len(d) > 0 {
			t.Fatalf("message %d of the job the messages left:\n  %s", i, strings.Join(d, "\n  "))
		}
	}
	checkJob(t, "the other job", mustGetJob(t, s, other.ID), other)

	// The campaign holds both jobs; its messages are where they ended up.
	got := mustGetCampaign(t, cs, c.ID)
	if !slices.Equal(ids(got.Jobs), []int64{src.ID, nj.ID}) {
		t.Fatalf("Campaign: jobs %v, want %v", ids(got.Jobs), []int64{src.ID, nj.ID})
	}
	checkJob(t, "Campaign: the job the messages left", got.Jobs[0], after)
	checkJob(t, "Campaign: the new job", got.Jobs[1], want)
	wantMsgs := []int64{m[0].ID, m[1].ID, m[3].ID, nj.Messages[0].ID, nj.Messages[1].ID}
	if g := messageIDs(got.Messages()); !slices.Equal(g, wantMsgs) {
		t.Fatalf("Campaign.Messages() = %v, want %v", g, wantMsgs)
	}

	// A copy moves again: the copy of a copy points to the copy.
	nj2 := mustMove(t, cs, wasend.MessageMove{FromJob: nj.ID, ToContext: a.ID, Messages: []int64{nj.Messages[1].ID}})
	if len(nj2.Messages) != 1 || nj2.Messages[0].MovedFrom != nj.Messages[1].ID || nj2.ContextID != a.ID || nj2.CampaignID != c.ID {
		t.Fatalf("MoveMessages of a copy = %+v, want one message moved from %d, on context %d, of campaign %d",
			nj2, nj.Messages[1].ID, a.ID, c.ID)
	}
	s.checkSet(t, "NextRunAt of a move at the zero time", nj2.NextRunAt)
}

func testCampaignMoveCompletes(t *testing.T, s *store) {
	cs := campaignStore(t, s)
	a := newContext(t, s, wasend.ContextAvailable)
	b := newContext(t, s, wasend.ContextAvailable)
	for _, back := range []wasend.JobStatus{wasend.JobPending, wasend.JobPaused} {
		c := newCampaign(t, cs, []int64{a.ID, b.ID}, 3, a.ID)
		src := c.Jobs[0]
		m := src.Messages
		// Sent, failed, pending: when the last one leaves, nothing is left
		// to send.
		sendMessage(t, s, src.ID, m[0].ID, wasend.MessageSent, wasend.JobPending)
		sendMessage(t, s, src.ID, m[1].ID, wasend.MessageFailed, back)
		before := mustGetJob(t, s, src.ID)
		if before.Status != back {
			t.Fatalf("job status = %q, want %q", before.Status, back)
		}
		at := s.base().Add(time.Minute)
		nj := mustMove(t, cs, wasend.MessageMove{FromJob: src.ID, ToContext: b.ID, At: at, Messages: []int64{m[2].ID}})
		if len(nj.Messages) != 1 {
			t.Fatalf("MoveMessages from a %s job: %d messages moved, want 1", back, len(nj.Messages))
		}
		after := mustGetJob(t, s, src.ID)
		if after.Status != wasend.JobCompleted {
			t.Fatalf("a %s job left with nothing to send: Status = %q, want %q", back, after.Status, wasend.JobCompleted)
		}
		s.checkSet(t, "FinishedAt of the completed job", after.FinishedAt)
		if after.Version <= before.Version {
			t.Fatalf("the completed job: Version = %d, want more than %d", after.Version, before.Version)
		}
		if after.Messages[2].Status != wasend.MessageCancelled || after.Messages[2].ErrorKind != wasend.ErrorKindMoved {
			t.Fatalf("the moved message: %q, %q; want cancelled, moved", after.Messages[2].Status, after.Messages[2].ErrorKind)
		}
		if after.Messages[0].Status != wasend.MessageSent || after.Messages[1].Status != wasend.MessageFailed {
			t.Fatalf("the other messages changed: %q, %q", after.Messages[0].Status, after.Messages[1].Status)
		}
		if st := mustGetCampaign(t, cs, c.ID).Status(); st != wasend.JobRunning {
			t.Fatalf("Campaign.Status() with the new job pending = %q, want %q", st, wasend.JobRunning)
		}
	}
}

func testCampaignMoveKeepsUnfinished(t *testing.T, s *store) {
	cs := campaignStore(t, s)
	a := newContext(t, s, wasend.ContextAvailable)
	b := newContext(t, s, wasend.ContextAvailable)
	for _, left := range []wasend.MessageStatus{wasend.MessageSending, wasend.MessageUnconfirmed} {
		c := newCampaign(t, cs, []int64{a.ID, b.ID}, 2, a.ID)
		src := c.Jobs[0]
		m := src.Messages
		// A message whose outcome is not known yet keeps the job open.
		sendMessage(t, s, src.ID, m[0].ID, left, wasend.JobPaused)
		before := mustGetJob(t, s, src.ID)
		nj := mustMove(t, cs, wasend.MessageMove{FromJob: src.ID, ToContext: b.ID, Messages: []int64{m[0].ID, m[1].ID}})
		if len(nj.Messages) != 1 || nj.Messages[0].MovedFrom != m[1].ID {
			t.Fatalf("MoveMessages: new job %+v, want one copy of message %d", nj.Messages, m[1].ID)
		}
		after := mustGetJob(t, s, src.ID)
		if after.Status != wasend.JobPaused || after.Version != before.Version+1 || !after.FinishedAt.IsZero() {
			t.Fatalf("a job left with a message %s: status %q, version %d, finished %v; want paused, version %d, not finished",
				left, after.Status, after.Version, after.FinishedAt, before.Version+1)
		}
		if after.Messages[0].Status != left {
			t.Fatalf("the %s message: status %q, want it unchanged", left, after.Messages[0].Status)
		}
	}
}

// snapshotAll reads every job of the store, with its messages.
func snapshotAll(t *testing.T, s wasend.Store) []wasend.Job {
	t.Helper()
	var out []wasend.Job
	for _, j := range allJobs(t, s) {
		out = append(out, mustGetJob(t, s, j.ID))
	}
	return out
}

// checkUnchanged fails unless the store's jobs are those of before.
func checkUnchanged(t *testing.T, what string, s wasend.Store, before []wasend.Job) {
	t.Helper()
	now := snapshotAll(t, s)
	if len(now) != len(before) {
		t.Fatalf("%s: the store holds jobs %v, want %v", what, ids(now), ids(before))
	}
	for i := range now {
		checkJob(t, what, now[i], before[i])
		if now[i].Version != before[i].Version {
			t.Fatalf("%s: job %d: Version = %d, want %d", what, now[i].ID, now[i].Version, before[i].Version)
		}
	}
}

func testCampaignMoveRunning(t *testing.T, s *store) {
	cs := campaignStore(t, s)
	a := newContext(t, s, wasend.ContextAvailable)
	b := newContext(t, s, wasend.ContextAvailable)
	c := newCampaign(t, cs, []int64{a.ID, b.ID}, 3, a.ID)
	src := c.Jobs[0]
	wantApply(t, s, wasend.Step{Job: &wasend.JobTransition{ID: src.ID, From: pending, To: wasend.JobRunning, Claim: "w"}}, true)
	before := snapshotAll(t, s)
	nj := mustMove(t, cs, wasend.MessageMove{FromJob: src.ID, ToContext: b.ID, Messages: messageIDs(src.Messages)})
	if nj.ID != 0 || len(nj.Messages) != 0 {
		t.Fatalf("MoveMessages from a running job = job %d with %d messages, want a zero Job", nj.ID, len(nj.Messages))
	}
	checkUnchanged(t, "MoveMessages from a running job", s, before)

	// Nor from a job that finished.
	wantApply(t, s, wasend.Step{Job: &wasend.JobTransition{ID: src.ID, From: running, To: wasend.JobCancelled}}, true)
	before = snapshotAll(t, s)
	nj = mustMove(t, cs, wasend.MessageMove{FromJob: src.ID, ToContext: b.ID, Messages: messageIDs(src.Messages)})
	if nj.ID != 0 {
		t.Fatalf("MoveMessages from a cancelled job = job %d, want a zero Job", nj.ID)
	}
	checkUnchanged(t, "MoveMessages from a cancelled job", s, before)
}

func testCampaignMoveNothing(t *testing.T, s *store) {
	cs := campaignStore(t, s)
	a := newContext(t, s, wasend.ContextAvailable)
	b := newContext(t, s, wasend.ContextAvailable)
	c := newCampaign(t, cs, []int64{a.ID, b.ID}, 3, a.ID, b.ID)
	src := c.Jobs[0]
	sendMessage(t, s, src.ID, src.Messages[0].ID, wasend.MessageSent, wasend.JobPending)
	before := snapshotAll(t, s)
	for _, tc := range []struct {
		name string
		ids  []int64
	}{
		{"no message", nil},
		{"a sent message", []int64{src.Messages[0].ID}},
		{"messages of another job", messageIDs(c.Jobs[1].Messages)},
		{"missing messages", []int64{missingID, missingID + 1}},
	} {
		nj := mustMove(t, cs, wasend.MessageMove{FromJob: src.ID, ToContext: b.ID, Messages: tc.ids})
		if nj.ID != 0 || len(nj.Messages) != 0 {
			t.Fatalf("MoveMessages of %s = job %d with %d messages, want a zero Job", tc.name, nj.ID, len(nj.Messages))
		}
		checkUnchanged(t, "MoveMessages of "+tc.name, s, before)
	}
	if got := mustGetCampaign(t, cs, c.ID); len(got.Jobs) != 2 {
		t.Fatalf("Campaign: jobs %v, want 2 (no empty job left)", ids(got.Jobs))
	}
}

func testCampaignMoveErrors(t *testing.T, s *store) {
	cs := campaignStore(t, s)
	a := newContext(t, s, wasend.ContextAvailable)
	b := newContext(t, s, wasend.ContextAvailable)
	closed := newContext(t, s, wasend.ContextAvailable)
	broken := newContext(t, s, wasend.ContextAvailable)
	outside := newContext(t, s, wasend.ContextAvailable)
	c := newCampaign(t, cs, []int64{a.ID, b.ID, closed.ID, broken.ID}, 3, a.ID)
	src := c.Jobs[0]
	wantApply(t, s, wasend.Step{Context: &wasend.ContextTransition{ID: closed.ID, From: available, To: wasend.ContextClosed}}, true)
	wantApply(t, s, wasend.Step{Context: &wasend.ContextTransition{ID: broken.ID, From: available, To: wasend.ContextError}}, true)
	plain := mustJob(t, s, job(a.ID, wasend.KindBulk, 2))
	before := snapshotAll(t, s)
	for _, tc := range []struct {
		name string
		m    wasend.MessageMove
		want []error
	}{
		{"to a context outside the pool", wasend.MessageMove{FromJob: src.ID, ToContext: outside.ID, Messages: messageIDs(src.Messages)},
			[]error{wasend.ErrInvalidStep}},
		{"to a closed context", wasend.MessageMove{FromJob: src.ID, ToContext: closed.ID, Messages: messageIDs(src.Messages)},
			[]error{wasend.ErrContextNotAvailable, wasend.ErrContextClosed}},
		{"to a context in error", wasend.MessageMove{FromJob: src.ID, ToContext: broken.ID, Messages: messageIDs(src.Messages)},
			[]error{wasend.ErrContextNotAvailable}},
		{"from a missing job", wasend.MessageMove{FromJob: missingID, ToContext: b.ID, Messages: messageIDs(src.Messages)},
			[]error{wasend.ErrJobNotFound}},
		{"from a job of no campaign", wasend.MessageMove{FromJob: plain.ID, ToContext: b.ID, Messages: messageIDs(plain.Messages)},
			[]error{wasend.ErrInvalidStep}},
	} {
		nj, err := cs.MoveMessages(t.Context(), tc.m)
		for _, w := range tc.want {
			checkErrorIs(t, "MoveMessages "+tc.name, err, w)
		}
		if nj.ID != 0 {
			t.Fatalf("MoveMessages %s returned job %d with its error, want a zero Job", tc.name, nj.ID)
		}
		checkUnchanged(t, "MoveMessages "+tc.name, s, before)
	}
}

func testCampaignJobs(t *testing.T, s *store) {
	cs := campaignStore(t, s)
	a := newContext(t, s, wasend.ContextAvailable)
	b := newContext(t, s, wasend.ContextAvailable)
	plain := mustJob(t, s, job(a.ID, wasend.KindSingle, 1))
	c := newCampaign(t, cs, []int64{a.ID, b.ID}, 2, a.ID, b.ID)
	nj := mustMove(t, cs, wasend.MessageMove{FromJob: c.Jobs[0].ID, ToContext: b.ID, Messages: messageIDs(c.Jobs[0].Messages)})
	want := map[int64]int64{plain.ID: 0, c.Jobs[0].ID: c.ID, c.Jobs[1].ID: c.ID, nj.ID: c.ID}
	list := allJobs(t, s)
	if len(list) != len(want) {
		t.Fatalf("Jobs = %v, want 4 jobs", ids(list))
	}
	for _, j := range list {
		if j.CampaignID != want[j.ID] {
			t.Fatalf("Jobs: job %d has CampaignID %d, want %d", j.ID, j.CampaignID, want[j.ID])
		}
		if got := mustGetJob(t, s, j.ID); got.CampaignID != want[j.ID] {
			t.Fatalf("Job(%d).CampaignID = %d, want %d", j.ID, got.CampaignID, want[j.ID])
		}
	}
	other := newCampaign(t, cs, []int64{a.ID}, 1, a.ID)
	byCampaign, err := s.Jobs(t.Context(), wasend.JobFilter{CampaignID: c.ID})
	if err != nil {
		t.Fatalf("Jobs(CampaignID %d): %v", c.ID, err)
	}
	if got, want := ids(byCampaign), []int64{c.Jobs[0].ID, c.Jobs[1].ID, nj.ID}; !slices.Equal(got, want) {
		t.Fatalf("Jobs(CampaignID %d) = %v, want %v (not %v of campaign %d)", c.ID, got, want, ids(other.Jobs), other.ID)
	}
	got := mustGetJob(t, s, nj.ID)
	for i, m := range got.Messages {
		if m.MovedFrom != c.Jobs[0].Messages[i].ID {
			t.Fatalf("Job(%d).Messages[%d].MovedFrom = %d, want %d", nj.ID, i, m.MovedFrom, c.Jobs[0].Messages[i].ID)
		}
	}
	for i, m := range mustGetJob(t, s, c.Jobs[1].ID).Messages {
		if m.MovedFrom != 0 {
			t.Fatalf("a message that never moved: Messages[%d].MovedFrom = %d, want 0", i, m.MovedFrom)
		}
	}
}

func testCampaignClean(t *testing.T, s *store) {
	cs := campaignStore(t, s)
	a := newContext(t, s, wasend.ContextAvailable)
	b := newContext(t, s, wasend.ContextAvailable)
	long := s.base().Add(-2 * time.Hour)
	finish := func(id int64, to wasend.JobStatus) {
		t.Helper()
		wantApply(t, s, wasend.Step{Job: &wasend.JobTransition{ID: id, From: pending, To: to,
			PendingMessagesTo: wasend.MessageCancelled, At: long}}, true)
	}
	// gone: every job final, with a move between them; kept: one job
	// final, one pending.
	gone := newCampaign(t, cs, []int64{a.ID, b.ID}, 2, a.ID, b.ID)
	moved := mustMove(t, cs, wasend.MessageMove{FromJob: gone.Jobs[0].ID, ToContext: b.ID, Messages: messageIDs(gone.Jobs[0].Messages), At: long})
	finish(gone.Jobs[1].ID, wasend.JobCompleted)
	finish(moved.ID, wasend.JobCancelled)
	kept := newCampaign(t, cs, []int64{a.ID, b.ID}, 2, a.ID, b.ID)
	finish(kept.Jobs[0].ID, wasend.JobFailed)

	// The job the messages left completed at the move, the others at
	// the time given: all before the cut.
	n, err := s.Clean(t.Context(), s.base().Add(time.Hour))
	if err != nil {
		t.Fatalf("Clean: %v", err)
	}
	if n != 4 {
		t.Fatalf("Clean = %d, want 4", n)
	}
	// The campaign left with no job goes with its jobs.
	_, err = cs.Campaign(t.Context(), gone.ID)
	checkErrorIs(t, "Campaign of a campaign whose jobs were all cleaned", err, wasend.ErrCampaignNotFound)
	got := mustGetCampaign(t, cs, kept.ID)
	if !slices.Equal(ids(got.Jobs), []int64{kept.Jobs[1].ID}) {
		t.Fatalf("Campaign after Clean: jobs %v, want %v", ids(got.Jobs), []int64{kept.Jobs[1].ID})
	}
	if list := mustCampaigns(t, cs, wasend.CampaignFilter{}); !slices.Equal(campaignIDs(list), []int64{kept.ID}) {
		t.Fatalf("Campaigns after Clean = %v, want %v", campaignIDs(list), []int64{kept.ID})
	}
}

func testCampaignContacts(t *testing.T, s *store) {
	cs := campaignStore(t, s)
	b := s.base()
	c1 := newContext(t, s, wasend.ContextAvailable)
	c2 := newContext(t, s, wasend.ContextAvailable)
	c3 := newContext(t, s, wasend.ContextAvailable)
	sent := map[int64][]string{c1.ID: {"+71", "+72"}, c2.ID: {"+72", "+73"}, c3.ID: {"+74"}}
	for _, bc := range []wasend.BrowserContext{c1, c2, c3} {
		for _, to := range sent[bc.ID] {
			wantApply(t, s, wasend.Step{Context: ctxStep(bc.ID, wasend.ContextAvailable, wasend.ContextAvailable, b),
				Send: send(bc.ID, to, b, true)}, true)
		}
	}
	// Twice to one recipient: one contact.
	wantApply(t, s, wasend.Step{Context: ctxStep(c1.ID, wasend.ContextAvailable, wasend.ContextAvailable, b),
		Send: send(c1.ID, "+71", b.Add(time.Minute), false)}, true)
	// Many recipients, most never contacted: a store must not choke on a
	// long list.
	var rs []string
	for i := range 1200 {
		rs = append(rs, wasend.HashRecipient(fmt.Sprintf("+8%04d", i)))
	}
	rs = append(rs, wasend.HashRecipient("+71"), wasend.HashRecipient("+72"), wasend.HashRecipient("+73"), wasend.HashRecipient("+74"))
	got, err := cs.Contacts(t.Context(), []int64{c1.ID, c2.ID, missingID}, rs)
	if err != nil {
		t.Fatalf("Contacts: %v", err)
	}
	key := func(c wasend.Contact) string { return fmt.Sprintf("%d %s", c.ContextID, c.Recipient) }
	var have, want []string
	for _, c := range got {
		have = append(have, key(c))
	}
	for _, id := range []int64{c1.ID, c2.ID} {
		for _, to := range sent[id] {
			want = append(want, key(wasend.Contact{ContextID: id, Recipient: wasend.HashRecipient(to)}))
		}
	}
	slices.Sort(have)
	slices.Sort(want)
	if !slices.Equal(have, want) {
		t.Fatalf("Contacts = %v, want %v (c3's contact is not asked for)", have, want)
	}
	if got, err := cs.Contacts(t.Context(), nil, rs); err != nil || len(got) != 0 {
		t.Fatalf("Contacts of no context = %v, %v; want none", got, err)
	}
	if got, err := cs.Contacts(t.Context(), []int64{c1.ID}, nil); err != nil || len(got) != 0 {
		t.Fatalf("Contacts of no recipient = %v, %v; want none", got, err)
	}
}
