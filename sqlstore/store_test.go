package sqlstore_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/sqlstore"
	"github.com/wasend/wasend/sqlstore/sqlite"
)

// fakeDriver is a database/sql driver that New cannot recognise.
type fakeDriver struct{}

func (fakeDriver) Open(string) (driver.Conn, error) { return nil, errors.New("fake driver") }

var registerFake sync.Once

func TestNewDialect(t *testing.T) {
	t.Parallel()
	registerFake.Do(func() { sql.Register("wasend-fake", fakeDriver{}) })
	open := func(driver, dsn string) *sql.DB {
		db, err := sql.Open(driver, dsn)
		require.NoError(t, err)
		t.Cleanup(func() { _ = db.Close() })
		return db
	}
	pgCfg, err := pgx.ParseConfig("postgres://nobody@127.0.0.1:1/none")
	require.NoError(t, err)
	pgConnector := stdlib.OpenDB(*pgCfg)
	t.Cleanup(func() { _ = pgConnector.Close() })
	sqliteConnector, err := sqlite.Open(filepath.Join(t.TempDir(), "c.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = sqliteConnector.Close() })

	cases := []struct {
		name string
		db   *sql.DB
		opts []sqlstore.Option
		want sqlstore.Dialect
		err  error
	}{
		{"pgx by name", open("pgx", "postgres://nobody@127.0.0.1:1/none"), nil, sqlstore.Postgres, nil},
		{"pgx connector", pgConnector, nil, sqlstore.Postgres, nil},
		{"mysql", open("mysql", "nobody@tcp(127.0.0.1:1)/none"), nil, sqlstore.MySQL, nil},
		{"sqlite", open("sqlite", filepath.Join(t.TempDir(), "x.db")), nil, sqlstore.SQLite, nil},
		{"sqlite connector", sqliteConnector, nil, sqlstore.SQLite, nil},
		{"unknown driver", open("wasend-fake", ""), nil, "", sqlstore.ErrUnknownDialect},
		{"unknown driver, dialect given", open("wasend-fake", ""), []sqlstore.Option{sqlstore.WithDialect(sqlstore.SQLite)}, sqlstore.SQLite, nil},
		{"dialect overrides detection", open("mysql", "nobody@tcp(127.0.0.1:1)/none"), []sqlstore.Option{sqlstore.WithDialect(sqlstore.Postgres)}, sqlstore.Postgres, nil},
		{"last dialect wins", open("mysql", "nobody@tcp(127.0.0.1:1)/none"), []sqlstore.Option{sqlstore.WithDialect("oracle"), sqlstore.WithDialect(sqlstore.MySQL)}, sqlstore.MySQL, nil},
		{"bad dialect", open("mysql", "nobody@tcp(127.0.0.1:1)/none"), []sqlstore.Option{sqlstore.WithDialect("oracle")}, "", sqlstore.ErrUnknownDialect},
		{"nil db", nil, nil, "", wasend.ErrInvalidOption},
		{"nil clock", open("sqlite", filepath.Join(t.TempDir(), "x.db")), []sqlstore.Option{sqlstore.WithClock(nil)}, "", wasend.ErrInvalidOption},
		{"nil logger is the default", open("sqlite", filepath.Join(t.TempDir(), "x.db")), []sqlstore.Option{sqlstore.WithLogger(nil)}, sqlstore.SQLite, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := sqlstore.New(c.db, c.opts...)
			if c.err != nil {
				require.ErrorIs(t, err, c.err)
				require.ErrorIs(t, err, wasend.ErrInvalidOption)
				require.Nil(t, s)
				return
			}
			require.NoError(t, err)
			require.Equal(t, c.want, s.Dialect())
			require.Same(t, c.db, s.DB())
		})
	}
	for _, d := range sqlstore.Dialects() {
		require.True(t, d.Valid(), d)
	}
	require.False(t, sqlstore.Dialect("").Valid())
}

func TestNewDoesNotCloseDB(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, b backend) {
		db := b.open(t, "")
		func() {
			s, err := sqlstore.New(db)
			require.NoError(t, err)
			require.NoError(t, s.Migrate(t.Context()))
			_, err = s.CreateContext(t.Context(), wasend.BrowserContext{})
			require.NoError(t, err)
			_, isCloser := any(s).(io.Closer)
			require.False(t, isCloser, "a Store has no Close: the caller owns the *sql.DB")
		}()
		runtime.GC()
		require.NoError(t, db.PingContext(t.Context()))
		var n int
		require.NoError(t, db.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM browser_context").Scan(&n))
		require.Equal(t, 1, n)
	})
}

func TestBackendErrorsWrapErrStore(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, b backend) {
		s := newStore(t, b, "")
		require.NoError(t, s.DB().Close())
		_, err := s.Context(t.Context(), 1)
		require.ErrorIs(t, err, wasend.ErrStore)
		require.NotErrorIs(t, err, context.Canceled)
		require.True(t, wasend.Retryable(err))
		require.Equal(t, wasend.ErrorKindStore, wasend.KindOf(err))
		_, err = s.Apply(t.Context(), wasend.Step{Context: &wasend.ContextTransition{ID: 1,
			From: []wasend.ContextStatus{wasend.ContextAvailable}, To: wasend.ContextBusy}})
		require.ErrorIs(t, err, wasend.ErrStore)
		require.ErrorIs(t, s.Migrate(t.Context()), wasend.ErrStore)

		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err = s.Context(ctx, 1)
		require.ErrorIs(t, err, context.Canceled)
		require.NotErrorIs(t, err, wasend.ErrStore, "a ctx error stays a ctx error")
		require.Equal(t, wasend.ErrorKindCanceled, wasend.KindOf(err))
	})
}

func TestTimes(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, b backend) {
		loc := time.FixedZone("UTC-3", -3*3600)
		clock := time.Date(2026, 3, 4, 5, 6, 7, 123456789, loc)
		want := clock.UTC().Truncate(time.Microsecond)
		s := newStore(t, b, "", sqlstore.WithClock(func() time.Time { return clock }))

		c, err := s.CreateContext(t.Context(), wasend.BrowserContext{})
		require.NoError(t, err)
		assert.Equal(t, want, c.CreatedAt)
		assert.Equal(t, time.UTC, c.CreatedAt.Location())
		got, err := s.Context(t.Context(), c.ID)
		require.NoError(t, err)
		assert.Equal(t, c, got, "to the microsecond, in UTC")

		j, err := s.CreateJob(t.Context(), wasend.Job{ContextID: c.ID, Kind: wasend.KindSingle,
			Delay:    1234567 * time.Microsecond,
			Messages: []wasend.Message{{To: "+1", Text: "x"}}})
		require.NoError(t, err)
		assert.Equal(t, want, j.NextRunAt, "NextRunAt defaults to now")
		assert.Equal(t, want, j.EnqueuedAt, "EnqueuedAt defaults to now")
		assert.Equal(t, 1234*time.Millisecond, j.Delay, "the delay is kept to the millisecond")
		gj, err := s.Job(t.Context(), j.ID)
		require.NoError(t, err)
		assert.Equal(t, j, gj)

		// Far times, and times in other locations with nanoseconds.
		for _, at := range []time.Time{
			time.Date(1971, 1, 1, 0, 0, 0, 1, time.UTC),
			time.Date(2099, 12, 31, 23, 59, 59, 999999999, loc),
			time.Date(2026, 7, 1, 12, 0, 0, 500, time.FixedZone("UTC+14", 14*3600)),
		} {
			ok, err := s.Apply(t.Context(), wasend.Step{Job: &wasend.JobTransition{ID: j.ID,
				From: []wasend.JobStatus{wasend.JobPending}, To: wasend.JobPending, NextRunAt: at, EnqueuedAt: at, At: at}})
			require.NoError(t, err)
			require.True(t, ok)
			gj, err := s.Job(t.Context(), j.ID)
			require.NoError(t, err)
			w := at.UTC().Truncate(time.Microsecond)
			assert.Equal(t, w, gj.NextRunAt)
			assert.Equal(t, w, gj.EnqueuedAt)
			assert.Equal(t, w, gj.UpdatedAt)
			list, err := s.Jobs(t.Context(), wasend.JobFilter{NextRunBefore: w, EnqueuedBefore: w.Add(time.Microsecond)})
			require.NoError(t, err)
			require.Len(t, list, 1, "the filters compare to the microsecond")
			list, err = s.Jobs(t.Context(), wasend.JobFilter{NextRunBefore: w.Add(-time.Microsecond)})
			require.NoError(t, err)
			require.Empty(t, list)
		}
		if b.dialect == sqlstore.SQLite {
			// SQLite keeps fixed-width UTC text, so that text order is time
			// order.
			var raw string
			require.NoError(t, s.DB().QueryRow("SELECT created_at FROM browser_context").Scan(&raw))
			assert.Equal(t, "2026-03-04 08:06:07.123456", raw)
		}
	})
}

func TestCreateJobChunks(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, b backend) {
		s := newStore(t, b, "")
		c, err := s.CreateContext(t.Context(), wasend.BrowserContext{})
		require.NoError(t, err)
		big := strings.Repeat("😀", wasend.MaxTextLength)
		cases := map[string]func(i int) string{
			"many rows":  func(i int) string { return fmt.Sprintf("message %d", i) },
			"many bytes": func(i int) string { return big[:len(big)-4*i] },
		}
		sizes := map[string]int{"many rows": 2345, "many bytes": 40}
		for name, text := range cases {
			in := wasend.Job{ContextID: c.ID, Kind: wasend.KindBulk}
			for i := range sizes[name] {
				in.Messages = append(in.Messages, wasend.Message{To: fmt.Sprintf("+%d", i), Text: text(i)})
			}
			j, err := s.CreateJob(t.Context(), in)
			require.NoError(t, err, name)
			got, err := s.Job(t.Context(), j.ID)
			require.NoError(t, err, name)
			require.Len(t, got.Messages, len(in.Messages), name)
			seen := map[int64]bool{}
			for i, m := range got.Messages {
				require.Equal(t, j.Messages[i], m, "%s: message %d", name, i)
				require.Equal(t, i, m.Position)
				require.Equal(t, in.Messages[i].Text, m.Text)
				require.False(t, seen[m.ID])
				seen[m.ID] = true
			}
		}
	})
}

func TestInvalidInput(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, b backend) {
		s := newStore(t, b, "")
		ctx := t.Context()
		c, err := s.CreateContext(ctx, wasend.BrowserContext{Status: wasend.ContextAvailable})
		require.NoError(t, err)

		// A system id of 100 characters of 4 bytes fits; 101 do not.
		long := strings.Repeat("😀", sqlstore.MaxSystemIDLength)
		c2, err := s.CreateContext(ctx, wasend.BrowserContext{SystemID: long})
		require.NoError(t, err)
		got, err := s.Context(ctx, c2.ID)
		require.NoError(t, err)
		require.Equal(t, long, got.SystemID)
		_, err = s.CreateContext(ctx, wasend.BrowserContext{SystemID: long + "x"})
		require.ErrorIs(t, err, sqlstore.ErrInvalidInput)
		_, err = s.CreateContext(ctx, wasend.BrowserContext{Status: "bogus"})
		require.ErrorIs(t, err, sqlstore.ErrInvalidInput)
		// System ids compare exactly, whatever the collation.
		_, err = s.CreateContext(ctx, wasend.BrowserContext{SystemID: "Profile"})
		require.NoError(t, err)
		_, err = s.CreateContext(ctx, wasend.BrowserContext{SystemID: "profile"})
		require.NoError(t, err)
		_, err = s.CreateContext(ctx, wasend.BrowserContext{SystemID: "profile"})
		require.ErrorIs(t, err, wasend.ErrDuplicateContext)

		var ve *wasend.ValidationError
		one := func(mod func(*wasend.Job)) error {
			j := wasend.Job{ContextID: c.ID, Kind: wasend.KindSingle, Messages: []wasend.Message{{To: "+1", Text: "ok"}, {To: "+2", Text: "ok"}}}
			mod(&j)
			_, err := s.CreateJob(ctx, j)
			return err
		}
		require.ErrorIs(t, one(func(j *wasend.Job) { j.Kind = "" }), sqlstore.ErrInvalidInput)
		require.ErrorIs(t, one(func(j *wasend.Job) { j.Status = "bogus" }), sqlstore.ErrInvalidInput)
		require.ErrorIs(t, one(func(j *wasend.Job) { j.MaxAttempts = -1 }), sqlstore.ErrInvalidInput)
		require.ErrorIs(t, one(func(j *wasend.Job) { j.Claim = strings.Repeat("c", 65) }), sqlstore.ErrInvalidInput)
		require.ErrorIs(t, one(func(j *wasend.Job) { j.Metadata = map[string]any{"ch": make(chan int)} }), wasend.ErrInvalidMetadata)
		// Keys: PostgreSQL's text cannot hold NUL.
		err = one(func(j *wasend.Job) { j.IdempotencyKey = "a\x00b" })
		require.ErrorIs(t, err, wasend.ErrInvalidIdempotencyKey)
		require.ErrorAs(t, err, &ve)
		require.Equal(t, wasend.ValidationError{Index: -1, Field: "idempotency_key", Err: wasend.ErrInvalidIdempotencyKey}, *ve)
		err = one(func(j *wasend.Job) { j.Messages[1].Text = "a\x00b" })
		require.ErrorIs(t, err, wasend.ErrInvalidText)
		require.ErrorAs(t, err, &ve)
		require.Equal(t, 1, ve.Index)
		require.ErrorIs(t, one(func(j *wasend.Job) { j.Messages[0].Text = "bad \xff utf-8" }), wasend.ErrInvalidText)
		require.ErrorIs(t, one(func(j *wasend.Job) { j.Messages[0].To = "+" + strings.Repeat("1", 32) }), wasend.ErrInvalidPhone)
		list, err := s.Jobs(ctx, wasend.JobFilter{})
		require.NoError(t, err)
		require.Empty(t, list, "nothing was created")

		_, err = s.Jobs(ctx, wasend.JobFilter{Limit: -1})
		require.ErrorIs(t, err, sqlstore.ErrInvalidInput)
		_, err = s.Jobs(ctx, wasend.JobFilter{Statuses: []wasend.JobStatus{"bogus"}})
		require.ErrorIs(t, err, sqlstore.ErrInvalidInput)
		_, err = s.Jobs(ctx, wasend.JobFilter{Kind: "bogus"})
		require.ErrorIs(t, err, sqlstore.ErrInvalidInput)

		j, err := s.CreateJob(ctx, wasend.Job{ContextID: c.ID, Kind: wasend.KindSingle, Messages: []wasend.Message{{To: "+1", Text: "ok"}}})
		require.NoError(t, err)
		pending := []wasend.JobStatus{wasend.JobPending}
		steps := map[string]wasend.Step{
			"empty":           {},
			"zero job id":     {Job: &wasend.JobTransition{From: pending, To: wasend.JobPaused}},
			"zero message id": {Message: &wasend.MessageTransition{From: []wasend.MessageStatus{wasend.MessagePending}, To: wasend.MessageSending}},
			"zero context id": {Context: &wasend.ContextTransition{From: []wasend.ContextStatus{wasend.ContextAvailable}, To: wasend.ContextBusy}},
			"long claim":      {Job: &wasend.JobTransition{ID: j.ID, From: pending, To: wasend.JobRunning, Claim: strings.Repeat("c", 65)}},
			"long if-claim":   {Job: &wasend.JobTransition{ID: j.ID, From: pending, To: wasend.JobPaused, IfClaim: strings.Repeat("c", 65)}},
			"long error kind": {Job: &wasend.JobTransition{ID: j.ID, From: pending, To: wasend.JobPaused, ErrorKind: wasend.ErrorKind(strings.Repeat("k", 65))}},
			"set and clear":   {Job: &wasend.JobTransition{ID: j.ID, From: pending, To: wasend.JobPaused, ErrorKind: wasend.ErrorKindOther, ClearError: true}},
			"message set+clear": {Message: &wasend.MessageTransition{ID: j.Messages[0].ID, From: []wasend.MessageStatus{wasend.MessagePending},
				To: wasend.MessageFailed, ErrorKind: wasend.ErrorKindOther, ClearError: true}},
			"long mark": {Message: &wasend.MessageTransition{ID: j.Messages[0].ID, From: []wasend.MessageStatus{wasend.MessagePending},
				To: wasend.MessageSending, Mark: strings.Repeat("m", sqlstore.MaxGuardMarkLength+1)}},
			"mark with NUL": {Message: &wasend.MessageTransition{ID: j.Messages[0].ID, From: []wasend.MessageStatus{wasend.MessagePending},
				To: wasend.MessageSending, Mark: "a\x00b"}},
			"mark not UTF-8": {Message: &wasend.MessageTransition{ID: j.Messages[0].ID, From: []wasend.MessageStatus{wasend.MessagePending},
				To: wasend.MessageSending, Mark: "a\xffb"}},
			"unknown UnconfirmedMessagesTo": {Job: &wasend.JobTransition{ID: j.ID, From: pending, To: wasend.JobPaused,
				UnconfirmedMessagesTo: "bogus"}},
		}
		for name, st := range steps {
			ok, err := s.Apply(ctx, st)
			require.ErrorIs(t, err, sqlstore.ErrInvalidStep, name)
			require.ErrorIs(t, err, wasend.ErrInvalidStep, name)
			require.NotErrorIs(t, err, wasend.ErrStore, name)
			require.False(t, ok, name)
		}
	})
}

func TestStoredText(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, b backend) {
		s := newStore(t, b, "")
		ctx := t.Context()
		c, err := s.CreateContext(ctx, wasend.BrowserContext{})
		require.NoError(t, err)
		meta := map[string]any{"nul": "a\x00b", "emoji": "😀", "n": 12345678.0}
		j, err := s.CreateJob(ctx, wasend.Job{ContextID: c.ID, Kind: wasend.KindSingle, Metadata: meta,
			Messages: []wasend.Message{{To: "+1", Text: "x"}}})
		require.NoError(t, err)
		got, err := s.Job(ctx, j.ID)
		require.NoError(t, err)
		require.Equal(t, meta, got.Metadata)

		// Error texts are made storable: valid UTF-8, no NUL, cut at a
		// character boundary.
		long := strings.Repeat("é", sqlstore.MaxErrorLength)
		ok, err := s.Apply(ctx, wasend.Step{
			Job: &wasend.JobTransition{ID: j.ID, From: []wasend.JobStatus{wasend.JobPending}, To: wasend.JobFailed,
				ErrorKind: wasend.ErrorKindOther, Error: long},
			Message: &wasend.MessageTransition{ID: j.Messages[0].ID, From: []wasend.MessageStatus{wasend.MessagePending},
				To: wasend.MessageFailed, ErrorKind: wasend.ErrorKindOther, Error: "bad \xff\x00 bytes"},
		})
		require.NoError(t, err)
		require.True(t, ok)
		got, err = s.Job(ctx, j.ID)
		require.NoError(t, err)
		require.True(t, utf8.ValidString(got.Error))
		require.LessOrEqual(t, len(got.Error), sqlstore.MaxErrorLength)
		require.Greater(t, len(got.Error), sqlstore.MaxErrorLength-2)
		require.True(t, strings.HasPrefix(long, got.Error))
		require.Equal(t, "bad \uFFFD bytes", got.Messages[0].Error)

		// A long WhatsApp id is cut.
		j2, err := s.CreateJob(ctx, wasend.Job{ContextID: c.ID, Kind: wasend.KindSingle, Messages: []wasend.Message{{To: "+1", Text: "x"}}})
		require.NoError(t, err)
		ok, err = s.Apply(ctx, wasend.Step{Message: &wasend.MessageTransition{ID: j2.Messages[0].ID,
			From: []wasend.MessageStatus{wasend.MessagePending}, To: wasend.MessageSent, WAMessageID: strings.Repeat("w", 300)}})
		require.NoError(t, err)
		require.True(t, ok)
		got, err = s.Job(ctx, j2.ID)
		require.NoError(t, err)
		require.Equal(t, strings.Repeat("w", sqlstore.MaxWAMessageIDLength), got.Messages[0].WAMessageID)
	})
}

func TestFinishedAt(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, b backend) {
		s := newStore(t, b, "")
		ctx := t.Context()
		c, err := s.CreateContext(ctx, wasend.BrowserContext{})
		require.NoError(t, err)
		msgs := []wasend.Message{{To: "+1", Text: "x"}}

		// Created final: finished now; created running: started now.
		done, err := s.CreateJob(ctx, wasend.Job{ContextID: c.ID, Kind: wasend.KindSingle, Status: wasend.JobCompleted, Messages: msgs})
		require.NoError(t, err)
		require.Equal(t, done.CreatedAt, done.FinishedAt)
		run, err := s.CreateJob(ctx, wasend.Job{ContextID: c.ID, Kind: wasend.KindSingle, Status: wasend.JobRunning, Claim: "w", Messages: msgs})
		require.NoError(t, err)
		require.Equal(t, run.CreatedAt, run.StartedAt)
		require.Equal(t, "w", run.Claim)
		got, err := s.Job(ctx, run.ID)
		require.NoError(t, err)
		require.Equal(t, run, got)

		// Leaving a final status clears finished_at.
		ok, err := s.Apply(ctx, wasend.Step{Job: &wasend.JobTransition{ID: done.ID, From: []wasend.JobStatus{wasend.JobCompleted}, To: wasend.JobPending}})
		require.NoError(t, err)
		require.True(t, ok)
		got, err = s.Job(ctx, done.ID)
		require.NoError(t, err)
		require.True(t, got.FinishedAt.IsZero(), "FinishedAt = %v", got.FinishedAt)
	})
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, b backend) {
		// Many goroutines run jobs of several contexts end to end at once.
		s := newStore(t, b, "")
		ctx := t.Context()
		const contexts, jobs, workers = 3, 12, 6
		var ids []int64
		for range contexts {
			c, err := s.CreateContext(ctx, wasend.BrowserContext{Status: wasend.ContextAvailable})
			require.NoError(t, err)
			for range jobs {
				j, err := s.CreateJob(ctx, wasend.Job{ContextID: c.ID, Kind: wasend.KindBulk,
					Messages: []wasend.Message{{To: "+1", Text: "a"}, {To: "+2", Text: "b"}}})
				require.NoError(t, err)
				ids = append(ids, j.ID)
			}
		}
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w := range workers {
			wg.Go(func() {
				claim := fmt.Sprintf("w%d", w)
				// Each worker starts elsewhere in the list and goes round it.
				for k := range ids {
					id := ids[(k+w*len(ids)/workers)%len(ids)]
					if err := runJob(ctx, s, id, claim); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		counts, err := s.Counts(ctx)
		require.NoError(t, err)
		var done, sent int64
		for _, jc := range counts.Jobs {
			require.Equal(t, wasend.JobCompleted, jc.Status, "%+v", jc)
			done += jc.N
		}
		for _, mc := range counts.Messages {
			require.Equal(t, wasend.MessageSent, mc.Status, "%+v", mc)
			sent += mc.N
		}
		require.Equal(t, int64(contexts*jobs), done)
		require.Equal(t, int64(2*contexts*jobs), sent)
	})
}

// runJob runs a job as a worker would, if it can claim it and its context.
func runJob(ctx context.Context, s *sqlstore.Store, id int64, claim string) error {
	j, err := s.Job(ctx, id)
	if err != nil {
		return err
	}
	ok, err := s.Apply(ctx, wasend.Step{Job: &wasend.JobTransition{ID: id, From: []wasend.JobStatus{wasend.JobPending},
		To: wasend.JobRunning, Claim: claim, AddAttempt: true}})
	if err != nil || !ok {
		return err
	}
	for i, m := range j.Messages {
		for {
			ok, err := s.Apply(ctx, wasend.Step{
				Message: &wasend.MessageTransition{ID: m.ID, From: []wasend.MessageStatus{wasend.MessagePending}, To: wasend.MessageSending},
				Context: &wasend.ContextTransition{ID: j.ContextID, From: []wasend.ContextStatus{wasend.ContextAvailable}, To: wasend.ContextBusy},
			})
			if err != nil {
				return err
			}
			if ok {
				break
			}
			time.Sleep(time.Millisecond) // the context is busy
		}
		step := wasend.Step{
			Message: &wasend.MessageTransition{ID: m.ID, From: []wasend.MessageStatus{wasend.MessageSending}, To: wasend.MessageSent},
			Context: &wasend.ContextTransition{ID: j.ContextID, From: []wasend.ContextStatus{wasend.ContextBusy}, To: wasend.ContextAvailable},
		}
		if i == len(j.Messages)-1 {
			step.Job = &wasend.JobTransition{ID: id, From: []wasend.JobStatus{wasend.JobRunning}, IfClaim: claim, To: wasend.JobCompleted}
		}
		ok, err := s.Apply(ctx, step)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("job %d: the end of message %d did not apply", id, m.ID)
		}
	}
	return nil
}

func TestGuardMarkLimit(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, b backend) {
		s := newStore(t, b, "")
		ctx := t.Context()
		c, err := s.CreateContext(ctx, wasend.BrowserContext{})
		require.NoError(t, err)
		j, err := s.CreateJob(ctx, wasend.Job{ContextID: c.ID, Kind: wasend.KindSingle, Messages: []wasend.Message{{To: "+1", Text: "x"}}})
		require.NoError(t, err)
		// The longest mark, of 4-byte characters, is kept byte for byte.
		mark := strings.Repeat("😀", sqlstore.MaxGuardMarkLength/4) + strings.Repeat("m", sqlstore.MaxGuardMarkLength%4)
		require.Len(t, mark, sqlstore.MaxGuardMarkLength)
		ok, err := s.Apply(ctx, wasend.Step{Message: &wasend.MessageTransition{ID: j.Messages[0].ID,
			From: []wasend.MessageStatus{wasend.MessagePending}, To: wasend.MessageSending, StartAttempt: true, Mark: mark}})
		require.NoError(t, err)
		require.True(t, ok)
		got, err := s.Job(ctx, j.ID)
		require.NoError(t, err)
		require.Equal(t, mark, got.Messages[0].GuardMark)
	})
}

// TestIdempotencyKeyAcrossStores: processes that create a job with one key
// at once, each with its own pool, get one job; the others get it back
// with ErrJobExists. A job too big for one INSERT takes the transaction
// path.
func TestIdempotencyKeyAcrossStores(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, b backend) {
		const n = 6
		stores := storesN(t, b, n)
		ctx := t.Context()
		require.NoError(t, stores[0].Migrate(ctx))
		c, err := stores[0].CreateContext(ctx, wasend.BrowserContext{Status: wasend.ContextAvailable})
		require.NoError(t, err)
		for round, size := range []int{1, 3, 1500} {
			key := fmt.Sprintf("key-%d", round)
			in := wasend.Job{ContextID: c.ID, Kind: wasend.KindBulk, IdempotencyKey: key}
			for i := range size {
				in.Messages = append(in.Messages, wasend.Message{To: fmt.Sprintf("+%d", i), Text: "x"})
			}
			var wg sync.WaitGroup
			start := make(chan struct{})
			jobs := make([]wasend.Job, n)
			errs := make([]error, n)
			for i, s := range stores {
				wg.Go(func() {
					<-start
					jobs[i], errs[i] = s.CreateJob(ctx, in)
				})
			}
			close(start)
			wg.Wait()
			created := -1
			for i, err := range errs {
				if err == nil {
					require.Equal(t, -1, created, "round %d: stores %d and %d both created a job", round, created, i)
					created = i
					continue
				}
				require.ErrorIs(t, err, wasend.ErrJobExists, "round %d, store %d", round, i)
			}
			require.NotEqual(t, -1, created, "round %d: no store created the job", round)
			for i := range jobs {
				require.Equal(t, jobs[created], jobs[i], "round %d, store %d", round, i)
				require.Len(t, jobs[i].Messages, size)
			}
			require.Equal(t, 1, count(t, stores[0], "SELECT COUNT(*) FROM send_messages_jobs WHERE idempotency_key = '"+key+"'"))
		}
		require.Equal(t, 3, count(t, stores[0], "SELECT COUNT(*) FROM send_messages_jobs"))
		require.Equal(t, 1+3+1500, count(t, stores[0], "SELECT COUNT(*) FROM send_messages_jobs_messages"))
	})
}
