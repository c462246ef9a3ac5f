package webhook_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend/webhook"
)

// The test vector of the Standard Webhooks reference libraries
// (libraries/go/webhook_test.go, TestWebhookSign, in
// github.com/standard-webhooks/standard-webhooks).
const (
	vectorSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorTimestamp = 1614265330
	vectorBody      = `{"test": 2432232314}`
	vectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func mustSecret(t testing.TB, s string) webhook.Secret {
	t.Helper()
	sec, err := webhook.ParseSecret(s)
	require.NoError(t, err)
	return sec
}

func newSecret(t testing.TB) webhook.Secret {
	t.Helper()
	sec, err := webhook.GenerateSecret()
	require.NoError(t, err)
	return sec
}

func TestSignatureVector(t *testing.T) {
	s, err := webhook.NewSigner(mustSecret(t, vectorSecret))
	require.NoError(t, err)
	got, err := s.Signature(vectorID, time.Unix(vectorTimestamp, 0), []byte(vectorBody))
	require.NoError(t, err)
	assert.Equal(t, vectorSignature, got)

	h := http.Header{}
	require.NoError(t, s.SetHeaders(h, vectorID, time.Unix(vectorTimestamp, 999e6), []byte(vectorBody)))
	assert.Equal(t, vectorID, h.Get("webhook-id"))
	assert.Equal(t, strconv.Itoa(vectorTimestamp), h.Get("webhook-timestamp"), "truncated to the second")
	assert.Equal(t, vectorSignature, h.Get("webhook-signature"))

	require.NoError(t, webhook.Verify([]webhook.Secret{mustSecret(t, vectorSecret)}, h, []byte(vectorBody),
		time.Unix(vectorTimestamp+10, 0)))
}

func TestParseSecret(t *testing.T) {
	key24 := bytes.Repeat([]byte{7}, 24)
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"vector", vectorSecret, true},
		{"padded", "whsec_" + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", true}, // 41 bytes
		{"no prefix", strings.TrimPrefix(vectorSecret, "whsec_"), false},
		{"not base64", "whsec_!!!!", false},
		{"too short", "whsec_" + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", false}, // 23 bytes
		{"too long", "whsec_" + strings.Repeat("A", 88), false},             // 66 bytes
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := webhook.ParseSecret(tt.in)
			if !tt.ok {
				require.ErrorIs(t, err, webhook.ErrInvalidSecret)
				return
			}
			require.NoError(t, err)
			again, err := webhook.ParseSecret(s.Text())
			require.NoError(t, err)
			assert.Equal(t, s, again, "Text round-trips")
		})
	}

	s, err := webhook.NewSecret(key24)
	require.NoError(t, err)
	key24[0] = 8 // NewSecret copied the key
	again, err := webhook.NewSecret(bytes.Repeat([]byte{7}, 24))
	require.NoError(t, err)
	assert.Equal(t, again.Text(), s.Text())
	_, err = webhook.NewSecret(key24[:23])
	require.ErrorIs(t, err, webhook.ErrInvalidSecret)
}

func TestSecretDoesNotPrint(t *testing.T) {
	s := mustSecret(t, vectorSecret)
	for _, out := range []string{s.String(), fmt.Sprint(s), fmt.Sprintf("%v %s", s, s), s.LogValue().String()} {
		assert.NotContains(t, out, "MfKQ9r8G")
		assert.Contains(t, out, "whsec_***")
	}
	assert.Equal(t, vectorSecret, s.Text())
}

func TestSignerRejects(t *testing.T) {
	_, err := webhook.NewSigner()
	require.ErrorIs(t, err, webhook.ErrNoSecrets)
	_, err = webhook.NewSigner(webhook.Secret{})
	require.ErrorIs(t, err, webhook.ErrInvalidSecret)

	s, err := webhook.NewSigner(newSecret(t))
	require.NoError(t, err)
	for _, id := range []string{"", "a.b", "has space", "tab\t", "é", strings.Repeat("x", webhook.MaxIDLength+1)} {
		_, err := s.Signature(id, time.Now(), nil)
		assert.ErrorIs(t, err, webhook.ErrInvalidMessageID, "id %q", id)
		assert.ErrorIs(t, s.SetHeaders(http.Header{}, id, time.Now(), nil), webhook.ErrInvalidMessageID, "id %q", id)
	}
	_, err = s.Signature(strings.Repeat("x", webhook.MaxIDLength), time.Now(), nil)
	assert.NoError(t, err)
}

func TestRotation(t *testing.T) {
	oldS, newS, other := newSecret(t), newSecret(t), newSecret(t)
	s, err := webhook.NewSigner(oldS, newS)
	require.NoError(t, err)
	now := time.Unix(1700000000, 0)
	body := []byte(`{"type":"message.sent"}`)
	h := http.Header{}
	require.NoError(t, s.SetHeaders(h, "msg_1", now, body))

	entries := strings.Fields(h.Get(webhook.HeaderSignature))
	require.Len(t, entries, 2, "one v1 entry per secret")
	for _, e := range entries {
		assert.True(t, strings.HasPrefix(e, "v1,"), e)
	}

	for name, secrets := range map[string][]webhook.Secret{
		"new only":  {newS},
		"old only":  {oldS},
		"other+new": {other, newS},
	} {
		assert.NoError(t, webhook.Verify(secrets, h, body, now), name)
	}
	assert.ErrorIs(t, webhook.Verify([]webhook.Secret{other}, h, body, now), webhook.ErrNoMatchingSignature)
}
