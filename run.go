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
	if c.running {
		c.mu.Unlock()
		return ErrRunning
	}
	rs := &runState{stopping: make(chan struct{}), hard: make(chan struct{})}
	runCtx, stop := context.WithCancel(ctx)
	c.running = true
	c.run = rs
	c.stopRun = stop
	c.runDone = make(chan struct{})
	done := c.runDone
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.running = false
		c.run = nil
		c.stopRun = nil
		c.mu.Unlock()
		close(done)
	}()
	defer stop()

	var consumers sync.WaitGroup
	for _, lc := range c.liveContexts() {
		c.startConsumer(runCtx, &consumers, lc)
	}
	c.log.Info("workers running", "contexts", len(c.liveContexts()))

	ticker := time.NewTicker(c.cfg.sweepInterval)
	defer ticker.Stop()
loop:
	for {
		select {
		case <-runCtx.Done():
			break loop
		case lc := <-c.opened:
			c.startConsumer(runCtx, &consumers, lc)
		case <-ticker.C:
			for _, lc := range c.liveContexts() {
				c.startConsumer(runCtx, &consumers, lc)
			}
			c.sweep(runCtx)
		}
	}

	// Shutdown: stop taking work, then wait for the work in flight.
	close(rs.stopping)
	for _, lc := range c.liveContexts() {
		lc.stopConsumer()
	}
	waited := make(chan struct{})
	go func() {
		consumers.Wait()
		close(waited)
	}()
	timer := time.NewTimer(c.cfg.shutdownTimeout)
	defer timer.Stop()
	select {
	case <-waited:
	case <-timer.C:
		c.log.Warn("shutdown timeout: canceling jobs in flight; they go back to pending")
		rs.stopHard()
		<-waited
	}
	c.log.Info("workers stopped")
	return nil
}

// Close stops Run (waiting for it to return), closes the sessions this
// process holds, releases their leases, and stops the event loop. It
// closes neither the pool, nor the queue, nor the store. Close is
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
	c.mu.Lock()
	lives := make([]*liveContext, 0, len(c.live))
	for _, lc := range c.live {
		lives = append(lives, lc)
	}
	c.live = map[int64]*liveContext{}
	c.bySystem = map[string]*liveContext{}
	c.mu.Unlock()
	var wg sync.WaitGroup
	for _, lc := range lives {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.closeSession(lc.session)
			// The session is gone from this process: its context can no
			// longer send until a process opens it again.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, _ = c.store.Apply(ctx, Step{Context: ctxLeave.context(lc.id, c.now())})
			c.release(lc.id)
		}()
	}
	wg.Wait()
	close(c.hbStop)
	c.hbWG.Wait()
	// Calls into sessions that ignored their deadline: wait for them a
	// while, since each still holds its session.
	hungDone := make(chan struct{})
	go func() {
		c.hungWG.Wait()
		close(hungDone)
	}()
	select {
	case <-hungDone:
	case <-time.After(c.cfg.shutdownTimeout):
		c.log.Error("Close: calls into sessions that ignored their deadline are still running; leaving them")
	}
	c.events.close()
	c.eventsWG.Wait()
	return nil
}
