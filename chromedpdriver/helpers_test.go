package chromedpdriver

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/internal/fakewa"
	"github.com/wasend/wasend/wasendtest"
)

// requireChromium returns the browser, or skips the test when there is none;
// under CI=true a missing browser fails the test.
func requireChromium(t testing.TB) string {
	t.Helper()
	if p, err := findBrowser(exec.LookPath); err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("Chromium not found (apt-get install -y chromium); browser tests must run under CI=true")
	}
	t.Skip("Chromium not found (apt-get install -y chromium); skipping the browser tests")
	return ""
}

// fastFake are timings that keep the fake quick.
func fastFake(extra ...fakewa.Option) []fakewa.Option {
	return append([]fakewa.Option{
		fakewa.WithBootDelay(50 * time.Millisecond),
		fakewa.WithLoadingDelay(50 * time.Millisecond),
		fakewa.WithStartingChatDelay(50 * time.Millisecond),
		fakewa.WithTickDelays(30*time.Millisecond, 60*time.Millisecond, 100*time.Millisecond, 0),
	}, extra...)
}

// startFake starts a fakewa server for the test.
func startFake(t testing.TB, opts ...fakewa.Option) (*fakewa.Server, string) {
	t.Helper()
	s := fakewa.New(fastFake(opts...)...)
	base, err := s.Start()
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s, base
}

func testLogger(t testing.TB) (*slog.Logger, *wasendtest.LogBuffer) {
	buf := &wasendtest.LogBuffer{}
	t.Cleanup(func() {
		if t.Failed() || os.Getenv("DRIVER_LOGS") != "" {
			out := buf.String()
			if len(out) > 20000 {
				out = "…" + out[len(out)-20000:]
			}
			t.Logf("driver logs:\n%s", out)
		}
	})
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

// testPool returns a Pool for the fake at base, closed with the test.
func testPool(t testing.TB, base string, opts ...Option) (*Pool, *wasendtest.LogBuffer) {
	t.Helper()
	requireChromium(t)
	log, buf := testLogger(t)
	all := append([]Option{
		WithURL(base),
		WithProfileRoot(t.TempDir()),
		WithDebugDir(t.TempDir()),
		WithPollInterval(100 * time.Millisecond),
		WithWatchdog(time.Second, 5*time.Second),
		WithRelaunchBackoff(100*time.Millisecond, time.Second),
		WithNavigationTimeout(15 * time.Second),
		WithActionTimeout(15 * time.Second),
		WithCloseTimeout(5 * time.Second),
		// A short watch for a rejection after the tick: the default
		// (1.5 s) would add that to every send of every test. The tests
		// of rejections ask for the default.
		WithRejectWatch(100 * time.Millisecond),
		WithLogger(log),
	}, opts...)
	p, err := New(all...)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, p.Close()) })
	return p, buf
}

// recorder keeps a session's events.
type recorder struct {
	mu  sync.Mutex
	evs []wasend.SessionEvent
	sig chan struct{}
}

func newRecorder() *recorder { return &recorder{sig: make(chan struct{}, 1)} }

func (r *recorder) add(ev wasend.SessionEvent) {
	r.mu.Lock()
	r.evs = append(r.evs, ev)
	r.mu.Unlock()
	select {
	case r.sig <- struct{}{}:
	default:
	}
}

func (r *recorder) all() []wasend.SessionEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]wasend.SessionEvent(nil), r.evs...)
}

func (r *recorder) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.evs)
}

// waitFrom waits for an event at index from or later that matches pred.
func (r *recorder) waitFrom(t testing.TB, from int, d time.Duration, what string, pred func(wasend.SessionEvent) bool) wasend.SessionEvent {
	t.Helper()
	deadline := time.After(d)
	for {
		evs := r.all()
		for i := from; i < len(evs); i++ {
			if pred(evs[i]) {
				return evs[i]
			}
		}
		select {
		case <-r.sig:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("no event %s after %v; events: %s", what, d, describeEvents(r.all()))
		}
	}
}

func describeEvents(evs []wasend.SessionEvent) string {
	var b strings.Builder
	for _, ev := range evs {
		b.WriteString(string(ev.Type))
		if ev.Status != "" {
			b.WriteString(":" + string(ev.Status))
		}
		if ev.Err != nil {
			b.WriteString("(" + ev.Err.Error() + ")")
		}
		b.WriteString(" ")
	}
	return b.String()
}

func isQR(ev wasend.SessionEvent) bool { return ev.Type == wasend.EventQR && ev.QR != "" }

func isStatus(st wasend.ContextStatus, cause error) func(wasend.SessionEvent) bool {
	return func(ev wasend.SessionEvent) bool {
		if ev.Type != wasend.EventStatus || ev.Status != st {
			return false
		}
		return cause == nil || ev.Err != nil && errorsIs(ev.Err, cause)
	}
}

// launch starts a session of the pool with an event recorder.
func launch(t testing.TB, p *Pool, systemID string) (*Session, *recorder) {
	t.Helper()
	rec := newRecorder()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ws, err := p.Launch(ctx, wasend.LaunchRequest{SystemID: systemID, OnEvent: rec.add})
	require.NoError(t, err)
	s, ok := ws.(*Session)
	require.True(t, ok, "Launch returns a *Session")
	_, ok = ws.(wasend.SentFinder)
	require.True(t, ok, "the session is a SentFinder")
	return s, rec
}

// login scans the session's QR code for phone and waits until it is ready.
func login(t testing.TB, f *fakewa.Server, s *Session, rec *recorder, from int, phone string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	scanQR(ctx, t, f, rec, from, isQR, phone)
	require.NoError(t, s.WaitReady(ctx))
	rec.waitFrom(t, from, 10*time.Second, "available", isStatus(wasend.ContextAvailable, nil))
}

// scanQR scans, as phone, the newest QR code that rec took (at index from
// or later) among the events that match. On a loaded machine the code
// can rotate between its event and the scan, or the page reload before it
// stores the login: then it scans the next one.
func scanQR(ctx context.Context, t testing.TB, f *fakewa.Server, rec *recorder, from int, match func(wasend.SessionEvent) bool, phone string) {
	t.Helper()
	next := from
	for {
		rec.waitFrom(t, next, 20*time.Second, "qr", match)
		evs := rec.all()
		var qr string
		for _, ev := range evs[next:] {
			if match(ev) {
				qr = ev.QR
			}
		}
		next = len(evs)
		err := f.Scan(ctx, qr, phone)
		if errors.Is(err, fakewa.ErrQRExpired) || errors.Is(err, fakewa.ErrUnknownQR) || errors.Is(err, fakewa.ErrPageGone) {
			continue
		}
		require.NoError(t, err)
		return
	}
}

// quickCtx is a context for one call.
func quickCtx(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }

// markBox keeps the mark a send handed to its SendTrace.
type markBox struct {
	mu    sync.Mutex
	mark  string
	calls int
}

func (b *markBox) get() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.mark
}

func (b *markBox) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.calls
}

// traced returns ctx with a SendTrace that keeps the mark, then runs then
// (when not nil) and returns its error.
func traced(ctx context.Context, then func(mark string) error) (context.Context, *markBox) {
	b := &markBox{}
	return wasend.WithSendTrace(ctx, &wasend.SendTrace{BeforeSend: func(mark string) error {
		b.mu.Lock()
		b.mark = mark
		b.calls++
		b.mu.Unlock()
		if then != nil {
			return then(mark)
		}
		return nil
	}}), b
}
