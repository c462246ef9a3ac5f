package redisqueue

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wasend/wasend"
)

// Defaults of the options.
const (
	// DefaultAddr is the Redis address used when no option sets one.
	DefaultAddr = "127.0.0.1:6379"
	// DefaultPrefix starts the name of every queue.
	DefaultPrefix = "wasend"
	// DefaultWorkers is the number of handlers run at once for each
	// consumed browser context.
	DefaultWorkers = 2
	// DefaultHandlerTimeout bounds each call of a Handler.
	DefaultHandlerTimeout = 10 * time.Minute
	// DefaultReservationTimeout is the time after which a delivery that was
	// taken but not acknowledged is handed out again. taskq counts it from
	// the moment the delivery entered the stream, not from the moment a
	// worker took it.
	DefaultReservationTimeout = time.Hour
	// DefaultRetryLimit is the number of attempts of a delivery whose
	// handler keeps failing, after which the queue gives up on it.
	DefaultRetryLimit = 5
	// DefaultMinBackoff is the wait before the second attempt.
	DefaultMinBackoff = time.Second
	// DefaultMaxBackoff caps the wait between attempts.
	DefaultMaxBackoff = time.Minute
	// DefaultSchedulerInterval is how long taskq's scheduler loops sleep
	// when idle (taskq adds 0 to 500 ms of jitter).
	DefaultSchedulerInterval = 250 * time.Millisecond
)

// Limits checked by New.
const (
	maxWorkers   = 1000
	maxPrefixLen = 100
	minInterval  = 10 * time.Millisecond
	// fetchWait is the XREADGROUP BLOCK of taskq's fetcher. While a consumer
	// stops, taskq's workers spin until the fetcher's read returns, so a
	// short block keeps that spin short (about 4 reads a second per idle
	// context in exchange).
	fetchWait     = 250 * time.Millisecond
	maxRetryLimit = 1000
)

// Option configures a Queue. Options are applied in order; the last one
// that sets a value wins.
type Option func(*config)

type config struct {
	addr     string
	username string
	password string
	db       int
	tls      *tls.Config
	connSet  []string // names of the connection options used, for the WithClient check

	client *redis.Client

	prefix             string
	workers            int
	handlerTimeout     time.Duration
	reservationTimeout time.Duration
	retryLimit         int
	minBackoff         time.Duration
	maxBackoff         time.Duration
	schedulerInterval  time.Duration
	logger             *slog.Logger

	// Not options: tests shorten them.
	consumerIdleTimeout time.Duration // taskq's zombie consumer cleanup
	stopGrace           time.Duration // added to handlerTimeout when stopping a consumer

	errs []error
}

func defaultConfig() config {
	return config{
		addr:                DefaultAddr,
		prefix:              DefaultPrefix,
		workers:             DefaultWorkers,
		handlerTimeout:      DefaultHandlerTimeout,
		reservationTimeout:  DefaultReservationTimeout,
		retryLimit:          DefaultRetryLimit,
		minBackoff:          DefaultMinBackoff,
		maxBackoff:          DefaultMaxBackoff,
		schedulerInterval:   DefaultSchedulerInterval,
		consumerIdleTimeout: consumerIdleTimeout,
		stopGrace:           2 * fetchWait,
	}
}

// consumerIdleTimeout is given to taskq as ConsumerIdleTimeout. The zombie
// cleanup it drives is made safe by guardedClient (it never removes a
// consumer that still owns pending entries), so it only tidies up.
const consumerIdleTimeout = 24 * time.Hour

func invalid(format string, args ...any) error {
	return fmt.Errorf("redisqueue: "+format+": %w", append(args, wasend.ErrInvalidOption)...)
}

// WithAddr sets the "host:port" address of the Redis server. Default:
// DefaultAddr ("127.0.0.1:6379").
func WithAddr(addr string) Option {
	return func(c *config) {
		c.addr = addr
		c.connSet = append(c.connSet, "WithAddr")
	}
}

// WithUsername sets the user name of Redis ACL authentication. Default:
// none.
func WithUsername(username string) Option {
	return func(c *config) {
		c.username = username
		c.connSet = append(c.connSet, "WithUsername")
	}
}

// WithPassword sets the Redis password. Default: none.
func WithPassword(password string) Option {
	return func(c *config) {
		c.password = password
		c.connSet = append(c.connSet, "WithPassword")
	}
}

// WithDB sets the Redis database number. Default: 0.
func WithDB(db int) Option {
	return func(c *config) {
		c.db = db
		c.connSet = append(c.connSet, "WithDB")
	}
}

// WithTLS makes the connections use TLS with cfg. Default: no TLS.
func WithTLS(cfg *tls.Config) Option {
	return func(c *config) {
		c.tls = cfg
		c.connSet = append(c.connSet, "WithTLS")
	}
}

// WithClient makes the Queue use client (go-redis v9) for its own commands
// instead of a client it creates. The Queue never closes client. taskq needs
// a go-redis v8 client, so consumers get v8 clients built from
// client.Options(). WithClient cannot be combined with WithAddr,
// WithUsername, WithPassword, WithDB, WithTLS or WithEnv settings. Default:
// the Queue creates its own client.
func WithClient(client *redis.Client) Option {
	return func(c *config) {
		if client == nil {
			c.errs = append(c.errs, invalid("WithClient: nil client"))
			return
		}
		c.client = client
	}
}

// WithPrefix sets the first part of the queue names: the deliveries of the
// browser context 42 go to the queue "<prefix>-ctx-42". The prefix may hold
// letters, digits and ".-_:", and no braces. Default: DefaultPrefix
// ("wasend").
func WithPrefix(prefix string) Option {
	return func(c *config) { c.prefix = prefix }
}

// WithWorkers sets how many handlers run at once for each browser context
// consumed in this process. Default: DefaultWorkers (2).
func WithWorkers(n int) Option {
	return func(c *config) { c.workers = n }
}

// WithHandlerTimeout bounds each call of a Handler (and of HandleDeadLetter)
// through the deadline of the ctx it receives. Default:
// DefaultHandlerTimeout (10 minutes).
func WithHandlerTimeout(d time.Duration) Option {
	return func(c *config) { c.handlerTimeout = d }
}

// WithReservationTimeout sets the time after which a delivery taken by a
// consumer that has not acknowledged it is handed out again (for example
// because its process died). taskq measures it from the moment the delivery
// entered the stream, so it must be far above the longest wait in the
// queue plus the handler timeout; it must be more than the handler timeout
// plus one second. Default: DefaultReservationTimeout (1 hour).
func WithReservationTimeout(d time.Duration) Option {
	return func(c *config) { c.reservationTimeout = d }
}

// WithRetry sets how the queue retries a delivery whose handler returns an
// error: at most limit attempts in all, with a wait that doubles from
// minBackoff up to maxBackoff (minus up to 25% of jitter). After the last
// attempt the queue calls HandleDeadLetter, if the handler has it, and drops
// the delivery. Default: DefaultRetryLimit (5) attempts, DefaultMinBackoff
// (1 s) to DefaultMaxBackoff (1 min).
func WithRetry(limit int, minBackoff, maxBackoff time.Duration) Option {
	return func(c *config) {
		c.retryLimit = limit
		c.minBackoff = minBackoff
		c.maxBackoff = maxBackoff
	}
}

// WithSchedulerInterval sets how long each of taskq's three scheduler loops
// of a consumed browser context sleeps when it has nothing to do (taskq adds
// 0 to 500 ms). It bounds how late a delayed delivery or a retry arrives,
// and sets the load of an idle consumed context on Redis: about 31 commands
// per second with 250 ms, 13 with 1 s (see the package doc). Default:
// DefaultSchedulerInterval (250 ms).
func WithSchedulerInterval(d time.Duration) Option {
	return func(c *config) { c.schedulerInterval = d }
}

// WithLogger sets the logger of the Queue. It does not receive taskq's own
// log lines: see SetTaskqLogger. Default: slog.Default().
func WithLogger(logger *slog.Logger) Option {
	return func(c *config) { c.logger = logger }
}

func (c *config) validate() error {
	if len(c.errs) > 0 {
		return c.errs[0]
	}
	if c.client != nil && len(c.connSet) > 0 {
		return invalid("WithClient cannot be combined with %s", strings.Join(c.connSet, ", "))
	}
	if c.client == nil {
		if _, _, err := net.SplitHostPort(c.addr); err != nil {
			return invalid("WithAddr: %q is not host:port", c.addr)
		}
		if c.db < 0 {
			return invalid("WithDB: %d is negative", c.db)
		}
	}
	if err := validPrefix(c.prefix); err != nil {
		return err
	}
	if c.workers < 1 || c.workers > maxWorkers {
		return invalid("WithWorkers: %d is not in [1, %d]", c.workers, maxWorkers)
	}
	if c.handlerTimeout <= 0 {
		return invalid("WithHandlerTimeout: %s is not positive", c.handlerTimeout)
	}
	if c.reservationTimeout <= c.handlerTimeout+fetchWait {
		return invalid("WithReservationTimeout: %s is not more than the handler timeout %s plus %s",
			c.reservationTimeout, c.handlerTimeout, fetchWait)
	}
	if c.retryLimit < 1 || c.retryLimit > maxRetryLimit {
		return invalid("WithRetry: limit %d is not in [1, %d]", c.retryLimit, maxRetryLimit)
	}
	if c.minBackoff <= 0 || c.maxBackoff < c.minBackoff {
		return invalid("WithRetry: backoff %s..%s is not 0 < min <= max", c.minBackoff, c.maxBackoff)
	}
	if c.schedulerInterval < minInterval {
		return invalid("WithSchedulerInterval: %s is less than %s", c.schedulerInterval, minInterval)
	}
	if c.logger == nil {
		c.logger = slog.Default()
	}
	return nil
}

func validPrefix(p string) error {
	if p == "" || len(p) > maxPrefixLen {
		return invalid("WithPrefix: %q must have 1 to %d characters", p, maxPrefixLen)
	}
	for _, r := range p {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9',
			r == '.', r == '-', r == '_', r == ':':
		default:
			return invalid("WithPrefix: %q holds %q; use letters, digits and \".-_:\"", p, r)
		}
	}
	return nil
}
