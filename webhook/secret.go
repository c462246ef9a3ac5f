package webhook

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"strings"
)

// Sizes of a signing secret's key, in bytes. The Standard Webhooks
// specification asks for 24 to 64 random bytes (192 to 512 bits).
const (
	// MinSecretSize is the shortest key accepted.
	MinSecretSize = 24
	// MaxSecretSize is the longest key accepted.
	MaxSecretSize = 64
	// GeneratedSecretSize is the size of the keys made by GenerateSecret.
	GeneratedSecretSize = 32
)

// SecretPrefix starts the text form of a secret: "whsec_" followed by the
// key in standard base64.
const SecretPrefix = "whsec_"

// Secret is an HMAC-SHA256 signing key shared by a sender and a receiver.
// The zero Secret is not valid. A Secret prints (String, fmt's %v, slog)
// as "whsec_***"; Text returns the real serialized form.
type Secret struct {
	key []byte
}

// ParseSecret reads a secret in the specification's form, "whsec_"
// followed by the key in standard base64 (padding optional). It fails with
// ErrInvalidSecret.
func ParseSecret(s string) (Secret, error) {
	b64, ok := strings.CutPrefix(s, SecretPrefix)
	if !ok {
		return Secret{}, fmt.Errorf("%w: no %q prefix", ErrInvalidSecret, SecretPrefix)
	}
	key, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(b64, "="))
	if err != nil {
		return Secret{}, fmt.Errorf("%w: not base64", ErrInvalidSecret)
	}
	return NewSecret(key)
}

// NewSecret makes a secret of raw key bytes, which it copies. The key must
// be MinSecretSize to MaxSecretSize bytes long; it fails with
// ErrInvalidSecret otherwise.
func NewSecret(key []byte) (Secret, error) {
	if len(key) < MinSecretSize || len(key) > MaxSecretSize {
		return Secret{}, fmt.Errorf("%w: key of %d bytes, want %d to %d",
			ErrInvalidSecret, len(key), MinSecretSize, MaxSecretSize)
	}
	return Secret{key: append([]byte(nil), key...)}, nil
}

// GenerateSecret makes a secret of GeneratedSecretSize random bytes from
// crypto/rand.
func GenerateSecret() (Secret, error) {
	key := make([]byte, GeneratedSecretSize)
	if _, err := rand.Read(key); err != nil {
		return Secret{}, fmt.Errorf("webhook: generate secret: %w", err)
	}
	return Secret{key: key}, nil
}

// Text returns the secret in the specification's form: "whsec_" followed
// by the key in standard base64. This is what a receiver is given.
func (s Secret) Text() string {
	return SecretPrefix + base64.StdEncoding.EncodeToString(s.key)
}

// String returns "whsec_***" so that a secret never reaches a log by
// accident; use Text for the real value.
func (s Secret) String() string { return SecretPrefix + "***" }

// LogValue masks the secret as String does.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// valid reports whether s came from a constructor.
func (s Secret) valid() bool { return len(s.key) >= MinSecretSize }

func checkSecrets(secrets []Secret) error {
	if len(secrets) == 0 {
		return ErrNoSecrets
	}
	for i, s := range secrets {
		if !s.valid() {
			return fmt.Errorf("%w: secret %d is the zero Secret", ErrInvalidSecret, i)
		}
	}
	return nil
}
