package webhook_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend/webhook"
)

func TestVerify(t *testing.T) {
	secret := mustSecret(t, vectorSecret)
	body := []byte(vectorBody)
	sent := time.Unix(vectorTimestamp, 0)
	valid := func() http.Header {
		return http.Header{
			"Webhook-Id":        {vectorID},
			"Webhook-Timestamp": {strconv.Itoa(vectorTimestamp)},
			"Webhook-Signature": {vectorSignature},
		}
	}
	tests := []struct {
		name   string
		edit   func(http.Header)
		body   string
		now    time.Time
		secret *webhook.Secret
		want   error // nil: accepted
	}{
		{name: "valid", now: sent},
		{name: "lowercase header names", edit: func(h http.Header) {
			for k, v := range h {
				delete(h, k)
				h[map[string]string{"Webhook-Id": "webhook-id", "Webhook-Timestamp": "webhook-timestamp",
					"Webhook-Signature": "webhook-signature"}[k]] = v
			}
		}, now: sent}, // a header built by hand, not by net/http
		{name: "at the tolerance, late", now: sent.Add(webhook.DefaultTolerance)},
		{name: "at the tolerance, early", now: sent.Add(-webhook.DefaultTolerance)},
		{name: "too old", now: sent.Add(webhook.DefaultTolerance + time.Second), want: webhook.ErrTimestampTooOld},
		{name: "too new", now: sent.Add(-webhook.DefaultTolerance - time.Second), want: webhook.ErrTimestampTooNew},
		{name: "huge timestamp", edit: func(h http.Header) { h.Set("webhook-timestamp", "9223372036854775807") },
			now: sent, want: webhook.ErrTimestampTooNew},
		{name: "missing id", edit: func(h http.Header) { h.Del("webhook-id") }, now: sent, want: webhook.ErrMissingHeader},
		{name: "missing timestamp", edit: func(h http.Header) { h.Del("webhook-timestamp") }, now: sent, want: webhook.ErrMissingHeader},
		{name: "missing signature", edit: func(h http.Header) { h.Del("webhook-signature") }, now: sent, want: webhook.ErrMissingHeader},
		{name: "timestamp not a number", edit: func(h http.Header) { h.Set("webhook-timestamp", "2021-02-25") },
			now: sent, want: webhook.ErrInvalidTimestamp},
		{name: "timestamp with a fraction", edit: func(h http.Header) { h.Set("webhook-timestamp", "1614265330.5") },
			now: sent, want: webhook.ErrInvalidTimestamp},
		{name: "timestamp changed", edit: func(h http.Header) { h.Set("webhook-timestamp", "1614265331") },
			now: sent, want: webhook.ErrNoMatchingSignature},
		{name: "id changed", edit: func(h http.Header) { h.Set("webhook-id", "msg_other") },
			now: sent, want: webhook.ErrNoMatchingSignature},
		{name: "body changed", body: `{"test":2432232314}`, now: sent, want: webhook.ErrNoMatchingSignature},
		{name: "wrong secret", secret: new(newSecret(t)), now: sent, want: webhook.ErrNoMatchingSignature},
		{name: "several entries, one valid", edit: func(h http.Header) {
			h.Set("webhook-signature", "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v1a,AAAA v2,"+
				vectorSignature[3:]+" junk v1,!!! "+vectorSignature+" v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=")
		}, now: sent},
		{name: "right signature under another version", edit: func(h http.Header) {
			h.Set("webhook-signature", "v1a,"+vectorSignature[3:])
		}, now: sent, want: webhook.ErrNoMatchingSignature},
		{name: "truncated signature", edit: func(h http.Header) { h.Set("webhook-signature", vectorSignature[:20]) },
			now: sent, want: webhook.ErrNoMatchingSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := valid()
			if tt.edit != nil {
				tt.edit(h)
			}
			b := body
			if tt.body != "" {
				b = []byte(tt.body)
			}
			sec := secret
			if tt.secret != nil {
				sec = *tt.secret
			}
			err := webhook.Verify([]webhook.Secret{sec}, h, b, tt.now)
			if tt.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.want)
		})
	}
}

func TestVerifierTolerance(t *testing.T) {
	secret := newSecret(t)
	s, err := webhook.NewSigner(secret)
	require.NoError(t, err)
	sent := time.Unix(1700000000, 0)
	h := http.Header{}
	require.NoError(t, s.SetHeaders(h, "msg_1", sent, nil))

	v, err := webhook.NewVerifier([]webhook.Secret{secret}, webhook.WithTolerance(time.Hour), webhook.WithTolerance(10*time.Second))
	require.NoError(t, err)
	assert.NoError(t, v.Verify(h, nil, sent.Add(10*time.Second)))
	assert.ErrorIs(t, v.Verify(h, nil, sent.Add(11*time.Second)), webhook.ErrTimestampTooOld, "the last option wins")

	for _, d := range []time.Duration{0, -time.Second, time.Millisecond} {
		_, err = webhook.NewVerifier([]webhook.Secret{secret}, webhook.WithTolerance(d))
		assert.ErrorIs(t, err, webhook.ErrInvalidOption, "tolerance %s", d)
	}
	_, err = webhook.NewVerifier(nil)
	assert.ErrorIs(t, err, webhook.ErrNoSecrets)
	assert.ErrorIs(t, webhook.Verify(nil, h, nil, sent), webhook.ErrNoSecrets)
}
