package benchriver

import (
	"flag"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/wasend/wasend/internal/testenv"
	"github.com/wasend/wasend/sqlstore"
)

// The shape both sides share.
const (
	// producers is how many goroutines insert at once.
	producers = 8
	// poolConns is each side's connections to PostgreSQL (internal/bench
	// gives sqlstore 16).
	poolConns = 16
	// pollInterval is how often the benchmark counts completed rows once
	// the workers have seen every message.
	pollInterval = 5 * time.Millisecond
	// settleTime is the pause before wasend's window opens, in which the
	// backends that did its setup send PostgreSQL their statistics: a
	// backend sends them at most once a second, and one that goes idle
	// within a second of its last report sends them 10 seconds later
	// (PGSTAT_MIN_INTERVAL and PGSTAT_IDLE_INTERVAL in pgstat.c).
	settleTime = 11 * time.Second
)

var (
	messages      = flag.Int("messages", 20000, "messages (jobs) per side and run")
	riverWorkers  = flag.Int("river-workers", 100, "River's MaxWorkers on its one queue (the value of River's README)")
	riverWide     = flag.Int("river-wide-workers", 1000, "River's MaxWorkers in the second River run, whose fetch debounce cannot be its limit")
	riverCooldown = flag.Duration("river-cooldown", river.FetchCooldownDefault, "River's FetchCooldown, for both River runs")
	firstSide     = flag.Int("first", 0, "the side that runs first in the first iteration: 0 wasend, 1 River, 2 River with -river-wide-workers, 3 wasend with sqlstore's default")
	onlyWasend    = flag.Bool("only-wasend", false, "run wasend's side only, to iterate on it (no ratio then)")
	groupCommit   = flag.Int("group-commit", 2, "sqlstore's WithGroupCommit for wasend's side")
	baseline      = flag.Bool("baseline", true, "run wasend a second time with sqlstore's default (DefaultGroupCommit), as the baseline of the same run")
)

// runs counts the iterations across -count runs, to rotate the order.
var runs atomic.Int64

// side is one system under measurement.
type side struct {
	name string
	run  func() result
}

// BenchmarkPipelineVsRiver sends -messages messages through wasend
// (Client.Send, sqlstore on PostgreSQL, redisqueue on Redis, a session that
// does nothing) and the same number of jobs through River twice
// (Client.Insert, riverpgxv5, a worker that does nothing): with
// -river-workers, and with -river-wide-workers. Each runs in a database of
// its own on the same server, in an order that rotates between iterations.
// It reports the rates, wasend's ratio to each River run, and wasend's and
// the first River run's statements, commits and row writes per message.
func BenchmarkPipelineVsRiver(b *testing.B) {
	redisAddr := testenv.RedisAddr(b)
	stats := newStatsReader(b, testenv.Lookup(b, testenv.EnvPostgres))
	n := *messages
	sides := []side{
		{fmt.Sprintf("wasend (group commit %d)", *groupCommit), func() result {
			return runWasend(b, stats, redisAddr, n, *groupCommit)
		}},
		{fmt.Sprintf("River (MaxWorkers %d)", *riverWorkers), func() result {
			return runRiver(b, stats, n, *riverWorkers, *riverCooldown)
		}},
		{fmt.Sprintf("River (MaxWorkers %d)", *riverWide), func() result {
			return runRiver(b, stats, n, *riverWide, *riverCooldown)
		}},
	}
	if *baseline {
		sides = append(sides, side{fmt.Sprintf("wasend (group commit %d)", sqlstore.DefaultGroupCommit), func() result {
			return runWasend(b, stats, redisAddr, n, sqlstore.DefaultGroupCommit)
		}})
	}
	if *firstSide < 0 || *firstSide >= len(sides) {
		b.Fatalf("-first %d: want 0 to %d", *firstSide, len(sides)-1)
	}
	got := make([][]result, len(sides))
	for range b.N {
		first := (*firstSide + int(runs.Add(1)-1)) % len(sides)
		var order []string
		for k := range sides {
			i := (first + k) % len(sides)
			if *onlyWasend && i != 0 && i != 3 {
				continue
			}
			r := sides[i].run()
			got[i] = append(got[i], r)
			order = append(order, fmt.Sprintf("%s %.0f/s", sides[i].name, r.rate))
		}
		b.Logf("in this order: %s (FetchCooldown %s)", strings.Join(order, ", "), *riverCooldown)
		for i, s := range sides {
			if len(got[i]) > 0 {
				b.Logf("%s", got[i][len(got[i])-1].describe(s.name, n))
			}
		}
	}
	mean(got[0], n).report(b, "wasend", "msgs")
	if *baseline {
		mean(got[3], n).report(b, "baseline", "msgs")
	}
	if *onlyWasend {
		b.ReportMetric(0, "ns/op")
		return
	}
	w, r, wide := mean(got[0], n), mean(got[1], n), mean(got[2], n)
	r.report(b, "river", "jobs")
	b.ReportMetric(wide.rate, "river-wide-jobs/s")
	b.ReportMetric(w.rate/r.rate, "ratio")
	b.ReportMetric(w.rate/wide.rate, "ratio-wide")
	if *baseline {
		b.ReportMetric(mean(got[3], n).rate/r.rate, "baseline-ratio")
	}
	b.ReportMetric(0, "ns/op") // the figures above are the result
}

// describe tells a run's counts per message, for the log.
func (r result) describe(name string, n int) string {
	return fmt.Sprintf("%s, per message: %.2f statements, %.2f commits (%.2f by the client's count), "+
		"%.2f rows inserted, %.2f updated, %.2f deleted; CPU %.3f ms in its PostgreSQL backends, %.3f ms in this process",
		name, perMsg(r.client.stmts, n), perMsg(r.server.commits, n), perMsg(r.client.commits, n),
		perMsg(r.server.inserted, n), perMsg(r.server.updated, n), perMsg(r.server.deleted, n),
		msPerMsg(r.cpu.db, n), msPerMsg(r.cpu.self, n))
}

// figures are one side's reported figures, averaged over its runs.
type figures struct{ rate, stmts, commits, writes, dbCPU, selfCPU float64 }

func mean(rs []result, n int) figures {
	var f figures
	for _, r := range rs {
		f.rate += r.rate
		f.stmts += perMsg(r.client.stmts, n)
		f.commits += perMsg(r.server.commits, n)
		f.writes += perMsg(r.server.writes(), n)
		f.dbCPU += msPerMsg(r.cpu.db, n)
		f.selfCPU += msPerMsg(r.cpu.self, n)
	}
	k := float64(len(rs))
	return figures{f.rate / k, f.stmts / k, f.commits / k, f.writes / k, f.dbCPU / k, f.selfCPU / k}
}

// report reports f as metrics named after prefix; unit names what the
// rate counts.
func (f figures) report(b *testing.B, prefix, unit string) {
	b.ReportMetric(f.rate, prefix+"-"+unit+"/s")
	b.ReportMetric(f.stmts, prefix+"-stmts/msg")
	b.ReportMetric(f.commits, prefix+"-commits/msg")
	b.ReportMetric(f.writes, prefix+"-writes/msg")
	b.ReportMetric(f.dbCPU, prefix+"-db-cpu-ms/msg")
	b.ReportMetric(f.selfCPU, prefix+"-go-cpu-ms/msg")
}

// msPerMsg returns d in milliseconds per message of n.
func msPerMsg(d time.Duration, n int) float64 {
	return float64(d) / float64(time.Millisecond) / float64(n)
}

// databaseName returns the database a DSN names.
func databaseName(b *testing.B, dsn string) string {
	b.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		b.Fatalf("parsing %s: %v", dsn, err)
	}
	return strings.TrimPrefix(u.Path, "/")
}

// benchPhone and benchText are message i's number and text: the same on
// both sides.
func benchPhone(i int) string { return fmt.Sprintf("+1415555%04d", i%10000) }

func benchText(i int) string { return "benchmark message " + strconv.Itoa(i%producers) }

// produce calls insert for 0 to n-1 from producers goroutines at once, and
// returns when every call has returned. It ends the benchmark on the first
// error.
func produce(b *testing.B, n int, insert func(i int) error) {
	b.Helper()
	var wg sync.WaitGroup
	var next atomic.Int64
	var failed atomic.Bool
	for range producers {
		wg.Go(func() {
			for !failed.Load() {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				if err := insert(int(i)); err != nil {
					failed.Store(true)
					b.Errorf("insert %d: %v", i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if failed.Load() {
		b.FailNow()
	}
}
