package sqlstore

import (
	"context"
	"time"

	"github.com/wasend/wasend"
)

// Counts implements wasend.Store. It counts jobs by browser context, kind
// and status, messages by browser context and status, and, in the same
// scan of the messages, the receipts by browser context (Receipts: the
// messages with delivered_at, read_at and undelivered_at set); groups with
// no row, and contexts with no receipt, are left out.
func (s *Store) Counts(ctx context.Context) (wasend.StoreCounts, error) {
	var c wasend.StoreCounts
	rows, err := s.db.QueryContext(ctx, "SELECT browser_context_id, kind, send_messages_jobs_status_id, COUNT(*) "+
		"FROM send_messages_jobs GROUP BY browser_context_id, kind, send_messages_jobs_status_id "+
		"ORDER BY browser_context_id, kind, send_messages_jobs_status_id")
	if err != nil {
		return c, fail(ctx, "counts", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			jc   wasend.JobCount
			kind string
			sid  int64
		)
		if err := rows.Scan(&jc.ContextID, &kind, &sid, &jc.N); err != nil {
			return c, fail(ctx, "counts", err)
		}
		if jc.Status, err = jobStatusOf(sid); err != nil {
			return c, fail(ctx, "counts", err)
		}
		jc.Kind = wasend.JobKind(kind)
		c.Jobs = append(c.Jobs, jc)
	}
	if err := rows.Err(); err != nil {
		return c, fail(ctx, "counts", err)
	}
	rows.Close()
	rows, err = s.db.QueryContext(ctx, "SELECT j.browser_context_id, m.status, COUNT(*), COUNT(m.delivered_at), COUNT(m.read_at), COUNT(m.undelivered_at) "+
		"FROM send_messages_jobs_messages m JOIN send_messages_jobs j ON j.id = m.send_messages_job_id "+
		"GROUP BY j.browser_context_id, m.status ORDER BY j.browser_context_id, m.status")
	if err != nil {
		return c, fail(ctx, "counts", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			mc wasend.MessageCount
			rc wasend.ReceiptCount
			st string
		)
		if err := rows.Scan(&mc.ContextID, &st, &mc.N, &rc.Delivered, &rc.Read, &rc.Undelivered); err != nil {
			return c, fail(ctx, "counts", err)
		}
		mc.Status = wasend.MessageStatus(st)
		c.Messages = append(c.Messages, mc)
		if rc.Delivered == 0 && rc.Read == 0 && rc.Undelivered == 0 {
			continue
		}
		// The rows come by context: add this status's receipts to the
		// context's.
		if n := len(c.Receipts); n > 0 && c.Receipts[n-1].ContextID == mc.ContextID {
			r := &c.Receipts[n-1]
			r.Delivered, r.Read, r.Undelivered = r.Delivered+rc.Delivered, r.Read+rc.Read, r.Undelivered+rc.Undelivered
		} else {
			rc.ContextID = mc.ContextID
			c.Receipts = append(c.Receipts, rc)
		}
	}
	if err := rows.Err(); err != nil {
		return c, fail(ctx, "counts", err)
	}
	return c, nil
}

// Clean implements wasend.Store. In one transaction it deletes the messages
// and then the jobs that are completed, failed or cancelled with a
// finished_at before finishedBefore; it does not rely on the foreign key's
// ON DELETE CASCADE, which SQLite applies only with foreign_keys on. Then
// it deletes the campaigns left with no job. A zero time deletes nothing.
func (s *Store) Clean(ctx context.Context, finishedBefore time.Time) (int64, error) {
	if finishedBefore.IsZero() {
		return 0, nil
	}
	final := []any{}
	for _, st := range wasend.JobStatuses() {
		if st.Final() {
			id, _ := jobStatusID(st)
			final = append(final, id)
		}
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fail(ctx, "clean", err)
	}
	defer rollback(tx)
	cond := func(q *query) {
		q.in("send_messages_jobs_status_id", final).w(" AND finished_at < ").a(s.d.timeArg(finishedBefore))
	}
	q := s.d.query().w("DELETE FROM send_messages_jobs_messages WHERE send_messages_job_id IN (SELECT id FROM send_messages_jobs WHERE ")
	cond(q)
	q.w(")")
	if _, err := s.exec(ctx, tx, q); err != nil {
		return 0, fail(ctx, "clean", err)
	}
	q = s.d.query().w("DELETE FROM send_messages_jobs WHERE ")
	cond(q)
	n, err := s.exec(ctx, tx, q)
	if err != nil {
		return 0, fail(ctx, "clean", err)
	}
	// Then the campaigns left with no job, after their jobs, so that the
	// foreign key from the jobs never refuses the DELETE. A campaign that
	// another transaction is creating is not committed, so not seen.
	q = s.d.query().w("DELETE FROM send_campaigns WHERE NOT EXISTS (SELECT 1 FROM send_messages_jobs j WHERE j.campaign_id = send_campaigns.id)")
	if _, err := s.exec(ctx, tx, q); err != nil {
		return 0, fail(ctx, "clean: campaigns", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fail(ctx, "clean: commit", err)
	}
	return n, nil
}
