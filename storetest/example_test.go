package storetest_test

import (
	"testing"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/storetest"
	"github.com/wasend/wasend/wasendtest"
)

// A store's package runs the suite from a test; here wasendtest's in-memory
// Store stands in for the implementation under test. The suite needs the
// test's *testing.T, so the example compiles but does not run: its body is
// what goes in the test function.
func ExampleRun() {
	var t *testing.T // func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) wasend.Store {
		// A fresh, empty, migrated store for each subtest: a database of
		// its own, dropped in t.Cleanup.
		return wasendtest.NewStore()
	}, storetest.Options{Parallel: true}) // each subtest has a store of its own
}

// A store's package measures the store's share of a send from a benchmark.
func ExampleBench() {
	var b *testing.B // func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) wasend.Store {
		return wasendtest.NewStore()
	})
}
