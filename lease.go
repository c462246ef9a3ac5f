package wasend

import (
	"context"
	"fmt"
	"time"
)

// Leaser grants each browser context to one process at a time, through a
// lease that its holder renews. The Client uses it to decide which process
// holds a context's live session (and so consumes its queue), and to let
// another process take a context over when its holder dies. Implementations
// must be safe for concurrent use. A redisqueue.Queue is a Leaser.
type Leaser interface {
	// Acquire takes the lease of contextID for owner, for ttl, if it is
	// free or owner's already (then it is extended). It reports whether
	// owner holds the lease.
	Acquire(ctx context.Context, contextID int64, owner string, ttl time.Duration) (bool, error)
	// Release frees the lease of contextID if owner holds it.
	Release(ctx context.Context, contextID int64, owner string) error
	// Holders returns the holder of each of the contexts whose lease is
	// held; free contexts are absent.
	Holders(ctx context.Context, contextIDs []int64) (map[int64]string, error)
}

// acquire takes the lease of a context for this process and returns when
// it runs out; without a leaser it never does.
func (c *Client) acquire(ctx context.Context, id int64) (time.Time, error) {
	if c.leaser == nil {
		return time.Time{}, nil
	}
	start := time.Now()
	ok, err := c.leaser.Acquire(ctx, id, c.owner, c.cfg.leaseTTL)
	if err != nil {
		return time.Time{}, err
	}
	if !ok {
		return time.Time{}, fmt.Errorf("%w: context %d", ErrContextHeld, id)
	}
	return start.Add(c.cfg.leaseTTL), nil
}

func (c *Client) release(id int64) {
	if c.leaser == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.leaser.Release(ctx, id, c.owner); err != nil {
		c.log.Warn("releasing a lease", "context", id, "err", err)
	}
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
