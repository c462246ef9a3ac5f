package wasend

import (
	"context"
	"time"
)

// Campaign is a bulk send over a pool of browser contexts (SendCampaign).
// Its messages are split into one bulk job per context that got any; each
// recipient is assigned to one context, and a message that moves to
// another context becomes a new message of a new job of the campaign (see
// Message.MovedFrom).
type Campaign struct {
	ID int64
	// Contexts is the pool, in the order the host gave it.
	Contexts []int64
	// Move allows the unsent messages of a context that is restricted or
	// banned to move to the others (AllowMoves).
	Move bool
	// Metadata and IdempotencyKey are the host's, as for a job; every job
	// of the campaign carries the same Metadata.
	Metadata       map[string]any
	IdempotencyKey string
	CreatedAt      time.Time
	// Jobs are the campaign's jobs by id, with their messages.
	// Store.Campaigns leaves it nil.
	Jobs []Job
}

// Messages returns the campaign's messages where they ended up: a message
// that moved is left out, and its copy (Message.MovedFrom) stands for it.
// They are in the order of their jobs, then of their positions.
func (c Campaign) Messages() []Message {
	var out []Message
	for _, j := range c.Jobs {
		for _, m := range j.Messages {
			if m.Status == MessageCancelled && m.ErrorKind == ErrorKindMoved {
				continue
			}
			out = append(out, m)
		}
	}
	return out
}

// Status sums up the campaign: running while any of its jobs is pending,
// running or paused (paused when all of those are paused), and then
// completed, or cancelled when any job was cancelled, or failed when any
// failed and none was cancelled.
func (c Campaign) Status() JobStatus {
	active, paused, cancelled, failed := 0, 0, false, false
	for _, j := range c.Jobs {
		switch j.Status {
		case JobPending, JobRunning:
			active++
		case JobPaused:
			active++
			paused++
		case JobCancelled:
			cancelled = true
		case JobFailed:
			failed = true
		}
	}
	switch {
	case active > 0 && paused == active:
		return JobPaused
	case active > 0:
		return JobRunning
	case cancelled:
		return JobCancelled
	case failed:
		return JobFailed
	}
	return JobCompleted
}

// Counts counts the campaign's messages (as Messages returns them) by
// status. Every status is present.
func (c Campaign) Counts() map[MessageStatus]int64 {
	n := make(map[MessageStatus]int64, len(MessageStatuses()))
	for _, s := range MessageStatuses() {
		n[s] = 0
	}
	for _, m := range c.Messages() {
		n[m.Status]++
	}
	return n
}

// CampaignFilter selects campaigns. Zero fields select everything.
type CampaignFilter struct {
	// Active selects the campaigns with a job that is pending, running or
	// paused.
	Active bool
	// AfterID selects campaigns whose id is greater, for paging.
	AfterID int64
	// Limit caps the number of campaigns; zero means DefaultJobsLimit.
	Limit int
}

// MessageMove moves pending messages of one job of a campaign to a new job
// of the same campaign on another context (CampaignStore.MoveMessages).
type MessageMove struct {
	// FromJob is the job the messages leave. It must belong to a campaign
	// and be pending or paused.
	FromJob int64
	// Messages are the ids of the messages to move, in the order their
	// copies take. Those that are not pending messages of FromJob stay.
	Messages []int64
	// ToContext is the context of the new job.
	ToContext int64
	// At is the time of the move; zero means now.
	At time.Time
	// Events are recorded in the outbox with the new job, by a Store
	// that implements OutboxStore.
	Events []Event
}

// CampaignStore is the optional interface of a Store that keeps campaigns
// (SendCampaign). Implementations must be safe for concurrent use.
type CampaignStore interface {
	// CreateCampaign records a campaign and its jobs, with their messages,
	// in one transaction, and returns it with the ids, positions and
	// timestamps filled in. Each job is recorded as CreateJob records one
	// (a context that is missing, closed or in error fails the whole
	// campaign with the same errors), with the campaign's id as
	// Job.CampaignID, and without an idempotency key of its own.
	//
	// When c.IdempotencyKey is set and a campaign with the same key
	// exists, CreateCampaign records nothing and returns that campaign,
	// with its jobs, and an error wrapping ErrCampaignExists. Keys compare
	// byte for byte, in a space apart from the jobs' keys; one longer than
	// MaxIdempotencyKeyLength gives a *ValidationError wrapping
	// ErrInvalidIdempotencyKey.
	CreateCampaign(ctx context.Context, c Campaign) (Campaign, error)
	// Campaign returns one campaign with its jobs and their messages, or
	// an error wrapping ErrCampaignNotFound.
	Campaign(ctx context.Context, id int64) (Campaign, error)
	// Campaigns returns the campaigns the filter selects, by id, without
	// their jobs.
	Campaigns(ctx context.Context, f CampaignFilter) ([]Campaign, error)
	// MoveMessages moves messages in one transaction, and returns the new
	// job with its messages, or a zero Job when nothing moved. It happens
	// only if the job is pending or paused (its version grows by one);
	// then each message of m.Messages that is a pending message of the
	// job becomes cancelled with ErrorKindMoved, and a copy of it (To,
	// Text, MovedFrom its id) becomes a pending message of a new pending
	// bulk job of the campaign on ToContext, which takes the Delay,
	// MaxAttempts, Metadata and NotBefore of the job it leaves. If the job
	// is left with no message that is pending, sending or unconfirmed, it
	// becomes completed in the same transaction.
	//
	// A job that is missing gives ErrJobNotFound; one outside any campaign
	// gives ErrInvalidStep; ToContext must be in the campaign's pool and
	// take jobs, as in CreateJob (ErrContextNotFound,
	// ErrContextNotAvailable).
	MoveMessages(ctx context.Context, m MessageMove) (Job, error)
	// Contacts returns the pairs of a context of contextIDs and a
	// recipient of recipients (hashes, as in SendRecord) such that the
	// context's ledger ever recorded a send to the recipient (as
	// Store.Contacted), in no particular order.
	Contacts(ctx context.Context, contextIDs []int64, recipients []string) ([]Contact, error)
}

// Contact says that a browser context sent to a recipient (a hash, as in
// SendRecord) at least once.
type Contact struct {
	ContextID int64
	Recipient string
}
