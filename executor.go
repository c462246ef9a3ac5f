package wasend

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"
)

const (
	// earlyTolerance is how early a delivery may arrive before its job's
	// next_run_at and still run.
	earlyTolerance = 500 * time.Millisecond
	// recordTimeout bounds how long a worker keeps trying to record an
	// outcome while the store fails.
	recordTimeout = 2 * time.Minute
	// guardSkew widens the duplicate-send guard's window for clock skew
	// between the process and the page.
	guardSkew = 2 * time.Second
)

// worker is the Client's queue handler.
type worker struct{ c *Client }

func (w worker) HandleDelivery(ctx context.Context, d Delivery) error { return w.c.handle(ctx, d) }

func (w worker) HandleDeadLetter(ctx context.Context, d Delivery, err error) {
	w.c.deadLetter(ctx, d, err)
}

// handle runs one delivery: it claims its job in the store and sends it.
// It returns an error only when the store cannot be read or written, so
// that the queue delivers again later.
func (c *Client) handle(qctx context.Context, d Delivery) error {
	rs := c.currentRun()
	if rs == nil {
		// Not running: leave the job for a later delivery.
		c.requeue(qctx, d, 0)
		return nil
	}
	lc := c.liveContext(d.ContextID)
	if lc == nil {
		c.log.Debug("delivery for a context this process does not hold", "job", d.JobID, "context", d.ContextID)
		return nil
	}
	ctx, cancel := context.WithCancel(qctx)
	defer cancel()
	go func() {
		select {
		case <-rs.hard:
			cancel()
		case <-ctx.Done():
		}
	}()

	job, err := c.store.Job(ctx, d.JobID)
	if errors.Is(err, ErrJobNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if job.Status != JobPending || job.ContextID != d.ContextID || len(job.Messages) == 0 {
		return nil // duplicate delivery, or paused, cancelled, finished
	}
	if wait := job.NextRunAt.Sub(c.now()); wait > earlyTolerance {
		// An early (duplicate) delivery: keep one for the due time.
		c.requeue(ctx, d, wait)
		return nil
	}
	sem := c.singleSem
	if job.Kind == KindBulk {
		sem = c.bulkSem
	}
	select {
	case sem <- struct{}{}:
	case <-rs.stopping:
		c.requeue(ctx, d, 0)
		return nil
	case <-ctx.Done():
		c.requeue(ctx, d, 0)
		return nil
	}
	defer func() { <-sem }()
	if job.Kind == KindBulk {
		return c.runBulk(ctx, rs, lc, job)
	}
	return c.runSingle(ctx, rs, lc, job)
}

// requeue hands a delivery back to the queue; if that fails, the sweep
// finds the job later.
func (c *Client) requeue(ctx context.Context, d Delivery, delay time.Duration) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := c.queue.Enqueue(ctx, d, delay); err != nil {
		c.log.Warn("requeue failed; the sweep will find the job", "job", d.JobID, "err", err)
	}
}

func newClaim() string {
	var b [12]byte
	_, _ = crand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// startStep builds the step that starts a message's turn: the job's part
// (its claim, or a bulk job's next message), the context's part (busy),
// and the message's: a pending message begins an attempt; a message left
// sending by a worker that is gone becomes unconfirmed, and the attempt
// counts; an unconfirmed one is left for its lookup. It returns the
// message as the step leaves it.
func (c *Client) startStep(jt *JobTransition, lc *liveContext, m Message, at time.Time) (Step, Message) {
	s := Step{Job: jt, Context: c.busyTransition(lc, at)}
	switch m.Status {
	case MessagePending:
		s.Message = beginMessage(m, at)
		m.Status, m.AttemptedAt = MessageSending, at
		if m.GuardSince.IsZero() {
			m.GuardSince = at
		}
	case MessageSending:
		s.Message = rescueMessage(m.ID, at)
		jt.AddAttempt = true
		m.Status = MessageUnconfirmed
		m.Attempts++
	}
	return s, m
}

// runSingle runs a single job's message.
func (c *Client) runSingle(ctx context.Context, rs *runState, lc *liveContext, job Job) error {
	d := deliveryOf(job)
	m := job.Messages[0]
	if m.Status.Final() {
		// The message has its outcome; only the job's record is missing.
		c.settle(ctx, job.ID)
		return nil
	}
	h := c.lockContext(ctx, rs, lc)
	if h == nil {
		c.requeue(ctx, d, c.lockRetry(lc))
		return nil
	}
	defer c.unlockContext(ctx, h)
	if !c.leaseValid(lc) {
		// The lease could not be renewed: another process may take the
		// context over, so this one must not send through it.
		c.requeue(ctx, d, time.Second)
		return nil
	}
	claim := newClaim()
	c.addClaim(claim)
	defer c.dropClaim(claim)
	now := c.now()
	// The claim holds only if nothing changed the job since it was read
	// (IfVersion): another worker may have run it meanwhile.
	step, m := c.startStep(claimJob(job.ID, job.Version, claim, now), lc, m, now)
	ok, err := c.store.Apply(ctx, step)
	if err != nil {
		return err
	}
	if !ok {
		return c.notClaimed(ctx, job, d)
	}
	lc.storeBusy = true
	gen := lc.statusGen.Load()
	t := c.turn(ctx, rs, h, job, claim, m)
	return c.recordSingle(ctx, h, job, claim, m, t, gen)
}

// notClaimed works out why a pending job could not be claimed, and acts.
func (c *Client) notClaimed(ctx context.Context, job Job, d Delivery) error {
	fresh, err := c.store.Job(ctx, job.ID)
	if errors.Is(err, ErrJobNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if fresh.Status != JobPending {
		return nil // claimed by a duplicate delivery, paused or cancelled
	}
	if fresh.Version != job.Version {
		// Another worker ran it since it was read, and enqueued it again
		// when it handed it back (or the sweep will): this delivery is a
		// duplicate.
		c.log.Debug("job changed since it was read; leaving it to its own delivery", "job", job.ID)
		return nil
	}
	bc, err := c.store.Context(ctx, job.ContextID)
	if err != nil {
		return err
	}
	now := c.now()
	switch bc.Status {
	case ContextClosed:
		_, err := c.store.Apply(ctx, Step{Job: closedJob(jobClosed, job.ID, "", now)})
		return err
	case ContextDisconnected, ContextError:
		// Wait for the context without spending an attempt; it wakes the
		// job when it comes back.
		ok, err := c.store.Apply(ctx, Step{Job: waitJob(job.ID, now.Add(c.cfg.contextWait), now)})
		if err != nil {
			return err
		}
		if ok {
			c.requeue(ctx, d, c.cfg.contextWait)
		}
		return nil
	}
	// The message changed under us; look again shortly.
	c.log.Warn("job could not be claimed; retrying", "job", job.ID)
	c.requeue(ctx, d, time.Second)
	return nil
}

// turn is what one message's turn ended with.
type turn struct {
	// msg is the message's change, or nil.
	msg *MessageTransition
	// status is the message's status after msg.
	status MessageStatus
	// ctxTo is the context's status after the turn: ContextAvailable, or
	// the status a gone session or a hung call implies.
	ctxTo ContextStatus
	// retryIn is how long the job waits before its next turn, when the
	// message has no outcome yet.
	retryIn time.Duration
	// attempt says that the turn spent an attempt (the job counts it too).
	attempt bool
	// err is the failure, for the record and the logs.
	err error
}

func (t turn) final() bool { return t.status.Final() }

// turn runs a message's turn once startStep is applied: the lookup of an
// unconfirmed message, then, when the message may be sent, an attempt.
func (c *Client) turn(ctx context.Context, rs *runState, h *hold, job Job, claim string, m Message) turn {
	if m.Status == MessageUnconfirmed {
		t, again := c.lookup(ctx, h, job, m)
		if !again {
			return t
		}
		now := c.now()
		ok, err := c.store.Apply(ctx, Step{Job: nextMessage(job.ID, claim, now), Message: beginMessage(m, now)})
		if err != nil || !ok {
			// The job was paused or cancelled meanwhile, or the store
			// failed: the message stays unconfirmed, for a later turn.
			return turn{status: MessageUnconfirmed, ctxTo: ContextAvailable, retryIn: time.Second, err: err}
		}
		m.Status, m.AttemptedAt = MessageSending, now
	}
	return c.attempt(ctx, rs, h, job, m)
}

// lookup looks in the chat for an unconfirmed message. again reports that
// the message was not found and may be sent again.
func (c *Client) lookup(ctx context.Context, h *hold, job Job, m Message) (t turn, again bool) {
	now := c.now()
	t = turn{status: MessageUnconfirmed, ctxTo: ContextAvailable}
	f, ok := h.lc.session.(SentFinder)
	if !ok {
		if c.cfg.unknownOutcome == ResendUnknown && m.Attempts < job.MaxAttempts {
			return t, true
		}
		t.err = fmt.Errorf("%w: the session cannot look in the chat", ErrUnknownOutcome)
		t.msg, t.status = msgUnknown.message(m.ID, now).withError(t.err), MessageUnknown
		return t, false
	}
	if mk, ok := h.lc.session.(Marker); ok && mk.MarksSends() && m.GuardMark == "" {
		// The session marks every click and this message has no mark:
		// no attempt of it clicked. Looking for it could only find an
		// identical message sent since.
		c.log.Info("guard: no attempt of the message reached its click; it may be sent", "message", m.ID)
		if m.Attempts >= job.MaxAttempts {
			t.err = fmt.Errorf("no attempt reached its click in %d attempts", m.Attempts)
			t.msg, t.status = msgNotFound.message(m.ID, now), MessageFailed
			t.msg.ErrorKind, t.msg.Error = ErrorKindAttemptsExhausted, t.err.Error()
			return t, false
		}
		return t, true
	}
	since := m.GuardSince
	if since.IsZero() {
		since = m.AttemptedAt
	}
	if !since.IsZero() {
		since = since.Add(-guardSkew)
	}
	q := SentQuery{To: m.To, Text: m.Text, Since: since, Mark: m.GuardMark}
	var (
		res struct {
			r     Receipt
			found bool
			err   error
		}
		r     Receipt
		found bool
		err   error
	)
	if c.call(ctx, h, func(cctx context.Context) { res.r, res.found, res.err = safeFind(cctx, f, q) }) {
		err = fmt.Errorf("%w: FindSent", ErrSessionHung)
		t.ctxTo = ContextDisconnected
	} else {
		r, found, err = res.r, res.found, res.err
	}
	now = c.now()
	switch {
	case err == nil && found:
		c.log.Info("guard: message of an earlier attempt found in the chat; not sending again",
			"message", m.ID, "to", MaskPhone(m.To))
		if r.SentAt.IsZero() {
			r.SentAt = now
		}
		t.msg, t.status = sentMessage(msgFound, m.ID, r, false, now), MessageSent
		return t, false
	case err == nil && m.Attempts >= job.MaxAttempts:
		t.err = fmt.Errorf("not found in the chat after %d attempts", m.Attempts)
		t.msg, t.status = msgNotFound.message(m.ID, now), MessageFailed
		t.msg.ErrorKind, t.msg.Error = ErrorKindAttemptsExhausted, t.err.Error()
		return t, false
	case err == nil:
		return t, true
	}
	t.err = err
	if status, gone := SessionStatus(err); gone && t.ctxTo == ContextAvailable {
		// The session cannot look now: wait for it, and spend no lookup.
		t.ctxTo, t.retryIn = status, c.cfg.contextWait
		return t, false
	}
	e := msgLookupFail
	if m.Lookups+1 >= c.cfg.maxLookups {
		e = msgUnknown
		t.status = MessageUnknown
	}
	t.msg = lookupFailed(e, m.ID, err, now)
	t.retryIn = c.backoff(m.Lookups + 1)
	if t.ctxTo != ContextAvailable {
		t.retryIn = c.cfg.contextWait
	}
	return t, false
}

// attempt sends a message that is sending, and judges the outcome.
func (c *Client) attempt(ctx context.Context, rs *runState, h *hold, job Job, m Message) turn {
	lc := h.lc
	tr := &attemptTrace{}
	trace := &SendTrace{BeforeSend: func(mark string) error {
		return tr.before(func() error { return c.noteMark(ctx, m, mark) })
	}}
	// The call's results are read only once it has returned: a hung call
	// may write them after it was abandoned.
	var (
		res struct {
			r   Receipt
			err error
		}
		r   Receipt
		err error
	)
	hung := c.call(ctx, h, func(cctx context.Context) {
		res.r, res.err = safeSend(WithSendTrace(cctx, trace), lc.session, m.To, m.Text)
	})
	if hung {
		err = Unconfirmed(fmt.Errorf("%w: SendText", ErrSessionHung))
	} else {
		r, err = res.r, res.err
	}
	clicked := tr.end()
	now := c.now()
	if err == nil {
		if r.SentAt.IsZero() {
			r.SentAt = now
		}
		return turn{msg: sentMessage(msgSent, m.ID, r, true, now), status: MessageSent,
			ctxTo: ContextAvailable, attempt: true}
	}
	var ue *UnconfirmedError
	if mk, ok := lc.session.(Marker); ok && mk.MarksSends() && !clicked && errors.As(err, &ue) {
		// A session that reports its marks before every click did not
		// report one: it did not click, whatever its error says, and it
		// cannot click any more (a late BeforeSend is refused).
		err = ue.Err
	}
	unconfirmed := errors.Is(err, ErrUnconfirmed)
	t := turn{ctxTo: ContextAvailable, err: err, attempt: true}
	after := msgPark // a failure that spends no attempt
	if unconfirmed {
		after = msgUnconfirmed
	}
	attempts := m.Attempts + 1
	status, gone := SessionStatus(err)
	if hung {
		// The session is wedged until the call returns: the context shows
		// disconnected meanwhile, and the job waits for it.
		gone = false
		t.ctxTo = ContextDisconnected
	}
	switch {
	case gone:
		// The session is gone: the job waits for it, like after the
		// session's own status event. Only an attempt that may have sent
		// the message counts.
		t.ctxTo, t.retryIn, t.attempt = status, c.cfg.contextWait, unconfirmed
		t.msg = endAttempt(after, m.ID, err, now)
	case rs.isHard() && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)):
		// Our own shutdown: not the message's fault.
		t.attempt = unconfirmed
		t.msg = endAttempt(after, m.ID, err, now)
	case unconfirmed:
		t.retryIn = c.backoff(attempts)
		t.msg = endAttempt(msgUnconfirmed, m.ID, err, now)
	case !Retryable(err) || attempts >= job.MaxAttempts:
		t.msg = endAttempt(msgFail, m.ID, err, now)
	default:
		t.retryIn = c.backoff(attempts)
		t.msg = endAttempt(msgRetry, m.ID, err, now)
	}
	if hung {
		t.retryIn = c.cfg.contextWait
	}
	t.status = t.msg.To
	return t
}

// attemptTrace tells whether an attempt's session reported its mark before
// a click, and refuses a report that comes after the attempt was judged.
type attemptTrace struct {
	mu     sync.Mutex
	called bool
	ended  bool
}

// errAttemptOver is what a session's BeforeSend gets once the Client has
// judged the attempt (a hung call that wakes up): it must not click.
var errAttemptOver = errors.New("wasend: the attempt is over; do not send")

func (a *attemptTrace) before(f func() error) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ended {
		return errAttemptOver
	}
	a.called = true
	return f()
}

// end ends the attempt and reports whether the session reported a mark.
func (a *attemptTrace) end() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ended = true
	return a.called
}

// noteMark records, before the session's click, what the session saw in
// the chat. The first attempt of an unconfirmed run keeps its mark. If the
// mark cannot be recorded, the session must not click.
func (c *Client) noteMark(ctx context.Context, m Message, mark string) error {
	if mark == "" || m.GuardMark != "" {
		return nil
	}
	ok, err := c.store.Apply(ctx, Step{Message: markMessage(m.ID, mark, c.now())})
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: message %d is no longer sending", ErrJobState, m.ID)
	}
	return nil
}

// call runs f, a call into the hold's session, with the send timeout, and
// waits for it to return. A call that has not returned WithHangGrace after
// its deadline is abandoned: call reports true and hands the hold over to
// it, so that nothing else uses the session until it returns (see
// watchHung).
func (c *Client) call(ctx context.Context, h *hold, f func(context.Context)) (hung bool) {
	cctx, cancel := context.WithTimeout(ctx, c.cfg.sendTimeout)
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(cctx)
	}()
	select {
	case <-done:
		cancel()
		return false
	case <-cctx.Done():
	}
	grace := time.NewTimer(c.cfg.hangGrace)
	defer grace.Stop()
	select {
	case <-done:
		cancel()
		return false
	case <-grace.C:
	}
	cancel()
	lc := h.lc
	lc.wedged.Store(true)
	h.hung = done
	h.upBefore, h.genBefore = lc.sessionUp.Load(), lc.statusGen.Load()
	c.log.Error("a session call ignored its deadline; the session is not used until it returns",
		"context", lc.id, "grace", c.cfg.hangGrace)
	return true
}

// watchHung waits, in a goroutine that Close waits for, for a hung call to
// return; then the session may be used again: the context gets back the
// status it had, unless a session event changed it meanwhile, and the
// lock is released.
func (c *Client) watchHung(h *hold) {
	lc := h.lc
	c.hungWG.Add(1)
	go func() {
		defer c.hungWG.Done()
		<-h.hung
		c.log.Warn("a hung session call returned; the session is used again", "context", lc.id)
		lc.statusMu.Lock()
		up := false
		if lc.statusGen.Load() == h.genBefore {
			lc.sessionUp.Store(h.upBefore)
			up = h.upBefore
		}
		lc.wedged.Store(false)
		if up && c.holds(lc) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			ok, err := c.store.Apply(ctx, Step{Context: ctxUp.context(lc.id, c.now())})
			if err == nil && ok {
				lc.stale.Store(true)
				c.hostEvent(SessionEvent{Type: EventStatus, SystemID: lc.systemID, ContextID: lc.id,
					Status: ContextAvailable})
				lc.statusMu.Unlock()
				c.wakeJobs(ctx, lc.id)
				cancel()
				<-lc.lock
				return
			}
			cancel()
		}
		lc.statusMu.Unlock()
		<-lc.lock
	}()
}

func safeSend(ctx context.Context, s Session, to, text string) (r Receipt, err error) {
	defer func() {
		if v := recover(); v != nil {
			// A panic may come after the message left: its outcome is
			// unknown.
			r, err = Receipt{}, Unconfirmed(&PanicError{Value: v})
		}
	}()
	return s.SendText(ctx, to, text)
}

func safeFind(ctx context.Context, f SentFinder, q SentQuery) (r Receipt, found bool, err error) {
	defer func() {
		if v := recover(); v != nil {
			r, found, err = Receipt{}, false, &PanicError{Value: v}
		}
	}()
	return f.FindSent(ctx, q)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// recordSingle records a single job's turn.
func (c *Client) recordSingle(ctx context.Context, h *hold, job Job, claim string, m Message, t turn, gen uint64) error {
	now := c.now()
	var jt *JobTransition
	switch t.status {
	case MessageSent:
		jt = completeJob(job.ID, claim, nil, now)
	case MessageFailed:
		jt = failJob(job.ID, claim, t.err, now)
	case MessageUnknown:
		// Not failed: the message may have been sent.
		jt = completeJob(job.ID, claim, t.err, now)
		jt.ErrorKind = ErrorKindUnknownOutcome
	default:
		jt = retryJob(job.ID, claim, now.Add(t.retryIn), t.err, now)
	}
	jt.AddAttempt = t.attempt
	c.logTurn(job, h.lc, m, t)
	jobDone, err := c.recordTurn(ctx, h, Step{Job: jt, Message: t.msg}, t, gen)
	if err != nil {
		return nil // logged by record; the recovery sweep takes it from here
	}
	if jobDone && jt.To == JobPending {
		c.requeue(ctx, deliveryOf(job), t.retryIn)
	}
	if !jobDone {
		c.settle(ctx, job.ID)
	}
	return nil
}

// recordTurn records a turn's step and the context's status after it.
func (c *Client) recordTurn(ctx context.Context, h *hold, s Step, t turn, gen uint64) (bool, error) {
	lc := h.lc
	if t.status == MessageUnknown && s.Message != nil {
		defer c.hostEvent(SessionEvent{Type: EventUnknownOutcome, SystemID: lc.systemID, ContextID: lc.id,
			JobID: s.Job.ID, MessageID: s.Message.ID, Err: t.err})
	}
	if t.ctxTo == ContextAvailable && !lc.stale.Load() {
		s.Context = c.freeTransition(lc, s.Job.At)
		return c.record(ctx, s)
	}
	done, err := c.record(ctx, s)
	if err == nil {
		c.settleContext(ctx, lc, t, gen)
	}
	if h.hung != nil {
		c.watchHung(h)
	}
	return done, err
}

// settleContext sets the context's status after a turn that found the
// session gone or hung, or during which a session event changed it. The
// session's own events have the last word: when one arrived during the
// turn, the context is only freed if the session says it is up.
func (c *Client) settleContext(ctx context.Context, lc *liveContext, t turn, gen uint64) {
	lc.storeBusy = false
	if !c.holds(lc) {
		return
	}
	lc.statusMu.Lock()
	defer lc.statusMu.Unlock()
	e := ctxFree
	if t.ctxTo != ContextAvailable {
		if lc.statusGen.Load() == gen {
			lc.sessionUp.Store(false)
			e = sessionDown(t.ctxTo)
			defer c.hostEvent(SessionEvent{Type: EventStatus, SystemID: lc.systemID, ContextID: lc.id,
				Status: t.ctxTo, Err: t.err})
		} else if !lc.sessionUp.Load() {
			return
		}
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	ok, err := c.mustApply(rctx, Step{Context: e.context(lc.id, c.now())})
	if err == nil && ok && e.to != ContextAvailable {
		lc.stale.Store(true)
		c.log.Warn("the session is unusable; its jobs wait for it", "context", lc.id, "status", e.to, "err", t.err)
	}
}

func (c *Client) logTurn(job Job, lc *liveContext, m Message, t turn) {
	attrs := []any{"job", job.ID, "message", m.ID, "context", lc.id, "to", MaskPhone(m.To)}
	if t.msg != nil {
		attrs = append(attrs, "status", t.msg.To)
	}
	switch {
	case t.err == nil && t.status == MessageSent:
		c.log.Info("message sent", attrs...)
	case t.err == nil:
		c.log.Debug("message turn", attrs...)
	case t.final():
		c.log.Warn("message has its outcome", append(attrs, "kind", KindOf(t.err), "err", t.err)...)
	default:
		c.log.Warn("message turn failed; will retry", append(attrs, "kind", KindOf(t.err),
			"retry_in", t.retryIn.Round(time.Millisecond), "err", t.err)...)
	}
}

// record applies an outcome's step, retrying while the store fails: an
// outcome must not be lost. When the step does not match as a whole (the
// job was paused or cancelled meanwhile), the message's and the context's
// changes are applied alone, and jobDone reports false.
func (c *Client) record(ctx context.Context, s Step) (jobDone bool, err error) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	ok, err := c.mustApply(rctx, s)
	if err != nil || ok {
		return ok, err
	}
	if s.Message != nil {
		if _, err := c.mustApply(rctx, Step{Message: s.Message}); err != nil {
			return false, err
		}
	}
	if s.Context != nil {
		if _, err := c.mustApply(rctx, Step{Context: s.Context}); err != nil {
			return false, err
		}
	}
	return false, nil
}

func (c *Client) mustApply(ctx context.Context, s Step) (bool, error) {
	wait := 50 * time.Millisecond
	for {
		ok, err := c.store.Apply(ctx, s)
		if err == nil {
			return ok, nil
		}
		if !Retryable(err) {
			c.log.Error("could not record an outcome", "err", err)
			return false, err
		}
		if ctx.Err() != nil {
			c.log.Error("could not record an outcome; recovery will take it", "err", err)
			return false, err
		}
		c.log.Warn("recording an outcome failed; retrying", "err", err)
		if !sleepCtx(ctx, wait) {
			return false, err
		}
		wait = min(wait*2, 5*time.Second)
	}
}

// settle completes a paused job whose messages all reached a final status,
// and a pending one likewise (a record that was cut short).
func (c *Client) settle(ctx context.Context, id int64) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	job, err := c.store.Job(ctx, id)
	if err != nil || (job.Status != JobPaused && job.Status != JobPending) {
		return
	}
	for _, m := range job.Messages {
		if !m.Status.Final() {
			return
		}
	}
	_, _ = c.store.Apply(ctx, Step{Job: settleJob(id, job.Status, c.now())})
}

// runBulk sends a bulk job's unsent messages in order, for one slice.
func (c *Client) runBulk(ctx context.Context, rs *runState, lc *liveContext, job Job) error {
	d := deliveryOf(job)
	if !c.leaseValid(lc) {
		c.requeue(ctx, d, time.Second)
		return nil
	}
	claim := newClaim()
	c.addClaim(claim)
	defer c.dropClaim(claim)
	now := c.now()
	ok, err := c.store.Apply(ctx, Step{Job: claimJob(job.ID, job.Version, claim, now)})
	if err != nil {
		return err
	}
	if !ok {
		return nil
	}
	sliceEnd := now.Add(c.cfg.bulkSlice)
	var lastSent time.Time
	// yield hands the job back to the queue, to continue at next.
	yield := func(next time.Time, cause error) error {
		n := c.now()
		if next.Before(n) {
			next = n
		}
		done, err := c.record(ctx, Step{Job: retryJob(job.ID, claim, next, cause, n)})
		if err == nil && done {
			c.requeue(ctx, d, next.Sub(n))
		}
		return nil
	}
	for i := range job.Messages {
		m := job.Messages[i]
		if m.Status.Final() {
			continue
		}
		if !lastSent.IsZero() && job.Delay > 0 {
			due := lastSent.Add(job.Delay)
			if due.After(sliceEnd) || rs.isStopping() {
				return yield(due, nil)
			}
			if !sleepUntil(ctx, rs, due.Sub(c.now())) {
				return yield(due, nil)
			}
		}
		if rs.isStopping() || c.now().After(sliceEnd) || !c.leaseValid(lc) {
			return yield(c.now(), nil)
		}
		h := c.lockContext(ctx, rs, lc)
		if h == nil {
			return yield(c.now().Add(c.lockRetry(lc)), nil)
		}
		now := c.now()
		step, m := c.startStep(nextMessage(job.ID, claim, now), lc, m, now)
		ok, err := c.store.Apply(ctx, step)
		if err != nil || !ok {
			c.unlockContext(ctx, h)
			if err != nil {
				c.log.Warn("bulk step failed; yielding", "job", job.ID, "err", err)
				return yield(c.now().Add(time.Second), err)
			}
			return c.bulkBlocked(ctx, job, claim, yield)
		}
		lc.storeBusy = true
		gen := lc.statusGen.Load()
		t := c.turn(ctx, rs, h, job, claim, m)
		c.logTurn(job, lc, m, t)
		now = c.now()
		jt := nextMessage(job.ID, claim, now)
		jt.AddAttempt = t.attempt
		_, recErr := c.recordTurn(ctx, h, Step{Job: jt, Message: t.msg}, t, gen)
		c.unlockContext(ctx, h)
		if recErr != nil {
			return nil // the recovery sweep takes it from here
		}
		if t.status == MessageSent {
			lastSent = now
		}
		if !t.final() {
			return yield(now.Add(t.retryIn), t.err)
		}
	}
	done, err := c.record(ctx, Step{Job: completeJob(job.ID, claim, nil, c.now())})
	if err == nil && !done {
		c.settle(ctx, job.ID)
	}
	if err == nil && done {
		c.log.Info("bulk job completed", "job", job.ID, "messages", len(job.Messages))
	}
	return nil
}

// bulkBlocked works out why a bulk job's next message could not start.
func (c *Client) bulkBlocked(ctx context.Context, job Job, claim string, yield func(time.Time, error) error) error {
	fresh, err := c.store.Job(ctx, job.ID)
	if err != nil {
		return yield(c.now().Add(time.Second), err)
	}
	if fresh.Status != JobRunning || fresh.Claim != claim {
		return nil // paused or cancelled: stop here
	}
	bc, err := c.store.Context(ctx, job.ContextID)
	if err != nil {
		return yield(c.now().Add(time.Second), err)
	}
	now := c.now()
	switch bc.Status {
	case ContextClosed:
		_, _ = c.record(ctx, Step{Job: closedJob(jobRunClosed, job.ID, claim, now)})
		return nil
	case ContextDisconnected, ContextError:
		return yield(now.Add(c.cfg.contextWait), fmt.Errorf("%w: context %s", ErrContextNotAvailable, bc.Status))
	}
	// A message changed under us: run again and read it afresh.
	return yield(now.Add(time.Second), nil)
}

// deadLetter is called when the queue gives up on a delivery: the store
// failed every time. The job, if still pending, is marked failed; failed
// jobs stay in the store, which is the dead letter. Its unconfirmed
// messages become unknown, never failed: they may have been sent.
func (c *Client) deadLetter(ctx context.Context, d Delivery, cause error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	msg := "queue gave up"
	if cause != nil {
		msg += ": " + truncate(cause.Error(), 900)
	}
	ok, err := c.store.Apply(ctx, Step{Job: deadLetterJob(d.JobID, msg, c.now())})
	switch {
	case err != nil:
		c.log.Error("dead letter: could not mark the job failed; the sweep will retry it", "job", d.JobID, "err", err)
	case ok:
		c.log.Error("dead letter: job failed", "job", d.JobID, "cause", cause)
	}
}

// claimed reports whether a worker of this process holds the claim.
func (c *Client) claimed(claim string) bool {
	c.claimsMu.Lock()
	defer c.claimsMu.Unlock()
	_, ok := c.claims[claim]
	return ok
}

func (c *Client) addClaim(claim string) {
	c.claimsMu.Lock()
	c.claims[claim] = struct{}{}
	c.claimsMu.Unlock()
}

func (c *Client) dropClaim(claim string) {
	c.claimsMu.Lock()
	delete(c.claims, claim)
	c.claimsMu.Unlock()
}
