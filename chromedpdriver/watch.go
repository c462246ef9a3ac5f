package chromedpdriver

// This file holds the page watch: the monitor's read of the chat list and
// the open chat, which feeds the following of ticks (follow.go), and the
// visits of chats that are not open.
//
// The read rides on the monitor's probe, one evaluation per poll: the page
// code keeps a MutationObserver that counts the page's changes, and takes
// its snapshot only when the page changed since the version the driver
// read last. A visit opens a chat by a click on its row in the chat list
// (as a person does; the chat link, as SendText opens chats, when the row
// is not rendered), then reads it. Visits run in the monitor, under the
// page lock, and give way to any call that waits for the page (SendText,
// FindSent, ...) between two evaluations.

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/wasend/wasend"
)

// watchArg is the watch's argument to the probe: the version of the page
// last read, and whether to take the snapshot anyway.
type watchArg struct {
	Ver   string `json:"ver"`
	Force bool   `json:"force,omitempty"`
}

// watchRead is what the probe reads for the watch.
type watchRead struct {
	// Ver is the page's version: a token of the page load and a count of
	// its changes.
	Ver string `json:"v"`
	// WID is the first account_storage item set (the logged-in account).
	WID string `json:"wid"`
	// Snap is the snapshot, when the page changed since the version read
	// last (or the read forced it).
	Snap *pageSnap `json:"snap"`
}

// pageSnap is a snapshot of the open chat and the chat list.
type pageSnap struct {
	Chat   *chatSnap `json:"chat"`
	List   []listRow `json:"list"`
	TZ     string    `json:"tz"`
	Offset int       `json:"offset"`
}

// chatSnap is the open chat: its panel (a name that changes when another
// chat panel replaces it, or the page loads again), its title, and its
// last rows, in order.
type chatSnap struct {
	Panel string    `json:"pid"`
	Title string    `json:"title"`
	Rows  []snapRow `json:"rows"`
}

// snapRow is a message row of the open chat.
type snapRow struct {
	ID string `json:"id"`
	// Dir is "out", "in", or "?" when the selectors cannot tell.
	Dir    string  `json:"dir"`
	Text   *string `json:"text"`
	Pre    string  `json:"pre"`
	Ack    string  `json:"ack"`
	Failed string  `json:"failed"`
}

// listRow is a row of the chat list.
type listRow struct {
	Title   string `json:"title"`
	Preview string `json:"preview"`
	// Ack is the tick of the chat's last message ("none" when it is not
	// ours), and Unread the unread badge's count (-1 for a badge without
	// one, 0 for no badge).
	Ack    string `json:"ack"`
	Unread int    `json:"unread"`
}

// rowChat reads the chat of a classic data-id ("true_15551234567@c.us_…");
// an @lid or group id names no phone number.
var rowChat = regexp.MustCompile(`^(?:true|false)_(\d{6,15})@c\.us_`)

// digits returns the number of the open chat: the digits of its title,
// or, when the title is a name, of its rows' data-ids; "" when neither
// tells.
func (c *chatSnap) digits() string {
	if d := onlyDigits(c.Title); len(d) >= 6 {
		return d
	}
	for _, r := range c.Rows {
		if m := rowChat.FindStringSubmatch(r.ID); m != nil {
			return m[1]
		}
	}
	return ""
}

// listByDigits indexes the chat list's rows whose title is a number by
// its digits; the first row of a number wins.
func (p *pageSnap) listByDigits() map[string]*listRow {
	out := make(map[string]*listRow, len(p.List))
	for i := range p.List {
		d := onlyDigits(p.List[i].Title)
		if len(d) < 6 {
			continue
		}
		if _, dup := out[d]; !dup {
			out[d] = &p.List[i]
		}
	}
	return out
}

// watchState is the monitor's state of the watch; it is touched under the
// page lock only.
type watchState struct {
	// ver is the page version last read, snap the last snapshot.
	ver  string
	snap *pageSnap
	// matchedSnap and matchedGen are the snapshot and the generation of
	// the followed set that followTick matched last.
	matchedSnap *pageSnap
	matchedGen  uint64
	// uncovered are the chats whose followed messages the last reading
	// did not show, the chat of the oldest message first.
	uncovered []string
	// lastAckVisit is the time of the last visit for ticks, and visited
	// the time of each chat's last visit.
	lastAckVisit time.Time
	visited      map[string]time.Time
	// inbox is what the session knows of incoming messages (inbox.go).
	inbox inboxState
	// unsettled says that a visit started to open a chat and did not see
	// it open: openChat must not take the chat shown for the open one.
	unsettled bool
}

// errGiveWay stops a visit for a call that waits for the page.
var errGiveWay = errors.New("chromedpdriver: the visit gave way to a call")

// watched takes in a reading of the watch, reports what changed, and
// visits a chat when one is due.
func (s *Session) watched(inc *incarnation, sel *compiledSelectors, w *watchRead) {
	s.absorb(w)
	s.visitTick(inc, sel)
}

// absorb takes in a reading of the watch and reports what changed.
func (s *Session) absorb(w *watchRead) {
	s.noteAccount(w.WID)
	if w.Snap != nil {
		s.watch.snap, s.watch.ver = w.Snap, w.Ver
	}
	now := time.Now()
	s.followTick(now)
	s.inboxTick(now)
}

// givingWay reports whether a call waits for the page, or the session
// closes: a visit stops then.
func (s *Session) givingWay() bool {
	return s.pending.Load() > 0 || s.life.Err() != nil
}

// visitTick visits a chat that is not open when one is due and no call
// waits for the page: first a chat whose unread badge grew (at most one
// every inboxVisitGap), else a chat whose followed messages the page does
// not show (at most one every WithAckVisitInterval).
func (s *Session) visitTick(inc *incarnation, sel *compiledSelectors) {
	if s.givingWay() || s.watch.snap == nil {
		return
	}
	now := time.Now()
	why := "unread"
	digits := s.inboxVisitTarget(now)
	if digits == "" && now.Sub(s.watch.lastAckVisit) >= s.pool.cfg.ackVisitInterval {
		why = "ticks"
		if digits = s.ackVisitTarget(); digits != "" {
			s.watch.lastAckVisit = now
		}
	}
	if digits == "" {
		return
	}
	if s.watch.visited == nil {
		s.watch.visited = map[string]time.Time{}
	}
	s.watch.visited[digits] = now
	ctx, cancel := s.opContext(s.life, inc, s.pool.cfg.navTimeout)
	defer cancel()
	start := time.Now()
	err := s.visit(ctx, inc, sel, digits)
	switch {
	case errors.Is(err, errGiveWay):
		s.log.Debug("chat visit gave way to a call", "chat", wasend.MaskPhone("+"+digits), "for", why)
		if why == "unread" {
			in := &s.watch.inbox
			in.queue = append([]string{digits}, remove(in.queue, digits)...)
		}
	case err != nil:
		s.log.Info("chat visit failed", "chat", wasend.MaskPhone("+"+digits), "for", why, "err", err)
		if why == "unread" {
			s.watch.inbox.retry(digits)
		}
	default:
		s.log.Debug("chat visited", "chat", wasend.MaskPhone("+"+digits), "for", why, "ms", time.Since(start).Milliseconds())
	}
}

// rowRect is where the "openrow" operation found a chat's list row.
type rowRect struct {
	X, Y, W, H float64
}

// visit opens the chat with digits and reads it: by a click on its row in
// the chat list, or by the chat link when the list does not show it. It
// returns errGiveWay as soon as a call waits for the page.
func (s *Session) visit(ctx context.Context, inc *incarnation, sel *compiledSelectors, digits string) error {
	r, err := evalOp[*rowRect](ctx, sel, "openrow", map[string]any{"digits": digits})
	if err != nil {
		return s.fail(ctx, inc, "visit", err)
	}
	if s.givingWay() {
		return errGiveWay
	}
	// From the click on, a chat may be opening until the visit sees it.
	s.watch.unsettled = true
	if r == nil {
		var bar *newChatBar
		if _, err := s.openChatWith(ctx, inc, sel, digits, openOpts{abort: s.givingWay}); err != nil && !errors.As(err, &bar) {
			return err
		}
	} else {
		if _, err := evalOp[*rowRect](ctx, sel, "openrow", map[string]any{"digits": digits, "click": true}); err != nil {
			return s.fail(ctx, inc, "visit", err)
		}
		if err := s.waitChat(ctx, inc, sel, digits, s.givingWay); err != nil {
			return err
		}
	}
	s.watch.unsettled = false
	if s.givingWay() {
		return errGiveWay
	}
	p, err := evalOp[probeResult](ctx, sel, "probe", map[string]any{"watch": watchArg{Force: true}})
	if err != nil {
		return s.fail(ctx, inc, "visit", err)
	}
	if p.Watch != nil {
		s.absorb(p.Watch)
	}
	return nil
}

// waitChat waits for a fresh chat panel whose title is the number digits,
// after a click on its list row; it stops with errGiveWay when abort (if
// set) says so.
func (s *Session) waitChat(ctx context.Context, inc *incarnation, sel *compiledSelectors, digits string, abort func() bool) error {
	const step = "open-row"
	end := time.Now().Add(chatOpenWait)
	for {
		if abort != nil && abort() {
			return errGiveWay
		}
		c, err := evalOp[chatFlags](ctx, sel, "chat", nil)
		if err != nil && !transient(err) {
			return s.fail(ctx, inc, step, err)
		}
		if err == nil && c.Panel && c.Fresh && !c.Starting && onlyDigits(c.Chat) == digits {
			return nil
		}
		if time.Now().After(end) {
			return fmt.Errorf("%w: %s: the chat did not open after a click on its row", wasend.ErrTimeout, step)
		}
		if !sleepCtx(ctx, pollStep) {
			return s.fail(ctx, inc, step, ctx.Err())
		}
	}
}
