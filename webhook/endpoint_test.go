package webhook_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend/webhook"
)

func TestEndpointURL(t *testing.T) {
	secrets := []webhook.Secret{newSecret(t)}
	tests := []struct {
		in, masked string
	}{
		{"https://example.com/hook", "https://example.com/hook"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"https://user:" + passMarker + "@example.com/a%20b?token=" + queryMarker + "#frag", "https://***@example.com/a%20b?***"},
		{"https://example.com/hook?", "https://example.com/hook?***"},
		{"https://" + passMarker + "@example.com/", "https://***@example.com/"},
		// A token in the path (Slack's, Discord's hooks) does not show.
		{"https://hooks.example.com/services/T0001/B0001/" + queryMarker, "https://hooks.example.com/services/***"},
		{"https://example.com/hook/", "https://example.com/hook/"},
	}
	for _, tt := range tests {
		ep, err := webhook.NewEndpoint(tt.in, secrets)
		require.NoError(t, err, tt.masked)
		assert.Equal(t, tt.masked, ep.String())
		assertClean(t, "String", ep.String())
	}
	ep, err := webhook.NewEndpoint("https://u:p@example.com/hook?a=1#frag", secrets)
	require.NoError(t, err)
	assert.Equal(t, "https://u:p@example.com/hook?a=1", ep.URL(), "URL is whole, the fragment aside")

	for _, bad := range []string{
		"", "example.com/hook", "ftp://example.com/", "https://", "https:///path",
		"http://exa mple.com/?token=" + queryMarker, "http://[::1/?token=" + queryMarker,
	} {
		_, err := webhook.NewEndpoint(bad, secrets)
		require.ErrorIs(t, err, webhook.ErrInvalidEndpoint, "%q", bad)
		assertClean(t, "error", err.Error())
	}
	_, err = webhook.NewEndpoint("https://example.com/", nil)
	require.ErrorIs(t, err, webhook.ErrNoSecrets)
	_, err = webhook.NewEndpoint("https://example.com/", []webhook.Secret{{}})
	require.ErrorIs(t, err, webhook.ErrInvalidSecret)
}

func TestEndpointAccepts(t *testing.T) {
	secrets := []webhook.Secret{newSecret(t)}
	tests := []struct {
		name     string
		patterns []string
		yes, no  []string
	}{
		{name: "no pattern: every type", yes: []string{"message.sent", "a", "campaign.done"}},
		{name: "star", patterns: []string{"*"}, yes: []string{"message.sent", "a"}},
		{name: "exact", patterns: []string{"message.sent"},
			yes: []string{"message.sent"}, no: []string{"message.sent.x", "message", "message.sen", "Message.sent"}},
		{name: "prefix", patterns: []string{"message.*"},
			yes: []string{"message.sent", "message.status.read"}, no: []string{"message", "messages.sent", "campaign.done"}},
		{name: "nested prefix", patterns: []string{"message.status.*"},
			yes: []string{"message.status.read"}, no: []string{"message.status", "message.sent"}},
		{name: "several", patterns: []string{"campaign.done", "message.*"},
			yes: []string{"campaign.done", "message.sent"}, no: []string{"campaign.started"}},
		{name: "star among others", patterns: []string{"campaign.done", "*"}, yes: []string{"anything"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ep, err := webhook.NewEndpoint("https://example.com/", secrets, webhook.WithEventTypes(tt.patterns...))
			require.NoError(t, err)
			for _, typ := range tt.yes {
				assert.True(t, ep.Accepts(typ), "%v accepts %q", tt.patterns, typ)
			}
			for _, typ := range tt.no {
				assert.False(t, ep.Accepts(typ), "%v refuses %q", tt.patterns, typ)
			}
		})
	}

	ep, err := webhook.NewEndpoint("https://example.com/", secrets,
		webhook.WithEventTypes("a.b"), webhook.WithEventTypes("c.*"))
	require.NoError(t, err)
	assert.False(t, ep.Accepts("a.b"), "the last option wins")
	assert.True(t, ep.Accepts("c.d"))

	for _, bad := range []string{"", ".*", "message.", "*.sent", "message.*.read", "message*", "mess age", "a..b"} {
		_, err := webhook.NewEndpoint("https://example.com/", secrets, webhook.WithEventTypes(bad))
		assert.ErrorIs(t, err, webhook.ErrInvalidEndpoint, "pattern %q", bad)
	}
}
