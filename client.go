package wasend

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// Sender is the whole surface that host code calls: sending, following and
// controlling jobs, and managing browser contexts. *Client implements it;
// hosts that want to fake it in their own tests can. Per-call options
// (SendOption) let the library add a setting without changing the
// interface.
//
// Implementations must be safe for concurrent use.
type Sender interface {
	// Send validates a single message, records it as a pending job and
	// enqueues it. It returns the job.
	Send(ctx context.Context, contextID int64, to, text string, opts ...SendOption) (Job, error)
	// SendBulk validates a list of messages, records them as one pending
	// bulk job and enqueues it. The messages go out in order.
	SendBulk(ctx context.Context, contextID int64, messages []BulkMessage, opts ...SendOption) (Job, error)
	// Job returns a job with the status of each of its messages.
	Job(ctx context.Context, id int64) (Job, error)
	// Cancel cancels a job; its unsent messages are marked cancelled.
	Cancel(ctx context.Context, id int64) (Job, error)
	// Pause pauses a job after the message in flight.
	Pause(ctx context.Context, id int64) (Job, error)
	// Resume resumes a paused job from its first unsent message.
	Resume(ctx context.Context, id int64) (Job, error)
	// Stats counts jobs and messages by kind, status and browser context,
	// and reports the queue's counters.
	Stats(ctx context.Context) (Stats, error)
	// Clean deletes the finished jobs older than olderThan.
	Clean(ctx context.Context, olderThan time.Duration) (int64, error)

	// CreateContext launches and records a new browser context; its QR
	// codes arrive as session events.
	CreateContext(ctx context.Context, opts ...ContextOption) (BrowserContext, error)
	// UpdateContext changes a browser context's pacing policy or proxy.
	UpdateContext(ctx context.Context, id int64, opts ...ContextOption) (BrowserContext, error)
	// OpenContext launches, in this process, the session of a browser
	// context that exists already.
	OpenContext(ctx context.Context, id int64) (BrowserContext, error)
	// CloseContext closes a browser context for good and fails its
	// waiting jobs.
	CloseContext(ctx context.Context, id int64) error
	// Context returns a browser context.
	Context(ctx context.Context, id int64) (BrowserContext, error)
	// Contexts returns every browser context.
	Contexts(ctx context.Context) ([]BrowserContext, error)
	// RequestPairingCode starts a login by phone number on a browser
	// context this process holds, and returns the code to type on the
	// phone.
	RequestPairingCode(ctx context.Context, contextID int64, phone string) (string, error)

	// Run runs the workers until ctx is done.
	Run(ctx context.Context) error
	// Close stops the workers and closes the sessions this process holds.
	Close() error
}

// Client is wasend's front end: it validates and records send requests,
// runs the workers that send them through live sessions, and manages the
// browser contexts this process holds. Build it with New.
//
// The Client owns the runtime's components and starts and stops them: the
// event pump and the lease keeper from the first context it launches (or
// from Run) until Close, and the dispatcher, its executor and the sweeper
// while Run runs. The components never call back into the Client.
type Client struct {
	queue Queue
	store Store
	cfg   config
	log   *slog.Logger
	owner string

	contexts  *registry
	enq       *enqueuer
	events    *eventPump
	leases    *leaseKeeper
	consumers *dispatcher
	launcher  *launcher
	exec      *executor
	gov       *governor
	balancer  *balancer
	sweeper   *sweeper
	relay     *relay // nil without WithOutbox
	supp      *suppressor
	inbound   *inbound
	follower  *follower
	checker   *checker
	hib       *hibernator
	// calls counts the calls into sessions other than sends (number
	// checks, reads, acks to follow) that are in flight, and the writes
	// still retried (opt-outs); endLife ends the latter, at Close.
	calls   sync.WaitGroup
	endLife context.CancelFunc

	mu      sync.Mutex
	closed  bool
	started bool               // the event pump and the lease keeper run
	stopRun context.CancelFunc // while Run runs
	runDone chan struct{}      // closed when Run returns
}

// New builds a Client on a browser pool, a queue and a store. None of them
// is closed by the Client. It validates the options and returns an error
// wrapping ErrInvalidOption when one is wrong. New starts no goroutine.
func New(pool BrowserPool, queue Queue, store Store, opts ...Option) (*Client, error) {
	if pool == nil || queue == nil || store == nil {
		return nil, fmt.Errorf("%w: pool, queue and store are required", ErrInvalidOption)
	}
	cfg := defaultConfig()
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.observer == nil {
		cfg.observer = noObserver{}
	}
	camps, _ := store.(CampaignStore)
	// The optional interfaces of the store itself: the outbox's wrapper
	// below hides them.
	supps, _ := store.(SuppressionStore)
	inbox, _ := store.(InboxStore)
	rcpt, _ := store.(ReceiptStore)
	nums, _ := store.(NumberStore)
	optOut, err := newOptOut(cfg.optOutKeywords())
	if err != nil {
		return nil, err
	}
	var rl *relay
	if cfg.outbox != nil {
		ob, ok := store.(OutboxStore)
		if !ok {
			return nil, fmt.Errorf("%w: WithOutbox needs a store that keeps an outbox (OutboxStore)", ErrNotSupported)
		}
		rl = &relay{outbox: ob, handler: cfg.outbox, batch: DefaultEventBatch, lease: cfg.outboxLease,
			tries: cfg.outboxAttempts, poll: DefaultEventPoll,
			backoff: backoff{base: cfg.backoffBase, max: max(cfg.outboxBackoffMax, cfg.backoffBase), jitter: cfg.backoffJitter},
			now:     func() time.Time { return cfg.now().UTC() }, kick: make(chan struct{}, 1)}
		ox := &outboxing{Store: store, camps: camps, outbox: ob, now: func() time.Time { return cfg.now().UTC() }, wake: rl.wake,
			pii: cfg.eventPII}
		store = ox
		if camps != nil {
			camps = ox
		}
	}
	c := &Client{queue: queue, store: store, cfg: cfg, owner: cfg.owner,
		log: cfg.logger.With("component", "wasend")}
	leaser := cfg.leaser
	if !cfg.leaserSet {
		leaser, _ = queue.(Leaser)
	}
	if c.owner == "" {
		c.owner = defaultOwner()
	}
	// The components' clock is the option's, not a method of the Client:
	// they never call back into it.
	now := func() time.Time { return cfg.now().UTC() }
	c.contexts = newRegistry()
	c.enq = &enqueuer{store: store, queue: queue, observer: cfg.observer, now: now, log: c.log}
	c.events = &eventPump{queue: newEventQueue(), contexts: c.contexts, store: store, enq: c.enq,
		handler: cfg.onEvent, secrets: cfg.eventSecrets, now: now, log: c.log}
	if ox, ok := store.(*outboxing); ok {
		c.events.tell = ox.tell
	}
	c.consumers = newDispatcher(queue, c.contexts, cfg.sweepInterval, c.log)
	c.leases = &leaseKeeper{leaser: leaser, owner: c.owner, ttl: cfg.leaseTTL, contexts: c.contexts, store: store,
		enq: c.enq, consumers: c.consumers, closeTimeout: cfg.shutdownTimeout, now: now, log: c.log,
		done: make(chan struct{})}
	c.launcher = &launcher{pool: pool, store: store, contexts: c.contexts, leases: c.leases, events: c.events,
		consumers: c.consumers, closeTimeout: cfg.shutdownTimeout, now: now, log: c.log}
	c.gov = &governor{store: store, policy: cfg.pacing, breaker: cfg.breaker, enq: c.enq, events: c.events,
		observer: cfg.observer, now: now, log: c.log}
	c.exec = newExecutor(store, queue, cfg, c.contexts, c.enq, c.events, c.gov, now, c.log)
	c.balancer = &balancer{store: store, camps: camps, queue: queue, gov: c.gov, events: c.events, enq: c.enq,
		now: now, log: c.log}
	c.sweeper = &sweeper{store: store, queue: queue, leaser: leaser, contexts: c.contexts, claims: &c.exec.claims,
		enq: c.enq, launcher: c.launcher, balancer: c.balancer, interval: cfg.sweepInterval, lostAfter: cfg.lostAfter,
		leaseTTL: cfg.leaseTTL, takeover: cfg.takeover, now: now, log: c.log, freeSince: make(map[int64]time.Time)}
	life, endLife := context.WithCancel(context.Background())
	c.endLife = endLife
	var nt notices
	if rl != nil {
		rl.owner, rl.log = c.owner, c.log.With("component", "relay")
		c.relay = rl
		nt = notices{on: true, pii: cfg.eventPII, wake: rl.wake}
	}
	_, guard := supps.(SuppressionGuard)
	c.supp = &suppressor{store: supps, guard: guard, notices: nt, now: now, log: c.log}
	c.exec.supp = c.supp
	c.follower = newFollower(&follower{rcpt: rcpt, store: c.store, contexts: c.contexts, followFor: cfg.followFor,
		window: cfg.receiptWindow, max: cfg.maxFollowed, timeout: cfg.sendTimeout, grace: cfg.hangGrace, calls: &c.calls,
		now: now, log: c.log})
	c.exec.follower = c.follower
	c.checker = &checker{nums: nums, mem: newNumberMemo(), ttl: cfg.numberTTL, negTTL: cfg.notOnWATTL,
		timeout: cfg.sendTimeout, grace: cfg.hangGrace, calls: &c.calls, now: now, log: c.log}
	c.exec.checker = c.checker
	c.hib = &hibernator{pool: pool, store: store, contexts: c.contexts, events: c.events, idle: cfg.hibIdle,
		maxAwake: cfg.maxAwake, catchUp: cfg.catchUp, wakeTimeout: cfg.wakeTimeout, retry: cfg.contextWait,
		closeTimeout: cfg.shutdownTimeout, tick: cfg.sweepInterval, now: now, log: c.log, turns: newWakeGate(cfg.wakeConc)}
	c.exec.hib = c.hib
	c.sweeper.follower = c.follower
	c.inbound = &inbound{store: c.store, rcpt: rcpt, follower: c.follower, inbox: inbox, supp: c.supp, optOut: optOut, notices: nt, contexts: c.contexts,
		markRead: cfg.markRead, timeout: cfg.sendTimeout, grace: cfg.hangGrace, calls: &c.calls, life: life,
		now: now, log: c.log, seen: newRecentSet(recentIncoming), pii: cfg.eventPII, enq: c.enq}
	c.events.inbound = c.inbound
	return c, nil
}

// startLocked starts the event pump and the lease keeper, once, unless the
// Client is closed. The caller holds c.mu.
func (c *Client) startLocked() error {
	if c.closed {
		return ErrClosed
	}
	if !c.started {
		c.started = true
		c.events.start()
		c.leases.start()
	}
	return nil
}

// start is startLocked for a caller that does not hold c.mu.
func (c *Client) start() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.startLocked()
}

// Owner returns the name of this process in leases (WithOwnerID).
func (c *Client) Owner() string { return c.owner }

func (c *Client) now() time.Time { return c.cfg.now().UTC() }

// Send validates a single message, records it as a pending job and enqueues
// it. The phone number is normalized to E.164 and the text must be valid,
// non-empty UTF-8 of at most MaxTextLength characters; the browser context
// must exist and be neither closed nor in error (a disconnected context is
// accepted: the job waits for it). Invalid input returns an error wrapping
// a *ValidationError (and its sentinel), and nothing is recorded.
//
// With IdempotencyKey, a second call with the same key returns the job of
// the first, records nothing and enqueues nothing, in this process or any
// other that shares the store; a key used for a different request returns
// that job and an error wrapping ErrIdempotencyConflict.
//
// If the job is recorded but the queue cannot take it, Send logs a warning
// and returns the pending job with a nil error: the job is not lost, since
// Run's sweep enqueues it again. A failure of the store returns an error
// wrapping ErrStore and records nothing.
func (c *Client) Send(ctx context.Context, contextID int64, to, text string, opts ...SendOption) (Job, error) {
	if err := c.checkOpen(); err != nil {
		return Job{}, err
	}
	o, err := sendOptionsOf(opts)
	if err != nil {
		return Job{}, err
	}
	if o.delaySet {
		return Job{}, &ValidationError{Index: -1, Field: "delay", Err: fmt.Errorf("%w: a single message has no delay", ErrInvalidDelay)}
	}
	if o.move {
		return Job{}, &ValidationError{Index: -1, Field: "move", Err: fmt.Errorf("%w: AllowMoves is for campaigns", ErrInvalidOption)}
	}
	phone, err := CanonicalPhone(to)
	if err != nil {
		return Job{}, &ValidationError{Index: -1, Field: "to", Err: err}
	}
	var media *Media
	if o.media != nil {
		m, err := checkMedia(*o.media, text)
		if err != nil {
			return Job{}, &ValidationError{Index: -1, Field: "media", Err: err}
		}
		media = &m
	} else if err := checkText(text); err != nil {
		return Job{}, &ValidationError{Index: -1, Field: "text", Err: err}
	}
	// A store that guards the list checks it in the INSERT itself.
	unsuppressed := c.supp.guarded(phone)
	if unsuppressed == nil {
		if sup, ok, err := c.supp.one(ctx, phone); err != nil {
			return Job{}, err
		} else if ok {
			return Job{}, &ValidationError{Index: -1, Field: "to", Err: suppressedError(phone, sup)}
		}
	}
	return c.createJob(ctx, Job{
		ContextID:      contextID,
		Kind:           KindSingle,
		Metadata:       o.metadata,
		IdempotencyKey: o.key,
		NotBefore:      o.notBefore,
		Messages:       []Message{{To: phone, Text: text, Media: media}},
		Unsuppressed:   unsuppressed,
	}, nil)
}

// SendBulk validates a list of messages, records them as one pending bulk
// job and enqueues it. Every message is validated as in Send before
// anything is recorded; the first bad one is reported with its index in a
// *ValidationError. The messages go out in order, Delay apart (default:
// WithBulkDelay). IdempotencyKey works as in Send.
func (c *Client) SendBulk(ctx context.Context, contextID int64, messages []BulkMessage, opts ...SendOption) (Job, error) {
	if err := c.checkOpen(); err != nil {
		return Job{}, err
	}
	o, err := sendOptionsOf(opts)
	if err != nil {
		return Job{}, err
	}
	if o.move {
		return Job{}, &ValidationError{Index: -1, Field: "move", Err: fmt.Errorf("%w: AllowMoves is for campaigns", ErrInvalidOption)}
	}
	if o.media != nil {
		return Job{}, &ValidationError{Index: -1, Field: "media", Err: errAttachBulk}
	}
	delay := c.cfg.bulkDelay
	if o.delaySet {
		delay = o.delay
	}
	msgs, err := bulkMessages(messages, c.cfg.maxBulkMessages)
	if err != nil {
		return Job{}, err
	}
	sups, err := c.supp.check(ctx, recipientsOf(msgs))
	if err != nil {
		return Job{}, err
	}
	return c.createJob(ctx, Job{
		ContextID:      contextID,
		Kind:           KindBulk,
		Delay:          delay,
		Metadata:       o.metadata,
		IdempotencyKey: o.key,
		NotBefore:      o.notBefore,
		Messages:       msgs,
	}, sups)
}

// recipientsOf returns the recipients of messages, each once.
func recipientsOf(msgs []Message) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range msgs {
		if !seen[m.To] {
			seen[m.To] = true
			out = append(out, m.To)
		}
	}
	return out
}

// bulkMessages validates the messages of a bulk send, at most max of them.
func bulkMessages(messages []BulkMessage, max int) ([]Message, error) {
	if len(messages) == 0 {
		return nil, &ValidationError{Index: -1, Field: "messages", Err: ErrNoMessages}
	}
	if len(messages) > max {
		return nil, &ValidationError{Index: -1, Field: "messages", Err: ErrTooManyMessages}
	}
	msgs := make([]Message, len(messages))
	checked := map[Media]*Media{} // a file attached to many messages is read once
	for i, m := range messages {
		phone, err := CanonicalPhone(m.To)
		if err != nil {
			return nil, &ValidationError{Index: i, Field: "to", Err: err}
		}
		var media *Media
		if m.Media != nil {
			media = checked[*m.Media]
			if err := checkCaption(m.Text); err != nil {
				return nil, &ValidationError{Index: i, Field: "media", Err: err}
			}
			if media == nil {
				md, err := checkMedia(*m.Media, m.Text)
				if err != nil {
					return nil, &ValidationError{Index: i, Field: "media", Err: err}
				}
				media = &md
				checked[*m.Media] = media
			}
			cp := *media // each message its own copy
			media = &cp
		} else if err := checkText(m.Text); err != nil {
			return nil, &ValidationError{Index: i, Field: "text", Err: err}
		}
		msgs[i] = Message{To: phone, Text: m.Text, Media: media}
	}
	return msgs, nil
}

// prepareJob fills in what the Client decides about a new job, and
// returns how long its delivery waits in the queue.
func (c *Client) prepareJob(j *Job, now time.Time) time.Duration {
	j.Status = JobPending
	j.MaxAttempts = c.cfg.maxAttempts
	j.NextRunAt = now
	j.EnqueuedAt = now
	if j.NotBefore.After(now) {
		j.NextRunAt, j.Wait = j.NotBefore, WaitNotBefore
		return j.NotBefore.Sub(now)
	}
	j.NotBefore = time.Time{}
	return 0
}

// createJob records a job and enqueues it. The messages to the
// recipients in refuse (suppressed numbers) fail at once, before the job
// is enqueued, without an attempt.
func (c *Client) createJob(ctx context.Context, j Job, refuse map[string]Suppression) (Job, error) {
	delay := c.prepareJob(&j, c.now())
	// The store refuses a job for a context that is missing, closed or in
	// error, in the same statement that records it.
	job, err := c.store.CreateJob(ctx, j)
	if len(j.Unsuppressed) > 0 && errors.Is(err, ErrSuppressed) {
		return Job{}, &ValidationError{Index: -1, Field: "to", Err: c.supp.refusal(ctx, j.Messages[0].To)}
	}
	if errors.Is(err, ErrJobExists) {
		if !sameRequest(job, j) {
			return job, fmt.Errorf("%w: job %d", ErrIdempotencyConflict, job.ID)
		}
		c.log.Debug("idempotency key seen before; returning its job", "job", job.ID)
		return job, nil
	}
	if err != nil {
		return Job{}, err
	}
	job = c.refuseSuppressed(ctx, job, refuse)
	// A job whose messages were all refused has nothing to send.
	if job.Status == JobPending {
		c.exec.fresh.put(job)
		if err := c.queue.Enqueue(ctx, deliveryOf(job), delay); err != nil {
			c.log.Warn("job recorded but not enqueued; the sweep will enqueue it",
				"job", job.ID, "context", job.ContextID, "err", err)
		}
	}
	c.log.Debug("job created", "job", job.ID, "kind", job.Kind, "context", job.ContextID,
		"messages", len(job.Messages), "to", MaskPhone(job.Messages[0].To))
	return job, nil
}

// refuseSuppressed fails, without an attempt, the pending messages of a
// new job whose recipients are suppressed (refuse), and completes the job
// when none is left to send. It returns the job as it is then. A failure
// of the store is logged: each message's turn checks the list again.
func (c *Client) refuseSuppressed(ctx context.Context, job Job, refuse map[string]Suppression) Job {
	if len(refuse) == 0 {
		return job
	}
	now := c.now()
	refused := 0
	for _, m := range job.Messages {
		sup, ok := refuse[m.To]
		if !ok || m.Status != MessagePending {
			continue
		}
		f := failureOf(suppressedError(m.To, sup))
		ok, err := c.store.Apply(ctx, Step{Message: refuseMessage(m.ID, f, now)})
		if err != nil {
			c.log.Warn("could not refuse a message to a suppressed number; its turn will", "job", job.ID,
				"message", m.ID, "err", err)
			continue
		}
		if ok {
			refused++
			c.cfg.observer.Turn(Turn{ContextID: job.ContextID, JobID: job.ID, MessageID: m.ID, Kind: job.Kind,
				Status: MessageFailed, Final: true, ErrorKind: ErrorKindSuppressed})
		}
	}
	if refused > 0 {
		c.log.Info("messages to suppressed numbers refused", "job", job.ID, "messages", refused)
	}
	after, err := c.store.Job(ctx, job.ID)
	if err != nil {
		return job
	}
	for _, m := range after.Messages {
		if !m.Status.Final() {
			return after
		}
	}
	if ok, err := c.store.Apply(ctx, Step{Job: settleJob(job.ID, JobPending, c.now())}); err == nil && ok {
		if j, err := c.store.Job(ctx, job.ID); err == nil {
			return j
		}
	}
	return after
}

// sameRequest reports whether an existing job is what the request j asks
// for: the same context, kind, delay and messages.
func sameRequest(have, j Job) bool {
	if have.ContextID != j.ContextID || have.Kind != j.Kind || len(have.Messages) != len(j.Messages) ||
		(j.Kind == KindBulk && have.Delay != j.Delay) {
		return false
	}
	for i, m := range have.Messages {
		if m.To != j.Messages[i].To || m.Text != j.Messages[i].Text || !sameMedia(m.Media, j.Messages[i].Media) {
			return false
		}
	}
	return true
}

// MaxCampaignContexts is the largest pool of contexts a campaign may name.
const MaxCampaignContexts = 1000

// SendCampaign validates a list of messages and sends them over a pool of
// browser contexts, as one campaign. Every message is validated as in
// SendBulk (at most WithMaxBulkMessages per context of the pool) and every
// context must take jobs, before anything is recorded; the store must keep
// campaigns (CampaignStore), or SendCampaign returns ErrNotSupported.
//
// Each recipient is assigned to one context, so that replies go to one
// thread: a recipient a context of the pool wrote to before stays with it
// (the first in pool order), the same recipient twice goes to one
// context, and the others are shared in proportion to the new contacts
// each context may still take today (its pacing budget; evenly when none
// may). The campaign is recorded in one transaction as one bulk job per
// context that got messages, in the order given; each job then runs and
// paces as any bulk job of its context.
//
// While it runs, messages flow to the contexts with budget: a job that
// waits longer than CampaignFlowAfter for its context's daily caps gives
// its new contacts to the contexts of the pool with budget left, at the
// next sweep (WithSweep). With AllowMoves, every unsent message of a
// context that becomes restricted, banned or closed moves to the others
// as well (only those to new contacts under a lock on new chats); without
// it, they wait for the restriction to end, or fail with the ban. A
// message moves at most once at a time and only while no attempt of it is
// in flight: the move cancels it (ErrorKindMoved) and creates its copy
// (Message.MovedFrom) in one step of the store, so that it is sent at
// most once wherever it goes. Delay, Metadata, NotBefore and
// IdempotencyKey work as in SendBulk; a key names the campaign.
func (c *Client) SendCampaign(ctx context.Context, pool []int64, messages []BulkMessage, opts ...SendOption) (Campaign, error) {
	if err := c.checkOpen(); err != nil {
		return Campaign{}, err
	}
	cs, ok := c.store.(CampaignStore)
	if !ok {
		return Campaign{}, fmt.Errorf("%w: the store keeps no campaigns (CampaignStore)", ErrNotSupported)
	}
	o, err := sendOptionsOf(opts)
	if err != nil {
		return Campaign{}, err
	}
	if o.media != nil {
		return Campaign{}, &ValidationError{Index: -1, Field: "media", Err: errAttachBulk}
	}
	delay := c.cfg.bulkDelay
	if o.delaySet {
		delay = o.delay
	}
	if len(pool) == 0 || len(pool) > MaxCampaignContexts {
		return Campaign{}, &ValidationError{Index: -1, Field: "contexts",
			Err: fmt.Errorf("%w: %d contexts, want 1 to %d", ErrInvalidPool, len(pool), MaxCampaignContexts)}
	}
	bcs := make([]BrowserContext, len(pool))
	seen := map[int64]bool{}
	for i, id := range pool {
		if seen[id] {
			return Campaign{}, &ValidationError{Index: -1, Field: "contexts", Err: fmt.Errorf("%w: context %d named twice", ErrInvalidPool, id)}
		}
		seen[id] = true
		if bcs[i], err = c.store.Context(ctx, id); err != nil {
			return Campaign{}, err
		}
	}
	msgs, err := bulkMessages(messages, c.cfg.maxBulkMessages*len(pool))
	if err != nil {
		return Campaign{}, err
	}
	sups, err := c.supp.check(ctx, recipientsOf(msgs))
	if err != nil {
		return Campaign{}, err
	}
	parts, err := c.balancer.assign(ctx, bcs, msgs)
	if err != nil {
		return Campaign{}, err
	}
	now := c.now()
	want := Campaign{Contexts: append([]int64(nil), pool...), Move: o.move, Metadata: o.metadata, IdempotencyKey: o.key}
	var wait time.Duration
	for i, idx := range parts {
		if len(idx) == 0 {
			continue
		}
		j := Job{ContextID: pool[i], Kind: KindBulk, Delay: delay, Metadata: o.metadata, NotBefore: o.notBefore}
		for _, k := range idx {
			j.Messages = append(j.Messages, msgs[k])
		}
		wait = c.prepareJob(&j, now)
		want.Jobs = append(want.Jobs, j)
	}
	camp, err := cs.CreateCampaign(ctx, want)
	if errors.Is(err, ErrCampaignExists) {
		if !sameCampaign(camp, want) {
			return camp, fmt.Errorf("%w: campaign %d", ErrIdempotencyConflict, camp.ID)
		}
		c.log.Debug("idempotency key seen before; returning its campaign", "campaign", camp.ID)
		return camp, nil
	}
	if err != nil {
		return Campaign{}, err
	}
	if len(sups) > 0 {
		for i, j := range camp.Jobs {
			camp.Jobs[i] = c.refuseSuppressed(ctx, j, sups)
		}
	}
	for _, j := range camp.Jobs {
		if j.Status != JobPending {
			continue // every message was refused
		}
		if err := c.queue.Enqueue(ctx, deliveryOf(j), wait); err != nil {
			c.log.Warn("campaign job recorded but not enqueued; the sweep will enqueue it", "job", j.ID, "err", err)
		}
	}
	c.log.Info("campaign created", "campaign", camp.ID, "contexts", len(pool), "jobs", len(camp.Jobs), "messages", len(msgs))
	return camp, nil
}

// sameCampaign reports whether an existing campaign is what the request
// asks for: the same pool, in order, and the same messages (as a
// multiset: their split may differ).
func sameCampaign(have, want Campaign) bool {
	if len(have.Contexts) != len(want.Contexts) {
		return false
	}
	for i, id := range have.Contexts {
		if want.Contexts[i] != id {
			return false
		}
	}
	n := map[[3]string]int{}
	for _, j := range want.Jobs {
		for _, m := range j.Messages {
			n[[3]string{m.To, m.Text, contentKey(m)}]++
		}
	}
	for _, j := range have.Jobs {
		for _, m := range j.Messages {
			if m.MovedFrom == 0 {
				n[[3]string{m.To, m.Text, contentKey(m)}]--
			}
		}
	}
	for _, v := range n {
		if v != 0 {
			return false
		}
	}
	return true
}

// Campaign returns a campaign with its jobs and the status of each of
// their messages (Campaign.Messages follows the moves).
func (c *Client) Campaign(ctx context.Context, id int64) (Campaign, error) {
	cs, ok := c.store.(CampaignStore)
	if !ok {
		return Campaign{}, fmt.Errorf("%w: the store keeps no campaigns (CampaignStore)", ErrNotSupported)
	}
	return cs.Campaign(ctx, id)
}

// Campaigns lists the campaigns the filter selects (Active: those with a
// job not finished), by id, without their jobs, DefaultJobsLimit at a
// time unless f.Limit says otherwise (at most MaxJobsPage); page with
// f.AfterID. A malformed filter gives a *ValidationError wrapping
// ErrInvalidFilter.
func (c *Client) Campaigns(ctx context.Context, f CampaignFilter) ([]Campaign, error) {
	cs, ok := c.store.(CampaignStore)
	if !ok {
		return nil, fmt.Errorf("%w: the store keeps no campaigns (CampaignStore)", ErrNotSupported)
	}
	if f.Limit < 0 || f.Limit > MaxJobsPage || f.AfterID < 0 {
		return nil, &ValidationError{Index: -1, Field: "limit", Err: fmt.Errorf("%w: limit %d, after %d", ErrInvalidFilter, f.Limit, f.AfterID)}
	}
	return cs.Campaigns(ctx, f)
}

// PauseCampaign pauses every job of a campaign that is pending or running,
// as Pause does; a message that moves while it pauses is paused where it
// lands.
func (c *Client) PauseCampaign(ctx context.Context, id int64) (Campaign, error) {
	return c.campaignControl(ctx, id, func(j Job) bool { return j.Status == JobPending || j.Status == JobRunning }, c.Pause)
}

// ResumeCampaign resumes every paused job of a campaign, as Resume does.
func (c *Client) ResumeCampaign(ctx context.Context, id int64) (Campaign, error) {
	return c.campaignControl(ctx, id, func(j Job) bool { return j.Status == JobPaused }, c.Resume)
}

// CancelCampaign cancels every job of a campaign that is not finished, as
// Cancel does.
func (c *Client) CancelCampaign(ctx context.Context, id int64) (Campaign, error) {
	return c.campaignControl(ctx, id, func(j Job) bool { return !j.Status.Final() }, c.Cancel)
}

// campaignControl applies op to the jobs of a campaign that want it, and
// looks again until none does (a move may add a job meanwhile).
func (c *Client) campaignControl(ctx context.Context, id int64, want func(Job) bool,
	op func(context.Context, int64) (Job, error)) (Campaign, error) {
	for range 5 {
		camp, err := c.Campaign(ctx, id)
		if err != nil {
			return camp, err
		}
		done := true
		for _, j := range camp.Jobs {
			if !want(j) {
				continue
			}
			done = false
			if _, err := op(ctx, j.ID); err != nil && !errors.Is(err, ErrJobFinished) {
				return camp, err
			}
		}
		if done {
			return camp, nil
		}
	}
	return Campaign{}, fmt.Errorf("%w: campaign %d keeps changing", ErrJobState, id)
}

// Job returns a job with the status of each of its messages.
func (c *Client) Job(ctx context.Context, id int64) (Job, error) {
	return c.store.Job(ctx, id)
}

// MaxJobsPage is the largest page of jobs Jobs returns.
const MaxJobsPage = 1000

// JobPage is one page of a job listing (Jobs).
type JobPage struct {
	// Jobs are the page's jobs, without their messages (Job has them).
	Jobs []Job
	// Next is the filter of the next page, or nil after the last one.
	Next *JobFilter
}

// Jobs lists the jobs the filter selects (by context, campaign, status,
// kind and creation time), without their messages, a page at a time: by
// id, oldest first, or newest first with f.Newest. A page holds f.Limit
// jobs (default DefaultJobsLimit, at most MaxJobsPage); Next is the same
// filter past the page (keyset paging: a job created meanwhile never
// shifts a page), nil when the page was the last. A malformed filter
// gives a *ValidationError wrapping ErrInvalidFilter.
func (c *Client) Jobs(ctx context.Context, f JobFilter) (JobPage, error) {
	if err := checkFilter(f); err != nil {
		return JobPage{}, err
	}
	if f.Limit == 0 {
		f.Limit = DefaultJobsLimit
	}
	f.Statuses = append([]JobStatus(nil), f.Statuses...)
	jobs, err := c.store.Jobs(ctx, f)
	if err != nil {
		return JobPage{}, err
	}
	page := JobPage{Jobs: jobs}
	if len(jobs) == f.Limit {
		next := f
		if f.Newest {
			next.BeforeID = jobs[len(jobs)-1].ID
		} else {
			next.AfterID = jobs[len(jobs)-1].ID
		}
		page.Next = &next
	}
	return page, nil
}

// checkFilter validates a job listing's filter.
func checkFilter(f JobFilter) error {
	bad := func(field, format string, args ...any) error {
		return &ValidationError{Index: -1, Field: field, Err: fmt.Errorf("%w: "+format, append([]any{ErrInvalidFilter}, args...)...)}
	}
	switch {
	case f.Limit < 0 || f.Limit > MaxJobsPage:
		return bad("limit", "%d, want 0 to %d", f.Limit, MaxJobsPage)
	case f.Kind != "" && !f.Kind.Valid():
		return bad("kind", "%q", f.Kind)
	case f.AfterID < 0 || f.BeforeID < 0 || f.ContextID < 0 || f.CampaignID < 0:
		return bad("id", "a negative id")
	case !f.CreatedAfter.IsZero() && !f.CreatedBefore.IsZero() && !f.CreatedAfter.Before(f.CreatedBefore):
		return bad("created", "created after %v and before %v selects nothing", f.CreatedAfter, f.CreatedBefore)
	}
	for _, st := range f.Statuses {
		if !st.Valid() {
			return bad("statuses", "%q", st)
		}
	}
	return nil
}

// Cancel cancels a job that is pending, running or paused: the job becomes
// cancelled and its pending messages too. A message in flight finishes and
// keeps its outcome; an unconfirmed one (it may have been sent) becomes
// unknown. Cancelling a finished job returns ErrJobFinished.
func (c *Client) Cancel(ctx context.Context, id int64) (Job, error) {
	return c.control(ctx, id, func(j Job) *JobTransition { return cancelJob(id, c.now()) })
}

// Pause pauses a pending or running job. A running job stops after the
// message in flight. Pausing a paused job does nothing; pausing a finished
// job returns ErrJobFinished.
func (c *Client) Pause(ctx context.Context, id int64) (Job, error) {
	return c.control(ctx, id, func(j Job) *JobTransition {
		if j.Status == JobPaused {
			return nil
		}
		return pauseJob(id, c.now())
	})
}

// Resume makes a paused job pending again and enqueues it; it continues from
// its first unsent message. Resuming a pending or running job does nothing;
// resuming a finished job returns ErrJobFinished.
func (c *Client) Resume(ctx context.Context, id int64) (Job, error) {
	job, err := c.control(ctx, id, func(j Job) *JobTransition {
		if j.Status != JobPaused {
			return nil
		}
		return resumeJob(id, c.now())
	})
	if err != nil {
		return job, err
	}
	if job.Status == JobPending {
		if err := c.queue.Enqueue(ctx, deliveryOf(job), 0); err != nil {
			c.log.Warn("resumed job not enqueued; the sweep will enqueue it", "job", id, "err", err)
		}
	}
	return job, nil
}

// control applies a user's change to a job, retrying when the job changed
// status under it.
func (c *Client) control(ctx context.Context, id int64, build func(Job) *JobTransition) (Job, error) {
	if err := c.checkOpen(); err != nil {
		return Job{}, err
	}
	for range 5 {
		job, err := c.store.Job(ctx, id)
		if err != nil {
			return Job{}, err
		}
		if job.Status.Final() {
			return job, fmt.Errorf("%w: job %d is %s", ErrJobFinished, id, job.Status)
		}
		tr := build(job)
		if tr == nil {
			return job, nil
		}
		ok, err := c.store.Apply(ctx, Step{Job: tr})
		if err != nil {
			return job, err
		}
		if ok {
			c.log.Info("job "+string(tr.To), "job", id, "from", job.Status)
			after, err := c.store.Job(ctx, id)
			if err == nil {
				c.enq.reportEnded(job, after)
			}
			return after, err
		}
	}
	return Job{}, fmt.Errorf("%w: job %d keeps changing", ErrJobState, id)
}

// Stats are counts of jobs and messages, and the queue's counters.
type Stats struct {
	// Jobs counts jobs by kind and status. Every kind and status is present.
	Jobs map[JobKind]map[JobStatus]int64
	// Messages counts messages by status. Every status is present.
	Messages map[MessageStatus]int64
	// Delivered and Read count the sent messages whose session saw them
	// delivered and read (with a store that keeps receipts; zero
	// otherwise). A read message counts in both.
	Delivered, Read int64
	// Contexts has one entry for each browser context, by id.
	Contexts []ContextStats
	// Queue holds the queue's counters; they are -1 when the queue could
	// not be asked.
	Queue QueueStats
	// Outbox counts the events not delivered (pending and dead), with
	// WithOutbox; nil without.
	Outbox *OutboxCounts
}

// ContextStats are the counts of one browser context.
type ContextStats struct {
	ID     int64
	Status ContextStatus
	// Live reports whether this process holds the context's session.
	Live bool
	// Asleep reports that this process holds the context but closed its
	// browser while it is idle (WithHibernation); its status stays
	// available, and its next due job wakes it.
	Asleep bool
	// MemoryPSS is the memory of the session's browser (see
	// ResourceReporter), in bytes, 0 while it sleeps, or -1 when it is
	// not known here.
	MemoryPSS int64
	// Jobs counts the context's jobs by status, all kinds together.
	Jobs map[JobStatus]int64
	// Messages counts the context's messages by status.
	Messages map[MessageStatus]int64
	// Delivered and Read count its sent messages seen delivered and
	// read, as in Stats.
	Delivered, Read int64
	// Account is the number its session last logged in as, or empty.
	Account string
	// Pacing is what is left of the context's pacing budget and what its
	// next send waits for, or nil when it is neither paced nor
	// restricted.
	Pacing *PacingStats
}

// Stats counts jobs and messages by kind, status and browser context, and
// asks the queue for its counters. When the queue cannot answer, Stats
// returns the store's counts, queue counters of -1, and an error wrapping
// ErrQueue.
func (c *Client) Stats(ctx context.Context) (Stats, error) {
	counts, err := c.store.Counts(ctx)
	if err != nil {
		return Stats{}, err
	}
	contexts, err := c.store.Contexts(ctx)
	if err != nil {
		return Stats{}, err
	}
	st := Stats{
		Jobs:     make(map[JobKind]map[JobStatus]int64),
		Messages: newMessageCounts(),
	}
	for _, k := range JobKinds() {
		st.Jobs[k] = newJobCounts()
	}
	byID := make(map[int64]*ContextStats, len(contexts))
	st.Contexts = make([]ContextStats, len(contexts))
	sessions := c.contexts.sessions()
	for i, bc := range contexts {
		sess, live := sessions[bc.ID]
		st.Contexts[i] = ContextStats{ID: bc.ID, Status: bc.Status, Live: live, MemoryPSS: -1,
			Jobs: newJobCounts(), Messages: newMessageCounts(), Account: bc.Account}
		if lc := c.contexts.get(bc.ID); lc != nil && lc.asleep.Load() {
			st.Contexts[i].Asleep, st.Contexts[i].MemoryPSS = true, 0
		} else if rr, ok := sess.(ResourceReporter); ok {
			if pss, err := rr.MemoryPSS(); err == nil {
				st.Contexts[i].MemoryPSS = pss
			}
		}
		if bc.Status != ContextClosed || bc.Restriction.Kind == RestrictionBanned {
			ps, err := c.gov.stats(ctx, bc, c.contexts.get(bc.ID))
			if err != nil {
				return Stats{}, err
			}
			st.Contexts[i].Pacing = ps
		}
		byID[bc.ID] = &st.Contexts[i]
	}
	for _, jc := range counts.Jobs {
		if m, ok := st.Jobs[jc.Kind]; ok {
			m[jc.Status] += jc.N
		}
		if cs := byID[jc.ContextID]; cs != nil {
			cs.Jobs[jc.Status] += jc.N
		}
	}
	for _, mc := range counts.Messages {
		st.Messages[mc.Status] += mc.N
		if cs := byID[mc.ContextID]; cs != nil {
			cs.Messages[mc.Status] += mc.N
		}
	}
	for _, rc := range counts.Receipts {
		st.Delivered += rc.Delivered
		st.Read += rc.Read
		if cs := byID[rc.ContextID]; cs != nil {
			cs.Delivered += rc.Delivered
			cs.Read += rc.Read
		}
	}
	if c.relay != nil {
		oc, err := c.relay.outbox.EventCounts(ctx)
		if err != nil {
			return Stats{}, err
		}
		st.Outbox = &oc
	}
	qs, err := c.queue.Stats(ctx)
	if err != nil {
		st.Queue = QueueStats{Waiting: -1, Delayed: -1, InFlight: -1, Processed: -1, Retried: -1, Failed: -1, Consumers: -1}
		if !errors.Is(err, ErrQueue) {
			err = fmt.Errorf("%w: %w", ErrQueue, err)
		}
		return st, err
	}
	st.Queue = qs
	return st, nil
}

func newJobCounts() map[JobStatus]int64 {
	m := make(map[JobStatus]int64, len(JobStatuses()))
	for _, s := range JobStatuses() {
		m[s] = 0
	}
	return m
}

func newMessageCounts() map[MessageStatus]int64 {
	m := make(map[MessageStatus]int64, len(MessageStatuses()))
	for _, s := range MessageStatuses() {
		m[s] = 0
	}
	return m
}

// Clean deletes the jobs that finished (completed, failed or cancelled) more
// than olderThan ago, with their messages, and returns how many it deleted.
// It also prunes the send ledger of the entries older than two days (and
// the default policy's same-text window): pacing never looks further back.
// A negative olderThan is invalid.
func (c *Client) Clean(ctx context.Context, olderThan time.Duration) (int64, error) {
	if olderThan < 0 {
		return 0, fmt.Errorf("%w: negative age", ErrInvalidOption)
	}
	n, err := c.store.Clean(ctx, c.now().Add(-olderThan))
	if err == nil && n > 0 {
		c.log.Info("cleaned finished jobs", "jobs", n)
	}
	if err == nil {
		// Pacing looks back a day at most (in the context's zone) and
		// over its same-text window; two days and that window are kept.
		keep := 48 * time.Hour
		if w := c.cfg.pacing.SameTextWindow; w > 0 {
			keep += w
		}
		if pruned, perr := c.store.PruneSends(ctx, c.now().Add(-keep)); perr != nil {
			c.log.Warn("pruning the send ledger", "err", perr)
		} else if pruned > 0 {
			c.log.Info("pruned the send ledger", "entries", pruned)
		}
		if c.relay != nil {
			// Delivered events go with the jobs of the same age.
			if pruned, perr := c.relay.outbox.PruneEvents(ctx, c.now().Add(-olderThan)); perr != nil {
				c.log.Warn("pruning the outbox", "err", perr)
			} else if pruned > 0 {
				c.log.Info("pruned delivered events", "events", pruned)
			}
		}
	}
	return n, err
}

func (c *Client) checkOpen() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	return nil
}

// CreateContext launches a new browser context's session in this process
// and records it, with status disconnected until the session reports that
// it is logged in. Its QR codes arrive through WithEventHandler.
//
// ContextPacing and ContextProxy set its pacing policy and its proxy;
// invalid ones give a *ValidationError before anything is launched.
func (c *Client) CreateContext(ctx context.Context, opts ...ContextOption) (BrowserContext, error) {
	set, err := ContextSettingsOf(opts...)
	if err != nil {
		return BrowserContext{}, err
	}
	if err := c.start(); err != nil {
		return BrowserContext{}, err
	}
	var bc BrowserContext
	if set.Pacing != nil {
		bc.Pacing = *set.Pacing
	}
	if set.Proxy != nil {
		bc.Proxy = *set.Proxy
	}
	return c.launcher.create(ctx, bc)
}

// UpdateContext changes a browser context's settings: ContextPacing takes
// effect within a minute in the process that holds it (at once in this
// one), ContextProxy at the next launch of its session.
func (c *Client) UpdateContext(ctx context.Context, id int64, opts ...ContextOption) (BrowserContext, error) {
	set, err := ContextSettingsOf(opts...)
	if err != nil {
		return BrowserContext{}, err
	}
	bc, err := c.store.UpdateContext(ctx, id, set)
	if err != nil {
		return bc, err
	}
	if lc := c.contexts.get(id); lc != nil {
		lc.pacer.mu.Lock()
		lc.pacer.refreshAt = time.Time{}
		lc.pacer.mu.Unlock()
		bc.Session = lc.session()
	}
	c.log.Info("browser context updated", "context", id, "proxy", MaskProxy(bc.Proxy))
	return bc, nil
}

func defaultOwner() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = crand.Read(b[:])
	return fmt.Sprintf("%s:%d:%x", host, os.Getpid(), b)
}

// OpenContext launches, in this process, the session of a browser context
// that already exists (for example after a restart; a persistent session
// keeps its login). Opening a context this process holds already returns
// it. A closed context gives ErrContextClosed.
func (c *Client) OpenContext(ctx context.Context, id int64) (BrowserContext, error) {
	if err := c.start(); err != nil {
		return BrowserContext{}, err
	}
	return c.launcher.open(ctx, id)
}

// CloseContext closes a browser context for good: it stops its worker in
// this process, closes its session, marks it closed, and fails its pending
// and paused jobs with ErrContextClosed (their unsent messages are
// cancelled). A job in flight stops after its current message.
func (c *Client) CloseContext(ctx context.Context, id int64) error {
	if _, err := c.store.Context(ctx, id); err != nil {
		return err
	}
	lc := c.contexts.removeID(id)
	if _, err := c.store.Apply(ctx, Step{Context: ctxClose.context(id, c.now())}); err != nil {
		return err
	}
	if lc != nil {
		lc.stopConsumer()
		closeSession(c.log, c.cfg.shutdownTimeout, lc.session())
		c.leases.release(id)
	}
	if p, ok := c.queue.(Purger); ok {
		if err := p.Purge(ctx, id); err != nil {
			c.log.Warn("purging the queue of a closed context", "context", id, "err", err)
		}
	}
	if err := c.enq.failJobs(ctx, id, false); err != nil {
		return err
	}
	c.log.Info("browser context closed", "context", id)
	return nil
}

// ConfirmAccount confirms the account that logged into a browser context
// in place of the one it had (EventAccountChanged): the context's hold
// (RestrictionAccount) ends, the context is available again if its
// session is up, and its jobs run. When this process holds the context,
// the new account is stored (context.account); otherwise the stored
// account is cleared, and the process that holds the context stores the
// account it knows when it sees the hold gone (at its jobs' next turn),
// or the context's next login does. It returns ErrContextNotFound, or
// ErrNoAccountChange when the context is not held for an account change.
func (c *Client) ConfirmAccount(ctx context.Context, id int64) error {
	lc := c.contexts.get(id)
	for n := 1; ; n++ {
		bc, err := c.store.Context(ctx, id)
		if err != nil {
			return err
		}
		if bc.Restriction.Kind != RestrictionAccount {
			return fmt.Errorf("%w: context %d", ErrNoAccountChange, id)
		}
		ok, acct, err := c.confirmAccount(ctx, lc, bc)
		if err != nil {
			return err
		}
		if ok {
			c.log.Info("account confirmed; the context's jobs run", "context", id, "account", MaskPhone(acct))
			if lc != nil {
				c.events.hostEvent(SessionEvent{Type: EventRestriction, SystemID: lc.systemID, ContextID: id})
				if bc.Status == ContextRestricted {
					c.events.hostEvent(SessionEvent{Type: EventStatus, SystemID: lc.systemID, ContextID: id,
						Status: ContextAvailable})
				}
			}
			c.enq.wakeJobs(ctx, id)
			return nil
		}
		if n == 3 {
			// The status keeps changing under the step.
			return fmt.Errorf("%w: context %d changed while its account was confirmed", ErrContextNotAvailable, id)
		}
	}
}

// confirmAccount takes the step of ConfirmAccount for context bc, under
// lc's pacer lock when this process holds it, and returns the account it
// stored ("" when it cleared it).
func (c *Client) confirmAccount(ctx context.Context, lc *liveContext, bc BrowserContext) (bool, string, error) {
	acct := ""
	if lc != nil {
		lc.pacer.mu.Lock()
		defer lc.pacer.mu.Unlock()
		acct = lc.pacer.pendingAccount
	}
	t := releaseAccount(bc, &acct, c.now())
	if t == nil {
		return false, "", fmt.Errorf("%w: context %d", ErrContextClosed, bc.ID)
	}
	ok, err := c.store.Apply(ctx, Step{Context: t})
	if err != nil || !ok {
		return false, "", err
	}
	if lc != nil {
		lc.pacer.restriction, lc.pacer.pendingAccount = Restriction{}, ""
		lc.stale.Store(true)
	}
	return true, acct, nil
}

// Context returns a browser context, with its live session when this
// process holds it.
func (c *Client) Context(ctx context.Context, id int64) (BrowserContext, error) {
	bc, err := c.store.Context(ctx, id)
	if err != nil {
		return bc, err
	}
	if lc := c.contexts.get(id); lc != nil {
		bc.Session = lc.session()
	}
	return bc, nil
}

// Contexts returns every browser context, with the live sessions this
// process holds.
func (c *Client) Contexts(ctx context.Context) ([]BrowserContext, error) {
	list, err := c.store.Contexts(ctx)
	if err != nil {
		return nil, err
	}
	sessions := c.contexts.sessions()
	for i := range list {
		if sess, ok := sessions[list[i].ID]; ok {
			list[i].Session = sess
		}
	}
	return list, nil
}

// RequestPairingCode starts a login by phone number instead of a QR code,
// on a browser context whose session this process holds and which waits
// for a login. phone is the account's number in international form. The
// code also reaches the host as an EventPairingCode. It fails with
// ErrContextNotAvailable when this process does not hold the context, and
// with ErrNotSupported when the pool's sessions cannot pair by phone (they
// do not implement PhonePairer).
func (c *Client) RequestPairingCode(ctx context.Context, contextID int64, phone string) (string, error) {
	if err := c.checkOpen(); err != nil {
		return "", err
	}
	norm, err := NormalizePhone(phone)
	if err != nil {
		return "", &ValidationError{Index: -1, Field: "phone", Err: err}
	}
	lc := c.contexts.get(contextID)
	if lc == nil {
		if _, err := c.store.Context(ctx, contextID); err != nil {
			return "", err
		}
		return "", fmt.Errorf("%w: context %d is not held by this process", ErrContextNotAvailable, contextID)
	}
	p, ok := lc.session().(PhonePairer)
	if !ok {
		return "", fmt.Errorf("%w: the session of context %d cannot pair by phone number", ErrNotSupported, contextID)
	}
	return p.RequestPairingCode(ctx, norm)
}
