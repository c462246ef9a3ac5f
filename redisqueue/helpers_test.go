package redisqueue

import (
	"context"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
)

// withConfig changes settings that have no option (test-only).
func withConfig(f func(*config)) Option { return func(c *config) { f(c) } }

// backend is a Redis server for one test.
type backend struct {
	name string
	addr string
	mr   *miniredis.Miniredis // nil on a real Redis
}

// advance lets d pass for the TTLs of b: miniredis's clock is moved, a real
// Redis is waited for.
func (b backend) advance(d time.Duration) {
	if b.mr != nil {
		b.mr.FastForward(d)
		return
	}
	time.Sleep(d)
}

// miniBackend starts a miniredis server for t.
func miniBackend(t testing.TB) backend {
	t.Helper()
	mr := miniredis.RunT(t)
	return backend{name: "miniredis", addr: mr.Addr(), mr: mr}
}

// realRedisAddr returns the address of the Redis of the integration tests,
// from WASEND_TEST_REDIS. Unset, it skips t, or fails it under CI=true.
func realRedisAddr(t testing.TB) string {
	t.Helper()
	addr := os.Getenv("WASEND_TEST_REDIS")
	if addr == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("WASEND_TEST_REDIS is not set, and CI=true requires the Redis integration tests")
		}
		t.Skip("WASEND_TEST_REDIS is not set; set it (e.g. 127.0.0.1:6379) to run the tests on a real Redis")
	}
	return addr
}

func realBackend(t testing.TB) backend {
	t.Helper()
	return backend{name: "redis", addr: realRedisAddr(t)}
}

// backends returns the back ends to run a test on: miniredis always, the
// real Redis when WASEND_TEST_REDIS is set (a sub-test skips or fails
// otherwise).
func forEachBackend(t *testing.T, fn func(t *testing.T, b func(testing.TB) backend)) {
	t.Parallel()
	t.Run("miniredis", func(t *testing.T) {
		t.Parallel()
		fn(t, miniBackend)
	})
	t.Run("redis", func(t *testing.T) {
		t.Parallel()
		realRedisAddr(t)
		fn(t, realBackend)
	})
}

// uniquePrefix returns a queue prefix no other test uses.
func uniquePrefix() string {
	return "wqt" + strconv.FormatUint(rand.Uint64(), 36)
}

// newTestQueue returns a Queue on b with a unique prefix, closed and whose
// keys are deleted at cleanup.
func newTestQueue(t testing.TB, b backend, opts ...Option) *Queue {
	t.Helper()
	prefix := uniquePrefix()
	all := append([]Option{WithAddr(b.addr), WithPrefix(prefix)}, opts...)
	q, err := New(all...)
	require.NoError(t, err)
	t.Cleanup(func() {
		require.NoError(t, q.Close())
		cleanupKeys(t, b.addr, prefix)
	})
	return q
}

// cleanupKeys deletes the keys of the queues named prefix-*, and the
// leases of their contexts.
func cleanupKeys(t testing.TB, addr, prefix string) {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, pattern := range []string{"taskq:{" + prefix + "-*", "taskq:" + prefix + "-*", prefix + ":lease:*"} {
		iter := rdb.Scan(ctx, 0, pattern, 1000).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if err := iter.Err(); err != nil {
			t.Logf("cleanup: scan %s: %v", pattern, err)
			return
		}
		if len(keys) > 0 {
			if err := rdb.Del(ctx, keys...).Err(); err != nil {
				t.Logf("cleanup: del: %v", err)
			}
		}
	}
}

// client returns a v9 client to b, closed at cleanup.
func client(t testing.TB, b backend) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: b.addr})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// consumeAsync runs q.Consume in a goroutine; the returned stop cancels it
// and returns its result. stop also runs at cleanup.
func consumeAsync(t testing.TB, q *Queue, contextID int64, h func(ctx context.Context, d wasend.Delivery) error) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- q.Consume(ctx, contextID, wasend.HandlerFunc(h)) }()
	var (
		stopped bool
		result  error
	)
	stop = func() error {
		if stopped {
			return result
		}
		stopped = true
		cancel()
		select {
		case result = <-done:
		case <-time.After(60 * time.Second):
			t.Errorf("Consume(%d) did not return", contextID)
		}
		return result
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}
