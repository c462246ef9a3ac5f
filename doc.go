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
// # Words
//
// "Context" could mean three things here, so each has one name:
//
//   - A browser context is the record of one WhatsApp account's session:
//     BrowserContext, its ContextStatus, and the contextID parameters. The
//     name comes from the original design, and so do the SQL table and
//     column names (browser_context, browser_context_id), which stay. In
//     prose it is always "browser context", never "context" alone where
//     the next sentence could mean the other two.
//   - ctx is always a context.Context: the first parameter of every
//     blocking call, never stored in a struct.
//   - What Chrome calls a browser context (an incognito-like profile inside
//     one Chrome) is an "in-memory profile" in chromedpdriver, which uses it
//     for ephemeral sessions; it never appears in this package.
//
// # Wiring
//
//	db, _ := sqlite.Open("wasend.db")
//	store, _ := sqlstore.New(db)
//	_ = store.Migrate(ctx)
//	queue, _ := redisqueue.New(redisqueue.WithAddr("127.0.0.1:6379"))
//	pool, _ := chromedpdriver.New(chromedpdriver.WithProfileRoot("profiles"))
//	client, _ := wasend.New(pool, queue, store)
//	defer client.Close()
//	bc, _ := client.CreateContext(ctx) // scan its QR (WithEventHandler)
//	go client.Run(ctx)
//	job, err := client.Send(ctx, bc.ID, "+5491122334455", "Hola",
//		wasend.IdempotencyKey("order-17"), wasend.Metadata(map[string]any{"order": 17}))
//
// # The workflow
//
// Send and SendBulk validate their input before they write anything: the
// phone number is normalized to E.164, the text must be non-empty UTF-8 of
// at most MaxTextLength characters, metadata must nest at most
// MaxMetadataDepth deep in at most MaxMetadataSize bytes, and the browser
// context must exist and be neither closed nor in error. Bad input returns
// a *ValidationError that wraps a sentinel such as ErrInvalidPhone, and
// nothing is recorded. Per-call options (IdempotencyKey, Metadata, Delay)
// follow the arguments; with IdempotencyKey, a repeated call returns the
// first call's job and records nothing, in any process that shares the
// store.
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
// ErrDisconnected, ErrSelectors) parks the context's jobs exactly as the
// session's own status event does: the context shows disconnected (or
// error), no attempt is spent, and nothing is sent through it until the
// session reports that it is logged in again. A panic in the session is
// recovered. A call that ignores its deadline is abandoned after
// WithHangGrace: its outcome is unconfirmed, the context shows
// disconnected, and the session is not used again until the call returns.
//
// # Never twice
//
// A message moves to sending before its attempt begins, in the same step
// that claims its job. Just before its click, a session that is a Marker
// reports what the chat holds (SendTrace), and the Client records that mark
// before the session may click; then it checks, by its own clock, that its
// lease on the context still holds, so that a process frozen between its
// mark and its click (SIGSTOP, a paused VM) does not click after another
// process took the context over. An attempt that ends after the click
// without a confirmation (an Unconfirmed error, a timeout, a panic, a
// hang, a crash of the worker) leaves the message unconfirmed. Before
// anything else happens to an unconfirmed message, the Client asks the
// session (a SentFinder) to look for it in the chat, from before the first
// attempt whose outcome is unknown, and not counting the identical rows
// that the mark says were already there:
//
//   - found, the message is recorded sent, and not sent again;
//   - not found, it may be sent again, within its attempts;
//   - a lookup that cannot answer (an error, a panic, a hang) is not an
//     outcome: it spends no attempt, sends nothing, and is tried again
//     with backoff; after WithMaxLookups such lookups the message ends
//     unknown.
//
// A session that cannot look ends the message unknown too, unless
// WithUnknownOutcome says to send it again.
//
// # Outcomes
//
// What each status means to a host:
//
//   - MessageSent: WhatsApp accepted the message, once.
//   - MessageFailed: the message was not sent, and will not be; no attempt
//     of it reached WhatsApp. Sending it again cannot make a duplicate.
//   - MessageCancelled: the job was cancelled first; not sent.
//   - MessageUnknown: an attempt may have sent the message and the Client
//     could not find out. It is not sent again. A host that sends it again
//     risks a duplicate; one that does not risks a message never sent.
//   - MessagePending, MessageSending, MessageUnconfirmed: on the way (or,
//     in a paused job, waiting).
//
// A single job ends completed when its message is sent or unknown (then
// with ErrorKind ErrorKindUnknownOutcome), and failed when it was not sent. A
// bulk job ends completed once every message has its outcome, and failed
// only when its context is closed or the queue gave up on it. Cancel,
// CloseContext and a dead letter never mark failed a message whose outcome
// is unconfirmed: it becomes unknown.
//
// "Never twice" holds against crashes, restarts, outages of Redis or the
// database, duplicate deliveries, and sessions that hang, panic, lie about
// their clicks or lose their login, as long as the session keeps its
// contract: a SentFinder finds what the chat shows, and a Marker reports a
// mark before every click. It does not cover a message that WhatsApp
// accepted and then dropped, nor an identical message sent to the same
// number by hand from the phone meanwhile.
//
// # Bulk jobs
//
// A bulk job sends its messages in order, with its delay between them, and
// releases the browser context between messages so that single jobs of the
// same context are not held up. It runs in slices (WithBulkSlice): at the end
// of a slice it goes back to the queue and continues on the next delivery.
// Pause stops after the message in flight, Resume continues from the first
// unsent message, and Cancel marks the pending messages cancelled. A retried
// bulk job never sends again a message that was already sent.
//
// # Pacing and restrictions
//
// Every browser context is paced (Pacing, on by default with conservative
// figures: WithPacing, ContextPacing): a random gap between two sends,
// caps per hour, per day and on new contacts, a warm-up for new accounts,
// a sending window and a cap on one text to many recipients, in the
// context's time zone. Before each message's turn the Client asks the
// context's pacing; a job that must wait stays pending with Job.Wait and
// NextRunAt saying why and until when, spends no attempt, and holds up no
// other context. Each attempt that begins is written to the context's send
// ledger (Store.Sends) in the step that begins it, so that a process that
// takes a context over continues its budget.
//
// Sessions report WhatsApp's restrictions as a *RestrictionError: a
// temporary ban restricts the context (ContextRestricted) until it ends,
// a lock on new chats holds the messages to new contacts only, and a ban
// closes the context and fails its jobs with ErrorKindBanned. A circuit
// breaker (WithBreaker) restricts a context whose sends keep failing or
// being rejected, for a cool-down, then lets one send probe. Each
// restriction is stored with the context (BrowserContext.Restriction) and
// told through EventRestriction.
//
// # Campaigns
//
// SendCampaign sends one list over a pool of contexts, with a store that
// keeps campaigns (CampaignStore). Each recipient is assigned to one
// context: one that wrote to it before keeps it, and the others are shared
// by the new contacts each context may still take today. The campaign is
// one bulk job per context. At each sweep the balancer gives the new
// contacts of a job that waits for its daily caps to the contexts with
// budget, and, with AllowMoves, every unsent message of a restricted,
// banned or closed context to the others. A move is not an edge of the
// state machine below but one step of the store (MoveMessages): a pending
// message of a job that is not running becomes cancelled with
// ErrorKindMoved, and its copy (Message.MovedFrom) a pending message of a
// new job; a job left with nothing to send becomes completed. Since only
// a pending message moves, and only while its job is not running, no
// attempt of it can be in flight, and it is sent at most once wherever it
// goes.
//
// # Receipts
//
// With a store that keeps receipts (ReceiptStore) and sessions that follow
// acks (AckFollower), the Client records when each sent message was
// delivered and read (Message.DeliveredAt and ReadAt; Stats counts them,
// in all and per context). A second after a send (the sends of that
// second together), at each login, when Run starts and every five
// minutes, it gives the session the messages to follow: those sent within
// the follow window (WithAckFollowing: 7 days) and not read, the newest
// 200 at most. A send never waits for it. The session reports each new
// tick (EventAck); the Client records it once, with a message.delivered or
// message.read event (a message whose read tick is the first one seen
// gets only message.read: it was delivered with it), and hands it to the
// host's handler. An ack for a message its context did not send, or that
// the store has already, is dropped.
//
// How late a receipt is depends on the session: a tick in the open chat
// or in the chat list is seen at its next look, one in another chat when
// the session visits that chat, at a bounded rate (chromedpdriver visits
// one chat at a time, never during a send). Ticks are followed for the
// follow window after the send, until the message is read; a recipient
// who turned read receipts off never sends the read tick.
//
// A message not seen delivered within the receipt window
// (WithReceiptWindow: 24 h) is marked undelivered, once
// (Message.UndeliveredAt, a message.undelivered event): WhatsApp rejects
// some messages after their first tick (the reach-out restrictions of
// 2026). Only the messages of sessions that follow acks are marked, and
// only once their session has followed in this process for an hour (or
// the window, when shorter): a session just started has not looked at
// every chat yet. A delivery seen later is still recorded.
//
// # Incoming messages
//
// Sessions report the messages contacts write (EventIncoming), read
// without marking them read. The Client takes each once per browser
// context and WhatsApp id: with a store that keeps an inbox
// (InboxStore), it records it, with a message.incoming event (WithOutbox)
// in the same transaction, and the inbox is the judge across processes
// and restarts; without one, this process remembers the last ones it saw.
// The host's handler (WithEventHandler) gets the message as recorded,
// once. A message whose sender is not a phone number is dropped; one
// without WhatsApp's id gets an id made of its sender, time and text.
// Client.Inbox lists the inbox; Client.MarkRead marks a chat read through
// the session that holds it (InboxReader), which the contact sees as blue
// ticks, and WithMarkRead does so for every new message.
//
// Events name no number and carry no text unless the host opts in
// (WithEventPII): message.incoming has the sender masked, whether it
// opted out and the text's length; the host reads the rest with
// Client.Inbox. Logs never carry them.
//
// # Number checks and country quirks
//
// Client.CheckNumber answers whether a number is on WhatsApp, through a
// session that can tell (NumberChecker), sending nothing. Answers are
// cached (in the store, NumberStore, or else in the process): "on
// WhatsApp" for 30 days and "not on WhatsApp" for a day
// (WithNumberCache); a send that fails with ErrNotOnWhatsApp teaches the
// cache too. A check that cannot answer returns its error and is not
// cached: it is never taken for "not on WhatsApp". With
// WithPreCheckNumbers, every bulk job checks its recipients before its
// first send and fails, without an attempt, the messages to numbers that
// are not on WhatsApp (ErrorKindNotOnWhatsApp).
//
// WhatsApp knows some accounts by another form of their number than the
// one a host has. The Client settles offline what has one answer
// (CanonicalPhone): Mexico's mobile numbers lost their "1" after the
// country code (+52 1 55… is +52 55…), and Argentina's mobile numbers are
// +54 9 and the area code, never the area code and 15. Brazil's mobile
// numbers gained a ninth digit, but an account may still be known by the
// eight-digit form, and no rule tells which: a number check answers
// Canonical, the form WhatsApp opened the chat with, and every later send
// to the number goes to it while the answer is cached (the message keeps
// the number as the host gave it, and the lookup of the exactly-once
// guard looks in the chat the send went to). The suppression list counts
// Brazil's two forms, and Argentina's with and without the 9, as one
// number.
//
// # Suppressions and opt-out
//
// With a store that keeps a suppression list (SuppressionStore), the
// Client refuses to write to the numbers on it: the host's own
// (Client.Suppress, Unsuppress, Suppressions) and the contacts who opted
// out. Send refuses a suppressed recipient before anything is written,
// with a *ValidationError wrapping ErrSuppressed. SendBulk and
// SendCampaign record the job, and fail each message to a suppressed
// number on its own, before the job is enqueued (ErrorKindSuppressed, no
// attempt, its own message.failed event); the others go on, and a job
// left with nothing to send completes at once. Every message is checked
// again at its turn: a number suppressed after its message was recorded
// is not sent, and the message fails the same way (a single job fails
// with it). The list counts the forms of a number WhatsApp may know it by
// as one: Brazil's mobile numbers with and without their ninth digit, and
// Argentina's with and without the 9 (see CanonicalPhone). Without a
// suppression list, Suppress gives ErrNotSupported and nothing is checked.
//
// A contact opts out by writing a keyword (WithOptOutKeywords, by default
// DefaultOptOutKeywords: STOP, BAJA, SAIR, ARRÊT and others) as whole
// words, without regard to case: "Stop." opts out, "stopwatch" does not.
// The first time the Client sees such an incoming message (EventIncoming,
// once per context and WhatsApp id), it suppresses the sender
// (SuppressOptOut, with the context's id) and, with WithOutbox, tells it
// as a suppression.added event in the same transaction.
//
// # Media
//
// A message may attach a file, an image or a document, with its text as
// an optional caption: Send with Attach(Media), and SendBulk and
// SendCampaign with BulkMessage.Media. The Client checks each file before
// it records anything, and a bad one is a *ValidationError (Field
// "media", with the message's Index in a bulk send) wrapping:
//
//   - ErrInvalidMedia: no such file, not a regular file, an empty file, an
//     unknown Kind, a malformed Type, a file name with a slash, a NUL or
//     more than MaxMediaNameLength bytes, or an image whose bytes are not
//     one of ImageTypes (a PDF named photo.jpg, or a GIF: send those as
//     documents);
//   - ErrMediaTooLarge: over MaxImageSize for an image, MaxDocumentSize
//     for a document;
//   - ErrInvalidText or ErrTextTooLong: a caption that is not UTF-8, or
//     longer than MaxCaptionLength characters.
//
// Type defaults to what the file's first bytes say
// (http.DetectContentType), or, when they say little (plain text, zip,
// unknown), what its extension says; Name defaults to the file's base
// name. The store keeps the reference (Path made absolute, Name, Type),
// the size and the SHA-256 (Message.Media), never the bytes; the path
// must name the same file in the process that holds the browser context,
// which reads it when it sends. A bulk send that attaches one file to
// many messages reads it once.
//
// At the message's turn, and again just before its attempt, the Client
// reads the file again: a file that changed or went since it was recorded
// fails the message for good with ErrMediaChanged (ErrorKindMediaChanged),
// without an attempt; it is never sent with other content. A session that
// cannot send files (not a MediaSender) fails it with ErrNotSupported,
// also for good. Between that last check and the session's upload the
// file must not change: the Client does not copy it.
//
// Exactly-once holds for media as for text: the lookup of an unconfirmed
// media message (SentQuery.Media) asks the chat for a row with its caption
// and an attachment of its kind with its file name or size. Pacing counts
// the same file with the same caption as one text (SameTextPerWindow).
//
// # The context's account
//
// When a session is up, its driver reports the account it is logged in
// as (EventAccount). The context's first account is stored
// (BrowserContext.Account, with a context.account event); the same
// account again changes nothing. A different account holds the context:
// it is restricted (RestrictionAccount, with no end, its reason the new
// number masked), its jobs wait without sending (WaitRestricted) and look
// again every ten minutes, the host hears EventAccountChanged (the
// number masked unless WithEventPII) and context.account_changed. The new
// account is not stored until the host confirms it: it stays pending in
// the memory of the process that holds the context. Client.ConfirmAccount
// ends the hold (ErrNoAccountChange when there is none), stores the new
// account when this process holds the context, clears it otherwise (the
// holder stores its pending account when its next gate reads the hold
// gone, or the next login records it), and wakes the context's jobs. If
// the stored account logs back in before that, the hold ends by itself.
//
// # The state machine
//
// Every change of status the Client makes is one of these named edges
// (states.go): a conditional update that happens only from the statuses
// on the left, atomically with the other changes of its step.
//
// The table (generated from states.go; TestDocShowsTheStateMachine checks it):
//
//	job      claim                  pending -> running                   a worker takes the job
//	job      next                   running -> running                   its worker goes on under its claim: a new attempt, or a bulk job's next message
//	job      complete               running -> completed                 every message has its outcome (a single job's: sent, or unknown)
//	job      fail                   running -> failed                    a single job's message failed (it was not sent)
//	job      retry                  running -> pending                   an attempt or a lookup failed, the context went away, or a bulk job yields; the job runs again at next_run_at
//	job      rescue                 running -> pending                   the sweep finds a running job whose worker is gone
//	job      wait                   pending -> pending                   the job's context cannot send: the job waits for it without spending an attempt
//	job      wake                   pending -> pending                   the job is enqueued again: its context came back, or the queue lost it
//	job      settle                 pending|paused -> completed          every message already has its outcome (a record cut short)
//	job      pause                  pending|running -> paused            the host pauses it (Pause)
//	job      resume                 paused -> pending                    the host resumes it (Resume)
//	job      cancel                 pending|running|paused -> cancelled  the host cancels it (Cancel)
//	job      context-closed         pending|paused -> failed             its context is closed for good
//	job      context-closed-running running -> failed                    a running bulk job finds its context closed
//	job      dead-letter            pending -> failed                    the queue gave up on its deliveries
//	job      refuse                 pending -> failed                    a single job's message is refused at its turn, before any attempt
//	message  begin                  pending -> sending                   an attempt begins
//	message  begin-again            unconfirmed -> sending               the lookup did not find the message: a new attempt begins
//	message  mark                   sending -> sending                   the session reports the chat's rows just before its click
//	message  sent                   sending -> sent                      the session confirms the send
//	message  retry                  sending -> pending                   the attempt failed before the click and may be retried
//	message  park                   sending -> pending                   the session was gone before the click, or Run stopped it: no attempt spent
//	message  fail                   sending -> failed                    the attempt failed before the click, for good or for the last time
//	message  unconfirmed            sending -> unconfirmed               the attempt ended after the click without a confirmation
//	message  rescue                 sending -> unconfirmed               a worker finds the message sending while no worker sends it (its worker died)
//	message  found                  unconfirmed -> sent                  the lookup finds the message in the chat
//	message  not-found              unconfirmed -> failed                the lookup does not find it and no attempt is left, or finds it rejected by WhatsApp
//	message  lookup-failed          unconfirmed -> unconfirmed           the lookup could not answer; it runs again later
//	message  unknown                unconfirmed -> unknown               the lookups kept failing, or the session cannot look (EndUnknown)
//	message  cancel                 pending -> cancelled                 its job is cancelled, or its context closed
//	message  drop                   pending -> failed                    the queue gave up on its job
//	message  give-up                unconfirmed -> unknown               its job is cancelled or given up while its outcome is unconfirmed
//	message  refuse                 pending -> failed                    refused without an attempt: its recipient is suppressed or not on WhatsApp (a pre-check), or its file cannot be sent
//	context  busy                   available|busy -> busy               a send begins
//	context  free                   busy -> available                    a send ends and no send waits
//	context  gone                   available|busy -> disconnected       a send or a lookup finds the session logged out, disconnected or in conflict, or hangs past its deadline
//	context  broken                 available|busy -> error              a send or a lookup finds the page unusable (selectors, browser refused)
//	context  up                     disconnected|error -> available      the session reports it is logged in, or its holder sees it is
//	context  down                   available|busy|disconnected|error|restricted -> disconnected the session reports it is not logged in
//	context  fault                  available|busy|disconnected|error|restricted -> error the session reports an error
//	context  open                   available|busy|error|restricted -> disconnected a process opens the context; it waits for its login
//	context  launch-failed          disconnected -> error                its session could not be launched
//	context  abandon                disconnected -> closed               a new context whose lease could not be taken
//	context  leave                  available|busy|restricted -> disconnected its process closes, or no process holds it
//	context  close                  available|busy|disconnected|error|restricted -> closed the host closes it (CloseContext)
//	context  restrict               available|busy|disconnected|error|restricted -> restricted WhatsApp restricts the account for a while (a send or the session finds the temporary-ban screen), the circuit breaker opens, or a different account logs in
//	context  lift                   restricted -> available              the restriction's time is over (with the breaker's, the next send probes), or the host confirms a new account
//	context  ban                    available|busy|disconnected|error|restricted -> closed a send or the session finds the account banned: it stops for good
//	context  account-available      available -> available               the context's account is recorded, or its hold for a new one ends (ConfirmAccount): the status stays
//	context  account-busy           busy -> busy                         the context's account is recorded, or its hold for a new one ends (ConfirmAccount): the status stays
//	context  account-disconnected   disconnected -> disconnected         the context's account is recorded, or its hold for a new one ends (ConfirmAccount): the status stays
//	context  account-error          error -> error                       the context's account is recorded, or its hold for a new one ends (ConfirmAccount): the status stays
//	context  account-restricted     restricted -> restricted             the context's account is recorded, or its hold for a new one ends (ConfirmAccount): the status stays
//
// End of the table.
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
//
// # Package layout
//
// Each file of the package holds one thing. They are listed here from the
// top down: a file uses only files listed after it, never one before, so
// that no file calls back up (TestPackageLayout checks this list against
// the code).
//
// The front end:
//
//   - run.go: Run and Close, which start and stop the components.
//   - recipients.go: the host API about the people the Client writes
//     to: the suppression list (Suppress, Unsuppress, Suppressions),
//     their messages (Inbox, MarkRead) and their numbers (CheckNumber).
//   - client.go: Client, New and the host API (Send, SendBulk, Job, Jobs,
//     Cancel, Pause, Resume, Stats, Clean, the contexts, the campaigns,
//     RequestPairingCode, ConfirmAccount). The
//     Client owns the components and wires them; they never call it.
//
// The components that act on jobs and contexts, each a type whose owner
// starts it and waits for it:
//
//   - sweeper.go: the sweeper, on its own goroutine while Run runs: it
//     rescues the jobs whose worker is gone, enqueues again those the queue
//     lost, frees a context left busy, marks unheld contexts disconnected
//     and takes some over.
//   - launcher.go: the launcher makes a context live here (create, open,
//     register), for CreateContext, OpenContext and the takeover.
//   - executor.go: the executor runs a delivery: claim, deliver, judge,
//     record. Its worker is the queue handler of one Run, with the run's
//     signals (runState).
//   - hibernator.go: the hibernator, on its own goroutine while Run
//     runs: it closes the browser of contexts idle for a while and beyond
//     the cap on awake sessions (least recently used first), wakes them
//     for their due jobs, for the host's calls into them (CheckNumber,
//     MarkRead) and on a catch-up schedule (WithHibernation), a few wakes
//     at a time (WithWakeConcurrency).
//   - relay.go: the relay hands the outbox's events to the host's
//     handler while Run runs (WithOutbox), and the Store wrapper that adds
//     to each change the events that tell of it.
//   - balancer.go: the balancer assigns a campaign's messages to the
//     contexts of its pool and, at each sweep, moves the unsent ones off
//     the contexts out of budget, restricted or banned.
//   - checker.go: the number checker answers whether numbers are on
//     WhatsApp, from its cache or through a live session, for
//     CheckNumber, the pre-check of bulk jobs and the routing of sends.
//
// The settings: env.go (the environment), options.go (the options and
// their defaults).
//
// The components they share:
//
//   - lease.go: the Leaser interface, and the lease keeper: acquire, the
//     heartbeat (renew, re-acquire after an outage, reconcile), drop and
//     release.
//   - consumers.go: the dispatcher, one queue consumer per live context
//     while Run runs.
//   - governor.go: the governor keeps the live contexts' sends within
//     their pacing, restrictions and breakers (gate, outcome), and keeps
//     the durable part in the store.
//   - events.go: the event pump, on its own goroutine: session events to
//     the store and to the host's handler.
//   - inbound.go: what sessions report beyond their status, on the event
//     pump's goroutine: incoming messages (the inbox, their opt-outs,
//     WithMarkRead) and acks (receipts).
//   - follower.go: the follower gives the sessions the messages whose
//     ticks to follow, after sends and logins, on goroutines of its own
//     while Run runs, and marks undelivered those not delivered in time.
//   - optout.go: the suppressor (the suppression list's checks and
//     additions) and the opt-out keywords' matcher.
//   - notices.go: the outbox's events of what comes back from WhatsApp
//     (receipts, incoming messages, suppressions, accounts).
//   - enqueue.go: the enqueuer (requeue, wakeJobs).
//   - fresh.go: the jobs Send has just recorded, kept for their first
//     delivery, which then starts without reading them back.
//
// Phone numbers, texts and files, used from here up: phone.go (E.164,
// the country quirks, masks for logs, and the checks of texts), attach.go
// (media files: their checks before a message is recorded, and their
// checksums again before it is sent).
//
// The live state:
//
//   - contexts.go: the registry of the live contexts, with its own lock.
//   - livecontext.go: a live context, which owns its send lock, its lease
//     checks and the transitions that a send implies.
//   - pacer.go: a live context's pacing state and its decisions, pure
//     functions of the time (tested on a fake clock), and the Breaker.
//
// The contracts, used everywhere:
//
//   - states.go: the state machine's named edges and their transitions.
//   - store.go, queue.go: the Store and Queue interfaces, their optional
//     ones, and their types.
//   - campaign.go: campaigns, and CampaignStore, the optional interface of
//     a Store that keeps them.
//   - observer.go: the Observer interface (WithObserver), told of every
//     attempt, turn and wait, for metrics and traces.
//   - job.go: jobs, messages, deliveries and their statuses.
//   - outbox.go: outcome events, and OutboxStore, the optional interface
//     of a Store that keeps an outbox of them.
//   - profiles.go: ProfileStore (and ProfileGenerations, its optional
//     interface), ProfileSnapshot and ProfileCipher: a persistent
//     session's login, saved off the machine (a snapshot is a login), and
//     its encryption at rest.
//   - errors.go: the sentinels and the one table that classifies errors.
//   - browser.go: the BrowserPool and Session interfaces, their optional
//     ones, and their types.
//   - receipts.go: acks (ticks), AckFollower and ReceiptTransition (the
//     stores' optional interfaces of this issue are in store.go:
//     ReceiptStore, InboxStore, SuppressionStore, NumberStore).
//   - inbox.go: incoming messages, InboxReader, suppressions and opt-out
//     keywords.
//   - numbers.go: number checks and NumberChecker.
//   - media.go: media attachments and their limits (MediaSender is in browser.go).
//   - pacing.go: the Pacing policy and its defaults, restrictions, wait
//     reasons, the send ledger's records, and proxy URLs.
//   - backoff.go: the one backoff, and sleepCtx.
package wasend
