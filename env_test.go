package wasend_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
)

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
