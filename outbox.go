package wasend

import (
	"context"
	"time"
)

// Topic is the type of an outcome Event.
type Topic string

// The topics.
const (
	TopicJobCreated   Topic = "job.created"
	TopicJobRunning   Topic = "job.running"
	TopicJobCompleted Topic = "job.completed"
	TopicJobFailed    Topic = "job.failed"
	TopicJobPaused    Topic = "job.paused"
	TopicJobResumed   Topic = "job.resumed"
	TopicJobCancelled Topic = "job.cancelled"
	// The message topics tell a message's outcome.
	TopicMessageSent      Topic = "message.sent"
	TopicMessageFailed    Topic = "message.failed"
	TopicMessageCancelled Topic = "message.cancelled"
	TopicMessageUnknown   Topic = "message.unknown"
	// TopicMessageDelivered, TopicMessageRead and TopicMessageUndelivered
	// tell a sent message's receipts (ReceiptStore): delivered, read, or
	// not delivered within the Client's ReceiptWindow.
	TopicMessageDelivered   Topic = "message.delivered"
	TopicMessageRead        Topic = "message.read"
	TopicMessageUndelivered Topic = "message.undelivered"
	// TopicMessageIncoming tells a message a contact wrote (InboxStore).
	TopicMessageIncoming Topic = "message.incoming"
	// TopicSuppressionAdded tells a number that takes no more messages
	// (an opt-out, or the host's).
	TopicSuppressionAdded Topic = "suppression.added"
	// TopicContextQR and TopicContextPairingCode tell that a context shows
	// a new QR code or pairing code to link it (the payload itself only
	// when the host opts in); TopicContextAccount tells the account it
	// logged in as, and TopicContextAccountChanged a different one.
	TopicContextQR             Topic = "context.qr"
	TopicContextPairingCode    Topic = "context.pairing_code"
	TopicContextAccount        Topic = "context.account"
	TopicContextAccountChanged Topic = "context.account_changed"
	// TopicJobWaiting tells that a job waits without spending an attempt
	// (pacing, a sending window, a restriction), and until when.
	TopicJobWaiting Topic = "job.waiting"
	// TopicContextStatus tells a browser context's new status (not the
	// flips between available and busy of every send).
	TopicContextStatus Topic = "context.status"
	// TopicContextAsleep and TopicContextAwake tell that a context's
	// browser was closed to save memory (it stays available), and opened
	// again (WithHibernation).
	TopicContextAsleep Topic = "context.asleep"
	TopicContextAwake  Topic = "context.awake"
)

// The relay's defaults (WithOutbox).
const (
	// DefaultEventBatch is how many events the relay claims at a time.
	DefaultEventBatch = 100
	// DefaultEventLease is how long a claim of events holds: another
	// process's relay takes them after it, if this one died.
	DefaultEventLease = 30 * time.Second
	// DefaultEventAttempts is how many deliveries of an event may fail
	// before it is dead: with DefaultEventBackoffMax and the default
	// backoff's base, about 20 hours of failures.
	DefaultEventAttempts = 30
	// DefaultEventBackoffMax is the longest wait between two deliveries
	// of an event.
	DefaultEventBackoffMax = time.Hour
	// DefaultEventPoll is how often the relay looks for due events when
	// it has nothing to do.
	DefaultEventPoll = 500 * time.Millisecond
)

// EventVersion is the version of Event's shape; it grows when a field
// changes meaning.
const EventVersion = 1

// Event is an outcome the host cares about. The Client writes it to the
// store's outbox in the same transaction as the change it tells of
// (OutboxStore), and the relay hands it to the host's handler
// (WithOutbox) at least once, in order per job.
// It holds no whole phone number and no text unless the host opts in
// (WithEventPII).
type Event struct {
	// ID is the event's stable id, given by the outbox.
	ID    int64
	Topic Topic
	// At is the time of the change.
	At time.Time
	// The ids the event concerns; zero when none. The store fills in
	// what the step leaves zero: a message's job, a job's context and
	// campaign.
	JobID      int64
	MessageID  int64
	ContextID  int64
	CampaignID int64
	// Status is the job's, message's or context's status after the
	// change, and ErrorKind the error class that goes with it.
	Status    string
	ErrorKind ErrorKind
	// Metadata is the host's metadata of the event's job, copied by the
	// store from the job; nil for an event of no job.
	Metadata map[string]any
	// Data is what the event tells beyond its ids and status, by topic:
	// "until" (RFC 3339) for job.waiting, whose Status is the wait
	// reason; "restriction", and "until" when known, for a context.status
	// that a restriction changed; "qr" or "code" for context.qr and
	// context.pairing_code, only with WithEventSecrets; for what comes
	// back from WhatsApp, message.incoming its sender ("from", masked
	// unless WithEventPII), "opt_out" and "text_chars" (and, with
	// WithEventPII, "text" and "wa_message_id"), suppression.added
	// "phone" (masked likewise) and "reason", context.account and
	// context.account_changed "account" (masked likewise). Nil when there
	// is nothing more. Values are JSON's: strings, numbers, booleans.
	Data map[string]any
	// Version is EventVersion when the event was written.
	Version int
	// Attempts counts the deliveries of the event that failed so far.
	Attempts int
}

// OutboxHandler receives the events of the outbox (WithOutbox). It returns
// nil once it has taken the event; an error makes the relay deliver it
// again later, with a backoff, up to the attempts allowed. It is called on
// the relay's goroutine, one event at a time, in order per job.
type OutboxHandler func(ctx context.Context, ev Event) error

// EventResult is the fate of a claimed event (OutboxStore.SettleEvents).
type EventResult struct {
	ID int64
	// Delivered says the handler took the event.
	Delivered bool
	// Attempted says a delivery failed: Attempts grows by one. An event
	// held back behind an earlier one of its job is settled without it.
	Attempted bool
	// NextAt is when an undelivered event is due again; Dead ends it
	// for good (the dead letters that Stats counts).
	NextAt time.Time
	Dead   bool
	// Error is why the delivery failed, for the record.
	Error string
}

// OutboxCounts counts the outbox's events that are not delivered.
type OutboxCounts struct {
	// Pending events wait for a delivery; Dead ones will get none.
	Pending int64
	Dead    int64
}

// OutboxStore is the optional interface of a Store that keeps an outbox
// of events (WithOutbox). A Store that implements it records, in the same
// transaction:
//
//   - Step.Events, when the step applies (and none when it does not);
//   - Job.Events with each job that CreateJob records, and with each job
//     of CampaignStore.CreateCampaign;
//   - MessageMove.Events with the job that CampaignStore.MoveMessages
//     creates.
//
// Each event recorded gets its ID, Version EventVersion, and what its
// rows say that it leaves zero (JobID from the message; ContextID,
// CampaignID and Metadata from the job; JobID of a new job's events).
// Implementations must be safe for concurrent use, also across processes.
type OutboxStore interface {
	// ClaimEvents claims, for owner until until, up to limit events that
	// are due: not delivered, not dead, NextAt at or before now, not
	// claimed (or claimed until before now), and with no earlier event of
	// their job that is neither delivered nor dead. It returns them by id.
	ClaimEvents(ctx context.Context, owner string, now, until time.Time, limit int) ([]Event, error)
	// AddEvents records events that tell of no change of the store (a
	// QR code shown, a job that waits), in one transaction, filling in
	// what they leave zero as for Step.Events.
	AddEvents(ctx context.Context, evs []Event) error
	// SettleEvents records the results of events that owner claimed; an
	// event no longer claimed by owner is left as it is. Each result
	// clears the claim.
	SettleEvents(ctx context.Context, owner string, results []EventResult) error
	// EventCounts counts the events not delivered.
	EventCounts(ctx context.Context) (OutboxCounts, error)
	// PruneEvents deletes the events delivered before the given time, and
	// returns how many.
	PruneEvents(ctx context.Context, before time.Time) (int64, error)
}
