package storetest_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/internal/suite"
	"github.com/wasend/wasend/sqlstore"
	"github.com/wasend/wasend/sqlstore/sqlite"
	"github.com/wasend/wasend/storetest"
	"github.com/wasend/wasend/wasendtest"
)

// envBug names the bug of the store that TestSuiteCatchesBugs runs the
// suite on, in a child process.
const envBug = "STORETEST_BUG"

// TestSuiteCatchesBugs runs the suite on stores that each break one rule of
// the contract (wasendtest's Store behind a wrapper that breaks it), each in
// a child process (a failing suite fails its test), and checks that the
// suite fails, in the subtests that own the rule.
func TestSuiteCatchesBugs(t *testing.T) {
	if bug := os.Getenv(envBug); bug != "" {
		storetest.Run(t, func(t *testing.T) wasend.Store {
			return &buggyStore{Store: wasendtest.NewStore(), bug: bug}
		}, storetest.Options{Parallel: true})
		return
	}
	for _, tc := range []struct {
		bug  string
		fail []string // subtests that must fail
	}{
		{"trim-texts", []string{"Jobs/Texts"}},
		{"ignore-ctx", []string{"Errors/Canceled", "Errors/DeadlineExceeded"}},
		{"local-times", []string{"Jobs/CreateSingle", "Contexts/CreateDefaults"}},
		{"jobs-newest-first", []string{"Jobs/Filter", "Jobs/Paging"}},
		{"apply-always", []string{"Apply/RaceClaim"}},
		{"no-keys", []string{"Keys/Returned", "Keys/Race"}},
		{"stale-clock", []string{"Jobs/CreateSingle"}},
		{"ledger-always", []string{"Ledger/AppendWhenApplied"}},
		{"wait-kept", []string{"Safety/Wait"}},
		{"contacts-pruned", []string{"Ledger/Prune"}},
		{"pacing-dropped", []string{"Settings/Create", "Settings/Update"}},
		{"no-version", []string{"Apply/JobVersion"}},
	} {
		t.Run(tc.bug, func(t *testing.T) {
			t.Parallel()
			suite.WantFail(t, "TestSuiteCatchesBugs", envBug, tc.bug, tc.fail)
		})
	}
}

// buggyStore breaks one rule of the Store contract.
type buggyStore struct {
	wasend.Store
	bug string
}

func (s *buggyStore) ctx(ctx context.Context) context.Context {
	if s.bug == "ignore-ctx" {
		return context.Background()
	}
	return ctx
}

// times gives the job times out of UTC, or a CreatedAt 2 hours stale.
func (s *buggyStore) times(j wasend.Job) wasend.Job {
	switch s.bug {
	case "local-times":
		j.CreatedAt, j.UpdatedAt = j.CreatedAt.In(time.FixedZone("UTC+2", 2*3600)), j.UpdatedAt.In(time.FixedZone("UTC+2", 2*3600))
	case "stale-clock":
		j.CreatedAt = j.CreatedAt.Add(-2 * time.Hour)
	}
	return j
}

func (s *buggyStore) CreateContext(ctx context.Context, c wasend.BrowserContext) (wasend.BrowserContext, error) {
	c, err := s.Store.CreateContext(s.ctx(ctx), s.dropPacing(c))
	if s.bug == "local-times" {
		c.CreatedAt = c.CreatedAt.In(time.FixedZone("UTC+2", 2*3600))
	}
	return c, err
}

func (s *buggyStore) Context(ctx context.Context, id int64) (wasend.BrowserContext, error) {
	return s.Store.Context(s.ctx(ctx), id)
}

func (s *buggyStore) Contexts(ctx context.Context) ([]wasend.BrowserContext, error) {
	return s.Store.Contexts(s.ctx(ctx))
}

func (s *buggyStore) CreateJob(ctx context.Context, j wasend.Job) (wasend.Job, error) {
	switch s.bug {
	case "trim-texts":
		j.Messages = slices.Clone(j.Messages)
		for i := range j.Messages {
			j.Messages[i].Text = strings.TrimSpace(j.Messages[i].Text)
		}
	case "no-keys":
		j.IdempotencyKey = ""
	}
	got, err := s.Store.CreateJob(s.ctx(ctx), j)
	if s.bug == "no-version" {
		got.Version = 0
	}
	return s.times(got), err
}

func (s *buggyStore) Job(ctx context.Context, id int64) (wasend.Job, error) {
	j, err := s.Store.Job(s.ctx(ctx), id)
	return s.times(j), err
}

func (s *buggyStore) Jobs(ctx context.Context, f wasend.JobFilter) ([]wasend.Job, error) {
	jobs, err := s.Store.Jobs(s.ctx(ctx), f)
	if s.bug == "jobs-newest-first" {
		slices.Reverse(jobs)
	}
	return jobs, err
}

func (s *buggyStore) Apply(ctx context.Context, st wasend.Step) (bool, error) {
	if t := st.Job; s.bug == "wait-kept" && t != nil && t.Wait == wasend.WaitNone {
		// A change that does not set the wait keeps the job's.
		if j, err := s.Store.Job(ctx, t.ID); err == nil {
			c := *t
			c.Wait = j.Wait
			st.Job = &c
		}
	}
	ok, err := s.Store.Apply(s.ctx(ctx), st)
	if s.bug == "apply-always" && err == nil {
		return true, nil
	}
	if r := st.Send; s.bug == "ledger-always" && !ok && err == nil && r != nil {
		// The ledger entry is written although the step did not apply:
		// through a step that changes nothing of the context.
		if bc, err := s.Store.Context(ctx, r.ContextID); err == nil {
			_, _ = s.Store.Apply(ctx, wasend.Step{Send: r, Context: &wasend.ContextTransition{ID: bc.ID,
				From: wasend.ContextStatuses(), To: bc.Status, At: bc.UpdatedAt}})
		}
	}
	return ok, err
}

// Contacted forgets, for "contacts-pruned", the contacts whose ledger
// entries PruneSends deleted.
func (s *buggyStore) Contacted(ctx context.Context, contextID int64, recipient string) (bool, error) {
	if s.bug != "contacts-pruned" {
		return s.Store.Contacted(ctx, contextID, recipient)
	}
	sends, err := s.Store.Sends(ctx, contextID, time.Time{})
	for _, r := range sends {
		if r.Recipient == recipient {
			return true, err
		}
	}
	return false, err
}

// dropPacing loses the context's pacing, for "pacing-dropped".
func (s *buggyStore) dropPacing(c wasend.BrowserContext) wasend.BrowserContext {
	if s.bug == "pacing-dropped" {
		c.Pacing = nil
	}
	return c
}

func (s *buggyStore) UpdateContext(ctx context.Context, id int64, set wasend.ContextSettings) (wasend.BrowserContext, error) {
	c, err := s.Store.UpdateContext(s.ctx(ctx), id, set)
	return s.dropPacing(c), err
}

func (s *buggyStore) Counts(ctx context.Context) (wasend.StoreCounts, error) {
	return s.Store.Counts(s.ctx(ctx))
}

func (s *buggyStore) Clean(ctx context.Context, before time.Time) (int64, error) {
	return s.Store.Clean(s.ctx(ctx), before)
}

// envCampaignBug names the bug of the campaign store that
// TestSuiteCatchesCampaignBugs runs the suite on, in a child process.
const envCampaignBug = "STORETEST_CAMPAIGN_BUG"

// TestSuiteCatchesCampaignBugs runs the suite on campaign stores that each
// break one rule of wasend.CampaignStore's contract, and checks that the
// Campaigns group fails where it owns the rule. The broken stores wrap
// wasendtest's Store, a CampaignStore that passes the suite (its
// TestConformance runs it).
func TestSuiteCatchesCampaignBugs(t *testing.T) {
	if bug := os.Getenv(envCampaignBug); bug != "" {
		storetest.Run(t, func(t *testing.T) wasend.Store {
			return &buggyCampaignStore{Store: wasendtest.NewStore(), bug: bug}
		}, storetest.Options{Parallel: true})
		return
	}
	for _, tc := range []struct {
		bug  string
		fail []string
	}{
		{"move-leaves-pending", []string{"Campaigns/MoveCompletes"}},
		{"move-running", []string{"Campaigns/MoveRunning"}},
		{"move-not-pending", []string{"Campaigns/MoveKeepsUnfinished", "Campaigns/MoveNothing"}},
		{"jobs-no-campaign", []string{"Campaigns/Jobs"}},
	} {
		t.Run(tc.bug, func(t *testing.T) {
			t.Parallel()
			suite.WantFail(t, "TestSuiteCatchesCampaignBugs", envCampaignBug, tc.bug, tc.fail)
		})
	}
}

// buggyCampaignStore breaks one rule of the CampaignStore contract.
type buggyCampaignStore struct {
	*wasendtest.Store
	bug string
}

func (s *buggyCampaignStore) MoveMessages(ctx context.Context, m wasend.MessageMove) (wasend.Job, error) {
	from, ferr := s.Store.Job(ctx, m.FromJob)
	switch {
	case ferr != nil:
	case s.bug == "move-running" && from.Status == wasend.JobRunning:
		// The messages of a running job move too: the job is paused for
		// the move, and then running again.
		_, _ = s.Store.Apply(ctx, wasend.Step{Job: &wasend.JobTransition{ID: from.ID, From: []wasend.JobStatus{wasend.JobRunning},
			To: wasend.JobPaused}})
		defer func() {
			_, _ = s.Store.Apply(ctx, wasend.Step{Job: &wasend.JobTransition{ID: from.ID, From: []wasend.JobStatus{wasend.JobPaused},
				To: wasend.JobRunning, Claim: from.Claim}})
		}()
	case s.bug == "move-not-pending" && (from.Status == wasend.JobPending || from.Status == wasend.JobPaused):
		// Messages that are sending or unconfirmed move too: they are
		// made pending for the move.
		for _, msg := range from.Messages {
			if slices.Contains(m.Messages, msg.ID) && (msg.Status == wasend.MessageSending || msg.Status == wasend.MessageUnconfirmed ||
				msg.Status == wasend.MessageSent) {
				_, _ = s.Store.Apply(ctx, wasend.Step{Message: &wasend.MessageTransition{ID: msg.ID, From: []wasend.MessageStatus{msg.Status},
					To: wasend.MessagePending}})
			}
		}
	}
	j, err := s.Store.MoveMessages(ctx, m)
	if s.bug == "move-leaves-pending" && err == nil && j.ID != 0 && ferr == nil {
		// A job left with nothing to send stays as it was.
		_, _ = s.Store.Apply(ctx, wasend.Step{Job: &wasend.JobTransition{ID: from.ID, From: []wasend.JobStatus{wasend.JobCompleted},
			To: from.Status}})
	}
	return j, err
}

func (s *buggyCampaignStore) Jobs(ctx context.Context, f wasend.JobFilter) ([]wasend.Job, error) {
	jobs, err := s.Store.Jobs(ctx, f)
	if s.bug == "jobs-no-campaign" {
		for i := range jobs {
			jobs[i].CampaignID = 0
		}
	}
	return jobs, err
}

// envOutboxBug names the bug of the outbox store that
// TestSuiteCatchesOutboxBugs runs the suite on, in a child process.
const envOutboxBug = "STORETEST_OUTBOX_BUG"

// TestSuiteCatchesOutboxBugs runs the suite on outbox stores that each
// break one rule of wasend.OutboxStore's contract, and checks that the
// Outbox group fails where it owns the rule. The broken stores wrap
// sqlstore on SQLite, an OutboxStore that passes the suite (its
// TestConformance runs it): wasendtest's Store keeps no outbox yet.
func TestSuiteCatchesOutboxBugs(t *testing.T) {
	if bug := os.Getenv(envOutboxBug); bug != "" {
		storetest.Run(t, func(t *testing.T) wasend.Store {
			s, db := sqliteStore(t)
			return &buggyOutboxStore{Store: s, db: db, bug: bug}
		}, storetest.Options{Parallel: true})
		return
	}
	for _, tc := range []struct {
		bug  string
		fail []string
	}{
		{"claims-forgotten", []string{"Outbox/Claim", "Outbox/SettleNotOwner"}},
		{"order-ignored", []string{"Outbox/JobOrder", "Outbox/StepEvents"}},
	} {
		t.Run(tc.bug, func(t *testing.T) {
			t.Parallel()
			suite.WantFail(t, "TestSuiteCatchesOutboxBugs", envOutboxBug, tc.bug, tc.fail)
		})
	}
}

// sqliteStore returns a migrated sqlstore on a new SQLite file, and its
// database.
func sqliteStore(t *testing.T) (*sqlstore.Store, *sql.DB) {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "wasend.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	s, err := sqlstore.New(db)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s, db
}

// buggyOutboxStore breaks one rule of the OutboxStore contract, by
// changing sqlstore's rows around its ClaimEvents. The suite uses a store
// from one goroutine at a time.
type buggyOutboxStore struct {
	*sqlstore.Store
	db  *sql.DB
	bug string
}

func (s *buggyOutboxStore) ClaimEvents(ctx context.Context, owner string, now, until time.Time, limit int) ([]wasend.Event, error) {
	exec := func(q string) {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			panic(err)
		}
	}
	switch s.bug {
	case "claims-forgotten":
		// Events claimed by another owner are claimed again.
		exec("UPDATE send_events SET claimed_until = NULL")
	case "order-ignored":
		// The events of a job are claimed as if they had none: the
		// earlier ones that wait hold back nothing.
		exec("CREATE TABLE IF NOT EXISTS bug_jobs (id INTEGER PRIMARY KEY, job_id INTEGER)")
		exec("INSERT INTO bug_jobs SELECT id, job_id FROM send_events WHERE job_id IS NOT NULL")
		exec("UPDATE send_events SET job_id = NULL WHERE id IN (SELECT id FROM bug_jobs)")
		defer func() {
			exec("UPDATE send_events SET job_id = (SELECT job_id FROM bug_jobs b WHERE b.id = send_events.id) WHERE id IN (SELECT id FROM bug_jobs)")
			exec("DELETE FROM bug_jobs")
		}()
	}
	evs, err := s.Store.ClaimEvents(ctx, owner, now, until, limit)
	if s.bug == "order-ignored" {
		for i := range evs {
			if err := s.db.QueryRowContext(ctx, "SELECT job_id FROM bug_jobs WHERE id = ?", evs[i].ID).Scan(&evs[i].JobID); err != nil && err != sql.ErrNoRows {
				panic(err)
			}
		}
	}
	return evs, err
}

// envBreadthBug names the bug of the store that TestSuiteCatchesBreadthBugs
// runs the suite on, in a child process.
const envBreadthBug = "STORETEST_BREADTH_BUG"

// TestSuiteCatchesBreadthBugs runs the suite on stores that each break one
// rule of wasend.ReceiptStore, InboxStore, SuppressionStore or NumberStore
// (or of the Media and Account that came with them), and checks that the
// group that owns the rule fails. The broken stores wrap sqlstore on
// SQLite, which implements them all and passes the suite (its
// TestConformance runs it).
func TestSuiteCatchesBreadthBugs(t *testing.T) {
	if bug := os.Getenv(envBreadthBug); bug != "" {
		storetest.Run(t, func(t *testing.T) wasend.Store {
			s, db := sqliteStore(t)
			return &buggyBreadthStore{Store: s, db: db, bug: bug}
		}, storetest.Options{Parallel: true})
		return
	}
	for _, tc := range []struct {
		bug  string
		fail []string
	}{
		{"receipt-overwrites", []string{"Receipts/Conditional", "Receipts/Undelivered"}},
		{"receipt-any-status", []string{"Receipts/Conditional"}},
		{"read-not-delivered", []string{"Receipts/ReadImpliesDelivered"}},
		{"unread-all-contexts", []string{"Receipts/Unread"}},
		{"unread-not-undelivered", []string{"Receipts/Unread"}},
		{"receipt-counts-missing", []string{"Receipts/Counts"}},
		{"media-dropped", []string{"Receipts/Media"}},
		{"account-ignored", []string{"Receipts/Account"}},
		{"incoming-duplicates", []string{"Inbox/Duplicate", "Inbox/Race"}},
		{"incoming-check-then-insert", []string{"Inbox/Race"}},
		{"clean-deletes-inbox", []string{"Inbox/CleanKeeps"}},
		{"suppress-check-then-insert", []string{"Suppressions/Race"}},
		{"suppressed-first-chunk", []string{"Suppressions/Many"}},
		{"suppressions-ignore-after", []string{"Suppressions/Paging"}},
		{"numbers-last-wins", []string{"Numbers/Replace"}},
		{"numbers-ignore-since", []string{"Numbers/Cache", "Numbers/Many"}},
	} {
		t.Run(tc.bug, func(t *testing.T) {
			t.Parallel()
			wantFailIn(t, "TestSuiteCatchesBreadthBugs", envBreadthBug, tc.bug, tc.fail)
		})
	}
}

// wantFailIn is suite.WantFail for the groups that own a rule: the child
// runs only the groups of the subtests that must fail (a full suite per
// broken store, under the race detector, is minutes of CPU), and the
// test fails unless the child fails in each of those subtests.
func wantFailIn(t *testing.T, test, env, value string, subtests []string) {
	t.Helper()
	var groups []string
	for _, name := range subtests {
		g, _, _ := strings.Cut(name, "/")
		if !slices.Contains(groups, g) {
			groups = append(groups, g)
		}
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$/^("+strings.Join(groups, "|")+")$", "-test.count=1")
	cmd.Env = append(os.Environ(), env+"="+value)
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("%s=%s: %s passed, want it to fail; output:\n%s", env, value, test, out)
	}
	if _, ok := err.(*exec.ExitError); !ok {
		t.Fatalf("%s=%s: running %s in a child process: %v", env, value, test, err)
	}
	for _, name := range subtests {
		if !strings.Contains(string(out), "--- FAIL: "+test+"/"+name+" ") {
			t.Errorf("%s=%s: subtest %s of %s did not fail, want it to; output:\n%s", env, value, name, test, out)
		}
	}
}

// buggyBreadthStore breaks one rule of ReceiptStore, InboxStore,
// SuppressionStore or NumberStore, by changing sqlstore's rows around its
// calls, or its answers.
type buggyBreadthStore struct {
	*sqlstore.Store
	db  *sql.DB
	bug string
	n   atomic.Int64
}

func (s *buggyBreadthStore) exec(ctx context.Context, q string, args ...any) {
	if _, err := s.db.ExecContext(ctx, q, args...); err != nil {
		panic(err)
	}
}

func (s *buggyBreadthStore) Apply(ctx context.Context, st wasend.Step) (bool, error) {
	r := st.Receipt
	switch {
	case s.bug == "account-ignored" && st.Context != nil:
		c := *st.Context
		c.Account = nil
		st.Context = &c
	case s.bug == "receipt-overwrites" && r != nil:
		// Every receipt applies, and replaces what was recorded.
		s.exec(ctx, "UPDATE send_messages_jobs_messages SET delivered_at = NULL, read_at = NULL, undelivered_at = NULL WHERE id = ?", r.MessageID)
	case s.bug == "receipt-any-status" && r != nil:
		// A receipt of a message that is not sent applies too.
		var status string
		if err := s.db.QueryRowContext(ctx, "SELECT status FROM send_messages_jobs_messages WHERE id = ?", r.MessageID).Scan(&status); err == nil &&
			status != string(wasend.MessageSent) {
			s.exec(ctx, "UPDATE send_messages_jobs_messages SET status = 'sent' WHERE id = ?", r.MessageID)
			defer s.exec(ctx, "UPDATE send_messages_jobs_messages SET status = ? WHERE id = ?", status, r.MessageID)
		}
	case s.bug == "read-not-delivered" && r != nil && r.Ack >= wasend.AckRead:
		// A read leaves delivered_at as it was.
		var delivered sql.NullString
		if err := s.db.QueryRowContext(ctx, "SELECT delivered_at FROM send_messages_jobs_messages WHERE id = ?", r.MessageID).Scan(&delivered); err == nil &&
			!delivered.Valid {
			defer s.exec(ctx, "UPDATE send_messages_jobs_messages SET delivered_at = NULL WHERE id = ?", r.MessageID)
		}
	}
	return s.Store.Apply(ctx, st)
}

func (s *buggyBreadthStore) Unread(ctx context.Context, f wasend.ReceiptFilter) ([]wasend.Message, error) {
	switch s.bug {
	case "unread-not-undelivered":
		f.Undelivered = false
	case "unread-all-contexts":
		contexts, err := s.Store.Contexts(ctx)
		if err != nil || f.ContextID <= 0 {
			return s.Store.Unread(ctx, f)
		}
		var all []wasend.Message
		for _, c := range contexts {
			g := f
			g.ContextID = c.ID
			list, err := s.Store.Unread(ctx, g)
			if err != nil {
				return nil, err
			}
			all = append(all, list...)
		}
		slices.SortFunc(all, func(a, b wasend.Message) int { return int(a.ID - b.ID) })
		if f.Limit > 0 && len(all) > f.Limit {
			all = all[:f.Limit]
		}
		return all, nil
	}
	return s.Store.Unread(ctx, f)
}

func (s *buggyBreadthStore) Counts(ctx context.Context) (wasend.StoreCounts, error) {
	c, err := s.Store.Counts(ctx)
	if s.bug == "receipt-counts-missing" {
		c.Receipts = nil
	}
	return c, err
}

func (s *buggyBreadthStore) CreateJob(ctx context.Context, j wasend.Job) (wasend.Job, error) {
	if s.bug == "media-dropped" {
		j.Messages = slices.Clone(j.Messages)
		for i := range j.Messages {
			j.Messages[i].Media = nil
		}
	}
	return s.Store.CreateJob(ctx, j)
}

func (s *buggyBreadthStore) Clean(ctx context.Context, before time.Time) (int64, error) {
	if s.bug == "clean-deletes-inbox" {
		s.exec(ctx, "DELETE FROM send_incoming")
	}
	return s.Store.Clean(ctx, before)
}

func (s *buggyBreadthStore) RecordIncoming(ctx context.Context, m wasend.IncomingMessage, events []wasend.Event) (wasend.IncomingMessage, bool, error) {
	switch s.bug {
	case "incoming-duplicates":
		// The WhatsApp id is not a key: each message is stored.
		m.WAMessageID += fmt.Sprintf("#%d", s.n.Add(1))
	case "incoming-check-then-insert":
		// A duplicate is looked for, and then the message stored: two
		// callers at once both find none.
		list, err := s.Store.Incoming(ctx, wasend.InboxFilter{ContextID: m.ContextID, Limit: 1000})
		if err != nil {
			return wasend.IncomingMessage{}, false, err
		}
		for _, o := range list {
			if strings.SplitN(o.WAMessageID, "#", 2)[0] == m.WAMessageID {
				o.WAMessageID = m.WAMessageID
				return o, false, nil
			}
		}
		time.Sleep(20 * time.Millisecond)
		waID := m.WAMessageID
		m.WAMessageID += fmt.Sprintf("#%d", s.n.Add(1))
		got, ok, err := s.Store.RecordIncoming(ctx, m, events)
		got.WAMessageID = waID
		return got, ok, err
	}
	return s.Store.RecordIncoming(ctx, m, events)
}

func (s *buggyBreadthStore) Suppress(ctx context.Context, sp wasend.Suppression, events []wasend.Event) (bool, error) {
	if s.bug == "suppress-check-then-insert" {
		// The number is looked for, and then added (replacing any): two
		// callers at once both find none.
		got, err := s.Store.Suppressed(ctx, []string{sp.Phone})
		if err != nil || len(got) > 0 {
			return false, err
		}
		time.Sleep(20 * time.Millisecond)
		if _, err := s.Store.Unsuppress(ctx, sp.Phone); err != nil {
			return false, err
		}
		_, err = s.Store.Suppress(ctx, sp, events)
		return err == nil, err
	}
	return s.Store.Suppress(ctx, sp, events)
}

func (s *buggyBreadthStore) Suppressed(ctx context.Context, phones []string) (map[string]wasend.Suppression, error) {
	if s.bug == "suppressed-first-chunk" && len(phones) > 1000 {
		phones = phones[:1000]
	}
	return s.Store.Suppressed(ctx, phones)
}

func (s *buggyBreadthStore) Suppressions(ctx context.Context, f wasend.SuppressionFilter) ([]wasend.Suppression, error) {
	if s.bug == "suppressions-ignore-after" {
		f.AfterPhone = ""
	}
	return s.Store.Suppressions(ctx, f)
}

func (s *buggyBreadthStore) CacheNumbers(ctx context.Context, infos []wasend.NumberInfo) error {
	if s.bug == "numbers-last-wins" {
		// The answer stored last replaces the stored one, however old.
		for _, in := range infos {
			s.exec(ctx, "DELETE FROM send_number_checks WHERE phone = ?", in.Phone)
		}
	}
	return s.Store.CacheNumbers(ctx, infos)
}

func (s *buggyBreadthStore) CachedNumbers(ctx context.Context, phones []string, since time.Time) (map[string]wasend.NumberInfo, error) {
	if s.bug == "numbers-ignore-since" {
		since = time.Time{}
	}
	return s.Store.CachedNumbers(ctx, phones, since)
}

// envGuardBug names the bug of the guarding store that
// TestSuiteCatchesGuardBugs runs the suite on, in a child process.
const envGuardBug = "STORETEST_GUARD_BUG"

// TestSuiteCatchesGuardBugs runs the suite on stores that claim
// wasend.SuppressionGuard and break it, and checks that the
// SuppressionGuard group fails.
func TestSuiteCatchesGuardBugs(t *testing.T) {
	if bug := os.Getenv(envGuardBug); bug != "" {
		storetest.Run(t, func(t *testing.T) wasend.Store {
			return &buggyGuardStore{Store: wasendtest.NewStore(), bug: bug}
		}, storetest.Options{Parallel: true})
		return
	}
	for _, tc := range []struct {
		bug  string
		fail []string
	}{
		{"create-ignores", []string{"SuppressionGuard/CreateJob", "SuppressionGuard/Precedence"}},
		{"apply-ignores", []string{"SuppressionGuard/Apply"}},
		{"keeps-list", []string{"SuppressionGuard/CreateJob"}},
	} {
		t.Run(tc.bug, func(t *testing.T) {
			t.Parallel()
			suite.WantFail(t, "TestSuiteCatchesGuardBugs", envGuardBug, tc.bug, tc.fail)
		})
	}
}

// buggyGuardStore claims wasend.SuppressionGuard and breaks it: it
// ignores Job.Unsuppressed or Step.Unsuppressed, or returns the job with
// its Unsuppressed.
type buggyGuardStore struct {
	*wasendtest.Store
	bug string
}

func (s *buggyGuardStore) CreateJob(ctx context.Context, j wasend.Job) (wasend.Job, error) {
	in := j.Unsuppressed
	if s.bug == "create-ignores" && len(in) <= wasend.MaxUnsuppressed {
		j.Unsuppressed = nil
	}
	got, err := s.Store.CreateJob(ctx, j)
	if s.bug == "keeps-list" && err == nil {
		got.Unsuppressed = in
	}
	return got, err
}

func (s *buggyGuardStore) Apply(ctx context.Context, st wasend.Step) (bool, error) {
	if s.bug == "apply-ignores" && len(st.Unsuppressed) <= wasend.MaxUnsuppressed {
		st.Unsuppressed = nil
	}
	return s.Store.Apply(ctx, st)
}
