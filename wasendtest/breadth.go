package wasendtest

import (
	"context"
	"fmt"
	"sort"

	"github.com/wasend/wasend"
)

// The Store's optional interfaces of what comes back from WhatsApp:
// suppressions (wasend.SuppressionStore).

var _ wasend.SuppressionStore = (*Store)(nil)

// Suppress implements wasend.SuppressionStore.
func (s *Store) Suppress(ctx context.Context, sup wasend.Suppression, events []wasend.Event) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail(ctx); err != nil {
		return false, err
	}
	if sup.Phone == "" {
		return false, fmt.Errorf("%w: a suppression without a number", wasend.ErrInvalidStep)
	}
	if _, ok := s.suppressions[sup.Phone]; ok {
		return false, nil
	}
	sup.CreatedAt = s.ts(sup.CreatedAt)
	s.suppressions[sup.Phone] = sup
	s.recordEvents(events, 0)
	return true, nil
}

// Unsuppress implements wasend.SuppressionStore.
func (s *Store) Unsuppress(ctx context.Context, phone string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail(ctx); err != nil {
		return false, err
	}
	_, ok := s.suppressions[phone]
	delete(s.suppressions, phone)
	return ok, nil
}

// Suppressed implements wasend.SuppressionStore.
func (s *Store) Suppressed(ctx context.Context, phones []string) (map[string]wasend.Suppression, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail(ctx); err != nil {
		return nil, err
	}
	out := map[string]wasend.Suppression{}
	for _, p := range phones {
		if sup, ok := s.suppressions[p]; ok {
			out[p] = sup
		}
	}
	return out, nil
}

// Suppressions implements wasend.SuppressionStore.
func (s *Store) Suppressions(ctx context.Context, f wasend.SuppressionFilter) ([]wasend.Suppression, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail(ctx); err != nil {
		return nil, err
	}
	limit := f.Limit
	if limit <= 0 {
		limit = wasend.DefaultJobsLimit
	}
	var out []wasend.Suppression
	for p, sup := range s.suppressions {
		if p > f.AfterPhone {
			out = append(out, sup)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Phone < out[j].Phone })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
