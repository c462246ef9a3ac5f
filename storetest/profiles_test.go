package storetest_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/internal/suite"
	"github.com/wasend/wasend/storetest"
)

// envProfileBug names the bug of the ProfileStore that
// TestProfileSuiteCatchesBugs runs the suite on, in a child process.
const envProfileBug = "STORETEST_PROFILE_BUG"

// memProfiles is an in-memory ProfileStore that keeps the contract, unless
// bug names a rule to break.
type memProfiles struct {
	bug   string
	limit int64
	mu    sync.Mutex
	m     map[string]wasend.ProfileSnapshot
}

func (s *memProfiles) key(id string) string {
	if s.bug == "fold-case" {
		return strings.ToLower(id)
	}
	return id
}

func (s *memProfiles) SaveProfile(ctx context.Context, p wasend.ProfileSnapshot) error {
	if s.bug != "no-verify" {
		if err := p.Verify(); err != nil {
			return err
		}
	}
	if s.bug != "no-limit" && p.Size > s.limit {
		return fmt.Errorf("%w: %d bytes", wasend.ErrProfileTooLarge, p.Size)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.m[s.key(p.SystemID)]; ok && cur.Generation >= p.Generation && s.bug != "stale-overwrites" {
		return wasend.ErrProfileStale
	}
	p.Data = append([]byte(nil), p.Data...)
	s.m[s.key(p.SystemID)] = p
	return nil
}

func (s *memProfiles) LoadProfile(ctx context.Context, id string) (wasend.ProfileSnapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.m[s.key(id)]
	if !ok {
		if s.bug == "not-found-nil" {
			return wasend.ProfileSnapshot{}, nil
		}
		return wasend.ProfileSnapshot{}, wasend.ErrProfileNotFound
	}
	p.Data = append([]byte(nil), p.Data...)
	if s.bug != "no-load-verify" {
		if err := p.Verify(); err != nil {
			return wasend.ProfileSnapshot{}, err
		}
	}
	return p, nil
}

func (s *memProfiles) ProfileGeneration(ctx context.Context, id string) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.m[s.key(id)]
	if !ok {
		return 0, wasend.ErrProfileNotFound
	}
	if s.bug == "first-generation" {
		return 1, nil // a cached generation, never refreshed
	}
	return p.Generation, nil
}

func (s *memProfiles) DeleteProfile(ctx context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, s.key(id))
	return nil
}

// damage flips a byte of the stored snapshot.
func (s *memProfiles) damage(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.m[s.key(id)]
	p.Data[len(p.Data)/2] ^= 1
}

func runMemProfiles(t *testing.T, bug string) {
	storetest.RunProfiles(t, func(t *testing.T, limit int64) wasend.ProfileStore {
		return &memProfiles{bug: bug, limit: limit, m: map[string]wasend.ProfileSnapshot{}}
	}, storetest.ProfileOptions{Parallel: true, Corrupt: func(t *testing.T, s wasend.ProfileStore, id string) {
		s.(*memProfiles).damage(id)
	}})
}

// TestProfileSuite: a store that keeps the contract passes.
func TestProfileSuite(t *testing.T) { runMemProfiles(t, "") }

// TestProfileSuiteCatchesBugs runs the suite on stores that each break one
// rule of the contract, each in a child process, and checks that the
// suite fails in the subtests that own the rule.
func TestProfileSuiteCatchesBugs(t *testing.T) {
	if bug := os.Getenv(envProfileBug); bug != "" {
		runMemProfiles(t, bug)
		return
	}
	for _, tc := range []struct {
		bug  string
		fail []string
	}{
		{"stale-overwrites", []string{"Generations"}},
		{"no-verify", []string{"RefusesCorrupt"}},
		{"no-limit", []string{"Limit"}},
		{"no-load-verify", []string{"DetectsDamage"}},
		{"fold-case", []string{"SystemIDs"}},
		{"not-found-nil", []string{"NotFound"}},
		{"first-generation", []string{"Generations"}},
	} {
		t.Run(tc.bug, func(t *testing.T) {
			t.Parallel()
			suite.WantFail(t, "TestProfileSuiteCatchesBugs", envProfileBug, tc.bug, tc.fail)
		})
	}
}
