package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/wasend/wasend"
)

const contextColumns = "id, browser_context_status_id, browser_system_id, created_at, updated_at, " +
	"restriction_kind, restricted_until, restriction_reason, first_login_at, pacing, proxy, account"

// CreateContext implements wasend.Store. The status defaults to
// disconnected, CreatedAt (and so UpdatedAt) to now, and an empty SystemID
// is stored as NULL. A SystemID already taken gives an error wrapping
// wasend.ErrDuplicateContext. Pacing is stored as JSON (NULL when nil) and
// Proxy as text (NULL when empty); an invalid policy gives an error
// wrapping wasend.ErrInvalidPacing, an invalid proxy one wrapping
// wasend.ErrProxy. The restriction, FirstLoginAt and Account start empty:
// only Apply sets them.
func (s *Store) CreateContext(ctx context.Context, c wasend.BrowserContext) (wasend.BrowserContext, error) {
	if c.Status == "" {
		c.Status = wasend.ContextDisconnected
	}
	sid, ok := contextStatusID(c.Status)
	if !ok {
		return wasend.BrowserContext{}, invalid("browser context status %q", c.Status)
	}
	if !utf8.ValidString(c.SystemID) || utf8.RuneCountInString(c.SystemID) > MaxSystemIDLength {
		return wasend.BrowserContext{}, invalid("browser system id: not UTF-8 or longer than %d characters", MaxSystemIDLength)
	}
	pacing, err := pacingArg(c.Pacing)
	if err != nil {
		return wasend.BrowserContext{}, err
	}
	if err := wasend.CheckProxy(c.Proxy); err != nil {
		return wasend.BrowserContext{}, err
	}
	now := s.clock(c.CreatedAt)
	q := s.d.query().w("INSERT INTO browser_context (browser_context_status_id, browser_system_id, created_at, updated_at, pacing, proxy) VALUES (")
	q.a(sid).w(", ").a(nullString(c.SystemID)).w(", ")
	ts := q.shared(s.d.timeArg(now))
	q.w(ts(), ", ", ts(), ", ").a(pacing).w(", ").a(nullString(c.Proxy)).w(")")
	id, err := s.insertID(ctx, s.db, q)
	if err != nil {
		if c.SystemID != "" && ctx.Err() == nil && s.systemIDTaken(ctx, c.SystemID) {
			return wasend.BrowserContext{}, fmt.Errorf("%w: system id %q", wasend.ErrDuplicateContext, c.SystemID)
		}
		return wasend.BrowserContext{}, fail(ctx, "create context", err)
	}
	return wasend.BrowserContext{ID: id, Status: c.Status, SystemID: c.SystemID, CreatedAt: now, UpdatedAt: now,
		Pacing: clonePacing(c.Pacing), Proxy: c.Proxy}, nil
}

// pacingArg validates a pacing policy and returns it as the argument of
// the pacing column: JSON text, or NULL for nil.
func pacingArg(p *wasend.Pacing) (any, error) {
	if p == nil {
		return nil, nil
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", wasend.ErrInvalidPacing, err)
	}
	return string(b), nil
}

func clonePacing(p *wasend.Pacing) *wasend.Pacing {
	if p == nil {
		return nil
	}
	c := *p
	return &c
}

// UpdateContext implements wasend.Store. It validates the settings as
// CreateContext does, changes those given and updated_at, and returns the
// context as it reads it back.
func (s *Store) UpdateContext(ctx context.Context, id int64, set wasend.ContextSettings) (wasend.BrowserContext, error) {
	q := s.d.query().w("UPDATE ", s.d.byID("browser_context"), " SET updated_at = ").a(s.d.timeArg(s.clock(time.Time{})))
	if set.Pacing != nil {
		pacing, err := pacingArg(*set.Pacing)
		if err != nil {
			return wasend.BrowserContext{}, err
		}
		q.w(", pacing = ").a(pacing)
	}
	if set.Proxy != nil {
		if err := wasend.CheckProxy(*set.Proxy); err != nil {
			return wasend.BrowserContext{}, err
		}
		q.w(", proxy = ").a(nullString(*set.Proxy))
	}
	q.w(" WHERE id = ").a(id)
	// A missing id changes no row, and neither does, on MySQL, a change
	// to the values the row has: Context tells the two apart.
	if _, err := s.exec(ctx, s.db, q); err != nil {
		return wasend.BrowserContext{}, fail(ctx, "update context", err)
	}
	return s.Context(ctx, id)
}

// systemIDTaken tells, after a failed insert, whether the failure was the
// unique browser_system_id: it looks for the row rather than decoding each
// driver's error.
func (s *Store) systemIDTaken(ctx context.Context, systemID string) bool {
	q := s.d.query().w("SELECT COUNT(*) FROM browser_context WHERE browser_system_id = ").a(systemID)
	var n int
	err := s.db.QueryRowContext(ctx, q.String(), q.args...).Scan(&n)
	return err == nil && n > 0
}

// insertID runs an INSERT of one row and returns the new id.
func (s *Store) insertID(ctx context.Context, db execer, q *query) (int64, error) {
	if s.d.returning {
		q.w(" RETURNING id")
		rows, err := db.QueryContext(ctx, q.String(), q.args...)
		if err != nil {
			return 0, err
		}
		defer rows.Close()
		if !rows.Next() {
			if err := rows.Err(); err != nil {
				return 0, err
			}
			return 0, errNoRow
		}
		var id int64
		if err := rows.Scan(&id); err != nil {
			return 0, err
		}
		return id, rows.Close()
	}
	res, err := db.ExecContext(ctx, q.String(), q.args...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, errNoRow
	}
	return res.LastInsertId()
}

// errNoRow means an INSERT ... SELECT found nothing to insert.
var errNoRow = errors.New("sqlstore: nothing inserted")

// Context implements wasend.Store.
func (s *Store) Context(ctx context.Context, id int64) (wasend.BrowserContext, error) {
	q := s.d.query().w("SELECT ", contextColumns, " FROM browser_context WHERE id = ").a(id)
	rows, err := s.db.QueryContext(ctx, q.String(), q.args...)
	if err != nil {
		return wasend.BrowserContext{}, fail(ctx, "context", err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return wasend.BrowserContext{}, fail(ctx, "context", err)
		}
		return wasend.BrowserContext{}, fmt.Errorf("%w: id %d", wasend.ErrContextNotFound, id)
	}
	c, err := s.scanContext(rows)
	if err != nil {
		return wasend.BrowserContext{}, fail(ctx, "context", err)
	}
	return c, nil
}

// Contexts implements wasend.Store.
func (s *Store) Contexts(ctx context.Context) ([]wasend.BrowserContext, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT "+contextColumns+" FROM browser_context ORDER BY id")
	if err != nil {
		return nil, fail(ctx, "contexts", err)
	}
	defer rows.Close()
	var list []wasend.BrowserContext
	for rows.Next() {
		c, err := s.scanContext(rows)
		if err != nil {
			return nil, fail(ctx, "contexts", err)
		}
		list = append(list, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fail(ctx, "contexts", err)
	}
	return list, nil
}

func (s *Store) scanContext(rows *sql.Rows) (wasend.BrowserContext, error) {
	var (
		c   wasend.BrowserContext
		sid int64
		sys sql.NullString
		// The restriction's kind and reason, the pacing and the proxy.
		kind, reason, pacing, proxy, account sql.NullString
	)
	if err := rows.Scan(&c.ID, &sid, &sys, s.d.scanTime(&c.CreatedAt), s.d.scanTime(&c.UpdatedAt),
		&kind, s.d.scanTime(&c.Restriction.Until), &reason, s.d.scanTime(&c.FirstLoginAt), &pacing, &proxy, &account); err != nil {
		return c, err
	}
	st, err := contextStatusOf(sid)
	if err != nil {
		return c, err
	}
	c.Status, c.SystemID = st, sys.String
	c.Restriction.Kind, c.Restriction.Reason = wasend.RestrictionKind(kind.String), reason.String
	c.Proxy, c.Account = proxy.String, account.String
	if pacing.Valid {
		c.Pacing = new(wasend.Pacing)
		if err := json.Unmarshal([]byte(pacing.String), c.Pacing); err != nil {
			return c, fmt.Errorf("context %d: pacing: %w", c.ID, err)
		}
	}
	return c, nil
}
