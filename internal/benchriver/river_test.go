package benchriver

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/wasend/wasend/internal/testenv"
)

// sendArgs is River's job: what wasend records for a single send.
type sendArgs struct {
	ContextID int64  `json:"context_id"`
	To        string `json:"to"`
	Text      string `json:"text"`
}

// Kind names the job for River.
func (sendArgs) Kind() string { return "send" }

// noopWorker works a job by counting it.
type noopWorker struct {
	river.WorkerDefaults[sendArgs]
	done *atomic.Int64
}

// Work counts the job and returns nil.
func (w *noopWorker) Work(ctx context.Context, job *river.Job[sendArgs]) error {
	w.done.Add(1)
	return nil
}

// runRiver inserts n jobs with Client.Insert, from producers at once, in a
// database of its own with River's migrations applied, and returns what it
// measured.
func runRiver(b *testing.B, stats statsReader, n, workers int, cooldown time.Duration) result {
	b.Helper()
	ctx := context.Background()
	_, dsn := testenv.PostgresDB(b)
	dbname := databaseName(b, dsn)

	// River's migrations run on a pool of their own, closed before the
	// window opens, so that their backends have sent their statistics.
	quiet := slog.New(slog.DiscardHandler)
	migrate(b, dsn, quiet)
	server0 := stats.settled(b, dbname)

	var cnt counter
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		b.Fatal(err)
	}
	cfg.ConnConfig.Tracer = &cnt
	cfg.MaxConns = poolConns
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	var done atomic.Int64
	ws := river.NewWorkers()
	river.AddWorker(ws, &noopWorker{done: &done})
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		FetchCooldown: cooldown,
		Logger:        quiet,
		Queues:        map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: workers}},
		Workers:       ws,
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := client.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = client.Stop(ctx) }()

	// The benchmark's own polls go through a connection of their own,
	// counted apart, so that they can be taken out of the database's
	// figures.
	var obsCnt counter
	obs, err := pgx.ConnectConfig(ctx, tracedConfig(b, dsn, &obsCnt))
	if err != nil {
		b.Fatal(err)
	}
	defer obs.Close(ctx)

	client0, obs0 := cnt.snapshot(), obsCnt.snapshot()
	cpu0 := stats.cpuNow(b, dbname)

	start := time.Now()
	produce(b, n, func(i int) error {
		_, err := client.Insert(ctx, sendArgs{ContextID: int64(i % wasendContexts), To: benchPhone(i), Text: benchText(i)}, nil)
		return err
	})
	for done.Load() < int64(n) {
		time.Sleep(time.Millisecond)
	}
	// Every job is completed once River's completer has recorded it.
	for {
		var c int64
		if err := obs.QueryRow(ctx, "SELECT count(*) FROM river_job WHERE state = 'completed'").Scan(&c); err != nil {
			b.Fatal(err)
		}
		if c >= int64(n) {
			break
		}
		time.Sleep(pollInterval)
	}
	elapsed := time.Since(start)
	used := stats.cpuNow(b, dbname).sub(cpu0)

	if err := client.Stop(ctx); err != nil {
		b.Fatal(err)
	}
	pool.Close()
	_ = obs.Close(ctx)
	server := stats.settled(b, dbname).sub(server0)
	server.commits -= obsCnt.counts().sub(obs0).commits
	if got := done.Load(); got != int64(n) {
		b.Fatalf("worked %d jobs, want %d", got, n)
	}
	cnt.logBreakdown(b, "River", n)
	return result{rate: float64(n) / elapsed.Seconds(), client: cnt.counts().sub(client0), server: server, cpu: used}
}

// migrate applies River's migrations to the database at dsn.
func migrate(b *testing.B, dsn string, logger *slog.Logger) {
	b.Helper()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	migrator, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Logger: logger})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		b.Fatal(err)
	}
}
