package wasend_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
)

func TestErrorClassification(t *testing.T) {
	tests := []struct {
		err       error
		kind      wasend.ErrorKind
		retryable bool
		session   wasend.ContextStatus
	}{
		{nil, wasend.ErrorKindNone, false, ""},
		{wasend.ErrNotOnWhatsApp, wasend.ErrorKindNotOnWhatsApp, false, ""},
		{fmt.Errorf("driver: %w", wasend.ErrInvalidPhone), wasend.ErrorKindInvalidPhone, false, ""},
		{wasend.ErrEmptyText, wasend.ErrorKindEmptyText, false, ""},
		{wasend.ErrTextTooLong, wasend.ErrorKindTextTooLong, false, ""},
		{wasend.ErrContextNotFound, wasend.ErrorKindContextNotFound, false, ""},
		{wasend.ErrContextClosed, wasend.ErrorKindContextClosed, false, ""},
		{wasend.ErrUnknownOutcome, wasend.ErrorKindUnknownOutcome, false, ""},
		{wasend.ErrTimeout, wasend.ErrorKindTimeout, true, ""},
		{context.DeadlineExceeded, wasend.ErrorKindTimeout, true, ""},
		{context.Canceled, wasend.ErrorKindCanceled, true, ""},
		{wasend.ErrLoggedOut, wasend.ErrorKindLoggedOut, true, wasend.ContextDisconnected},
		{wasend.ErrConflict, wasend.ErrorKindConflict, true, wasend.ContextDisconnected},
		{wasend.ErrDisconnected, wasend.ErrorKindDisconnected, true, wasend.ContextDisconnected},
		{wasend.ErrUnsupportedBrowser, wasend.ErrorKindUnsupportedBrowser, true, wasend.ContextError},
		{wasend.ErrSelectors, wasend.ErrorKindSelectors, true, wasend.ContextError},
		{wasend.ErrPhoneOffline, wasend.ErrorKindPhoneOffline, true, ""},
		{wasend.Unconfirmed(wasend.ErrTimeout), wasend.ErrorKindTimeout, true, ""},
		{wasend.Unconfirmed(wasend.ErrDisconnected), wasend.ErrorKindDisconnected, true, wasend.ContextDisconnected},
		{wasend.Unconfirmed(nil), wasend.ErrorKindUnconfirmed, true, ""},
		{&wasend.PanicError{Value: 1}, wasend.ErrorKindPanic, true, ""},
		{fmt.Errorf("%w: x", wasend.ErrStore), wasend.ErrorKindStore, true, ""},
		{errors.New("mystery"), wasend.ErrorKindOther, true, ""},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.err), func(t *testing.T) {
			assert.Equal(t, tt.kind, wasend.KindOf(tt.err))
			assert.Equal(t, tt.retryable, wasend.Retryable(tt.err))
			st, gone := wasend.SessionStatus(tt.err)
			assert.Equal(t, tt.session, st)
			assert.Equal(t, tt.session != "", gone)
		})
	}
}

func TestUnconfirmedWrapsItsCause(t *testing.T) {
	err := wasend.Unconfirmed(fmt.Errorf("no tick: %w", wasend.ErrTimeout))
	require.ErrorIs(t, err, wasend.ErrUnconfirmed)
	require.ErrorIs(t, err, wasend.ErrTimeout)
	var ue *wasend.UnconfirmedError
	require.ErrorAs(t, err, &ue)
	assert.Contains(t, err.Error(), "no tick")
}

func TestSentinelsArePrefixed(t *testing.T) {
	for _, err := range []error{wasend.ErrContextNotFound, wasend.ErrContextNotAvailable, wasend.ErrInvalidPhone,
		wasend.ErrEmptyText, wasend.ErrTextTooLong, wasend.ErrNotOnWhatsApp, wasend.ErrLoggedOut, wasend.ErrConflict,
		wasend.ErrTimeout, wasend.ErrJobNotFound, wasend.ErrJobFinished, wasend.ErrClosed, wasend.ErrRunning} {
		msg := err.Error()
		assert.True(t, strings.HasPrefix(msg, "wasend: "), msg)
		first := msg[len("wasend: "):][:1]
		assert.Equal(t, strings.ToLower(first), first, "starts lowercase: %s", msg)
	}
}

func TestEnvFrom(t *testing.T) {
	yes, no := true, false
	tests := []struct {
		name string
		env  map[string]string
		want wasend.Env
		err  string
	}{
		{"empty", nil, wasend.Env{RedisDB: -1}, ""},
		{"all", map[string]string{
			"REDIS_HOST": "redis.local", "REDIS_PORT": "6380", "REDIS_PASSWORD": "s3cret", "REDIS_DB": "2",
			"PUPPETEER_HEADLESS": "false", "PUPPETEER_WHATSAPP_URL": "http://127.0.0.1:8080",
			"PUPPETEER_DEFAULT_TIMEOUT": "30000", "PUPPETEER_NAVIGATION_TIMEOUT": "60000",
		}, wasend.Env{RedisHost: "redis.local", RedisPort: 6380, RedisPassword: "s3cret", RedisDB: 2, Headless: &no,
			WhatsAppURL: "http://127.0.0.1:8080", DefaultTimeout: 30 * time.Second, NavigationTimeout: time.Minute}, ""},
		{"headless new", map[string]string{"PUPPETEER_HEADLESS": "new"}, wasend.Env{RedisDB: -1, Headless: &yes}, ""},
		{"bad port", map[string]string{"REDIS_PORT": "http"}, wasend.Env{}, "REDIS_PORT"},
		{"port range", map[string]string{"REDIS_PORT": "70000"}, wasend.Env{}, "REDIS_PORT"},
		{"bad db", map[string]string{"REDIS_DB": "-1"}, wasend.Env{}, "REDIS_DB"},
		{"bad headless", map[string]string{"PUPPETEER_HEADLESS": "maybe"}, wasend.Env{}, "PUPPETEER_HEADLESS"},
		{"bad timeout", map[string]string{"PUPPETEER_DEFAULT_TIMEOUT": "30s"}, wasend.Env{}, "PUPPETEER_DEFAULT_TIMEOUT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := wasend.EnvFrom(func(k string) string { return tt.env[k] })
			if tt.err != "" {
				require.ErrorIs(t, err, wasend.ErrInvalidEnv)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestEnvRedisAddr(t *testing.T) {
	assert.Equal(t, "", wasend.Env{}.RedisAddr())
	assert.Equal(t, "localhost:6380", wasend.Env{RedisPort: 6380}.RedisAddr())
	assert.Equal(t, "redis:6379", wasend.Env{RedisHost: "redis"}.RedisAddr())
	assert.Equal(t, "[::1]:6379", wasend.Env{RedisHost: "::1"}.RedisAddr())
}

func TestNormalizePhone(t *testing.T) {
	tests := []struct{ in, want string }{
		{"+5491122334455", "+5491122334455"},
		{"+54 9 11 2233-4455", "+5491122334455"},
		{"0054 (11) 2233.4455", "+541122334455"},
		{"5491122334455", "+5491122334455"},
		{" +1 (415) 555-0100 ", "+14155550100"},
		{"+6834002", "+6834002"},
		{"+123456", ""},
		{"+1234567890123456", ""},
		{"+0123456789", ""},
		{"+54-11-abc", ""},
		{"++5491122334455", ""},
		{"", ""},
		{"+54 9 11 2233 4455 ext 2", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := wasend.NormalizePhone(tt.in)
			if tt.want == "" {
				require.ErrorIs(t, err, wasend.ErrInvalidPhone)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestMaskPhone(t *testing.T) {
	tests := []struct{ in, want string }{
		{"+5491122334455", "+*********4455"},
		{"5491122334455", "*********4455"},
		{"+54 9 11 2233-4455", "+*********4455"},
		{"+123", "+**3"},
		{"", ""},
		{"abc", ""},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, wasend.MaskPhone(tt.in), tt.in)
	}
}
