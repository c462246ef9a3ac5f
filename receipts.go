package wasend

import (
	"context"
	"fmt"
	"time"
)

// Ack is how far WhatsApp took a sent message: its ticks, as the page
// shows them.
type Ack int

// The acks, in the order a message goes through them.
const (
	// AckNone is not known.
	AckNone Ack = iota
	// AckPending is the clock: the message has not reached the server.
	AckPending
	// AckSent is one grey tick: the server has the message.
	AckSent
	// AckDelivered is two grey ticks: the recipient's phone has it.
	AckDelivered
	// AckRead is two blue ticks: the recipient opened it (when their
	// read receipts are on).
	AckRead
	// AckPlayed is a voice note played; the page shows it as read.
	AckPlayed
)

var ackNames = [...]string{"none", "pending", "sent", "delivered", "read", "played"}

// String returns the ack's name ("delivered").
func (a Ack) String() string {
	if a >= 0 && int(a) < len(ackNames) {
		return ackNames[a]
	}
	return fmt.Sprintf("Ack(%d)", int(a))
}

// TrackedMessage is a sent message whose ticks a session follows.
type TrackedMessage struct {
	// MessageID is the store's id of the message; the session's EventAck
	// carries it back.
	MessageID int64
	// To is the recipient (E.164) and WAMessageID WhatsApp's id of the
	// message (Receipt.MessageID), or empty when the page showed none.
	To          string
	WAMessageID string
	// Text is the message's text (for a media message its caption), to find
	// the row when there is no WhatsApp id. It never reaches a log.
	Text string
	// SentAt is when the message was sent, and Ack what is known so far.
	SentAt time.Time
	Ack    Ack
}

// AckFollower is implemented by sessions that can follow the ticks of the
// messages they sent.
//
// The session reports each change of a followed message's ticks as an
// EventAck, with MessageID, To, WAMessageID, Ack and At set, at least once
// per change (the Client ignores an ack it already has). It watches the
// open chat and the chat list, and visits a chat that is not open at a
// bounded rate, never a chat switch per message. It stops following a
// message once it reports it read, and never lets following delay a send
// for more than one page evaluation.
type AckFollower interface {
	// FollowAcks replaces the set of messages the session follows. The
	// Client calls it after each send, with the messages sent recently and
	// not yet read, and at login with those it knows of.
	FollowAcks(ctx context.Context, msgs []TrackedMessage) error
}

// ReceiptTransition records an ack of a sent message: a change to
// AckDelivered or later stores At as delivered_at unless it is set, and a
// change to AckRead or later as read_at unless it is set (a read message
// was delivered, so it sets both). Undelivered stores At as
// undelivered_at unless it is set: the message was not delivered within
// the Client's ReceiptWindow.
//
// As a condition, it applies only to a message whose status is sent and
// when it changes a column: an ack the store already has makes the step
// not apply.
type ReceiptTransition struct {
	MessageID   int64
	Ack         Ack
	Undelivered bool
	At          time.Time
}

// ReceiptFilter selects the sent messages whose ticks are still followed.
type ReceiptFilter struct {
	// ContextID selects the messages a context sent; required.
	ContextID int64
	// SentAfter selects messages sent at or after it.
	SentAfter time.Time
	// Undelivered selects only the messages neither delivered nor marked
	// undelivered; otherwise every message not yet read is selected.
	Undelivered bool
	// SentBefore, when set, selects messages sent before it.
	SentBefore time.Time
	// AfterID pages by message id; Limit caps the number (zero means
	// DefaultJobsLimit).
	AfterID int64
	Limit   int
}
