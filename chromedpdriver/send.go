package chromedpdriver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/wasend/wasend"
)

// Waits of a send.
const (
	// pollStep is how often a send reads the page while it waits.
	pollStep = 30 * time.Millisecond
	// confirmWait is the longest a read of the sent message's row waits in
	// the page for a change (evalOpWait) before it answers anyway.
	confirmWait = 250 * time.Millisecond
	// chatGrace is how long an open chat may lack a compose box before the
	// selector set counts as broken.
	chatGrace = 2 * time.Second
	// clickGrace is how long the send button's click has to take the text
	// out of the box before Enter is pressed instead.
	clickGrace = 1500 * time.Millisecond
	// rowGrace is how long a sent message may lack its row, or the row its
	// status icon, before the selector set counts as broken.
	rowGrace = 5 * time.Second
	// inAppGrace is how long the app may take to react to an in-app
	// navigation before the driver loads the chat link instead.
	inAppGrace = 5 * time.Second
	// invalidGrace is how long the invalid-number dialog may resist its OK
	// button.
	invalidGrace = 2 * time.Second
	// chatOpenWait is how long a chat may take to open after a click on
	// its row in the chat list.
	chatOpenWait = 10 * time.Second
)

// chatFlags is what the "chat" operation reads.
type chatFlags struct {
	pageFlags
	Panel    bool   `json:"panel"`
	Fresh    bool   `json:"fresh"`
	Compose  bool   `json:"compose"`
	NewChats string `json:"newChats"`
	BarText  string `json:"barText"`
}

// rowInfo describes an outgoing row.
type rowInfo struct {
	Text   *string `json:"text"`
	ID     string  `json:"id"`
	Pre    string  `json:"pre"`
	Status string  `json:"status"`
	Ack    string  `json:"ack"`    // as ackOf reads the tick: "delivered", "read", ...
	Failed string  `json:"failed"` // "failed" or "capped": the fail icon
}

// delivered reports whether the row's tick says the recipient's phone has
// the message: no rejection can come after that (a restriction's refusal
// comes from the server, before delivery), so the watch for one ends.
func (r *rowInfo) delivered() bool { return r.Ack == "delivered" || r.Ack == "read" }

type confirmFlags struct {
	pageFlags
	Rows         []rowInfo `json:"rows"`
	Total        int       `json:"total"`
	ComposeFound bool      `json:"composeFound"`
	Compose      string    `json:"compose"`
}

type composeState struct {
	Found bool   `json:"found"`
	Text  string `json:"text"`
}

// normText is the text as the page keeps it: CR LF and CR become LF.
func normText(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

func onlyDigits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// titleMatches reports whether a chat title names the number: its digits
// are the number's, or it holds no number at all (a saved contact's name)
// in a chat that opened after the driver's navigation.
func titleMatches(title, digits string) bool {
	d := onlyDigits(title)
	return d == digits || (strings.TrimSpace(title) != "" && len(d) < 5)
}

// openChat opens the chat with the number digits: inside the running app
// (pushState and popstate) when it is loaded, or by loading /send?phone=
// when it is not. It returns once the chat's header shows the number and
// its compose box is there, or wasend.ErrNotOnWhatsApp after dismissing the
// invalid-number dialog, or a *newChatBar when a restriction's compose bar
// replaces the compose box (the chat is open, but cannot be started).
func (s *Session) openChat(ctx context.Context, inc *incarnation, sel *compiledSelectors, digits string) error {
	_, err := s.openChatWith(ctx, inc, sel, digits, openOpts{})
	return err
}

// openOpts are the options of openChatWith.
type openOpts struct {
	// abort, when set, is asked between two readings of the page; when it
	// returns true, the opening stops with errGiveWay.
	abort func() bool
	// link opens the chat by a click on a link to /send?phone=, which
	// the app handles in place (whatsapp-web.md §10.7), instead of
	// history.pushState and popstate.
	link bool
	// anyNumber takes the chat that opens whatever number its header
	// shows: WhatsApp opens some numbers under another one (Brazil's
	// ninth digit, Mexico's "1").
	anyNumber bool
}

// openChatWith is openChat with options. It returns the last reading of
// the page, whose Chat is the open chat's title.
func (s *Session) openChatWith(ctx context.Context, inc *incarnation, sel *compiledSelectors, digits string, o openOpts) (chatFlags, error) {
	var last chatFlags
	err := s.openChatRead(ctx, inc, sel, digits, o, &last)
	return last, err
}

// openChatRead does the work of openChatWith; it keeps each reading of the
// page in last.
func (s *Session) openChatRead(ctx context.Context, inc *incarnation, sel *compiledSelectors, digits string, o openOpts, last *chatFlags) (err error) {
	cfg := &s.pool.cfg
	const step = "open-chat"
	octx, cancel := s.opContext(ctx, inc, cfg.navTimeout)
	defer cancel()
	if d, ok := octx.Deadline(); !ok || time.Until(d) > cfg.navTimeout {
		var c2 context.CancelFunc
		octx, c2 = context.WithTimeout(octx, cfg.navTimeout)
		defer c2()
	}
	c, err := evalOp[chatFlags](octx, sel, "chat", nil)
	if err != nil {
		return s.fail(octx, inc, step, err)
	}
	*last = c
	if err := s.blocker(octx, sel, c.pageFlags); err != nil {
		return err
	}
	if !s.watch.unsettled && c.Panel && c.Compose && !c.Starting && !c.Invalid && titleMatches(c.Chat, digits) && onlyDigits(c.Chat) == digits {
		return nil // the chat is open already
	}
	// A visit that gave way may have left a chat opening: the chat shown
	// now may not stay, so the chat is opened anew, and the navigation
	// below supersedes the visit's.
	defer func() {
		if err == nil {
			s.watch.unsettled = false
		}
	}()
	path := "/send?phone=" + digits
	load := func() error {
		return chromedp.Do(octx, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := chromedp.Call(ctx, page.Navigate, page.NavigateParams{URL: cfg.url + path})
			return err
		}))
	}
	inApp := c.LoggedIn
	if inApp {
		op := "nav"
		if o.link {
			op = "navlink"
		}
		if _, err := evalOp[bool](octx, sel, op, map[string]string{"path": path}); err != nil {
			return s.fail(octx, inc, step, err)
		}
	} else {
		s.log.Debug("the app is not loaded; loading the chat link")
		if err := load(); err != nil {
			return s.fail(octx, inc, step, err)
		}
	}
	navAt := time.Now()
	moved := false // the app reacted to the navigation
	var panelSince, invalidSince, lastOK, otherSince time.Time
	for {
		if !sleepCtx(octx, pollStep) {
			return s.fail(octx, inc, step, octx.Err())
		}
		if o.abort != nil && o.abort() {
			return errGiveWay
		}
		c, err := evalOp[chatFlags](octx, sel, "chat", nil)
		if err != nil {
			if transient(err) {
				continue
			}
			return s.fail(octx, inc, step, err)
		}
		*last = c
		if err := s.blocker(octx, sel, c.pageFlags); err != nil {
			return err
		}
		now := time.Now()
		if c.Invalid {
			if invalidSince.IsZero() {
				invalidSince = now
			}
			if now.Sub(invalidSince) > invalidGrace {
				s.log.Warn("the invalid-number dialog did not close")
				return fmt.Errorf("%w: WhatsApp says the number is invalid", wasend.ErrNotOnWhatsApp)
			}
			if now.Sub(lastOK) > 300*time.Millisecond {
				lastOK = now
				if _, err := click(octx, sel, "invalid_ok"); err != nil && !transient(err) {
					return s.fail(octx, inc, step, err)
				}
			}
			continue
		}
		if !invalidSince.IsZero() {
			return fmt.Errorf("%w: WhatsApp says the number is invalid", wasend.ErrNotOnWhatsApp)
		}
		if c.Starting || (c.Panel && c.Fresh) {
			moved = true
		}
		if inApp && !moved && now.Sub(navAt) > inAppGrace {
			// The app's router ignored the in-app navigation: load the link.
			s.log.Warn("the app did not open the chat in place; loading the chat link")
			inApp = false
			navAt = now
			if err := load(); err != nil {
				return s.fail(octx, inc, step, err)
			}
			continue
		}
		if c.Starting || !c.Panel || !c.Fresh {
			continue
		}
		if !titleMatches(c.Chat, digits) && (!o.anyNumber || strings.TrimSpace(c.Chat) == "") {
			// WhatsApp opens some numbers under another one (Brazil's
			// ninth digit, Mexico's "1"): a chat of another number that
			// stays is not this number's.
			if d := onlyDigits(c.Chat); moved && len(d) >= 6 {
				if otherSince.IsZero() {
					otherSince = now
				}
				if now.Sub(otherSince) > chatGrace {
					return fmt.Errorf("%w: WhatsApp opened the chat of another number, %s (CheckNumber gives it as Canonical)",
						wasend.ErrInvalidPhone, wasend.MaskPhone("+"+d))
				}
			}
			continue
		}
		if c.Compose {
			return nil
		}
		if c.NewChats != "" {
			return &newChatBar{kind: c.NewChats, text: c.BarText}
		}
		if panelSince.IsZero() {
			panelSince = now
		}
		if now.Sub(panelSince) > chatGrace {
			return s.broken(octx, sel, "chat", []string{"compose"})
		}
	}
}

// sendTx is one SendText.
type sendTx struct {
	s       *Session
	inc     *incarnation
	sel     *compiledSelectors
	digits  string
	want    string
	step    string
	chat    string // the open chat's title, checked before the press
	clicked bool   // the point of no return is passed
}

// SendText sends text to the phone number to (E.164) and returns once the
// message's row shows a tick (sent, delivered or read), with the row's
// data-id as the message id. The text goes in through a paste, is read
// back from the compose box and compared before the send. Every failure
// after the click on the send button is wrapped with wasend.Unconfirmed,
// except a rejection that the page shows (the fail icon on the row, within
// the wait for the tick or WithRejectWatch after it): that error wraps
// wasend.ErrMessageRejected, as the message is known not to have been
// delivered. A restriction found before the click returns a
// *wasend.RestrictionError and sends nothing: the temporary-ban screen
// (RestrictionTemporary), the login page with the 403 banner
// (RestrictionBanned), or the compose bar of the timelock or of the
// new-chat cap in the target chat (RestrictionNewChats, with the end read
// from its modal when it can be). It never puts the text in a URL, and
// never logs it.
func (s *Session) SendText(ctx context.Context, to, text string) (wasend.Receipt, error) {
	digits, err := phoneDigits(to)
	if err != nil {
		return wasend.Receipt{}, err
	}
	if strings.TrimSpace(text) == "" {
		return wasend.Receipt{}, wasend.ErrEmptyText
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	start := time.Now()
	inc, err := s.acquire(ctx, false)
	if err != nil {
		s.noteFailure(err)
		return wasend.Receipt{}, err
	}
	defer s.unlock()
	tx := &sendTx{s: s, inc: inc, sel: s.selectors(), digits: digits, want: normText(text)}
	r, err := tx.run(ctx)
	if err != nil {
		if tx.clicked && !errors.Is(err, wasend.ErrUnconfirmed) && !errors.Is(err, wasend.ErrMessageRejected) {
			err = wasend.Unconfirmed(err)
		}
		s.noteFailure(err)
		if errors.Is(err, wasend.ErrTimeout) {
			s.debugDump(ctx, tx.step)
		}
		s.log.Warn("send failed", "to", wasend.MaskPhone(to), "step", tx.step, "after_click", tx.clicked,
			"ms", time.Since(start).Milliseconds(), "err", err)
		return wasend.Receipt{}, err
	}
	s.log.Debug("sent", "to", wasend.MaskPhone(to), "ms", time.Since(start).Milliseconds(), "id", r.MessageID != "")
	return r, nil
}

// open opens the recipient's chat (the step "open-chat") and returns the
// context of the send's page actions, bounded by WithActionTimeout, with
// its cancel, which the caller defers even on an error. A restriction's
// compose bar in the chat gives its *wasend.RestrictionError.
func (tx *sendTx) open(ctx context.Context) (context.Context, context.CancelFunc, error) {
	s := tx.s
	tx.step = "open-chat"
	err := s.openChat(ctx, tx.inc, tx.sel, tx.digits)
	octx, cancel := s.opContext(ctx, tx.inc, s.pool.cfg.actionTimeout)
	var bar *newChatBar
	if errors.As(err, &bar) {
		return octx, cancel, s.newChatsError(octx, tx.sel, bar)
	}
	return octx, cancel, err
}

func (tx *sendTx) run(ctx context.Context) (wasend.Receipt, error) {
	s := tx.s
	octx, cancel, err := tx.open(ctx)
	defer cancel()
	if err != nil {
		return wasend.Receipt{}, err
	}
	tx.step = "fill"
	if err := tx.fill(octx); err != nil {
		return wasend.Receipt{}, err
	}
	tx.step = "mark"
	seen, err := evalOp[chatRows](octx, tx.sel, "mark", nil)
	if err != nil {
		return wasend.Receipt{}, s.fail(octx, tx.inc, tx.step, err)
	}
	f, err := evalOp[pageFlags](octx, tx.sel, "probe", nil)
	if err != nil {
		return wasend.Receipt{}, s.fail(octx, tx.inc, tx.step, err)
	}
	if err := s.blocker(octx, tx.sel, f); err != nil {
		return wasend.Receipt{}, err
	}
	if err := tx.sameChat(f); err != nil {
		return wasend.Receipt{}, err
	}
	// The host stores the mark before the message may leave; if it
	// cannot, nothing is sent and its error is returned as it is.
	tx.step = "before-send"
	if err := wasend.BeforeSend(ctx, makeMark(seen.Rows, tx.want, pageLocation(seen.TZ, seen.Offset))); err != nil {
		return wasend.Receipt{}, err
	}
	tx.step = "send"
	if err := tx.send(octx); err != nil {
		if !tx.clicked {
			return wasend.Receipt{}, err
		}
		return wasend.Receipt{}, wasend.Unconfirmed(s.fail(octx, tx.inc, tx.step, err))
	}
	tx.step = "confirm"
	return tx.confirm(octx)
}

// sameChat checks, just before the click, that the open chat is still the
// recipient's: another chat that opened meanwhile (a navigation of the
// page's own, or one the session started and gave up) must not get the
// message. Nothing was clicked, so the error is retryable.
func (tx *sendTx) sameChat(f pageFlags) error {
	if !titleMatches(f.Chat, tx.digits) {
		return tx.otherChat()
	}
	tx.chat = f.Chat
	return nil
}

func (tx *sendTx) otherChat() error {
	return fmt.Errorf("%w: %s: another chat opened before the click", wasend.ErrTimeout, tx.step)
}

// pressResult is what the "press" operation reads.
type pressResult struct {
	Chat  string `json:"chat"`
	Found bool   `json:"found"`
}

// press clicks the element of key, or presses Enter on it, only while the
// open chat is still the one sameChat checked: the check and the press
// are one evaluation in the page, so a chat that opens in between (the
// page's own navigation, a click of the user's) cannot get the message.
// It reports whether the element was there. Before the first press
// (tx.clicked false), a changed chat is a retryable error, as nothing was
// sent; after it, the caller makes the error unconfirmed.
//
// The press counts as made (tx.clicked) from the moment it is asked for:
// an evaluation that fails (a cancelled ctx, a lost tab) may have pressed
// before its answer was lost, so only the page's own answer that it did
// not press (another chat, no element) takes that back.
func (tx *sendTx) press(ctx context.Context, key string, enter bool) (bool, error) {
	before := tx.clicked
	tx.clicked = true
	r, err := evalOp[pressResult](ctx, tx.sel, "press", map[string]any{"key": key, "enter": enter, "chat": tx.chat})
	if err != nil {
		return false, err
	}
	if r.Chat != tx.chat {
		tx.clicked = before
		return false, tx.otherChat()
	}
	if !r.Found {
		tx.clicked = before
	}
	return r.Found, nil
}

// readCompose returns the compose box's text.
func (tx *sendTx) readCompose(ctx context.Context) (composeState, error) {
	return evalOp[composeState](ctx, tx.sel, "compose", nil)
}

// waitCompose waits up to d for the compose box to hold want.
func (tx *sendTx) waitCompose(ctx context.Context, want string, d time.Duration) (bool, error) {
	end := time.Now().Add(d)
	for {
		c, err := tx.readCompose(ctx)
		if err != nil && !transient(err) {
			return false, err
		}
		if err == nil && c.Text == want {
			return true, nil
		}
		if time.Now().After(end) || !sleepCtx(ctx, pollStep) {
			return false, nil
		}
	}
}

// fill puts the text in the compose box and checks it: a paste first; if
// the box does not read back the text, it is cleared and the text typed
// (typeText); then it gives up.
func (tx *sendTx) fill(ctx context.Context) error {
	s := tx.s
	if s.pool.cfg.typingPerChar > 0 {
		ok, err := tx.typeSlowly(ctx)
		if err != nil {
			return s.fail(ctx, tx.inc, tx.step, err)
		}
		if ok {
			return nil
		}
		s.log.Info("the typed text does not read back; pasting it")
	}
	if !s.pool.typeOnly {
		if _, err := evalOp[bool](ctx, tx.sel, "paste", map[string]string{"text": tx.want}); err != nil {
			return s.fail(ctx, tx.inc, tx.step, err)
		}
		ok, err := tx.waitCompose(ctx, tx.want, time.Second)
		if err != nil {
			return s.fail(ctx, tx.inc, tx.step, err)
		}
		if ok {
			return nil
		}
		s.log.Info("the paste did not fill the compose box; typing the text")
	}
	if _, err := evalOp[bool](ctx, tx.sel, "clear", nil); err != nil {
		return s.fail(ctx, tx.inc, tx.step, err)
	}
	if _, err := tx.waitCompose(ctx, "", 500*time.Millisecond); err != nil {
		return s.fail(ctx, tx.inc, tx.step, err)
	}
	if err := typeText(ctx, tx.sel, "compose", tx.want); err != nil {
		return s.fail(ctx, tx.inc, tx.step, err)
	}
	ok, err := tx.waitCompose(ctx, tx.want, time.Second)
	if err != nil {
		return s.fail(ctx, tx.inc, tx.step, err)
	}
	if ok {
		return nil
	}
	_, _ = evalOp[bool](ctx, tx.sel, "clear", nil)
	return errors.New("chromedpdriver: the compose box does not read back the message text")
}

// typeMore types s into the box that typeText typed into last (typeJS).
func typeMore(ctx context.Context, s string) error {
	a, err := json.Marshal(s)
	if err != nil {
		return err
	}
	countEval(ctx)
	ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](typeJS+"("+string(a)+")"))
	if err == nil && !ok {
		err = errors.New("chromedpdriver: the box being typed into is gone")
	}
	return err
}

// typeText types s at the end of the box of key with the page's editing
// commands (document.execCommand('insertText')), with Shift+Enter key
// events between its lines. Like the page's own click events, it leaves
// the page without the focus, unlike the browser's input
// (Input.insertText), after which WhatsApp Web would mark the open chat
// read.
func typeText(ctx context.Context, sel *compiledSelectors, key, s string) error {
	ok, err := evalOp[bool](ctx, sel, "type", map[string]string{"key": key, "text": s})
	if err == nil && !ok {
		err = fmt.Errorf("chromedpdriver: no %s to type into", key)
	}
	return err
}

// typingPieces splits text into the pieces that the typing simulation
// types, one per step, and returns the pause after each: perChar per
// character, and no more than max in all.
func typingPieces(text string, perChar, limit time.Duration) ([]string, time.Duration) {
	runes := []rune(text)
	if len(runes) == 0 {
		return nil, 0
	}
	steps := len(runes)
	if total := time.Duration(len(runes)) * perChar; total > limit {
		steps = max(1, int(limit/perChar))
	}
	size := (len(runes) + steps - 1) / steps
	var out []string
	for i := 0; i < len(runes); i += size {
		out = append(out, string(runes[i:min(i+size, len(runes))]))
	}
	return out, min(time.Duration(size)*perChar, limit/time.Duration(len(out)))
}

// typeSlowly types the text into the emptied compose box at the pace of
// WithTyping, and reports whether the box then reads back the text.
func (tx *sendTx) typeSlowly(ctx context.Context) (bool, error) {
	cfg := &tx.s.pool.cfg
	if _, err := evalOp[bool](ctx, tx.sel, "clear", nil); err != nil {
		return false, err
	}
	if _, err := tx.waitCompose(ctx, "", 500*time.Millisecond); err != nil {
		return false, err
	}
	pieces, pause := typingPieces(tx.want, cfg.typingPerChar, cfg.typingMax)
	for i, p := range pieces {
		if i == 0 {
			if err := typeText(ctx, tx.sel, "compose", p); err != nil {
				return false, err
			}
		} else if err := typeMore(ctx, p); err != nil {
			return false, err
		}
		if !sleepCtx(ctx, pause) {
			return false, ctx.Err()
		}
	}
	ok, err := tx.waitCompose(ctx, tx.want, time.Second)
	if err != nil || ok {
		return ok, err
	}
	_, err = evalOp[bool](ctx, tx.sel, "clear", nil)
	return false, err
}

// send clicks the send button, or presses Enter when there is none or the
// click did not take the text out of the box.
func (tx *sendTx) send(ctx context.Context) error {
	found, err := tx.press(ctx, "send_btn", false)
	if err != nil {
		return err
	}
	if !found {
		tx.s.log.Warn("no send button; pressing Enter")
		return tx.enter(ctx)
	}
	end := time.Now().Add(clickGrace)
	for time.Now().Before(end) {
		c, err := evalOp[confirmFlags](ctx, tx.sel, "confirm", nil)
		if err != nil {
			return err
		}
		if len(c.Rows) > 0 || c.Compose != tx.want {
			return nil
		}
		if !sleepCtx(ctx, pollStep) {
			return ctx.Err()
		}
	}
	tx.s.log.Warn("the send button's click did not send; pressing Enter")
	return tx.enter(ctx)
}

// enter presses Enter in the compose box, as the page's own key down and
// up events (as some bots do, whatsapp-web.md §2): the browser's input
// would give the page the focus.
func (tx *sendTx) enter(ctx context.Context) error {
	found, err := tx.press(ctx, "compose", true)
	if err == nil && !found {
		err = fmt.Errorf("%w: %s: no compose box to press Enter in", wasend.ErrTimeout, tx.step)
	}
	return err
}

// confirm waits for the new row that holds the text to show a tick.
func (tx *sendTx) confirm(ctx context.Context) (wasend.Receipt, error) {
	s := tx.s
	start := time.Now()
	soft := start.Add(s.pool.cfg.actionTimeout)
	if d, ok := ctx.Deadline(); ok {
		margin := min(300*time.Millisecond, time.Until(d)/10)
		soft = d.Add(-margin)
	}
	var noRowSince, noStatusSince time.Time
	offline := false
	for wait := time.Duration(0); ; wait = confirmWait {
		// The first read is at once; the next ones wait in the page for
		// it to change (the tick), up to confirmWait.
		c, err := evalOpWait[confirmFlags](ctx, tx.sel, "confirm", nil, wait)
		if err != nil && !transient(err) && ctx.Err() == nil {
			return wasend.Receipt{}, wasend.Unconfirmed(s.fail(ctx, tx.inc, tx.step, err))
		}
		now := time.Now()
		if err == nil {
			offline = offline || c.PhoneOffline
			if b := s.blocker(ctx, tx.sel, c.pageFlags); b != nil {
				return wasend.Receipt{}, wasend.Unconfirmed(b)
			}
			row := lastRow(c.Rows, tx.want)
			switch {
			case row != nil && row.Failed != "":
				return wasend.Receipt{}, rejectedError(row.Failed)
			case row != nil && row.Status == "sent":
				r := wasend.Receipt{MessageID: row.ID, SentAt: time.Now()}
				if row.delivered() {
					return r, nil
				}
				if err := tx.watchReject(ctx); err != nil {
					return wasend.Receipt{}, err
				}
				return r, nil
			case row != nil && row.Status == "none":
				if noStatusSince.IsZero() {
					noStatusSince = now
				}
				if now.Sub(noStatusSince) > rowGrace {
					return wasend.Receipt{}, wasend.Unconfirmed(s.broken(ctx, tx.sel, "send", []string{"status"}))
				}
			case row == nil && c.ComposeFound && c.Compose != tx.want:
				if noRowSince.IsZero() {
					noRowSince = now
				}
				if now.Sub(noRowSince) > rowGrace {
					key := "out_row"
					for _, r := range c.Rows {
						if r.Text == nil {
							key = "message_text"
						}
					}
					return wasend.Receipt{}, wasend.Unconfirmed(s.broken(ctx, tx.sel, "send", []string{key}))
				}
			}
		}
		if now.After(soft) {
			break
		}
		if err != nil && ctx.Err() == nil {
			sleepCtx(ctx, pollStep) // a navigation cut the read short
		}
		if ctx.Err() != nil {
			if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return wasend.Receipt{}, wasend.Unconfirmed(s.fail(ctx, tx.inc, tx.step, ctx.Err()))
			}
			break
		}
	}
	if tx.inc.isDead() || s.isClosed() {
		return wasend.Receipt{}, wasend.Unconfirmed(s.fail(ctx, tx.inc, tx.step, errors.New("browser gone")))
	}
	waited := time.Since(start).Round(time.Millisecond)
	if offline || s.phoneOffline.Load() {
		return wasend.Receipt{}, wasend.Unconfirmed(fmt.Errorf("%w: the message is still pending after %v: %w",
			wasend.ErrPhoneOffline, waited, wasend.ErrTimeout))
	}
	return wasend.Receipt{}, wasend.Unconfirmed(fmt.Errorf("%w: no tick after %v", wasend.ErrTimeout, waited))
}

// watchReject watches the sent row for WithRejectWatch: WhatsApp may take
// a message and show its fail icon a moment later (a 463 or 475 ack).
func (tx *sendTx) watchReject(ctx context.Context) error {
	end := time.Now().Add(tx.s.pool.cfg.rejectWatch)
	for left := time.Until(end); left > 0 && ctx.Err() == nil; left = time.Until(end) {
		c, err := evalOpWait[confirmFlags](ctx, tx.sel, "confirm", nil, min(left, confirmWait))
		if err != nil {
			sleepCtx(ctx, pollStep)
			continue // a navigation or a lost tab: the tick was seen
		}
		row := lastRow(c.Rows, tx.want)
		switch {
		case row != nil && row.Failed != "":
			return rejectedError(row.Failed)
		case row != nil && row.delivered():
			return nil
		}
	}
	return nil
}

// lastRow returns the last row whose text is want.
func lastRow(rows []rowInfo, want string) *rowInfo {
	for i := len(rows) - 1; i >= 0; i-- {
		if rows[i].Text != nil && normText(*rows[i].Text) == want {
			return &rows[i]
		}
	}
	return nil
}
