package redisqueue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	redisv8 "github.com/go-redis/redis/v8"
	"github.com/redis/go-redis/v9"
	"github.com/vmihailenco/taskq/v3"
	"github.com/vmihailenco/taskq/v3/redisq"

	"github.com/wasend/wasend"
)

// ErrConsuming is returned by Consume when the Queue already consumes the
// browser context. It wraps wasend.ErrConsuming.
var ErrConsuming = fmt.Errorf("redisqueue: queue already consumed in this process (%w)", wasend.ErrConsuming)

// Queue is a wasend.Queue, a wasend.DepthReporter and a wasend.Purger on
// Redis streams, through taskq v3, and a wasend.Leaser. Its methods are safe
// for concurrent use.
type Queue struct {
	cfg       config
	rdb       *redis.Client // v9: Enqueue, Depth, Stats, Purge, leases, group creation
	ownClient bool
	v8opt     *redisv8.Options // template of the consumers' v8 clients
	log       *slog.Logger

	closed    atomic.Bool
	closeCh   chan struct{}
	closeOnce sync.Once
	closeErr  error
	ops       sync.RWMutex   // held for reading by the calls that use rdb; Close takes it to wait for them
	consumeWG sync.WaitGroup // Consume calls running
	reapers   sync.WaitGroup // goroutines closing the v8 clients of stopped consumers

	mu        sync.Mutex
	consumers map[int64]*consumer
	known     map[int64]struct{} // contexts enqueued to or consumed, for Stats
	retired   counters           // counters of the consumers that stopped
}

type counters struct {
	processed, retried, failed int64
}

// consumer is one running Consume call.
type consumer struct {
	contextID int64
	stream    string // the context's taskq stream
	client    *guardedClient
	tq        *redisq.Queue       // set under Queue.mu
	tc        taskq.QueueConsumer // set under Queue.mu
	handlers  sync.WaitGroup      // our handler calls in flight
}

// New returns a Queue configured by opts. It does not contact Redis; the
// first Enqueue or Consume does.
func New(opts ...Option) (*Queue, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	q := &Queue{
		cfg:       cfg,
		log:       cfg.logger.With("component", "redisqueue"),
		closeCh:   make(chan struct{}),
		consumers: make(map[int64]*consumer),
		known:     make(map[int64]struct{}),
	}
	if cfg.client != nil {
		q.rdb = cfg.client
	} else {
		q.rdb = redis.NewClient(&redis.Options{
			Addr:      cfg.addr,
			Username:  cfg.username,
			Password:  cfg.password,
			DB:        cfg.db,
			TLSConfig: cfg.tls,
		})
		q.ownClient = true
	}
	// Each consumer's fetcher blocks a connection in XREADGROUP; the
	// workers, the three schedulers and Consume itself need a few more.
	q.v8opt = v8Options(q.rdb.Options(), cfg.workers+6)
	installTaskqLogger()
	return q, nil
}

// queueName returns the name of the taskq queue of a browser context:
// "<prefix>-ctx-<contextID>". Its keys are "taskq:{<name>}:stream" and
// "taskq:{<name>}:zset" (see the package doc).
func (q *Queue) queueName(contextID int64) string {
	return q.cfg.prefix + "-ctx-" + strconv.FormatInt(contextID, 10)
}

func (q *Queue) errClosed(op string) error {
	return fmt.Errorf("redisqueue: %s: %w", op, wasend.ErrClosed)
}

func queueErr(op string, err error) error {
	return fmt.Errorf("redisqueue: %s: %w: %w", op, wasend.ErrQueue, err)
}

// begin starts a call that uses rdb; end must follow unless it fails.
func (q *Queue) begin(op string) error {
	q.ops.RLock()
	if q.closed.Load() {
		q.ops.RUnlock()
		return q.errClosed(op)
	}
	return nil
}

func (q *Queue) end() { q.ops.RUnlock() }

func (q *Queue) remember(contextID int64) {
	q.mu.Lock()
	q.known[contextID] = struct{}{}
	q.mu.Unlock()
}

// Enqueue implements wasend.Queue. Any process may enqueue to any browser
// context: Enqueue writes the message straight into the context's taskq
// stream (or, with a delay, sorted set) with one command, and starts no
// goroutine.
func (q *Queue) Enqueue(ctx context.Context, d wasend.Delivery, delay time.Duration) error {
	if err := q.begin("Enqueue"); err != nil {
		return err
	}
	defer q.end()
	q.remember(d.ContextID)

	name := q.queueName(d.ContextID)
	body, err := messageBody(d, delay > 0)
	if err != nil {
		return fmt.Errorf("redisqueue: Enqueue: %w", err)
	}
	if delay > 0 {
		due := time.Now().Add(delay).UnixMilli()
		err = q.rdb.ZAdd(ctx, zsetKey(name), redis.Z{Score: float64(due), Member: body}).Err()
	} else {
		err = q.rdb.XAdd(ctx, &redis.XAddArgs{Stream: streamKey(name), Values: []any{"body", body}}).Err()
	}
	if err != nil {
		return queueErr("Enqueue job "+strconv.FormatInt(d.JobID, 10)+" to "+name, err)
	}
	return nil
}

// Consume implements wasend.Queue. It starts a taskq consumer of the
// context's queue in this process and blocks until ctx is done or the Queue
// is closed. It then stops fetching, waits for the handlers in flight (their
// ctx is not canceled: each has its own deadline, the handler timeout), and
// returns nil. It returns an error at once if the Queue is closed (wrapping
// wasend.ErrClosed), already consumes contextID (ErrConsuming), or cannot
// reach Redis (wasend.ErrQueue). If ctx is already done it returns nil.
func (q *Queue) Consume(ctx context.Context, contextID int64, h wasend.Handler) error {
	if h == nil {
		return errors.New("redisqueue: Consume: nil handler")
	}
	if ctx.Err() != nil {
		return nil
	}
	c, err := q.register(contextID)
	if err != nil {
		return err
	}
	defer q.unregister(c)

	name := q.queueName(contextID)
	if err := q.createGroup(ctx, name); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}

	base := context.WithoutCancel(ctx)
	c.client = newGuardedClient(q.v8opt, q.cfg.workers, q.log.With("context_id", contextID))
	tq := redisq.NewQueue(&taskq.QueueOptions{
		Name:                 name,
		MinNumWorker:         int32(q.cfg.workers),
		MaxNumWorker:         int32(q.cfg.workers),
		MaxNumFetcher:        1,
		ReservationSize:      1,
		BufferSize:           1,
		ReservationTimeout:   q.cfg.reservationTimeout,
		WaitTimeout:          fetchWait,
		PauseErrorsThreshold: -1,
		Redis:                c.client,
		Handler:              q.taskqHandler(base, c, h),
		ConsumerIdleTimeout:  q.cfg.consumerIdleTimeout,
		SchedulerBackoffTime: q.cfg.schedulerInterval,
	})
	tc := tq.Consumer()
	q.mu.Lock()
	c.tq, c.tc = tq, tc
	q.mu.Unlock()
	// The workers ack with this ctx, so it must outlive the consume ctx.
	if err := tc.Start(base); err != nil {
		q.retire(c)
		return queueErr("Consume "+name, err)
	}
	q.log.Debug("consuming", "queue", name)

	select {
	case <-ctx.Done():
	case <-q.closeCh:
	}

	if err := tc.StopTimeout(q.cfg.handlerTimeout + q.cfg.stopGrace); err != nil {
		q.log.Warn("taskq consumer did not stop in time; waiting for the handlers", "queue", name, "err", err)
	}
	c.handlers.Wait()
	q.retire(c)
	q.log.Debug("stopped consuming", "queue", name)
	return nil
}

// register reserves contextID for a new consumer.
func (q *Queue) register(contextID int64) (*consumer, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed.Load() {
		return nil, q.errClosed("Consume")
	}
	if _, ok := q.consumers[contextID]; ok {
		return nil, fmt.Errorf("%w: Consume %s", ErrConsuming, q.queueName(contextID))
	}
	c := &consumer{contextID: contextID, stream: streamKey(q.queueName(contextID))}
	q.consumers[contextID] = c
	q.known[contextID] = struct{}{}
	q.consumeWG.Add(1)
	return c, nil
}

func (q *Queue) unregister(c *consumer) {
	q.mu.Lock()
	if c.tc != nil {
		st := c.tc.Stats()
		q.retired.processed += int64(st.Processed)
		q.retired.retried += int64(st.Retries)
		q.retired.failed += int64(st.Fails)
	}
	delete(q.consumers, c.contextID)
	q.mu.Unlock()
	q.consumeWG.Done()
}

// createGroup creates the stream and its consumer group, which also checks
// that Redis is reachable. taskq would create them on its first read.
func (q *Queue) createGroup(ctx context.Context, name string) error {
	if err := q.begin("Consume"); err != nil {
		return err
	}
	defer q.end()
	err := q.rdb.XGroupCreateMkStream(ctx, streamKey(name), streamGroup, "0").Err()
	if err != nil && !isBusyGroup(err) {
		return queueErr("Consume "+name, err)
	}
	return nil
}

// retire stops the taskq queue's schedulers after its consumer stopped, and
// closes its v8 client once they are quiet.
//
// redisq.Queue.CloseTimeout is the only way to stop the three scheduler
// goroutines; it also calls XGROUP DELCONSUMER for the queue's consumer,
// which guardedClient turns into a no-op while the consumer has pending
// entries. The goroutines cannot be joined: they exit at their next loop,
// after at most one scheduler sleep, so the client is closed after that
// sleep and once no command is in flight.
func (q *Queue) retire(c *consumer) {
	c.client.closing.Store(true)
	_ = c.tq.CloseTimeout(time.Second) // the consumer is already stopped
	closedAt := time.Now()
	quiet := q.cfg.schedulerInterval + 500*time.Millisecond + 50*time.Millisecond
	q.reapers.Add(1)
	go func() {
		defer q.reapers.Done()
		deadline := closedAt.Add(quiet + 10*time.Second)
		t := time.NewTimer(time.Until(closedAt.Add(quiet)))
		defer t.Stop()
		<-t.C
		for c.client.inflight.Load() > 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		_ = c.client.Close()
	}()
}

// taskqHandler adapts h to taskq. taskq calls it for each message, and again
// with msg.Err set once it gives up on a message (its "fallback" call).
func (q *Queue) taskqHandler(base context.Context, c *consumer, h wasend.Handler) taskq.Handler {
	return taskq.HandlerFunc(func(msg *taskq.Message) error {
		c.handlers.Add(1)
		defer c.handlers.Done()

		first, queued := c.client.took(msg.ID)
		if first {
			defer c.client.done()
		}
		d, derr := decodeDelivery(msg.ArgsBin)
		if msg.Err != nil { // taskq gave up on msg
			if derr != nil {
				q.log.Error("dropped an unreadable message", "queue", q.queueName(c.contextID), "err", msg.Err)
				return nil
			}
			q.deadLetter(base, h, d, msg.Err)
			return nil
		}
		if derr != nil {
			msg.Delay = 0 // no retry: taskq calls us back with msg.Err set
			return derr
		}
		if queued && c.entryGone(base, msg) {
			q.log.Debug("skipped a purged delivery", "job_id", d.JobID, "context_id", d.ContextID)
			return nil
		}

		ctx, cancel := context.WithTimeout(base, q.cfg.handlerTimeout)
		defer cancel()
		err := safeHandle(ctx, h, d)
		if err == nil {
			return nil
		}
		if c.entryGone(base, msg) {
			q.log.Debug("not retrying a purged delivery", "job_id", d.JobID, "context_id", d.ContextID, "err", err)
			return nil
		}
		if msg.ReservedCount >= q.cfg.retryLimit {
			msg.Delay = 0
		} else {
			msg.Delay = backoff(q.cfg.minBackoff, q.cfg.maxBackoff, msg.ReservedCount)
		}
		return err
	})
}

// entryGone reports whether the stream entry of msg, which this consumer
// took, is no longer in the stream: a Purge deleted it, or taskq's pending
// scheduler re-queued it as a new entry once the reservation timeout had
// passed. Either way the delivery must not run, or run again: the handler
// skips it before it starts if it was queued behind busy workers (see
// guardedClient.took; one read while a worker was free starts at once, so a
// Purge that comes then is one that came just after the handler started),
// and does not retry or dead-letter it after it failed (taskq then
// acknowledges and deletes an entry that no longer exists, which does
// nothing). It costs one XRANGE; on a Redis error it reports false.
func (c *consumer) entryGone(ctx context.Context, msg *taskq.Message) bool {
	if msg.ID == "" {
		return false
	}
	xs, err := c.client.XRangeN(ctx, c.stream, msg.ID, msg.ID, 1).Result()
	return err == nil && len(xs) == 0
}

func (q *Queue) deadLetter(base context.Context, h wasend.Handler, d wasend.Delivery, cause error) {
	dl, ok := h.(wasend.DeadLetterHandler)
	if !ok {
		q.log.Warn("gave up on a delivery", "job_id", d.JobID, "context_id", d.ContextID, "err", cause)
		return
	}
	ctx, cancel := context.WithTimeout(base, q.cfg.handlerTimeout)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			q.log.Error("HandleDeadLetter panicked", "job_id", d.JobID, "panic", r)
		}
	}()
	dl.HandleDeadLetter(ctx, d, cause)
}

// safeHandle calls h, turning a panic into a *wasend.PanicError (taskq does
// not recover, so a panic would kill the process).
func safeHandle(ctx context.Context, h wasend.Handler, d wasend.Delivery) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &wasend.PanicError{Value: r}
		}
	}()
	return h.HandleDelivery(ctx, d)
}

// Depth implements wasend.DepthReporter: the entries of the context's
// stream (waiting, and taken but not acknowledged, since taskq deletes an
// entry when it acknowledges it) plus its delayed messages (retries
// included).
func (q *Queue) Depth(ctx context.Context, contextID int64) (int64, error) {
	if err := q.begin("Depth"); err != nil {
		return 0, err
	}
	defer q.end()
	name := q.queueName(contextID)
	pipe := q.rdb.Pipeline()
	xlen := pipe.XLen(ctx, streamKey(name))
	zcard := pipe.ZCard(ctx, zsetKey(name))
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, queueErr("Depth "+name, err)
	}
	return xlen.Val() + zcard.Val(), nil
}

// Stats implements wasend.Queue. Waiting and Delayed cover the browser
// contexts that this Queue consumed or enqueued to since New (Redis is not
// scanned for others): Waiting is the stream entries not yet handed out
// (XLEN minus the pending entries of the group), Delayed the delayed
// messages and retries. InFlight, Processed, Retried and Failed come from
// taskq's consumers in this process (a delivery handed back for a retry
// counts in Retried; one given up on in Failed). Consumers counts the
// Consume calls running.
func (q *Queue) Stats(ctx context.Context) (wasend.QueueStats, error) {
	if err := q.begin("Stats"); err != nil {
		return wasend.QueueStats{}, err
	}
	defer q.end()

	q.mu.Lock()
	st := wasend.QueueStats{
		Processed: q.retired.processed,
		Retried:   q.retired.retried,
		Failed:    q.retired.failed,
		Consumers: len(q.consumers),
	}
	for _, c := range q.consumers {
		if c.tc == nil {
			continue
		}
		cs := c.tc.Stats()
		st.InFlight += int64(cs.InFlight)
		st.Processed += int64(cs.Processed)
		st.Retried += int64(cs.Retries)
		st.Failed += int64(cs.Fails)
	}
	names := make([]string, 0, len(q.known))
	for id := range q.known {
		names = append(names, q.queueName(id))
	}
	q.mu.Unlock()

	type cmds struct {
		xlen, zcard *redis.IntCmd
		pending     *redis.XPendingCmd
	}
	const batch = 1000 // contexts per pipeline
	for start := 0; start < len(names); start += batch {
		part := names[start:min(start+batch, len(names))]
		pipe := q.rdb.Pipeline()
		cs := make([]cmds, len(part))
		for i, name := range part {
			cs[i] = cmds{
				xlen:    pipe.XLen(ctx, streamKey(name)),
				zcard:   pipe.ZCard(ctx, zsetKey(name)),
				pending: pipe.XPending(ctx, streamKey(name), streamGroup),
			}
		}
		_, _ = pipe.Exec(ctx)
		for _, c := range cs {
			if err := c.xlen.Err(); err != nil {
				return wasend.QueueStats{}, queueErr("Stats", err)
			}
			if err := c.zcard.Err(); err != nil {
				return wasend.QueueStats{}, queueErr("Stats", err)
			}
			var pending int64
			if p, err := c.pending.Result(); err == nil {
				pending = p.Count
			} else if !isNoGroup(err) {
				return wasend.QueueStats{}, queueErr("Stats", err)
			}
			st.Waiting += max(c.xlen.Val()-pending, 0)
			st.Delayed += c.zcard.Val()
		}
	}
	return st, nil
}

// Close stops every Consume call of the Queue (they return nil once their
// handlers in flight have returned, which Close waits for), then closes the
// Redis client if the Queue created it; it never closes a client given with
// WithClient. Later calls return an error wrapping wasend.ErrClosed. Close
// is idempotent: every call returns the result of the first.
func (q *Queue) Close() error {
	q.closeOnce.Do(func() {
		q.mu.Lock()
		q.closed.Store(true)
		q.mu.Unlock()
		close(q.closeCh)
		q.consumeWG.Wait()
		q.reapers.Wait()
		q.ops.Lock() // wait for the calls in flight; later ones see closed
		defer q.ops.Unlock()
		if q.ownClient {
			if err := q.rdb.Close(); err != nil {
				q.closeErr = queueErr("Close", err)
			}
		}
	})
	return q.closeErr
}
