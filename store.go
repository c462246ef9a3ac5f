package wasend

import (
	"context"
	"time"
)

// ContextTransition changes the status of a browser context if, and only
// if, it is one of From.
type ContextTransition struct {
	ID   int64
	From []ContextStatus
	To   ContextStatus
	// Restriction, when set, is stored as the context's restriction (a
	// pointer to the zero Restriction clears it).
	Restriction *Restriction
	// LoggedIn stores At as first_login_at unless it is set already.
	LoggedIn bool
	// Account, when set, is stored as the context's account.
	Account *string
	// At is the time of the change; zero means now.
	At time.Time
}

// JobTransition changes a job if, and only if, its status is one of From
// (and, when IfClaim is set, its claim is IfClaim).
//
// The store also keeps these columns: version grows by one; started_at is
// set on the first change to running; finished_at is set on a change to a final status and cleared
// on a change to any other; the claim is set to Claim on a change to running
// and cleared on any other change;
// updated_at is always set.
type JobTransition struct {
	ID   int64
	From []JobStatus
	To   JobStatus
	// IfClaim, when set, requires the job's claim to equal it.
	IfClaim string
	// IfVersion, when set, requires the job's version to equal it.
	IfVersion int64
	// Claim is the claim stored on a change to running. It is required then.
	Claim string
	// AddAttempt adds one to the job's attempts.
	AddAttempt bool
	// NextRunAt, when set, is stored as next_run_at.
	NextRunAt time.Time
	// EnqueuedAt, when set, is stored as enqueued_at.
	EnqueuedAt time.Time
	// ErrorKind and Error, when ErrorKind is set, are stored as the job's
	// last failure. ClearError clears it instead.
	ErrorKind  ErrorKind
	Error      string
	ClearError bool
	// Wait is stored as the job's wait reason; every transition stores
	// it, so any change that does not set it clears it.
	Wait WaitReason
	// PendingMessagesTo, when set, moves every message of the job that is
	// pending to this status, in the same transaction, and
	// UnconfirmedMessagesTo every message that is unconfirmed. Any number
	// of messages may match, including none. They apply after the step's
	// Message transition, both to the statuses it left (a message moved
	// by one is not moved again by the other), and change only status and
	// updated_at.
	PendingMessagesTo     MessageStatus
	UnconfirmedMessagesTo MessageStatus
	// At is the time of the change; zero means now.
	At time.Time
}

// MessageTransition changes a message if, and only if, its status is one of
// From.
//
// The store keeps updated_at, and changes no other column than those the
// transition names: a change to sent sets sent_at (to SentAt, or At when
// SentAt is zero) and wa_message_id.
type MessageTransition struct {
	ID   int64
	From []MessageStatus
	To   MessageStatus
	// AddAttempt adds one to attempts.
	AddAttempt bool
	// StartAttempt stores At as attempted_at, and as guard_since unless
	// guard_since is set already.
	StartAttempt bool
	// Mark, when set, is stored as guard_mark unless guard_mark is set
	// already.
	Mark string
	// AddLookup adds one to lookups.
	AddLookup bool
	// ClearGuard clears guard_since and guard_mark, and sets lookups to 0.
	// It applies first: with StartAttempt, Mark or AddLookup, the guard
	// starts afresh from them.
	ClearGuard bool
	// SentAt and WAMessageID are stored on a change to sent.
	SentAt      time.Time
	WAMessageID string
	// ErrorKind and Error, when ErrorKind is set, are stored as the
	// message's last failure. ClearError clears it instead.
	ErrorKind  ErrorKind
	Error      string
	ClearError bool
	// At is the time of the change; zero means now.
	At time.Time
}

// Step is a set of conditional changes that a Store applies atomically, in
// one transaction: either every transition that is set matches its row and
// all of them happen, or none happens.
type Step struct {
	Job     *JobTransition
	Message *MessageTransition
	Context *ContextTransition
	// Receipt records an ack of a sent message (a Store that implements
	// ReceiptStore; others refuse it with ErrNotSupported).
	Receipt *ReceiptTransition
	// Send, when set, is appended to its context's send ledger in the same
	// transaction, and its recipient recorded as a contact of the context.
	// It is not a condition: it applies when the transitions do.
	Send *SendRecord
	// Events are recorded in the outbox when the step applies, by a Store
	// that implements OutboxStore (others ignore them). Not a condition.
	Events []Event
	// Unsuppressed is a condition of a Store that implements
	// SuppressionGuard (the Client sets it for no other): the step
	// applies only if none of these numbers is on the suppression list.
	Unsuppressed []string
}

// ContextSettings are the settings of a browser context that the host
// changes (Store.UpdateContext). Nil fields are left as they are.
type ContextSettings struct {
	// Pacing, when set, is stored as the context's policy; a pointer to a
	// nil *Pacing clears it (the Client's default applies).
	Pacing **Pacing
	// Proxy, when set, is stored as the context's proxy ("" for none).
	Proxy *string
}

// JobFilter selects jobs. Zero fields select everything.
type JobFilter struct {
	// ContextID selects the jobs of one browser context.
	ContextID int64
	// Statuses selects jobs in any of these statuses.
	Statuses []JobStatus
	// Kind selects jobs of one kind.
	Kind JobKind
	// NextRunBefore selects jobs whose next_run_at is at or before it.
	NextRunBefore time.Time
	// EnqueuedBefore selects jobs whose enqueued_at is before it.
	EnqueuedBefore time.Time
	// UpdatedBefore selects jobs whose updated_at is before it.
	UpdatedBefore time.Time
	// CampaignID selects the jobs of one campaign.
	CampaignID int64
	// CreatedAfter and CreatedBefore select jobs created at or after,
	// and before, these times.
	CreatedAfter  time.Time
	CreatedBefore time.Time
	// AfterID selects jobs whose id is greater, and BeforeID jobs whose
	// id is smaller, for paging.
	AfterID  int64
	BeforeID int64
	// Newest orders the jobs newest first (by id, descending); the
	// default is oldest first.
	Newest bool
	// Limit caps the number of jobs; zero means DefaultJobsLimit.
	Limit int
}

// DefaultJobsLimit is the number of jobs Store.Jobs returns when the filter
// sets no limit.
const DefaultJobsLimit = 100

// JobCount counts the jobs of one browser context, kind and status.
type JobCount struct {
	ContextID int64
	Kind      JobKind
	Status    JobStatus
	N         int64
}

// MessageCount counts the messages of one browser context and status.
type MessageCount struct {
	ContextID int64
	Status    MessageStatus
	N         int64
}

// ReceiptCount counts the sent messages of one browser context that the
// page showed delivered and read, and those the Client gave up waiting
// for (ReceiptTransition.Undelivered).
type ReceiptCount struct {
	ContextID   int64
	Delivered   int64
	Read        int64
	Undelivered int64
}

// StoreCounts are the counts a Store keeps.
type StoreCounts struct {
	Jobs     []JobCount
	Messages []MessageCount
	// Receipts, from a Store that implements ReceiptStore, counts the
	// receipts by browser context; other Stores leave it nil.
	Receipts []ReceiptCount
}

// Store keeps browser contexts, jobs and messages. It is the source of
// truth: every change of status is conditional, and reports whether it
// happened. Errors wrap ErrContextNotFound, ErrJobNotFound,
// ErrDuplicateContext or, for back-end failures, ErrStore.
//
// Implementations must be safe for concurrent use.
type Store interface {
	// CreateContext records a new browser context (with its status,
	// system id, Pacing and Proxy) and returns it with its id and
	// timestamps.
	CreateContext(ctx context.Context, c BrowserContext) (BrowserContext, error)
	// Context returns one browser context.
	Context(ctx context.Context, id int64) (BrowserContext, error)
	// Contexts returns every browser context, by id.
	Contexts(ctx context.Context) ([]BrowserContext, error)

	// CreateJob records a new job and its messages, in one transaction, and
	// returns it with the ids, positions and timestamps filled in. The
	// job's status is taken from j (pending when empty), and each message's
	// status is pending. NextRunAt and EnqueuedAt default to now; NotBefore
	// and Wait are stored as given. A missing
	// browser context gives ErrContextNotFound; one that is closed or in
	// error takes no job and gives ErrContextNotAvailable (also wrapping
	// ErrContextClosed when it is closed).
	//
	// When j.IdempotencyKey is set and a job with the same key exists,
	// CreateJob records nothing and returns that job, with its messages,
	// and an error wrapping ErrJobExists, whatever the status of its
	// context now; a unique index enforces it, so that two processes that
	// create jobs with one key at once get one job. Keys compare byte for
	// byte. A key longer than MaxIdempotencyKeyLength gives a
	// *ValidationError wrapping ErrInvalidIdempotencyKey.
	CreateJob(ctx context.Context, j Job) (Job, error)
	// Job returns one job with its messages.
	Job(ctx context.Context, id int64) (Job, error)
	// Jobs returns the jobs the filter selects, by id, without messages.
	Jobs(ctx context.Context, f JobFilter) ([]Job, error)

	// Apply applies a step atomically and reports whether it happened. A
	// step with no transition, or a malformed one (no From, an unknown
	// status, a change to running without a Claim), gives an error wrapping
	// ErrInvalidStep and changes nothing.
	Apply(ctx context.Context, s Step) (bool, error)

	// Counts counts jobs and messages by browser context and status.
	Counts(ctx context.Context) (StoreCounts, error)
	// Clean deletes the jobs (and their messages) that reached a final
	// status before the given time, and returns how many jobs it deleted.
	Clean(ctx context.Context, finishedBefore time.Time) (int64, error)

	// UpdateContext changes a browser context's settings and returns it.
	// A missing context gives ErrContextNotFound.
	UpdateContext(ctx context.Context, id int64, s ContextSettings) (BrowserContext, error)
	// Sends returns the entries of a context's send ledger at or after
	// since, oldest first.
	Sends(ctx context.Context, contextID int64, since time.Time) ([]SendRecord, error)
	// Contacted reports whether the context's ledger ever recorded a send
	// to recipient (a hash, as in SendRecord). PruneSends does not forget
	// contacts.
	Contacted(ctx context.Context, contextID int64, recipient string) (bool, error)
	// PruneSends deletes the ledger entries before the given time, and
	// returns how many it deleted.
	PruneSends(ctx context.Context, before time.Time) (int64, error)
}

// ReceiptStore is implemented by Stores that keep receipts: they apply a
// Step's Receipt and list the messages still followed. The Client follows
// ticks only with one.
type ReceiptStore interface {
	// Unread returns the sent messages of a context that are not read,
	// as the filter selects them, by id.
	Unread(ctx context.Context, f ReceiptFilter) ([]Message, error)
}

// InboxStore is implemented by Stores that keep incoming messages.
type InboxStore interface {
	// RecordIncoming stores m and events (to the outbox, with an
	// OutboxStore) in one transaction, and returns it with its id. An
	// incoming message with the same ContextID and WAMessageID already
	// stored is not stored again: RecordIncoming returns the stored one and
	// false, and records no event.
	RecordIncoming(ctx context.Context, m IncomingMessage, events []Event) (IncomingMessage, bool, error)
	// Incoming returns the incoming messages the filter selects, by id.
	Incoming(ctx context.Context, f InboxFilter) ([]IncomingMessage, error)
}

// SuppressionStore is implemented by Stores that keep a suppression list.
// Send and SendBulk consult it before anything is written.
type SuppressionStore interface {
	// Suppress adds s (and events, to the outbox) in one transaction; it
	// reports false, and records nothing, when the number is suppressed
	// already.
	Suppress(ctx context.Context, s Suppression, events []Event) (bool, error)
	// Unsuppress removes a number and reports whether it was there.
	Unsuppress(ctx context.Context, phone string) (bool, error)
	// Suppressed returns the suppressions of these numbers, by number;
	// those not suppressed are absent.
	Suppressed(ctx context.Context, phones []string) (map[string]Suppression, error)
	// Suppressions lists the suppressions by number.
	Suppressions(ctx context.Context, f SuppressionFilter) ([]Suppression, error)
}

// SuppressionGuard is implemented by SuppressionStores that check the
// list inside the statements that record a job and start a message's
// turn: CreateJob honours Job.Unsuppressed, and Apply honours
// Step.Unsuppressed, both atomically with their change. The Client then
// reads the list for neither (Send and each single message's turn), and
// reads it only to explain a refusal; with a store without it, it reads
// the list before each. A Store that implements it must honour both
// conditions: a store that ignored them would let messages reach
// suppressed numbers.
type SuppressionGuard interface {
	SuppressionStore
	// GuardsSuppressions does nothing: it says that the Store honours
	// Job.Unsuppressed and Step.Unsuppressed.
	GuardsSuppressions()
}

// MaxUnsuppressed is the most numbers a Job.Unsuppressed or a
// Step.Unsuppressed may hold (the forms of one recipient are a few).
const MaxUnsuppressed = 16

// NumberStore is implemented by Stores that cache number checks.
type NumberStore interface {
	// CacheNumbers stores the answers, replacing older ones for the same
	// numbers.
	CacheNumbers(ctx context.Context, infos []NumberInfo) error
	// CachedNumbers returns the answers for these numbers checked at or
	// after since, by number; the others are absent.
	CachedNumbers(ctx context.Context, phones []string, since time.Time) (map[string]NumberInfo, error)
}
