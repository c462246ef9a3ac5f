package webhook

import (
	"crypto/hmac"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DefaultTolerance is how far the webhook-timestamp of a request may be
// from the receiver's clock, in either direction, for Verify to accept it.
const DefaultTolerance = 5 * time.Minute

// VerifyOption configures a Verifier. Options apply in order; the last one
// that sets a value wins.
type VerifyOption func(*verifyConfig)

type verifyConfig struct {
	tolerance time.Duration
}

// WithTolerance sets how far the webhook-timestamp of a request may be from
// the time passed to Verify, in either direction; it must be at least a
// second (timestamps have a resolution of one second). Default: DefaultTolerance (5 minutes).
func WithTolerance(d time.Duration) VerifyOption {
	return func(c *verifyConfig) { c.tolerance = d }
}

// Verifier checks the signature of requests received from a webhook
// sender. It holds the secrets the receiver knows: during a rotation, the
// old and the new one. A Verifier is immutable and safe for concurrent use.
type Verifier struct {
	secrets   []Secret
	tolerance time.Duration
}

// NewVerifier returns a Verifier for secrets. It fails with ErrNoSecrets
// without a secret, with ErrInvalidSecret for a zero Secret and with
// ErrInvalidOption for an invalid option.
func NewVerifier(secrets []Secret, opts ...VerifyOption) (*Verifier, error) {
	if err := checkSecrets(secrets); err != nil {
		return nil, err
	}
	c := verifyConfig{tolerance: DefaultTolerance}
	for _, o := range opts {
		o(&c)
	}
	if c.tolerance < time.Second {
		return nil, fmt.Errorf("%w: WithTolerance: %s is less than 1s", ErrInvalidOption, c.tolerance)
	}
	return &Verifier{secrets: append([]Secret(nil), secrets...), tolerance: c.tolerance}, nil
}

// Verify checks a request with NewVerifier(secrets) and its defaults; see
// [Verifier.Verify].
func Verify(secrets []Secret, h http.Header, body []byte, now time.Time) error {
	v, err := NewVerifier(secrets)
	if err != nil {
		return err
	}
	return v.Verify(h, body, now)
}

// Verify checks that the request with headers h and the raw body (as
// received, before any JSON decoding) was signed with one of the
// Verifier's secrets at a time within the tolerance of now. It returns nil
// if so, and otherwise an error wrapping ErrMissingHeader,
// ErrInvalidTimestamp, ErrTimestampTooOld, ErrTimestampTooNew or
// ErrNoMatchingSignature. Signatures are compared in constant time;
// entries of other versions than v1 (such as v1a) are ignored. The caller
// should then use the webhook-id header to drop messages it has already
// processed: a retried message keeps its id.
func (v *Verifier) Verify(h http.Header, body []byte, now time.Time) error {
	id, ts, sigs := header(h, HeaderID), header(h, HeaderTimestamp), header(h, HeaderSignature)
	for _, f := range [...]struct{ name, value string }{
		{HeaderID, id}, {HeaderTimestamp, ts}, {HeaderSignature, sigs},
	} {
		if f.value == "" {
			return fmt.Errorf("%w: %s", ErrMissingHeader, f.name)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %q", ErrInvalidTimestamp, ts)
	}
	// Compared in seconds, so that a huge timestamp cannot overflow a
	// time.Duration.
	switch nowSec, tol := now.Unix(), int64(v.tolerance/time.Second); {
	case sec < nowSec-tol:
		return fmt.Errorf("%w: %d is %d s before %d", ErrTimestampTooOld, sec, nowSec-sec, nowSec)
	case sec > nowSec+tol:
		return fmt.Errorf("%w: %d is %d s after %d", ErrTimestampTooNew, sec, sec-nowSec, nowSec)
	}
	want := make([][]byte, len(v.secrets))
	for i, s := range v.secrets {
		want[i] = mac(s.key, id, ts, body)
	}
	for _, entry := range strings.Fields(sigs) {
		version, b64, ok := strings.Cut(entry, ",")
		if !ok || version != signatureVersion {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			continue
		}
		for _, w := range want {
			if hmac.Equal(got, w) {
				return nil
			}
		}
	}
	return ErrNoMatchingSignature
}

// header returns the first value of the header name in h, whether h was
// filled by net/http (canonical keys) or by hand (any case).
func header(h http.Header, name string) string {
	if v := h.Get(name); v != "" {
		return v
	}
	for k, vs := range h {
		if len(vs) > 0 && strings.EqualFold(k, name) {
			return vs[0]
		}
	}
	return ""
}
