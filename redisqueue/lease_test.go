package redisqueue

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
)

// hashTag returns the part of key that Redis Cluster hashes: what is
// between the first "{" and the next "}", if not empty.
func hashTag(key string) string {
	_, rest, ok := strings.Cut(key, "{")
	if !ok {
		return key
	}
	tag, _, ok := strings.Cut(rest, "}")
	if !ok || tag == "" {
		return key
	}
	return tag
}

func TestLease(t *testing.T) {
	forEachBackend(t, func(t *testing.T, bf func(testing.TB) backend) {
		b := bf(t)
		q := newTestQueue(t, b)
		rdb := client(t, b)
		ctx := context.Background()
		owner := func(t *testing.T, id int64) string {
			t.Helper()
			held, err := q.Holders(ctx, []int64{id})
			require.NoError(t, err)
			return held[id]
		}
		pttl := func(t *testing.T, id int64) time.Duration {
			t.Helper()
			d, err := rdb.PTTL(ctx, q.leaseKey(id)).Result()
			require.NoError(t, err)
			return d
		}

		t.Run("acquire a free lease", func(t *testing.T) {
			// TTLs of minutes: the margins below hold on a loaded machine.
			ok, err := q.Acquire(ctx, 1, "p1", 10*time.Minute)
			require.NoError(t, err)
			assert.True(t, ok)
			assert.Equal(t, "p1", owner(t, 1))
			d := pttl(t, 1)
			assert.Greater(t, d, 9*time.Minute)
			assert.LessOrEqual(t, d, 10*time.Minute)
		})

		t.Run("acquire a lease held by another owner", func(t *testing.T) {
			ok, err := q.Acquire(ctx, 1, "p2", time.Hour)
			require.NoError(t, err)
			assert.False(t, ok)
			assert.Equal(t, "p1", owner(t, 1))
			assert.LessOrEqual(t, pttl(t, 1), 10*time.Minute, "the other owner did not extend it")
		})

		t.Run("acquire an own lease extends it", func(t *testing.T) {
			ok, err := q.Acquire(ctx, 1, "p1", time.Hour)
			require.NoError(t, err)
			assert.True(t, ok)
			assert.Greater(t, pttl(t, 1), 50*time.Minute)
			assert.Equal(t, "p1", owner(t, 1))
		})

		t.Run("expiry frees the lease", func(t *testing.T) {
			ok, err := q.Acquire(ctx, 2, "p1", 100*time.Millisecond)
			require.NoError(t, err)
			require.True(t, ok)
			b.advance(250 * time.Millisecond)
			assert.Empty(t, owner(t, 2))
			ok, err = q.Acquire(ctx, 2, "p2", time.Minute)
			require.NoError(t, err)
			assert.True(t, ok, "another owner takes an expired lease")
			assert.Equal(t, "p2", owner(t, 2))
		})

		t.Run("renewal takes back a lost lease", func(t *testing.T) {
			ok, err := q.Acquire(ctx, 3, "p1", time.Minute)
			require.NoError(t, err)
			require.True(t, ok)
			require.NoError(t, rdb.Del(ctx, q.leaseKey(3)).Err()) // a Redis restart lost it
			ok, err = q.Acquire(ctx, 3, "p1", time.Minute)
			require.NoError(t, err)
			assert.True(t, ok)
			assert.Equal(t, "p1", owner(t, 3))
		})

		t.Run("release", func(t *testing.T) {
			ok, err := q.Acquire(ctx, 4, "p1", time.Minute)
			require.NoError(t, err)
			require.True(t, ok)
			require.NoError(t, q.Release(ctx, 4, "p2"))
			assert.Equal(t, "p1", owner(t, 4), "a release by another owner does nothing")
			require.NoError(t, q.Release(ctx, 4, "p1"))
			assert.Empty(t, owner(t, 4))
			n, err := rdb.Exists(ctx, q.leaseKey(4)).Result()
			require.NoError(t, err)
			assert.Zero(t, n, "the key is deleted")
			require.NoError(t, q.Release(ctx, 4, "p1"), "releasing a free lease is fine")
			ok, err = q.Acquire(ctx, 4, "p2", time.Minute)
			require.NoError(t, err)
			assert.True(t, ok, "a released lease is free")
		})

		t.Run("holders", func(t *testing.T) {
			for id, o := range map[int64]string{10: "p1", 11: "p2", 12: "p1"} {
				ok, err := q.Acquire(ctx, id, o, time.Minute)
				require.NoError(t, err)
				require.True(t, ok)
			}
			held, err := q.Holders(ctx, []int64{10, 11, 12, 13, 10})
			require.NoError(t, err)
			assert.Equal(t, map[int64]string{10: "p1", 11: "p2", 12: "p1"}, held)
			held, err = q.Holders(ctx, nil)
			require.NoError(t, err)
			assert.Empty(t, held)

			ids := make([]int64, 2500) // more than one pipeline
			for i := range ids {
				ids[i] = int64(1000 + i)
			}
			ids[2400] = 11
			held, err = q.Holders(ctx, ids)
			require.NoError(t, err)
			assert.Equal(t, map[int64]string{11: "p2"}, held)
		})

		t.Run("concurrent acquire", func(t *testing.T) {
			const n = 20
			var (
				wg      sync.WaitGroup
				start   = make(chan struct{})
				mu      sync.Mutex
				winners []string
			)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					o := "owner-" + strconv.Itoa(i)
					<-start
					ok, err := q.Acquire(ctx, 50, o, time.Minute)
					assert.NoError(t, err)
					if ok {
						mu.Lock()
						winners = append(winners, o)
						mu.Unlock()
					}
				}()
			}
			close(start)
			wg.Wait()
			require.Len(t, winners, 1, "exactly one owner gets a free lease")
			assert.Equal(t, winners[0], owner(t, 50))
		})

		t.Run("key", func(t *testing.T) {
			key := q.leaseKey(42)
			assert.Equal(t, q.cfg.prefix+":lease:{"+q.cfg.prefix+"-ctx-42}", key)
			assert.Equal(t, hashTag(streamKey(q.queueName(42))), hashTag(key),
				"the lease has the hash tag of the context's queue")
			assert.Equal(t, hashTag(zsetKey(q.queueName(42))), hashTag(key))
			ok, err := q.Acquire(ctx, 42, "p1", time.Minute)
			require.NoError(t, err)
			require.True(t, ok)
			v, err := rdb.Get(ctx, key).Result()
			require.NoError(t, err)
			assert.Equal(t, "p1", v)
		})
	})
}

func TestLeaseInvalid(t *testing.T) {
	t.Parallel()
	q := newTestQueue(t, miniBackend(t))
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		owner string
		ttl   time.Duration
	}{
		{"empty owner", "", time.Second},
		{"zero ttl", "p1", 0},
		{"negative ttl", "p1", -time.Second},
		{"ttl under 1ms", "p1", 999 * time.Microsecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, err := q.Acquire(ctx, 1, tc.owner, tc.ttl)
			assert.ErrorIs(t, err, wasend.ErrInvalidOption)
			assert.False(t, ok)
		})
	}
	assert.ErrorIs(t, q.Release(ctx, 1, ""), wasend.ErrInvalidOption)
	ok, err := q.Acquire(ctx, 1, "p1", time.Millisecond)
	require.NoError(t, err)
	assert.True(t, ok, "1ms is enough")
}

// TestLeaseWithClient checks that the leases go through a client given with
// WithClient.
func TestLeaseWithClient(t *testing.T) {
	t.Parallel()
	b := miniBackend(t)
	rdb := redis.NewClient(&redis.Options{Addr: b.addr})
	defer rdb.Close()
	q, err := New(WithClient(rdb), WithPrefix(uniquePrefix()))
	require.NoError(t, err)
	defer q.Close()
	ok, err := q.Acquire(context.Background(), 7, "p1", time.Minute)
	require.NoError(t, err)
	assert.True(t, ok)
	v, err := b.mr.Get(q.leaseKey(7))
	require.NoError(t, err)
	assert.Equal(t, "p1", v)
}
