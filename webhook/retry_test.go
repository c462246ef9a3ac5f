package webhook_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/wasend/wasend/webhook"
)

func TestBackoffBounds(t *testing.T) {
	const first, ceiling = time.Second, time.Hour
	for n := 1; n <= 100; n++ {
		bound := ceiling
		if n <= 12 { // 2^12 s > 1 h
			bound = first << (n - 1)
		}
		var sum time.Duration
		const draws = 200
		for range draws {
			d := webhook.Backoff(first, ceiling, n)
			if d < 0 || d > bound {
				t.Fatalf("attempt %d: drew %s, want 0 to %s", n, d, bound)
			}
			sum += d
		}
		// Full jitter: the mean is bound/2; 200 draws put it well within a
		// quarter of the bound.
		assert.InDelta(t, float64(bound)/2, float64(sum/draws), float64(bound)/4, "attempt %d", n)
	}
	assert.LessOrEqual(t, webhook.Backoff(time.Nanosecond, time.Duration(1<<63-1), 200), time.Duration(1<<63-1), "no overflow")
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"120", 2 * time.Minute, true},
		{" 5 ", 5 * time.Second, true},
		{"-5", 0, false},
		{"1.5", 0, false},
		{"soon", 0, false},
		{"99999999999999999999", 1<<63 - 1, false}, // beyond uint63: not a number
		{"9223372036854775807", 1<<63 - 1, true},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{"Friday, 02-Jan-26 03:06:05 GMT", 2 * time.Minute, true}, // RFC 850
		{now.Add(-time.Minute).Format(http.TimeFormat), 0, true},
	}
	for _, tt := range tests {
		got, ok := webhook.RetryAfter(tt.in, now)
		assert.Equal(t, tt.ok, ok, "%q", tt.in)
		if tt.ok {
			assert.Equal(t, tt.want, got, "%q", tt.in)
		}
	}
}
