package wasend

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// hibernator puts to sleep the live contexts of this process that have been
// idle for a while (WithHibernation): it closes their browser and keeps
// everything else, their profile (the pool's Close keeps a persistent
// login), their lease, their queue consumer, and their stored status,
// available. A sleeping context wakes, under its send lock, when one of its
// jobs is due (the executor calls awake), and on a schedule (WithCatchUp),
// so that its page reads the receipts and incoming messages that arrived
// while it slept.
//
// With a cap on awake sessions (WithHibernation's maxAwake), the least
// recently used context sleeps first, a wake for a due job puts one to
// sleep to make room, and a scheduled wake happens only while there is
// room that no due job waits for.
//
// At most so many wakes launch at once (WithWakeConcurrency, turns): a
// wake for a due job waits for its turn first, then makes room under the
// cap, then launches. Every turn is given back within the wake timeout
// (the launch is abandoned then), and waiting for room needs no turn, so
// a job that waits for its turn, holding its context's send lock, waits
// for wakes that end on their own. A scheduled wake takes only a turn that
// is free and that no due job waits for.
//
// Its loop runs on a goroutine of its own while Run runs; launches that
// outlive their wake are counted in launches, which Close waits for.
type hibernator struct {
	pool     BrowserPool
	store    Store
	contexts *registry
	events   *eventPump

	// idle is how long a context sleeps after its last use (0: never
	// for being idle); maxAwake caps the awake sessions (0: no cap).
	idle     time.Duration
	maxAwake int
	// catchUp is how long a context sleeps before a scheduled wake (0:
	// never).
	catchUp time.Duration
	// wakeTimeout bounds a wake, from the launch to the session's first
	// status; retry is how long after a failed wake a job may try again.
	wakeTimeout  time.Duration
	retry        time.Duration
	closeTimeout time.Duration
	tick         time.Duration
	now          func() time.Time
	log          *slog.Logger

	// mu guards waking (the wakes in flight, which count as awake) and
	// wanting (the wakes for due jobs that wait for room).
	mu      sync.Mutex
	waking  int
	wanting int
	// turns lets at most WithWakeConcurrency wakes launch at once.
	turns *wakeGate

	launches sync.WaitGroup
	done     chan struct{}
	wg       sync.WaitGroup
}

// on reports whether contexts ever sleep.
func (h *hibernator) on() bool { return h.idle > 0 || h.maxAwake > 0 }

// start runs the loop until ctx ends or shutdown.
func (h *hibernator) start(ctx context.Context) {
	h.done = make(chan struct{})
	if !h.on() {
		return
	}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		t := time.NewTicker(h.tick)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-h.done:
				return
			case <-t.C:
				h.round(ctx)
			}
		}
	}()
}

// shutdown stops the loop and waits for it.
func (h *hibernator) shutdown() {
	close(h.done)
	h.wg.Wait()
}

// round puts to sleep the contexts idle for too long, then the least
// recently used ones beyond the cap, then wakes those due for a catch-up
// while there is room.
func (h *hibernator) round(ctx context.Context) {
	now := h.now()
	lives := h.contexts.all()
	for _, lc := range lives {
		if lc.usedAt.Load() == 0 {
			lc.usedAt.CompareAndSwap(0, now.UnixNano())
		}
		// A context whose deliveries wait for a worker is about to send:
		// put to sleep now, it would wake again for them.
		if h.idle > 0 && !lc.asleep.Load() && now.Sub(time.Unix(0, lc.usedAt.Load())) >= h.idle && lc.queued.Load() == 0 {
			h.sleep(lc, "idle")
		}
	}
	for h.over(lives) {
		if !h.evict(lives, nil) {
			break
		}
	}
	if h.catchUp > 0 {
		h.catchUpRound(ctx, lives, now)
	}
}

// catchUpRound wakes, oldest first, the sleeping contexts due for a catch-up,
// while the cap leaves room that no due job waits for. Each stays awake for
// the idle time, then sleeps again.
func (h *hibernator) catchUpRound(ctx context.Context, lives []*liveContext, now time.Time) {
	var due []*liveContext
	for _, lc := range lives {
		since := max(lc.sleptAt.Load(), lc.wakeFailedAt.Load())
		if lc.asleep.Load() && since != 0 && now.Sub(time.Unix(0, since)) >= h.catchUp {
			due = append(due, lc)
		}
	}
	slices.SortFunc(due, func(a, b *liveContext) int {
		return cmp.Compare(max(a.sleptAt.Load(), a.wakeFailedAt.Load()), max(b.sleptAt.Load(), b.wakeFailedAt.Load()))
	})
	for _, lc := range due {
		if ctx.Err() != nil || !h.turns.tryEnter() {
			return
		}
		if !h.reserve(lives, false) {
			h.turns.leave()
			return
		}
		if lc.tryLock() {
			if lc.asleep.Load() {
				lc.usedAt.Store(h.now().UnixNano())
				if _, err := h.wake(ctx, lc, "catch-up"); err != nil && ctx.Err() == nil {
					h.log.Warn("catch-up wake", "context", lc.id, "err", err)
				}
			} else {
				h.release()
			}
			lc.unlock()
		} else { // a send runs: it wakes the context itself
			h.release()
		}
		h.turns.leave()
	}
}

// awakeCount counts the contexts whose browser is open, and the wakes in
// flight. The caller holds h.mu.
func (h *hibernator) awakeCount(lives []*liveContext) int {
	n := 0
	for _, lc := range lives {
		if !lc.asleep.Load() && !lc.dropped.Load() {
			n++
		}
	}
	return n + h.waking
}

// over reports whether more sessions are awake than the cap allows.
func (h *hibernator) over(lives []*liveContext) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.maxAwake > 0 && h.awakeCount(lives) > h.maxAwake
}

// reserve takes a place for a wake under the cap. A wake for a due job
// (forJob) may take the last places; a scheduled one leaves those that
// due jobs wait for. It reports whether it got one; wake takes it over,
// and release gives back one that no wake took.
func (h *hibernator) reserve(lives []*liveContext, forJob bool) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.maxAwake > 0 {
		room := h.maxAwake - h.awakeCount(lives)
		if !forJob {
			room -= h.wanting
		}
		if room <= 0 {
			return false
		}
	}
	h.waking++
	return true
}

func (h *hibernator) release() {
	h.mu.Lock()
	h.waking--
	h.mu.Unlock()
}

// makeRoom reserves a place for lc's wake, for a due job: when the cap is
// reached it puts the least recently used awake context to sleep, and
// waits, polling, while none can sleep (they all send). It reports false
// when ctx ends or the wake timeout passes first.
func (h *hibernator) makeRoom(ctx context.Context, lc *liveContext) bool {
	h.mu.Lock()
	h.wanting++
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		h.wanting--
		h.mu.Unlock()
	}()
	deadline := time.NewTimer(h.wakeTimeout)
	defer deadline.Stop()
	for {
		lives := h.contexts.all()
		if h.reserve(lives, true) {
			return true
		}
		if h.evict(lives, lc) {
			continue
		}
		select {
		case <-ctx.Done():
			return false
		case <-deadline.C:
			return false
		case <-time.After(roomPoll):
		}
	}
}

// roomPoll is how often a wake that waits for room under the cap looks
// again.
const roomPoll = 50 * time.Millisecond

// evict puts to sleep the least recently used awake context that can sleep
// (not but; its session up, no send running or waiting), those with no
// delivery waiting for a worker first, and reports whether it did. Those
// with one may still sleep, so that a due job always finds room: every
// worker may be held by jobs that wait for a wake.
func (h *hibernator) evict(lives []*liveContext, but *liveContext) bool {
	cands := make([]*liveContext, 0, len(lives))
	for _, lc := range lives {
		if lc != but && !lc.asleep.Load() && lc.sessionUp.Load() {
			cands = append(cands, lc)
		}
	}
	slices.SortFunc(cands, func(a, b *liveContext) int {
		if c := cmp.Compare(min(a.queued.Load(), 1), min(b.queued.Load(), 1)); c != 0 {
			return c
		}
		return cmp.Compare(a.usedAt.Load(), b.usedAt.Load())
	})
	for _, lc := range cands {
		if h.sleep(lc, "cap") {
			return true
		}
	}
	return false
}

// sleep closes the browser of lc unless a send runs or waits, its session
// is not up (a login page stays open for its QR code), a call into it
// hangs, or this process no longer holds it. It reports whether lc fell
// asleep.
func (h *hibernator) sleep(lc *liveContext, why string) bool {
	if !lc.tryLock() {
		return false
	}
	defer lc.unlock()
	if lc.asleep.Load() || !lc.sessionUp.Load() || lc.wedged.Load() || !lc.holds() || lc.waiters.Load() > 0 ||
		lc.storeBusy {
		return false
	}
	// The closing browser's status events are not the context's: it
	// stays available.
	lc.muted.Store(true)
	lc.asleep.Store(true)
	closeSession(h.log, h.closeTimeout, lc.session())
	lc.sleptAt.Store(h.now().UnixNano())
	h.events.hostEvent(SessionEvent{Type: EventAsleep, SystemID: lc.systemID, ContextID: lc.id})
	h.log.Info("browser context asleep: its browser is closed", "context", lc.id, "why", why)
	return true
}

// awake makes sure that lc, whose send lock the caller holds, has an open
// browser before a send: it wakes it if it sleeps, in its turn (turns). It
// reports false when the context could not wake, or ctx ended before its
// turn: a failure is recorded as at a launch (see wake), and the job
// waits. An error means the store failed.
func (h *hibernator) awake(ctx context.Context, lc *liveContext) (bool, error) {
	now := h.now()
	lc.usedAt.Store(now.UnixNano())
	if !lc.asleep.Load() {
		return true, nil
	}
	if t := lc.wakeFailedAt.Load(); t != 0 && now.Sub(time.Unix(0, t)) < h.retry {
		return false, nil
	}
	if !h.turns.tryEnter() {
		h.log.Debug("browser context waits for its turn to wake", "context", lc.id)
		if h.turns.enter(ctx) != nil {
			return false, nil
		}
	}
	defer h.turns.leave()
	if !h.makeRoom(ctx, lc) {
		return false, nil
	}
	return h.wake(ctx, lc, "job")
}

// wake launches the session of lc again, on the same system id, and waits
// for its first status. The caller holds lc's send lock and a place under
// the cap (reserve), which wake takes over: the woken context holds it
// from the moment it counts as awake (so that it is not counted twice,
// as awake and as a wake in flight, while its page loads), and a wake
// that does not get that far gives it back. A context this process no
// longer holds (its lease lapsed) is not woken.
//
// A wake that fails leaves the context as a launch would: a launch error
// makes it disconnected, then error (the launch-failed edge), unless the
// profile is open elsewhere (ErrContextHeld: it stays disconnected); a
// launch that hangs past the wake timeout is abandoned (ErrSessionHung)
// and its session closed when it returns; a session that reports it is
// logged out stays open on its login page, disconnected, for a QR code.
// The context's jobs wait meanwhile, and its next due job or catch-up
// tries again.
func (h *hibernator) wake(ctx context.Context, lc *liveContext, why string) (bool, error) {
	placed := true
	defer func() {
		if placed {
			h.release()
		}
	}()
	if !lc.holds() {
		return false, nil
	}
	bc, err := h.store.Context(ctx, lc.id)
	if err != nil {
		return false, err
	}
	if bc.Status == ContextClosed {
		return false, nil
	}
	began := time.Now()
	wctx, cancel := context.WithTimeout(ctx, h.wakeTimeout)
	defer cancel()
	_, seen := lc.statusWatch()
	lc.muted.Store(false)
	sess, err := h.launch(wctx, lc, bc.Proxy)
	if err != nil {
		return false, h.failed(ctx, lc, err)
	}
	lc.setSession(sess)
	if lc.dropped.Load() {
		// The lease was lost meanwhile: whoever dropped the context may
		// have closed the old session only.
		closeSession(h.log, h.closeTimeout, sess)
		return false, nil
	}
	h.mu.Lock()
	lc.asleep.Store(false)
	h.waking--
	placed = false
	h.mu.Unlock()
	lc.wakeFailedAt.Store(0)
	select {
	case <-seen:
	case <-wctx.Done():
		// Launched, but silent: as after a launch, the context waits
		// for its login, and its first status report settles it.
		if !h.waits(ctx, lc, seen) {
			break
		}
		h.log.Warn("woken session did not report its status in time; the context waits for it", "context", lc.id)
		return false, nil
	}
	up := lc.sessionUp.Load()
	h.events.hostEvent(SessionEvent{Type: EventAwake, SystemID: lc.systemID, ContextID: lc.id})
	h.log.Info("browser context awake", "context", lc.id, "why", why, "up", up, "took", time.Since(began))
	return up, nil
}

// launch launches lc's session, at most until ctx ends: a launch that
// ignores it is left to finish on its own goroutine (counted in launches),
// which closes its session.
func (h *hibernator) launch(ctx context.Context, lc *liveContext, proxy string) (Session, error) {
	if !lc.launching.CompareAndSwap(false, true) {
		return nil, fmt.Errorf("%w: an earlier wake's launch has not returned", ErrSessionHung)
	}
	var (
		mu        sync.Mutex
		abandoned atomic.Bool
	)
	type result struct {
		s   Session
		err error
	}
	got := make(chan result, 1)
	req := LaunchRequest{SystemID: lc.systemID, Proxy: proxy, OnEvent: func(ev SessionEvent) {
		if !abandoned.Load() {
			h.events.onEvent(ev)
		}
	}}
	h.launches.Add(1)
	go func() {
		defer h.launches.Done()
		defer lc.launching.Store(false)
		var r result
		func() {
			defer func() {
				if v := recover(); v != nil {
					r = result{err: &PanicError{Value: v}}
				}
			}()
			r.s, r.err = h.pool.Launch(ctx, req)
		}()
		mu.Lock()
		defer mu.Unlock()
		if abandoned.Load() {
			if r.err == nil && r.s != nil {
				closeSession(h.log, h.closeTimeout, r.s)
			}
			return
		}
		got <- r
	}()
	select {
	case r := <-got:
		return r.s, r.err
	case <-ctx.Done():
	}
	mu.Lock()
	defer mu.Unlock()
	select {
	case r := <-got:
		return r.s, r.err
	default:
	}
	abandoned.Store(true)
	return nil, fmt.Errorf("%w: the wake's launch did not return in %s", ErrSessionHung, h.wakeTimeout)
}

// failed records a wake whose launch failed, as open records a launch that
// fails: disconnected (open), then error (launch-failed) unless the
// profile is open elsewhere. It tells the host, and returns an error only
// when the store failed.
func (h *hibernator) failed(ctx context.Context, lc *liveContext, cause error) error {
	now := h.now()
	lc.wakeFailedAt.Store(now.UnixNano())
	lc.muted.Store(true)
	status := ContextDisconnected
	held := errors.Is(cause, ErrContextHeld)
	var err error
	rctx := context.WithoutCancel(ctx)
	lc.reportStatus(false, func() {
		if _, err = h.store.Apply(rctx, Step{Context: ctxOpen.context(lc.id, now)}); err != nil || held {
			return
		}
		var ok bool
		if ok, err = h.store.Apply(rctx, Step{Context: ctxLaunchErr.context(lc.id, now)}); ok {
			status = ContextError
		}
	})
	h.log.Warn("browser context could not wake; its jobs wait", "context", lc.id, "status", status, "err", cause)
	h.events.hostEvent(SessionEvent{Type: EventStatus, SystemID: lc.systemID, ContextID: lc.id, Status: status,
		Err: cause})
	return err
}

// waits records that a woken session has not reported its status in time
// (since seen): the context waits for its login, as after a launch (open).
// It reports false when the session reported meanwhile.
func (h *hibernator) waits(ctx context.Context, lc *liveContext, seen <-chan struct{}) bool {
	now := h.now()
	if !lc.reportUnlessSeen(seen, false, func() {
		_, _ = h.store.Apply(context.WithoutCancel(ctx), Step{Context: ctxOpen.context(lc.id, now)})
	}) {
		return false
	}
	defer h.events.hostEvent(SessionEvent{Type: EventStatus, SystemID: lc.systemID, ContextID: lc.id,
		Status: ContextDisconnected, Err: fmt.Errorf("%w: the woken session did not report its status", ErrTimeout)})
	return true
}

// wakeGate lets at most n wakes run at once (WithWakeConcurrency). Wakes
// that wait (enter) get their turn in the order they came; tryEnter takes
// a turn only when one is free and nobody waits, so that it never passes
// a waiting wake. It is safe for concurrent use.
type wakeGate struct {
	mu    sync.Mutex
	free  int
	queue []chan struct{} // closed when its wake gets its turn
}

func newWakeGate(n int) *wakeGate { return &wakeGate{free: n} }

// enter waits for a turn until ctx ends; leave gives it back. A wake that
// gives up leaves the queue, or passes on the turn it got meanwhile.
func (g *wakeGate) enter(ctx context.Context) error {
	g.mu.Lock()
	if g.free > 0 && len(g.queue) == 0 {
		g.free--
		g.mu.Unlock()
		return nil
	}
	turn := make(chan struct{})
	g.queue = append(g.queue, turn)
	g.mu.Unlock()
	select {
	case <-turn:
		return nil
	case <-ctx.Done():
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if i := slices.Index(g.queue, turn); i >= 0 {
		g.queue = slices.Delete(g.queue, i, i+1)
	} else {
		g.pass()
	}
	return ctx.Err()
}

// tryEnter takes a turn if one is free and no wake waits for one.
func (g *wakeGate) tryEnter() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.free > 0 && len(g.queue) == 0 {
		g.free--
		return true
	}
	return false
}

// leave gives a turn back: to the wake that has waited longest, if any.
func (g *wakeGate) leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.pass()
}

// pass gives a turn to the first waiting wake, or frees it. The caller
// holds g.mu.
func (g *wakeGate) pass() {
	if len(g.queue) == 0 {
		g.free++
		return
	}
	close(g.queue[0])
	g.queue = g.queue[1:]
}
