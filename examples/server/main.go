// Command server is wasend behind an HTTP API: browser contexts (with their
// login QR codes as PNG, or pushed as Server-Sent Events), single and bulk
// sends with idempotency keys, jobs (listing with cursors, pause, resume,
// cancel), webhooks from the outbox, stats, metrics and health checks, and
// a dashboard at /. Its OpenAPI 3 document is served at /openapi.json.
//
// With no flags it runs on embedded defaults, with nothing to install but
// Chromium: a SQLite file in a temporary folder, Redis in process
// (miniredis), and the project's local imitation of WhatsApp Web on
// loopback, driven by headless Chromium. It then makes up an API token and
// prints it once on stderr.
//
//	go run ./examples/server
//	go run ./examples/server -pacing=off -fake-autoscan   # a quick demo on the imitation
//
// On real services:
//
//	WASEND_API_TOKEN=... go run ./examples/server \
//		-db 'postgres://wasend:secret@db:5432/wasend?sslmode=verify-full' \
//		-redis redis:6379 -wa-url https://web.whatsapp.com -data /var/lib/wasend -addr :8080
//
// # Flags and environment
//
//   - -db (WASEND_DB): the store. A postgres:// or postgresql:// URL opens
//     PostgreSQL with pgx's stdlib; a mysql://user:pass@host:3306/db URL or
//     a go-sql-driver DSN (user:pass@tcp(host:3306)/db) opens MySQL or
//     MariaDB (parseTime, UTC and interpolateParams are set for a URL); any
//     other value is a SQLite file. Default: wasend.db in the data folder.
//     Migrations run at start.
//   - -redis (WASEND_REDIS): the Redis address; REDIS_PASSWORD and REDIS_DB
//     apply to it. Default: miniredis in process (its deliveries do not
//     survive a restart; the store's sweep enqueues pending jobs again).
//   - -wa-url: WhatsApp Web's URL, for example https://web.whatsapp.com.
//     Default: the local imitation.
//   - -data: the folder of the browser profiles (the logins) and of the
//     default SQLite file. Default: a temporary folder, removed at exit.
//   - -addr: the address to listen on. Default: 127.0.0.1:8080.
//   - WASEND_API_TOKEN: the bearer token that every /v1/* request must
//     carry (Authorization: Bearer ...). It is required, unless
//     -insecure-no-auth, or when every service is embedded (then a random
//     one is made up and printed, with the dashboard's URL that carries
//     it). /healthz, /readyz, /openapi.json and /metrics are open.
//   - -pacing: "default" keeps the library's pacing (30 to 60 s between two
//     sends of a number, caps per hour and day, a warm-up, a sending
//     window: see "Keeping numbers safe" in the README); "off" turns it off,
//     for demos and tests only. Default: default.
//   - -fake-autoscan: on the imitation, its phone scans every QR code, so
//     that a new context logs in by itself. Default: false.
//   - -chromium: the browser's path. Default: found on the PATH.
//
// # Dashboard
//
// GET / serves a dashboard (html/template and a little JavaScript, embedded;
// its assets under /assets/): the browser contexts with their status,
// memory and pacing budget left, and the QR code of each one waiting for a
// login, pushed live by GET /v1/contexts/{id}/qr/stream; a button that
// creates a context; a send form; the jobs, newest first, with their
// messages (numbers masked by the server: masked=1) and pause, resume and
// cancel buttons. It needs the token too: a browser cannot send a header
// when it navigates, so GET /?token=... compares it (in constant time) once,
// sets an HttpOnly, SameSite=Strict cookie derived from it and redirects
// to / without the query. The /v1 routes take that cookie as well as the
// Authorization header.
//
// # Metrics
//
// GET /metrics serves wasend's metrics (package otelwasend, through
// otelprom) in the Prometheus text format: messages by outcome, attempts,
// send durations, pacing waits, contexts by status, browser memory, queue
// depth. It is open, like /healthz: the metrics hold ids, kinds and
// statuses, never a phone number or a text.
//
// # Webhooks
//
// The Client runs with its outbox (wasend.WithOutbox): every change of a
// job, a message or a context is written as an event in the store, in the
// change's transaction, and the relay hands each one, at least once and in
// order per job, to the webhook endpoints registered at that moment
// (webhook.OutboxHandler: signed per Standard Webhooks, with webhook-id
// "evt_<id>" for receivers to drop duplicates); an event with no endpoint
// registered is taken and dropped. POST /v1/webhooks registers an
// endpoint ({"url": ..., "event_types": ["message.*", ...]}) and answers
// with its signing secret (whsec_...), shown that once; GET /v1/webhooks
// lists them (masked URLs, no secret); DELETE /v1/webhooks/{id} removes
// one; POST /v1/webhooks/{id}/test sends one signed webhook.test event now
// and tells the outcome. The endpoints live in memory: they are not
// persisted across restarts in this example (the events are durable, in
// the outbox). The server POSTs to any URL its callers give it: behind the
// bearer token, on a network where that is acceptable.
//
// # Logs
//
// The access log (slog, on stderr) has the method, the route's pattern
// (never the raw path nor the query: the dashboard's ?token= stays out),
// the status and the duration: never a phone number,
// a message text, the token or a webhook secret. API responses carry the caller's data
// unmasked, except a context's proxy, whose password is masked.
//
// SIGINT or SIGTERM shut it down gracefully: the HTTP server first, then the
// Client (jobs in flight finish or go back to pending), the queue, the
// browsers and the database.
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/chromedpdriver"
	"github.com/wasend/wasend/internal/fakewa"
	"github.com/wasend/wasend/otelwasend"
	"github.com/wasend/wasend/otelwasend/otelprom"
	"github.com/wasend/wasend/redisqueue"
	"github.com/wasend/wasend/sqlstore"
	"github.com/wasend/wasend/sqlstore/sqlite"
)

// config is what the flags and the environment say.
type config struct {
	addr     string
	db       string
	redis    string
	waURL    string
	dataDir  string
	chromium string
	token    string
	insecure bool
	pacing   string
	autoScan bool
	verbose  bool
}

// embedded reports whether every service is the embedded default.
func (c config) embedded() bool { return c.db == "" && c.redis == "" && c.waURL == "" }

func main() {
	var cfg config
	flag.StringVar(&cfg.addr, "addr", "127.0.0.1:8080", "address to listen on")
	flag.StringVar(&cfg.db, "db", os.Getenv("WASEND_DB"), "store DSN: postgres://..., mysql://... or a go-sql-driver DSN, or a SQLite file (default: wasend.db in -data; env WASEND_DB)")
	flag.StringVar(&cfg.redis, "redis", os.Getenv("WASEND_REDIS"), "Redis address (default: miniredis in process; env WASEND_REDIS)")
	flag.StringVar(&cfg.waURL, "wa-url", "", "WhatsApp Web URL, e.g. https://web.whatsapp.com (default: the local imitation)")
	flag.StringVar(&cfg.dataDir, "data", "", "folder of the browser profiles and the default SQLite file (default: a temporary folder, removed at exit)")
	flag.StringVar(&cfg.chromium, "chromium", "", "path of Chrome or Chromium (default: found on the PATH)")
	flag.BoolVar(&cfg.insecure, "insecure-no-auth", false, "serve /v1/* without a bearer token")
	flag.StringVar(&cfg.pacing, "pacing", "default", `pacing of every number: "default" (the library's) or "off" (demos only)`)
	flag.BoolVar(&cfg.autoScan, "fake-autoscan", false, "on the local imitation, scan every QR code with a made-up phone")
	flag.BoolVar(&cfg.verbose, "v", false, "log the library's info messages")
	flag.Parse()
	cfg.token = os.Getenv("WASEND_API_TOKEN")

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

// run serves the API until ctx ends, then shuts down.
func run(ctx context.Context, cfg config, stderr io.Writer) error {
	level := slog.LevelWarn
	if cfg.verbose {
		level = slog.LevelInfo
	}
	libLog := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	accessLog := slog.New(slog.NewTextHandler(stderr, nil))
	madeUp := false
	if cfg.token == "" && !cfg.insecure {
		if !cfg.embedded() {
			return errors.New("WASEND_API_TOKEN is required (or -insecure-no-auth)")
		}
		cfg.token = randomToken()
		madeUp = true
		fmt.Fprintf(stderr, "API token (made up for this run; set WASEND_API_TOKEN to choose one): %s\n", cfg.token)
	}
	a, err := newApp(ctx, cfg, libLog, accessLog)
	if err != nil {
		return err
	}
	a.start()
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return errors.Join(err, a.close())
	}
	// No write timeout: creating a context launches a browser, which may
	// take a while on a busy machine.
	srv := &http.Server{Handler: a.handler(), ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: time.Minute, IdleTimeout: 2 * time.Minute}
	srv.RegisterOnShutdown(a.stopStreams)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(stderr, "wasend server listening on http://%s (OpenAPI at /openapi.json)\n", ln.Addr())
	dashboard := dashboardURL(ln.Addr())
	if madeUp {
		// A token of this run only, on embedded services: one click signs in.
		dashboard += "?token=" + cfg.token
	}
	fmt.Fprintf(stderr, "dashboard: %s\n", dashboard)
	select {
	case <-ctx.Done():
	case err = <-served:
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if serr := srv.Shutdown(shutCtx); serr != nil {
		err = errors.Join(err, serr)
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return errors.Join(err, a.close())
}

// dashboardURL is the dashboard's URL on the listener's address, with
// 127.0.0.1 for an unspecified host.
func dashboardURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String() + "/"
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}

func randomToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newAppState is an app without its services: what the handlers keep.
func newAppState(cfg config, accessLog *slog.Logger) *app {
	a := &app{token: cfg.token, autoScan: cfg.autoScan, log: accessLog, qrs: map[int64]qrCode{},
		statuses: map[int64]wasend.ContextStatus{}, hooks: newHooks(accessLog)}
	a.streams, a.stopStream = context.WithCancel(context.Background())
	return a
}

// newApp wires the store, the queue, the browser pool and the Client as
// cfg says; logger is the library's, accessLog the server's own. On an
// error it closes what it opened.
func newApp(ctx context.Context, cfg config, logger, accessLog *slog.Logger) (_ *app, err error) {
	a := newAppState(cfg, accessLog)
	a.scanCtx, a.scanStop = context.WithCancel(context.Background())
	// The closers are added as things open, and run in reverse: the Client
	// first, then the queue, the pool, the database, the embedded services.
	var opened []closer
	defer func() {
		for i, j := 0, len(opened)-1; i < j; i, j = i+1, j-1 {
			opened[i], opened[j] = opened[j], opened[i]
		}
		a.closers = opened
		if err != nil {
			err = errors.Join(err, a.close())
		}
	}()
	add := func(name string, fn func() error) { opened = append(opened, closer{name, fn}) }

	dir := cfg.dataDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "wasend-server-"); err != nil {
			return nil, err
		}
		add("the temporary folder", func() error { return os.RemoveAll(dir) })
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}

	// WhatsApp Web: the local imitation unless -wa-url names one.
	waURL := cfg.waURL
	if waURL == "" {
		a.fake = fakewa.New(
			fakewa.WithBootDelay(150*time.Millisecond),
			fakewa.WithLoadingDelay(300*time.Millisecond),
			fakewa.WithStartingChatDelay(200*time.Millisecond),
			fakewa.WithTickDelays(100*time.Millisecond, 200*time.Millisecond, 300*time.Millisecond, 0))
		if waURL, err = a.fake.Start(); err != nil {
			return nil, err
		}
		add("the WhatsApp Web imitation", a.fake.Close)
	}

	// Redis: miniredis unless -redis names one, whose REDIS_PASSWORD and
	// REDIS_DB are honoured.
	qopts := []redisqueue.Option{redisqueue.WithPrefix("wasend-server"), redisqueue.WithLogger(logger)}
	redisAddr := cfg.redis
	if redisAddr != "" {
		env, err := wasend.LoadEnv()
		if err != nil {
			return nil, err
		}
		qopts = append(qopts, redisqueue.WithEnv(env))
	} else {
		mr := miniredis.NewMiniRedis()
		if err := mr.Start(); err != nil {
			return nil, err
		}
		add("miniredis", func() error { mr.Close(); return nil })
		redisAddr = mr.Addr()
	}

	db, err := openDB(cfg.db, filepath.Join(dir, "wasend.db"))
	if err != nil {
		return nil, err
	}
	add("the database", db.Close)
	store, err := sqlstore.New(db, sqlstore.WithLogger(logger))
	if err != nil {
		return nil, err
	}
	if err := store.Migrate(ctx); err != nil {
		return nil, err
	}

	popts := []chromedpdriver.Option{
		chromedpdriver.WithURL(waURL),
		chromedpdriver.WithProfileRoot(filepath.Join(dir, "profiles")),
		chromedpdriver.WithHeadless(true),
		chromedpdriver.WithLogger(logger),
	}
	if cfg.chromium != "" {
		popts = append(popts, chromedpdriver.WithExecPath(cfg.chromium))
	}
	pool, err := chromedpdriver.New(popts...)
	if errors.Is(err, chromedpdriver.ErrNoBrowser) {
		return nil, errors.New("Chromium is not installed: sudo apt-get install -y chromium (or pass -chromium)")
	}
	if err != nil {
		return nil, err
	}
	add("the browser pool", pool.Close)

	redisqueue.SetTaskqLogger(logger)
	queue, err := redisqueue.New(append(qopts, redisqueue.WithAddr(redisAddr))...)
	if err != nil {
		return nil, err
	}
	add("the queue", queue.Close)

	// The metrics: otelwasend's instruments on a Prometheus registry of
	// their own, served at /metrics. The exporter shuts down after the
	// Client closes; the gauges' registration ends before it closes.
	exp, err := otelprom.New()
	if err != nil {
		return nil, err
	}
	add("the metrics exporter", func() error { return exp.Shutdown(context.Background()) })
	a.metrics = exp.Handler()
	obs, err := otelwasend.New(otelwasend.WithMeterProvider(exp.MeterProvider()))
	if err != nil {
		return nil, err
	}

	opts := []wasend.Option{wasend.WithLogger(logger), wasend.WithEventHandler(a.onEvent), wasend.WithObserver(obs),
		wasend.WithOutbox(a.hooks.deliver)}
	switch cfg.pacing {
	case "", "default":
	case "off":
		opts = append(opts, wasend.WithPacing(wasend.NoPacing()))
	default:
		return nil, fmt.Errorf(`-pacing=%q: want "default" or "off"`, cfg.pacing)
	}
	a.client, err = wasend.New(pool, queue, keyedStore{store}, opts...)
	if err != nil {
		return nil, err
	}
	add("the client", a.client.Close)
	reg, err := obs.RegisterClient(a.client)
	if err != nil {
		return nil, err
	}
	add("the metrics' registration", reg.Unregister)
	return a, nil
}

// openDB opens the store's database: PostgreSQL for a postgres:// URL,
// MySQL for a mysql:// URL or a go-sql-driver DSN, and otherwise a SQLite
// file (sqlitePath when dsn is empty).
func openDB(dsn, sqlitePath string) (*sql.DB, error) {
	switch {
	case dsn == "":
		return sqlite.Open(sqlitePath)
	case strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://"):
		cfg, err := pgx.ParseConfig(dsn)
		if err != nil {
			return nil, fmt.Errorf("-db: %w", err)
		}
		return stdlib.OpenDB(*cfg), nil
	case strings.HasPrefix(dsn, "mysql://"):
		cfg, err := mysqlURL(dsn)
		if err != nil {
			return nil, err
		}
		return mysqlDB(cfg)
	case strings.Contains(dsn, "@tcp(") || strings.Contains(dsn, "@unix("):
		cfg, err := mysql.ParseDSN(dsn)
		if err != nil {
			return nil, fmt.Errorf("-db: %w", err)
		}
		return mysqlDB(cfg)
	}
	return sqlite.Open(dsn)
}

// mysqlURL reads mysql://user:pass@host:port/db?param=value into the
// driver's config, with the settings sqlstore recommends unless the URL
// sets them (parseTime=true, loc=UTC, interpolateParams=true).
func mysqlURL(dsn string) (*mysql.Config, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, fmt.Errorf("-db: %w", err)
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "3306")
	}
	q := u.Query()
	for k, v := range map[string]string{"parseTime": "true", "loc": "UTC", "interpolateParams": "true"} {
		if !q.Has(k) {
			q.Set(k, v)
		}
	}
	user := ""
	if u.User != nil {
		user = u.User.Username()
		if p, ok := u.User.Password(); ok {
			user += ":" + p
		}
		user += "@"
	}
	cfg, err := mysql.ParseDSN(user + "tcp(" + addr + ")" + u.Path + "?" + q.Encode())
	if err != nil {
		return nil, fmt.Errorf("-db: %w", err)
	}
	return cfg, nil
}

func mysqlDB(cfg *mysql.Config) (*sql.DB, error) {
	c, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("-db: %w", err)
	}
	return sql.OpenDB(c), nil
}
