package wasend

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

const (
	// followDebounce is how long the follower gathers the kicks of a
	// context (a send, a login) before it gives its session the messages
	// to follow: a bulk job's sends cost one call, not one each.
	followDebounce = time.Second
	// followRefresh is how often every live session is given its messages
	// again, so that those past the follow window leave and a call that
	// failed is made again.
	followRefresh = 5 * time.Minute
	// undeliveredGrace is how long a session must have followed, in this
	// process, before its messages are marked undelivered: time for it to
	// visit the chats it was given (or the receipt window, when shorter).
	undeliveredGrace = time.Hour
	// unreadPage is how many unread messages one call of Unread reads.
	unreadPage = 500
)

// follower gives the live sessions that follow acks (AckFollower) the
// messages whose ticks to follow: the newest not read, sent within the
// follow window (WithAckFollowing), after each send and at each login,
// debounced, on goroutines of its own while Run runs, so that a send never
// waits for it. The sweeper has it mark undelivered the messages not
// delivered within the receipt window (WithReceiptWindow). It needs a
// ReceiptStore; without one it does nothing.
type follower struct {
	rcpt      ReceiptStore // nil: the store keeps no receipts
	store     Store
	contexts  *registry
	followFor time.Duration
	window    time.Duration
	max       int
	// timeout and grace bound a call of FollowAcks; calls counts them.
	timeout time.Duration
	grace   time.Duration
	calls   *sync.WaitGroup
	now     func() time.Time
	log     *slog.Logger

	mu       sync.Mutex
	dirty    map[int64]bool // contexts to give their messages again
	inflight map[int64]bool // contexts whose call runs
	lastMark time.Time      // the last sweep for undelivered messages
	kicked   chan struct{}
	done     chan struct{}
	wg       sync.WaitGroup
}

// newFollower readies f, whose settings are filled in, and returns it.
func newFollower(f *follower) *follower {
	f.dirty, f.inflight, f.kicked = map[int64]bool{}, map[int64]bool{}, make(chan struct{}, 1)
	return f
}

// kick asks for the session of context id to be given its messages again.
// It never blocks.
func (f *follower) kick(id int64) {
	if f.rcpt == nil {
		return
	}
	f.mu.Lock()
	f.dirty[id] = true
	f.mu.Unlock()
	f.signal()
}

func (f *follower) signal() {
	select {
	case f.kicked <- struct{}{}:
	default:
	}
}

// start follows until ctx ends or shutdown; every live context is given
// its messages at once.
func (f *follower) start(ctx context.Context) {
	f.done = make(chan struct{})
	if f.rcpt == nil {
		return
	}
	f.kickAll()
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		refresh := time.NewTicker(followRefresh)
		defer refresh.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-f.done:
				return
			case <-refresh.C:
				f.kickAll()
			case <-f.kicked:
			}
			if !sleepCtx(ctx, followDebounce, f.done) {
				return
			}
			f.dispatch(ctx)
		}
	}()
}

// shutdown stops the follower and waits for it and its calls.
func (f *follower) shutdown() {
	if f.done == nil {
		return
	}
	close(f.done)
	f.wg.Wait()
	f.done = nil
}

func (f *follower) kickAll() {
	f.mu.Lock()
	for _, lc := range f.contexts.all() {
		f.dirty[lc.id] = true
	}
	f.mu.Unlock()
	f.signal()
}

// dispatch starts a call for every context kicked whose last call ended.
func (f *follower) dispatch(ctx context.Context) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for id := range f.dirty {
		if f.inflight[id] {
			continue // its call is running: the next round takes it
		}
		delete(f.dirty, id)
		lc := f.contexts.get(id)
		if lc == nil {
			continue
		}
		f.inflight[id] = true
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			f.follow(ctx, lc)
			f.mu.Lock()
			delete(f.inflight, id)
			again := f.dirty[id]
			f.mu.Unlock()
			if again {
				f.signal()
			}
		}()
	}
}

// follow gives a session the messages to follow.
func (f *follower) follow(ctx context.Context, lc *liveContext) {
	if lc.asleep.Load() {
		return // its browser is closed; its wake's login kicks it again
	}
	fa, ok := lc.session().(AckFollower)
	if !ok {
		return
	}
	msgs, err := f.unread(ctx, lc.id)
	if err != nil {
		if ctx.Err() == nil {
			f.log.Warn("reading the messages to follow", "context", lc.id, "err", err)
		}
		return
	}
	tracked := make([]TrackedMessage, len(msgs))
	for i, m := range msgs {
		tracked[i] = TrackedMessage{MessageID: m.ID, To: m.To, WAMessageID: m.WAMessageID, Text: m.Text,
			SentAt: m.SentAt, Ack: ackOf(m)}
	}
	err = callSession(ctx, f.timeout, f.grace, f.calls, func(cctx context.Context) error {
		return fa.FollowAcks(cctx, tracked)
	})
	if err != nil {
		if ctx.Err() == nil {
			f.log.Warn("the session did not take the messages to follow", "context", lc.id, "err", err)
		}
		return
	}
	lc.followSince.CompareAndSwap(0, f.now().UnixNano())
	f.log.Debug("the session follows its messages' ticks", "context", lc.id, "messages", len(tracked))
}

// ackOf is what the store knows of a sent message's ticks.
func ackOf(m Message) Ack {
	switch {
	case !m.ReadAt.IsZero():
		return AckRead
	case !m.DeliveredAt.IsZero():
		return AckDelivered
	}
	return AckSent
}

// unread returns the newest f.max messages of a context sent within the
// follow window and not read, by id.
func (f *follower) unread(ctx context.Context, contextID int64) ([]Message, error) {
	flt := ReceiptFilter{ContextID: contextID, SentAfter: f.now().Add(-f.followFor), Limit: unreadPage}
	var out []Message
	for {
		page, err := f.rcpt.Unread(ctx, flt)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if len(out) > f.max {
			out = append([]Message(nil), out[len(out)-f.max:]...)
		}
		if len(page) < unreadPage {
			return out, nil
		}
		flt.AfterID = page[len(page)-1].ID
	}
}

// markUndelivered marks undelivered, once, the messages of the live
// contexts whose sessions follow acks that were sent more than the receipt
// window ago and never seen delivered. A session must have followed for
// undeliveredGrace (or the window, when shorter) in this process first:
// the messages of a session that cannot follow, or that was just given
// them, are never marked. It runs on the sweeper's goroutine, at most
// every half window (and every minute).
func (f *follower) markUndelivered(ctx context.Context) {
	if f.rcpt == nil {
		return
	}
	now := f.now()
	f.mu.Lock()
	due := now.Sub(f.lastMark) >= min(f.window/2, time.Minute)
	if due {
		f.lastMark = now
	}
	f.mu.Unlock()
	if !due {
		return
	}
	for _, lc := range f.contexts.all() {
		if _, ok := lc.session().(AckFollower); !ok || lc.asleep.Load() {
			// A sleeping context sees no ticks: what it did not see
			// is not said undelivered until it watches again.
			continue
		}
		since := lc.followSince.Load()
		if since == 0 || now.Sub(time.Unix(0, since)) < min(f.window, undeliveredGrace) {
			continue
		}
		if err := f.markContext(ctx, lc.id, now); err != nil && ctx.Err() == nil {
			f.log.Warn("marking undelivered messages", "context", lc.id, "err", err)
		}
	}
}

func (f *follower) markContext(ctx context.Context, contextID int64, now time.Time) error {
	flt := ReceiptFilter{ContextID: contextID, Undelivered: true, SentAfter: now.Add(-f.followFor),
		SentBefore: now.Add(-f.window), Limit: unreadPage}
	marked := 0
	defer func() {
		if marked > 0 {
			f.log.Warn("messages not delivered within the receipt window", "context", contextID, "messages", marked,
				"window", f.window)
		}
	}()
	for {
		page, err := f.rcpt.Unread(ctx, flt)
		if err != nil {
			return err
		}
		for _, m := range page {
			ok, err := f.store.Apply(ctx, Step{Receipt: &ReceiptTransition{MessageID: m.ID, Undelivered: true, At: now}})
			if err != nil {
				return err
			}
			if ok {
				marked++
			}
		}
		if len(page) < unreadPage {
			return nil
		}
		flt.AfterID = page[len(page)-1].ID
	}
}
