package webhook

import "time"

// Outcome says what became of an attempt, and what to do next.
type Outcome int

// The outcomes of an attempt.
const (
	// OutcomeDelivered: the endpoint answered 2xx. Done.
	OutcomeDelivered Outcome = iota + 1
	// OutcomeRetry: the attempt failed in a way worth retrying (no
	// response, a timeout, 408, 429 or 5xx), and attempts remain. Try again
	// after Result.RetryAfter.
	OutcomeRetry
	// OutcomeFailed: the attempt failed and no retry will help (an invalid
	// event, 3xx, a 4xx other than 408 and 429), or it was the last
	// attempt. Give up. A 410 Gone means the receiver wants no more
	// webhooks: the caller should disable the endpoint.
	OutcomeFailed
	// OutcomeSkipped: the endpoint does not take the event's type; nothing
	// was sent. Done.
	OutcomeSkipped
)

// String returns "delivered", "retry", "failed" or "skipped".
func (o Outcome) String() string {
	switch o {
	case OutcomeDelivered:
		return "delivered"
	case OutcomeRetry:
		return "retry"
	case OutcomeFailed:
		return "failed"
	case OutcomeSkipped:
		return "skipped"
	}
	return "unknown"
}

// Result describes one attempt to deliver an event to an endpoint.
type Result struct {
	// Outcome says whether the event was delivered, and if not whether to
	// retry.
	Outcome Outcome
	// Attempt is the number of the attempt, from 1 (0 when skipped).
	Attempt int
	// Status is the response's HTTP status code, or 0 without a response.
	Status int
	// RetryAfter is the wait before the next attempt, when Outcome is
	// OutcomeRetry: the response's Retry-After (on 429 and 503) or the
	// backoff, capped at the maximum backoff.
	RetryAfter time.Duration
	// Duration is the time the attempt took.
	Duration time.Duration
	// Body holds the first MaxResponseBody bytes of the response body, for
	// the caller to show; the Sender never logs it.
	Body []byte
	// Err says why the attempt failed; it is nil when delivered or
	// skipped. It wraps ErrInvalidEvent, ErrStatus, ErrRequest (and
	// ErrTimeout), or the error of the caller's ctx.
	Err error
}
