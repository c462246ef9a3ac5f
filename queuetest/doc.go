// Package queuetest is the conformance suite of wasend.Queue: Run checks
// that an implementation keeps the contract documented on the interface.
//
// # Use
//
// A queue's package runs the suite from one of its tests:
//
//	func TestConformance(t *testing.T) {
//		queuetest.Run(t, func(t *testing.T) wasend.Queue {
//			q := newMyQueue(t) // a fresh, isolated queue; closed in t.Cleanup
//			return q
//		}, queuetest.Options{DeadLetter: true, Parallel: true})
//	}
//
// The public suites (storetest, queuetest, leasetest and browsertest)
// share that shape: the test, a function that builds one implementation
// for a subtest, and Options whose zero value means the defaults. Options says what the suite may expect of
// the queue (a dead letter, a number of handlers at once) and bounds its
// waits.
//
// # Isolation
//
// newQueue is called once per subtest and should return a queue that shares
// nothing with the others (a fresh namespace or server), so that the
// subtests can run in parallel (Options.Parallel). The suite picks random
// browser context ids, so a shared back end is tolerated too.
//
// # What it checks
//
// Delivery of the exact Delivery, delays, routing by browser context (also
// of a delivery enqueued before Consume started), redelivery after a handler
// error, the dead letter (if Options.DeadLetter), shutdown (Consume returns
// only after the handlers in flight returned, and their ctx is not
// canceled), a Consume on a done ctx, volume, at-least-once with concurrent
// workers, Depth (if the queue is a wasend.DepthReporter) and Stats.
//
// Waits for a delivery are bounded by Options timeouts that only limit a
// failure: a passing run waits for events, not for the clock. Only the
// delay check measures time, against Options.Delay and DelayTolerance.
//
// # Dependencies
//
// The package imports only the standard library and wasend, so that an
// implementation's tests pull in nothing else.
package queuetest
