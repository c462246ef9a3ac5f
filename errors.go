package wasend

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Errors returned by the library. Adapters (stores, queues, browser pools)
// wrap these sentinels so that callers can test them with errors.Is, whatever
// back end produced them. Whether an error is worth retrying is decided in
// one place: [Retryable].
var (
	// ErrContextNotFound means the browser context does not exist.
	ErrContextNotFound = errors.New("wasend: browser context not found")
	// ErrContextNotAvailable means the browser context exists but cannot send
	// now: it is closed, in error, disconnected, or not held by this process.
	ErrContextNotAvailable = errors.New("wasend: browser context not available")
	// ErrContextClosed means the browser context was closed for good.
	ErrContextClosed = errors.New("wasend: browser context closed")
	// ErrContextHeld means another process holds the browser context's
	// lease, and so its live session.
	ErrContextHeld = errors.New("wasend: browser context held by another process")
	// ErrDuplicateContext means a browser context with the same system id
	// already exists.
	ErrDuplicateContext = errors.New("wasend: browser context already exists")

	// ErrInvalidPhone means the phone number is not in international form.
	ErrInvalidPhone = errors.New("wasend: invalid phone number")
	// ErrEmptyText means the message text is empty or only white space.
	ErrEmptyText = errors.New("wasend: empty text")
	// ErrTextTooLong means the message text has more than MaxTextLength
	// characters.
	ErrTextTooLong = errors.New("wasend: text too long")
	// ErrInvalidText means the message text is not valid UTF-8 or holds a NUL.
	ErrInvalidText = errors.New("wasend: invalid text")
	// ErrNoMessages means a bulk send has no messages.
	ErrNoMessages = errors.New("wasend: no messages")
	// ErrTooManyMessages means a bulk send has more messages than allowed.
	ErrTooManyMessages = errors.New("wasend: too many messages")
	// ErrInvalidDelay means a delay is negative, or given for a single
	// message.
	ErrInvalidDelay = errors.New("wasend: invalid delay")
	// ErrInvalidMetadata means the metadata cannot be encoded as JSON, is
	// nested deeper than MaxMetadataDepth, or is longer than MaxMetadataSize
	// bytes once encoded.
	ErrInvalidMetadata = errors.New("wasend: invalid metadata")

	// ErrNotOnWhatsApp means the recipient has no WhatsApp account.
	ErrNotOnWhatsApp = errors.New("wasend: number not on WhatsApp")
	// ErrLoggedOut means the session was logged out (from the phone, or the
	// login expired) and needs a new QR scan.
	ErrLoggedOut = errors.New("wasend: logged out")
	// ErrConflict means WhatsApp Web was opened for the same account in
	// another window.
	ErrConflict = errors.New("wasend: session conflict")
	// ErrTimeout means an operation on the session did not finish in time.
	ErrTimeout = errors.New("wasend: timeout")
	// ErrDisconnected means the browser behind the session is gone (crashed,
	// killed, or its connection was lost).
	ErrDisconnected = errors.New("wasend: session disconnected")
	// ErrUnsupportedBrowser means WhatsApp Web refused the browser.
	ErrUnsupportedBrowser = errors.New("wasend: unsupported browser")
	// ErrSelectors means the page no longer has what the driver's selector set
	// expects; the set needs an update.
	ErrSelectors = errors.New("wasend: selector set does not match the page")
	// ErrPhoneOffline means the phone linked to the session is not connected.
	ErrPhoneOffline = errors.New("wasend: phone offline")
	// ErrUnconfirmed means the send may have happened but was not confirmed.
	// Build it with [Unconfirmed].
	ErrUnconfirmed = errors.New("wasend: send not confirmed")
	// ErrUnknownOutcome means an earlier attempt of a message may have been
	// sent and the session cannot tell, so the message is not sent again.
	ErrUnknownOutcome = errors.New("wasend: outcome of an earlier attempt unknown")
	// ErrSessionHung means a session's call did not return within its
	// deadline plus WithHangGrace: it ignores its ctx. The call is left to
	// finish on its own, and the session is not used until it has.
	ErrSessionHung = errors.New("wasend: session ignored its deadline")

	// ErrJobNotFound means the job does not exist.
	ErrJobNotFound = errors.New("wasend: job not found")
	// ErrJobFinished means the job already reached a final status.
	ErrJobFinished = errors.New("wasend: job already finished")
	// ErrJobState means the job is not in a status that allows the operation
	// (for example, resuming a job that is not paused).
	ErrJobState = errors.New("wasend: job not in a state that allows this")
	// ErrNoAccountChange means a context is not held for an account change:
	// ConfirmAccount has nothing to confirm.
	ErrNoAccountChange = errors.New("wasend: no account change to confirm")
	// ErrJobExists means a job with the same idempotency key exists
	// already. Stores return it from CreateJob with that job; the Client's
	// Send returns the job and a nil error instead.
	ErrJobExists = errors.New("wasend: a job with this idempotency key exists")
	// ErrIdempotencyConflict means an idempotency key was used again for a
	// different request (another context, kind or list of messages). Send
	// returns it with the job that holds the key.
	ErrIdempotencyConflict = errors.New("wasend: idempotency key used for a different request")
	// ErrInvalidIdempotencyKey means an idempotency key is longer than
	// MaxIdempotencyKeyLength bytes, or not valid UTF-8 text.
	ErrInvalidIdempotencyKey = errors.New("wasend: invalid idempotency key")

	// ErrRunning means Run was called while it was already running.
	ErrRunning = errors.New("wasend: already running")
	// ErrClosed means the Client was closed.
	ErrClosed = errors.New("wasend: closed")
	// ErrInvalidOption means an option given to a constructor is invalid.
	ErrInvalidOption = errors.New("wasend: invalid option")
	// ErrInvalidEnv means an environment variable has an invalid value.
	ErrInvalidEnv = errors.New("wasend: invalid environment variable")
	// ErrInvalidStep means a Step given to Store.Apply is malformed (no From,
	// an unknown status, a change to running without a Claim): a bug in the
	// caller, not worth a retry.
	ErrInvalidStep = errors.New("wasend: invalid step")
	// ErrStore wraps a failure of the Store's back end.
	ErrStore = errors.New("wasend: store failure")
	// ErrConsuming means a queue already consumes the browser context in
	// this process.
	ErrConsuming = errors.New("wasend: browser context already consumed")
	// ErrQueue wraps a failure of the Queue's back end.
	ErrQueue = errors.New("wasend: queue failure")
	// ErrLoggedIn means a login (a QR scan or a pairing code) was asked of
	// a session that is logged in already.
	ErrLoggedIn = errors.New("wasend: session already logged in")
	// ErrNotSupported means a back end does not offer what was asked of
	// it (for example, a session that cannot pair by phone number).
	ErrNotSupported = errors.New("wasend: not supported")

	// ErrBanned means WhatsApp banned the account: the context stops for
	// good. Sessions return a *RestrictionError of RestrictionBanned.
	ErrBanned = errors.New("wasend: account banned")
	// ErrRestricted means WhatsApp stopped the account from sending for a
	// while (a temporary ban): the context sends nothing until it ends.
	// Sessions return a *RestrictionError of RestrictionTemporary.
	ErrRestricted = errors.New("wasend: account restricted")
	// ErrNewChatsLocked means WhatsApp stopped the account from starting
	// new chats for a while (the reach-out timelock, or the monthly cap on
	// new chats): chats that exist go on. Sessions return a
	// *RestrictionError of RestrictionNewChats.
	ErrNewChatsLocked = errors.New("wasend: new chats locked")
	// ErrMessageRejected means WhatsApp rejected a message after the page
	// had accepted it (the message's failure icon): it was not delivered,
	// and is not sent again.
	ErrMessageRejected = errors.New("wasend: message rejected by WhatsApp")
	// ErrPasskeyRequired means linking the device needs a passkey on the
	// phone, a step the session cannot complete by itself.
	ErrPasskeyRequired = errors.New("wasend: passkey required to link")
	// ErrProxy means the browser context's proxy is invalid or cannot be
	// reached.
	ErrProxy = errors.New("wasend: proxy failure")
	// ErrInvalidPacing means a pacing policy is invalid.
	ErrInvalidPacing = errors.New("wasend: invalid pacing policy")
	// ErrInvalidNotBefore means a send's NotBefore time is invalid.
	ErrInvalidNotBefore = errors.New("wasend: invalid not-before time")
	// ErrInvalidPool means the pool of contexts of a campaign is empty, too
	// large or names a context twice.
	ErrInvalidPool = errors.New("wasend: invalid campaign pool")
	// ErrInvalidFilter means a job listing's filter is malformed (Jobs).
	ErrInvalidFilter = errors.New("wasend: invalid filter")
	// ErrCampaignNotFound means no campaign has the id.
	ErrCampaignNotFound = errors.New("wasend: campaign not found")
	// ErrCampaignExists means a campaign with the idempotency key exists
	// (CampaignStore.CreateCampaign).
	ErrCampaignExists = errors.New("wasend: a campaign with this idempotency key exists")
	// ErrSuppressed means the recipient is on the suppression list (it
	// opted out, or the host suppressed it): the message is refused
	// before anything is written, or in a bulk job failed on its own.
	ErrSuppressed = errors.New("wasend: recipient suppressed")
	// ErrInvalidMedia means a message's Media is malformed: no such file,
	// a file that cannot be read, an unknown kind, or a type that does not
	// fit the kind.
	ErrInvalidMedia = errors.New("wasend: invalid media")
	// ErrMediaTooLarge means a file is over MaxImageSize or
	// MaxDocumentSize.
	ErrMediaTooLarge = errors.New("wasend: media too large")
	// ErrMediaChanged means a file changed (or went) after its message was
	// recorded: its checksum no longer matches. The message fails; it is
	// never sent with other content.
	ErrMediaChanged = errors.New("wasend: media changed since it was recorded")
	// ErrProfileNotFound means a ProfileStore holds no snapshot of the
	// session.
	ErrProfileNotFound = errors.New("wasend: profile snapshot not found")
	// ErrProfileCorrupt means a profile snapshot is not whole: its bytes
	// fail their checksum or size, or its archive cannot be read.
	ErrProfileCorrupt = errors.New("wasend: profile snapshot corrupt")
	// ErrProfileTooLarge means a profile snapshot is over the store's
	// limit (DefaultProfileSnapshotLimit unless the store was told
	// otherwise).
	ErrProfileTooLarge = errors.New("wasend: profile snapshot too large")
	// ErrProfileStale means a ProfileStore holds a snapshot of the same or
	// a greater generation than the one saved: the newer one is kept.
	ErrProfileStale = errors.New("wasend: profile snapshot older than the stored one")
	// ErrProfileKey means a sealed profile snapshot cannot be opened with
	// the ProfileCipher's key (a wrong key, or another session's snapshot).
	ErrProfileKey = errors.New("wasend: profile snapshot cannot be opened with this key")
)

// ErrorKind is the stable, storable name of an error's class. It is what the
// store records on failed jobs and messages.
type ErrorKind string

// The error kinds. ErrorKindOther covers errors that wrap none of the sentinels.
const (
	ErrorKindNone                  ErrorKind = ""
	ErrorKindContextNotFound       ErrorKind = "context_not_found"
	ErrorKindContextNotAvail       ErrorKind = "context_not_available"
	ErrorKindContextClosed         ErrorKind = "context_closed"
	ErrorKindInvalidPhone          ErrorKind = "invalid_phone"
	ErrorKindEmptyText             ErrorKind = "empty_text"
	ErrorKindTextTooLong           ErrorKind = "text_too_long"
	ErrorKindInvalidText           ErrorKind = "invalid_text"
	ErrorKindInvalidMetadata       ErrorKind = "invalid_metadata"
	ErrorKindInvalidDelay          ErrorKind = "invalid_delay"
	ErrorKindNoMessages            ErrorKind = "no_messages"
	ErrorKindTooManyMessages       ErrorKind = "too_many_messages"
	ErrorKindInvalidIdempotencyKey ErrorKind = "invalid_idempotency_key"
	ErrorKindIdempotencyConflict   ErrorKind = "idempotency_conflict"
	ErrorKindContextHeld           ErrorKind = "context_held"
	ErrorKindDuplicateContext      ErrorKind = "duplicate_context"
	ErrorKindJobNotFound           ErrorKind = "job_not_found"
	ErrorKindJobFinished           ErrorKind = "job_finished"
	ErrorKindJobState              ErrorKind = "job_state"
	ErrorKindJobExists             ErrorKind = "job_exists"
	ErrorKindNoAccountChange       ErrorKind = "no_account_change"
	ErrorKindClosed                ErrorKind = "closed"
	ErrorKindRunning               ErrorKind = "running"
	ErrorKindInvalidOption         ErrorKind = "invalid_option"
	ErrorKindInvalidEnv            ErrorKind = "invalid_env"
	ErrorKindConsuming             ErrorKind = "consuming"
	ErrorKindNotOnWhatsApp         ErrorKind = "not_on_whatsapp"
	ErrorKindLoggedOut             ErrorKind = "logged_out"
	ErrorKindConflict              ErrorKind = "conflict"
	ErrorKindTimeout               ErrorKind = "timeout"
	ErrorKindDisconnected          ErrorKind = "disconnected"
	ErrorKindUnsupportedBrowser    ErrorKind = "unsupported_browser"
	ErrorKindSelectors             ErrorKind = "selectors"
	ErrorKindPhoneOffline          ErrorKind = "phone_offline"
	ErrorKindUnconfirmed           ErrorKind = "unconfirmed"
	ErrorKindUnknownOutcome        ErrorKind = "unknown_outcome"
	ErrorKindSessionHung           ErrorKind = "session_hung"
	ErrorKindPanic                 ErrorKind = "panic"
	ErrorKindCanceled              ErrorKind = "canceled"
	ErrorKindAttemptsExhausted     ErrorKind = "attempts_exhausted"
	ErrorKindInvalidStep           ErrorKind = "invalid_step"
	ErrorKindStore                 ErrorKind = "store"
	ErrorKindQueue                 ErrorKind = "queue"
	ErrorKindNotSupported          ErrorKind = "not_supported"
	ErrorKindLoggedIn              ErrorKind = "logged_in"
	ErrorKindBanned                ErrorKind = "banned"
	ErrorKindRestricted            ErrorKind = "restricted"
	ErrorKindNewChatsLocked        ErrorKind = "new_chats_locked"
	ErrorKindMessageRejected       ErrorKind = "message_rejected"
	ErrorKindPasskeyRequired       ErrorKind = "passkey_required"
	ErrorKindProxy                 ErrorKind = "proxy"
	ErrorKindInvalidPacing         ErrorKind = "invalid_pacing"
	ErrorKindInvalidNotBefore      ErrorKind = "invalid_not_before"
	ErrorKindCampaignNotFound      ErrorKind = "campaign_not_found"
	ErrorKindInvalidPool           ErrorKind = "invalid_pool"
	ErrorKindInvalidFilter         ErrorKind = "invalid_filter"
	ErrorKindCampaignExists        ErrorKind = "campaign_exists"
	ErrorKindSuppressed            ErrorKind = "suppressed"
	ErrorKindInvalidMedia          ErrorKind = "invalid_media"
	ErrorKindMediaTooLarge         ErrorKind = "media_too_large"
	ErrorKindMediaChanged          ErrorKind = "media_changed"
	ErrorKindProfileNotFound       ErrorKind = "profile_not_found"
	ErrorKindProfileCorrupt        ErrorKind = "profile_corrupt"
	ErrorKindProfileTooLarge       ErrorKind = "profile_too_large"
	ErrorKindProfileStale          ErrorKind = "profile_stale"
	ErrorKindProfileKey            ErrorKind = "profile_key"
	// ErrorKindMoved marks a message of a campaign that moved to another
	// context: it is cancelled, and its copy (Message.MovedFrom) goes on.
	ErrorKindMoved ErrorKind = "moved"
	ErrorKindOther ErrorKind = "other"
)

// errorClass is the single table that classifies errors: the storable kind,
// whether a new attempt may succeed, and whether the error says that the
// session is gone (and which context status that implies).
type errorClass struct {
	err       error
	kind      ErrorKind
	retryable bool
	session   ContextStatus // non-empty: the session is unusable until this changes
}

var errorClasses = []errorClass{
	// Order matters: the first match wins, and Unconfirmed wraps a cause, so
	// the more specific session errors come before it.
	{ErrBanned, ErrorKindBanned, false, ContextClosed},
	{ErrRestricted, ErrorKindRestricted, true, ContextRestricted},
	{ErrPasskeyRequired, ErrorKindPasskeyRequired, true, ContextError},
	{ErrProxy, ErrorKindProxy, true, ContextError},
	{ErrLoggedOut, ErrorKindLoggedOut, true, ContextDisconnected},
	{ErrConflict, ErrorKindConflict, true, ContextDisconnected},
	{ErrDisconnected, ErrorKindDisconnected, true, ContextDisconnected},
	{ErrUnsupportedBrowser, ErrorKindUnsupportedBrowser, true, ContextError},
	{ErrSelectors, ErrorKindSelectors, true, ContextError},
	{ErrPhoneOffline, ErrorKindPhoneOffline, true, ""},
	{ErrTimeout, ErrorKindTimeout, true, ""},
	{ErrSessionHung, ErrorKindSessionHung, true, ""},
	{ErrUnconfirmed, ErrorKindUnconfirmed, true, ""},
	{ErrUnknownOutcome, ErrorKindUnknownOutcome, false, ""},
	// A closed context is also not available: closed wins, and is final.
	{ErrContextClosed, ErrorKindContextClosed, false, ""},
	{ErrContextNotFound, ErrorKindContextNotFound, false, ""},
	{ErrContextNotAvailable, ErrorKindContextNotAvail, true, ""},
	{ErrContextHeld, ErrorKindContextHeld, true, ""},
	{ErrDuplicateContext, ErrorKindDuplicateContext, false, ""},
	{ErrJobNotFound, ErrorKindJobNotFound, false, ""},
	{ErrJobFinished, ErrorKindJobFinished, false, ""},
	{ErrJobState, ErrorKindJobState, true, ""},
	{ErrJobExists, ErrorKindJobExists, false, ""},
	{ErrNoAccountChange, ErrorKindNoAccountChange, false, ""},
	{ErrClosed, ErrorKindClosed, false, ""},
	{ErrRunning, ErrorKindRunning, false, ""},
	{ErrInvalidOption, ErrorKindInvalidOption, false, ""},
	{ErrInvalidEnv, ErrorKindInvalidEnv, false, ""},
	{ErrConsuming, ErrorKindConsuming, false, ""},
	{ErrInvalidPhone, ErrorKindInvalidPhone, false, ""},
	{ErrEmptyText, ErrorKindEmptyText, false, ""},
	{ErrTextTooLong, ErrorKindTextTooLong, false, ""},
	{ErrInvalidText, ErrorKindInvalidText, false, ""},
	{ErrInvalidMetadata, ErrorKindInvalidMetadata, false, ""},
	{ErrInvalidDelay, ErrorKindInvalidDelay, false, ""},
	{ErrNoMessages, ErrorKindNoMessages, false, ""},
	{ErrTooManyMessages, ErrorKindTooManyMessages, false, ""},
	{ErrInvalidIdempotencyKey, ErrorKindInvalidIdempotencyKey, false, ""},
	{ErrIdempotencyConflict, ErrorKindIdempotencyConflict, false, ""},
	{ErrNotOnWhatsApp, ErrorKindNotOnWhatsApp, false, ""},
	// A rejection may come with the restriction behind it: the message's
	// fate (rejected, final) wins over the new-chats lock, which the
	// Client reads from the error as well.
	{ErrMessageRejected, ErrorKindMessageRejected, false, ""},
	{ErrNewChatsLocked, ErrorKindNewChatsLocked, true, ""},
	{ErrInvalidPacing, ErrorKindInvalidPacing, false, ""},
	{ErrInvalidNotBefore, ErrorKindInvalidNotBefore, false, ""},
	{ErrCampaignNotFound, ErrorKindCampaignNotFound, false, ""},
	{ErrInvalidPool, ErrorKindInvalidPool, false, ""},
	{ErrInvalidFilter, ErrorKindInvalidFilter, false, ""},
	{ErrCampaignExists, ErrorKindCampaignExists, false, ""},
	{ErrSuppressed, ErrorKindSuppressed, false, ""},
	{ErrMediaTooLarge, ErrorKindMediaTooLarge, false, ""},
	{ErrMediaChanged, ErrorKindMediaChanged, false, ""},
	{ErrInvalidMedia, ErrorKindInvalidMedia, false, ""},
	{ErrProfileNotFound, ErrorKindProfileNotFound, false, ""},
	{ErrProfileCorrupt, ErrorKindProfileCorrupt, false, ""},
	{ErrProfileTooLarge, ErrorKindProfileTooLarge, false, ""},
	{ErrProfileStale, ErrorKindProfileStale, false, ""},
	{ErrProfileKey, ErrorKindProfileKey, false, ""},
	{ErrInvalidStep, ErrorKindInvalidStep, false, ""},
	{ErrStore, ErrorKindStore, true, ""},
	{ErrQueue, ErrorKindQueue, true, ""},
	{ErrNotSupported, ErrorKindNotSupported, false, ""},
	{ErrLoggedIn, ErrorKindLoggedIn, false, ""},
	{context.DeadlineExceeded, ErrorKindTimeout, true, ""},
	{context.Canceled, ErrorKindCanceled, true, ""},
}

func classify(err error) (errorClass, bool) {
	var pe *PanicError
	if errors.As(err, &pe) {
		return errorClass{kind: ErrorKindPanic, retryable: true}, true
	}
	for _, c := range errorClasses {
		if errors.Is(err, c.err) {
			return c, true
		}
	}
	return errorClass{}, false
}

// classOf classifies err: nil has ErrorKindNone, and an error that wraps
// none of the package's sentinels is retryable, of ErrorKindOther.
func classOf(err error) errorClass {
	if err == nil {
		return errorClass{kind: ErrorKindNone}
	}
	if c, ok := classify(err); ok {
		return c
	}
	return errorClass{kind: ErrorKindOther, retryable: true}
}

// failure is an outcome's error with its class, worked out once by
// failureOf and carried to every decision, record and log of the outcome.
// The zero failure is no error.
type failure struct {
	err   error
	class errorClass
}

func failureOf(err error) failure { return failure{err: err, class: classOf(err)} }

// Retryable reports whether another attempt of the operation that returned
// err may succeed. Errors that wrap none of the package's sentinels are
// treated as retryable, so that an unknown transport failure is retried
// rather than dropped; permanent failures must say so by wrapping a
// permanent sentinel such as ErrNotOnWhatsApp.
func Retryable(err error) bool { return classOf(err).retryable }

// KindOf returns the storable kind of err: ErrorKindNone for nil and ErrorKindOther for
// an error that wraps none of the package's sentinels.
func KindOf(err error) ErrorKind { return classOf(err).kind }

// SessionStatus reports whether err says that the session behind a browser
// context is unusable, and which status the context takes because of it
// (ContextDisconnected or ContextError).
func SessionStatus(err error) (ContextStatus, bool) {
	s := classOf(err).session
	return s, s != ""
}

// RestrictionError is a restriction that a session found on the page, or
// that the Client's breaker imposed. It wraps ErrBanned, ErrRestricted or
// ErrNewChatsLocked, by kind (a breaker's wraps ErrRestricted), and Err
// when set (for example ErrMessageRejected, for a rejection that revealed
// the restriction).
type RestrictionError struct {
	Kind RestrictionKind
	// Until is when the restriction ends, when the page says; zero when it
	// does not, or for a ban.
	Until time.Time
	// Code is WhatsApp's reason code when the page gives one (101 to 106
	// for a temporary ban: see the package doc), or 0.
	Code int
	// Reason is what the page says, with phone numbers masked.
	Reason string
	// Err is a further cause, or nil.
	Err error
}

// Error implements error.
func (e *RestrictionError) Error() string {
	s := e.sentinel().Error()
	if e.Code != 0 {
		s += " (code " + strconv.Itoa(e.Code) + ")"
	}
	if !e.Until.IsZero() {
		s += " until " + e.Until.UTC().Format(time.RFC3339)
	}
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *RestrictionError) sentinel() error {
	switch e.Kind {
	case RestrictionBanned:
		return ErrBanned
	case RestrictionNewChats:
		return ErrNewChatsLocked
	}
	return ErrRestricted
}

// Is reports whether target is the sentinel of the restriction's kind.
func (e *RestrictionError) Is(target error) bool { return target == e.sentinel() }

// Unwrap returns Err.
func (e *RestrictionError) Unwrap() error { return e.Err }

// RestrictionOf returns the restriction that err carries, if any.
func RestrictionOf(err error) (*RestrictionError, bool) {
	var re *RestrictionError
	if errors.As(err, &re) {
		return re, true
	}
	return nil, false
}

// UnconfirmedError wraps the cause of a send whose outcome is unknown: the
// session may have sent the message (for example, the send button was
// clicked but no tick appeared in time). A message whose attempt ended this
// way is not sent again blindly; see [SentFinder].
type UnconfirmedError struct {
	Err error
}

// Unconfirmed marks err as the failure of a send that may nevertheless have
// happened. Sessions return it for every failure after the point of no return.
func Unconfirmed(err error) error {
	if err == nil {
		err = ErrUnconfirmed
	}
	return &UnconfirmedError{Err: err}
}

// Error implements error.
func (e *UnconfirmedError) Error() string {
	return "wasend: send not confirmed: " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *UnconfirmedError) Unwrap() error { return e.Err }

// Is reports that an UnconfirmedError is ErrUnconfirmed.
func (e *UnconfirmedError) Is(target error) bool { return target == ErrUnconfirmed }

// PanicError is a panic recovered from a Session or a hook, turned into an
// error. It is retryable.
type PanicError struct {
	Value any
}

// Error implements error.
func (e *PanicError) Error() string { return fmt.Sprintf("wasend: panic: %v", e.Value) }

// ValidationError reports which input of a call was invalid. It wraps one of
// the input sentinels (ErrInvalidPhone, ErrEmptyText, ...).
type ValidationError struct {
	// Index is the position of the bad message in a bulk send, or -1.
	Index int
	// Field is the name of the bad input: "to", "text", "delay",
	// "metadata", "idempotency_key" or "messages".
	Field string
	// Err is the sentinel that says what is wrong.
	Err error
}

// Error implements error.
func (e *ValidationError) Error() string {
	if e.Index >= 0 {
		return e.Err.Error() + " (message " + strconv.Itoa(e.Index) + ", " + e.Field + ")"
	}
	return e.Err.Error() + " (" + e.Field + ")"
}

// Unwrap returns the sentinel.
func (e *ValidationError) Unwrap() error { return e.Err }
