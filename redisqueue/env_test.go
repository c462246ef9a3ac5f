package redisqueue

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
)

func TestWithEnv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		env      map[string]string
		addr     string
		password string
		db       int
	}{
		{name: "none", addr: DefaultAddr},
		{name: "seed .env", env: map[string]string{"REDIS_HOST": "localhost", "REDIS_PORT": "6379", "REDIS_PASSWORD": "", "REDIS_DB": "0"}, addr: "localhost:6379"},
		{name: "all", env: map[string]string{"REDIS_HOST": "redis", "REDIS_PORT": "6380", "REDIS_PASSWORD": "s3cret ", "REDIS_DB": "2"}, addr: "redis:6380", password: "s3cret ", db: 2},
		{name: "host only", env: map[string]string{"REDIS_HOST": "cache"}, addr: "cache:6379"},
		{name: "port only", env: map[string]string{"REDIS_PORT": "7000"}, addr: "localhost:7000"},
		{name: "ipv6 host", env: map[string]string{"REDIS_HOST": "::1"}, addr: "[::1]:6379"},
		{name: "db only", env: map[string]string{"REDIS_DB": "5"}, addr: DefaultAddr, db: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, err := wasend.EnvFrom(func(k string) string { return tt.env[k] })
			require.NoError(t, err)
			q, err := New(WithEnv(env))
			require.NoError(t, err)
			defer q.Close()
			o := q.rdb.Options()
			assert.Equal(t, tt.addr, o.Addr)
			assert.Equal(t, tt.password, o.Password)
			assert.Equal(t, tt.db, o.DB)
			assert.Equal(t, tt.addr, q.v8opt.Addr, "the v8 clients use the same settings")
			assert.Equal(t, tt.password, q.v8opt.Password)
			assert.Equal(t, tt.db, q.v8opt.DB)
		})
	}
}

func TestWithEnvOrder(t *testing.T) {
	t.Parallel()
	env := wasend.Env{RedisHost: "envhost", RedisPort: 6390, RedisDB: 4}
	q, err := New(WithEnv(env), WithDB(1)) // the last one wins
	require.NoError(t, err)
	defer q.Close()
	assert.Equal(t, 1, q.rdb.Options().DB)
	assert.Equal(t, "envhost:6390", q.rdb.Options().Addr)

	q2, err := New(WithDB(1), WithEnv(env))
	require.NoError(t, err)
	defer q2.Close()
	assert.Equal(t, 4, q2.rdb.Options().DB)

	_, err = New(WithEnv(env), WithClient(q.rdb))
	assert.ErrorIs(t, err, wasend.ErrInvalidOption, "WithEnv settings and WithClient conflict")
	q3, err := New(WithEnv(wasend.Env{RedisDB: -1}), WithClient(q.rdb))
	require.NoError(t, err, "an empty Env sets nothing")
	require.NoError(t, q3.Close())
}
