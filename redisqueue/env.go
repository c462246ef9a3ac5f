package redisqueue

import (
	"github.com/wasend/wasend"
)

// WithEnv applies the Redis settings of e, which wasend.LoadEnv reads from
// REDIS_HOST, REDIS_PORT, REDIS_PASSWORD and REDIS_DB:
//
//	env, err := wasend.LoadEnv()
//	if err != nil { ... } // wraps wasend.ErrInvalidEnv
//	q, err := redisqueue.New(redisqueue.WithEnv(env))
//
// Settings that e leaves unset keep their value; a host without a port gets
// 6379 and a port without a host gets localhost (see wasend.Env.RedisAddr).
// Default: not applied.
func WithEnv(e wasend.Env) Option {
	return func(c *config) {
		if addr := e.RedisAddr(); addr != "" {
			c.addr = addr
			c.connSet = append(c.connSet, "WithEnv(REDIS_HOST, REDIS_PORT)")
		}
		if e.RedisPassword != "" {
			c.password = e.RedisPassword
			c.connSet = append(c.connSet, "WithEnv(REDIS_PASSWORD)")
		}
		if e.RedisDB >= 0 {
			c.db = e.RedisDB
			c.connSet = append(c.connSet, "WithEnv(REDIS_DB)")
		}
	}
}
