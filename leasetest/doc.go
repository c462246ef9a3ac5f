// Package leasetest is the conformance suite of wasend.Leaser: Run checks
// that an implementation keeps the contract documented on the interface,
// as every slog.Handler can run testing/slogtest.
//
// # Use
//
// A leaser's package runs the suite from one of its tests:
//
//	func TestConformance(t *testing.T) {
//		leasetest.Run(t, func(t *testing.T) wasend.Leaser {
//			return newMyLeaser(t) // closed in t.Cleanup
//		}, leasetest.Options{Parallel: true})
//	}
//
// The public suites (storetest, queuetest, leasetest and browsertest)
// share that shape: the test, a function that builds one implementation
// for a subtest, and Options whose zero value means the defaults.
//
// # Isolation
//
// newLeaser is called once per subtest. The suite picks random browser
// context ids, so the leasers may share a back end (one Redis), also when
// the subtests run in parallel (Options.Parallel).
//
// # What it checks
//
//   - Acquire takes a free lease, and Holders then reports its owner, byte
//     for byte.
//   - While a lease is held, another owner's Acquire reports false (also an
//     owner whose name starts with the holder's), does not take it, and does
//     not extend it.
//   - The holder's Acquire renews the lease: it reports true, and the lease
//     then lives for the new ttl, past the end of the first one.
//   - A lease that is not renewed expires after its ttl: Holders no longer
//     reports it, another owner can take it, and the former owner can then
//     neither renew nor release it. Nobody having taken it, the former owner
//     takes it back.
//   - Release frees the holder's lease at once; another owner's Release, or
//     a Release of a free lease, does nothing and returns nil, also twice.
//   - The leases of different contexts are independent, and one owner may
//     hold several.
//   - Holders reports exactly the held leases among the ids asked for, for
//     1,200 ids at once, none, or a repeated one.
//   - Owners racing for a free lease from Options.Concurrency goroutines:
//     exactly one wins. Owners taking, renewing and releasing one lease in
//     turn, concurrently: never two hold it at once.
//
// # Time
//
// The suite holds leases for 10 minutes and lets leases of Options.TTL
// (200 ms by default) expire. It waits for an expiry by polling Holders,
// and gives up only after Options.ExpiryTimeout, so a slow machine makes a
// run slower, not red. The leaser's clock must run: the wall clock, or one
// the test moves through Options.Advance (miniredis's FastForward). No
// clock is injected, since implementations need not accept one.
//
// # Not checked
//
// What a leaser does with an empty owner or a ttl under a millisecond
// (redisqueue rejects them), and whether it honours a done ctx, are not
// part of the wasend.Leaser contract, so the suite leaves them alone.
//
// # Dependencies
//
// The package imports only the standard library and wasend, so that an
// implementation's tests pull in nothing else.
package leasetest
