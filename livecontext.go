package wasend

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// liveContext is a browser context whose session this process holds. It
// owns its send lock, its lease checks and the transitions of its stored
// status that a send implies; the components that use it (the executor,
// the lease keeper, the event pump, the sweeper) go through its methods.
type liveContext struct {
	id       int64
	systemID string
	// sess holds the session: the one launched, or the last one woken
	// (see hibernator). While the context is asleep it is closed.
	sess atomic.Pointer[sessionBox]
	// leased says that a Leaser grants the context to this process: its
	// lease must then be valid for the process to use it.
	leased bool
	// dropped says that the context left the registry: this process no
	// longer holds it.
	dropped atomic.Bool
	// lock is held while a message is being sent; waiters counts the
	// workers waiting for it.
	lock    chan struct{}
	waiters atomic.Int32
	// queued counts the deliveries for the context that wait for a free
	// worker (the executor's concurrency): they will send through it
	// soon, so an idle context with some does not sleep (hibernator).
	queued atomic.Int32
	// storeBusy, read and written only by the holder of lock, says that
	// the store shows the context busy because of this process. It stays
	// so from one send to the next while workers wait, which saves two
	// writes per message under load.
	storeBusy bool
	// stale says that a session event changed the stored status, so the
	// next send must check it again.
	stale atomic.Bool
	// sessionUp is the session's last reported state: logged in or not.
	sessionUp atomic.Bool
	// statusMu orders the writes of the stored status that come from the
	// session's events and from the heartbeat's reconciliation, so that
	// the heartbeat never overwrites a newer event.
	statusMu sync.Mutex
	// statusGen counts the session's status events, so that a worker can
	// tell whether one arrived during its send.
	statusGen atomic.Uint64
	// wedged says that a call into the session ignored its deadline and
	// has not returned: the session is not used until it does.
	wedged atomic.Bool
	// leaseUntil is when this process's lease on the context runs out
	// (Unix nanoseconds), as of its last renewal.
	leaseUntil atomic.Int64
	// leaseLapsed says that the lease ran out while the leaser could not
	// be reached.
	leaseLapsed atomic.Bool

	// pacer is the context's pacing, restriction and breaker state (see
	// governor).
	pacer pacer
	// followSince is when the session first took the messages to follow
	// (AckFollower) in this process (Unix nanoseconds), or 0.
	followSince atomic.Int64

	// asleep says that the hibernator closed the context's browser to
	// save memory: the context is still held and available, and the next
	// send wakes it. It changes only under the send lock.
	asleep atomic.Bool
	// usedAt is when the context last sent, woke or went live (Unix
	// nanoseconds, on the Client's clock): the least recently used sleeps
	// first.
	usedAt atomic.Int64
	// sleptAt is when the context last fell asleep, and wakeFailedAt when
	// its last wake failed (Unix nanoseconds, on the Client's clock), or 0.
	sleptAt      atomic.Int64
	wakeFailedAt atomic.Int64
	// muted drops the status events of the context's session: set while
	// its browser closes to sleep, and until it wakes.
	muted atomic.Bool
	// launching says that a wake's launch has not returned yet.
	launching atomic.Bool
	// statusSeen is closed and replaced each time the session reports its
	// status (under statusMu): a wake waits on it.
	statusSeen chan struct{}

	mu          sync.Mutex
	stopConsume context.CancelFunc
}

// sessionBox lets a live context swap its session atomically.
type sessionBox struct{ s Session }

// newLiveContext makes a launched session live. leaseUntil is when its
// lease runs out; zero when no Leaser is in use.
func newLiveContext(id int64, sess Session, leaseUntil time.Time) *liveContext {
	lc := &liveContext{id: id, systemID: sess.SystemID(), lock: make(chan struct{}, 1), statusSeen: make(chan struct{})}
	lc.sess.Store(&sessionBox{sess})
	lc.pacer.rand = rand.Float64
	if !leaseUntil.IsZero() {
		lc.leased = true
		lc.leaseUntil.Store(leaseUntil.UnixNano())
	}
	return lc
}

// session returns the context's session: while it is asleep, the closed
// one that it will replace at its wake.
func (lc *liveContext) session() Session { return lc.sess.Load().s }

// setSession installs the session a wake launched.
func (lc *liveContext) setSession(s Session) { lc.sess.Store(&sessionBox{s}) }

// statusWatch returns the session's count of status reports and a channel
// closed at its next report.
func (lc *liveContext) statusWatch() (uint64, <-chan struct{}) {
	lc.statusMu.Lock()
	defer lc.statusMu.Unlock()
	return lc.statusGen.Load(), lc.statusSeen
}

// leaseValid reports whether this process may still use the context as far
// as its lease goes.
func (lc *liveContext) leaseValid() bool { return lc.leaseValidFor(0) }

// leaseValidFor reports whether the lease, as far as this process knows,
// holds for at least d more.
func (lc *liveContext) leaseValidFor(d time.Duration) bool {
	return !lc.leased || time.Now().Add(d).UnixNano() < lc.leaseUntil.Load()
}

// holds reports whether this process still holds the live context: it was
// not dropped, and its lease is valid.
func (lc *liveContext) holds() bool {
	return !lc.dropped.Load() && lc.leaseValid()
}

// beginConsuming marks the context consumed and returns the context of its
// consumer, unless it is consumed already, its lease lapsed, or it was
// dropped; then it returns nil. doneConsuming undoes it.
func (lc *liveContext) beginConsuming(parent context.Context) (context.Context, context.CancelFunc) {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	if lc.stopConsume != nil || parent.Err() != nil || lc.leaseLapsed.Load() || lc.dropped.Load() {
		return nil, nil
	}
	ctx, cancel := context.WithCancel(parent)
	lc.stopConsume = cancel
	return ctx, cancel
}

func (lc *liveContext) doneConsuming() {
	lc.mu.Lock()
	lc.stopConsume = nil
	lc.mu.Unlock()
}

// stopConsumer stops the context's queue consumer, if it runs.
func (lc *liveContext) stopConsumer() {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	if lc.stopConsume != nil {
		lc.stopConsume()
	}
}

// waitLock waits for the send lock unless stop is closed or ctx ends, and
// reports whether it got it. Waiting counts in waiters, which keeps the
// context busy in the store from one send to the next.
func (lc *liveContext) waitLock(ctx context.Context, stop <-chan struct{}) bool {
	lc.waiters.Add(1)
	defer lc.waiters.Add(-1)
	select {
	case lc.lock <- struct{}{}:
		return true
	case <-stop:
	case <-ctx.Done():
	}
	return false
}

// tryLock takes the send lock if it is free.
func (lc *liveContext) tryLock() bool {
	select {
	case lc.lock <- struct{}{}:
		return true
	default:
		return false
	}
}

// unlock releases the send lock.
func (lc *liveContext) unlock() { <-lc.lock }

// needsFree reports, to the holder of the send lock, whether the store
// still shows the context busy because of this process while no worker
// waits for it: the holder must mark it available before it unlocks.
func (lc *liveContext) needsFree() bool {
	return lc.storeBusy && lc.waiters.Load() == 0 && lc.holds()
}

// busyTransition is the context's part of a step that starts a send: none
// when the store shows it busy because of this process already.
func (lc *liveContext) busyTransition(at time.Time) *ContextTransition {
	stale := lc.stale.Swap(false)
	if lc.storeBusy && !stale {
		return nil
	}
	lc.storeBusy = false
	return ctxBusy.context(lc.id, at)
}

// freeTransition is the context's part of a step that ends a send: none
// when other workers wait for the context (it stays busy for the next
// send), when another process holds it now, or when a session event
// changed its status during the send (settleContext applies it alone).
func (lc *liveContext) freeTransition(at time.Time) *ContextTransition {
	if lc.waiters.Load() > 0 {
		return nil
	}
	lc.storeBusy = false
	if !lc.holds() {
		return nil
	}
	return ctxFree.context(lc.id, at)
}

// reportStatus records a status that the session reported: record writes
// it to the store while no other write of the status runs, and the next
// send reads the status again.
func (lc *liveContext) reportStatus(up bool, record func()) {
	lc.statusMu.Lock()
	defer lc.statusMu.Unlock()
	lc.sessionUp.Store(up)
	lc.statusGen.Add(1)
	record()
	lc.stale.Store(true)
	close(lc.statusSeen)
	lc.statusSeen = make(chan struct{})
}

// reportUnlessSeen is reportStatus unless the session reported its status
// since seen was taken (statusWatch): it reports whether it recorded.
func (lc *liveContext) reportUnlessSeen(seen <-chan struct{}, up bool, record func()) bool {
	lc.statusMu.Lock()
	defer lc.statusMu.Unlock()
	select {
	case <-seen:
		return false
	default:
	}
	lc.sessionUp.Store(up)
	lc.statusGen.Add(1)
	record()
	lc.stale.Store(true)
	close(lc.statusSeen)
	lc.statusSeen = make(chan struct{})
	return true
}

// ifUp runs f, which puts back the stored status of a session that is
// logged in, if the session is up, in order with the writes of the
// session's events.
func (lc *liveContext) ifUp(f func()) {
	lc.statusMu.Lock()
	defer lc.statusMu.Unlock()
	if lc.sessionUp.Load() {
		f()
	}
}

// wedge hands h over to a call into the session that ignored its
// deadline: the session is not used until unwedge.
func (lc *liveContext) wedge(h *hold, done chan struct{}) {
	lc.wedged.Store(true)
	h.hung = done
	h.upBefore, h.genBefore = lc.sessionUp.Load(), lc.statusGen.Load()
}

// unwedge ends the hold of a hung call that returned: the session gets back
// the state it had when the call was abandoned, unless one of its events
// changed it meanwhile. When the session is up and this process still
// holds the context, f runs, in order with the writes of the session's
// events, to put its stored status back.
func (lc *liveContext) unwedge(h *hold, f func()) {
	lc.statusMu.Lock()
	defer lc.statusMu.Unlock()
	up := false
	if lc.statusGen.Load() == h.genBefore {
		lc.sessionUp.Store(h.upBefore)
		up = h.upBefore
	}
	lc.wedged.Store(false)
	if up && lc.holds() {
		f()
	}
}

// afterTurn decides the stored status after a turn that found the session
// gone or hung (to is then the status that implies), or during which a
// session event changed it (gen is the count of the session's events when
// the turn began), and runs f to write it, in order with the writes of the
// session's events. The session's own events have the last word: when one
// arrived during the turn, the context is only freed if the session says it
// is up, and f does not run otherwise. seen says that the turn itself saw
// the session go: the host is to hear of it.
func (lc *liveContext) afterTurn(to ContextStatus, gen uint64, f func(e edge[ContextStatus], seen bool)) {
	lc.statusMu.Lock()
	defer lc.statusMu.Unlock()
	if to == ContextAvailable {
		f(ctxFree, false)
		return
	}
	if lc.statusGen.Load() == gen {
		lc.sessionUp.Store(false)
		f(sessionDown(to), true)
		return
	}
	if lc.sessionUp.Load() {
		f(ctxFree, false)
	}
}

// hold is a worker's hold of a live context's send lock. When a call into
// the session hangs, the hold is handed over to the hung call, which
// releases the lock when it returns.
type hold struct {
	lc *liveContext
	// hung, when set, is closed when the hung call returns; the worker
	// must not release the lock itself.
	hung chan struct{}
	// upBefore and genBefore are the session's state when the hung call
	// was abandoned.
	upBefore  bool
	genBefore uint64
}

// closeSession closes a session, waiting at most timeout.
func closeSession(log *slog.Logger, timeout time.Duration, s Session) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		log.Warn("closing session", "err", err)
	}
}

// abandonSession ends a session whose context another process took over:
// it abandons it (Abandoner) when it can, so that it saves nothing of its
// login, and closes it otherwise.
func abandonSession(log *slog.Logger, timeout time.Duration, s Session) {
	a, ok := s.(Abandoner)
	if !ok {
		closeSession(log, timeout, s)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := a.Abandon(ctx); err != nil {
		log.Warn("abandoning session", "err", err)
	}
}

// callSession runs f, a call into a session other than a send (a number
// check, a read, the acks to follow), with a deadline of timeout, and a
// recovered panic as an error. A call that ignores its deadline is waited
// for grace more, then left to finish on its own, counted in calls (whose
// owner waits for it), and callSession returns an error wrapping
// ErrSessionHung.
func callSession(ctx context.Context, timeout, grace time.Duration, calls *sync.WaitGroup, f func(context.Context) error) error {
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	done := make(chan error, 1)
	calls.Add(1)
	go func() {
		defer calls.Done()
		done <- func() (err error) {
			defer func() {
				if v := recover(); v != nil {
					err = &PanicError{Value: v}
				}
			}()
			return f(cctx)
		}()
	}()
	select {
	case err := <-done:
		return err
	case <-cctx.Done():
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		return fmt.Errorf("%w: the call ignored its deadline", ErrSessionHung)
	}
}

// waitGroup waits for wg at most timeout, and reports whether it is done.
func waitGroup(wg *sync.WaitGroup, timeout time.Duration) bool {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}
