package wasendtest

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"
	"unicode/utf8"

	"github.com/wasend/wasend"
)

// CreateCampaign implements wasend.CampaignStore.
func (s *Store) CreateCampaign(ctx context.Context, c wasend.Campaign) (wasend.Campaign, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail(ctx); err != nil {
		return wasend.Campaign{}, err
	}
	if k := c.IdempotencyKey; len(k) > wasend.MaxIdempotencyKeyLength || !utf8.ValidString(k) {
		return wasend.Campaign{}, &wasend.ValidationError{Index: -1, Field: "idempotency_key", Err: wasend.ErrInvalidIdempotencyKey}
	}
	if id, ok := s.campaignKeys[c.IdempotencyKey]; ok && c.IdempotencyKey != "" {
		return s.campaignLocked(id), fmt.Errorf("%w: campaign %d", wasend.ErrCampaignExists, id)
	}
	md, err := roundTrip(c.Metadata)
	if err != nil {
		return wasend.Campaign{}, err
	}
	jobs := make([]wasend.Job, len(c.Jobs))
	for i, j := range c.Jobs {
		j.IdempotencyKey = ""
		if jobs[i], err = s.checkJob(j); err != nil {
			return wasend.Campaign{}, err
		}
	}
	s.nextCampaign++
	camp := &wasend.Campaign{ID: s.nextCampaign, Contexts: slices.Clone(c.Contexts), Move: c.Move,
		Metadata: md, IdempotencyKey: c.IdempotencyKey, CreatedAt: s.ts(time.Time{})}
	s.campaigns[camp.ID] = camp
	if camp.IdempotencyKey != "" {
		s.campaignKeys[camp.IdempotencyKey] = camp.ID
	}
	for i := range jobs {
		jobs[i].CampaignID = camp.ID
		s.insertJob(&jobs[i])
		s.recordEvents(c.Jobs[i].Events, jobs[i].ID)
	}
	return s.campaignLocked(camp.ID), nil
}

// campaignLocked returns a copy of a campaign with its jobs and messages.
func (s *Store) campaignLocked(id int64) wasend.Campaign {
	out := *s.campaigns[id]
	out.Contexts = slices.Clone(out.Contexts)
	out.Metadata, _ = roundTrip(out.Metadata)
	for _, j := range s.jobs {
		if j.CampaignID == id {
			out.Jobs = append(out.Jobs, cloneJob(j, true))
		}
	}
	sort.Slice(out.Jobs, func(a, b int) bool { return out.Jobs[a].ID < out.Jobs[b].ID })
	return out
}

// Campaign implements wasend.CampaignStore.
func (s *Store) Campaign(ctx context.Context, id int64) (wasend.Campaign, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail(ctx); err != nil {
		return wasend.Campaign{}, err
	}
	if _, ok := s.campaigns[id]; !ok {
		return wasend.Campaign{}, fmt.Errorf("%w: %d", wasend.ErrCampaignNotFound, id)
	}
	return s.campaignLocked(id), nil
}

// Campaigns implements wasend.CampaignStore.
func (s *Store) Campaigns(ctx context.Context, f wasend.CampaignFilter) ([]wasend.Campaign, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail(ctx); err != nil {
		return nil, err
	}
	active := map[int64]bool{}
	for _, j := range s.jobs {
		if j.CampaignID != 0 && !j.Status.Final() {
			active[j.CampaignID] = true
		}
	}
	var out []wasend.Campaign
	for id, c := range s.campaigns {
		if id <= f.AfterID || (f.Active && !active[id]) {
			continue
		}
		cp := *c
		cp.Contexts = slices.Clone(c.Contexts)
		cp.Metadata, _ = roundTrip(c.Metadata)
		out = append(out, cp)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].ID < out[b].ID })
	limit := f.Limit
	if limit <= 0 {
		limit = wasend.DefaultJobsLimit
	}
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// MoveMessages implements wasend.CampaignStore.
func (s *Store) MoveMessages(ctx context.Context, m wasend.MessageMove) (wasend.Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail(ctx); err != nil {
		return wasend.Job{}, err
	}
	from, ok := s.jobs[m.FromJob]
	if !ok {
		return wasend.Job{}, fmt.Errorf("%w: %d", wasend.ErrJobNotFound, m.FromJob)
	}
	camp, ok := s.campaigns[from.CampaignID]
	if !ok {
		return wasend.Job{}, fmt.Errorf("%w: job %d belongs to no campaign", wasend.ErrInvalidStep, m.FromJob)
	}
	if !slices.Contains(camp.Contexts, m.ToContext) {
		return wasend.Job{}, fmt.Errorf("%w: context %d is not in the pool of campaign %d", wasend.ErrInvalidStep, m.ToContext, camp.ID)
	}
	if err := s.takesJobs(m.ToContext); err != nil {
		return wasend.Job{}, err
	}
	if from.Status != wasend.JobPending && from.Status != wasend.JobPaused {
		return wasend.Job{}, nil
	}
	at := s.ts(m.At)
	pos := map[int64]int{}
	for i, msg := range from.Messages {
		pos[msg.ID] = i
	}
	var moving []int
	seen := map[int64]bool{}
	for _, id := range m.Messages {
		i, ok := pos[id]
		if ok && !seen[id] && from.Messages[i].Status == wasend.MessagePending {
			moving = append(moving, i)
			seen[id] = true
		}
	}
	if len(moving) == 0 {
		return wasend.Job{}, nil
	}
	nj := wasend.Job{ContextID: m.ToContext, CampaignID: from.CampaignID, Kind: wasend.KindBulk,
		Status: wasend.JobPending, Delay: from.Delay, MaxAttempts: from.MaxAttempts, Metadata: from.Metadata,
		NotBefore: from.NotBefore, NextRunAt: at, EnqueuedAt: at}
	for _, i := range moving {
		nj.Messages = append(nj.Messages, wasend.Message{To: from.Messages[i].To, Text: from.Messages[i].Text,
			Media: cloneMedia(from.Messages[i].Media)})
	}
	job, err := s.checkJob(nj)
	if err != nil {
		return wasend.Job{}, err
	}
	for k, i := range moving {
		job.Messages[k].MovedFrom = from.Messages[i].ID
	}
	s.insertJob(&job)
	s.recordEvents(m.Events, job.ID)
	for _, i := range moving {
		msg := &from.Messages[i]
		msg.Status, msg.ErrorKind = wasend.MessageCancelled, wasend.ErrorKindMoved
		msg.Error = fmt.Sprintf("wasend: moved to job %d", job.ID)
		msg.UpdatedAt = at
	}
	from.Version++
	from.UpdatedAt = at
	left := false
	for _, msg := range from.Messages {
		if msg.Status == wasend.MessagePending || msg.Status == wasend.MessageSending || msg.Status == wasend.MessageUnconfirmed {
			left = true
		}
	}
	if !left {
		from.Status, from.FinishedAt, from.Claim = wasend.JobCompleted, at, ""
	}
	return cloneJob(&job, true), nil
}

// cleanCampaigns deletes the campaigns left with no job.
func (s *Store) cleanCampaigns() {
	held := map[int64]bool{}
	for _, j := range s.jobs {
		held[j.CampaignID] = true
	}
	for id, c := range s.campaigns {
		if !held[id] {
			if c.IdempotencyKey != "" {
				delete(s.campaignKeys, c.IdempotencyKey)
			}
			delete(s.campaigns, id)
		}
	}
}

// Contacts implements wasend.CampaignStore.
func (s *Store) Contacts(ctx context.Context, contextIDs []int64, recipients []string) ([]wasend.Contact, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail(ctx); err != nil {
		return nil, err
	}
	var out []wasend.Contact
	for _, id := range contextIDs {
		for _, r := range recipients {
			if s.contacts[id][r] {
				out = append(out, wasend.Contact{ContextID: id, Recipient: r})
			}
		}
	}
	return out, nil
}
