package queuetest_test

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/internal/suite"
	"github.com/wasend/wasend/queuetest"
)

// TestMemQueue runs the suite on a minimal in-memory queue, which checks the
// suite itself without Redis.
func TestMemQueue(t *testing.T) {
	queuetest.Run(t, func(t *testing.T) wasend.Queue {
		return newMemQueue(2, 3, "")
	}, queuetest.Options{DeadLetter: true, MinConcurrency: 2, Parallel: true})
}

// envBug names the bug of the queue that TestSuiteCatchesBugs runs the
// suite on, in a child process.
const envBug = "QUEUETEST_BUG"

// TestSuiteCatchesBugs runs the suite on queues that each break one rule of
// the contract, each in a child process (a failing suite fails its test),
// and checks that the suite fails, in the subtests that own the rule.
func TestSuiteCatchesBugs(t *testing.T) {
	if bug := os.Getenv(envBug); bug != "" {
		workers, attempts := 2, 3
		if bug == "no-retry" {
			attempts = 1
		}
		queuetest.Run(t, func(t *testing.T) wasend.Queue {
			return newMemQueue(workers, attempts, bug)
		}, queuetest.Options{DeadLetter: true, MinConcurrency: 2, Parallel: true,
			DeliveryTimeout: 2 * time.Second, RedeliveryTimeout: 2 * time.Second})
		return
	}
	for _, tc := range []struct {
		bug  string
		fail []string // subtests that must fail
	}{
		{"one-list", []string{"Routing", "TwoContexts"}},
		{"no-retry", []string{"Redelivery", "ConcurrentWorkers"}},
		{"cancel-handlers", []string{"Shutdown"}},
		{"no-wait", []string{"Shutdown"}},
		{"no-delay", []string{"Delay"}},
	} {
		t.Run(tc.bug, func(t *testing.T) {
			t.Parallel()
			suite.WantFail(t, "TestSuiteCatchesBugs", envBug, tc.bug, tc.fail)
		})
	}
}

// memQueue is a Queue in memory: one list of items per browser context,
// polled by the workers of its consumer. bug, if not empty, names a rule it
// breaks.
type memQueue struct {
	workers, attempts int
	bug               string

	mu        sync.Mutex
	items     map[int64][]*memItem
	inflight  map[int64]int64
	consuming map[int64]bool
	stats     wasend.QueueStats
}

type memItem struct {
	d        wasend.Delivery
	due      time.Time
	attempts int
}

func newMemQueue(workers, attempts int, bug string) *memQueue {
	return &memQueue{
		workers: workers, attempts: attempts, bug: bug,
		items: map[int64][]*memItem{}, inflight: map[int64]int64{}, consuming: map[int64]bool{},
	}
}

func (q *memQueue) key(id int64) int64 {
	if q.bug == "one-list" { // every context shares one list
		return 0
	}
	return id
}

func (q *memQueue) Enqueue(_ context.Context, d wasend.Delivery, delay time.Duration) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	k := q.key(d.ContextID)
	if q.bug == "no-delay" {
		delay = 0
	}
	q.items[k] = append(q.items[k], &memItem{d: d, due: time.Now().Add(delay)})
	return nil
}

func (q *memQueue) take(k int64) *memItem {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := time.Now()
	for i, it := range q.items[k] {
		if !it.due.After(now) {
			q.items[k] = append(q.items[k][:i], q.items[k][i+1:]...)
			q.inflight[k]++
			q.stats.InFlight++
			return it
		}
	}
	return nil
}

func (q *memQueue) done(k int64, it *memItem, err error, h wasend.Handler) {
	q.mu.Lock()
	q.inflight[k]--
	q.stats.InFlight--
	it.attempts++
	switch {
	case err == nil:
		q.stats.Processed++
	case it.attempts < q.attempts:
		q.stats.Retried++
		it.due = time.Now().Add(20 * time.Millisecond)
		q.items[k] = append(q.items[k], it)
	default:
		q.stats.Failed++
	}
	q.mu.Unlock()
	if dl, ok := h.(wasend.DeadLetterHandler); ok && err != nil && it.attempts >= q.attempts {
		dl.HandleDeadLetter(context.Background(), it.d, err)
	}
}

func (q *memQueue) Consume(ctx context.Context, contextID int64, h wasend.Handler) error {
	if ctx.Err() != nil {
		return nil
	}
	q.mu.Lock()
	if q.consuming[contextID] {
		q.mu.Unlock()
		return errors.New("already consuming")
	}
	q.consuming[contextID] = true
	q.stats.Consumers++
	q.mu.Unlock()
	k := q.key(contextID)
	var wg sync.WaitGroup
	for range q.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				it := q.take(k)
				if it == nil {
					time.Sleep(2 * time.Millisecond)
					continue
				}
				parent := context.WithoutCancel(ctx)
				if q.bug == "cancel-handlers" {
					parent = ctx
				}
				hctx, cancel := context.WithTimeout(parent, time.Minute)
				err := h.HandleDelivery(hctx, it.d)
				cancel()
				q.done(k, it, err, h)
			}
		}()
	}
	if q.bug == "no-wait" { // return with the handlers still running
		<-ctx.Done()
	} else {
		wg.Wait()
	}
	q.mu.Lock()
	delete(q.consuming, contextID)
	q.stats.Consumers--
	q.mu.Unlock()
	return nil
}

func (q *memQueue) Stats(context.Context) (wasend.QueueStats, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	st := q.stats
	now := time.Now()
	for _, items := range q.items {
		for _, it := range items {
			if it.due.After(now) {
				st.Delayed++
			} else {
				st.Waiting++
			}
		}
	}
	return st, nil
}

func (q *memQueue) Depth(_ context.Context, contextID int64) (int64, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	k := q.key(contextID)
	return int64(len(q.items[k])) + q.inflight[k], nil
}
