package redisqueue

import (
	"context"
	"crypto/tls"
	"log/slog"
	"math"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
)

func TestNewValidation(t *testing.T) {
	t.Parallel()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer rdb.Close()
	tests := []struct {
		name string
		opts []Option
		ok   bool
	}{
		{"defaults", nil, true},
		{"nil option ignored", []Option{nil}, true},
		{"all set", []Option{
			WithAddr("redis.local:6380"), WithUsername("u"), WithPassword("p"), WithDB(3),
			WithTLS(&tls.Config{ServerName: "redis.local"}), WithPrefix("app.v1:q_x-y"),
			WithWorkers(8), WithHandlerTimeout(time.Minute), WithReservationTimeout(2 * time.Hour),
			WithRetry(10, time.Second, time.Hour), WithSchedulerInterval(time.Second),
			WithLogger(slog.Default()), WithLogger(nil),
		}, true},
		{"client", []Option{WithClient(rdb)}, true},
		{"nil client", []Option{WithClient(nil)}, false},
		{"client and addr", []Option{WithClient(rdb), WithAddr("x:1")}, false},
		{"client and db", []Option{WithDB(2), WithClient(rdb)}, false},
		{"addr without port", []Option{WithAddr("localhost")}, false},
		{"empty addr", []Option{WithAddr("")}, false},
		{"negative db", []Option{WithDB(-1)}, false},
		{"empty prefix", []Option{WithPrefix("")}, false},
		{"braces in prefix", []Option{WithPrefix("a{b}")}, false},
		{"space in prefix", []Option{WithPrefix("a b")}, false},
		{"long prefix", []Option{WithPrefix(string(make([]byte, 101)))}, false},
		{"zero workers", []Option{WithWorkers(0)}, false},
		{"too many workers", []Option{WithWorkers(1001)}, false},
		{"zero handler timeout", []Option{WithHandlerTimeout(0)}, false},
		{"reservation below handler timeout", []Option{WithHandlerTimeout(time.Hour), WithReservationTimeout(time.Hour)}, false},
		{"reservation just above", []Option{WithHandlerTimeout(time.Minute), WithReservationTimeout(time.Minute + 1001*time.Millisecond)}, true},
		{"zero retry limit", []Option{WithRetry(0, time.Second, time.Second)}, false},
		{"zero min backoff", []Option{WithRetry(1, 0, time.Second)}, false},
		{"max below min backoff", []Option{WithRetry(1, time.Minute, time.Second)}, false},
		{"small scheduler interval", []Option{WithSchedulerInterval(time.Millisecond)}, false},
		{"last wins", []Option{WithWorkers(0), WithWorkers(3)}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := New(tt.opts...)
			if tt.ok {
				require.NoError(t, err)
				require.NoError(t, q.Close())
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, wasend.ErrInvalidOption)
			assert.Nil(t, q)
		})
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	q, err := New()
	require.NoError(t, err)
	defer q.Close()
	c := q.cfg
	assert.Equal(t, "127.0.0.1:6379", q.rdb.Options().Addr)
	assert.Equal(t, DefaultPrefix, c.prefix)
	assert.Equal(t, DefaultWorkers, c.workers)
	assert.Equal(t, DefaultHandlerTimeout, c.handlerTimeout)
	assert.Equal(t, DefaultReservationTimeout, c.reservationTimeout)
	assert.Equal(t, DefaultRetryLimit, c.retryLimit)
	assert.Equal(t, DefaultMinBackoff, c.minBackoff)
	assert.Equal(t, DefaultMaxBackoff, c.maxBackoff)
	assert.Equal(t, DefaultSchedulerInterval, c.schedulerInterval)
	assert.Equal(t, "wasend-ctx-42", q.queueName(42))
	assert.True(t, q.ownClient)
}

func TestOwnClientSettings(t *testing.T) {
	t.Parallel()
	tc := &tls.Config{ServerName: "r"}
	q, err := New(WithAddr("r:1"), WithUsername("u"), WithPassword("p"), WithDB(4), WithTLS(tc))
	require.NoError(t, err)
	defer q.Close()
	o := q.rdb.Options()
	assert.Equal(t, "r:1", o.Addr)
	assert.Equal(t, "u", o.Username)
	assert.Equal(t, "p", o.Password)
	assert.Equal(t, 4, o.DB)
	assert.Same(t, tc, o.TLSConfig)
	assert.Equal(t, "r:1", q.v8opt.Addr)
	assert.Equal(t, "u", q.v8opt.Username)
	assert.Equal(t, "p", q.v8opt.Password)
	assert.Equal(t, 4, q.v8opt.DB)
	assert.Same(t, tc, q.v8opt.TLSConfig)
	assert.Equal(t, DefaultWorkers+6, q.v8opt.PoolSize)
}

func TestV8OptionsFromV9Client(t *testing.T) {
	t.Parallel()
	tc := &tls.Config{ServerName: "redis.example"}
	rdb := redis.NewClient(&redis.Options{
		Network:      "tcp",
		Addr:         "redis.example:6390",
		Username:     "static",
		Password:     "static-pw",
		DB:           5,
		TLSConfig:    tc,
		DialTimeout:  7 * time.Second,
		ReadTimeout:  -2,
		WriteTimeout: 4 * time.Second,
		MaxRetries:   -1,
		PoolTimeout:  9 * time.Second,
		CredentialsProvider: func() (string, string) {
			return "dyn", "dyn-pw"
		},
	})
	defer rdb.Close()
	q, err := New(WithClient(rdb), WithWorkers(3))
	require.NoError(t, err)
	defer q.Close()
	assert.False(t, q.ownClient)

	o := q.v8opt
	assert.Equal(t, "tcp", o.Network)
	assert.Equal(t, "redis.example:6390", o.Addr)
	assert.Equal(t, "dyn", o.Username, "the credentials provider wins")
	assert.Equal(t, "dyn-pw", o.Password)
	assert.Equal(t, 5, o.DB)
	assert.Same(t, tc, o.TLSConfig)
	assert.Equal(t, 7*time.Second, o.DialTimeout)
	assert.Equal(t, time.Duration(-1), o.ReadTimeout)
	assert.Equal(t, 4*time.Second, o.WriteTimeout)
	assert.Equal(t, -1, o.MaxRetries)
	assert.Equal(t, 9*time.Second, o.PoolTimeout)
	assert.Equal(t, 9, o.PoolSize)
	assert.NotNil(t, o.Dialer, "v9's dialer (which does the TLS handshake) is reused")
}

func TestV8ClientReachesSameServer(t *testing.T) {
	t.Parallel()
	b := miniBackend(t)
	rdb := redis.NewClient(&redis.Options{Addr: b.addr, DB: 3})
	defer rdb.Close()
	q, err := New(WithClient(rdb))
	require.NoError(t, err)
	defer q.Close()
	ctx := context.Background()
	g := newGuardedClient(q.v8opt, 1, slog.Default())
	defer g.Close()
	require.NoError(t, g.Set(ctx, "k", "v8", 0).Err())
	got, err := rdb.Get(ctx, "k").Result()
	require.NoError(t, err)
	assert.Equal(t, "v8", got, "same server, same DB")
}

func TestPayloadRoundTrip(t *testing.T) {
	t.Parallel()
	for _, d := range []wasend.Delivery{
		{},
		{JobID: 1, ContextID: 2, Kind: wasend.KindSingle},
		{JobID: math.MaxInt64, ContextID: math.MinInt64, Kind: wasend.KindBulk},
		{JobID: -5, ContextID: 0, Kind: "x\x00y"},
	} {
		got, err := decodeDelivery(encodeDelivery(d))
		require.NoError(t, err)
		assert.Equal(t, d, got)
	}
	assert.LessOrEqual(t, len(encodeDelivery(wasend.Delivery{JobID: 123456, ContextID: 42, Kind: wasend.KindSingle})), 16)
	for _, bad := range [][]byte{nil, {}, {2, 2, 2}, {payloadV1}, {payloadV1, 2}, {payloadV1, 0x80}} {
		_, err := decodeDelivery(bad)
		assert.ErrorIs(t, err, errPayload, "%v", bad)
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	minD, maxD := time.Second, time.Minute
	for n := 1; n <= 200; n++ {
		d := backoff(minD, maxD, n)
		want := minD << min(n-1, 6)
		want = min(want, maxD)
		assert.GreaterOrEqual(t, d, minD, "n=%d", n)
		assert.LessOrEqual(t, d, want, "n=%d", n)
		assert.GreaterOrEqual(t, d, max(want*3/4, minD), "n=%d", n)
	}
	assert.GreaterOrEqual(t, backoff(time.Hour, math.MaxInt64, 100), time.Duration(math.MaxInt64)/4*3, "no overflow")
}
