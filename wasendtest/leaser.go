package wasendtest

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/wasend/wasend"
)

// Leaser is a wasend.Leaser in memory, with real expiry. It is safe for
// concurrent use. SetFailure makes it fail, as an unreachable Redis would.
type Leaser struct {
	mu       sync.Mutex
	leases   map[int64]lease
	failWith error
}

type lease struct {
	owner string
	until time.Time
}

var _ wasend.Leaser = (*Leaser)(nil)

// NewLeaser returns a Leaser with no lease.
func NewLeaser() *Leaser { return &Leaser{leases: map[int64]lease{}} }

// SetFailure makes every later call fail with err (nil restores service).
func (l *Leaser) SetFailure(err error) {
	l.mu.Lock()
	l.failWith = err
	l.mu.Unlock()
}

// Drop forgets every lease, as a Redis restart without persistence would.
func (l *Leaser) Drop() {
	l.mu.Lock()
	l.leases = map[int64]lease{}
	l.mu.Unlock()
}

func (l *Leaser) fail(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if l.failWith != nil {
		return fmt.Errorf("%w: %w", wasend.ErrQueue, l.failWith)
	}
	return nil
}

// Acquire implements wasend.Leaser.
func (l *Leaser) Acquire(ctx context.Context, id int64, owner string, ttl time.Duration) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.fail(ctx); err != nil {
		return false, err
	}
	now := time.Now()
	if cur, ok := l.leases[id]; ok && now.Before(cur.until) && cur.owner != owner {
		return false, nil
	}
	l.leases[id] = lease{owner: owner, until: now.Add(ttl)}
	return true, nil
}

// Release implements wasend.Leaser.
func (l *Leaser) Release(ctx context.Context, id int64, owner string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.fail(ctx); err != nil {
		return err
	}
	if cur, ok := l.leases[id]; ok && cur.owner == owner {
		delete(l.leases, id)
	}
	return nil
}

// Holders implements wasend.Leaser.
func (l *Leaser) Holders(ctx context.Context, ids []int64) (map[int64]string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.fail(ctx); err != nil {
		return nil, err
	}
	now := time.Now()
	out := map[int64]string{}
	for _, id := range ids {
		if cur, ok := l.leases[id]; ok && now.Before(cur.until) {
			out[id] = cur.owner
		}
	}
	return out, nil
}
