package wasendtest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/wasend/wasend"
)

// Store is a wasend.Store in memory. It is safe for concurrent use.
type Store struct {
	mu       sync.Mutex
	now      func() time.Time
	nextCtx  int64
	nextJob  int64
	nextMsg  int64
	contexts map[int64]*wasend.BrowserContext
	jobs     map[int64]*wasend.Job
	msgJob   map[int64]int64  // message id -> job id
	keys     map[string]int64 // idempotency key -> job id
	sends    []wasend.SendRecord
	contacts map[int64]map[string]bool // context id -> recipient hashes
	// campaigns hold no jobs; campaignKeys maps idempotency keys to ids.
	nextCampaign int64
	campaigns    map[int64]*wasend.Campaign
	campaignKeys map[string]int64
	// events is the outbox, by id (from 1).
	events []*outboxEvent
	// suppressions is the suppression list, by number.
	suppressions map[string]wasend.Suppression
	// incoming is the inbox, by id (from 1).
	incoming     []wasend.IncomingMessage
	nextIncoming int64
	// numbers are the number checks cached, by number.
	numbers map[string]wasend.NumberInfo
	// FailWith, when set, makes every call fail with it (outage tests).
	failWith error
}

var (
	_ wasend.Store         = (*Store)(nil)
	_ wasend.CampaignStore = (*Store)(nil)
	_ wasend.OutboxStore   = (*Store)(nil)
)

// NewStore returns an empty Store.
func NewStore() *Store {
	return &Store{now: time.Now, contexts: map[int64]*wasend.BrowserContext{}, jobs: map[int64]*wasend.Job{},
		msgJob: map[int64]int64{}, keys: map[string]int64{}, contacts: map[int64]map[string]bool{},
		campaigns: map[int64]*wasend.Campaign{}, campaignKeys: map[string]int64{},
		suppressions: map[string]wasend.Suppression{}, numbers: map[string]wasend.NumberInfo{}}
}

// SetFailure makes every later call fail with err (nil restores service).
func (s *Store) SetFailure(err error) {
	s.mu.Lock()
	s.failWith = err
	s.mu.Unlock()
}

func (s *Store) ts(t time.Time) time.Time {
	if t.IsZero() {
		t = s.now()
	}
	return t.UTC().Truncate(time.Microsecond)
}

func (s *Store) fail(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.failWith != nil {
		return fmt.Errorf("%w: %w", wasend.ErrStore, s.failWith)
	}
	return nil
}

// CreateContext implements wasend.Store.
func (s *Store) CreateContext(ctx context.Context, c wasend.BrowserContext) (wasend.BrowserContext, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail(ctx); err != nil {
		return wasend.BrowserContext{}, err
	}
	if c.Status == "" {
		c.Status = wasend.ContextDisconnected
	}
	if !c.Status.Valid() {
		return wasend.BrowserContext{}, fmt.Errorf("mem: invalid context status %q", c.Status)
	}
	if c.SystemID != "" {
		for _, o := range s.contexts {
			if o.SystemID == c.SystemID {
				return wasend.BrowserContext{}, wasend.ErrDuplicateContext
			}
		}
	}
	if err := checkSettings(c.Pacing, c.Proxy); err != nil {
		return wasend.BrowserContext{}, err
	}
	s.nextCtx++
	now := s.ts(time.Time{})
	rec := wasend.BrowserContext{ID: s.nextCtx, Status: c.Status, SystemID: c.SystemID, CreatedAt: now, UpdatedAt: now,
		Pacing: clonePacing(c.Pacing), Proxy: c.Proxy}
	s.contexts[rec.ID] = &rec
	return cloneContext(&rec), nil
}

func checkSettings(p *wasend.Pacing, proxy string) error {
	if p != nil {
		if err := p.Validate(); err != nil {
			return err
		}
	}
	return wasend.CheckProxy(proxy)
}

func clonePacing(p *wasend.Pacing) *wasend.Pacing {
	if p == nil {
		return nil
	}
	c := *p
	return &c
}

func cloneContext(c *wasend.BrowserContext) wasend.BrowserContext {
	out := *c
	out.Pacing = clonePacing(c.Pacing)
	return out
}

// contextLocked returns the record of context id. The caller holds s.mu.
func (s *Store) contextLocked(ctx context.Context, id int64) (*wasend.BrowserContext, error) {
	if err := s.fail(ctx); err != nil {
		return nil, err
	}
	c, ok := s.contexts[id]
	if !ok {
		return nil, fmt.Errorf("%w: %d", wasend.ErrContextNotFound, id)
	}
	return c, nil
}

// UpdateContext implements wasend.Store.
func (s *Store) UpdateContext(ctx context.Context, id int64, set wasend.ContextSettings) (wasend.BrowserContext, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.contextLocked(ctx, id)
	if err != nil {
		return wasend.BrowserContext{}, err
	}
	var p *wasend.Pacing
	if set.Pacing != nil {
		p = *set.Pacing
	}
	proxy := c.Proxy
	if set.Proxy != nil {
		proxy = *set.Proxy
	}
	if err := checkSettings(p, proxy); err != nil {
		return wasend.BrowserContext{}, err
	}
	if set.Pacing != nil {
		c.Pacing = clonePacing(p)
	}
	c.Proxy = proxy
	c.UpdatedAt = s.ts(time.Time{})
	return cloneContext(c), nil
}

// Sends implements wasend.Store.
func (s *Store) Sends(ctx context.Context, contextID int64, since time.Time) ([]wasend.SendRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail(ctx); err != nil {
		return nil, err
	}
	var out []wasend.SendRecord
	for _, r := range s.sends {
		if r.ContextID == contextID && !r.At.Before(since) {
			out = append(out, r)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out, nil
}

// Contacted implements wasend.Store.
func (s *Store) Contacted(ctx context.Context, contextID int64, recipient string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail(ctx); err != nil {
		return false, err
	}
	return s.contacts[contextID][recipient], nil
}

// PruneSends implements wasend.Store.
func (s *Store) PruneSends(ctx context.Context, before time.Time) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail(ctx); err != nil {
		return 0, err
	}
	kept := s.sends[:0]
	for _, r := range s.sends {
		if !r.At.Before(before) {
			kept = append(kept, r)
		}
	}
	n := int64(len(s.sends) - len(kept))
	s.sends = kept
	return n, nil
}

// Context implements wasend.Store.
func (s *Store) Context(ctx context.Context, id int64) (wasend.BrowserContext, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.contextLocked(ctx, id)
	if err != nil {
		return wasend.BrowserContext{}, err
	}
	return cloneContext(c), nil
}

// Contexts implements wasend.Store.
func (s *Store) Contexts(ctx context.Context) ([]wasend.BrowserContext, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail(ctx); err != nil {
		return nil, err
	}
	out := make([]wasend.BrowserContext, 0, len(s.contexts))
	for _, c := range s.contexts {
		out = append(out, cloneContext(c))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// CreateJob implements wasend.Store.
func (s *Store) CreateJob(ctx context.Context, j wasend.Job) (wasend.Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail(ctx); err != nil {
		return wasend.Job{}, err
	}
	if k := j.IdempotencyKey; len(k) > wasend.MaxIdempotencyKeyLength || !utf8.ValidString(k) {
		return wasend.Job{}, &wasend.ValidationError{Index: -1, Field: "idempotency_key", Err: wasend.ErrInvalidIdempotencyKey}
	}
	if id, ok := s.keys[j.IdempotencyKey]; ok && j.IdempotencyKey != "" {
		return cloneJob(s.jobs[id], true), fmt.Errorf("%w: job %d", wasend.ErrJobExists, id)
	}
	j.CampaignID = 0
	if ok, err := s.unsuppressed(j.Unsuppressed); err != nil {
		return wasend.Job{}, err
	} else if !ok {
		return wasend.Job{}, fmt.Errorf("%w: a recipient is on the suppression list", wasend.ErrSuppressed)
	}
	job, err := s.checkJob(j)
	if err != nil {
		return wasend.Job{}, err
	}
	job.Unsuppressed = nil
	s.insertJob(&job)
	s.recordEvents(j.Events, job.ID)
	return cloneJob(&job, true), nil
}

// takesJobs checks that a context exists and takes jobs.
func (s *Store) takesJobs(id int64) error {
	bc, ok := s.contexts[id]
	switch {
	case !ok:
		return fmt.Errorf("%w: %d", wasend.ErrContextNotFound, id)
	case bc.Status == wasend.ContextClosed:
		return fmt.Errorf("%w: %w: %d", wasend.ErrContextNotAvailable, wasend.ErrContextClosed, id)
	case bc.Status == wasend.ContextError:
		return fmt.Errorf("%w: %d is in error", wasend.ErrContextNotAvailable, id)
	}
	return nil
}

// checkJob checks a new job and returns it as it is to be stored, without
// its ids.
func (s *Store) checkJob(j wasend.Job) (wasend.Job, error) {
	if err := s.takesJobs(j.ContextID); err != nil {
		return wasend.Job{}, err
	}
	if j.Status == "" {
		j.Status = wasend.JobPending
	}
	for i, m := range j.Messages {
		if err := checkMedia(m.Media); err != nil {
			return wasend.Job{}, fmt.Errorf("message %d: %w", i, err)
		}
	}
	if !j.Status.Valid() || !j.Kind.Valid() {
		return wasend.Job{}, fmt.Errorf("mem: invalid job status %q or kind %q", j.Status, j.Kind)
	}
	md, err := roundTrip(j.Metadata)
	if err != nil {
		return wasend.Job{}, err
	}
	now := s.ts(time.Time{})
	job := j
	job.Metadata, job.Claim, job.Version = md, "", 1
	job.CreatedAt, job.UpdatedAt = now, now
	job.NextRunAt = s.ts(j.NextRunAt)
	job.EnqueuedAt = s.ts(j.EnqueuedAt)
	if !j.NotBefore.IsZero() {
		job.NotBefore = s.ts(j.NotBefore)
	}
	job.StartedAt, job.FinishedAt = time.Time{}, time.Time{}
	job.Events = nil // recorded in the outbox, not kept with the job
	job.Messages = make([]wasend.Message, len(j.Messages))
	for i, m := range j.Messages {
		job.Messages[i] = wasend.Message{Position: i, To: m.To, Text: m.Text, Media: cloneMedia(m.Media),
			Status: wasend.MessagePending, UpdatedAt: now}
	}
	return job, nil
}

// insertJob gives a checked job and its messages their ids and stores it.
func (s *Store) insertJob(job *wasend.Job) {
	s.nextJob++
	job.ID = s.nextJob
	for i := range job.Messages {
		s.nextMsg++
		job.Messages[i].ID, job.Messages[i].JobID = s.nextMsg, job.ID
		s.msgJob[s.nextMsg] = job.ID
	}
	s.jobs[job.ID] = job
	if job.IdempotencyKey != "" {
		s.keys[job.IdempotencyKey] = job.ID
	}
}

func roundTrip(md map[string]any) (map[string]any, error) {
	if md == nil {
		return nil, nil
	}
	b, err := json.Marshal(md)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", wasend.ErrInvalidMetadata, err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	return out, nil
}

func cloneJob(j *wasend.Job, withMessages bool) wasend.Job {
	out := *j
	out.Messages = nil
	if withMessages {
		out.Messages = make([]wasend.Message, len(j.Messages))
		for i, m := range j.Messages {
			out.Messages[i] = cloneMessage(m)
		}
	}
	if j.Metadata != nil {
		out.Metadata, _ = roundTrip(j.Metadata)
	}
	return out
}

// cloneMedia copies a message's file reference, so that no caller shares
// the stored one.
func cloneMedia(m *wasend.Media) *wasend.Media {
	if m == nil {
		return nil
	}
	c := *m
	return &c
}

// cloneMessage copies a message, its Media too.
func cloneMessage(m wasend.Message) wasend.Message {
	m.Media = cloneMedia(m.Media)
	return m
}

// Job implements wasend.Store.
func (s *Store) Job(ctx context.Context, id int64) (wasend.Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail(ctx); err != nil {
		return wasend.Job{}, err
	}
	j, ok := s.jobs[id]
	if !ok {
		return wasend.Job{}, fmt.Errorf("%w: %d", wasend.ErrJobNotFound, id)
	}
	return cloneJob(j, true), nil
}

// Jobs implements wasend.Store.
func (s *Store) Jobs(ctx context.Context, f wasend.JobFilter) ([]wasend.Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail(ctx); err != nil {
		return nil, err
	}
	limit := f.Limit
	if limit <= 0 {
		limit = wasend.DefaultJobsLimit
	}
	ids := make([]int64, 0, len(s.jobs))
	for id := range s.jobs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	if f.Newest {
		slices.Reverse(ids)
	}
	var out []wasend.Job
	for _, id := range ids {
		j := s.jobs[id]
		switch {
		case id <= f.AfterID,
			f.BeforeID != 0 && id >= f.BeforeID,
			f.CampaignID != 0 && j.CampaignID != f.CampaignID,
			!f.CreatedAfter.IsZero() && j.CreatedAt.Before(f.CreatedAfter),
			!f.CreatedBefore.IsZero() && !j.CreatedAt.Before(f.CreatedBefore),
			f.ContextID != 0 && j.ContextID != f.ContextID,
			len(f.Statuses) > 0 && !slices.Contains(f.Statuses, j.Status),
			f.Kind != "" && j.Kind != f.Kind,
			!f.NextRunBefore.IsZero() && j.NextRunAt.After(f.NextRunBefore),
			!f.EnqueuedBefore.IsZero() && !j.EnqueuedAt.Before(f.EnqueuedBefore),
			!f.UpdatedBefore.IsZero() && !j.UpdatedAt.Before(f.UpdatedBefore):
			continue
		}
		out = append(out, cloneJob(j, false))
		if len(out) == limit {
			break
		}
	}
	return out, nil
}

// Apply implements wasend.Store.
func (s *Store) Apply(ctx context.Context, st wasend.Step) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail(ctx); err != nil {
		return false, err
	}
	if err := validateStep(st); err != nil {
		return false, err
	}
	if ok, err := s.unsuppressed(st.Unsuppressed); !ok || err != nil {
		return false, err
	}
	var (
		job *wasend.Job
		msg *wasend.Message
		bc  *wasend.BrowserContext
	)
	if t := st.Job; t != nil {
		job = s.jobs[t.ID]
		if job == nil || !slices.Contains(t.From, job.Status) || (t.IfClaim != "" && job.Claim != t.IfClaim) ||
			(t.IfVersion != 0 && job.Version != t.IfVersion) {
			return false, nil
		}
	}
	if t := st.Message; t != nil {
		msg = s.findMessage(t.ID)
		if msg == nil || !slices.Contains(t.From, msg.Status) {
			return false, nil
		}
	}
	if t := st.Context; t != nil {
		bc = s.contexts[t.ID]
		if bc == nil || !slices.Contains(t.From, bc.Status) {
			return false, nil
		}
	}
	var rcpt *wasend.Message
	if r := st.Receipt; r != nil {
		rcpt = s.findMessage(r.MessageID)
		status := wasend.MessageStatus("")
		if rcpt != nil {
			status = rcpt.Status
		}
		if t := st.Message; t != nil && rcpt != nil && t.ID == rcpt.ID {
			status = t.To // the step's message transition applies first
		}
		if rcpt == nil || status != wasend.MessageSent || !receiptChanges(rcpt, r) {
			return false, nil
		}
	}
	if t := st.Job; t != nil {
		at := s.ts(t.At)
		if t.To == wasend.JobRunning {
			job.Claim = t.Claim
			if job.StartedAt.IsZero() {
				job.StartedAt = at
			}
		} else {
			job.Claim = ""
		}
		if t.To.Final() {
			job.FinishedAt = at
		}
		if t.AddAttempt {
			job.Attempts++
		}
		if !t.NextRunAt.IsZero() {
			job.NextRunAt = s.ts(t.NextRunAt)
		}
		if !t.EnqueuedAt.IsZero() {
			job.EnqueuedAt = s.ts(t.EnqueuedAt)
		}
		switch {
		case t.ErrorKind != "":
			job.ErrorKind, job.Error = t.ErrorKind, t.Error
		case t.ClearError:
			job.ErrorKind, job.Error = "", ""
		}
		job.Wait = t.Wait
		job.Status = t.To
		job.UpdatedAt = at
		job.Version++
	}
	if t := st.Message; t != nil {
		at := s.ts(t.At)
		if t.AddAttempt {
			msg.Attempts++
		}
		// ClearGuard applies first: with it, StartAttempt, Mark and
		// AddLookup start the guard afresh.
		if t.ClearGuard {
			msg.GuardSince, msg.GuardMark, msg.Lookups = time.Time{}, "", 0
		}
		if t.StartAttempt {
			msg.AttemptedAt = at
			if msg.GuardSince.IsZero() {
				msg.GuardSince = at
			}
		}
		if t.Mark != "" && msg.GuardMark == "" {
			msg.GuardMark = t.Mark
		}
		if t.AddLookup {
			msg.Lookups++
		}
		if t.To == wasend.MessageSent {
			msg.SentAt = s.ts(t.SentAt)
			if t.SentAt.IsZero() {
				msg.SentAt = at
			}
			msg.WAMessageID = t.WAMessageID
		}
		switch {
		case t.ErrorKind != "":
			msg.ErrorKind, msg.Error = t.ErrorKind, t.Error
		case t.ClearError:
			msg.ErrorKind, msg.Error = "", ""
		}
		msg.Status = t.To
		msg.UpdatedAt = at
	}
	if t := st.Job; t != nil && (t.PendingMessagesTo != "" || t.UnconfirmedMessagesTo != "") {
		// After the message; both moves read the statuses as the message
		// left them, so that one does not move again what the other moved.
		at := s.ts(t.At)
		for i := range job.Messages {
			m := &job.Messages[i]
			switch {
			case m.Status == wasend.MessagePending && t.PendingMessagesTo != "":
				m.Status, m.UpdatedAt = t.PendingMessagesTo, at
			case m.Status == wasend.MessageUnconfirmed && t.UnconfirmedMessagesTo != "":
				m.Status, m.UpdatedAt = t.UnconfirmedMessagesTo, at
			}
		}
	}
	if t := st.Context; t != nil {
		at := s.ts(t.At)
		bc.Status = t.To
		bc.UpdatedAt = at
		if r := t.Restriction; r != nil {
			bc.Restriction = *r
			if !r.Until.IsZero() {
				bc.Restriction.Until = s.ts(r.Until)
			}
		}
		if t.LoggedIn && bc.FirstLoginAt.IsZero() {
			bc.FirstLoginAt = at
		}
		if t.Account != nil {
			bc.Account = *t.Account
		}
	}
	if r := st.Receipt; r != nil {
		at := s.ts(r.At)
		if r.Ack >= wasend.AckDelivered && rcpt.DeliveredAt.IsZero() {
			rcpt.DeliveredAt = at
		}
		if r.Ack >= wasend.AckRead && rcpt.ReadAt.IsZero() {
			rcpt.ReadAt = at
		}
		if r.Undelivered && rcpt.UndeliveredAt.IsZero() {
			rcpt.UndeliveredAt = at
		}
		rcpt.UpdatedAt = at
	}
	if r := st.Send; r != nil {
		rec := *r
		rec.At = s.ts(r.At)
		s.sends = append(s.sends, rec)
		if s.contacts[rec.ContextID] == nil {
			s.contacts[rec.ContextID] = map[string]bool{}
		}
		s.contacts[rec.ContextID][rec.Recipient] = true
	}
	s.recordEvents(st.Events, 0)
	return true, nil
}

func (s *Store) findMessage(id int64) *wasend.Message {
	j := s.jobs[s.msgJob[id]]
	if j == nil {
		return nil
	}
	for i := range j.Messages {
		if j.Messages[i].ID == id {
			return &j.Messages[i]
		}
	}
	return nil
}

// receiptChanges reports whether a receipt changes a column of m.
func receiptChanges(m *wasend.Message, r *wasend.ReceiptTransition) bool {
	return (r.Ack >= wasend.AckDelivered && m.DeliveredAt.IsZero()) || (r.Ack >= wasend.AckRead && m.ReadAt.IsZero()) ||
		(r.Undelivered && m.UndeliveredAt.IsZero())
}

func validateStep(st wasend.Step) error {
	if st.Job == nil && st.Message == nil && st.Context == nil && st.Receipt == nil {
		return fmt.Errorf("%w: empty step", wasend.ErrInvalidStep)
	}
	if r := st.Receipt; r != nil && (r.MessageID <= 0 || r.Ack < wasend.AckNone || r.Ack > wasend.AckPlayed) {
		return fmt.Errorf("%w: receipt %+v", wasend.ErrInvalidStep, *r)
	}
	if r := st.Send; r != nil && (r.ContextID == 0 || r.Recipient == "") {
		return fmt.Errorf("%w: send record without a context or a recipient", wasend.ErrInvalidStep)
	}
	if t := st.Job; t != nil {
		if len(t.From) == 0 || !t.To.Valid() || (t.To == wasend.JobRunning && t.Claim == "") || !t.Wait.Valid() ||
			(t.PendingMessagesTo != "" && !t.PendingMessagesTo.Valid()) ||
			(t.UnconfirmedMessagesTo != "" && !t.UnconfirmedMessagesTo.Valid()) {
			return fmt.Errorf("%w: job transition %+v", wasend.ErrInvalidStep, *t)
		}
		for _, f := range t.From {
			if !f.Valid() {
				return fmt.Errorf("%w: job status %q", wasend.ErrInvalidStep, f)
			}
		}
	}
	if t := st.Message; t != nil {
		if len(t.From) == 0 || !t.To.Valid() {
			return fmt.Errorf("%w: message transition %+v", wasend.ErrInvalidStep, *t)
		}
		for _, f := range t.From {
			if !f.Valid() {
				return fmt.Errorf("%w: message status %q", wasend.ErrInvalidStep, f)
			}
		}
	}
	if t := st.Context; t != nil {
		if len(t.From) == 0 || !t.To.Valid() || (t.Restriction != nil && !t.Restriction.Kind.Valid()) {
			return fmt.Errorf("%w: context transition %+v", wasend.ErrInvalidStep, *t)
		}
		for _, f := range t.From {
			if !f.Valid() {
				return fmt.Errorf("%w: context status %q", wasend.ErrInvalidStep, f)
			}
		}
	}
	return nil
}

// Counts implements wasend.Store.
func (s *Store) Counts(ctx context.Context) (wasend.StoreCounts, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail(ctx); err != nil {
		return wasend.StoreCounts{}, err
	}
	type jk struct {
		c int64
		k wasend.JobKind
		s wasend.JobStatus
	}
	type mk struct {
		c int64
		s wasend.MessageStatus
	}
	jobs := map[jk]int64{}
	msgs := map[mk]int64{}
	for _, j := range s.jobs {
		jobs[jk{j.ContextID, j.Kind, j.Status}]++
		for _, m := range j.Messages {
			msgs[mk{j.ContextID, m.Status}]++
		}
	}
	receipts := map[int64]*wasend.ReceiptCount{}
	for _, j := range s.jobs {
		for _, m := range j.Messages {
			if m.DeliveredAt.IsZero() && m.ReadAt.IsZero() && m.UndeliveredAt.IsZero() {
				continue
			}
			rc := receipts[j.ContextID]
			if rc == nil {
				rc = &wasend.ReceiptCount{ContextID: j.ContextID}
				receipts[j.ContextID] = rc
			}
			if !m.DeliveredAt.IsZero() {
				rc.Delivered++
			}
			if !m.ReadAt.IsZero() {
				rc.Read++
			}
			if !m.UndeliveredAt.IsZero() {
				rc.Undelivered++
			}
		}
	}
	var out wasend.StoreCounts
	for _, rc := range receipts {
		out.Receipts = append(out.Receipts, *rc)
	}
	for k, n := range jobs {
		out.Jobs = append(out.Jobs, wasend.JobCount{ContextID: k.c, Kind: k.k, Status: k.s, N: n})
	}
	for k, n := range msgs {
		out.Messages = append(out.Messages, wasend.MessageCount{ContextID: k.c, Status: k.s, N: n})
	}
	return out, nil
}

// Clean implements wasend.Store.
func (s *Store) Clean(ctx context.Context, before time.Time) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail(ctx); err != nil {
		return 0, err
	}
	var n int64
	for id, j := range s.jobs {
		if j.Status.Final() && j.FinishedAt.Before(before) {
			for _, m := range j.Messages {
				delete(s.msgJob, m.ID)
			}
			if j.IdempotencyKey != "" {
				delete(s.keys, j.IdempotencyKey)
			}
			delete(s.jobs, id)
			n++
		}
	}
	s.cleanCampaigns()
	return n, nil
}
