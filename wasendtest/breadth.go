package wasendtest

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

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

// checkMedia validates a message's attachment as the SQL store does: a
// known kind, a path, UTF-8 text without NUL, a size not negative.
func checkMedia(m *wasend.Media) error {
	if m == nil {
		return nil
	}
	text := func(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }
	switch {
	case m.Kind != wasend.MediaImage && m.Kind != wasend.MediaDocument:
		return fmt.Errorf("%w: kind %q", wasend.ErrInvalidMedia, m.Kind)
	case m.Path == "" || !text(m.Path) || !text(m.Name) || !text(m.Type):
		return fmt.Errorf("%w: a path, name or type that is not text", wasend.ErrInvalidMedia)
	case m.Size < 0:
		return fmt.Errorf("%w: negative size", wasend.ErrInvalidMedia)
	}
	return nil
}

// maxPhone is the longest phone number the store keeps, as the SQL store.
const maxPhone = 32

// checkPhone refuses a number the SQL store's phone columns cannot hold.
func checkPhone(p string) error {
	if p == "" || len(p) > maxPhone || !utf8.ValidString(p) {
		return fmt.Errorf("%w: %q", wasend.ErrInvalidPhone, wasend.MaskPhone(p))
	}
	return nil
}

// checkEvents refuses events without a topic.
func checkEvents(evs []wasend.Event) error {
	for i, e := range evs {
		if e.Topic == "" {
			return fmt.Errorf("%w: event %d has no topic", wasend.ErrInvalidStep, i)
		}
	}
	return nil
}

// pageLimit is a filter's limit: DefaultJobsLimit for zero, an error
// wrapping ErrInvalidFilter for a negative one.
func pageLimit(n int) (int, error) {
	switch {
	case n < 0:
		return 0, fmt.Errorf("%w: negative limit %d", wasend.ErrInvalidFilter, n)
	case n == 0:
		return wasend.DefaultJobsLimit, nil
	}
	return n, nil
}

// CacheNumbers implements wasend.NumberStore.
func (s *Store) CacheNumbers(ctx context.Context, infos []wasend.NumberInfo) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail(ctx); err != nil {
		return err
	}
	for _, info := range infos {
		if err := checkPhone(info.Phone); err != nil {
			return err
		}
		if info.Canonical != "" {
			if err := checkPhone(info.Canonical); err != nil {
				return err
			}
		}
	}
	for _, info := range infos {
		info.CheckedAt = s.ts(info.CheckedAt)
		info.Cached = false
		if old, ok := s.numbers[info.Phone]; ok && old.CheckedAt.After(info.CheckedAt) {
			continue // a newer answer stays
		}
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
			info.Cached = true
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
	limit, err := pageLimit(f.Limit)
	if err != nil {
		return nil, err
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
	if err := checkPhone(sup.Phone); err != nil {
		return false, err
	}
	if err := checkEvents(events); err != nil {
		return false, err
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

// GuardsSuppressions implements wasend.SuppressionGuard: CreateJob
// honours Job.Unsuppressed and Apply honours Step.Unsuppressed.
func (s *Store) GuardsSuppressions() {}

// unsuppressed checks a Job's or a Step's Unsuppressed: an error wrapping
// ErrInvalidStep when it holds more than MaxUnsuppressed numbers, and
// whether none of them is suppressed. s.mu is held.
func (s *Store) unsuppressed(phones []string) (bool, error) {
	if len(phones) > wasend.MaxUnsuppressed {
		return false, fmt.Errorf("%w: %d numbers in Unsuppressed, more than %d", wasend.ErrInvalidStep, len(phones), wasend.MaxUnsuppressed)
	}
	for _, p := range phones {
		if _, ok := s.suppressions[p]; ok {
			return false, nil
		}
	}
	return true, nil
}

// Suppressions implements wasend.SuppressionStore.
func (s *Store) Suppressions(ctx context.Context, f wasend.SuppressionFilter) ([]wasend.Suppression, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail(ctx); err != nil {
		return nil, err
	}
	limit, err := pageLimit(f.Limit)
	if err != nil {
		return nil, err
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
	if err := checkPhone(m.From); err != nil {
		return wasend.IncomingMessage{}, false, err
	}
	if m.WAMessageID == "" {
		return wasend.IncomingMessage{}, false, fmt.Errorf("%w: an incoming message without its WhatsApp id", wasend.ErrInvalidStep)
	}
	if err := checkEvents(events); err != nil {
		return wasend.IncomingMessage{}, false, err
	}
	for _, o := range s.incoming {
		if o.ContextID == m.ContextID && o.WAMessageID == m.WAMessageID {
			return o, false, nil
		}
	}
	s.nextIncoming++
	m.ID = s.nextIncoming
	m.CreatedAt = s.ts(m.CreatedAt)
	if m.At.IsZero() {
		m.At = m.CreatedAt
	} else {
		m.At = s.ts(m.At)
	}
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
	limit, err := pageLimit(f.Limit)
	if err != nil {
		return nil, err
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
