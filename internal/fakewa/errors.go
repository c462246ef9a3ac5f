package fakewa

import "errors"

// Errors returned by the hooks of Server and HookClient.
var (
	// ErrInvalidOption is wrapped by the panic of New for an option value
	// that makes no sense, such as a negative delay.
	ErrInvalidOption = errors.New("fakewa: invalid option")
	// ErrInvalidPhone means a phone number is not 6 to 15 ASCII digits.
	ErrInvalidPhone = errors.New("fakewa: phone must be 6 to 15 digits")
	// ErrUnknownQR means no connected page shows this QR payload.
	ErrUnknownQR = errors.New("fakewa: no page shows this QR code")
	// ErrQRExpired means the QR payload was shown once but has been
	// replaced or has expired.
	ErrQRExpired = errors.New("fakewa: QR code expired")
	// ErrNoPendingQR means no connected page shows a QR code.
	ErrNoPendingQR = errors.New("fakewa: no page shows a QR code")
	// ErrAmbiguousQR means ScanAny found more than one page that shows a QR
	// code.
	ErrAmbiguousQR = errors.New("fakewa: several pages show a QR code")
	// ErrUnknownCode means no connected page shows this pairing code.
	ErrUnknownCode = errors.New("fakewa: no page shows this pairing code")
	// ErrPhoneMismatch means a pairing code was confirmed for another phone
	// number than the one typed into the page.
	ErrPhoneMismatch = errors.New("fakewa: pairing code belongs to another phone number")
	// ErrPageGone means the page disconnected before it stored the login.
	ErrPageGone = errors.New("fakewa: page disconnected")
	// ErrClosed means the server is closed.
	ErrClosed = errors.New("fakewa: server closed")
	// ErrPasskeyRequired means a scan did not log the page in because the
	// account needs a passkey (RequirePasskey); the page shows the passkey
	// overlay.
	ErrPasskeyRequired = errors.New("fakewa: passkey required to link")
	// ErrUnknownMessage means no outgoing message that the server received
	// has this ID.
	ErrUnknownMessage = errors.New("fakewa: unknown message")
	// ErrInvalidStatus means SetMessageStatus cannot make this change: a
	// status other than sent, delivered or read, a step back, or a
	// message that the server rejects.
	ErrInvalidStatus = errors.New("fakewa: status change not allowed")
	// ErrUnauthorized means a hook request had no valid token.
	ErrUnauthorized = errors.New("fakewa: hook token missing or wrong")
)
