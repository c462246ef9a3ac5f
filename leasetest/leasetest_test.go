package leasetest_test

import (
	"context"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/internal/suite"
	"github.com/wasend/wasend/leasetest"
)

// TestMemLeaser runs the suite on a leaser with no bug, which checks the
// suite itself without Redis.
func TestMemLeaser(t *testing.T) {
	leasetest.Run(t, func(t *testing.T) wasend.Leaser { return newMemLeaser("") }, leasetest.Options{Parallel: true})
}

// envBug names the bug of the leaser that TestSuiteCatchesBugs runs the
// suite on, in a child process.
const envBug = "LEASETEST_BUG"

// TestSuiteCatchesBugs runs the suite on leasers that each break one rule
// of the contract, each in a child process (a failing suite fails its
// test), and checks that the suite fails, in the subtest that owns the
// rule.
func TestSuiteCatchesBugs(t *testing.T) {
	if bug := os.Getenv(envBug); bug != "" {
		// The bugs that keep a lease make the suite wait until
		// ExpiryTimeout or RaceTimeout: keep them short.
		leasetest.Run(t, func(t *testing.T) wasend.Leaser { return newMemLeaser(bug) },
			leasetest.Options{ExpiryTimeout: 2 * time.Second, RaceTimeout: 2 * time.Second, Parallel: true})
		return
	}
	for _, tc := range []struct {
		bug  string
		fail []string // subtests that must fail
	}{
		{"steal", []string{"AcquireHeld", "RaceAcquire"}},
		{"prefix", []string{"AcquireHeld"}},
		{"no-renew", []string{"RenewExtends"}},
		{"refusal-extends", []string{"RefusalDoesNotExtend"}},
		{"no-expiry", []string{"Expiry", "ExpiredOwnerTakesBack"}},
		{"stale-holders", []string{"Expiry"}},
		{"release-any", []string{"ReleaseByOther", "Expiry"}},
		{"no-release", []string{"Release"}},
		{"holders-all", []string{"Holders", "Independent"}},
		{"racy", []string{"RaceAcquire"}},
	} {
		t.Run(tc.bug, func(t *testing.T) {
			t.Parallel()
			suite.WantFail(t, "TestSuiteCatchesBugs", envBug, tc.bug, tc.fail)
		})
	}
}

// memLeaser is a Leaser in memory, with one bug if bug is not empty.
type memLeaser struct {
	bug    string
	mu     sync.Mutex
	leases map[int64]memLease
}

type memLease struct {
	owner string
	until time.Time
}

func newMemLeaser(bug string) *memLeaser { return &memLeaser{bug: bug, leases: map[int64]memLease{}} }

// held returns the live lease of id.
func (l *memLeaser) held(id int64, now time.Time) (memLease, bool) {
	cur, ok := l.leases[id]
	if ok && !now.Before(cur.until) && l.bug != "no-expiry" {
		return memLease{}, false
	}
	return cur, ok
}

func (l *memLeaser) Acquire(_ context.Context, id int64, owner string, ttl time.Duration) (bool, error) {
	l.mu.Lock()
	now := time.Now()
	cur, ok := l.held(id, now)
	if l.bug == "racy" {
		// Check, then set, in two critical sections.
		l.mu.Unlock()
		runtime.Gosched()
		time.Sleep(time.Millisecond)
		l.mu.Lock()
	}
	defer l.mu.Unlock()
	mine := cur.owner == owner || (l.bug == "prefix" && strings.HasPrefix(owner, cur.owner))
	switch {
	case ok && !mine && l.bug != "steal":
		if l.bug == "refusal-extends" {
			cur.until = now.Add(ttl)
			l.leases[id] = cur
		}
		return false, nil
	case ok && mine && l.bug == "no-renew":
		return true, nil
	}
	l.leases[id] = memLease{owner: owner, until: now.Add(ttl)}
	return true, nil
}

func (l *memLeaser) Release(_ context.Context, id int64, owner string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.bug == "no-release" {
		return nil
	}
	if cur, ok := l.leases[id]; ok && (cur.owner == owner || l.bug == "release-any") {
		delete(l.leases, id)
	}
	return nil
}

func (l *memLeaser) Holders(_ context.Context, ids []int64) (map[int64]string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	out := map[int64]string{}
	if l.bug == "holders-all" {
		for id, cur := range l.leases {
			out[id] = cur.owner
		}
		return out, nil
	}
	for _, id := range ids {
		cur, ok := l.held(id, now)
		if l.bug == "stale-holders" {
			cur, ok = l.leases[id]
		}
		if ok {
			out[id] = cur.owner
		}
	}
	return out, nil
}
