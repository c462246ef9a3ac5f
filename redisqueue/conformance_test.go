package redisqueue

import (
	"testing"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/leasetest"
)

var _ wasend.Leaser = (*Queue)(nil)

func TestLeaserConformance(t *testing.T) {
	t.Parallel()
	t.Run("miniredis", func(t *testing.T) {
		t.Parallel()
		// One server for every subtest: miniredis's clock runs only when
		// FastForward moves it, and the suite's held leases outlast every
		// move.
		b := miniBackend(t)
		leasetest.Run(t, func(t *testing.T) wasend.Leaser { return newTestQueue(t, b) },
			leasetest.Options{Advance: b.advance, Parallel: true})
	})
	t.Run("redis", func(t *testing.T) {
		t.Parallel()
		b := realBackend(t)
		leasetest.Run(t, func(t *testing.T) wasend.Leaser { return newTestQueue(t, b) }, leasetest.Options{Parallel: true})
	})
}
