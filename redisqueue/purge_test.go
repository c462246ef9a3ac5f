package redisqueue

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	redisv8 "github.com/go-redis/redis/v8"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
)

// drain returns what ch holds now.
func drain(ch chan int64) []int64 {
	var out []int64
	for {
		select {
		case v := <-ch:
			out = append(out, v)
		default:
			return out
		}
	}
}

// pendingCount returns the number of pending entries of the group of q's
// queue for contextID; a missing stream or group has none.
func pendingCount(t testing.TB, rdb *redis.Client, q *Queue, contextID int64) int64 {
	t.Helper()
	p, err := rdb.XPending(context.Background(), streamKey(q.queueName(contextID)), streamGroup).Result()
	if isNoGroup(err) {
		return 0
	}
	require.NoError(t, err)
	return p.Count
}

// TestPurge purges a consumed context that holds waiting, delayed and in
// flight deliveries, one taken by the consumer but not yet handed to its
// handler, from the consuming Queue or from another one (another process).
// Nothing may survive: no key entry, no pending entry, no delivery after
// the Purge (the in flight one is not retried, whatever its handler
// returns), and the consumer goes on, without spinning, with what is
// enqueued later.
func TestPurge(t *testing.T) {
	for _, tc := range []struct {
		name    string
		other   bool  // purge from another Queue
		handler error // what the in flight handler returns after the Purge
	}{
		{name: "here, in flight handler succeeds"},
		{name: "another process, in flight handler fails", other: true, handler: errors.New("boom")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			forEachBackend(t, func(t *testing.T, bf func(testing.TB) backend) {
				testPurge(t, bf(t), tc.other, tc.handler)
			})
		})
	}
}

func testPurge(t *testing.T, b backend, other bool, handlerErr error) {
	const id = 1
	rdb := client(t, b)
	ctx := context.Background()
	q := newTestQueue(t, b,
		WithWorkers(1),
		WithRetry(3, 10*time.Millisecond, 10*time.Millisecond),
		WithSchedulerInterval(20*time.Millisecond),
		WithHandlerTimeout(30*time.Second),
	)
	purger := q
	if other {
		purger = newTestQueue(t, b, WithPrefix(q.cfg.prefix))
	}

	got := make(chan int64, 100)
	dead := make(chan int64, 100)
	release := make(chan struct{})
	var releaseOnce sync.Once
	defer releaseOnce.Do(func() { close(release) })
	h := &deadLetterFunc{
		handle: func(_ context.Context, d wasend.Delivery) error {
			got <- d.JobID
			if d.JobID == 1 {
				<-release
				return handlerErr
			}
			return nil
		},
		dead: func(_ context.Context, d wasend.Delivery, _ error) { dead <- d.JobID },
	}
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- q.Consume(cctx, id, h) }()
	defer func() {
		releaseOnce.Do(func() { close(release) })
		cancel()
		require.NoError(t, <-done)
	}()

	// Job 1 in flight, job 2 in taskq's buffer, job 3 taken by the fetcher
	// (pending, not yet handed out), job 4 waiting, job 5 delayed.
	require.NoError(t, q.Enqueue(ctx, wasend.Delivery{JobID: 1, ContextID: id}, 0))
	select {
	case j := <-got:
		require.Equal(t, int64(1), j)
	case <-time.After(10 * time.Second):
		t.Fatal("no delivery")
	}
	for j := int64(2); j <= 4; j++ {
		require.NoError(t, q.Enqueue(ctx, wasend.Delivery{JobID: j, ContextID: id}, 0))
	}
	require.NoError(t, q.Enqueue(ctx, wasend.Delivery{JobID: 5, ContextID: id}, time.Hour))
	require.Eventually(t, func() bool { return pendingCount(t, rdb, q, id) == 3 }, 5*time.Second, 5*time.Millisecond,
		"jobs 1 to 3 are taken")
	depth, err := q.Depth(ctx, id)
	require.NoError(t, err)
	require.Equal(t, int64(5), depth)
	ok, err := q.Acquire(ctx, id, "p1", time.Minute)
	require.NoError(t, err)
	require.True(t, ok)

	require.NoError(t, purger.Purge(ctx, id))

	stream, zset := streamKey(q.queueName(id)), zsetKey(q.queueName(id))
	check := func(when string) {
		t.Helper()
		n, err := rdb.XLen(ctx, stream).Result()
		require.NoError(t, err)
		assert.Zero(t, n, "XLEN %s", when)
		n, err = rdb.ZCard(ctx, zset).Result()
		require.NoError(t, err)
		assert.Zero(t, n, "ZCARD %s", when)
		assert.Zero(t, pendingCount(t, rdb, q, id), "XPENDING %s", when)
		depth, err := q.Depth(ctx, id)
		require.NoError(t, err)
		assert.Zero(t, depth, "Depth %s", when)
	}
	check("after the Purge")
	held, err := q.Holders(ctx, []int64{id})
	require.NoError(t, err)
	assert.Equal(t, map[int64]string{id: "p1"}, held, "Purge leaves the lease alone")

	// The in flight handler returns; jobs 2 and 3, which the consumer took
	// before the Purge, are skipped.
	releaseOnce.Do(func() { close(release) })
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		st, err := q.Stats(ctx)
		require.NoError(c, err)
		assert.Equal(c, int64(3), st.Processed, "jobs 1 to 3 acknowledged")
		assert.Zero(c, st.InFlight)
	}, 10*time.Second, 5*time.Millisecond)
	st, err := q.Stats(ctx)
	require.NoError(t, err)
	assert.Zero(t, st.Retried, "the purged in flight delivery is not retried")
	assert.Zero(t, st.Failed)
	check("after the handler returned")

	// No delivery comes back, and the consumer does not spin: it sends about
	// its idle load (three scheduler loops every 20 to 520 ms, and a read
	// every 250 ms), not thousands of commands a second.
	q.mu.Lock()
	c := q.consumers[id]
	q.mu.Unlock()
	require.NotNil(t, c)
	sent0 := c.client.sent.Load()
	time.Sleep(time.Second)
	sent := c.client.sent.Load() - sent0
	t.Logf("%s: the consumer sent %d commands in the second after the Purge", b.name, sent)
	assert.Less(t, sent, int64(300), "commands in 1 s")
	assert.Empty(t, drain(got), "deliveries after the Purge")
	assert.Empty(t, drain(dead), "dead letters after the Purge")
	check("1 s later")

	// The consumer goes on with what is enqueued later.
	require.NoError(t, q.Enqueue(ctx, wasend.Delivery{JobID: 6, ContextID: id}, 0))
	require.NoError(t, purger.Enqueue(ctx, wasend.Delivery{JobID: 7, ContextID: id}, 50*time.Millisecond))
	for _, want := range []int64{6, 7} {
		select {
		case j := <-got:
			assert.Equal(t, want, j)
		case <-time.After(10 * time.Second):
			t.Fatalf("job %d enqueued after the Purge was not delivered", want)
		}
	}
	require.Eventually(t, func() bool {
		depth, err := q.Depth(ctx, id)
		require.NoError(t, err)
		return depth == 0
	}, 5*time.Second, 5*time.Millisecond)
	assert.Empty(t, drain(got))
	assert.Empty(t, drain(dead))
}

// TestPurgeIdleConsumer purges a context whose consumer waits in a blocking
// XREADGROUP (see TestGuardedClientAfterPurge), and checks that a delivery
// enqueued right after the Purge arrives.
func TestPurgeIdleConsumer(t *testing.T) {
	forEachBackend(t, func(t *testing.T, bf func(testing.TB) backend) {
		b := bf(t)
		q := newTestQueue(t, b)
		ctx := context.Background()
		const id = 3
		got := make(chan int64, 10)
		consumeAsync(t, q, id, func(_ context.Context, d wasend.Delivery) error {
			got <- d.JobID
			return nil
		})
		for j := int64(1); j <= 3; j++ {
			require.NoError(t, q.Enqueue(ctx, wasend.Delivery{JobID: j, ContextID: id}, 0))
			select {
			case v := <-got:
				require.Equal(t, j, v)
			case <-time.After(10 * time.Second):
				t.Fatalf("job %d was not delivered", j)
			}
			time.Sleep(100 * time.Millisecond) // the fetcher blocks again

			require.NoError(t, q.Purge(ctx, id))
			start := time.Now()
			require.NoError(t, q.Enqueue(ctx, wasend.Delivery{JobID: 10 + j, ContextID: id}, 0))
			select {
			case v := <-got:
				require.Equal(t, 10+j, v)
				t.Logf("%s: delivered %s after the Purge", b.name, time.Since(start))
			case <-time.After(10 * time.Second):
				t.Fatalf("job %d, enqueued after the Purge, was not delivered", 10+j)
			}
		}
	})
}

// TestPurgeUnconsumed purges a context that no process consumes: no key is
// left, and a consumer started later gets only what is enqueued after.
func TestPurgeUnconsumed(t *testing.T) {
	forEachBackend(t, func(t *testing.T, bf func(testing.TB) backend) {
		b := bf(t)
		rdb := client(t, b)
		q := newTestQueue(t, b)
		ctx := context.Background()
		const id = 2
		require.NoError(t, q.Purge(ctx, id), "purging an empty context is fine")

		require.NoError(t, q.Enqueue(ctx, wasend.Delivery{JobID: 1, ContextID: id}, 0))
		require.NoError(t, q.Enqueue(ctx, wasend.Delivery{JobID: 2, ContextID: id}, time.Hour))
		// A consumer that stopped leaves the group behind.
		require.NoError(t, rdb.XGroupCreateMkStream(ctx, streamKey(q.queueName(id)), streamGroup, "0").Err())
		require.NoError(t, q.Enqueue(ctx, wasend.Delivery{JobID: 3, ContextID: id}, 0))
		st, err := q.Stats(ctx)
		require.NoError(t, err)
		require.Equal(t, wasend.QueueStats{Waiting: 2, Delayed: 1}, st)

		require.NoError(t, q.Purge(ctx, id))
		n, err := rdb.Exists(ctx, streamKey(q.queueName(id)), zsetKey(q.queueName(id))).Result()
		require.NoError(t, err)
		assert.Zero(t, n, "no key is left")
		st, err = q.Stats(ctx)
		require.NoError(t, err)
		assert.Equal(t, wasend.QueueStats{}, st)

		got := make(chan int64, 10)
		consumeAsync(t, q, id, func(_ context.Context, d wasend.Delivery) error {
			got <- d.JobID
			return nil
		})
		require.NoError(t, q.Enqueue(ctx, wasend.Delivery{JobID: 4, ContextID: id}, 0))
		select {
		case j := <-got:
			assert.Equal(t, int64(4), j)
		case <-time.After(10 * time.Second):
			t.Fatal("no delivery after the Purge")
		}
	})
}

// TestGuardedClientAfterPurge checks the v8 client's answers to taskq while
// a stream is deleted under it. A blocking XREADGROUP ends at once: on
// Redis with "UNBLOCKED the stream key no longer exists", which taskq's
// fetcher would log before sleeping for a second, and which the client turns
// into an empty read (redis.Nil); on miniredis with NOGROUP. XINFO
// CONSUMERS of the missing stream lists no consumer instead of failing.
func TestGuardedClientAfterPurge(t *testing.T) {
	forEachBackend(t, func(t *testing.T, bf func(testing.TB) backend) {
		b := bf(t)
		rdb := client(t, b)
		ctx := context.Background()
		stream := streamKey(uniquePrefix() + "-ctx-1")
		t.Cleanup(func() { rdb.Del(context.Background(), stream) })
		require.NoError(t, rdb.XGroupCreateMkStream(ctx, stream, streamGroup, "0").Err())
		name := uniquePrefix() // of the reading connection, to find it in CLIENT LIST
		opt := v8Options(rdb.Options(), 4)
		opt.OnConnect = func(ctx context.Context, cn *redisv8.Conn) error {
			return cn.ClientSetName(ctx, name).Err()
		}
		g := newGuardedClient(opt, 1, slog.New(slog.DiscardHandler))
		defer g.Close()

		type result struct {
			err error
			end time.Time
		}
		// The read blocks for a minute unless the Purge ends it: the check
		// below compares with that minute, not with a moment, so that a
		// loaded machine cannot fail it.
		const block = time.Minute
		done := make(chan result, 1)
		go func() {
			err := g.XReadGroup(ctx, &redisv8.XReadGroupArgs{
				Group: streamGroup, Consumer: "c1", Streams: []string{stream, ">"}, Count: 1, Block: block,
			}).Err()
			done <- result{err, time.Now()}
		}()
		if b.mr == nil {
			require.Eventually(t, func() bool {
				list, err := rdb.ClientList(ctx).Result()
				require.NoError(t, err)
				for _, line := range strings.Split(list, "\n") {
					if strings.Contains(line, " name="+name+" ") && strings.Contains(line, " flags=b ") && strings.Contains(line, " cmd=xreadgroup") {
						return true
					}
				}
				return false
			}, 5*time.Second, 5*time.Millisecond, "the read blocks")
		} else {
			time.Sleep(100 * time.Millisecond) // miniredis answers NOGROUP either way
		}
		purged := time.Now()
		require.NoError(t, rdb.Del(ctx, stream).Err())
		r := <-done
		assert.Less(t, r.end.Sub(purged), block/2, "the blocked read ended with the Purge")
		if b.mr == nil {
			assert.ErrorIs(t, r.err, redisv8.Nil, "UNBLOCKED is an empty read")
		} else {
			assert.True(t, isNoGroup(r.err), "miniredis: got %v, want NOGROUP", r.err)
		}

		cs, err := g.XInfoConsumers(ctx, stream, streamGroup).Result()
		require.NoError(t, err)
		assert.Empty(t, cs)
		require.NoError(t, rdb.XAdd(ctx, &redis.XAddArgs{Stream: stream, Values: []any{"body", "x"}}).Err())
		cs, err = g.XInfoConsumers(ctx, stream, streamGroup).Result()
		require.NoError(t, err, "a stream without the group")
		assert.Empty(t, cs)
	})
}
