package leasetest_test

import (
	"testing"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/leasetest"
	"github.com/wasend/wasend/wasendtest"
)

// A leaser's package runs the suite from a test; here wasendtest's
// in-memory Leaser stands in for the implementation under test. The suite
// needs the test's *testing.T, so the example compiles but does not run:
// its body is what goes in the test function.
func ExampleRun() {
	var t *testing.T // func TestConformance(t *testing.T) {
	leasetest.Run(t, func(t *testing.T) wasend.Leaser {
		// A new leaser for each subtest; one on Redis would be closed in
		// t.Cleanup.
		return wasendtest.NewLeaser()
	}, leasetest.Options{Parallel: true})
}
