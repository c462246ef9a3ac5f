package wasend

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
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

// leaseKeeper holds this process's leases on its live contexts: it takes
// a context's lease before the context goes live (acquire), renews every
// lease every third of the lease TTL on a goroutine of its own (the
// heartbeat), takes a lease back after an outage of the leaser, drops from
// this process a context whose lease is lost, and releases a lease when
// its context leaves. Without a Leaser (a single process) it holds nothing
// and runs nothing.
type leaseKeeper struct {
	leaser   Leaser // nil: a single process
	owner    string
	ttl      time.Duration
	contexts *registry
	store    Store
	enq      *enqueuer
	// consumers is offered the contexts whose lease is back.
	consumers *dispatcher
	// closeTimeout bounds the close of a dropped context's session.
	closeTimeout time.Duration
	now          func() time.Time
	log          *slog.Logger

	done    chan struct{}
	wg      sync.WaitGroup // the heartbeat
	closing sync.WaitGroup // the sessions of dropped contexts, closing
}

// start starts the heartbeat, when there is a Leaser.
func (k *leaseKeeper) start() {
	if k.leaser == nil {
		return
	}
	k.wg.Add(1)
	go func() {
		defer k.wg.Done()
		k.heartbeat()
	}()
}

// shutdown stops the heartbeat and waits for it, and for the sessions of
// the contexts it dropped to close. It is called once.
func (k *leaseKeeper) shutdown() {
	close(k.done)
	k.wg.Wait()
	k.closing.Wait()
}

// acquire takes the lease of a context for this process and returns when
// it runs out; without a leaser it never does.
func (k *leaseKeeper) acquire(ctx context.Context, id int64) (time.Time, error) {
	if k.leaser == nil {
		return time.Time{}, nil
	}
	start := time.Now()
	ok, err := k.leaser.Acquire(ctx, id, k.owner, k.ttl)
	if err != nil {
		return time.Time{}, err
	}
	if !ok {
		return time.Time{}, fmt.Errorf("%w: context %d", ErrContextHeld, id)
	}
	return start.Add(k.ttl), nil
}

// release frees the lease of a context that leaves this process.
func (k *leaseKeeper) release(id int64) {
	if k.leaser == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := k.leaser.Release(ctx, id, k.owner); err != nil {
		k.log.Warn("releasing a lease", "context", id, "err", err)
	}
}

// heartbeat renews this process's leases every third of the lease TTL. A
// context whose lease is lost (another process holds it now), or could not
// be renewed before it ran out, is dropped from this process: its consumer
// stops and its session closes, so that two processes never drive one
// profile.
func (k *leaseKeeper) heartbeat() {
	t := time.NewTicker(k.ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-k.done:
			return
		case <-t.C:
		}
		for _, lc := range k.contexts.all() {
			k.renew(lc)
		}
	}
}

func (k *leaseKeeper) renew(lc *liveContext) {
	ctx, cancel := context.WithTimeout(context.Background(), k.ttl/3)
	defer cancel()
	start := time.Now()
	ok, err := k.leaser.Acquire(ctx, lc.id, k.owner, k.ttl)
	switch {
	case err == nil && ok:
		lc.leaseUntil.Store(start.Add(k.ttl).UnixNano())
		if lc.leaseLapsed.Swap(false) {
			k.log.Info("the lease of a browser context is back after an outage of the leaser", "context", lc.id)
			k.consumers.offer(lc)
		}
		k.reconcile(ctx, lc)
		return
	case err == nil && !ok:
		k.log.Error("lost the lease of a browser context to another process; closing its session here", "context", lc.id)
	case time.Since(time.Unix(0, lc.leaseUntil.Load())) > lapsedKeep(k.ttl):
		k.log.Error("the leaser has been out of reach for long; closing the session of a browser context, so that another process can take it over",
			"context", lc.id, "err", err)
	case time.Now().UnixNano() > lc.leaseUntil.Load():
		// The leaser cannot be reached and the lease ran out: the context
		// sends nothing (leaseValid is false) and its consumer stops, but
		// its session stays open for a while, so that the lease is taken
		// again when the leaser is back, unless another process holds it
		// by then.
		if !lc.leaseLapsed.Swap(true) {
			lc.stopConsumer()
			k.log.Error("could not renew the lease of a browser context before it ran out; it sends nothing until the lease is back",
				"context", lc.id, "err", err)
		}
		return
	default:
		k.log.Warn("renewing a lease failed; will retry", "context", lc.id, "err", err)
		return
	}
	k.drop(lc)
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
func (k *leaseKeeper) reconcile(ctx context.Context, lc *liveContext) {
	lc.ifUp(func() {
		ok, err := k.store.Apply(ctx, Step{Context: ctxUp.context(lc.id, k.now())})
		if err == nil && ok {
			lc.stale.Store(true)
			k.log.Info("the session is logged in here; its context is available again", "context", lc.id)
			k.enq.wakeJobs(ctx, lc.id)
		}
	})
}

// drop removes a live context from this process without changing its
// stored status: another process holds it, or will. Its session is
// abandoned (it saves nothing of its login: the other process runs it) on
// a goroutine that shutdown waits for.
func (k *leaseKeeper) drop(lc *liveContext) {
	k.contexts.remove(lc)
	lc.stopConsumer()
	k.closing.Add(1)
	go func() {
		defer k.closing.Done()
		abandonSession(k.log, k.closeTimeout, lc.session())
	}()
}
