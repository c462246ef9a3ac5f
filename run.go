package wasend

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// runState holds the signals of one call of Run. stopping is closed when
// Run's ctx is done: no new work starts, and bulk jobs stop after the
// message in flight. hard is closed when the shutdown deadline passes: work
// in flight is canceled.
type runState struct {
	stopping chan struct{}
	hard     chan struct{}
	hardOnce sync.Once
}

func (rs *runState) isStopping() bool {
	select {
	case <-rs.stopping:
		return true
	default:
		return false
	}
}

func (rs *runState) isHard() bool {
	select {
	case <-rs.hard:
		return true
	default:
		return false
	}
}

func (rs *runState) stopHard() { rs.hardOnce.Do(func() { close(rs.hard) }) }

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

// startConsumer starts consuming a live context's queue, once.
func (c *Client) startConsumer(ctx context.Context, wg *sync.WaitGroup, lc *liveContext) {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	if lc.stopConsume != nil || ctx.Err() != nil || lc.leaseLapsed.Load() {
		return
	}
	c.mu.Lock()
	current := c.live[lc.id] == lc
	c.mu.Unlock()
	if !current {
		return
	}
	cctx, cancel := context.WithCancel(ctx)
	lc.stopConsume = cancel
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer func() {
			cancel()
			lc.mu.Lock()
			lc.stopConsume = nil
			lc.mu.Unlock()
		}()
		backoff := 100 * time.Millisecond
		for cctx.Err() == nil {
			err := c.queue.Consume(cctx, lc.id, worker{c})
			if cctx.Err() != nil {
				return
			}
			c.log.Warn("queue consumer stopped; restarting", "context", lc.id, "err", err)
			if !sleepCtx(cctx, backoff) {
				return
			}
			backoff = min(backoff*2, 10*time.Second)
		}
	}()
}

func (lc *liveContext) stopConsumer() {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	if lc.stopConsume != nil {
		lc.stopConsume()
	}
}

func (c *Client) liveContexts() []*liveContext {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*liveContext, 0, len(c.live))
	for _, lc := range c.live {
		out = append(out, lc)
	}
	return out
}

func (c *Client) liveContext(id int64) *liveContext {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.live[id]
}

func (c *Client) currentRun() *runState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.run
}

// sweep runs the recovery sweeps. Each is cheap, and safe with several
// processes sharing the store: a process acts only on the contexts it
// holds, except to mark disconnected the contexts nobody holds.
//
//   - Jobs of this process's contexts left running by a worker that is gone
//     (a previous holder that died, or this process before a restart) go
//     back to pending, and the attempt counts; a message they left in
//     sending is looked for in the chat before it is sent again.
//   - Pending jobs the queue lost are enqueued again (requeueLost).
//   - A context of this process that the store shows busy while no send
//     runs goes back to available.
//   - With a Leaser: contexts that no process has held for a lease TTL show
//     as disconnected, and, with WithTakeover, this process opens some.
func (c *Client) sweep(ctx context.Context) {
	lives := c.liveContexts()
	for _, lc := range lives {
		if err := c.recoverRunning(ctx, lc); err != nil && ctx.Err() == nil {
			c.log.Warn("sweep: running jobs", "context", lc.id, "err", err)
		}
		c.releaseIdleBusy(ctx, lc)
	}
	if c.leaser != nil {
		if err := c.sweepUnheld(ctx); err != nil && ctx.Err() == nil {
			c.log.Warn("sweep: unheld contexts", "err", err)
		}
	}
	if len(lives) == 0 {
		return
	}
	var expected map[int64]int64
	depther, canCount := c.queue.(DepthReporter)
	if canCount {
		counts, err := c.store.Counts(ctx)
		if err != nil {
			c.log.Warn("sweep: counting jobs", "err", err)
			return
		}
		expected = make(map[int64]int64)
		for _, jc := range counts.Jobs {
			if jc.Status == JobPending || jc.Status == JobRunning {
				expected[jc.ContextID] += jc.N
			}
		}
	}
	for _, lc := range lives {
		if err := c.requeueLost(ctx, lc.id, depther, expected[lc.id]); err != nil && ctx.Err() == nil {
			c.log.Warn("sweep", "context", lc.id, "err", err)
		}
	}
}

func (c *Client) requeueLost(ctx context.Context, contextID int64, depther DepthReporter, expected int64) error {
	now := c.now()
	cutoff := now.Add(-c.cfg.lostAfter)
	jobs, err := c.store.Jobs(ctx, JobFilter{ContextID: contextID, Statuses: []JobStatus{JobPending},
		NextRunBefore: cutoff, EnqueuedBefore: cutoff, Limit: 1000})
	if err != nil || len(jobs) == 0 {
		return err
	}
	n := int64(len(jobs))
	if depther != nil {
		depth, err := depther.Depth(ctx, contextID)
		if err != nil {
			return err
		}
		n = min(n, expected-depth)
	}
	for _, j := range jobs[:max(n, 0)] {
		ok, err := c.store.Apply(ctx, Step{Job: requeueJob(j.ID, now)})
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if err := c.queue.Enqueue(ctx, Delivery{JobID: j.ID, ContextID: j.ContextID, Kind: j.Kind}, 0); err != nil {
			return err
		}
		c.log.Info("sweep: enqueued a job the queue lost", "job", j.ID, "context", contextID)
	}
	return nil
}

// recoverRunning sends back to pending the running jobs of a context this
// process holds whose claim no worker of this process has.
func (c *Client) recoverRunning(ctx context.Context, lc *liveContext) error {
	now := c.now()
	var after int64
	for {
		jobs, err := c.store.Jobs(ctx, JobFilter{ContextID: lc.id, Statuses: []JobStatus{JobRunning}, AfterID: after})
		if err != nil {
			return err
		}
		for _, j := range jobs {
			after = j.ID
			if c.claimed(j.Claim) {
				continue
			}
			ok, err := c.store.Apply(ctx, Step{Job: rescueJob(j.ID, j.Claim, now)})
			if err != nil {
				return err
			}
			if ok {
				c.log.Warn("sweep: a job whose worker is gone goes back to the queue", "job", j.ID, "context", lc.id)
				c.requeue(ctx, Delivery{JobID: j.ID, ContextID: j.ContextID, Kind: j.Kind}, 0)
			}
		}
		if len(jobs) < DefaultJobsLimit {
			return nil
		}
	}
}

// claimed reports whether a worker of this process holds the claim.
func (c *Client) claimed(claim string) bool {
	c.claimsMu.Lock()
	defer c.claimsMu.Unlock()
	_, ok := c.claims[claim]
	return ok
}

func (c *Client) addClaim(claim string) {
	c.claimsMu.Lock()
	c.claims[claim] = struct{}{}
	c.claimsMu.Unlock()
}

func (c *Client) dropClaim(claim string) {
	c.claimsMu.Lock()
	delete(c.claims, claim)
	c.claimsMu.Unlock()
}

// releaseIdleBusy marks available a context of this process that the
// store shows busy although no send runs.
func (c *Client) releaseIdleBusy(ctx context.Context, lc *liveContext) {
	select {
	case lc.lock <- struct{}{}:
	default:
		return // a send runs
	}
	defer func() { <-lc.lock }()
	bc, err := c.store.Context(ctx, lc.id)
	if err != nil || bc.Status != ContextBusy {
		return
	}
	ok, err := c.store.Apply(ctx, Step{Context: ctxFree.context(lc.id, c.now())})
	if err == nil && ok {
		lc.storeBusy = false
		c.log.Info("sweep: a busy context with no send in flight is available again", "context", lc.id)
	}
}

// sweepUnheld marks disconnected the contexts that no process has held for
// a lease TTL, and takes some over when WithTakeover allows.
func (c *Client) sweepUnheld(ctx context.Context) error {
	list, err := c.store.Contexts(ctx)
	if err != nil {
		return err
	}
	ids := make([]int64, 0, len(list))
	for _, bc := range list {
		if bc.Status != ContextClosed {
			ids = append(ids, bc.ID)
		}
	}
	holders, err := c.leaser.Holders(ctx, ids)
	if err != nil {
		return err
	}
	now := time.Now()
	live := c.liveContexts()
	room := c.cfg.takeover - len(live)
	for _, bc := range list {
		_, held := holders[bc.ID]
		if held || bc.Status == ContextClosed || c.liveContext(bc.ID) != nil {
			delete(c.freeSince, bc.ID)
			continue
		}
		since, seen := c.freeSince[bc.ID]
		if !seen {
			c.freeSince[bc.ID] = now
			continue
		}
		if now.Sub(since) < c.cfg.leaseTTL {
			continue
		}
		if bc.Status == ContextAvailable || bc.Status == ContextBusy {
			ok, err := c.store.Apply(ctx, Step{Context: ctxLeave.context(bc.ID, c.now())})
			if err == nil && ok {
				c.log.Warn("sweep: no process holds the context; it shows as disconnected", "context", bc.ID)
			}
		}
		if room > 0 {
			if _, err := c.OpenContext(ctx, bc.ID); err != nil {
				if !errors.Is(err, ErrContextHeld) {
					c.log.Warn("takeover failed", "context", bc.ID, "err", err)
				}
				continue
			}
			room--
			delete(c.freeSince, bc.ID)
			c.log.Info("took over a browser context no process held", "context", bc.ID)
		}
	}
	return nil
}

// heartbeat renews this process's leases every third of the lease TTL. A
// context whose lease is lost (another process holds it now), or could not
// be renewed before it ran out, is dropped from this process: its consumer
// stops and its session closes, so that two processes never drive one
// profile.
func (c *Client) heartbeat() {
	t := time.NewTicker(c.cfg.leaseTTL / 3)
	defer t.Stop()
	for {
		select {
		case <-c.hbStop:
			return
		case <-t.C:
		}
		for _, lc := range c.liveContexts() {
			c.renew(lc)
		}
	}
}

func (c *Client) renew(lc *liveContext) {
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.leaseTTL/3)
	defer cancel()
	start := time.Now()
	ok, err := c.leaser.Acquire(ctx, lc.id, c.owner, c.cfg.leaseTTL)
	switch {
	case err == nil && ok:
		lc.leaseUntil.Store(start.Add(c.cfg.leaseTTL).UnixNano())
		if lc.leaseLapsed.Swap(false) {
			c.log.Info("the lease of a browser context is back after an outage of the leaser", "context", lc.id)
			c.mu.Lock()
			running := c.running
			c.mu.Unlock()
			if running {
				select {
				case c.opened <- lc:
				default: // Run's sweep starts its consumer
				}
			}
		}
		c.reconcile(ctx, lc)
		return
	case err == nil && !ok:
		c.log.Error("lost the lease of a browser context to another process; closing its session here", "context", lc.id)
	case time.Since(time.Unix(0, lc.leaseUntil.Load())) > lapsedKeep(c.cfg.leaseTTL):
		c.log.Error("the leaser has been out of reach for long; closing the session of a browser context, so that another process can take it over",
			"context", lc.id, "err", err)
	case time.Now().UnixNano() > lc.leaseUntil.Load():
		// The leaser cannot be reached and the lease ran out: the context
		// sends nothing (leaseValid is false) and its consumer stops, but
		// its session stays open for a while, so that the lease is taken
		// again when the leaser is back, unless another process holds it
		// by then.
		if !lc.leaseLapsed.Swap(true) {
			lc.stopConsumer()
			c.log.Error("could not renew the lease of a browser context before it ran out; it sends nothing until the lease is back",
				"context", lc.id, "err", err)
		}
		return
	default:
		c.log.Warn("renewing a lease failed; will retry", "context", lc.id, "err", err)
		return
	}
	c.drop(lc)
}

// lapsedKeep is how long after its lease ran out a process keeps the
// session of a context whose lease it cannot renew because the leaser is
// out of reach: ten lease TTLs, and at least a minute. After that it closes
// the session, so that a process that can reach the leaser can take the
// context over (a persistent profile opens in one browser at a time).
func lapsedKeep(ttl time.Duration) time.Duration { return max(10*ttl, time.Minute) }

// reconcile puts back the stored status of a context whose session is
// logged in here, when another process changed it while it could not see
// this process's lease: its sweep marks the context disconnected (a Redis
// restart, or this process stalled past its lease), and a takeover that
// could not launch the session may have marked it error before this
// process's session reported ErrContextHeld. Without this, jobs would wait
// for a context that never comes back.
func (c *Client) reconcile(ctx context.Context, lc *liveContext) {
	lc.statusMu.Lock()
	defer lc.statusMu.Unlock()
	if !lc.sessionUp.Load() {
		return
	}
	ok, err := c.store.Apply(ctx, Step{Context: ctxUp.context(lc.id, c.now())})
	if err == nil && ok {
		lc.stale.Store(true)
		c.log.Info("the session is logged in here; its context is available again", "context", lc.id)
		c.wakeJobs(ctx, lc.id)
	}
}

// drop removes a live context from this process without changing its
// stored status: another process holds it, or will.
func (c *Client) drop(lc *liveContext) {
	c.mu.Lock()
	if c.live[lc.id] == lc {
		delete(c.live, lc.id)
		delete(c.bySystem, lc.systemID)
	}
	c.mu.Unlock()
	lc.stopConsumer()
	go c.closeSession(lc.session)
}

// leaseValid reports whether this process may still use the context.
func (c *Client) leaseValid(lc *liveContext) bool {
	if c.leaser == nil {
		return true
	}
	return time.Now().UnixNano() < lc.leaseUntil.Load()
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

func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// hostEvent hands the host an event about what the Client recorded itself.
func (c *Client) hostEvent(ev SessionEvent) {
	if ev.At.IsZero() {
		ev.At = c.now()
	}
	c.events.push(queuedEvent{ev: ev, hostOnly: true})
}

// onEvent receives the pool's events. It never blocks.
func (c *Client) onEvent(ev SessionEvent) {
	if ev.At.IsZero() {
		ev.At = c.now()
	}
	c.mu.Lock()
	lc := c.bySystem[ev.SystemID]
	if lc == nil {
		if len(c.early[ev.SystemID]) < 64 {
			c.early[ev.SystemID] = append(c.early[ev.SystemID], ev)
		}
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	ev.ContextID = lc.id
	c.events.push(queuedEvent{ev: ev})
}

// eventLoop applies session events to the store and hands them to the host.
func (c *Client) eventLoop() {
	for {
		qe, ok := c.events.pop()
		if !ok {
			return
		}
		ev := qe.ev
		if ev.Type == EventStatus && !qe.hostOnly {
			c.applyStatus(ev)
		}
		if c.cfg.onEvent != nil {
			func() {
				defer func() {
					if r := recover(); r != nil {
						c.log.Error("event handler panicked", "panic", fmt.Sprint(r))
					}
				}()
				c.cfg.onEvent(ev)
			}()
		}
	}
}

func (c *Client) applyStatus(ev SessionEvent) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var e edge[ContextStatus]
	switch ev.Status {
	case ContextAvailable:
		e = ctxUp
	case ContextDisconnected:
		e = ctxDown
	case ContextError:
		e = ctxFault
	default:
		c.log.Warn("session event with an unexpected status", "context", ev.ContextID, "status", ev.Status)
		return
	}
	lc := c.liveContext(ev.ContextID)
	if lc != nil {
		lc.statusMu.Lock()
		lc.sessionUp.Store(ev.Status == ContextAvailable)
		lc.statusGen.Add(1)
	}
	ok, err := c.store.Apply(ctx, Step{Context: e.context(ev.ContextID, ev.At)})
	if lc != nil {
		lc.stale.Store(true)
		lc.statusMu.Unlock()
	}
	if err != nil {
		c.log.Error("recording a session status", "context", ev.ContextID, "status", ev.Status, "err", err)
		return
	}
	attrs := []any{"context", ev.ContextID, "status", ev.Status}
	if ev.Err != nil {
		attrs = append(attrs, "cause", ev.Err)
	}
	c.log.Info("session status", attrs...)
	if ok && ev.Status == ContextAvailable {
		c.wakeJobs(ctx, ev.ContextID)
	}
}

// wakeJobs enqueues at once the pending jobs of a context that were waiting
// for it to come back.
func (c *Client) wakeJobs(ctx context.Context, contextID int64) {
	now := c.now()
	var after int64
	for {
		jobs, err := c.store.Jobs(ctx, JobFilter{ContextID: contextID, Statuses: []JobStatus{JobPending}, AfterID: after})
		if err != nil {
			c.log.Warn("waking jobs", "context", contextID, "err", err)
			return
		}
		for _, j := range jobs {
			after = j.ID
			if !j.NextRunAt.After(now) {
				continue // due already: its delivery is in the queue
			}
			ok, err := c.store.Apply(ctx, Step{Job: wakeJob(j.ID, now)})
			if err != nil || !ok {
				continue
			}
			_ = c.queue.Enqueue(ctx, Delivery{JobID: j.ID, ContextID: j.ContextID, Kind: j.Kind}, 0)
		}
		if len(jobs) < DefaultJobsLimit {
			return
		}
	}
}

// queuedEvent is an event on its way to the store and the host. A
// hostOnly event reports what the Client itself recorded already (a
// session found gone by a send): it goes to the host only.
type queuedEvent struct {
	ev       SessionEvent
	hostOnly bool
}

// eventQueue is an unbounded FIFO of session events, so that a pool's
// callback never blocks.
type eventQueue struct {
	mu     sync.Mutex
	buf    []queuedEvent
	signal chan struct{}
	closed bool
}

func newEventQueue() *eventQueue { return &eventQueue{signal: make(chan struct{}, 1)} }

func (q *eventQueue) push(ev queuedEvent) {
	q.mu.Lock()
	if !q.closed {
		q.buf = append(q.buf, ev)
	}
	q.mu.Unlock()
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

// pop returns the next event, waiting for one; false once closed and empty.
func (q *eventQueue) pop() (queuedEvent, bool) {
	for {
		q.mu.Lock()
		if len(q.buf) > 0 {
			ev := q.buf[0]
			q.buf[0] = queuedEvent{}
			q.buf = q.buf[1:]
			q.mu.Unlock()
			return ev, true
		}
		if q.closed {
			q.mu.Unlock()
			return queuedEvent{}, false
		}
		q.mu.Unlock()
		<-q.signal
	}
}

func (q *eventQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	select {
	case q.signal <- struct{}{}:
	default:
	}
}
