package redisqueue

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	redisv8 "github.com/go-redis/redis/v8"
	"github.com/redis/go-redis/v9"
	"github.com/vmihailenco/taskq/v3"

	"github.com/wasend/wasend"
)

// taskq's names, which Enqueue, Depth and Stats must match: redisq keeps a
// queue in the stream "taskq:{<name>}:stream", read by the consumer group
// "taskq", and its delayed messages in the sorted set "taskq:{<name>}:zset"
// scored by due time in Unix milliseconds.
const (
	streamGroup = "taskq"
	taskName    = "wasend.delivery"
)

func streamKey(name string) string { return "taskq:{" + name + "}:stream" }
func zsetKey(name string) string   { return "taskq:{" + name + "}:zset" }

// v8Options builds the options of a go-redis v8 client that reaches the same
// server as o (a go-redis v9 client's options), as the same user. Settings
// that v8 lacks (RESP3, client-side caching, streaming credentials...) are
// not carried over; CredentialsProvider is called once for its current
// credentials.
func v8Options(o *redis.Options, poolSize int) *redisv8.Options {
	v8 := &redisv8.Options{
		Network:         o.Network,
		Addr:            o.Addr,
		Dialer:          o.Dialer,
		Username:        o.Username,
		Password:        o.Password,
		DB:              o.DB,
		MaxRetries:      o.MaxRetries,
		MinRetryBackoff: o.MinRetryBackoff,
		MaxRetryBackoff: o.MaxRetryBackoff,
		DialTimeout:     o.DialTimeout,
		ReadTimeout:     o.ReadTimeout,
		WriteTimeout:    o.WriteTimeout,
		PoolSize:        poolSize,
		PoolTimeout:     o.PoolTimeout,
		TLSConfig:       o.TLSConfig,
	}
	if o.CredentialsProvider != nil {
		v8.Username, v8.Password = o.CredentialsProvider()
	}
	// o went through v9's init, where a value <= 0 of these means "none";
	// v8 would read 0 as "default", and knows "none" as -1.
	for _, f := range []*time.Duration{&v8.ReadTimeout, &v8.WriteTimeout, &v8.MinRetryBackoff, &v8.MaxRetryBackoff} {
		if *f <= 0 {
			*f = -1
		}
	}
	if v8.MaxRetries <= 0 {
		v8.MaxRetries = -1
	}
	return v8
}

// guardedClient is the go-redis v8 client given to taskq for one consumed
// browser context. It fixes three of taskq's defects (see doc.go):
//
//   - XGroupDelConsumer removes a consumer only if it has no pending entries,
//     atomically (a Lua script). taskq calls it from Queue.CloseTimeout for
//     its own consumer and from the zombie cleanup for idle ones; deleting a
//     consumer drops its pending entries for good.
//   - XInfoConsumers parses the reply leniently, so that the 8-field reply of
//     Redis >= 7.2 (taskq #203) and of miniredis works.
//   - TxPipeline's Exec replaces a nil ctx: the fetcher releases a message it
//     could not hand to a worker with msg.Ctx, which ReserveN never sets
//     (taskq #177).
//
// It keeps a Purge, which deletes the stream under a running consumer, from
// making taskq log errors and pause its fetcher: XReadGroup turns the
// UNBLOCKED error into an empty read, and XInfoConsumers reports no
// consumers for a missing stream or group.
//
// It also tells the handler which deliveries waited for a worker, for the
// Purge check (see took); counts the commands in flight, so that the client
// is closed only once taskq's scheduler goroutines are quiet; and counts the
// commands sent (for the tests).
type guardedClient struct {
	*redisv8.Client
	workers     int64        // the consumer's
	outstanding atomic.Int64 // deliveries read whose first handler call has not returned
	taken       sync.Map     // stream entry ID -> queued (bool), until its first handler call
	inflight    atomic.Int64
	sent        atomic.Int64 // commands and pipelines sent
	closing     atomic.Bool  // set before redisq.Queue.CloseTimeout
	kept        sync.Map     // consumer names already logged as kept
	log         *slog.Logger
}

func newGuardedClient(opt *redisv8.Options, workers int, log *slog.Logger) *guardedClient {
	o := *opt // v8's NewClient fills in the options it is given
	g := &guardedClient{Client: redisv8.NewClient(&o), workers: int64(workers), log: log}
	g.AddHook(inflightHook{n: &g.inflight, sent: &g.sent})
	return g
}

// delConsumerScript deletes consumer ARGV[2] of group ARGV[1] of stream
// KEYS[1] only when it has no pending entry; it returns the number of
// pending entries that XGROUP DELCONSUMER dropped (always 0), or -1 when it
// kept the consumer.
var delConsumerScript = redisv8.NewScript(`
local p = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2])
if #p > 0 then return -1 end
return redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
`)

// XGroupDelConsumer implements redisq.RedisStreamClient.
func (g *guardedClient) XGroupDelConsumer(ctx context.Context, stream, group, consumer string) *redisv8.IntCmd {
	if ctx == nil {
		ctx = context.Background()
	}
	n, err := delConsumerScript.Run(ctx, g.Client, []string{stream}, group, consumer).Int64()
	if err == nil && n < 0 {
		// Our own consumer, stopped with entries in flight: worth a warning.
		// A zombie: the cleanup asks again every scheduler loop until its
		// entries were reclaimed, so it is logged once, at debug level.
		level := slog.LevelWarn
		if !g.closing.Load() {
			level = slog.LevelDebug
			if _, seen := g.kept.LoadOrStore(consumer, true); seen {
				return redisv8.NewIntResult(0, nil)
			}
		}
		g.log.Log(ctx, level, "kept a stream consumer that has pending entries; they will be handed out again after the reservation timeout",
			"stream", stream, "consumer", consumer)
		n = 0
	}
	return redisv8.NewIntResult(n, err)
}

// XReadGroup implements redisq.RedisStreamClient. Redis >= 7 ends a
// blocked XREADGROUP with "UNBLOCKED the stream key no longer exists" when
// the stream is deleted (Purge); taskq would log that and pause its fetcher
// for a second. It is reported as an empty read instead: the next read gets
// NOGROUP, on which taskq recreates the stream and its group.
func (g *guardedClient) XReadGroup(ctx context.Context, a *redisv8.XReadGroupArgs) *redisv8.XStreamSliceCmd {
	cmd := g.Client.XReadGroup(ctx, a)
	if err := cmd.Err(); err != nil && strings.HasPrefix(err.Error(), "UNBLOCKED") {
		return redisv8.NewXStreamSliceCmdResult(nil, redisv8.Nil)
	}
	for _, s := range cmd.Val() {
		for _, m := range s.Messages {
			// More deliveries read and not yet handled than workers: this
			// one waits for a worker (in taskq's buffer or fetcher).
			queued := g.outstanding.Add(1) > g.workers
			g.taken.Store(m.ID, queued)
		}
	}
	return cmd
}

// took is called by the handler of the delivery of the stream entry id. It
// reports whether this is the first handler call for the entry since the
// consumer read it (taskq calls the handler a second time to give up on a
// delivery), and whether the delivery was queued behind busy workers when
// it was read. After a first call, done must be called when the handler
// returns.
func (g *guardedClient) took(id string) (first, queued bool) {
	v, first := g.taken.LoadAndDelete(id)
	if !first {
		return false, true
	}
	queued, _ = v.(bool)
	return true, queued
}

// done ends a first handler call (see took). A delivery that never reaches
// the handler (taskq's fetcher releases it after 0.9 × ReservationTimeout,
// #177) stays counted in outstanding; that only makes later deliveries be
// checked when they need not.
func (g *guardedClient) done() { g.outstanding.Add(-1) }

// XInfoConsumers implements redisq.RedisStreamClient. A missing stream or
// group (after a Purge, until the consumer recreates them) has no consumers,
// instead of an error that taskq's zombie cleanup would log.
func (g *guardedClient) XInfoConsumers(ctx context.Context, stream, group string) *redisv8.XInfoConsumersCmd {
	cmd := redisv8.NewXInfoConsumersCmd(ctx, stream, group)
	reply, err := g.Do(ctx, "XINFO", "CONSUMERS", stream, group).Slice()
	if isNoGroup(err) || isNoSuchKey(err) {
		cmd.SetVal(nil)
		return cmd
	}
	if err != nil {
		cmd.SetErr(err)
		return cmd
	}
	out := make([]redisv8.XInfoConsumer, 0, len(reply))
	for _, item := range reply {
		fields, ok := item.([]any)
		if !ok || len(fields)%2 != 0 {
			cmd.SetErr(fmt.Errorf("redisqueue: unexpected XINFO CONSUMERS reply %v", item))
			return cmd
		}
		var c redisv8.XInfoConsumer
		for i := 0; i < len(fields); i += 2 {
			k, _ := fields[i].(string)
			switch k {
			case "name":
				c.Name, _ = fields[i+1].(string)
			case "pending":
				c.Pending, _ = fields[i+1].(int64)
			case "idle":
				c.Idle, _ = fields[i+1].(int64)
			}
		}
		out = append(out, c)
	}
	cmd.SetVal(out)
	return cmd
}

// TxPipeline implements redisq.RedisStreamClient.
func (g *guardedClient) TxPipeline() redisv8.Pipeliner {
	return nilSafePipeline{g.Client.TxPipeline()}
}

type nilSafePipeline struct{ redisv8.Pipeliner }

// Exec runs the pipeline with ctx, or context.Background() if ctx is nil.
func (p nilSafePipeline) Exec(ctx context.Context) ([]redisv8.Cmder, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	return p.Pipeliner.Exec(ctx)
}

// inflightHook counts the commands and pipelines in flight, and those sent.
type inflightHook struct{ n, sent *atomic.Int64 }

func (h inflightHook) BeforeProcess(ctx context.Context, _ redisv8.Cmder) (context.Context, error) {
	h.n.Add(1)
	h.sent.Add(1)
	return ctx, nil
}

func (h inflightHook) AfterProcess(context.Context, redisv8.Cmder) error {
	h.n.Add(-1)
	return nil
}

func (h inflightHook) BeforeProcessPipeline(ctx context.Context, _ []redisv8.Cmder) (context.Context, error) {
	h.n.Add(1)
	h.sent.Add(1)
	return ctx, nil
}

func (h inflightHook) AfterProcessPipeline(context.Context, []redisv8.Cmder) error {
	h.n.Add(-1)
	return nil
}

// The payload of a message is a version byte, the job id and the context id
// as varints, and the kind: about 10 bytes, where msgpack args would take
// about 20. It travels in taskq.Message.ArgsBin, inside taskq's own
// msgpack envelope.
const payloadV1 = 1

var errPayload = errors.New("redisqueue: malformed delivery payload")

func encodeDelivery(d wasend.Delivery) []byte {
	b := make([]byte, 0, 1+2*binary.MaxVarintLen64+len(d.Kind))
	b = append(b, payloadV1)
	b = binary.AppendVarint(b, d.JobID)
	b = binary.AppendVarint(b, d.ContextID)
	return append(b, d.Kind...)
}

func decodeDelivery(b []byte) (wasend.Delivery, error) {
	if len(b) < 1 || b[0] != payloadV1 {
		return wasend.Delivery{}, errPayload
	}
	b = b[1:]
	job, n := binary.Varint(b)
	if n <= 0 {
		return wasend.Delivery{}, errPayload
	}
	b = b[n:]
	ctxID, n := binary.Varint(b)
	if n <= 0 {
		return wasend.Delivery{}, errPayload
	}
	return wasend.Delivery{JobID: job, ContextID: ctxID, Kind: wasend.JobKind(b[n:])}, nil
}

// messageBody is what redisq stores for d: taskq's msgpack envelope around
// the payload. A delayed message is a member of a sorted set, so it gets a
// random ID to keep equal deliveries apart; a stream entry has its own ID.
func messageBody(d wasend.Delivery, delayed bool) ([]byte, error) {
	msg := &taskq.Message{TaskName: taskName, ArgsBin: encodeDelivery(d)}
	if delayed {
		msg.ID = strconv.FormatUint(rand.Uint64(), 36)
	}
	return msg.MarshalBinary()
}

// backoff is the wait before the attempt after attempt n (n >= 1): min
// doubled n-1 times, at most max, minus up to 25% of jitter, at least min.
// Unlike taskq's, it does not overflow.
func backoff(minD, maxD time.Duration, n int) time.Duration {
	d := minD
	for i := 1; i < n && d < maxD; i++ {
		d *= 2
	}
	if d > maxD || d <= 0 {
		d = maxD
	}
	if j := int64(d / 4); j > 0 {
		d -= time.Duration(rand.Int64N(j))
	}
	return max(d, minD)
}

func isNoGroup(err error) bool {
	return err != nil && strings.HasPrefix(err.Error(), "NOGROUP")
}

func isNoSuchKey(err error) bool {
	return err != nil && strings.HasPrefix(err.Error(), "ERR no such key")
}

func isBusyGroup(err error) bool {
	return err != nil && strings.HasPrefix(err.Error(), "BUSYGROUP")
}
