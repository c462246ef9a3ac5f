package wasend

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
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

// lockContext waits for the context's send lock, unless Run is stopping.
func (c *Client) lockContext(ctx context.Context, rs *runState, lc *liveContext) bool {
	lc.waiters.Add(1)
	select {
	case lc.lock <- struct{}{}:
		lc.waiters.Add(-1)
		return true
	case <-rs.stopping:
	case <-ctx.Done():
	}
	lc.waiters.Add(-1)
	// The holder may have kept the context busy for this waiter: take the
	// lock if it is free, so that the release below marks it available.
	select {
	case lc.lock <- struct{}{}:
		c.unlockContext(ctx, lc)
	default:
	}
	return false
}

// unlockContext releases the context's send lock. If the store still shows
// the context busy and no worker waits, it marks it available first.
func (c *Client) unlockContext(ctx context.Context, lc *liveContext) {
	if lc.storeBusy && lc.waiters.Load() == 0 && c.holds(lc) {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
		_, _ = c.mustApply(rctx, Step{Context: &ContextTransition{ID: lc.id,
			From: []ContextStatus{ContextBusy}, To: ContextAvailable, At: c.now()}})
		cancel()
		lc.storeBusy = false
	}
	<-lc.lock
}

// holds reports whether this process still holds the live context: it was
// not dropped, and its lease is valid.
func (c *Client) holds(lc *liveContext) bool {
	return c.liveContext(lc.id) == lc && c.leaseValid(lc)
}

// busyTransition is the context's part of a step that starts a send: none
// when the store shows it busy because of this process already.
func (c *Client) busyTransition(lc *liveContext, at time.Time) *ContextTransition {
	stale := lc.stale.Swap(false)
	if lc.storeBusy && !stale {
		return nil
	}
	lc.storeBusy = false
	return &ContextTransition{ID: lc.id, From: []ContextStatus{ContextAvailable, ContextBusy}, To: ContextBusy, At: at}
}

// doneTransition is the context's part of a step that ends a send: none
// when the context goes back to available while other workers wait for it
// (it stays busy for the next send).
func (c *Client) doneTransition(lc *liveContext, to ContextStatus, at time.Time) *ContextTransition {
	if to == ContextAvailable && lc.waiters.Load() > 0 {
		return nil
	}
	if !c.holds(lc) {
		// Another process holds the context now: its status is not ours
		// to change.
		lc.storeBusy = false
		return nil
	}
	lc.storeBusy = false
	return &ContextTransition{ID: lc.id, From: []ContextStatus{ContextBusy}, To: to, At: at}
}

func newClaim() string {
	var b [12]byte
	_, _ = crand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// runSingle sends a single job's message.
func (c *Client) runSingle(ctx context.Context, rs *runState, lc *liveContext, job Job) error {
	d := Delivery{JobID: job.ID, ContextID: job.ContextID, Kind: job.Kind}
	m := job.Messages[0]
	if m.Status.Final() {
		// The message has its outcome; only the job's record is missing.
		c.settle(ctx, job.ID)
		return nil
	}
	if !c.lockContext(ctx, rs, lc) {
		c.requeue(ctx, d, 0)
		return nil
	}
	defer c.unlockContext(ctx, lc)
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
	busy := c.busyTransition(lc, now)
	ok, err := c.store.Apply(ctx, Step{
		Job:     &JobTransition{ID: job.ID, From: []JobStatus{JobPending}, To: JobRunning, Claim: claim, At: now},
		Context: busy,
		Message: &MessageTransition{ID: m.ID, From: []MessageStatus{m.Status}, To: MessageSending, At: now},
	})
	if err != nil {
		return err
	}
	if !ok {
		return c.notClaimed(ctx, job, d)
	}
	lc.storeBusy = true
	c.log.Debug("sending", "job", job.ID, "context", lc.id, "to", MaskPhone(m.To), "text", textInfo(m.Text))
	out := c.deliver(ctx, lc, m)
	return c.recordSingle(ctx, rs, lc, job, claim, m, out)
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
	bc, err := c.store.Context(ctx, job.ContextID)
	if err != nil {
		return err
	}
	now := c.now()
	switch bc.Status {
	case ContextClosed:
		_, err := c.store.Apply(ctx, Step{Job: &JobTransition{ID: job.ID, From: []JobStatus{JobPending}, To: JobFailed,
			ErrorKind: KindContextClosed, Error: ErrContextClosed.Error(), PendingMessagesTo: MessageCancelled, At: now}})
		return err
	case ContextDisconnected, ContextError:
		// Wait for the context without spending an attempt; it wakes the
		// job when it comes back.
		ok, err := c.store.Apply(ctx, Step{Job: &JobTransition{ID: job.ID, From: []JobStatus{JobPending}, To: JobPending,
			NextRunAt: now.Add(c.cfg.contextWait), EnqueuedAt: now, At: now}})
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

// outcome is the result of one send attempt.
type outcome struct {
	receipt Receipt
	err     error
}

// deliver sends one message through the context's session. A message whose
// earlier attempt has an unknown outcome is first looked for in the chat.
func (c *Client) deliver(ctx context.Context, lc *liveContext, m Message) outcome {
	if m.Status == MessageSending {
		if f, ok := lc.session.(SentFinder); ok {
			fctx, cancel := context.WithTimeout(ctx, c.cfg.sendTimeout)
			r, found, err := safeFind(fctx, f, SentQuery{To: m.To, Text: m.Text, Since: m.AttemptedAt.Add(-guardSkew)})
			cancel()
			if err != nil {
				return outcome{err: Unconfirmed(err)}
			}
			if found {
				c.log.Info("guard: message of an earlier attempt found in the chat; not sending again",
					"message", m.ID, "to", MaskPhone(m.To))
				if r.SentAt.IsZero() {
					r.SentAt = c.now()
				}
				return outcome{receipt: r}
			}
		} else if c.cfg.unknownOutcome == FailUnknown {
			return outcome{err: ErrUnknownOutcome}
		}
	}
	sctx, cancel := context.WithTimeout(ctx, c.cfg.sendTimeout)
	defer cancel()
	r, err := safeSend(sctx, lc.session, m.To, m.Text)
	if err == nil && r.SentAt.IsZero() {
		r.SentAt = c.now()
	}
	return outcome{receipt: r, err: err}
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

// verdict is what an outcome means for the message, the context and the job.
type verdict struct {
	msg        *MessageTransition
	ctxTo      ContextStatus // context status after the attempt
	retry      bool          // the job goes back to pending
	retryDelay time.Duration
	addAttempt bool
	failJob    bool // the message failed for good
	err        error
}

// judge turns an attempt's outcome into a verdict.
func (c *Client) judge(rs *runState, m Message, out outcome) verdict {
	now := c.now()
	v := verdict{ctxTo: ContextAvailable, err: out.err}
	mt := &MessageTransition{ID: m.ID, From: []MessageStatus{MessageSending}, At: now}
	v.msg = mt
	if out.err == nil {
		mt.To, mt.SentAt, mt.WAMessageID, mt.ClearError = MessageSent, out.receipt.SentAt, out.receipt.MessageID, true
		return v
	}
	mt.ErrorKind, mt.Error = KindOf(out.err), truncate(out.err.Error(), 1000)
	// A failure that may have sent the message leaves it in sending, so
	// that the next attempt looks for it before it sends again.
	unconfirmed := errors.Is(out.err, ErrUnconfirmed)
	back := MessagePending
	if unconfirmed {
		back = MessageSending
	}
	attempts := m.Attempts + 1 // the store counted this attempt
	switch status, gone := SessionStatus(out.err); {
	case rs.isHard() && (errors.Is(out.err, context.Canceled) || errors.Is(out.err, context.DeadlineExceeded)):
		// Our own shutdown: not the message's fault.
		mt.To = back
		v.retry = true
	case gone:
		mt.To = back
		v.ctxTo = status
		v.retry, v.retryDelay, v.addAttempt = true, c.cfg.contextWait, true
	case !Retryable(out.err):
		mt.To = MessageFailed
		v.failJob = true
	case attempts >= c.cfg.maxAttempts:
		mt.To = MessageFailed
		v.failJob = true
	default:
		mt.To = back
		v.retry, v.retryDelay, v.addAttempt = true, c.backoff(attempts), true
	}
	return v
}

// backoff returns the wait before the attempt after the n-th.
func (c *Client) backoff(n int) time.Duration {
	d := c.cfg.backoffBase
	for i := 1; i < n && d < c.cfg.backoffMax; i++ {
		d *= 2
	}
	d = min(d, c.cfg.backoffMax)
	if c.cfg.backoffJitter > 0 {
		d += time.Duration(rand.Float64() * c.cfg.backoffJitter * float64(d))
	}
	return d
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// recordSingle records a single job's attempt.
func (c *Client) recordSingle(ctx context.Context, rs *runState, lc *liveContext, job Job, claim string, m Message, out outcome) error {
	v := c.judge(rs, m, out)
	now := c.now()
	jt := &JobTransition{ID: job.ID, From: []JobStatus{JobRunning}, IfClaim: claim, At: now}
	switch {
	case v.err == nil:
		jt.To, jt.ClearError = JobCompleted, true
	case v.failJob:
		jt.To, jt.ErrorKind, jt.Error = JobFailed, v.msg.ErrorKind, v.msg.Error
	default:
		jt.To, jt.ErrorKind, jt.Error = JobPending, v.msg.ErrorKind, v.msg.Error
		jt.NextRunAt, jt.EnqueuedAt, jt.AddAttempt = now.Add(v.retryDelay), now, v.addAttempt
	}
	c.logOutcome(job, lc, m, v)
	jobDone, err := c.record(ctx, Step{Job: jt, Message: v.msg, Context: c.doneTransition(lc, v.ctxTo, now)})
	if err != nil {
		return nil // logged by record; the recovery sweep takes it from here
	}
	if jobDone && jt.To == JobPending {
		c.requeue(ctx, Delivery{JobID: job.ID, ContextID: job.ContextID, Kind: job.Kind}, v.retryDelay)
	}
	if !jobDone {
		c.settle(ctx, job.ID)
	}
	return nil
}

func (c *Client) logOutcome(job Job, lc *liveContext, m Message, v verdict) {
	attrs := []any{"job", job.ID, "message", m.ID, "context", lc.id, "to", MaskPhone(m.To)}
	switch {
	case v.err == nil:
		c.log.Info("message sent", attrs...)
	case v.failJob:
		c.log.Warn("message failed", append(attrs, "kind", v.msg.ErrorKind, "err", v.err)...)
	default:
		c.log.Warn("message attempt failed; will retry", append(attrs, "kind", v.msg.ErrorKind,
			"retry_in", v.retryDelay.Round(time.Millisecond), "err", v.err)...)
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
	_, _ = c.store.Apply(ctx, Step{Job: &JobTransition{ID: id, From: []JobStatus{job.Status}, To: JobCompleted, At: c.now()}})
}

// runBulk sends a bulk job's unsent messages in order, for one slice.
func (c *Client) runBulk(ctx context.Context, rs *runState, lc *liveContext, job Job) error {
	d := Delivery{JobID: job.ID, ContextID: job.ContextID, Kind: job.Kind}
	if !c.leaseValid(lc) {
		c.requeue(ctx, d, time.Second)
		return nil
	}
	claim := newClaim()
	c.addClaim(claim)
	defer c.dropClaim(claim)
	now := c.now()
	ok, err := c.store.Apply(ctx, Step{Job: &JobTransition{ID: job.ID, From: []JobStatus{JobPending},
		To: JobRunning, Claim: claim, At: now}})
	if err != nil {
		return err
	}
	if !ok {
		return nil
	}
	sliceEnd := now.Add(c.cfg.bulkSlice)
	var lastSent time.Time
	// yield hands the job back to the queue, to continue at next.
	yield := func(next time.Time, addAttempt bool, ek ErrorKind, msg string) error {
		n := c.now()
		if next.Before(n) {
			next = n
		}
		done, err := c.record(ctx, Step{Job: &JobTransition{ID: job.ID, From: []JobStatus{JobRunning}, IfClaim: claim,
			To: JobPending, NextRunAt: next, EnqueuedAt: n, AddAttempt: addAttempt, ErrorKind: ek, Error: msg, At: n}})
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
				return yield(due, false, "", "")
			}
			if !sleepUntil(ctx, rs, due.Sub(c.now())) {
				return yield(due, false, "", "")
			}
		}
		if rs.isStopping() || c.now().After(sliceEnd) || !c.leaseValid(lc) {
			return yield(c.now(), false, "", "")
		}
		if !c.lockContext(ctx, rs, lc) {
			return yield(c.now(), false, "", "")
		}
		now := c.now()
		ok, err := c.store.Apply(ctx, Step{
			Job:     &JobTransition{ID: job.ID, From: []JobStatus{JobRunning}, IfClaim: claim, To: JobRunning, Claim: claim, At: now},
			Context: c.busyTransition(lc, now),
			Message: &MessageTransition{ID: m.ID, From: []MessageStatus{m.Status}, To: MessageSending, At: now},
		})
		if err != nil || !ok {
			c.unlockContext(ctx, lc)
			if err != nil {
				c.log.Warn("bulk step failed; yielding", "job", job.ID, "err", err)
				return yield(c.now().Add(time.Second), false, KindStore, err.Error())
			}
			return c.bulkBlocked(ctx, job, claim, d, yield)
		}
		lc.storeBusy = true
		c.log.Debug("sending", "job", job.ID, "message", m.ID, "context", lc.id, "to", MaskPhone(m.To), "text", textInfo(m.Text))
		out := c.deliver(ctx, lc, m)
		v := c.judge(rs, m, out)
		c.logOutcome(job, lc, m, v)
		now = c.now()
		_, recErr := c.record(ctx, Step{Message: v.msg, Context: c.doneTransition(lc, v.ctxTo, now)})
		c.unlockContext(ctx, lc)
		if recErr != nil {
			return nil // the recovery sweep takes it from here
		}
		if v.err == nil {
			lastSent = now
			continue
		}
		if v.retry {
			return yield(now.Add(v.retryDelay), v.addAttempt, v.msg.ErrorKind, v.msg.Error)
		}
		// The message failed for good; the job goes on with the next one.
	}
	done, err := c.record(ctx, Step{Job: &JobTransition{ID: job.ID, From: []JobStatus{JobRunning}, IfClaim: claim,
		To: JobCompleted, At: c.now()}})
	if err == nil && !done {
		c.settle(ctx, job.ID)
	}
	if err == nil && done {
		c.log.Info("bulk job completed", "job", job.ID, "messages", len(job.Messages))
	}
	return nil
}

// bulkBlocked works out why a bulk job's next message could not start.
func (c *Client) bulkBlocked(ctx context.Context, job Job, claim string, d Delivery,
	yield func(time.Time, bool, ErrorKind, string) error) error {
	fresh, err := c.store.Job(ctx, job.ID)
	if err != nil {
		return yield(c.now().Add(time.Second), false, KindStore, err.Error())
	}
	if fresh.Status != JobRunning || fresh.Claim != claim {
		return nil // paused or cancelled: stop here
	}
	bc, err := c.store.Context(ctx, job.ContextID)
	if err != nil {
		return yield(c.now().Add(time.Second), false, KindStore, err.Error())
	}
	now := c.now()
	switch bc.Status {
	case ContextClosed:
		_, err := c.record(ctx, Step{Job: &JobTransition{ID: job.ID, From: []JobStatus{JobRunning}, IfClaim: claim,
			To: JobFailed, ErrorKind: KindContextClosed, Error: ErrContextClosed.Error(),
			PendingMessagesTo: MessageCancelled, At: now}})
		_ = err
		return nil
	case ContextDisconnected, ContextError:
		return yield(now.Add(c.cfg.contextWait), false, KindContextNotAvail, fmt.Sprintf("context %s", bc.Status))
	}
	// A message changed under us: run again and read it afresh.
	return yield(now.Add(time.Second), false, "", "")
}

// sleepUntil waits d unless Run stops or ctx ends; it reports whether it
// waited the whole time.
func sleepUntil(ctx context.Context, rs *runState, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-rs.stopping:
		return false
	case <-ctx.Done():
		return false
	}
}

// deadLetter is called when the queue gives up on a delivery: the store
// failed every time. The job, if still pending, is marked failed; failed
// jobs stay in the store, which is the dead letter.
func (c *Client) deadLetter(ctx context.Context, d Delivery, cause error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	msg := "queue gave up"
	if cause != nil {
		msg += ": " + truncate(cause.Error(), 900)
	}
	ok, err := c.store.Apply(ctx, Step{Job: &JobTransition{ID: d.JobID, From: []JobStatus{JobPending}, To: JobFailed,
		ErrorKind: KindQueue, Error: msg, PendingMessagesTo: MessageFailed, At: c.now()}})
	switch {
	case err != nil:
		c.log.Error("dead letter: could not mark the job failed; the sweep will retry it", "job", d.JobID, "err", err)
	case ok:
		c.log.Error("dead letter: job failed", "job", d.JobID, "cause", cause)
	}
}
