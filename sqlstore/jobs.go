package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wasend/wasend"
)

// Limits of one multi-row INSERT of messages: a job with more is inserted
// in several statements, in the same transaction. They keep each statement
// under MySQL's max_allowed_packet (16 MiB by default) and every dialect's
// limit on parameters.
const (
	insertMaxRows  = 1000
	insertMaxBytes = 4 << 20
)

// jobColumns lists a job's columns; metadata is the expression that reads
// the metadata column.
func jobColumns(metadata string) string {
	return "j.id, j.browser_context_id, j.send_messages_jobs_status_id, j.kind, j.delay_ms, " + metadata + ", " + jobColumnsRest
}

const jobColumnsRest = "j.attempts, j.max_attempts, j.claim, j.next_run_at, j.enqueued_at, j.error_kind, j.error_message, " +
	"j.created_at, j.updated_at, j.started_at, j.finished_at, j.idempotency_key, j.version, j.wait_reason, j.not_before, j.campaign_id"

const messageColumns = "m.id, m.position, m.to_phone, m.body, m.status, m.attempts, m.attempted_at, m.sent_at, " +
	"m.wa_message_id, m.error_kind, m.error_message, m.updated_at, m.lookups, m.guard_since, m.guard_mark, m.moved_from, " +
	"m.media_kind, m.media_path, m.media_name, m.media_type, m.media_size, m.media_sha256, " +
	"m.delivered_at, m.read_at, m.undelivered_at"

// newJob is a validated job, ready to insert.
type newJob struct {
	j        wasend.Job
	statusID int64
	metadata any // JSON text or nil
	now      time.Time
	// events are the job's Events, recorded with it (its id filled in by
	// insertJob).
	events []eventRow
	// unsuppressed is the job's Unsuppressed: the INSERT inserts nothing
	// when one of these numbers is suppressed.
	unsuppressed []string
}

func (s *Store) prepareJob(j wasend.Job) (newJob, error) {
	if !j.Kind.Valid() {
		return newJob{}, invalid("job kind %q", j.Kind)
	}
	if j.Status == "" {
		j.Status = wasend.JobPending
	}
	sid, ok := jobStatusID(j.Status)
	if !ok {
		return newJob{}, invalid("job status %q", j.Status)
	}
	if !j.Wait.Valid() {
		return newJob{}, invalid("wait reason %q", j.Wait)
	}
	if j.Attempts < 0 || j.MaxAttempts < 0 {
		return newJob{}, invalid("negative attempts")
	}
	if j.CampaignID < 0 {
		return newJob{}, invalid("campaign id %d", j.CampaignID)
	}
	if len(j.Claim) > MaxClaimLength || len(j.ErrorKind) > MaxErrorKindLength {
		return newJob{}, invalid("claim or error kind longer than %d bytes", MaxClaimLength)
	}
	if k := j.IdempotencyKey; len(k) > wasend.MaxIdempotencyKeyLength || !utf8.ValidString(k) || strings.IndexByte(k, 0) >= 0 {
		// NUL too: PostgreSQL's text cannot hold it.
		return newJob{}, &wasend.ValidationError{Index: -1, Field: "idempotency_key", Err: wasend.ErrInvalidIdempotencyKey}
	}
	nj := newJob{statusID: sid, now: s.clock(j.CreatedAt)}
	events, err := s.prepareEvents(j.Events, 0, invalid)
	if err != nil {
		return newJob{}, err
	}
	nj.events, j.Events = events, nil
	if j.Metadata != nil {
		b, err := json.Marshal(j.Metadata)
		if err != nil {
			return newJob{}, fmt.Errorf("%w: %w", wasend.ErrInvalidMetadata, err)
		}
		nj.metadata = string(b)
	}
	for i, m := range j.Messages {
		if !utf8.ValidString(m.To) || utf8.RuneCountInString(m.To) > MaxPhoneLength {
			return newJob{}, &wasend.ValidationError{Index: i, Field: "to", Err: wasend.ErrInvalidPhone}
		}
		if !utf8.ValidString(m.Text) || strings.IndexByte(m.Text, 0) >= 0 {
			return newJob{}, &wasend.ValidationError{Index: i, Field: "text", Err: wasend.ErrInvalidText}
		}
		if err := checkMedia(m.Media); err != nil {
			return newJob{}, &wasend.ValidationError{Index: i, Field: "media", Err: err}
		}
	}
	j.CreatedAt, j.UpdatedAt = nj.now, nj.now
	j.Version = 1
	if j.NextRunAt.IsZero() {
		j.NextRunAt = nj.now
	}
	if j.EnqueuedAt.IsZero() {
		j.EnqueuedAt = nj.now
	}
	if j.StartedAt.IsZero() && j.Status == wasend.JobRunning {
		j.StartedAt = nj.now
	}
	if j.FinishedAt.IsZero() && j.Status.Final() {
		j.FinishedAt = nj.now
	}
	j.NextRunAt, j.EnqueuedAt = norm(j.NextRunAt), norm(j.EnqueuedAt)
	j.StartedAt, j.FinishedAt = norm(j.StartedAt), norm(j.FinishedAt)
	j.NotBefore = norm(j.NotBefore)
	j.Delay = j.Delay.Truncate(time.Millisecond)
	j.Error = cleanText(j.Error, MaxErrorLength)
	if j.Metadata != nil {
		// Return what a read gives back: the JSON decoding.
		var m map[string]any
		_ = json.Unmarshal([]byte(nj.metadata.(string)), &m)
		j.Metadata = m
	}
	msgs := make([]wasend.Message, len(j.Messages))
	for i, m := range j.Messages {
		msgs[i] = wasend.Message{Position: i, To: m.To, Text: m.Text, Status: wasend.MessagePending, MovedFrom: m.MovedFrom,
			Media: cloneMedia(m.Media), UpdatedAt: nj.now}
	}
	j.Messages = msgs
	if len(j.Unsuppressed) > wasend.MaxUnsuppressed {
		return newJob{}, badStep("%d numbers in Unsuppressed, more than %d", len(j.Unsuppressed), wasend.MaxUnsuppressed)
	}
	nj.unsuppressed, j.Unsuppressed = j.Unsuppressed, nil
	nj.j = j
	return nj, nil
}

// CreateJob implements wasend.Store. It inserts the job and its messages in
// one transaction (on PostgreSQL, when the messages fit in one INSERT, in
// one statement). A missing context gives an error wrapping
// wasend.ErrContextNotFound; one that is closed or in error takes no job
// (the INSERT selects only a context that does) and gives
// wasend.ErrContextNotAvailable.
//
// A job with an IdempotencyKey that another job holds inserts nothing: the
// unique index refuses it, whichever process inserted the other one, even
// when that one is not committed yet (the INSERT waits for it). CreateJob
// then returns the other job, with its messages, and an error wrapping
// wasend.ErrJobExists; this takes precedence over a context that no longer
// takes jobs. A key longer than wasend.MaxIdempotencyKeyLength bytes, or
// that is not UTF-8 text without NUL, gives a *wasend.ValidationError
// wrapping wasend.ErrInvalidIdempotencyKey. An empty key is none (NULL):
// any number of jobs may have none.
//
// The job's fields are stored as given (its ID, UpdatedAt and the
// messages' statuses and outcomes are ignored), with these defaults for
// zero values: status pending; CreatedAt, NextRunAt and EnqueuedAt now;
// StartedAt now for a running job; FinishedAt now for a final one.
// Metadata is stored as JSON and comes back as encoding/json decodes it
// into a map[string]any: numbers as float64. Delay is kept to the
// millisecond. Wait and NotBefore are stored as given (NULL for none); an
// unknown wait reason gives ErrInvalidInput. Each message's Media is
// stored as given, nil for none; one with an unknown kind, no path, a
// path, name or type that is not UTF-8 text without NUL or is longer than
// MaxMediaPathLength, MaxMediaNameLength or MaxMediaTypeLength bytes, a
// negative size, or a checksum that is not 64 hex digits gives a
// *wasend.ValidationError (Field "media") wrapping wasend.ErrInvalidMedia.
func (s *Store) CreateJob(ctx context.Context, j wasend.Job) (wasend.Job, error) {
	nj, err := s.prepareJob(j)
	if err != nil {
		return wasend.Job{}, err
	}
	if s.grp == nil {
		return s.createJobAlone(ctx, nj)
	}
	var (
		alone      bool
		noRow      bool
		created    wasend.Job
		createdErr error
	)
	err = s.grp.do(ctx, &groupCall{
		inTx: func(ctx context.Context, tx *sql.Tx) (bool, error) {
			insert := func() (bool, error) {
				err := s.insertJob(ctx, tx, &nj)
				if errors.Is(err, errNoRow) {
					noRow = true
					return false, nil
				}
				return err == nil, err
			}
			if s.oneStatement(nj) && nj.j.IdempotencyKey == "" {
				// One statement takes effect whole or not at all.
				_, err := insert()
				return false, err
			}
			// A held key fails the INSERT, several statements may fail
			// half-way: a savepoint keeps the others'.
			return savepoint(ctx, tx, insert)
		},
		alone: func(ctx context.Context) error {
			alone = true
			created, createdErr = s.createJobAlone(ctx, nj)
			return nil
		},
	})
	switch {
	case err != nil:
		return wasend.Job{}, err
	case alone:
		return created, createdErr
	case noRow:
		return s.notCreated(ctx, nj, errNoRow)
	}
	return nj.j, nil
}

// createJobAlone inserts a job in a statement or a transaction of its own.
func (s *Store) createJobAlone(ctx context.Context, nj newJob) (wasend.Job, error) {
	if s.oneStatement(nj) {
		// One statement is atomic: it needs no transaction.
		if err := s.insertJob(ctx, s.db, &nj); err != nil {
			return s.notCreated(ctx, nj, err)
		}
		return nj.j, nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return wasend.Job{}, fail(ctx, "create job", err)
	}
	defer rollback(tx)
	if err := s.insertJob(ctx, tx, &nj); err != nil {
		// Release the connection first: SQLite's pool has only one.
		rollback(tx)
		return s.notCreated(ctx, nj, err)
	}
	if err := tx.Commit(); err != nil {
		return wasend.Job{}, fail(ctx, "create job: commit", err)
	}
	return nj.j, nil
}

// oneStatement reports whether insertJob writes the job in one statement:
// on PostgreSQL, when its messages fit in one INSERT and it has no events.
func (s *Store) oneStatement(nj newJob) bool {
	return s.d.name == Postgres && len(chunkMessages(nj.j.Messages)) <= 1 && len(nj.events) == 0
}

// insertJob inserts a prepared job and its messages on db, and fills in
// their ids. db is a transaction, or the pool when oneStatement(nj). It
// returns errNoRow when the job's INSERT found no context that takes jobs
// (or, for a job of a campaign, no campaign), and the database's errors as
// they are: the caller explains them (notCreated) once the transaction is
// rolled back. CreateJob, CreateCampaign and MoveMessages share it.
func (s *Store) insertJob(ctx context.Context, db execer, nj *newJob) error {
	if s.d.name == Postgres && len(chunkMessages(nj.j.Messages)) <= 1 {
		if err := s.insertJobPostgres(ctx, db, nj); err != nil {
			return err
		}
		return s.insertJobEvents(ctx, db, nj)
	}
	id, err := s.insertID(ctx, db, s.insertJobQuery(*nj))
	if err != nil {
		return err
	}
	nj.j.ID = id
	for i := range nj.j.Messages {
		nj.j.Messages[i].JobID = id
	}
	for _, c := range chunkMessages(nj.j.Messages) {
		if err := s.insertMessages(ctx, db, id, *nj, c); err != nil {
			return err
		}
	}
	if !s.d.returning && len(nj.j.Messages) > 1 {
		// MySQL gives the first id of a multi-row INSERT only; the others
		// need not follow it (auto_increment_increment, lock modes), so
		// they are read back.
		if err := s.readMessageIDs(ctx, db, nj.j.Messages, id); err != nil {
			return err
		}
	}
	return s.insertJobEvents(ctx, db, nj)
}

// insertJobEvents records the events of a job that insertJob inserted,
// with its id.
func (s *Store) insertJobEvents(ctx context.Context, db execer, nj *newJob) error {
	for i := range nj.events {
		nj.events[i].jobID = nj.j.ID
	}
	return s.insertEvents(ctx, db, nj.events)
}

// notCreated explains why a job's INSERT inserted nothing (err is errNoRow)
// or failed: another job holds its idempotency key, or its context is
// missing, closed or in error. Like systemIDTaken, it looks for the rows
// rather than decoding each driver's error. For a held key it returns the
// job that holds it.
func (s *Store) notCreated(ctx context.Context, nj newJob, err error) (wasend.Job, error) {
	if key := nj.j.IdempotencyKey; key != "" && ctx.Err() == nil {
		other, found, kerr := s.jobByKey(ctx, key)
		switch {
		case found:
			return other, fmt.Errorf("%w: job %d", wasend.ErrJobExists, other.ID)
		case kerr != nil && errors.Is(err, errNoRow):
			return wasend.Job{}, kerr
		}
	}
	if errors.Is(err, errNoRow) && len(nj.unsuppressed) > 0 {
		got, serr := s.Suppressed(ctx, nj.unsuppressed)
		if serr != nil {
			return wasend.Job{}, serr
		}
		if len(got) > 0 {
			return wasend.Job{}, fmt.Errorf("%w: a recipient is on the suppression list", wasend.ErrSuppressed)
		}
	}
	if errors.Is(err, errNoRow) {
		return wasend.Job{}, s.refused(ctx, nj.j.ContextID, nj.j.CampaignID)
	}
	return wasend.Job{}, fail(ctx, "create job", err)
}

// insertJobQuery builds the INSERT of the job row. It selects from
// browser_context, so that it inserts nothing when the context does not
// exist, whatever the foreign keys.
func (s *Store) insertJobQuery(nj newJob) *query {
	j := nj.j
	q := s.d.query()
	q.w("INSERT INTO send_messages_jobs (browser_context_id, send_messages_jobs_status_id, kind, delay_ms, metadata, ",
		"attempts, max_attempts, claim, next_run_at, enqueued_at, error_kind, error_message, created_at, updated_at, ",
		"started_at, finished_at, idempotency_key, wait_reason, not_before, campaign_id) SELECT c.id, ")
	cast := func(v any, typ string) {
		q.a(v)
		if s.d.name == Postgres {
			q.w("::", typ)
		}
		q.w(", ")
	}
	cast(nj.statusID, "smallint")
	cast(string(j.Kind), "varchar")
	cast(j.Delay.Milliseconds(), "bigint")
	cast(nj.metadata, "json")
	cast(int64(j.Attempts), "integer")
	cast(int64(j.MaxAttempts), "integer")
	cast(nullString(j.Claim), "varchar")
	cast(s.d.timeArg(j.NextRunAt), "timestamptz")
	cast(s.d.timeArg(j.EnqueuedAt), "timestamptz")
	cast(nullString(string(j.ErrorKind)), "varchar")
	cast(nullString(j.Error), "text")
	ts := q.shared(s.d.timeArg(nj.now))
	for range 2 {
		q.w(ts())
		if s.d.name == Postgres {
			q.w("::timestamptz")
		}
		q.w(", ")
	}
	cast(s.d.nullTimeArg(j.StartedAt), "timestamptz")
	cast(s.d.nullTimeArg(j.FinishedAt), "timestamptz")
	cast(nullString(j.IdempotencyKey), "varchar")
	cast(nullString(string(j.Wait)), "varchar")
	cast(s.d.nullTimeArg(j.NotBefore), "timestamptz")
	q.a(nullID(j.CampaignID))
	if s.d.name == Postgres {
		q.w("::bigint")
	}
	q.w(" FROM browser_context c WHERE c.id = ").a(j.ContextID)
	q.w(" AND c.browser_context_status_id NOT IN (").a(refusedStatuses[0]).w(", ").a(refusedStatuses[1]).w(")")
	if j.CampaignID != 0 {
		// Whatever the foreign keys, as for the context.
		q.w(" AND EXISTS (SELECT 1 FROM send_campaigns sc WHERE sc.id = ").a(j.CampaignID).w(")")
	}
	notSuppressed(q, nj.unsuppressed)
	return q
}

// refusedStatuses are the ids of the context statuses that take no new
// jobs: error and closed.
var refusedStatuses = func() [2]int64 {
	e, _ := contextStatusID(wasend.ContextError)
	c, _ := contextStatusID(wasend.ContextClosed)
	return [2]int64{e, c}
}()

// refused explains why a job's INSERT found no browser context to insert
// it for: the context is missing, closed or in error, or the job's
// campaign (campaignID, 0 for none) is missing.
func (s *Store) refused(ctx context.Context, contextID, campaignID int64) error {
	bc, err := s.Context(ctx, contextID)
	if err != nil {
		return err
	}
	switch bc.Status {
	case wasend.ContextClosed:
		return fmt.Errorf("%w: %w: id %d", wasend.ErrContextNotAvailable, wasend.ErrContextClosed, contextID)
	case wasend.ContextError:
		return fmt.Errorf("%w: id %d is %s", wasend.ErrContextNotAvailable, contextID, bc.Status)
	}
	if campaignID != 0 {
		q := s.d.query().w("SELECT COUNT(*) FROM send_campaigns WHERE id = ").a(campaignID)
		var n int
		if err := s.db.QueryRowContext(ctx, q.String(), q.args...).Scan(&n); err != nil {
			return fail(ctx, "create job", err)
		}
		if n == 0 {
			return fmt.Errorf("%w: id %d", wasend.ErrCampaignNotFound, campaignID)
		}
	}
	return fmt.Errorf("%w: id %d is %s", wasend.ErrContextNotAvailable, contextID, bc.Status)
}

// nullID is NULL for the id 0.
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// chunkMessages splits the messages into the row sets of the INSERTs.
func chunkMessages(msgs []wasend.Message) [][]wasend.Message {
	var chunks [][]wasend.Message
	start, size := 0, 0
	for i, m := range msgs {
		n := len(m.Text) + len(m.To) + 64
		if md := m.Media; md != nil {
			n += len(md.Path) + len(md.Name) + len(md.Type) + len(md.SHA256) + 32
		}
		if i > start && (i-start >= insertMaxRows || size+n > insertMaxBytes) {
			chunks = append(chunks, msgs[start:i])
			start, size = i, 0
		}
		size += n
	}
	if start < len(msgs) {
		chunks = append(chunks, msgs[start:])
	}
	return chunks
}

// messageValues writes the VALUES rows of a message INSERT.
func (s *Store) messageValues(q *query, jobID, contextID, ts func() string, c []wasend.Message) {
	for i, m := range c {
		if i > 0 {
			q.w(", ")
		}
		q.w("(", jobID(), ", ", contextID(), ", ").a(int64(m.Position)).w(", ").a(m.To).w(", ").a(m.Text)
		q.w(", 'pending', 0, ", ts(), ", ", ts(), ", ").a(nullID(m.MovedFrom))
		s.mediaValues(q, m.Media)
		q.w(")")
	}
}

// messageInsertColumns are the columns a message's INSERT sets.
const messageInsertColumns = "send_messages_job_id, browser_context_id, position, to_phone, body, status, attempts, created_at, updated_at, moved_from, " +
	"media_kind, media_path, media_name, media_type, media_size, media_sha256"

const messageInsert = "INSERT INTO send_messages_jobs_messages (" + messageInsertColumns + ") VALUES "

// insertMessages inserts one chunk of a job's messages and, where the
// dialect returns them, sets their ids.
func (s *Store) insertMessages(ctx context.Context, tx execer, jobID int64, nj newJob, c []wasend.Message) error {
	q := s.d.query().w(messageInsert)
	s.messageValues(q, q.shared(jobID), q.shared(nj.j.ContextID), q.shared(s.d.timeArg(nj.now)), c)
	if s.d.returning {
		q.w(" RETURNING id, position")
		rows, err := tx.QueryContext(ctx, q.String(), q.args...)
		if err != nil {
			return err
		}
		return scanMessageIDs(rows, nj.j.Messages)
	}
	res, err := tx.ExecContext(ctx, q.String(), q.args...)
	if err != nil {
		return err
	}
	if len(nj.j.Messages) == 1 {
		id, err := res.LastInsertId()
		if err != nil {
			return err
		}
		nj.j.Messages[0].ID = id
	}
	return nil
}

// readMessageIDs reads back the ids of a job's messages.
func (s *Store) readMessageIDs(ctx context.Context, tx execer, msgs []wasend.Message, jobID int64) error {
	q := s.d.query().w("SELECT id, position FROM send_messages_jobs_messages WHERE send_messages_job_id = ").a(jobID)
	rows, err := tx.QueryContext(ctx, q.String(), q.args...)
	if err != nil {
		return err
	}
	return scanMessageIDs(rows, msgs)
}

// scanMessageIDs reads (id, position) rows into msgs, and closes rows.
func scanMessageIDs(rows *sql.Rows, msgs []wasend.Message) error {
	defer rows.Close()
	for rows.Next() {
		var id, pos int64
		if err := rows.Scan(&id, &pos); err != nil {
			return err
		}
		if pos < 0 || pos >= int64(len(msgs)) {
			return fmt.Errorf("unexpected message position %d", pos)
		}
		msgs[pos].ID = id
	}
	return rows.Close()
}

// insertJobPostgres inserts a job and its messages in one statement: the
// job's INSERT is a data-modifying WITH that the messages' INSERT reads.
// One statement is atomic, so it needs no transaction of its own.
func (s *Store) insertJobPostgres(ctx context.Context, db execer, nj *newJob) error {
	if len(nj.j.Messages) == 0 {
		id, err := s.insertID(ctx, db, s.insertJobQuery(*nj))
		if err != nil {
			return err
		}
		nj.j.ID = id
		return nil
	}
	q := s.insertJobQuery(*nj)
	job := "WITH j AS (" + q.String() + " RETURNING id) "
	q.sb.Reset()
	q.w(job, "INSERT INTO send_messages_jobs_messages (", messageInsertColumns, ") ",
		"SELECT j.id, ").a(nj.j.ContextID).w("::bigint, v.position, v.to_phone, v.body, 'pending', 0, v.ts, v.ts, v.moved_from, ",
		"v.media_kind, v.media_path, v.media_name, v.media_type, v.media_size, v.media_sha256 FROM j, (VALUES ")
	ts := q.shared(s.d.timeArg(nj.now))
	for i, m := range nj.j.Messages {
		if i > 0 {
			q.w(", ")
		}
		q.w("(").a(int64(m.Position)).w("::integer, ").a(m.To).w("::varchar, ").a(m.Text).w("::text, ", ts(), "::timestamptz, ")
		q.a(nullID(m.MovedFrom)).w("::bigint")
		s.mediaValues(q, m.Media)
		q.w(")")
	}
	q.w(") AS v (position, to_phone, body, ts, moved_from, media_kind, media_path, media_name, media_type, media_size, media_sha256)",
		" RETURNING send_messages_job_id, id, position")
	rows, err := db.QueryContext(ctx, q.String(), q.args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var jobID, id, pos int64
		if err := rows.Scan(&jobID, &id, &pos); err != nil {
			return err
		}
		if pos < 0 || pos >= int64(len(nj.j.Messages)) {
			return fmt.Errorf("unexpected message position %d", pos)
		}
		nj.j.ID = jobID
		nj.j.Messages[pos].ID, nj.j.Messages[pos].JobID = id, jobID
		n++
	}
	if err := rows.Err(); err != nil {
		// The statement may fail here, as its rows are read: a unique
		// violation of the key, for one.
		return err
	}
	if n == 0 {
		return errNoRow
	}
	return rows.Close()
}

// Job implements wasend.Store. It reads the job and its messages in one
// statement, so the two are consistent.
func (s *Store) Job(ctx context.Context, id int64) (wasend.Job, error) {
	j, found, err := s.readJob(ctx, func(q *query) { q.w("j.id = ").a(id) })
	if err != nil {
		return wasend.Job{}, fail(ctx, "job", err)
	}
	if !found {
		return wasend.Job{}, fmt.Errorf("%w: id %d", wasend.ErrJobNotFound, id)
	}
	return j, nil
}

// jobByKey returns the job that holds an idempotency key, with its
// messages, and whether there is one.
func (s *Store) jobByKey(ctx context.Context, key string) (wasend.Job, bool, error) {
	j, found, err := s.readJob(ctx, func(q *query) { q.w("j.idempotency_key = ").a(key) })
	if err != nil {
		return wasend.Job{}, false, fail(ctx, "job by idempotency key", err)
	}
	return j, found, nil
}

// readJob reads the job that where selects (one at most), with its
// messages, in one statement.
func (s *Store) readJob(ctx context.Context, where func(q *query)) (wasend.Job, bool, error) {
	jobs, err := s.readJobs(ctx, s.db, where)
	if err != nil || len(jobs) == 0 {
		return wasend.Job{}, false, err
	}
	if len(jobs) > 1 {
		return wasend.Job{}, false, fmt.Errorf("%d jobs where one was expected", len(jobs))
	}
	return jobs[0], true, nil
}

// readJobs reads the jobs that where selects, by id, with their messages,
// in one statement, so that they are consistent.
func (s *Store) readJobs(ctx context.Context, db execer, where func(q *query)) ([]wasend.Job, error) {
	// Only the first message's row carries the metadata. There is no ORDER
	// BY: MySQL would sort the rows, message bodies included, in a
	// temporary table; the jobs and messages are put in order here.
	q := s.d.query().w("SELECT ", jobColumns("CASE WHEN m.position IS NULL OR m.position = 0 THEN j.metadata END"), ", ", messageColumns,
		" FROM send_messages_jobs j LEFT JOIN send_messages_jobs_messages m ON m.send_messages_job_id = j.id",
		" WHERE ")
	where(q)
	rows, err := db.QueryContext(ctx, q.String(), q.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	type acc struct {
		jr       jobRow
		metadata []byte
		msgs     []wasend.Message
	}
	var (
		jr    jobRow
		mr    messageRow
		byID  = map[int64]*acc{}
		order []int64
	)
	dest := append(s.jobDest(&jr), s.messageDest(&mr)...)
	for rows.Next() {
		jr, mr = jobRow{}, messageRow{}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		a := byID[jr.j.ID]
		if a == nil {
			a = &acc{jr: jr}
			byID[jr.j.ID] = a
			order = append(order, jr.j.ID)
		}
		if jr.metadata != nil {
			a.metadata = jr.metadata
		}
		if mr.id.Valid {
			a.msgs = append(a.msgs, mr.message(jr.j.ID))
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.Sort(order)
	jobs := make([]wasend.Job, 0, len(order))
	for _, id := range order {
		a := byID[id]
		a.jr.metadata = a.metadata
		j, err := a.jr.job()
		if err != nil {
			return nil, err
		}
		slices.SortFunc(a.msgs, func(x, y wasend.Message) int { return x.Position - y.Position })
		j.Messages = a.msgs
		jobs = append(jobs, j)
	}
	return jobs, nil
}

// Jobs implements wasend.Store.
func (s *Store) Jobs(ctx context.Context, f wasend.JobFilter) ([]wasend.Job, error) {
	if f.Limit < 0 {
		return nil, invalid("negative limit")
	}
	if f.Limit == 0 {
		f.Limit = wasend.DefaultJobsLimit
	}
	if f.Kind != "" && !f.Kind.Valid() {
		return nil, invalid("job kind %q", f.Kind)
	}
	q := s.d.query().w("SELECT ", jobColumns("j.metadata"), " FROM send_messages_jobs j WHERE 1 = 1")
	if f.ContextID != 0 {
		q.w(" AND j.browser_context_id = ").a(f.ContextID)
	}
	if len(f.Statuses) > 0 {
		ids := make([]any, len(f.Statuses))
		for i, st := range f.Statuses {
			id, ok := jobStatusID(st)
			if !ok {
				return nil, invalid("job status %q", st)
			}
			ids[i] = id
		}
		q.w(" AND ").in("j.send_messages_jobs_status_id", ids)
	}
	if f.Kind != "" {
		q.w(" AND j.kind = ").a(string(f.Kind))
	}
	if !f.NextRunBefore.IsZero() {
		q.w(" AND j.next_run_at <= ").a(s.d.timeArg(f.NextRunBefore))
	}
	if !f.EnqueuedBefore.IsZero() {
		q.w(" AND j.enqueued_at < ").a(s.d.timeArg(f.EnqueuedBefore))
	}
	if !f.UpdatedBefore.IsZero() {
		q.w(" AND j.updated_at < ").a(s.d.timeArg(f.UpdatedBefore))
	}
	if f.CampaignID != 0 {
		q.w(" AND j.campaign_id = ").a(f.CampaignID)
	}
	if !f.CreatedAfter.IsZero() {
		q.w(" AND j.created_at >= ").a(s.d.timeArg(f.CreatedAfter))
	}
	if !f.CreatedBefore.IsZero() {
		q.w(" AND j.created_at < ").a(s.d.timeArg(f.CreatedBefore))
	}
	if f.AfterID != 0 {
		q.w(" AND j.id > ").a(f.AfterID)
	}
	if f.BeforeID != 0 {
		q.w(" AND j.id < ").a(f.BeforeID)
	}
	q.w(" ORDER BY j.id")
	if f.Newest {
		q.w(" DESC")
	}
	q.w(" LIMIT ").a(int64(f.Limit))
	rows, err := s.db.QueryContext(ctx, q.String(), q.args...)
	if err != nil {
		return nil, fail(ctx, "jobs", err)
	}
	defer rows.Close()
	var list []wasend.Job
	for rows.Next() {
		var jr jobRow
		if err := rows.Scan(s.jobDest(&jr)...); err != nil {
			return nil, fail(ctx, "jobs", err)
		}
		j, err := jr.job()
		if err != nil {
			return nil, fail(ctx, "jobs", err)
		}
		list = append(list, j)
	}
	if err := rows.Err(); err != nil {
		return nil, fail(ctx, "jobs", err)
	}
	return list, nil
}

// jobRow is a job as scanned.
type jobRow struct {
	j         wasend.Job
	statusID  int64
	kind      string
	delayMS   int64
	metadata  []byte
	claim     sql.NullString
	errorKind sql.NullString
	errorMsg  sql.NullString
	key       sql.NullString
	wait      sql.NullString
	campaign  sql.NullInt64
}

func (s *Store) jobDest(r *jobRow) []any {
	j := &r.j
	return []any{&j.ID, &j.ContextID, &r.statusID, &r.kind, &r.delayMS, &r.metadata,
		&j.Attempts, &j.MaxAttempts, &r.claim, s.d.scanTime(&j.NextRunAt), s.d.scanTime(&j.EnqueuedAt),
		&r.errorKind, &r.errorMsg, s.d.scanTime(&j.CreatedAt), s.d.scanTime(&j.UpdatedAt),
		s.d.scanTime(&j.StartedAt), s.d.scanTime(&j.FinishedAt), &r.key, &j.Version, &r.wait, s.d.scanTime(&j.NotBefore), &r.campaign}
}

func (r *jobRow) job() (wasend.Job, error) {
	j := r.j
	st, err := jobStatusOf(r.statusID)
	if err != nil {
		return j, err
	}
	j.Status, j.Kind = st, wasend.JobKind(r.kind)
	j.Delay = time.Duration(r.delayMS) * time.Millisecond
	j.Claim, j.ErrorKind, j.Error = r.claim.String, wasend.ErrorKind(r.errorKind.String), r.errorMsg.String
	j.IdempotencyKey, j.Wait = r.key.String, wasend.WaitReason(r.wait.String)
	j.CampaignID = r.campaign.Int64
	if r.metadata != nil {
		if err := json.Unmarshal(r.metadata, &j.Metadata); err != nil {
			return j, fmt.Errorf("job %d: metadata: %w", j.ID, err)
		}
	}
	return j, nil
}

// messageRow is a message as scanned from a LEFT JOIN: every column may be
// NULL.
type messageRow struct {
	m         wasend.Message
	id        sql.NullInt64
	position  sql.NullInt64
	to, body  sql.NullString
	status    sql.NullString
	attempts  sql.NullInt64
	waID      sql.NullString
	errorKind sql.NullString
	errorMsg  sql.NullString
	lookups   sql.NullInt64
	guardMark sql.NullString
	movedFrom sql.NullInt64
	media     mediaRow
}

func (s *Store) messageDest(r *messageRow) []any {
	m := &r.m
	return []any{&r.id, &r.position, &r.to, &r.body, &r.status, &r.attempts,
		s.d.scanTime(&m.AttemptedAt), s.d.scanTime(&m.SentAt), &r.waID, &r.errorKind, &r.errorMsg,
		s.d.scanTime(&m.UpdatedAt), &r.lookups, s.d.scanTime(&m.GuardSince), &r.guardMark, &r.movedFrom,
		&r.media.kind, &r.media.path, &r.media.name, &r.media.typ, &r.media.size, &r.media.sha256,
		s.d.scanTime(&m.DeliveredAt), s.d.scanTime(&m.ReadAt), s.d.scanTime(&m.UndeliveredAt)}
}

func (r *messageRow) message(jobID int64) wasend.Message {
	m := r.m
	m.ID, m.JobID, m.Position = r.id.Int64, jobID, int(r.position.Int64)
	m.To, m.Text, m.Status = r.to.String, r.body.String, wasend.MessageStatus(r.status.String)
	m.Attempts, m.Lookups, m.GuardMark = int(r.attempts.Int64), int(r.lookups.Int64), r.guardMark.String
	m.WAMessageID, m.ErrorKind, m.Error = r.waID.String, wasend.ErrorKind(r.errorKind.String), r.errorMsg.String
	m.MovedFrom = r.movedFrom.Int64
	m.Media = r.media.media()
	return m
}

// cleanText makes s storable: valid UTF-8, no NUL, at most max bytes, cut
// at a character boundary.
func cleanText(s string, max int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return s
}
