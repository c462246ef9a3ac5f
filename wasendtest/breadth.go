package wasendtest

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/wasend/wasend"
)

// The Store's optional interfaces of what comes back from WhatsApp:
// receipts (wasend.ReceiptStore), suppressions (wasend.SuppressionStore),
// incoming messages (wasend.InboxStore) and number checks
// (wasend.NumberStore).

var (
	_ wasend.SuppressionStore = (*Store)(nil)
	_ wasend.InboxStore       = (*Store)(nil)
	_ wasend.ReceiptStore     = (*Store)(nil)
	_ wasend.NumberStore      = (*Store)(nil)
)

// CacheNumbers implements wasend.NumberStore.
func (s *Store) CacheNumbers(ctx context.Context, infos []wasend.NumberInfo) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail(ctx); err != nil {
		return err
	}
	for _, info := range infos {
		if info.Phone == "" {
			return fmt.Errorf("%w: a number check without its number", wasend.ErrInvalidStep)
		}
	}
	for _, info := range infos {
		info.CheckedAt = s.ts(info.CheckedAt)
		info.Cached = false
		s.numbers[info.Phone] = info
	}
	return nil
}

// CachedNumbers implements wasend.NumberStore.
func (s *Store) CachedNumbers(ctx context.Context, phones []string, since time.Time) (map[string]wasend.NumberInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail(ctx); err != nil {
		return nil, err
	}
	out := map[string]wasend.NumberInfo{}
	for _, p := range phones {
		if info, ok := s.numbers[p]; ok && !info.CheckedAt.Before(since) {
			out[p] = info
		}
	}
	return out, nil
}

// Unread implements wasend.ReceiptStore.
func (s *Store) Unread(ctx context.Context, f wasend.ReceiptFilter) ([]wasend.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail(ctx); err != nil {
		return nil, err
	}
	if f.ContextID <= 0 {
		return nil, fmt.Errorf("%w: Unread needs a context", wasend.ErrInvalidFilter)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = wasend.DefaultJobsLimit
	}
	var out []wasend.Message
	for _, j := range s.jobs {
		if j.ContextID != f.ContextID {
			continue
		}
		for _, m := range j.Messages {
			switch {
			case m.Status != wasend.MessageSent, !m.ReadAt.IsZero(), m.ID <= f.AfterID,
				!f.SentAfter.IsZero() && m.SentAt.Before(f.SentAfter),
				!f.SentBefore.IsZero() && !m.SentAt.Before(f.SentBefore),
				f.Undelivered && (!m.DeliveredAt.IsZero() || !m.UndeliveredAt.IsZero()):
				continue
			}
			out = append(out, cloneMessage(m))
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].ID < out[b].ID })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

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

// RecordIncoming implements wasend.InboxStore.
func (s *Store) RecordIncoming(ctx context.Context, m wasend.IncomingMessage, events []wasend.Event) (wasend.IncomingMessage, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail(ctx); err != nil {
		return wasend.IncomingMessage{}, false, err
	}
	if _, ok := s.contexts[m.ContextID]; !ok {
		return wasend.IncomingMessage{}, false, fmt.Errorf("%w: %d", wasend.ErrContextNotFound, m.ContextID)
	}
	if m.From == "" || m.WAMessageID == "" {
		return wasend.IncomingMessage{}, false, fmt.Errorf("%w: an incoming message without its sender or id", wasend.ErrInvalidStep)
	}
	for _, o := range s.incoming {
		if o.ContextID == m.ContextID && o.WAMessageID == m.WAMessageID {
			return o, false, nil
		}
	}
	s.nextIncoming++
	m.ID = s.nextIncoming
	m.At = s.ts(m.At)
	m.CreatedAt = s.ts(time.Time{})
	s.incoming = append(s.incoming, m)
	s.recordEvents(events, 0)
	return m, true, nil
}

// Incoming implements wasend.InboxStore.
func (s *Store) Incoming(ctx context.Context, f wasend.InboxFilter) ([]wasend.IncomingMessage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail(ctx); err != nil {
		return nil, err
	}
	limit := f.Limit
	if limit <= 0 {
		limit = wasend.DefaultJobsLimit
	}
	list := slices.Clone(s.incoming) // by id
	if f.Newest {
		slices.Reverse(list)
	}
	var out []wasend.IncomingMessage
	for _, m := range list {
		switch {
		case m.ID <= f.AfterID,
			f.BeforeID != 0 && m.ID >= f.BeforeID,
			f.ContextID != 0 && m.ContextID != f.ContextID,
			f.From != "" && m.From != f.From:
			continue
		}
		out = append(out, m)
		if len(out) == limit {
			break
		}
	}
	return out, nil
}
