package wasend

import "time"

// The state machine: every change of status the Client makes is one of the
// named edges below, and each edge's From set is written once, here. The
// constructors build the transitions that Store.Apply applies; the tables
// (jobEdges, messageEdges, contextEdges) list the edges for the package
// doc and for the test that walks them.

// edge is one named change of status.
type edge[S ~string] struct {
	name string
	from []S
	to   S
	// what says, for the doc, when the Client takes the edge.
	what string
}

// The job edges.
var (
	jobClaim      = edge[JobStatus]{"claim", []JobStatus{JobPending}, JobRunning, "a worker takes the job"}
	jobNext       = edge[JobStatus]{"next", []JobStatus{JobRunning}, JobRunning, "its worker goes on under its claim: a new attempt, or a bulk job's next message"}
	jobComplete   = edge[JobStatus]{"complete", []JobStatus{JobRunning}, JobCompleted, "every message has its outcome (a single job's: sent, or unknown)"}
	jobFail       = edge[JobStatus]{"fail", []JobStatus{JobRunning}, JobFailed, "a single job's message failed (it was not sent)"}
	jobRetry      = edge[JobStatus]{"retry", []JobStatus{JobRunning}, JobPending, "an attempt or a lookup failed, the context went away, or a bulk job yields; the job runs again at next_run_at"}
	jobRescue     = edge[JobStatus]{"rescue", []JobStatus{JobRunning}, JobPending, "the sweep finds a running job whose worker is gone"}
	jobWait       = edge[JobStatus]{"wait", []JobStatus{JobPending}, JobPending, "the job's context cannot send: the job waits for it without spending an attempt"}
	jobWake       = edge[JobStatus]{"wake", []JobStatus{JobPending}, JobPending, "the job is enqueued again: its context came back, or the queue lost it"}
	jobSettle     = edge[JobStatus]{"settle", []JobStatus{JobPending, JobPaused}, JobCompleted, "every message already has its outcome (a record cut short)"}
	jobPause      = edge[JobStatus]{"pause", []JobStatus{JobPending, JobRunning}, JobPaused, "the host pauses it (Pause)"}
	jobResume     = edge[JobStatus]{"resume", []JobStatus{JobPaused}, JobPending, "the host resumes it (Resume)"}
	jobCancel     = edge[JobStatus]{"cancel", []JobStatus{JobPending, JobRunning, JobPaused}, JobCancelled, "the host cancels it (Cancel)"}
	jobClosed     = edge[JobStatus]{"context-closed", []JobStatus{JobPending, JobPaused}, JobFailed, "its context is closed for good"}
	jobRunClosed  = edge[JobStatus]{"context-closed-running", []JobStatus{JobRunning}, JobFailed, "a running bulk job finds its context closed"}
	jobDeadLetter = edge[JobStatus]{"dead-letter", []JobStatus{JobPending}, JobFailed, "the queue gave up on its deliveries"}
	jobRefuse     = edge[JobStatus]{"refuse", []JobStatus{JobPending}, JobFailed, "a single job's message is refused at its turn, before any attempt"}
)

// The message edges.
var (
	msgBegin       = edge[MessageStatus]{"begin", []MessageStatus{MessagePending}, MessageSending, "an attempt begins"}
	msgBeginAgain  = edge[MessageStatus]{"begin-again", []MessageStatus{MessageUnconfirmed}, MessageSending, "the lookup did not find the message: a new attempt begins"}
	msgMark        = edge[MessageStatus]{"mark", []MessageStatus{MessageSending}, MessageSending, "the session reports the chat's rows just before its click"}
	msgSent        = edge[MessageStatus]{"sent", []MessageStatus{MessageSending}, MessageSent, "the session confirms the send"}
	msgRetry       = edge[MessageStatus]{"retry", []MessageStatus{MessageSending}, MessagePending, "the attempt failed before the click and may be retried"}
	msgPark        = edge[MessageStatus]{"park", []MessageStatus{MessageSending}, MessagePending, "the session was gone before the click, or Run stopped it: no attempt spent"}
	msgFail        = edge[MessageStatus]{"fail", []MessageStatus{MessageSending}, MessageFailed, "the attempt failed before the click, for good or for the last time"}
	msgUnconfirmed = edge[MessageStatus]{"unconfirmed", []MessageStatus{MessageSending}, MessageUnconfirmed, "the attempt ended after the click without a confirmation"}
	msgRescue      = edge[MessageStatus]{"rescue", []MessageStatus{MessageSending}, MessageUnconfirmed, "a worker finds the message sending while no worker sends it (its worker died)"}
	msgFound       = edge[MessageStatus]{"found", []MessageStatus{MessageUnconfirmed}, MessageSent, "the lookup finds the message in the chat"}
	msgNotFound    = edge[MessageStatus]{"not-found", []MessageStatus{MessageUnconfirmed}, MessageFailed, "the lookup does not find it and no attempt is left, or finds it rejected by WhatsApp"}
	msgLookupFail  = edge[MessageStatus]{"lookup-failed", []MessageStatus{MessageUnconfirmed}, MessageUnconfirmed, "the lookup could not answer; it runs again later"}
	msgUnknown     = edge[MessageStatus]{"unknown", []MessageStatus{MessageUnconfirmed}, MessageUnknown, "the lookups kept failing, or the session cannot look (EndUnknown)"}
	msgCancel      = edge[MessageStatus]{"cancel", []MessageStatus{MessagePending}, MessageCancelled, "its job is cancelled, or its context closed"}
	msgDrop        = edge[MessageStatus]{"drop", []MessageStatus{MessagePending}, MessageFailed, "the queue gave up on its job"}
	msgGiveUp      = edge[MessageStatus]{"give-up", []MessageStatus{MessageUnconfirmed}, MessageUnknown, "its job is cancelled or given up while its outcome is unconfirmed"}
	msgRefuse      = edge[MessageStatus]{"refuse", []MessageStatus{MessagePending}, MessageFailed, "refused without an attempt: its recipient is suppressed or not on WhatsApp (a pre-check), or its file cannot be sent"}
)

// The browser context edges.
var (
	ctxBusy      = edge[ContextStatus]{"busy", []ContextStatus{ContextAvailable, ContextBusy}, ContextBusy, "a send begins"}
	ctxFree      = edge[ContextStatus]{"free", []ContextStatus{ContextBusy}, ContextAvailable, "a send ends and no send waits"}
	ctxGone      = edge[ContextStatus]{"gone", []ContextStatus{ContextAvailable, ContextBusy}, ContextDisconnected, "a send or a lookup finds the session logged out, disconnected or in conflict, or hangs past its deadline"}
	ctxBroken    = edge[ContextStatus]{"broken", []ContextStatus{ContextAvailable, ContextBusy}, ContextError, "a send or a lookup finds the page unusable (selectors, browser refused)"}
	ctxUp        = edge[ContextStatus]{"up", []ContextStatus{ContextDisconnected, ContextError}, ContextAvailable, "the session reports it is logged in, or its holder sees it is"}
	ctxDown      = edge[ContextStatus]{"down", []ContextStatus{ContextAvailable, ContextBusy, ContextDisconnected, ContextError, ContextRestricted}, ContextDisconnected, "the session reports it is not logged in"}
	ctxFault     = edge[ContextStatus]{"fault", []ContextStatus{ContextAvailable, ContextBusy, ContextDisconnected, ContextError, ContextRestricted}, ContextError, "the session reports an error"}
	ctxOpen      = edge[ContextStatus]{"open", []ContextStatus{ContextAvailable, ContextBusy, ContextError, ContextRestricted}, ContextDisconnected, "a process opens the context; it waits for its login"}
	ctxLaunchErr = edge[ContextStatus]{"launch-failed", []ContextStatus{ContextDisconnected}, ContextError, "its session could not be launched"}
	ctxAbandon   = edge[ContextStatus]{"abandon", []ContextStatus{ContextDisconnected}, ContextClosed, "a new context whose lease could not be taken"}
	ctxLeave     = edge[ContextStatus]{"leave", []ContextStatus{ContextAvailable, ContextBusy, ContextRestricted}, ContextDisconnected, "its process closes, or no process holds it"}
	ctxClose     = edge[ContextStatus]{"close", []ContextStatus{ContextAvailable, ContextBusy, ContextDisconnected, ContextError, ContextRestricted}, ContextClosed, "the host closes it (CloseContext)"}
	ctxRestrict  = edge[ContextStatus]{"restrict", []ContextStatus{ContextAvailable, ContextBusy, ContextDisconnected, ContextError, ContextRestricted}, ContextRestricted, "WhatsApp restricts the account for a while (a send or the session finds the temporary-ban screen), the circuit breaker opens, or a different account logs in"}
	ctxLift      = edge[ContextStatus]{"lift", []ContextStatus{ContextRestricted}, ContextAvailable, "the restriction's time is over (with the breaker's, the next send probes), or the host confirms a new account"}
	ctxBan       = edge[ContextStatus]{"ban", []ContextStatus{ContextAvailable, ContextBusy, ContextDisconnected, ContextError, ContextRestricted}, ContextClosed, "a send or the session finds the account banned: it stops for good"}
	// The account edges keep the status: an edge has one target, so
	// there is one per status a context may have when its account is
	// recorded or confirmed (accountEdge picks it).
	ctxAccountAvailable    = accountEdgeOf(ContextAvailable)
	ctxAccountBusy         = accountEdgeOf(ContextBusy)
	ctxAccountDisconnected = accountEdgeOf(ContextDisconnected)
	ctxAccountError        = accountEdgeOf(ContextError)
	ctxAccountRestricted   = accountEdgeOf(ContextRestricted)
)

// jobEdges, messageEdges and contextEdges are the tables of the state
// machine, in the order of the package doc.
var (
	jobEdges = []edge[JobStatus]{jobClaim, jobNext, jobComplete, jobFail, jobRetry, jobRescue, jobWait,
		jobWake, jobSettle, jobPause, jobResume, jobCancel, jobClosed, jobRunClosed, jobDeadLetter, jobRefuse}
	messageEdges = []edge[MessageStatus]{msgBegin, msgBeginAgain, msgMark, msgSent, msgRetry, msgPark, msgFail,
		msgUnconfirmed, msgRescue, msgFound, msgNotFound, msgLookupFail, msgUnknown, msgCancel, msgDrop, msgGiveUp, msgRefuse}
	contextEdges = []edge[ContextStatus]{ctxBusy, ctxFree, ctxGone, ctxBroken, ctxUp, ctxDown, ctxFault, ctxOpen,
		ctxLaunchErr, ctxAbandon, ctxLeave, ctxClose, ctxRestrict, ctxLift, ctxBan, ctxAccountAvailable, ctxAccountBusy,
		ctxAccountDisconnected, ctxAccountError, ctxAccountRestricted}
)

// job builds the edge's transition of job id at at.
func (e edge[S]) job(id int64, at time.Time) *JobTransition {
	return &JobTransition{ID: id, From: e.jobFrom(), To: JobStatus(e.to), At: at}
}

func (e edge[S]) jobFrom() []JobStatus {
	out := make([]JobStatus, len(e.from))
	for i, f := range e.from {
		out[i] = JobStatus(f)
	}
	return out
}

// message builds the edge's transition of message id at at.
func (e edge[S]) message(id int64, at time.Time) *MessageTransition {
	from := make([]MessageStatus, len(e.from))
	for i, f := range e.from {
		from[i] = MessageStatus(f)
	}
	return &MessageTransition{ID: id, From: from, To: MessageStatus(e.to), At: at}
}

// context builds the edge's transition of browser context id at at.
func (e edge[S]) context(id int64, at time.Time) *ContextTransition {
	from := make([]ContextStatus, len(e.from))
	for i, f := range e.from {
		from[i] = ContextStatus(f)
	}
	return &ContextTransition{ID: id, From: from, To: ContextStatus(e.to), At: at}
}

// withError sets a transition's error from f, or clears it when f is no
// error.
func (t *JobTransition) withError(f failure) *JobTransition {
	if f.err == nil {
		t.ClearError = true
		return t
	}
	t.ErrorKind, t.Error = f.class.kind, truncate(f.err.Error(), 1000)
	return t
}

func (t *MessageTransition) withError(f failure) *MessageTransition {
	if f.err == nil {
		t.ClearError = true
		return t
	}
	t.ErrorKind, t.Error = f.class.kind, truncate(f.err.Error(), 1000)
	return t
}

// Job transitions with their parameters.

// claimJob claims a pending job, if it is still at the version read.
func claimJob(id, version int64, claim string, at time.Time) *JobTransition {
	t := jobClaim.job(id, at)
	t.Claim, t.IfVersion = claim, version
	return t
}

// nextMessage keeps a running bulk job running under the same claim.
func nextMessage(id int64, claim string, at time.Time) *JobTransition {
	t := jobNext.job(id, at)
	t.IfClaim, t.Claim = claim, claim
	return t
}

func completeJob(id int64, claim string, f failure, at time.Time) *JobTransition {
	t := jobComplete.job(id, at).withError(f)
	t.IfClaim = claim
	return t
}

func failJob(id int64, claim string, f failure, at time.Time) *JobTransition {
	t := jobFail.job(id, at).withError(f)
	t.IfClaim = claim
	return t
}

// retryJob hands a running job back to pending, to run at next.
func retryJob(id int64, claim string, next time.Time, f failure, at time.Time) *JobTransition {
	t := jobRetry.job(id, at)
	if f.err != nil {
		t.withError(f)
	}
	t.IfClaim, t.NextRunAt, t.EnqueuedAt = claim, next, at
	return t
}

func rescueJob(id int64, claim string, at time.Time) *JobTransition {
	t := jobRescue.job(id, at)
	t.IfClaim, t.NextRunAt, t.EnqueuedAt = claim, at, at
	t.ErrorKind, t.Error = ErrorKindDisconnected, "the worker that ran the job is gone"
	return t
}

// waitJob makes a pending job wait until next for its context, for the
// reason why.
func waitJob(id int64, next time.Time, why WaitReason, at time.Time) *JobTransition {
	t := jobWait.job(id, at)
	t.NextRunAt, t.EnqueuedAt, t.Wait = next, at, why
	return t
}

// restrictContext is the change of a context that a restriction implies:
// a ban closes it, a temporary one or the breaker's restricts it, and a
// lock on new chats leaves its status as it is (nil).
func restrictContext(id int64, r Restriction, at time.Time) *ContextTransition {
	var t *ContextTransition
	switch r.Kind {
	case RestrictionBanned:
		t = ctxBan.context(id, at)
	case RestrictionTemporary, RestrictionBreaker, RestrictionAccount:
		t = ctxRestrict.context(id, at)
	default:
		return nil
	}
	t.Restriction = &r
	return t
}

// accountEdgeOf is the edge from s to s that records a context's account
// or ends its hold for an account change, keeping the status.
func accountEdgeOf(s ContextStatus) edge[ContextStatus] {
	return edge[ContextStatus]{"account-" + string(s), []ContextStatus{s}, s,
		"the context's account is recorded, or its hold for a new one ends (ConfirmAccount): the status stays"}
}

// accountEdge returns the account edge of a context in status s; false
// for a closed context.
func accountEdge(s ContextStatus) (edge[ContextStatus], bool) {
	for _, e := range []edge[ContextStatus]{ctxAccountAvailable, ctxAccountBusy, ctxAccountDisconnected, ctxAccountError,
		ctxAccountRestricted} {
		if e.to == s {
			return e, true
		}
	}
	return edge[ContextStatus]{}, false
}

// releaseAccount ends the hold of context bc for an account change: a
// restricted context is available again (lift), another keeps its status,
// and account, when set, is stored as its account.
func releaseAccount(bc BrowserContext, account *string, at time.Time) *ContextTransition {
	var t *ContextTransition
	if bc.Status == ContextRestricted {
		t = ctxLift.context(bc.ID, at)
	} else if e, ok := accountEdge(bc.Status); ok {
		t = e.context(bc.ID, at)
	} else {
		return nil
	}
	t.Restriction, t.Account = &Restriction{}, account
	return t
}

// wakeJob marks a pending job due now and enqueued.
func wakeJob(id int64, at time.Time) *JobTransition {
	t := jobWake.job(id, at)
	t.NextRunAt, t.EnqueuedAt = at, at
	return t
}

// requeueJob marks a pending job enqueued again, keeping its due time.
func requeueJob(id int64, at time.Time) *JobTransition {
	t := jobWake.job(id, at)
	t.EnqueuedAt = at
	return t
}

func settleJob(id int64, from JobStatus, at time.Time) *JobTransition {
	t := jobSettle.job(id, at)
	t.From = []JobStatus{from}
	return t
}

func pauseJob(id int64, at time.Time) *JobTransition { return jobPause.job(id, at) }

func resumeJob(id int64, at time.Time) *JobTransition {
	t := jobResume.job(id, at)
	t.NextRunAt, t.EnqueuedAt = at, at
	return t
}

// giveUp sets what happens to the messages of a job that ends before they
// were sent: pending ones take to; unconfirmed ones become unknown, since
// they may have been sent.
func (t *JobTransition) giveUp(to MessageStatus) *JobTransition {
	t.PendingMessagesTo, t.UnconfirmedMessagesTo = to, msgGiveUp.to
	return t
}

func cancelJob(id int64, at time.Time) *JobTransition {
	return jobCancel.job(id, at).giveUp(msgCancel.to)
}

// closedJob fails a job whose context is closed; banned says WhatsApp
// banned its account.
func closedJob(e edge[JobStatus], id int64, claim string, banned bool, at time.Time) *JobTransition {
	t := e.job(id, at).giveUp(msgCancel.to)
	t.IfClaim = claim
	t.ErrorKind, t.Error = ErrorKindContextClosed, ErrContextClosed.Error()
	if banned {
		t.ErrorKind, t.Error = ErrorKindBanned, ErrBanned.Error()
	}
	return t
}

func deadLetterJob(id int64, msg string, at time.Time) *JobTransition {
	t := jobDeadLetter.job(id, at).giveUp(msgDrop.to)
	t.ErrorKind, t.Error = ErrorKindQueue, msg
	return t
}

// refuseJob fails a pending single job, still at the version read,
// whose message is refused at its turn (refuseMessage, in the same step).
func refuseJob(id, version int64, f failure, at time.Time) *JobTransition {
	t := jobRefuse.job(id, at).withError(f)
	t.IfVersion = version
	return t
}

// Message transitions with their parameters.

// refuseMessage fails a pending message without an attempt, for f.
func refuseMessage(id int64, f failure, at time.Time) *MessageTransition {
	return msgRefuse.message(id, at).withError(f)
}

// beginMessage starts an attempt of a pending or unconfirmed message.
func beginMessage(m Message, at time.Time) *MessageTransition {
	e := msgBegin
	if m.Status == MessageUnconfirmed {
		e = msgBeginAgain
	}
	t := e.message(m.ID, at)
	t.StartAttempt = true
	return t
}

func markMessage(id int64, mark string, at time.Time) *MessageTransition {
	t := msgMark.message(id, at)
	t.Mark = mark
	return t
}

func sentMessage(e edge[MessageStatus], id int64, r Receipt, attempt bool, at time.Time) *MessageTransition {
	t := e.message(id, at).withError(failure{})
	t.SentAt, t.WAMessageID, t.AddAttempt = r.SentAt, r.MessageID, attempt
	return t
}

// endAttempt records a failed attempt's outcome along edge e.
func endAttempt(e edge[MessageStatus], id int64, f failure, at time.Time) *MessageTransition {
	t := e.message(id, at).withError(f)
	t.AddAttempt = e.name != msgPark.name
	t.ClearGuard = e.to == MessagePending
	return t
}

func rescueMessage(id int64, at time.Time) *MessageTransition {
	t := msgRescue.message(id, at)
	t.AddAttempt = true
	t.ErrorKind, t.Error = ErrorKindUnconfirmed, "the worker that sent the message is gone"
	return t
}

func lookupFailed(e edge[MessageStatus], id int64, f failure, at time.Time) *MessageTransition {
	t := e.message(id, at).withError(f)
	t.AddLookup = true
	return t
}

// Context transitions.

// sessionDown is the context's edge for an error that says the session is
// unusable (see SessionStatus).
func sessionDown(status ContextStatus) edge[ContextStatus] {
	if status == ContextError {
		return ctxBroken
	}
	return ctxGone
}

// truncate cuts s to at most n bytes, for the stored error texts.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
