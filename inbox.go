package wasend

import (
	"context"
	"time"
)

// IncomingMessage is a message a contact wrote to a context's account, as
// its session saw it.
type IncomingMessage struct {
	// ID is the store's id, zero until stored; ContextID the context whose
	// account received it.
	ID        int64
	ContextID int64
	// From is the sender (E.164).
	From string
	// Text is the message's text (a caption for media, empty for media
	// without one). It never reaches a log.
	Text string
	// At is when the page says it was sent.
	At time.Time
	// WAMessageID is WhatsApp's id of the row; an incoming message is
	// reported once per context and id.
	WAMessageID string
	// OptOut reports whether the text matched an opt-out keyword, which
	// suppressed the sender.
	OptOut bool
	// CreatedAt is when it was stored.
	CreatedAt time.Time
}

// InboxReader is implemented by sessions that can mark a chat read, which
// the contact then sees as blue ticks. The Client calls it only when the
// host asks (Client.MarkRead, or WithMarkRead).
type InboxReader interface {
	// MarkRead marks every incoming message from from (E.164) read.
	MarkRead(ctx context.Context, from string) error
}

// InboxFilter selects incoming messages.
type InboxFilter struct {
	// ContextID selects one context's; From one sender's.
	ContextID int64
	From      string
	// AfterID and BeforeID page by id; Newest orders newest first;
	// Limit caps the number (zero means DefaultJobsLimit).
	AfterID  int64
	BeforeID int64
	Newest   bool
	Limit    int
}

// Suppression is a phone number that takes no message: the contact opted
// out, or the host added it.
type Suppression struct {
	// Phone is the number (E.164).
	Phone string
	// Reason says why: SuppressOptOut, SuppressHost, or the host's own.
	Reason string
	// ContextID is the context whose account received the opt-out, or 0.
	ContextID int64
	// CreatedAt is when it was added.
	CreatedAt time.Time
}

// The reasons of suppressions the Client adds.
const (
	// SuppressOptOut is a contact who wrote an opt-out keyword.
	SuppressOptOut = "opt_out"
	// SuppressHost is a number the host suppressed (Client.Suppress).
	SuppressHost = "host"
)

// DefaultOptOutKeywords are the keywords that opt a contact out, matched
// as whole words, case-insensitively (WithOptOutKeywords changes them).
var DefaultOptOutKeywords = []string{
	"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", // English
	"BAJA", "ALTO", "PARAR", "CANCELAR", // Spanish
	"SAIR", "PARE", "DESCADASTRAR", // Portuguese
	"STOPP",          // German
	"ARRET", "ARRÊT", // French
}

// SuppressionFilter pages through suppressions.
type SuppressionFilter struct {
	// AfterPhone pages by phone number; Limit caps the number (zero means
	// DefaultJobsLimit).
	AfterPhone string
	Limit      int
}
