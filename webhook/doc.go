// Package webhook delivers events to HTTP endpoints, signed as the
// Standard Webhooks specification (https://www.standardwebhooks.com/) asks,
// and verifies such requests on the receiving side.
//
// It is generic over the payload: an Event is an id, a type, a time and a
// JSON payload. It keeps no state: a durable relay (such as a transactional
// outbox) stores events and schedules their retries, and calls
// [Sender.Attempt]; a caller without one calls [Sender.Deliver], which
// blocks until the event is delivered or given up.
//
//	secret, err := webhook.ParseSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
//	ep, err := webhook.NewEndpoint("https://example.com/hooks", []webhook.Secret{secret},
//		webhook.WithEventTypes("message.*"))
//	sender, err := webhook.NewSender(webhook.WithLogger(logger))
//	res, err := sender.Deliver(ctx, ep, webhook.Event{
//		ID:      "evt_2KWPBgLlAfxdpx2AI54pPJ85f4W", // the same on every attempt
//		Type:    "message.sent",
//		Time:    time.Now(),
//		Payload: []byte(`{"to":"+33600000000"}`),
//	})
//
// The request is a POST with Content-Type application/json and the body
//
//	{"type":"message.sent","timestamp":"2026-01-02T03:04:05Z","data":{"to":"+33600000000"}}
//
// # Signing
//
// Each request carries three headers: webhook-id (the event's ID, the same
// on every attempt, which receivers use to drop duplicates),
// webhook-timestamp (the time of the attempt in Unix seconds, new on each
// attempt) and webhook-signature, a space-separated list of
// "v1,<signature>" entries: the standard base64 of the HMAC-SHA256 of
// "{id}.{timestamp}.{body}", one entry per secret of the endpoint.
//
// A secret is 24 to 64 random bytes, written "whsec_" followed by their
// standard base64 ([ParseSecret], [Secret.Text]); [NewSecret] takes raw
// bytes and [GenerateSecret] draws 32. A Secret prints as "whsec_***": only
// Text reveals it.
//
// To rotate a secret without downtime, give the endpoint both the old and
// the new one: each request is signed with both, and a receiver that knows
// either accepts it. Once every receiver has the new secret, drop the old
// one. A [Signer] signs for callers that send requests themselves.
//
// # Verifying
//
// A receiver checks a request with [Verify] (or a [Verifier], whose
// tolerance is an option) on the raw body, before decoding it:
//
//	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
//	if err := webhook.Verify(secrets, r.Header, body, time.Now()); err != nil {
//		http.Error(w, "bad signature", http.StatusUnauthorized)
//		return
//	}
//
// Verify accepts the request when any v1 entry matches under any of the
// secrets (compared in constant time), and the timestamp is within
// DefaultTolerance (5 minutes) of now, either way: an older request may be
// a replay. Its errors wrap ErrMissingHeader, ErrInvalidTimestamp,
// ErrTimestampTooOld, ErrTimestampTooNew or ErrNoMatchingSignature. It does
// not remember ids: the receiver drops the ids it has already processed.
//
// # Delivery and retries
//
// A [Sender] makes one POST per attempt, bounded by WithTimeout
// (DefaultTimeout, 10 s), with its own http.Client or the caller's
// (WithHTTPClient). Each attempt ends in a [Result] whose [Outcome] says
// what to do next:
//
//   - 2xx: OutcomeDelivered.
//   - No response (connection refused or reset, DNS, TLS, timeout: Err
//     wraps ErrRequest, and ErrTimeout for a timeout), 408, 429 and 5xx:
//     OutcomeRetry, after Result.RetryAfter.
//   - 3xx (redirects are never followed: update the URL instead), and any
//     other 4xx: OutcomeFailed, without retry. 410 Gone means the receiver
//     wants no more webhooks; the caller should disable the endpoint.
//   - The attempt numbered WithMaxAttempts (DefaultMaxAttempts, 15), when
//     it would be retried: OutcomeFailed.
//
// The wait after the n-th failed attempt is drawn at random between 0 and
// first×2^(n-1), capped at max ("full jitter"; WithBackoff,
// DefaultFirstBackoff 1 s and DefaultMaxBackoff 1 h). A Retry-After header
// on a 429 or 503 response, in seconds or as an HTTP date, replaces the
// draw, capped at max too. [Sender.Deliver] waits these times itself and
// returns early when its ctx ends; [Sender.Attempt] only computes them.
//
// The Sender reads at most MaxResponseBody (4 KiB) of a response, which it
// returns in Result.Body and never logs. Its logs and errors name the
// endpoint by [Endpoint.String], the URL without its user information and
// query ("https://***@example.com/hook?***"), and never hold a payload or
// a secret.
//
// # Filters
//
// An endpoint takes every event type unless WithEventTypes restricts it to
// exact types ("campaign.done") and prefix wildcards ("message.*", which
// takes "message.sent" and "message.status.read" but not "message").
// Deliver and Attempt skip an event the endpoint does not take
// (OutcomeSkipped, nothing sent); [Endpoint.Accepts] tells beforehand.
// Event types are parts of letters, digits, "_" and "-" joined by ".".
package webhook
