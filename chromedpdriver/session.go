package chromedpdriver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/inspector"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/wasend/wasend"
)

// State is what a session's page shows, as the session's monitor last saw
// it.
type State string

// The session states.
const (
	// StateStarting: the browser starts, or the page shows none of the
	// known screens yet.
	StateStarting State = "starting"
	// StateLoading: the splash screen or "Loading your chats".
	StateLoading State = "loading"
	// StateQR: the login page with a QR code to scan.
	StateQR State = "qr"
	// StatePairing: the login page in phone-number pairing mode.
	StatePairing State = "pairing"
	// StateReady: logged in, the self-test passed; the session can send.
	StateReady State = "ready"
	// StateConflict: WhatsApp Web is open for the account in another window.
	StateConflict State = "conflict"
	// StateUnsupported: WhatsApp Web refused the browser.
	StateUnsupported State = "unsupported"
	// StateBroken: the selector set does not match the page.
	StateBroken State = "broken"
	// StateRestricted: WhatsApp Web shows the full-screen temporary-ban
	// dialog; the session sends nothing until it goes away.
	StateRestricted State = "restricted"
	// StatePasskey: WhatsApp Web asks for a passkey to link the device
	// (the Shortcake overlay), a step the session cannot take.
	StatePasskey State = "passkey"
	// StateDisconnected: the browser died; it is being relaunched.
	StateDisconnected State = "disconnected"
	// StateClosed: Close was called.
	StateClosed State = "closed"
)

// Grace periods of the monitor and the send.
const (
	// selfTestGrace is how long a self-test may fail before the set counts
	// as broken: the app renders its screens a piece at a time.
	selfTestGrace = 2 * time.Second
	// probeTimeout bounds one read of the page by the monitor.
	probeTimeout = 5 * time.Second
	// stableAfter is how long an incarnation must live for the relaunch
	// backoff to start again from its minimum.
	stableAfter = time.Minute
)

// Session is the live WhatsApp Web session of one browser context. It
// implements wasend.Session, wasend.SentFinder, wasend.Marker,
// wasend.AckFollower, wasend.NumberChecker, wasend.InboxReader and
// wasend.MediaSender.
// Everything that touches the page (SendText, FindSent, RequestPairingCode
// and the monitor) runs one at a time.
type Session struct {
	pool    *Pool
	id      string
	mode    Mode
	name    string
	dir     string
	resumed bool
	onEvent func(wasend.SessionEvent)
	log     *slog.Logger
	proxy   string      // LaunchRequest.Proxy; never logged (wasend.MaskProxy)
	px      *proxySetup // set by open

	sem        chan struct{} // the page lock
	life       context.Context
	lifeCancel context.CancelFunc
	done       chan struct{} // closed when the supervisor returns
	closeOnce  sync.Once

	mu        sync.Mutex
	sel       *compiledSelectors
	state     State
	stateErr  error
	changed   chan struct{}
	inc       *incarnation
	closed    bool
	brokenGen uint64
	brokenErr error
	account   string // the logged-in account (E.164), or "" (account.go)
	// readySince is when the session last became ready; zero while it
	// is not ready. The login snapshots count from it (snapshot.go).
	readySince time.Time

	// Monitor state, touched under the page lock only.
	lastQR       string
	qrReloads    int
	qrLimitNoted bool
	lastCode     string
	everReady    bool
	mainGen      uint64
	failSince    time.Time
	unknownSince time.Time
	lastReload   time.Time
	lastTakeover time.Time
	phoneOffline atomic.Bool

	emitMu    sync.Mutex
	lastEvent string

	// pending counts the calls that wait for the page lock (acquire):
	// the watch's chat visits give way to them.
	pending atomic.Int32
	// evals counts the page evaluations (the page code's operations and
	// the watchdog's), for the benchmarks.
	evals atomic.Int64
	// follow is the set of messages whose ticks the session follows
	// (FollowAcks); watch is the monitor's state of the page watch,
	// touched under the page lock only.
	follow followSet
	watch  watchState
	// snap is the session's share of the profile snapshots (snapshot.go).
	snap snapshots
}

func newSession(p *Pool, id string, mode Mode, name string, resumed bool, onEvent func(wasend.SessionEvent), sel *compiledSelectors) *Session {
	life, cancel := context.WithCancel(context.Background())
	s := &Session{
		pool: p, id: id, mode: mode, name: name, resumed: resumed, onEvent: onEvent,
		log:  p.log.With("system_id", id),
		sem:  make(chan struct{}, 1),
		life: life, lifeCancel: cancel,
		done:    make(chan struct{}),
		sel:     sel,
		state:   StateStarting,
		changed: make(chan struct{}),
	}
	if mode == Persistent {
		s.dir = filepath.Join(p.cfg.profileRoot, name)
	}
	return s
}

// incarnation is one run of the session's browser (persistent) or tab
// (ephemeral), from its start to its death.
type incarnation struct {
	ctx      context.Context // chromedp context of the tab
	br       *browserProc    // the session's own browser, or nil
	closeTab context.CancelFunc
	pid      int
	lost     <-chan struct{}
	born     time.Time
	ready    atomic.Bool
	wg       sync.WaitGroup // the goroutines of watchDeath and of the proxy's auth answers

	dead  chan struct{}
	once  sync.Once
	mu    sync.Mutex
	cause error
}

func (i *incarnation) die(err error) {
	i.once.Do(func() {
		i.mu.Lock()
		i.cause = err
		i.mu.Unlock()
		close(i.dead)
	})
}

// why returns the cause of the incarnation's death, or nil.
func (i *incarnation) why() error {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.cause
}

func (i *incarnation) isDead() bool {
	select {
	case <-i.dead:
		return true
	default:
		return i.ctx.Err() != nil
	}
}

// SystemID returns the session's system id: "persistent:<name>" or
// "ephemeral:<name>".
func (s *Session) SystemID() string { return s.id }

// Mode returns the session's mode.
func (s *Session) Mode() Mode { return s.mode }

// State returns what the session's page shows.
func (s *Session) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

// WaitReady waits until the session is logged in and its self-test passed.
// It returns early with the cause when the session cannot get there by
// itself: the browser was refused, the selector set is broken, or the
// session was closed.
func (s *Session) WaitReady(ctx context.Context) error {
	for {
		s.mu.Lock()
		st, err, ch := s.state, s.stateErr, s.changed
		s.mu.Unlock()
		switch st {
		case StateReady:
			return nil
		case StateClosed:
			return fmt.Errorf("%w: session closed", wasend.ErrDisconnected)
		case StateUnsupported, StateBroken, StatePasskey:
			return err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("chromedpdriver: waiting for the session (state %s): %w", st, ctx.Err())
		}
	}
}

// SetSelectors replaces the session's selector set; the self-test runs
// again. See Pool.SetSelectors to change every session.
func (s *Session) SetSelectors(set SelectorSet) error {
	sel, err := compileSelectors(set, s.pool.nextSelectorGen())
	if err != nil {
		return err
	}
	s.useSelectors(sel)
	return nil
}

func (s *Session) useSelectors(sel *compiledSelectors) {
	s.mu.Lock()
	s.sel = sel
	broken := s.state == StateBroken
	s.mu.Unlock()
	if broken {
		// The monitor tests the new set at its next reading.
		s.setState(StateLoading, nil)
	}
	s.log.Info("selector set replaced", "set", sel.set.ID())
}

func (s *Session) selectors() *compiledSelectors {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sel
}

func (s *Session) current() *incarnation {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inc
}

func (s *Session) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// setState records the page's state and wakes the waiters of WaitReady.
func (s *Session) setState(st State, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setStateLocked(st, err)
}

// setStateLocked is setState with s.mu held.
func (s *Session) setStateLocked(st State, err error) {
	if s.state == StateClosed {
		return
	}
	if s.state == st && errors.Is(err, s.stateErr) && errors.Is(s.stateErr, err) {
		return
	}
	s.log.Debug("state", "from", s.state, "to", st)
	if st == StateQR || st == StatePairing {
		s.snap.current.Store(false) // a login to come: its login snapshots are due
	}
	switch {
	case st != StateReady:
		s.readySince = time.Time{}
	case s.state != StateReady:
		s.readySince = time.Now()
	}
	s.state, s.stateErr = st, err
	close(s.changed)
	s.changed = make(chan struct{})
}

// emit hands an event to the host. The callback must not block; a panic in
// it is logged.
func (s *Session) emit(ev wasend.SessionEvent) {
	if s.onEvent == nil {
		return
	}
	ev.SystemID = s.id
	if ev.At.IsZero() {
		ev.At = time.Now()
	}
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("event handler panicked", "panic", fmt.Sprint(r))
		}
	}()
	s.onEvent(ev)
}

// setStatus emits an EventStatus when the status, or the kind of its
// cause, changed since the last one.
func (s *Session) setStatus(st wasend.ContextStatus, cause error) {
	s.emitMu.Lock()
	defer s.emitMu.Unlock()
	key := string(st) + "|" + string(wasend.KindOf(cause))
	if key == s.lastEvent {
		return
	}
	s.lastEvent = key
	if cause != nil {
		s.log.Info("session status", "status", st, "cause", cause)
	} else {
		s.log.Info("session status", "status", st)
	}
	s.emit(wasend.SessionEvent{Type: wasend.EventStatus, Status: st, Err: cause})
}

// noteFailure makes the session's status agree with an error that a call
// returns, so that the host hears of it even before the monitor does. A
// ban reports the session disconnected, as the monitor does: closing the
// context is the host's decision, not the page's.
func (s *Session) noteFailure(err error) {
	if st, gone := wasend.SessionStatus(err); gone {
		if st == wasend.ContextClosed {
			st = wasend.ContextDisconnected
		}
		var cause error = err
		var ue *wasend.UnconfirmedError
		if errors.As(err, &ue) {
			cause = ue.Err
		}
		s.setStatus(st, cause)
	}
}

// lock takes the page lock.
func (s *Session) lock(ctx context.Context) error {
	select {
	case s.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Session) tryLock() bool {
	select {
	case s.sem <- struct{}{}:
		return true
	default:
		return false
	}
}

func (s *Session) unlock() { <-s.sem }

// open starts the session's first incarnation and its supervisor.
func (s *Session) open(ctx context.Context) error {
	if s.dir != "" {
		if err := claimProfile(s.dir); err != nil {
			return err
		}
		if err := s.restoreProfile(ctx); err != nil {
			releaseProfile(s.dir)
			s.lifeCancel()
			close(s.done)
			return err
		}
	}
	px, err := prepareProxy(ctx, s.proxy, s.pool.cfg.url, s.log)
	if err != nil {
		if s.dir != "" {
			releaseProfile(s.dir)
		}
		s.lifeCancel()
		close(s.done)
		return err
	}
	s.px = px
	inc, err := s.start(ctx)
	if err != nil {
		px.close()
		if s.dir != "" {
			releaseProfile(s.dir)
		}
		s.lifeCancel()
		close(s.done)
		return err
	}
	s.mu.Lock()
	s.inc = inc
	s.mu.Unlock()
	s.log.Info("session launched", "mode", s.mode, "pid", inc.pid, "resumed", s.resumed)
	go s.supervise(inc)
	s.startSnapshots()
	return nil
}

// start launches the browser (persistent) or a tab in a new in-memory
// profile of the shared browser (ephemeral), sets the User-Agent and opens
// WhatsApp Web.
func (s *Session) start(ctx context.Context) (*incarnation, error) {
	cfg := &s.pool.cfg
	inc := &incarnation{dead: make(chan struct{}), born: time.Now()}
	switch s.mode {
	case Persistent:
		if err := unlockProfile(s.dir, s.log); err != nil {
			return nil, err
		}
		br, err := startBrowser(ctx, cfg.execPath, append(s.pool.flags(s.dir), s.px.flags()...), s.dir, s.log)
		if err != nil {
			return nil, err
		}
		inc.ctx, inc.br, inc.pid, inc.lost = br.ctx, br, br.pid, br.lost
	case Ephemeral:
		shared, err := s.pool.sharedBrowser(ctx)
		if err != nil {
			return nil, err
		}
		tctx, tclose, err := openTab(ctx, shared, s.px)
		if err != nil {
			return nil, fmt.Errorf("chromedpdriver: opening a tab: %w", err)
		}
		inc.ctx, inc.closeTab, inc.pid, inc.lost = tctx, tclose, shared.pid, shared.lost
	}
	inc.ctx = withEvalCounter(inc.ctx, &s.evals)
	inc.wg.Go(func() { s.watchDeath(inc) })

	if err := s.px.proxyAuth(inc.ctx, &inc.wg, s.log); err != nil {
		s.teardown(inc, errors.New("start failed"))
		return nil, fmt.Errorf("chromedpdriver: proxy authentication: %w", err)
	}
	octx, cancel := s.opContext(ctx, inc, cfg.navTimeout)
	defer cancel()
	override := uaOverride(goos(), s.pool.ua)
	err := chromedp.Do(octx, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, emulation.SetUserAgentOverride, override); err != nil {
			return err
		}
		// The page does not have the focus (document.hasFocus() is
		// false, as in a window in the background), so that WhatsApp Web
		// marks nothing read by itself; MarkRead turns the emulated focus
		// on while it reads a chat on purpose.
		if _, err := cdp.Call(ctx, t, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: false}); err != nil {
			return err
		}
		res, err := cdp.Call(ctx, t, page.Navigate, page.NavigateParams{URL: cfg.url + "/"})
		if err != nil {
			return err
		}
		if res.ErrorText != "" {
			if err := s.px.loadError(res.ErrorText); err != nil {
				return err
			}
			s.log.Warn("WhatsApp Web did not load; the monitor retries", "err", res.ErrorText)
		}
		return nil
	}))
	if err != nil {
		s.teardown(inc, errors.New("start failed"))
		if errors.Is(err, wasend.ErrProxy) {
			return nil, err
		}
		return nil, fmt.Errorf("chromedpdriver: opening WhatsApp Web: %w", err)
	}
	return inc, nil
}

// openTab opens an ephemeral session's tab in a new in-memory profile
// (browser context) of the shared browser, with the proxy's settings. The
// driver creates the profile and the tab itself, rather than through
// chromedp.WithNewBrowserContext, so that the tab opens without the focus
// (Target.createTarget with focus false, in a window of its own): a tab
// that opens with the focus keeps it, and while it has it WhatsApp Web
// marks the open chat read. The returned close disposes of the profile,
// and with it of the tab.
func openTab(ctx context.Context, shared *browserProc, px *proxySetup) (context.Context, context.CancelFunc, error) {
	cctx, cancel := context.WithCancel(shared.ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	params := target.CreateBrowserContextParams{}
	if px != nil {
		px.contextOption(&params)
	}
	bc, err := chromedp.CallBrowser(cctx, target.CreateBrowserContext, params)
	if err != nil {
		return nil, nil, err
	}
	dispose := func() {
		dctx, cancel := context.WithTimeout(shared.ctx, 5*time.Second)
		defer cancel()
		_, _ = chromedp.CallBrowser(dctx, target.DisposeBrowserContext, target.DisposeBrowserContextParams{BrowserContextID: bc.BrowserContextID})
	}
	newWindow, focus := true, false
	t, err := chromedp.CallBrowser(cctx, target.CreateTarget, target.CreateTargetParams{
		URL: "about:blank", BrowserContextID: bc.BrowserContextID, NewWindow: &newWindow, Focus: &focus,
	})
	if err != nil {
		dispose()
		return nil, nil, err
	}
	tctx, tcancel := chromedp.NewContext(shared.ctx, chromedp.WithTargetID(t.TargetID))
	done := make(chan error, 1)
	go func() { done <- chromedp.Do(tctx) }()
	select {
	case err = <-done:
	case <-ctx.Done():
		tcancel()
		<-done
		err = ctx.Err()
	}
	if err != nil {
		tcancel()
		dispose()
		return nil, nil, err
	}
	return tctx, func() {
		tcancel()
		dispose()
	}, nil
}

// watchDeath marks the incarnation dead when the connection to the browser
// drops, the renderer crashes or the tab goes away.
func (s *Session) watchDeath(inc *incarnation) {
	crashed := chromedp.Events(inc.ctx, inspector.TargetCrashed)
	inc.wg.Go(func() {
		for _, err := range crashed {
			if err == nil {
				inc.die(errors.New("the renderer crashed"))
			}
			return
		}
	})
	detached, err := chromedp.Detached(inc.ctx)
	if err != nil {
		detached = nil
	}
	select {
	case <-inc.lost:
		inc.die(errors.New("lost the connection to the browser"))
	case <-detached:
		inc.die(errors.New("the tab went away"))
	case <-inc.ctx.Done():
		inc.die(errors.New("the browser stopped"))
	case <-inc.dead:
	}
}

// teardown stops an incarnation at once.
func (s *Session) teardown(inc *incarnation, cause error) {
	inc.die(cause)
	if inc.br != nil {
		inc.br.kill()
	}
	if inc.closeTab != nil {
		inc.closeTab()
	}
	inc.wg.Wait()
}

// closeInc stops an incarnation gracefully, so that the profile is flushed.
func (s *Session) closeInc(ctx context.Context, inc *incarnation) {
	if inc.br != nil {
		inc.br.close(ctx)
	}
	if inc.closeTab != nil {
		inc.closeTab()
	}
	inc.die(errors.New("session closed"))
	inc.wg.Wait()
}

// supervise runs the incarnations of the session: it relaunches the
// browser with backoff when one dies, until Close.
func (s *Session) supervise(inc *incarnation) {
	defer close(s.done)
	cfg := &s.pool.cfg
	backoff := cfg.relaunchMin
	for {
		if inc != nil {
			s.run(inc)
			if s.isClosed() {
				return
			}
			cause := inc.why()
			if cause == nil {
				cause = errors.New("the browser stopped")
			}
			s.log.Warn("browser lost; relaunching", "cause", cause, "in", backoff)
			s.teardown(inc, cause)
			s.setState(StateDisconnected, fmt.Errorf("%w: %v", wasend.ErrDisconnected, cause))
			s.setStatus(wasend.ContextDisconnected, fmt.Errorf("%w: %v", wasend.ErrDisconnected, cause))
			if inc.ready.Load() || time.Since(inc.born) > stableAfter {
				backoff = cfg.relaunchMin
			}
		}
		t := time.NewTimer(backoff)
		select {
		case <-s.life.Done():
			t.Stop()
			return
		case <-t.C:
		}
		next, err := s.start(s.life)
		if err != nil {
			if s.isClosed() {
				return
			}
			backoff = min(backoff*2, cfg.relaunchMax)
			s.log.Warn("relaunch failed", "err", err, "retry_in", backoff)
			inc = nil
			continue
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			ctx, cancel := context.WithTimeout(context.Background(), cfg.closeTimeout)
			s.closeInc(ctx, next)
			cancel()
			return
		}
		s.inc = next
		s.mu.Unlock()
		s.log.Info("browser relaunched", "pid", next.pid)
		if !next.ready.Load() {
			backoff = min(backoff*2, cfg.relaunchMax)
		}
		inc = next
	}
}

// run watches an incarnation until it dies or the session closes.
func (s *Session) run(inc *incarnation) {
	var wg sync.WaitGroup
	wg.Go(func() { s.monitor(inc) })
	wg.Go(func() { s.watchdog(inc) })
	select {
	case <-inc.dead:
	case <-s.life.Done():
	}
	wg.Wait()
}

// watchdog asks the page to evaluate 1; a page that does not answer in
// time is hung, and its incarnation dies.
func (s *Session) watchdog(inc *incarnation) {
	cfg := &s.pool.cfg
	t := time.NewTicker(cfg.watchdogInterval)
	defer t.Stop()
	answered := time.Now() // the page's last answer, or the watch's start
	for {
		select {
		case <-inc.dead:
			return
		case <-s.life.Done():
			return
		case <-t.C:
		}
		err := s.watchdogEval(inc)
		if err == nil {
			answered = time.Now()
		}
		if err == nil || inc.isDead() || s.life.Err() != nil {
			continue
		}
		s.log.Debug("the watchdog's evaluation failed", "err", err)
		if errors.Is(err, context.DeadlineExceeded) {
			s.log.Warn("the page is hung", "timeout", cfg.watchdogTimeout)
			inc.die(fmt.Errorf("the page did not answer for %v", cfg.watchdogTimeout))
			return
		}
		// Errors instead of answers, for as long as a hang may last: the
		// renderer is gone. Chromium's crash event is the usual sign, but
		// it came 70 s after a renderer was killed in CI (2026-12-08).
		if d := time.Since(answered); d >= cfg.watchdogTimeout {
			s.log.Warn("the page answers only with errors; the renderer crashed or its tab is gone", "for", d, "err", err)
			inc.die(fmt.Errorf("the page has not answered for %v, only errors (the renderer crashed or its tab is gone): %v",
				d.Round(time.Millisecond), err))
			return
		}
	}
}

// watchdogEval asks the page to evaluate 1, within the watchdog's
// timeout. A call that does not return by then (chromedp waits for the
// tab's event loop, which a crash may stall) counts as a deadline, so that
// the watchdog never waits on its own check.
func (s *Session) watchdogEval(inc *incarnation) error {
	cfg := &s.pool.cfg
	ctx, cancel := context.WithTimeout(inc.ctx, cfg.watchdogTimeout)
	defer cancel()
	countEval(ctx)
	done := make(chan error, 1)
	go func() {
		_, err := chromedp.Run(ctx, chromedp.Evaluate[int]("1"))
		done <- err
	}()
	t := time.NewTimer(cfg.watchdogTimeout + time.Second)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		return context.DeadlineExceeded
	}
}

// opContext returns a chromedp context for the incarnation's tab that ends
// with ctx, with ctx's deadline, or with def when ctx has none.
func (s *Session) opContext(ctx context.Context, inc *incarnation, def time.Duration) (context.Context, context.CancelFunc) {
	d, ok := ctx.Deadline()
	if !ok {
		d = time.Now().Add(def)
	}
	c, cancel := context.WithDeadline(inc.ctx, d)
	// The end of ctx ends c with ctx's cause, so that a deadline of ctx
	// reads as one (fail).
	c, cancelCause := context.WithCancelCause(c)
	stop := context.AfterFunc(ctx, func() { cancelCause(context.Cause(ctx)) })
	return c, func() {
		stop()
		cancelCause(nil)
		cancel()
	}
}

// Close ends the session: it closes the browser gracefully (persistent:
// Browser.close, then a wait for the process until ctx's deadline or the
// close timeout, then a kill) or the tab and its in-memory profile
// (ephemeral). A persistent login survives it. Close is idempotent; after
// it, SendText returns wasend.ErrDisconnected.
func (s *Session) Close(ctx context.Context) error { return s.close(ctx, true) }

// Abandon closes the session without saving its login to the
// ProfileStore (wasend.Abandoner): another process has taken the context
// over and runs the login now, so a save from here would replace its
// newer state with this stale copy. The profile folder is kept; a later
// launch here finds it older than the stored snapshot and restores that.
func (s *Session) Abandon(ctx context.Context) error { return s.close(ctx, false) }

func (s *Session) close(ctx context.Context, save bool) error {
	s.closeOnce.Do(func() {
		if _, ok := ctx.Deadline(); !ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, s.pool.cfg.closeTimeout)
			defer cancel()
		}
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		s.lifeCancel()
		finalSnapshot := s.stopSnapshots()
		if !save {
			finalSnapshot = func(context.Context) {}
		}
		select {
		case <-s.done:
		case <-ctx.Done():
		}
		if inc := s.current(); inc != nil {
			s.closeInc(ctx, inc)
		}
		finalSnapshot(ctx) // the browser has exited: its files are whole
		if s.dir != "" {
			releaseProfile(s.dir)
		}
		s.px.close()
		s.pool.forget(s)
		s.setState(StateClosed, nil)
		s.log.Info("session closed")
	})
	return nil
}
