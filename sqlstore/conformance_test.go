package sqlstore_test

import (
	"testing"
	"time"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/sqlstore"
	"github.com/wasend/wasend/storetest"
)

var _ wasend.Store = (*sqlstore.Store)(nil)

func conformance(b backend, variant string, o storetest.Options, opts ...sqlstore.Option) func(t *testing.T) {
	return func(t *testing.T) {
		t.Parallel()
		storetest.Run(t, func(t *testing.T) wasend.Store { return newStore(t, b, variant, opts...) }, o)
	}
}

func TestConformance(t *testing.T) {
	for _, b := range backends {
		t.Run(string(b.dialect), conformance(b, "", storetest.Options{Parallel: true}))
	}
	// Group commit, off by default, on: every call whose transaction is
	// busy waits and shares the next.
	for _, b := range backends {
		t.Run(string(b.dialect)+"-group", conformance(b, "", storetest.Options{Parallel: true}, sqlstore.WithGroupCommit(1)))
	}
	// Connection settings the store must not depend on.
	t.Run("mysql-parsetime", conformance(backends[1], "parsetime", storetest.Options{Parallel: true}))
	t.Run("mysql-foundrows", conformance(backends[1], "foundrows", storetest.Options{Parallel: true}))
	t.Run("postgres-simple", conformance(backends[0], "simple", storetest.Options{Parallel: true}))
	// A store on a clock of its own, 30 days behind the wall clock: every
	// time it stamps comes from that clock, never from the database's.
	past := func() time.Time { return time.Now().Add(-30 * 24 * time.Hour) }
	t.Run("sqlite-clock", conformance(backends[2], "", storetest.Options{Now: past, Parallel: true}, sqlstore.WithClock(past)))
}

func BenchmarkStore(b *testing.B) {
	for _, be := range backends {
		b.Run(string(be.dialect), func(b *testing.B) {
			storetest.Bench(b, func(b *testing.B) wasend.Store { return newStore(b, be, "") })
		})
	}
}
