package wasend

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// eventPump applies the sessions' status events to the store and hands
// every event to the host's handler, in order, on one goroutine of its
// own, so that a pool's callback never blocks. Its owner starts it before
// the first session launches and shuts it down last.
type eventPump struct {
	queue    *eventQueue
	contexts *registry
	store    Store
	enq      *enqueuer
	handler  func(SessionEvent) // the host's (WithEventHandler), or nil
	// tell records, with an outbox, the outcome events of session events
	// that change nothing in the store (QR codes, waits); nil without.
	tell    func(ctx context.Context, evs []Event) error
	secrets bool // WithEventSecrets: QR payloads and codes in events
	now     func() time.Time
	log     *slog.Logger
	wg      sync.WaitGroup

	// inbound handles the events beyond the status (incoming messages,
	// acks, the account).
	inbound *inbound
}

// start starts the pump's goroutine.
func (p *eventPump) start() {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		p.loop()
	}()
}

// shutdown stops the pump once the events queued so far are handled, and
// waits for it. Later events are dropped.
func (p *eventPump) shutdown() {
	p.queue.close()
	p.wg.Wait()
}

// onEvent receives the pool's events. It never blocks.
func (p *eventPump) onEvent(ev SessionEvent) {
	if ev.At.IsZero() {
		ev.At = p.now()
	}
	lc := p.contexts.route(ev)
	if lc == nil {
		return // kept until the session is registered (see replay)
	}
	if lc.muted.Load() && (ev.Type == EventStatus || ev.Type == EventQR || ev.Type == EventPairingCode) {
		return // a browser closing to sleep, or one not woken yet (hibernator)
	}
	ev.ContextID = lc.id
	p.queue.push(queuedEvent{ev: ev})
}

// replay queues the events that a session sent before it was registered
// as context id.
func (p *eventPump) replay(id int64, evs []SessionEvent) {
	for _, ev := range evs {
		ev.ContextID = id
		p.queue.push(queuedEvent{ev: ev})
	}
}

// hostEvent hands the host an event about what the Client recorded itself.
func (p *eventPump) hostEvent(ev SessionEvent) {
	if ev.At.IsZero() {
		ev.At = p.now()
	}
	p.queue.push(queuedEvent{ev: ev, hostOnly: true})
}

// loop applies session events to the store and hands them to the host.
func (p *eventPump) loop() {
	for {
		qe, ok := p.queue.pop()
		if !ok {
			return
		}
		ev := qe.ev
		if ev.Type == EventStatus && !qe.hostOnly {
			p.applyStatus(ev)
		}
		if !qe.hostOnly && p.inbound != nil {
			var tell bool
			if ev, tell = p.inbound.handle(ev); !tell {
				continue // a duplicate, or what the host need not see
			}
		}
		p.toOutbox(ev)
		if p.handler != nil {
			func() {
				defer func() {
					if r := recover(); r != nil {
						p.log.Error("event handler panicked", "panic", fmt.Sprint(r))
					}
				}()
				p.handler(ev)
			}()
		}
	}
}

func (p *eventPump) applyStatus(ev SessionEvent) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var t *ContextTransition
	switch ev.Status {
	case ContextAvailable:
		t = ctxUp.context(ev.ContextID, ev.At)
		t.LoggedIn = true
	case ContextDisconnected:
		t = ctxDown.context(ev.ContextID, ev.At)
	case ContextError:
		t = ctxFault.context(ev.ContextID, ev.At)
	case ContextRestricted:
		// The page shows a temporary ban.
		t = restrictContext(ev.ContextID, Restriction{Kind: RestrictionTemporary, Until: ev.At.Add(time.Hour)}, ev.At)
	default:
		p.log.Warn("session event with an unexpected status", "context", ev.ContextID, "status", ev.Status)
		return
	}
	// A restriction that the page shows says more than the status.
	r := restrictionOf(ev.Err, ev.At)
	if r != nil && r.Kind != RestrictionNewChats {
		t = restrictContext(ev.ContextID, *r, ev.At)
	} else if r != nil {
		t.Restriction = r
	}
	var (
		ok  bool
		err error
	)
	record := func() { ok, err = p.store.Apply(ctx, Step{Context: t}) }
	lc := p.contexts.get(ev.ContextID)
	if ev.Status == ContextAvailable && p.inbound != nil {
		p.inbound.loggedIn(ctx, ev.ContextID, lc)
	}
	if lc != nil {
		lc.reportStatus(ev.Status == ContextAvailable, record)
	} else {
		record()
	}
	if err == nil && ok && t.Restriction != nil {
		if lc != nil {
			lc.pacer.mu.Lock()
			lc.pacer.restriction = *t.Restriction
			lc.pacer.mu.Unlock()
		}
		p.log.Warn("browser context restricted", "context", ev.ContextID, "kind", t.Restriction.Kind,
			"until", t.Restriction.Until)
		if p.handler != nil {
			p.queue.push(queuedEvent{ev: SessionEvent{Type: EventRestriction, SystemID: ev.SystemID,
				ContextID: ev.ContextID, Restriction: *t.Restriction, At: ev.At}, hostOnly: true})
		}
		if t.Restriction.Kind == RestrictionBanned {
			_ = p.enq.failJobs(ctx, ev.ContextID, true)
		}
	}
	if err != nil {
		p.log.Error("recording a session status", "context", ev.ContextID, "status", ev.Status, "err", err)
		return
	}
	attrs := []any{"context", ev.ContextID, "status", ev.Status}
	if ev.Err != nil {
		attrs = append(attrs, "cause", ev.Err)
	}
	p.log.Info("session status", attrs...)
	if ev.Status == ContextAvailable && r == nil && p.liftTemporary(ctx, lc, ev) {
		ok = true
	}
	if ok && ev.Status == ContextAvailable {
		p.enq.wakeJobs(ctx, ev.ContextID)
	}
}

// toOutbox records, with an outbox, the event that a session event which
// changes nothing in the store tells of: a QR or pairing code shown, a
// job that waits, a different account in a context (its hold is stored,
// not the account). It is not part of a change's transaction, so a store
// that fails loses it (a QR code is shown again within a minute; a wait
// is told again at the job's next turn).
func (p *eventPump) toOutbox(ev SessionEvent) {
	if p.tell == nil {
		return
	}
	e, ok := outboxEventOf(ev, p.secrets)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.tell(ctx, []Event{e}); err != nil {
		p.log.Warn("recording an event in the outbox", "topic", e.Topic, "context", ev.ContextID, "err", err)
	}
}

// outboxEventOf is the outcome event of a session event that changes
// nothing in the store, if it tells of one.
func outboxEventOf(ev SessionEvent, secrets bool) (Event, bool) {
	e := Event{At: ev.At, ContextID: ev.ContextID}
	switch ev.Type {
	case EventQR:
		e.Topic = TopicContextQR
		if secrets {
			e.Data = map[string]any{"qr": ev.QR}
		}
	case EventPairingCode:
		e.Topic = TopicContextPairingCode
		if secrets {
			e.Data = map[string]any{"code": ev.Code}
		}
	case EventAccountChanged:
		// The hold is in the store already; the new account is not (it
		// waits for ConfirmAccount), so the event comes from here. Its
		// Account is masked already unless WithEventPII.
		e.Topic, e.Status = TopicContextAccountChanged, string(ContextRestricted)
		e.Data = map[string]any{"account": ev.Account}
	case EventAsleep:
		e.Topic, e.Status = TopicContextAsleep, string(ContextAvailable)
	case EventAwake:
		e.Topic = TopicContextAwake
	case EventWait:
		e.Topic, e.JobID, e.Status = TopicJobWaiting, ev.JobID, string(ev.Wait)
		if !ev.Until.IsZero() {
			e.Data = map[string]any{"until": ev.Until.UTC().Format(time.RFC3339Nano)}
		}
	default:
		return Event{}, false
	}
	return e, true
}

// liftTemporary ends a temporary ban that the page no longer shows: the
// session says it is up, and WhatsApp is the judge of its own bans (the
// breaker's cool-down, the Client's own, is not lifted so). It reports
// whether the context became available.
func (p *eventPump) liftTemporary(ctx context.Context, lc *liveContext, ev SessionEvent) bool {
	bc, err := p.store.Context(ctx, ev.ContextID)
	if err != nil || bc.Status != ContextRestricted || bc.Restriction.Kind != RestrictionTemporary {
		return false
	}
	t := ctxLift.context(ev.ContextID, ev.At)
	ended := bc.Restriction
	ended.Until = ev.At
	t.Restriction = &ended
	ok, err := p.store.Apply(ctx, Step{Context: t})
	if err != nil || !ok {
		return false
	}
	if lc != nil {
		lc.pacer.mu.Lock()
		lc.pacer.restriction = Restriction{}
		lc.pacer.mu.Unlock()
		lc.stale.Store(true)
	}
	p.log.Info("the page no longer shows the temporary ban; the context sends again", "context", ev.ContextID)
	p.queue.push(queuedEvent{ev: SessionEvent{Type: EventRestriction, SystemID: ev.SystemID, ContextID: ev.ContextID,
		At: ev.At}, hostOnly: true})
	return true
}

// queuedEvent is an event on its way to the store and the host. A
// hostOnly event reports what the Client itself recorded already (a
// session found gone by a send): it goes to the host only.
type queuedEvent struct {
	ev       SessionEvent
	hostOnly bool
}

// eventQueue is an unbounded FIFO of session events, so that a pool's
// callback never blocks.
type eventQueue struct {
	mu     sync.Mutex
	buf    []queuedEvent
	signal chan struct{}
	closed bool
}

func newEventQueue() *eventQueue { return &eventQueue{signal: make(chan struct{}, 1)} }

func (q *eventQueue) push(ev queuedEvent) {
	q.mu.Lock()
	if !q.closed {
		q.buf = append(q.buf, ev)
	}
	q.mu.Unlock()
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

// pop returns the next event, waiting for one; false once closed and empty.
func (q *eventQueue) pop() (queuedEvent, bool) {
	for {
		q.mu.Lock()
		if len(q.buf) > 0 {
			ev := q.buf[0]
			q.buf[0] = queuedEvent{}
			q.buf = q.buf[1:]
			q.mu.Unlock()
			return ev, true
		}
		if q.closed {
			q.mu.Unlock()
			return queuedEvent{}, false
		}
		q.mu.Unlock()
		<-q.signal
	}
}

func (q *eventQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	select {
	case q.signal <- struct{}{}:
	default:
	}
}
