package webhook

import "errors"

// Errors of the package. Functions wrap them with details (a header name,
// a status code), so test them with errors.Is.
var (
	// ErrInvalidSecret means a signing secret is malformed: it lacks the
	// "whsec_" prefix, is not valid base64, or its key is not MinSecretSize
	// to MaxSecretSize bytes long.
	ErrInvalidSecret = errors.New("webhook: invalid secret")
	// ErrNoSecrets means a Signer, Verifier or Endpoint was given no secret.
	ErrNoSecrets = errors.New("webhook: no secrets")
	// ErrInvalidMessageID means a message id (the webhook-id) is empty,
	// longer than MaxIDLength, or holds a character other than printable
	// ASCII without space and full stop.
	ErrInvalidMessageID = errors.New("webhook: invalid message id")
	// ErrInvalidEvent means an Event cannot be sent: its id, type, time or
	// payload is invalid.
	ErrInvalidEvent = errors.New("webhook: invalid event")
	// ErrInvalidEndpoint means an endpoint URL or event-type pattern is
	// invalid.
	ErrInvalidEndpoint = errors.New("webhook: invalid endpoint")
	// ErrInvalidOption means an option given to a constructor is invalid.
	ErrInvalidOption = errors.New("webhook: invalid option")

	// ErrMissingHeader means a request lacks the webhook-id,
	// webhook-timestamp or webhook-signature header.
	ErrMissingHeader = errors.New("webhook: missing header")
	// ErrInvalidTimestamp means the webhook-timestamp header is not an
	// integer number of Unix seconds.
	ErrInvalidTimestamp = errors.New("webhook: invalid timestamp")
	// ErrTimestampTooOld means the webhook-timestamp is further in the past
	// than the tolerance: the request may be a replay.
	ErrTimestampTooOld = errors.New("webhook: timestamp too old")
	// ErrTimestampTooNew means the webhook-timestamp is further in the
	// future than the tolerance.
	ErrTimestampTooNew = errors.New("webhook: timestamp too new")
	// ErrNoMatchingSignature means no v1 entry of the webhook-signature
	// header matches the body under any of the secrets.
	ErrNoMatchingSignature = errors.New("webhook: no matching signature")

	// ErrStatus means the endpoint answered with a status other than 2xx;
	// Result.Status holds it.
	ErrStatus = errors.New("webhook: unsuccessful status")
	// ErrRequest means the request got no response: the connection was
	// refused or reset, the name did not resolve, TLS failed, and so on.
	ErrRequest = errors.New("webhook: request failed")
	// ErrTimeout means the endpoint did not answer within the request
	// timeout (WithTimeout). It comes wrapped with ErrRequest.
	ErrTimeout = errors.New("webhook: request timed out")
	// ErrGaveUp means Deliver stopped trying: the last failure is not worth
	// retrying, or the attempts ran out.
	ErrGaveUp = errors.New("webhook: delivery given up")
)
