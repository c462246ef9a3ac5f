package queuetest_test

import (
	"testing"
	"time"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/queuetest"
	"github.com/wasend/wasend/wasendtest"
)

// A queue's package runs the suite from a test; here wasendtest's in-memory
// Queue stands in for the implementation under test. The suite needs the
// test's *testing.T, so the example compiles but does not run: its body is
// what goes in the test function.
func ExampleRun() {
	var t *testing.T // func TestConformance(t *testing.T) {
	queuetest.Run(t, func(t *testing.T) wasend.Queue {
		// A fresh queue for each subtest, closed when it ends. Fast
		// retries keep the redelivery and dead-letter checks short.
		q := wasendtest.NewQueue(wasendtest.WithRetry(3, 10*time.Millisecond))
		t.Cleanup(func() { _ = q.Close() })
		return q
	}, queuetest.Options{
		DeadLetter:     true, // the queue gives up after 3 attempts
		MinConcurrency: 2,    // and runs 2 handlers at once per context
		Parallel:       true, // each subtest has a queue of its own
	})
}
