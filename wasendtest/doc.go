// Package wasendtest is the test kit for code that uses wasend: an
// in-memory Store, Queue and Leaser that follow the same contracts as the
// SQL store and the Redis queue (they run the same conformance suites), and
// Pool, a scriptable browser pool whose sessions record every message that
// "reached WhatsApp" and can be told to fail, hang, panic, click and then
// fail, or log out.
package wasendtest
