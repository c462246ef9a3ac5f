// Package redisqueue is the default wasend.Queue: Redis streams through
// taskq v3 (github.com/vmihailenco/taskq/v3, redisq), with taskq's known
// defects fenced off.
//
//	env, err := wasend.LoadEnv() // REDIS_HOST, REDIS_PORT, REDIS_PASSWORD, REDIS_DB
//	if err != nil { ... }
//	q, err := redisqueue.New(redisqueue.WithEnv(env))
//	if err != nil { ... }
//	defer q.Close()
//
// The queue only wakes workers: a delivery carries a job id, a browser
// context id and a job kind, and the SQL store stays the source of truth.
// Deliveries are at least once and may be duplicated or, rarely, lost; the
// wasend Client makes both harmless (conditional claims, and a sweep that
// uses Depth).
//
// # Routing
//
// Each browser context has its own taskq queue, named
// "<prefix>-ctx-<contextID>" (the prefix is set by WithPrefix), kept in
// the stream "taskq:{<name>}:stream" and, for delayed deliveries and
// retries, the sorted set "taskq:{<name>}:zset". The braces are taskq's hash tags, so both keys
// of a queue are in one Redis Cluster slot; the prefix may not hold braces.
//
// Enqueue writes a message straight into those keys with one command (XADD,
// or ZADD with a delay), in taskq's message format, from any process: a
// process that only enqueues starts no goroutine, whatever the number of
// contexts. Consume(ctx, contextID, h) starts a taskq consumer for that
// context in this process; only processes that consume a context receive its
// deliveries, and a delivery enqueued before any consumer existed waits for
// one (the consumer group reads the stream from its start).
//
// # Redis clients
//
// The Queue uses go-redis v9 for its own commands (Enqueue, Depth, Stats,
// Purge, the leases, group creation): a client it creates from WithAddr, WithUsername,
// WithPassword, WithDB, WithTLS and WithEnv, or the caller's client given
// with WithClient, which it never closes. taskq's interfaces take go-redis
// v8 types, so each Consume call builds its own v8 client from the same
// settings (for WithClient, from client.Options(): network, address,
// dialer, user name and password, database, TLS, timeouts and retries; a
// CredentialsProvider is called once). Its pool has workers+6 connections,
// because the consumer's fetcher holds one in a blocking XREADGROUP; the
// client is closed after the consumer stopped and taskq's scheduler loops
// went quiet.
//
// # taskq settings
//
// For each consumed context, the taskq queue gets:
//
//   - ReservationSize = BufferSize = 1, MinNumWorker = MaxNumWorker =
//     WithWorkers, one fetcher: no autotuning, and a fetcher holds at most
//     one message it cannot hand to a worker. taskq's fetcher releases what
//     it could not hand over within 0.9 × ReservationTimeout (#177); with
//     these settings that needs every worker stuck that long, and it then
//     releases that one message instead of a batch whose buffered part would
//     be duplicated. The nil-ctx crash of that path is prevented by the v8
//     client wrapper (below).
//   - ReservationTimeout = WithReservationTimeout (1 h), which must exceed
//     the handler timeout (10 min) plus 1 s. taskq re-queues a pending entry
//     once this much time passed since the entry was added to the stream, not
//     since a worker took it: a backlog older than this is handed out again
//     while it may still run. Each reclaim counts as an attempt.
//   - PauseErrorsThreshold = -1: a run of handler errors (a dead browser
//     session) does not pause the fetchers for a minute.
//   - Handler: a per-Consume taskq.Handler, not the global taskq.Tasks
//     registry, so that Queues in one process never share task names. It
//     calls the wasend.Handler with context.WithoutCancel of the Consume ctx
//     plus the handler timeout, so that stopping a consumer does not cancel
//     the handlers in flight; it recovers panics into *wasend.PanicError,
//     and skips the deliveries that a Purge dropped (see Purging).
//   - Retries: the handler sets taskq's msg.Delay itself: attempt n waits
//     min×2^(n-1), at most max, minus up to 25% jitter (WithRetry: 5 attempts,
//     1 s to 1 min). taskq's own backoff (64 attempts, 30 s to 30 min, no
//     jitter, overflowing from attempt 30) is not used. After the last
//     attempt taskq calls the handler once more with msg.Err set (its
//     "fallback"), which calls HandleDeadLetter if the wasend.Handler is a
//     wasend.DeadLetterHandler, and the message is deleted.
//   - WaitTimeout = 1 s (the fetcher's XREADGROUP BLOCK) and
//     SchedulerBackoffTime = WithSchedulerInterval (250 ms; taskq adds 0 to
//     500 ms). The three scheduler loops (delayed messages, pending
//     reclaims, zombie consumers) each take a redislock lock, do their one
//     command and release the lock: three round trips and five Redis
//     commands (the lock scripts run two) per loop. Measured on Redis 7.0,
//     an idle consumed context costs about 31 commands per second (19 round
//     trips) with 250 ms, 13 with 1 s (about taskq's default of 1 to 1.5 s);
//     100 idle contexts cost about 3,100 commands per second. A delayed
//     delivery or a retry arrives up to 750 ms late.
//   - ConsumerIdleTimeout = 24 h, made safe by the guard described below.
//
// # Hazards and what this package does about them
//
// Stopping a consumer. redisq.Queue.CloseTimeout, the only way to stop a
// queue's three scheduler goroutines, stops the consumer and then calls XGROUP
// DELCONSUMER for it, even when it still owns pending entries (messages it
// took but did not acknowledge: one in its buffer, or ones whose handlers
// outlived the stop timeout); DELCONSUMER drops them for good. Consume first
// stops the taskq consumer itself (Consumer.StopTimeout with the handler
// timeout plus 2 s), waits for its own handlers in flight, and only then
// calls CloseTimeout. The v8 client given to taskq wraps XGroupDelConsumer
// in a Lua script that deletes the consumer only if XPENDING shows it owns
// no entry, atomically; otherwise the consumer stays registered, and its
// entries are handed out again by any consumer of that context once the
// reservation timeout has passed.
//
// Zombie cleanup. taskq deletes every consumer idle for more than
// ConsumerIdleTimeout (default 6 h) with the same DELCONSUMER; the guard
// makes it delete only consumers without pending entries. A dead consumer
// with entries is deleted once they were reclaimed.
//
// Redis >= 7.2 (taskq #203). XINFO CONSUMERS replies with more fields than
// go-redis v8.11.5 accepts, so taskq's cleanup fails and logs every 1 to
// 1.5 s. The wrapper parses the reply itself and works with either form.
//
// Nil ctx (taskq #177). taskq's fetcher releases a message it could not
// hand to a worker within 0.9 × ReservationTimeout with msg.Ctx, which is
// nil for fetched messages: a crash. The wrapper's pipeline replaces a nil
// ctx with context.Background().
//
// Stopping takes up to 1 s: taskq's fetcher notices the stop only when its
// XREADGROUP BLOCK 1000 returns, and meanwhile taskq's idle workers spin.
//
// Scheduler goroutines. taskq's scheduler goroutines cannot be joined: they
// see the close flag at their next loop, after at most one scheduler sleep.
// The v8 client of a stopped consumer is closed once that time has passed
// and no command is in flight, and Close waits for that (so Close can take
// up to about 0.8 s after a Consume returned).
//
// Purge. taskq's Purge trims the stream with XTRIM, which leaves the
// group's pending entries behind (#143), so they are handed out again once
// the reservation timeout has passed; this package never calls it. See
// Purging.
//
// Deletion. taskq acknowledges with XACK and then XDEL, two commands: a
// process that dies between them leaves an acknowledged entry in the stream,
// which Depth counts until someone deletes it.
//
// Dedup. taskq's Message.Name dedup is not used: a Redis error there drops
// the message silently.
//
// # Purging
//
// Purge(ctx, contextID) implements wasend.Purger: it deletes the context's
// stream and sorted set with one DEL (one slot: they share a hash tag).
// Deleting the stream also deletes the consumer group and its pending
// entries, so no delivery survives, waiting, delayed or taken. Any process
// may purge any context; the lease is left alone.
//
// A consumer of the context may be running, here or in another process:
//
//   - Its fetcher's blocking read ends with "UNBLOCKED the stream key no
//     longer exists" (Redis >= 7), which taskq would log before pausing its
//     fetcher for a second; the v8 client reports an empty read instead. The
//     next read gets NOGROUP, on which taskq recreates the stream and the
//     group (as its pending scheduler does on XPENDING), and the consumer
//     goes on with what is enqueued after the Purge. The zombie cleanup
//     sees no consumers instead of an error until then.
//   - A handler in flight finishes (it cannot be stopped), and its delivery
//     is not delivered again: taskq's acknowledgement of an entry that is
//     gone does nothing, and if the handler fails, it is neither retried
//     nor dead-lettered: after a failure, the handler checks (XRANGE of the
//     entry's ID) that the entry still exists before asking for a retry.
//   - The deliveries that the consumer took but had not handed to a handler
//     yet (one in taskq's buffer and one in its fetcher, when every worker
//     is busy) are skipped: a delivery read while as many deliveries as
//     there are workers were read and not yet handled is checked the same
//     way before it runs. One read while a worker was free goes to that
//     worker at once and is not checked (a Purge between that read and the
//     handler's start is treated like one that came just after the handler
//     started): only deliveries that wait for a worker cost an XRANGE,
//     about 1 in 10 with a backlog and no-op handlers. The check also skips a delivery that taskq's pending
//     scheduler re-queued as a new entry while it waited. Skipped
//     deliveries count as processed in Stats.
//
// Two races remain, each about one round trip wide: a delayed delivery that
// taskq's scheduler moves into the stream (ZRANGEBYSCORE, then XADD and
// ZREM) across the Purge, and a failed delivery that is handed back for a
// retry (XACK, XDEL, ZADD) just after its check. Such a delivery survives
// the Purge; the Client's conditional claims make it harmless. A context
// that is consumed while it is purged keeps an empty stream and its group;
// stop consuming first to leave no key behind.
//
// # Leases
//
// The Queue is a wasend.Leaser: a lease gives a browser context to one
// process at a time, across processes, with the go-redis v9 client. The
// lease of a context is the string key "<prefix>:lease:{<name>}", where
// <name> is the context's queue name, whose value is the owner; its hash
// tag is the one of the context's taskq keys, so lease and queue are in one
// Redis Cluster slot.
//
// Acquire(ctx, contextID, owner, ttl) runs one Lua script: if the key is
// missing it sets it to owner with a TTL of ttl (SET PX) and returns true; if
// it holds owner it sets the TTL to ttl (PEXPIRE) and returns true;
// otherwise it returns false. The holder renews its lease by calling
// Acquire again before ttl has passed, which also takes back a lease that a
// Redis restart lost. ttl is rounded down to the millisecond, at least
// 1 ms. Release(ctx, contextID, owner) deletes the key only if it holds
// owner (a compare-and-delete script). Holders(ctx, contextIDs) reads the
// leases with one GET each in a pipeline (not MGET, whose keys would be in
// different slots on a Cluster), and returns the owner of each held one.
//
// A lease is only as safe as its TTL: a holder that pauses for longer than
// ttl (a GC pause, a frozen VM) may find another process holds the context
// when it resumes, and it learns that at its next Acquire. The TTL runs on
// Redis's clock, so the processes' clocks need not agree.
//
// # Counting
//
// Depth is XLEN of the stream plus ZCARD of the sorted set: waiting
// deliveries, deliveries taken but not yet acknowledged (taskq deletes an
// entry when it acknowledges it), and delayed ones and retries.
//
// Stats reads Waiting (XLEN minus the group's pending entries) and Delayed
// (ZCARD) for the contexts this Queue enqueued to or consumed since New, in
// pipelines, without scanning Redis; InFlight, Processed, Retried and Failed
// are the sums of taskq's Consumer.Stats over the consumers of this Queue,
// including the stopped ones.
//
// # Logging
//
// taskq logs through one process-global log.Logger. The first New replaces
// it, once per process, with a bridge to slog (level Warn, attribute
// component=taskq) that drops a line repeated within a minute (digits
// aside) and reports how many it dropped; SetTaskqLogger chooses its
// destination (default slog.Default()). WithLogger sets the logger of the
// Queue's own messages.
//
// # miniredis
//
// The tests run on miniredis and, when WASEND_TEST_REDIS is set, on a real
// Redis. miniredis v2.40 supports what this package and taskq use (streams,
// consumer groups, XPENDING, XGROUP DELCONSUMER and Lua), with two
// differences: XINFO CONSUMERS reports an idle time of -1 for consumers that
// only used XREADGROUP, so taskq's zombie cleanup never removes anything
// there, and an XREADGROUP that returns nothing does not create its consumer.
package redisqueue
