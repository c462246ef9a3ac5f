// Package testenv gives tests and benchmarks the services they need: the
// real Redis, PostgreSQL, MariaDB and Chromium named by environment
// variables (scripts/test-env.sh prints them). A service whose variable is
// unset skips the test with a message, and fails it under CI=true, where
// every integration test must run.
package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"os/exec"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// The environment variables that name the services.
const (
	EnvPostgres = "WASEND_TEST_POSTGRES" // postgres://postgres@127.0.0.1:5432/test?sslmode=disable
	EnvMySQL    = "WASEND_TEST_MYSQL"    // root@tcp(127.0.0.1:3306)/test
	EnvRedis    = "WASEND_TEST_REDIS"    // 127.0.0.1:6379
	EnvChromium = "WASEND_TEST_CHROMIUM" // /usr/bin/chromium
)

// CI reports whether integration tests are required (CI=true).
func CI() bool { return os.Getenv("CI") == "true" }

// Lookup returns the value of the environment variable env. When it is
// unset, it skips tb, or fails it under CI=true.
func Lookup(tb testing.TB, env string) string {
	tb.Helper()
	v := os.Getenv(env)
	if v == "" {
		if CI() {
			tb.Fatalf("%s is not set, and CI=true requires this integration test (run scripts/test-env.sh)", env)
		}
		tb.Skipf("%s is not set: set it (see scripts/test-env.sh) to run this test", env)
	}
	return v
}

// RedisAddr returns the address of the test Redis.
func RedisAddr(tb testing.TB) string { return Lookup(tb, EnvRedis) }

// Chromium returns the path of the test browser: WASEND_TEST_CHROMIUM, or
// chromium on the PATH.
func Chromium(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv(EnvChromium); p != "" {
		return p
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	return Lookup(tb, EnvChromium)
}

// Name returns a random name with the prefix, for databases and keys.
func Name(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// PostgresDB creates an empty PostgreSQL database for tb, dropped when tb
// ends, and returns it opened with the pgx driver, and its DSN.
func PostgresDB(tb testing.TB) (*sql.DB, string) {
	tb.Helper()
	dsn := Lookup(tb, EnvPostgres)
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		tb.Fatalf("opening %s: %v", dsn, err)
	}
	name := Name("wasend_b_")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("creating database %s: %v", name, err)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		tb.Fatalf("parsing %s: %v", dsn, err)
	}
	u.Path = "/" + name
	db, err := sql.Open("pgx", u.String())
	if err != nil {
		tb.Fatalf("opening %s: %v", name, err)
	}
	tb.Cleanup(func() {
		_ = db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		_ = admin.Close()
	})
	return db, u.String()
}
