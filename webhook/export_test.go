package webhook

import "time"

// SetAttemptHook makes s call f with the Result of each attempt, after
// logging it. Call it before s is used.
func SetAttemptHook(s *Sender, f func(Result)) { s.onAttempt = f }

// Backoff exposes backoff to the tests.
func Backoff(first, ceiling time.Duration, n int) time.Duration { return backoff(first, ceiling, n) }

// RetryAfter exposes retryAfter to the tests.
func RetryAfter(v string, now time.Time) (time.Duration, bool) { return retryAfter(v, now) }
