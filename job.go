package wasend

import (
	"time"
)

// BulkMessage is one message of a bulk send.
type BulkMessage struct {
	// To is the recipient's phone number in international form.
	To string
	// Text is the message body, or for a media message its caption
	// (which may be empty).
	Text string
	// Media, when set, attaches a file.
	Media *Media
}

// JobKind is the kind of a send job.
type JobKind string

// The job kinds.
const (
	// KindSingle is a job that sends one message.
	KindSingle JobKind = "single"
	// KindBulk is a job that sends several messages in order, with a delay
	// between them.
	KindBulk JobKind = "bulk"
)

// JobKinds returns the job kinds, in a new slice.
func JobKinds() []JobKind { return []JobKind{KindSingle, KindBulk} }

// Valid reports whether k is a job kind.
func (k JobKind) Valid() bool { return k == KindSingle || k == KindBulk }

// JobStatus is the status of a send job, as stored in the
// send_messages_jobs_status table. The values are the table's slugs.
type JobStatus string

// The job statuses.
const (
	JobPending   JobStatus = "pending"
	JobRunning   JobStatus = "running"
	JobCompleted JobStatus = "completed"
	JobFailed    JobStatus = "failed"
	JobPaused    JobStatus = "paused"
	JobCancelled JobStatus = "cancelled"
)

// JobStatuses returns every job status, in the order of the status table,
// in a new slice.
func JobStatuses() []JobStatus {
	return []JobStatus{JobPending, JobRunning, JobCompleted, JobFailed, JobPaused, JobCancelled}
}

// Valid reports whether s is one of the job statuses.
func (s JobStatus) Valid() bool {
	switch s {
	case JobPending, JobRunning, JobCompleted, JobFailed, JobPaused, JobCancelled:
		return true
	}
	return false
}

// Final reports whether s is a status a job never leaves: completed, failed
// or cancelled.
func (s JobStatus) Final() bool {
	return s == JobCompleted || s == JobFailed || s == JobCancelled
}

// MessageStatus is the status of one message of a job.
type MessageStatus string

// The message statuses. See the state machine in the package doc.
const (
	// MessagePending means the message was not sent: no attempt began, or
	// every attempt that began is known not to have sent it.
	MessagePending MessageStatus = "pending"
	// MessageSending means an attempt is in flight: the session may be
	// sending the message now.
	MessageSending MessageStatus = "sending"
	// MessageUnconfirmed means an attempt ended without telling whether the
	// message left (a timeout or a crash after the click). Before anything
	// else, the message is looked for in the chat (see SentFinder): found,
	// it is sent; not found, it may be sent again.
	MessageUnconfirmed MessageStatus = "unconfirmed"
	// MessageSent means WhatsApp accepted the message.
	MessageSent MessageStatus = "sent"
	// MessageFailed means the message was not sent and will not be: no
	// attempt of it reached WhatsApp. A host may send it again.
	MessageFailed MessageStatus = "failed"
	// MessageCancelled means the job was cancelled before the message was
	// sent; no attempt of it reached WhatsApp.
	MessageCancelled MessageStatus = "cancelled"
	// MessageUnknown means an attempt may have sent the message and the
	// Client could not find out: the lookups in the chat kept failing, the
	// session cannot look (WithUnknownOutcome), or the job was cancelled
	// while the outcome was unconfirmed. The message is not sent again.
	// A host that sends it again risks a duplicate.
	MessageUnknown MessageStatus = "unknown"
)

// MessageStatuses returns every message status, in a new slice.
func MessageStatuses() []MessageStatus {
	return []MessageStatus{MessagePending, MessageSending, MessageUnconfirmed,
		MessageSent, MessageFailed, MessageCancelled, MessageUnknown}
}

// Valid reports whether s is one of the message statuses.
func (s MessageStatus) Valid() bool {
	switch s {
	case MessagePending, MessageSending, MessageUnconfirmed, MessageSent, MessageFailed, MessageCancelled, MessageUnknown:
		return true
	}
	return false
}

// Final reports whether s is a status a message never leaves: sent,
// failed, cancelled or unknown.
func (s MessageStatus) Final() bool {
	return s == MessageSent || s == MessageFailed || s == MessageCancelled || s == MessageUnknown
}

// Job is a send job: one message (KindSingle) or several (KindBulk), sent
// through one browser context.
type Job struct {
	ID        int64
	ContextID int64
	// CampaignID is the campaign the job belongs to, or 0.
	CampaignID int64
	Kind       JobKind
	Status     JobStatus
	// Delay is the pause between the messages of a bulk job.
	Delay time.Duration
	// Metadata is the caller's data, stored as JSON. It comes back as
	// encoding/json decodes it into a map[string]any (numbers as float64).
	Metadata map[string]any
	// IdempotencyKey is the caller's key for the request that created the
	// job, or empty. The store keeps at most one job per key.
	IdempotencyKey string
	// Attempts counts the attempts of the job's messages, as its workers
	// recorded them (Message.Attempts is exact); MaxAttempts is the limit
	// for each message.
	Attempts    int
	MaxAttempts int
	// Claim identifies the worker run that holds a running job.
	Claim string
	// Version is 1 when the job is created and grows by one with every
	// change of the job (JobTransition), so that a change can be made on
	// the condition that nothing changed the job since it was read.
	Version int64
	// NextRunAt is when the job may run (next attempt after a backoff, or
	// the end of a wait).
	NextRunAt time.Time
	// Wait says why the pending job waits until NextRunAt without
	// spending an attempt (pacing, a window, a restriction, NotBefore), or
	// WaitNone.
	Wait WaitReason
	// NotBefore is the earliest time the job may send (the NotBefore send
	// option), or zero.
	NotBefore time.Time
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
	// Events, on the way in only, are recorded in the outbox with the
	// job by a Store that implements OutboxStore (CreateJob,
	// CampaignStore.CreateCampaign); reads leave it nil.
	Events []Event
	// Unsuppressed, on the way in only, is a condition of CreateJob in a
	// Store that implements SuppressionGuard (the Client sets it for no
	// other): when one of these numbers is on the suppression list,
	// CreateJob records nothing and returns an error wrapping
	// ErrSuppressed. Reads leave it nil.
	Unsuppressed []string
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
	// MovedFrom is the id of the message of a campaign this one is a copy
	// of (CampaignStore.MoveMessages), or 0.
	MovedFrom int64
	// Attempts counts the calls of the session's SendText for this message
	// whose outcome was recorded, except those the session refused because
	// it was gone (logged out, disconnected): one per real attempt.
	// AttemptedAt is when the last attempt began.
	Attempts    int
	AttemptedAt time.Time
	// GuardSince is when the first attempt began whose outcome is not
	// known to be a failure; the lookup in the chat searches from there.
	// It does not move while the message is sending or unconfirmed, and is
	// zero otherwise.
	GuardSince time.Time
	// GuardMark is what the session reported, just before that attempt's
	// click, about identical rows already in the chat (see SendTrace), so
	// that the lookup can tell this message from an earlier one with the
	// same text. Empty when the session reported nothing.
	GuardMark string
	// Lookups counts the lookups in the chat that could not answer since
	// the message became unconfirmed.
	Lookups int
	// SentAt is when the message was confirmed as sent; WAMessageID is
	// WhatsApp's id of it, when known.
	SentAt      time.Time
	WAMessageID string
	// Media is the attached file, or nil for a text message.
	Media *Media
	// DeliveredAt and ReadAt are when the page showed the message
	// delivered and read (ReceiptStore), or zero; UndeliveredAt is when the
	// Client gave up waiting for it to be delivered (ReceiptWindow).
	DeliveredAt   time.Time
	ReadAt        time.Time
	UndeliveredAt time.Time
	// ErrorKind and Error describe the last failure.
	ErrorKind ErrorKind
	Error     string
	UpdatedAt time.Time
}

// Delivery is what the queue carries: a wake-up for one job. It holds no
// message data; the store is the source of truth.
type Delivery struct {
	// JobID is the job to run.
	JobID int64
	// ContextID is the browser context the job sends through; it routes the
	// delivery to the process that holds the context.
	ContextID int64
	// Kind is the job's kind.
	Kind JobKind
}

func deliveryOf(j Job) Delivery { return Delivery{JobID: j.ID, ContextID: j.ContextID, Kind: j.Kind} }
