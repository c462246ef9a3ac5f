package wasend

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
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

// recordRetry is the wait before the store is asked again to record an
// outcome, after its n-th failure.
var recordRetry = backoff{base: 50 * time.Millisecond, max: 5 * time.Second}

// executor runs the deliveries of the queue: it claims a job in the
// store, takes its context's send lock, delivers the message through the
// session (or looks for it in the chat), judges the outcome and records it
// with the context's status, in one step. It holds the store, the queue
// and its settings, and reaches the rest of the runtime through the live
// context, the registry, the enqueuer and the event pump; it never calls
// back into the Client.
type executor struct {
	store    Store
	queue    Queue
	cfg      config
	retry    backoff // the wait before an attempt after a failed one
	contexts *registry
	enq      *enqueuer
	events   *eventPump
	gov      *governor
	// supp refuses the messages to suppressed numbers at their turn.
	supp *suppressor
	// follower is told of each message sent, to follow its ticks.
	follower *follower
	// checker routes sends to the number WhatsApp knows, keeps what a
	// send learns of a number, and pre-checks bulk jobs.
	checker *checker
	hib     *hibernator // wakes a sleeping context before its send
	now     func() time.Time
	log     *slog.Logger

	singleSem chan struct{}
	bulkSem   chan struct{}
	// claims are the claims of the jobs running in this process.
	claims claimSet
	// fresh holds the jobs this process's Send has just recorded, for
	// their first delivery.
	fresh freshJobs
	// hung counts the calls into sessions that ignored their deadline
	// and have not returned yet (see watchHung).
	hung sync.WaitGroup
}

func newExecutor(store Store, queue Queue, cfg config, contexts *registry, enq *enqueuer, events *eventPump,
	gov *governor, now func() time.Time, log *slog.Logger) *executor {
	return &executor{store: store, queue: queue, cfg: cfg, contexts: contexts, enq: enq, events: events, gov: gov, now: now, log: log,
		retry:     cfg.retryBackoff(),
		singleSem: make(chan struct{}, cfg.singleConcurrency),
		bulkSem:   make(chan struct{}, cfg.bulkConcurrency),
		claims:    claimSet{m: make(map[string]struct{})},
	}
}

// waitHung waits, at most timeout, for the calls into sessions that
// ignored their deadline to return, and reports whether they did.
func (e *executor) waitHung(timeout time.Duration) bool {
	done := make(chan struct{})
	go func() {
		e.hung.Wait()
		close(done)
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}

// worker is the queue handler of one call of Run: the executor, with the
// run's signals.
type worker struct {
	e  *executor
	rs *runState
}

func (w worker) HandleDelivery(ctx context.Context, d Delivery) error {
	return w.e.handle(ctx, w.rs, d)
}

func (w worker) HandleDeadLetter(ctx context.Context, d Delivery, err error) {
	w.e.deadLetter(ctx, d, err)
}

// handle runs one delivery: it claims its job in the store and sends it.
// It returns an error only when the store cannot be read or written, so
// that the queue delivers again later.
func (e *executor) handle(qctx context.Context, rs *runState, d Delivery) error {
	lc := e.contexts.get(d.ContextID)
	if lc == nil {
		e.log.Debug("delivery for a context this process does not hold", "job", d.JobID, "context", d.ContextID)
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

	job, err := e.job(ctx, d.JobID)
	if errors.Is(err, ErrJobNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if job.Status != JobPending || job.ContextID != d.ContextID || len(job.Messages) == 0 {
		return nil // duplicate delivery, or paused, cancelled, finished
	}
	due := job.NextRunAt
	if job.NotBefore.After(due) {
		due = job.NotBefore // a wake-up never runs a job before its NotBefore
	}
	if wait := due.Sub(e.now()); wait > earlyTolerance {
		// An early (duplicate) delivery: keep one for the due time.
		e.enq.requeue(ctx, d, wait)
		return nil
	}
	sem := e.singleSem
	if job.Kind == KindBulk {
		sem = e.bulkSem
	}
	lc.queued.Add(1) // the hibernator keeps the context awake meanwhile
	got := false
	select {
	case sem <- struct{}{}:
		got = true
	case <-rs.stopping:
	case <-ctx.Done():
	}
	lc.queued.Add(-1)
	if !got {
		e.enq.requeue(ctx, d, 0)
		return nil
	}
	defer func() { <-sem }()
	if job.Kind == KindBulk {
		return e.runBulk(ctx, rs, lc, job)
	}
	return e.runSingle(ctx, rs, lc, job)
}

// job returns the job of a delivery: the one Send just recorded, the
// first time (freshJobs), and otherwise as the store has it.
func (e *executor) job(ctx context.Context, id int64) (Job, error) {
	if j, ok := e.fresh.take(id); ok {
		return j, nil
	}
	return e.store.Job(ctx, id)
}

// requeue hands a delivery back to the queue; if that fails, the sweep
// finds the job later.
func (e *executor) requeue(ctx context.Context, d Delivery, delay time.Duration) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := e.queue.Enqueue(ctx, d, delay); err != nil {
		e.log.Warn("requeue failed; the sweep will find the job", "job", d.JobID, "err", err)
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
func (e *executor) startStep(jt *JobTransition, lc *liveContext, m Message, rec *SendRecord, at time.Time) (Step, Message) {
	s := Step{Job: jt, Context: lc.busyTransition(at)}
	switch m.Status {
	case MessagePending:
		s.Message = beginMessage(m, at)
		s.Send = rec
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
func (e *executor) runSingle(ctx context.Context, rs *runState, lc *liveContext, job Job) error {
	d := deliveryOf(job)
	m := job.Messages[0]
	if m.Status.Final() {
		// The message has its outcome; only the job's record is missing.
		e.settle(ctx, job.ID)
		return nil
	}
	if f, refused, err := e.refusal(ctx, lc, m, true); err != nil {
		return err
	} else if refused {
		e.refuseSingle(ctx, lc, job, m, f)
		return nil
	}
	h := e.lockContext(ctx, rs, lc)
	if h == nil {
		e.enq.requeue(ctx, d, e.lockRetry(lc))
		return nil
	}
	defer e.unlockContext(ctx, h)
	if !lc.leaseValid() {
		// The lease could not be renewed: another process may take the
		// context over, so this one must not send through it.
		e.enq.requeue(ctx, d, time.Second)
		return nil
	}
	pd, rec, err := e.gov.gate(ctx, lc, m)
	if err != nil {
		return err
	}
	if !pd.send() {
		return e.wait(ctx, lc, job, pd)
	}
	if ok, err := e.hib.awake(ctx, lc); err != nil {
		return err
	} else if !ok {
		return e.wait(ctx, lc, job, decision{wait: WaitContext, until: e.now().Add(e.cfg.contextWait)})
	}
	claim := newClaim()
	e.claims.add(claim)
	defer e.claims.drop(claim)
	now := e.now()
	// The claim holds only if nothing changed the job since it was read
	// (IfVersion): another worker may have run it meanwhile.
	read := m
	step, m := e.startStep(claimJob(job.ID, job.Version, claim, now), lc, m, rec, now)
	if read.Status == MessagePending {
		// The claim holds only if the recipient is not suppressed (a store
		// that guards the list; refusal read it otherwise).
		step.Unsuppressed = e.supp.guarded(read.To)
	}
	ok, err := e.store.Apply(ctx, step)
	if err != nil {
		return err
	}
	if !ok {
		if len(step.Unsuppressed) > 0 {
			sup, found, err := e.supp.one(ctx, read.To)
			if err != nil {
				return err
			}
			if found {
				e.refuseSingle(ctx, lc, job, read, failureOf(suppressedError(read.To, sup)))
				return nil
			}
		}
		return e.notClaimed(ctx, job, d)
	}
	e.gov.noted(lc, step.Send)
	lc.storeBusy = true
	gen := lc.statusGen.Load()
	t := e.turn(ctx, rs, h, job, claim, m, rec)
	return e.recordSingle(ctx, h, job, claim, m, t, gen)
}

// refusal says whether a pending message is refused at its turn, before
// any attempt, and why: its recipient is suppressed. An unconfirmed
// message is never refused: it may have been sent, and its lookup comes
// first.
func (e *executor) refusal(ctx context.Context, lc *liveContext, m Message, claimGuards bool) (failure, bool, error) {
	if m.Status != MessagePending {
		return failure{}, false, nil
	}
	// When the step that starts the turn carries the condition (a single
	// job's claim, claimGuards, in a store that guards the list: its
	// Step.Unsuppressed), the claim checks the list instead.
	if !claimGuards || e.supp.guarded(m.To) == nil {
		sup, ok, err := e.supp.one(ctx, m.To)
		if err != nil {
			return failure{}, false, err
		}
		if ok {
			return failureOf(suppressedError(m.To, sup)), true, nil
		}
	}
	if err := mediaRefusal(lc, m); err != nil {
		return failureOf(err), true, nil
	}
	return failure{}, false, nil
}

// mediaRefusal says why a media message cannot be sent through lc, or
// nil: its session sends no files (ErrNotSupported), or its file is not
// the one recorded (ErrMediaChanged). Both are final.
func mediaRefusal(lc *liveContext, m Message) error {
	if m.Media == nil {
		return nil
	}
	if _, ok := lc.session().(MediaSender); !ok {
		return fmt.Errorf("%w: the context's session cannot send files (MediaSender)", ErrNotSupported)
	}
	return verifyMedia(m.Media)
}

// refuseSingle fails a pending single job whose message is refused.
func (e *executor) refuseSingle(ctx context.Context, lc *liveContext, job Job, m Message, f failure) {
	now := e.now()
	ok, err := e.store.Apply(ctx, Step{Job: refuseJob(job.ID, job.Version, f, now), Message: refuseMessage(m.ID, f, now)})
	if err != nil || !ok {
		return // the job changed meanwhile (its own delivery runs it), or the next delivery tries again
	}
	e.refused(lc, job, m, f)
}

// refused tells the observer and the log of a refused message.
func (e *executor) refused(lc *liveContext, job Job, m Message, f failure) {
	e.cfg.observer.Turn(Turn{ContextID: lc.id, JobID: job.ID, MessageID: m.ID, Kind: job.Kind, Status: MessageFailed,
		Final: true, ErrorKind: f.class.kind})
	e.log.Info("message refused at its turn; not sent", "job", job.ID, "message", m.ID, "context", lc.id,
		"to", MaskPhone(m.To), "kind", f.class.kind)
}

// wait makes a pending job wait, without spending an attempt, for what
// pacing decided, and hands its delivery back for then.
func (e *executor) wait(ctx context.Context, lc *liveContext, job Job, pd decision) error {
	now := e.now()
	t := waitJob(job.ID, pd.until, pd.wait, now)
	t.IfVersion = job.Version
	ok, err := e.store.Apply(ctx, Step{Job: t})
	if err != nil || !ok {
		return err // changed meanwhile: its own delivery runs it
	}
	e.gov.waiting(lc, job.ID, pd)
	e.enq.requeue(ctx, deliveryOf(job), pd.until.Sub(now))
	return nil
}

// notClaimed works out why a pending job could not be claimed, and acts.
func (e *executor) notClaimed(ctx context.Context, job Job, d Delivery) error {
	why, bc, err := e.whyBlocked(ctx, job, "")
	if err != nil {
		return err
	}
	status := bc.Status
	now := e.now()
	switch why {
	case blockClosed:
		_, err := e.store.Apply(ctx, Step{Job: closedJob(jobClosed, job.ID, "", bc.Restriction.Kind == RestrictionBanned, now)})
		return err
	case blockAway:
		// Wait for the context without spending an attempt; it wakes the
		// job when it comes back.
		next, why := awayUntil(bc, now, e.cfg.contextWait)
		ok, err := e.store.Apply(ctx, Step{Job: waitJob(job.ID, next, why, now)})
		if err != nil {
			return err
		}
		if ok {
			e.enq.requeue(ctx, d, next.Sub(now))
		}
	case blockChanged:
		e.log.Warn("job could not be claimed; retrying", "job", job.ID, "context_status", status)
		e.enq.requeue(ctx, d, time.Second)
	}
	return nil
}

// blockage says why the step that starts a job's turn did not apply: the
// claim of a pending job, or a running bulk job's next message. It is the
// one table of the reasons, for both.
type blockage int

const (
	// blockGone: the job moved on (gone, claimed by a duplicate delivery,
	// run by another worker since it was read, paused, cancelled): this
	// worker leaves it.
	blockGone blockage = iota
	// blockClosed: its context is closed for good; the job fails.
	blockClosed
	// blockAway: its context is disconnected, in error or restricted;
	// the job waits for it without spending an attempt.
	blockAway
	// blockChanged: a message changed under the step; the job runs again
	// shortly and reads it afresh.
	blockChanged
)

// whyBlocked reads a job and its context again and says why the step that
// starts the job's turn did not apply, with the context as read. claim is
// a running bulk job's claim; "" for a pending job, which must still be at
// the version read.
func (e *executor) whyBlocked(ctx context.Context, job Job, claim string) (blockage, BrowserContext, error) {
	fresh, err := e.store.Job(ctx, job.ID)
	if errors.Is(err, ErrJobNotFound) {
		return blockGone, BrowserContext{}, nil
	}
	if err != nil {
		return blockGone, BrowserContext{}, err
	}
	if claim == "" {
		if fresh.Status != JobPending {
			return blockGone, BrowserContext{}, nil // claimed by a duplicate delivery, paused or cancelled
		}
		if fresh.Version != job.Version {
			// Another worker ran it since it was read, and enqueued it
			// again when it handed it back (or the sweep will): this
			// delivery is a duplicate.
			e.log.Debug("job changed since it was read; leaving it to its own delivery", "job", job.ID)
			return blockGone, BrowserContext{}, nil
		}
	} else if fresh.Status != JobRunning || fresh.Claim != claim {
		return blockGone, BrowserContext{}, nil // paused or cancelled: stop here
	}
	bc, err := e.store.Context(ctx, job.ContextID)
	if err != nil {
		return blockGone, BrowserContext{}, err
	}
	switch bc.Status {
	case ContextClosed:
		return blockClosed, bc, nil
	case ContextDisconnected, ContextError, ContextRestricted:
		return blockAway, bc, nil
	}
	return blockChanged, bc, nil
}

// awayUntil is how long a job waits for a context that cannot send, and
// why: a restricted one until its restriction ends (one held for an
// account change, which has no end, for accountRecheck), others for wait.
func awayUntil(bc BrowserContext, now time.Time, wait time.Duration) (time.Time, WaitReason) {
	if bc.Status == ContextRestricted {
		why := WaitRestricted
		if bc.Restriction.Kind == RestrictionBreaker {
			why = WaitBreaker
		}
		if bc.Restriction.Until.After(now) {
			return bc.Restriction.Until, why
		}
		if bc.Restriction.Kind == RestrictionAccount {
			return now.Add(accountRecheck), why // until ConfirmAccount wakes it
		}
		return now.Add(time.Second), why
	}
	return now.Add(wait), WaitContext
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
	// fail is the turn's error, classified once, for the decisions, the
	// record and the logs.
	fail failure
	// restrict is a restriction of the context that the turn revealed (or
	// the breaker imposed), to record with it; nil for none.
	restrict *Restriction
	// wait says why the job waits after the turn, when it is for a
	// reason of its own (a lock on new chats).
	wait WaitReason
}

func (t turn) final() bool { return t.status.Final() }

// turn runs a message's turn once startStep is applied: the lookup of an
// unconfirmed message, then, when the message may be sent, an attempt.
// rec is the send ledger's entry for a new attempt, or nil.
func (e *executor) turn(ctx context.Context, rs *runState, h *hold, job Job, claim string, m Message, rec *SendRecord) turn {
	if m.Status == MessageUnconfirmed {
		t, again := e.lookup(ctx, h, job, m)
		if !again {
			return t
		}
		now := e.now()
		s := Step{Job: nextMessage(job.ID, claim, now), Message: beginMessage(m, now)}
		if rec != nil {
			r := *rec
			r.At = now
			s.Send = &r
		}
		ok, err := e.store.Apply(ctx, s)
		if err != nil || !ok {
			// The job was paused or cancelled meanwhile, or the store
			// failed: the message stays unconfirmed, for a later turn.
			return turn{status: MessageUnconfirmed, ctxTo: ContextAvailable, retryIn: time.Second, fail: failureOf(err)}
		}
		e.gov.noted(h.lc, s.Send)
		m.Status, m.AttemptedAt = MessageSending, now
	}
	return e.attempt(ctx, rs, h, job, m)
}

// lookup looks in the chat for an unconfirmed message. again reports that
// the message was not found and may be sent again.
func (e *executor) lookup(ctx context.Context, h *hold, job Job, m Message) (t turn, again bool) {
	now := e.now()
	t = turn{status: MessageUnconfirmed, ctxTo: ContextAvailable}
	f, ok := h.lc.session().(SentFinder)
	if !ok {
		if e.cfg.unknownOutcome == ResendUnknown && m.Attempts < job.MaxAttempts {
			return t, true
		}
		t.fail = failureOf(fmt.Errorf("%w: the session cannot look in the chat", ErrUnknownOutcome))
		t.msg, t.status = msgUnknown.message(m.ID, now).withError(t.fail), MessageUnknown
		return t, false
	}
	if mk, ok := h.lc.session().(Marker); ok && mk.MarksSends() && m.GuardMark == "" {
		// The session marks every click and this message has no mark:
		// no attempt of it clicked. Looking for it could only find an
		// identical message sent since.
		e.log.Info("guard: no attempt of the message reached its click; it may be sent", "message", m.ID)
		if m.Attempts >= job.MaxAttempts {
			t.fail = failureOf(fmt.Errorf("no attempt reached its click in %d attempts", m.Attempts))
			t.msg, t.status = msgNotFound.message(m.ID, now), MessageFailed
			t.msg.ErrorKind, t.msg.Error = ErrorKindAttemptsExhausted, t.fail.err.Error()
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
	q := SentQuery{To: e.checker.route(ctx, m.To), Text: m.Text, Since: since, Mark: m.GuardMark, Media: mediaFile(m)}
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
	if e.call(ctx, h, func(cctx context.Context) { res.r, res.found, res.err = safeFind(cctx, f, q) }) {
		err = fmt.Errorf("%w: FindSent", ErrSessionHung)
		t.ctxTo = ContextDisconnected
	} else {
		r, found, err = res.r, res.found, res.err
	}
	now = e.now()
	switch {
	case errors.Is(err, ErrMessageRejected):
		// The row is in the chat with its failure icon: WhatsApp
		// rejected it, and it was not delivered. It is not sent again.
		e.log.Info("guard: the message of an earlier attempt was rejected by WhatsApp", "message", m.ID,
			"to", MaskPhone(m.To))
		t.fail = failureOf(err)
		t.msg, t.status = msgNotFound.message(m.ID, now).withError(t.fail), MessageFailed
		t.restrict = restrictionOf(err, now) // the cap on new chats, when it says so
		if br := e.gov.outcome(h.lc, false, true); br != nil {
			t.restrict = br
		}
		return t, false
	case err == nil && found:
		e.log.Info("guard: message of an earlier attempt found in the chat; not sending again",
			"message", m.ID, "to", MaskPhone(m.To))
		if r.SentAt.IsZero() {
			r.SentAt = now
		}
		t.msg, t.status = sentMessage(msgFound, m.ID, r, false, now), MessageSent
		return t, false
	case err == nil && m.Attempts >= job.MaxAttempts:
		t.fail = failureOf(fmt.Errorf("not found in the chat after %d attempts", m.Attempts))
		t.msg, t.status = msgNotFound.message(m.ID, now), MessageFailed
		t.msg.ErrorKind, t.msg.Error = ErrorKindAttemptsExhausted, t.fail.err.Error()
		return t, false
	case err == nil:
		return t, true
	}
	t.fail = failureOf(err)
	if r := restrictionOf(err, now); r != nil && r.Kind != RestrictionNewChats && t.ctxTo == ContextAvailable {
		// The page shows a ban or a temporary ban: the context is
		// restricted (or closed), and the lookup waits for the end
		// without spending anything.
		t.restrict, t.wait, t.retryIn = r, WaitRestricted, max(r.Until.Sub(now), time.Second)
		return t, false
	}
	if status := t.fail.class.session; status != "" && t.ctxTo == ContextAvailable {
		// The session cannot look now: wait for it, and spend no lookup.
		t.ctxTo, t.retryIn = status, e.cfg.contextWait
		return t, false
	}
	ed := msgLookupFail
	if m.Lookups+1 >= e.cfg.maxLookups {
		ed = msgUnknown
		t.status = MessageUnknown
	}
	t.msg = lookupFailed(ed, m.ID, t.fail, now)
	t.retryIn = e.retry.after(m.Lookups + 1)
	if t.ctxTo != ContextAvailable {
		t.retryIn = e.cfg.contextWait
	}
	return t, false
}

// attempt sends a message that is sending, and judges the outcome.
func (e *executor) attempt(ctx context.Context, rs *runState, h *hold, job Job, m Message) turn {
	lc := h.lc
	tr := &attemptTrace{}
	trace := &SendTrace{BeforeSend: func(mark string) error {
		return tr.before(func() error {
			if err := e.noteMark(ctx, m, mark); err != nil {
				return err
			}
			return pressFence(lc)
		})
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
	if m.Media != nil {
		// Checked at the turn's start too; again here, since the file
		// may have changed since (an unconfirmed message's lookup came
		// between). Nothing was clicked: the message fails for good.
		if err := mediaRefusal(lc, m); err != nil {
			f := failureOf(err)
			return turn{msg: endAttempt(msgFail, m.ID, f, e.now()), status: MessageFailed, ctxTo: ContextAvailable, fail: f}
		}
	}
	to := e.checker.route(ctx, m.To)
	began := time.Now()
	actx, ended := e.cfg.observer.StartAttempt(ctx, Attempt{ContextID: lc.id, JobID: job.ID, MessageID: m.ID,
		Kind: job.Kind, Number: m.Attempts + 1})
	hung := e.call(actx, h, func(cctx context.Context) {
		res.r, res.err = safeSend(WithSendTrace(cctx, trace), lc.session(), to, m)
	})
	if hung {
		err = Unconfirmed(fmt.Errorf("%w: %s", ErrSessionHung, sendCall(m)))
	} else {
		r, err = res.r, res.err
	}
	clicked := tr.end()
	ended(AttemptEnd{Err: err, ErrorKind: classOf(err).kind, Clicked: clicked, Duration: time.Since(began)})
	now := e.now()
	if err == nil {
		if r.SentAt.IsZero() {
			r.SentAt = now
		}
		e.gov.outcome(lc, true, false)
		return turn{msg: sentMessage(msgSent, m.ID, r, true, now), status: MessageSent,
			ctxTo: ContextAvailable, attempt: true}
	}
	var ue *UnconfirmedError
	if mk, ok := lc.session().(Marker); ok && mk.MarksSends() && !clicked && errors.As(err, &ue) {
		// A session that reports its marks before every click did not
		// report one: it did not click, whatever its error says, and it
		// cannot click any more (a late BeforeSend is refused).
		err = ue.Err
	}
	unconfirmed := errors.Is(err, ErrUnconfirmed)
	if !unconfirmed && errors.Is(err, ErrNotOnWhatsApp) {
		e.checker.notOnWhatsApp(ctx, lc.id, m.To)
	}
	f := failureOf(err)
	t := turn{ctxTo: ContextAvailable, fail: f, attempt: true}
	after := msgPark // a failure that spends no attempt
	if unconfirmed {
		after = msgUnconfirmed
	}
	attempts := m.Attempts + 1
	status, gone := f.class.session, f.class.session != ""
	t.restrict = restrictionOf(err, now)
	rejected := errors.Is(err, ErrMessageRejected)
	locked := t.restrict != nil && t.restrict.Kind == RestrictionNewChats && !unconfirmed && !rejected
	if hung {
		// The session is wedged until the call returns: the context shows
		// disconnected meanwhile, and the job waits for it.
		gone = false
		t.ctxTo = ContextDisconnected
	}
	switch {
	case errors.Is(err, errFenced):
		// This process lost the context before its click: the message
		// goes back as it was, for whoever holds the context now.
		t.attempt, t.retryIn = false, e.cfg.contextWait
		t.msg = endAttempt(msgPark, m.ID, f, now)
	case locked:
		// WhatsApp locked new chats and nothing was sent: the message
		// waits for the lock's end, without spending an attempt; pacing
		// keeps the context's other new contacts waiting too.
		t.attempt, t.wait, t.retryIn = false, WaitNewChatsLocked, t.restrict.Until.Sub(now)
		t.msg = endAttempt(msgPark, m.ID, f, now)
	case gone:
		// The session is gone: the job waits for it, like after the
		// session's own status event. Only an attempt that may have sent
		// the message counts.
		t.ctxTo, t.retryIn, t.attempt = status, e.cfg.contextWait, unconfirmed
		t.msg = endAttempt(after, m.ID, f, now)
	case rs.isHard() && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)):
		// Our own shutdown: not the message's fault.
		t.attempt = unconfirmed
		t.msg = endAttempt(after, m.ID, f, now)
	case unconfirmed:
		t.retryIn = e.retry.after(attempts)
		t.msg = endAttempt(msgUnconfirmed, m.ID, f, now)
	case !f.class.retryable || attempts >= job.MaxAttempts:
		t.msg = endAttempt(msgFail, m.ID, f, now)
	default:
		t.retryIn = e.retry.after(attempts)
		t.msg = endAttempt(msgRetry, m.ID, f, now)
	}
	if hung {
		t.retryIn = e.cfg.contextWait
	}
	if r := t.restrict; r != nil && r.Kind != RestrictionNewChats {
		// Restricted or banned: the job waits for the restriction's end
		// (a ban fails it, when its context is seen closed).
		t.ctxTo, t.retryIn, t.wait = ContextAvailable, max(r.Until.Sub(now), time.Second), WaitRestricted
	}
	t.status = t.msg.To
	if t.attempt && t.ctxTo == ContextAvailable && !hung && (t.restrict == nil || rejected) &&
		!(rs.isHard() && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded))) {
		if br := e.gov.outcome(lc, false, rejected); br != nil {
			t.restrict = br
		}
	}
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

// pressMargin is how long the lease must still hold, as this process
// knows it, when a session is about to click.
const pressMargin = 100 * time.Millisecond

// pressFence is the last check before a session clicks: the lease must
// still hold. A process frozen (SIGSTOP, a paused VM, a long GC) between
// its claim and its click may have lost the context to another process,
// which restores the login in its own browser (a ProfileStore) and may
// look for, and send again, a message this one has not clicked yet; when
// it wakes, the clock tells it, and it does not click. The leaser's TTL
// starts no earlier than the lease this process counts from, so the taker
// cannot start before this check fails. What is left is the time between
// this check and the click itself, a page evaluation away.
func pressFence(lc *liveContext) error {
	if !lc.leaseValidFor(pressMargin) {
		return fmt.Errorf("%w: %w: browser context %d", ErrContextHeld, errFenced, lc.id)
	}
	return nil
}

// errFenced is pressFence's refusal: nothing was clicked, and it is not
// the message's fault.
var errFenced = errors.New("the lease ran out before the click")

// noteMark records, before the session's click, what the session saw in
// the chat. The first attempt of an unconfirmed run keeps its mark. If the
// mark cannot be recorded, the session must not click.
func (e *executor) noteMark(ctx context.Context, m Message, mark string) error {
	if mark == "" || m.GuardMark != "" {
		return nil
	}
	ok, err := e.store.Apply(ctx, Step{Message: markMessage(m.ID, mark, e.now())})
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
func (e *executor) call(ctx context.Context, h *hold, f func(context.Context)) (hung bool) {
	cctx, cancel := context.WithTimeout(ctx, e.cfg.sendTimeout)
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
	grace := time.NewTimer(e.cfg.hangGrace)
	defer grace.Stop()
	select {
	case <-done:
		cancel()
		return false
	case <-grace.C:
	}
	cancel()
	lc := h.lc
	lc.wedge(h, done)
	e.log.Error("a session call ignored its deadline; the session is not used until it returns",
		"context", lc.id, "grace", e.cfg.hangGrace)
	return true
}

// watchHung waits, in a goroutine that Close waits for, for a hung call to
// return; then the session may be used again: the context gets back the
// status it had, unless a session event changed it meanwhile, and the
// lock is released.
func (e *executor) watchHung(h *hold) {
	lc := h.lc
	e.hung.Add(1)
	go func() {
		defer e.hung.Done()
		<-h.hung
		e.log.Warn("a hung session call returned; the session is used again", "context", lc.id)
		woke := false
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		lc.unwedge(h, func() {
			ok, err := e.store.Apply(ctx, Step{Context: ctxUp.context(lc.id, e.now())})
			if err == nil && ok {
				lc.stale.Store(true)
				e.events.hostEvent(SessionEvent{Type: EventStatus, SystemID: lc.systemID, ContextID: lc.id,
					Status: ContextAvailable})
				woke = true
			}
		})
		if woke {
			e.enq.wakeJobs(ctx, lc.id)
		}
		lc.unlock()
	}()
}

// safeSend sends m through s: SendText, or for a media message SendMedia
// (mediaRefusal checked that s is a MediaSender).
func safeSend(ctx context.Context, s Session, to string, m Message) (r Receipt, err error) {
	defer func() {
		if v := recover(); v != nil {
			// A panic may come after the message left: its outcome is
			// unknown.
			r, err = Receipt{}, Unconfirmed(&PanicError{Value: v})
		}
	}()
	if f := mediaFile(m); f != nil {
		ms, ok := s.(MediaSender)
		if !ok {
			return Receipt{}, fmt.Errorf("%w: the session cannot send files (MediaSender)", ErrNotSupported)
		}
		return ms.SendMedia(ctx, to, *f)
	}
	return s.SendText(ctx, to, m.Text)
}

// sendCall names the session's method that sends m, for errors.
func sendCall(m Message) string {
	if m.Media != nil {
		return "SendMedia"
	}
	return "SendText"
}

func safeFind(ctx context.Context, f SentFinder, q SentQuery) (r Receipt, found bool, err error) {
	defer func() {
		if v := recover(); v != nil {
			r, found, err = Receipt{}, false, &PanicError{Value: v}
		}
	}()
	return f.FindSent(ctx, q)
}

// recordSingle records a single job's turn.
func (e *executor) recordSingle(ctx context.Context, h *hold, job Job, claim string, m Message, t turn, gen uint64) error {
	now := e.now()
	var jt *JobTransition
	switch t.status {
	case MessageSent:
		jt = completeJob(job.ID, claim, failure{}, now)
	case MessageFailed:
		jt = failJob(job.ID, claim, t.fail, now)
	case MessageUnknown:
		// Not failed: the message may have been sent.
		jt = completeJob(job.ID, claim, t.fail, now)
		jt.ErrorKind = ErrorKindUnknownOutcome
	default:
		jt = retryJob(job.ID, claim, now.Add(t.retryIn), t.fail, now)
		jt.Wait = t.wait
	}
	jt.AddAttempt = t.attempt
	e.logTurn(job, h.lc, m, t)
	jobDone, err := e.recordTurn(ctx, h, Step{Job: jt, Message: t.msg}, t, gen)
	if err != nil {
		return nil // logged by record; the recovery sweep takes it from here
	}
	if t.status == MessageSent {
		e.follower.kick(h.lc.id)
	}
	if jobDone && jt.To == JobPending {
		e.enq.requeue(ctx, deliveryOf(job), t.retryIn)
	}
	if !jobDone {
		e.settle(ctx, job.ID)
	}
	return nil
}

// recordTurn records a turn's step and the context's status after it.
func (e *executor) recordTurn(ctx context.Context, h *hold, s Step, t turn, gen uint64) (bool, error) {
	lc := h.lc
	if t.status == MessageUnknown && s.Message != nil {
		defer e.events.hostEvent(SessionEvent{Type: EventUnknownOutcome, SystemID: lc.systemID, ContextID: lc.id,
			JobID: s.Job.ID, MessageID: s.Message.ID, Err: t.fail.err})
	}
	if r := t.restrict; r != nil && r.Kind != RestrictionNewChats {
		// A ban or a temporary restriction: the context changes status
		// with the turn's record.
		s.Context = restrictContext(lc.id, *r, s.Job.At)
		lc.storeBusy = false
		done, err := e.record(ctx, s)
		if err == nil {
			lc.stale.Store(true)
			e.gov.restricted(lc, *r)
			if r.Kind == RestrictionBanned {
				e.enq.failJobs(ctx, lc.id, true)
			}
		}
		if h.hung != nil {
			e.watchHung(h)
		}
		return done, err
	}
	if t.ctxTo == ContextAvailable && !lc.stale.Load() {
		s.Context = lc.freeTransition(s.Job.At)
		if r := t.restrict; r != nil {
			// A lock on new chats is kept with the context, whose status
			// stays as it is.
			if s.Context == nil {
				s.Context = ctxBusy.context(lc.id, s.Job.At)
			}
			s.Context.Restriction = r
		}
		done, err := e.record(ctx, s)
		if err == nil && t.restrict != nil {
			e.gov.restricted(lc, *t.restrict)
		}
		return done, err
	}
	done, err := e.record(ctx, s)
	if err == nil {
		e.settleContext(ctx, lc, t, gen)
	}
	if h.hung != nil {
		e.watchHung(h)
	}
	return done, err
}

// settleContext sets the context's status after a turn that found the
// session gone or hung, or during which a session event changed it. The
// session's own events have the last word: when one arrived during the
// turn, the context is only freed if the session says it is up.
func (e *executor) settleContext(ctx context.Context, lc *liveContext, t turn, gen uint64) {
	lc.storeBusy = false
	if !lc.holds() {
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	lc.afterTurn(t.ctxTo, gen, func(ed edge[ContextStatus], seen bool) {
		ok, err := e.mustApply(rctx, Step{Context: ed.context(lc.id, e.now())})
		if err == nil && ok && ed.to != ContextAvailable {
			lc.stale.Store(true)
			e.log.Warn("the session is unusable; its jobs wait for it", "context", lc.id, "status", ed.to, "err", t.fail.err)
		}
		if seen {
			e.events.hostEvent(SessionEvent{Type: EventStatus, SystemID: lc.systemID, ContextID: lc.id,
				Status: t.ctxTo, Err: t.fail.err})
		}
	})
}

func (e *executor) logTurn(job Job, lc *liveContext, m Message, t turn) {
	e.cfg.observer.Turn(Turn{ContextID: lc.id, JobID: job.ID, MessageID: m.ID, Kind: job.Kind, Status: t.status,
		Final: t.final(), ErrorKind: t.fail.class.kind, Attempted: t.attempt})
	attrs := []any{"job", job.ID, "message", m.ID, "context", lc.id, "to", MaskPhone(m.To)}
	if t.msg != nil {
		attrs = append(attrs, "status", t.msg.To)
	}
	switch {
	case t.fail.err == nil && t.status == MessageSent:
		e.log.Info("message sent", attrs...)
	case t.fail.err == nil:
		e.log.Debug("message turn", attrs...)
	case t.final():
		e.log.Warn("message has its outcome", append(attrs, "kind", t.fail.class.kind, "err", t.fail.err)...)
	default:
		e.log.Warn("message turn failed; will retry", append(attrs, "kind", t.fail.class.kind,
			"retry_in", t.retryIn.Round(time.Millisecond), "err", t.fail.err)...)
	}
}

// record applies an outcome's step, retrying while the store fails: an
// outcome must not be lost. When the step does not match as a whole (the
// job was paused or cancelled meanwhile), the message's and the context's
// changes are applied alone, and jobDone reports false.
func (e *executor) record(ctx context.Context, s Step) (jobDone bool, err error) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	ok, err := e.mustApply(rctx, s)
	if err != nil || ok {
		return ok, err
	}
	if s.Message != nil {
		if _, err := e.mustApply(rctx, Step{Message: s.Message}); err != nil {
			return false, err
		}
		if s.Job != nil {
			if err := e.endWithJob(rctx, s.Job.ID, s.Message.ID); err != nil {
				return false, err
			}
		}
	}
	if s.Context != nil {
		if _, err := e.mustApply(rctx, Step{Context: s.Context}); err != nil {
			return false, err
		}
	}
	return false, nil
}

// endWithJob gives a message the end its job gave the others, when the
// job ended (cancelled, failed by a ban or a closed context) while the
// message was in an attempt: the job's end moved only the pending and
// unconfirmed messages, and the attempt's outcome, applied alone, may
// have put this one back to pending (nothing would take it again) or to
// unconfirmed (its outcome is then unknown).
func (e *executor) endWithJob(ctx context.Context, jobID, msgID int64) error {
	j, err := e.store.Job(ctx, jobID)
	if err != nil || !j.Status.Final() {
		return err
	}
	for _, m := range j.Messages {
		if m.ID != msgID {
			continue
		}
		var t *MessageTransition
		switch m.Status {
		case MessagePending:
			t = msgCancel.message(m.ID, e.now())
		case MessageUnconfirmed:
			t = msgGiveUp.message(m.ID, e.now())
		default:
			return nil
		}
		_, err := e.mustApply(ctx, Step{Message: t})
		return err
	}
	return nil
}

func (e *executor) mustApply(ctx context.Context, s Step) (bool, error) {
	for n := 1; ; n++ {
		ok, err := e.store.Apply(ctx, s)
		if err == nil {
			return ok, nil
		}
		if !Retryable(err) {
			e.log.Error("could not record an outcome", "err", err)
			return false, err
		}
		if ctx.Err() != nil {
			e.log.Error("could not record an outcome; recovery will take it", "err", err)
			return false, err
		}
		e.log.Warn("recording an outcome failed; retrying", "err", err)
		if !sleepCtx(ctx, recordRetry.after(n), nil) {
			return false, err
		}
	}
}

// settle completes a paused job whose messages all reached a final status,
// and a pending one likewise (a record that was cut short).
func (e *executor) settle(ctx context.Context, id int64) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	job, err := e.store.Job(ctx, id)
	if err != nil || (job.Status != JobPaused && job.Status != JobPending) {
		return
	}
	for _, m := range job.Messages {
		if !m.Status.Final() {
			return
		}
	}
	_, _ = e.store.Apply(ctx, Step{Job: settleJob(id, job.Status, e.now())})
}

// runBulk sends a bulk job's unsent messages in order, for one slice.
func (e *executor) runBulk(ctx context.Context, rs *runState, lc *liveContext, job Job) error {
	d := deliveryOf(job)
	if !lc.leaseValid() {
		e.enq.requeue(ctx, d, time.Second)
		return nil
	}
	claim := newClaim()
	e.claims.add(claim)
	defer e.claims.drop(claim)
	now := e.now()
	ok, err := e.store.Apply(ctx, Step{Job: claimJob(job.ID, job.Version, claim, now)})
	if err != nil {
		return err
	}
	if !ok {
		return nil
	}
	sliceEnd := now.Add(e.cfg.bulkSlice)
	var lastSent time.Time
	// yield hands the job back to the queue, to continue at next; why
	// says why it waits, when it is for pacing or a restriction.
	yield := func(next time.Time, cause failure, why WaitReason) error {
		n := e.now()
		if next.Before(n) {
			next = n
		}
		jt := retryJob(job.ID, claim, next, cause, n)
		jt.Wait = why
		done, err := e.record(ctx, Step{Job: jt})
		if err == nil && done {
			e.enq.requeue(ctx, d, next.Sub(n))
		}
		return nil
	}
	if e.cfg.preCheck {
		pc, err := e.preCheck(ctx, rs, lc, job, claim, sliceEnd)
		if err != nil {
			return yield(e.now().Add(time.Second), failureOf(err), WaitNone)
		}
		switch pc.result {
		case preCheckYield:
			return yield(e.now(), failure{}, WaitNone)
		case preCheckGone:
			return yield(e.now().Add(e.cfg.contextWait), pc.fail, WaitContext)
		case preCheckBlocked:
			return e.bulkBlocked(ctx, job, claim, yield)
		}
		if job, err = e.store.Job(ctx, job.ID); err != nil {
			return yield(e.now().Add(time.Second), failureOf(err), WaitNone)
		}
	}
	for i := range job.Messages {
		m := job.Messages[i]
		if m.Status.Final() {
			continue
		}
		if f, refused, err := e.refusal(ctx, lc, m, false); err != nil {
			return yield(e.now().Add(time.Second), failureOf(err), WaitNone)
		} else if refused {
			now := e.now()
			ok, err := e.store.Apply(ctx, Step{Job: nextMessage(job.ID, claim, now), Message: refuseMessage(m.ID, f, now)})
			if err != nil {
				return yield(e.now().Add(time.Second), failureOf(err), WaitNone)
			}
			if !ok {
				return e.bulkBlocked(ctx, job, claim, yield)
			}
			e.refused(lc, job, m, f)
			continue
		}
		if !lastSent.IsZero() && job.Delay > 0 {
			due := lastSent.Add(job.Delay)
			if due.After(sliceEnd) || rs.isStopping() {
				return yield(due, failure{}, WaitNone)
			}
			if !sleepCtx(ctx, due.Sub(e.now()), rs.stopping) {
				return yield(due, failure{}, WaitNone)
			}
		}
		var (
			h   *hold
			rec *SendRecord
		)
		for {
			if rs.isStopping() || e.now().After(sliceEnd) || !lc.leaseValid() {
				return yield(e.now(), failure{}, WaitNone)
			}
			if h = e.lockContext(ctx, rs, lc); h == nil {
				return yield(e.now().Add(e.lockRetry(lc)), failure{}, WaitNone)
			}
			pd, r, err := e.gov.gate(ctx, lc, m)
			if err != nil {
				e.unlockContext(ctx, h)
				return yield(e.now().Add(time.Second), failureOf(err), WaitNone)
			}
			if pd.send() {
				if ok, err := e.hib.awake(ctx, lc); err != nil || !ok {
					e.unlockContext(ctx, h)
					return yield(e.now().Add(e.cfg.contextWait), failureOf(err), WaitContext)
				}
				rec = r
				break
			}
			e.unlockContext(ctx, h)
			// Wait within the slice; beyond it, hand the job back.
			if pd.until.After(sliceEnd) || !sleepCtx(ctx, pd.until.Sub(e.now()), rs.stopping) {
				e.gov.waiting(lc, job.ID, pd)
				return yield(pd.until, failure{}, pd.wait)
			}
		}
		now := e.now()
		step, m := e.startStep(nextMessage(job.ID, claim, now), lc, m, rec, now)
		ok, err := e.store.Apply(ctx, step)
		if err != nil || !ok {
			e.unlockContext(ctx, h)
			if err != nil {
				e.log.Warn("bulk step failed; yielding", "job", job.ID, "err", err)
				return yield(e.now().Add(time.Second), failureOf(err), WaitNone)
			}
			return e.bulkBlocked(ctx, job, claim, yield)
		}
		e.gov.noted(lc, step.Send)
		lc.storeBusy = true
		gen := lc.statusGen.Load()
		t := e.turn(ctx, rs, h, job, claim, m, rec)
		e.logTurn(job, lc, m, t)
		now = e.now()
		jt := nextMessage(job.ID, claim, now)
		jt.AddAttempt = t.attempt
		_, recErr := e.recordTurn(ctx, h, Step{Job: jt, Message: t.msg}, t, gen)
		e.unlockContext(ctx, h)
		if recErr != nil {
			return nil // the recovery sweep takes it from here
		}
		if t.status == MessageSent {
			lastSent = now
			e.follower.kick(lc.id)
		}
		if !t.final() {
			err := yield(now.Add(t.retryIn), t.fail, t.wait)
			if r := t.restrict; r != nil && r.Kind == RestrictionBanned {
				// The ban was recorded while this job still ran, so the
				// context's failJobs passed it by: now that it is pending,
				// it fails with the others (or, in a campaign that allows
				// moves, stays for the balancer).
				_ = e.enq.failJobs(ctx, lc.id, true)
			}
			return err
		}
	}
	done, err := e.record(ctx, Step{Job: completeJob(job.ID, claim, failure{}, e.now())})
	if err == nil && !done {
		e.settle(ctx, job.ID)
	}
	if err == nil && done {
		e.log.Info("bulk job completed", "job", job.ID, "messages", len(job.Messages))
	}
	return nil
}

// preCheckResult is how a bulk job's pre-check ended.
type preCheckResult int

// preCheckEnd is how a bulk job's pre-check ended, and, when the session
// was gone, why.
type preCheckEnd struct {
	result preCheckResult
	fail   failure
}

const (
	// preCheckDone: every pending recipient has an answer (or could not
	// get one), and the messages to numbers not on WhatsApp failed.
	preCheckDone preCheckResult = iota
	// preCheckYield: the slice ended, or Run stops, before every number
	// was checked; the job goes on at its next delivery, where the cache
	// answers what was checked.
	preCheckYield
	// preCheckBlocked: a refusal did not apply (the job was paused or
	// cancelled, or its context closed).
	preCheckBlocked
	// preCheckGone: a check found the session gone (logged out,
	// disconnected, unusable) or hung: the job waits for its context.
	preCheckGone
)

// preCheck checks the recipients of a running bulk job's pending messages
// (WithPreCheckNumbers) before its sends, through the cache and then the
// session, and fails without an attempt the messages to numbers not on
// WhatsApp (ErrorKindNotOnWhatsApp). A check that cannot answer leaves its
// number to the send; a session that cannot check skips the checks.
func (e *executor) preCheck(ctx context.Context, rs *runState, lc *liveContext, job Job, claim string, sliceEnd time.Time) (preCheckEnd, error) {
	var phones []string
	seen := map[string]bool{}
	for _, m := range job.Messages {
		if m.Status == MessagePending && !seen[m.To] {
			seen[m.To] = true
			phones = append(phones, m.To)
		}
	}
	known, err := e.checker.cached(ctx, phones)
	if err != nil {
		return preCheckEnd{}, err
	}
	if _, ok := lc.session().(NumberChecker); ok {
		asked := 0
		for _, p := range phones {
			if _, ok := known[p]; ok {
				continue
			}
			if rs.isStopping() || e.now().After(sliceEnd) || !lc.leaseValid() {
				e.log.Info("pre-check: numbers left for the next slice", "job", job.ID, "checked", asked)
				return preCheckEnd{result: preCheckYield}, nil
			}
			info, err := e.checker.ask(ctx, lc, p)
			asked++
			if _, gone := SessionStatus(err); gone || errors.Is(err, ErrSessionHung) {
				e.log.Warn("pre-check: the session is gone; the job waits for it", "job", job.ID, "err", err)
				return preCheckEnd{result: preCheckGone, fail: failureOf(err)}, nil
			}
			if err != nil {
				e.log.Warn("pre-check: a number check could not answer; the send will tell", "job", job.ID,
					"to", MaskPhone(p), "err", err)
				continue
			}
			known[p] = info
		}
	} else if len(known) < len(phones) {
		e.log.Debug("pre-check: the session cannot check numbers; only cached answers count", "job", job.ID)
	}
	for _, m := range job.Messages {
		info, ok := known[m.To]
		if m.Status != MessagePending || !ok || info.OnWhatsApp {
			continue
		}
		f := failureOf(fmt.Errorf("pre-check: %s: %w", MaskPhone(m.To), ErrNotOnWhatsApp))
		now := e.now()
		ok, err := e.store.Apply(ctx, Step{Job: nextMessage(job.ID, claim, now), Message: refuseMessage(m.ID, f, now)})
		if err != nil {
			return preCheckEnd{}, err
		}
		if !ok {
			return preCheckEnd{result: preCheckBlocked}, nil
		}
		e.refused(lc, job, m, f)
	}
	return preCheckEnd{result: preCheckDone}, nil
}

// bulkBlocked works out why a bulk job's next message could not start,
// and acts.
func (e *executor) bulkBlocked(ctx context.Context, job Job, claim string, yield func(time.Time, failure, WaitReason) error) error {
	why, bc, err := e.whyBlocked(ctx, job, claim)
	if err != nil {
		return yield(e.now().Add(time.Second), failureOf(err), WaitNone)
	}
	now := e.now()
	switch why {
	case blockClosed:
		_, _ = e.record(ctx, Step{Job: closedJob(jobRunClosed, job.ID, claim, bc.Restriction.Kind == RestrictionBanned, now)})
	case blockAway:
		next, wait := awayUntil(bc, now, e.cfg.contextWait)
		return yield(next, failureOf(fmt.Errorf("%w: context %s", ErrContextNotAvailable, bc.Status)), wait)
	case blockChanged:
		return yield(now.Add(time.Second), failure{}, WaitNone)
	}
	return nil
}

// deadLetter is called when the queue gives up on a delivery: the store
// failed every time. The job, if still pending, is marked failed; failed
// jobs stay in the store, which is the dead letter. Its unconfirmed
// messages become unknown, never failed: they may have been sent.
func (e *executor) deadLetter(ctx context.Context, d Delivery, cause error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	msg := "queue gave up"
	if cause != nil {
		msg += ": " + truncate(cause.Error(), 900)
	}
	ok, err := e.enq.giveUp(ctx, Step{Job: deadLetterJob(d.JobID, msg, e.now())})
	switch {
	case err != nil:
		e.log.Error("dead letter: could not mark the job failed; the sweep will retry it", "job", d.JobID, "err", err)
	case ok:
		e.log.Error("dead letter: job failed", "job", d.JobID, "cause", cause)
	}
}

// claimSet is the set of the claims of the jobs running in this process:
// the sweeper rescues a running job only when its claim is not here.
type claimSet struct {
	mu sync.Mutex
	m  map[string]struct{}
}

// has reports whether a worker of this process holds the claim.
func (s *claimSet) has(claim string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.m[claim]
	return ok
}

func (s *claimSet) add(claim string) {
	s.mu.Lock()
	s.m[claim] = struct{}{}
	s.mu.Unlock()
}

func (s *claimSet) drop(claim string) {
	s.mu.Lock()
	delete(s.m, claim)
	s.mu.Unlock()
}

// lockContext waits for the context's send lock, unless Run is stopping or
// the session is wedged by a hung call. It returns nil when it did not get
// the lock.
func (e *executor) lockContext(ctx context.Context, rs *runState, lc *liveContext) *hold {
	if lc.wedged.Load() {
		return nil
	}
	if lc.waitLock(ctx, rs.stopping) {
		return &hold{lc: lc}
	}
	// The holder may have kept the context busy for this waiter: take the
	// lock if it is free, so that the release below marks it available.
	if lc.tryLock() {
		e.unlockContext(ctx, &hold{lc: lc})
	}
	return nil
}

// lockRetry is how long a job waits before it tries a context whose lock
// it could not take.
func (e *executor) lockRetry(lc *liveContext) time.Duration {
	if lc.wedged.Load() {
		return e.cfg.contextWait
	}
	return 0
}

// unlockContext releases the context's send lock. If the store still shows
// the context busy and no worker waits, it marks it available first. A
// hold handed over to a hung call is released by that call.
func (e *executor) unlockContext(ctx context.Context, h *hold) {
	if h.hung != nil {
		return
	}
	lc := h.lc
	if lc.needsFree() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
		_, _ = e.mustApply(rctx, Step{Context: ctxFree.context(lc.id, e.now())})
		cancel()
		lc.storeBusy = false
	}
	lc.unlock()
}

// runState holds the signals of one call of Run. stopping is closed when
// Run's ctx is done: no new work starts, and bulk jobs stop after the
// message in flight. hard is closed when the shutdown deadline passes: work
// in flight is canceled.
type runState struct {
	stopping chan struct{}
	hard     chan struct{}
	hardOnce sync.Once
}

func newRunState() *runState {
	return &runState{stopping: make(chan struct{}), hard: make(chan struct{})}
}

func (rs *runState) isStopping() bool {
	select {
	case <-rs.stopping:
		return true
	default:
		return false
	}
}

func (rs *runState) isHard() bool {
	select {
	case <-rs.hard:
		return true
	default:
		return false
	}
}

func (rs *runState) stopHard() { rs.hardOnce.Do(func() { close(rs.hard) }) }
