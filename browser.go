package wasend

import (
	"context"
	"time"
)

// ContextStatus is the status of a browser context, as stored in the
// browser_context_status table. The values are the table's slugs.
type ContextStatus string

// The browser context statuses.
const (
	// ContextAvailable means the session is logged in and idle.
	ContextAvailable ContextStatus = "available"
	// ContextBusy means the session is sending a message.
	ContextBusy ContextStatus = "busy"
	// ContextDisconnected means the session has no live, logged-in page: it
	// waits for a QR scan, was logged out, lost a conflict, or its browser
	// died. Jobs wait for it to come back.
	ContextDisconnected ContextStatus = "disconnected"
	// ContextError means the session cannot work without a fix: the browser
	// was refused, or the selector set does not match the page.
	ContextError ContextStatus = "error"
	// ContextClosed means the context was closed for good: by the host,
	// or because WhatsApp banned its account (Restriction says so).
	ContextClosed ContextStatus = "closed"
	// ContextRestricted means WhatsApp stopped the account from sending
	// for a while (a temporary ban), or the Client's circuit breaker did:
	// the context sends nothing until Restriction.Until, and its jobs
	// wait. It becomes available again by itself.
	ContextRestricted ContextStatus = "restricted"
)

// ContextStatuses returns every browser context status, in the order of the
// status table.
func ContextStatuses() []ContextStatus {
	return []ContextStatus{ContextAvailable, ContextBusy, ContextDisconnected, ContextError, ContextClosed, ContextRestricted}
}

// Valid reports whether s is one of the browser context statuses.
func (s ContextStatus) Valid() bool {
	switch s {
	case ContextAvailable, ContextBusy, ContextDisconnected, ContextError, ContextClosed, ContextRestricted:
		return true
	}
	return false
}

// BrowserContext is a browser context: the record kept in the store, and, in
// the process that holds it, the live session through which messages are
// sent.
type BrowserContext struct {
	// ID is the store's identifier.
	ID int64
	// Status is the stored status.
	Status ContextStatus
	// SystemID is the browser pool's name for the context
	// (browser_system_id): for example a profile folder for a persistent
	// session, or a name for an ephemeral one. It is unique.
	SystemID string
	// CreatedAt and UpdatedAt are the record's timestamps.
	CreatedAt time.Time
	UpdatedAt time.Time
	// Restriction is the restriction in force, or the last one, with its
	// end (RestrictionNone when there never was one). A restriction whose
	// Until has passed no longer holds.
	Restriction Restriction
	// FirstLoginAt is when the context's session first reported a login,
	// or zero. Pacing's warm-up counts days from it.
	FirstLoginAt time.Time
	// Pacing is the context's own pacing policy; nil means the Client's
	// default (WithPacing).
	Pacing *Pacing
	// Proxy is the proxy the context's browser goes through, as a URL
	// (http://, https:// or socks5://, with optional user:password@), or
	// empty for none. It is stored with the context; it never reaches a
	// log (see MaskProxy).
	Proxy string
	// Account is the number the context's session last logged in as
	// (E.164), or empty while unknown.
	Account string
	// Session is the live session: the browser and its WhatsApp Web page. It
	// is set only in the process that holds the context, and is never
	// stored.
	Session Session
}

// Receipt is the proof that a session sent a message.
type Receipt struct {
	// MessageID is WhatsApp's id of the message, when the page shows one.
	MessageID string
	// SentAt is when the message was confirmed as sent.
	SentAt time.Time
}

// Session is the live WhatsApp Web session of one browser context.
//
// The Client never calls SendText concurrently on the same Session, but it
// may call SystemID and Close at any time from any goroutine.
type Session interface {
	// SystemID returns the pool's name for the browser context.
	SystemID() string
	// SendText sends text to the phone number to (E.164, with a leading
	// '+') and returns once WhatsApp has accepted the message. Errors wrap
	// the package's sentinels (ErrNotOnWhatsApp, ErrLoggedOut, ErrTimeout,
	// ...). A failure after the point where the message may have left must
	// be wrapped with Unconfirmed.
	SendText(ctx context.Context, to, text string) (Receipt, error)
	// Close ends the live session. A persistent login survives it. Close is
	// idempotent.
	Close(ctx context.Context) error
}

// Abandoner is implemented by sessions that can close without saving
// anything of their login (chromedpdriver's, with a ProfileStore). The
// Client abandons, instead of closing, the session of a context that
// another process has taken over: that process runs the login now, and a
// save from here would replace its newer state with a stale copy.
type Abandoner interface {
	// Abandon ends the live session as Close does, but saves nothing.
	Abandon(ctx context.Context) error
}

// PhonePairer is implemented by sessions that can log in by phone number
// instead of a QR code. Reach it through Client.RequestPairingCode.
type PhonePairer interface {
	// RequestPairingCode asks the page for a pairing code for phone (E.164,
	// with a leading '+') and returns it. The session reports
	// ContextAvailable as usual once the code is typed on the phone.
	RequestPairingCode(ctx context.Context, phone string) (string, error)
}

// SentFinder is implemented by sessions that can look in a chat for an
// outgoing message. The Client uses it before it does anything else with a
// message whose earlier attempt has an unknown outcome (MessageUnconfirmed):
// when the message is found, it is recorded as sent and not sent again.
//
// A lookup that cannot answer (the chat did not load, the page does not
// match the selectors) must return an error, never "not found": the Client
// then looks again later, and never sends the message while the lookup
// cannot answer.
type SentFinder interface {
	// FindSent looks in the chat with q.To for an outgoing message that is
	// the one q describes, and reports whether it was found.
	FindSent(ctx context.Context, q SentQuery) (Receipt, bool, error)
}

// SentQuery describes the message a SentFinder looks for.
type SentQuery struct {
	// To is the recipient (E.164) and Text the message's text.
	To, Text string
	// Since is a time before the first attempt whose outcome is unknown
	// (with a margin for clock skew): a row older than that is not this
	// message.
	Since time.Time
	// Mark is what the session passed to SendTrace.BeforeSend before that
	// attempt's click, or empty. A session that sets marks must not count
	// as this message a row that its mark describes as already there.
	Mark string
	// Media, for a media message, is its file (Text is then the caption):
	// the row must show an attachment of that kind with that file name or
	// size.
	Media *MediaFile
}

// MediaSender is implemented by sessions that can send files: through the
// page's attach menu and its file input, as a person does.
type MediaSender interface {
	// SendMedia sends m to to (E.164) and returns once WhatsApp has
	// accepted it, with the same errors and the same SendTrace hooks as
	// SendText (a failure after the click wrapped with Unconfirmed).
	SendMedia(ctx context.Context, to string, m MediaFile) (Receipt, error)
}

// SendTrace holds the hooks a Session calls during SendText. The Client
// puts one in SendText's ctx, in the manner of net/http/httptrace; a
// session reads it with ContextSendTrace. Sessions that ignore it still
// work.
type SendTrace struct {
	// BeforeSend must be called at most once per SendText, just before the
	// point after which the message may leave (the click on the send
	// button), with a mark: the session's own description of what is in
	// the chat then, such as the ids of the outgoing rows that have the
	// same text. A Marker calls it before every click, with a non-empty
	// mark. The Client stores the mark durably before it returns,
	// and gives it back in SentQuery.Mark. If it returns an error, the
	// session must not send, and returns that error from SendText.
	BeforeSend func(mark string) error
}

// Marker is implemented by sessions that call SendTrace.BeforeSend, with a
// non-empty mark, before every click. The Client then knows that an
// attempt that left no mark never clicked: it is not looked for in the
// chat, where an identical message sent since could be taken for it, and
// it may be sent again. (An attempt made by an older version of the
// session that did not mark is then taken for one that did not click.)
type Marker interface {
	// MarksSends reports whether the session marks every send.
	MarksSends() bool
}

type sendTraceKey struct{}

// WithSendTrace returns a copy of ctx that carries t.
func WithSendTrace(ctx context.Context, t *SendTrace) context.Context {
	return context.WithValue(ctx, sendTraceKey{}, t)
}

// ContextSendTrace returns the SendTrace that ctx carries, or nil.
func ContextSendTrace(ctx context.Context) *SendTrace {
	t, _ := ctx.Value(sendTraceKey{}).(*SendTrace)
	return t
}

// BeforeSend calls the BeforeSend hook of the SendTrace that ctx carries,
// if any, and returns its error. Sessions call it just before the click.
func BeforeSend(ctx context.Context, mark string) error {
	if t := ContextSendTrace(ctx); t != nil && t.BeforeSend != nil {
		return t.BeforeSend(mark)
	}
	return nil
}

// ResourceReporter is implemented by sessions that can report what their
// browser costs. Client.Stats uses it for per-session metrics.
type ResourceReporter interface {
	// MemoryPSS returns the proportional set size, in bytes, of the
	// session's browser processes.
	MemoryPSS() (int64, error)
}

// LaunchRequest describes the session that a BrowserPool must launch.
type LaunchRequest struct {
	// SystemID names an existing browser context whose session must be
	// resumed (for a persistent session, with its saved login). When it is
	// empty, the pool creates a new browser context and names it.
	SystemID string
	// Proxy is the browser context's proxy (BrowserContext.Proxy), or
	// empty. A pool that cannot apply it must fail with ErrProxy, never
	// launch without it.
	Proxy string
	// OnEvent receives the session's events (QR codes, status changes). It
	// may be nil. It is called from the pool's goroutines and must not block.
	OnEvent func(SessionEvent)
}

// BrowserPool launches live WhatsApp Web sessions. Implementations must be
// safe for concurrent use.
type BrowserPool interface {
	// Launch starts the session of a browser context in this process and
	// returns it without waiting for a login: the login's progress arrives
	// as events. It fails if the browser cannot start.
	Launch(ctx context.Context, req LaunchRequest) (Session, error)
}

// EventType is the type of a SessionEvent.
type EventType string

// The session event types.
const (
	// EventQR carries a QR payload to scan (a new one, or a refresh).
	EventQR EventType = "qr"
	// EventPairingCode carries a code for login by phone number.
	EventPairingCode EventType = "pairing_code"
	// EventStatus reports a change of the session's status.
	EventStatus EventType = "status"
	// EventUnknownOutcome reports a message that ended MessageUnknown: an
	// attempt may have sent it, and the Client could not find out. JobID
	// and MessageID say which; Err says why.
	EventUnknownOutcome EventType = "unknown_outcome"
	// EventWait reports that a job waits, without spending an attempt,
	// until Until: Wait says why and Until until when (pacing, a sending
	// window, a restriction, NotBefore). JobID names the job.
	EventWait EventType = "wait"
	// EventRestriction reports a restriction of the context that begins or
	// ends: Restriction holds it (Kind RestrictionNone when it ended).
	EventRestriction EventType = "restriction"
	// EventAck reports new ticks of a followed message (AckFollower):
	// MessageID, To, WAMessageID and Ack say which and how far.
	EventAck EventType = "ack"
	// EventIncoming reports a message a contact wrote: Incoming holds it.
	// Sessions read incoming messages without marking them read, unless
	// the host asks (InboxReader).
	EventIncoming EventType = "incoming"
	// EventAccount reports the account a session is logged in as, in
	// Account (E.164), when it learns it (with or after its login).
	EventAccount EventType = "account"
	// EventAccountChanged tells the host that a different account logged
	// into a context than the one it had: Account is the new one
	// (masked), and the context's jobs wait until Client.ConfirmAccount.
	EventAccountChanged EventType = "account_changed"
	// EventMoved reports messages of a campaign that moved to another
	// context (SendCampaign): JobID is the new job, ContextID the context
	// it sends through, FromJobID the job they left, and Moved how many.
	EventMoved EventType = "moved"
	// EventAsleep reports that the Client closed the browser of an idle
	// context to save memory (WithHibernation): the context stays
	// available, and wakes when a job is due.
	EventAsleep EventType = "asleep"
	// EventAwake reports that a sleeping context's browser is open again;
	// its session's status follows as usual.
	EventAwake EventType = "awake"
)

// SessionEvent is something that happened to a live session.
type SessionEvent struct {
	// Type says what happened.
	Type EventType
	// SystemID names the session's browser context.
	SystemID string
	// ContextID is the store's id of the context. The pool leaves it zero;
	// the Client fills it before it hands the event to the host.
	ContextID int64
	// Status is the session's new status, for EventStatus: ContextAvailable
	// (logged in and ready), ContextDisconnected or ContextError.
	Status ContextStatus
	// QR is the payload to render as a QR code, for EventQR.
	QR string
	// Code is the pairing code, for EventPairingCode.
	Code string
	// JobID and MessageID name the message, for EventUnknownOutcome.
	JobID, MessageID int64
	// FromJobID and Moved are the job that messages left and how many,
	// for EventMoved.
	FromJobID int64
	Moved     int
	// Wait and Until say why and until when a job waits, for EventWait.
	Wait  WaitReason
	Until time.Time
	// Restriction is the restriction that begins (or, when its Kind is
	// RestrictionNone, ends), for EventRestriction.
	Restriction Restriction
	// To, WAMessageID and Ack describe a followed message's new ticks,
	// for EventAck (MessageID names it).
	To          string
	WAMessageID string
	Ack         Ack
	// Incoming is the message a contact wrote, for EventIncoming.
	Incoming *IncomingMessage
	// Account is the number the session is logged in as (E.164), for
	// EventAccount and EventAccountChanged.
	Account string
	// Err is the cause of a change to disconnected or error.
	Err error
	// At is when it happened.
	At time.Time
}
