// Command quickstart runs the whole of wasend on embedded defaults, with
// nothing to install but Chromium: Redis is miniredis in process, the store
// is a SQLite file, and WhatsApp Web is the project's local imitation,
// served on loopback. It creates two browser contexts, shows their QR codes
// in the terminal, simulates the phone scanning them, sends single messages
// and a bulk job, then a campaign over both numbers during which one of
// them is temporarily banned (its unsent messages move to the other), and
// prints every job's and message's status, and the stats, as tables.
//
//	go run ./examples/quickstart        (or: make demo)
//
// It exits 0 when every message reached the imitation of WhatsApp exactly
// once and intact, and 1 otherwise.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/chromedpdriver"
	"github.com/wasend/wasend/internal/fakewa"
	"github.com/wasend/wasend/redisqueue"
	"github.com/wasend/wasend/sqlstore"
	"github.com/wasend/wasend/sqlstore/sqlite"
)

// The phones of the two simulated WhatsApp accounts, one per context.
var accounts = []string{"5491100000001", "5491100000002"}

func main() {
	verbose := flag.Bool("v", false, "log the library's info messages")
	qr := flag.Bool("qr", true, "draw the QR codes in the terminal")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := run(ctx, *verbose, *qr); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, verbose, drawQR bool) error {
	start := time.Now()
	level := slog.LevelWarn
	if verbose {
		level = slog.LevelInfo
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	redisqueue.SetTaskqLogger(logger)

	dir, err := os.MkdirTemp("", "wasend-quickstart-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	// The local WhatsApp Web, with short delays so that the demo is quick.
	fake := fakewa.New(
		fakewa.WithBootDelay(150*time.Millisecond),
		fakewa.WithLoadingDelay(300*time.Millisecond),
		fakewa.WithStartingChatDelay(200*time.Millisecond),
		fakewa.WithTickDelays(100*time.Millisecond, 200*time.Millisecond, 300*time.Millisecond, 0))
	url, err := fake.Start()
	if err != nil {
		return err
	}
	defer fake.Close()
	fake.SetNotOnWhatsApp("5491199999999", true)

	// Chromium, headless, with a profile folder per browser context.
	pool, err := chromedpdriver.New(
		chromedpdriver.WithURL(url),
		chromedpdriver.WithProfileRoot(filepath.Join(dir, "profiles")),
		chromedpdriver.WithHeadless(true),
		chromedpdriver.WithLogger(logger))
	if errors.Is(err, chromedpdriver.ErrNoBrowser) {
		return errors.New("Chromium is not installed. Install it with:\n\n\tsudo apt-get install -y chromium\n\n(or run `make demo`, which does it)")
	}
	if err != nil {
		return err
	}
	defer pool.Close()

	// Redis, in process.
	mr := miniredis.NewMiniRedis()
	if err := mr.Start(); err != nil {
		return err
	}
	defer mr.Close()
	queue, err := redisqueue.New(redisqueue.WithAddr(mr.Addr()), redisqueue.WithPrefix("quickstart"),
		redisqueue.WithLogger(logger))
	if err != nil {
		return err
	}
	defer queue.Close()

	// The store, in a SQLite file.
	db, err := sqlite.Open(filepath.Join(dir, "wasend.db"))
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

	fmt.Printf("wasend quickstart: WhatsApp Web imitation at %s, Redis (miniredis) at %s, SQLite in %s\n\n", url, mr.Addr(), dir)

	// Each new QR is shown, then "scanned" by the phone of its context.
	logins := newLogins()
	// Pacing is on by default: 30 to 60 s between two sends of a number,
	// caps per hour, per day and on new contacts, a warm-up, a window
	// from 08:00 to 21:00 (see "Keeping numbers safe" in the README). The
	// demo keeps every limit but the gap, shortened so that it runs in
	// seconds, and the warm-up and the window, so that it runs at any hour.
	demo := wasend.DefaultPacing()
	demo.MinGap, demo.MaxGap = time.Second, 2*time.Second
	demo.WarmupDays, demo.WindowStart, demo.WindowEnd = 0, 0, 0
	var waits atomic.Int64
	client, err := wasend.New(pool, queue, store,
		wasend.WithLogger(logger),
		wasend.WithBulkDelay(300*time.Millisecond),
		wasend.WithPacing(demo),
		// The sweep, which also moves a campaign's messages off a banned
		// number, every second instead of every 15 s: the demo is short.
		wasend.WithSweep(time.Second, wasend.DefaultLostAfter),
		wasend.WithEventHandler(func(ev wasend.SessionEvent) {
			if ev.Type == wasend.EventWait {
				waits.Add(1)
			}
			logins.event(ctx, fake, ev, drawQR)
		}))
	if err != nil {
		return err
	}
	defer client.Close()

	var contexts []wasend.BrowserContext
	for range accounts {
		bc, err := client.CreateContext(ctx)
		if err != nil {
			return err
		}
		logins.assign(bc.ID)
		contexts = append(contexts, bc)
	}
	if err := logins.wait(ctx, len(contexts)); err != nil {
		return err
	}

	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	runDone := make(chan error, 1)
	go func() { runDone <- client.Run(runCtx) }()

	// Single messages on both contexts, one to a number that is not on
	// WhatsApp, and a bulk job.
	type sent struct {
		job  wasend.Job
		from string
	}
	var jobs []sent
	singles := []struct {
		ctx  int
		to   string
		text string
	}{
		{0, "+54 9 11 5555-0101", "Hola Ana 👋 your order A-17 is on its way."},
		{1, "+54 9 11 5555-0102", "Your code is 482913.\nIt expires in 10 minutes."},
		{0, "+54 9 11 9999-9999", "This number is not on WhatsApp."},
	}
	for i, s := range singles {
		// An idempotency key per request: a caller whose Send timed out
		// after the commit sends again with the same key, and gets the
		// same job back instead of a second message.
		key := wasend.IdempotencyKey(fmt.Sprintf("demo-order-%d", i))
		job, err := client.Send(ctx, contexts[s.ctx].ID, s.to, s.text, key, wasend.Metadata(map[string]any{"demo": true}))
		if err != nil {
			return err
		}
		again, err := client.Send(ctx, contexts[s.ctx].ID, s.to, s.text, key)
		if err != nil {
			return err
		}
		if again.ID != job.ID {
			return fmt.Errorf("a retry with the same idempotency key made job %d besides job %d", again.ID, job.ID)
		}
		jobs = append(jobs, sent{job, accounts[s.ctx]})
	}
	fmt.Printf("Sent %d single messages, each twice with the same idempotency key: %d jobs.\n", len(singles), len(singles))
	var bulk []wasend.BulkMessage
	for i := range 5 {
		bulk = append(bulk, wasend.BulkMessage{To: fmt.Sprintf("+1415555%04d", 100+i),
			Text: fmt.Sprintf("Campaign message %d of 5: <b>50%%</b> off today only!", i+1)})
	}
	job, err := client.SendBulk(ctx, contexts[1].ID, bulk)
	if err != nil {
		return err
	}
	jobs = append(jobs, sent{job, accounts[1]})

	// Wait for every job to finish.
	final := make([]wasend.Job, len(jobs))
	for i, s := range jobs {
		for {
			j, err := client.Job(ctx, s.job.ID)
			if err != nil {
				return err
			}
			if j.Status.Final() {
				final[i] = j
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("job %d did not finish: %w", s.job.ID, ctx.Err())
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	printJobs(final)
	closest := time.Duration(0)
	for _, j := range final {
		for i := 1; i < len(j.Messages); i++ {
			if d := j.Messages[i].SentAt.Sub(j.Messages[i-1].SentAt); closest == 0 || d < closest {
				closest = d
			}
		}
	}
	fmt.Printf("Pacing: random gaps of %v to %v per number. Jobs held back for it, spending no attempt: %d;\n"+
		"the bulk job's messages went out at least %v apart.\n\n", demo.MinGap, demo.MaxGap, waits.Load(),
		closest.Round(time.Millisecond))
	camp, err := campaign(ctx, client, fake, contexts)
	if err != nil {
		return err
	}
	printJobs(camp.Jobs)
	if err := receiptsAndOptOut(ctx, client, fake, contexts); err != nil {
		return err
	}
	stats, err := client.Stats(ctx)
	if err != nil {
		return err
	}
	printStats(stats)
	stopRun()
	if err := <-runDone; err != nil {
		return err
	}

	// Check the imitation's record of what arrived: exactly once, intact.
	problems := 0
	for i, j := range final {
		for _, m := range j.Messages {
			got := fake.Received(jobs[i].from, strings.TrimPrefix(m.To, "+"))
			n := 0
			for _, r := range got {
				if r.Text == m.Text {
					n++
				}
			}
			want := 0
			if m.Status == wasend.MessageSent {
				want = 1
			}
			if n != want || (m.Status == wasend.MessageFailed && m.ErrorKind != wasend.ErrorKindNotOnWhatsApp) {
				problems++
				fmt.Printf("message %d to %s: WhatsApp received it %d times, status %s\n", m.ID, wasend.MaskPhone(m.To), n, m.Status)
			}
		}
	}
	problems += checkCampaign(camp, fake)
	if problems > 0 {
		return fmt.Errorf("%d messages did not arrive as recorded", problems)
	}
	fmt.Printf("\nEvery sent message reached WhatsApp exactly once, with its text intact (%d received). Done in %s.\n",
		len(fake.AllReceived()), time.Since(start).Round(100*time.Millisecond))
	return nil
}

// logins shows each context's first QR code and simulates the scan by the
// context's phone.
type logins struct {
	mu      sync.Mutex
	phones  map[int64]string
	scanned map[int64]bool
	ready   map[int64]bool
	early   []wasend.SessionEvent
	changed chan struct{}
}

func newLogins() *logins {
	return &logins{phones: map[int64]string{}, scanned: map[int64]bool{}, ready: map[int64]bool{},
		changed: make(chan struct{}, 1)}
}

// assign gives the next account's phone to a context, and replays the
// events that arrived before.
func (l *logins) assign(id int64) {
	l.mu.Lock()
	l.phones[id] = accounts[len(l.phones)]
	l.mu.Unlock()
	l.signal()
}

func (l *logins) signal() {
	select {
	case l.changed <- struct{}{}:
	default:
	}
}

func (l *logins) event(ctx context.Context, fake *fakewa.Server, ev wasend.SessionEvent, drawQR bool) {
	switch ev.Type {
	case wasend.EventQR:
		l.mu.Lock()
		if l.scanned[ev.ContextID] {
			l.mu.Unlock()
			return
		}
		l.scanned[ev.ContextID] = true
		l.mu.Unlock()
		fmt.Printf("Browser context %d shows a QR code. Scan it with WhatsApp > Linked devices:\n", ev.ContextID)
		if drawQR {
			fmt.Println(chromedpdriver.QRTerminal(ev.QR))
		}
		go func() {
			// The phone needs to know which account it is.
			phone := l.phoneOf(ctx, ev.ContextID)
			time.Sleep(300 * time.Millisecond)
			if err := fake.Scan(ctx, ev.QR, phone); err != nil {
				fmt.Fprintf(os.Stderr, "simulated scan of context %d: %v\n", ev.ContextID, err)
				return
			}
			fmt.Printf("(simulated) the phone +%s scanned the QR of context %d\n\n", phone, ev.ContextID)
		}()
	case wasend.EventStatus:
		fmt.Printf("Browser context %d is now %s\n", ev.ContextID, ev.Status)
		if ev.Status == wasend.ContextAvailable {
			l.mu.Lock()
			l.ready[ev.ContextID] = true
			l.mu.Unlock()
			l.signal()
		}
	}
}

func (l *logins) phoneOf(ctx context.Context, id int64) string {
	for {
		l.mu.Lock()
		p, ok := l.phones[id]
		l.mu.Unlock()
		if ok || ctx.Err() != nil {
			return p
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (l *logins) wait(ctx context.Context, n int) error {
	for {
		l.mu.Lock()
		done := len(l.ready) >= n
		l.mu.Unlock()
		if done {
			fmt.Println()
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the browser contexts did not log in: %w", ctx.Err())
		case <-l.changed:
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func printJobs(jobs []wasend.Job) {
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "JOB\tKIND\tCONTEXT\tSTATUS\tMSG\tTO\tMESSAGE STATUS\tSENT AT\tERROR")
	for _, j := range jobs {
		for i, m := range j.Messages {
			sentAt := "-"
			if !m.SentAt.IsZero() {
				sentAt = m.SentAt.Local().Format("15:04:05.000")
			}
			errText := "-"
			if m.ErrorKind != "" {
				errText = string(m.ErrorKind)
			}
			jobCols := fmt.Sprintf("%d\t%s\t%d\t%s", j.ID, j.Kind, j.ContextID, j.Status)
			if i > 0 {
				jobCols = "\t\t\t"
			}
			fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\n", jobCols, m.Position, wasend.MaskPhone(m.To), m.Status, sentAt, errText)
		}
	}
	w.Flush()
	fmt.Println()
}

func printStats(st wasend.Stats) {
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprint(w, "KIND")
	for _, s := range wasend.JobStatuses() {
		fmt.Fprintf(w, "\t%s", s)
	}
	fmt.Fprintln(w)
	for _, k := range wasend.JobKinds() {
		fmt.Fprint(w, k)
		for _, s := range wasend.JobStatuses() {
			fmt.Fprintf(w, "\t%d", st.Jobs[k][s])
		}
		fmt.Fprintln(w)
	}
	w.Flush()
	fmt.Println()
	w = tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "CONTEXT\tSTATUS\tLIVE\tMEMORY\tMSGS SENT\tDELIVERED\tREAD\tMSGS FAILED\tLEFT THIS HOUR\tTODAY\tNEW CONTACTS")
	for _, c := range st.Contexts {
		mem := "-"
		if c.MemoryPSS >= 0 {
			mem = fmt.Sprintf("%d MiB", c.MemoryPSS>>20)
		}
		hour, day, fresh := -1, -1, -1
		if p := c.Pacing; p != nil {
			hour, day, fresh = p.HourLeft, p.DayLeft, p.NewContactsLeft
		}
		fmt.Fprintf(w, "%d\t%s\t%v\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", c.ID, c.Status, c.Live, mem,
			c.Messages[wasend.MessageSent], c.Delivered, c.Read, c.Messages[wasend.MessageFailed], hour, day, fresh)
	}
	w.Flush()
	fmt.Printf("\nqueue: waiting %d, delayed %d, in flight %d, processed %d, retried %d, failed %d\n",
		st.Queue.Waiting, st.Queue.Delayed, st.Queue.InFlight, st.Queue.Processed, st.Queue.Retried, st.Queue.Failed)
}
