package storetest_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"slices"
	"strings"
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
