package redisqueue

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/queuetest"
)

// conformanceOptions make retries fast enough for the suite.
var conformanceOptions = []Option{
	WithRetry(3, 50*time.Millisecond, 200*time.Millisecond),
	WithHandlerTimeout(30 * time.Second),
}

func TestConformance(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b func(testing.TB) backend) {
		queuetest.Run(t, func(t *testing.T) wasend.Queue {
			return newTestQueue(t, b(t), conformanceOptions...)
		}, queuetest.Options{
			DeadLetter:     true,
			MinConcurrency: DefaultWorkers,
			Parallel:       true,
		})
	})
}

func TestCloseIdempotentAndErrClosed(t *testing.T) {
	t.Parallel()
	b := miniBackend(t)
	q := newTestQueue(t, b)
	ctx := context.Background()
	require.NoError(t, q.Enqueue(ctx, wasend.Delivery{JobID: 1, ContextID: 1, Kind: wasend.KindSingle}, 0))
	stop := consumeAsync(t, q, 1, func(context.Context, wasend.Delivery) error { return nil })
	require.Eventually(t, func() bool {
		st, err := q.Stats(ctx)
		return err == nil && st.Consumers == 1
	}, 5*time.Second, 10*time.Millisecond)

	require.NoError(t, q.Close())
	require.NoError(t, stop(), "Close makes Consume return nil")
	require.NoError(t, q.Close())

	err := q.Enqueue(ctx, wasend.Delivery{JobID: 2, ContextID: 1}, 0)
	assert.ErrorIs(t, err, wasend.ErrClosed)
	err = q.Consume(ctx, 1, wasend.HandlerFunc(func(context.Context, wasend.Delivery) error { return nil }))
	assert.ErrorIs(t, err, wasend.ErrClosed)
	_, err = q.Depth(ctx, 1)
	assert.ErrorIs(t, err, wasend.ErrClosed)
	_, err = q.Stats(ctx)
	assert.ErrorIs(t, err, wasend.ErrClosed)
	_, err = q.Acquire(ctx, 1, "p1", time.Second)
	assert.ErrorIs(t, err, wasend.ErrClosed)
	err = q.Release(ctx, 1, "p1")
	assert.ErrorIs(t, err, wasend.ErrClosed)
	_, err = q.Holders(ctx, []int64{1})
	assert.ErrorIs(t, err, wasend.ErrClosed)
	err = q.Purge(ctx, 1)
	assert.ErrorIs(t, err, wasend.ErrClosed)
}

func TestCloseConcurrent(t *testing.T) {
	t.Parallel()
	q := newTestQueue(t, miniBackend(t))
	errs := make(chan error, 4)
	for range 4 {
		go func() { errs <- q.Close() }()
	}
	for range 4 {
		require.NoError(t, <-errs)
	}
}

func TestWithClientIsNotClosed(t *testing.T) {
	t.Parallel()
	b := miniBackend(t)
	rdb := client(t, b)
	q, err := New(WithClient(rdb), WithPrefix(uniquePrefix()))
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, q.Enqueue(ctx, wasend.Delivery{JobID: 1, ContextID: 7, Kind: wasend.KindSingle}, 0))

	got := make(chan wasend.Delivery, 1)
	stop := consumeAsync(t, q, 7, func(_ context.Context, d wasend.Delivery) error {
		got <- d
		return nil
	})
	select {
	case d := <-got:
		assert.Equal(t, wasend.Delivery{JobID: 1, ContextID: 7, Kind: wasend.KindSingle}, d)
	case <-time.After(10 * time.Second):
		t.Fatal("no delivery through the derived v8 client")
	}
	require.NoError(t, stop())
	require.NoError(t, q.Close())
	require.NoError(t, rdb.Ping(ctx).Err(), "the caller's client must stay open")
}

func TestConsumeTwice(t *testing.T) {
	t.Parallel()
	q := newTestQueue(t, miniBackend(t))
	block := make(chan struct{})
	defer close(block)
	stop := consumeAsync(t, q, 3, func(context.Context, wasend.Delivery) error { return nil })
	require.Eventually(t, func() bool {
		st, err := q.Stats(context.Background())
		return err == nil && st.Consumers == 1
	}, 5*time.Second, 10*time.Millisecond)

	err := q.Consume(context.Background(), 3, wasend.HandlerFunc(func(context.Context, wasend.Delivery) error { return nil }))
	require.ErrorIs(t, err, ErrConsuming)
	require.NoError(t, stop())

	// Once stopped, the context can be consumed again.
	stop = consumeAsync(t, q, 3, func(context.Context, wasend.Delivery) error { return nil })
	require.NoError(t, stop())
}

func TestUnreachableRedis(t *testing.T) {
	t.Parallel()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialerRetries: 1})
	defer rdb.Close()
	q, err := New(WithClient(rdb), WithPrefix(uniquePrefix()))
	require.NoError(t, err)
	defer q.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	err = q.Enqueue(ctx, wasend.Delivery{JobID: 1, ContextID: 1}, 0)
	assert.ErrorIs(t, err, wasend.ErrQueue)
	err = q.Enqueue(ctx, wasend.Delivery{JobID: 1, ContextID: 1}, time.Second)
	assert.ErrorIs(t, err, wasend.ErrQueue)
	err = q.Consume(ctx, 1, wasend.HandlerFunc(func(context.Context, wasend.Delivery) error { return nil }))
	assert.ErrorIs(t, err, wasend.ErrQueue)
	_, err = q.Depth(ctx, 1)
	assert.ErrorIs(t, err, wasend.ErrQueue)
	_, err = q.Stats(ctx)
	assert.ErrorIs(t, err, wasend.ErrQueue)
	assert.True(t, wasend.Retryable(err))
	_, err = q.Acquire(ctx, 1, "p1", time.Second)
	assert.ErrorIs(t, err, wasend.ErrQueue)
	err = q.Release(ctx, 1, "p1")
	assert.ErrorIs(t, err, wasend.ErrQueue)
	_, err = q.Holders(ctx, []int64{1})
	assert.ErrorIs(t, err, wasend.ErrQueue)
	err = q.Purge(ctx, 1)
	assert.ErrorIs(t, err, wasend.ErrQueue)
}

func TestStatsCounts(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b func(testing.TB) backend) {
		q := newTestQueue(t, b(t), WithRetry(2, 10*time.Millisecond, 10*time.Millisecond))
		ctx := context.Background()
		// An unconsumed context: 2 waiting, 1 delayed.
		require.NoError(t, q.Enqueue(ctx, wasend.Delivery{JobID: 1, ContextID: 10}, 0))
		require.NoError(t, q.Enqueue(ctx, wasend.Delivery{JobID: 2, ContextID: 10}, 0))
		require.NoError(t, q.Enqueue(ctx, wasend.Delivery{JobID: 3, ContextID: 10}, time.Hour))
		st, err := q.Stats(ctx)
		require.NoError(t, err)
		assert.Equal(t, wasend.QueueStats{Waiting: 2, Delayed: 1}, st)

		// A consumed context: job 1 succeeds, job 2 fails twice (one retry,
		// then given up on).
		var dead atomic.Int32
		h := &deadLetterFunc{
			handle: func(_ context.Context, d wasend.Delivery) error {
				if d.JobID == 2 {
					return errors.New("boom")
				}
				return nil
			},
			dead: func(context.Context, wasend.Delivery, error) { dead.Add(1) },
		}
		cctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- q.Consume(cctx, 11, h) }()
		require.NoError(t, q.Enqueue(ctx, wasend.Delivery{JobID: 1, ContextID: 11}, 0))
		require.NoError(t, q.Enqueue(ctx, wasend.Delivery{JobID: 2, ContextID: 11}, 0))
		require.Eventually(t, func() bool { return dead.Load() == 1 }, 15*time.Second, 10*time.Millisecond)
		require.Eventually(t, func() bool {
			st, err = q.Stats(ctx)
			require.NoError(t, err)
			return st.Processed == 1 && st.Failed == 1 && st.InFlight == 0
		}, 5*time.Second, 10*time.Millisecond)
		assert.Equal(t, wasend.QueueStats{Waiting: 2, Delayed: 1, Processed: 1, Retried: 1, Failed: 1, Consumers: 1}, st)

		cancel()
		require.NoError(t, <-done)
		st, err = q.Stats(ctx)
		require.NoError(t, err)
		assert.Equal(t, wasend.QueueStats{Waiting: 2, Delayed: 1, Processed: 1, Retried: 1, Failed: 1}, st,
			"the counters of a stopped consumer are kept")
	})
}

type deadLetterFunc struct {
	handle func(context.Context, wasend.Delivery) error
	dead   func(context.Context, wasend.Delivery, error)
}

func (h *deadLetterFunc) HandleDelivery(ctx context.Context, d wasend.Delivery) error {
	return h.handle(ctx, d)
}

func (h *deadLetterFunc) HandleDeadLetter(ctx context.Context, d wasend.Delivery, err error) {
	h.dead(ctx, d, err)
}

func TestHandlerPanicIsRetried(t *testing.T) {
	t.Parallel()
	q := newTestQueue(t, miniBackend(t), WithRetry(3, 10*time.Millisecond, 10*time.Millisecond))
	var calls atomic.Int32
	got := make(chan struct{}, 1)
	consumeAsync(t, q, 5, func(context.Context, wasend.Delivery) error {
		if calls.Add(1) == 1 {
			panic("boom")
		}
		got <- struct{}{}
		return nil
	})
	require.NoError(t, q.Enqueue(context.Background(), wasend.Delivery{JobID: 9, ContextID: 5}, 0))
	select {
	case <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("no retry after a panic")
	}
	assert.Equal(t, int32(2), calls.Load())
}

func TestHandlerTimeout(t *testing.T) {
	t.Parallel()
	// A long timeout, so that the minute of margin below holds on a loaded
	// machine; it stays under the default reservation timeout (1 hour).
	const timeout = 30 * time.Minute
	q := newTestQueue(t, miniBackend(t), WithHandlerTimeout(timeout))
	deadline := make(chan time.Duration, 1)
	consumeAsync(t, q, 6, func(ctx context.Context, _ wasend.Delivery) error {
		dl, ok := ctx.Deadline()
		require.True(t, ok)
		deadline <- time.Until(dl)
		return nil
	})
	require.NoError(t, q.Enqueue(context.Background(), wasend.Delivery{JobID: 1, ContextID: 6}, 0))
	select {
	case d := <-deadline:
		assert.LessOrEqual(t, d, timeout)
		assert.Greater(t, d, timeout-time.Minute)
	case <-time.After(10 * time.Second):
		t.Fatal("no delivery")
	}
}

// TestQueueKeys checks the names and keys shared with taskq.
func TestQueueKeys(t *testing.T) {
	t.Parallel()
	b := miniBackend(t)
	q := newTestQueue(t, b)
	rdb := client(t, b)
	ctx := context.Background()
	name := q.QueueName(42)
	assert.Regexp(t, `^wqt[0-9a-z]+-ctx-42$`, name)
	require.NoError(t, q.Enqueue(ctx, wasend.Delivery{JobID: 1, ContextID: 42}, 0))
	require.NoError(t, q.Enqueue(ctx, wasend.Delivery{JobID: 1, ContextID: 42}, time.Hour))
	require.NoError(t, q.Enqueue(ctx, wasend.Delivery{JobID: 1, ContextID: 42}, time.Hour))
	n, err := rdb.XLen(ctx, "taskq:{"+name+"}:stream").Result()
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)
	n, err = rdb.ZCard(ctx, "taskq:{"+name+"}:zset").Result()
	require.NoError(t, err)
	assert.Equal(t, int64(2), n, "equal delayed deliveries stay apart in the sorted set")
	depth, err := q.Depth(ctx, 42)
	require.NoError(t, err)
	assert.Equal(t, int64(3), depth)
}
