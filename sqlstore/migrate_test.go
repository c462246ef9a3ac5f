package sqlstore_test

import (
	"database/sql"
	"path/filepath"
	"sync"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/sqlstore"
	"github.com/wasend/wasend/sqlstore/sqlite"
)

// openN opens n separate *sql.DB on one new database, as n processes would.
// storesN returns n stores on one empty database, each with its own pool,
// as n processes would have.
func storesN(t *testing.T, b backend, n int) []*sqlstore.Store {
	t.Helper()
	stores := make([]*sqlstore.Store, n)
	for i, db := range openN(t, b, n) {
		s, err := sqlstore.New(db)
		require.NoError(t, err)
		stores[i] = s
	}
	return stores
}

func openN(t *testing.T, b backend, n int) []*sql.DB {
	t.Helper()
	dbs := make([]*sql.DB, n)
	switch b.dialect {
	case sqlstore.Postgres:
		// A database of its own: advisory locks are per database.
		_, cfg := createPostgresDatabase(t)
		for i := range dbs {
			dbs[i] = stdlib.OpenDB(*cfg)
		}
	case sqlstore.MySQL:
		a := admin(t, "mysql", dsn(t, envMySQL))
		name := dbName()
		_, err := a.Exec("CREATE DATABASE " + name)
		require.NoError(t, err)
		t.Cleanup(func() { _, _ = a.Exec("DROP DATABASE IF EXISTS " + name) })
		cfg, err := mysql.ParseDSN(dsn(t, envMySQL))
		require.NoError(t, err)
		cfg.DBName = name
		for i := range dbs {
			dbs[i], err = sql.Open("mysql", cfg.FormatDSN())
			require.NoError(t, err)
		}
	case sqlstore.SQLite:
		path := filepath.Join(t.TempDir(), "wasend.db")
		for i := range dbs {
			db, err := sqlite.Open(path)
			require.NoError(t, err)
			dbs[i] = db
		}
	}
	// Registered after the database's own cleanup, so run before it.
	t.Cleanup(func() {
		for _, db := range dbs {
			_ = db.Close()
		}
	})
	return dbs
}

var (
	wantContextStatuses = []string{"available", "busy", "disconnected", "error", "closed", "restricted"}
	wantJobStatuses     = []string{"pending", "running", "completed", "failed", "paused", "cancelled"}
)

// checkSchema checks the migrated schema: one record per migration, and the
// status tables seeded with their fixed ids.
func checkSchema(t *testing.T, s *sqlstore.Store) {
	t.Helper()
	v, err := s.MigrationVersion(t.Context())
	require.NoError(t, err)
	require.Equal(t, sqlstore.SchemaVersion, v)
	require.Equal(t, sqlstore.SchemaVersion, count(t, s, "SELECT COUNT(*) FROM wasend_schema_migrations"))
	for table, want := range map[string][]string{
		"browser_context_status":    wantContextStatuses,
		"send_messages_jobs_status": wantJobStatuses,
	} {
		rows, err := s.DB().QueryContext(t.Context(), "SELECT id, slug FROM "+table+" ORDER BY id")
		require.NoError(t, err)
		var got []string
		for rows.Next() {
			var id int
			var slug string
			require.NoError(t, rows.Scan(&id, &slug))
			require.Equal(t, len(got)+1, id, "%s: %s", table, slug)
			got = append(got, slug)
		}
		require.NoError(t, rows.Err())
		require.NoError(t, rows.Close())
		require.Equal(t, want, got, table)
	}
	// The status tables hold exactly the root's statuses, in order.
	for i, st := range wasend.ContextStatuses() {
		require.Equal(t, wantContextStatuses[i], string(st))
	}
	for i, st := range wasend.JobStatuses() {
		require.Equal(t, wantJobStatuses[i], string(st))
	}
}

func TestMigrate(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, b backend) {
		s, err := sqlstore.New(b.open(t, ""))
		require.NoError(t, err)
		v, err := s.MigrationVersion(t.Context())
		require.NoError(t, err)
		require.Equal(t, 0, v, "before Migrate")
		for range 3 {
			require.NoError(t, s.Migrate(t.Context()))
			checkSchema(t, s)
		}
	})
}

func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, b backend) {
		const n = 4
		stores := storesN(t, b, n)
		var wg sync.WaitGroup
		errs := make([]error, n)
		start := make(chan struct{})
		for i, s := range stores {
			wg.Go(func() {
				<-start
				errs[i] = s.Migrate(t.Context())
			})
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			require.NoError(t, err, "Migrate %d", i)
		}
		for _, s := range stores {
			checkSchema(t, s)
		}
		// The stores share the database.
		c, err := stores[0].CreateContext(t.Context(), wasend.BrowserContext{SystemID: "shared"})
		require.NoError(t, err)
		got, err := stores[n-1].Context(t.Context(), c.ID)
		require.NoError(t, err)
		require.Equal(t, c, got)
	})
}
