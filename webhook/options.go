package webhook

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// Defaults of the Sender's options.
const (
	// DefaultTimeout bounds each request, from the connection to the end of
	// the response headers and the part of the body that is read.
	DefaultTimeout = 10 * time.Second
	// DefaultFirstBackoff bounds the wait before the second attempt.
	DefaultFirstBackoff = time.Second
	// DefaultMaxBackoff caps the wait between two attempts, and a
	// Retry-After that asks for longer.
	DefaultMaxBackoff = time.Hour
	// DefaultMaxAttempts is the number of attempts after which a delivery
	// is given up. With the default backoff the waits before attempts 2 to
	// 15 are drawn up to 1 s, 2 s, 4 s, ... 34 min, 1 h, 1 h: at most about
	// 3 h 8 min in all, half that on average.
	DefaultMaxAttempts = 15
)

// MaxResponseBody is the number of bytes of a response body that a Sender
// reads (and returns in Result.Body); the rest is discarded unread.
const MaxResponseBody = 4 << 10

// Limits checked by NewSender.
const maxMaxAttempts = 1000

// Option configures a Sender. Options apply in order; the last one that
// sets a value wins.
type Option func(*config)

type config struct {
	client      *http.Client
	timeout     time.Duration
	first, max  time.Duration
	maxAttempts int
	logger      *slog.Logger
}

// WithHTTPClient makes the Sender send its requests with a shallow copy of
// client (so that its Transport, and its connection pool, are shared) whose
// CheckRedirect is replaced so that redirects are never followed. The
// request timeout (WithTimeout) applies on top of client.Timeout. Default:
// a new http.Client with http.DefaultTransport and the request timeout.
func WithHTTPClient(client *http.Client) Option {
	return func(c *config) { c.client = client }
}

// WithTimeout bounds each request. Default: DefaultTimeout (10 seconds).
func WithTimeout(d time.Duration) Option {
	return func(c *config) { c.timeout = d }
}

// WithBackoff sets the waits between attempts: after the n-th failed
// attempt the wait is drawn at random between 0 and first×2^(n-1), capped
// at max ("full jitter"). A Retry-After header on a 429 or 503 response
// replaces the draw, capped at max too. Default: DefaultFirstBackoff (1
// second) and DefaultMaxBackoff (1 hour).
func WithBackoff(first, max time.Duration) Option {
	return func(c *config) { c.first, c.max = first, max }
}

// WithMaxAttempts sets the number of attempts after which a delivery is
// given up, the first one included; 1 means no retry. Default:
// DefaultMaxAttempts (15).
func WithMaxAttempts(n int) Option {
	return func(c *config) { c.maxAttempts = n }
}

// WithLogger sets the logger of the Sender. It logs each attempt (Debug
// when delivered, Warn when it will be retried, Error when the delivery is
// given up) with the event's id and type, the masked endpoint URL, the
// attempt number, the status and the error; never a payload, a response
// body, a secret, nor the URL's user information or query. Default:
// slog.Default().
func WithLogger(logger *slog.Logger) Option {
	return func(c *config) { c.logger = logger }
}

func (c *config) validate() error {
	if c.timeout <= 0 {
		return fmt.Errorf("%w: WithTimeout: %s is not positive", ErrInvalidOption, c.timeout)
	}
	if c.first <= 0 || c.max < c.first {
		return fmt.Errorf("%w: WithBackoff: %s..%s is not 0 < first <= max", ErrInvalidOption, c.first, c.max)
	}
	if c.maxAttempts < 1 || c.maxAttempts > maxMaxAttempts {
		return fmt.Errorf("%w: WithMaxAttempts: %d is not in [1, %d]", ErrInvalidOption, c.maxAttempts, maxMaxAttempts)
	}
	if c.logger == nil {
		c.logger = slog.Default()
	}
	return nil
}
