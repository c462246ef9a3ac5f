package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wasend/wasend"
)

var _ wasend.OutboxStore = (*Store)(nil)

// Outbox limits.
const (
	// MaxTopicLength is the longest event topic, in bytes.
	MaxTopicLength = 64
	// MaxEventStatusLength is the longest event status, in bytes.
	MaxEventStatusLength = 32
	// MaxOwnerLength is the longest owner of a claim of events, in bytes.
	MaxOwnerLength = 128
)

// eventRow is a validated event, ready to insert: what the caller gave;
// the store fills in the rest from the rows (eventInsert).
type eventRow struct {
	topic      string
	at         time.Time
	jobID      int64
	messageID  int64
	contextID  int64
	campaignID int64
	status     string
	errorKind  string
	metadata   any // JSON text or nil
	data       any // JSON text or nil
}

// prepareEvents validates events. jobID, when not 0, is the id of the new
// job that they are recorded with. A zero At is now. mk builds the error
// of a malformed event (badStep or invalid).
func (s *Store) prepareEvents(evs []wasend.Event, jobID int64, mk func(string, ...any) error) ([]eventRow, error) {
	if len(evs) == 0 {
		return nil, nil
	}
	now := s.clock(time.Time{})
	rows := make([]eventRow, len(evs))
	for i, e := range evs {
		switch {
		case e.Topic == "" || len(e.Topic) > MaxTopicLength:
			return nil, mk("event %d: topic %q", i, e.Topic)
		case len(e.Status) > MaxEventStatusLength:
			return nil, mk("event %d: status longer than %d bytes", i, MaxEventStatusLength)
		case len(e.ErrorKind) > MaxErrorKindLength:
			return nil, mk("event %d: error kind longer than %d bytes", i, MaxErrorKindLength)
		case e.JobID < 0 || e.MessageID < 0 || e.ContextID < 0 || e.CampaignID < 0:
			return nil, mk("event %d: negative id", i)
		}
		r := eventRow{topic: string(e.Topic), at: now, jobID: e.JobID, messageID: e.MessageID, contextID: e.ContextID,
			campaignID: e.CampaignID, status: e.Status, errorKind: string(e.ErrorKind)}
		if !e.At.IsZero() {
			r.at = norm(e.At)
		}
		if jobID != 0 {
			r.jobID = jobID
		}
		if e.Metadata != nil {
			b, err := json.Marshal(e.Metadata)
			if err != nil {
				return nil, fmt.Errorf("%w: event %d: %w", wasend.ErrInvalidMetadata, i, err)
			}
			r.metadata = string(b)
		}
		if e.Data != nil {
			b, err := json.Marshal(e.Data)
			if err != nil {
				return nil, mk("event %d: data: %v", i, err)
			}
			r.data = string(b)
		}
		rows[i] = r
	}
	return rows, nil
}

// eventColumns are the columns an event's INSERT sets.
const eventColumns = "topic, at, job_id, message_id, context_id, campaign_id, status, error_kind, metadata, data, version, attempts, next_at"

// eventInsert writes one INSERT ... SELECT of events, on PostgreSQL and
// SQLite: their rows are a derived table (ev), in order (ev.ord), joined
// to the message (for the job of an event that has a message and no job)
// and to the job (for the context, campaign and metadata the event leaves
// zero). The ORDER BY gives the ids in the order of the events. cond, when
// not empty, is a condition the rows are inserted on (applyOne).
func (s *Store) eventInsert(q *query, evs []eventRow, cond string) *query {
	pg := s.d.name == Postgres
	cast := func(typ string) {
		if pg {
			q.w("::", typ)
		}
	}
	q.w("INSERT INTO send_events (", eventColumns, ") SELECT ev.topic, ev.at, COALESCE(ev.job_id, m.send_messages_job_id), ev.message_id, ",
		"COALESCE(ev.context_id, j.browser_context_id), COALESCE(ev.campaign_id, j.campaign_id), ev.status, ev.error_kind, ",
		"COALESCE(ev.metadata, j.metadata), ev.data, ", strconv.Itoa(wasend.EventVersion), ", 0, ev.at FROM (")
	for i, e := range evs {
		if i > 0 {
			q.w(" UNION ALL ")
		}
		q.w("SELECT ").a(int64(i))
		cast("bigint")
		q.w(" AS ord, ").a(e.topic)
		cast("varchar")
		q.w(" AS topic, ").a(s.d.timeArg(e.at))
		cast("timestamptz")
		q.w(" AS at, ").a(nullID(e.jobID))
		cast("bigint")
		q.w(" AS job_id, ").a(nullID(e.messageID))
		cast("bigint")
		q.w(" AS message_id, ").a(nullID(e.contextID))
		cast("bigint")
		q.w(" AS context_id, ").a(nullID(e.campaignID))
		cast("bigint")
		q.w(" AS campaign_id, ").a(nullString(e.status))
		cast("varchar")
		q.w(" AS status, ").a(nullString(e.errorKind))
		cast("varchar")
		q.w(" AS error_kind, ").a(e.metadata)
		cast("json")
		q.w(" AS metadata, ").a(e.data)
		cast("json")
		q.w(" AS data")
	}
	q.w(") ev LEFT JOIN send_messages_jobs_messages m ON ev.job_id IS NULL AND m.id = ev.message_id",
		" LEFT JOIN send_messages_jobs j ON j.id = COALESCE(ev.job_id, m.send_messages_job_id)")
	if cond != "" {
		q.w(" WHERE ", cond)
	}
	return q.w(" ORDER BY ev.ord")
}

// insertEvents records events on db, a transaction: on PostgreSQL and
// SQLite one INSERT ... SELECT (eventInsert). On MySQL, whose INSERT ...
// SELECT would take shared locks on the job and message rows it reads (a
// step that changed only a message would then lock its job after the
// message, against the order of Apply's other steps), a plain read of what
// the events leave zero, and one INSERT.
func (s *Store) insertEvents(ctx context.Context, db execer, evs []eventRow) error {
	if len(evs) == 0 {
		return nil
	}
	if s.d.name != MySQL {
		_, err := s.exec(ctx, db, s.eventInsert(s.d.query(), evs, ""))
		return err
	}
	if err := s.fillEvents(ctx, db, evs); err != nil {
		return err
	}
	q := s.d.query().w("INSERT INTO send_events (", eventColumns, ") VALUES ")
	for i, e := range evs {
		if i > 0 {
			q.w(", ")
		}
		at := q.shared(s.d.timeArg(e.at))
		q.w("(").a(e.topic).w(", ", at(), ", ").a(nullID(e.jobID)).w(", ").a(nullID(e.messageID)).w(", ").a(nullID(e.contextID))
		q.w(", ").a(nullID(e.campaignID)).w(", ").a(nullString(e.status)).w(", ").a(nullString(e.errorKind)).w(", ").a(e.metadata).w(", ").a(e.data)
		q.w(", ", strconv.Itoa(wasend.EventVersion), ", 0, ", at(), ")")
	}
	_, err := s.exec(ctx, db, q)
	return err
}

// fillEvents fills in, by plain reads, the job of the events that have a
// message and no job, and the context, campaign and metadata of those
// that have a job.
func (s *Store) fillEvents(ctx context.Context, db execer, evs []eventRow) error {
	var msgs, jobs []any
	for _, e := range evs {
		if e.jobID == 0 && e.messageID != 0 {
			msgs = append(msgs, e.messageID)
		}
	}
	if len(msgs) > 0 {
		q := s.d.query().w("SELECT id, send_messages_job_id FROM send_messages_jobs_messages WHERE ").in("id", msgs)
		jobOf := map[int64]int64{}
		err := queryRows(ctx, db, q, func(rows *sql.Rows) error {
			var id, job int64
			if err := rows.Scan(&id, &job); err != nil {
				return err
			}
			jobOf[id] = job
			return nil
		})
		if err != nil {
			return err
		}
		for i := range evs {
			if evs[i].jobID == 0 && evs[i].messageID != 0 {
				evs[i].jobID = jobOf[evs[i].messageID]
			}
		}
	}
	for _, e := range evs {
		if e.jobID != 0 && (e.contextID == 0 || e.campaignID == 0 || e.metadata == nil) {
			jobs = append(jobs, e.jobID)
		}
	}
	if len(jobs) == 0 {
		return nil
	}
	type jobFill struct {
		context  int64
		campaign sql.NullInt64
		metadata []byte
	}
	fills := map[int64]jobFill{}
	q := s.d.query().w("SELECT id, browser_context_id, campaign_id, metadata FROM send_messages_jobs WHERE ").in("id", jobs)
	err := queryRows(ctx, db, q, func(rows *sql.Rows) error {
		var id int64
		var f jobFill
		if err := rows.Scan(&id, &f.context, &f.campaign, &f.metadata); err != nil {
			return err
		}
		fills[id] = f
		return nil
	})
	if err != nil {
		return err
	}
	for i := range evs {
		e := &evs[i]
		f, ok := fills[e.jobID]
		if !ok {
			continue
		}
		if e.contextID == 0 {
			e.contextID = f.context
		}
		if e.campaignID == 0 {
			e.campaignID = f.campaign.Int64
		}
		if e.metadata == nil && f.metadata != nil {
			e.metadata = string(f.metadata)
		}
	}
	return nil
}

// queryRows runs q and calls scan on each row.
func queryRows(ctx context.Context, db execer, q *query, scan func(*sql.Rows) error) error {
	rows, err := db.QueryContext(ctx, q.String(), q.args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return rows.Close()
}

// notDead is the condition that an event (of alias a) is not dead, as the
// PostgreSQL and SQLite partial index of the due scan words it.
func (s *Store) notDead(a string) string {
	if s.d.name == Postgres {
		return "NOT " + a + ".dead"
	}
	return a + ".dead = 0"
}

const eventReadColumns = "e.id, e.topic, e.at, e.job_id, e.message_id, e.context_id, e.campaign_id, e.status, e.error_kind, " +
	"e.metadata, e.data, e.version, e.attempts"

// dueEvents writes the SELECT of the ids of the due events, by id, up to
// limit: not delivered, not dead, due, not claimed (or claimed until
// before now), and with no earlier event of their job that is neither
// delivered nor dead. An earlier event claimed by another relay is such an
// event: that is what keeps each job's events in order. The subquery may
// read an older state than the rows it locks (PostgreSQL's statement
// snapshot, MySQL's consistent read): it then sees fewer events delivered
// or dead, never more, since neither is ever undone, so it may hold back
// an event that is due, never let one through early.
func (s *Store) dueEvents(q *query, now time.Time, limit int, cols string) *query {
	ts := q.shared(s.d.timeArg(now))
	// The heads: the first event of each job (an event without a job is
	// its own) that is neither delivered nor dead. One scan of the open
	// events, whose plan does not hang on the table's statistics: a
	// NOT EXISTS per candidate was planned, on a young table, as a scan
	// of every open event per candidate (seconds per claim).
	q.w("SELECT ", cols, " FROM send_events e JOIN (SELECT MIN(h.id) AS id FROM send_events h WHERE h.delivered_at IS NULL AND ",
		s.notDead("h"), " GROUP BY COALESCE(h.job_id, -h.id)) heads ON heads.id = e.id",
		// Checked again on e itself: a row locked after another relay's
		// settle is rechecked on its new version, not on the heads'.
		" WHERE e.delivered_at IS NULL AND ", s.notDead("e"),
		" AND e.next_at <= ", ts(), " AND (e.claimed_until IS NULL OR e.claimed_until < ", ts(), ")",
		" ORDER BY e.id LIMIT ").a(int64(limit))
	return q
}

// ClaimEvents implements wasend.OutboxStore. It selects the due events and
// marks them claimed by owner until until, in one transaction that locks
// them: on PostgreSQL one UPDATE whose subquery locks them (FOR UPDATE
// SKIP LOCKED: a relay skips the events that another is claiming); on
// MySQL a SELECT ... FOR UPDATE (SKIP LOCKED on MySQL and on MariaDB 10.6
// or later) and then an UPDATE; on SQLite one UPDATE, which the database's
// write lock serialises. An empty owner, or one longer than
// MaxOwnerLength, gives ErrInvalidInput; a limit of 0 or less claims
// nothing.
func (s *Store) ClaimEvents(ctx context.Context, owner string, now, until time.Time, limit int) ([]wasend.Event, error) {
	if owner == "" || len(owner) > MaxOwnerLength {
		return nil, invalid("event owner %q", owner)
	}
	if limit <= 0 {
		return nil, nil
	}
	now, until = s.clock(now), norm(until)
	if s.d.name == MySQL {
		return s.claimEventsMySQL(ctx, owner, now, until, limit)
	}
	q := s.d.query().w("UPDATE send_events SET claimed_by = ").a(owner).w(", claimed_until = ").a(s.d.nullTimeArg(until))
	q.w(" WHERE id IN (")
	if s.d.name == Postgres {
		// The heads by DISTINCT ON: one sort of the open events, and a
		// subquery of at most limit rows, whatever the planner knows of
		// the table (a join to the heads was planned, on a table not yet
		// analysed, as a nested loop over every open event twice: 50 s
		// per claim with 20,000 events). Two relays may pick the same
		// heads: the UPDATE rechecks each row it locks (the conditions
		// below), so one claims them and the other none this time.
		ts := q.shared(s.d.timeArg(now))
		q.w("SELECT id FROM (SELECT DISTINCT ON (COALESCE(job_id, -id)) id, next_at, claimed_until FROM send_events",
			" WHERE delivered_at IS NULL AND NOT dead ORDER BY COALESCE(job_id, -id), id) heads",
			" WHERE next_at <= ", ts(), " AND (claimed_until IS NULL OR claimed_until < ", ts(), ") ORDER BY id LIMIT ").a(int64(limit))
		q.w(") AND delivered_at IS NULL AND NOT dead AND (claimed_until IS NULL OR claimed_until < ", ts(), ")")
	} else {
		s.dueEvents(q, now, limit, "e.id")
		q.w(")")
	}
	q.w(" RETURNING ", strings.ReplaceAll(eventReadColumns, "e.", ""))
	var list []wasend.Event
	if err := queryRows(ctx, s.db, q, func(rows *sql.Rows) error {
		e, err := s.scanEvent(rows)
		list = append(list, e)
		return err
	}); err != nil {
		return nil, fail(ctx, "claim events", err)
	}
	slices.SortFunc(list, func(a, b wasend.Event) int { return cmp.Compare(a.ID, b.ID) })
	return list, nil
}

func (s *Store) claimEventsMySQL(ctx context.Context, owner string, now, until time.Time, limit int) ([]wasend.Event, error) {
	skip, err := s.skipLocked(ctx)
	if err != nil {
		return nil, fail(ctx, "claim events", err)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fail(ctx, "claim events", err)
	}
	defer rollback(tx)
	q := s.dueEvents(s.d.query(), now, limit, eventReadColumns).w(" FOR UPDATE")
	if skip {
		q.w(" SKIP LOCKED")
	}
	var list []wasend.Event
	if err := queryRows(ctx, tx, q, func(rows *sql.Rows) error {
		e, err := s.scanEvent(rows)
		list = append(list, e)
		return err
	}); err != nil {
		return nil, fail(ctx, "claim events", err)
	}
	if len(list) == 0 {
		return nil, nil
	}
	ids := make([]any, len(list))
	for i, e := range list {
		ids[i] = e.ID
	}
	q = s.d.query().w("UPDATE send_events SET claimed_by = ").a(owner).w(", claimed_until = ").a(s.d.nullTimeArg(until))
	q.w(" WHERE ").in("id", ids)
	if _, err := s.exec(ctx, tx, q); err != nil {
		return nil, fail(ctx, "claim events", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fail(ctx, "claim events: commit", err)
	}
	return list, nil
}

// skipLocked tells whether the MySQL server knows SKIP LOCKED: MySQL 8.0
// does, MariaDB from 10.6. Without it, the claims of two relays wait for
// each other instead.
func (s *Store) skipLocked(ctx context.Context) (bool, error) {
	s.skipMu.Lock()
	defer s.skipMu.Unlock()
	if s.skipKnown {
		return s.skip, nil
	}
	var v string
	if err := s.db.QueryRowContext(ctx, "SELECT VERSION()").Scan(&v); err != nil {
		return false, err
	}
	s.skip, s.skipKnown = mysqlSkipLocked(v), true
	return s.skip, nil
}

// mysqlSkipLocked tells from a server's VERSION() whether it knows SKIP
// LOCKED.
func mysqlSkipLocked(version string) bool {
	if !strings.Contains(strings.ToLower(version), "mariadb") {
		return true
	}
	var major, minor int
	if _, err := fmt.Sscanf(version, "%d.%d", &major, &minor); err != nil {
		return false
	}
	return major > 10 || (major == 10 && minor >= 6)
}

// scanEvent scans eventReadColumns.
func (s *Store) scanEvent(rows *sql.Rows) (wasend.Event, error) {
	var (
		e                      wasend.Event
		topic                  string
		job, msg, bc, campaign sql.NullInt64
		status, kind           sql.NullString
		metadata, data         []byte
	)
	if err := rows.Scan(&e.ID, &topic, s.d.scanTime(&e.At), &job, &msg, &bc, &campaign, &status, &kind, &metadata, &data,
		&e.Version, &e.Attempts); err != nil {
		return e, err
	}
	e.Topic, e.Status, e.ErrorKind = wasend.Topic(topic), status.String, wasend.ErrorKind(kind.String)
	e.JobID, e.MessageID, e.ContextID, e.CampaignID = job.Int64, msg.Int64, bc.Int64, campaign.Int64
	if metadata != nil {
		if err := json.Unmarshal(metadata, &e.Metadata); err != nil {
			return e, fmt.Errorf("event %d: metadata: %w", e.ID, err)
		}
	}
	if data != nil {
		if err := json.Unmarshal(data, &e.Data); err != nil {
			return e, fmt.Errorf("event %d: data: %w", e.ID, err)
		}
	}
	return e, nil
}

// AddEvents implements wasend.OutboxStore: the events, in one
// transaction. A malformed event gives ErrInvalidInput and records none.
func (s *Store) AddEvents(ctx context.Context, evs []wasend.Event) error {
	rows, err := s.prepareEvents(evs, 0, invalid)
	if err != nil || len(rows) == 0 {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fail(ctx, "add events", err)
	}
	defer rollback(tx)
	if err := s.insertEvents(ctx, tx, rows); err != nil {
		return fail(ctx, "add events", err)
	}
	if err := tx.Commit(); err != nil {
		return fail(ctx, "add events: commit", err)
	}
	return nil
}

// SettleEvents implements wasend.OutboxStore: one UPDATE per result, each
// on the condition that owner holds the event, in one transaction. A
// delivered event gets delivered_at now; another gets NextAt (now when
// zero), Dead, one more attempt if Attempted, and its Error, cut to
// MaxErrorLength bytes (an empty Error keeps the last one). Each clears
// the claim.
func (s *Store) SettleEvents(ctx context.Context, owner string, results []wasend.EventResult) error {
	if len(results) == 0 {
		return nil
	}
	if owner == "" || len(owner) > MaxOwnerLength {
		return invalid("event owner %q", owner)
	}
	now := s.clock(time.Time{})
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fail(ctx, "settle events", err)
	}
	defer rollback(tx)
	for _, r := range results {
		q := s.d.query().w("UPDATE ", s.d.byID("send_events"), " SET claimed_by = NULL, claimed_until = NULL")
		if r.Delivered {
			q.w(", delivered_at = ").a(s.d.timeArg(now))
		} else {
			if r.Attempted {
				q.w(", attempts = attempts + 1")
			}
			q.w(", next_at = ").a(s.d.timeArg(s.clock(r.NextAt))).w(", dead = ").a(r.Dead)
			if r.Error != "" {
				q.w(", last_error = ").a(cleanText(r.Error, MaxErrorLength))
			}
		}
		q.w(" WHERE id = ").a(r.ID).w(" AND claimed_by = ").a(owner).w(" AND delivered_at IS NULL")
		if _, err := s.exec(ctx, tx, q); err != nil {
			return fail(ctx, "settle events", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fail(ctx, "settle events: commit", err)
	}
	return nil
}

// EventCounts implements wasend.OutboxStore.
func (s *Store) EventCounts(ctx context.Context) (wasend.OutboxCounts, error) {
	var c wasend.OutboxCounts
	q := s.d.query().w("SELECT dead, COUNT(*) FROM send_events WHERE delivered_at IS NULL GROUP BY dead")
	err := queryRows(ctx, s.db, q, func(rows *sql.Rows) error {
		var dead any
		var n int64
		if err := rows.Scan(&dead, &n); err != nil {
			return err
		}
		d, err := boolOf(dead)
		if err != nil {
			return err
		}
		if d {
			c.Dead += n
		} else {
			c.Pending += n
		}
		return nil
	})
	if err != nil {
		return wasend.OutboxCounts{}, fail(ctx, "event counts", err)
	}
	return c, nil
}

// PruneEvents implements wasend.OutboxStore. A zero before deletes
// nothing.
func (s *Store) PruneEvents(ctx context.Context, before time.Time) (int64, error) {
	if before.IsZero() {
		return 0, nil
	}
	q := s.d.query().w("DELETE FROM send_events WHERE delivered_at < ").a(s.d.timeArg(before))
	n, err := s.exec(ctx, s.db, q)
	if err != nil {
		return 0, fail(ctx, "prune events", err)
	}
	return n, nil
}
