package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/wasend/wasend"
)

var _ wasend.NumberStore = (*Store)(nil)

// numbersChunk is how many answers one upsert of CacheNumbers writes.
const numbersChunk = 500

// CacheNumbers implements wasend.NumberStore. It upserts the answers by
// number, several to a statement (INSERT ... ON CONFLICT DO UPDATE, or ON
// DUPLICATE KEY UPDATE), on the condition that the stored answer was not
// checked later: an answer that arrives late never replaces a newer one.
// Of several answers for one number in infos, the one checked last (the
// last given, for equal times) counts. A zero CheckedAt is now. A Phone or
// a Canonical that a phone column cannot hold (Phone empty, not UTF-8
// text, longer than MaxPhoneLength characters) gives ErrInvalidInput
// wrapping wasend.ErrInvalidPhone, a negative ContextID ErrInvalidInput;
// either stores nothing. Cached is not stored.
func (s *Store) CacheNumbers(ctx context.Context, infos []wasend.NumberInfo) error {
	now := s.clock(time.Time{})
	var order []string
	byPhone := make(map[string]wasend.NumberInfo, len(infos))
	for i, in := range infos {
		switch {
		case !validPhone(in.Phone):
			return badPhone("number %d: phone number not UTF-8 text of 1 to %d characters", i, MaxPhoneLength)
		case in.Canonical != "" && !validPhone(in.Canonical):
			return badPhone("number %d: canonical number not UTF-8 text of at most %d characters", i, MaxPhoneLength)
		case in.ContextID < 0:
			return invalid("number %d: context id %d", i, in.ContextID)
		}
		in.CheckedAt = norm(in.CheckedAt)
		if in.CheckedAt.IsZero() {
			in.CheckedAt = now
		}
		old, seen := byPhone[in.Phone]
		if !seen {
			order = append(order, in.Phone)
		}
		if !seen || !in.CheckedAt.Before(old.CheckedAt) {
			byPhone[in.Phone] = in
		}
	}
	if len(order) == 0 {
		return nil
	}
	var db execer = s.db
	if len(order) > numbersChunk {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return fail(ctx, "cache numbers", err)
		}
		defer rollback(tx)
		db = tx
	}
	for start := 0; start < len(order); start += numbersChunk {
		q := s.d.query().w("INSERT INTO send_number_checks (phone, on_whatsapp, canonical, context_id, checked_at) VALUES ")
		for i, p := range order[start:min(start+numbersChunk, len(order))] {
			in := byPhone[p]
			if i > 0 {
				q.w(", ")
			}
			q.w("(").a(in.Phone).w(", ").a(in.OnWhatsApp).w(", ").a(nullString(in.Canonical)).w(", ").a(nullID(in.ContextID))
			q.w(", ").a(s.d.timeArg(in.CheckedAt)).w(")")
		}
		switch s.d.name {
		case MySQL:
			// Each assignment sees those before it: checked_at comes last.
			newer := "VALUES(checked_at) >= checked_at"
			q.w(" ON DUPLICATE KEY UPDATE")
			for i, c := range []string{"on_whatsapp", "canonical", "context_id", "checked_at"} {
				if i > 0 {
					q.w(",")
				}
				q.w(" ", c, " = IF(", newer, ", VALUES(", c, "), ", c, ")")
			}
		default:
			q.w(" ON CONFLICT (phone) DO UPDATE SET on_whatsapp = excluded.on_whatsapp, canonical = excluded.canonical, ",
				"context_id = excluded.context_id, checked_at = excluded.checked_at ",
				"WHERE send_number_checks.checked_at <= excluded.checked_at")
		}
		if _, err := s.exec(ctx, db, q); err != nil {
			return fail(ctx, "cache numbers", err)
		}
	}
	if tx, ok := db.(*sql.Tx); ok {
		if err := tx.Commit(); err != nil {
			return fail(ctx, "cache numbers: commit", err)
		}
	}
	return nil
}

// CachedNumbers implements wasend.NumberStore: one query by primary key
// per chunk of numbers, each number asked once; a zero since reads every
// answer. The answers come with Cached set. A number that no phone column
// can hold is absent. The map is never nil.
func (s *Store) CachedNumbers(ctx context.Context, phones []string, since time.Time) (map[string]wasend.NumberInfo, error) {
	out := map[string]wasend.NumberInfo{}
	var tail func(q *query)
	if !since.IsZero() {
		tail = func(q *query) { q.w(" AND checked_at >= ").a(s.d.timeArg(since)) }
	}
	err := s.byPhones(ctx, phones, "SELECT phone, on_whatsapp, canonical, context_id, checked_at FROM send_number_checks WHERE ", tail,
		func(rows *sql.Rows) error {
			var (
				in        wasend.NumberInfo
				phone     []byte
				canonical sql.NullString
				bc        sql.NullInt64
			)
			if err := rows.Scan(&phone, &in.OnWhatsApp, &canonical, &bc, s.d.scanTime(&in.CheckedAt)); err != nil {
				return err
			}
			in.Phone, in.Canonical, in.ContextID, in.Cached = string(phone), canonical.String, bc.Int64, true
			out[in.Phone] = in
			return nil
		})
	if err != nil {
		return nil, fail(ctx, "cached numbers", err)
	}
	return out, nil
}

// PruneNumbers deletes the answers checked before the given time, and
// returns how many it deleted. A zero time deletes nothing. Clean never
// deletes them; CachedNumbers ignores old answers anyway (its since), so
// pruning only keeps the table small.
func (s *Store) PruneNumbers(ctx context.Context, before time.Time) (int64, error) {
	if before.IsZero() {
		return 0, nil
	}
	q := s.d.query().w("DELETE FROM send_number_checks WHERE checked_at < ").a(s.d.timeArg(before))
	n, err := s.exec(ctx, s.db, q)
	if err != nil {
		return 0, fail(ctx, "prune numbers", err)
	}
	return n, nil
}
