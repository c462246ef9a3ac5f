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

var _ wasend.CampaignStore = (*Store)(nil)

const campaignColumns = "c.id, c.contexts, c.allow_moves, c.metadata, c.idempotency_key, c.created_at"

// activeStatuses are the ids of the job statuses of an active campaign's
// jobs, and of a job that MoveMessages moves messages from.
var (
	activeStatuses  = statusIDs(wasend.JobPending, wasend.JobRunning, wasend.JobPaused)
	movableStatuses = statusIDs(wasend.JobPending, wasend.JobPaused)
)

func statusIDs(sts ...wasend.JobStatus) []any {
	ids := make([]any, len(sts))
	for i, st := range sts {
		id, _ := jobStatusID(st)
		ids[i] = id
	}
	return ids
}

// validKey checks an idempotency key as CreateJob does.
func validKey(k string) error {
	if len(k) > wasend.MaxIdempotencyKeyLength || !utf8.ValidString(k) || strings.IndexByte(k, 0) >= 0 {
		// NUL too: PostgreSQL's text cannot hold it.
		return &wasend.ValidationError{Index: -1, Field: "idempotency_key", Err: wasend.ErrInvalidIdempotencyKey}
	}
	return nil
}

// CreateCampaign implements wasend.CampaignStore. In one transaction it
// inserts the campaign row and then each job as CreateJob does (the same
// statements: insertJob), with the campaign's id and no idempotency key of
// its own; a job's CreatedAt defaults to the campaign's. A context that is
// missing, closed or in error rolls everything back and gives CreateJob's
// errors. A duplicate idempotency key is refused by the unique index on
// send_campaigns.idempotency_key, whichever process holds it (the INSERT
// waits for the other's transaction); CreateCampaign then returns the
// campaign that holds it, with its jobs, and an error wrapping
// wasend.ErrCampaignExists. The pool is stored as a JSON array, in order.
func (s *Store) CreateCampaign(ctx context.Context, c wasend.Campaign) (wasend.Campaign, error) {
	if err := validKey(c.IdempotencyKey); err != nil {
		return wasend.Campaign{}, err
	}
	var metadata any
	if c.Metadata != nil {
		b, err := json.Marshal(c.Metadata)
		if err != nil {
			return wasend.Campaign{}, fmt.Errorf("%w: %w", wasend.ErrInvalidMetadata, err)
		}
		metadata = string(b)
		// Return what a read gives back: the JSON decoding.
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		c.Metadata = m
	}
	pool := c.Contexts
	if pool == nil {
		pool = []int64{}
	}
	contexts, err := json.Marshal(pool)
	if err != nil {
		return wasend.Campaign{}, invalid("contexts: %v", err)
	}
	c.CreatedAt = s.clock(c.CreatedAt)
	c.Contexts = slices.Clone(c.Contexts)
	jobs := make([]newJob, len(c.Jobs))
	for i, j := range c.Jobs {
		j.IdempotencyKey = ""
		j.CampaignID = 0 // set once the campaign has its id
		if j.CreatedAt.IsZero() {
			j.CreatedAt = c.CreatedAt
		}
		if jobs[i], err = s.prepareJob(j); err != nil {
			return wasend.Campaign{}, err
		}
	}

	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return wasend.Campaign{}, fail(ctx, "create campaign", err)
	}
	defer rollback(tx)
	q := s.d.query().w("INSERT INTO send_campaigns (contexts, allow_moves, metadata, idempotency_key, created_at) VALUES (")
	q.a(string(contexts)).w(", ").a(c.Move).w(", ").a(metadata)
	if s.d.name == Postgres {
		q.w("::json")
	}
	q.w(", ").a(nullString(c.IdempotencyKey)).w(", ").a(s.d.timeArg(c.CreatedAt)).w(")")
	id, err := s.insertID(ctx, tx, q)
	if err != nil {
		// Release the connection first: SQLite's pool has only one.
		rollback(tx)
		if key := c.IdempotencyKey; key != "" && ctx.Err() == nil {
			other, found, kerr := s.campaignByKey(ctx, key)
			if found {
				return other, fmt.Errorf("%w: campaign %d", wasend.ErrCampaignExists, other.ID)
			}
			if kerr != nil {
				return wasend.Campaign{}, kerr
			}
		}
		return wasend.Campaign{}, fail(ctx, "create campaign", err)
	}
	c.ID = id
	c.Jobs = make([]wasend.Job, len(jobs))
	for i := range jobs {
		jobs[i].j.CampaignID = id
		if err := s.insertJob(ctx, tx, &jobs[i]); err != nil {
			rollback(tx)
			if errors.Is(err, errNoRow) && ctx.Err() == nil {
				return wasend.Campaign{}, s.refused(ctx, jobs[i].j.ContextID, 0)
			}
			return wasend.Campaign{}, fail(ctx, "create campaign: job", err)
		}
		c.Jobs[i] = jobs[i].j
	}
	if err := tx.Commit(); err != nil {
		return wasend.Campaign{}, fail(ctx, "create campaign: commit", err)
	}
	return c, nil
}

// Campaign implements wasend.CampaignStore. It reads the campaign, and
// then its jobs with their messages in one statement.
func (s *Store) Campaign(ctx context.Context, id int64) (wasend.Campaign, error) {
	c, found, err := s.readCampaign(ctx, func(q *query) { q.w("c.id = ").a(id) })
	if err != nil {
		return wasend.Campaign{}, fail(ctx, "campaign", err)
	}
	if !found {
		return wasend.Campaign{}, fmt.Errorf("%w: id %d", wasend.ErrCampaignNotFound, id)
	}
	return c, nil
}

// campaignByKey returns the campaign that holds an idempotency key, with
// its jobs, and whether there is one.
func (s *Store) campaignByKey(ctx context.Context, key string) (wasend.Campaign, bool, error) {
	c, found, err := s.readCampaign(ctx, func(q *query) { q.w("c.idempotency_key = ").a(key) })
	if err != nil {
		return wasend.Campaign{}, false, fail(ctx, "campaign by idempotency key", err)
	}
	return c, found, nil
}

// readCampaign reads the campaign that where selects (one at most), with
// its jobs and their messages.
func (s *Store) readCampaign(ctx context.Context, where func(q *query)) (wasend.Campaign, bool, error) {
	q := s.d.query().w("SELECT ", campaignColumns, " FROM send_campaigns c WHERE ")
	where(q)
	list, err := s.scanCampaigns(ctx, q)
	if err != nil || len(list) == 0 {
		return wasend.Campaign{}, false, err
	}
	c := list[0]
	c.Jobs, err = s.readJobs(ctx, s.db, func(q *query) { q.w("j.campaign_id = ").a(c.ID) })
	if err != nil {
		return wasend.Campaign{}, false, err
	}
	return c, true, nil
}

// Campaigns implements wasend.CampaignStore.
func (s *Store) Campaigns(ctx context.Context, f wasend.CampaignFilter) ([]wasend.Campaign, error) {
	if f.Limit < 0 {
		return nil, invalid("negative limit")
	}
	if f.Limit == 0 {
		f.Limit = wasend.DefaultJobsLimit
	}
	q := s.d.query().w("SELECT ", campaignColumns, " FROM send_campaigns c WHERE 1 = 1")
	if f.AfterID != 0 {
		q.w(" AND c.id > ").a(f.AfterID)
	}
	if f.Active {
		q.w(" AND EXISTS (SELECT 1 FROM send_messages_jobs j WHERE j.campaign_id = c.id AND ")
		q.in("j.send_messages_jobs_status_id", activeStatuses).w(")")
	}
	q.w(" ORDER BY c.id LIMIT ").a(int64(f.Limit))
	list, err := s.scanCampaigns(ctx, q)
	if err != nil {
		return nil, fail(ctx, "campaigns", err)
	}
	return list, nil
}

func (s *Store) scanCampaigns(ctx context.Context, q *query) ([]wasend.Campaign, error) {
	rows, err := s.db.QueryContext(ctx, q.String(), q.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var list []wasend.Campaign
	for rows.Next() {
		var (
			c                  wasend.Campaign
			contexts, metadata []byte
			move               any
			key                sql.NullString
		)
		if err := rows.Scan(&c.ID, &contexts, &move, &metadata, &key, s.d.scanTime(&c.CreatedAt)); err != nil {
			return nil, err
		}
		if c.Move, err = boolOf(move); err != nil {
			return nil, fmt.Errorf("campaign %d: allow_moves: %w", c.ID, err)
		}
		if err := json.Unmarshal(contexts, &c.Contexts); err != nil {
			return nil, fmt.Errorf("campaign %d: contexts: %w", c.ID, err)
		}
		if len(c.Contexts) == 0 {
			c.Contexts = nil
		}
		if metadata != nil {
			if err := json.Unmarshal(metadata, &c.Metadata); err != nil {
				return nil, fmt.Errorf("campaign %d: metadata: %w", c.ID, err)
			}
		}
		c.IdempotencyKey = key.String
		list = append(list, c)
	}
	return list, rows.Err()
}

// boolOf reads a boolean column: PostgreSQL's bool, MySQL's TINYINT and
// SQLite's INTEGER, as the drivers give them.
func boolOf(v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case int64:
		return x != 0, nil
	case []byte:
		return string(x) != "0" && string(x) != "", nil
	case string:
		return x != "0" && x != "", nil
	}
	return false, fmt.Errorf("cannot read %T as a boolean", v)
}

// MoveMessages implements wasend.CampaignStore. In one transaction it
//
//   - bumps the version (and updated_at) of the job the messages leave, on
//     the condition that it is pending or paused and belongs to a
//     campaign: this first UPDATE serialises the move with any change of
//     the job, so a worker's claim of it (a JobTransition from pending with
//     IfVersion) either comes before, and the move finds the job running
//     and moves nothing, or after, and fails on the version;
//   - checks that ToContext is in the campaign's pool;
//   - locks the messages that are pending messages of the job among
//     m.Messages (SELECT ... FOR UPDATE; SQLite's transaction holds the
//     write lock) and cancels them, with the error kind moved, by one
//     UPDATE that keeps the condition status = 'pending' AND
//     send_messages_job_id = FromJob;
//   - inserts the new job with the copies as CreateJob does (insertJob), so
//     that a ToContext that is missing, closed or in error rolls back with
//     CreateJob's errors;
//   - completes the job the messages left (version grows once more,
//     finished_at At, claim and wait cleared) if none of its messages is
//     pending, sending or unconfirmed.
//
// When no message moves it rolls back, and returns a zero Job and no
// error. The new job is pending, of kind bulk, with next_run_at and
// enqueued_at At and the Delay, MaxAttempts, Metadata and NotBefore of the
// job the messages left; its messages keep the order of m.Messages, and
// each copy the recipient, text and Media of the one it left.
func (s *Store) MoveMessages(ctx context.Context, m wasend.MessageMove) (wasend.Job, error) {
	if m.FromJob <= 0 {
		return wasend.Job{}, fmt.Errorf("%w: job id %d", wasend.ErrJobNotFound, m.FromJob)
	}
	at := s.clock(m.At)
	want := make([]int64, 0, len(m.Messages))
	seen := make(map[int64]bool, len(m.Messages))
	for _, id := range m.Messages {
		if id > 0 && !seen[id] {
			seen[id] = true
			want = append(want, id)
		}
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return wasend.Job{}, fail(ctx, "move messages", err)
	}
	defer rollback(tx)

	// The job first: it decides the race with a claim.
	q := s.d.query().w("UPDATE ", s.d.byID("send_messages_jobs"), " SET version = version + 1, updated_at = ").a(s.d.timeArg(at))
	q.w(" WHERE id = ").a(m.FromJob).w(" AND ").in(s.d.filterOnly("send_messages_jobs_status_id"), movableStatuses)
	q.w(" AND campaign_id IS NOT NULL")
	n, err := s.exec(ctx, tx, q)
	if err != nil {
		return wasend.Job{}, fail(ctx, "move messages", err)
	}
	if n != 1 {
		rollback(tx)
		return wasend.Job{}, s.notMovable(ctx, m.FromJob)
	}

	// The job's settings and its campaign's pool.
	q = s.d.query().w("SELECT j.campaign_id, j.delay_ms, j.max_attempts, j.metadata, j.not_before, c.contexts",
		" FROM send_messages_jobs j JOIN send_campaigns c ON c.id = j.campaign_id WHERE j.id = ").a(m.FromJob)
	var (
		from               wasend.Job
		delayMS            int64
		metadata, contexts []byte
		pool               []int64
	)
	err = tx.QueryRowContext(ctx, q.String(), q.args...).Scan(&from.CampaignID, &delayMS, &from.MaxAttempts, &metadata,
		s.d.scanTime(&from.NotBefore), &contexts)
	if err != nil {
		return wasend.Job{}, fail(ctx, "move messages: job", err)
	}
	if err := json.Unmarshal(contexts, &pool); err != nil {
		return wasend.Job{}, fail(ctx, "move messages", fmt.Errorf("campaign %d: contexts: %w", from.CampaignID, err))
	}
	if !slices.Contains(pool, m.ToContext) {
		return wasend.Job{}, badStep("move: context %d is not in the pool of campaign %d", m.ToContext, from.CampaignID)
	}
	if metadata != nil {
		if err := json.Unmarshal(metadata, &from.Metadata); err != nil {
			return wasend.Job{}, fail(ctx, "move messages", fmt.Errorf("job %d: metadata: %w", m.FromJob, err))
		}
	}

	// The messages that move, locked, in the order of m.Messages.
	moving, err := s.lockPending(ctx, tx, m.FromJob, want)
	if err != nil {
		return wasend.Job{}, fail(ctx, "move messages: messages", err)
	}
	var copies []wasend.Message
	var moved []any
	for _, id := range want {
		if msg, ok := moving[id]; ok {
			copies = append(copies, wasend.Message{To: msg.To, Text: msg.Text, Media: msg.Media, MovedFrom: id})
			moved = append(moved, id)
		}
	}
	if len(copies) == 0 {
		rollback(tx)
		return wasend.Job{}, nil
	}

	// The new job, as CreateJob inserts one.
	nj, err := s.prepareJob(wasend.Job{ContextID: m.ToContext, CampaignID: from.CampaignID, Kind: wasend.KindBulk,
		Status: wasend.JobPending, Delay: time.Duration(delayMS) * time.Millisecond, MaxAttempts: from.MaxAttempts,
		Metadata: from.Metadata, NotBefore: from.NotBefore, NextRunAt: at, EnqueuedAt: at, CreatedAt: at, Messages: copies, Events: m.Events})
	if err != nil {
		return wasend.Job{}, err
	}
	if err := s.insertJob(ctx, tx, &nj); err != nil {
		rollback(tx)
		if errors.Is(err, errNoRow) && ctx.Err() == nil {
			return wasend.Job{}, s.refused(ctx, m.ToContext, 0)
		}
		return wasend.Job{}, fail(ctx, "move messages: new job", err)
	}

	// The originals: cancelled, moved to the new job.
	for chunk := range slices.Chunk(moved, insertMaxRows) {
		q = s.d.query().w("UPDATE ", s.d.byID("send_messages_jobs_messages"), " SET status = ").a(string(wasend.MessageCancelled))
		q.w(", error_kind = ").a(string(wasend.ErrorKindMoved))
		q.w(", error_message = ").a(fmt.Sprintf("wasend: moved to job %d", nj.j.ID))
		q.w(", updated_at = ").a(s.d.timeArg(at))
		q.w(" WHERE ").in("id", chunk).w(" AND send_messages_job_id = ").a(m.FromJob).w(" AND status = ").a(string(wasend.MessagePending))
		n, err := s.exec(ctx, tx, q)
		if err != nil {
			return wasend.Job{}, fail(ctx, "move messages: cancel", err)
		}
		if n != int64(len(chunk)) {
			// Cannot happen: the rows are locked.
			return wasend.Job{}, fail(ctx, "move messages: cancel", fmt.Errorf("%d of %d messages cancelled", n, len(chunk)))
		}
	}

	// The job the messages left, completed if nothing is left to send. The
	// count is a plain read: no one changes the messages of a pending or
	// paused job without its row, which this transaction holds, and a
	// locking read would take gap locks on MySQL that the INSERTs of
	// other moves wait for.
	q = s.d.query().w("SELECT COUNT(*) FROM send_messages_jobs_messages WHERE send_messages_job_id = ").a(m.FromJob)
	q.w(" AND ").in("status", []any{string(wasend.MessagePending), string(wasend.MessageSending), string(wasend.MessageUnconfirmed)})
	var left int64
	if err := tx.QueryRowContext(ctx, q.String(), q.args...).Scan(&left); err != nil {
		return wasend.Job{}, fail(ctx, "move messages: count", err)
	}
	if left == 0 {
		done, _ := jobStatusID(wasend.JobCompleted)
		q = s.d.query().w("UPDATE ", s.d.byID("send_messages_jobs"), " SET send_messages_jobs_status_id = ").a(done)
		ts := q.shared(s.d.timeArg(at))
		q.w(", finished_at = ", ts(), ", updated_at = ", ts(), ", version = version + 1, claim = NULL, wait_reason = NULL")
		q.w(" WHERE id = ").a(m.FromJob)
		if _, err := s.exec(ctx, tx, q); err != nil {
			return wasend.Job{}, fail(ctx, "move messages: complete", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return wasend.Job{}, fail(ctx, "move messages: commit", err)
	}
	return nj.j, nil
}

// lockPending returns, by id, the messages among ids that are pending
// messages of the job, and locks them until the transaction ends.
func (s *Store) lockPending(ctx context.Context, tx *sql.Tx, jobID int64, ids []int64) (map[int64]wasend.Message, error) {
	out := make(map[int64]wasend.Message, len(ids))
	for chunk := range slices.Chunk(ids, insertMaxRows) {
		vs := make([]any, len(chunk))
		for i, id := range chunk {
			vs[i] = id
		}
		q := s.d.query().w("SELECT id, to_phone, body, media_kind, media_path, media_name, media_type, media_size, media_sha256 FROM ",
			s.d.byID("send_messages_jobs_messages"), " WHERE ").in("id", vs)
		q.w(" AND send_messages_job_id = ").a(jobID).w(" AND status = ").a(string(wasend.MessagePending))
		if s.d.name != SQLite {
			// SQLite's transaction holds the database's write lock.
			q.w(" FOR UPDATE")
		}
		rows, err := tx.QueryContext(ctx, q.String(), q.args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var m wasend.Message
			var md mediaRow
			if err := rows.Scan(&m.ID, &m.To, &m.Text, &md.kind, &md.path, &md.name, &md.typ, &md.size, &md.sha256); err != nil {
				rows.Close()
				return nil, err
			}
			m.Media = md.media()
			out[m.ID] = m
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// notMovable explains why MoveMessages found no job to move messages from:
// the job is missing (ErrJobNotFound), belongs to no campaign
// (ErrInvalidStep), or is neither pending nor paused (nil: nothing moves).
func (s *Store) notMovable(ctx context.Context, id int64) error {
	j, found, err := s.readJobRow(ctx, id)
	if err != nil {
		return fail(ctx, "move messages", err)
	}
	switch {
	case !found:
		return fmt.Errorf("%w: id %d", wasend.ErrJobNotFound, id)
	case j.CampaignID == 0:
		return badStep("move: job %d belongs to no campaign", id)
	}
	return nil
}

// readJobRow reads one job without its messages.
func (s *Store) readJobRow(ctx context.Context, id int64) (wasend.Job, bool, error) {
	q := s.d.query().w("SELECT ", jobColumns("j.metadata"), " FROM send_messages_jobs j WHERE j.id = ").a(id)
	rows, err := s.db.QueryContext(ctx, q.String(), q.args...)
	if err != nil {
		return wasend.Job{}, false, err
	}
	defer rows.Close()
	if !rows.Next() {
		return wasend.Job{}, false, rows.Err()
	}
	var jr jobRow
	if err := rows.Scan(s.jobDest(&jr)...); err != nil {
		return wasend.Job{}, false, err
	}
	j, err := jr.job()
	return j, err == nil, err
}
