package fakewa

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
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

// setWindowState minimizes or restores the browser window of the tab:
// minimized, the page is hidden (document.visibilityState "hidden").
func setWindowState(state cdpbrowser.WindowState) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		w, err := chromedp.CallBrowser(ctx, cdpbrowser.GetWindowForTarget, cdpbrowser.GetWindowForTargetParams{TargetID: tg.TargetID})
		if err != nil {
			return err
		}
		_, err = chromedp.CallBrowser(ctx, cdpbrowser.SetWindowBounds, cdpbrowser.SetWindowBoundsParams{WindowID: w.WindowID, Bounds: &cdpbrowser.Bounds{WindowState: state}})
		return err
	})
}

// chatListRowJS describes the chat list row of a chat: the unread
// badge's aria-label, testid and text, the preview, and the text of the
// title line (with its hidden unread label).
func chatListRowJS(chat string) string {
	return fmt.Sprintf(`(() => {
	const t = document.querySelector(%s);
	if (!t) return null;
	const row = t.closest("[role='row']");
	const b = row.querySelector("span[aria-label$=' unread messages'], span[aria-label='1 unread message']");
	const p = row.querySelector("[role='gridcell'] span[dir='auto'][title]:not([title^='+'])");
	return [b ? b.getAttribute('aria-label') : '', b ? b.dataset.testid : '', b ? b.textContent : '', p ? p.textContent : '', t.parentNode.textContent];
})()`, jsString("#pane-side div[aria-label='Chat list'][role='grid'] [role='row'] span[title='+"+chat+"']"))
}

// TestBrowserIncomingReadState checks the unread badge of the chat list,
// the incoming rows of an open chat, and the rule for read receipts: the
// page marks the open chat's incoming messages read only while its window
// is visible and focused. It also pins down what headless Chromium under
// chromedp reports: a new browser's first tab has no focus until an input
// event (a click, a key), and a minimized window is hidden.
func TestBrowserIncomingReadState(t *testing.T) {
	t.Parallel()
	for _, markup := range []Markup{MarkupClassic, Markup2026} {
		t.Run(markup.String(), func(t *testing.T) {
			t.Parallel()
			me, from := "15550004201", "15557774201"
			if markup == Markup2026 {
				me, from = "15550004202", "15557774202"
			}
			s, base, b := loggedIn(t, me, WithMarkup(markup))
			_ = base
			assert.Equal(t, "visible false", eval[string](b, "document.visibilityState + ' ' + document.hasFocus()"),
				"the first tab of a new headless Chromium has no focus before an input event")

			// Two messages while no chat is open: the chat list.
			var in []Message
			for _, text := range []string{"first", "second\nline"} {
				m, err := s.Incoming(me, from, text)
				require.NoError(t, err)
				in = append(in, m)
			}
			row := waitJS[[]string](b, chatListRowJS(from)+" || null", 5*time.Second)
			for row[0] == "" || row[3] != "second\nline" {
				time.Sleep(20 * time.Millisecond)
				row = eval[[]string](b, chatListRowJS(from))
			}
			assert.Equal(t, []string{"2 unread messages", "icon-unread-count", "2", "second\nline"}, row[:4])
			assert.True(t, strings.HasPrefix(row[4], "2 unread messages+"+from), "the hidden label precedes the name: %q", row[4])
			assert.Equal(t, []string{in[0].ID, in[1].ID}, s.UnreadByAccount(me, from))

			// Opening the chat without focus shows the rows and reads nothing.
			openChatInApp(b, from, "")
			waitJS[bool](b, `document.querySelectorAll("#main [role='row']").length === 2`, 5*time.Second)
			rows := eval[[][]string](b, `Array.from(document.querySelectorAll("#main [role='row']")).map(r => [
				r.querySelector('[data-id]').dataset.id, r.querySelector('[data-pre-plain-text]').dataset.prePlainText.replace(/^\[[^\]]+\] /, ''),
				r.querySelector('.selectable-text.copyable-text').textContent])`)
			dataID := func(id string) string {
				if markup == Markup2026 {
					return id
				}
				return "false_" + from + "@c.us_" + id
			}
			assert.Equal(t, [][]string{
				{dataID(in[0].ID), "+" + from + ": ", "first"},
				{dataID(in[1].ID), "+" + from + ": ", "second\nline"},
			}, rows)
			assert.Equal(t, "2 unread messages", eval[string](b, `document.querySelector("#main [data-unread-divider]").textContent`))
			// A live incoming row while the chat is open and unfocused.
			m, err := s.Incoming(me, from, "third")
			require.NoError(t, err)
			in = append(in, m)
			waitJS[bool](b, fmt.Sprintf(`!!document.querySelector(%s)`, jsString("#main [data-id='"+dataID(m.ID)+"']")), 5*time.Second)
			waitJS[bool](b, chatListRowJS(from)+"[0] === '3 unread messages'", 5*time.Second)
			time.Sleep(100 * time.Millisecond)
			assert.Empty(t, s.ReadByAccount(me, from), "no focus, no read receipts")

			// A click gives the page focus: the open chat is read.
			b.do(chromedp.Click(chromedp.CSS("#main header span[title]")))
			require.Eventually(t, func() bool { return len(s.ReadByAccount(me, from)) == 3 }, 5*time.Second, 20*time.Millisecond)
			assert.Equal(t, []string{in[0].ID, in[1].ID, in[2].ID}, s.ReadByAccount(me, from))
			assert.Empty(t, s.UnreadByAccount(me, from))
			waitJS[bool](b, chatListRowJS(from)+"[0] === ''", 5*time.Second)

			// Focused and visible, an incoming row is read as it shows.
			m, err = s.Incoming(me, from, "fourth")
			require.NoError(t, err)
			require.Eventually(t, func() bool { return slices.Contains(s.ReadByAccount(me, from), m.ID) }, 5*time.Second, 20*time.Millisecond)

			// Minimized, the page is hidden: focus alone does not read.
			b.do(setWindowState(cdpbrowser.WindowStateMinimized))
			assert.Equal(t, "hidden false", eval[string](b, "document.visibilityState + ' ' + document.hasFocus()"))
			m, err = s.Incoming(me, from, "while minimized")
			require.NoError(t, err)
			waitJS[bool](b, fmt.Sprintf(`!!document.querySelector(%s)`, jsString("#main [data-id='"+dataID(m.ID)+"']")), 5*time.Second)
			b.do(chromedp.Click(chromedp.CSS("#main header span[title]")))
			assert.Equal(t, "hidden true", eval[string](b, "document.visibilityState + ' ' + document.hasFocus()"), "a click focuses, the window stays hidden")
			waitJS[bool](b, chatListRowJS(from)+"[0] === '1 unread message'", 5*time.Second)
			assert.Equal(t, []string{m.ID}, s.UnreadByAccount(me, from))
			// Restored with the chat open: the page reads it.
			b.do(setWindowState(cdpbrowser.WindowStateNormal))
			require.Eventually(t, func() bool { return len(s.UnreadByAccount(me, from)) == 0 }, 5*time.Second, 20*time.Millisecond)

			// Escape closes the chat; the chat list alone reads nothing.
			b.do(chromedp.KeyEvent(kb.Escape))
			waitJS[bool](b, "!document.querySelector('#main') && !!document.querySelector(\"[data-testid='intro-title']\")", 5*time.Second)
			m, err = s.Incoming(me, from, "in the list only")
			require.NoError(t, err)
			waitJS[bool](b, chatListRowJS(from)+"[3] === 'in the list only'", 5*time.Second)
			assert.Equal(t, "1 unread message", eval[[]string](b, chatListRowJS(from))[0])
			time.Sleep(100 * time.Millisecond)
			assert.Equal(t, []string{m.ID}, s.UnreadByAccount(me, from))

			// A click on the row opens the chat, focused and visible: read.
			b.do(chromedp.Click(chromedp.Search(fmt.Sprintf(`//div[@aria-label='Chat list']//span[@title='+%s']`, from))))
			require.Eventually(t, func() bool { return len(s.UnreadByAccount(me, from)) == 0 }, 5*time.Second, 20*time.Millisecond)
			assert.Len(t, s.ReadByAccount(me, from), 6)
			h := NewHookClient(base, s.HookToken(), nil)
			ids, err := h.ReadByAccount(t.Context(), me, from)
			require.NoError(t, err)
			assert.Len(t, ids, 6)
			ids, err = h.UnreadByAccount(t.Context(), me, from)
			require.NoError(t, err)
			assert.Empty(t, ids)
		})
	}
}

// Selectors of the attachment flow (whatsapp-web.md §5, 2024–26 row).
const (
	selAttach       = "#main footer button[aria-label='Attach']"
	selMediaInput   = "#main footer input[type='file'][accept='image/*,video/mp4,video/3gpp,video/quicktime']"
	selDocInput     = "#main footer input[type='file'][accept='*']"
	selCaption      = "div[role='dialog'] div[aria-label='Add a caption'][contenteditable='true']"
	selPreviewSend  = "div[role='dialog'] div[role='button'][aria-label='Send']"
	selMenuMedia    = "button[role='menuitem'][aria-label='Photos & videos']"
	selMenuDocument = "button[role='menuitem'][aria-label='Document']"
)

// writeTestPNG writes a w×h PNG to dir/name and returns its path and bytes.
func writeTestPNG(t *testing.T, dir, name string, w, h int) (string, []byte) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
	}
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, img))
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, buf.Bytes(), 0o600))
	return p, buf.Bytes()
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// TestBrowserAttachments sends a photo with a caption and a document
// through the hidden inputs, as a driver does with DOM.setFileInputFiles,
// and checks the menu, the preview, the bubbles, the oracle (names,
// captions and bytes intact) and the size limits' toasts.
func TestBrowserAttachments(t *testing.T) {
	t.Parallel()
	for _, markup := range []Markup{MarkupClassic, Markup2026} {
		t.Run(markup.String(), func(t *testing.T) {
			t.Parallel()
			me, to := "15550004401", "15557774401"
			if markup == Markup2026 {
				me, to = "15550004402", "15557774402"
			}
			s, base, b := loggedIn(t, me, WithMarkup(markup), WithMediaLimits(64<<10, 128<<10))
			dir := t.TempDir()
			imgName := "Grüße 日本 😀 \"q\" 'a'.png"
			imgPath, imgBytes := writeTestPNG(t, dir, imgName, 8, 6)
			docName := "Отчёт «2026» 📄.pdf"
			docBytes := bytes.Repeat([]byte("%PDF-1.7 fakewa\n"), 200)
			docPath := filepath.Join(dir, docName)
			require.NoError(t, os.WriteFile(docPath, docBytes, 0o600))
			bigImg := filepath.Join(dir, "big.png") // the page goes by the name's type, not the content
			require.NoError(t, os.WriteFile(bigImg, make([]byte, 65<<10), 0o600))
			bigDoc := filepath.Join(dir, "big.pdf")
			require.NoError(t, os.WriteFile(bigDoc, make([]byte, 129<<10), 0o600))

			openChatInApp(b, to, "")
			// The inputs are there before the menu opens.
			assert.True(t, eval[bool](b, fmt.Sprintf("!!document.querySelector(%s) && !!document.querySelector(%s)", jsString(selMediaInput), jsString(selDocInput))))
			assert.False(t, eval[bool](b, fmt.Sprintf("!!document.querySelector(%s)", jsString(selMenuMedia))))
			b.do(chromedp.Click(chromedp.CSS(selAttach)))
			b.waitFor(selMenuMedia)
			b.waitFor(selMenuDocument)
			b.do(chromedp.Click(chromedp.CSS(selAttach)))
			waitJS[bool](b, fmt.Sprintf("!document.querySelector(%s)", jsString(selMenuMedia)), 5*time.Second)

			// A photo with a caption.
			b.do(chromedp.SetUploadFiles(chromedp.CSS(selMediaInput), []string{imgPath}))
			b.waitFor(selCaption)
			assert.True(t, eval[bool](b, fmt.Sprintf(`[...document.querySelectorAll("div[role='dialog'] [title]")].some(e => e.title === %s)`, jsString(imgName))), "the preview names the file")
			sendIcon := fmt.Sprintf("document.querySelector(%s + ' svg title').textContent", jsString(selPreviewSend))
			assert.Equal(t, "wds-ic-send-filled", eval[string](b, sendIcon))
			assert.Equal(t, markup == MarkupClassic, eval[bool](b, fmt.Sprintf("!!document.querySelector(%s + \" span[data-icon='wds-ic-send-filled']\")", jsString(selPreviewSend))))
			caption := "Ünïcödé 👨‍👩‍👧 caption\nsecond line <b>"
			b.do(chromedp.Focus(chromedp.CSS(selCaption)), insertText(caption))
			assert.Equal(t, caption, eval[string](b, fmt.Sprintf(`Array.from(document.querySelectorAll(%s + " > p")).map(p => p.textContent).join("\n")`, jsString(selCaption))))
			b.do(chromedp.Click(chromedp.CSS(selPreviewSend)))
			waitJS[bool](b, "!document.querySelector(\"div[role='dialog']\")", 5*time.Second)
			waitJS[bool](b, `(() => { const r = document.querySelector("#main [role='row'] [data-testid='image-thumb'] img"); return !!r && !!r.closest('[data-id]'); })()`, 5*time.Second)
			assert.Equal(t, caption, eval[string](b, `document.querySelector("#main [role='row'] .selectable-text.copyable-text").textContent`))
			waitJS[bool](b, `!!document.querySelector("#main [role='row'] span[aria-label=' Sent '], #main [role='row'] span[aria-label=' Delivered ']")`, 5*time.Second)

			// A document without a caption, sent with Enter.
			b.do(chromedp.SetUploadFiles(chromedp.CSS(selDocInput), []string{docPath}))
			b.waitFor(selCaption)
			b.do(enter(false))
			waitJS[bool](b, `(() => { const d = document.querySelectorAll("#main [role='row'] [data-testid='document-thumb']"); return d.length === 1 && !!d[0].closest('[data-id]'); })()`, 5*time.Second)
			card := eval[[]string](b, `(() => { const c = document.querySelector("#main [data-testid='document-thumb']"); const r = c.closest("[role='row']");
				return [c.querySelector("span[title]").title, c.querySelectorAll("span[title]")[1].title, c.querySelectorAll("span[title]")[2].title, String(!!r.querySelector('.selectable-text'))]; })()`)
			assert.Equal(t, []string{docName, "PDF", "3 kB", "false"}, card)

			got := s.Received(me, to)
			require.Len(t, got, 2)
			assert.Equal(t, caption, got[0].Text)
			assert.Equal(t, &Media{Kind: MediaImage, FileName: imgName, MIMEType: "image/png", Size: int64(len(imgBytes)), SHA256: sha256Hex(imgBytes)}, got[0].Media)
			assert.Equal(t, "", got[1].Text)
			assert.Equal(t, &Media{Kind: MediaDocument, FileName: docName, MIMEType: "application/pdf", Size: int64(len(docBytes)), SHA256: sha256Hex(docBytes)}, got[1].Media)
			// The chat list shows the file name of the last message.
			waitJS[bool](b, chatListRowJS(to)+fmt.Sprintf("[3] === %s", jsString(docName)), 5*time.Second)

			// Too large: a toast, no preview, nothing sent.
			b.do(chromedp.SetUploadFiles(chromedp.CSS(selMediaInput), []string{bigImg}))
			waitJS[bool](b, `[...document.querySelectorAll("[role='alert']")].some(e => e.textContent === '1 image you tried adding is larger than the 64 kB limit.')`, 5*time.Second)
			b.do(chromedp.SetUploadFiles(chromedp.CSS(selDocInput), []string{bigDoc}))
			waitJS[bool](b, `[...document.querySelectorAll("[role='alert']")].some(e => e.textContent === '1 document you tried adding is larger than the 128 kB limit.')`, 5*time.Second)
			// A document chosen through "Photos & videos" is not supported there.
			b.do(chromedp.SetUploadFiles(chromedp.CSS(selMediaInput), []string{docPath}))
			waitJS[bool](b, `[...document.querySelectorAll("[role='alert']")].some(e => e.textContent === '1 file you tried adding is not supported.')`, 5*time.Second)
			assert.False(t, eval[bool](b, "!!document.querySelector(\"div[role='dialog']\")"))
			time.Sleep(100 * time.Millisecond)
			assert.Len(t, s.Received(me, to), 2)

			// Reopened, the history shows the thumbnail from the server.
			b.navigate(base + "/send?phone=" + to)
			b.waitFor(selCompose)
			waitJS[bool](b, `(() => { const i = document.querySelector("#main [data-testid='image-thumb'] img"); return !!i && i.complete && i.naturalWidth === 8 && i.src.includes('/__wa/media?id='); })()`, 5*time.Second)
			assert.Equal(t, caption, eval[string](b, `document.querySelector("#main [role='row'] .selectable-text.copyable-text").textContent`))
			assert.Equal(t, 1, eval[int](b, `document.querySelectorAll("#main [data-testid='document-thumb']").length`))
		})
	}
}

// TestBrowserNumberCheck opens chats the ways a driver checks a number: a
// /send?phone= navigation and an in-app link click. WhatsApp uses the
// number that its check returns (SetCanonicalNumber), and an unknown
// number gets the 2026 dialog after "Starting chat".
func TestBrowserNumberCheck(t *testing.T) {
	t.Parallel()
	const me = "15550004701"
	const typedBR, canonBR = "5511987654321", "551187654321"
	const typedMX, canonMX = "5215512345678", "525512345678"
	s, base, b := loggedIn(t, me, WithMarkup(Markup2026), WithStartingChatDelay(150*time.Millisecond))
	require.NoError(t, s.SetCanonicalNumber(typedBR, canonBR))
	require.NoError(t, s.SetCanonicalNumber(typedMX, canonMX))
	s.SetNotOnWhatsApp("15559990001", true)
	b.watch(map[string]string{"starting": fmt.Sprintf("document.querySelector(%s)", jsString(selStarting))})

	// A /send link to the typed number opens the canonical chat.
	b.navigate(base + "/send?phone=" + typedBR + "&text=ol%C3%A1")
	b.waitFor(selCompose)
	assert.True(t, b.seen("starting"))
	assert.Equal(t, "+"+canonBR, eval[string](b, "document.querySelector('#main header span[title]').title"))
	assert.Equal(t, "olá", composeText(b))
	b.do(chromedp.Click(chromedp.CSS(selSend)))
	require.Eventually(t, func() bool { return len(s.Received(me, canonBR)) == 1 }, 5*time.Second, 20*time.Millisecond)
	assert.Empty(t, s.Received(me, typedBR))

	// An in-app link (to web.whatsapp.com or this origin) needs no reload.
	eval[bool](b, "window.__noReload = true")
	click := func(href string) {
		t.Helper()
		eval[bool](b, fmt.Sprintf(`(() => { const a = document.createElement('a'); a.id = 'probe'; a.href = %s; a.textContent = 'chat';
			document.querySelector('#pane-side').prepend(a); return true; })()`, jsString(href)))
		b.do(chromedp.Click(chromedp.CSS("#probe")))
		eval[bool](b, "(document.querySelector('#probe').remove(), true)")
	}
	click("https://web.whatsapp.com/send?phone=" + typedMX + "&text=hola")
	waitJS[bool](b, fmt.Sprintf(`(() => { const s = document.querySelector('#main header span[title]'); return !!s && s.title === %s && !document.querySelector(%s); })()`,
		jsString("+"+canonMX), jsString(selStarting)), 5*time.Second)
	assert.Equal(t, "hola", composeText(b))
	click("/send/?phone=15559990001")
	waitJS[bool](b, `[...document.querySelectorAll("div[role='dialog'] [data-animate-modal-body='true']")].some(e => e.innerText === "The number +1 555-999-0001 isn't on WhatsApp.")`, 5*time.Second)
	b.do(chromedp.Click(chromedp.CSS("div[role='dialog'] button")))
	waitJS[bool](b, "!document.querySelector(\"div[role='dialog']\") && !document.querySelector('#main')", 5*time.Second)
	assert.True(t, eval[bool](b, "window.__noReload === true"), "in-app links must not reload the page")
}

// TestBrowserAccountNumber reads the logged-in account's number the two
// ways a driver can: localStorage "last-wid-md" and the profile drawer.
// Another phone that scans the QR code of the same profile changes both.
func TestBrowserAccountNumber(t *testing.T) {
	t.Parallel()
	const first, second = "15550004801", "447700900481"
	s, base, b := loggedIn(t, first)
	_ = base
	drawerNumber := func() string {
		t.Helper()
		b.do(chromedp.Click(chromedp.CSS("header[data-testid='chatlist-header'] [role='button'][title='Profile']")))
		n := waitJS[string](b, `(() => { const d = document.querySelector("[role='region'][aria-label='Profile']"); const s = d && [...d.querySelectorAll('span[title]')].pop(); return s ? s.title : ''; })()`, 5*time.Second)
		b.do(chromedp.Click(chromedp.CSS("[role='region'][aria-label='Profile'] [role='button'][aria-label='Back']")))
		waitJS[bool](b, "!document.querySelector(\"[role='region'][aria-label='Profile']\")", 5*time.Second)
		return n
	}
	widMD := func() string { return eval[string](b, "localStorage.getItem('last-wid-md')") }
	assert.Equal(t, `"15550004801:1@c.us"`, widMD())
	assert.Equal(t, "15550004801", eval[string](b, `JSON.parse(localStorage.getItem('last-wid-md')).split(':')[0]`), "the parse bots use")
	assert.Equal(t, "+1 555-000-4801", drawerNumber())

	s.Logout(first)
	ref := b.qrRef()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	require.NoError(t, s.Scan(ctx, ref, second))
	b.waitFor("#pane-side")
	assert.Equal(t, `"447700900481:1@c.us"`, widMD())
	assert.Equal(t, `"447700900481@c.us"`, eval[string](b, "localStorage.getItem('last-wid')"))
	assert.Equal(t, "+447700900481", drawerNumber())
}

// TestBrowserTickHooks drives the ticks from the test: a recipient who
// never gets messages (one tick for good), the contact reading the chat,
// and one message moved on by hand; the row's tick and the chat list's
// icon follow in both markups.
func TestBrowserTickHooks(t *testing.T) {
	t.Parallel()
	for _, markup := range []Markup{MarkupClassic, Markup2026} {
		t.Run(markup.String(), func(t *testing.T) {
			t.Parallel()
			me, to := "15550004901", "15557774901"
			if markup == Markup2026 {
				me, to = "15550004902", "15557774902"
			}
			s, _, b := loggedIn(t, me, WithMarkup(markup), WithTickDelays(20*time.Millisecond, 100*time.Millisecond, 100*time.Millisecond, 0))
			// tick is the last row's tick: aria-label|svg title|data-icon|blue class.
			tick := `(() => { const rows = document.querySelectorAll("#main [role='row']"); const sp = rows.length && rows[rows.length - 1].querySelector("span[aria-label^=' ']");
				return sp ? [sp.getAttribute('aria-label'), sp.querySelector('svg title').textContent, sp.getAttribute('data-icon') || '', String(sp.classList.contains('x1rv0e52'))].join('|') : ''; })()`
			// listIcon is the chat list row's icon: svg title|data-icon|aria-label|blue class.
			listIcon := fmt.Sprintf(`(() => { const t = document.querySelector(%s); const sp = t && t.closest("[role='row']").querySelector("[role='gridcell'] svg > title");
				const s = sp && sp.parentNode.parentNode; return s ? [sp.textContent, s.getAttribute('data-icon') || '', s.getAttribute('aria-label') || '', String(s.classList.contains('x1rv0e52'))].join('|') : ''; })()`,
				jsString("#pane-side [role='row'] span[title='+"+to+"']"))
			want := func(classic, m26 string) string {
				if markup == MarkupClassic {
					return classic
				}
				return m26
			}

			s.SetNeverDeliver(me, to, true)
			openChatInApp(b, to, "hello?")
			b.do(chromedp.Click(chromedp.CSS(selSend)))
			waitJS[bool](b, tick+` === `+jsString(want(" Sent |msg-check|msg-check|false", " Sent |wds-ic-delivered||false")), 5*time.Second)
			time.Sleep(400 * time.Millisecond)
			assert.Equal(t, want(" Sent |msg-check|msg-check|false", " Sent |wds-ic-delivered||false"), eval[string](b, tick), "one tick for good")
			assert.Equal(t, want("status-check|status-check||false", "wds-ic-delivered|||false"), eval[string](b, listIcon))
			assert.Empty(t, s.ReadBy(me, to))

			s.SetNeverDeliver(me, to, false)
			waitJS[bool](b, tick+` === `+jsString(want(" Delivered |msg-dblcheck|msg-dblcheck|false", " Delivered |wds-ic-read||false")), 5*time.Second)
			waitJS[bool](b, listIcon+` === `+jsString(want("status-dblcheck|status-dblcheck||false", "wds-ic-read|||false")), 5*time.Second)
			got := s.Received(me, to)
			require.Len(t, got, 1)
			assert.Equal(t, []string{got[0].ID}, s.ReadBy(me, to))
			waitJS[bool](b, tick+` === `+jsString(want(" Read |msg-dblcheck|msg-dblcheck|true", " Read |wds-ic-read||true")), 5*time.Second)
			waitJS[bool](b, listIcon+` === `+jsString(want("status-dblcheck|status-dblcheck||true", "wds-ic-read|||true")), 5*time.Second)

			// One message by hand, straight from Sent to Read.
			eval[bool](b, fmt.Sprintf(`(() => { const e = document.querySelector(%s); e.focus(); return document.execCommand('insertText', false, 'second'); })()`, jsString(selCompose)))
			b.do(chromedp.Click(chromedp.CSS(selSend)))
			require.Eventually(t, func() bool { return len(s.Received(me, to)) == 2 }, 5*time.Second, 20*time.Millisecond)
			require.NoError(t, s.SetMessageStatus(s.Received(me, to)[1].ID, StatusRead))
			waitJS[bool](b, tick+` === `+jsString(want(" Read |msg-dblcheck|msg-dblcheck|true", " Read |wds-ic-read||true")), 5*time.Second)
		})
	}
}
