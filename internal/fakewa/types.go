package fakewa

import (
	"fmt"
	"time"
)

// AllAccounts makes SetStuckPending apply to every account, present and
// future.
const AllAccounts = "*"

// Message is one message that the fake WhatsApp server received.
type Message struct {
	// From is the sending account, in digits without "+".
	From string `json:"from"`
	// To is the recipient, in digits without "+".
	To string `json:"to"`
	// Text is the text exactly as the page sent it.
	Text string `json:"text"`
	// ID is the message ID; it is also the last part of the data-id
	// attribute of the row (or the whole attribute with IDStyleHash).
	ID string `json:"id"`
	// At is when the server received the message.
	At time.Time `json:"at"`
	// Media describes the attached file of a message sent with an
	// attachment, whose Text is the caption ("" for none); nil for a text
	// message.
	Media *Media `json:"media,omitempty"`
}

// MediaKind is the kind of an attachment.
type MediaKind string

// The kinds of attachments. The page sends a file chosen through "Photos
// & videos" as an image or a video (by its MIME type), and one chosen
// through "Document" as a document whatever its type.
const (
	MediaImage    MediaKind = "image"
	MediaVideo    MediaKind = "video"
	MediaDocument MediaKind = "document"
)

// Media describes the file of a message with an attachment, as the server
// received it.
type Media struct {
	// Kind is image, video or document.
	Kind MediaKind `json:"kind"`
	// FileName is the name of the file as the page read it from the File
	// (the base name of the path given to DOM.setFileInputFiles).
	FileName string `json:"fileName"`
	// MIMEType is the type of the File as the browser guessed it, or
	// "application/octet-stream" when it had none.
	MIMEType string `json:"mimeType"`
	// Size is the number of bytes the server received.
	Size int64 `json:"size"`
	// SHA256 is the SHA-256 of those bytes, in lower-case hex.
	SHA256 string `json:"sha256"`
}

// Status is the delivery status of an outgoing message.
type Status int

// The statuses, in the order a message goes through them.
const (
	StatusPending Status = iota
	StatusSent
	StatusDelivered
	StatusRead
	// StatusFailed is a message that the server rejected after the page
	// had sent it (RejectNext, a timelock or the new-chat cap): its row
	// lost its tick and shows the fail icon. No later status follows.
	StatusFailed
)

var statusNames = [...]string{"pending", "sent", "delivered", "read", "failed"}

// String returns "pending", "sent", "delivered", "read" or "failed".
func (s Status) String() string {
	if s >= 0 && int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// MarshalText encodes the status as its name.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText decodes a status name.
func (s *Status) UnmarshalText(b []byte) error {
	for i, n := range statusNames {
		if n == string(b) {
			*s = Status(i)
			return nil
		}
	}
	return fmt.Errorf("fakewa: unknown status %q", b)
}

// PageState is the state of a page as Sessions reports it.
type PageState string

// The page states.
const (
	// PageBoot is the splash screen (#initial_startup).
	PageBoot PageState = "boot"
	// PageUnsupported is the "WhatsApp works with Google Chrome NN+" page.
	PageUnsupported PageState = "unsupported"
	// PageQR is the landing page with the QR code.
	PageQR PageState = "qr"
	// PagePairing is the landing page in phone number pairing mode.
	PagePairing PageState = "pairing"
	// PageLoading is "Loading your chats".
	PageLoading PageState = "loading"
	// PageMain is the logged in app, with or without an open chat.
	PageMain PageState = "main"
	// PageConflict is the logged in app behind the "WhatsApp is open in
	// another window" dialog.
	PageConflict PageState = "conflict"
	// PageTempBan is the full-screen temporary-ban dialog (TemporaryBan).
	PageTempBan PageState = "temp-ban"
	// PagePasskey is the Shortcake passkey overlay that a scan of an
	// account with RequirePasskey shows instead of logging in.
	PagePasskey PageState = "passkey"
)

// Session describes one page (one tab load) that talks to the server.
type Session struct {
	// ClientID is the random ID the page made when it loaded.
	ClientID string `json:"clientId"`
	// Tab is the ID the tab keeps in sessionStorage across reloads.
	Tab string `json:"tab"`
	// State is what the page shows.
	State PageState `json:"state"`
	// Phone is the logged in account, or empty.
	Phone string `json:"phone,omitempty"`
	// Chat is the number of the open chat, or empty.
	Chat string `json:"chat,omitempty"`
	// QRRef is the QR payload the page shows, or empty.
	QRRef string `json:"qrRef,omitempty"`
	// QRExpired reports whether the page shows "Click to reload QR code".
	QRExpired bool `json:"qrExpired,omitempty"`
	// PairingCode is the pairing code the page shows, or empty.
	PairingCode string `json:"pairingCode,omitempty"`
	// LoggedOut reports whether the page came back to the QR code through a
	// logout.
	LoggedOut bool `json:"loggedOut,omitempty"`
	// URL is the page's location as the page last reported it.
	URL string `json:"url,omitempty"`
	// UserAgent is the User-Agent of the page's connection.
	UserAgent string `json:"userAgent,omitempty"`
	// Connected reports whether the page's WebSocket is open.
	Connected bool `json:"connected"`
}

// QR is a QR code that a connected page shows.
type QR struct {
	// ClientID is the page that shows the code.
	ClientID string `json:"clientId"`
	// Ref is the payload, the data-ref attribute.
	Ref string `json:"ref"`
	// Refresh counts the changes of the code in its cycle; 0 is the first.
	Refresh int `json:"refresh"`
	// Issued is when the page got the code.
	Issued time.Time `json:"issued"`
	// UserAgent is the User-Agent of the page.
	UserAgent string `json:"userAgent,omitempty"`
}

// Typing is one span of "composing" presence that a page sent for a chat:
// from the first keystroke (the first change of the compose box) to the
// send, a pause of the typing, or another chat.
type Typing struct {
	// From is the account, To the chat.
	From string `json:"from"`
	To   string `json:"to"`
	// Start is when the server got "composing".
	Start time.Time `json:"start"`
	// Duration is how long the contact saw "typing…".
	Duration time.Duration `json:"duration"`
	// Sent reports whether a send ended the span (not a pause).
	Sent bool `json:"sent"`
}
