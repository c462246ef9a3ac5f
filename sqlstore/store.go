package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/wasend/wasend"
)

// Dialect names the SQL dialect a Store speaks.
type Dialect string

// The supported dialects.
const (
	// Postgres is PostgreSQL (11 or later), through
	// github.com/jackc/pgx/v5/stdlib.
	Postgres Dialect = "postgres"
	// MySQL is MySQL (8.0 or later) or MariaDB (10.5 or later), through
	// github.com/go-sql-driver/mysql.
	MySQL Dialect = "mysql"
	// SQLite is SQLite (3.35 or later), through modernc.org/sqlite: see
	// the sub-package sqlstore/sqlite.
	SQLite Dialect = "sqlite"
)

// Dialects returns the supported dialects, in a new slice each time.
func Dialects() []Dialect { return []Dialect{Postgres, MySQL, SQLite} }

// Valid reports whether d is one of the supported dialects.
func (d Dialect) Valid() bool { return d == Postgres || d == MySQL || d == SQLite }

// Errors returned by New and the validation of a Store's input.
var (
	// ErrUnknownDialect means New could not tell the dialect from the
	// *sql.DB's driver, or WithDialect named none of Dialects().
	ErrUnknownDialect = errors.New("sqlstore: unknown SQL dialect; pass WithDialect")
	// ErrInvalidStep means a Step passed to Apply is malformed: a transition
	// with no From, an unknown status, a change to running without a Claim,
	// or a value too long for its column. Nothing was changed. It wraps
	// wasend.ErrInvalidStep.
	ErrInvalidStep = fmt.Errorf("sqlstore: malformed step (%w)", wasend.ErrInvalidStep)
	// ErrInvalidInput means a record or filter passed to the Store is
	// malformed: an unknown status or kind, or a value too long for its
	// column. Nothing was changed.
	ErrInvalidInput = errors.New("sqlstore: invalid input")
)

// Column limits. Longer values are refused (ErrInvalidInput, ErrInvalidStep)
// or, for the free-text columns, cut.
const (
	// MaxSystemIDLength is the longest browser_system_id, in characters.
	MaxSystemIDLength = 100
	// MaxPhoneLength is the longest recipient (to_phone), in characters.
	MaxPhoneLength = 32
	// MaxClaimLength is the longest claim, in bytes.
	MaxClaimLength = 64
	// MaxErrorKindLength is the longest error kind, in bytes.
	MaxErrorKindLength = 64
	// MaxErrorLength is the longest error message stored; longer ones are
	// cut at a character boundary.
	MaxErrorLength = 8192
	// MaxWAMessageIDLength is the longest WhatsApp message id stored; longer
	// ones are cut at a character boundary.
	MaxWAMessageIDLength = 255
	// MaxGuardMarkLength is the longest mark (wasend.MessageTransition.Mark)
	// stored, in bytes: what MySQL's TEXT holds. A longer one is refused,
	// never cut, since a cut mark would describe another chat.
	MaxGuardMarkLength = 65535
)

// Store is a wasend.Store on database/sql. It is safe for concurrent use.
//
// A Store never closes the *sql.DB it was given.
type Store struct {
	db  *sql.DB
	d   *dialect
	log *slog.Logger
	now func() time.Time
	// grp writes concurrent Apply and CreateJob calls together (nil:
	// each alone); see groupcommit.go.
	grp *group

	// skipMu guards skip and skipKnown: whether the MySQL server knows
	// SKIP LOCKED (ClaimEvents), once asked.
	skipMu    sync.Mutex
	skip      bool
	skipKnown bool
}

// Option configures a Store.
type Option func(*config)

type config struct {
	dialect Dialect
	logger  *slog.Logger
	now     func() time.Time
	group   int
}

// WithDialect sets the SQL dialect. Default: detected from the type of the
// *sql.DB's driver (pgx's stdlib, go-sql-driver/mysql or modernc.org/sqlite);
// New fails with ErrUnknownDialect for any other driver.
func WithDialect(d Dialect) Option {
	return func(c *config) { c.dialect = d }
}

// WithLogger sets the logger. The store logs migrations at Info level and
// never logs message text or phone numbers. Default: a logger that discards
// everything.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger = l }
}

// WithClock sets the clock that stamps created_at, updated_at and every
// other time the caller leaves zero, as wasend.WithClock does for the
// Client. Default: time.Now.
func WithClock(now func() time.Time) Option {
	return func(c *config) { c.now = now }
}

// WithGroupCommit sets how many transactions at most write concurrent
// Apply and CreateJob calls together (group commit): a call that finds
// one free and nobody waiting is written at once, alone; calls that
// arrive while all are busy wait, and the next one free writes them all
// (up to MaxGroupCommitCalls) and commits once. Each call keeps its own
// outcome: a step whose condition fails changes nothing, one that fails
// runs again alone, and a caller whose context ends while it waits gets
// its error and nothing written. 0 writes every call alone (a
// transaction or a statement each). A negative n gives an error wrapping
// wasend.ErrInvalidOption. Default: DefaultGroupCommit.
func WithGroupCommit(n int) Option {
	return func(c *config) { c.group = n }
}

var _ wasend.Store = (*Store)(nil)

// New returns a Store on db. It does not touch the database: call Migrate
// before the first use.
func New(db *sql.DB, opts ...Option) (*Store, error) {
	if db == nil {
		return nil, fmt.Errorf("%w: sqlstore: nil *sql.DB", wasend.ErrInvalidOption)
	}
	cfg := config{now: time.Now, group: DefaultGroupCommit}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if cfg.dialect == "" {
		d, ok := detect(db)
		if !ok {
			return nil, fmt.Errorf("%w: %w (driver %T)", wasend.ErrInvalidOption, ErrUnknownDialect, db.Driver())
		}
		cfg.dialect = d
	}
	if !cfg.dialect.Valid() {
		return nil, fmt.Errorf("%w: %w: %q", wasend.ErrInvalidOption, ErrUnknownDialect, string(cfg.dialect))
	}
	if cfg.now == nil {
		return nil, fmt.Errorf("%w: sqlstore: nil clock (WithClock)", wasend.ErrInvalidOption)
	}
	if cfg.group < 0 {
		return nil, fmt.Errorf("%w: sqlstore: group commit of %d transactions (WithGroupCommit)", wasend.ErrInvalidOption, cfg.group)
	}
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.DiscardHandler)
	}
	s := &Store{db: db, d: dialects[cfg.dialect], log: cfg.logger, now: cfg.now}
	if cfg.group > 0 {
		s.grp = &group{db: db, limit: cfg.group}
	}
	return s, nil
}

// Dialect returns the store's SQL dialect.
func (s *Store) Dialect() Dialect { return s.d.name }

// clock returns at, or now when at is zero, in UTC with microsecond
// precision: what the database keeps.
func (s *Store) clock(at time.Time) time.Time {
	if at.IsZero() {
		at = s.now()
	}
	return norm(at)
}

// norm converts t to what the database keeps: UTC, to the microsecond.
func norm(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// fail wraps an error from the database. Errors caused by ctx stay ctx
// errors; the others wrap wasend.ErrStore.
func fail(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("sqlstore: %s: %w", op, err)
	}
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("sqlstore: %s: %w (%v)", op, cerr, err)
	}
	return fmt.Errorf("%w: sqlstore: %s: %w", wasend.ErrStore, op, err)
}

// invalid builds an ErrInvalidInput error.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidInput, fmt.Sprintf(format, args...))
}

// badFilter builds an ErrInvalidInput error that wraps
// wasend.ErrInvalidFilter.
func badFilter(format string, args ...any) error {
	return fmt.Errorf("%w: %w: %s", ErrInvalidInput, wasend.ErrInvalidFilter, fmt.Sprintf(format, args...))
}

// badPhone builds an ErrInvalidInput error that wraps
// wasend.ErrInvalidPhone.
func badPhone(format string, args ...any) error {
	return fmt.Errorf("%w: %w: %s", ErrInvalidInput, wasend.ErrInvalidPhone, fmt.Sprintf(format, args...))
}

// badStep builds an ErrInvalidStep error.
func badStep(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidStep, fmt.Sprintf(format, args...))
}

// rollback rolls tx back, ignoring the error: the caller already has one,
// or nothing to report.
func rollback(tx *sql.Tx) { _ = tx.Rollback() }
