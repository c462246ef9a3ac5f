package redisqueue

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
)

// pendingOf returns the pending entries of the group of q's queue for
// contextID, by consumer.
func pendingOf(t testing.TB, rdb *redis.Client, q *Queue, contextID int64) map[string]int64 {
	t.Helper()
	p, err := rdb.XPending(context.Background(), streamKey(q.queueName(contextID)), streamGroup).Result()
	require.NoError(t, err)
	return p.Consumers
}

func consumerNames(t testing.TB, rdb *redis.Client, q *Queue, contextID int64) []string {
	t.Helper()
	cs, err := rdb.XInfoConsumers(context.Background(), streamKey(q.queueName(contextID)), streamGroup).Result()
	require.NoError(t, err)
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.Name
	}
	return names
}

// TestStopKeepsPendingEntries stops a consumer while a delivery it took waits
// in taskq's buffer and its only worker is stuck past the stop timeout.
// taskq's Queue.CloseTimeout would then delete the consumer with XGROUP
// DELCONSUMER and the delivery would be lost; the guard keeps the consumer,
// and a consumer of a new Queue gets the delivery after the reservation
// timeout.
func TestStopKeepsPendingEntries(t *testing.T) {
	forEachBackend(t, func(t *testing.T, bf func(testing.TB) backend) {
		b := bf(t)
		rdb := client(t, b)
		// Long enough for the steps below under a loaded CI machine.
		const reservation = 10 * time.Second
		opts := []Option{
			WithWorkers(1),
			WithHandlerTimeout(200 * time.Millisecond),
			WithReservationTimeout(reservation),
			WithSchedulerInterval(50 * time.Millisecond),
			withConfig(func(c *config) { c.stopGrace = 1200 * time.Millisecond }),
		}
		q1 := newTestQueue(t, b, opts...)
		ctx := context.Background()

		started := make(chan wasend.Delivery, 10)
		release := make(chan struct{})
		var releaseOnce sync.Once
		defer releaseOnce.Do(func() { close(release) })
		stop := consumeAsync(t, q1, 1, func(_ context.Context, d wasend.Delivery) error {
			started <- d
			<-release // ignores its ctx, past the handler timeout
			return nil
		})
		m1 := wasend.Delivery{JobID: 1, ContextID: 1, Kind: wasend.KindSingle}
		m2 := wasend.Delivery{JobID: 2, ContextID: 1, Kind: wasend.KindSingle}
		require.NoError(t, q1.Enqueue(ctx, m1, 0))
		require.NoError(t, q1.Enqueue(ctx, m2, 0))
		enqueued := time.Now()
		select {
		case d := <-started:
			require.Equal(t, m1, d)
		case <-time.After(10 * time.Second):
			t.Fatal("no delivery")
		}
		// m2 is taken too, and waits in taskq's buffer.
		require.Eventually(t, func() bool {
			var n int64
			for _, c := range pendingOf(t, rdb, q1, 1) {
				n += c
			}
			return n == 2
		}, 5*time.Second, 10*time.Millisecond)
		require.Len(t, consumerNames(t, rdb, q1, 1), 1)
		old := consumerNames(t, rdb, q1, 1)[0]

		stopped := make(chan error, 1)
		go func() { stopped <- stop() }()
		// The stop times out after 200 ms + 1.2 s; the handler returns later.
		time.Sleep(2 * time.Second)
		select {
		case err := <-stopped:
			t.Fatalf("Consume returned %v with a handler in flight", err)
		default:
		}
		releaseOnce.Do(func() { close(release) })
		require.NoError(t, <-stopped)
		require.Less(t, time.Since(enqueued), reservation, "too slow: the entries were reclaimed already")

		assert.Equal(t, map[string]int64{old: 1}, pendingOf(t, rdb, q1, 1),
			"m2 stays pending, owned by the stopped consumer")
		assert.Equal(t, []string{old}, consumerNames(t, rdb, q1, 1), "the consumer was not deleted")
		assert.Empty(t, started, "m2 was not handled")

		// A new consumer gets m2 once the reservation timeout has passed.
		q2 := newTestQueue(t, b, append(opts, WithPrefix(q1.cfg.prefix))...)
		got := make(chan wasend.Delivery, 10)
		consumeAsync(t, q2, 1, func(_ context.Context, d wasend.Delivery) error {
			got <- d
			return nil
		})
		select {
		case d := <-got:
			assert.Equal(t, m2, d)
			assert.GreaterOrEqual(t, time.Since(enqueued), reservation-50*time.Millisecond)
		case <-time.After(reservation + 10*time.Second):
			t.Fatal("the pending delivery was lost")
		}
	})
}

// TestStopDeletesIdleConsumer checks that a consumer stopped without pending
// entries is deleted from the group.
func TestStopDeletesIdleConsumer(t *testing.T) {
	forEachBackend(t, func(t *testing.T, bf func(testing.TB) backend) {
		b := bf(t)
		rdb := client(t, b)
		q := newTestQueue(t, b)
		got := make(chan struct{}, 1)
		stop := consumeAsync(t, q, 1, func(context.Context, wasend.Delivery) error {
			got <- struct{}{}
			return nil
		})
		require.NoError(t, q.Enqueue(context.Background(), wasend.Delivery{JobID: 1, ContextID: 1}, 0))
		select {
		case <-got:
		case <-time.After(10 * time.Second):
			t.Fatal("no delivery")
		}
		require.Len(t, consumerNames(t, rdb, q, 1), 1)
		require.NoError(t, stop())
		assert.Empty(t, consumerNames(t, rdb, q, 1))
	})
}

// TestFetcherReleaseDoesNotCrash drives taskq's fetcher into releasing a
// message it could not hand to a busy worker within 0.9 × the reservation
// timeout. taskq v3.2.9 does that with a nil ctx and crashes (#177); the
// guarded client's pipeline fills in the ctx. Every delivery is then handled
// at least once.
func TestFetcherReleaseDoesNotCrash(t *testing.T) {
	forEachBackend(t, func(t *testing.T, bf func(testing.TB) backend) {
		b := bf(t)
		q := newTestQueue(t, b,
			WithWorkers(1),
			WithHandlerTimeout(100*time.Millisecond),
			WithReservationTimeout(1500*time.Millisecond),
			WithSchedulerInterval(50*time.Millisecond),
		)
		var (
			mu   sync.Mutex
			seen = map[int64]int{}
		)
		first := make(chan struct{})
		var firstOnce sync.Once
		consumeAsync(t, q, 1, func(_ context.Context, d wasend.Delivery) error {
			mu.Lock()
			seen[d.JobID]++
			mu.Unlock()
			firstOnce.Do(func() {
				close(first)
				time.Sleep(2500 * time.Millisecond) // ignores its ctx
			})
			return nil
		})
		for j := int64(1); j <= 3; j++ {
			require.NoError(t, q.Enqueue(context.Background(), wasend.Delivery{JobID: j, ContextID: 1}, 0))
		}
		<-first
		require.Eventually(t, func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(seen) == 3
		}, 15*time.Second, 20*time.Millisecond, "all deliveries handled")
	})
}

// TestZombieCleanupKeepsPending checks taskq's zombie consumer cleanup with
// the guard: an idle consumer without pending entries is deleted, one with
// pending entries is kept until its entries were handed out again.
//
// Real Redis only: miniredis reports an idle time of -1 for consumers that
// only used XREADGROUP, so taskq never finds a zombie there.
func TestZombieCleanupKeepsPending(t *testing.T) {
	t.Parallel()
	b := realBackend(t)
	{
		rdb := client(t, b)
		const reservation = 2 * time.Second
		q := newTestQueue(t, b,
			WithHandlerTimeout(100*time.Millisecond),
			WithReservationTimeout(reservation),
			WithSchedulerInterval(20*time.Millisecond),
			withConfig(func(c *config) { c.consumerIdleTimeout = 200 * time.Millisecond }),
		)
		ctx := context.Background()
		stream := streamKey(q.queueName(1))
		m := wasend.Delivery{JobID: 77, ContextID: 1, Kind: wasend.KindBulk}
		require.NoError(t, q.Enqueue(ctx, m, 0))
		enqueued := time.Now()
		require.NoError(t, rdb.XGroupCreateMkStream(ctx, stream, streamGroup, "0").Err())
		// "zombie" takes the delivery and dies; "empty" never took anything.
		_, err := rdb.XReadGroup(ctx, &redis.XReadGroupArgs{
			Group: streamGroup, Consumer: "zombie", Streams: []string{stream, ">"}, Count: 1, Block: -1,
		}).Result()
		require.NoError(t, err)
		require.NoError(t, rdb.XGroupCreateConsumer(ctx, stream, streamGroup, "empty").Err())
		require.ElementsMatch(t, []string{"empty", "zombie"}, consumerNames(t, rdb, q, 1))
		time.Sleep(300 * time.Millisecond)

		got := make(chan wasend.Delivery, 10)
		consumeAsync(t, q, 1, func(_ context.Context, d wasend.Delivery) error {
			got <- d
			return nil
		})
		require.Eventually(t, func() bool {
			names := consumerNames(t, rdb, q, 1)
			return !contains(names, "empty")
		}, 5*time.Second, 20*time.Millisecond, "the idle consumer without pending entries is deleted")
		if time.Since(enqueued) < reservation-200*time.Millisecond {
			assert.Contains(t, consumerNames(t, rdb, q, 1), "zombie", "the consumer with a pending entry is kept")
			assert.Equal(t, int64(1), pendingOf(t, rdb, q, 1)["zombie"])
		}
		select {
		case d := <-got:
			assert.Equal(t, m, d)
		case <-time.After(reservation + 10*time.Second):
			t.Fatal("the zombie's delivery was lost")
		}
		require.Eventually(t, func() bool {
			return !contains(consumerNames(t, rdb, q, 1), "zombie")
		}, 5*time.Second, 20*time.Millisecond, "the zombie is deleted once it has no pending entry")
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
