package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/wasend/wasend"
)

// MaxLedgerHashLength is the longest recipient or text hash of a send
// ledger entry (wasend.SendRecord), in bytes; a longer one is refused
// (ErrInvalidStep). wasend.HashRecipient and HashText give 32.
const MaxLedgerHashLength = 64

// insert is an INSERT of one row that a step makes when its UPDATEs apply.
type insert struct {
	table string
	// cols are the columns, vals their values, and types their PostgreSQL
	// types (the casts of applyOne's INSERT ... SELECT).
	cols  []string
	vals  []any
	types []string
	// ignore: a row whose key exists already is left as it is.
	ignore bool
}

// stmt builds the INSERT. cond, when not empty, is a condition that the
// row is inserted on (INSERT ... SELECT ... WHERE cond): PostgreSQL only,
// where applyOne uses it.
func (in insert) stmt(q *query, cond string) *query {
	switch {
	case in.ignore && q.d.name == MySQL:
		q.w("INSERT IGNORE INTO ")
	case in.ignore && q.d.name == SQLite:
		q.w("INSERT OR IGNORE INTO ")
	default:
		q.w("INSERT INTO ")
	}
	q.w(in.table, " (")
	for i, c := range in.cols {
		if i > 0 {
			q.w(", ")
		}
		q.w(c)
	}
	if q.d.name == Postgres {
		q.w(") SELECT ")
	} else {
		q.w(") VALUES (")
	}
	for i, v := range in.vals {
		if i > 0 {
			q.w(", ")
		}
		q.a(v)
		if q.d.name == Postgres {
			q.w("::", in.types[i])
		}
	}
	if q.d.name != Postgres {
		q.w(")")
	}
	if cond != "" {
		q.w(" WHERE ", cond)
	}
	if in.ignore && q.d.name == Postgres {
		q.w(" ON CONFLICT DO NOTHING")
	}
	return q
}

// sendInserts validates a step's send record and builds its INSERTs: the
// ledger entry, and the contact unless the context has it already.
func (s *Store) sendInserts(r *wasend.SendRecord, at time.Time) ([]insert, error) {
	if r == nil {
		return nil, nil
	}
	switch {
	case r.ContextID <= 0:
		return nil, badStep("send record of context %d", r.ContextID)
	case r.Recipient == "":
		return nil, badStep("send record without a recipient")
	case len(r.Recipient) > MaxLedgerHashLength || len(r.TextHash) > MaxLedgerHashLength:
		return nil, badStep("send record hash longer than %d bytes", MaxLedgerHashLength)
	}
	ts := s.d.timeArg(at)
	return []insert{{
		table: "browser_context_sends",
		cols:  []string{"browser_context_id", "sent_at", "recipient_hash", "text_hash", "new_contact"},
		vals:  []any{r.ContextID, ts, r.Recipient, nullString(r.TextHash), r.NewContact},
		types: []string{"bigint", "timestamptz", "varchar", "varchar", "boolean"},
	}, {
		table:  "browser_context_contacts",
		cols:   []string{"browser_context_id", "recipient_hash", "first_sent_at"},
		vals:   []any{r.ContextID, r.Recipient, ts},
		types:  []string{"bigint", "varchar", "timestamptz"},
		ignore: true,
	}}, nil
}

// Sends implements wasend.Store: the ledger entries of a context at or
// after since, oldest first (by sent_at, then by id). A zero since reads
// them all.
func (s *Store) Sends(ctx context.Context, contextID int64, since time.Time) ([]wasend.SendRecord, error) {
	q := s.d.query().w("SELECT sent_at, recipient_hash, text_hash, new_contact FROM browser_context_sends WHERE browser_context_id = ").a(contextID)
	if !since.IsZero() {
		q.w(" AND sent_at >= ").a(s.d.timeArg(since))
	}
	q.w(" ORDER BY sent_at, id")
	rows, err := s.db.QueryContext(ctx, q.String(), q.args...)
	if err != nil {
		return nil, fail(ctx, "sends", err)
	}
	defer rows.Close()
	var list []wasend.SendRecord
	for rows.Next() {
		r := wasend.SendRecord{ContextID: contextID}
		var text sql.NullString
		if err := rows.Scan(s.d.scanTime(&r.At), &r.Recipient, &text, &r.NewContact); err != nil {
			return nil, fail(ctx, "sends", err)
		}
		r.TextHash = text.String
		list = append(list, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fail(ctx, "sends", err)
	}
	return list, nil
}

// Contacted implements wasend.Store.
func (s *Store) Contacted(ctx context.Context, contextID int64, recipient string) (bool, error) {
	q := s.d.query().w("SELECT COUNT(*) FROM browser_context_contacts WHERE browser_context_id = ").a(contextID)
	q.w(" AND recipient_hash = ").a(recipient)
	var n int
	if err := s.db.QueryRowContext(ctx, q.String(), q.args...).Scan(&n); err != nil {
		return false, fail(ctx, "contacted", err)
	}
	return n > 0, nil
}

// PruneSends implements wasend.Store. It deletes the ledger entries of
// every context with a sent_at before the given time; the contacts stay.
// A zero time deletes nothing.
func (s *Store) PruneSends(ctx context.Context, before time.Time) (int64, error) {
	if before.IsZero() {
		return 0, nil
	}
	q := s.d.query().w("DELETE FROM browser_context_sends WHERE sent_at < ").a(s.d.timeArg(before))
	n, err := s.exec(ctx, s.db, q)
	if err != nil {
		return 0, fail(ctx, "prune sends", err)
	}
	return n, nil
}

// contactsChunk is how many recipients one query of Contacts names, well
// under every dialect's limit of placeholders.
const contactsChunk = 500

// Contacts implements wasend.CampaignStore: one indexed query per chunk of
// recipients.
func (s *Store) Contacts(ctx context.Context, contextIDs []int64, recipients []string) ([]wasend.Contact, error) {
	if len(contextIDs) == 0 || len(recipients) == 0 {
		return nil, nil
	}
	ids := make([]any, len(contextIDs))
	for i, id := range contextIDs {
		ids[i] = id
	}
	var out []wasend.Contact
	for start := 0; start < len(recipients); start += contactsChunk {
		chunk := recipients[start:min(start+contactsChunk, len(recipients))]
		rs := make([]any, len(chunk))
		for i, r := range chunk {
			rs[i] = r
		}
		q := s.d.query().w("SELECT browser_context_id, recipient_hash FROM browser_context_contacts WHERE ")
		q.in("browser_context_id", ids).w(" AND ").in("recipient_hash", rs)
		rows, err := s.db.QueryContext(ctx, q.String(), q.args...)
		if err != nil {
			return nil, fail(ctx, "contacts", err)
		}
		for rows.Next() {
			var c wasend.Contact
			if err := rows.Scan(&c.ContextID, &c.Recipient); err != nil {
				_ = rows.Close()
				return nil, fail(ctx, "contacts", err)
			}
			out = append(out, c)
		}
		err = rows.Err()
		_ = rows.Close()
		if err != nil {
			return nil, fail(ctx, "contacts", err)
		}
	}
	return out, nil
}
