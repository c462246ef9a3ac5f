// Package suite guards the public conformance suites (storetest, queuetest,
// leasetest and browsertest): its test fails if one of them imports, even
// indirectly, anything but the standard library, wasend itself, and this
// package, which may hold helpers the suites share and so must import only
// the standard library too. A user's adapter that runs a suite then pulls
// in nothing else.
package suite
