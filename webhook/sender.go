package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"
)

// Sender delivers events to endpoints: one signed JSON POST per attempt,
// retried with backoff. It starts no goroutine, holds no state between
// calls, and is safe for concurrent use.
type Sender struct {
	client      *http.Client
	timeout     time.Duration
	first, max  time.Duration
	maxAttempts int
	logger      *slog.Logger
	now         func() time.Time

	onAttempt func(Result) // tests only
}

// NewSender returns a Sender. It fails with ErrInvalidOption for an
// invalid option.
func NewSender(opts ...Option) (*Sender, error) {
	c := config{
		timeout:     DefaultTimeout,
		first:       DefaultFirstBackoff,
		max:         DefaultMaxBackoff,
		maxAttempts: DefaultMaxAttempts,
	}
	for _, o := range opts {
		o(&c)
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	var client *http.Client
	if c.client == nil {
		client = &http.Client{Timeout: c.timeout}
	} else {
		cp := *c.client
		client = &cp
	}
	client.CheckRedirect = noRedirect
	return &Sender{
		client:      client,
		timeout:     c.timeout,
		first:       c.first,
		max:         c.max,
		maxAttempts: c.maxAttempts,
		logger:      c.logger,
		now:         time.Now,
	}, nil
}

// noRedirect makes the client return a 3xx response as it is.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Deliver sends ev to ep until it is delivered, given up, or ctx ends. It
// blocks in between attempts for the wait of each Result.RetryAfter. It
// returns the last attempt's Result and nil when the event was delivered
// or skipped (ep does not take its type), and otherwise an error that
// wraps ErrGaveUp and the last Result.Err, or the error of ctx, or
// ErrInvalidEvent (nothing was sent).
//
// Every attempt carries the same webhook-id (ev.ID) and body, with a new
// webhook-timestamp and signature.
func (s *Sender) Deliver(ctx context.Context, ep *Endpoint, ev Event) (Result, error) {
	body, err := ev.body()
	if err != nil {
		return Result{Outcome: OutcomeFailed, Err: err}, err
	}
	if !ep.Accepts(ev.Type) {
		return Result{Outcome: OutcomeSkipped}, nil
	}
	for n := 1; ; n++ {
		res := s.attempt(ctx, ep, ev, body, n)
		switch res.Outcome {
		case OutcomeDelivered:
			return res, nil
		case OutcomeFailed:
			return res, fmt.Errorf("%w: event %s, attempt %d: %w", ErrGaveUp, ev.ID, n, res.Err)
		}
		if err := ctx.Err(); err != nil {
			return res, stopped(ev.ID, n, err, res.Err)
		}
		t := time.NewTimer(res.RetryAfter)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return res, stopped(ev.ID, n, ctx.Err(), res.Err)
		}
	}
}

func stopped(id string, n int, ctxErr, last error) error {
	if errors.Is(last, ctxErr) {
		return fmt.Errorf("webhook: event %s stopped at attempt %d: %w", id, n, last)
	}
	return fmt.Errorf("webhook: event %s stopped at attempt %d: %w (last attempt: %w)", id, n, ctxErr, last)
}

// Attempt makes one attempt to send ev to ep, for a caller that schedules
// retries itself (a durable relay): attempt is the number of this attempt,
// from 1, which sets the backoff and whether attempts remain. The Result
// says what to do next: nothing (OutcomeDelivered, OutcomeSkipped), try
// again after Result.RetryAfter (OutcomeRetry), or give up
// (OutcomeFailed). When ctx ends during the request, the Outcome is
// OutcomeRetry and Err wraps the error of ctx.
func (s *Sender) Attempt(ctx context.Context, ep *Endpoint, ev Event, attempt int) Result {
	attempt = max(attempt, 1)
	body, err := ev.body()
	if err != nil {
		return Result{Outcome: OutcomeFailed, Attempt: attempt, Err: err}
	}
	if !ep.Accepts(ev.Type) {
		return Result{Outcome: OutcomeSkipped}
	}
	return s.attempt(ctx, ep, ev, body, attempt)
}

// attempt posts body to ep, classifies the answer and logs it.
func (s *Sender) attempt(ctx context.Context, ep *Endpoint, ev Event, body []byte, n int) Result {
	start := s.now()
	res, hinted := s.post(ctx, ep, ev.ID, body)
	res.Attempt = n
	res.Duration = s.now().Sub(start)
	if res.Outcome == OutcomeRetry {
		switch {
		case n >= s.maxAttempts && ctx.Err() == nil:
			// An attempt cut by the caller's ctx does not use up the
			// last one: the event was not refused.
			res.Outcome, res.RetryAfter = OutcomeFailed, 0
		case !hinted:
			res.RetryAfter = backoff(s.first, s.max, n)
		}
	}
	s.log(ctx, ep, ev, res)
	if s.onAttempt != nil {
		s.onAttempt(res)
	}
	return res
}

// post sends one request. It sets Outcome to delivered, retry or failed,
// Status, Body and Err. It reports whether the response had a Retry-After
// that counts, and then sets RetryAfter to it, capped at the maximum
// backoff.
func (s *Sender) post(ctx context.Context, ep *Endpoint, id string, body []byte) (res Result, hinted bool) {
	actx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, ep.url.String(), bytes.NewReader(body))
	if err != nil {
		// The URL parsed in NewEndpoint; the error may quote it.
		return Result{Outcome: OutcomeFailed, Err: fmt.Errorf("%w: POST %s: cannot build the request", ErrRequest, ep)}, false
	}
	req.Header.Set("Content-Type", "application/json")
	if err := ep.signer.SetHeaders(req.Header, id, s.now(), body); err != nil {
		return Result{Outcome: OutcomeFailed, Err: fmt.Errorf("%w: %w", ErrInvalidEvent, err)}, false
	}
	resp, err := s.client.Do(req)
	if err != nil {
		// url.Error quotes the URL, query included: keep only its cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		switch {
		case ctx.Err() != nil:
			return Result{Outcome: OutcomeRetry, Err: fmt.Errorf("webhook: POST %s: %w", ep, ctx.Err())}, false
		case isTimeout(err):
			return Result{Outcome: OutcomeRetry, Err: fmt.Errorf("%w: %w after %s: POST %s: %w", ErrRequest, ErrTimeout, s.timeout, ep, err)}, false
		default:
			return Result{Outcome: OutcomeRetry, Err: fmt.Errorf("%w: POST %s: %w", ErrRequest, ep, err)}, false
		}
	}
	defer resp.Body.Close()
	// Read what fits, so that a short body lets the connection be reused;
	// a read error changes nothing once the status is known.
	respBody, _ := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBody))
	res = Result{Status: resp.StatusCode, Body: respBody}
	switch code := resp.StatusCode; {
	case code >= 200 && code <= 299:
		res.Outcome = OutcomeDelivered
		return res, false
	case retryableStatus(code):
		res.Outcome = OutcomeRetry
		if honoursRetryAfter(code) {
			var d time.Duration
			if d, hinted = retryAfter(resp.Header.Get("Retry-After"), s.now()); hinted {
				res.RetryAfter = min(d, s.max)
			}
		}
	default:
		res.Outcome = OutcomeFailed
	}
	res.Err = fmt.Errorf("%w %d from POST %s", ErrStatus, resp.StatusCode, ep)
	return res, hinted
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// log logs an attempt; see WithLogger.
func (s *Sender) log(ctx context.Context, ep *Endpoint, ev Event, res Result) {
	level, msg := slog.LevelDebug, "webhook delivered"
	switch res.Outcome {
	case OutcomeRetry:
		level, msg = slog.LevelWarn, "webhook attempt failed; will retry"
	case OutcomeFailed:
		level, msg = slog.LevelError, "webhook delivery given up"
	}
	if !s.logger.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("event_id", ev.ID),
		slog.String("event_type", ev.Type),
		slog.String("endpoint", ep.String()),
		slog.Int("attempt", res.Attempt),
		slog.Int("status", res.Status),
		slog.Duration("duration", res.Duration),
	}
	if res.Outcome == OutcomeRetry {
		attrs = append(attrs, slog.Duration("retry_in", res.RetryAfter))
	}
	if res.Err != nil {
		attrs = append(attrs, slog.String("error", res.Err.Error()))
	}
	s.logger.LogAttrs(ctx, level, msg, attrs...)
}
