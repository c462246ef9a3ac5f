package wasendtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/wasend/wasend"
)

// DefaultWaitTimeout is how long the waits of a Client (WaitJob,
// WaitContext, NewContext) wait before they fail the test. It only bounds a
// failure: a wait returns as soon as what it waits for happens.
const DefaultWaitTimeout = time.Minute

// Client is a real *wasend.Client wired on an in-memory Store, Queue and
// Leaser and a scripted Pool, for the tests of host code. NewClient builds
// it, runs it and closes everything when the test ends.
//
// The embedded *wasend.Client is the one under test: pass it (or the
// Client itself, which implements wasend.Sender) to the code under test.
// The other fields are its back ends, for the test to inspect or to break
// (Store.SetFailure, Queue.SetFailure, Pool.SetLaunchError, ...).
//
// Its own methods (NewContext, WaitJob, WaitContext, Session, Sent, Count,
// Events) fail the test through t, so call them from the test's goroutine.
type Client struct {
	*wasend.Client
	// Store, Queue, Leaser and Pool are the back ends the Client runs on.
	Store  *Store
	Queue  *Queue
	Leaser *Leaser
	Pool   *Pool

	t       TB
	wait    time.Duration
	changes *changes
	logs    *LogBuffer

	evMu   sync.Mutex
	events []wasend.SessionEvent
}

// TB is the part of testing.TB that NewClient uses. *testing.T and
// *testing.B implement it; an example can implement it too.
type TB interface {
	Helper()
	Cleanup(func())
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
	Failed() bool
}

var _ TB = testing.TB(nil)

// ClientOption configures NewClient.
type ClientOption func(*clientConfig)

type clientConfig struct {
	opts      []wasend.Option
	poolOpts  []Option
	queueOpts []QueueOption
	run       bool
	wait      time.Duration
}

// WithClientOptions adds options for wasend.New. They come after the
// kit's own (short waits and backoffs, a logger, an event handler and the
// in-memory Leaser), so that they win; a wasend.WithEventHandler given here
// leaves Client.Events empty. Default: none.
func WithClientOptions(opts ...wasend.Option) ClientOption {
	return func(c *clientConfig) { c.opts = append(c.opts, opts...) }
}

// WithPoolOptions configures the scripted Pool (WithAutoLogin,
// WithoutFinder, WithPairing, WithNotOnWhatsApp). Default: none, so
// sessions log in at once, can look in the chat, and cannot pair.
func WithPoolOptions(opts ...Option) ClientOption {
	return func(c *clientConfig) { c.poolOpts = append(c.poolOpts, opts...) }
}

// WithQueueOptions configures the in-memory Queue. Default: none.
func WithQueueOptions(opts ...QueueOption) ClientOption {
	return func(c *clientConfig) { c.queueOpts = append(c.queueOpts, opts...) }
}

// WithRun says whether NewClient starts Client.Run, which runs the workers
// that send. Without it, jobs stay pending. Default: true.
func WithRun(run bool) ClientOption { return func(c *clientConfig) { c.run = run } }

// WithWaitTimeout sets how long the waits fail the test after. Default:
// DefaultWaitTimeout.
func WithWaitTimeout(d time.Duration) ClientOption { return func(c *clientConfig) { c.wait = d } }

// kitOptions keep every wait of the Client short, so that retries and
// sweeps happen within a test.
func kitOptions() []wasend.Option {
	return []wasend.Option{
		wasend.WithBackoff(10*time.Millisecond, 50*time.Millisecond, 0.1),
		wasend.WithContextWait(5 * time.Second),
		wasend.WithSweep(50*time.Millisecond, 200*time.Millisecond),
		wasend.WithShutdownTimeout(5 * time.Second),
		wasend.WithSendTimeout(5 * time.Second),
		wasend.WithBulkDelay(10 * time.Millisecond),
		// A test opts in to pacing and the breaker with WithClientOptions.
		wasend.WithPacing(wasend.NoPacing()),
		wasend.WithBreaker(wasend.Breaker{}),
	}
}

// NewClient returns a Client on new in-memory back ends, running unless
// WithRun(false). When the test ends it stops Run, closes the Client and
// the Queue, and, if the test failed, logs what the Client logged.
//
// Besides the options given, the Client has short backoffs and sweeps
// (10 ms to 50 ms between attempts, a sweep every 50 ms), a 5 s send
// timeout, and a 10 ms pause between the messages of a bulk job.
func NewClient(t TB, opts ...ClientOption) *Client {
	t.Helper()
	cfg := clientConfig{run: true, wait: DefaultWaitTimeout}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	c := &Client{
		Store:   NewStore(),
		Queue:   NewQueue(cfg.queueOpts...),
		Leaser:  NewLeaser(),
		Pool:    NewPool(cfg.poolOpts...),
		t:       t,
		wait:    cfg.wait,
		changes: newChanges(),
		logs:    &LogBuffer{},
	}
	logger := slog.New(slog.NewTextHandler(c.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	all := append(kitOptions(), wasend.WithLogger(logger), wasend.WithEventHandler(c.addEvent),
		wasend.WithLeaser(c.Leaser))
	all = append(all, cfg.opts...)
	wc, err := wasend.New(c.Pool, c.Queue, &notifyStore{Store: c.Store, changes: c.changes}, all...)
	if err != nil {
		_ = c.Queue.Close()
		t.Fatalf("wasendtest: wasend.New: %v", err)
	}
	c.Client = wc
	t.Cleanup(func() {
		if err := wc.Close(); err != nil {
			t.Errorf("wasendtest: Close: %v", err)
		}
		if err := c.Queue.Close(); err != nil {
			t.Errorf("wasendtest: closing the queue: %v", err)
		}
		if t.Failed() {
			t.Logf("wasend logs:\n%s", c.logs.String())
		}
	})
	if cfg.run {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- wc.Run(ctx) }()
		// Registered after the Close above, so it runs before it.
		t.Cleanup(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil && !errors.Is(err, wasend.ErrClosed) {
					t.Errorf("wasendtest: Run: %v", err)
				}
			case <-time.After(c.wait):
				t.Errorf("wasendtest: Run did not return %v after its ctx ended", c.wait)
			}
		})
	}
	return c
}

// NewContext creates a browser context, logs its scripted session in, and
// waits until the context is available to send.
func (c *Client) NewContext() wasend.BrowserContext {
	c.t.Helper()
	bc, err := c.Client.CreateContext(context.Background())
	if err != nil {
		c.t.Fatalf("wasendtest: CreateContext: %v", err)
	}
	c.Pool.mu.Lock()
	auto := c.Pool.autoLogin
	c.Pool.mu.Unlock()
	if s := c.Pool.Session(bc.SystemID); s != nil && !auto {
		s.Login()
	}
	return c.WaitContext(bc.ID, wasend.ContextAvailable)
}

// Session returns the scripted session of a browser context, to script its
// faults. It fails the test when the context has no live session here.
func (c *Client) Session(contextID int64) *Session {
	c.t.Helper()
	bc, err := c.Store.Context(context.Background(), contextID)
	if err != nil {
		c.t.Fatalf("wasendtest: context %d: %v", contextID, err)
	}
	s := c.Pool.Session(bc.SystemID)
	if s == nil {
		c.t.Fatalf("wasendtest: context %d has no scripted session", contextID)
	}
	return s
}

// Sent returns every message that reached WhatsApp, from any context, in
// the order they arrived.
func (c *Client) Sent() []Sent { return c.Pool.Sent() }

// Count returns how many times a message with this text reached to (E.164).
func (c *Client) Count(to, text string) int { return c.Pool.Count(to, text) }

// Events returns the session events the Client handed to the host, in
// order.
func (c *Client) Events() []wasend.SessionEvent {
	c.evMu.Lock()
	defer c.evMu.Unlock()
	return append([]wasend.SessionEvent(nil), c.events...)
}

func (c *Client) addEvent(ev wasend.SessionEvent) {
	c.evMu.Lock()
	c.events = append(c.events, ev)
	c.evMu.Unlock()
}

// WaitJob waits until the job reaches a final status (completed, failed or
// cancelled) and returns it. It fails the test if that takes longer than
// the wait timeout.
func (c *Client) WaitJob(id int64) wasend.Job {
	c.t.Helper()
	return c.WaitJobStatus(id, "")
}

// WaitJobStatus waits until the job has status want and returns it; an
// empty want means any final status. It fails the test if the job reaches
// another final status, or if the wait times out.
func (c *Client) WaitJobStatus(id int64, want wasend.JobStatus) wasend.Job {
	c.t.Helper()
	var j wasend.Job
	ok := c.until(func() (bool, error) {
		var err error
		j, err = c.Store.Job(context.Background(), id)
		if err != nil {
			return false, err
		}
		if want == "" {
			return j.Status.Final(), nil
		}
		if j.Status != want && j.Status.Final() {
			return false, fmt.Errorf("job %d ended %s (%s: %s), want %s", id, j.Status, j.ErrorKind, j.Error, want)
		}
		return j.Status == want, nil
	})
	if !ok {
		c.t.Fatalf("wasendtest: job %d is %s after %v, want %s", id, j.Status, c.wait, orFinal(want))
	}
	return j
}

func orFinal(s wasend.JobStatus) string {
	if s == "" {
		return "a final status"
	}
	return string(s)
}

// WaitContext waits until the browser context has status want, and returns
// it.
func (c *Client) WaitContext(id int64, want wasend.ContextStatus) wasend.BrowserContext {
	c.t.Helper()
	var bc wasend.BrowserContext
	ok := c.until(func() (bool, error) {
		var err error
		bc, err = c.Store.Context(context.Background(), id)
		return err == nil && bc.Status == want, err
	})
	if !ok {
		c.t.Fatalf("wasendtest: context %d is %s after %v, want %s", id, bc.Status, c.wait, want)
	}
	return bc
}

// until calls cond after every change of the store until it reports true,
// and reports false when the wait timed out. An error of cond fails the
// test.
func (c *Client) until(cond func() (bool, error)) bool {
	c.t.Helper()
	timer := time.NewTimer(c.wait)
	defer timer.Stop()
	for {
		changed := c.changes.next() // before the check, so no change is missed
		done, err := cond()
		if err != nil {
			c.t.Fatalf("wasendtest: %v", err)
		}
		if done {
			return true
		}
		select {
		case <-changed:
		case <-timer.C:
			return false
		}
	}
}

// notifyStore tells the waits of a Client about every change of the store.
// It is the Store with all its optional interfaces (campaigns, the
// outbox, the suppression list, ...).
type notifyStore struct {
	*Store
	changes *changes
}

func (s *notifyStore) CreateCampaign(ctx context.Context, cp wasend.Campaign) (wasend.Campaign, error) {
	defer s.changes.notify()
	return s.Store.CreateCampaign(ctx, cp)
}

func (s *notifyStore) MoveMessages(ctx context.Context, m wasend.MessageMove) (wasend.Job, error) {
	defer s.changes.notify()
	return s.Store.MoveMessages(ctx, m)
}

func (s *notifyStore) Suppress(ctx context.Context, sup wasend.Suppression, evs []wasend.Event) (bool, error) {
	defer s.changes.notify()
	return s.Store.Suppress(ctx, sup, evs)
}

func (s *notifyStore) RecordIncoming(ctx context.Context, m wasend.IncomingMessage, evs []wasend.Event) (wasend.IncomingMessage, bool, error) {
	defer s.changes.notify()
	return s.Store.RecordIncoming(ctx, m, evs)
}

func (s *notifyStore) Unsuppress(ctx context.Context, phone string) (bool, error) {
	defer s.changes.notify()
	return s.Store.Unsuppress(ctx, phone)
}

func (s *notifyStore) CreateContext(ctx context.Context, bc wasend.BrowserContext) (wasend.BrowserContext, error) {
	defer s.changes.notify()
	return s.Store.CreateContext(ctx, bc)
}

func (s *notifyStore) CreateJob(ctx context.Context, j wasend.Job) (wasend.Job, error) {
	defer s.changes.notify()
	return s.Store.CreateJob(ctx, j)
}

func (s *notifyStore) Apply(ctx context.Context, st wasend.Step) (bool, error) {
	defer s.changes.notify()
	return s.Store.Apply(ctx, st)
}

func (s *notifyStore) Clean(ctx context.Context, before time.Time) (int64, error) {
	defer s.changes.notify()
	return s.Store.Clean(ctx, before)
}

// changes is a broadcast: next returns a channel that is closed at the
// next notify.
type changes struct {
	mu sync.Mutex
	ch chan struct{}
}

func newChanges() *changes { return &changes{ch: make(chan struct{})} }

func (c *changes) next() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ch
}

func (c *changes) notify() {
	c.mu.Lock()
	close(c.ch)
	c.ch = make(chan struct{})
	c.mu.Unlock()
}

// LogBuffer is an io.Writer that goroutines may share: give it to a
// slog handler (slog.NewTextHandler(buf, nil)) to keep a Client's or a
// pool's logs, and print them when a test fails. Its zero value is ready
// to use.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write implements io.Writer.
func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns what was written so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
