package wasend

import (
	"context"
	"math/rand/v2"
	"time"
)

func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// sleepUntil waits d unless Run stops or ctx ends; it reports whether it
// waited the whole time.
func sleepUntil(ctx context.Context, rs *runState, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-rs.stopping:
		return false
	case <-ctx.Done():
		return false
	}
}

// backoff returns the wait before the attempt after the n-th.
func (c *Client) backoff(n int) time.Duration {
	d := c.cfg.backoffBase
	for i := 1; i < n && d < c.cfg.backoffMax; i++ {
		d *= 2
	}
	d = min(d, c.cfg.backoffMax)
	if c.cfg.backoffJitter > 0 {
		d += time.Duration(rand.Float64() * c.cfg.backoffJitter * float64(d))
	}
	return d
}
