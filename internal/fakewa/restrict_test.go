package fakewa

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Selectors of the restriction screens (whatsapp-web.md §10).
const (
	selPopup     = "div[role='dialog'][aria-modal='true'] > div[data-animate-modal-popup='true'] > div[data-animate-modal-body='true']"
	selFailIcon  = "div[role='button'][aria-label='Something went wrong. Click to learn more.']"
	selTimelock  = "[data-testid='reachout-timelock-compose-bar']"
	selPasskey   = "[data-testid='shortcake_passkey_screen'] [data-testid='shortcake_passkey_prompt_card'] button[data-testid='shortcake_passkey_continue_button']"
	footerTextJS = `(() => { const f = document.querySelector('#main footer'); return f ? f.innerText.replace(/\s+/g, ' ').trim() : ''; })()`
)

func TestHumanize(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{10 * time.Second, "a few seconds"},
		{50 * time.Second, "a minute"},
		{5 * time.Minute, "5 minutes"},
		{50 * time.Minute, "an hour"},
		{2 * time.Hour, "2 hours"},
		{21 * time.Hour, "21 hours"},
		{23 * time.Hour, "a day"},
		{24 * time.Hour, "a day"},
		{3 * 24 * time.Hour, "3 days"},
		{27 * 24 * time.Hour, "a month"},
		{90 * 24 * time.Hour, "3 months"},
		{400 * 24 * time.Hour, "a year"},
		{800 * 24 * time.Hour, "2 years"},
	} {
		assert.Equal(t, c.want, humanize(c.d), "%v", c.d)
	}
}

func TestTempBanReason(t *testing.T) {
	t.Parallel()
	for code, want := range map[int]string{
		101: "you sent too many messages to people who don't have +1555 in their address books.",
		102: "too many people blocked you.",
		103: "you created too many groups with people who don't have +1555 in their address books.",
		104: "you sent the same message to too many people.",
		106: "you sent too many messages to a broadcast list.",
		0:   "you may have violated our terms of service.",
		105: "you may have violated our terms of service.",
	} {
		assert.Equal(t, "You're temporarily banned from WhatsApp because "+want, tempBanReason(code, "+1555"), "code %d", code)
	}
}

func pageState(s *Server, phone string) PageState {
	for _, ss := range s.Sessions() {
		if ss.Phone == phone || phone == "" {
			return ss.State
		}
	}
	return ""
}

func TestBrowserTemporaryBan(t *testing.T) {
	t.Parallel()
	const me = "15550003001"
	s, base, b := loggedIn(t, me)

	s.TemporaryBan(me, 101, 2*time.Hour)
	waitJS[bool](b, fmt.Sprintf("!!document.querySelector(%s)", jsString(selPopup)), 5*time.Second)
	lines := eval[[]string](b, fmt.Sprintf(`Array.from(document.querySelector(%s + " [data-testid='popup-contents']").children).map(e => e.textContent)`, jsString(selPopup)))
	assert.Equal(t, []string{
		"You're temporarily banned from WhatsApp because you sent too many messages to people who don't have +" + me + " in their address books.",
		"You'll be able to use WhatsApp again in 2 hours",
	}, lines)
	assert.Equal(t, []string{"Log out", "Learn more"}, eval[[]string](b, `Array.from(document.querySelectorAll("div[role='dialog'] button")).map(b => b.textContent)`))
	assert.False(t, eval[bool](b, "!!document.querySelector('#pane-side, [contenteditable]')"), "the ban hides the app")
	waitState(t, s, me, PageTempBan)

	// A chat link waits behind the ban; nothing can be sent.
	b.navigate(base + "/send?phone=15557770001&text=hi")
	waitJS[bool](b, fmt.Sprintf("!!document.querySelector(%s)", jsString(selPopup)), 5*time.Second)

	s.LiftTemporaryBan(me)
	waitJS[bool](b, "!!document.querySelector('#main footer [contenteditable]')", 5*time.Second)
	b.do(chromedp.Click(chromedp.CSS(selSend)))
	waitJS[bool](b, `!!document.querySelector("#main span[aria-label=' Sent '], #main span[aria-label=' Delivered ']")`, 5*time.Second)
	assert.Len(t, s.Received(me, "15557770001"), 1)
}

// loggedIn starts a server with opts and a browser whose page is logged
// into phone.
func loggedIn(t *testing.T, phone string, opts ...Option) (*Server, string, *browser) {
	t.Helper()
	s, base := startServer(t, opts...)
	b := newBrowser(t)
	loginPage(t, s, b, base, phone)
	return s, base, b
}

func waitState(t *testing.T, s *Server, phone string, want PageState) {
	t.Helper()
	require.Eventually(t, func() bool { return pageState(s, phone) == want }, 5*time.Second, 20*time.Millisecond, "page state %s", want)
}

// TestBrowserNewChatRestrictions checks the compose bars of the timelock
// and of the new-chat cap, in both markups: only new chats lose their
// compose box, and the links open their modals.
func TestBrowserNewChatRestrictions(t *testing.T) {
	t.Parallel()
	for i, mk := range []Markup{MarkupClassic, Markup2026} {
		t.Run(mk.String(), func(t *testing.T) {
			t.Parallel()
			me := fmt.Sprintf("1555000310%d", i)
			old, fresh := "15557771000", "15557771001"
			s, _, b := loggedIn(t, me, WithMarkup(mk))
			_, err := s.Incoming(me, old, "hello")
			require.NoError(t, err)

			s.Timelock(me, time.Now().Add(90*time.Minute), "")
			openChatInApp(b, fresh, "")
			waitJS[bool](b, "!!document.querySelector('#main footer span[role=button]')", 5*time.Second)
			assert.Equal(t, "Your account is restricted. You can't start new chats right now. Show details", eval[string](b, footerTextJS))
			assert.False(t, eval[bool](b, "!!document.querySelector('#main [contenteditable]')"), "no composer")
			assert.Equal(t, mk == Markup2026, eval[bool](b, fmt.Sprintf("!!document.querySelector(%s)", jsString(selTimelock))), "testid only in 2026 builds")
			b.do(chromedp.Click(chromedp.CSS("#main footer span[role=button]")))
			cd := waitJS[string](b, `(() => { const c = document.querySelector("div[role='dialog'] .countdown"); return c && c.textContent; })()`, 5*time.Second)
			assert.Regexp(t, `^01:(29|30):\d\d$`, cd)
			assert.Contains(t, eval[string](b, `document.querySelector("div[role='dialog']").innerText`), "Your account is restricted right now")
			b.do(chromedp.Click(chromedp.CSS("div[role='dialog'] button")))
			waitJS[bool](b, `!document.querySelector("div[role='dialog']")`, 5*time.Second)

			// More than a day: "N days".
			s.Timelock(me, time.Now().Add(50*time.Hour), EnforcementRestrictAllCompanions)
			waitJS[bool](b, fmt.Sprintf("%s.startsWith('Your account on linked devices is restricted.')", footerTextJS), 5*time.Second)
			b.do(chromedp.Click(chromedp.CSS("#main footer span[role=button]")))
			assert.Equal(t, "3 days", waitJS[string](b, `(() => { const c = document.querySelector("div[role='dialog'] .countdown"); return c && c.textContent; })()`, 5*time.Second))
			b.do(chromedp.Click(chromedp.CSS("div[role='dialog'] button")))

			// An existing chat keeps its composer and sends.
			openChatInApp(b, old, "still here")
			b.do(chromedp.Click(chromedp.CSS(selSend)))
			require.Eventually(t, func() bool { return len(s.Received(me, old)) == 1 }, 5*time.Second, 20*time.Millisecond)

			// The cap replaces the timelock's bar in new chats.
			s.LiftTimelock(me)
			s.CapNewChats(me, 3, 3, time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC))
			openChatInApp(b, fresh, "")
			waitJS[bool](b, fmt.Sprintf("%s === %s", footerTextJS, jsString("You've reached the monthly limit on new chats you can start. See details")), 5*time.Second)
			b.do(chromedp.Click(chromedp.CSS("#main footer span[role=button]")))
			txt := waitJS[string](b, `(() => { const d = document.querySelector("div[role='dialog'][aria-modal='true']"); return d && d.innerText; })()`, 5*time.Second)
			assert.Contains(t, txt, "You've started 3 of 3 new chats this month")
			assert.Contains(t, txt, "You can't start any more new chats until December 31, 2026.")
			b.do(chromedp.Click(chromedp.CSS("div[role='dialog'] button")))

			s.CapNewChats(me, 0, 0, time.Time{})
			waitJS[bool](b, "!!document.querySelector('#main footer [contenteditable]')", 5*time.Second)
			assert.Empty(t, s.Received(me, fresh))
		})
	}
}

func TestBrowserRejectNext(t *testing.T) {
	t.Parallel()
	for i, mk := range []Markup{MarkupClassic, Markup2026} {
		t.Run(mk.String(), func(t *testing.T) {
			t.Parallel()
			me := fmt.Sprintf("1555000320%d", i)
			to := "15557772000"
			s, base, b := loggedIn(t, me, WithMarkup(mk), WithRejectDelay(300*time.Millisecond))
			eval[bool](b, `(() => { window.__sent = 0; new MutationObserver(() => { if (document.querySelector("#main span[aria-label=' Sent ']")) window.__sent++; }).observe(document.body, {subtree: true, childList: true}); return true; })()`)
			for _, c := range []struct {
				reject func(phone, to string)
				label  string
			}{
				{s.RejectNext, FailIconLabel},
				{s.RejectNextCapped, CappedFailIconLabel},
			} {
				c.reject(me, to)
				openChatInApp(b, to, "nope "+c.label[:4])
				b.do(chromedp.Click(chromedp.CSS(selSend)))
				lbl := waitJS[string](b, `(() => { const r = document.querySelectorAll("#main [role='row']"); const f = r.length && r[r.length-1].querySelector("div[role='button'][aria-label]"); return f && f.getAttribute('aria-label'); })()`, 5*time.Second)
				assert.Equal(t, c.label, lbl)
				assert.False(t, eval[bool](b, `(() => { const r = document.querySelectorAll("#main [role='row']"); return !!r[r.length-1].querySelector("span[aria-label=' Pending '], span[aria-label=' Sent '], span[aria-label=' Delivered ']"); })()`), "the tick is gone")
			}
			assert.Positive(t, eval[int](b, "window.__sent"), "the rows had their Sent tick first")
			assert.Empty(t, s.Received(me, to), "a rejected message is not delivered")
			rej := s.Rejected(me, to)
			require.Len(t, rej, 2)
			st, ok := s.MessageStatus(rej[0].ID)
			require.True(t, ok)
			assert.Equal(t, StatusFailed, st)

			// A click on the icon opens "Your message was not sent.".
			b.do(chromedp.Click(chromedp.CSS(selFailIcon)))
			assert.Contains(t, waitJS[string](b, `(() => { const d = document.querySelector("div[role='dialog']"); return d && d.innerText; })()`, 5*time.Second), "Your message was not sent.")

			// The next message goes through, and the history keeps the icons.
			openChatInApp(b, to, "fine")
			b.do(chromedp.Click(chromedp.CSS(selSend)))
			require.Eventually(t, func() bool { return len(s.Received(me, to)) == 1 }, 5*time.Second, 20*time.Millisecond)
			b.navigate(base + "/send?phone=" + to)
			waitJS[bool](b, "document.querySelectorAll(\"#main div[role='button'][aria-label$='Click to learn more.']\").length === 2", 5*time.Second)
		})
	}
}

func TestBrowserBanAndPasskey(t *testing.T) {
	t.Parallel()
	const me = "15550003301"
	s, _, b := loggedIn(t, me)
	s.Ban(me)
	b.qrRef()
	assert.Equal(t, LoggedOutBannerText, waitJS[string](b, `(() => { const e = Array.from(document.querySelectorAll('div')).find(d => d.textContent.startsWith('You have been logged out.') && d.children.length === 0); return e && e.textContent; })()`, 5*time.Second))
	assert.True(t, eval[bool](b, "!!document.querySelector(\"span[data-icon='warning-outline']\")"))
	assert.Contains(t, eval[string](b, "location.href"), "post_logout=1")

	// The account needs a passkey now: a scan shows the overlay.
	s.RequirePasskey(me, true)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.ErrorIs(t, s.Scan(ctx, b.qrRef(), me), ErrPasskeyRequired)
	b.waitFor(selPasskey)
	assert.False(t, eval[bool](b, "!!document.querySelector(\"canvas[aria-label='Scan this QR code to link a device!']\")"))
	waitState(t, s, "", PagePasskey)
	assert.Empty(t, s.PendingQRs())

	// Cancel goes back to a QR code; without the gate the scan logs in.
	b.do(chromedp.Click(chromedp.CSS("[data-testid='shortcake_cancel_button']")))
	s.RequirePasskey(me, false)
	require.NoError(t, s.Scan(ctx, b.qrRef(), me))
	b.waitFor("#pane-side")
	assert.False(t, eval[bool](b, "document.body.innerText.includes('You have been logged out.')"), "the banner goes with the login")
}

// TestBrowserTyping checks the presence a page sends: typing the text a
// key at a time shows "composing" for as long as the typing lasts.
func TestBrowserTyping(t *testing.T) {
	t.Parallel()
	const me, to = "15550003401", "15557774000"
	s, _, b := loggedIn(t, me)
	// elapsed holds, for each run, the time from just before the first key
	// to the span's end as the test saw it: an upper bound of the span that
	// a loaded machine stretches alike.
	var elapsed []time.Duration
	for _, n := range []int{10, 30} {
		openChatInApp(b, to, "")
		b.do(chromedp.Click(chromedp.CSS(selCompose)))
		start := time.Now()
		for _, r := range strings.Repeat("x", n) {
			b.do(insertText(string(r)))
			time.Sleep(20 * time.Millisecond)
		}
		b.do(chromedp.Click(chromedp.CSS(selSend)))
		require.Eventually(t, func() bool { return len(s.TypingSpans(me, to)) == map[int]int{10: 1, 30: 2}[n] }, 5*time.Second, 20*time.Millisecond)
		elapsed = append(elapsed, time.Since(start))
	}
	spans := s.TypingSpans(me, to)
	require.Len(t, spans, 2)
	for i, n := range []int{10, 30} {
		assert.True(t, spans[i].Sent, "the send ended the span")
		assert.GreaterOrEqual(t, spans[i].Duration, time.Duration(n-1)*20*time.Millisecond)
		assert.LessOrEqual(t, spans[i].Duration, elapsed[i])
	}
	// Twenty more keys at 20 ms or more each; the click after the last key
	// adds about the same to both.
	assert.Greater(t, spans[1].Duration-spans[0].Duration, 300*time.Millisecond, "about proportional to the length")
}

// TestHookClientRestrictions drives the restriction hooks over HTTP and
// plays the page in Go: the pushed states, the server's own checks (a
// banned account cannot send; a message pushed into a new chat under a
// timelock, as injected JavaScript could, is rejected, not delivered) and
// the presence the page sends over its socket.
func TestHookClientRestrictions(t *testing.T) {
	s, base := newTestServer(t, WithRejectDelay(10*time.Millisecond))
	h := NewHookClient(base, s.HookToken(), nil)
	ctx := t.Context()
	const me, old, fresh = "15550003501", "15557775000", "15557775001"
	p, _ := loggedInPage(t, s, base, me)
	assert.Empty(t, p.next("restrict")["restrict"], "no restriction at the login")
	_, err := s.Incoming(me, old, "hi")
	require.NoError(t, err)

	require.NoError(t, h.TemporaryBan(ctx, me, 102, 30*time.Minute))
	tb := p.next("restrict")["restrict"].(map[string]any)["tempBan"].(map[string]any)
	assert.Equal(t, "You're temporarily banned from WhatsApp because too many people blocked you.", tb["reason"])
	assert.Equal(t, "You'll be able to use WhatsApp again in 30 minutes", tb["again"])
	code, _ := p.sendText(old, "during the ban")
	assert.Equal(t, http.StatusForbidden, code)
	require.NoError(t, h.LiftTemporaryBan(ctx, me))
	assert.NotContains(t, p.next("restrict")["restrict"], "tempBan")

	require.NoError(t, h.Timelock(ctx, me, time.Now().Add(time.Hour), EnforcementWebCompanionOnly))
	tl := p.next("restrict")["restrict"].(map[string]any)["timelock"].(map[string]any)
	assert.Equal(t, "Your WhatsApp Web is restricted. You can't start new chats right now.", tl["bar"])
	_, chat := p.get("/__wa/chat", url.Values{"phone": {fresh}})
	assert.Equal(t, true, chat["new"])
	_, chat = p.get("/__wa/chat", url.Values{"phone": {old}})
	assert.Equal(t, false, chat["new"])
	code, v := p.sendText(fresh, "pushed past the bar")
	require.Equal(t, http.StatusOK, code)
	require.Eventually(t, func() bool { st, _ := s.MessageStatus(v["id"].(string)); return st == StatusFailed }, 5*time.Second, 10*time.Millisecond)
	rej, err := h.Rejected(ctx, me, fresh)
	require.NoError(t, err)
	require.Len(t, rej, 1)
	assert.Empty(t, s.Received(me, fresh))
	code, _ = p.sendText(old, "an old chat")
	require.Equal(t, http.StatusOK, code)
	assert.Len(t, s.Received(me, old), 1)
	require.NoError(t, h.LiftTimelock(ctx, me))

	require.NoError(t, h.CapNewChats(ctx, me, 2, 2, time.Date(2027, 1, 2, 0, 0, 0, 0, time.UTC)))
	p.next("restrict")
	require.NoError(t, h.RejectNextCapped(ctx, me, old))
	require.NoError(t, h.RejectNext(ctx, me, old))
	for _, want := range []string{"capped", "generic"} {
		_, v := p.sendText(old, "rejected "+want)
		for {
			ack := p.next("ack")
			if ack["id"] == v["id"] && ack["status"] == "failed" {
				assert.Equal(t, want, ack["fail"])
				break
			}
		}
	}
	require.NoError(t, h.CapNewChats(ctx, me, 0, 0, time.Time{}))

	// Presence: composing, then a send ends the span.
	require.NoError(t, writeClientFrame(p.conn, opText, true, []byte(`{"type":"presence","chat":"`+old+`","state":"composing"}`)))
	time.Sleep(100 * time.Millisecond)
	p.sendText(old, "typed")
	spans, err := h.TypingSpans(ctx, me, old)
	require.NoError(t, err)
	require.Len(t, spans, 1)
	assert.True(t, spans[0].Sent)
	assert.GreaterOrEqual(t, spans[0].Duration, 100*time.Millisecond)

	require.NoError(t, h.RequirePasskey(ctx, me, true))
	require.NoError(t, h.Ban(ctx, me))
	lo := p.next("logout")
	assert.Equal(t, true, lo["banner"])
	ref := p.next("qr")["ref"].(string)
	assert.ErrorIs(t, h.Scan(ctx, ref, me), ErrPasskeyRequired)
	p.next("passkey")
	assert.ErrorIs(t, h.restrict(ctx, restrictRequest{Action: "nope"}), errUnknownAction)
}
