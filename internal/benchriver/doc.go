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
// It needs the services of scripts/test-env.sh: WASEND_TEST_POSTGRES and
// WASEND_TEST_REDIS (it skips without them, and fails under CI=true).
//
// # What is compared
//
// Both sides move the same messages (20,000 by default, -messages to
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
//     connections.
//
// Each rate runs from the first insert until every message is recorded as
// done: for wasend, until the transport has been called for every message
// and the store counts every job completed; for River, until the worker has
// run every job and river_job holds every row as completed (River's
// completer writes completions in batches, after the work returns).
// Both sides then stop, and the run ends when their connections are
// closed. The order of the two alternates between iterations (and between
// -count runs), so that a machine's drift falls on both.
//
// # River's concurrency
//
// wasend runs at most DefaultSingleConcurrency (10) sends at once across
// the process (its 20 contexts share that limit; their 40 queue workers
// only take deliveries). River gets the same: MaxWorkers 10 on its one
// queue (-river-workers to change it). River fetches new jobs at most once
// per FetchCooldown (100 ms by default), so at its defaults it could never
// run more than MaxWorkers/FetchCooldown jobs a second (100 a second with
// 10 workers), which would measure the debounce rather than the database.
// The benchmark therefore sets FetchCooldown to River's documented minimum,
// FetchCooldownMin (1 ms), which its doc gives as the throughput knob
// (-river-cooldown to change it): River then fetches as soon as a slot is
// free, the way wasend's workers take the next delivery.
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
// Besides the rates, each side reports per message:
//
//   - stmts/msg: statements its connections executed, counted by a pgx
//     QueryTracer on its own pool (BEGIN, COMMIT and ROLLBACK excluded);
//   - commits/msg: transactions committed in its database, from
//     pg_stat_database's xact_commit, read after every connection closed
//     (so that every backend flushed its statistics), less the benchmark's
//     own polling transactions;
//   - writes/msg: rows inserted, updated and deleted, from
//     pg_stat_database's tup_inserted, tup_updated and tup_deleted.
//
// Background work (River's leader election and maintenance, wasend's
// sweeps and leases) in the measured window is counted too: it is part of
// each system's cost. pg_stat_statements would give the statements on the
// server's side, but it needs shared_preload_libraries, which the test
// server does not set; the tracer counts the same statements on the
// client's side.
package benchriver
