package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/wasend/wasend"
)

// The rules of account safety: context settings (pacing, proxy), the
// restriction and first login that context transitions store, the job's
// wait reason and NotBefore, and the send ledger.

var settingsTests = []test{
	{"Create", testSettingsCreate},
	{"Update", testSettingsUpdate},
	{"Invalid", testSettingsInvalid},
	{"UpdateNotFound", testSettingsNotFound},
}

var safetyTests = []test{
	{"Restriction", testSafetyRestriction},
	{"RestrictionOnlyWhenApplied", testSafetyRestrictionRefused},
	{"LoggedIn", testSafetyLoggedIn},
	{"RestrictedStatus", testSafetyRestrictedStatus},
	{"Wait", testSafetyWait},
	{"NotBefore", testSafetyNotBefore},
}

var ledgerTests = []test{
	{"AppendWhenApplied", testLedgerAppend},
	{"Order", testLedgerOrder},
	{"AtZeroIsNow", testLedgerNow},
	{"Prune", testLedgerPrune},
	{"Invalid", testLedgerInvalid},
}

// pacingOf returns a pointer to a valid policy unlike the default, so that
// a store that keeps a field of its own would show it.
func pacingOf() *wasend.Pacing {
	p := wasend.DefaultPacing()
	p.MinGap, p.MaxGap = 1500*time.Millisecond, 2*time.Minute
	p.PerDay, p.WarmupGrowth = 321, 1.25
	p.WindowStart, p.WindowEnd = 22*time.Hour, 6*time.Hour
	p.Location = "America/Sao_Paulo"
	return &p
}

const testProxy = "socks5://user:s3cret@proxy.example:1080"

func testSettingsCreate(t *testing.T, s *store) {
	plain := mustContext(t, s, wasend.BrowserContext{})
	if plain.Pacing != nil || plain.Proxy != "" {
		t.Fatalf("CreateContext with no settings: Pacing %+v, Proxy %q; want nil and empty", plain.Pacing, plain.Proxy)
	}
	in := wasend.BrowserContext{SystemID: "p", Pacing: pacingOf(), Proxy: testProxy}
	c := mustContext(t, s, in)
	want := c
	want.Pacing, want.Proxy = pacingOf(), testProxy
	checkContext(t, "CreateContext's result", c, want)
	// The store keeps its own copy: changing the caller's changes nothing.
	in.Pacing.PerDay = 1
	checkContext(t, "Context after CreateContext", mustGetContext(t, s, c.ID), want)
	off := mustContext(t, s, wasend.BrowserContext{Pacing: &wasend.Pacing{}})
	if off.Pacing == nil || !off.Pacing.Off() {
		t.Fatalf("CreateContext with NoPacing: Pacing = %+v, want a policy that is off (not nil)", off.Pacing)
	}
	list := mustContexts(t, s, 3)
	checkContext(t, "Contexts()[0]", list[0], plain)
	checkContext(t, "Contexts()[1]", list[1], want)
	checkContext(t, "Contexts()[2]", list[2], off)
	checkContext(t, "Context of NoPacing", mustGetContext(t, s, off.ID), off)
}

func testSettingsUpdate(t *testing.T, s *store) {
	c := mustContext(t, s, wasend.BrowserContext{Status: wasend.ContextAvailable, SystemID: "p"})
	update := func(what string, set wasend.ContextSettings, want wasend.BrowserContext) wasend.BrowserContext {
		t.Helper()
		got, err := s.UpdateContext(t.Context(), c.ID, set)
		if err != nil {
			t.Fatalf("%s: UpdateContext: %v", what, err)
		}
		s.checkSet(t, what+": UpdatedAt", got.UpdatedAt)
		want.UpdatedAt = got.UpdatedAt
		checkContext(t, what+": UpdateContext's result", got, want)
		checkContext(t, what+": Context", mustGetContext(t, s, c.ID), want)
		return want
	}
	p := pacingOf()
	proxy := testProxy
	want := c
	want.Pacing = pacingOf()
	want = update("set the pacing", wasend.ContextSettings{Pacing: &p}, want)
	want.Proxy = testProxy
	want = update("set the proxy", wasend.ContextSettings{Proxy: &proxy}, want)
	want = update("change nothing", wasend.ContextSettings{}, want)
	var none *wasend.Pacing
	empty := ""
	want.Pacing = nil
	want = update("clear the pacing", wasend.ContextSettings{Pacing: &none}, want)
	if want.Proxy != testProxy {
		t.Fatalf("clearing the pacing changed the proxy to %q", want.Proxy)
	}
	want.Proxy = ""
	want.Pacing = pacingOf()
	update("clear the proxy, set the pacing", wasend.ContextSettings{Pacing: &p, Proxy: &empty}, want)
}

func testSettingsInvalid(t *testing.T, s *store) {
	cases := []struct {
		name   string
		pacing *wasend.Pacing
		proxy  string
		target error
	}{
		{"gap", &wasend.Pacing{MinGap: time.Minute, MaxGap: time.Second}, "", wasend.ErrInvalidPacing},
		{"location", &wasend.Pacing{Location: "Nowhere/Atlantis"}, "", wasend.ErrInvalidPacing},
		{"proxy scheme", nil, "ftp://proxy.example:21", wasend.ErrProxy},
		{"proxy port", nil, "http://proxy.example", wasend.ErrProxy},
		{"proxy, with a valid pacing", pacingOf(), "socks4://proxy.example:1080", wasend.ErrProxy},
	}
	for _, in := range cases {
		_, err := s.CreateContext(t.Context(), wasend.BrowserContext{Pacing: in.pacing, Proxy: in.proxy})
		checkErrorIs(t, "CreateContext with an invalid "+in.name, err, in.target)
	}
	mustContexts(t, s, 0)
	c := mustContext(t, s, wasend.BrowserContext{Pacing: pacingOf(), Proxy: testProxy})
	for _, in := range cases {
		var set wasend.ContextSettings
		if in.pacing != nil {
			set.Pacing = &in.pacing
		}
		if in.proxy != "" {
			set.Proxy = &in.proxy
		}
		_, err := s.UpdateContext(t.Context(), c.ID, set)
		checkErrorIs(t, "UpdateContext with an invalid "+in.name, err, in.target)
		checkContext(t, "UpdateContext with an invalid "+in.name+": nothing may change", mustGetContext(t, s, c.ID), c)
	}
}

func testSettingsNotFound(t *testing.T, s *store) {
	proxy := ""
	_, err := s.UpdateContext(t.Context(), missingID, wasend.ContextSettings{Proxy: &proxy})
	checkErrorIs(t, "UpdateContext of a missing id", err, wasend.ErrContextNotFound)
	_, err = s.UpdateContext(t.Context(), missingID, wasend.ContextSettings{})
	checkErrorIs(t, "UpdateContext of a missing id, with no settings", err, wasend.ErrContextNotFound)
}

// ctxStep is a context transition between two statuses at a time.
func ctxStep(id int64, from, to wasend.ContextStatus, at time.Time) *wasend.ContextTransition {
	return &wasend.ContextTransition{ID: id, From: []wasend.ContextStatus{from}, To: to, At: at}
}

func testSafetyRestriction(t *testing.T, s *store) {
	b := s.base()
	bc := newContext(t, s, wasend.ContextAvailable)
	if bc.Restriction != (wasend.Restriction{}) || !bc.FirstLoginAt.IsZero() {
		t.Fatalf("a new context: Restriction %+v, FirstLoginAt %v; want none", bc.Restriction, bc.FirstLoginAt)
	}
	want := bc
	apply := func(what string, tr *wasend.ContextTransition) {
		t.Helper()
		wantApply(t, s, wasend.Step{Context: tr}, true)
		want.Status, want.UpdatedAt = tr.To, tr.At
		checkContext(t, what, mustGetContext(t, s, bc.ID), want)
	}
	r := wasend.Restriction{Kind: wasend.RestrictionTemporary, Until: b.Add(36*time.Hour + 250*time.Millisecond), Reason: "code 104 ñ"}
	tr := ctxStep(bc.ID, wasend.ContextAvailable, wasend.ContextRestricted, b.Add(time.Second))
	tr.Restriction = &r
	want.Restriction = r
	apply("a temporary ban", tr)
	apply("a change that does not set the restriction keeps it", ctxStep(bc.ID, wasend.ContextRestricted, wasend.ContextBusy, b.Add(2*time.Second)))
	tr = ctxStep(bc.ID, wasend.ContextBusy, wasend.ContextAvailable, b.Add(3*time.Second))
	tr.Restriction = &wasend.Restriction{Kind: wasend.RestrictionNewChats, Reason: "timelock"}
	want.Restriction = *tr.Restriction
	apply("a new-chats lock with no end replaces the ban, and its Until", tr)
	tr = ctxStep(bc.ID, wasend.ContextAvailable, wasend.ContextAvailable, b.Add(4*time.Second))
	tr.Restriction = &wasend.Restriction{}
	want.Restriction = wasend.Restriction{}
	apply("a pointer to the zero Restriction clears it", tr)
	for _, k := range wasend.RestrictionKinds() {
		tr = ctxStep(bc.ID, wasend.ContextAvailable, wasend.ContextAvailable, b.Add(5*time.Second))
		tr.Restriction = &wasend.Restriction{Kind: k, Until: b.Add(time.Hour)}
		want.Restriction = *tr.Restriction
		apply("restriction kind "+string(k), tr)
	}
}

func testSafetyRestrictionRefused(t *testing.T, s *store) {
	b := s.base()
	bc := newContext(t, s, wasend.ContextAvailable)
	j := mustJob(t, s, job(bc.ID, wasend.KindSingle, 1))
	tr := ctxStep(bc.ID, wasend.ContextBusy, wasend.ContextRestricted, b.Add(time.Second))
	tr.Restriction = &wasend.Restriction{Kind: wasend.RestrictionTemporary, Until: b.Add(time.Hour)}
	tr.LoggedIn = true
	wantApply(t, s, wasend.Step{Context: tr}, false)
	checkContext(t, "a refused change", mustGetContext(t, s, bc.ID), bc)
	// A context change that matches, in a step that fails on its job.
	tr.From = []wasend.ContextStatus{wasend.ContextAvailable}
	wantApply(t, s, wasend.Step{Job: &wasend.JobTransition{ID: j.ID, From: running, To: wasend.JobPaused}, Context: tr}, false)
	checkContext(t, "a step refused on its job", mustGetContext(t, s, bc.ID), bc)
}

func testSafetyLoggedIn(t *testing.T, s *store) {
	b := s.base()
	bc := newContext(t, s, wasend.ContextDisconnected)
	want := bc
	tr := ctxStep(bc.ID, wasend.ContextDisconnected, wasend.ContextAvailable, b.Add(time.Second))
	tr.LoggedIn = true
	wantApply(t, s, wasend.Step{Context: tr}, true)
	want.Status, want.UpdatedAt, want.FirstLoginAt = wasend.ContextAvailable, tr.At, tr.At
	checkContext(t, "the first login", mustGetContext(t, s, bc.ID), want)
	tr = ctxStep(bc.ID, wasend.ContextAvailable, wasend.ContextDisconnected, b.Add(2*time.Second))
	wantApply(t, s, wasend.Step{Context: tr}, true)
	want.Status, want.UpdatedAt = tr.To, tr.At
	checkContext(t, "a change without LoggedIn keeps FirstLoginAt", mustGetContext(t, s, bc.ID), want)
	tr = ctxStep(bc.ID, wasend.ContextDisconnected, wasend.ContextAvailable, b.Add(3*time.Second))
	tr.LoggedIn = true
	wantApply(t, s, wasend.Step{Context: tr}, true)
	want.Status, want.UpdatedAt = tr.To, tr.At
	checkContext(t, "a second login keeps the first's time", mustGetContext(t, s, bc.ID), want)

	// At zero is now.
	other := newContext(t, s, wasend.ContextDisconnected)
	wantApply(t, s, wasend.Step{Context: &wasend.ContextTransition{ID: other.ID,
		From: []wasend.ContextStatus{wasend.ContextDisconnected}, To: wasend.ContextAvailable, LoggedIn: true}}, true)
	got := mustGetContext(t, s, other.ID)
	s.checkSet(t, "FirstLoginAt of a login at zero", got.FirstLoginAt)
	checkTime(t, "FirstLoginAt of a login at zero", got.FirstLoginAt, got.UpdatedAt)
}

func testSafetyRestrictedStatus(t *testing.T, s *store) {
	b := s.base()
	bc := newContext(t, s, wasend.ContextRestricted)
	if got := mustGetContext(t, s, bc.ID); got.Status != wasend.ContextRestricted {
		t.Fatalf("Status = %q, want %q", got.Status, wasend.ContextRestricted)
	}
	// A restricted context takes jobs: they wait.
	j := mustJob(t, s, job(bc.ID, wasend.KindSingle, 1))
	if j.Status != wasend.JobPending {
		t.Fatalf("a job of a restricted context: Status = %q, want %q", j.Status, wasend.JobPending)
	}
	wantApply(t, s, wasend.Step{Context: ctxStep(bc.ID, wasend.ContextAvailable, wasend.ContextBusy, b.Add(time.Second))}, false)
	wantApply(t, s, wasend.Step{Context: &wasend.ContextTransition{ID: bc.ID,
		From: []wasend.ContextStatus{wasend.ContextRestricted, wasend.ContextDisconnected}, To: wasend.ContextAvailable,
		Restriction: &wasend.Restriction{}, At: b.Add(2 * time.Second)}}, true)
	wantApply(t, s, wasend.Step{Context: ctxStep(bc.ID, wasend.ContextAvailable, wasend.ContextRestricted, b.Add(3*time.Second))}, true)
	want := bc
	want.UpdatedAt = b.Add(3 * time.Second)
	checkContext(t, "back to restricted", mustGetContext(t, s, bc.ID), want)
}

func testSafetyWait(t *testing.T, s *store) {
	b := s.base()
	bc := newContext(t, s, wasend.ContextAvailable)
	j := mustJob(t, s, job(bc.ID, wasend.KindSingle, 1))
	if j.Wait != wasend.WaitNone {
		t.Fatalf("a new job: Wait = %q, want none", j.Wait)
	}
	want := j
	step := func(what string, tr *wasend.JobTransition) {
		t.Helper()
		wantApply(t, s, wasend.Step{Job: tr}, true)
		want.Status, want.Wait, want.UpdatedAt, want.Version = tr.To, tr.Wait, tr.At, want.Version+1
		if !tr.NextRunAt.IsZero() {
			want.NextRunAt = tr.NextRunAt
		}
		checkJob(t, what, mustGetJob(t, s, j.ID), want)
	}
	for i, w := range wasend.WaitReasons() {
		step("wait "+string(w), &wasend.JobTransition{ID: j.ID, From: pending, To: wasend.JobPending, Wait: w,
			NextRunAt: b.Add(time.Duration(i+1) * time.Minute), At: b.Add(time.Duration(i+1) * time.Second)})
	}
	step("a change without Wait clears it", &wasend.JobTransition{ID: j.ID, From: pending, To: wasend.JobPaused, At: b.Add(time.Hour)})
	step("wait again", &wasend.JobTransition{ID: j.ID, From: []wasend.JobStatus{wasend.JobPaused}, To: wasend.JobPending,
		Wait: wasend.WaitWindow, At: b.Add(2 * time.Hour)})
	// A refused change keeps the wait.
	wantApply(t, s, wasend.Step{Job: &wasend.JobTransition{ID: j.ID, From: running, To: wasend.JobPending, At: b.Add(3 * time.Hour)}}, false)
	checkJob(t, "a refused change", mustGetJob(t, s, j.ID), want)
	want.Claim, want.StartedAt = "w1", b.Add(4*time.Hour)
	step("claiming the job clears it", &wasend.JobTransition{ID: j.ID, From: pending, To: wasend.JobRunning, Claim: "w1",
		At: b.Add(4 * time.Hour)})
}

func testSafetyNotBefore(t *testing.T, s *store) {
	b := s.base()
	bc := newContext(t, s, wasend.ContextAvailable)
	in := job(bc.ID, wasend.KindSingle, 1)
	in.NotBefore, in.NextRunAt, in.Wait = b.Add(26*time.Hour+500*time.Millisecond), b.Add(26*time.Hour+500*time.Millisecond), wasend.WaitNotBefore
	j := mustJob(t, s, in)
	checkTime(t, "CreateJob's NotBefore", j.NotBefore, in.NotBefore)
	if j.Wait != wasend.WaitNotBefore {
		t.Fatalf("CreateJob's Wait = %q, want %q", j.Wait, wasend.WaitNotBefore)
	}
	checkJob(t, "Job after CreateJob", mustGetJob(t, s, j.ID), j)
	plain := mustJob(t, s, job(bc.ID, wasend.KindBulk, 2))
	if !plain.NotBefore.IsZero() {
		t.Fatalf("a job without NotBefore: NotBefore = %v, want zero", plain.NotBefore)
	}
	list, err := s.Jobs(t.Context(), wasend.JobFilter{ContextID: bc.ID})
	if err != nil {
		t.Fatalf("Jobs: %v", err)
	}
	if len(list) != 2 {
		t.Fatalf("Jobs = %d jobs, want 2", len(list))
	}
	want := j
	want.Messages = nil
	checkJob(t, "Jobs()[0]", list[0], want)
	plain.Messages = nil
	checkJob(t, "Jobs()[1]", list[1], plain)
	// A change of the job keeps NotBefore.
	wantApply(t, s, wasend.Step{Job: &wasend.JobTransition{ID: j.ID, From: pending, To: wasend.JobPaused, At: b.Add(time.Second)}}, true)
	checkTime(t, "NotBefore after a change", mustGetJob(t, s, j.ID).NotBefore, in.NotBefore)
}

// send builds a send record.
func send(contextID int64, to string, at time.Time, newContact bool) *wasend.SendRecord {
	return &wasend.SendRecord{ContextID: contextID, At: at, Recipient: wasend.HashRecipient(to),
		TextHash: wasend.HashText("text to " + to), NewContact: newContact}
}

// checkSends fails unless the context's ledger from since is want.
func checkSends(t *testing.T, s wasend.Store, what string, contextID int64, since time.Time, want []wasend.SendRecord) {
	t.Helper()
	got, err := s.Sends(t.Context(), contextID, since)
	if err != nil {
		t.Fatalf("%s: Sends(%d, %v): %v", what, contextID, since, err)
	}
	if len(got) != len(want) {
		t.Fatalf("%s: Sends(%d, %v) = %d records, want %d: %+v", what, contextID, since, len(got), len(want), got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.ContextID != w.ContextID || g.Recipient != w.Recipient || g.TextHash != w.TextHash || g.NewContact != w.NewContact {
			t.Fatalf("%s: Sends(%d, %v)[%d] = %+v, want %+v", what, contextID, since, i, g, w)
		}
		checkTime(t, fmt.Sprintf("%s: Sends(%d, %v)[%d].At", what, contextID, since, i), g.At, w.At)
	}
}

func checkContacted(t *testing.T, s wasend.Store, what string, contextID int64, to string, want bool) {
	t.Helper()
	got, err := s.Contacted(t.Context(), contextID, wasend.HashRecipient(to))
	if err != nil {
		t.Fatalf("%s: Contacted(%d, %s): %v", what, contextID, to, err)
	}
	if got != want {
		t.Fatalf("%s: Contacted(%d, %s) = %v, want %v", what, contextID, to, got, want)
	}
}

func testLedgerAppend(t *testing.T, s *store) {
	b := s.base()
	bc := newContext(t, s, wasend.ContextAvailable)
	j := mustJob(t, s, job(bc.ID, wasend.KindSingle, 1))
	mid := j.Messages[0].ID
	checkSends(t, s, "an empty ledger", bc.ID, time.Time{}, nil)
	checkContacted(t, s, "an empty ledger", bc.ID, "+1", false)

	// Steps that do not apply, of every shape, write nothing.
	refused := []wasend.Step{
		{Context: ctxStep(bc.ID, wasend.ContextBusy, wasend.ContextAvailable, b)},
		{Message: &wasend.MessageTransition{ID: mid, From: msgSend, To: wasend.MessageSent}},
		{Job: &wasend.JobTransition{ID: j.ID, From: running, To: wasend.JobPaused}},
		{Job: &wasend.JobTransition{ID: j.ID, From: pending, To: wasend.JobRunning, Claim: "w"},
			Message: &wasend.MessageTransition{ID: mid, From: msgPend, To: wasend.MessageSending, StartAttempt: true},
			Context: ctxStep(bc.ID, wasend.ContextBusy, wasend.ContextAvailable, b)},
		{Context: ctxStep(missingID, wasend.ContextAvailable, wasend.ContextBusy, b)},
	}
	for i, st := range refused {
		st.Send = send(bc.ID, "+1", b.Add(time.Duration(i)*time.Second), true)
		wantApply(t, s, st, false)
		checkSends(t, s, fmt.Sprintf("refused step %d (%s)", i, describe(st)), bc.ID, time.Time{}, nil)
		checkContacted(t, s, fmt.Sprintf("refused step %d (%s)", i, describe(st)), bc.ID, "+1", false)
	}

	// A step that applies appends, whatever its transitions.
	var want []wasend.SendRecord
	applied := []wasend.Step{
		{Message: &wasend.MessageTransition{ID: mid, From: msgPend, To: wasend.MessageSending, StartAttempt: true, At: b.Add(time.Minute)}},
		{Job: &wasend.JobTransition{ID: j.ID, From: pending, To: wasend.JobRunning, Claim: "w", At: b.Add(2 * time.Minute)},
			Context: ctxStep(bc.ID, wasend.ContextAvailable, wasend.ContextBusy, b.Add(2*time.Minute))},
		{Context: ctxStep(bc.ID, wasend.ContextBusy, wasend.ContextAvailable, b.Add(3*time.Minute))},
	}
	for i, st := range applied {
		to := fmt.Sprintf("+2%d", i)
		st.Send = send(bc.ID, to, b.Add(time.Duration(i+1)*time.Minute), i == 0)
		wantApply(t, s, st, true)
		want = append(want, *st.Send)
		checkSends(t, s, fmt.Sprintf("applied step %d (%s)", i, describe(st)), bc.ID, time.Time{}, want)
		checkContacted(t, s, fmt.Sprintf("applied step %d (%s)", i, describe(st)), bc.ID, to, true)
	}
	checkContacted(t, s, "after the applied steps", bc.ID, "+1", false)

	// A second send to a recipient is a second entry; the contact stays.
	again := send(bc.ID, "+20", b.Add(4*time.Minute), false)
	wantApply(t, s, wasend.Step{Context: ctxStep(bc.ID, wasend.ContextAvailable, wasend.ContextAvailable, b.Add(4*time.Minute)), Send: again}, true)
	want = append(want, *again)
	checkSends(t, s, "a second send to +20", bc.ID, time.Time{}, want)
	checkContacted(t, s, "a second send to +20", bc.ID, "+20", true)

	// The ledger and the contacts are per context.
	other := newContext(t, s, wasend.ContextAvailable)
	checkSends(t, s, "another context", other.ID, time.Time{}, nil)
	checkContacted(t, s, "another context", other.ID, "+20", false)
}

func testLedgerOrder(t *testing.T, s *store) {
	b := s.base()
	c1 := newContext(t, s, wasend.ContextAvailable)
	c2 := newContext(t, s, wasend.ContextAvailable)
	// Appended out of order, in both contexts; an At with milliseconds.
	offsets := []time.Duration{3 * time.Second, time.Second, 5*time.Second + 123*time.Millisecond, 2 * time.Second, 4 * time.Second}
	var recs []wasend.SendRecord
	for i, d := range offsets {
		bc := c1
		if i%2 == 1 {
			bc = c2
		}
		r := send(bc.ID, fmt.Sprintf("+3%d", i), b.Add(d), i%3 == 0)
		if i == 4 {
			r.TextHash = ""
		}
		wantApply(t, s, wasend.Step{Context: ctxStep(bc.ID, wasend.ContextAvailable, wasend.ContextAvailable, b), Send: r}, true)
		recs = append(recs, *r)
	}
	// c1: offsets 3s (0), 5s (2), 4s (4); c2: 1s (1), 2s (3).
	checkSends(t, s, "context 1, all", c1.ID, time.Time{}, []wasend.SendRecord{recs[0], recs[4], recs[2]})
	checkSends(t, s, "context 1, from before the first", c1.ID, b, []wasend.SendRecord{recs[0], recs[4], recs[2]})
	checkSends(t, s, "context 1, since is inclusive", c1.ID, b.Add(4*time.Second), []wasend.SendRecord{recs[4], recs[2]})
	checkSends(t, s, "context 1, since a millisecond after", c1.ID, b.Add(4*time.Second+time.Millisecond), []wasend.SendRecord{recs[2]})
	checkSends(t, s, "context 1, since the last, to the millisecond", c1.ID, b.Add(5*time.Second+123*time.Millisecond), []wasend.SendRecord{recs[2]})
	checkSends(t, s, "context 1, after the last", c1.ID, b.Add(6*time.Second), nil)
	checkSends(t, s, "context 2, all", c2.ID, time.Time{}, []wasend.SendRecord{recs[1], recs[3]})
	checkSends(t, s, "context 2, since in another zone", c2.ID, b.Add(2*time.Second).In(time.FixedZone("UTC-3", -3*3600)), []wasend.SendRecord{recs[3]})
	checkSends(t, s, "a missing context", missingID, time.Time{}, nil)
}

func testLedgerNow(t *testing.T, s *store) {
	bc := newContext(t, s, wasend.ContextAvailable)
	r := send(bc.ID, "+4", time.Time{}, true)
	wantApply(t, s, wasend.Step{Context: &wasend.ContextTransition{ID: bc.ID, From: available, To: wasend.ContextBusy}, Send: r}, true)
	got, err := s.Sends(t.Context(), bc.ID, time.Time{})
	if err != nil {
		t.Fatalf("Sends: %v", err)
	}
	if len(got) != 1 {
		t.Fatalf("Sends = %d records, want 1", len(got))
	}
	s.checkSet(t, "the At of a send at zero", got[0].At)
}

func testLedgerPrune(t *testing.T, s *store) {
	b := s.base()
	c1 := newContext(t, s, wasend.ContextAvailable)
	c2 := newContext(t, s, wasend.ContextAvailable)
	var recs []wasend.SendRecord
	for i := range 6 {
		bc := c1
		if i >= 4 {
			bc = c2
		}
		r := send(bc.ID, fmt.Sprintf("+5%d", i), b.Add(time.Duration(i)*time.Minute), true)
		wantApply(t, s, wasend.Step{Context: ctxStep(bc.ID, wasend.ContextAvailable, wasend.ContextAvailable, b), Send: r}, true)
		recs = append(recs, *r)
	}
	prune := func(before time.Time, want int64) {
		t.Helper()
		n, err := s.PruneSends(t.Context(), before)
		if err != nil {
			t.Fatalf("PruneSends(%v): %v", before, err)
		}
		if n != want {
			t.Fatalf("PruneSends(%v) = %d, want %d", before, n, want)
		}
	}
	prune(b, 0)
	// Before 2m: the entries at 0 and 1 minute, of context 1.
	prune(b.Add(2*time.Minute), 2)
	checkSends(t, s, "after pruning", c1.ID, time.Time{}, recs[2:4])
	checkSends(t, s, "another context, after pruning", c2.ID, time.Time{}, recs[4:])
	prune(b.Add(2*time.Minute), 0)
	// Across contexts; the bound is exclusive.
	prune(b.Add(5*time.Minute), 3)
	checkSends(t, s, "after pruning again", c1.ID, time.Time{}, nil)
	checkSends(t, s, "another context, after pruning again", c2.ID, time.Time{}, recs[5:])
	// Contacts are never pruned.
	for i := range 6 {
		bc := c1
		if i >= 4 {
			bc = c2
		}
		checkContacted(t, s, "after pruning", bc.ID, fmt.Sprintf("+5%d", i), true)
	}
	checkContacted(t, s, "after pruning, across contexts", c2.ID, "+50", false)
}

func testLedgerInvalid(t *testing.T, s *store) {
	b := s.base()
	bc := newContext(t, s, wasend.ContextAvailable)
	okCtx := func() *wasend.ContextTransition {
		return ctxStep(bc.ID, wasend.ContextAvailable, wasend.ContextBusy, b)
	}
	for _, c := range []struct {
		name string
		st   wasend.Step
	}{
		{"only a send", wasend.Step{Send: send(bc.ID, "+6", b, true)}},
		{"a send of context 0", wasend.Step{Context: okCtx(), Send: send(0, "+6", b, true)}},
		{"a send without a recipient", wasend.Step{Context: okCtx(), Send: &wasend.SendRecord{ContextID: bc.ID, At: b, TextHash: "t"}}},
	} {
		ok, err := s.Apply(t.Context(), c.st)
		if ok || !errors.Is(err, wasend.ErrInvalidStep) {
			t.Fatalf("%s: Apply = %v, %v; want false and an error wrapping wasend.ErrInvalidStep", c.name, ok, err)
		}
		checkSends(t, s, c.name, bc.ID, time.Time{}, nil)
		checkContext(t, c.name+": nothing may change", mustGetContext(t, s, bc.ID), bc)
	}
}
