package wasend

import (
	"context"
	"time"
)

// NumberInfo is the answer to "is this number on WhatsApp?".
type NumberInfo struct {
	// Phone is the number asked about (E.164, normalised).
	Phone string
	// OnWhatsApp reports whether an account uses it.
	OnWhatsApp bool
	// Canonical is the number of the account WhatsApp opened the chat
	// with, when it differs from Phone: WhatsApp corrects some numbers
	// itself (Brazil's ninth digit, Mexico's "1", Argentina's "9"). Send
	// to Canonical when it is set.
	Canonical string
	// CheckedAt is when a session checked it, and ContextID through which
	// context.
	CheckedAt time.Time
	ContextID int64
	// Cached reports whether the answer came from the store's cache.
	Cached bool
}

// NumberChecker is implemented by sessions that can tell whether a number
// is on WhatsApp without sending anything.
type NumberChecker interface {
	// CheckNumber opens the chat of phone (E.164) as WhatsApp's own links
	// do and reports what the page showed: the chat (OnWhatsApp, with the
	// number it opened as Canonical when it differs), or "isn't on
	// WhatsApp". A page that showed neither gives an error, never a
	// negative answer.
	CheckNumber(ctx context.Context, phone string) (NumberInfo, error)
}
