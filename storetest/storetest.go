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

// Options says what the suite may expect of the stores that newStore
// returns. The zero value is valid: each field has a default.
type Options struct {
	// Now is the clock of the stores: the times a store stamps on what the
	// caller leaves zero (CreatedAt, UpdatedAt, NextRunAt, …) must be within
	// an hour of it, and the suite's own times are near it. Give the clock
	// of a store built with a fake one (sqlstore.WithClock). Default:
	// time.Now.
	Now func() time.Time
	// Parallel runs the subtests in parallel (t.Parallel), each on a store
	// of its own. Default: false (one after another, so that a newStore
	// may empty one shared database instead of making a new one).
	Parallel bool
}

// test is one subtest of the suite.
type test struct {
	name string
	fn   func(t *testing.T, s *store)
}

// store is the store under test, with the clock it is checked against.
type store struct {
	wasend.Store
	now func() time.Time
}

// Run runs the conformance suite. newStore must return a fresh, empty,
// ready-to-use store, isolated from the others (if opts.Parallel), and
// release it in t.Cleanup.
func Run(t *testing.T, newStore func(t *testing.T) wasend.Store, opts Options) {
	t.Helper()
	if opts.Now == nil {
		opts.Now = time.Now
	}
	groups := []struct {
		name  string
		tests []test
	}{
		{"Contexts", contextTests},
		{"Jobs", jobTests},
		{"Keys", keyTests},
		{"Apply", applyTests},
		{"Counts", countTests},
		{"Clean", cleanTests},
		{"Errors", errorTests},
		{"Settings", settingsTests},
		{"Safety", safetyTests},
		{"Ledger", ledgerTests},
	}
	// The groups of the optional interfaces run only for a store that
	// implements them, as a first store tells.
	probe := newStore(t)
	for _, g := range []struct {
		name  string
		tests []test
		has   bool
	}{
		{"Campaigns", campaignTests, implements[wasend.CampaignStore](probe)},
		{"Outbox", outboxTests, implements[wasend.OutboxStore](probe)},
		// Receipts also holds the tests of the columns that came with it:
		// a message's Media and a context's Account.
		{"Receipts", receiptTests, implements[wasend.ReceiptStore](probe)},
		{"Inbox", inboxTests, implements[wasend.InboxStore](probe)},
		{"Suppressions", suppressionTests, implements[wasend.SuppressionStore](probe)},
		{"SuppressionGuard", guardTests, implements[wasend.SuppressionGuard](probe)},
		{"Numbers", numberTests, implements[wasend.NumberStore](probe)},
	} {
		if g.has {
			groups = append(groups, struct {
				name  string
				tests []test
			}{g.name, g.tests})
		}
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			if opts.Parallel {
				t.Parallel()
			}
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) {
					if opts.Parallel {
						t.Parallel()
					}
					tc.fn(t, &store{Store: newStore(t), now: opts.Now})
				})
			}
		})
	}
}

// implements reports whether s implements the optional interface T.
func implements[T any](s wasend.Store) bool {
	_, ok := s.(T)
	return ok
}

// missingID is an id no fresh store has given.
const missingID = 987654321

// base returns a time in whole milliseconds, in UTC, near the store's now.
func (s *store) base() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

func mustContext(t *testing.T, s wasend.Store, c wasend.BrowserContext) wasend.BrowserContext {
	t.Helper()
	got, err := s.CreateContext(t.Context(), c)
	if err != nil {
		t.Fatalf("CreateContext(%+v): %v", c, err)
	}
	return got
}

func mustGetContext(t *testing.T, s wasend.Store, id int64) wasend.BrowserContext {
	t.Helper()
	got, err := s.Context(t.Context(), id)
	if err != nil {
		t.Fatalf("Context(%d): %v", id, err)
	}
	return got
}

// mustContexts lists the contexts and fails unless there are n.
func mustContexts(t *testing.T, s wasend.Store, n int) []wasend.BrowserContext {
	t.Helper()
	list, err := s.Contexts(t.Context())
	if err != nil {
		t.Fatalf("Contexts: %v", err)
	}
	if len(list) != n {
		t.Fatalf("Contexts = %d contexts, want %d", len(list), n)
	}
	return list
}

func mustJob(t *testing.T, s wasend.Store, j wasend.Job) wasend.Job {
	t.Helper()
	got, err := s.CreateJob(t.Context(), j)
	if err != nil {
		t.Fatalf("CreateJob(context %d, %d messages): %v", j.ContextID, len(j.Messages), err)
	}
	return got
}

func mustGetJob(t *testing.T, s wasend.Store, id int64) wasend.Job {
	t.Helper()
	got, err := s.Job(t.Context(), id)
	if err != nil {
		t.Fatalf("Job(%d): %v", id, err)
	}
	return got
}

func mustApply(t *testing.T, s wasend.Store, st wasend.Step) bool {
	t.Helper()
	ok, err := s.Apply(t.Context(), st)
	if err != nil {
		t.Fatalf("Apply(%s): %v", describe(st), err)
	}
	return ok
}

// wantApply applies st and fails unless the result is want.
func wantApply(t *testing.T, s wasend.Store, st wasend.Step, want bool) {
	t.Helper()
	if got := mustApply(t, s, st); got != want {
		t.Fatalf("Apply(%s) = %v, want %v", describe(st), got, want)
	}
}

func describe(st wasend.Step) string {
	var parts []string
	if j := st.Job; j != nil {
		parts = append(parts, fmt.Sprintf("job %d %v->%s", j.ID, j.From, j.To))
	}
	if m := st.Message; m != nil {
		parts = append(parts, fmt.Sprintf("message %d %v->%s", m.ID, m.From, m.To))
	}
	if c := st.Context; c != nil {
		parts = append(parts, fmt.Sprintf("context %d %v->%s", c.ID, c.From, c.To))
	}
	if r := st.Receipt; r != nil {
		parts = append(parts, fmt.Sprintf("receipt of message %d: %s, undelivered %v", r.MessageID, r.Ack, r.Undelivered))
	}
	if r := st.Send; r != nil {
		parts = append(parts, fmt.Sprintf("send of context %d", r.ContextID))
	}
	if len(parts) == 0 {
		return "empty step"
	}
	return strings.Join(parts, ", ")
}

// job builds a job of n messages for a context.
func job(contextID int64, kind wasend.JobKind, n int) wasend.Job {
	j := wasend.Job{ContextID: contextID, Kind: kind, MaxAttempts: 3}
	for i := range n {
		j.Messages = append(j.Messages, wasend.Message{To: fmt.Sprintf("+1555%07d", i), Text: fmt.Sprintf("message %d", i)})
	}
	return j
}

// newContext creates a context in the given status.
func newContext(t *testing.T, s wasend.Store, st wasend.ContextStatus) wasend.BrowserContext {
	t.Helper()
	return mustContext(t, s, wasend.BrowserContext{Status: st})
}

// checkTime fails unless got is want (both in UTC).
func checkTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
	if !got.IsZero() && got.Location() != time.UTC {
		t.Fatalf("%s = %v, want a time in UTC", what, got)
	}
}

// checkSet fails unless got is a time set by the store: not zero, in UTC,
// near the store's now.
func (s *store) checkSet(t *testing.T, what string, got time.Time) {
	t.Helper()
	if got.IsZero() {
		t.Fatalf("%s is zero, want it set", what)
	}
	if got.Location() != time.UTC {
		t.Fatalf("%s = %v, want a time in UTC", what, got)
	}
	now := s.now().UTC()
	if d := now.Sub(got); d > time.Hour || d < -time.Hour {
		t.Fatalf("%s = %v, want about now (%v, Options.Now)", what, got, now)
	}
}

// diffContext lists the differences between two browser contexts.
func diffContext(got, want wasend.BrowserContext) []string {
	var d []string
	if got.ID != want.ID {
		d = append(d, fmt.Sprintf("ID = %d, want %d", got.ID, want.ID))
	}
	if got.Status != want.Status {
		d = append(d, fmt.Sprintf("Status = %q, want %q", got.Status, want.Status))
	}
	if got.SystemID != want.SystemID {
		d = append(d, fmt.Sprintf("SystemID = %q, want %q", got.SystemID, want.SystemID))
	}
	d = diffTime(d, "CreatedAt", got.CreatedAt, want.CreatedAt)
	d = diffTime(d, "UpdatedAt", got.UpdatedAt, want.UpdatedAt)
	if got.Restriction.Kind != want.Restriction.Kind || got.Restriction.Reason != want.Restriction.Reason {
		d = append(d, fmt.Sprintf("Restriction = %q (%q), want %q (%q)", got.Restriction.Kind, got.Restriction.Reason,
			want.Restriction.Kind, want.Restriction.Reason))
	}
	d = diffTime(d, "Restriction.Until", got.Restriction.Until, want.Restriction.Until)
	d = diffTime(d, "FirstLoginAt", got.FirstLoginAt, want.FirstLoginAt)
	if (got.Pacing == nil) != (want.Pacing == nil) || (got.Pacing != nil && *got.Pacing != *want.Pacing) {
		d = append(d, fmt.Sprintf("Pacing = %+v, want %+v", got.Pacing, want.Pacing))
	}
	if got.Proxy != want.Proxy {
		// The proxy holds credentials: say only that it differs.
		d = append(d, fmt.Sprintf("Proxy = %s, want %s", wasend.MaskProxy(got.Proxy), wasend.MaskProxy(want.Proxy)))
	}
	if got.Account != want.Account {
		d = append(d, fmt.Sprintf("Account = %s, want %s", wasend.MaskPhone(got.Account), wasend.MaskPhone(want.Account)))
	}
	return d
}

func diffTime(d []string, what string, got, want time.Time) []string {
	if !got.Equal(want) {
		d = append(d, fmt.Sprintf("%s = %v, want %v", what, got, want))
	}
	return d
}

// diffJob lists the differences between two jobs, messages included.
func diffJob(got, want wasend.Job) []string {
	var d []string
	f := func(what string, g, w any) {
		if !reflect.DeepEqual(g, w) {
			d = append(d, fmt.Sprintf("%s = %#v, want %#v", what, g, w))
		}
	}
	f("ID", got.ID, want.ID)
	f("ContextID", got.ContextID, want.ContextID)
	f("CampaignID", got.CampaignID, want.CampaignID)
	f("Kind", got.Kind, want.Kind)
	f("Status", got.Status, want.Status)
	f("Delay", got.Delay, want.Delay)
	if len(got.Metadata) != 0 || len(want.Metadata) != 0 {
		f("Metadata", got.Metadata, want.Metadata)
	}
	f("IdempotencyKey", got.IdempotencyKey, want.IdempotencyKey)
	f("Attempts", got.Attempts, want.Attempts)
	f("MaxAttempts", got.MaxAttempts, want.MaxAttempts)
	f("Claim", got.Claim, want.Claim)
	f("Wait", got.Wait, want.Wait)
	d = diffTime(d, "NotBefore", got.NotBefore, want.NotBefore)
	d = diffTime(d, "NextRunAt", got.NextRunAt, want.NextRunAt)
	d = diffTime(d, "EnqueuedAt", got.EnqueuedAt, want.EnqueuedAt)
	f("ErrorKind", got.ErrorKind, want.ErrorKind)
	f("Error", got.Error, want.Error)
	d = diffTime(d, "CreatedAt", got.CreatedAt, want.CreatedAt)
	d = diffTime(d, "UpdatedAt", got.UpdatedAt, want.UpdatedAt)
	d = diffTime(d, "StartedAt", got.StartedAt, want.StartedAt)
	d = diffTime(d, "FinishedAt", got.FinishedAt, want.FinishedAt)
	if len(got.Messages) != len(want.Messages) {
		return append(d, fmt.Sprintf("len(Messages) = %d, want %d", len(got.Messages), len(want.Messages)))
	}
	for i := range got.Messages {
		for _, x := range diffMessage(got.Messages[i], want.Messages[i]) {
			d = append(d, fmt.Sprintf("Messages[%d].%s", i, x))
		}
	}
	return d
}

// diffMessage lists the differences between two messages.
func diffMessage(got, want wasend.Message) []string {
	var d []string
	f := func(what string, g, w any) {
		if g != w {
			gs, ws := fmt.Sprintf("%#v", g), fmt.Sprintf("%#v", w)
			if len(gs) > 80 || len(ws) > 80 {
				gs, ws = fmt.Sprintf("(%d bytes)", len(gs)), fmt.Sprintf("(%d bytes)", len(ws))
			}
			d = append(d, fmt.Sprintf("%s = %s, want %s", what, gs, ws))
		}
	}
	f("ID", got.ID, want.ID)
	f("JobID", got.JobID, want.JobID)
	f("Position", got.Position, want.Position)
	f("To", got.To, want.To)
	if got.Text != want.Text {
		d = append(d, fmt.Sprintf("Text differs: got %d bytes, want %d bytes (first difference at byte %d)",
			len(got.Text), len(want.Text), firstDiff(got.Text, want.Text)))
	}
	f("Status", got.Status, want.Status)
	f("MovedFrom", got.MovedFrom, want.MovedFrom)
	f("Attempts", got.Attempts, want.Attempts)
	d = diffTime(d, "AttemptedAt", got.AttemptedAt, want.AttemptedAt)
	d = diffTime(d, "GuardSince", got.GuardSince, want.GuardSince)
	f("GuardMark", got.GuardMark, want.GuardMark)
	f("Lookups", got.Lookups, want.Lookups)
	d = diffTime(d, "SentAt", got.SentAt, want.SentAt)
	f("WAMessageID", got.WAMessageID, want.WAMessageID)
	switch {
	case got.Media == nil && want.Media == nil:
	case got.Media == nil || want.Media == nil:
		d = append(d, fmt.Sprintf("Media = %v, want %v", describeMedia(got.Media), describeMedia(want.Media)))
	case *got.Media != *want.Media:
		d = append(d, fmt.Sprintf("Media = %v, want %v", describeMedia(got.Media), describeMedia(want.Media)))
	}
	d = diffTime(d, "DeliveredAt", got.DeliveredAt, want.DeliveredAt)
	d = diffTime(d, "ReadAt", got.ReadAt, want.ReadAt)
	d = diffTime(d, "UndeliveredAt", got.UndeliveredAt, want.UndeliveredAt)
	f("ErrorKind", got.ErrorKind, want.ErrorKind)
	f("Error", got.Error, want.Error)
	d = diffTime(d, "UpdatedAt", got.UpdatedAt, want.UpdatedAt)
	return d
}

// describeMedia describes an attachment; its path and name are the host's
// data, but no phone number or message text.
func describeMedia(m *wasend.Media) string {
	if m == nil {
		return "none"
	}
	return fmt.Sprintf("%s %q (name %q, type %q, %d bytes, sha256 %q)", m.Kind, m.Path, m.Name, m.Type, m.Size, m.SHA256)
}

func firstDiff(a, b string) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// checkJob fails if got and want differ.
func checkJob(t *testing.T, what string, got, want wasend.Job) {
	t.Helper()
	if d := diffJob(got, want); len(d) > 0 {
		t.Fatalf("%s: job %d differs:\n  %s", what, want.ID, strings.Join(d, "\n  "))
	}
}

// checkContext fails if got and want differ.
func checkContext(t *testing.T, what string, got, want wasend.BrowserContext) {
	t.Helper()
	if d := diffContext(got, want); len(d) > 0 {
		t.Fatalf("%s: context %d differs:\n  %s", what, want.ID, strings.Join(d, "\n  "))
	}
}

// ids returns the ids of jobs.
func ids(jobs []wasend.Job) []int64 {
	out := make([]int64, 0, len(jobs))
	for _, j := range jobs {
		out = append(out, j.ID)
	}
	return out
}

func checkErrorIs(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: error = %v, want one wrapping %q", what, err, target)
	}
}
