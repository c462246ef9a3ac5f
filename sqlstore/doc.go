// Package sqlstore is the default wasend.Store: browser contexts, send jobs
// and their messages kept in PostgreSQL, MySQL (or MariaDB) or SQLite,
// through database/sql.
//
//	cfg, err := pgx.ParseConfig(os.Getenv("DATABASE_URL"))
//	db := stdlib.OpenDB(*cfg)      // the caller owns db, and closes it
//	store, err := sqlstore.New(db) // the dialect is detected
//	err = store.Migrate(ctx)       // once at start-up
//	client, err := wasend.New(pool, queue, store)
//
// # Dialects
//
// New tells the dialect from the type of the *sql.DB's driver:
// github.com/jackc/pgx/v5/stdlib (Postgres), github.com/go-sql-driver/mysql
// (MySQL) and modernc.org/sqlite (SQLite). For any other driver, pass
// WithDialect; New fails with ErrUnknownDialect otherwise. Only these three
// drivers are tested. The package links none of them: it recognises them by
// the package path of their types and reads their error codes without
// importing them, so a program links only the driver it imports itself
// (pgx's stdlib, go-sql-driver/mysql, or the sub-package sqlstore/sqlite).
//
// # DSNs
//
// PostgreSQL (11 or later), with pgx's stdlib:
//
//	postgres://user:password@host:5432/dbname?sslmode=verify-full
//
// Every query mode of pgx works, default_query_exec_mode=simple_protocol
// (for PgBouncer in transaction mode) included. The session time zone does
// not matter.
//
// MySQL 8.0 or later, or MariaDB 10.5 or later, with go-sql-driver/mysql:
//
//	user:password@tcp(host:3306)/dbname?parseTime=true&loc=UTC&charset=utf8mb4&interpolateParams=true
//
// The store works without parseTime, with any loc and with any session
// time_zone: it sends times as UTC text and reads them in whatever form the
// driver gives. The connection must use utf8mb4 (the driver's default) so
// that 4-byte characters such as emoji survive. interpolateParams=true
// saves a round trip per statement. The store does not depend on
// clientFoundRows.
//
// SQLite, with modernc.org/sqlite: use the sub-package sqlstore/sqlite,
// whose Open opens a database file with this DSN (sqlite.DSN), or pass the
// DSN to sql.Open("sqlite", ...) with your own pool settings:
//
//	file:/var/lib/app/wasend.db?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)&_txlock=immediate
//
// # Migrations
//
// Migrate applies the versioned SQL files embedded in the package
// (migrations/<dialect>/NNNN_name.sql) that the database lacks, and records
// each in the table wasend_schema_migrations (version, applied_at). It is
// idempotent, and safe when several processes call it at once: PostgreSQL
// serialises them with pg_advisory_lock, MySQL with GET_LOCK, each on a
// dedicated connection, and SQLite with an immediate transaction (retried
// while the database is busy). PostgreSQL and SQLite apply each migration
// in a transaction; MySQL commits DDL statement by statement, so its
// statements are idempotent (CREATE TABLE IF NOT EXISTS, INSERT IGNORE),
// and a statement that fails because the column or key it adds exists
// already (errors 1060 and 1061: a run interrupted after it) counts as
// applied. MigrationVersion reports the newest migration applied;
// SchemaVersion is the newest this package holds.
//
// Version 1 created the tables. Version 2 added the columns of
// exactly-once sending: lookups, guard_since and guard_mark on messages,
// and idempotency_key, with its unique index, on jobs. Version 3 added
// what keeps an account safe: the context status restricted (id 6), the
// restriction, first login, pacing and proxy columns of browser_context,
// wait_reason and not_before on jobs, and the tables browser_context_sends
// (the send ledger) and browser_context_contacts. Version 4 added
// campaigns: the table send_campaigns, campaign_id (with its foreign key
// and index) on jobs and moved_from on messages. Version 5 added the
// outbox: the table send_events. Version 6 added receipts, media, the
// context's account, the inbox, the suppression list and the cache of
// number checks: on messages the media columns, delivered_at, read_at,
// undelivered_at and browser_context_id (copied from the job, old rows
// included, by the migration itself: on a large table it rewrites every
// message once), account on browser_context, and the tables send_incoming,
// send_suppressions and send_number_checks. Version 7 added an event's
// data (wasend.Event.Data, JSON): the column data of send_events. Version
// 8 added the login snapshots of persistent sessions (Store.Profiles): the
// tables browser_profiles and browser_profile_parts. Rows of
// older versions keep their values; the new columns start empty (0, NULL).
//
// # Tables
//
// The tables keep the names of the original design:
//
//   - browser_context_status and send_messages_jobs_status: the statuses,
//     with fixed ids (available 1, busy 2, disconnected 3, error 4, closed
//     5, restricted 6; pending 1, running 2, completed 3, failed 4, paused
//     5, cancelled 6), a unique slug and a description. Migrate seeds them.
//   - browser_context: id, browser_context_status_id, browser_system_id
//     (unique, NULL when empty), created_at, updated_at, restriction_kind,
//     restricted_until and restriction_reason (the restriction in force or
//     the last one, all NULL for none; the reason is cut to MaxErrorLength
//     bytes), first_login_at, pacing (the wasend.Pacing as JSON text, NULL
//     for the Client's default), proxy (text, NULL when empty) and account
//     (the number its session last logged in as, NULL while unknown).
//   - send_messages_jobs: id, browser_context_id, send_messages_jobs_status_id,
//     kind ('single' or 'bulk'), delay_ms, metadata (JSON, NULL when nil),
//     attempts, max_attempts, claim, next_run_at, enqueued_at, error_kind,
//     error_message, created_at, updated_at, started_at, finished_at,
//     idempotency_key (up to 255 bytes, NULL when empty; VARBINARY on MySQL,
//     whose utf8mb4_bin would pad 'k' to equal 'k '), version, wait_reason
//     (the wasend.WaitReason, NULL for none) and not_before (NULL for
//     none); indexed on (status, next_run_at), (browser_context_id,
//     status) and finished_at, and unique on idempotency_key (NULLs
//     repeat); campaign_id (the job's campaign, NULL for none; a foreign
//     key to send_campaigns, indexed).
//   - send_messages_jobs_messages: id, send_messages_job_id (deleted with its
//     job), position (unique per job), to_phone, body (up to 65,536
//     characters of any size: MEDIUMTEXT on MySQL), status (the slug:
//     pending, sending, unconfirmed, sent, failed, cancelled or unknown),
//     attempts, attempted_at, sent_at, wa_message_id, error_kind,
//     error_message, created_at, updated_at, lookups, guard_since,
//     guard_mark (up to MaxGuardMarkLength bytes: TEXT on MySQL) and
//     moved_from (the id of the message this one is a copy of, NULL for
//     none; no foreign key, since Clean may delete the job of the
//     original first); the attachment (wasend.Media: media_kind, NULL for
//     a text message, media_path, media_name, media_type, media_size and
//     media_sha256: a reference and a checksum, never the file), the
//     receipts (delivered_at, read_at, undelivered_at, NULL until
//     recorded) and browser_context_id, the job's context, written with
//     the message. Unread reads the index on (browser_context_id,
//     sent_at) of the messages sent and not read (partial on PostgreSQL
//     and SQLite; on MySQL (browser_context_id, read_at, sent_at)), so
//     that the messages a context still follows are one range of it
//     rather than a join over every job of the context; it leaves out
//     status, so that the changes of status before a send leave it alone
//     (on PostgreSQL they stay heap-only updates).
//   - browser_profiles: system_id (the key; VARBINARY on MySQL),
//     generation, size, sha256, taken_at, took_ns, parts and saved_at: one
//     login snapshot per session (Store.Profiles). A row at generation 0
//     is a first save under way, not a snapshot.
//   - browser_profile_parts: system_id, part (from 0) and data (at most
//     1 MiB: LONGBLOB on MySQL), keyed on (system_id, part): the archive.
//   - send_campaigns: id, contexts (the pool, a JSON array of context
//     ids in the host's order), allow_moves (wasend.Campaign.Move),
//     metadata (JSON, NULL when nil), idempotency_key (as the jobs' one,
//     unique, NULL when empty, in a space of its own) and created_at.
//     Clean deletes a campaign once it has no job left.
//   - browser_context_sends, the send ledger: id, browser_context_id,
//     sent_at, recipient_hash and text_hash (up to MaxLedgerHashLength
//     bytes; text_hash NULL when empty), new_contact; indexed on
//     (browser_context_id, sent_at), which Sends reads, and on sent_at,
//     which PruneSends deletes by. It holds no phone number and no text.
//   - browser_context_contacts: browser_context_id, recipient_hash and
//     first_sent_at, keyed on (browser_context_id, recipient_hash). Apply
//     inserts a contact with its send (INSERT ... ON CONFLICT DO NOTHING,
//     INSERT IGNORE, INSERT OR IGNORE); PruneSends never deletes one.
//   - send_events, the outbox (wasend.OutboxStore): id, topic, at, job_id,
//     message_id, context_id and campaign_id (NULL for none; no foreign
//     keys: an event outlives Clean's deletion of its job), status,
//     error_kind, metadata (the job's, JSON, copied when the event is
//     recorded), version (wasend.EventVersion), attempts, next_at,
//     claimed_by and claimed_until (the relay that holds the event, NULL
//     for none), delivered_at (NULL until delivered), dead and last_error
//     (cut to MaxErrorLength bytes). Indexed for the due scan (the events
//     neither delivered nor dead, by id: a partial index on PostgreSQL
//     and SQLite, (delivered_at, dead, id) on MySQL), on (job_id, id),
//     which keeps each job's events in order, and on delivered_at, which
//     PruneEvents deletes by. Apply, CreateJob, CreateCampaign and
//     MoveMessages insert a change's events in its transaction, by one
//     INSERT ... SELECT that reads what the events leave zero from the
//     message and job rows (on MySQL, whose INSERT ... SELECT would lock
//     those rows, by a plain read and an INSERT); with no events, they do
//     no more than before. It holds no phone number and no text.
//   - send_incoming, the inbox (wasend.InboxStore): id, context_id (a
//     foreign key to browser_context), from_phone, body (the text, as
//     MaxIncomingTextLength says), at, wa_message_id (VARBINARY on MySQL),
//     opt_out and created_at; unique on (context_id, wa_message_id),
//     which decides between concurrent RecordIncoming calls, and indexed
//     on (context_id, id) and (from_phone, id) for Incoming's filters and
//     on created_at for PruneIncoming.
//   - send_suppressions (wasend.SuppressionStore): phone (the primary
//     key, compared and sorted byte for byte: COLLATE "C" on PostgreSQL,
//     VARBINARY on MySQL), reason (NULL when empty), context_id (NULL for
//     none; no foreign key) and created_at.
//   - send_number_checks (wasend.NumberStore): phone (the primary key, as
//     the suppressions'), on_whatsapp, canonical (NULL when empty),
//     context_id (NULL for none) and checked_at, indexed for PruneNumbers.
//
// MySQL tables are InnoDB, utf8mb4 with a binary collation, so that
// browser_system_id compares exactly as on the other databases. Tables of
// these names that another program created are used as they are: the
// store does not check their shape.
//
// # Times
//
// Times are stored in UTC to the microsecond: timestamptz on PostgreSQL,
// DATETIME(6) on MySQL, and text of the fixed-width form
// "2006-01-02 15:04:05.000000" on SQLite (so that text order is time
// order). The store truncates the times it is given to the microsecond and
// returns every time in UTC, so that what it returns equals what it reads
// back. The times it stamps (created_at, updated_at, and any transition's
// zero At) come from the clock of WithClock, never from the database.
//
// # Inserts and ids
//
// CreateJob inserts the job with INSERT ... SELECT from browser_context, so
// that a missing context inserts nothing (ErrContextNotFound) whatever the
// foreign keys, and the messages with multi-row INSERTs of at most 1,000
// rows and 4 MiB. PostgreSQL and SQLite return the ids with RETURNING; on
// PostgreSQL a job whose messages fit in one INSERT is written by a single
// statement (the job's INSERT in a WITH), one round trip. MySQL returns the
// first id of a multi-row INSERT only, and the others need not follow it
// (auto_increment_increment, lock modes), so the ids of a job's messages
// are read back in the same transaction (a single message's id is
// LastInsertId).
//
// # Idempotency keys
//
// The unique index on idempotency_key decides which of several creators of
// one key wins, in one process or several: the others' INSERT waits for
// the winner's transaction and then fails (or, if it rolled back, goes
// ahead). CreateJob then reads the job that holds the key, with its
// messages, and returns it with an error wrapping wasend.ErrJobExists; it
// looks for that row rather than decoding each driver's error, as
// CreateContext does for browser_system_id. A key is freed when Clean
// deletes its job. Campaigns' keys work the same way, on
// send_campaigns.idempotency_key (wasend.ErrCampaignExists).
//
// # Campaigns
//
// The Store implements wasend.CampaignStore. CreateCampaign inserts the
// campaign and then each job with the statements of CreateJob, in one
// transaction, so that a context that takes no job, or a key taken, leaves
// nothing behind. MoveMessages runs in one transaction that starts with a
// conditional UPDATE of the job the messages leave (pending or paused,
// version + 1): it serialises the move with a worker's claim of the job,
// a JobTransition from pending with IfVersion, so that either the claim
// comes first and nothing moves, or the move does and the claim fails. It
// then locks the job's pending messages that it moves (SELECT ... FOR
// UPDATE), inserts the new job as CreateJob does, cancels the originals
// (error kind moved) and completes the job they left when none of its
// messages is pending, sending or unconfirmed; the version then grows a
// second time. Nothing to move rolls everything back.
//
// # Receipts, inbox, suppressions and number checks
//
// The Store implements wasend.ReceiptStore, InboxStore, SuppressionStore
// (and SuppressionGuard: the INSERT of CreateJob and the first UPDATE of
// Apply carry NOT EXISTS on send_suppressions for the numbers of
// Job.Unsuppressed and Step.Unsuppressed, so the Client reads the list
// for neither) and NumberStore. A step's Receipt is one more conditional UPDATE of
// Apply (see Apply). RecordIncoming and Suppress insert with ON CONFLICT
// DO NOTHING (INSERT IGNORE, INSERT OR IGNORE) on their unique keys, and
// record their events in the same transaction only when they inserted:
// of concurrent callers, in one process or several, one inserts and the
// others find the row. CacheNumbers upserts on the condition that the
// stored answer is not newer. Suppressed and CachedNumbers ask by primary
// key, a thousand numbers to a query. Clean deletes none of these: an
// opt-out must be honoured for good, and the inbox is the host's data;
// PruneIncoming and PruneNumbers delete old incoming messages and number
// checks when the host calls them.
//
// # Concurrency
//
// A Store is safe for concurrent use, by any number of goroutines and
// processes. Apply runs its conditional UPDATEs in one transaction (a step
// of one UPDATE, in one statement; on PostgreSQL, most steps of several
// UPDATEs, in one statement too) and checks that each matched its row.
// PendingMessagesTo and UnconfirmedMessagesTo are one UPDATE with a CASE
// on the status, so that both read the statuses as the step's Message
// left them. A step's Send adds two INSERTs (the ledger entry and the
// contact) that run only when every UPDATE matched: after them in the
// transaction, or, in PostgreSQL's one statement, as WITH queries on the
// same check. A step without a Send runs no statement more than before;
// Restriction and LoggedIn are columns of the context's UPDATE.
// MySQL reports an UPDATE that changed no value as touching no row; the
// store then checks the condition with SELECT ... FOR UPDATE in the same
// transaction, so such a step still reports true. UPDATEs by id force the
// primary key on MySQL, and the foreign key from send_messages_jobs to
// browser_context has an index of its own, so that InnoDB locks no row of
// another job or context.
//
// SQLite runs one writer at a time. sqlite.Open gives its pool a single
// connection, so that the writers of one process queue in Go rather than
// poll in SQLite's busy handler; other processes wait up to
// sqlite.BusyTimeout.
//
// # Group commit
//
// With WithGroupCommit (off by default: see DefaultGroupCommit),
// concurrent Apply and CreateJob calls share transactions: a call that
// finds a transaction free and nobody waiting runs at once, alone, as
// above; the calls that arrive while every transaction is busy are
// written together by the next one free, in one transaction, and commit
// once, as PostgreSQL's commit_delay and River's batch completer share a
// flush of the log. There is no timer: the window is the time the
// previous transaction took. Each call keeps its own outcome. A step of one
// statement runs as it is (it takes effect whole or not at all), and a
// step whose condition fails changes nothing and reports false; a step of
// several statements, and a job with an idempotency key, run inside a
// savepoint, so that a condition that fails half-way, or an error, rolls
// back that call only (on error, it then runs again alone). Any other
// error rolls the batch back and every call in it runs again alone; if
// the commit fails, every call in the batch gets the error, and none took
// effect. A caller whose context ends while its call waits withdraws it
// and gets the context's error; once a transaction holds its call, it
// waits for that commit and learns its outcome, so that no claim or
// outcome is written behind the back of a caller told that it failed.
// The batches are written by the goroutines of their callers: group commit
// starts none.
//
// # Errors
//
// Errors from the database wrap wasend.ErrStore, except those caused by the
// context, which wrap context.Canceled or context.DeadlineExceeded. Input
// that a column cannot hold is refused before any statement runs: invalid
// records and filters with ErrInvalidInput (or wasend.ErrInvalidText,
// ErrInvalidPhone, ErrInvalidMetadata, ErrInvalidIdempotencyKey,
// ErrInvalidMedia; the filters of Unread, Incoming and Suppressions also
// wrap wasend.ErrInvalidFilter, and the numbers of RecordIncoming,
// Suppress and CacheNumbers wasend.ErrInvalidPhone), invalid steps with
// ErrInvalidStep (a Mark among them: it is compared, so it is never cut).
// Error messages longer than MaxErrorLength bytes and the WhatsApp ids of
// sent messages longer than MaxWAMessageIDLength are cut instead, and made
// valid UTF-8; the WhatsApp id of an incoming message is its key, so a
// longer one is refused.
package sqlstore
