package wasend

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"
)

// eventHandlerTimeout bounds one call of the handler, well within the
// lease.
const eventHandlerTimeout = 10 * time.Second

// relay hands the outbox's events to the host's handler while Run runs,
// on a goroutine of its own: it claims a batch, delivers it in id order
// (a job's later events wait behind a failed one), and settles each
// event. Several processes may relay one outbox: a claim is a lease, so
// an event is delivered by one process at a time, at least once.
type relay struct {
	outbox  OutboxStore
	handler OutboxHandler
	owner   string
	batch   int
	lease   time.Duration
	tries   int
	poll    time.Duration
	backoff backoff
	now     func() time.Time
	log     *slog.Logger
	// kick wakes the relay when this process wrote events.
	kick chan struct{}

	done chan struct{}
	wg   sync.WaitGroup
}

// start relays until ctx ends or shutdown.
func (r *relay) start(ctx context.Context) {
	r.done = make(chan struct{})
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for {
			n, err := r.relayOnce(ctx)
			if err != nil && ctx.Err() == nil {
				r.log.Warn("relaying events", "err", err)
			}
			if n > 0 && err == nil {
				continue // there may be more
			}
			t := time.NewTimer(r.poll)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-r.done:
				t.Stop()
				return
			case <-r.kick:
			case <-t.C:
			}
			t.Stop()
		}
	}()
}

// shutdown stops the relay and waits for it. Events it claimed and did not
// settle are taken again once their lease ends.
func (r *relay) shutdown() {
	if r.done == nil {
		return
	}
	close(r.done)
	r.wg.Wait()
	r.done = nil
}

// wake tells the relay that events were written.
func (r *relay) wake() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// relayOnce claims a batch, delivers it and settles it; it returns how
// many events it claimed.
func (r *relay) relayOnce(ctx context.Context) (int, error) {
	now := r.now()
	evs, err := r.outbox.ClaimEvents(ctx, r.owner, now, now.Add(r.lease), r.batch)
	if err != nil || len(evs) == 0 {
		return 0, err
	}
	sort.Slice(evs, func(i, j int) bool { return evs[i].ID < evs[j].ID })
	results := make([]EventResult, 0, len(evs))
	held := map[int64]time.Time{} // jobs with a failed event: their later ones wait
	for _, ev := range evs {
		if ev.JobID != 0 {
			if next, ok := held[ev.JobID]; ok {
				results = append(results, EventResult{ID: ev.ID, NextAt: next})
				continue
			}
		}
		select {
		case <-r.done:
			// Stopping: what is left stays claimed until its lease ends.
			return len(evs), r.settle(ctx, results)
		default:
		}
		err := r.deliver(ctx, ev)
		if err == nil {
			results = append(results, EventResult{ID: ev.ID, Delivered: true})
			continue
		}
		if ctx.Err() != nil {
			// Run stops: the handler was cut short, which is no failed
			// delivery; what is left stays claimed until its lease ends.
			return len(evs), r.settle(ctx, results)
		}
		res := EventResult{ID: ev.ID, Attempted: true, Error: truncate(err.Error(), 500)}
		if ev.Attempts+1 >= r.tries {
			res.Dead = true
			r.log.Error("event dead: its deliveries kept failing", "event", ev.ID, "topic", ev.Topic, "job", ev.JobID, "err", err)
		} else {
			res.NextAt = r.now().Add(r.backoff.after(ev.Attempts + 1))
			r.log.Warn("event delivery failed; it will be retried", "event", ev.ID, "topic", ev.Topic,
				"attempts", ev.Attempts+1, "next", res.NextAt, "err", err)
		}
		if ev.JobID != 0 && !res.Dead {
			held[ev.JobID] = res.NextAt
		}
		results = append(results, res)
	}
	return len(evs), r.settle(ctx, results)
}

// deliver calls the handler, bounded in time, and turns a panic into an
// error.
func (r *relay) deliver(ctx context.Context, ev Event) (err error) {
	hctx, cancel := context.WithTimeout(ctx, eventHandlerTimeout)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			err = &PanicError{Value: p}
		}
	}()
	return r.handler(hctx, ev)
}

func (r *relay) settle(ctx context.Context, results []EventResult) error {
	if len(results) == 0 {
		return nil
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	return r.outbox.SettleEvents(sctx, r.owner, results)
}

// eventsOf derives the events that a step tells of, from its transitions:
// a job's change of status, a message's outcome, a context's new status.
func eventsOf(s Step, at time.Time) []Event {
	var evs []Event
	// A message's outcome comes before its job's, which it completes.
	if t := s.Message; t != nil {
		if topic := messageTopic(t.To); topic != "" {
			evs = append(evs, Event{Topic: topic, At: at, MessageID: t.ID, Status: string(t.To), ErrorKind: t.ErrorKind})
		}
	}
	if t := s.Job; t != nil {
		if topic := jobTopic(t); topic != "" {
			evs = append(evs, Event{Topic: topic, At: at, JobID: t.ID, Status: string(t.To), ErrorKind: t.ErrorKind})
		}
	}
	if t := s.Context; t != nil && contextTold(t) {
		e := Event{Topic: TopicContextStatus, At: at, ContextID: t.ID, Status: string(t.To)}
		if r := t.Restriction; r != nil {
			e.Data = map[string]any{"restriction": string(r.Kind)}
			if !r.Until.IsZero() {
				e.Data["until"] = r.Until.UTC().Format(time.RFC3339Nano)
			}
		}
		evs = append(evs, e)
	}
	return evs
}

// jobTopic names a job's change: its new status, told once (a claim of a
// pending job is running; a running job going on, waiting or retrying
// tells nothing).
func jobTopic(t *JobTransition) Topic {
	from := func(s JobStatus) bool { return len(t.From) == 1 && t.From[0] == s }
	switch t.To {
	case JobRunning:
		if from(JobPending) {
			return TopicJobRunning
		}
	case JobCompleted:
		return TopicJobCompleted
	case JobFailed:
		return TopicJobFailed
	case JobPaused:
		return TopicJobPaused
	case JobCancelled:
		return TopicJobCancelled
	case JobPending:
		if from(JobPaused) {
			return TopicJobResumed
		}
	}
	return ""
}

func messageTopic(s MessageStatus) Topic {
	switch s {
	case MessageSent:
		return TopicMessageSent
	case MessageFailed:
		return TopicMessageFailed
	case MessageCancelled:
		return TopicMessageCancelled
	case MessageUnknown:
		return TopicMessageUnknown
	}
	return ""
}

// contextTold reports whether a context's change is told: not the flips
// between available and busy of every send.
func contextTold(t *ContextTransition) bool {
	if t.To == ContextBusy {
		return false
	}
	if t.To == ContextAvailable {
		for _, f := range t.From {
			if f != ContextBusy {
				return true
			}
		}
		return false
	}
	for _, f := range t.From {
		if f != t.To {
			return true
		}
	}
	return t.Restriction != nil // a restriction renewed
}

// errNoCampaigns is what the campaign methods of outboxing return when the
// store keeps no campaigns.
var errNoCampaigns = fmt.Errorf("%w: the store keeps no campaigns (CampaignStore)", ErrNotSupported)

// outboxing is the Store of a Client with an outbox (WithOutbox): it adds
// to each change the events that tell of it, so that the store records
// them in the change's transaction, and wakes the relay.
type outboxing struct {
	Store
	camps  CampaignStore // nil: the store keeps no campaigns
	outbox OutboxStore
	now    func() time.Time
	wake   func()
	// pii puts whole numbers in the events of accounts (WithEventPII).
	pii bool
}

var _ CampaignStore = (*outboxing)(nil)

func stepTime(s Step, now time.Time) time.Time {
	for _, at := range []time.Time{jobAt(s.Job), msgAt(s.Message), ctxAt(s.Context)} {
		if !at.IsZero() {
			return at
		}
	}
	return now
}

func jobAt(t *JobTransition) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.At
}

func msgAt(t *MessageTransition) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.At
}

func ctxAt(t *ContextTransition) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.At
}

// tell records events that tell of no change of the store, and wakes the
// relay.
func (o *outboxing) tell(ctx context.Context, evs []Event) error {
	if err := o.outbox.AddEvents(ctx, evs); err != nil {
		return err
	}
	o.wake()
	return nil
}

// Apply adds the step's events.
func (o *outboxing) Apply(ctx context.Context, s Step) (bool, error) {
	at := stepTime(s, o.now())
	evs := append(eventsOf(s, at), noticesOf(s, at, o.pii)...)
	if len(evs) == 0 {
		return o.Store.Apply(ctx, s)
	}
	s.Events = append(append([]Event(nil), s.Events...), evs...)
	ok, err := o.Store.Apply(ctx, s)
	if ok && err == nil {
		o.wake()
	}
	return ok, err
}

func created(at time.Time) Event {
	return Event{Topic: TopicJobCreated, At: at, Status: string(JobPending)}
}

// CreateJob adds the job's job.created event.
func (o *outboxing) CreateJob(ctx context.Context, j Job) (Job, error) {
	j.Events = append(append([]Event(nil), j.Events...), created(o.now()))
	job, err := o.Store.CreateJob(ctx, j)
	if err == nil {
		o.wake()
	}
	return job, err
}

// CreateCampaign adds each job's job.created event.
func (o *outboxing) CreateCampaign(ctx context.Context, c Campaign) (Campaign, error) {
	if o.camps == nil {
		return Campaign{}, errNoCampaigns
	}
	jobs := make([]Job, len(c.Jobs))
	for i, j := range c.Jobs {
		j.Events = append(append([]Event(nil), j.Events...), created(o.now()))
		jobs[i] = j
	}
	c.Jobs = jobs
	out, err := o.camps.CreateCampaign(ctx, c)
	if err == nil {
		o.wake()
	}
	return out, err
}

// MoveMessages adds the new job's job.created event.
func (o *outboxing) MoveMessages(ctx context.Context, m MessageMove) (Job, error) {
	if o.camps == nil {
		return Job{}, errNoCampaigns
	}
	m.Events = append(append([]Event(nil), m.Events...), created(o.now()))
	return o.camps.MoveMessages(ctx, m)
}

func (o *outboxing) Campaign(ctx context.Context, id int64) (Campaign, error) {
	if o.camps == nil {
		return Campaign{}, errNoCampaigns
	}
	return o.camps.Campaign(ctx, id)
}

func (o *outboxing) Campaigns(ctx context.Context, f CampaignFilter) ([]Campaign, error) {
	if o.camps == nil {
		return nil, errNoCampaigns
	}
	return o.camps.Campaigns(ctx, f)
}

func (o *outboxing) Contacts(ctx context.Context, contextIDs []int64, recipients []string) ([]Contact, error) {
	if o.camps == nil {
		return nil, errNoCampaigns
	}
	return o.camps.Contacts(ctx, contextIDs, recipients)
}
