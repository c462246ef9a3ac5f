package wasend

import (
	"context"
	"time"
)

// MessageStatus is the status of one message of a job.
type MessageStatus string

// The message statuses.
const (
	// MessagePending means the message was not sent yet.
	MessagePending MessageStatus = "pending"
	// MessageSending means an attempt began and its outcome is not known
	// yet. A message found in this status when no worker holds its job had
	// an attempt with an unknown outcome.
	MessageSending MessageStatus = "sending"
	// MessageSent means WhatsApp accepted the message.
	MessageSent MessageStatus = "sent"
	// MessageFailed means the message will not be sent.
	MessageFailed MessageStatus = "failed"
	// MessageCancelled means the job was cancelled before the message was
	// sent.
	MessageCancelled MessageStatus = "cancelled"
)

// MessageStatuses lists every message status.
var MessageStatuses = []MessageStatus{MessagePending, MessageSending, MessageSent, MessageFailed, MessageCancelled}

// Valid reports whether s is one of the message statuses.
func (s MessageStatus) Valid() bool {
	for _, v := range MessageStatuses {
		if s == v {
			return true
		}
	}
	return false
}

// Final reports whether s is a status a message never leaves.
func (s MessageStatus) Final() bool {
	return s == MessageSent || s == MessageFailed || s == MessageCancelled
}

// Job is a send job: one message (KindSingle) or several (KindBulk), sent
// through one browser context.
type Job struct {
	ID        int64
	ContextID int64
	Kind      JobKind
	Status    JobStatus
	// Delay is the pause between the messages of a bulk job.
	Delay time.Duration
	// Metadata is the caller's data, stored as JSON. It comes back as
	// encoding/json decodes it into a map[string]any (numbers as float64).
	Metadata map[string]any
	// Attempts counts the attempts spent; MaxAttempts is the limit.
	Attempts    int
	MaxAttempts int
	// Claim identifies the worker run that holds a running job.
	Claim string
	// NextRunAt is when the job may run (next attempt after a backoff).
	NextRunAt time.Time
	// EnqueuedAt is when the job was last handed to the queue.
	EnqueuedAt time.Time
	// ErrorKind and Error describe the last failure.
	ErrorKind ErrorKind
	Error     string
	CreatedAt time.Time
	UpdatedAt time.Time
	// StartedAt is when the job first ran; FinishedAt when it reached a
	// final status. Both are zero until then.
	StartedAt  time.Time
	FinishedAt time.Time
	// Messages are the job's messages in order. Store.Jobs leaves it nil.
	Messages []Message
}

// Message is one message of a job.
type Message struct {
	ID int64
	// JobID is the job's id; Position the message's place in it, from 0.
	JobID    int64
	Position int
	// To is the recipient in E.164 form.
	To string
	// Text is the message body. It never reaches a log.
	Text   string
	Status MessageStatus
	// Attempts counts the attempts that began; AttemptedAt is when the last
	// one began.
	Attempts    int
	AttemptedAt time.Time
	// SentAt is when the message was confirmed as sent; WAMessageID is
	// WhatsApp's id of it, when known.
	SentAt      time.Time
	WAMessageID string
	// ErrorKind and Error describe the last failure.
	ErrorKind ErrorKind
	Error     string
	UpdatedAt time.Time
}

// ContextTransition changes the status of a browser context if, and only
// if, it is one of From.
type ContextTransition struct {
	ID   int64
	From []ContextStatus
	To   ContextStatus
	// At is the time of the change; zero means now.
	At time.Time
}

// JobTransition changes a job if, and only if, its status is one of From
// (and, when IfClaim is set, its claim is IfClaim).
//
// The store also keeps these columns: started_at is set on the first change
// to running; finished_at is set on a change to a final status and cleared
// on a change to any other; the claim is set to Claim on a change to running
// and cleared on any other change;
// updated_at is always set.
type JobTransition struct {
	ID   int64
	From []JobStatus
	To   JobStatus
	// IfClaim, when set, requires the job's claim to equal it.
	IfClaim string
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
	// PendingMessagesTo, when set, moves every message of the job that is
	// pending to this status, in the same transaction. Any number of
	// messages may match, including none. It applies after the step's
	// Message transition.
	PendingMessagesTo MessageStatus
	// At is the time of the change; zero means now.
	At time.Time
}

// MessageTransition changes a message if, and only if, its status is one of
// From.
//
// The store also keeps these columns: a change to sending adds one to
// attempts and sets attempted_at; a change to sent sets sent_at (to SentAt,
// or At when SentAt is zero) and wa_message_id; updated_at is always set.
type MessageTransition struct {
	ID   int64
	From []MessageStatus
	To   MessageStatus
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
	// AfterID selects jobs whose id is greater, for paging.
	AfterID int64
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

// StoreCounts are the counts a Store keeps.
type StoreCounts struct {
	Jobs     []JobCount
	Messages []MessageCount
}

// Store keeps browser contexts, jobs and messages. It is the source of
// truth: every change of status is conditional, and reports whether it
// happened. Errors wrap ErrContextNotFound, ErrJobNotFound,
// ErrDuplicateContext or, for back-end failures, ErrStore.
//
// Implementations must be safe for concurrent use.
type Store interface {
	// CreateContext records a new browser context and returns it with its
	// id and timestamps.
	CreateContext(ctx context.Context, c BrowserContext) (BrowserContext, error)
	// Context returns one browser context.
	Context(ctx context.Context, id int64) (BrowserContext, error)
	// Contexts returns every browser context, by id.
	Contexts(ctx context.Context) ([]BrowserContext, error)

	// CreateJob records a new job and its messages, in one transaction, and
	// returns it with the ids, positions and timestamps filled in. The
	// job's status is taken from j (pending when empty), and each message's
	// status is pending. NextRunAt and EnqueuedAt default to now. A missing
	// browser context gives ErrContextNotFound; one that is closed or in
	// error takes no job and gives ErrContextNotAvailable (also wrapping
	// ErrContextClosed when it is closed).
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
}
