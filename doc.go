// Package wasend sends WhatsApp messages through pools of WhatsApp Web
// browser sessions, with every job and session kept in SQL, and a queue that
// only wakes the workers.
//
// The package holds the contracts and the front end. It imports only the
// standard library. The default back ends live in sub-packages, which the
// host wires explicitly:
//
//   - chromedpdriver: a BrowserPool that drives Chromium with chromedp;
//   - redisqueue: a Queue on Redis, with taskq v3;
//   - sqlstore: a Store on database/sql (PostgreSQL, MySQL/MariaDB, SQLite).
//
// # Wiring
//
//	db, _ := sqlstore.OpenSQLite("wasend.db")
//	store, _ := sqlstore.New(db)
//	_ = store.Migrate(ctx)
//	queue, _ := redisqueue.New(redisqueue.WithAddr("127.0.0.1:6379"))
//	pool, _ := chromedpdriver.New(chromedpdriver.WithProfileRoot("profiles"))
//	client, _ := wasend.New(pool, queue, store)
//	defer client.Close()
//	bc, _ := client.CreateContext(ctx) // scan its QR (WithEventHandler)
//	go client.Run(ctx)
//	job, err := client.Send(ctx, bc.ID, "+5491122334455", "Hola")
//
// # The workflow
//
// Send and SendBulk validate their input before they write anything: the
// phone number is normalized to E.164, the text must be non-empty UTF-8 of
// at most MaxTextLength characters, and the browser context must exist and
// be neither closed nor in error. Bad input returns a *ValidationError that
// wraps a sentinel such as ErrInvalidPhone, and nothing is recorded.
//
// The job is written to the Store as pending, and then enqueued. The store
// is the source of truth; the queue only wakes workers. If the enqueue
// fails, Send still returns the pending job with a nil error, and a sweep in
// Run enqueues it again later: nothing is lost.
//
// A worker claims a job with a conditional transition from pending to
// running, in the same transaction as the move of its browser context to
// busy and of its message to sending. A duplicate delivery, or a job that
// was paused or cancelled meanwhile, finds nothing to claim and sends
// nothing. One browser context never runs two sends at once: jobs of a
// busy context wait their turn in this process, without spending an
// attempt, without failing, and without polling.
//
// The outcome of each attempt is recorded on the message and the job in
// one transaction, together with the release of the context. Permanent
// errors (see Retryable) fail the message at once; retryable ones go back
// to the queue with exponential backoff and jitter until the attempts run
// out. An error that says the session is gone (ErrLoggedOut, ErrConflict,
// ErrDisconnected) sets the context to disconnected instead of available,
// and its jobs wait for the session to come back. A panic in the session
// is recovered and treated as an unconfirmed send.
//
// # Never twice
//
// A message moves to sending before its attempt begins. A failure after the
// point where the message may have left (Unconfirmed) leaves it in sending,
// and so does a crash. Before such a message is sent again, the Client asks
// the session, if it is a SentFinder, to look in the chat for it; when the
// session cannot, the message fails with ErrUnknownOutcome (see
// WithUnknownOutcome).
//
// # Bulk jobs
//
// A bulk job sends its messages in order, with its delay between them, and
// releases the browser context between messages so that single jobs of the
// same context are not held up. It runs in slices (WithBulkSlice): at the end
// of a slice it goes back to the queue and continues on the next delivery.
// Pause stops after the message in flight, Resume continues from the first
// unsent message, and Cancel marks the unsent messages cancelled. A retried
// bulk job never sends again a message that was already sent.
//
// # Routing
//
// Each browser context has its own queue, consumed only by the process that
// holds the context's live session (CreateContext or OpenContext, then
// Run). Any process may call Send: the job reaches the holder. The
// concurrency limits (WithSingleConcurrency, WithBulkConcurrency) cap how
// many jobs one process runs at once across its contexts.
//
// # Logging
//
// The Client logs with log/slog. Message bodies never reach a log line, and
// phone numbers are masked to their last 4 digits (MaskPhone).
package wasend
