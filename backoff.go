package wasend

import (
	"context"
	"math/rand/v2"
	"time"
)

// backoff is a doubling wait: base after the first failure, twice as long
// after each next one, at most max, plus up to jitter of the wait at
// random. It is the one backoff of the package: the wait between
// attempts (WithBackoff), and the waits of the runtime's own retries.
type backoff struct {
	base, max time.Duration
	jitter    float64
}

// after returns the wait after the n-th failure (n from 1).
func (b backoff) after(n int) time.Duration {
	d := b.base
	for i := 1; i < n && d < b.max; i++ {
		d *= 2
	}
	d = min(d, b.max)
	if b.jitter > 0 {
		d += time.Duration(rand.Float64() * b.jitter * float64(d))
	}
	return d
}

// sleepCtx waits d, unless ctx ends or stop (which may be nil) is closed
// first, and reports whether it waited the whole time.
func sleepCtx(ctx context.Context, d time.Duration, stop <-chan struct{}) bool {
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
	case <-stop:
		return false
	}
}
