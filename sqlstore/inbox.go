package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wasend/wasend"
)

var _ wasend.InboxStore = (*Store)(nil)

// MaxIncomingTextLength is the longest text of an incoming message stored,
// in bytes; a longer one is cut at a character boundary (WhatsApp's own
// limit is 65,536 characters). It is text from the outside: it is made
// valid UTF-8 without NUL rather than refused, so that the message is not
// lost.
const MaxIncomingTextLength = 4 * 65536

const incomingColumns = "id, context_id, from_phone, body, at, wa_message_id, opt_out, created_at"

// validPhone reports whether p fits a phone column: UTF-8 text without
// NUL, not empty, of at most MaxPhoneLength characters.
func validPhone(p string) bool {
	return p != "" && utf8.ValidString(p) && strings.IndexByte(p, 0) < 0 && utf8.RuneCountInString(p) <= MaxPhoneLength
}

// prepareIncoming validates an incoming message and fills in what the
// store stamps.
func (s *Store) prepareIncoming(m wasend.IncomingMessage) (wasend.IncomingMessage, error) {
	if !validPhone(m.From) {
		return m, badPhone("incoming message's sender (From)")
	}
	if id := m.WAMessageID; id == "" || len(id) > MaxWAMessageIDLength || !utf8.ValidString(id) || strings.IndexByte(id, 0) >= 0 {
		// The id is the key of the message: it is never cut.
		return m, invalid("incoming message's WhatsApp id: empty, or not UTF-8 text of at most %d bytes", MaxWAMessageIDLength)
	}
	m.ID = 0
	m.Text = cleanText(m.Text, MaxIncomingTextLength)
	m.CreatedAt = s.clock(m.CreatedAt)
	if m.At.IsZero() {
		m.At = m.CreatedAt
	}
	m.At = norm(m.At)
	return m, nil
}

// RecordIncoming implements wasend.InboxStore. It inserts the message (by
// INSERT ... SELECT from browser_context, so that a missing context
// inserts nothing whatever the foreign keys, and gives
// wasend.ErrContextNotFound) unless the context has one with its
// WhatsApp id: the unique key on (context_id, wa_message_id) decides, in
// one process or several, and the INSERT skips a duplicate (ON CONFLICT
// DO NOTHING, INSERT IGNORE, INSERT OR IGNORE), waiting for a concurrent
// insert of the same key to commit or roll back. It then records the
// events in the same transaction, as Apply records a step's. A duplicate
// rolls back, events and all, and RecordIncoming returns the message
// stored first, and false.
//
// From must be a phone number of at most MaxPhoneLength characters and
// WAMessageID UTF-8 text of at most MaxWAMessageIDLength bytes, never
// empty (ErrInvalidInput, also wrapping wasend.ErrInvalidPhone for From);
// the text is stored as MaxIncomingTextLength
// says. A zero CreatedAt is now, and a zero At is CreatedAt.
func (s *Store) RecordIncoming(ctx context.Context, m wasend.IncomingMessage, events []wasend.Event) (wasend.IncomingMessage, bool, error) {
	in, err := s.prepareIncoming(m)
	if err != nil {
		return wasend.IncomingMessage{}, false, err
	}
	evs, err := s.prepareEvents(events, 0, invalid)
	if err != nil {
		return wasend.IncomingMessage{}, false, err
	}
	// A duplicate's INSERT waits for the insert of the message it
	// duplicates to end: if that one rolled back, it inserts. So the
	// message is found once the INSERT skipped it, but to be safe from a
	// rollback between the two, the pair is tried again.
	for range 3 {
		id, err := s.insertIncoming(ctx, in, evs)
		if err == nil {
			in.ID = id
			return in, true, nil
		}
		if !errors.Is(err, errNoRow) {
			return wasend.IncomingMessage{}, false, fail(ctx, "record incoming", err)
		}
		stored, found, err := s.incomingByKey(ctx, in.ContextID, in.WAMessageID)
		if err != nil {
			return wasend.IncomingMessage{}, false, fail(ctx, "record incoming", err)
		}
		if found {
			return stored, false, nil
		}
		if _, err := s.Context(ctx, in.ContextID); err != nil {
			return wasend.IncomingMessage{}, false, err
		}
	}
	return wasend.IncomingMessage{}, false, fail(ctx, "record incoming", errors.New("the message was neither stored nor found"))
}

// insertIncoming inserts the message and its events, and returns its id,
// or errNoRow when it inserted nothing: a duplicate, or a missing context.
func (s *Store) insertIncoming(ctx context.Context, in wasend.IncomingMessage, evs []eventRow) (int64, error) {
	q := s.d.query()
	switch s.d.name {
	case MySQL:
		q.w("INSERT IGNORE INTO ")
	case SQLite:
		q.w("INSERT OR IGNORE INTO ")
	default:
		q.w("INSERT INTO ")
	}
	pg := s.d.name == Postgres
	cast := func(typ string) {
		if pg {
			q.w("::", typ)
		}
	}
	q.w("send_incoming (context_id, from_phone, body, at, wa_message_id, opt_out, created_at) SELECT c.id, ").a(in.From)
	cast("varchar")
	q.w(", ").a(in.Text)
	cast("text")
	q.w(", ").a(s.d.timeArg(in.At))
	cast("timestamptz")
	q.w(", ").a(in.WAMessageID)
	cast("varchar")
	q.w(", ").a(in.OptOut)
	cast("boolean")
	q.w(", ").a(s.d.timeArg(in.CreatedAt))
	cast("timestamptz")
	q.w(" FROM browser_context c WHERE c.id = ").a(in.ContextID)
	if pg {
		q.w(" ON CONFLICT (context_id, wa_message_id) DO NOTHING")
	}
	if len(evs) == 0 {
		// One statement: no transaction.
		return s.insertID(ctx, s.db, q)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer rollback(tx)
	id, err := s.insertID(ctx, tx, q)
	if err != nil {
		return 0, err
	}
	if err := s.insertEvents(ctx, tx, evs); err != nil {
		return 0, err
	}
	return id, tx.Commit()
}

// incomingByKey reads the incoming message of a context with a WhatsApp
// id.
func (s *Store) incomingByKey(ctx context.Context, contextID int64, waID string) (wasend.IncomingMessage, bool, error) {
	q := s.d.query().w("SELECT ", incomingColumns, " FROM send_incoming WHERE context_id = ").a(contextID)
	q.w(" AND wa_message_id = ").a(waID)
	var (
		m     wasend.IncomingMessage
		found bool
	)
	err := queryRows(ctx, s.db, q, func(rows *sql.Rows) error {
		var err error
		m, err = s.scanIncoming(rows)
		found = true
		return err
	})
	return m, found, err
}

func (s *Store) scanIncoming(rows *sql.Rows) (wasend.IncomingMessage, error) {
	var m wasend.IncomingMessage
	var waID []byte
	err := rows.Scan(&m.ID, &m.ContextID, &m.From, &m.Text, s.d.scanTime(&m.At), &waID, &m.OptOut, s.d.scanTime(&m.CreatedAt))
	m.WAMessageID = string(waID)
	return m, err
}

// Incoming implements wasend.InboxStore: the incoming messages the filter
// selects, by id (newest first with Newest), through the index on
// (context_id, id) or (from_phone, id). A negative Limit gives
// ErrInvalidInput wrapping wasend.ErrInvalidFilter.
func (s *Store) Incoming(ctx context.Context, f wasend.InboxFilter) ([]wasend.IncomingMessage, error) {
	if f.Limit < 0 {
		return nil, badFilter("negative limit")
	}
	if f.Limit == 0 {
		f.Limit = wasend.DefaultJobsLimit
	}
	q := s.d.query().w("SELECT ", incomingColumns, " FROM send_incoming WHERE 1 = 1")
	if f.ContextID != 0 {
		q.w(" AND context_id = ").a(f.ContextID)
	}
	if f.From != "" {
		q.w(" AND from_phone = ").a(f.From)
	}
	if f.AfterID != 0 {
		q.w(" AND id > ").a(f.AfterID)
	}
	if f.BeforeID != 0 {
		q.w(" AND id < ").a(f.BeforeID)
	}
	q.w(" ORDER BY id")
	if f.Newest {
		q.w(" DESC")
	}
	q.w(" LIMIT ").a(int64(f.Limit))
	var list []wasend.IncomingMessage
	err := queryRows(ctx, s.db, q, func(rows *sql.Rows) error {
		m, err := s.scanIncoming(rows)
		list = append(list, m)
		return err
	})
	if err != nil {
		return nil, fail(ctx, "incoming", err)
	}
	return list, nil
}

// PruneIncoming deletes the incoming messages stored (created_at) before
// the given time, and returns how many it deleted. A zero time deletes
// nothing. Clean never deletes incoming messages: they are the host's
// inbox, kept until the host prunes them with this method. Pruning a
// message lets its WhatsApp id be stored again.
func (s *Store) PruneIncoming(ctx context.Context, before time.Time) (int64, error) {
	if before.IsZero() {
		return 0, nil
	}
	q := s.d.query().w("DELETE FROM send_incoming WHERE created_at < ").a(s.d.timeArg(before))
	n, err := s.exec(ctx, s.db, q)
	if err != nil {
		return 0, fail(ctx, "prune incoming", err)
	}
	return n, nil
}
