package benchriver

import (
	"bytes"
	"context"
	"database/sql"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

var breakdown = flag.Bool("breakdown", false, "log each side's statements by kind, per message")

// counter is a pgx QueryTracer that counts what a pool executes: the
// statements, and the transactions they commit. It is safe for concurrent
// use.
type counter struct {
	stmts   atomic.Int64 // statements, BEGIN, COMMIT and ROLLBACK excluded
	commits atomic.Int64 // COMMITs, and statements run outside a transaction

	// kinds counts the statements by their start (with -breakdown).
	mu    sync.Mutex
	kinds map[string]int64
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
	if *breakdown {
		c.mu.Lock()
		if c.kinds == nil {
			c.kinds = map[string]int64{}
		}
		c.kinds[statementKind(data.SQL, conn.PgConn().TxStatus())]++
		c.mu.Unlock()
	}
	return ctx
}

// statementKind names a statement for the breakdown: its first words, the
// tables it names, and whether it ran in a transaction.
func statementKind(sql string, tx byte) string {
	f := strings.Fields(sql)
	var tables []string
	for i, w := range f {
		lw := strings.ToUpper(w)
		if (lw == "FROM" || lw == "INTO" || lw == "UPDATE" || lw == "JOIN") && i+1 < len(f) {
			t := strings.Trim(f[i+1], "(),")
			if t != "" && !strings.HasPrefix(t, "$") && !slices.Contains(tables, t) {
				tables = append(tables, t)
			}
		}
	}
	head := strings.Join(f[:min(2, len(f))], " ")
	where := "in tx"
	if tx == 'I' {
		where = "alone"
	}
	return fmt.Sprintf("%s … [%s] (%s)", head, strings.Join(tables, " "), where)
}

// logBreakdown logs c's statements by kind, most frequent first, per
// message of n.
func (c *counter) logBreakdown(tb testing.TB, name string, n int) {
	if !*breakdown {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	type kv struct {
		k string
		v int64
	}
	var all []kv
	for k, v := range c.kinds {
		all = append(all, kv{k, v})
	}
	slices.SortFunc(all, func(a, b kv) int { return int(b.v - a.v) })
	for _, e := range all {
		tb.Logf("%s: %.3f/msg %s", name, perMsg(e.v, n), e.k)
	}
}

// TraceQueryEnd does nothing.
func (c *counter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// counts is a snapshot of a counter.
type counts struct{ stmts, commits int64 }

// snapshot returns the counts so far, and starts the breakdown afresh.
func (c *counter) snapshot() counts {
	c.mu.Lock()
	c.kinds = nil
	c.mu.Unlock()
	return counts{c.stmts.Load(), c.commits.Load()}
}

// counts returns the counts so far.
func (c *counter) counts() counts { return counts{c.stmts.Load(), c.commits.Load()} }

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

// cpu is CPU time spent: by this process (the benchmark and the system
// under measurement, since one side runs at a time), and by the
// PostgreSQL backends connected to one database.
type cpu struct{ self, db time.Duration }

func (a cpu) sub(b cpu) cpu { return cpu{a.self - b.self, a.db - b.db} }

// clockTick is the unit of /proc/<pid>/stat's times (USER_HZ, 100 on
// Linux).
const clockTick = 10 * time.Millisecond

// cpuNow reads this process's CPU time (getrusage) and the CPU time of the
// backends connected to dbname (/proc/<pid>/stat, utime and stime, of the
// pids pg_stat_activity gives: the server must run on this machine). A
// backend that exits takes its time with it: both systems keep their
// connections open until the end of a run.
func (r statsReader) cpuNow(tb testing.TB, dbname string) cpu {
	tb.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatalf("getrusage: %v", err)
	}
	c := cpu{self: time.Duration(ru.Utime.Nano() + ru.Stime.Nano())}
	rows, err := r.admin.QueryContext(context.Background(), "SELECT pid FROM pg_stat_activity WHERE datname = $1", dbname)
	if err != nil {
		tb.Fatalf("reading pg_stat_activity: %v", err)
	}
	defer rows.Close()
	for rows.Next() {
		var pid int
		if err := rows.Scan(&pid); err != nil {
			tb.Fatal(err)
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue // gone, or the server is elsewhere
		}
		// The fields after the command's closing parenthesis: utime and
		// stime are the 12th and 13th of them (fields 14 and 15).
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(f) < 13 {
			continue
		}
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		c.db += time.Duration(ut+st) * clockTick
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return c
}

// result is what one side's run measured.
type result struct {
	rate   float64 // messages per second, first insert to last completion
	client counts  // the system's own pools, from the first insert to their close
	server dbStats // its database, over the counts' window (doc.go), less the benchmark's polls
	cpu    cpu     // from the first insert to the last completion
}

// perMsg returns v per message of n.
func perMsg(v int64, n int) float64 { return float64(v) / float64(n) }
