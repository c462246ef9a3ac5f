package sqlstore_test

import (
	"testing"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/sqlstore"
	"github.com/wasend/wasend/storetest"
)

var _ wasend.Store = (*sqlstore.Store)(nil)

func conformance(b backend, variant string) func(t *testing.T) {
	return func(t *testing.T) {
		t.Parallel()
		storetest.Run(t, func(t *testing.T) wasend.Store { return newStore(t, b, variant) })
	}
}

func TestConformance(t *testing.T) {
	for _, b := range backends {
		t.Run(string(b.dialect), conformance(b, ""))
	}
	// Connection settings the store must not depend on.
	t.Run("mysql-parsetime", conformance(backends[1], "parsetime"))
	t.Run("mysql-foundrows", conformance(backends[1], "foundrows"))
	t.Run("postgres-simple", conformance(backends[0], "simple"))
}

func BenchmarkStore(b *testing.B) {
	for _, be := range backends {
		b.Run(string(be.dialect), func(b *testing.B) {
			storetest.Bench(b, func(b *testing.B) wasend.Store { return newStore(b, be, "") })
		})
	}
}
