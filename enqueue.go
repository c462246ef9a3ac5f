package wasend

import (
	"context"
	"log/slog"
	"time"
)

// enqueuer hands jobs back to the queue: a delivery the executor or the
// sweeper leaves for later, and the pending jobs that waited for a context
// that came back. It holds no state of its own.
type enqueuer struct {
	store Store
	queue Queue
	// observer is told of the outcomes that a step gives messages outside
	// a worker's turn (giveUp).
	observer Observer
	now      func() time.Time
	log      *slog.Logger
}

// requeue hands a delivery back to the queue; if that fails, the sweep
// finds the job later.
func (q *enqueuer) requeue(ctx context.Context, d Delivery, delay time.Duration) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := q.queue.Enqueue(ctx, d, delay); err != nil {
		q.log.Warn("requeue failed; the sweep will find the job", "job", d.JobID, "err", err)
	}
}

// wakeJobs enqueues at once the pending jobs of a context that were waiting
// for it to come back.
func (q *enqueuer) wakeJobs(ctx context.Context, contextID int64) {
	now := q.now()
	var after int64
	for {
		jobs, err := q.store.Jobs(ctx, JobFilter{ContextID: contextID, Statuses: []JobStatus{JobPending}, AfterID: after})
		if err != nil {
			q.log.Warn("waking jobs", "context", contextID, "err", err)
			return
		}
		for _, j := range jobs {
			after = j.ID
			if !j.NextRunAt.After(now) || j.NotBefore.After(now) {
				continue // due already (its delivery is in the queue), or not before its time
			}
			ok, err := q.store.Apply(ctx, Step{Job: wakeJob(j.ID, now)})
			if err != nil || !ok {
				continue
			}
			_ = q.queue.Enqueue(ctx, deliveryOf(j), 0)
		}
		if len(jobs) < DefaultJobsLimit {
			return
		}
	}
}

// failJobs fails the pending and paused jobs of a context that is closed
// for good (banned says why: WhatsApp banned its account); their unsent
// messages are cancelled, and unconfirmed ones end unknown. The jobs of a
// campaign that allows moves stay: the balancer moves their messages.
func (q *enqueuer) failJobs(ctx context.Context, contextID int64, banned bool) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	var after int64
	moves := map[int64]bool{}
	for {
		jobs, err := q.store.Jobs(ctx, JobFilter{ContextID: contextID, Statuses: []JobStatus{JobPending, JobPaused}, AfterID: after})
		if err != nil {
			q.log.Warn("failing the jobs of a closed context", "context", contextID, "err", err)
			return err
		}
		for _, j := range jobs {
			after = j.ID
			if q.movable(ctx, j.CampaignID, moves) {
				continue // the balancer moves its messages to the rest of the pool
			}
			if _, err := q.giveUp(ctx, Step{Job: closedJob(jobClosed, j.ID, "", banned, q.now())}); err != nil {
				return err
			}
		}
		if len(jobs) < DefaultJobsLimit {
			return nil
		}
	}
}

// movable reports whether campaign id (0: none) allows moves; cache holds
// the answers of one call of failJobs. When the store cannot tell, the
// answer is no, and the job fails as any other.
func (q *enqueuer) movable(ctx context.Context, id int64, cache map[int64]bool) bool {
	if id == 0 {
		return false
	}
	if m, ok := cache[id]; ok {
		return m
	}
	cs, ok := q.store.(CampaignStore)
	if !ok {
		return false
	}
	c, err := cs.Campaign(ctx, id)
	cache[id] = err == nil && c.Move
	return cache[id]
}

// giveUp applies a step that ends a job's messages outside a worker's
// turn (a cancel, a closed context, a dead letter), and tells the
// observer of each message it gave an outcome. It reads the job before
// and after, so it is for the rare paths only.
func (q *enqueuer) giveUp(ctx context.Context, s Step) (bool, error) {
	before, err := q.store.Job(ctx, s.Job.ID)
	if err != nil {
		return q.store.Apply(ctx, s)
	}
	ok, err := q.store.Apply(ctx, s)
	if err != nil || !ok {
		return ok, err
	}
	after, err := q.store.Job(ctx, s.Job.ID)
	if err == nil {
		q.reportEnded(before, after)
	}
	return ok, nil
}

// reportEnded tells the observer of the messages that are final in after
// and were not in before.
func (q *enqueuer) reportEnded(before, after Job) {
	was := make(map[int64]MessageStatus, len(before.Messages))
	for _, m := range before.Messages {
		was[m.ID] = m.Status
	}
	for _, m := range after.Messages {
		if m.Status.Final() && !was[m.ID].Final() && m.ErrorKind != ErrorKindMoved {
			q.observer.Turn(Turn{ContextID: after.ContextID, JobID: after.ID, MessageID: m.ID, Kind: after.Kind,
				Status: m.Status, Final: true, ErrorKind: m.ErrorKind})
		}
	}
}
