package sqlstore_test

import (
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend/sqlstore"
	"github.com/wasend/wasend/sqlstore/sqlite"
)

// TestDriverErrors checks that the store reads the error codes it acts on
// from each real driver, without importing the drivers: MySQL's "exists
// already" (1060, 1061) and SQLite's busy, and no other database's errors
// for them, wrapped or not.
func TestDriverErrors(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		db := b.open(t, "")
		ctx := t.Context()
		_, err := db.ExecContext(ctx, "CREATE TABLE wasend_t_dup (a INT)")
		require.NoError(t, err)
		_, err = db.ExecContext(ctx, "CREATE INDEX wasend_t_dup_a ON wasend_t_dup (a)")
		require.NoError(t, err)

		_, dupColumn := db.ExecContext(ctx, "ALTER TABLE wasend_t_dup ADD COLUMN a INT")
		require.Error(t, dupColumn)
		_, dupIndex := db.ExecContext(ctx, "CREATE INDEX wasend_t_dup_a ON wasend_t_dup (a)")
		require.Error(t, dupIndex)
		_, syntax := db.ExecContext(ctx, "ALTER TABLE wasend_t_dup ADD")
		require.Error(t, syntax)

		isMySQL := b.dialect == sqlstore.MySQL
		for name, c := range map[string]struct {
			err  error
			want bool
		}{
			"duplicate column":         {dupColumn, isMySQL},
			"duplicate index":          {dupIndex, isMySQL},
			"wrapped":                  {fmt.Errorf("migrate: %w", dupColumn), isMySQL},
			"joined":                   {errors.Join(errors.New("other"), dupIndex), isMySQL},
			"syntax error":             {syntax, false},
			"not from a driver":        {errors.New("Error 1060 (42S21): Duplicate column name 'a'"), false},
			"nil":                      {nil, false},
			"sql.ErrNoRows":            {sql.ErrNoRows, false},
			"wrapped, not from driver": {fmt.Errorf("x: %w", sql.ErrConnDone), false},
		} {
			assert.Equal(t, c.want, sqlstore.MySQLAlreadyApplied(c.err), "MySQLAlreadyApplied(%s: %v)", name, c.err)
			assert.False(t, sqlstore.SQLiteBusy(c.err), "SQLiteBusy(%s: %v)", name, c.err)
		}
	})
}

// TestSQLiteBusy checks that the store recognises SQLite's busy error,
// which Migrate retries, from modernc.org/sqlite.
func TestSQLiteBusy(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "busy.db")
	db, err := sqlite.Open(path)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	ctx := t.Context()
	conn, err := db.Conn(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	_, err = conn.ExecContext(ctx, "BEGIN IMMEDIATE")
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = conn.ExecContext(ctx, "ROLLBACK") })

	// Another pool with no busy timeout fails at once.
	other, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(0)")
	require.NoError(t, err)
	t.Cleanup(func() { _ = other.Close() })
	_, busy := other.ExecContext(ctx, "BEGIN IMMEDIATE")
	require.Error(t, busy)
	_, syntax := other.ExecContext(ctx, "BEGIN NONSENSE")
	require.Error(t, syntax)

	assert.True(t, sqlstore.SQLiteBusy(busy), "SQLiteBusy(%v)", busy)
	assert.True(t, sqlstore.SQLiteBusy(fmt.Errorf("migrate: begin: %w", busy)), "wrapped")
	assert.False(t, sqlstore.SQLiteBusy(syntax), "SQLiteBusy(%v)", syntax)
	assert.False(t, sqlstore.MySQLAlreadyApplied(busy), "MySQLAlreadyApplied(%v)", busy)
}
