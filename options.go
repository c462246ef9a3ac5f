package wasend

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// Defaults of the Client's options. Each option's comment names its default.
const (
	// DefaultSingleConcurrency is how many single jobs one process runs at
	// once, across all its browser contexts.
	DefaultSingleConcurrency = 10
	// DefaultBulkConcurrency is how many bulk jobs one process runs at
	// once, across all its browser contexts.
	DefaultBulkConcurrency = 5
	// DefaultMaxAttempts is how many attempts a job or message gets.
	DefaultMaxAttempts = 3
	// DefaultBackoffBase is the wait before the second attempt; each later
	// wait doubles, plus up to DefaultBackoffJitter of it at random.
	DefaultBackoffBase = 2 * time.Second
	// DefaultBackoffMax caps the wait between attempts.
	DefaultBackoffMax = 5 * time.Minute
	// DefaultBackoffJitter is the fraction of each backoff added at random.
	DefaultBackoffJitter = 0.25
	// DefaultBulkDelay is the pause between the messages of a bulk job.
	DefaultBulkDelay = 2 * time.Second
	// DefaultSendTimeout bounds one message's send through its session
	// (PUPPETEER_DEFAULT_TIMEOUT, through WithEnv).
	DefaultSendTimeout = 30 * time.Second
	// DefaultBulkSlice is how long a bulk job runs before it hands its
	// worker back to the queue and continues on a new delivery, so that
	// other jobs of the same context get their turn.
	DefaultBulkSlice = 30 * time.Second
	// DefaultMaxLookups is how many lookups in the chat an unconfirmed
	// message gets before it ends unknown: lookups that cannot answer
	// (the chat does not load, the page does not match) are retried with
	// the backoff of attempts.
	DefaultMaxLookups = 8
	// DefaultHangGrace is how long after its deadline a call into a
	// session may take to return before the Client abandons it as hung.
	DefaultHangGrace = 10 * time.Second
	// DefaultContextWait is how long a job whose browser context cannot
	// send (disconnected, error) waits before it looks again. A context
	// that comes back wakes its jobs at once.
	DefaultContextWait = 30 * time.Second
	// DefaultSweepInterval is how often Run looks for jobs the queue lost.
	DefaultSweepInterval = 15 * time.Second
	// DefaultLostAfter is how long a pending, due job may wait after it was
	// enqueued before the sweep considers it lost by the queue.
	DefaultLostAfter = time.Minute
	// DefaultShutdownTimeout bounds how long Run waits, once its ctx is
	// done, for the jobs in flight.
	DefaultShutdownTimeout = 30 * time.Second
	// DefaultLeaseTTL is how long a process's lease on a browser context
	// lasts without renewal; the holder renews it every third of that.
	DefaultLeaseTTL = 15 * time.Second
	// DefaultMaxBulkMessages caps the messages of one bulk job.
	DefaultMaxBulkMessages = 10000
	// MaxIdempotencyKeyLength is the longest idempotency key, in bytes.
	MaxIdempotencyKeyLength = 255
	// MaxMetadataDepth is how deeply a job's metadata may nest: a flat
	// map is depth 1. MariaDB refuses JSON nested 32 deep; every store
	// takes 16.
	MaxMetadataDepth = 16
	// MaxMetadataSize is the longest a job's metadata may be, in bytes of
	// JSON.
	MaxMetadataSize = 64 << 10
	// DefaultReceiptWindow is how long after it was sent a message that
	// was never seen delivered is reported undelivered.
	DefaultReceiptWindow = 24 * time.Hour
	// DefaultFollowFor is how long after it was sent a message's ticks
	// are followed, until it is read.
	DefaultFollowFor = 7 * 24 * time.Hour
	// DefaultMaxFollowed caps the messages one session follows: the
	// newest ones not read.
	DefaultMaxFollowed = 200
	// DefaultNumberTTL is how long the answer "on WhatsApp" to a number
	// check is taken from the cache.
	DefaultNumberTTL = 30 * 24 * time.Hour
	// DefaultNotOnWhatsAppTTL is how long the answer "not on WhatsApp" is
	// taken from the cache: a number may join WhatsApp any day.
	DefaultNotOnWhatsAppTTL = 24 * time.Hour
	// DefaultHibernateIdle is how long a context stays idle before its
	// browser is closed (WithHibernation): 0, never. Hibernation is off by
	// default because a sleeping context sees its incoming messages and
	// ticks only at its catch-up wakes, and its next send waits for a wake.
	DefaultHibernateIdle = 0
	// DefaultMaxAwake caps the contexts whose browser is open in one
	// process (WithHibernation): 0, no cap.
	DefaultMaxAwake = 0
	// DefaultCatchUp is how long a context sleeps before it is woken to
	// catch up on its receipts and incoming messages (WithCatchUp).
	DefaultCatchUp = 30 * time.Minute
	// DefaultWakeTimeout bounds a wake, from the launch of the browser to
	// its session's first status (WithWakeTimeout).
	DefaultWakeTimeout = 60 * time.Second
	// DefaultWakeConcurrency is how many wakes of sleeping contexts
	// launch their browser at once in one Client (WithWakeConcurrency).
	DefaultWakeConcurrency = 2
)

// UnknownOutcomePolicy says what to do with a message whose earlier attempt
// may have been sent, when the session cannot look in the chat for it.
type UnknownOutcomePolicy int

const (
	// EndUnknown ends the message as MessageUnknown: it is never sent
	// twice, at the risk of never being sent. It is the default.
	EndUnknown UnknownOutcomePolicy = iota
	// ResendUnknown sends the message again, within its attempts: it is
	// sent, at the risk of being sent twice.
	ResendUnknown
)

// Option configures a Client.
type Option func(*config)

type config struct {
	logger            *slog.Logger
	singleConcurrency int
	bulkConcurrency   int
	maxAttempts       int
	backoffBase       time.Duration
	backoffMax        time.Duration
	backoffJitter     float64
	bulkDelay         time.Duration
	sendTimeout       time.Duration
	bulkSlice         time.Duration
	contextWait       time.Duration
	sweepInterval     time.Duration
	lostAfter         time.Duration
	shutdownTimeout   time.Duration
	maxBulkMessages   int
	unknownOutcome    UnknownOutcomePolicy
	maxLookups        int
	hangGrace         time.Duration
	onEvent           func(SessionEvent)
	eventSecrets      bool
	observer          Observer
	outbox            OutboxHandler
	outboxLease       time.Duration
	outboxAttempts    int
	outboxBackoffMax  time.Duration
	now               func() time.Time
	leaser            Leaser
	leaserSet         bool
	owner             string
	leaseTTL          time.Duration
	takeover          int
	pacing            Pacing
	breaker           Breaker
	// optOut holds the opt-out keywords (WithOptOutKeywords); nil means
	// DefaultOptOutKeywords.
	optOut        []string
	eventPII      bool
	markRead      bool
	receiptWindow time.Duration
	followFor     time.Duration
	maxFollowed   int
	numberTTL     time.Duration
	notOnWATTL    time.Duration
	preCheck      bool
	hibIdle       time.Duration
	maxAwake      int
	catchUp       time.Duration
	wakeTimeout   time.Duration
	wakeConc      int
}

func defaultConfig() config {
	return config{
		logger:            slog.Default(),
		singleConcurrency: DefaultSingleConcurrency,
		bulkConcurrency:   DefaultBulkConcurrency,
		maxAttempts:       DefaultMaxAttempts,
		backoffBase:       DefaultBackoffBase,
		backoffMax:        DefaultBackoffMax,
		backoffJitter:     DefaultBackoffJitter,
		outboxLease:       DefaultEventLease,
		outboxAttempts:    DefaultEventAttempts,
		outboxBackoffMax:  DefaultEventBackoffMax,
		bulkDelay:         DefaultBulkDelay,
		sendTimeout:       DefaultSendTimeout,
		bulkSlice:         DefaultBulkSlice,
		contextWait:       DefaultContextWait,
		sweepInterval:     DefaultSweepInterval,
		lostAfter:         DefaultLostAfter,
		shutdownTimeout:   DefaultShutdownTimeout,
		maxBulkMessages:   DefaultMaxBulkMessages,
		maxLookups:        DefaultMaxLookups,
		hangGrace:         DefaultHangGrace,
		now:               time.Now,
		leaseTTL:          DefaultLeaseTTL,
		pacing:            DefaultPacing(),
		breaker:           DefaultBreaker(),
		receiptWindow:     DefaultReceiptWindow,
		followFor:         DefaultFollowFor,
		maxFollowed:       DefaultMaxFollowed,
		numberTTL:         DefaultNumberTTL,
		notOnWATTL:        DefaultNotOnWhatsAppTTL,
		hibIdle:           DefaultHibernateIdle,
		maxAwake:          DefaultMaxAwake,
		catchUp:           DefaultCatchUp,
		wakeTimeout:       DefaultWakeTimeout,
		wakeConc:          DefaultWakeConcurrency,
	}
}

func (c *config) validate() error {
	checks := []struct {
		ok   bool
		name string
	}{
		{c.logger != nil, "logger"},
		{c.singleConcurrency > 0, "single concurrency"},
		{c.bulkConcurrency > 0, "bulk concurrency"},
		{c.maxAttempts > 0, "max attempts"},
		{c.backoffBase > 0 && c.backoffMax >= c.backoffBase, "backoff"},
		{c.backoffJitter >= 0 && c.backoffJitter <= 1, "backoff jitter"},
		{c.outboxLease > 0, "outbox lease"},
		{c.outboxAttempts > 0 && c.outboxBackoffMax > 0, "outbox retries"},
		{c.bulkDelay >= 0, "bulk delay"},
		{c.sendTimeout > 0, "send timeout"},
		{c.bulkSlice > 0, "bulk slice"},
		{c.contextWait > 0, "context wait"},
		{c.sweepInterval > 0, "sweep interval"},
		{c.lostAfter > 0, "lost after"},
		{c.shutdownTimeout > 0, "shutdown timeout"},
		{c.maxBulkMessages > 0, "max bulk messages"},
		{c.unknownOutcome == EndUnknown || c.unknownOutcome == ResendUnknown, "unknown outcome policy"},
		{c.maxLookups > 0, "max lookups"},
		{c.hangGrace > 0, "hang grace"},
		{c.now != nil, "clock"},
		{c.leaseTTL >= 10*time.Millisecond, "lease ttl"},
		{c.takeover >= 0, "takeover"},
		{c.owner == "" || len(c.owner) <= 200, "owner id"},
		{c.receiptWindow > 0, "receipt window"},
		{c.followFor > 0 && c.maxFollowed > 0, "ack following"},
		{c.numberTTL >= 0 && c.notOnWATTL >= 0, "number cache"},
		{c.hibIdle >= 0 && c.maxAwake >= 0, "hibernation"},
		{c.catchUp >= 0, "catch-up"},
		{c.wakeTimeout > 0, "wake timeout"},
		{c.wakeConc > 0, "wake concurrency"},
	}
	for _, ch := range checks {
		if !ch.ok {
			return fmt.Errorf("%w: %s", ErrInvalidOption, ch.name)
		}
	}
	if err := c.pacing.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidOption, err)
	}
	if !c.breaker.valid() {
		return fmt.Errorf("%w: breaker", ErrInvalidOption)
	}
	return nil
}

// optOutKeywords returns the opt-out keywords in force.
func (c *config) optOutKeywords() []string {
	if c.optOut == nil {
		return DefaultOptOutKeywords
	}
	return c.optOut
}

// WithLogger sets the logger. Message bodies and whole phone numbers never
// reach it. Default: slog.Default().
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithSingleConcurrency sets how many single jobs one process runs at once.
// Default: DefaultSingleConcurrency (10).
func WithSingleConcurrency(n int) Option { return func(c *config) { c.singleConcurrency = n } }

// WithBulkConcurrency sets how many bulk jobs one process runs at once.
// Default: DefaultBulkConcurrency (5).
func WithBulkConcurrency(n int) Option { return func(c *config) { c.bulkConcurrency = n } }

// WithMaxAttempts sets how many attempts a job (and each message of a bulk
// job) gets before it fails. Default: DefaultMaxAttempts (3).
func WithMaxAttempts(n int) Option { return func(c *config) { c.maxAttempts = n } }

// WithBackoff sets the exponential backoff between attempts: base before the
// second attempt, doubling up to max, plus jitter (a fraction from 0 to 1 of
// each wait, added at random). Default: DefaultBackoffBase (2 s),
// DefaultBackoffMax (5 min), DefaultBackoffJitter (0.25).
func WithBackoff(base, max time.Duration, jitter float64) Option {
	return func(c *config) { c.backoffBase, c.backoffMax, c.backoffJitter = base, max, jitter }
}

// WithBulkDelay sets the pause between bulk messages used when SendBulk is
// given a zero delay. Default: DefaultBulkDelay (2 s).
func WithBulkDelay(d time.Duration) Option { return func(c *config) { c.bulkDelay = d } }

// WithSendTimeout bounds each message's send through its session. Default:
// DefaultSendTimeout (30 s), or PUPPETEER_DEFAULT_TIMEOUT through WithEnv.
func WithSendTimeout(d time.Duration) Option { return func(c *config) { c.sendTimeout = d } }

// WithBulkSlice sets how long a bulk job runs before it yields its worker.
// Default: DefaultBulkSlice (30 s).
func WithBulkSlice(d time.Duration) Option { return func(c *config) { c.bulkSlice = d } }

// WithContextWait sets how long a job waits for a browser context that
// cannot send before it looks again. Default: DefaultContextWait (30 s).
func WithContextWait(d time.Duration) Option { return func(c *config) { c.contextWait = d } }

// WithSweep sets how often Run sweeps for jobs the queue lost, and how long
// after its enqueue a due job counts as lost. Default:
// DefaultSweepInterval (15 s) and DefaultLostAfter (1 min).
func WithSweep(interval, lostAfter time.Duration) Option {
	return func(c *config) { c.sweepInterval, c.lostAfter = interval, lostAfter }
}

// WithShutdownTimeout bounds how long Run waits for jobs in flight once its
// ctx is done. Default: DefaultShutdownTimeout (30 s).
func WithShutdownTimeout(d time.Duration) Option { return func(c *config) { c.shutdownTimeout = d } }

// WithMaxBulkMessages caps the number of messages of one bulk job. Default:
// DefaultMaxBulkMessages (10,000).
func WithMaxBulkMessages(n int) Option { return func(c *config) { c.maxBulkMessages = n } }

// WithUnknownOutcome sets what happens to a message whose earlier attempt
// may have been sent, when its session is not a SentFinder. Default:
// EndUnknown.
func WithUnknownOutcome(p UnknownOutcomePolicy) Option {
	return func(c *config) { c.unknownOutcome = p }
}

// WithMaxLookups sets how many lookups in the chat that cannot answer an
// unconfirmed message gets before it ends MessageUnknown. Default:
// DefaultMaxLookups (8).
func WithMaxLookups(n int) Option { return func(c *config) { c.maxLookups = n } }

// WithHangGrace sets how long after its deadline a call into a session
// (SendText, FindSent) may take to return before the Client abandons it:
// the attempt's outcome is then unconfirmed, the context shows
// disconnected, and
// the session is not used until the call returns. Default:
// DefaultHangGrace (10 s).
func WithHangGrace(d time.Duration) Option { return func(c *config) { c.hangGrace = d } }

// WithEventHandler sets a function that receives every session event (QR
// codes, status changes), with ContextID filled in. It must not block.
// Default: none.
func WithEventHandler(f func(SessionEvent)) Option { return func(c *config) { c.onEvent = f } }

// WithOutbox turns the outbox on: every change the host cares about (jobs
// created, running, completed, failed, paused, resumed and cancelled;
// messages sent, failed, cancelled and unknown; with the stores that keep
// them, messages delivered, read and undelivered, incoming messages and
// suppressions; contexts' statuses and accounts) is
// written as an Event in the same transaction as the change, and a relay
// that runs with Run hands each event to h at least once, in order per
// job, retrying a failed delivery with a doubling backoff from
// WithBackoff's base up to an hour, until DefaultEventAttempts failed
// (about 20 hours: then it is dead, and Stats counts it; see
// WithOutboxRetries). The
// store must implement OutboxStore (sqlstore and wasendtest's do); New
// returns ErrNotSupported otherwise. Nil turns it off. Default: off.
func WithOutbox(h OutboxHandler) Option { return func(c *config) { c.outbox = h } }

// WithEventSecrets puts in the outbox's events what links a device to a
// context's account: the QR payloads of context.qr and the pairing codes of
// context.pairing_code (Event.Data "qr" and "code"). Without it those
// events only tell that a code is shown. Whoever reads them can link a
// browser to the account if the phone scans or types them: turn it on
// only for an event handler as trusted as the Client's host.
func WithEventSecrets() Option { return func(c *config) { c.eventSecrets = true } }

// WithOutboxRetries sets how many deliveries of an event may fail before
// it is dead, and the longest wait between two (the first wait is
// WithBackoff's base, doubling). The defaults, DefaultEventAttempts and
// DefaultEventBackoffMax, keep an event for about 20 hours, so a receiver
// that was down for an hour gets every event once it is back (each at
// most an hour late).
func WithOutboxRetries(attempts int, maxWait time.Duration) Option {
	return func(c *config) { c.outboxAttempts, c.outboxBackoffMax = attempts, maxWait }
}

// WithOutboxLease sets how long the relay's claim of a batch of events
// holds: after it, another process's relay takes over the events that
// this one claimed and did not settle (it died, or was stopped mid-batch).
// It must be longer than a batch's deliveries take. Default:
// DefaultEventLease.
func WithOutboxLease(d time.Duration) Option { return func(c *config) { c.outboxLease = d } }

// WithObserver sets the Observer told of every attempt, turn and wait,
// for metrics and traces (see the otelwasend sub-package). Nil restores
// the default. Default: none.
func WithObserver(o Observer) Option { return func(c *config) { c.observer = o } }

// WithClock sets the function the Client reads the time from. Tests use it.
// Default: time.Now.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithLeaser sets what grants browser contexts to processes (see Leaser).
// With one, each context is held by one process at a time: the process
// that opens it takes its lease and renews it; if it dies, the lease
// expires and the context can be taken over (WithTakeover). nil turns
// leases off, for a single process. Default: the queue, when it is a
// Leaser (redisqueue's is), else none.
func WithLeaser(l Leaser) Option {
	return func(c *config) { c.leaser, c.leaserSet = l, true }
}

// WithOwnerID names this process in leases. It must be unique among the
// processes that share a store. Default: host name, process id and a
// random suffix.
func WithOwnerID(id string) Option { return func(c *config) { c.owner = id } }

// WithLeaseTTL sets how long a lease lasts without renewal; the holder
// renews it every third of that, and a context whose holder died can be
// taken over after it. Default: DefaultLeaseTTL (15 s).
func WithLeaseTTL(d time.Duration) Option { return func(c *config) { c.leaseTTL = d } }

// WithTakeover lets Run open, in this process, up to max browser contexts
// that no process holds (their holder died, or none opened them yet), once
// they have been free for a lease TTL. Persistent sessions need their
// logins where the taking process can read them: profile folders on a
// disk the processes share, or snapshots in a ProfileStore that the
// BrowserPool restores from (chromedpdriver.WithProfileStore). Zero turns
// it off.
// Default: 0.
func WithTakeover(max int) Option { return func(c *config) { c.takeover = max } }

// WithPacing sets the default pacing policy of the browser contexts: each
// context without a policy of its own (SetPacing) follows it. Pacing
// holds across processes: the sends it counts are in the store's send
// ledger. WithPacing(NoPacing()) turns it off. Default: DefaultPacing().
func WithPacing(p Pacing) Option { return func(c *config) { c.pacing = p } }

// WithBreaker sets the circuit breaker of every browser context (see
// Breaker); Breaker{} turns it off. Default: DefaultBreaker().
func WithBreaker(b Breaker) Option { return func(c *config) { c.breaker = b } }

// WithOptOutKeywords sets the keywords that opt a contact out: an incoming
// message (EventIncoming) whose text holds one, as whole words, compared
// without case and without accents typed as combining marks, suppresses
// its sender (SuppressOptOut). A keyword may be several words ("stop
// all"); each has at most MaxKeywordLength characters. No keyword turns
// opt-out off. Default: DefaultOptOutKeywords.
func WithOptOutKeywords(keywords ...string) Option {
	return func(c *config) { c.optOut = append([]string{}, keywords...) }
}

// WithEventPII makes the outbox's events (WithOutbox) carry whole phone
// numbers and texts: the sender, text and WhatsApp id of an incoming
// message (message.incoming), the number of a suppression
// (suppression.added) and a context's account (context.account,
// context.account_changed). Without it they carry numbers masked as in
// the logs (MaskPhone) and no text; the host reads what it needs from
// the store (Client.Inbox, Suppressions, Context). Logs never carry them.
// Default: false.
func WithEventPII(on bool) Option { return func(c *config) { c.eventPII = on } }

// WithMarkRead makes the Client mark each new incoming message read
// (InboxReader), as soon as it has recorded it: the contact then sees blue
// ticks. Without it, sessions read incoming messages without marking them
// read, and the host marks a chat read when it wants (Client.MarkRead).
// Default: false.
func WithMarkRead(on bool) Option { return func(c *config) { c.markRead = on } }

// WithReceiptWindow sets how long after it was sent a message that no
// session saw delivered is marked undelivered (Message.UndeliveredAt, and
// a message.undelivered event), once: WhatsApp rejects some messages
// after their first tick (the reach-out restrictions of 2026). Only the
// messages of sessions that follow acks (AckFollower) are marked, once
// their session has followed for an hour (or the window, when shorter)
// in this process. Default: DefaultReceiptWindow (24 h).
func WithReceiptWindow(d time.Duration) Option { return func(c *config) { c.receiptWindow = d } }

// WithAckFollowing sets how long after it was sent a message's ticks are
// followed (until it is read), and how many messages one session follows
// at most: the newest not read. Default: DefaultFollowFor (7 days) and
// DefaultMaxFollowed (200).
func WithAckFollowing(followFor time.Duration, max int) Option {
	return func(c *config) { c.followFor, c.maxFollowed = followFor, max }
}

// WithNumberCache sets how long the answers of number checks are taken
// from the cache (the store's, NumberStore, or else this process's own):
// positive for "on WhatsApp", negative for "not on WhatsApp" (which a send
// that fails with ErrNotOnWhatsApp learns too). Zero turns that half of
// the cache off. Default: DefaultNumberTTL (30 days) and
// DefaultNotOnWhatsAppTTL (1 day).
func WithNumberCache(positive, negative time.Duration) Option {
	return func(c *config) { c.numberTTL, c.notOnWATTL = positive, negative }
}

// WithPreCheckNumbers makes every bulk job (SendBulk, and the jobs of
// SendCampaign) check its recipients before its first send, through its
// context's session (NumberChecker), and fail without an attempt the
// messages to numbers that are not on WhatsApp (ErrorKindNotOnWhatsApp).
// Answers come from the cache when fresh (WithNumberCache); a check that
// cannot answer leaves its number to the send. The checks run within the
// job's slices (WithBulkSlice), so a long list is checked over several
// deliveries; a session that cannot check skips them. Default: false.
func WithPreCheckNumbers(on bool) Option { return func(c *config) { c.preCheck = on } }

// WithHibernation closes the browser of a context this process holds once
// it has sent nothing for idle (0: never for being idle), and keeps at most
// maxAwake browsers open (0: no cap; the least recently used context
// sleeps first). A context whose deliveries wait for a free worker
// (WithSingleConcurrency) is about to send: it does not sleep for being
// idle, and sleeps last for the cap. A sleeping context keeps its profile (a persistent login
// survives), its lease and its queue: it stays available in the store and
// to the host, ContextStats.Asleep shows it, and the host hears
// EventAsleep and EventAwake (the outbox's context.asleep and
// context.awake). Its next due job wakes it first (a job waiting for pacing
// does not), and a due job may put the least recently used context to
// sleep to make room under the cap; the wake is bounded by WithWakeTimeout.
// A context that cannot wake gets the status a launch would give it (see
// OpenContext: error, or disconnected when its profile is open elsewhere
// or its session is logged out), and its jobs wait.
//
// The trade-off: incoming messages, ticks and the account's state are
// read by an open page only, so a sleeping context learns them at its
// wakes (for a job, or for a catch-up, WithCatchUp), later than an awake
// one; and the first send after a sleep waits for the wake (about a second
// for a persistent Chromium session). Number checks and MarkRead through a
// sleeping context wake it first. Default: DefaultHibernateIdle
// (off) and DefaultMaxAwake (no cap).
func WithHibernation(idle time.Duration, maxAwake int) Option {
	return func(c *config) { c.hibIdle, c.maxAwake = idle, maxAwake }
}

// WithCatchUp wakes a context that has slept for every, so that its page
// reads the receipts and incoming messages that arrived meanwhile; it
// sleeps again once idle (WithHibernation). Under the cap these wakes take
// only the room that no due job waits for. 0 never wakes a context but
// for a job. Default: DefaultCatchUp (30 minutes).
func WithCatchUp(every time.Duration) Option { return func(c *config) { c.catchUp = every } }

// WithWakeTimeout bounds the wake of a sleeping context, from the launch of
// its browser to its session's first status; a launch that hangs longer
// is abandoned (ErrSessionHung) and its jobs wait. Default:
// DefaultWakeTimeout (60 seconds).
func WithWakeTimeout(d time.Duration) Option { return func(c *config) { c.wakeTimeout = d } }

// WithWakeConcurrency lets at most n wakes of sleeping contexts
// (WithHibernation) launch their browser at once in this Client, each from
// its launch to its session's first status; the others wait their turn,
// in the order they came, before they make room under the cap. A wake for
// a due job waits until its turn or until Run stops (the job keeps its
// browser context's send lock meanwhile, as during the wake itself, and
// every wake ahead of it ends within the wake timeout); a catch-up
// wake (WithCatchUp) never waits: it takes a turn that is free and that no
// due job waits for, or waits for a later round. A wake abandoned at its
// timeout (WithWakeTimeout) gives its turn back then, even if its browser
// goes on starting.
//
// The trade-off: starting a browser is the heaviest thing a context does,
// about one core for a second, and n starts at once share the cores, so
// that each takes about n/cores times as long. A small n keeps a single
// wake near its one-second cost, keeps the load and the memory of a burst
// of wakes down, and brings the first woken contexts back first; the last
// job of a burst waits about as long either way, because the cores start
// only so many browsers a second (on 2 cores, 20 wakes at once: 2 s a
// wake and a due job's wait of 19 s at p95 with n = 2, against 11 s a
// wake, 22 s of wait and twice the load and the memory with no cap; see
// BENCHMARKS.md). With n = 1, 2 cores woke 200 contexts in bursts of 5
// at 1.7 s a wake at p95, and their jobs waited 6.4 s at p95 (5 s with
// n = 2). Jobs that wait for a turn hold a worker each
// (WithSingleConcurrency). Raise n with the cores. Default:
// DefaultWakeConcurrency (2).
func WithWakeConcurrency(n int) Option { return func(c *config) { c.wakeConc = n } }

// ContextOption configures a browser context, in CreateContext and
// UpdateContext.
type ContextOption func(*contextOptions)

type contextOptions struct {
	pacing    *Pacing
	pacingSet bool
	proxy     *string
}

// ContextPacing gives the context a pacing policy of its own, instead of
// the Client's default (WithPacing). It is stored with the context. nil
// puts the default back. Default: none.
func ContextPacing(p *Pacing) ContextOption {
	return func(o *contextOptions) {
		o.pacingSet = true
		o.pacing = nil
		if p != nil {
			c := *p
			o.pacing = &c
		}
	}
}

// ContextProxy sends the context's browser through a proxy: a URL with
// scheme http, https or socks5, a host and a port, and optional
// credentials (socks5://user:password@host:1080). It is stored with the
// context, and applies from the next launch of its session; "" removes
// it. Credentials never reach a log. Default: none.
func ContextProxy(url string) ContextOption { return func(o *contextOptions) { o.proxy = &url } }

// ContextSettingsOf applies opts and returns the settings they make, for
// Store.UpdateContext: an invalid policy or proxy gives a
// *ValidationError (field "pacing" or "proxy").
func ContextSettingsOf(opts ...ContextOption) (ContextSettings, error) {
	var o contextOptions
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	var set ContextSettings
	if o.pacing != nil {
		if err := o.pacing.Validate(); err != nil {
			return set, &ValidationError{Index: -1, Field: "pacing", Err: err}
		}
	}
	if o.pacingSet {
		set.Pacing = &o.pacing
	}
	if o.proxy != nil {
		if err := CheckProxy(*o.proxy); err != nil {
			return set, &ValidationError{Index: -1, Field: "proxy", Err: err}
		}
		set.Proxy = o.proxy
	}
	return set, nil
}

// SendOption configures one call of Send or SendBulk.
type SendOption func(*sendOptions)

type sendOptions struct {
	metadata  map[string]any
	key       string
	delay     time.Duration
	delaySet  bool
	notBefore time.Time
	move      bool
	media     *Media
	err       error
}

// MaxNotBefore is how far ahead NotBefore may be.
const MaxNotBefore = 366 * 24 * time.Hour

// NotBefore makes the job wait until t before it sends anything: it is
// pending meanwhile, with Wait WaitNotBefore. A time in the past sends at
// once. It must be at most MaxNotBefore ahead. Default: none.
func NotBefore(t time.Time) SendOption { return func(o *sendOptions) { o.notBefore = t } }

// Metadata attaches the host's data to the job, stored as JSON and given
// back by Job. It must encode as JSON, nest at most MaxMetadataDepth deep
// and take at most MaxMetadataSize bytes. Default: none.
func Metadata(m map[string]any) SendOption { return func(o *sendOptions) { o.metadata = m } }

// IdempotencyKey makes the call idempotent: a later call with the same key
// returns the job the first one created, records nothing and enqueues
// nothing, across processes that share the store, until Clean deletes
// that job. The key is at most MaxIdempotencyKeyLength bytes of UTF-8.
// Default: none (every call creates a job).
func IdempotencyKey(k string) SendOption { return func(o *sendOptions) { o.key = k } }

// Delay sets the pause between the messages of a bulk job; zero means
// none. It is invalid for Send and when negative. Default: WithBulkDelay.
func Delay(d time.Duration) SendOption {
	return func(o *sendOptions) { o.delay, o.delaySet = d, true }
}

// AllowMoves lets the unsent messages of a campaign (SendCampaign) move
// off a context of its pool that is restricted or banned, to the other
// contexts, instead of waiting for the restriction to end or failing with
// the ban. A message that moves may reach its recipient from another
// number than the one that wrote to it before. Only SendCampaign reads
// it; Send and SendBulk refuse it. Default: off.
func AllowMoves() SendOption { return func(o *sendOptions) { o.move = true } }

// Attach makes Send's message a media message: the file m, with the
// text as its caption, which may then be empty (at most
// MaxCaptionLength characters). Send checks the file before it records
// anything (see Media and "# Media" in the package doc): it must be a
// readable regular file of its kind's size (MaxImageSize,
// MaxDocumentSize), and an image must be one of ImageTypes in its bytes.
// Bad input returns a *ValidationError (Field "media") wrapping
// ErrInvalidMedia or ErrMediaTooLarge. SendBulk and SendCampaign refuse
// it: their messages attach files with BulkMessage.Media. Default: none,
// a text message.
func Attach(m Media) SendOption { return func(o *sendOptions) { o.media = &m } }

// errAttachBulk refuses Attach on a bulk send.
var errAttachBulk = fmt.Errorf("%w: Attach is for Send; a bulk send's messages attach files with BulkMessage.Media", ErrInvalidOption)

// sendOptionsOf applies opts and validates them.
func sendOptionsOf(opts []SendOption) (sendOptions, error) {
	var o sendOptions
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if o.delaySet && o.delay < 0 {
		return o, &ValidationError{Index: -1, Field: "delay", Err: ErrInvalidDelay}
	}
	if len(o.key) > MaxIdempotencyKeyLength || !utf8.ValidString(o.key) || strings.ContainsRune(o.key, 0) {
		return o, &ValidationError{Index: -1, Field: "idempotency_key", Err: ErrInvalidIdempotencyKey}
	}
	if !o.notBefore.IsZero() && time.Until(o.notBefore) > MaxNotBefore {
		return o, &ValidationError{Index: -1, Field: "not_before", Err: fmt.Errorf("%w: more than %v ahead", ErrInvalidNotBefore, MaxNotBefore)}
	}
	if o.metadata != nil {
		if err := checkMetadata(o.metadata); err != nil {
			return o, &ValidationError{Index: -1, Field: "metadata", Err: err}
		}
	}
	return o, nil
}

// checkMetadata checks that metadata encodes as JSON within the limits.
func checkMetadata(m map[string]any) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidMetadata, err)
	}
	if len(b) > MaxMetadataSize {
		return fmt.Errorf("%w: %d bytes of JSON, more than %d", ErrInvalidMetadata, len(b), MaxMetadataSize)
	}
	if d := jsonDepth(b); d > MaxMetadataDepth {
		return fmt.Errorf("%w: nested %d deep, more than %d", ErrInvalidMetadata, d, MaxMetadataDepth)
	}
	return nil
}

// jsonDepth returns how deeply valid JSON nests objects and arrays.
func jsonDepth(b []byte) int {
	depth, deepest, inString, escaped := 0, 0, false, false
	for _, ch := range b {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case ch == '\\':
				escaped = true
			case ch == '"':
				inString = false
			}
		case ch == '"':
			inString = true
		case ch == '{' || ch == '[':
			depth++
			deepest = max(deepest, depth)
		case ch == '}' || ch == ']':
			depth--
		}
	}
	return deepest
}

// retryBackoff is the wait between the attempts of a message (WithBackoff).
func (c config) retryBackoff() backoff {
	return backoff{base: c.backoffBase, max: c.backoffMax, jitter: c.backoffJitter}
}

// Validate reports whether p is a valid policy, with an error wrapping
// ErrInvalidPacing that names the bad field.
func (p Pacing) Validate() error {
	bad := func(field string) error { return fmt.Errorf("%w: %s", ErrInvalidPacing, field) }
	switch {
	case p.MinGap < 0 || p.MaxGap < 0 || p.MaxGap < p.MinGap:
		return bad("gap (0 <= MinGap <= MaxGap)")
	case p.PerHour < 0:
		return bad("PerHour")
	case p.PerDay < 0:
		return bad("PerDay")
	case p.NewContactsPerDay < 0:
		return bad("NewContactsPerDay")
	case p.WarmupDays < 0 || p.WarmupStart < 0 || (p.WarmupDays > 0 && (p.WarmupStart == 0 || p.WarmupGrowth < 1)):
		return bad("warm-up (WarmupStart > 0 and WarmupGrowth >= 1 when WarmupDays > 0)")
	case p.WindowStart < 0 || p.WindowStart >= 24*time.Hour || p.WindowEnd < 0 || p.WindowEnd > 24*time.Hour:
		return bad("window (offsets within a day)")
	case p.SameTextPerWindow < 0 || p.SameTextWindow < 0 || (p.SameTextPerWindow > 0 && p.SameTextWindow == 0):
		return bad("same text (SameTextWindow > 0 when SameTextPerWindow is set)")
	}
	if _, err := p.location(); err != nil {
		return bad("Location: " + err.Error())
	}
	return nil
}

// CheckProxy reports whether proxy is a URL a browser can use: empty, or
// http, https or socks5 with a host and a port, and nothing else. Its error
// wraps ErrProxy and never holds the credentials.
func CheckProxy(proxy string) error {
	if proxy == "" {
		return nil
	}
	u, err := url.Parse(proxy)
	if err != nil {
		return fmt.Errorf("%w: not a URL", ErrProxy)
	}
	switch u.Scheme {
	case "http", "https", "socks5":
	default:
		return fmt.Errorf("%w: scheme %q (want http, https or socks5)", ErrProxy, u.Scheme)
	}
	if u.Hostname() == "" || u.Port() == "" {
		return fmt.Errorf("%w: %s needs a host and a port", ErrProxy, MaskProxy(proxy))
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%w: %s has a path or a query", ErrProxy, MaskProxy(proxy))
	}
	return nil
}
