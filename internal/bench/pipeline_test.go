// Package bench holds the benchmarks whose figures BENCHMARKS.md records.
package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	redisv8 "github.com/go-redis/redis/v8"
	"github.com/vmihailenco/taskq/v3"
	"github.com/vmihailenco/taskq/v3/redisq"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/internal/testenv"
	"github.com/wasend/wasend/redisqueue"
	"github.com/wasend/wasend/sqlstore"
	"github.com/wasend/wasend/webhook"
)

// The pipeline's shape: browser contexts, queue workers per context, and
// producers calling Send at once. The handler concurrency is the Client's
// default (10 single jobs at once), and the bare taskq run uses the same.
const (
	benchContexts  = 20
	benchWorkers   = redisqueue.DefaultWorkers
	benchProducers = 8
	benchHandlers  = wasend.DefaultSingleConcurrency
)

// noopPool launches sessions that send nothing and return at once.
type noopPool struct{ sent *atomic.Int64 }

type noopSession struct {
	id   string
	sent *atomic.Int64
}

func (p noopPool) Launch(ctx context.Context, req wasend.LaunchRequest) (wasend.Session, error) {
	s := &noopSession{id: testenv.Name("noop-"), sent: p.sent}
	if req.OnEvent != nil {
		req.OnEvent(wasend.SessionEvent{Type: wasend.EventStatus, SystemID: s.id, Status: wasend.ContextAvailable})
	}
	return s, nil
}

func (s *noopSession) SystemID() string { return s.id }
func (s *noopSession) SendText(ctx context.Context, to, text string) (wasend.Receipt, error) {
	s.sent.Add(1)
	return wasend.Receipt{}, nil
}
func (s *noopSession) Close(ctx context.Context) error { return nil }

// BenchmarkPipeline pushes b.N messages through the whole pipeline (Send,
// sqlstore on PostgreSQL, redisqueue on the real Redis, the Client's
// workers, a transport that does nothing) and, in the same run, b.N no-op
// jobs through bare taskq with the same queues, workers and handler
// concurrency. It reports both rates and their ratio.
func BenchmarkPipeline(b *testing.B) {
	addr := testenv.RedisAddr(b)
	n := b.N

	pipeline := runPipeline(b, addr, n, wasend.NoPacing())
	bare := runBareTaskq(b, addr, n)
	b.ReportMetric(pipeline, "msgs/s")
	b.ReportMetric(bare, "taskq-msgs/s")
	b.ReportMetric(pipeline/bare, "ratio")
	b.ReportMetric(0, "ns/op") // the rates above are the figures
}

// BenchmarkPipelineLedger is BenchmarkPipeline with pacing on, under a
// policy that never holds a message back (a daily cap of a billion): it
// measures what pacing's bookkeeping costs per message (the contact's
// lookup, and the ledger's two rows written with the attempt), against
// BenchmarkPipeline's figure of the same run.
func BenchmarkPipelineLedger(b *testing.B) {
	addr := testenv.RedisAddr(b)
	off := runPipeline(b, addr, b.N, wasend.NoPacing())
	on := runPipeline(b, addr, b.N, wasend.Pacing{PerDay: 1e9})
	b.ReportMetric(off, "msgs/s-off")
	b.ReportMetric(on, "msgs/s-ledger")
	b.ReportMetric(on/off, "ratio")
	b.ReportMetric(0, "ns/op")
}

func runPipeline(b *testing.B, addr string, n int, pacing wasend.Pacing) float64 {
	b.Helper()
	rate, _ := runPipelineWith(b, addr, n, pacing, false)
	return rate
}

// BenchmarkPipelineOutbox is BenchmarkPipeline with the outbox on (every
// change written as an event in its transaction) and its relay delivering
// each event as a signed webhook to one local receiver, against the same
// pipeline with them off in the same run. It reports both rates, their
// ratio, and how long after the last job completed the last event was
// delivered.
func BenchmarkPipelineOutbox(b *testing.B) {
	addr := testenv.RedisAddr(b)
	var hooks atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		hooks.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	secret, err := webhook.GenerateSecret()
	if err != nil {
		b.Fatal(err)
	}
	ep, err := webhook.NewEndpoint(srv.URL+"/hooks", []webhook.Secret{secret})
	if err != nil {
		b.Fatal(err)
	}
	sender, err := webhook.NewSender(webhook.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		b.Fatal(err)
	}
	off, _ := runPipelineWith(b, addr, b.N, wasend.NoPacing(), false)
	on, lag := runPipelineWith(b, addr, b.N, wasend.NoPacing(), true,
		wasend.WithOutbox(webhook.OutboxHandler(sender, ep)))
	b.ReportMetric(off, "msgs/s-off")
	b.ReportMetric(on, "msgs/s-outbox")
	b.ReportMetric(on/off, "ratio")
	b.ReportMetric(lag, "s-events-after-jobs")
	b.ReportMetric(float64(hooks.Load())/float64(b.N), "webhooks/msg")
	b.ReportMetric(0, "ns/op")
}

// runPipelineWith is runPipeline with more options; with drain, it also
// waits until the outbox has delivered every event, and returns how long
// after the last job completed that was, in seconds.
func runPipelineWith(b *testing.B, addr string, n int, pacing wasend.Pacing, drain bool, opts ...wasend.Option) (float64, float64) {
	b.Helper()
	ctx := context.Background()
	sdb, _ := testenv.PostgresDB(b)
	store, err := sqlstore.New(sdb)
	if err != nil {
		b.Fatal(err)
	}
	if err := store.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	sdb.SetMaxOpenConns(16)
	sdb.SetMaxIdleConns(16)
	quiet := slog.New(slog.DiscardHandler)
	queue, err := redisqueue.New(redisqueue.WithAddr(addr), redisqueue.WithPrefix(testenv.Name("wbench")),
		redisqueue.WithWorkers(benchWorkers), redisqueue.WithLogger(quiet))
	if err != nil {
		b.Fatal(err)
	}
	defer queue.Close()
	var sent atomic.Int64
	client, err := wasend.New(noopPool{&sent}, queue, store, append([]wasend.Option{wasend.WithLogger(quiet),
		wasend.WithPacing(pacing)}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	defer client.Close()
	ids := make([]int64, benchContexts)
	for i := range ids {
		bc, err := client.CreateContext(ctx)
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = bc.ID
	}
	waitAvailable(b, store, ids)
	runCtx, stop := context.WithCancel(ctx)
	runDone := make(chan struct{})
	go func() { defer close(runDone); _ = client.Run(runCtx) }()
	defer func() { stop(); <-runDone }()

	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	var next atomic.Int64
	for p := range benchProducers {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				to := "+1415555" + fmt.Sprintf("%04d", i%10000)
				if _, err := client.Send(ctx, ids[int(i)%len(ids)], to, "benchmark message "+strconv.Itoa(p)); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	for sent.Load() < int64(n) {
		time.Sleep(time.Millisecond)
	}
	// Every job is completed once its outcome is recorded.
	for {
		counts, err := store.Counts(ctx)
		if err != nil {
			b.Fatal(err)
		}
		var done int64
		for _, c := range counts.Jobs {
			if c.Status == wasend.JobCompleted {
				done += c.N
			}
		}
		if done >= int64(n) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	elapsed := time.Since(start)
	var lag float64
	if drain {
		for {
			oc, err := store.EventCounts(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if oc.Pending == 0 {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		lag = (time.Since(start) - elapsed).Seconds()
	}
	b.StopTimer()
	if got := sent.Load(); got != int64(n) {
		b.Fatalf("sent %d messages, want %d (never twice)", got, n)
	}
	return float64(n) / elapsed.Seconds(), lag
}

func waitAvailable(b *testing.B, store wasend.Store, ids []int64) {
	b.Helper()
	for _, id := range ids {
		for {
			bc, err := store.Context(context.Background(), id)
			if err != nil {
				b.Fatal(err)
			}
			if bc.Status == wasend.ContextAvailable {
				break
			}
			time.Sleep(time.Millisecond)
		}
	}
}

// runBareTaskq pushes n no-op jobs through taskq: the same number of
// queues, the same workers per queue, the same handler concurrency and the
// same producers, with redisqueue's guard rails.
func runBareTaskq(b *testing.B, addr string, n int) float64 {
	b.Helper()
	ctx := context.Background()
	rdb := redisv8.NewClient(&redisv8.Options{Addr: addr, PoolSize: 4 * benchContexts})
	defer rdb.Close()
	var done atomic.Int64
	sem := make(chan struct{}, benchHandlers)
	handler := taskq.HandlerFunc(func(msg *taskq.Message) error {
		sem <- struct{}{}
		done.Add(1)
		<-sem
		return nil
	})
	prefix := testenv.Name("tqbench")
	queues := make([]taskq.Queue, benchContexts)
	for i := range queues {
		queues[i] = redisq.NewQueue(&taskq.QueueOptions{
			Name: prefix + "-" + strconv.Itoa(i), Redis: rdb, Handler: handler,
			MinNumWorker: benchWorkers, MaxNumWorker: benchWorkers,
			ReservationSize: 1, BufferSize: 1, ReservationTimeout: time.Hour, WaitTimeout: 250 * time.Millisecond,
			PauseErrorsThreshold: -1, SchedulerBackoffTime: redisqueue.DefaultSchedulerInterval,
		})
	}
	defer func() {
		// Closed together: taskq's workers spin while their consumer stops.
		var wg sync.WaitGroup
		for _, q := range queues {
			wg.Go(func() {
				_ = q.Close()
				_ = rdb.Del(ctx, "taskq:{"+q.Name()+"}:stream", "taskq:{"+q.Name()+"}:zset").Err()
			})
		}
		wg.Wait()
	}()
	for _, q := range queues {
		if err := q.Consumer().Start(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.StartTimer()
	start := time.Now()
	var wg sync.WaitGroup
	var next atomic.Int64
	for range benchProducers {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				msg := taskq.NewMessage(ctx, i)
				msg.TaskName = "noop"
				if err := queues[int(i)%len(queues)].Add(msg); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	for done.Load() < int64(n) {
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	return float64(n) / elapsed.Seconds()
}
