package benchriver

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/internal/testenv"
	"github.com/wasend/wasend/redisqueue"
	"github.com/wasend/wasend/sqlstore"
)

// wasend's side of the shape, as internal/bench's BenchmarkPipeline has it:
// 20 browser contexts, each consumed by redisqueue's default workers, and
// the Client's default concurrency.
const wasendContexts = 20

// noGuard runs wasend's side as it was before sqlstore checked the
// suppression list inside its INSERT and claim: the Client reads the list
// before each Send and each turn.
var noGuard = flag.Bool("no-guard", false, "hide sqlstore's SuppressionGuard, so that the Client reads the suppression list (two statements a message more)")

// unguardedStore is sqlstore without wasend.SuppressionGuard: the field
// hides the method of the embedded store.
type unguardedStore struct {
	*sqlstore.Store
	GuardsSuppressions struct{}
}

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

// runWasend sends n messages through Client.Send, from producers at once,
// in a database of its own, with sqlstore's group commit of group
// transactions (0: off), and returns what it measured.
func runWasend(b *testing.B, stats statsReader, redisAddr string, n, group int) result {
	b.Helper()
	ctx := context.Background()
	_, dsn := testenv.PostgresDB(b)
	dbname := databaseName(b, dsn)

	var cnt counter
	db := stdlib.OpenDB(*tracedConfig(b, dsn, &cnt))
	defer db.Close()
	db.SetMaxOpenConns(poolConns)
	db.SetMaxIdleConns(poolConns)
	store, err := sqlstore.New(db, sqlstore.WithGroupCommit(group))
	if err != nil {
		b.Fatal(err)
	}
	if err := store.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	quiet := slog.New(slog.DiscardHandler)
	queue, err := redisqueue.New(redisqueue.WithAddr(redisAddr), redisqueue.WithPrefix(testenv.Name("wriver")),
		redisqueue.WithLogger(quiet))
	if err != nil {
		b.Fatal(err)
	}
	defer queue.Close()
	var sent atomic.Int64
	var st wasend.Store = store
	if *noGuard {
		st = &unguardedStore{Store: store}
	}
	client, err := wasend.New(noopPool{&sent}, queue, st, wasend.WithLogger(quiet), wasend.WithPacing(wasend.NoPacing()))
	if err != nil {
		b.Fatal(err)
	}
	defer client.Close()
	ids := make([]int64, wasendContexts)
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

	// The benchmark's own polls go through a pool of their own, counted
	// apart, so that they can be taken out of the database's figures.
	var obsCnt counter
	obsDB := stdlib.OpenDB(*tracedConfig(b, dsn, &obsCnt))
	defer obsDB.Close()
	obsDB.SetMaxOpenConns(1)
	obs, err := sqlstore.New(obsDB)
	if err != nil {
		b.Fatal(err)
	}

	// The Client must stay up, so its setup cannot be closed away as
	// River's migrations are: its backends get the time to send their
	// statistics instead.
	time.Sleep(settleTime)
	server0, client0, obs0 := stats.read(b, dbname), cnt.snapshot(), obsCnt.snapshot()
	cpu0 := stats.cpuNow(b, dbname)

	start := time.Now()
	produce(b, n, func(i int) error {
		_, err := client.Send(ctx, ids[i%len(ids)], benchPhone(i), benchText(i))
		return err
	})
	produced := time.Since(start)
	for sent.Load() < int64(n) {
		time.Sleep(time.Millisecond)
	}
	allSent := time.Since(start)
	// Every job is completed once its outcome is recorded.
	for completed(b, obs) < int64(n) {
		time.Sleep(pollInterval)
	}
	elapsed := time.Since(start)
	used := stats.cpuNow(b, dbname).sub(cpu0)
	b.Logf("wasend (group commit %d): every Send returned after %s, every message sent after %s, every job completed after %s",
		group, produced.Round(time.Millisecond), allSent.Round(time.Millisecond), elapsed.Round(time.Millisecond))

	stop()
	<-runDone
	if err := client.Close(); err != nil {
		b.Fatal(err)
	}
	_ = queue.Close()
	_ = db.Close()
	_ = obsDB.Close()
	server := stats.settled(b, dbname).sub(server0)
	server.commits -= obsCnt.counts().sub(obs0).commits
	if got := sent.Load(); got != int64(n) {
		b.Fatalf("sent %d messages, want %d (never twice)", got, n)
	}
	cnt.logBreakdown(b, fmt.Sprintf("wasend (group commit %d)", group), n)
	return result{rate: float64(n) / elapsed.Seconds(), client: cnt.counts().sub(client0), server: server, cpu: used}
}

// completed returns how many jobs the store holds as completed.
func completed(b *testing.B, store wasend.Store) int64 {
	b.Helper()
	counts, err := store.Counts(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	var done int64
	for _, c := range counts.Jobs {
		if c.Status == wasend.JobCompleted {
			done += c.N
		}
	}
	return done
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
