package wasend

import (
	"context"
	"time"
)

// JobKind is the kind of a send job.
type JobKind string

// The job kinds.
const (
	// KindSingle is a job that sends one message.
	KindSingle JobKind = "single"
	// KindBulk is a job that sends several messages in order, with a delay
	// between them.
	KindBulk JobKind = "bulk"
)

// JobKinds returns the job kinds, in a new slice.
func JobKinds() []JobKind { return []JobKind{KindSingle, KindBulk} }

// Valid reports whether k is a job kind.
func (k JobKind) Valid() bool { return k == KindSingle || k == KindBulk }

// JobStatus is the status of a send job, as stored in the
// send_messages_jobs_status table. The values are the table's slugs.
type JobStatus string

// The job statuses.
const (
	JobPending   JobStatus = "pending"
	JobRunning   JobStatus = "running"
	JobCompleted JobStatus = "completed"
	JobFailed    JobStatus = "failed"
	JobPaused    JobStatus = "paused"
	JobCancelled JobStatus = "cancelled"
)

// JobStatuses returns every job status, in the order of the status table,
// in a new slice.
func JobStatuses() []JobStatus {
	return []JobStatus{JobPending, JobRunning, JobCompleted, JobFailed, JobPaused, JobCancelled}
}

// Valid reports whether s is one of the job statuses.
func (s JobStatus) Valid() bool {
	switch s {
	case JobPending, JobRunning, JobCompleted, JobFailed, JobPaused, JobCancelled:
		return true
	}
	return false
}

// Final reports whether s is a status a job never leaves: completed, failed
// or cancelled.
func (s JobStatus) Final() bool {
	return s == JobCompleted || s == JobFailed || s == JobCancelled
}

// Delivery is what the queue carries: a wake-up for one job. It holds no
// message data; the store is the source of truth.
type Delivery struct {
	// JobID is the job to run.
	JobID int64
	// ContextID is the browser context the job sends through; it routes the
	// delivery to the process that holds the context.
	ContextID int64
	// Kind is the job's kind.
	Kind JobKind
}

// Handler handles deliveries. Returning nil acknowledges the delivery.
// Returning an error asks the queue to deliver it again later; after the
// queue's own attempts run out, it calls HandleDeadLetter if the handler is
// a DeadLetterHandler.
type Handler interface {
	HandleDelivery(ctx context.Context, d Delivery) error
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, d Delivery) error

// HandleDelivery calls f.
func (f HandlerFunc) HandleDelivery(ctx context.Context, d Delivery) error { return f(ctx, d) }

// DeadLetterHandler is implemented by handlers that want to know when the
// queue gives up on a delivery.
type DeadLetterHandler interface {
	// HandleDeadLetter gets the error of the last attempt.
	HandleDeadLetter(ctx context.Context, d Delivery, err error)
}

// Queue wakes workers. It routes each delivery to the process that consumes
// its browser context, and may deliver a delivery more than once or lose it:
// the Client makes both harmless, since every state change is a conditional
// update in the Store and a sweep enqueues again what the queue lost.
//
// Implementations must be safe for concurrent use.
type Queue interface {
	// Enqueue asks for d to be delivered after delay (at once when delay is
	// zero or negative).
	Enqueue(ctx context.Context, d Delivery, delay time.Duration) error
	// Consume delivers to h, in this process, the deliveries of the browser
	// context contextID, until ctx is done. It then stops taking deliveries,
	// waits for the handlers in flight to return, and returns nil. The ctx
	// passed to h is not canceled when ctx is; the handler owns its own
	// deadline. Consume returns an error at once if it cannot start (one
	// wrapping ErrConsuming when the context is consumed already). If ctx is
	// already done, Consume returns nil at once.
	Consume(ctx context.Context, contextID int64, h Handler) error
	// Stats returns the queue's counters.
	Stats(ctx context.Context) (QueueStats, error)
}

// DepthReporter is implemented by queues that can count what they hold for
// a browser context. The Client's sweep uses it to tell a job the queue lost
// from one that waits its turn.
type DepthReporter interface {
	// Depth returns the number of deliveries that the queue holds for the
	// context: waiting, delayed and in flight.
	Depth(ctx context.Context, contextID int64) (int64, error)
}

// QueueStats are a queue's counters. Counters that a queue cannot tell are
// -1.
type QueueStats struct {
	// Waiting counts deliveries ready to be delivered.
	Waiting int64
	// Delayed counts deliveries scheduled for later.
	Delayed int64
	// InFlight counts deliveries being handled in this process.
	InFlight int64
	// Processed, Retried and Failed count, in this process since it
	// started, deliveries acknowledged, handed back for a retry, and given
	// up on.
	Processed int64
	Retried   int64
	Failed    int64
	// Consumers counts the browser contexts consumed in this process.
	Consumers int
}

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

// Purger is implemented by queues that can drop every delivery they hold
// for a browser context, in flight ones included. The Client purges the
// queue of a context it closes for good.
type Purger interface {
	Purge(ctx context.Context, contextID int64) error
}
