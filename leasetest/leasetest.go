package leasetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wasend/wasend"
)

// Options says what the suite may expect of the leasers that newLeaser
// returns. The zero value is valid: each field has a default.
type Options struct {
	// TTL is the time to live of the leases that the suite lets expire. The
	// leaser must accept it. Default: DefaultTTL (200 ms).
	TTL time.Duration
	// ExpiryTimeout bounds the wait for a lease of TTL to expire. It only
	// limits a failure: the suite polls, and goes on as soon as the lease
	// is free. Default: DefaultExpiryTimeout (10 s).
	ExpiryTimeout time.Duration
	// RaceTimeout bounds each race check, in which owners contend for one
	// lease. It only limits a failure. Default: DefaultRaceTimeout (1 min).
	RaceTimeout time.Duration
	// Advance makes d pass on the leaser's clock, for a leaser whose clock
	// does not run by itself (miniredis's: pass its FastForward). Whenever
	// it lets time pass for a lease to expire, the suite calls Advance
	// instead of sleeping. Default: nil (the suite sleeps: the leaser runs
	// on the wall clock).
	Advance func(d time.Duration)
	// Concurrency is the number of goroutines, each with an owner of its
	// own, of the race checks; less than 2 means the default. Default:
	// DefaultConcurrency (8).
	Concurrency int
	// Parallel runs the subtests in parallel (t.Parallel). Default: false
	// (one after another).
	Parallel bool
}

// The defaults of Options.
const (
	DefaultTTL           = 200 * time.Millisecond
	DefaultExpiryTimeout = 10 * time.Second
	DefaultRaceTimeout   = time.Minute
	DefaultConcurrency   = 8
)

func (o *Options) defaults() {
	if o.TTL <= 0 {
		o.TTL = DefaultTTL
	}
	if o.ExpiryTimeout <= 0 {
		o.ExpiryTimeout = DefaultExpiryTimeout
	}
	if o.RaceTimeout <= 0 {
		o.RaceTimeout = DefaultRaceTimeout
	}
	if o.Concurrency <= 1 {
		o.Concurrency = DefaultConcurrency
	}
}

// long is the time to live of the leases that the suite holds: longer than
// any subtest, so that they expire only if the leaser is wrong.
const long = 10 * time.Minute

// Run runs the suite. newLeaser returns a leaser for one subtest and is
// responsible for closing it (with t.Cleanup).
func Run(t *testing.T, newLeaser func(t *testing.T) wasend.Leaser, opts Options) {
	t.Helper()
	opts.defaults()
	s := &suite{newLeaser: newLeaser, opts: opts}
	tests := []struct {
		name string
		fn   func(t *testing.T, l wasend.Leaser)
	}{
		{"AcquireFree", s.testAcquireFree},
		{"AcquireHeld", s.testAcquireHeld},
		{"Renew", s.testRenew},
		{"RenewExtends", s.testRenewExtends},
		{"RefusalDoesNotExtend", s.testRefusalDoesNotExtend},
		{"Expiry", s.testExpiry},
		{"ExpiredOwnerTakesBack", s.testExpiredOwnerTakesBack},
		{"Release", s.testRelease},
		{"ReleaseByOther", s.testReleaseByOther},
		{"ReleaseFree", s.testReleaseFree},
		{"Independent", s.testIndependent},
		{"Holders", s.testHolders},
		{"RaceAcquire", s.testRaceAcquire},
		{"RaceExclusion", s.testRaceExclusion},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if opts.Parallel {
				t.Parallel()
			}
			tc.fn(t, newLeaser(t))
		})
	}
}

type suite struct {
	newLeaser func(t *testing.T) wasend.Leaser
	opts      Options
}

// contextIDs returns n random browser context ids, distinct from those of
// other subtests with near certainty.
func contextIDs(n int) []int64 {
	base := rand.Int64N(1<<40) + 1<<20
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = base + int64(i)
	}
	return ids
}

func contextID() int64 { return contextIDs(1)[0] }

// pass lets d pass on the leaser's clock.
func (s *suite) pass(d time.Duration) {
	if s.opts.Advance != nil {
		s.opts.Advance(d)
		return
	}
	time.Sleep(d)
}

func acquire(t *testing.T, l wasend.Leaser, id int64, owner string, ttl time.Duration) bool {
	t.Helper()
	ok, err := l.Acquire(context.Background(), id, owner, ttl)
	if err != nil {
		t.Fatalf("Acquire(%d, %q, %s) = %v, want no error", id, owner, ttl, err)
	}
	return ok
}

// wantAcquire fails unless Acquire reports want.
func wantAcquire(t *testing.T, l wasend.Leaser, id int64, owner string, ttl time.Duration, want bool, why string) {
	t.Helper()
	if got := acquire(t, l, id, owner, ttl); got != want {
		t.Fatalf("Acquire(%d, %q, %s) = %v, want %v (%s)", id, owner, ttl, got, want, why)
	}
}

func release(t *testing.T, l wasend.Leaser, id int64, owner string) {
	t.Helper()
	if err := l.Release(context.Background(), id, owner); err != nil {
		t.Fatalf("Release(%d, %q) = %v, want nil", id, owner, err)
	}
}

func holders(t *testing.T, l wasend.Leaser, ids ...int64) map[int64]string {
	t.Helper()
	h, err := l.Holders(context.Background(), ids)
	if err != nil {
		t.Fatalf("Holders(%d ids) = %v, want no error", len(ids), err)
	}
	return h
}

// wantHolder fails unless owner holds the lease of id ("" for a free one).
func wantHolder(t *testing.T, l wasend.Leaser, id int64, owner, why string) {
	t.Helper()
	h := holders(t, l, id)
	got, held := h[id]
	switch {
	case owner == "" && held:
		t.Fatalf("Holders(%d) = %q, want it free (%s)", id, got, why)
	case owner != "" && got != owner:
		t.Fatalf("Holders(%d) = %q (held: %v), want %q (%s)", id, got, held, owner, why)
	}
	for k, v := range h {
		if k != id {
			t.Fatalf("Holders(%d) has %d: %q too, want only the ids asked for", id, k, v)
		}
	}
}

// waitFree waits until the lease of id is free, letting time pass on the
// leaser's clock, and fails after ExpiryTimeout.
func (s *suite) waitFree(t *testing.T, l wasend.Leaser, id int64, why string) {
	t.Helper()
	step := max(s.opts.TTL/4, time.Millisecond)
	var waited time.Duration
	for {
		h := holders(t, l, id)
		owner, held := h[id]
		if !held {
			return
		}
		if waited >= s.opts.ExpiryTimeout {
			t.Fatalf("the lease of %d is still held by %q after %s, want it free (%s)", id, owner, waited, why)
		}
		s.pass(step)
		waited += step
	}
}

func (s *suite) testAcquireFree(t *testing.T, l wasend.Leaser) {
	id := contextID()
	wantHolder(t, l, id, "", "never acquired")
	// An owner as a host might build it, with characters a key or a query
	// could mangle.
	owner := "host-1.example:4242/wörker 7 {x} *"
	wantAcquire(t, l, id, owner, long, true, "the lease is free")
	wantHolder(t, l, id, owner, "just acquired")
}

func (s *suite) testAcquireHeld(t *testing.T, l wasend.Leaser) {
	id := contextID()
	wantAcquire(t, l, id, "a", long, true, "the lease is free")
	for i := range 3 {
		wantAcquire(t, l, id, "b", long, false, fmt.Sprintf("a holds it (try %d)", i+1))
		wantHolder(t, l, id, "a", "b was refused")
	}
	// An owner is a whole string, not a prefix.
	wantAcquire(t, l, id, "a2", long, false, `"a" holds it, not "a2"`)
	wantHolder(t, l, id, "a", "others were refused")
}

func (s *suite) testRenew(t *testing.T, l wasend.Leaser) {
	id := contextID()
	wantAcquire(t, l, id, "a", long, true, "the lease is free")
	for i := range 3 {
		wantAcquire(t, l, id, "a", long, true, fmt.Sprintf("a renews its own lease (renewal %d)", i+1))
		wantHolder(t, l, id, "a", "after a renewal")
	}
}

func (s *suite) testRenewExtends(t *testing.T, l wasend.Leaser) {
	id := contextID()
	wantAcquire(t, l, id, "a", s.opts.TTL, true, "the lease is free")
	wantAcquire(t, l, id, "a", long, true, "a renews its own lease")
	// Three first TTLs later the lease would have expired without the
	// renewal, which set it to long.
	s.pass(3 * s.opts.TTL)
	wantHolder(t, l, id, "a", fmt.Sprintf("renewed for %s, %s after it was taken for %s", long, 3*s.opts.TTL, s.opts.TTL))
	wantAcquire(t, l, id, "b", long, false, "a renewed its lease")
}

func (s *suite) testRefusalDoesNotExtend(t *testing.T, l wasend.Leaser) {
	// b must try while a's short lease is still held: on a slow machine, or
	// with a clock that another subtest moves, it may have expired already,
	// and then b rightly gets it. Such a try proves nothing, and the check
	// starts again on another context.
	const tries = 5
	for try := 1; ; try++ {
		id := contextID()
		wantAcquire(t, l, id, "a", s.opts.TTL, true, "the lease is free")
		if acquire(t, l, id, "b", long) {
			if try == tries {
				t.Fatalf("b took a's lease of %s at once, %d times out of %d, want it refused while a holds it", s.opts.TTL, tries, tries)
			}
			t.Logf("try %d: b took a's lease of %s: it expired first, or the leaser gives held leases away", try, s.opts.TTL)
			continue
		}
		s.waitFree(t, l, id, fmt.Sprintf("a took it for %s; b's refused Acquire for %s must not extend it", s.opts.TTL, long))
		wantAcquire(t, l, id, "b", long, true, "a's lease expired")
		return
	}
}

func (s *suite) testExpiry(t *testing.T, l wasend.Leaser) {
	id := contextID()
	wantAcquire(t, l, id, "a", s.opts.TTL, true, "the lease is free")
	s.waitFree(t, l, id, fmt.Sprintf("taken for %s and not renewed", s.opts.TTL))
	wantAcquire(t, l, id, "b", long, true, "a's lease expired")
	wantHolder(t, l, id, "b", "b took the expired lease")
	// The former owner has lost it: it can neither renew nor release it.
	wantAcquire(t, l, id, "a", long, false, "b took a's expired lease")
	release(t, l, id, "a")
	wantHolder(t, l, id, "b", "a released a lease it had lost to b")
}

func (s *suite) testExpiredOwnerTakesBack(t *testing.T, l wasend.Leaser) {
	id := contextID()
	wantAcquire(t, l, id, "a", s.opts.TTL, true, "the lease is free")
	s.waitFree(t, l, id, fmt.Sprintf("taken for %s and not renewed", s.opts.TTL))
	wantAcquire(t, l, id, "a", long, true, "a's lease expired and nobody took it")
	wantHolder(t, l, id, "a", "a took its expired lease back")
}

func (s *suite) testRelease(t *testing.T, l wasend.Leaser) {
	id := contextID()
	wantAcquire(t, l, id, "a", long, true, "the lease is free")
	release(t, l, id, "a")
	wantHolder(t, l, id, "", "a released it")
	wantAcquire(t, l, id, "b", long, true, "a released it")
	wantHolder(t, l, id, "b", "b took the released lease")
	wantAcquire(t, l, id, "a", long, false, "b holds it")
}

func (s *suite) testReleaseByOther(t *testing.T, l wasend.Leaser) {
	id := contextID()
	wantAcquire(t, l, id, "a", long, true, "the lease is free")
	for _, other := range []string{"b", "a2"} {
		release(t, l, id, other)
		wantHolder(t, l, id, "a", fmt.Sprintf("%q released a's lease", other))
	}
	wantAcquire(t, l, id, "b", long, false, "a holds it after b's Release")
}

func (s *suite) testReleaseFree(t *testing.T, l wasend.Leaser) {
	id := contextID()
	release(t, l, id, "a") // never held
	wantHolder(t, l, id, "", "never acquired")
	wantAcquire(t, l, id, "a", long, true, "the lease is free")
	release(t, l, id, "a")
	release(t, l, id, "a") // twice
	wantHolder(t, l, id, "", "released twice")
	wantAcquire(t, l, id, "b", long, true, "the lease is free after two Releases")
}

func (s *suite) testIndependent(t *testing.T, l wasend.Leaser) {
	ids := contextIDs(3)
	wantAcquire(t, l, ids[0], "a", long, true, "the lease is free")
	wantAcquire(t, l, ids[1], "b", long, true, "another context's lease is held, not this one")
	wantAcquire(t, l, ids[2], "a", long, true, "an owner may hold several contexts")
	release(t, l, ids[0], "a")
	wantHolder(t, l, ids[0], "", "a released it")
	wantHolder(t, l, ids[1], "b", "a released another context")
	wantHolder(t, l, ids[2], "a", "a released another context")
}

func (s *suite) testHolders(t *testing.T, l wasend.Leaser) {
	if h := holders(t, l); len(h) != 0 {
		t.Fatalf("Holders() = %v, want none", h)
	}
	// More ids than fit in one round trip of some implementations.
	const n = 1200
	ids := contextIDs(n)
	want := map[int64]string{}
	for i, id := range ids {
		if i%3 == 0 {
			owner := fmt.Sprintf("owner-%d", i%5)
			wantAcquire(t, l, id, owner, long, true, "the lease is free")
			want[id] = owner
		}
	}
	got := holders(t, l, ids...)
	if len(got) != len(want) {
		t.Errorf("Holders(%d ids) gave %d holders, want %d", n, len(got), len(want))
	}
	for id, owner := range want {
		if got[id] != owner {
			t.Errorf("Holders(%d ids)[%d] = %q, want %q", n, id, got[id], owner)
		}
	}
	for id, owner := range got {
		if _, ok := want[id]; !ok {
			t.Errorf("Holders(%d ids) has %d: %q, a free context", n, id, owner)
		}
	}
	// A repeated id, and a few ids, among them a free one.
	few := []int64{ids[3], ids[4], ids[3]}
	got = holders(t, l, few...)
	if len(got) != 1 || got[ids[3]] != want[ids[3]] {
		t.Fatalf("Holders(%v) = %v, want map[%d:%s]", few, got, ids[3], want[ids[3]])
	}
}

// testRaceAcquire has owners race for free leases: exactly one wins each.
func (s *suite) testRaceAcquire(t *testing.T, l wasend.Leaser) {
	const rounds = 20
	for r, id := range contextIDs(rounds) {
		start := make(chan struct{})
		won := make([]bool, s.opts.Concurrency)
		errs := make([]error, s.opts.Concurrency)
		var wg sync.WaitGroup
		for g := range s.opts.Concurrency {
			wg.Go(func() {
				<-start
				won[g], errs[g] = l.Acquire(context.Background(), id, owner(g), long)
			})
		}
		close(start)
		wg.Wait()
		winner := -1
		for g := range s.opts.Concurrency {
			if errs[g] != nil {
				t.Fatalf("round %d: Acquire(%d, %q) = %v, want no error", r, id, owner(g), errs[g])
			}
			if won[g] {
				if winner >= 0 {
					t.Fatalf("round %d: %q and %q both acquired the lease of %d, want one", r, owner(winner), owner(g), id)
				}
				winner = g
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: none of %d owners acquired the free lease of %d, want one", r, s.opts.Concurrency, id)
		}
		wantHolder(t, l, id, owner(winner), "it won the race")
	}
}

func owner(g int) string { return fmt.Sprintf("owner-%d", g) }

// testRaceExclusion has owners take, renew, check and release one lease
// in turn, concurrently, until it has been taken 40 times: never two hold it
// at once. Which owners get it is left to the leaser: the contract promises
// no fairness.
func (s *suite) testRaceExclusion(t *testing.T, l wasend.Leaser) {
	id := contextID()
	const total = 40
	var (
		inside atomic.Int32
		taken  atomic.Int32
		failed atomic.Bool
		wg     sync.WaitGroup
	)
	deadline := time.Now().Add(s.opts.RaceTimeout)
	ctx := context.Background()
	fail := func(format string, args ...any) {
		t.Errorf(format, args...)
		failed.Store(true)
	}
	for g := range s.opts.Concurrency {
		wg.Go(func() {
			me := owner(g)
			for taken.Load() < total && !failed.Load() {
				if time.Now().After(deadline) {
					fail("the lease of %d was taken %d times in %s, want %d", id, taken.Load(), s.opts.RaceTimeout, total)
					return
				}
				ok, err := l.Acquire(ctx, id, me, long)
				if err != nil {
					fail("Acquire(%d, %q) = %v, want no error", id, me, err)
					return
				}
				if !ok {
					// Back off, so that the losers do not crowd out the
					// holder's calls.
					time.Sleep(time.Duration(1+rand.IntN(5)) * time.Millisecond)
					continue
				}
				if in := inside.Add(1); in != 1 {
					fail("%s acquired the lease of %d while %d other owners held it", me, id, in-1)
				}
				if ok, err := l.Acquire(ctx, id, me, long); err != nil || !ok {
					fail("%s renewing its lease: Acquire = %v, %v, want true, nil", me, ok, err)
				}
				if h, err := l.Holders(ctx, []int64{id}); err != nil || h[id] != me {
					fail("Holders(%d) = %v, %v while %s holds it, want it", id, h, err, me)
				}
				taken.Add(1)
				inside.Add(-1)
				if err := l.Release(ctx, id, me); err != nil {
					fail("Release(%d, %q) = %v, want nil", id, me, err)
				}
			}
		})
	}
	wg.Wait()
	if !failed.Load() {
		wantHolder(t, l, id, "", "every owner released it")
	}
}
