package wasend

import (
	"context"
	"testing"
	"time"
)

// The backoff curve: base before the second attempt, doubling, capped at
// max, plus up to jitter of each wait at random.
func TestBackoffCurve(t *testing.T) {
	b := defaultConfig().retryBackoff()
	b.jitter = 0
	want := []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second,
		64 * time.Second, 128 * time.Second, 256 * time.Second, 5 * time.Minute, 5 * time.Minute}
	for i, w := range want {
		if got := b.after(i + 1); got != w {
			t.Errorf("after(%d) = %v, want %v", i+1, got, w)
		}
	}
	if got := b.after(1000); got != DefaultBackoffMax {
		t.Errorf("after(1000) = %v, want the cap %v (no overflow)", got, DefaultBackoffMax)
	}
	b.jitter = DefaultBackoffJitter
	for n := 1; n <= 12; n++ {
		base := want[min(n, len(want))-1]
		lo, hi := base, base+time.Duration(float64(base)*DefaultBackoffJitter)
		seen := map[time.Duration]bool{}
		for range 200 {
			d := b.after(n)
			if d < lo || d > hi {
				t.Fatalf("after(%d) = %v, outside [%v, %v]", n, d, lo, hi)
			}
			seen[d] = true
		}
		if len(seen) < 50 {
			t.Errorf("after(%d): only %d distinct waits in 200: no jitter", n, len(seen))
		}
	}
}

// sleepCtx waits the whole time unless ctx ends or stop closes first.
func TestSleepCtx(t *testing.T) {
	stopped := make(chan struct{})
	close(stopped)
	done, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		d    time.Duration
		stop <-chan struct{}
		want bool
	}{
		{"elapsed", context.Background(), time.Millisecond, nil, true},
		{"nothing to wait", context.Background(), 0, nil, true},
		{"stopped", context.Background(), time.Hour, stopped, false},
		{"ctx done", done, time.Hour, nil, false},
		{"ctx done, nothing to wait", done, 0, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sleepCtx(tt.ctx, tt.d, tt.stop); got != tt.want {
				t.Errorf("sleepCtx(%v) = %v, want %v", tt.d, got, tt.want)
			}
		})
	}
}

// The outbox's default retries outlast a receiver down for an hour by far:
// an event is dead only after about 20 hours of failed deliveries, and no
// wait between two is over an hour (plus jitter).
func TestOutboxRetriesOutlastAnHour(t *testing.T) {
	cfg := defaultConfig()
	b := backoff{base: cfg.backoffBase, max: cfg.outboxBackoffMax}
	var total time.Duration
	for n := 1; n < cfg.outboxAttempts; n++ {
		d := b.after(n)
		if d > time.Hour {
			t.Fatalf("wait after failure %d = %v, want at most an hour", n, d)
		}
		total += d
	}
	if total < 12*time.Hour {
		t.Fatalf("an event is dead after %v of failures, want more than 12 h", total)
	}
	t.Logf("an event is dead after %v of failures", total)
}
