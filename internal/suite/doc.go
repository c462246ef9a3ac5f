// Package suite holds what the tests of the public conformance suites
// (storetest, queuetest, leasetest and browsertest) share: WantFail, which
// shows that a suite catches an implementation with a bug, and a test that
// fails if one of the suites imports, even indirectly, anything but the
// standard library, wasend itself, and this package, which must therefore
// import only the standard library too. A user's adapter that runs a suite
// then pulls in nothing else.
package suite
