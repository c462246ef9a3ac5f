package sqlstore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend/sqlstore"
	"github.com/wasend/wasend/sqlstore/sqlite"
)

// The environment variables that name the test databases. Each names an
// account that may create and drop databases: every store gets a database
// of its own, dropped when its test ends.
const (
	envPostgres = "WASEND_TEST_POSTGRES" // postgres://postgres@127.0.0.1:5432/test?sslmode=disable
	envMySQL    = "WASEND_TEST_MYSQL"    // root@tcp(127.0.0.1:3306)/test
)

// backend opens fresh, empty databases of one dialect.
type backend struct {
	dialect sqlstore.Dialect
	// open returns a new, empty database, dropped in t.Cleanup. variant
	// changes the connection settings.
	open func(t testing.TB, variant string) *sql.DB
}

var backends = []backend{
	{sqlstore.Postgres, openPostgres},
	{sqlstore.MySQL, openMySQL},
	{sqlstore.SQLite, openSQLite},
}

// dsn returns the DSN in env, or skips the test (fails it under CI=true).
func dsn(t testing.TB, env string) string {
	t.Helper()
	v := os.Getenv(env)
	if v == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set: CI must run the integration tests", env)
		}
		t.Skipf("%s is not set: set it to run these tests", env)
	}
	return v
}

func dbName() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "wasend_t_" + hex.EncodeToString(b)
}

// admins are the connections that create and drop the test databases.
var (
	adminMu sync.Mutex
	admins  = map[string]*sql.DB{}
)

func admin(t testing.TB, driver, dsn string) *sql.DB {
	t.Helper()
	adminMu.Lock()
	defer adminMu.Unlock()
	if db := admins[dsn]; db != nil {
		return db
	}
	db, err := sql.Open(driver, dsn)
	require.NoError(t, err)
	db.SetMaxOpenConns(4)
	require.NoError(t, db.Ping(), "cannot reach the test database; check %s", dsn)
	admins[dsn] = db
	return db
}

func TestMain(m *testing.M) {
	code := m.Run()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, d := range pgDatabases {
		if _, err := d.admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+d.name+" WITH (FORCE)"); err != nil {
			fmt.Fprintf(os.Stderr, "drop database %s: %v\n", d.name, err)
		}
	}
	for _, db := range admins {
		_ = db.Close()
	}
	os.Exit(code)
}

// pgDatabase is a PostgreSQL database that this test process created: the
// stores live in schemas of it. CREATE DATABASE costs about a second here
// (a WAL-logged copy of template1), too much for each of a hundred stores;
// a schema isolates a store as well.
type pgDatabase struct {
	name  string
	admin *sql.DB // the connection that created it
	conn  *sql.DB // a connection to it
}

var pgDatabases = map[string]*pgDatabase{} // by admin DSN; under adminMu

// createPostgresDatabase creates a database, dropped in t.Cleanup, and
// returns its name and the configuration that connects to it.
func createPostgresDatabase(t testing.TB) (string, *pgx.ConnConfig) {
	t.Helper()
	adminDSN := dsn(t, envPostgres)
	a := admin(t, "pgx", adminDSN)
	name := dbName()
	_, err := a.Exec("CREATE DATABASE " + name)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := a.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	cfg, err := pgx.ParseConfig(adminDSN)
	require.NoError(t, err)
	cfg.Database = name
	return name, cfg
}

// sharedPostgres returns the database of this test process, creating it on
// first use.
func sharedPostgres(t testing.TB) (*pgDatabase, *pgx.ConnConfig) {
	t.Helper()
	adminDSN := dsn(t, envPostgres)
	a := admin(t, "pgx", adminDSN)
	cfg, err := pgx.ParseConfig(adminDSN)
	require.NoError(t, err)
	adminMu.Lock()
	defer adminMu.Unlock()
	d := pgDatabases[adminDSN]
	if d == nil {
		d = &pgDatabase{name: dbName(), admin: a}
		_, err := a.Exec("CREATE DATABASE " + d.name)
		require.NoError(t, err)
		c := cfg.Copy()
		c.Database = d.name
		d.conn = stdlib.OpenDB(*c)
		d.conn.SetMaxOpenConns(4)
		pgDatabases[adminDSN] = d
		admins["pg:"+d.name] = d.conn
	}
	cfg.Database = d.name
	return d, cfg
}

// openPostgres returns a connection to a new, empty schema, dropped in
// t.Cleanup.
func openPostgres(t testing.TB, variant string) *sql.DB {
	t.Helper()
	db := sql.OpenDB(postgresConnector(t, variant))
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// postgresConnector returns a connector to a new, empty schema, dropped in
// t.Cleanup.
func postgresConnector(t testing.TB, variant string) driver.Connector {
	t.Helper()
	d, cfg := sharedPostgres(t)
	schema := "s_" + dbName()
	_, err := d.conn.Exec("CREATE SCHEMA " + schema)
	require.NoError(t, err)
	cfg.RuntimeParams["search_path"] = schema
	switch variant {
	case "":
	case "simple":
		// What PgBouncer in transaction mode needs: no prepared statements.
		cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
		cfg.RuntimeParams["timezone"] = "Asia/Kolkata"
	default:
		t.Fatalf("unknown variant %q", variant)
	}
	t.Cleanup(func() {
		// After the cleanups registered later: the store's *sql.DB is
		// closed by then.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := d.conn.ExecContext(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return stdlib.GetConnector(*cfg)
}

func openMySQL(t testing.TB, variant string) *sql.DB {
	t.Helper()
	db := sql.OpenDB(mysqlConnector(t, variant))
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// mysqlConnector returns a connector to a new, empty database, dropped in
// t.Cleanup.
func mysqlConnector(t testing.TB, variant string) driver.Connector {
	t.Helper()
	adminDSN := dsn(t, envMySQL)
	a := admin(t, "mysql", adminDSN)
	name := dbName()
	_, err := a.Exec("CREATE DATABASE " + name)
	require.NoError(t, err)
	cfg, err := mysql.ParseDSN(adminDSN)
	require.NoError(t, err)
	cfg.DBName = name
	switch variant {
	case "":
	case "parsetime":
		// Times parsed by the driver in a location that is not UTC, a
		// session time zone that is not UTC, and parameters interpolated
		// by the driver.
		loc, err := time.LoadLocation("America/New_York")
		require.NoError(t, err)
		cfg.ParseTime, cfg.Loc, cfg.InterpolateParams = true, loc, true
		if cfg.Params == nil {
			cfg.Params = map[string]string{}
		}
		cfg.Params["time_zone"] = "'+05:00'"
	case "foundrows":
		cfg.ClientFoundRows = true
	default:
		t.Fatalf("unknown variant %q", variant)
	}
	c, err := mysql.NewConnector(cfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		// After the cleanups registered later: the store's *sql.DB is
		// closed by then.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := a.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	return c
}

func openSQLite(t testing.TB, variant string) *sql.DB {
	t.Helper()
	if variant != "" {
		t.Fatalf("unknown variant %q", variant)
	}
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "wasend.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// newStore returns a migrated store on a fresh database.
func newStore(t testing.TB, b backend, variant string, opts ...sqlstore.Option) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.New(b.open(t, variant), opts...)
	require.NoError(t, err)
	require.Equal(t, b.dialect, s.Dialect())
	require.NoError(t, s.Migrate(t.Context()))
	return s
}

// forEach runs f as a parallel subtest for each backend.
func forEach(t *testing.T, f func(t *testing.T, b backend)) {
	for _, b := range backends {
		t.Run(string(b.dialect), func(t *testing.T) {
			t.Parallel()
			f(t, b)
		})
	}
}

// count runs a COUNT query on the store's database.
func count(t testing.TB, s *sqlstore.Store, query string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, s.DB().QueryRowContext(context.Background(), query, args...).Scan(&n), query)
	return n
}
