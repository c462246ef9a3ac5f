package fakewa

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rowsJS describes the rows of the open chat: for each, the data-id, the
// speaker label, the tail icon, the tick's aria-label, svg title, data-icon
// and blue class, and the text.
const rowsJS = `Array.from(document.querySelectorAll("#main [role='row']")).map(r => {
	const id = r.querySelector('[data-id]');
	const who = r.querySelector("span[aria-label$=':']");
	const tail = r.querySelector("[data-icon^='tail-']");
	const tick = r.querySelector("span[aria-label=' Pending '], span[aria-label=' Sent '], span[aria-label=' Delivered '], span[aria-label=' Read ']");
	const text = r.querySelector('span.selectable-text.copyable-text > span');
	return [id ? id.dataset.id : '', who ? who.getAttribute('aria-label') : '', tail ? tail.dataset.icon : '',
		tick ? tick.getAttribute('aria-label') + '|' + tick.querySelector('svg title').textContent + '|' + tick.hasAttribute('data-icon') + '|' + tick.classList.contains('x1rv0e52') : '',
		text ? text.textContent : ''];
})`

func TestBrowserMarkup2026(t *testing.T) {
	t.Parallel()
	s, base := startServer(t, WithMarkup(Markup2026),
		WithTickDelays(30*time.Millisecond, 200*time.Millisecond, 200*time.Millisecond, 200*time.Millisecond),
		WithStartingChatDelay(150*time.Millisecond))
	const me, to = "15550002026", "15557654321"
	b := newBrowser(t)
	loginPage(t, s, b, base, me)

	// Two incoming messages before the chat opens: one run, one tail.
	var in []Message
	for _, text := range []string{"hi", "are you there?"} {
		m, err := s.Incoming(me, to, text)
		require.NoError(t, err)
		in = append(in, m)
	}
	openChatInApp(b, to, "first out")
	// The send button's WDS icon has a title and no data-icon.
	assert.Equal(t, "wds-ic-send-filled", eval[string](b, fmt.Sprintf("document.querySelector(%s + ' svg title').textContent", jsString(selSend))))
	assert.False(t, eval[bool](b, "!!document.querySelector(\"[data-icon='wds-ic-send-filled']\")"))

	// Record every state of the tick of the row being sent.
	eval[bool](b, `(() => { window.__st = []; new MutationObserver(() => {
		const rows = document.querySelectorAll("#main [role='row']");
		const s = rows.length && rows[rows.length - 1].querySelector("span[aria-label] > svg > title");
		if (s) { const sp = s.parentNode.parentNode; const v = sp.getAttribute('aria-label') + '|' + s.textContent + '|' + sp.hasAttribute('data-icon') + '|' + sp.classList.contains('x1rv0e52'); if (window.__st[window.__st.length-1] !== v) window.__st.push(v); }
	}).observe(document.querySelector('#main'), {subtree: true, childList: true, attributes: true}); return true; })()`)
	b.do(chromedp.Click(chromedp.CSS(selSend)))
	waitJS[bool](b, `!!document.querySelector("#main span[aria-label=' Read ']")`, 5*time.Second)
	assert.Equal(t, []string{
		" Pending |wds-ic-status-pending|false|false",
		" Sent |wds-ic-delivered|false|false",
		" Delivered |wds-ic-read|false|false",
		" Read |wds-ic-read|false|true",
	}, eval[[]string](b, "window.__st"))

	// A second outgoing message continues the run.
	openChatInApp(b, to, "second out")
	b.do(chromedp.Click(chromedp.CSS(selSend)))
	waitJS[bool](b, `!!document.querySelector("#main [role='row']:nth-child(4) span[aria-label=' Read ']")`, 5*time.Second)
	// The chat list's tick: an svg title, no data-icon, no aria-label.
	waitJS[bool](b, `Array.from(document.querySelectorAll("#pane-side [role='row'] svg title")).some(t => { const sp = t.parentNode.parentNode;
		return t.textContent === 'wds-ic-read' && !sp.hasAttribute('data-icon') && !sp.hasAttribute('aria-label') && sp.classList.contains('x1rv0e52'); })`, 5*time.Second)
	// Then the contact writes.
	m, err := s.Incoming(me, to, "ok")
	require.NoError(t, err)
	in = append(in, m)
	waitJS[bool](b, `document.querySelectorAll("#main [role='row']").length === 5`, 5*time.Second)
	waitJS[bool](b, `!Array.from(document.querySelectorAll("#pane-side [role='row'] svg title")).some(t => t.textContent.startsWith('wds-ic') || t.textContent.startsWith('ic-'))`, 5*time.Second)

	got := s.Received(me, to)
	require.Len(t, got, 2)
	rows := eval[[][]string](b, rowsJS)
	require.Len(t, rows, 5)
	want := [][]string{
		{in[0].ID, "+1 555-765-4321:", "tail-in", "", "hi"},
		{in[1].ID, "+1 555-765-4321:", "", "", "are you there?"},
		{got[0].ID, "You:", "tail-out", " Read |wds-ic-read|false|true", "first out"},
		{got[1].ID, "You:", "", " Read |wds-ic-read|false|true", "second out"},
		{in[2].ID, "+1 555-765-4321:", "tail-in", "", "ok"},
	}
	assert.Equal(t, want, rows)
	for _, r := range rows {
		assert.Regexp(t, `^[0-9A-F]{32}$`, r[0], "a bare-hash data-id")
	}
	assert.Equal(t, 0, eval[int](b, `document.querySelectorAll("#main .message-out, #main .message-in, #main [data-icon^='msg-'], #main [data-testid^='msg-'], #main .focusable-list-item").length`),
		"no direction classes, no msg-* icons")

	// Reopening the chat renders the history the same way.
	b.navigate(base + "/send?phone=" + to)
	b.waitFor(selCompose)
	waitJS[bool](b, `document.querySelectorAll("#main [role='row']").length === 5`, 5*time.Second)
	assert.Equal(t, want, eval[[][]string](b, rowsJS))

	// An unknown number: the 2026 dialog, with no aria-label and no testid.
	s.SetNotOnWhatsApp("15559990000", true)
	b.navigate(base + "/send?phone=15559990000&text=nope")
	waitJS[bool](b, `!!document.querySelector("div[role='dialog'][aria-modal='true'] [data-animate-modal-popup='true']")`, 5*time.Second)
	assert.Equal(t, "The number +1 555-999-0000 isn't on WhatsApp.",
		eval[string](b, `document.querySelector("div[role='dialog'] [data-animate-modal-body='true']").innerText`))
	assert.False(t, eval[bool](b, `!!document.querySelector("[aria-label*='invalid'], [aria-label*=\"isn't on WhatsApp\"], [data-testid='popup-controls-ok']")`))
	b.do(chromedp.Click(chromedp.CSS("div[role='dialog'] button")))
	waitJS[bool](b, `!document.querySelector("div[role='dialog']")`, 5*time.Second)
	assert.True(t, eval[bool](b, "!!document.querySelector(\"[data-testid='intro-title']\")"))
	assert.Empty(t, s.Received(me, "15559990000"))
}

func TestBrowserIncomingClassic(t *testing.T) {
	t.Parallel()
	s, base := startServer(t)
	const me, from = "15550002027", "4915123456789"
	b := newBrowser(t)
	loginPage(t, s, b, base, me)
	openChatInApp(b, from, "")
	m, err := s.Incoming(me, from, "guten Tag")
	require.NoError(t, err)
	id := waitJS[string](b, `(() => { const e = document.querySelector("#main div[role='row'] > div[data-id^='false_']"); return e && e.dataset.id; })()`, 5*time.Second)
	assert.Equal(t, "false_"+from+"@c.us_"+m.ID, id)
	assert.True(t, eval[bool](b, `(() => { const m = document.querySelector("#main div.message-in"); return !!m && !!m.querySelector("span[data-icon='tail-in']") && !m.querySelector("[data-icon^='msg-']") && m.querySelector('.copyable-text').dataset.prePlainText.endsWith('] +4915123456789: '); })()`))
	assert.Nil(t, eval[*string](b, "(() => { const r = document.querySelector('#main div.message-out'); return r && r.textContent; })()"), "no outgoing row")
}
