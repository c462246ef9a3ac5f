package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wasend/wasend"
)

// update is one conditional UPDATE of a step.
type update struct {
	// table is the table's name.
	table string
	// set writes "UPDATE <table> SET ...".
	set func(q *query)
	// where writes the condition.
	where func(q *query)
	// any: the UPDATE may match any number of rows (PendingMessagesTo,
	// UnconfirmedMessagesTo).
	any bool
}

// stmt builds the UPDATE.
func (u update) stmt(q *query) *query {
	u.set(q)
	q.w(" WHERE ")
	u.where(q)
	return q
}

// Apply implements wasend.Store. A step's UPDATEs take effect in this
// order: the job, the message, the job's pending and unconfirmed messages
// (PendingMessagesTo and UnconfirmedMessagesTo, one UPDATE), the receipt,
// the context. Each but the job's messages must match exactly one row, or
// none takes effect and Apply reports false.
//
// A step of one UPDATE is one statement. On PostgreSQL, a step of several
// is one statement too: it locks and checks each row, then updates them
// all if all matched. Its parts all read the rows as they were before the
// statement, so a step that has both a Message and a move of the job's
// messages runs in a transaction instead, since the move must see the
// message's new status; so does a step with a Receipt and either of them.
// Elsewhere the UPDATEs run in one transaction, which rolls back at the
// first that does not match.
//
// Besides what wasend.JobTransition documents, a change of a job to a status
// that is not final clears finished_at. PendingMessagesTo and
// UnconfirmedMessagesTo both read the statuses as the step's Message left
// them: a message that one moves, the other does not move again (pending
// to unconfirmed, with unconfirmed to unknown, leaves it unconfirmed). In
// a MessageTransition, ClearGuard applies before StartAttempt, Mark and
// AddLookup: with them it starts the guard afresh (guard_since At,
// guard_mark Mark, lookups 1, for those given). Error messages are cut to
// MaxErrorLength bytes and WhatsApp message ids to MaxWAMessageIDLength; a
// Mark longer than MaxGuardMarkLength, or that is not UTF-8 text without
// NUL, is refused. A JobTransition stores its Wait (NULL for none), so a
// change without one clears the job's. A ContextTransition's Restriction
// sets the three restriction columns (a zero Restriction sets them NULL),
// its LoggedIn sets first_login_at unless it is set, and its Account sets
// the account column (NULL for ""; one that is not UTF-8 text of at most
// MaxPhoneLength characters is refused).
//
// A Receipt (wasend.ReceiptTransition) sets delivered_at for an Ack of
// delivered or later, read_at and delivered_at for read or played, and
// undelivered_at for Undelivered, each to At unless it is set, and
// updated_at. Its condition is that the message is sent and that one of
// the columns it names is NULL, so that an ack the store has already makes
// the step not apply. A step with only a Receipt is valid; one whose Ack
// names no column (none, pending or sent, without Undelivered) never
// applies, since a sent message has those; an Ack outside AckNone to
// AckPlayed is refused.
//
// A Send is inserted into the ledger, and its recipient into the contacts
// unless there already, only when the UPDATEs all matched; a restriction
// reason is cut to MaxErrorLength bytes, and a ledger hash longer than
// MaxLedgerHashLength is refused. The step's Events are recorded in
// send_events, in order, only when the UPDATEs all matched, in the same
// transaction (or statement): see OutboxStore. A malformed step gives an
// error wrapping ErrInvalidStep.
func (s *Store) Apply(ctx context.Context, st wasend.Step) (bool, error) {
	ups, ins, err := s.buildStep(st)
	if err != nil {
		return false, err
	}
	evs, err := s.prepareEvents(st.Events, 0, badStep)
	if err != nil {
		return false, err
	}
	if s.grp == nil {
		return s.applyAlone(ctx, st, ups, ins, evs)
	}
	var ok bool
	err = s.grp.do(ctx, &groupCall{
		inTx: func(ctx context.Context, tx *sql.Tx) (retry bool, err error) {
			ok, retry, err = s.applyIn(ctx, tx, st, ups, ins, evs)
			return retry, err
		},
		alone: func(ctx context.Context) (err error) {
			ok, err = s.applyAlone(ctx, st, ups, ins, evs)
			return err
		},
	})
	if err != nil {
		return false, err
	}
	return ok, nil
}

// applyAlone applies a step in a statement or a transaction of its own.
func (s *Store) applyAlone(ctx context.Context, st wasend.Step, ups []update, ins []insert, evs []eventRow) (bool, error) {
	switch {
	case len(ups) == 1 && !ups[0].any && len(ins) == 0 && len(evs) == 0:
		n, err := s.exec(ctx, s.db, ups[0].stmt(s.d.query()))
		if err != nil {
			return false, fail(ctx, "apply", err)
		}
		if n == 1 || !s.d.changedRows {
			return n == 1, nil
		}
		// MySQL reports 0 for a row that matched but kept its values: look
		// again, in a transaction that locks the row.
	case s.d.name == Postgres && !readsOwnChanges(st):
		ok, err := s.applyOne(ctx, s.db, ups, ins, evs)
		if err != nil {
			return false, fail(ctx, "apply", err)
		}
		return ok, nil
	}
	return s.applyTx(ctx, ups, ins, evs)
}

// applyIn applies a step in a group commit's transaction. A step of one
// statement runs as it is (it takes effect whole or not at all); one of
// several runs in a savepoint, rolled back if its UPDATEs do not all
// match, or if it fails (retry: it then runs alone). An error means tx is
// unusable.
func (s *Store) applyIn(ctx context.Context, tx *sql.Tx, st wasend.Step, ups []update, ins []insert, evs []eventRow) (ok, retry bool, err error) {
	switch {
	case len(ups) == 1 && !ups[0].any && len(ins) == 0 && len(evs) == 0:
		n, err := s.exec(ctx, tx, ups[0].stmt(s.d.query()))
		if err != nil {
			return false, false, err
		}
		if n == 0 && s.d.changedRows {
			ok, err := s.matches(ctx, tx, ups[0])
			return ok, false, err
		}
		return n == 1, false, nil
	case s.d.name == Postgres && !readsOwnChanges(st):
		ok, err := s.applyOne(ctx, tx, ups, ins, evs)
		return ok, false, err
	}
	retry, err = savepoint(ctx, tx, func() (bool, error) {
		ok, err = s.applySteps(ctx, tx, ups, ins, evs)
		return ok, err
	})
	return ok && !retry, retry, err
}

// readsOwnChanges reports whether a later UPDATE of a step must see what
// an earlier one changed, which PostgreSQL's one statement does not
// allow: a move of the job's messages after its Message, or a Receipt
// after either.
func readsOwnChanges(st wasend.Step) bool {
	moves := movesMessages(st.Job)
	return st.Message != nil && moves || st.Receipt != nil && (st.Message != nil || moves)
}

// movesMessages reports whether a job transition moves its job's messages
// (PendingMessagesTo, UnconfirmedMessagesTo).
func movesMessages(t *wasend.JobTransition) bool {
	return t != nil && (t.PendingMessagesTo != "" || t.UnconfirmedMessagesTo != "")
}

// applyTx runs a step's UPDATEs in a transaction, and then, if they all
// matched, its INSERTs and its events.
func (s *Store) applyTx(ctx context.Context, ups []update, ins []insert, evs []eventRow) (bool, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, fail(ctx, "apply", err)
	}
	defer rollback(tx)
	ok, err := s.applySteps(ctx, tx, ups, ins, evs)
	if err != nil || !ok {
		return false, fail(ctx, "apply", err)
	}
	if err := tx.Commit(); err != nil {
		return false, fail(ctx, "apply: commit", err)
	}
	return true, nil
}

// applySteps runs a step's UPDATEs in tx, and then, if they all matched,
// its INSERTs and its events. It stops at the first UPDATE that does not
// match, and reports false: the caller must then roll back.
func (s *Store) applySteps(ctx context.Context, tx *sql.Tx, ups []update, ins []insert, evs []eventRow) (bool, error) {
	for _, u := range ups {
		n, err := s.exec(ctx, tx, u.stmt(s.d.query()))
		if err != nil {
			return false, err
		}
		if u.any || n == 1 {
			continue
		}
		if n == 0 && s.d.changedRows {
			ok, err := s.matches(ctx, tx, u)
			if err != nil {
				return false, err
			}
			if ok {
				continue
			}
		}
		return false, nil
	}
	for _, in := range ins {
		if _, err := s.exec(ctx, tx, in.stmt(s.d.query(), "")); err != nil {
			return false, err
		}
	}
	if err := s.insertEvents(ctx, tx, evs); err != nil {
		return false, fmt.Errorf("events: %w", err)
	}
	return true, nil
}

// applyOne runs a step of several UPDATEs as one PostgreSQL statement: its
// first WITH queries lock the rows that match their conditions, and the
// UPDATEs run only if each found its row. A statement is atomic, so it
// needs no transaction: one round trip instead of one per UPDATE plus
// BEGIN and COMMIT. Its INSERTs are WITH queries too, that insert only if
// each UPDATE found its row; so are its events, all in one INSERT (the
// order in which the WITH queries run is not defined, and the events' ids
// must follow their order).
func (s *Store) applyOne(ctx context.Context, db rowQuerier, ups []update, ins []insert, evs []eventRow) (bool, error) {
	// The rows are locked in the order of ups, as in applyTx, so that the
	// two never deadlock each other: AND evaluates its terms in order, and
	// stops at the first false one.
	q := s.d.query().w("WITH ")
	var checks []string
	for i, u := range ups {
		l := fmt.Sprintf("l%d", i)
		q.w(l, " AS (SELECT id FROM ", u.table, " WHERE ")
		u.where(q)
		q.w(" FOR NO KEY UPDATE), ")
		if u.any {
			checks = append(checks, "(SELECT COUNT(*) FROM "+l+") >= 0")
		} else {
			checks = append(checks, "(SELECT COUNT(*) FROM "+l+") = 1")
		}
	}
	q.w("ok AS (SELECT ", strings.Join(checks, " AND "), " AS v)")
	for i, u := range ups {
		q.w(fmt.Sprintf(", u%d AS (", i))
		u.set(q)
		q.w(" WHERE ")
		u.where(q)
		q.w(" AND (SELECT v FROM ok) RETURNING 1)")
	}
	for i, in := range ins {
		q.w(fmt.Sprintf(", i%d AS (", i))
		in.stmt(q, "(SELECT v FROM ok)")
		q.w(")")
	}
	if len(evs) > 0 {
		q.w(", evi AS (")
		s.eventInsert(q, evs, "(SELECT v FROM ok)")
		q.w(")")
	}
	q.w(" SELECT (SELECT v FROM ok)")
	for i := range ups {
		q.w(fmt.Sprintf(", (SELECT COUNT(*) FROM u%d)", i))
	}
	dest := make([]any, 1+len(ups))
	var ok bool
	dest[0] = &ok
	counts := make([]int64, len(ups))
	for i := range counts {
		dest[1+i] = &counts[i]
	}
	if err := db.QueryRowContext(ctx, q.String(), q.args...).Scan(dest...); err != nil {
		return false, err
	}
	if ok {
		for i, u := range ups {
			if !u.any && counts[i] != 1 {
				// Cannot happen: the rows were locked and checked.
				return false, fmt.Errorf("%s: %d rows updated after the check", u.table, counts[i])
			}
		}
	}
	return ok, nil
}

// rowQuerier is a *sql.DB or a *sql.Tx.
type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *Store) exec(ctx context.Context, db execer, q *query) (int64, error) {
	res, err := db.ExecContext(ctx, q.String(), q.args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// matches tells whether the row of an UPDATE that MySQL reported unchanged
// matches its condition, and locks it.
func (s *Store) matches(ctx context.Context, tx *sql.Tx, u update) (bool, error) {
	q := s.d.query().w("SELECT id FROM ", s.d.byID(u.table), " WHERE ")
	u.where(q)
	q.w(" FOR UPDATE")
	rows, err := tx.QueryContext(ctx, q.String(), q.args...)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
	}
	if err := rows.Err(); err != nil {
		return false, err
	}
	return n == 1, nil
}

// buildStep validates a step and builds its UPDATEs, in the order they run,
// and the INSERTs of its send record.
func (s *Store) buildStep(st wasend.Step) ([]update, []insert, error) {
	if st.Job == nil && st.Message == nil && st.Context == nil && st.Receipt == nil {
		return nil, nil, badStep("no transition")
	}
	now := s.clock(time.Time{})
	at := func(t time.Time) time.Time {
		if t.IsZero() {
			return now
		}
		return norm(t)
	}
	var ups []update
	if t := st.Job; t != nil {
		u, err := s.jobUpdate(t, at(t.At))
		if err != nil {
			return nil, nil, err
		}
		ups = append(ups, u)
	}
	if t := st.Message; t != nil {
		u, err := s.messageUpdate(t, at(t.At))
		if err != nil {
			return nil, nil, err
		}
		ups = append(ups, u)
	}
	if t := st.Job; t != nil && (t.PendingMessagesTo != "" || t.UnconfirmedMessagesTo != "") {
		ups = append(ups, s.jobMessagesUpdate(t, at(t.At)))
	}
	if t := st.Receipt; t != nil {
		u, err := s.receiptUpdate(t, at(t.At))
		if err != nil {
			return nil, nil, err
		}
		ups = append(ups, u)
	}
	if t := st.Context; t != nil {
		u, err := s.contextUpdate(t, at(t.At))
		if err != nil {
			return nil, nil, err
		}
		ups = append(ups, u)
	}
	if phones := st.Unsuppressed; len(phones) > 0 {
		// The step's first UPDATE carries the condition (each step has one
		// that must match a row): it matches nothing for a suppressed
		// number, so the step does not apply.
		if len(phones) > wasend.MaxUnsuppressed {
			return nil, nil, badStep("%d numbers in Unsuppressed, more than %d", len(phones), wasend.MaxUnsuppressed)
		}
		where := ups[0].where
		ups[0].where = func(q *query) {
			where(q)
			notSuppressed(q, phones)
		}
	}
	var ins []insert
	if r := st.Send; r != nil {
		var err error
		if ins, err = s.sendInserts(r, at(r.At)); err != nil {
			return nil, nil, err
		}
	}
	return ups, ins, nil
}

func (s *Store) jobUpdate(t *wasend.JobTransition, at time.Time) (update, error) {
	if t.ID <= 0 {
		return update{}, badStep("job id %d", t.ID)
	}
	if len(t.From) == 0 {
		return update{}, badStep("job transition to %q with no From", t.To)
	}
	from := make([]any, len(t.From))
	for i, f := range t.From {
		id, ok := jobStatusID(f)
		if !ok {
			return update{}, badStep("job status %q", f)
		}
		from[i] = id
	}
	to, ok := jobStatusID(t.To)
	if !ok {
		return update{}, badStep("job status %q", t.To)
	}
	switch {
	case t.To == wasend.JobRunning && t.Claim == "":
		return update{}, badStep("job change to running with no claim")
	case len(t.Claim) > MaxClaimLength || len(t.IfClaim) > MaxClaimLength:
		return update{}, badStep("claim longer than %d bytes", MaxClaimLength)
	case len(t.ErrorKind) > MaxErrorKindLength:
		return update{}, badStep("error kind longer than %d bytes", MaxErrorKindLength)
	case t.ErrorKind != "" && t.ClearError:
		return update{}, badStep("job transition both sets and clears the error")
	case t.PendingMessagesTo != "" && !t.PendingMessagesTo.Valid():
		return update{}, badStep("message status %q", t.PendingMessagesTo)
	case t.UnconfirmedMessagesTo != "" && !t.UnconfirmedMessagesTo.Valid():
		return update{}, badStep("message status %q", t.UnconfirmedMessagesTo)
	case !t.Wait.Valid():
		return update{}, badStep("wait reason %q", t.Wait)
	}
	set := func(q *query) {
		q.w("UPDATE ", s.d.byID("send_messages_jobs"), " SET send_messages_jobs_status_id = ").a(to)
		ts := q.shared(s.d.timeArg(at))
		q.w(", updated_at = ", ts())
		if t.To == wasend.JobRunning {
			q.w(", claim = ").a(t.Claim)
			q.w(", started_at = COALESCE(started_at, ", ts(), ")")
		} else {
			q.w(", claim = NULL")
		}
		if t.To.Final() {
			q.w(", finished_at = ", ts())
		} else {
			q.w(", finished_at = NULL")
		}
		q.w(", version = version + 1")
		// Every change stores the wait reason: one without it clears it.
		q.w(", wait_reason = ").a(nullString(string(t.Wait)))
		if t.AddAttempt {
			q.w(", attempts = attempts + 1")
		}
		if !t.NextRunAt.IsZero() {
			q.w(", next_run_at = ").a(s.d.timeArg(t.NextRunAt))
		}
		if !t.EnqueuedAt.IsZero() {
			q.w(", enqueued_at = ").a(s.d.timeArg(t.EnqueuedAt))
		}
		writeError(q, t.ErrorKind, t.Error, t.ClearError)
	}
	where := func(q *query) {
		q.w("id = ").a(t.ID).w(" AND ").in(s.d.filterOnly("send_messages_jobs_status_id"), from)
		if t.IfClaim != "" {
			q.w(" AND claim = ").a(t.IfClaim)
		}
		if t.IfVersion != 0 {
			q.w(" AND version = ").a(t.IfVersion)
		}
	}
	return update{table: "send_messages_jobs", set: set, where: where}, nil
}

// writeError writes the SET of a transition's error columns.
func writeError(q *query, kind wasend.ErrorKind, msg string, clear bool) {
	switch {
	case kind != "":
		q.w(", error_kind = ").a(string(kind))
		q.w(", error_message = ").a(nullString(cleanText(msg, MaxErrorLength)))
	case clear:
		q.w(", error_kind = NULL, error_message = NULL")
	}
}

func (s *Store) messageUpdate(t *wasend.MessageTransition, at time.Time) (update, error) {
	if t.ID <= 0 {
		return update{}, badStep("message id %d", t.ID)
	}
	if len(t.From) == 0 {
		return update{}, badStep("message transition to %q with no From", t.To)
	}
	from := make([]any, len(t.From))
	for i, f := range t.From {
		if !f.Valid() {
			return update{}, badStep("message status %q", f)
		}
		from[i] = string(f)
	}
	switch {
	case !t.To.Valid():
		return update{}, badStep("message status %q", t.To)
	case len(t.ErrorKind) > MaxErrorKindLength:
		return update{}, badStep("error kind longer than %d bytes", MaxErrorKindLength)
	case t.ErrorKind != "" && t.ClearError:
		return update{}, badStep("message transition both sets and clears the error")
	case len(t.Mark) > MaxGuardMarkLength:
		return update{}, badStep("mark longer than %d bytes", MaxGuardMarkLength)
	case !utf8.ValidString(t.Mark) || strings.IndexByte(t.Mark, 0) >= 0:
		// A mark is compared, not read: one cut or repaired would
		// describe another chat.
		return update{}, badStep("mark not UTF-8 text")
	}
	set := func(q *query) {
		q.w("UPDATE ", s.d.byID("send_messages_jobs_messages"), " SET status = ").a(string(t.To))
		ts := q.shared(s.d.timeArg(at))
		q.w(", updated_at = ", ts())
		if t.AddAttempt {
			q.w(", attempts = attempts + 1")
		}
		// ClearGuard applies first: with it, StartAttempt, Mark and
		// AddLookup start the guard afresh.
		switch {
		case t.StartAttempt && t.ClearGuard:
			q.w(", attempted_at = ", ts(), ", guard_since = ", ts())
		case t.StartAttempt:
			q.w(", attempted_at = ", ts(), ", guard_since = COALESCE(guard_since, ", ts(), ")")
		case t.ClearGuard:
			q.w(", guard_since = NULL")
		}
		switch {
		case t.Mark != "" && t.ClearGuard:
			q.w(", guard_mark = ").a(t.Mark)
		case t.Mark != "":
			q.w(", guard_mark = COALESCE(guard_mark, ").a(t.Mark).w(")")
		case t.ClearGuard:
			q.w(", guard_mark = NULL")
		}
		switch {
		case t.AddLookup && t.ClearGuard:
			q.w(", lookups = 1")
		case t.AddLookup:
			q.w(", lookups = lookups + 1")
		case t.ClearGuard:
			q.w(", lookups = 0")
		}
		if t.To == wasend.MessageSent {
			if t.SentAt.IsZero() {
				q.w(", sent_at = ", ts())
			} else {
				q.w(", sent_at = ").a(s.d.timeArg(t.SentAt))
			}
			q.w(", wa_message_id = ").a(nullString(cleanText(t.WAMessageID, MaxWAMessageIDLength)))
		}
		writeError(q, t.ErrorKind, t.Error, t.ClearError)
	}
	where := func(q *query) {
		q.w("id = ").a(t.ID).w(" AND ").in("status", from)
	}
	return update{table: "send_messages_jobs_messages", set: set, where: where}, nil
}

// jobMessagesUpdate moves a job's pending messages (PendingMessagesTo) and
// unconfirmed messages (UnconfirmedMessagesTo) in one UPDATE, so that both
// read the statuses as they were: a message that one of them moves is not
// moved again by the other. It changes status and updated_at only.
func (s *Store) jobMessagesUpdate(t *wasend.JobTransition, at time.Time) update {
	var whens [][2]wasend.MessageStatus // from, to
	if t.PendingMessagesTo != "" {
		whens = append(whens, [2]wasend.MessageStatus{wasend.MessagePending, t.PendingMessagesTo})
	}
	if t.UnconfirmedMessagesTo != "" {
		whens = append(whens, [2]wasend.MessageStatus{wasend.MessageUnconfirmed, t.UnconfirmedMessagesTo})
	}
	set := func(q *query) {
		q.w("UPDATE send_messages_jobs_messages SET status = ")
		if len(whens) == 1 {
			q.a(string(whens[0][1]))
		} else {
			q.w("CASE status")
			for _, w := range whens {
				q.w(" WHEN ").a(string(w[0])).w(" THEN ").a(string(w[1]))
			}
			q.w(" END")
		}
		q.w(", updated_at = ").a(s.d.timeArg(at))
	}
	where := func(q *query) {
		from := make([]any, len(whens))
		for i, w := range whens {
			from[i] = string(w[0])
		}
		q.w("send_messages_job_id = ").a(t.ID).w(" AND ").in("status", from)
	}
	return update{table: "send_messages_jobs_messages", set: set, where: where, any: true}
}

func (s *Store) contextUpdate(t *wasend.ContextTransition, at time.Time) (update, error) {
	if t.ID <= 0 {
		return update{}, badStep("context id %d", t.ID)
	}
	if len(t.From) == 0 {
		return update{}, badStep("context transition to %q with no From", t.To)
	}
	from := make([]any, len(t.From))
	for i, f := range t.From {
		id, ok := contextStatusID(f)
		if !ok {
			return update{}, badStep("context status %q", f)
		}
		from[i] = id
	}
	to, ok := contextStatusID(t.To)
	if !ok {
		return update{}, badStep("context status %q", t.To)
	}
	if r := t.Restriction; r != nil && !r.Kind.Valid() {
		return update{}, badStep("restriction kind %q", r.Kind)
	}
	if a := t.Account; a != nil && (!utf8.ValidString(*a) || strings.IndexByte(*a, 0) >= 0 || utf8.RuneCountInString(*a) > MaxPhoneLength) {
		return update{}, badStep("account not UTF-8 text of at most %d characters", MaxPhoneLength)
	}
	set := func(q *query) {
		q.w("UPDATE ", s.d.byID("browser_context"), " SET browser_context_status_id = ").a(to)
		ts := q.shared(s.d.timeArg(at))
		q.w(", updated_at = ", ts())
		if r := t.Restriction; r != nil {
			q.w(", restriction_kind = ").a(nullString(string(r.Kind)))
			q.w(", restricted_until = ").a(s.d.nullTimeArg(r.Until))
			q.w(", restriction_reason = ").a(nullString(cleanText(r.Reason, MaxErrorLength)))
		}
		if t.LoggedIn {
			q.w(", first_login_at = COALESCE(first_login_at, ", ts(), ")")
		}
		if t.Account != nil {
			q.w(", account = ").a(nullString(*t.Account))
		}
	}
	where := func(q *query) {
		q.w("id = ").a(t.ID).w(" AND ").in("browser_context_status_id", from)
	}
	return update{table: "browser_context", set: set, where: where}, nil
}
