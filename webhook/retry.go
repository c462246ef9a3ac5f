package webhook

import (
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Whether an attempt is worth retrying is decided here, and only here.

// retryableStatus reports whether a non-2xx status is worth retrying: a
// request timeout, a rate limit, or a server error. Redirects are not
// followed and count as failures, as the Standard Webhooks specification
// recommends: the endpoint's URL should be updated instead.
func retryableStatus(code int) bool {
	return code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || (code >= 500 && code <= 599)
}

// honoursRetryAfter reports whether a Retry-After header is read on a
// response with this status.
func honoursRetryAfter(code int) bool {
	return code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable
}

// backoff draws the wait after the n-th failed attempt (n from 1): at
// random in [0, first×2^(n-1)], the bound capped at ceiling.
func backoff(first, ceiling time.Duration, n int) time.Duration {
	d := first
	for i := 1; i < n && d < ceiling; i++ {
		if d > ceiling/2 {
			d = ceiling
			break
		}
		d *= 2
	}
	d = min(d, ceiling)
	if d == math.MaxInt64 {
		return time.Duration(rand.Int64N(math.MaxInt64))
	}
	return time.Duration(rand.Int64N(int64(d) + 1))
}

// retryAfter reads a Retry-After header value, in seconds or as an HTTP
// date, relative to now. It reports false for an absent or invalid value;
// a date in the past gives 0.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseUint(v, 10, 63); err == nil {
		if secs > math.MaxInt64/uint64(time.Second) {
			return math.MaxInt64, true
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}
