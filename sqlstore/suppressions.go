package sqlstore

import (
	"context"
	"database/sql"
	"strings"
	"unicode/utf8"

	"github.com/wasend/wasend"
)

var _ wasend.SuppressionStore = (*Store)(nil)

// MaxReasonLength is the longest reason of a suppression, in bytes; a
// longer one is refused (ErrInvalidInput).
const MaxReasonLength = 64

// phonesChunk is how many numbers one query of Suppressed or CachedNumbers
// names, well under every dialect's limit of placeholders: a list of
// 10,000 numbers is ten indexed queries.
const phonesChunk = 1000

const suppressionColumns = "phone, reason, context_id, created_at"

// Suppress implements wasend.SuppressionStore. It inserts the number
// unless it is there (ON CONFLICT DO NOTHING, INSERT IGNORE, INSERT OR
// IGNORE on the primary key, which decides between concurrent callers:
// one inserts, the others wait for it and insert nothing) and, when it
// inserted it, the events, in the same transaction. A number suppressed
// already keeps its reason, context and time; Suppress then records no
// event and reports false.
//
// Phone must be a phone number of at most MaxPhoneLength characters
// (ErrInvalidInput wrapping wasend.ErrInvalidPhone), the reason UTF-8 text of at most MaxReasonLength bytes (empty is stored as
// NULL) and ContextID 0 or more (ErrInvalidInput). A zero CreatedAt is
// now.
func (s *Store) Suppress(ctx context.Context, sp wasend.Suppression, events []wasend.Event) (bool, error) {
	switch {
	case !validPhone(sp.Phone):
		return false, badPhone("suppression: phone number not UTF-8 text of 1 to %d characters", MaxPhoneLength)
	case len(sp.Reason) > MaxReasonLength || !utf8.ValidString(sp.Reason) || strings.IndexByte(sp.Reason, 0) >= 0:
		return false, invalid("suppression: reason not UTF-8 text of at most %d bytes", MaxReasonLength)
	case sp.ContextID < 0:
		return false, invalid("suppression: context id %d", sp.ContextID)
	}
	evs, err := s.prepareEvents(events, 0, invalid)
	if err != nil {
		return false, err
	}
	in := insert{
		table:  "send_suppressions",
		cols:   []string{"phone", "reason", "context_id", "created_at"},
		vals:   []any{sp.Phone, nullString(sp.Reason), nullID(sp.ContextID), s.d.timeArg(s.clock(sp.CreatedAt))},
		types:  []string{"varchar", "varchar", "bigint", "timestamptz"},
		ignore: true,
	}
	q := in.stmt(s.d.query(), "")
	if len(evs) == 0 {
		n, err := s.exec(ctx, s.db, q)
		if err != nil {
			return false, fail(ctx, "suppress", err)
		}
		return n == 1, nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, fail(ctx, "suppress", err)
	}
	defer rollback(tx)
	n, err := s.exec(ctx, tx, q)
	if err != nil {
		return false, fail(ctx, "suppress", err)
	}
	if n != 1 {
		return false, nil
	}
	if err := s.insertEvents(ctx, tx, evs); err != nil {
		return false, fail(ctx, "suppress: events", err)
	}
	if err := tx.Commit(); err != nil {
		return false, fail(ctx, "suppress: commit", err)
	}
	return true, nil
}

// Unsuppress implements wasend.SuppressionStore.
func (s *Store) Unsuppress(ctx context.Context, phone string) (bool, error) {
	if !validPhone(phone) {
		return false, nil
	}
	q := s.d.query().w("DELETE FROM send_suppressions WHERE phone = ").a(phone)
	n, err := s.exec(ctx, s.db, q)
	if err != nil {
		return false, fail(ctx, "unsuppress", err)
	}
	return n == 1, nil
}

// Suppressed implements wasend.SuppressionStore: one query by primary key
// per chunk of numbers (phonesChunk), each number asked once. A number that
// no phone column can hold (empty, not UTF-8 text, longer than
// MaxPhoneLength characters) is not suppressed, and is not asked. The map
// is never nil.
func (s *Store) Suppressed(ctx context.Context, phones []string) (map[string]wasend.Suppression, error) {
	out := map[string]wasend.Suppression{}
	err := s.byPhones(ctx, phones, "SELECT "+suppressionColumns+" FROM send_suppressions WHERE ", nil, func(rows *sql.Rows) error {
		sp, err := s.scanSuppression(rows)
		out[sp.Phone] = sp
		return err
	})
	if err != nil {
		return nil, fail(ctx, "suppressed", err)
	}
	return out, nil
}

// byPhones runs the query head + "phone IN (...)" + tail for each chunk of
// the distinct valid numbers among phones, and calls scan on each row.
func (s *Store) byPhones(ctx context.Context, phones []string, head string, tail func(q *query), scan func(*sql.Rows) error) error {
	seen := make(map[string]bool, len(phones))
	var vs []any
	for _, p := range phones {
		if validPhone(p) && !seen[p] {
			seen[p] = true
			vs = append(vs, p)
		}
	}
	for start := 0; start < len(vs); start += phonesChunk {
		q := s.d.query().w(head).in("phone", vs[start:min(start+phonesChunk, len(vs))])
		if tail != nil {
			tail(q)
		}
		if err := queryRows(ctx, s.db, q, scan); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) scanSuppression(rows *sql.Rows) (wasend.Suppression, error) {
	var (
		sp     wasend.Suppression
		phone  []byte
		reason sql.NullString
		bc     sql.NullInt64
	)
	err := rows.Scan(&phone, &reason, &bc, s.d.scanTime(&sp.CreatedAt))
	sp.Phone, sp.Reason, sp.ContextID = string(phone), reason.String, bc.Int64
	return sp, err
}

// Suppressions implements wasend.SuppressionStore: by number, byte for
// byte (the primary key's order), after AfterPhone. A negative Limit, or
// an AfterPhone that is not UTF-8 text, gives ErrInvalidInput wrapping
// wasend.ErrInvalidFilter.
func (s *Store) Suppressions(ctx context.Context, f wasend.SuppressionFilter) ([]wasend.Suppression, error) {
	if f.Limit < 0 {
		return nil, badFilter("negative limit")
	}
	if f.Limit == 0 {
		f.Limit = wasend.DefaultJobsLimit
	}
	if !utf8.ValidString(f.AfterPhone) || strings.IndexByte(f.AfterPhone, 0) >= 0 {
		return nil, badFilter("suppression filter: AfterPhone not UTF-8 text")
	}
	q := s.d.query().w("SELECT ", suppressionColumns, " FROM send_suppressions")
	if f.AfterPhone != "" {
		q.w(" WHERE phone > ").a(f.AfterPhone)
	}
	q.w(" ORDER BY phone LIMIT ").a(int64(f.Limit))
	var list []wasend.Suppression
	err := queryRows(ctx, s.db, q, func(rows *sql.Rows) error {
		sp, err := s.scanSuppression(rows)
		list = append(list, sp)
		return err
	})
	if err != nil {
		return nil, fail(ctx, "suppressions", err)
	}
	return list, nil
}

// GuardsSuppressions implements wasend.SuppressionGuard: CreateJob's
// INSERT inserts nothing when a number of Job.Unsuppressed is suppressed
// (and CreateJob then returns an error wrapping wasend.ErrSuppressed,
// after an idempotency key held by another job and before a context that
// takes no jobs), and Apply's first UPDATE matches nothing when a number
// of Step.Unsuppressed is (the step does not apply). Both check the list
// in the statement that makes the change: on PostgreSQL a claim stays
// one statement, and a Send one INSERT.
func (s *Store) GuardsSuppressions() {}

// notSuppressed writes the condition that none of phones is on the
// suppression list; nothing for none.
func notSuppressed(q *query, phones []string) {
	if len(phones) == 0 {
		return
	}
	vs := make([]any, len(phones))
	for i, p := range phones {
		vs[i] = p
	}
	q.w(" AND NOT EXISTS (SELECT 1 FROM send_suppressions WHERE ").in("phone", vs).w(")")
}
