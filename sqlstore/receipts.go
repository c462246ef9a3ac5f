package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/wasend/wasend"
)

var _ wasend.ReceiptStore = (*Store)(nil)

// receiptUpdate validates a step's receipt and builds its UPDATE of the
// message: delivered_at for an Ack of delivered or later, read_at (and
// delivered_at: a read message was delivered) for read or played, and
// undelivered_at for Undelivered, each unless it is set. Its condition is
// that the message is sent and that one of those columns is NULL, so that
// an ack the store has already makes the step not apply. A receipt that
// names no column (an Ack below delivered, without Undelivered) never
// applies: the store has it, since the message is sent.
func (s *Store) receiptUpdate(t *wasend.ReceiptTransition, at time.Time) (update, error) {
	if t.MessageID <= 0 {
		return update{}, badStep("receipt of message %d", t.MessageID)
	}
	if t.Ack < wasend.AckNone || t.Ack > wasend.AckPlayed {
		return update{}, badStep("ack %s", t.Ack)
	}
	var cols []string
	if t.Ack >= wasend.AckDelivered {
		cols = append(cols, "delivered_at")
	}
	if t.Ack >= wasend.AckRead {
		cols = append(cols, "read_at")
	}
	if t.Undelivered {
		cols = append(cols, "undelivered_at")
	}
	set := func(q *query) {
		q.w("UPDATE ", s.d.byID("send_messages_jobs_messages"), " SET ")
		ts := q.shared(s.d.timeArg(at))
		q.w("updated_at = ", ts())
		for _, c := range cols {
			q.w(", ", c, " = COALESCE(", c, ", ", ts(), ")")
		}
	}
	where := func(q *query) {
		q.w("id = ").a(t.MessageID).w(" AND status = ").a(string(wasend.MessageSent)).w(" AND (")
		if len(cols) == 0 {
			q.w("1 = 0")
		}
		for i, c := range cols {
			if i > 0 {
				q.w(" OR ")
			}
			q.w(c, " IS NULL")
		}
		q.w(")")
	}
	return update{table: "send_messages_jobs_messages", set: set, where: where}, nil
}

// Unread implements wasend.ReceiptStore: the sent messages of a context
// that are not read, by id, with their jobs' ids. It reads one range of
// the index on (browser_context_id, sent_at) of the sent messages not
// read (partial on PostgreSQL and SQLite; on MySQL (browser_context_id,
// read_at, sent_at), which the statement forces), and sorts what
// it found by id: a SentAfter bounds the range, so the statement's cost is
// that of the messages the context sent since then, not of its history.
// A ContextID that is not positive, or a negative Limit, gives
// ErrInvalidInput wrapping wasend.ErrInvalidFilter.
func (s *Store) Unread(ctx context.Context, f wasend.ReceiptFilter) ([]wasend.Message, error) {
	q, err := s.unreadQuery(f)
	if err != nil {
		return nil, err
	}
	var list []wasend.Message
	var mr messageRow
	var jobID int64
	dest := append(s.messageDest(&mr), &jobID)
	err = queryRows(ctx, s.db, q, func(rows *sql.Rows) error {
		mr = messageRow{}
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		list = append(list, mr.message(jobID))
		return nil
	})
	if err != nil {
		return nil, fail(ctx, "unread", err)
	}
	return list, nil
}

// unreadQuery validates a filter and builds Unread's statement.
func (s *Store) unreadQuery(f wasend.ReceiptFilter) (*query, error) {
	if f.ContextID <= 0 {
		return nil, badFilter("receipt filter: context id %d", f.ContextID)
	}
	if f.Limit < 0 {
		return nil, badFilter("negative limit")
	}
	if f.Limit == 0 {
		f.Limit = wasend.DefaultJobsLimit
	}
	table := "send_messages_jobs_messages m"
	if s.d.name == MySQL {
		// The ordering by id could make MySQL walk the primary key.
		table += " FORCE INDEX (send_messages_jobs_messages_unread_idx)"
	}
	// The conditions of the partial index are written out, never bound:
	// a planner uses the index only for a query that implies them as
	// written. A message is sent once it has a sent_at; the status is
	// checked too.
	q := s.d.query().w("SELECT ", messageColumns, ", m.send_messages_job_id FROM ", table,
		" WHERE m.browser_context_id = ").a(f.ContextID).w(" AND m.sent_at IS NOT NULL AND m.read_at IS NULL AND m.status = 'sent'")
	if !f.SentAfter.IsZero() {
		q.w(" AND m.sent_at >= ").a(s.d.timeArg(f.SentAfter))
	}
	if !f.SentBefore.IsZero() {
		q.w(" AND m.sent_at < ").a(s.d.timeArg(f.SentBefore))
	}
	if f.Undelivered {
		q.w(" AND m.delivered_at IS NULL AND m.undelivered_at IS NULL")
	}
	if f.AfterID != 0 {
		q.w(" AND ", s.d.filterOnly("m.id"), " > ").a(f.AfterID)
	}
	// On PostgreSQL the order is by an expression, so that the primary key
	// cannot serve it: the plan reads the context's range and sorts it.
	q.w(" ORDER BY ", s.d.filterOnly("m.id"), " LIMIT ").a(int64(f.Limit))
	return q, nil
}
