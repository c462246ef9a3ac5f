package benchriver

import (
	"context"
	"database/sql"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// counter is a pgx QueryTracer that counts what a pool executes: the
// statements, and the transactions they commit. It is safe for concurrent
// use.
type counter struct {
	stmts   atomic.Int64 // statements, BEGIN, COMMIT and ROLLBACK excluded
	commits atomic.Int64 // COMMITs, and statements run outside a transaction
}

var _ pgx.QueryTracer = (*counter)(nil)

// TraceQueryStart counts one statement. A statement that starts while its
// connection is outside a transaction is a transaction of its own.
func (c *counter) TraceQueryStart(ctx context.Context, conn *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	word, _, _ := strings.Cut(strings.TrimSpace(data.SQL), " ")
	switch strings.ToLower(word) {
	case "begin", "rollback":
	case "commit":
		c.commits.Add(1)
	default:
		c.stmts.Add(1)
		if conn.PgConn().TxStatus() == 'I' {
			c.commits.Add(1)
		}
	}
	return ctx
}

// TraceQueryEnd does nothing.
func (c *counter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// counts is a snapshot of a counter.
type counts struct{ stmts, commits int64 }

func (c *counter) snapshot() counts { return counts{c.stmts.Load(), c.commits.Load()} }

func (a counts) sub(b counts) counts { return counts{a.stmts - b.stmts, a.commits - b.commits} }

// tracedConfig parses dsn into a pgx configuration whose statements c
// counts.
func tracedConfig(tb testing.TB, dsn string, c *counter) *pgx.ConnConfig {
	tb.Helper()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		tb.Fatalf("parsing %s: %v", dsn, err)
	}
	cfg.Tracer = c
	return cfg
}

// dbStats is a snapshot of one database's row of pg_stat_database.
type dbStats struct {
	commits, inserted, updated, deleted int64
}

func (a dbStats) sub(b dbStats) dbStats {
	return dbStats{a.commits - b.commits, a.inserted - b.inserted, a.updated - b.updated, a.deleted - b.deleted}
}

func (a dbStats) writes() int64 { return a.inserted + a.updated + a.deleted }

// statsReader reads pg_stat_database through a connection to another
// database (the one the test DSN names), so that reading adds nothing to
// the figures read.
type statsReader struct{ admin *sql.DB }

func newStatsReader(tb testing.TB, adminDSN string) statsReader {
	tb.Helper()
	admin, err := sql.Open("pgx", adminDSN)
	if err != nil {
		tb.Fatalf("opening %s: %v", adminDSN, err)
	}
	admin.SetMaxOpenConns(1)
	tb.Cleanup(func() { _ = admin.Close() })
	return statsReader{admin}
}

// read returns the database's statistics as PostgreSQL last received them.
// A backend sends its own at most once a second while busy, within a
// second of going idle, and when it exits.
func (r statsReader) read(tb testing.TB, dbname string) dbStats {
	tb.Helper()
	var s dbStats
	err := r.admin.QueryRowContext(context.Background(),
		"SELECT xact_commit, tup_inserted, tup_updated, tup_deleted FROM pg_stat_database WHERE datname = $1",
		dbname).Scan(&s.commits, &s.inserted, &s.updated, &s.deleted)
	if err != nil {
		tb.Fatalf("reading pg_stat_database for %s: %v", dbname, err)
	}
	return s
}

// settled waits until no backend is connected to the database (the caller
// has closed every pool), and returns its statistics once two readings
// agree: every backend has then sent its figures on exit.
func (r statsReader) settled(tb testing.TB, dbname string) dbStats {
	tb.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var n int
		if err := r.admin.QueryRowContext(ctx, "SELECT count(*) FROM pg_stat_activity WHERE datname = $1", dbname).Scan(&n); err != nil {
			tb.Fatalf("reading pg_stat_activity: %v", err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%d backends still connected to %s after 30 s", n, dbname)
		}
		time.Sleep(20 * time.Millisecond)
	}
	last := r.read(tb, dbname)
	for {
		time.Sleep(200 * time.Millisecond)
		s := r.read(tb, dbname)
		if s == last {
			return s
		}
		last = s
	}
}

// result is what one side's run measured.
type result struct {
	rate   float64 // messages per second, first insert to last completion
	client counts  // the system's own pools, from the first insert to their close
	server dbStats // its database, over the counts' window (doc.go), less the benchmark's polls
}

// perMsg returns v per message of n.
func perMsg(v int64, n int) float64 { return float64(v) / float64(n) }
