package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/chromedpdriver"
	"github.com/wasend/wasend/internal/chromeflags"
	"github.com/wasend/wasend/internal/fakewa"
	"github.com/wasend/wasend/internal/procfs"
	"github.com/wasend/wasend/internal/testenv"
)

// The fake's timings, the same for the driver and the floor in every
// browser benchmark.
const (
	fakeBoot     = 50 * time.Millisecond
	fakeLoading  = 50 * time.Millisecond
	fakeStarting = 50 * time.Millisecond
	fakePending  = 30 * time.Millisecond
	fakeSent     = 60 * time.Millisecond
	fakeDeliv    = 100 * time.Millisecond
)

func fakeOptions() []fakewa.Option {
	return []fakewa.Option{
		fakewa.WithBootDelay(fakeBoot),
		fakewa.WithLoadingDelay(fakeLoading),
		fakewa.WithStartingChatDelay(fakeStarting),
		fakewa.WithTickDelays(fakePending, fakeSent, fakeDeliv, 0),
	}
}

// startFake starts a fakewa server with the benchmark timings.
func startFake(b *testing.B) (*fakewa.Server, string) {
	b.Helper()
	f := fakewa.New(fakeOptions()...)
	base, err := f.Start()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = f.Close() })
	return f, base
}

// logSink keeps the driver's logs; they are printed when the benchmark
// fails, or always with BENCH_DRIVER_LOGS set.
type logSink struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logSink) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func benchLogger(b *testing.B) *slog.Logger {
	sink := &logSink{}
	b.Cleanup(func() {
		if b.Failed() || os.Getenv("BENCH_DRIVER_LOGS") != "" {
			sink.mu.Lock()
			out := sink.b.String()
			sink.mu.Unlock()
			if len(out) > 20000 {
				out = "…" + out[len(out)-20000:]
			}
			b.Logf("driver logs:\n%s", out)
		}
	})
	return slog.New(slog.NewTextHandler(sink, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// newPool returns a pool on the fake at base with the driver's default
// timings (poll 250 ms, watchdog 10 s, action 30 s), closed with b.
func newPool(b *testing.B, base string, mode chromedpdriver.Mode, extra ...chromedpdriver.Option) *chromedpdriver.Pool {
	b.Helper()
	exe := testenv.Chromium(b)
	p, err := chromedpdriver.New(append([]chromedpdriver.Option{
		chromedpdriver.WithExecPath(exe),
		chromedpdriver.WithMode(mode),
		chromedpdriver.WithURL(base),
		chromedpdriver.WithProfileRoot(b.TempDir()),
		chromedpdriver.WithDebugDir(b.TempDir()),
		chromedpdriver.WithLogger(benchLogger(b)),
	}, extra...)...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := p.Close(); err != nil {
			b.Errorf("closing the pool: %v", err)
		}
	})
	return p
}

// events keeps the QR codes and statuses of one session.
type events struct {
	mu  sync.Mutex
	qrs []string
	st  []wasend.ContextStatus
	sig chan struct{}
}

func newEvents() *events { return &events{sig: make(chan struct{}, 1)} }

func (e *events) add(ev wasend.SessionEvent) {
	e.mu.Lock()
	switch ev.Type {
	case wasend.EventQR:
		e.qrs = append(e.qrs, ev.QR)
	case wasend.EventStatus:
		e.st = append(e.st, ev.Status)
	}
	e.mu.Unlock()
	select {
	case e.sig <- struct{}{}:
	default:
	}
}

func (e *events) qrCount() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.qrs)
}

// firstQR waits for the session's first QR code.
func (e *events) firstQR(ctx context.Context) (string, error) {
	for {
		e.mu.Lock()
		if len(e.qrs) > 0 {
			q := e.qrs[0]
			e.mu.Unlock()
			return q, nil
		}
		e.mu.Unlock()
		select {
		case <-e.sig:
		case <-time.After(50 * time.Millisecond):
		case <-ctx.Done():
			return "", fmt.Errorf("no QR code: %w", ctx.Err())
		}
	}
}

// launch starts a session (a new one for an empty systemID).
func launch(ctx context.Context, p *chromedpdriver.Pool, systemID string) (*chromedpdriver.Session, *events, error) {
	ev := newEvents()
	ws, err := p.Launch(ctx, wasend.LaunchRequest{SystemID: systemID, OnEvent: ev.add})
	if err != nil {
		return nil, nil, err
	}
	return ws.(*chromedpdriver.Session), ev, nil
}

// launchLoggedIn starts a new session and logs it in as phone through the
// fake's Scan, and waits until it is ready.
func launchLoggedIn(ctx context.Context, p *chromedpdriver.Pool, f *fakewa.Server, phone string) (*chromedpdriver.Session, error) {
	s, ev, err := launch(ctx, p, "")
	if err != nil {
		return nil, err
	}
	qr, err := ev.firstQR(ctx)
	if err != nil {
		return nil, err
	}
	if err := f.Scan(ctx, qr, phone); err != nil {
		return nil, err
	}
	if err := s.WaitReady(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// launchMany starts n sessions at once and logs them in as phones.
func launchMany(b *testing.B, p *chromedpdriver.Pool, f *fakewa.Server, phones []string) []*chromedpdriver.Session {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	out := make([]*chromedpdriver.Session, len(phones))
	errs := make([]error, len(phones))
	var wg sync.WaitGroup
	for i, ph := range phones {
		wg.Go(func() { out[i], errs[i] = launchLoggedIn(ctx, p, f, ph) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			b.Fatalf("session %d (%s): %v", i, phones[i], err)
		}
	}
	return out
}

// sendCtx is the deadline of one send in the benchmarks.
func sendCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 20*time.Second)
}

// checkOracle verifies that the fake received text from me to to exactly
// once, intact.
func checkOracle(f *fakewa.Server, me, to, text string) error {
	got := f.Received(me, to)
	n := 0
	for _, m := range got {
		if m.Text == text {
			n++
		}
	}
	if n != 1 {
		return fmt.Errorf("%s -> %s: %q received %d times (%d messages in the chat)", me, to, text, n, len(got))
	}
	return nil
}

// ---------------------------------------------------------------- statistics

func pct(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(p*float64(len(s))+0.5) - 1
	i = max(0, min(len(s)-1, i))
	return s[i]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// ---------------------------------------------------------- bare Chromium

// bareChrome is a Chromium started with the driver's flags and a temporary
// profile, driven by plain chromedp. The flags come from
// internal/chromeflags, which the driver uses too; checkFlags compares the
// command lines.
type bareChrome struct {
	ctx    context.Context // the first tab
	pid    int
	cancel func()
}

// startBare starts a bare Chromium as p starts its own: the same program
// (testenv.Chromium, which the benchmarks' pools run) and flags, headless
// (the pools' default), with p's User-Agent and a temporary profile.
func startBare(b *testing.B, p *chromedpdriver.Pool) *bareChrome {
	b.Helper()
	flags := chromeflags.Browser(chromedpdriver.DefaultHeadless, p.UserAgent(), "", os.Geteuid() == 0)
	actx, acancel := chromedp.NewExecAllocator(context.Background(), chromeflags.Allocator(testenv.Chromium(b), flags)...)
	ctx, cancel := chromedp.NewContext(actx)
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		acancel()
		b.Fatalf("starting a bare Chromium: %v", err)
	}
	bc := &bareChrome{ctx: ctx, cancel: func() { cancel(); acancel() }}
	if p := chromedp.FromContext(ctx).Browser.Process(); p != nil {
		bc.pid = p.Pid
	}
	b.Cleanup(bc.cancel)
	return bc
}

// ------------------------------------------------------------- processes

// memOf returns the PSS and the USS (Private_Clean + Private_Dirty) of
// pids in bytes, summed, from /proc/<pid>/smaps_rollup: the PSS is the same
// reading as Session.Memory. PSS splits the shared pages (the Chromium
// binary, fonts, ...) among every process on the machine that maps them,
// other Chromium browsers included; USS counts only what is private to the
// process, and does not depend on what else runs.
func memOf(pids []int) (pss, uss int64) {
	for _, pid := range pids {
		if m, err := procfs.Memory(pid); err == nil {
			pss += m.PSS
			uss += m.USS
		}
	}
	return pss, uss
}

// cmdFlags returns the --flags of a process's command line.
func cmdFlags(pid int) map[string]string {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return nil
	}
	m := map[string]string{}
	for _, a := range strings.Split(string(raw), "\x00") {
		if !strings.HasPrefix(a, "--") {
			continue
		}
		k, v, _ := strings.Cut(a[2:], "=")
		m[k] = v
	}
	return m
}

// chromeChildren lists the Chromium processes under this test process.
func chromeChildren() []int {
	pp := procfs.ParentPIDs()
	me := os.Getpid()
	var out []int
	for pid := range pp {
		for p, n := pp[pid], 0; p > 1 && n < 64; p, n = pp[p], n+1 {
			if p == me {
				cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
				if bytes.Contains(cmd, []byte("chrom")) {
					out = append(out, pid)
				}
				break
			}
		}
	}
	return out
}

// mainBrowsers lists the main processes of the Chromium browsers under
// this test process: those that chromedp started (with a profile folder
// and a debugging pipe or port), not their children (--type=...).
func mainBrowsers() []int {
	var out []int
	for _, pid := range chromeChildren() {
		f := cmdFlags(pid)
		_, child := f["type"]
		_, dir := f["user-data-dir"]
		_, pipe := f["remote-debugging-pipe"]
		_, port := f["remote-debugging-port"]
		if !child && dir && (pipe || port) {
			out = append(out, pid)
		}
	}
	return out
}

// noLeftovers fails b when Chromium processes of this test outlive it.
// Register it first, so that it runs after every other cleanup.
func noLeftovers(b *testing.B) {
	b.Cleanup(func() {
		deadline := time.Now().Add(10 * time.Second)
		for {
			left := chromeChildren()
			if len(left) == 0 {
				return
			}
			if time.Now().After(deadline) {
				b.Errorf("Chromium processes left behind: %v", left)
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
}

// ------------------------------------------------------- the traced fake

// traceJS records, in a page of the fake, when the steps of a send happen
// (wall clock in ms, from performance.timeOrigin), and posts them to
// /__bench/trace every second:
//
//	nav    the popstate event of an in-app navigation
//	open   a new chat panel (#main) with no "Starting chat" modal; v = title
//	in     the first paste or beforeinput event (text going in)
//	click  a click on the send button; enter: Enter pressed
//	tick   an outgoing row shows msg-check or msg-dblcheck; v = row text
//	eval   the driver's page code started: it calls Symbol.for('wasend.driver')
//	       first thing, and the script wraps Symbol.for to see it
//
// Nothing of the page's or the driver's behaviour changes.
const traceJS = `(function () {
  var buf = [], wid = '';
  function now() { return performance.timeOrigin + performance.now(); }
  function who() {
    if (!wid) { try { wid = JSON.parse(localStorage.getItem('last-wid') || '""') || ''; } catch (e) {} }
    return wid;
  }
  function rec(k, v) { buf.push({ k: k, v: v || '', t: now(), d: Date.now(), w: who() }); }
  var symFor = Symbol.for;
  Symbol.for = function (k) { if (k === 'wasend.driver') rec('eval'); return symFor.call(Symbol, k); };
  window.addEventListener('popstate', function () { rec('nav', location.search); }, true);
  document.addEventListener('paste', function () { rec('in', 'paste'); }, true);
  document.addEventListener('beforeinput', function (e) { rec('in', e.inputType); }, true);
  document.addEventListener('click', function (e) {
    if (e.target && e.target.closest && e.target.closest("button[aria-label='Send']")) rec('click');
  }, true);
  document.addEventListener('keydown', function (e) { if (e.key === 'Enter') rec('enter'); }, true);
  var lastMain = null, ticked = new WeakSet();
  function sent(r) { return !!r.querySelector("[data-icon='msg-check'],[data-icon='msg-dblcheck']"); }
  function text(r) { var s = r.querySelector('span.selectable-text'); return s ? s.textContent : ''; }
  new MutationObserver(function () {
    var m = document.getElementById('main');
    if (!m) return;
    var rows = m.querySelectorAll("[role='row']");
    if (m !== lastMain) {
      if (document.querySelector("[aria-label='Starting chat']")) return;
      lastMain = m;
      var t = m.querySelector('header span[title]');
      rec('open', t ? t.getAttribute('title') : '');
      rows.forEach(function (r) { if (sent(r)) ticked.add(r); });
      return;
    }
    rows.forEach(function (r) {
      if (!ticked.has(r) && sent(r)) { ticked.add(r); rec('tick', text(r)); }
    });
  }).observe(document, { childList: true, subtree: true });
  setInterval(function () {
    if (!buf.length) return;
    var b = buf; buf = [];
    navigator.sendBeacon('/__bench/trace', JSON.stringify(b));
  }, 1000);
})();`

type traceEvent struct {
	K string  `json:"k"`
	V string  `json:"v"`
	T float64 `json:"t"` // Unix ms: performance.timeOrigin + performance.now()
	D float64 `json:"d"` // Date.now()
	W string  `json:"w"` // "<digits>@c.us" of the page's login
}

func (e traceEvent) at() time.Time {
	return time.UnixMicro(int64(e.T * 1000))
}

// tracedFake serves a fakewa server with traceJS in its page, and collects
// the page's trace.
type tracedFake struct {
	f  *fakewa.Server
	mu sync.Mutex
	ev []traceEvent
}

func startTracedFake(b *testing.B) (*tracedFake, string) {
	b.Helper()
	t := &tracedFake{f: fakewa.New(fakeOptions()...)}
	srv := httptest.NewServer(t)
	b.Cleanup(func() {
		_ = t.f.Close()
		srv.Close()
	})
	return t, srv.URL
}

func (t *tracedFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case p == "/__bench/trace" && r.Method == http.MethodPost:
		body, _ := io.ReadAll(r.Body)
		var evs []traceEvent
		if json.Unmarshal(body, &evs) == nil {
			t.mu.Lock()
			t.ev = append(t.ev, evs...)
			t.mu.Unlock()
		}
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodGet && !strings.HasPrefix(p, "/__") && p != "/favicon.ico":
		rec := httptest.NewRecorder()
		t.f.ServeHTTP(rec, r)
		body := rec.Body.String()
		if strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
			body = strings.Replace(body, "</head>", "<script>"+traceJS+"</script></head>", 1)
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.Code)
		_, _ = io.WriteString(w, body)
	default:
		t.f.ServeHTTP(w, r)
	}
}

// take returns the events collected so far and forgets them. The times of
// each page are aligned on its Date.now(), the wall clock that Go reads
// too: a renderer's high-resolution clock can sit a constant offset away
// from it. offsets reports the correction of each page, in ms.
func (t *tracedFake) take() (evs []traceEvent, offsets map[string]float64) {
	t.mu.Lock()
	evs = t.ev
	t.ev = nil
	t.mu.Unlock()
	// Date.now() is the wall clock truncated to the ms, so d - t lies in
	// (offset-1, offset], plus the rare preemption between the two reads:
	// the median plus half a millisecond is the offset.
	diffs := map[string][]float64{}
	for _, e := range evs {
		diffs[e.W] = append(diffs[e.W], e.D-e.T)
	}
	offsets = map[string]float64{}
	for w, d := range diffs {
		slices.Sort(d)
		offsets[w] = d[(len(d)-1)/2] + 0.5
	}
	for i := range evs {
		evs[i].T += offsets[evs[i].W]
	}
	return evs, offsets
}

// --------------------------------------------------------------- the floor

// floorPage is a bare Chromium logged in to the fake, sending with the
// fewest chromedp steps.
type floorPage struct {
	bc *bareChrome
}

// newFloorPage opens the fake in a bare Chromium (User-Agent and focus
// emulation set as the driver sets them) and logs it in as phone.
func newFloorPage(b *testing.B, f *fakewa.Server, base string, p *chromedpdriver.Pool, phone string) *floorPage {
	b.Helper()
	bc := startBare(b, p)
	ua := p.UserAgent()
	ctx, cancel := context.WithTimeout(bc.ctx, 60*time.Second)
	defer cancel()
	err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		if _, err := chromedp.Call(ctx, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: ua, AcceptLanguage: "en-US,en;q=0.9"}); err != nil {
			return err
		}
		if _, err := chromedp.Call(ctx, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true}); err != nil {
			return err
		}
		_, err := chromedp.Call(ctx, page.Navigate, page.NavigateParams{URL: base + "/"})
		return err
	}))
	if err != nil {
		b.Fatalf("floor: opening the fake: %v", err)
	}
	ref, err := chromedp.Run(ctx, chromedp.Poll[string](`(function () { var c = document.querySelector('[data-ref] canvas'); return c ? c.closest('[data-ref]').dataset.ref : ''; })()`,
		chromedp.WithPollingInterval(20*time.Millisecond)))
	if err != nil {
		b.Fatalf("floor: no QR code: %v", err)
	}
	if err := f.Scan(ctx, ref, phone); err != nil {
		b.Fatalf("floor: scan: %v", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`!!document.querySelector('#pane-side')`, chromedp.WithPollingInterval(20*time.Millisecond))); err != nil {
		b.Fatalf("floor: main screen: %v", err)
	}
	return &floorPage{bc: bc}
}

const (
	floorComposeSel = `#main footer div[contenteditable='true'][role='textbox']`
	floorSendSel    = `button[aria-label='Send']`
)

// send is the floor: the DOM steps of a send, each one chromedp call, and
// every wait a MutationObserver in the page (chromedp.Poll with
// WithPollingMutation) instead of a poll from Go.
//
//  1. pushState('/send?phone=<digits>') and a popstate event (one Evaluate);
//  2. wait until #main header span[title] is "+<digits>" and no "Starting
//     chat" modal shows (one Poll);
//  3. focus the compose box, caret at the end (one Evaluate);
//  4. Input.insertText with the text;
//  5. wait for button[aria-label='Send'] and read its centre (one Poll),
//     then a trusted click: Input.dispatchMouseEvent pressed and released;
//  6. wait until the outgoing row with the text shows msg-check or
//     msg-dblcheck instead of msg-time (one Poll).
//
// With open false (the chat is open already) steps 1 and 2 are skipped.
func (fp *floorPage) send(digits, text string, open bool) error {
	ctx, cancel := context.WithTimeout(fp.bc.ctx, 20*time.Second)
	defer cancel()
	if open {
		if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](
			`history.pushState({}, '', '/send?phone=`+digits+`'); window.dispatchEvent(new PopStateEvent('popstate', { state: {} }))`)); err != nil {
			return fmt.Errorf("nav: %w", err)
		}
		if _, err := chromedp.Run(ctx, chromedp.PollFunction[bool](`function (title) {
  var t = document.querySelector('#main header span[title]');
  return !!t && t.getAttribute('title') === title && !document.querySelector("[aria-label='Starting chat']");
}`, chromedp.WithPollingMutation(), chromedp.WithPollingArgs("+"+digits), chromedp.WithPollingTimeout(15*time.Second))); err != nil {
			return fmt.Errorf("open: %w", err)
		}
	}
	if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(function () {
  var e = document.querySelector("`+floorComposeSel+`");
  if (!e) return false;
  e.focus();
  var r = document.createRange(); r.selectNodeContents(e); r.collapse(false);
  var s = window.getSelection(); s.removeAllRanges(); s.addRange(r);
  return true;
})()`)); err != nil || !ok {
		return fmt.Errorf("focus: %v %w", ok, err)
	}
	if _, err := chromedp.Call(ctx, input.InsertText, input.InsertTextParams{Text: text}); err != nil {
		return fmt.Errorf("insert: %w", err)
	}
	type pt struct {
		X float64 `json:"x"`
		Y float64 `json:"y"`
	}
	c, err := chromedp.Run(ctx, chromedp.PollFunction[pt](`function () {
  var b = document.querySelector("`+floorSendSel+`");
  if (!b) return null;
  var r = b.getBoundingClientRect();
  return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
}`, chromedp.WithPollingMutation(), chromedp.WithPollingTimeout(5*time.Second)))
	if err != nil {
		return fmt.Errorf("send button: %w", err)
	}
	for _, p := range []input.DispatchMouseEventParams{
		{Type: input.DispatchMouseEventTypeMousePressed, X: c.X, Y: c.Y, Button: input.MouseButtonLeft, Buttons: 1, ClickCount: 1},
		{Type: input.DispatchMouseEventTypeMouseReleased, X: c.X, Y: c.Y, Button: input.MouseButtonLeft, ClickCount: 1},
	} {
		if _, err := chromedp.Call(ctx, input.DispatchMouseEvent, p); err != nil {
			return fmt.Errorf("click: %w", err)
		}
	}
	if _, err := chromedp.Run(ctx, chromedp.PollFunction[bool](`function (want) {
  var rows = document.querySelectorAll("#main [role='row']");
  for (var i = rows.length - 1; i >= 0; i--) {
    var s = rows[i].querySelector('span.selectable-text');
    if (s && s.textContent === want) {
      return !!rows[i].querySelector("[data-icon='msg-check'],[data-icon='msg-dblcheck']");
    }
  }
  return false;
}`, chromedp.WithPollingMutation(), chromedp.WithPollingArgs(text), chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		return fmt.Errorf("tick: %w", err)
	}
	return nil
}

// ------------------------------------------------------------------- CPU

// cpuMeter measures, over a window, the CPU time that the machine spent
// outside this test process and its children (other programs on a shared
// machine), as a percentage of all cores. The figures of a window with a
// high share are not comparable with a quiet run.
type cpuMeter struct {
	t0         time.Time
	busy, mine int64
}

// machineBusy returns the busy clock ticks of all CPUs (/proc/stat).
func machineBusy() int64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	var sum int64
	for i, v := range f[1:] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		if i >= 8 { // guest time is in user already
			break
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		sum += n
	}
	return sum
}

// myTicks returns the clock ticks of this process and its live
// descendants, with what they reaped (utime+stime+cutime+cstime).
func myTicks() int64 {
	var sum int64
	for _, pid := range procfs.Tree(os.Getpid()) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 15 {
			continue
		}
		for _, v := range f[11:15] { // fields 14-17 of stat
			n, _ := strconv.ParseInt(v, 10, 64)
			sum += n
		}
	}
	return sum
}

func startCPU() *cpuMeter {
	return &cpuMeter{t0: time.Now(), busy: machineBusy(), mine: myTicks()}
}

// report adds other-cpu-% (other programs) and own-cpu-% (this test and
// its browsers), in percent of all cores, to b's metrics.
func (c *cpuMeter) report(b *testing.B) {
	const hz = 100 // USER_HZ
	el := time.Since(c.t0).Seconds() * hz * float64(numCPU())
	if el <= 0 {
		return
	}
	busy, mine := machineBusy()-c.busy, myTicks()-c.mine
	b.ReportMetric(100*float64(max(0, busy-mine))/el, "other-cpu-%")
	b.ReportMetric(100*float64(mine)/el, "own-cpu-%")
}

func numCPU() int {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 1
	}
	n := 0
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "cpu") && len(l) > 3 && l[3] >= '0' && l[3] <= '9' {
			n++
		}
	}
	return max(1, n)
}
