package wasend

import (
	"context"
	"errors"
	"time"
)

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
