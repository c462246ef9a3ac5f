package sqlstore_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/sqlstore"
)

// v1Rows writes, with plain SQL, what a version 1 database holds: a
// browser context and a bulk job whose messages are pending, sending,
// sent and failed, with attempts, times, an error and metadata.
func v1Rows(t *testing.T, s *sqlstore.Store, at time.Time) (contextID, jobID int64) {
	t.Helper()
	ctx := t.Context()
	ph := func(n int) string {
		if s.Dialect() == sqlstore.Postgres {
			return fmt.Sprintf("$%d", n)
		}
		return "?"
	}
	ts := func(tm time.Time) any {
		if s.Dialect() == sqlstore.Postgres {
			return tm
		}
		return tm.UTC().Format("2006-01-02 15:04:05.000000")
	}
	exec := func(q string, args ...any) {
		t.Helper()
		for i := range args {
			q = strings.Replace(q, "?", ph(i+1), 1)
		}
		_, err := s.DB().ExecContext(ctx, q, args...)
		require.NoError(t, err, q)
	}
	exec("INSERT INTO browser_context (id, browser_context_status_id, browser_system_id, created_at, updated_at) VALUES (7, 1, ?, ?, ?)",
		"profile-7", ts(at), ts(at))
	for _, id := range []int64{11, 12} {
		exec("INSERT INTO send_messages_jobs (id, browser_context_id, send_messages_jobs_status_id, kind, delay_ms, metadata, attempts, "+
			"max_attempts, claim, next_run_at, enqueued_at, error_kind, error_message, created_at, updated_at, started_at, finished_at) "+
			"VALUES (?, 7, 2, 'bulk', 1500, ?, 1, 3, 'w1', ?, ?, 'timeout', 'timed out', ?, ?, ?, NULL)",
			id, `{"campaign":"spring","n":2}`, ts(at), ts(at), ts(at), ts(at), ts(at))
	}
	type msg struct {
		status   string
		attempts int
		sent     bool
	}
	for i, m := range []msg{{"pending", 0, false}, {"sending", 2, false}, {"sent", 1, true}, {"failed", 3, false}} {
		var attempted, sent any
		if m.attempts > 0 {
			attempted = ts(at.Add(time.Duration(i) * time.Second))
		}
		var waID any
		if m.sent {
			sent, waID = ts(at.Add(time.Minute)), "wamid-2"
		}
		exec("INSERT INTO send_messages_jobs_messages (send_messages_job_id, position, to_phone, body, status, attempts, attempted_at, "+
			"sent_at, wa_message_id, error_kind, error_message, created_at, updated_at) VALUES (11, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?, ?)",
			int64(i), fmt.Sprintf("+3460000000%d", i), "texto ñ 😀 "+m.status, m.status, int64(m.attempts), attempted, sent, waID, ts(at), ts(at))
	}
	return 7, 11
}

// checkV1Job checks that the job of v1Rows reads back, after Migrate, as
// v1Rows wrote it: what later versions added is empty. It returns the job.
func checkV1Job(t *testing.T, s *sqlstore.Store, at time.Time, contextID, jobID int64) wasend.Job {
	t.Helper()
	j, err := s.Job(t.Context(), jobID)
	require.NoError(t, err)
	require.Equal(t, wasend.Job{ID: jobID, ContextID: contextID, Kind: wasend.KindBulk, Status: wasend.JobRunning,
		Delay: 1500 * time.Millisecond, Metadata: map[string]any{"campaign": "spring", "n": 2.0}, Attempts: 1, MaxAttempts: 3,
		Claim: "w1", Version: 1, NextRunAt: at, EnqueuedAt: at, ErrorKind: wasend.ErrorKindTimeout, Error: "timed out",
		CreatedAt: at, UpdatedAt: at, StartedAt: at, Messages: j.Messages}, j)
	require.Len(t, j.Messages, 4)
	for i, st := range []wasend.MessageStatus{wasend.MessagePending, wasend.MessageSending, wasend.MessageSent, wasend.MessageFailed} {
		m := j.Messages[i]
		want := wasend.Message{ID: m.ID, JobID: jobID, Position: i, To: fmt.Sprintf("+3460000000%d", i),
			Text: "texto ñ 😀 " + string(st), Status: st, Attempts: []int{0, 2, 1, 3}[i], UpdatedAt: at}
		if want.Attempts > 0 {
			want.AttemptedAt = at.Add(time.Duration(i) * time.Second)
		}
		if st == wasend.MessageSent {
			want.SentAt, want.WAMessageID = at.Add(time.Minute), "wamid-2"
		}
		require.Equal(t, want, m, "message %d", i)
	}
	return j
}

// olderStore returns a store on a new database of an older schema version,
// holding v1Rows written at the time it returns.
func olderStore(t *testing.T, b backend, version int) (s *sqlstore.Store, at time.Time, contextID, jobID int64) {
	t.Helper()
	s, err := sqlstore.New(b.open(t, ""))
	require.NoError(t, err)
	require.NoError(t, s.MigrateTo(t.Context(), version))
	v, err := s.MigrationVersion(t.Context())
	require.NoError(t, err)
	require.Equal(t, version, v)
	at = time.Date(2026, 5, 6, 7, 8, 9, 123456000, time.UTC)
	contextID, jobID = v1Rows(t, s, at)
	return s, at, contextID, jobID
}

// TestMigrateFromV1: a database of version 1 that holds jobs migrates to
// the current version, and keeps every row and column as it was; the new
// columns start empty.
func TestMigrateFromV1(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		s, at, contextID, jobID := olderStore(t, b, 1)

		require.NoError(t, s.Migrate(ctx))
		checkSchema(t, s)

		j := checkV1Job(t, s, at, contextID, jobID)

		// The old jobs have no key, two of them at once; a new job takes
		// one, and the old rows take the new columns.
		list, err := s.Jobs(ctx, wasend.JobFilter{})
		require.NoError(t, err)
		require.Len(t, list, 2)
		for _, old := range list {
			require.Empty(t, old.IdempotencyKey)
		}
		nj, err := s.CreateJob(ctx, wasend.Job{ContextID: contextID, Kind: wasend.KindSingle, IdempotencyKey: "after-upgrade",
			Messages: []wasend.Message{{To: "+1", Text: "x"}}})
		require.NoError(t, err)
		require.Equal(t, "after-upgrade", nj.IdempotencyKey)
		_, err = s.CreateJob(ctx, wasend.Job{ContextID: contextID, Kind: wasend.KindSingle, IdempotencyKey: "after-upgrade",
			Messages: []wasend.Message{{To: "+1", Text: "x"}}})
		require.ErrorIs(t, err, wasend.ErrJobExists)
		ok, err := s.Apply(ctx, wasend.Step{Message: &wasend.MessageTransition{ID: j.Messages[1].ID,
			From: []wasend.MessageStatus{wasend.MessageSending}, To: wasend.MessageUnconfirmed, StartAttempt: true, Mark: "m", AddLookup: true,
			At: at.Add(time.Hour)}})
		require.NoError(t, err)
		require.True(t, ok)
		j, err = s.Job(ctx, jobID)
		require.NoError(t, err)
		m := j.Messages[1]
		require.Equal(t, wasend.MessageUnconfirmed, m.Status)
		require.Equal(t, 2, m.Attempts)
		require.Equal(t, at.Add(time.Hour), m.GuardSince)
		require.Equal(t, "m", m.GuardMark)
		require.Equal(t, 1, m.Lookups)
	})
}

// TestMigrateMySQLInterrupted: MySQL commits each DDL statement, so a run
// of Migrate that stops inside a migration leaves some of its statements
// applied and the migration unrecorded. The next run completes it.
func TestMigrateMySQLInterrupted(t *testing.T) {
	t.Parallel()
	b := backends[1]
	require.Equal(t, sqlstore.MySQL, b.dialect)
	stmts := func(s *sqlstore.Store, version int) []string {
		st, err := s.MigrationStatements(version)
		require.NoError(t, err)
		require.NotEmpty(t, st)
		return st
	}
	for version := 2; version <= sqlstore.SchemaVersion; version++ {
		for _, applied := range []int{1, len(stmts(newStore(t, b, ""), version))} {
			t.Run(fmt.Sprintf("version %d, %d statements applied", version, applied), func(t *testing.T) {
				t.Parallel()
				ctx := t.Context()
				s, err := sqlstore.New(b.open(t, ""))
				require.NoError(t, err)
				require.NoError(t, s.MigrateTo(ctx, version-1))
				for _, st := range stmts(s, version)[:applied] {
					_, err := s.DB().ExecContext(ctx, st)
					require.NoError(t, err, st)
				}
				v, err := s.MigrationVersion(ctx)
				require.NoError(t, err)
				require.Equal(t, version-1, v)
				require.NoError(t, s.Migrate(ctx))
				checkSchema(t, s)
				c, err := s.CreateContext(ctx, wasend.BrowserContext{Proxy: "http://proxy.example:3128"})
				require.NoError(t, err)
				_, err = s.CreateJob(ctx, wasend.Job{ContextID: c.ID, Kind: wasend.KindSingle, IdempotencyKey: "k",
					Wait: wasend.WaitNotBefore, Messages: []wasend.Message{{To: "+1", Text: "x"}}})
				require.NoError(t, err)
				useV8(t, s)
				useV7(t, s, c.ID)
				useV6(t, s, c.ID)
				useV5(t, s, c.ID)
				useV4(t, s, c.ID)
				useV3(t, s, c.ID)
			})
		}
	}
	// Other errors still stop Migrate.
	s, err := sqlstore.New(b.open(t, ""))
	require.NoError(t, err)
	require.NoError(t, s.MigrateTo(t.Context(), 1))
	_, err = s.DB().ExecContext(t.Context(), "DROP TABLE send_messages_jobs_messages")
	require.NoError(t, err)
	require.ErrorIs(t, s.Migrate(t.Context()), wasend.ErrStore)
}

// useV3 uses what version 3 added on a context of a migrated database: the
// restricted status, the restriction and first login, the send ledger and
// the contacts.
func useV3(t *testing.T, s *sqlstore.Store, contextID int64) {
	t.Helper()
	ctx := t.Context()
	bc, err := s.Context(ctx, contextID)
	require.NoError(t, err)
	at := time.Date(2026, 7, 8, 9, 10, 11, 0, time.UTC)
	r := wasend.Restriction{Kind: wasend.RestrictionTemporary, Until: at.Add(24 * time.Hour), Reason: "code 101"}
	send := wasend.SendRecord{ContextID: contextID, At: at, Recipient: wasend.HashRecipient("+1"), TextHash: wasend.HashText("x"), NewContact: true}
	ok, err := s.Apply(ctx, wasend.Step{Context: &wasend.ContextTransition{ID: contextID, From: []wasend.ContextStatus{bc.Status},
		To: wasend.ContextRestricted, Restriction: &r, LoggedIn: true, At: at}, Send: &send})
	require.NoError(t, err)
	require.True(t, ok)
	got, err := s.Context(ctx, contextID)
	require.NoError(t, err)
	require.Equal(t, wasend.ContextRestricted, got.Status)
	require.Equal(t, r, got.Restriction)
	require.Equal(t, at, got.FirstLoginAt)
	sends, err := s.Sends(ctx, contextID, time.Time{})
	require.NoError(t, err)
	require.Equal(t, []wasend.SendRecord{send}, sends)
	contacted, err := s.Contacted(ctx, contextID, send.Recipient)
	require.NoError(t, err)
	require.True(t, contacted)
}

// TestMigrateFromV2: a database of version 2 that holds a context and jobs
// (one with an idempotency key) migrates to the current version and keeps
// them; the new columns start empty (no restriction, login, pacing, proxy,
// wait or NotBefore), and what version 3 added works on the old rows.
func TestMigrateFromV2(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		s, at, contextID, jobID := olderStore(t, b, 2)
		q := "UPDATE send_messages_jobs SET idempotency_key = 'before-v3', version = 4 WHERE id = ?"
		if s.Dialect() == sqlstore.Postgres {
			q = strings.Replace(q, "?", "$1", 1)
		}
		_, err := s.DB().ExecContext(ctx, q, jobID)
		require.NoError(t, err)

		require.NoError(t, s.Migrate(ctx))
		checkSchema(t, s)

		bc, err := s.Context(ctx, contextID)
		require.NoError(t, err)
		require.Equal(t, wasend.BrowserContext{ID: contextID, Status: wasend.ContextAvailable, SystemID: "profile-7",
			CreatedAt: at, UpdatedAt: at}, bc)
		j, err := s.Job(ctx, jobID)
		require.NoError(t, err)
		require.Equal(t, "before-v3", j.IdempotencyKey)
		require.Equal(t, int64(4), j.Version)
		require.Equal(t, wasend.WaitNone, j.Wait)
		require.True(t, j.NotBefore.IsZero())
		require.Len(t, j.Messages, 4)
		_, err = s.CreateJob(ctx, wasend.Job{ContextID: contextID, Kind: wasend.KindSingle, IdempotencyKey: "before-v3",
			Messages: []wasend.Message{{To: "+1", Text: "x"}}})
		require.ErrorIs(t, err, wasend.ErrJobExists)

		ok, err := s.Apply(ctx, wasend.Step{Job: &wasend.JobTransition{ID: jobID, From: []wasend.JobStatus{wasend.JobRunning},
			To: wasend.JobPending, Wait: wasend.WaitDailyCap, NextRunAt: at.Add(time.Hour), At: at.Add(time.Minute)}})
		require.NoError(t, err)
		require.True(t, ok)
		j, err = s.Job(ctx, jobID)
		require.NoError(t, err)
		require.Equal(t, wasend.WaitDailyCap, j.Wait)
		require.Equal(t, int64(5), j.Version)
		useV3(t, s, contextID)
	})
}

// useV4 uses what version 4 added on a context of a migrated database: a
// campaign with a job on the context, a move of its messages to another
// context, and Clean, which deletes the campaign once its jobs are gone.
func useV4(t *testing.T, s *sqlstore.Store, contextID int64) {
	t.Helper()
	ctx := t.Context()
	other, err := s.CreateContext(ctx, wasend.BrowserContext{Status: wasend.ContextAvailable})
	require.NoError(t, err)
	c, err := s.CreateCampaign(ctx, wasend.Campaign{Contexts: []int64{contextID, other.ID}, Move: true, IdempotencyKey: "v4",
		Metadata: map[string]any{"v": 4.0}, Jobs: []wasend.Job{{ContextID: contextID, Kind: wasend.KindBulk,
			Messages: []wasend.Message{{To: "+1", Text: "a"}, {To: "+2", Text: "b"}}}}})
	require.NoError(t, err)
	_, err = s.CreateCampaign(ctx, wasend.Campaign{Contexts: []int64{contextID}, IdempotencyKey: "v4"})
	require.ErrorIs(t, err, wasend.ErrCampaignExists)
	src := c.Jobs[0]
	nj, err := s.MoveMessages(ctx, wasend.MessageMove{FromJob: src.ID, ToContext: other.ID,
		Messages: []int64{src.Messages[1].ID, src.Messages[0].ID}})
	require.NoError(t, err)
	require.Equal(t, c.ID, nj.CampaignID)
	require.Equal(t, []int64{src.Messages[1].ID, src.Messages[0].ID}, []int64{nj.Messages[0].MovedFrom, nj.Messages[1].MovedFrom})
	got, err := s.Campaign(ctx, c.ID)
	require.NoError(t, err)
	require.Len(t, got.Jobs, 2)
	require.Equal(t, wasend.JobCompleted, got.Jobs[0].Status)
	require.Equal(t, map[string]any{"v": 4.0}, got.Metadata)
	ok, err := s.Apply(ctx, wasend.Step{Job: &wasend.JobTransition{ID: nj.ID, From: []wasend.JobStatus{wasend.JobPending},
		To: wasend.JobCancelled, PendingMessagesTo: wasend.MessageCancelled}})
	require.NoError(t, err)
	require.True(t, ok)
	_, err = s.Clean(ctx, time.Now().Add(time.Hour))
	require.NoError(t, err)
	_, err = s.Campaign(ctx, c.ID)
	require.ErrorIs(t, err, wasend.ErrCampaignNotFound)
}

// TestMigrateFromV3: a database of version 3 that holds a context and jobs
// (with a key, a wait and a NotBefore) migrates to the current version and
// keeps them; the new columns start empty (no campaign, no MovedFrom), and
// what version 4 added works next to the old rows, which Clean leaves
// alone.
func TestMigrateFromV3(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		s, at, contextID, jobID := olderStore(t, b, 3)
		q := "UPDATE send_messages_jobs SET idempotency_key = 'before-v4', version = 3, wait_reason = 'daily_cap', not_before = ? WHERE id = ?"
		nb := any(at.Add(time.Hour).Format("2006-01-02 15:04:05.000000"))
		if s.Dialect() == sqlstore.Postgres {
			q = strings.Replace(strings.Replace(q, "?", "$1", 1), "?", "$2", 1)
			nb = at.Add(time.Hour)
		}
		_, err := s.DB().ExecContext(ctx, q, nb, jobID)
		require.NoError(t, err)

		require.NoError(t, s.Migrate(ctx))
		checkSchema(t, s)

		j, err := s.Job(ctx, jobID)
		require.NoError(t, err)
		require.Equal(t, wasend.Job{ID: jobID, ContextID: contextID, Kind: wasend.KindBulk, Status: wasend.JobRunning,
			Delay: 1500 * time.Millisecond, Metadata: map[string]any{"campaign": "spring", "n": 2.0}, Attempts: 1, MaxAttempts: 3,
			Claim: "w1", Version: 3, NextRunAt: at, EnqueuedAt: at, ErrorKind: wasend.ErrorKindTimeout, Error: "timed out",
			CreatedAt: at, UpdatedAt: at, StartedAt: at, IdempotencyKey: "before-v4", Wait: wasend.WaitDailyCap,
			NotBefore: at.Add(time.Hour), Messages: j.Messages}, j)
		before := j
		require.Zero(t, j.CampaignID)
		require.Equal(t, "before-v4", j.IdempotencyKey)
		require.Equal(t, wasend.WaitDailyCap, j.Wait)
		require.Equal(t, at.Add(time.Hour), j.NotBefore)
		require.Len(t, j.Messages, 4)
		for _, m := range j.Messages {
			require.Zero(t, m.MovedFrom)
		}
		list, err := s.Jobs(ctx, wasend.JobFilter{})
		require.NoError(t, err)
		require.Len(t, list, 2)
		for _, old := range list {
			require.Zero(t, old.CampaignID)
		}
		_, err = s.CreateJob(ctx, wasend.Job{ContextID: contextID, Kind: wasend.KindSingle, IdempotencyKey: "before-v4",
			Messages: []wasend.Message{{To: "+1", Text: "x"}}})
		require.ErrorIs(t, err, wasend.ErrJobExists)
		// A job of no campaign cannot move.
		_, err = s.MoveMessages(ctx, wasend.MessageMove{FromJob: jobID, ToContext: contextID, Messages: []int64{j.Messages[0].ID}})
		require.ErrorIs(t, err, wasend.ErrInvalidStep)

		useV4(t, s, contextID)
		// Clean left the old jobs, which are not final.
		j, err = s.Job(ctx, jobID)
		require.NoError(t, err)
		require.Equal(t, before, j)
	})
}

// useV5 uses what version 5 added on a context of a migrated database: an
// event recorded with a new job, claimed and delivered.
func useV5(t *testing.T, s *sqlstore.Store, contextID int64) {
	t.Helper()
	ctx := t.Context()
	j, err := s.CreateJob(ctx, wasend.Job{ContextID: contextID, Kind: wasend.KindSingle, Metadata: map[string]any{"v": 5.0},
		Messages: []wasend.Message{{To: "+1", Text: "x"}}, Events: []wasend.Event{{Topic: wasend.TopicJobCreated}}})
	require.NoError(t, err)
	now := time.Now().Add(time.Hour)
	evs, err := s.ClaimEvents(ctx, "v5", now, now.Add(time.Minute), 10)
	require.NoError(t, err)
	require.Len(t, evs, 1)
	require.Equal(t, j.ID, evs[0].JobID)
	require.Equal(t, contextID, evs[0].ContextID)
	require.Equal(t, map[string]any{"v": 5.0}, evs[0].Metadata)
	require.NoError(t, s.SettleEvents(ctx, "v5", []wasend.EventResult{{ID: evs[0].ID, Delivered: true}}))
	c, err := s.EventCounts(ctx)
	require.NoError(t, err)
	require.Equal(t, wasend.OutboxCounts{}, c)
}

// TestMigrateFromV4: a database of version 4 that holds a context and jobs
// migrates to the current version and keeps them; the outbox starts
// empty, and an event of an old job's message gets the job, its context
// and its metadata.
func TestMigrateFromV4(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		s, at, contextID, jobID := olderStore(t, b, 4)

		require.NoError(t, s.Migrate(ctx))
		checkSchema(t, s)

		j := checkV1Job(t, s, at, contextID, jobID)
		c, err := s.EventCounts(ctx)
		require.NoError(t, err)
		require.Equal(t, wasend.OutboxCounts{}, c)

		// Message 0 is pending: send it, with its event.
		msg := j.Messages[0]
		ok, err := s.Apply(ctx, wasend.Step{Message: &wasend.MessageTransition{ID: msg.ID, From: []wasend.MessageStatus{wasend.MessagePending},
			To: wasend.MessageSent, At: at.Add(time.Minute)}, Events: []wasend.Event{{Topic: wasend.TopicMessageSent, At: at.Add(time.Minute),
			MessageID: msg.ID, Status: string(wasend.MessageSent)}}})
		require.NoError(t, err)
		require.True(t, ok)
		evs, err := s.ClaimEvents(ctx, "v4", at.Add(time.Hour), at.Add(2*time.Hour), 10)
		require.NoError(t, err)
		require.Len(t, evs, 1)
		require.Equal(t, wasend.Event{ID: evs[0].ID, Topic: wasend.TopicMessageSent, At: at.Add(time.Minute), JobID: jobID,
			MessageID: msg.ID, ContextID: contextID, Status: string(wasend.MessageSent),
			Metadata: map[string]any{"campaign": "spring", "n": 2.0}, Version: wasend.EventVersion}, evs[0])
		require.NoError(t, s.SettleEvents(ctx, "v4", []wasend.EventResult{{ID: evs[0].ID, Delivered: true}}))
		useV5(t, s, contextID)
		useV6(t, s, contextID)
		useV7(t, s, contextID)
	})
}

// useV6 uses what version 6 added on a context of a migrated database: the
// context's account, a media message with its receipts, an incoming
// message and its duplicate, a suppression and number checks.
func useV6(t *testing.T, s *sqlstore.Store, contextID int64) {
	t.Helper()
	ctx := t.Context()
	bc, err := s.Context(ctx, contextID)
	require.NoError(t, err)
	account := "+34600000001"
	ok, err := s.Apply(ctx, wasend.Step{Context: &wasend.ContextTransition{ID: contextID, From: []wasend.ContextStatus{bc.Status},
		To: bc.Status, Account: &account}})
	require.NoError(t, err)
	require.True(t, ok)
	bc, err = s.Context(ctx, contextID)
	require.NoError(t, err)
	require.Equal(t, account, bc.Account)

	at := time.Date(2026, 8, 9, 10, 11, 12, 0, time.UTC)
	media := &wasend.Media{Kind: wasend.MediaDocument, Path: "/srv/facturas/año 2026.pdf", Name: "año 2026.pdf", Type: "application/pdf",
		Size: 2048, SHA256: strings.Repeat("a1", 32)}
	j, err := s.CreateJob(ctx, wasend.Job{ContextID: contextID, Kind: wasend.KindSingle,
		Messages: []wasend.Message{{To: "+1", Text: "factura", Media: media}}})
	require.NoError(t, err)
	id := j.Messages[0].ID
	ok, err = s.Apply(ctx, wasend.Step{Message: &wasend.MessageTransition{ID: id, From: []wasend.MessageStatus{wasend.MessagePending},
		To: wasend.MessageSent, At: at}})
	require.NoError(t, err)
	require.True(t, ok)
	unread, err := s.Unread(ctx, wasend.ReceiptFilter{ContextID: contextID, SentAfter: at, Undelivered: true})
	require.NoError(t, err)
	require.Len(t, unread, 1)
	require.Equal(t, id, unread[0].ID)
	require.Equal(t, media, unread[0].Media)
	ok, err = s.Apply(ctx, wasend.Step{Receipt: &wasend.ReceiptTransition{MessageID: id, Ack: wasend.AckDelivered, At: at.Add(time.Minute)}})
	require.NoError(t, err)
	require.True(t, ok)
	got, err := s.Job(ctx, j.ID)
	require.NoError(t, err)
	require.Equal(t, at.Add(time.Minute), got.Messages[0].DeliveredAt)
	require.Equal(t, media, got.Messages[0].Media)

	in := wasend.IncomingMessage{ContextID: contextID, From: "+1", Text: "STOP", WAMessageID: "wa-v6", OptOut: true, At: at}
	m, stored, err := s.RecordIncoming(ctx, in, []wasend.Event{{Topic: wasend.TopicMessageIncoming, ContextID: contextID}})
	require.NoError(t, err)
	require.True(t, stored)
	now := time.Now().Add(time.Hour)
	evs, err := s.ClaimEvents(ctx, "v6", now, now.Add(time.Minute), 10)
	require.NoError(t, err)
	require.Len(t, evs, 1)
	require.Equal(t, wasend.TopicMessageIncoming, evs[0].Topic)
	require.Equal(t, contextID, evs[0].ContextID)
	require.NoError(t, s.SettleEvents(ctx, "v6", []wasend.EventResult{{ID: evs[0].ID, Delivered: true}}))
	dup, stored, err := s.RecordIncoming(ctx, in, nil)
	require.NoError(t, err)
	require.False(t, stored)
	require.Equal(t, m, dup)
	list, err := s.Incoming(ctx, wasend.InboxFilter{ContextID: contextID})
	require.NoError(t, err)
	require.Equal(t, []wasend.IncomingMessage{m}, list)

	added, err := s.Suppress(ctx, wasend.Suppression{Phone: "+1", Reason: wasend.SuppressOptOut, ContextID: contextID}, nil)
	require.NoError(t, err)
	require.True(t, added)
	sup, err := s.Suppressed(ctx, []string{"+1", "+2"})
	require.NoError(t, err)
	require.Len(t, sup, 1)
	require.Equal(t, contextID, sup["+1"].ContextID)

	require.NoError(t, s.CacheNumbers(ctx, []wasend.NumberInfo{{Phone: "+1", OnWhatsApp: true, CheckedAt: at, ContextID: contextID}}))
	nums, err := s.CachedNumbers(ctx, []string{"+1"}, at)
	require.NoError(t, err)
	require.Equal(t, map[string]wasend.NumberInfo{"+1": {Phone: "+1", OnWhatsApp: true, CheckedAt: at, ContextID: contextID, Cached: true}}, nums)
}

// TestMigrateFromV5: a database of version 5 that holds a context and jobs
// migrates to the current version and keeps them: the old messages have
// no media and no receipts, the context no account; the old messages get
// their job's context, so that Unread finds the sent one, whose receipts
// then apply.
func TestMigrateFromV5(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		s, at, contextID, jobID := olderStore(t, b, 5)

		require.NoError(t, s.Migrate(ctx))
		checkSchema(t, s)

		j := checkV1Job(t, s, at, contextID, jobID)
		bc, err := s.Context(ctx, contextID)
		require.NoError(t, err)
		require.Empty(t, bc.Account)
		for _, table := range []string{"send_incoming", "send_suppressions", "send_number_checks"} {
			require.Zero(t, count(t, s, "SELECT COUNT(*) FROM "+table), table)
		}
		require.Zero(t, count(t, s, "SELECT COUNT(*) FROM send_messages_jobs_messages WHERE browser_context_id IS NULL"),
			"messages without their job's context")

		sent := j.Messages[2]
		unread, err := s.Unread(ctx, wasend.ReceiptFilter{ContextID: contextID})
		require.NoError(t, err)
		require.Equal(t, []wasend.Message{sent}, unread)
		// The pending message takes no receipt; the sent one does.
		ok, err := s.Apply(ctx, wasend.Step{Receipt: &wasend.ReceiptTransition{MessageID: j.Messages[0].ID, Ack: wasend.AckRead}})
		require.NoError(t, err)
		require.False(t, ok)
		ok, err = s.Apply(ctx, wasend.Step{Receipt: &wasend.ReceiptTransition{MessageID: sent.ID, Ack: wasend.AckRead, At: at.Add(time.Hour)},
			Events: []wasend.Event{{Topic: wasend.TopicMessageRead, At: at.Add(time.Hour), MessageID: sent.ID}}})
		require.NoError(t, err)
		require.True(t, ok)
		unread, err = s.Unread(ctx, wasend.ReceiptFilter{ContextID: contextID})
		require.NoError(t, err)
		require.Empty(t, unread)
		c, err := s.Counts(ctx)
		require.NoError(t, err)
		require.Equal(t, []wasend.ReceiptCount{{ContextID: contextID, Delivered: 1, Read: 1}}, c.Receipts)
		evs, err := s.ClaimEvents(ctx, "v5", at.Add(2*time.Hour), at.Add(3*time.Hour), 10)
		require.NoError(t, err)
		require.Len(t, evs, 1)
		require.Equal(t, jobID, evs[0].JobID)
		require.Equal(t, contextID, evs[0].ContextID)
		require.NoError(t, s.SettleEvents(ctx, "v5", []wasend.EventResult{{ID: evs[0].ID, Delivered: true}}))
		useV6(t, s, contextID)
		useV7(t, s, contextID)
	})
}

// useV7 uses what version 7 added on a context of a migrated database: an
// event's data, added on its own, claimed and delivered.
func useV7(t *testing.T, s *sqlstore.Store, contextID int64) {
	t.Helper()
	ctx := t.Context()
	require.NoError(t, s.AddEvents(ctx, []wasend.Event{{Topic: wasend.TopicContextQR, ContextID: contextID,
		Data: map[string]any{"qr": "2@x", "n": 7.0}}}))
	now := time.Now().Add(time.Hour)
	evs, err := s.ClaimEvents(ctx, "v7", now, now.Add(time.Minute), 10)
	require.NoError(t, err)
	require.Len(t, evs, 1)
	require.Equal(t, map[string]any{"qr": "2@x", "n": 7.0}, evs[0].Data)
	require.NoError(t, s.SettleEvents(ctx, "v7", []wasend.EventResult{{ID: evs[0].ID, Delivered: true}}))
}

// TestMigrateFromV7: a database of version 7 that holds a context and jobs
// migrates to the current version and keeps them; it has no snapshot, and
// then keeps one.
func TestMigrateFromV7(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		s, at, contextID, jobID := olderStore(t, b, 7)
		useV7(t, s, contextID)

		require.NoError(t, s.Migrate(ctx))
		checkSchema(t, s)

		checkV1Job(t, s, at, contextID, jobID)
		bc, err := s.Context(ctx, contextID)
		require.NoError(t, err)
		require.Equal(t, "profile-7", bc.SystemID)
		require.Zero(t, count(t, s, "SELECT COUNT(*) FROM browser_profiles"))
		useV8(t, s)
		useV7(t, s, contextID)
	})
}

// useV8 uses what version 8 added: a profile snapshot, saved, replaced,
// loaded and deleted.
func useV8(t *testing.T, s *sqlstore.Store) {
	t.Helper()
	ctx := t.Context()
	ps := s.Profiles(0)
	_, err := ps.LoadProfile(ctx, "persistent:v8")
	require.ErrorIs(t, err, wasend.ErrProfileNotFound)
	for gen := int64(1); gen <= 2; gen++ {
		p := wasend.NewProfileSnapshot("persistent:v8", gen, []byte(fmt.Sprintf("archive %d", gen)), time.Now().UTC().Truncate(time.Millisecond), time.Second)
		require.NoError(t, ps.SaveProfile(ctx, p))
		got, err := ps.LoadProfile(ctx, "persistent:v8")
		require.NoError(t, err)
		require.Equal(t, p.Data, got.Data)
		require.Equal(t, gen, got.Generation)
	}
	require.NoError(t, ps.DeleteProfile(ctx, "persistent:v8"))
}
