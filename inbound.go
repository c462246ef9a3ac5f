package wasend

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// inbound handles, on the event pump's goroutine, what sessions report
// beyond their status: the messages contacts write (EventIncoming), with
// their opt-outs, and the ticks of the messages they follow (EventAck). It
// says which events the host is to see: each incoming message once per
// context and WhatsApp id, each ack that changed what the store knew.
type inbound struct {
	// store records the receipts (Step.Receipt); rcpt reads the messages
	// followed (nil: the store keeps no receipts).
	store   Store
	rcpt    ReceiptStore
	inbox   InboxStore // nil: the store keeps no inbox
	supp    *suppressor
	optOut  optOut
	notices notices
	// contexts, markRead and calls serve WithMarkRead: each new incoming
	// message is marked read through its live session, within timeout
	// and grace, and calls counts the calls in flight.
	contexts *registry
	markRead bool
	timeout  time.Duration
	grace    time.Duration
	calls    *sync.WaitGroup
	// follower is kicked when a session logs in.
	follower *follower
	// life ends when the Client closes: the opt-outs still retried give
	// up then.
	life context.Context
	now  func() time.Time
	log  *slog.Logger
	// seen holds the incoming messages handled lately, by context and
	// WhatsApp id.
	seen *recentSet
	// pii shows whole numbers to the host in the events of accounts
	// (WithEventPII).
	pii bool
	// enq wakes the jobs of a context whose hold for an account change
	// ends.
	enq *enqueuer
}

// handle handles an event and returns it as the host is to see it, and
// whether the host is to see it at all. Events of other types pass as
// they are.
func (in *inbound) handle(ev SessionEvent) (SessionEvent, bool) {
	switch ev.Type {
	case EventIncoming:
		return in.incoming(ev)
	case EventAck:
		return in.ack(ev)
	case EventAccount:
		return in.account(ev)
	}
	return ev, true
}

// loggedIn is told, before the store is, that a session reports itself
// logged in: its messages are to be followed again.
func (in *inbound) loggedIn(ctx context.Context, id int64, lc *liveContext) {
	in.follower.kick(id)
}

// ack records a followed message's new ticks (Step.Receipt): its delivery
// and its reading, each once, with its message.delivered or message.read
// event. An ack is taken only for a message of the session's own context
// that is sent and not read (the store's Unread says so); others (an
// unknown message, another context's, a tick the store has, an ack below
// delivered) are dropped.
func (in *inbound) ack(ev SessionEvent) (SessionEvent, bool) {
	if in.rcpt == nil {
		return ev, false // the Client follows nothing without receipts
	}
	switch {
	case ev.Ack == AckNone || ev.Ack == AckPending || ev.Ack == AckSent:
		return ev, false // nothing the store keeps
	case ev.Ack < AckNone || ev.Ack > AckPlayed || ev.MessageID <= 0:
		in.log.Warn("ack that names no message or no known tick; dropped", "context", ev.ContextID,
			"message", ev.MessageID, "ack", ev.Ack)
		return ev, false
	}
	ctx, cancel := context.WithTimeout(in.life, 30*time.Second)
	defer cancel()
	got, err := in.rcpt.Unread(ctx, ReceiptFilter{ContextID: ev.ContextID, AfterID: ev.MessageID - 1, Limit: 1})
	if err != nil {
		in.log.Warn("reading a followed message", "context", ev.ContextID, "message", ev.MessageID, "err", err)
		return ev, false
	}
	if len(got) == 0 || got[0].ID != ev.MessageID {
		in.log.Debug("ack for a message not followed here, or read already", "context", ev.ContextID,
			"message", ev.MessageID, "ack", ev.Ack)
		return ev, false
	}
	m := got[0]
	at := ev.At
	if at.IsZero() || at.Before(m.SentAt) {
		at = m.SentAt // a tick never comes before the send: the page's clock is off
	}
	ok, err := in.store.Apply(ctx, Step{Receipt: &ReceiptTransition{MessageID: m.ID, Ack: ev.Ack, At: at}})
	if err != nil {
		in.log.Warn("recording an ack", "context", ev.ContextID, "message", m.ID, "err", err)
		return ev, false
	}
	if !ok {
		return ev, false // the store has it already
	}
	in.log.Info("message "+ev.Ack.String(), "context", ev.ContextID, "message", m.ID, "to", MaskPhone(m.To))
	ev.To, ev.At = m.To, at
	if ev.WAMessageID == "" {
		ev.WAMessageID = m.WAMessageID
	}
	return ev, true
}

// incoming handles a message a contact wrote: the first time its context
// and WhatsApp id are seen, it is recorded in the inbox (InboxStore) with
// its message.incoming event, and a text that holds an opt-out keyword
// suppresses the sender (SuppressOptOut, with its suppression.added
// event). A message seen before (here, or in the inbox) is dropped, and
// so is one whose sender is not a phone number.
func (in *inbound) incoming(ev SessionEvent) (SessionEvent, bool) {
	if ev.Incoming == nil {
		in.log.Warn("incoming event without its message; dropped", "context", ev.ContextID)
		return ev, false
	}
	m := *ev.Incoming
	from, err := CanonicalPhone(m.From)
	if err != nil {
		in.log.Warn("incoming message from a sender that is not a phone number; dropped", "context", ev.ContextID,
			"from", MaskPhone(m.From))
		return ev, false
	}
	m.ID, m.ContextID, m.From, m.CreatedAt = 0, ev.ContextID, from, time.Time{}
	m.Text = cleanText(m.Text)
	if m.At.IsZero() {
		m.At = ev.At
	}
	if m.WAMessageID == "" {
		m.WAMessageID = syntheticID(m)
	}
	m.OptOut = in.optOut.match(m.Text)
	if !in.seen.add(incomingKey(m)) {
		in.log.Debug("incoming message seen before", "context", m.ContextID, "from", MaskPhone(m.From))
		return ev, false
	}
	// An opt-out is made durable before its message is recorded: a crash
	// between the two then leaves the message unrecorded, and the next
	// process, seeing it fresh, suppresses again (a no-op). The other
	// order would lose the opt-out, as a recorded message is never handled
	// again. One recorded before (the host may have lifted the
	// suppression since) suppresses nothing.
	suppressed := false
	if m.OptOut && in.inbox != nil {
		if known, err := in.recordedBefore(m); err == nil && !known {
			in.suppressOptOut(m)
			suppressed = true
		}
	}
	if in.inbox != nil {
		stored, fresh, err := in.record(m)
		switch {
		case err != nil:
			// Told to the host all the same, and its opt-out honoured.
			in.log.Error("could not record an incoming message", "context", m.ContextID, "from", MaskPhone(m.From),
				"err", err)
		case !fresh:
			in.log.Debug("incoming message recorded before", "context", m.ContextID, "from", MaskPhone(m.From))
			return ev, false
		default:
			m = stored
		}
	}
	in.log.Info("incoming message", "context", m.ContextID, "from", MaskPhone(m.From), "text", textInfo(m.Text),
		"opt_out", m.OptOut)
	if m.OptOut && !suppressed {
		in.suppressOptOut(m)
	}
	if in.markRead {
		in.markReadLater(m)
	}
	ev.Incoming = &m
	return ev, true
}

// account handles the account a session reports itself logged in as. The
// context's first account is stored (context.account), and so is one
// reported again after ConfirmAccount cleared it; the stored account
// again changes nothing, except that it ends a hold for a change (the
// account the host knew came back). A different account holds the
// context (RestrictionAccount, its masked number as the reason): its jobs
// wait, the host hears EventAccountChanged and context.account_changed,
// and the new account stays pending in the holder's memory, not in the
// store, until ConfirmAccount. The host sees the numbers masked unless
// WithEventPII.
func (in *inbound) account(ev SessionEvent) (SessionEvent, bool) {
	acct, err := CanonicalPhone(ev.Account)
	if err != nil {
		in.log.Warn("account event without a phone number; dropped", "context", ev.ContextID,
			"account", MaskPhone(ev.Account))
		return ev, false
	}
	if ev.At.IsZero() {
		ev.At = in.now()
	}
	ctx, cancel := context.WithTimeout(in.life, 30*time.Second)
	defer cancel()
	lc := in.contexts.get(ev.ContextID)
	for n := 1; ; n++ {
		tell, done, err := in.accountOnce(ctx, lc, ev.ContextID, acct, ev.At)
		if err == nil && done {
			if tell == "" {
				return ev, false
			}
			ev.Type, ev.Account = tell, acct
			if !in.pii {
				ev.Account = MaskPhone(acct)
			}
			if tell == EventAccountChanged {
				ev.Restriction = accountHold(acct)
			}
			return ev, true
		}
		if err != nil {
			in.log.Warn("recording a context's account", "context", ev.ContextID, "account", MaskPhone(acct), "err", err)
			if !Retryable(err) {
				return ev, false
			}
		}
		// A store that failed, or a status changed under the step: read
		// the context again.
		if n == recordTries || !sleepCtx(ctx, optOutRetry.after(n), nil) {
			return ev, false
		}
	}
}

// accountHold is the restriction that holds a context into which acct
// logged in in place of its stored account.
func accountHold(acct string) Restriction {
	return Restriction{Kind: RestrictionAccount, Reason: "a different account logged in: " + MaskPhone(acct)}
}

// accountOnce reads the context and takes one step for the account acct
// that its session reports: it returns the event type the host is to see
// ("" for none), and done false when the step did not apply (the status
// changed meanwhile).
func (in *inbound) accountOnce(ctx context.Context, lc *liveContext, id int64, acct string, at time.Time) (EventType, bool, error) {
	if lc != nil {
		lc.pacer.mu.Lock()
		defer lc.pacer.mu.Unlock()
	}
	bc, err := in.store.Context(ctx, id)
	if err != nil || bc.Status == ContextClosed {
		return "", true, err
	}
	held := bc.Restriction.Kind == RestrictionAccount
	var t *ContextTransition
	tell := EventType("")
	switch {
	case bc.Account == acct && !held:
		if lc != nil {
			lc.pacer.pendingAccount = ""
		}
		return "", true, nil // the account it had
	case bc.Account == acct:
		t = releaseAccount(bc, nil, at) // the account it had is back
	case bc.Account == "":
		e, _ := accountEdge(bc.Status)
		t = e.context(id, at)
		t.Account = &acct
		if held {
			t = releaseAccount(bc, &acct, at) // confirmed with the holder gone
		}
		tell = EventAccount
	case held && lc != nil && lc.pacer.pendingAccount == acct:
		return "", true, nil // held for it already
	default:
		r := accountHold(acct)
		t = restrictContext(id, r, at)
		tell = EventAccountChanged
	}
	ok, err := in.store.Apply(ctx, Step{Context: t})
	if err != nil || !ok {
		return "", false, err
	}
	if lc != nil {
		p := &lc.pacer
		switch {
		case tell == EventAccountChanged:
			p.restriction, p.pendingAccount = *t.Restriction, acct
			in.log.Warn("a different account logged into the context; its jobs wait for ConfirmAccount",
				"context", id, "account", MaskPhone(acct), "was", MaskPhone(bc.Account))
		case t.Restriction != nil:
			p.restriction, p.pendingAccount = Restriction{}, ""
			lc.stale.Store(true)
		}
	}
	if t.Restriction != nil && t.Restriction.Kind == RestrictionNone {
		in.log.Info("account hold over", "context", id, "account", MaskPhone(acct))
		in.enq.wakeJobs(ctx, id)
	} else if tell == EventAccount {
		in.log.Info("context account recorded", "context", id, "account", MaskPhone(acct))
	}
	return tell, true, nil
}

// recordTries bounds the tries to record an incoming message: the event
// pump, which waits for them, carries the statuses of every session too.
const recordTries = 4

// record records an incoming message in the inbox, with its event,
// trying again a few times when the store fails.
func (in *inbound) record(m IncomingMessage) (IncomingMessage, bool, error) {
	ctx, cancel := context.WithTimeout(in.life, 30*time.Second)
	defer cancel()
	for n := 1; ; n++ {
		stored, fresh, err := in.inbox.RecordIncoming(ctx, m, in.notices.incoming(m))
		if err == nil {
			if fresh {
				in.notices.woke()
			}
			return stored, fresh, nil
		}
		if n == recordTries || !Retryable(err) || !sleepCtx(ctx, optOutRetry.after(n), nil) {
			return m, false, err
		}
	}
}

// recordedBefore reports whether the inbox holds m already (same context
// and WhatsApp id), reading the sender's messages in the context newest
// first: it is asked for opt-outs only, which are few.
func (in *inbound) recordedBefore(m IncomingMessage) (bool, error) {
	ctx, cancel := context.WithTimeout(in.life, 30*time.Second)
	defer cancel()
	f := InboxFilter{ContextID: m.ContextID, From: m.From, Newest: true, Limit: recordedPage}
	for {
		page, err := in.inbox.Incoming(ctx, f)
		if err != nil {
			return false, err
		}
		for _, p := range page {
			if p.WAMessageID == m.WAMessageID {
				return true, nil
			}
		}
		if len(page) < recordedPage {
			return false, nil
		}
		f.BeforeID = page[len(page)-1].ID
	}
}

// recordedPage is the page size of recordedBefore.
const recordedPage = 200

// markReadLater marks an incoming message's chat read through its live
// session (WithMarkRead), on a goroutine of its own: the event pump does
// not wait for a page.
func (in *inbound) markReadLater(m IncomingMessage) {
	lc := in.contexts.get(m.ContextID)
	if lc == nil {
		return
	}
	r, ok := lc.session().(InboxReader)
	if !ok {
		in.log.Warn("WithMarkRead: the session cannot mark chats read (InboxReader)", "context", m.ContextID)
		return
	}
	in.calls.Add(1)
	go func() {
		defer in.calls.Done()
		err := callSession(context.Background(), in.timeout, in.grace, in.calls, func(ctx context.Context) error {
			return r.MarkRead(ctx, m.From)
		})
		if err != nil {
			in.log.Warn("could not mark an incoming message read", "context", m.ContextID, "from", MaskPhone(m.From),
				"err", err)
		}
	}()
}

// suppressOptOut suppresses the sender of an opt-out. When the store
// fails, it goes on trying, on a goroutine of its own, for up to
// optOutPatience or until the Client closes: an opt-out must not be lost
// to a short outage, nor hold up the event pump.
func (in *inbound) suppressOptOut(m IncomingMessage) {
	if in.supp.store == nil {
		in.log.Warn("opt-out received, but the store keeps no suppression list (SuppressionStore)",
			"context", m.ContextID, "from", MaskPhone(m.From))
		return
	}
	sup := Suppression{Phone: m.From, Reason: SuppressOptOut, ContextID: m.ContextID, CreatedAt: in.now()}
	try := func(ctx context.Context) error {
		_, err := in.supp.add(ctx, sup)
		return err
	}
	ctx, cancel := context.WithTimeout(in.life, 30*time.Second)
	err := try(ctx)
	cancel()
	if err == nil {
		return
	}
	in.log.Warn("could not suppress a contact who opted out; trying again", "context", m.ContextID,
		"from", MaskPhone(m.From), "err", err)
	in.calls.Add(1)
	go func() {
		defer in.calls.Done()
		ctx, cancel := context.WithTimeout(in.life, optOutPatience)
		defer cancel()
		for n := 1; Retryable(err); n++ {
			if !sleepCtx(ctx, optOutRetry.after(n), nil) {
				break
			}
			if err = try(ctx); err == nil {
				return
			}
		}
		in.log.Error("could not suppress a contact who opted out", "context", m.ContextID,
			"from", MaskPhone(m.From), "err", err)
	}()
}

// optOutRetry is the wait before an opt-out is written again, after the
// store's n-th failure, and optOutPatience how long it is tried.
var optOutRetry = backoff{base: 50 * time.Millisecond, max: 5 * time.Second}

const optOutPatience = 10 * time.Minute

// cleanText makes a text read from a page storable: valid UTF-8, without
// NUL, at most MaxTextLength characters.
func cleanText(s string) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
	if utf8.RuneCountInString(s) > MaxTextLength {
		s = string([]rune(s)[:MaxTextLength])
	}
	return s
}

// syntheticID stands for WhatsApp's id of an incoming message when the
// page showed none: the same sender, time and text give the same id, so
// that a message reported twice is still told once.
func syntheticID(m IncomingMessage) string {
	sum := sha256.Sum256([]byte(m.From + "\x00" + m.At.UTC().Format(time.RFC3339Nano) + "\x00" + m.Text))
	return "wasend:" + hex.EncodeToString(sum[:16])
}

func incomingKey(m IncomingMessage) string {
	return strconv.FormatInt(m.ContextID, 10) + "\x00" + m.WAMessageID
}

// recentIncoming is how many incoming messages the Client remembers to
// tell each once.
const recentIncoming = 4096

// recentSet is a set of strings that keeps the last few added.
type recentSet struct {
	mu    sync.Mutex
	max   int
	order []string
	in    map[string]bool
}

func newRecentSet(max int) *recentSet { return &recentSet{max: max, in: map[string]bool{}} }

// add adds k and reports whether it was new.
func (r *recentSet) add(k string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.in[k] {
		return false
	}
	if len(r.order) >= r.max {
		delete(r.in, r.order[0])
		r.order = r.order[1:]
	}
	r.order = append(r.order, k)
	r.in[k] = true
	return true
}
