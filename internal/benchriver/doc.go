// Package benchriver measures wasend's pipeline against River, the job
// queue that STYLE.md names as the closest model to wasend's shape, on the
// same machine, in the same run (issue 15, "A pipeline ahead of River").
//
// It is a separate Go module, so that no user of wasend ever links River or
// its driver: the root module knows nothing of it. Run it from this
// directory:
//
//	go test -run '^$' -bench . -benchtime 1x -count 1
//
// The sides (wasend with group commit, River twice, wasend with sqlstore's
// default) rotate which goes first between iterations (-count); -first
// picks the side that starts, to alternate between commands.
//
// It needs the services of scripts/test-env.sh: WASEND_TEST_POSTGRES and
// WASEND_TEST_REDIS (it skips without them, and fails under CI=true).
//
// # What is compared
//
// Each side moves the same messages (20,000 by default, -messages to
// change it) from 8 producers, each calling the system's single-job insert
// at once, to workers that do nothing, on the same PostgreSQL, each in a
// database of its own created for the run, so that tables start empty:
//
//   - wasend: Client.Send through sqlstore (PostgreSQL, through pgx's
//     database/sql driver, 16 connections) and redisqueue (the real Redis),
//     20 browser contexts whose sessions send nothing, the Client at its
//     default concurrency, as internal/bench's BenchmarkPipeline does.
//   - River (riverqueue/river v0.51.2, riverpgxv5, its migrations applied
//     with rivermigrate): Client.Insert, one job per message (no
//     InsertMany), a worker that returns nil, a pgxpool of the same 16
//     connections, River's defaults otherwise. It runs twice: with
//     MaxWorkers 100, and with MaxWorkers 1000 (below).
//   - wasend again (-baseline, on by default), with sqlstore's default
//     (DefaultGroupCommit) where the first wasend run has group commit of
//     -group-commit transactions (sqlstore.WithGroupCommit, 2 by
//     default): the before and the after of issue 15's group commit, in
//     the same run.
//
// Each rate runs from the first insert until every message is recorded as
// done: for wasend, until the transport has been called for every message
// and the store counts every job completed; for River, until the worker has
// run every job and river_job holds every row as completed (River's
// completer writes completions in batches, after the work returns).
// Each side then stops, and its run ends when its connections are closed.
// The order of the sides rotates between iterations (and between -count
// runs, from the side -first names), so that a machine's drift falls on
// each.
//
// # River's workers
//
// wasend runs at most DefaultSingleConcurrency (10) sends at once across
// the process: its 20 contexts share that limit, and their 40 queue
// workers (redisqueue.DefaultWorkers each) only take deliveries. River's
// MaxWorkers is not the same knob. River fetches jobs at most once per
// FetchCooldown (100 ms by default, and "throughput is limited by this
// value", says its doc), at most MaxWorkers of them, so it can never run
// more than MaxWorkers/FetchCooldown jobs a second. With 10 workers that is
// 100 jobs a second, whatever the database can do: matching wasend's
// number would measure River's debounce, not its cost. Shortening
// FetchCooldown instead makes River fetch a few jobs at a time, often,
// against its inserts (in one trial on this machine, loaded, 10 workers gave 370 jobs a second
// at 1 ms and 720 at 10 ms). The benchmark therefore keeps River's
// defaults and gives it MaxWorkers 100, the value of River's README and
// package doc (-river-workers), whose ceiling is 1,000 jobs a second; and,
// so that no ceiling of River's own can flatter wasend, a second River run
// with MaxWorkers 1000 (-river-wide-workers), whose ceiling of 10,000 jobs
// a second leaves PostgreSQL as the limit. The first is the figure a River
// user gets from the documentation, the second River's pace on this
// database. With a worker that does nothing, MaxWorkers only bounds a
// fetch's batch and the jobs in flight.
//
// # Why it is fair, and to whom
//
// River is at-least-once: a job runs, its completion is written later in a
// batch, and a crash in between runs it again. wasend is exactly-once
// towards the transport: before each send it makes a claim durable (a
// conditional update, committed), and after it an outcome, so a crash
// never sends twice. wasend therefore does more durable work per message,
// and the comparison is fair to River and hard on wasend. Neither side
// does real work, so both rates are the price of the bookkeeping alone.
//
// # The counts
//
// Besides the rates, wasend and the first River run report per message
// (the log gives each run's, the second River run's too):
//
//   - stmts/msg: statements its connections executed, counted by a pgx
//     QueryTracer on its own pool (BEGIN, COMMIT and ROLLBACK excluded);
//   - commits/msg: transactions committed in its database, from
//     pg_stat_database's xact_commit, read after every connection closed
//     (so that every backend has sent its statistics), less the
//     benchmark's own polling transactions;
//   - writes/msg: rows inserted, updated and deleted, from
//     pg_stat_database's tup_inserted, tup_updated and tup_deleted;
//   - CPU ms/msg: CPU time of the PostgreSQL backends connected to its
//     database (/proc/<pid>/stat: the server runs on this machine), and
//     of this test process (getrusage: the benchmark and the system under
//     measurement, one side at a time), from the first insert until every
//     message is done. On a machine that other work keeps busy these are
//     steadier than the rates, and they say where a side spends its time;
//     Redis's CPU, which only wasend uses, is not counted.
//
// make bench-river runs wasend's side once, with sqlstore's default
// (-group-commit 0 -baseline=false): group commit did not pay on this
// machine (BENCHMARKS.md). -no-guard hides sqlstore's
// wasend.SuppressionGuard from the Client, which then reads the
// suppression list before each Send and each turn, as before the list
// was checked inside the INSERT and the claim: two statements a message
// more, for a before and after in one run (with -only-wasend, say).
//
// -breakdown logs each side's statements by kind (their first words, the
// tables they name, and whether they ran in a transaction), per message;
// -only-wasend runs wasend's side alone, to iterate on it.
//
// The log also gives the commits that the tracer saw the client ask for
// (COMMITs, and statements outside a transaction). The server counts more:
// pgx's pings of idle connections, autovacuum, the start of each
// connection, and, for River with a short FetchCooldown, the transaction
// in which its LISTEN backend reads each batch of notifications.
//
// The window for the counts runs from the end of setup (for River, after
// its migrations, on a pool closed before the window opens; for wasend,
// whose Client must stay up, after a pause that lets setup's backends
// report) until every connection is closed. Background work inside it
// (River's leader election and maintenance, wasend's sweeps and leases)
// is part of each system's cost and is counted. pg_stat_statements would
// give the statements on the server's side, but it needs
// shared_preload_libraries, which the test server does not set; the tracer
// counts the same statements on the client's side.
package benchriver
