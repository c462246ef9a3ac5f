package redisqueue

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// leaseKey returns the key of the lease of a browser context:
// "<prefix>:lease:{<prefix>-ctx-<contextID>}". Its hash tag is the one of
// the context's taskq keys, so the lease and the queue of a context are in
// one Redis Cluster slot.
func (q *Queue) leaseKey(contextID int64) string {
	return q.cfg.prefix + ":lease:{" + q.queueName(contextID) + "}"
}

// acquireScript takes the lease KEYS[1] for the owner ARGV[1] for ARGV[2]
// milliseconds: it sets the key if it is missing, extends it if it holds
// ARGV[1] already, and otherwise leaves it alone. It returns 1 when ARGV[1]
// holds the lease, 0 when another owner does.
var acquireScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if v == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`)

// releaseScript deletes the lease KEYS[1] if the owner ARGV[1] holds it,
// and returns the number of keys deleted.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

// Acquire implements wasend.Leaser: it takes the lease of the browser
// context for owner, for ttl, if the lease is free, and extends it to ttl
// if owner holds it already; it reports whether owner holds the lease. It
// is one Lua script, so concurrent callers with different owners get the
// lease at most once. A process renews its lease by calling Acquire again
// before ttl has passed; it then also takes back a lease that Redis lost
// (a restart without persistence). ttl is rounded down to the millisecond
// and must be at least 1 ms; owner must not be empty (errors wrapping
// wasend.ErrInvalidOption). Redis errors wrap wasend.ErrQueue.
func (q *Queue) Acquire(ctx context.Context, contextID int64, owner string, ttl time.Duration) (bool, error) {
	if owner == "" {
		return false, invalid("Acquire: empty owner")
	}
	if ttl < time.Millisecond {
		return false, invalid("Acquire: ttl %s is less than 1ms", ttl)
	}
	if err := q.begin("Acquire"); err != nil {
		return false, err
	}
	defer q.end()
	key := q.leaseKey(contextID)
	n, err := acquireScript.Run(ctx, q.rdb, []string{key}, owner, ttl.Milliseconds()).Int64()
	if err != nil {
		return false, queueErr("Acquire "+key, err)
	}
	return n == 1, nil
}

// Release implements wasend.Leaser: it deletes the lease of the browser
// context if owner holds it (a compare-and-delete in one Lua script), and
// does nothing otherwise. owner must not be empty (an error wrapping
// wasend.ErrInvalidOption). Redis errors wrap wasend.ErrQueue.
func (q *Queue) Release(ctx context.Context, contextID int64, owner string) error {
	if owner == "" {
		return invalid("Release: empty owner")
	}
	if err := q.begin("Release"); err != nil {
		return err
	}
	defer q.end()
	key := q.leaseKey(contextID)
	if err := releaseScript.Run(ctx, q.rdb, []string{key}, owner).Err(); err != nil {
		return queueErr("Release "+key, err)
	}
	return nil
}

// Holders implements wasend.Leaser: it returns the owner of each held lease
// among the browser contexts contextIDs; free contexts are absent. It reads
// the leases with one GET each, in pipelines of 1,000 (not MGET: on a Redis
// Cluster the leases are in different slots). Redis errors wrap
// wasend.ErrQueue.
func (q *Queue) Holders(ctx context.Context, contextIDs []int64) (map[int64]string, error) {
	if err := q.begin("Holders"); err != nil {
		return nil, err
	}
	defer q.end()
	held := make(map[int64]string)
	const batch = 1000 // leases per pipeline
	for start := 0; start < len(contextIDs); start += batch {
		part := contextIDs[start:min(start+batch, len(contextIDs))]
		pipe := q.rdb.Pipeline()
		cmds := make([]*redis.StringCmd, len(part))
		for i, id := range part {
			cmds[i] = pipe.Get(ctx, q.leaseKey(id))
		}
		_, _ = pipe.Exec(ctx) // the errors are the commands'
		for i, cmd := range cmds {
			owner, err := cmd.Result()
			switch {
			case errors.Is(err, redis.Nil):
			case err != nil:
				return nil, queueErr("Holders (context "+strconv.FormatInt(part[i], 10)+")", err)
			default:
				held[part[i]] = owner
			}
		}
	}
	return held, nil
}
