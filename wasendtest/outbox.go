package wasendtest

import (
	"context"
	"fmt"
	"time"

	"github.com/wasend/wasend"
)

// outboxEvent is an event of the outbox with its delivery state.
type outboxEvent struct {
	ev           wasend.Event
	nextAt       time.Time
	claimedBy    string
	claimedUntil time.Time
	delivered    time.Time
	dead         bool
	lastError    string
}

// recordEvents appends events to the outbox, filling in what they leave
// zero from the rows; newJob is the id of the job they come with, or 0.
// The caller holds s.mu.
func (s *Store) recordEvents(evs []wasend.Event, newJob int64) {
	for _, ev := range evs {
		if newJob != 0 {
			ev.JobID = newJob
		}
		if ev.MessageID != 0 && ev.JobID == 0 {
			ev.JobID = s.msgJob[ev.MessageID]
		}
		if j, ok := s.jobs[ev.JobID]; ok && ev.JobID != 0 {
			if ev.ContextID == 0 {
				ev.ContextID = j.ContextID
			}
			if ev.CampaignID == 0 {
				ev.CampaignID = j.CampaignID
			}
			if ev.Metadata == nil {
				ev.Metadata, _ = roundTrip(j.Metadata)
			}
		}
		ev.Data, _ = roundTrip(ev.Data)
		ev.At = s.ts(ev.At)
		ev.ID = int64(len(s.events) + 1)
		ev.Version, ev.Attempts = wasend.EventVersion, 0
		s.events = append(s.events, &outboxEvent{ev: ev, nextAt: ev.At})
	}
}

// AddEvents implements wasend.OutboxStore. An event without a topic, or
// whose Data is not JSON, gives ErrInvalidStep and records none.
func (s *Store) AddEvents(ctx context.Context, evs []wasend.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail(ctx); err != nil {
		return err
	}
	for i, ev := range evs {
		if ev.Topic == "" {
			return fmt.Errorf("%w: event %d has no topic", wasend.ErrInvalidStep, i)
		}
		if _, err := roundTrip(ev.Data); err != nil {
			return fmt.Errorf("%w: event %d: data: %w", wasend.ErrInvalidStep, i, err)
		}
	}
	s.recordEvents(evs, 0)
	return nil
}

// ClaimEvents implements wasend.OutboxStore.
func (s *Store) ClaimEvents(ctx context.Context, owner string, now, until time.Time, limit int) ([]wasend.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail(ctx); err != nil {
		return nil, err
	}
	blocked := map[int64]bool{} // jobs with an earlier event neither delivered nor dead
	var out []wasend.Event
	for _, e := range s.events {
		if e == nil || !e.delivered.IsZero() || e.dead {
			continue
		}
		job := e.ev.JobID
		due := !e.nextAt.After(now) && (e.claimedBy == "" || e.claimedUntil.Before(now))
		if due && !(job != 0 && blocked[job]) && len(out) < limit {
			e.claimedBy, e.claimedUntil = owner, until
			ev := e.ev
			ev.Metadata, _ = roundTrip(e.ev.Metadata)
			out = append(out, ev)
		}
		if job != 0 {
			blocked[job] = true // its later events wait behind this one
		}
	}
	return out, nil
}

// SettleEvents implements wasend.OutboxStore.
func (s *Store) SettleEvents(ctx context.Context, owner string, results []wasend.EventResult) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail(ctx); err != nil {
		return err
	}
	now := s.ts(time.Time{})
	for _, r := range results {
		if r.ID < 1 || r.ID > int64(len(s.events)) {
			continue
		}
		e := s.events[r.ID-1]
		if e == nil || e.claimedBy != owner {
			continue
		}
		e.claimedBy, e.claimedUntil = "", time.Time{}
		if r.Delivered {
			e.delivered = now
			continue
		}
		if r.Attempted {
			e.ev.Attempts++
		}
		e.nextAt, e.dead = s.ts(r.NextAt), r.Dead // a zero NextAt is now
		if r.Error != "" {
			e.lastError = r.Error // one held back keeps the failure before
		}
	}
	return nil
}

// EventCounts implements wasend.OutboxStore.
func (s *Store) EventCounts(ctx context.Context) (wasend.OutboxCounts, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail(ctx); err != nil {
		return wasend.OutboxCounts{}, err
	}
	var c wasend.OutboxCounts
	for _, e := range s.events {
		switch {
		case e == nil:
		case e.dead:
			c.Dead++
		case e.delivered.IsZero():
			c.Pending++
		}
	}
	return c, nil
}

// PruneEvents implements wasend.OutboxStore. Ids are kept: a pruned
// event leaves a nil hole.
func (s *Store) PruneEvents(ctx context.Context, before time.Time) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail(ctx); err != nil {
		return 0, err
	}
	var n int64
	for i, e := range s.events {
		if e != nil && !e.delivered.IsZero() && e.delivered.Before(before) {
			s.events[i] = nil
			n++
		}
	}
	return n, nil
}
