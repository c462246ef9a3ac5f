// Command worker is one worker process of the fault-injection suite
// (internal/chaos): a wasend Client that runs the workers of the browser
// contexts it holds, on the suite's Redis, PostgreSQL (through the suite's
// TCP proxy) and local WhatsApp Web. It opens the contexts it is given with
// -open, takes over the ones no process holds (WithTakeover), and plays the
// phone of each context it holds: when a session shows a QR code, it scans
// it through the fake's HTTP hooks with the context's own account, so that
// a login lost with a killed Chrome comes back with the same account (and
// the same chat history, which the duplicate-send guard reads).
//
// It runs until SIGTERM or SIGINT, then stops cleanly. The orchestrator also
// kills it with SIGKILL on purpose.
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/chromedpdriver"
	"github.com/wasend/wasend/internal/fakewa"
	"github.com/wasend/wasend/redisqueue"
	"github.com/wasend/wasend/sqlstore"
)

// phoneOf returns the WhatsApp account of a browser context: every login of
// the context, first or after a lost one, is to this account. The
// orchestrator uses the same rule.
func phoneOf(contextID int64) string { return fmt.Sprintf("1555000%04d", contextID) }

type config struct {
	name      string
	redisAddr string
	prefix    string
	pgDSN     string
	waURL     string
	hookToken string
	profiles  string
	debugDir  string
	open      []int64
	verbose   bool
	takeover  int
	leaseTTL  time.Duration
	// profileStore keeps the logins in the database too (sqlstore's
	// Profiles), snapshotted every snapshotEvery: with a profile root of
	// its own, a worker takes a context over from its snapshot.
	profileStore  bool
	snapshotEvery time.Duration
}

func main() {
	var cfg config
	var open string
	flag.StringVar(&cfg.name, "name", "w", "worker name, for logs and the lease owner")
	flag.StringVar(&cfg.redisAddr, "redis", "127.0.0.1:6379", "Redis address")
	flag.StringVar(&cfg.prefix, "prefix", "chaos", "queue prefix")
	flag.StringVar(&cfg.pgDSN, "pg", "", "PostgreSQL DSN")
	flag.StringVar(&cfg.waURL, "wa", "", "WhatsApp Web URL (the local imitation)")
	flag.StringVar(&cfg.hookToken, "hook-token", "", "token of the imitation's hooks")
	flag.StringVar(&cfg.profiles, "profiles", "", "profile root (shared by the workers, or this worker's own with -profile-store)")
	flag.StringVar(&cfg.debugDir, "debug", "", "debug folder of the driver")
	flag.StringVar(&open, "open", "", "comma-separated browser context ids to open at start")
	flag.BoolVar(&cfg.verbose, "v", false, "debug logs")
	flag.IntVar(&cfg.takeover, "takeover", 5, "WithTakeover")
	flag.DurationVar(&cfg.leaseTTL, "lease-ttl", 3*time.Second, "WithLeaseTTL")
	flag.BoolVar(&cfg.profileStore, "profile-store", false, "keep the logins in the database too (chromedpdriver.WithProfileStore)")
	flag.DurationVar(&cfg.snapshotEvery, "snapshot-interval", time.Minute, "chromedpdriver.WithSnapshotInterval, with -profile-store")
	flag.Parse()
	for _, s := range strings.Split(open, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			fmt.Fprintln(os.Stderr, "worker: bad -open:", err)
			os.Exit(2)
		}
		cfg.open = append(cfg.open, id)
	}
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(1)
	}
}

func run(cfg config) error {
	level := slog.LevelInfo
	if cfg.verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})).
		With("worker", cfg.name, "pid", os.Getpid())
	slog.SetDefault(logger)
	redisqueue.SetTaskqLogger(logger)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go watchStalls(ctx, logger)

	db, err := sql.Open("pgx", cfg.pgDSN)
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(40)
	db.SetMaxIdleConns(40)
	db.SetConnMaxIdleTime(time.Minute)
	store, err := sqlstore.New(db, sqlstore.WithLogger(logger))
	if err != nil {
		return err
	}

	queue, err := redisqueue.New(redisqueue.WithAddr(cfg.redisAddr), redisqueue.WithPrefix(cfg.prefix),
		redisqueue.WithLogger(logger))
	if err != nil {
		return err
	}
	defer queue.Close()

	var driverOpts []chromedpdriver.Option
	if cfg.profileStore {
		// A worker that restores a login another one used may find that
		// one's browser still open (a frozen worker's): it clicks "Use
		// here", as a person would, and the lease decides who sends.
		driverOpts = append(driverOpts, chromedpdriver.WithProfileStore(store.Profiles(0)),
			chromedpdriver.WithSnapshotInterval(cfg.snapshotEvery), chromedpdriver.WithTakeoverOnConflict(true))
	}
	pool, err := chromedpdriver.New(append([]chromedpdriver.Option{
		chromedpdriver.WithURL(cfg.waURL),
		chromedpdriver.WithProfileRoot(cfg.profiles),
		chromedpdriver.WithMode(chromedpdriver.Persistent),
		chromedpdriver.WithHeadless(true),
		chromedpdriver.WithDebugDir(cfg.debugDir),
		chromedpdriver.WithPollInterval(500 * time.Millisecond),
		chromedpdriver.WithWatchdog(5*time.Second, 20*time.Second),
		chromedpdriver.WithRelaunchBackoff(500*time.Millisecond, 5*time.Second),
		chromedpdriver.WithNavigationTimeout(45 * time.Second),
		chromedpdriver.WithActionTimeout(30 * time.Second),
		chromedpdriver.WithCloseTimeout(5 * time.Second),
		// The chaos suite injects no rejection after the tick: watching
		// for one would add 1.5 s to every send and halve its throughput.
		chromedpdriver.WithRejectWatch(0),
		chromedpdriver.WithLogger(logger)}, driverOpts...)...)
	if err != nil {
		return err
	}
	defer pool.Close()

	phone := &phoneSim{hook: fakewa.NewHookClient(cfg.waURL, cfg.hookToken, nil), log: logger,
		busy: map[int64]bool{}}
	client, err := wasend.New(pool, queue, store,
		wasend.WithLogger(logger),
		wasend.WithOwnerID(fmt.Sprintf("%s-%d", cfg.name, os.Getpid())),
		wasend.WithTakeover(cfg.takeover),
		wasend.WithLeaseTTL(cfg.leaseTTL),
		wasend.WithSweep(time.Second, 5*time.Second),
		wasend.WithMaxAttempts(10),
		// Chaos measures delivery under faults, not pacing: the faults
		// would open the breaker.
		wasend.WithPacing(wasend.NoPacing()),
		wasend.WithBreaker(wasend.Breaker{}),
		wasend.WithBackoff(200*time.Millisecond, 3*time.Second, 0.25),
		wasend.WithSendTimeout(30*time.Second),
		wasend.WithContextWait(3*time.Second),
		wasend.WithShutdownTimeout(10*time.Second),
		wasend.WithBulkSlice(10*time.Second),
		wasend.WithEventHandler(phone.event))
	if err != nil {
		return err
	}
	defer client.Close()
	phone.ctx = ctx

	for _, id := range cfg.open {
		if _, err := client.OpenContext(ctx, id); err != nil {
			if errors.Is(err, wasend.ErrContextHeld) {
				logger.Info("context held by another process; not opening it", "context", id)
				continue
			}
			logger.Warn("opening a context", "context", id, "err", err)
			continue
		}
		logger.Info("opened context", "context", id)
	}
	logger.Info("worker running", "owner", client.Owner())
	err = client.Run(ctx)
	logger.Info("worker stopping", "err", err)
	if cerr := client.Close(); cerr != nil && err == nil {
		err = cerr
	}
	return err
}

// phoneSim plays the phones: it scans each QR code a session of this
// process shows with the account of its context.
type phoneSim struct {
	ctx  context.Context
	hook *fakewa.HookClient
	log  *slog.Logger

	mu   sync.Mutex
	busy map[int64]bool
}

func (p *phoneSim) event(ev wasend.SessionEvent) {
	switch ev.Type {
	case wasend.EventStatus:
		p.log.Info("session event", "context", ev.ContextID, "status", ev.Status, "cause", ev.Err)
	case wasend.EventQR:
		if ev.ContextID == 0 {
			return
		}
		p.mu.Lock()
		if p.busy[ev.ContextID] {
			p.mu.Unlock()
			return
		}
		p.busy[ev.ContextID] = true
		p.mu.Unlock()
		go func() {
			defer func() {
				p.mu.Lock()
				delete(p.busy, ev.ContextID)
				p.mu.Unlock()
			}()
			ctx := p.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			defer cancel()
			err := p.hook.Scan(sctx, ev.QR, phoneOf(ev.ContextID))
			p.log.Info("phone scanned a QR code", "context", ev.ContextID, "err", err)
		}()
	}
}

// watchStalls logs when the process did not run for a while (CPU
// starvation, SIGSTOP): the lease renewals of the Client stall with it.
func watchStalls(ctx context.Context, log *slog.Logger) {
	const every = 250 * time.Millisecond
	t := time.NewTicker(every)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			now := time.Now()
			if d := now.Sub(last); d > 1500*time.Millisecond {
				log.Warn("process stalled", "for", d.Round(time.Millisecond))
			}
			last = now
		}
	}
}
