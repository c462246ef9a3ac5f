package wasend

import (
	"context"
	"log/slog"
	"time"
)

// pacerRefresh is how often a live context's record (its policy and its
// restriction, which the host or another process may change) is read
// again.
const pacerRefresh = time.Minute

// governor keeps the live contexts' sends within their pacing, their
// restrictions and their breakers. The executor asks it before each
// message's turn (gate) and tells it each attempt's outcome; it keeps
// each context's state in the context's pacer and the durable part in
// the store: the policy and the restriction with the context, and the
// sends in its ledger, written in the same step as the attempt.
type governor struct {
	store   Store
	policy  Pacing // the default policy (WithPacing)
	breaker Breaker
	enq     *enqueuer
	events  *eventPump
	// observer is told of the waits.
	observer Observer
	now      func() time.Time
	log      *slog.Logger
}

// gate decides whether message m may begin its turn through lc now. When
// it may, rec is the ledger entry to write with the step that begins the
// attempt (nil when the context is not paced). The caller holds lc's send
// lock.
func (g *governor) gate(ctx context.Context, lc *liveContext, m Message) (d decision, rec *SendRecord, err error) {
	p := &lc.pacer
	p.mu.Lock()
	defer p.mu.Unlock()
	now := g.now()
	if err := g.refresh(ctx, lc, now); err != nil {
		return decision{}, nil, err
	}
	if r := p.restriction; r.Kind != RestrictionNone && !r.Active(now) {
		p.restriction = Restriction{}
		if r.Kind == RestrictionNewChats {
			// The context's status never changed: the host hears it ended.
			g.events.hostEvent(SessionEvent{Type: EventRestriction, SystemID: lc.systemID, ContextID: lc.id})
		} else {
			g.lift(ctx, lc, r, now)
		}
	}
	if p.policy.Off() && !p.restriction.Active(now) {
		return decision{}, nil, nil
	}
	e := SendRecord{ContextID: lc.id, At: now, Recipient: HashRecipient(m.To), TextHash: HashText(contentKey(m))}
	contacted, err := g.store.Contacted(ctx, lc.id, e.Recipient)
	if err != nil {
		return decision{}, nil, err
	}
	e.NewContact = !contacted
	d = p.decide(now, e.NewContact, e.TextHash)
	if !d.send() {
		if d.until.IsZero() {
			d.until = now.Add(time.Hour) // a ban: the job fails when its context is seen closed
		}
		d.until = p.slot(now, d)
		return d, nil, nil
	}
	if p.policy.Off() {
		return d, nil, nil
	}
	return d, &e, nil
}

// refresh loads the context's record and ledger when lc's pacer has not
// yet, or reads the record again after pacerRefresh; a context held for
// an account change is read at each gate, so that a ConfirmAccount of any
// process is seen at once. It runs under the pacer's lock.
func (g *governor) refresh(ctx context.Context, lc *liveContext, now time.Time) error {
	p := &lc.pacer
	if p.loaded && now.Before(p.refreshAt) && p.restriction.Kind != RestrictionAccount {
		return nil
	}
	bc, err := g.store.Context(ctx, lc.id)
	if err != nil {
		return err
	}
	pol := g.policy
	if bc.Pacing != nil {
		pol = *bc.Pacing
	}
	p.setPolicy(pol)
	p.firstLogin = bc.FirstLoginAt
	switch {
	case bc.Restriction.Active(now):
		p.restriction = bc.Restriction
	case p.restriction.Kind == RestrictionAccount:
		// The host confirmed the account through another process.
		g.confirmedElsewhere(ctx, lc, bc, now)
	case p.restriction.Kind == RestrictionNone && bc.Status == ContextRestricted:
		// Its restriction ended while no process held it (or the lift
		// could not be written): lift it now.
		g.lift(ctx, lc, bc.Restriction, now)
	}
	if !p.loaded && !pol.Off() {
		recs, err := g.store.Sends(ctx, lc.id, p.retention(now))
		if err != nil {
			return err
		}
		p.load(now, recs)
	}
	p.loaded = true
	p.refreshAt = now.Add(pacerRefresh)
	return nil
}

// lift ends a restriction whose time is over: a restricted context is
// available again, and after the breaker's cool-down the next send is a
// probe. It runs under the pacer's lock.
func (g *governor) lift(ctx context.Context, lc *liveContext, r Restriction, now time.Time) {
	p := &lc.pacer
	ok, err := g.store.Apply(ctx, Step{Context: ctxLift.context(lc.id, now)})
	if err != nil {
		g.log.Warn("lifting a restriction", "context", lc.id, "err", err)
		return
	}
	if ok {
		if r.Kind == RestrictionBreaker {
			p.breaker.probing = true
		}
		lc.stale.Store(true)
		g.log.Info("restriction over; the context sends again", "context", lc.id, "kind", r.Kind)
		g.events.hostEvent(SessionEvent{Type: EventRestriction, SystemID: lc.systemID, ContextID: lc.id})
		g.events.hostEvent(SessionEvent{Type: EventStatus, SystemID: lc.systemID, ContextID: lc.id, Status: ContextAvailable})
	}
}

// confirmedElsewhere clears lc's hold for an account change that a
// ConfirmAccount lifted in another process (which cleared the stored
// account, not knowing the new one): the account pending here is stored.
// It runs under the pacer's lock.
func (g *governor) confirmedElsewhere(ctx context.Context, lc *liveContext, bc BrowserContext, now time.Time) {
	p := &lc.pacer
	p.restriction = Restriction{}
	acct := p.pendingAccount
	p.pendingAccount = ""
	if acct == "" || bc.Account != "" {
		return
	}
	e, ok := accountEdge(bc.Status)
	if !ok {
		return
	}
	t := e.context(lc.id, now)
	t.Account = &acct
	if _, err := g.store.Apply(ctx, Step{Context: t}); err != nil {
		g.log.Warn("recording a confirmed account", "context", lc.id, "account", MaskPhone(acct), "err", err)
		return
	}
	g.log.Info("account confirmed", "context", lc.id, "account", MaskPhone(acct))
}

// noted records, in lc's pacer, a ledger entry that the store wrote.
func (g *governor) noted(lc *liveContext, rec *SendRecord) {
	if rec == nil {
		return
	}
	p := &lc.pacer
	p.mu.Lock()
	p.note(*rec)
	p.mu.Unlock()
}

// outcome feeds an attempt's outcome to lc's breaker, and returns the
// restriction to impose when it opens, or nil.
func (g *governor) outcome(lc *liveContext, ok, rejected bool) *Restriction {
	if g.breaker.Failures == 0 && g.breaker.Rejects == 0 {
		return nil
	}
	p := &lc.pacer
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.outcome(g.breaker, g.now(), ok, rejected)
}

// restricted records, in lc's pacer, a restriction that the store holds
// now, and tells the host.
func (g *governor) restricted(lc *liveContext, r Restriction) {
	p := &lc.pacer
	p.mu.Lock()
	p.restriction = r
	p.mu.Unlock()
	g.log.Warn("browser context restricted", "context", lc.id, "kind", r.Kind, "until", r.Until, "reason", r.Reason)
	g.events.hostEvent(SessionEvent{Type: EventRestriction, SystemID: lc.systemID, ContextID: lc.id, Restriction: r})
}

// waiting tells the host that a job waits.
func (g *governor) waiting(lc *liveContext, jobID int64, d decision) {
	g.log.Debug("job waits", "job", jobID, "context", lc.id, "why", d.wait, "until", d.until)
	g.events.hostEvent(SessionEvent{Type: EventWait, SystemID: lc.systemID, ContextID: lc.id, JobID: jobID,
		Wait: d.wait, Until: d.until})
	g.observer.Waited(Wait{ContextID: lc.id, JobID: jobID, Reason: d.wait, Until: d.until})
}

// stats returns a context's pacing figures at now, or nil when it is
// neither paced nor restricted. lc is its live context here, or nil: the
// ledger is then read from the store.
func (g *governor) stats(ctx context.Context, bc BrowserContext, lc *liveContext) (*PacingStats, error) {
	now := g.now()
	var p pacer
	pol := g.policy
	if bc.Pacing != nil {
		pol = *bc.Pacing
	}
	p.setPolicy(pol)
	p.firstLogin, p.restriction = bc.FirstLoginAt, bc.Restriction
	if pol.Off() && !p.restriction.Active(now) {
		return nil, nil
	}
	live := false
	if lc != nil {
		lc.pacer.mu.Lock()
		if lc.pacer.loaded && !lc.pacer.policy.Off() {
			p.sends = append([]SendRecord(nil), lc.pacer.sends...)
			p.nextAt, live = lc.pacer.nextAt, true
		}
		lc.pacer.mu.Unlock()
	}
	if !live && !pol.Off() {
		recs, err := g.store.Sends(ctx, bc.ID, p.retention(now))
		if err != nil {
			return nil, err
		}
		p.load(now, recs)
		p.nextAt = time.Time{}
		if n := len(recs); n > 0 {
			p.nextAt = recs[n-1].At.Add(pol.MinGap)
		}
	}
	b := p.budget(now)
	d := p.decide(now, false, "\x00stats")
	st := &PacingStats{HourLeft: b.hour, DayLeft: b.day, NewContactsLeft: b.newContacts, Wait: d.wait, Until: d.until}
	if p.restriction.Active(now) {
		st.Restriction = p.restriction
	}
	return st, nil
}
