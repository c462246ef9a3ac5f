package wasendtest

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/wasend/wasend"
)

// Queue is a wasend.Queue in memory: one FIFO per browser context, delays
// through timers, redelivery after handler errors, and a dead letter after
// RetryLimit failures. It is safe for concurrent use.
type Queue struct {
	workers      int
	retryLimit   int
	retryBackoff time.Duration

	mu        sync.Mutex
	ready     map[int64][]item
	delayed   map[*time.Timer]item
	inFlight  map[int64]int
	signal    map[int64]chan struct{}
	consuming map[int64]bool
	failWith  error
	closed    bool
	processed int64
	retried   int64
	failed    int64
}

type item struct {
	d        wasend.Delivery
	attempts int
}

var (
	_ wasend.Queue         = (*Queue)(nil)
	_ wasend.DepthReporter = (*Queue)(nil)
)

// QueueOption configures a Queue.
type QueueOption func(*Queue)

// WithWorkers sets the handler goroutines per consumed context. Default: 2.
func WithWorkers(n int) QueueOption { return func(q *Queue) { q.workers = n } }

// WithRetry sets how many times a delivery whose handler fails is tried,
// and the wait between tries. Default: 5 tries, 10 ms apart.
func WithRetry(limit int, backoff time.Duration) QueueOption {
	return func(q *Queue) { q.retryLimit, q.retryBackoff = limit, backoff }
}

// NewQueue returns an empty Queue.
func NewQueue(opts ...QueueOption) *Queue {
	q := &Queue{workers: 2, retryLimit: 5, retryBackoff: 10 * time.Millisecond,
		ready: map[int64][]item{}, delayed: map[*time.Timer]item{}, inFlight: map[int64]int{},
		signal: map[int64]chan struct{}{}, consuming: map[int64]bool{}}
	for _, o := range opts {
		o(q)
	}
	return q
}

// SetFailure makes Enqueue fail with err (nil restores service).
func (q *Queue) SetFailure(err error) {
	q.mu.Lock()
	q.failWith = err
	q.mu.Unlock()
}

// Lose drops every delivery the queue holds, as a Redis restart without
// persistence would. It returns how many it dropped.
func (q *Queue) Lose() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := 0
	for id, items := range q.ready {
		n += len(items)
		delete(q.ready, id)
	}
	for t := range q.delayed {
		if t.Stop() {
			n++
		}
		delete(q.delayed, t)
	}
	return n
}

func (q *Queue) sig(id int64) chan struct{} {
	ch := q.signal[id]
	if ch == nil {
		ch = make(chan struct{}, 1)
		q.signal[id] = ch
	}
	return ch
}

func (q *Queue) push(it item) {
	q.ready[it.d.ContextID] = append(q.ready[it.d.ContextID], it)
	select {
	case q.sig(it.d.ContextID) <- struct{}{}:
	default:
	}
}

func (q *Queue) add(it item, delay time.Duration) {
	if delay <= 0 {
		q.push(it)
		return
	}
	var t *time.Timer
	t = time.AfterFunc(delay, func() {
		q.mu.Lock()
		defer q.mu.Unlock()
		if _, ok := q.delayed[t]; !ok {
			return
		}
		delete(q.delayed, t)
		q.push(it)
	})
	q.delayed[t] = it
}

// Enqueue implements wasend.Queue.
func (q *Queue) Enqueue(ctx context.Context, d wasend.Delivery, delay time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return wasend.ErrClosed
	}
	if q.failWith != nil {
		return fmt.Errorf("%w: %w", wasend.ErrQueue, q.failWith)
	}
	q.add(item{d: d}, delay)
	return nil
}

// Consume implements wasend.Queue.
func (q *Queue) Consume(ctx context.Context, contextID int64, h wasend.Handler) error {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return wasend.ErrClosed
	}
	if q.consuming[contextID] {
		q.mu.Unlock()
		return fmt.Errorf("%w: context %d", wasend.ErrConsuming, contextID)
	}
	q.consuming[contextID] = true
	sig := q.sig(contextID)
	q.mu.Unlock()
	defer func() {
		q.mu.Lock()
		delete(q.consuming, contextID)
		q.mu.Unlock()
	}()
	var wg sync.WaitGroup
	for range q.workers {
		wg.Go(func() {
			for {
				it, ok := q.take(ctx, contextID, sig)
				if !ok {
					return
				}
				q.run(context.WithoutCancel(ctx), h, it)
			}
		})
	}
	wg.Wait()
	return nil
}

func (q *Queue) take(ctx context.Context, id int64, sig chan struct{}) (item, bool) {
	for {
		q.mu.Lock()
		if items := q.ready[id]; len(items) > 0 && ctx.Err() == nil {
			it := items[0]
			q.ready[id] = items[1:]
			q.inFlight[id]++
			if len(items) > 1 {
				select {
				case sig <- struct{}{}:
				default:
				}
			}
			q.mu.Unlock()
			return it, true
		}
		q.mu.Unlock()
		select {
		case <-ctx.Done():
			return item{}, false
		case <-sig:
		}
	}
}

func (q *Queue) run(ctx context.Context, h wasend.Handler, it item) {
	err := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("mem: handler panic: %v", r)
			}
		}()
		return h.HandleDelivery(ctx, it.d)
	}()
	q.mu.Lock()
	defer q.mu.Unlock()
	q.inFlight[it.d.ContextID]--
	if err == nil {
		q.processed++
		return
	}
	it.attempts++
	if it.attempts < q.retryLimit {
		q.retried++
		q.add(it, q.retryBackoff)
		return
	}
	q.failed++
	if dl, ok := h.(wasend.DeadLetterHandler); ok {
		q.mu.Unlock()
		dl.HandleDeadLetter(ctx, it.d, err)
		q.mu.Lock()
	}
}

// Depth implements wasend.DepthReporter.
func (q *Queue) Depth(ctx context.Context, contextID int64) (int64, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := int64(len(q.ready[contextID]) + q.inFlight[contextID])
	for _, it := range q.delayed {
		if it.d.ContextID == contextID {
			n++
		}
	}
	return n, nil
}

// Stats implements wasend.Queue.
func (q *Queue) Stats(ctx context.Context) (wasend.QueueStats, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	st := wasend.QueueStats{Delayed: int64(len(q.delayed)), Processed: q.processed, Retried: q.retried,
		Failed: q.failed, Consumers: len(q.consuming)}
	for _, items := range q.ready {
		st.Waiting += int64(len(items))
	}
	for _, n := range q.inFlight {
		st.InFlight += int64(n)
	}
	return st, nil
}

// Close stops the timers; consumers stop when their ctx ends. It is
// idempotent.
func (q *Queue) Close() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	for t := range q.delayed {
		t.Stop()
		delete(q.delayed, t)
	}
	return nil
}
