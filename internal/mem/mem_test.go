package mem_test

import (
	"testing"
	"time"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/internal/mem"
	"github.com/wasend/wasend/internal/queuetest"
	"github.com/wasend/wasend/internal/storetest"
)

var (
	_ wasend.Store         = (*mem.Store)(nil)
	_ wasend.Queue         = (*mem.Queue)(nil)
	_ wasend.DepthReporter = (*mem.Queue)(nil)
)

func TestStoreConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) wasend.Store { return mem.NewStore() })
}

func TestQueueConformance(t *testing.T) {
	queuetest.Run(t, func(t *testing.T) wasend.Queue {
		q := mem.NewQueue(mem.WithRetry(3, 10*time.Millisecond))
		t.Cleanup(func() { _ = q.Close() })
		return q
	}, queuetest.Options{Delay: 200 * time.Millisecond, DelayTolerance: time.Second, DeadLetter: true,
		DeadLetterTimeout: 5 * time.Second, MinConcurrency: 2, Parallel: true})
}
