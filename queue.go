package wasend

import (
	"context"
	"time"
)

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

// Purger is implemented by queues that can drop every delivery they hold
// for a browser context, in flight ones included. The Client purges the
// queue of a context it closes for good.
type Purger interface {
	Purge(ctx context.Context, contextID int64) error
}
