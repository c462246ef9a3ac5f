package sqlstore

import (
	"context"
	"database/sql"

	"github.com/wasend/wasend"
)

// MigrateTo is Migrate up to the given version, for the tests of upgrades.
func (s *Store) MigrateTo(ctx context.Context, version int) error {
	return s.migrateTo(ctx, version)
}

// MigrationStatements returns the statements of one migration of the
// store's dialect.
func (s *Store) MigrationStatements(version int) ([]string, error) {
	ms, err := s.d.migrations()
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		if m.version == version {
			return m.stmts, nil
		}
	}
	return nil, nil
}

// DB returns the *sql.DB the store was given.
func (s *Store) DB() *sql.DB { return s.db }

// The readers of driver errors, for tests against real databases.
var (
	SQLiteBusy          = sqliteBusy
	MySQLAlreadyApplied = mysqlAlreadyApplied
)

// UnreadSQL returns the statement of Unread and its arguments.
func (s *Store) UnreadSQL(f wasend.ReceiptFilter) (string, []any, error) {
	q, err := s.unreadQuery(f)
	if err != nil {
		return "", nil, err
	}
	return q.String(), q.args, nil
}

// GroupQueued returns how many calls wait for a group-commit transaction.
func (s *Store) GroupQueued() int {
	if s.grp == nil {
		return 0
	}
	s.grp.mu.Lock()
	defer s.grp.mu.Unlock()
	return len(s.grp.queue)
}
