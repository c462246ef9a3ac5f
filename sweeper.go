package wasend

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// sweeper runs, while Run runs, the recovery sweeps every sweep interval
// (WithSweep) on a goroutine of its own: it rescues the running jobs whose
// worker is gone, enqueues again the pending jobs the queue lost, releases
// a context left busy with no send in flight, fails the jobs left waiting
// on a closed context, balances the campaigns, has the follower mark the
// messages not delivered in time, and, with a Leaser, marks disconnected
// the contexts nobody holds and takes some over.
type sweeper struct {
	store    Store
	queue    Queue
	leaser   Leaser // nil: a single process
	contexts *registry
	claims   *claimSet
	enq      *enqueuer
	// launcher opens the contexts taken over.
	launcher *launcher
	// balancer moves the messages of campaigns.
	balancer *balancer
	// follower marks the messages not delivered in time.
	follower *follower

	interval  time.Duration
	lostAfter time.Duration
	leaseTTL  time.Duration
	takeover  int
	now       func() time.Time
	log       *slog.Logger

	// freeSince records since when a context's lease was seen free. Only
	// the sweeper's goroutine uses it.
	freeSince map[int64]time.Time

	done chan struct{}
	wg   sync.WaitGroup
}

// start starts sweeping until ctx ends or shutdown.
func (s *sweeper) start(ctx context.Context) {
	s.done = make(chan struct{})
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(s.interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-s.done:
				return
			case <-t.C:
				s.sweep(ctx)
			}
		}
	}()
}

// shutdown stops the sweeper and waits for it.
func (s *sweeper) shutdown() {
	close(s.done)
	s.wg.Wait()
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
func (s *sweeper) sweep(ctx context.Context) {
	lives := s.contexts.all()
	for _, lc := range lives {
		if err := s.recoverRunning(ctx, lc); err != nil && ctx.Err() == nil {
			s.log.Warn("sweep: running jobs", "context", lc.id, "err", err)
		}
		s.releaseIdleBusy(ctx, lc)
	}
	if s.leaser != nil {
		if err := s.sweepUnheld(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("sweep: unheld contexts", "err", err)
		}
	}
	s.balancer.balance(ctx)
	s.follower.markUndelivered(ctx)
	counts, err := s.store.Counts(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("sweep: counting jobs", "err", err)
		}
		return
	}
	if err := s.failClosed(ctx, counts); err != nil && ctx.Err() == nil {
		s.log.Warn("sweep: jobs of closed contexts", "err", err)
	}
	if len(lives) == 0 {
		return
	}
	var expected map[int64]int64
	depther, canCount := s.queue.(DepthReporter)
	if canCount {
		expected = make(map[int64]int64)
		for _, jc := range counts.Jobs {
			if jc.Status == JobPending || jc.Status == JobRunning {
				expected[jc.ContextID] += jc.N
			}
		}
	}
	for _, lc := range lives {
		if err := s.requeueLost(ctx, lc.id, depther, expected[lc.id]); err != nil && ctx.Err() == nil {
			s.log.Warn("sweep", "context", lc.id, "err", err)
		}
	}
}

// failClosed fails the jobs left pending or paused on a closed context:
// a ban recorded while the job ran, or a process gone between the record
// and failJobs, leaves them with no worker to end them.
func (s *sweeper) failClosed(ctx context.Context, counts StoreCounts) error {
	waiting := map[int64]bool{}
	for _, jc := range counts.Jobs {
		if (jc.Status == JobPending || jc.Status == JobPaused) && jc.N > 0 {
			waiting[jc.ContextID] = true
		}
	}
	if len(waiting) == 0 {
		return nil
	}
	list, err := s.store.Contexts(ctx)
	if err != nil {
		return err
	}
	for _, bc := range list {
		if bc.Status == ContextClosed && waiting[bc.ID] {
			if err := s.enq.failJobs(ctx, bc.ID, bc.Restriction.Kind == RestrictionBanned); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *sweeper) requeueLost(ctx context.Context, contextID int64, depther DepthReporter, expected int64) error {
	now := s.now()
	cutoff := now.Add(-s.lostAfter)
	jobs, err := s.store.Jobs(ctx, JobFilter{ContextID: contextID, Statuses: []JobStatus{JobPending},
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
		ok, err := s.store.Apply(ctx, Step{Job: requeueJob(j.ID, now)})
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if err := s.queue.Enqueue(ctx, deliveryOf(j), 0); err != nil {
			return err
		}
		s.log.Info("sweep: enqueued a job the queue lost", "job", j.ID, "context", contextID)
	}
	return nil
}

// recoverRunning sends back to pending the running jobs of a context this
// process holds whose claim no worker of this process has.
func (s *sweeper) recoverRunning(ctx context.Context, lc *liveContext) error {
	now := s.now()
	var after int64
	for {
		jobs, err := s.store.Jobs(ctx, JobFilter{ContextID: lc.id, Statuses: []JobStatus{JobRunning}, AfterID: after})
		if err != nil {
			return err
		}
		for _, j := range jobs {
			after = j.ID
			if s.claims.has(j.Claim) {
				continue
			}
			ok, err := s.store.Apply(ctx, Step{Job: rescueJob(j.ID, j.Claim, now)})
			if err != nil {
				return err
			}
			if ok {
				s.log.Warn("sweep: a job whose worker is gone goes back to the queue", "job", j.ID, "context", lc.id)
				s.enq.requeue(ctx, deliveryOf(j), 0)
			}
		}
		if len(jobs) < DefaultJobsLimit {
			return nil
		}
	}
}

// releaseIdleBusy marks available a context of this process that the
// store shows busy although no send runs.
func (s *sweeper) releaseIdleBusy(ctx context.Context, lc *liveContext) {
	if !lc.tryLock() {
		return // a send runs
	}
	defer lc.unlock()
	bc, err := s.store.Context(ctx, lc.id)
	if err != nil || bc.Status != ContextBusy {
		return
	}
	ok, err := s.store.Apply(ctx, Step{Context: ctxFree.context(lc.id, s.now())})
	if err == nil && ok {
		lc.storeBusy = false
		s.log.Info("sweep: a busy context with no send in flight is available again", "context", lc.id)
	}
}

// sweepUnheld marks disconnected the contexts that no process has held for
// a lease TTL, and takes some over when WithTakeover allows.
func (s *sweeper) sweepUnheld(ctx context.Context) error {
	list, err := s.store.Contexts(ctx)
	if err != nil {
		return err
	}
	ids := make([]int64, 0, len(list))
	for _, bc := range list {
		if bc.Status != ContextClosed {
			ids = append(ids, bc.ID)
		}
	}
	holders, err := s.leaser.Holders(ctx, ids)
	if err != nil {
		return err
	}
	now := time.Now()
	live := s.contexts.all()
	room := s.takeover - len(live)
	for _, bc := range list {
		_, held := holders[bc.ID]
		if held || bc.Status == ContextClosed || s.contexts.get(bc.ID) != nil {
			delete(s.freeSince, bc.ID)
			continue
		}
		since, seen := s.freeSince[bc.ID]
		if !seen {
			s.freeSince[bc.ID] = now
			continue
		}
		if now.Sub(since) < s.leaseTTL {
			continue
		}
		if bc.Status == ContextAvailable || bc.Status == ContextBusy {
			ok, err := s.store.Apply(ctx, Step{Context: ctxLeave.context(bc.ID, s.now())})
			if err == nil && ok {
				s.log.Warn("sweep: no process holds the context; it shows as disconnected", "context", bc.ID)
			}
		}
		if room > 0 {
			if _, err := s.launcher.open(ctx, bc.ID); err != nil {
				if !errors.Is(err, ErrContextHeld) {
					s.log.Warn("takeover failed", "context", bc.ID, "err", err)
				}
				continue
			}
			room--
			delete(s.freeSince, bc.ID)
			s.log.Info("took over a browser context no process held", "context", bc.ID)
		}
	}
	return nil
}
