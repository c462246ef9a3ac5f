package chromedpdriver

// This file notices incoming messages (wasend.EventIncoming) in what the
// page watch reads (watch.go), and marks a chat read when the host asks
// (wasend.InboxReader).

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/wasend/wasend"
)

const (
	// inboxSettle is how long after a chat panel appears its rows count as
	// its history (they may still be loading); the rows that come later
	// are new.
	inboxSettle = time.Second
	// inboxVisitGap is the least time between two visits of chats for
	// their unread messages.
	inboxVisitGap = time.Second
	// maxVisitFails is how many times a chat is visited in vain for its
	// unread messages before the session waits for its count to grow.
	maxVisitFails = 3
	// maxReported bounds the ids of incoming messages a session remembers
	// as reported.
	maxReported = 10000
	// markReadWait bounds the wait of MarkRead for the chat's unread badge
	// to go, and markReadHold is how long the page keeps the focus after
	// that, for its read receipts to leave.
	markReadWait = 5 * time.Second
	markReadHold = 500 * time.Millisecond
)

// inboxState is what the session knows of incoming messages; the monitor
// and MarkRead touch it under the page lock.
type inboxState struct {
	// panel is the open chat panel last seen, since when, and the ids of
	// the rows it showed until it settled (its history).
	panel string
	since time.Time
	base  map[string]bool
	// unread is the unread count that the chat list last showed for each
	// chat (by number); queue lists the chats whose count grew, to visit.
	unread map[string]int
	queue  []string
	// lastVisit is the time of the last visit for unread messages, and
	// fails counts the failed visits of each chat since its count grew.
	lastVisit time.Time
	fails     map[string]int
	// reported and order are the keys (number|id) of the messages
	// reported, oldest first, at most maxReported.
	reported map[string]bool
	order    []string
}

// seen records the report of key and reports whether it was new.
func (in *inboxState) seen(key string) bool {
	if in.reported == nil {
		in.reported = map[string]bool{}
	}
	if in.reported[key] {
		return false
	}
	in.reported[key] = true
	in.order = append(in.order, key)
	if len(in.order) > maxReported {
		delete(in.reported, in.order[0])
		in.order = in.order[1:]
	}
	return true
}

// newIncoming returns the incoming rows of snap that are new, in order:
// in the open chat, the rows that came after its history settled and, as
// the chat list's badge counts them, its last unread ones. It updates the
// unread counts and the queue of chats to visit, and the open panel's
// history.
func (in *inboxState) newIncoming(snap *pageSnap, now time.Time) []snapRow {
	open := ""
	if snap.Chat != nil {
		open = snap.Chat.digits()
	}
	if in.unread == nil {
		in.unread = map[string]int{}
	}
	for d, r := range snap.listByDigits() {
		n := max(r.Unread, 0)
		if n > in.unread[d] && d != open && !contains(in.queue, d) {
			in.queue = append(in.queue, d)
			delete(in.fails, d)
		}
		if n == 0 {
			delete(in.unread, d)
		} else {
			in.unread[d] = n
		}
	}
	c := snap.Chat
	if c == nil {
		in.panel = ""
		return nil
	}
	in.queue = remove(in.queue, open)
	if c.Panel != in.panel {
		in.panel, in.since, in.base = c.Panel, now, map[string]bool{}
	}
	settling := now.Sub(in.since) < inboxSettle
	var ins []int
	for i, r := range c.Rows {
		if r.ID == "" {
			continue
		}
		if settling {
			in.base[r.ID] = true
		}
		if r.Dir == "in" {
			ins = append(ins, i)
		}
	}
	unreadFrom := len(ins) - min(in.unread[open], len(ins))
	var out []snapRow
	for k, i := range ins {
		r := c.Rows[i]
		if k >= unreadFrom || !in.base[r.ID] {
			out = append(out, r)
		}
	}
	return out
}

// retry puts a chat whose visit failed back in the queue, up to
// maxVisitFails times until its unread count grows again.
func (in *inboxState) retry(d string) {
	if in.fails == nil {
		in.fails = map[string]int{}
	}
	in.fails[d]++
	if in.fails[d] < maxVisitFails && !contains(in.queue, d) {
		in.queue = append(in.queue, d)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func remove(list []string, s string) []string {
	out := list[:0]
	for _, v := range list {
		if v != s {
			out = append(out, v)
		}
	}
	return out
}

// inboxTick reports the incoming messages that the last reading shows for
// the first time, once per number and WhatsApp id.
func (s *Session) inboxTick(now time.Time) {
	snap := s.watch.snap
	if snap == nil {
		return
	}
	in := &s.watch.inbox
	rows := in.newIncoming(snap, now)
	if len(rows) == 0 {
		return
	}
	chat := snap.Chat.digits()
	loc := pageLocation(snap.TZ, snap.Offset)
	for _, r := range rows {
		from := chat
		if m := rowChat.FindStringSubmatch(r.ID); m != nil {
			from = m[1]
		}
		if from == "" {
			continue // a saved contact's chat with bare ids: no number to report
		}
		if !in.seen(from + "|" + r.ID) {
			continue
		}
		msg := &wasend.IncomingMessage{From: "+" + from, WAMessageID: r.ID, At: now}
		if r.Text != nil {
			msg.Text = normText(*r.Text)
		}
		if at, ok := parsePrePlain(r.Pre, loc); ok {
			msg.At = at
		}
		s.log.Info("incoming message", "from", wasend.MaskPhone(msg.From))
		s.emit(wasend.SessionEvent{Type: wasend.EventIncoming, Incoming: msg, At: now})
	}
}

// inboxVisitTarget returns the next chat to visit for its unread
// messages, or "" when none is due.
func (s *Session) inboxVisitTarget(now time.Time) string {
	in := &s.watch.inbox
	if len(in.queue) == 0 || now.Sub(in.lastVisit) < inboxVisitGap {
		return ""
	}
	d := in.queue[0]
	in.queue = in.queue[1:]
	in.lastVisit = now
	return d
}

// MarkRead marks the messages from from (E.164) read (wasend.InboxReader):
// it opens the chat (a click on its row in the chat list, or its link),
// gives the page the focus, which WhatsApp Web needs to send read
// receipts (document.hasFocus()), waits for the chat's unread badge on
// the chat list to go, keeps the focus a moment for the receipts to
// leave, and takes it away again. A chat that the chat list does not
// show is taken as read once the page has had the focus for that moment.
// It returns wasend.ErrInvalidPhone for a bad number, and the errors of
// SendText for a page that cannot open the chat (wasend.ErrNotOnWhatsApp,
// wasend.ErrTimeout, ...).
func (s *Session) MarkRead(ctx context.Context, from string) error {
	digits, err := phoneDigits(from)
	if err != nil {
		return err
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	inc, err := s.acquire(ctx, false)
	if err != nil {
		s.noteFailure(err)
		return err
	}
	defer s.unlock()
	sel := s.selectors()
	octx, cancel2 := s.opContext(ctx, inc, s.pool.cfg.actionTimeout)
	defer cancel2()
	if err := s.openForRead(octx, inc, sel, digits); err != nil {
		s.noteFailure(err)
		return err
	}
	if err := setFocus(octx, true); err != nil {
		return s.fail(octx, inc, "mark-read", err)
	}
	defer func() {
		// The focus goes in any case, so that no other chat is read.
		fctx, cancel := s.opContext(context.Background(), inc, 5*time.Second)
		defer cancel()
		if err := setFocus(fctx, false); err != nil && !inc.isDead() {
			s.log.Warn("could not take the focus away from the page", "err", err)
		}
	}()
	end := time.Now().Add(markReadWait)
	for {
		p, err := evalOp[probeResult](octx, sel, "probe", map[string]any{"watch": watchArg{Force: true}})
		if err != nil && !transient(err) {
			return s.fail(octx, inc, "mark-read", err)
		}
		if err == nil && p.Watch != nil && p.Watch.Snap != nil {
			lr := p.Watch.Snap.listByDigits()[digits]
			if lr == nil || lr.Unread == 0 {
				break
			}
		}
		if time.Now().After(end) {
			return fmt.Errorf("%w: mark-read: the chat's unread badge did not go", wasend.ErrTimeout)
		}
		if !sleepCtx(octx, pollStep) {
			return s.fail(octx, inc, "mark-read", octx.Err())
		}
	}
	if !sleepCtx(octx, markReadHold) {
		return s.fail(octx, inc, "mark-read", octx.Err())
	}
	delete(s.watch.inbox.unread, digits)
	s.log.Info("chat marked read", "chat", wasend.MaskPhone(from))
	return nil
}

// openForRead opens the chat with digits for MarkRead: a click on its row
// in the chat list, or its link.
func (s *Session) openForRead(ctx context.Context, inc *incarnation, sel *compiledSelectors, digits string) error {
	c, err := evalOp[chatFlags](ctx, sel, "chat", nil)
	if err != nil {
		return s.fail(ctx, inc, "mark-read", err)
	}
	if !s.watch.unsettled && c.Panel && !c.Starting && !c.Invalid && onlyDigits(c.Chat) == digits {
		return nil // open already
	}
	r, err := evalOp[*rowRect](ctx, sel, "openrow", map[string]any{"digits": digits})
	if err != nil {
		return s.fail(ctx, inc, "mark-read", err)
	}
	if r == nil {
		var bar *newChatBar
		if _, err := s.openChatWith(ctx, inc, sel, digits, openOpts{}); err != nil && !errors.As(err, &bar) {
			return err
		}
		return nil
	}
	if _, err := evalOp[*rowRect](ctx, sel, "openrow", map[string]any{"digits": digits, "click": true}); err != nil {
		return s.fail(ctx, inc, "mark-read", err)
	}
	if err := s.waitChat(ctx, inc, sel, digits, nil); err != nil {
		return err
	}
	s.watch.unsettled = false
	return nil
}

// setFocus turns the page's emulated focus on or off: with it,
// document.hasFocus() is true, as for the window in front.
func setFocus(ctx context.Context, on bool) error {
	return chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: on})
		return err
	}))
}
