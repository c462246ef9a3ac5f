package wasendtest_test

import (
	"testing"
	"time"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/leasetest"
	"github.com/wasend/wasend/queuetest"
	"github.com/wasend/wasend/storetest"
	"github.com/wasend/wasend/wasendtest"
)

var (
	_ wasend.Store         = (*wasendtest.Store)(nil)
	_ wasend.Queue         = (*wasendtest.Queue)(nil)
	_ wasend.DepthReporter = (*wasendtest.Queue)(nil)
	_ wasend.Leaser        = (*wasendtest.Leaser)(nil)
)

func TestStoreConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) wasend.Store { return wasendtest.NewStore() }, storetest.Options{Parallel: true})
}

func TestQueueConformance(t *testing.T) {
	queuetest.Run(t, func(t *testing.T) wasend.Queue {
		q := wasendtest.NewQueue(wasendtest.WithRetry(3, 10*time.Millisecond))
		t.Cleanup(func() { _ = q.Close() })
		return q
	}, queuetest.Options{Delay: 200 * time.Millisecond, DeadLetter: true,
		DeadLetterTimeout: 5 * time.Second, MinConcurrency: 2, Parallel: true})
}

func TestLeaserConformance(t *testing.T) {
	leasetest.Run(t, func(t *testing.T) wasend.Leaser { return wasendtest.NewLeaser() }, leasetest.Options{Parallel: true})
}
