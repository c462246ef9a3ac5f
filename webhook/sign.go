package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The Standard Webhooks headers. http.Header stores them in canonical form
// ("Webhook-Id"); HTTP header names are case-insensitive.
const (
	// HeaderID carries the message id, the same on every attempt: a
	// receiver uses it as an idempotency key.
	HeaderID = "webhook-id"
	// HeaderTimestamp carries the time of the attempt in Unix seconds.
	HeaderTimestamp = "webhook-timestamp"
	// HeaderSignature carries the space-separated signatures, one
	// "v1,<base64>" entry per secret.
	HeaderSignature = "webhook-signature"
)

// MaxIDLength is the longest message id Sign accepts, in bytes.
const MaxIDLength = 256

// signatureVersion identifies HMAC-SHA256 signatures in the
// webhook-signature header.
const signatureVersion = "v1"

// Signer signs messages with one or more secrets. With several secrets
// (during a rotation) each signature holds one v1 entry per secret, in the
// order given, and a receiver that knows any of them accepts it. A Signer
// is immutable and safe for concurrent use.
type Signer struct {
	secrets []Secret
}

// NewSigner returns a Signer for secrets. It fails with ErrNoSecrets
// without a secret, and with ErrInvalidSecret for a zero Secret.
func NewSigner(secrets ...Secret) (*Signer, error) {
	if err := checkSecrets(secrets); err != nil {
		return nil, err
	}
	return &Signer{secrets: append([]Secret(nil), secrets...)}, nil
}

// Signature returns the value of the webhook-signature header for the
// message id sent at time t (truncated to the second) with body: a
// space-separated "v1,<base64 HMAC-SHA256 of {id}.{unix seconds}.{body}>"
// entry per secret. The body must be sent byte for byte as signed. It fails
// with ErrInvalidMessageID for an id that is empty, longer than
// MaxIDLength, or holds anything but printable ASCII other than space and
// "." (a full stop would make the signed content ambiguous).
func (s *Signer) Signature(id string, t time.Time, body []byte) (string, error) {
	if err := checkID(id); err != nil {
		return "", err
	}
	return s.signature(id, strconv.FormatInt(t.Unix(), 10), body), nil
}

// SetHeaders sets the webhook-id, webhook-timestamp and webhook-signature
// headers of h for the message id sent at time t with body. It fails as
// Signature does.
func (s *Signer) SetHeaders(h http.Header, id string, t time.Time, body []byte) error {
	if err := checkID(id); err != nil {
		return err
	}
	ts := strconv.FormatInt(t.Unix(), 10)
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, ts)
	h.Set(HeaderSignature, s.signature(id, ts, body))
	return nil
}

func (s *Signer) signature(id, ts string, body []byte) string {
	var b strings.Builder
	for i, sec := range s.secrets {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(signatureVersion)
		b.WriteByte(',')
		b.WriteString(base64.StdEncoding.EncodeToString(mac(sec.key, id, ts, body)))
	}
	return b.String()
}

// mac is the HMAC-SHA256 of "{id}.{ts}.{body}" under key.
func mac(key []byte, id, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

func checkID(id string) error {
	if id == "" || len(id) > MaxIDLength {
		return fmt.Errorf("%w: %d bytes, want 1 to %d", ErrInvalidMessageID, len(id), MaxIDLength)
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c >= 0x7f || c == '.' {
			return fmt.Errorf("%w: %q at byte %d", ErrInvalidMessageID, c, i)
		}
	}
	return nil
}
