// Command chaos is wasend's fault-injection suite (make chaos).
//
// It runs real OS processes against a real Redis, PostgreSQL, Chromium and
// the project's local WhatsApp Web (internal/fakewa), whose oracle records
// every message that arrived: 3 worker processes (internal/chaos/worker)
// share 10 browser contexts, each a persistent Chrome profile. Each worker
// has a profile root of its own, as on separate machines, and the logins
// move between them through PostgreSQL (chromedpdriver.WithProfileStore on
// sqlstore's Profiles): a worker that takes a context over restores its
// login from the latest snapshot, without a QR code (-shared-profiles puts
// every profile under one root instead, a shared disk). The orchestrator (this program) submits at least 2,000
// messages, single and bulk, through its own wasend.Client, and while they
// are being sent it
//
//   - kills worker w1 with SIGKILL, and restarts it later;
//   - restarts Redis without persistence (every delivery and lease is lost);
//   - kills the main process of one Chrome with SIGKILL;
//   - cuts the workers' database connections for a few seconds (they reach
//     PostgreSQL through a TCP proxy of this program);
//   - stops worker w2 with SIGSTOP for 8 s, past its lease, while its
//     Chromes keep running, then continues it.
//
// The faults take 15-second slots from 20 s after the first submission, in
// the order of -faults (default
// kill-worker,restart-redis,kill-chrome,cut-db,stop-worker: kill at +20 s,
// restart at +35 s, Redis at +50 s, Chrome at +65 s, database at +80 s,
// SIGSTOP at +95 s; the submissions span 90 s). One more fault can be added
// or put in the list: freeze-db (the database network holds every byte for
// -db-cut instead of refusing: connections stay open).
//
// # Judged at quiescence
//
// The run is judged when it is quiescent, never at a fixed deadline, so the
// verdict does not depend on how fast the machine is: a slow one only makes
// the run longer. Every second the orchestrator samples the progress: the
// messages the local WhatsApp Web received, the messages by context and
// status, the final jobs by context, kind and status, the jobs not final and
// the attempts they spent, and the jobs submitted. The run ends
//
//   - quiescent, when the submissions and the faults are done and every job
//     is final;
//   - stalled, when none of those changed for the stall window (-stall,
//     default 5 minutes). The window starts at the last change or, when a
//     job then waited for a next_run_at in the future (a backoff), at that
//     next_run_at, whichever is later. It is far longer than the longest
//     healthy wait that shows no progress: a send and the duplicate-send
//     guard before it (30 s each), a record retried while the store fails
//     (2 min), the sweep of jobs the queue lost (1 min 15 s with the
//     defaults). A job handed back to wait for its context, or a context
//     changing status, is not progress: a run that can no longer deliver
//     does both forever;
//   - hung, when it is still progressing after the cap (-cap, default 45
//     minutes, counted from the start of the suite): a guard so that a run
//     never lasts forever.
//
// Only then is a message that did not arrive counted: lost in a quiescent
// or stalled run, late (not lost) in a hung one when its job is not final.
//
// It prints one line of figures: messages requested, delivered once,
// delivered twice (or more), lost (never delivered, or recorded failed),
// jobs not in a final status, browser contexts stuck busy, the time the
// whole run took, how it ended (quiescent, stalled or hung), the send
// phase's time (from the first submission until every job was final; until
// the last progress in a stalled run) and the messages delivered per second
// in it, the late messages, and the stall window:
//
//	chaos: requested=2000 delivered_once=2000 delivered_twice=0 lost=0 unfinished=0 stuck_busy=0 elapsed=6m3s end=quiescent send=5m48s msgs_per_s=5.75 late=0 stall_window=5m0s qr_logins=0 restores=7
//
// The last two fields say whether logins moved: qr_logins counts the QR
// codes scanned after every context was first logged in (the local
// WhatsApp Web counts the devices linked to each account), and restores
// the logins that workers restored from a snapshot (their logs). With a
// root per worker, a takeover must not need a person with a phone.
//
// It exits 1 unless the run was quiescent and duplicated, lost, late,
// unfinished and stuck are all 0, and, with a root per worker, qr_logins
// is 0 and (when a worker was killed) restores is not.
//
// It needs WASEND_TEST_POSTGRES (an admin DSN: it creates and drops its own
// database), redis-server in PATH (it runs its own, on a free port) and
// Chromium; scripts/test-env.sh sets them up:
//
//	make chaos
//	eval "$(scripts/test-env.sh)" && go run ./internal/chaos [-keep] [-v] [-faults ...]
//
// The workers' logs (w1.log, w2.log, w3.log), the orchestrator's and
// Redis's are in a temporary folder, removed after a run that passed and
// kept (its path printed) otherwise, or with -keep. On failure, detail
// lines name each lost, duplicated or unfinished message with its job,
// statuses and errors, and what Redis holds for the contexts concerned.
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/internal/fakewa"
	"github.com/wasend/wasend/redisqueue"
	"github.com/wasend/wasend/sqlstore"
)

// queuePrefix is the prefix of the queues of the run, in this process and
// in the workers.
const queuePrefix = "chaos"

type options struct {
	workers   int
	contexts  int
	singles   int
	bulks     int
	bulkSize  int
	submitFor time.Duration
	stall     time.Duration
	cap       time.Duration
	seed      uint64
	keep      bool
	verbose   bool
	cutFor    time.Duration
	faults    string
	// sharedProfiles puts the workers' Chrome profiles under one root, as
	// before the profile store; by default each worker has its own root
	// and the logins move between them through the database.
	sharedProfiles bool
}

func main() {
	var o options
	flag.IntVar(&o.workers, "workers", 3, "worker processes")
	flag.IntVar(&o.contexts, "contexts", 10, "browser contexts")
	flag.IntVar(&o.singles, "singles", 1000, "single jobs")
	flag.IntVar(&o.bulks, "bulks", 50, "bulk jobs")
	flag.IntVar(&o.bulkSize, "bulk-size", 20, "messages per bulk job")
	flag.DurationVar(&o.submitFor, "submit-for", 90*time.Second, "spread the submissions over this long")
	flag.DurationVar(&o.stall, "stall", defaultStall,
		"stall window: judge the run stalled, and count what was not delivered as lost, once nothing has progressed for this long "+
			"(no message received, no message or job status changed, no attempt spent, no job submitted; counted from a next_run_at then in the future)")
	flag.DurationVar(&o.cap, "cap", defaultCap,
		"end a run still progressing after this long in all, as hung (its undelivered messages are late, not lost)")
	flag.Uint64Var(&o.seed, "seed", 1, "seed of the load's random choices")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary folder (logs, profiles) even on success")
	flag.BoolVar(&o.verbose, "v", false, "debug logs in the workers")
	flag.DurationVar(&o.cutFor, "db-cut", 4*time.Second, "how long the database connection is cut")
	flag.StringVar(&o.faults, "faults", "kill-worker,restart-redis,kill-chrome,cut-db,stop-worker",
		"faults to inject, in schedule order (kill-worker also restarts it later; \"none\" for none)")
	flag.BoolVar(&o.sharedProfiles, "shared-profiles", false,
		"one profile root for every worker (a shared disk), instead of a root per worker and the logins in PostgreSQL")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second Ctrl-C ends the program at once; the children die with it
	}()
	code := run(ctx, o)
	os.Exit(code)
}

// logf prints a timeline line.
func logf(format string, args ...any) {
	fmt.Printf("chaos: "+format+"\n", args...)
}

// suite holds what one run set up; cleanup undoes it.
type suite struct {
	o        options
	start    time.Time
	dir      string
	profiles string

	redis   *redisServer
	proxy   *dbProxy
	fake    *fakewa.Server
	waURL   string
	adminDB *sql.DB
	dbName  string
	db      *sql.DB
	store   *sqlstore.Store
	queue   *redisqueue.Queue
	client  *wasend.Client
	workers []*worker
	ctxIDs  []int64
	// links counts the devices linked to each context's account when
	// every context was logged in: a QR code scanned after that is a
	// login that did not move.
	links map[int64]int

	cleanups []func()
}

func (s *suite) onCleanup(f func()) { s.cleanups = append(s.cleanups, f) }

func (s *suite) cleanup() {
	for i := len(s.cleanups) - 1; i >= 0; i-- {
		s.cleanups[i]()
	}
}

func (s *suite) elapsed() time.Duration { return time.Since(s.start).Round(100 * time.Millisecond) }

func run(ctx context.Context, o options) (code int) {
	s := &suite{o: o, start: time.Now()}
	failed := true
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintln(os.Stderr, "chaos: panic:", r)
			code = 2
		}
		s.cleanup()
		if s.dir != "" {
			if failed || o.keep {
				logf("logs and profiles kept in %s", s.dir)
			} else {
				_ = os.RemoveAll(s.dir)
			}
		}
	}()
	if err := s.setup(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "chaos: setup:", err)
		s.printLogPaths()
		return 2
	}
	res, err := s.exercise(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		s.printLogPaths()
		return 2
	}
	res.qrLogins, res.restores = s.newLinks(), s.restores()
	res.moved = !o.sharedProfiles
	res.wantRestore = res.moved && slices.Contains(strings.Split(o.faults, ","), "kill-worker")
	fmt.Println(res.line(s.elapsed()))
	if res.ok() {
		failed = false
		return 0
	}
	res.details(os.Stdout)
	s.printLogPaths()
	return 1
}

func (s *suite) printLogPaths() {
	if s.dir == "" {
		return
	}
	logf("logs: %s", filepath.Join(s.dir, "*.log"))
	for _, w := range s.workers {
		logf("  %s: %s", w.name, w.logPath)
	}
}

// setup starts the services, the worker processes, and waits until every
// browser context is logged in.
func (s *suite) setup(ctx context.Context) error {
	o := s.o
	adminDSN := os.Getenv("WASEND_TEST_POSTGRES")
	if adminDSN == "" {
		return errors.New("WASEND_TEST_POSTGRES is not set (run: eval \"$(scripts/test-env.sh)\")")
	}
	if _, err := exec.LookPath("redis-server"); err != nil {
		return errors.New("redis-server is not installed (run scripts/test-env.sh)")
	}
	dir, err := os.MkdirTemp("", "wasend-chaos-")
	if err != nil {
		return err
	}
	s.dir = dir
	s.profiles = filepath.Join(dir, "profiles")
	s.onCleanup(func() {
		if n := killAllUnder(s.profiles); n > 0 {
			logf("killed %d leftover Chrome processes", n)
		}
	})
	logf("temporary folder %s", dir)

	// Build the worker first: it takes the longest and needs nothing.
	bin := filepath.Join(dir, "worker")
	buildStart := time.Now()
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	goCmd := os.Getenv("GO")
	if goCmd == "" {
		goCmd = "go"
	}
	build := exec.CommandContext(ctx, goCmd, "build", "-o", bin, "./internal/chaos/worker")
	build.Dir = root
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("building the worker: %w", err)
	}
	logf("worker built in %s", time.Since(buildStart).Round(100*time.Millisecond))

	// Redis, our own.
	s.redis, err = startRedis(dir)
	if err != nil {
		return err
	}
	s.onCleanup(s.redis.kill)
	logf("redis-server on %s (no persistence)", s.redis.addr())

	// PostgreSQL: a fresh database, and a proxy for the workers.
	if err := s.setupDB(ctx, adminDSN); err != nil {
		return err
	}

	// The local WhatsApp Web, with short timings.
	s.fake = fakewa.New(
		fakewa.WithBootDelay(100*time.Millisecond),
		fakewa.WithLoadingDelay(100*time.Millisecond),
		fakewa.WithStartingChatDelay(80*time.Millisecond),
		fakewa.WithTickDelays(50*time.Millisecond, 100*time.Millisecond, 100*time.Millisecond, 0))
	s.waURL, err = s.fake.Start()
	if err != nil {
		return err
	}
	s.onCleanup(func() { _ = s.fake.Close() })
	logf("local WhatsApp Web at %s", s.waURL)

	// The orchestrator's own client: it only submits.
	olog, err := os.Create(filepath.Join(dir, "orchestrator.log"))
	if err != nil {
		return err
	}
	s.onCleanup(func() { olog.Close() })
	logger := slog.New(slog.NewTextHandler(olog, &slog.HandlerOptions{Level: slog.LevelInfo})).With("proc", "orchestrator")
	redisqueue.SetTaskqLogger(logger)
	s.queue, err = redisqueue.New(redisqueue.WithAddr(s.redis.addr()), redisqueue.WithPrefix(queuePrefix),
		redisqueue.WithLogger(logger))
	if err != nil {
		return err
	}
	s.onCleanup(func() { _ = s.queue.Close() })
	s.client, err = wasend.New(noPool{}, s.queue, s.store, wasend.WithLogger(logger),
		wasend.WithLeaser(nil), wasend.WithMaxAttempts(10), wasend.WithPacing(wasend.NoPacing()), wasend.WithBreaker(wasend.Breaker{}))
	if err != nil {
		return err
	}
	s.onCleanup(func() { _ = s.client.Close() })

	// The browser contexts, recorded before any worker runs.
	for i := 1; i <= o.contexts; i++ {
		bc, err := s.store.CreateContext(ctx, wasend.BrowserContext{
			SystemID: systemIDOf(i), Status: wasend.ContextDisconnected})
		if err != nil {
			return err
		}
		s.ctxIDs = append(s.ctxIDs, bc.ID)
	}

	// The workers; each opens its share of the contexts, and all take over
	// what nobody holds.
	proxied, err := s.proxiedDSN()
	if err != nil {
		return err
	}
	takeover := (o.contexts + o.workers - 2) / max(o.workers-1, 1) // the survivors of one death hold all
	for i := range o.workers {
		var open []string
		for k, id := range s.ctxIDs {
			if share(k, o.contexts, o.workers) == i {
				open = append(open, strconv.FormatInt(id, 10))
			}
		}
		name := fmt.Sprintf("w%d", i+1)
		args := []string{"-name", name, "-redis", s.redis.addr(), "-prefix", queuePrefix, "-pg", proxied,
			"-wa", s.waURL, "-hook-token", s.fake.HookToken(),
			"-debug", filepath.Join(dir, "debug"), "-open", strings.Join(open, ","),
			"-takeover", strconv.Itoa(takeover), "-lease-ttl", "3s"}
		if o.verbose {
			args = append(args, "-v")
		}
		if o.sharedProfiles {
			args = append(args, "-profiles", s.profiles)
		} else {
			args = append(args, "-profiles", filepath.Join(s.profiles, name), "-profile-store", "-snapshot-interval", "30s")
		}
		w := &worker{name: name, bin: bin, args: args, logPath: filepath.Join(dir, name+".log")}
		s.workers = append(s.workers, w)
	}
	s.onCleanup(s.stopWorkers)
	for _, w := range s.workers {
		if err := w.start(); err != nil {
			return err
		}
	}
	logf("%d workers started (takeover up to %d contexts each), %d browser contexts", len(s.workers), takeover, o.contexts)

	// Wait for every context to log in.
	loginStart := time.Now()
	for {
		list, err := s.store.Contexts(ctx)
		if err != nil {
			return err
		}
		n := 0
		for _, bc := range list {
			if bc.Status == wasend.ContextAvailable {
				n++
			}
		}
		if n == len(list) {
			break
		}
		if time.Since(loginStart) > 3*time.Minute {
			return fmt.Errorf("only %d of %d browser contexts logged in after %s", n, len(list), time.Since(loginStart).Round(time.Second))
		}
		for _, w := range s.workers {
			if !w.alive() {
				return fmt.Errorf("worker %s exited during start-up (see %s)", w.name, w.logPath)
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	logf("all %d browser contexts logged in after %s", len(s.ctxIDs), time.Since(loginStart).Round(100*time.Millisecond))
	s.links = map[int64]int{}
	for _, id := range s.ctxIDs {
		s.links[id] = s.fake.Links(phoneOf(id))
	}
	if !o.sharedProfiles {
		// The first login snapshots are taken 10 s after a login: wait
		// for them, so that a worker killed at the first fault leaves
		// one for every context it held.
		if err := s.waitSnapshots(ctx); err != nil {
			return err
		}
	}
	return nil
}

// systemIDOf names the i-th browser context of the run.
func systemIDOf(i int) string { return fmt.Sprintf("persistent:chaos-%02d", i) }

// phoneOf returns the WhatsApp account of a browser context: the workers
// (internal/chaos/worker) scan every QR code of a context with it.
func phoneOf(contextID int64) string { return fmt.Sprintf("1555000%04d", contextID) }

// waitSnapshots waits until the database holds a login snapshot of every
// browser context.
func (s *suite) waitSnapshots(ctx context.Context) error {
	start := time.Now()
	profiles := s.store.Profiles(0)
	for {
		n := 0
		for _, id := range s.ctxIDs {
			bc, err := s.store.Context(ctx, id)
			if err != nil {
				return err
			}
			if _, err := profiles.LoadProfile(ctx, bc.SystemID); err == nil {
				n++
			}
		}
		if n == len(s.ctxIDs) {
			logf("a login snapshot of every context is in the database after %s", time.Since(start).Round(100*time.Millisecond))
			return nil
		}
		if time.Since(start) > 2*time.Minute {
			return fmt.Errorf("only %d of %d browser contexts have a login snapshot after %s", n, len(s.ctxIDs), time.Since(start).Round(time.Second))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// newLinks returns how many devices were linked to the contexts' accounts
// since every context was logged in: QR codes scanned during the run.
func (s *suite) newLinks() int {
	n := 0
	for id, before := range s.links {
		n += s.fake.Links(phoneOf(id)) - before
	}
	return n
}

// restores counts the logins the workers restored from a snapshot, from
// their logs.
func (s *suite) restores() int {
	n := 0
	for _, w := range s.workers {
		b, err := os.ReadFile(w.logPath)
		if err != nil {
			continue
		}
		n += strings.Count(string(b), "profile restored from its snapshot")
	}
	return n
}

// share assigns the k-th of n contexts to a worker, in runs: 4, 3, 3 for
// 10 contexts and 3 workers.
func share(k, n, workers int) int {
	base, extra := n/workers, n%workers
	for w := range workers {
		size := base
		if w < extra {
			size++
		}
		if k < size {
			return w
		}
		k -= size
	}
	return workers - 1
}

func (s *suite) setupDB(ctx context.Context, adminDSN string) error {
	admin, err := sql.Open("pgx", adminDSN)
	if err != nil {
		return err
	}
	s.adminDB = admin
	s.onCleanup(func() { _ = admin.Close() })
	var b [6]byte
	for i := range b {
		b[i] = byte(rand.IntN(256))
	}
	s.dbName = fmt.Sprintf("wasend_chaos_%x", b)
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(cctx, "CREATE DATABASE "+s.dbName); err != nil {
		return fmt.Errorf("creating database %s: %w", s.dbName, err)
	}
	s.onCleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+s.dbName+" WITH (FORCE)"); err != nil {
			logf("dropping database %s: %v", s.dbName, err)
		}
	})
	u, err := url.Parse(adminDSN)
	if err != nil {
		return err
	}
	u.Path = "/" + s.dbName
	s.db, err = sql.Open("pgx", u.String())
	if err != nil {
		return err
	}
	s.onCleanup(func() { _ = s.db.Close() })
	s.db.SetMaxOpenConns(10)
	s.store, err = sqlstore.New(s.db)
	if err != nil {
		return err
	}
	if err := s.store.Migrate(ctx); err != nil {
		return err
	}
	host := u.Host
	if u.Port() == "" {
		host += ":5432"
	}
	s.proxy, err = startProxy(host)
	if err != nil {
		return err
	}
	s.onCleanup(s.proxy.close)
	logf("PostgreSQL database %s, reached by the workers through the proxy %s", s.dbName, s.proxy.addr)
	return nil
}

func (s *suite) proxiedDSN() (string, error) {
	u, err := url.Parse(os.Getenv("WASEND_TEST_POSTGRES"))
	if err != nil {
		return "", err
	}
	u.Path = "/" + s.dbName
	u.Host = s.proxy.addr
	q := u.Query()
	q.Set("connect_timeout", "5")
	u.RawQuery = q.Encode()
	return u.String(), nil
}

func (s *suite) stopWorkers() {
	var wg sync.WaitGroup
	for _, w := range s.workers {
		wg.Go(func() { w.stop(20 * time.Second) })
	}
	wg.Wait()
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run make chaos from the wasend module")
	}
	return filepath.Dir(mod), nil
}

// noPool is the orchestrator's BrowserPool: it never launches anything,
// since the orchestrator only submits.
type noPool struct{}

func (noPool) Launch(context.Context, wasend.LaunchRequest) (wasend.Session, error) {
	return nil, errors.New("chaos: the orchestrator holds no session")
}

// holders returns the owner of each held context, by worker name.
func (s *suite) holders(ctx context.Context) map[int64]string {
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	h, err := s.queue.Holders(cctx, s.ctxIDs)
	if err != nil {
		return nil
	}
	out := make(map[int64]string, len(h))
	for id, owner := range h {
		name, _, _ := strings.Cut(owner, "-")
		out[id] = name
	}
	return out
}

func (s *suite) holdersText(ctx context.Context) string {
	h := s.holders(ctx)
	by := map[string][]int64{}
	for id, w := range h {
		by[w] = append(by[w], id)
	}
	var names []string
	for w := range by {
		names = append(names, w)
	}
	slices.Sort(names)
	var parts []string
	for _, w := range names {
		ids := by[w]
		slices.Sort(ids)
		parts = append(parts, fmt.Sprintf("%s%v", w, ids))
	}
	if free := len(s.ctxIDs) - len(h); free > 0 {
		parts = append(parts, fmt.Sprintf("free:%d", free))
	}
	return strings.Join(parts, " ")
}
