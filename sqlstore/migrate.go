package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// SchemaVersion is the version of the newest migration this package holds:
// what MigrationVersion reports once Migrate has run.
const SchemaVersion = 8

//go:embed migrations
var migrationFS embed.FS

// migration is one versioned SQL file.
type migration struct {
	version int
	name    string
	stmts   []string
}

// migrations returns the dialect's migrations, by version.
func (d *dialect) migrations() ([]migration, error) {
	dir := path.Join("migrations", string(d.name))
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("sqlstore: bad migration file name %q", e.Name())
		}
		b, err := fs.ReadFile(migrationFS, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: e.Name(), stmts: splitSQL(string(b))})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

// splitSQL splits a migration into statements: each ends with a semicolon
// at the end of a line. Lines that start with -- are comments.
func splitSQL(src string) []string {
	var stmts []string
	var cur strings.Builder
	for line := range strings.SplitSeq(src, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteString("\n")
		if strings.HasSuffix(t, ";") {
			s := strings.TrimSuffix(strings.TrimSpace(cur.String()), ";")
			stmts = append(stmts, s)
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		stmts = append(stmts, s)
	}
	return stmts
}

// Names used by Migrate.
const (
	migrationsTable = "wasend_schema_migrations"
	// pgLockKey is the PostgreSQL advisory lock that Migrate holds
	// ("wasend" in ASCII). Advisory locks are per database.
	pgLockKey = 0x7761_7365_6e64
)

// Migrate brings the schema to SchemaVersion: it creates the tables, seeds
// the status tables and records each migration it applies in
// wasend_schema_migrations. It is idempotent, and safe when several
// processes call it at once: PostgreSQL serialises them with an advisory
// lock, MySQL with GET_LOCK, SQLite with an immediate transaction.
func (s *Store) Migrate(ctx context.Context) error {
	return s.migrateTo(ctx, SchemaVersion)
}

// migrateTo is Migrate up to the given version: the tests build databases
// of older versions with it.
func (s *Store) migrateTo(ctx context.Context, version int) error {
	all, err := s.d.migrations()
	if err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	var ms []migration
	for _, m := range all {
		if m.version <= version {
			ms = append(ms, m)
		}
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fail(ctx, "migrate", err)
	}
	defer conn.Close()
	switch s.d.name {
	case Postgres:
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", int64(pgLockKey)); err != nil {
			return fail(ctx, "migrate: lock", err)
		}
		defer s.unlock(conn, "SELECT pg_advisory_unlock($1)", int64(pgLockKey))
	case MySQL:
		if err := mysqlLock(ctx, conn); err != nil {
			return fail(ctx, "migrate: lock", err)
		}
		defer s.unlock(conn, "SELECT RELEASE_LOCK("+mysqlLockName+")")
	case SQLite:
		return s.migrateSQLite(ctx, conn, ms)
	}
	return s.migrateLocked(ctx, conn, ms)
}

// mysqlLockName is the MySQL lock Migrate holds. GET_LOCK names are
// server-wide, so the name includes the database's.
const mysqlLockName = "CONCAT('wasend_migrate_', MD5(COALESCE(DATABASE(), '')))"

// mysqlLock takes the migration lock, waiting as long as ctx allows.
func mysqlLock(ctx context.Context, conn *sql.Conn) error {
	for {
		var got sql.NullInt64
		if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK("+mysqlLockName+", 1)").Scan(&got); err != nil {
			return err
		}
		if got.Valid && got.Int64 == 1 {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// unlock releases a session lock. If it cannot, it discards the connection,
// which releases the lock with the session.
func (s *Store) unlock(conn *sql.Conn, stmt string, args ...any) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := conn.ExecContext(ctx, stmt, args...); err != nil {
		s.log.Warn("sqlstore: cannot release the migration lock; dropping the connection", "err", err)
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	}
}

// migrateLocked applies the missing migrations on PostgreSQL and MySQL,
// under the migration lock.
func (s *Store) migrateLocked(ctx context.Context, conn *sql.Conn, ms []migration) error {
	if _, err := conn.ExecContext(ctx, s.versionTableDDL()); err != nil {
		return fail(ctx, "migrate", err)
	}
	done, err := appliedVersions(ctx, conn)
	if err != nil {
		return fail(ctx, "migrate", err)
	}
	for _, m := range ms {
		if done[m.version] {
			continue
		}
		if s.d.name == Postgres {
			// PostgreSQL's DDL is transactional: the migration and its
			// record commit together.
			tx, err := conn.BeginTx(ctx, nil)
			if err != nil {
				return fail(ctx, "migrate", err)
			}
			if err := s.applyMigration(ctx, tx, m); err != nil {
				rollback(tx)
				return err
			}
			if err := tx.Commit(); err != nil {
				return fail(ctx, "migrate: "+m.name, err)
			}
		} else {
			// MySQL commits each DDL statement: the statements are
			// idempotent (or found applied, see mysqlAlreadyApplied),
			// and the record comes last.
			if err := s.applyMigration(ctx, conn, m); err != nil {
				return err
			}
		}
		s.log.Info("sqlstore: migration applied", "version", m.version, "name", m.name, "dialect", string(s.d.name))
	}
	return nil
}

// migrateSQLite applies the missing migrations in one immediate
// transaction, which holds SQLite's write lock from its start.
func (s *Store) migrateSQLite(ctx context.Context, conn *sql.Conn, ms []migration) error {
	for delay := 5 * time.Millisecond; ; delay = min(2*delay, 200*time.Millisecond) {
		_, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE")
		if err == nil {
			break
		}
		if !sqliteBusy(err) {
			return fail(ctx, "migrate: begin", err)
		}
		select {
		case <-ctx.Done():
			return fail(ctx, "migrate: begin", err)
		case <-time.After(delay):
		}
	}
	committed := false
	defer func() {
		if !committed {
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	if _, err := conn.ExecContext(ctx, s.versionTableDDL()); err != nil {
		return fail(ctx, "migrate", err)
	}
	done, err := appliedVersions(ctx, conn)
	if err != nil {
		return fail(ctx, "migrate", err)
	}
	var applied []migration
	for _, m := range ms {
		if done[m.version] {
			continue
		}
		if err := s.applyMigration(ctx, conn, m); err != nil {
			return err
		}
		applied = append(applied, m)
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return fail(ctx, "migrate: commit", err)
	}
	committed = true
	for _, m := range applied {
		s.log.Info("sqlstore: migration applied", "version", m.version, "name", m.name, "dialect", string(s.d.name))
	}
	return nil
}

func (s *Store) versionTableDDL() string {
	t := map[Dialect]string{Postgres: "timestamptz", MySQL: "DATETIME(6)", SQLite: "TEXT"}[s.d.name]
	return "CREATE TABLE IF NOT EXISTS " + migrationsTable + " (version BIGINT NOT NULL PRIMARY KEY, applied_at " + t + " NOT NULL)"
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func appliedVersions(ctx context.Context, q execer) (map[int]bool, error) {
	rows, err := q.QueryContext(ctx, "SELECT version FROM "+migrationsTable)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	done := make(map[int]bool)
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		done[v] = true
	}
	return done, rows.Err()
}

// applyMigration runs a migration's statements and records it.
func (s *Store) applyMigration(ctx context.Context, q execer, m migration) error {
	for i, stmt := range m.stmts {
		_, err := q.ExecContext(ctx, stmt)
		if err != nil && s.d.name == MySQL && mysqlAlreadyApplied(err) {
			s.log.Info("sqlstore: migration statement applied already", "version", m.version, "name", m.name, "statement", i+1)
			continue
		}
		if err != nil {
			return fail(ctx, fmt.Sprintf("migrate: %s: statement %d", m.name, i+1), err)
		}
	}
	ins := s.d.query().w("INSERT INTO ", migrationsTable, " (version, applied_at) VALUES (")
	ins.a(int64(m.version)).w(", ").a(s.d.timeArg(s.now())).w(")")
	if _, err := q.ExecContext(ctx, ins.String(), ins.args...); err != nil {
		return fail(ctx, "migrate: "+m.name+": record", err)
	}
	return nil
}

// MigrationVersion returns the newest migration applied to the database, or
// 0 when Migrate never ran there.
func (s *Store) MigrationVersion(ctx context.Context) (int, error) {
	var exists string
	switch s.d.name {
	case Postgres:
		exists = "SELECT COUNT(*) FROM pg_catalog.pg_tables WHERE tablename = '" + migrationsTable + "' AND schemaname = ANY (current_schemas(false))"
	case MySQL:
		exists = "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = '" + migrationsTable + "'"
	case SQLite:
		exists = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '" + migrationsTable + "'"
	}
	var n int
	if err := s.db.QueryRowContext(ctx, exists).Scan(&n); err != nil {
		return 0, fail(ctx, "migration version", err)
	}
	if n == 0 {
		return 0, nil
	}
	var v sql.NullInt64
	if err := s.db.QueryRowContext(ctx, "SELECT MAX(version) FROM "+migrationsTable).Scan(&v); err != nil {
		return 0, fail(ctx, "migration version", err)
	}
	return int(v.Int64), nil
}
