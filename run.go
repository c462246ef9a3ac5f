package wasend

import (
	"context"
	"sync"
	"time"
)

// Run runs the workers of the browser contexts this process holds, and of
// those it opens while Run runs, until ctx is done. It also sweeps, every
// interval set by WithSweep, for jobs the queue lost, and enqueues them
// again.
//
// When ctx is done, Run stops taking jobs, lets the jobs in flight finish
// their current message (bulk jobs go back to pending and continue later),
// and returns once they have, or once the shutdown timeout passes, when it
// cancels what is left: those jobs go back to pending too. It returns nil
// after a clean stop, ErrRunning if Run is running already, and ErrClosed
// after Close.
func (c *Client) Run(ctx context.Context) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	if c.runDone != nil {
		c.mu.Unlock()
		return ErrRunning
	}
	_ = c.startLocked() // not closed: it cannot fail
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	c.stopRun, c.runDone = stop, done
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.stopRun, c.runDone = nil, nil
		c.mu.Unlock()
		close(done)
	}()
	defer stop()

	rs := newRunState()
	c.sweeper.start(runCtx)
	c.follower.start(runCtx)
	c.hib.start(runCtx)
	if c.relay != nil {
		c.relay.start(runCtx)
	}
	c.consumers.start(runCtx, worker{e: c.exec, rs: rs})
	<-runCtx.Done()
	c.sweeper.shutdown()
	c.follower.shutdown()
	c.hib.shutdown()
	if c.relay != nil {
		c.relay.shutdown()
	}

	// Shutdown: stop taking work, then wait for the work in flight.
	close(rs.stopping)
	c.consumers.shutdown(c.cfg.shutdownTimeout, func() {
		c.log.Warn("shutdown timeout: canceling jobs in flight; they go back to pending")
		rs.stopHard()
	})
	c.log.Info("workers stopped")
	return nil
}

// Close stops Run (waiting for it to return), closes the sessions this
// process holds, releases their leases, and stops the runtime's
// components, waiting for every goroutine the Client started. A
// CreateContext or OpenContext that launches its session while Close runs
// closes it again and returns ErrClosed. Close closes neither the pool, nor
// the queue, nor the store. Close without Run is fine, and Close is
// idempotent.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	stop, done := c.stopRun, c.runDone
	c.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
	var wg sync.WaitGroup
	for _, lc := range c.contexts.close() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			closeSession(c.log, c.cfg.shutdownTimeout, lc.session())
			// The session is gone from this process: its context can no
			// longer send until a process opens it again.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, _ = c.store.Apply(ctx, Step{Context: ctxLeave.context(lc.id, c.now())})
			c.leases.release(lc.id)
		}()
	}
	wg.Wait()
	c.leases.shutdown()
	if !waitGroup(&c.hib.launches, c.cfg.shutdownTimeout) {
		c.log.Error("Close: wakes whose launch ignored its deadline are still running; leaving them")
	}
	// Calls into sessions that ignored their deadline: wait for them a
	// while, since each still holds its session.
	if !c.exec.waitHung(c.cfg.shutdownTimeout) {
		c.log.Error("Close: calls into sessions that ignored their deadline are still running; leaving them")
	}
	c.events.shutdown()
	c.endLife()
	if !waitGroup(&c.calls, c.cfg.shutdownTimeout) {
		c.log.Error("Close: calls into sessions that ignored their deadline are still running; leaving them")
	}
	return nil
}
