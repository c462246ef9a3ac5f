package wasend

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// liveContext is a browser context whose session this process holds.
type liveContext struct {
	id       int64
	systemID string
	session  Session
	// lock is held while a message is being sent; waiters counts the
	// workers waiting for it.
	lock    chan struct{}
	waiters atomic.Int32
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

	mu          sync.Mutex
	stopConsume context.CancelFunc
}

func (lc *liveContext) stopConsumer() {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	if lc.stopConsume != nil {
		lc.stopConsume()
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

// lockContext waits for the context's send lock, unless Run is stopping or
// the session is wedged by a hung call. It returns nil when it did not get
// the lock.
func (c *Client) lockContext(ctx context.Context, rs *runState, lc *liveContext) *hold {
	if lc.wedged.Load() {
		return nil
	}
	lc.waiters.Add(1)
	select {
	case lc.lock <- struct{}{}:
		lc.waiters.Add(-1)
		return &hold{lc: lc}
	case <-rs.stopping:
	case <-ctx.Done():
	}
	lc.waiters.Add(-1)
	// The holder may have kept the context busy for this waiter: take the
	// lock if it is free, so that the release below marks it available.
	select {
	case lc.lock <- struct{}{}:
		c.unlockContext(ctx, &hold{lc: lc})
	default:
	}
	return nil
}

// lockRetry is how long a job waits before it tries a context whose lock
// it could not take.
func (c *Client) lockRetry(lc *liveContext) time.Duration {
	if lc.wedged.Load() {
		return c.cfg.contextWait
	}
	return 0
}

// unlockContext releases the context's send lock. If the store still shows
// the context busy and no worker waits, it marks it available first. A
// hold handed over to a hung call is released by that call.
func (c *Client) unlockContext(ctx context.Context, h *hold) {
	if h.hung != nil {
		return
	}
	lc := h.lc
	if lc.storeBusy && lc.waiters.Load() == 0 && c.holds(lc) {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
		_, _ = c.mustApply(rctx, Step{Context: ctxFree.context(lc.id, c.now())})
		cancel()
		lc.storeBusy = false
	}
	<-lc.lock
}

// holds reports whether this process still holds the live context: it was
// not dropped, and its lease is valid.
func (c *Client) holds(lc *liveContext) bool {
	return c.liveContext(lc.id) == lc && c.leaseValid(lc)
}

// busyTransition is the context's part of a step that starts a send: none
// when the store shows it busy because of this process already.
func (c *Client) busyTransition(lc *liveContext, at time.Time) *ContextTransition {
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
func (c *Client) freeTransition(lc *liveContext, at time.Time) *ContextTransition {
	if lc.waiters.Load() > 0 {
		return nil
	}
	lc.storeBusy = false
	if !c.holds(lc) {
		return nil
	}
	return ctxFree.context(lc.id, at)
}
