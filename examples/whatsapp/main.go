// Command whatsapp is the quickstart pointed at the real
// https://web.whatsapp.com: it opens (or creates) a browser context whose
// profile is kept in a folder, so the login survives restarts; shows the
// login QR code in the terminal; and, when asked, sends a message and
// prints its status.
//
//	go run ./examples/whatsapp                          # log in (scan the QR with the phone)
//	go run ./examples/whatsapp -to +5491122334455 -text "Hola"
//	go run ./examples/whatsapp -visible                 # show the browser window
//
// The store is a SQLite file (-db) and Redis is miniredis in process, unless
// -redis names a server. The PUPPETEER_* and REDIS_* environment variables
// (wasend.LoadEnv) are honoured.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/chromedpdriver"
	"github.com/wasend/wasend/redisqueue"
	"github.com/wasend/wasend/sqlstore"
	"github.com/wasend/wasend/sqlstore/sqlite"
)

func main() {
	var (
		profiles = flag.String("profiles", "wasend-profiles", "folder that keeps the browser profiles (the logins)")
		dbPath   = flag.String("db", "wasend.db", "SQLite file of the store")
		redis    = flag.String("redis", "", "Redis address (default: REDIS_HOST/REDIS_PORT, else miniredis in process)")
		visible  = flag.Bool("visible", false, "show the browser window")
		to       = flag.String("to", "", "send a message to this number (international form)")
		text     = flag.String("text", "Hello from wasend", "the message to send with -to")
		wait     = flag.Duration("login-timeout", 3*time.Minute, "how long to wait for the QR scan")
	)
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *profiles, *dbPath, *redis, *visible, *to, *text, *wait); err != nil {
		fmt.Fprintln(os.Stderr, "whatsapp:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, profiles, dbPath, redisAddr string, visible bool, to, text string, loginTimeout time.Duration) error {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	redisqueue.SetTaskqLogger(logger)
	env, err := wasend.LoadEnv()
	if err != nil {
		return err
	}

	pool, err := chromedpdriver.New(
		chromedpdriver.WithEnv(env),
		chromedpdriver.WithProfileRoot(profiles),
		chromedpdriver.WithHeadless(!visible),
		chromedpdriver.WithLogger(logger))
	if errors.Is(err, chromedpdriver.ErrNoBrowser) {
		return errors.New("Chromium is not installed; install it with: sudo apt-get install -y chromium")
	}
	if err != nil {
		return err
	}
	defer pool.Close()

	if redisAddr == "" {
		redisAddr = env.RedisAddr()
	}
	if redisAddr == "" {
		mr := miniredis.NewMiniRedis()
		if err := mr.Start(); err != nil {
			return err
		}
		defer mr.Close()
		redisAddr = mr.Addr()
	}
	queue, err := redisqueue.New(redisqueue.WithEnv(env), redisqueue.WithAddr(redisAddr), redisqueue.WithLogger(logger))
	if err != nil {
		return err
	}
	defer queue.Close()

	db, err := sqlite.Open(dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	store, err := sqlstore.New(db, sqlstore.WithLogger(logger))
	if err != nil {
		return err
	}
	if err := store.Migrate(ctx); err != nil {
		return err
	}

	ready := make(chan wasend.SessionEvent, 16)
	client, err := wasend.New(pool, queue, store, wasend.WithEnv(env), wasend.WithLogger(logger),
		wasend.WithEventHandler(func(ev wasend.SessionEvent) {
			switch ev.Type {
			case wasend.EventQR:
				fmt.Printf("\nScan this code with WhatsApp on your phone (Linked devices > Link a device):\n%s\n",
					chromedpdriver.QRTerminal(ev.QR))
			case wasend.EventStatus:
				fmt.Printf("browser context %d: %s\n", ev.ContextID, ev.Status)
				select {
				case ready <- ev:
				default:
				}
			}
		}))
	if err != nil {
		return err
	}
	defer client.Close()

	// Reuse the first open context of the store, so that its saved login
	// is used; create one the first time.
	bc, err := openOrCreate(ctx, client)
	if err != nil {
		return err
	}
	fmt.Printf("browser context %d (%s), profile folder %s\n", bc.ID, bc.SystemID, profiles)

	deadline := time.After(loginTimeout)
	for logged := false; !logged; {
		select {
		case ev := <-ready:
			switch {
			case ev.Status == wasend.ContextAvailable:
				logged = true
			case ev.Status == wasend.ContextError:
				return fmt.Errorf("the session failed: %v", ev.Err)
			}
		case <-deadline:
			return errors.New("not logged in in time; run again to get a new QR code")
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	fmt.Println("logged in")
	if to == "" {
		fmt.Println("nothing to send (use -to and -text); the login is saved in", profiles)
		return nil
	}

	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	go func() { _ = client.Run(runCtx) }()
	job, err := client.Send(ctx, bc.ID, to, text)
	if err != nil {
		return err
	}
	for !job.Status.Final() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
		if job, err = client.Job(ctx, job.ID); err != nil {
			return err
		}
	}
	m := job.Messages[0]
	fmt.Printf("job %d: %s; message to %s: %s", job.ID, job.Status, wasend.MaskPhone(m.To), m.Status)
	if m.WAMessageID != "" {
		fmt.Printf(" (WhatsApp id %s)", m.WAMessageID)
	}
	if m.Error != "" {
		fmt.Printf(": %s", m.Error)
	}
	fmt.Println()
	return nil
}

func openOrCreate(ctx context.Context, client *wasend.Client) (wasend.BrowserContext, error) {
	list, err := client.Contexts(ctx)
	if err != nil {
		return wasend.BrowserContext{}, err
	}
	for _, bc := range list {
		if bc.Status != wasend.ContextClosed {
			return client.OpenContext(ctx, bc.ID)
		}
	}
	return client.CreateContext(ctx)
}
