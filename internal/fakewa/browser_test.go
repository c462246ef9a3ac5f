package fakewa

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Selectors a driver uses (whatsapp-web.md §8).
const (
	selCompose    = "#main footer div[contenteditable='true'][role='textbox']"
	selSend       = "button[aria-label='Send']"
	selVoice      = "button[aria-label='Voice message'] span[data-icon='ptt']"
	selUnsupport  = "a[href='https://support.google.com/chrome/answer/95414']"
	selStarting   = "div[data-animate-modal-popup='true'][aria-label='Starting chat']"
	selInvalid    = "[aria-label*='Phone number shared via url is invalid']"
	selInvalidOK  = "[data-testid='popup-controls-ok']"
	selQRReload   = "div[data-ref] > span > button"
	selPhoneAlert = "[data-testid='alert-phone']"
)

// startServer starts a Server with fast timings and closes it with the test.
func startServer(t *testing.T, opts ...Option) (*Server, string) {
	t.Helper()
	s := New(fastOptions(opts...)...)
	base, err := s.Start()
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s, base
}

// openChatInApp navigates inside the running app, as a driver does without
// reloading: pushState and a popstate event.
func openChatInApp(b *browser, phone, text string) {
	b.t.Helper()
	u := "/send?phone=" + phone
	if text != "" {
		u += "&text=" + queryEscape(text)
	}
	eval[bool](b, fmt.Sprintf(`(() => { window.history.pushState({}, '', %s); window.dispatchEvent(new PopStateEvent('popstate')); return true; })()`, jsString(u)))
	waitJS[bool](b, fmt.Sprintf(`(() => { const s = document.querySelector('#main header span[title]'); return !!s && s.title === %s && !document.querySelector(%s); })()`,
		jsString("+"+phone), jsString(selStarting)), 10*time.Second)
}

// setUA overrides the User-Agent of a tab through CDP, for the request
// header and navigator.userAgent alike.
func setUA(ctx context.Context, t *chromedp.Target, ua string) error {
	_, err := cdp.Call(ctx, t, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: ua})
	return err
}

func queryEscape(s string) string {
	r := strings.NewReplacer("%", "%25", "&", "%26", "+", "%2B", "#", "%23", "\n", "%0A", "\t", "%09", " ", "%20", "=", "%3D", "?", "%3F")
	return r.Replace(s)
}

// composeText returns the text of the compose box as the page's model
// reads it: one line per <p>.
func composeText(b *browser) string {
	return eval[string](b, `Array.from(document.querySelectorAll("#main footer [contenteditable] > p")).map(p => p.textContent).join("\n")`)
}

// lastOutText returns the text of the last outgoing row.
func lastOutText(b *browser) string {
	return eval[string](b, `(() => { const r = document.querySelectorAll("#main div.message-out span.selectable-text.copyable-text > span"); return r.length ? r[r.length - 1].textContent : null; })()`)
}

func TestBrowserUnsupported(t *testing.T) {
	t.Parallel()
	_, base := startServer(t)
	tests := []struct {
		name string
		ua   string
		want bool
	}{
		{"headless default UA", "", true},
		{"old Chrome", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/84.0.4147.89 Safari/537.36", true},
		{"Electron", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Electron/28.0.0 Safari/537.36", true},
		{"desktop Chrome", desktopUA, false},
	}
	b := newBrowser(t, withUA(desktopUA))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := b.tab()
			ua := tt.ua
			if ua == "" {
				// The browser's own UA without the override contains
				// HeadlessChrome.
				ua = strings.Replace(eval[string](tb, "navigator.userAgent"), "Chrome/", "HeadlessChrome/", 1)
			}
			tb.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				return setUA(ctx, tg, ua)
			}))
			tb.navigate(base + "/send?phone=15551234567&text=hi")
			if tt.want {
				tb.waitFor(selUnsupport)
				txt := eval[string](tb, "document.body.innerText")
				assert.Contains(t, txt, "WhatsApp works with Google Chrome 85+")
			} else {
				tb.qrRef()
				assert.False(t, eval[bool](tb, fmt.Sprintf("!!document.querySelector(%s)", jsString(selUnsupport))))
			}
		})
	}

	t.Run("real headless UA", func(t *testing.T) {
		hb := newBrowser(t, withUA(""))
		assert.Contains(t, eval[string](hb, "navigator.userAgent"), "HeadlessChrome")
		hb.navigate(base + "/")
		hb.waitFor(selUnsupport)
	})

	t.Run("client side check", func(t *testing.T) {
		// The request UA passes; navigator.userAgent does not. The page
		// must come to the same verdict from the script.
		tb := b.tab()
		tb.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
				Source: `Object.defineProperty(navigator, 'userAgent', {get: () => 'Mozilla/5.0 QtWebEngine/5.15.2 Chrome/87.0.0.0'});`,
			})
			return err
		}))
		tb.navigate(base + "/")
		tb.waitFor(selUnsupport)
	})
}

func TestBrowserQRRotationAndReload(t *testing.T) {
	t.Parallel()
	// Every code is read from window.__refs, which an observer installed
	// before the navigation fills, never at a moment: the codes rotate
	// every 250 ms, faster than a loaded machine answers. The first code of
	// a cycle lasts 3 s so that the reloaded one is still pending when the
	// test checks and scans it, a few round trips later.
	s, base := startServer(t, WithQRFirst(3*time.Second), WithQRRotate(250*time.Millisecond), WithQRMaxRefreshes(2))
	b := newBrowser(t)
	// Record every data-ref value and the element that carries it, from
	// the start of the document.
	b.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: `
			window.__refs = []; window.__qrEls = new Set();
			new MutationObserver(() => {
				const el = document.querySelector("[data-testid='qrcode'][data-ref]");
				if (!el) return;
				window.__qrEls.add(el);
				if (window.__refs[window.__refs.length - 1] !== el.dataset.ref) window.__refs.push(el.dataset.ref);
			}).observe(document, {subtree: true, childList: true, attributes: true, attributeFilter: ['data-ref']});`})
		return err
	}))
	b.navigate(base + "/")
	read := b.qrRef() // whichever code shows when the helper looks
	b.waitFor(selQRReload)
	btnText := eval[string](b, fmt.Sprintf("document.querySelector(%s).textContent", jsString(selQRReload)))
	assert.Equal(t, "Click to reload QR code", btnText)
	refs := eval[[]string](b, "window.__refs")
	require.Len(t, refs, 3, "first code and two refreshes: %v", refs)
	assert.Contains(t, refs, read, "the helper reads a code the page showed")
	for _, r := range refs {
		assert.Regexp(t, `^2@[A-Za-z0-9+/=]+,[A-Za-z0-9+/=]+,[A-Za-z0-9+/=]+,[A-Za-z0-9+/=]+$`, r)
	}
	assert.Equal(t, 1, eval[int](b, "window.__qrEls.size"), "data-ref must change on the same element")
	assert.Empty(t, s.PendingQRs())
	for i, r := range refs {
		assert.ErrorIs(t, s.Scan(context.Background(), r, "15550001111"), ErrQRExpired, "code %d of the expired cycle", i)
	}

	eval[bool](b, "(window.__old = window.__refs.slice(), true)")
	b.do(chromedp.Click(chromedp.CSS(selQRReload)))
	// The first code of the new cycle, as the observer recorded it.
	fresh := waitJS[string](b, `window.__refs.length > window.__old.length && window.__refs[window.__old.length]`, 10*time.Second)
	assert.NotContains(t, refs, fresh)
	qrs := s.PendingQRs()
	require.Len(t, qrs, 1)
	// The page shows the server's pending code: fresh itself, or one that
	// replaced it while the machine was slow.
	waitJS[bool](b, fmt.Sprintf("window.__refs.slice(window.__old.length).includes(%s)", jsString(qrs[0].Ref)), 10*time.Second)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, s.ScanAny(ctx, "15550001111"))
	b.waitFor("div[aria-label='Chat list'][role='grid']")
}

func TestBrowserPhoneNumberPairing(t *testing.T) {
	t.Parallel()
	s, base := startServer(t)
	b := newBrowser(t)
	b.navigate(base + "/")
	b.qrRef()
	b.do(chromedp.Click(chromedp.Search("//button[text()='Link with phone number']")))
	b.waitFor("input[aria-label='Type your phone number.']")
	b.do(chromedp.SendKeys(chromedp.CSS("input[aria-label='Type your phone number.']"), "44 7700 900123"),
		chromedp.Click(chromedp.Search("//button[text()='Next']")))
	sel := "div[aria-details='link-device-phone-number-code-screen-instructions'][data-link-code]"
	b.waitFor(sel)
	raw := eval[string](b, fmt.Sprintf("document.querySelector(%s).getAttribute('data-link-code')", jsString(sel)))
	require.Regexp(t, `^([0-9A-Z],){7}[0-9A-Z]$`, raw)
	code := strings.ReplaceAll(raw, ",", "")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	assert.ErrorIs(t, s.ConfirmPairingCode(ctx, code, "15550001111"), ErrPhoneMismatch)
	require.NoError(t, s.ConfirmPairingCode(ctx, code, "447700900123"))
	b.waitFor("#pane-side")
	assert.Equal(t, `"447700900123:1@c.us"`, eval[string](b, "localStorage.getItem('last-wid-md')"))
}

func TestBrowserLoginPersistsAcrossRestartAndLogout(t *testing.T) {
	t.Parallel()
	s, base := startServer(t, WithLoadingDelay(200*time.Millisecond))
	dir := t.TempDir()
	const phone = "15550002222"

	b := newBrowser(t, withProfile(dir))
	b.watch(map[string]string{
		"splash":  `document.querySelector('body.web > #app > #initial_startup .graphic') && document.querySelector('#initial_startup .progress > progress') && document.querySelector('#initial_startup .main') && document.querySelector('#initial_startup .secondary [data-icon="lock-small"]')`,
		"loading": `document.querySelector("[aria-label^='Loading your chats']") && document.querySelector("div[role='progressbar'] progress") && document.body.innerText.includes("Don't close this window") && /Loading your chats \[\d+%\]/.test(document.body.innerText)`,
		"wwebjs":  `document.evaluate("//*[@id='app']/div/div/div[2]/progress", document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue`,
	})
	b.navigate(base + "/")
	ref := b.qrRef()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, s.Scan(ctx, ref, phone))
	b.waitFor("#pane-side")
	assert.True(t, b.seen("splash"), "the splash screen")
	assert.True(t, b.seen("loading"), "Loading your chats between the scan and MAIN")
	assert.True(t, b.seen("wwebjs"), "the progress XPath of whatsapp-web.js")
	assert.Equal(t, `"15550002222:1@c.us"`, eval[string](b, "localStorage.getItem('last-wid-md')"))
	assert.Equal(t, `"15550002222@c.us"`, eval[string](b, "localStorage.getItem('last-wid')"))
	assert.NotEmpty(t, eval[string](b, "localStorage.getItem('WebEncKeySalt')"))
	assert.NotEmpty(t, eval[string](b, "localStorage.getItem('WANoiseInfo')"))
	assert.True(t, eval[bool](b, `new Promise(r => { const q = indexedDB.open('wawc'); q.onsuccess = () => { const g = q.result.transaction('user').objectStore('user').get('me'); g.onsuccess = () => r(!!g.result && g.result.wid === '15550002222@c.us'); }; })`))
	b.close()

	// A new Chromium on the same profile reaches MAIN without a QR code.
	b2 := newBrowser(t, withProfile(dir))
	b2.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
			Source: `window.__sawQR = false; new MutationObserver(() => { if (document.querySelector('canvas, [data-ref]')) window.__sawQR = true; }).observe(document, {subtree: true, childList: true});`,
		})
		return err
	}))
	b2.navigate(base + "/send?phone=15551234567&text=after%20restart")
	b2.waitFor(selCompose)
	assert.False(t, eval[bool](b2, "window.__sawQR"), "a stored session must skip the QR code")
	assert.Equal(t, "after restart", composeText(b2))

	// Logout from the phone: QR again, storage cleared, URL marks it.
	s.Logout(phone)
	b2.qrRef()
	waitJS[bool](b2, "location.search.includes('post_logout=1') && location.search.includes('logout_reason=')", 5*time.Second)
	assert.Nil(t, eval[*string](b2, "localStorage.getItem('last-wid-md')"))
	assert.NotNil(t, eval[*string](b2, "localStorage.getItem('old-logout-cred')"))
	for _, ss := range s.Sessions() {
		if ss.Connected {
			assert.Equal(t, PageQR, ss.State)
			assert.True(t, ss.LoggedOut)
		}
	}
	b2.close()

	// The next start shows the QR code: the login is gone.
	b3 := newBrowser(t, withProfile(dir))
	b3.navigate(base + "/")
	b3.qrRef()
}

func TestBrowserSendFromURLAndTicks(t *testing.T) {
	t.Parallel()
	s, base := startServer(t,
		WithTickDelays(30*time.Millisecond, 200*time.Millisecond, 200*time.Millisecond, 200*time.Millisecond),
		WithStartingChatDelay(300*time.Millisecond))
	const me, to = "15550003333", "4915123456789"
	b := newBrowser(t)
	loginPage(t, s, b, base, me)
	b.watch(map[string]string{"starting": fmt.Sprintf(
		`(() => { const m = document.querySelector(%s); return m && m.querySelector("[data-animate-modal-body='true'] h1").textContent === 'Starting chat' && m.querySelector("svg[role='status']") && [...m.querySelectorAll('button')].some(b => b.textContent === 'Cancel'); })()`,
		jsString(selStarting))})
	b.navigate(base + "/send?phone=" + to + "&text=Hello%20from%20the%20URL&type=phone_number&app_absent=0")
	b.waitFor(selCompose)
	assert.True(t, b.seen("starting"), "the Starting chat modal")
	assert.Equal(t, "Hello from the URL", composeText(b))
	assert.True(t, eval[bool](b, fmt.Sprintf("!!document.querySelector(%s + \" > span[data-icon='wds-ic-send-filled']\")", jsString(selSend))))

	// Record every status the row goes through.
	eval[bool](b, `(() => { window.__st = []; new MutationObserver(() => {
		const s = document.querySelector("#main div.message-out [data-icon^='msg-']");
		if (s) { const v = s.dataset.icon + '|' + s.getAttribute('aria-label') + '|' + s.querySelector('svg title').textContent + '|' + s.querySelector('path').getAttribute('fill'); if (window.__st[window.__st.length-1] !== v) window.__st.push(v); }
	}).observe(document.querySelector('#main'), {subtree: true, childList: true, attributes: true}); return true; })()`)
	b.do(chromedp.Click(chromedp.CSS(selSend)))
	waitJS[bool](b, `document.querySelector("#main div.message-out [aria-label=' Read ']") !== null`, 5*time.Second)

	got := s.Received(me, to)
	require.Len(t, got, 1)
	assert.Equal(t, "Hello from the URL", got[0].Text)
	assert.Equal(t, "", composeText(b))
	b.waitFor("#main footer " + selVoice)

	states := eval[[]string](b, "window.__st")
	assert.Equal(t, []string{
		"msg-time| Pending |msg-time|currentColor",
		"msg-check| Sent |msg-check|currentColor",
		"msg-dblcheck| Delivered |msg-dblcheck|currentColor",
		"msg-dblcheck| Read |msg-dblcheck|#53bdeb",
	}, states)

	dataID := eval[string](b, "document.querySelector(\"#main [data-id^='true_']\").dataset.id")
	assert.Equal(t, "true_"+to+"@c.us_"+got[0].ID, dataID)
	assert.Regexp(t, `^3EB0[0-9A-F]{16}$`, got[0].ID)
	pre := eval[string](b, "document.querySelector(\"#main div.message-out div.copyable-text\").dataset.prePlainText")
	assert.Regexp(t, `^\[\d\d:\d\d, \d{1,2}/\d{1,2}/\d{4}\] Me: $`, pre)
	assert.True(t, eval[bool](b, `(() => { const m = document.querySelector("#main div.message-out"); const tail = m.querySelector("span[data-icon='tail-out']"); const st = m.querySelector("span[data-icon^='msg-']"); return !!tail && !!(tail.compareDocumentPosition(st) & Node.DOCUMENT_POSITION_FOLLOWING); })()`))
	st, ok := s.MessageStatus(got[0].ID)
	require.True(t, ok)
	assert.Equal(t, StatusRead, st)

	// Reopening the chat shows the history with its text and status.
	b.navigate(base + "/send?phone=" + to)
	b.waitFor(selCompose)
	assert.Equal(t, "Hello from the URL", lastOutText(b))
	assert.True(t, eval[bool](b, "!!document.querySelector(\"#main div.message-out [aria-label=' Read ']\")"))
	assert.Equal(t, "", composeText(b))
}

func TestBrowserHashIDStyle(t *testing.T) {
	t.Parallel()
	s, base := startServer(t, WithIDStyle(IDStyleHash))
	b := newBrowser(t)
	loginPage(t, s, b, base, "15550004444")
	openChatInApp(b, "15557654321", "hash style")
	b.do(chromedp.Click(chromedp.CSS(selSend)))
	id := waitJS[string](b, `(() => { const e = document.querySelector("#main div[role='row'] > div[data-id]"); return e && e.dataset.id; })()`, 5*time.Second)
	assert.Regexp(t, `^[0-9A-F]{32}$`, id)
	got := s.Received("15550004444", "15557654321")
	require.Len(t, got, 1)
	assert.Equal(t, id, got[0].ID)
}

func TestBrowserComposeInputMethods(t *testing.T) {
	t.Parallel()
	s, base := startServer(t)
	const me = "15550005555"
	b := newBrowser(t)
	loginPage(t, s, b, base, me)

	long := strings.Repeat("0123456789abcdefghij", 200) + "\nend"
	texts := map[string]string{
		"plain":     "Hello, world!",
		"multiline": "line one\nline two\n\nline four",
		"emoji":     "Family 👨‍👩‍👧‍👦 flag 🇩🇪 skin 👍🏽 text ✔️",
		"rtl":       "مرحبا بالعالم\nשלום עולם",
		"html":      "<b>x</b>&amp; <script>alert(1)</script> <img src=x onerror=alert(2)>",
		"long":      long,
		"spaces":    "  two  spaces   and\ttab  ",
	}
	type method struct {
		name string
		fill func(b *browser, text string)
		// typed reports whether the method presses keys; those cannot
		// type the ZWJ and other format characters.
		typed bool
	}
	methods := []method{
		{"prefill", func(b *browser, text string) {}, false},
		{"insertText", func(b *browser, text string) {
			b.do(chromedp.Focus(chromedp.CSS(selCompose)), insertText(text))
		}, false},
		{"execCommand", func(b *browser, text string) {
			eval[bool](b, fmt.Sprintf(`(() => { const e = document.querySelector(%s); e.focus(); return document.execCommand('insertText', false, %s); })()`, jsString(selCompose), jsString(text)))
		}, false},
		{"paste", func(b *browser, text string) {
			eval[bool](b, fmt.Sprintf(`(() => { const e = document.querySelector(%s); e.focus(); const dt = new DataTransfer(); dt.setData('text/plain', %s); e.dispatchEvent(new ClipboardEvent('paste', {clipboardData: dt, bubbles: true, cancelable: true})); return true; })()`, jsString(selCompose), jsString(text)))
		}, false},
		{"sendKeys", func(b *browser, text string) {
			for i, line := range strings.Split(text, "\n") {
				if i > 0 {
					b.do(enter(true))
				}
				if line != "" {
					b.do(chromedp.SendKeys(chromedp.CSS(selCompose), line))
				}
			}
		}, true},
	}
	sends := []struct {
		name string
		do   func(b *browser)
	}{
		{"click", func(b *browser) { b.do(chromedp.Click(chromedp.CSS(selSend))) }},
		{"rawEnter", func(b *browser) { b.do(enter(false)) }},
		{"syntheticEnter", func(b *browser) {
			eval[bool](b, fmt.Sprintf(`(() => { const e = document.querySelector(%s); for (const t of ['keydown', 'keyup']) e.dispatchEvent(new KeyboardEvent(t, {key: 'Enter', code: 'Enter', keyCode: 13, which: 13, bubbles: true, cancelable: true})); return true; })()`, jsString(selCompose)))
		}},
	}

	n := 0
	for _, m := range methods {
		for _, name := range []string{"plain", "multiline", "emoji", "rtl", "html", "long", "spaces"} {
			text := texts[name]
			if m.typed && (name == "emoji" || name == "long" || name == "spaces") {
				// Typing ZWJ sequences key by key drops the format
				// characters, 4,000 keys are slow, and Tab moves focus.
				continue
			}
			send := sends[n%len(sends)]
			n++
			to := fmt.Sprintf("1555%07d", n)
			t.Run(m.name+"/"+name+"/"+send.name, func(t *testing.T) {
				prefill := ""
				if m.name == "prefill" {
					prefill = text
				}
				openChatInApp(b, to, prefill)
				m.fill(b, text)
				waitJS[bool](b, "!!document.querySelector(\"button[aria-label='Send']\")", 5*time.Second)
				require.Equal(t, text, composeText(b), "compose box before sending")
				send.do(b)
				waitJS[bool](b, fmt.Sprintf(`document.querySelectorAll("#main div.message-out").length === 1 && !!document.querySelector(%s)`, jsString(selVoice)), 5*time.Second)
				assert.Equal(t, "", composeText(b), "compose box after sending")
				assert.Equal(t, text, lastOutText(b), "row text")
				waitJS[bool](b, "!!document.querySelector(\"#main div.message-out [data-icon='msg-check'], #main div.message-out [data-icon='msg-dblcheck']\")", 5*time.Second)
				got := s.Received(me, to)
				require.Len(t, got, 1, "exactly one message")
				assert.Equal(t, text, got[0].Text)
			})
		}
	}
}

func TestBrowserShiftEnterAndTyping(t *testing.T) {
	t.Parallel()
	s, base := startServer(t)
	const me, to = "15550006666", "15551112222"
	b := newBrowser(t)
	loginPage(t, s, b, base, me)
	openChatInApp(b, to, "")
	assert.True(t, eval[bool](b, fmt.Sprintf("!!document.querySelector(%s)", jsString("#main footer "+selVoice))), "voice button while empty")
	assert.False(t, eval[bool](b, fmt.Sprintf("!!document.querySelector(%s)", jsString(selSend))), "no send button while empty")

	b.do(chromedp.SendKeys(chromedp.CSS(selCompose), "first"),
		enter(true),
		chromedp.SendKeys(chromedp.CSS(selCompose), "second"),
		enter(true),
		chromedp.SendKeys(chromedp.CSS(selCompose), "third <i>"))
	assert.Equal(t, "first\nsecond\nthird <i>", composeText(b))
	assert.Equal(t, 3, eval[int](b, `document.querySelectorAll("#main footer [contenteditable] > p.selectable-text.copyable-text > span[data-lexical-text='true']").length`))

	// Backspace keeps the model in sync.
	b.do(chromedp.KeyEvent(kb.Backspace), chromedp.KeyEvent(kb.Backspace), chromedp.KeyEvent(kb.Backspace), chromedp.KeyEvent(kb.Backspace))
	assert.Equal(t, "first\nsecond\nthird", composeText(b))

	b.do(enter(false))
	waitJS[bool](b, `document.querySelectorAll("#main div[data-id] div.message-out").length === 1`, 5*time.Second)
	assert.Equal(t, "", composeText(b))
	got := s.Received(me, to)
	require.Len(t, got, 1)
	assert.Equal(t, "first\nsecond\nthird", got[0].Text)

	// Enter on an empty or blank box sends nothing.
	b.do(enter(false), chromedp.SendKeys(chromedp.CSS(selCompose), "   "), enter(false))
	time.Sleep(100 * time.Millisecond)
	assert.Len(t, s.Received(me, to), 1)
}

// TestBrowserCharEventAfterEnter pins down what CDP "char" events do: like
// Lexical, the page handles Enter on keydown, so the char event of
// chromedp's SendKeys("\n") or KeyEvent(kb.Enter) inserts one more line
// break. A driver must send Enter as rawKeyDown and keyUp.
func TestBrowserCharEventAfterEnter(t *testing.T) {
	t.Parallel()
	s, base := startServer(t)
	const me, to = "15550006767", "15551113333"
	b := newBrowser(t)
	loginPage(t, s, b, base, me)
	openChatInApp(b, to, "")

	b.do(chromedp.SendKeys(chromedp.CSS(selCompose), "one\n"))
	waitJS[bool](b, `document.querySelectorAll("#main div[data-id] div.message-out").length === 1`, 5*time.Second)
	assert.Equal(t, "\n", composeText(b), "the char event leaves a line break behind")
	b.waitFor("#main footer " + selVoice)
	b.do(chromedp.SendKeys(chromedp.CSS(selCompose), "two"), enter(false))
	waitJS[bool](b, `document.querySelectorAll("#main div[data-id] div.message-out").length === 2`, 5*time.Second)
	var texts []string
	for _, m := range s.Received(me, to) {
		texts = append(texts, m.Text)
	}
	assert.Equal(t, []string{"one", "\ntwo"}, texts)

	b.do(chromedp.SendKeys(chromedp.CSS(selCompose), "a"),
		chromedp.KeyEvent(kb.Enter, chromedp.KeyModifiers(chromedp.ModifierShift)),
		chromedp.SendKeys(chromedp.CSS(selCompose), "b"))
	assert.Equal(t, "a\n\nb", composeText(b), "Shift+Enter with a char event makes two line breaks")
}

func TestBrowserInvalidNumber(t *testing.T) {
	t.Parallel()
	s, base := startServer(t, WithStartingChatDelay(150*time.Millisecond))
	s.SetNotOnWhatsApp("15559990000", true)
	b := newBrowser(t)
	b.watch(map[string]string{"starting": fmt.Sprintf("document.querySelector(%s)", jsString(selStarting))})
	loginPage(t, s, b, base, "15550007777")
	for _, phone := range []string{"15559990000", "+15551234567", "12ab"} {
		t.Run(phone, func(t *testing.T) {
			b.navigate(base + "/send/?phone=" + queryEscape(phone) + "&text=nope")
			b.waitFor(selInvalid)
			assert.True(t, b.seen("starting"), "the Starting chat modal comes first")
			dlg := eval[string](b, `document.querySelector("div[role='dialog'] [data-animate-modal-popup='true'] [data-animate-modal-body='true']").innerText`)
			assert.Equal(t, "Phone number shared via url is invalid.", dlg)
			assert.Equal(t, "OK", eval[string](b, fmt.Sprintf("document.querySelector(\"div[role='dialog'] div[role='button']%s\").textContent", selInvalidOK)))
			b.do(chromedp.Click(chromedp.CSS(selInvalidOK)))
			waitJS[bool](b, fmt.Sprintf("!document.querySelector(%s)", jsString(selInvalid)), 5*time.Second)
			assert.False(t, eval[bool](b, "!!document.querySelector('#main')"))
			assert.True(t, eval[bool](b, "!!document.querySelector(\"[data-testid='intro-title']\")"))
		})
	}
	assert.Empty(t, s.AllReceived())
}

func TestBrowserInAppNavigation(t *testing.T) {
	t.Parallel()
	s, base := startServer(t)
	const me = "15550008888"
	b := newBrowser(t)
	loginPage(t, s, b, base, me)
	eval[bool](b, "window.__noReload = true")

	openChatInApp(b, "15550000001", "via pushState")
	assert.Equal(t, "via pushState", composeText(b))
	b.do(chromedp.Click(chromedp.CSS(selSend)))
	waitJS[bool](b, `!!document.querySelector("#main [data-id^='true_15550000001@c.us_']")`, 5*time.Second)

	openChatInApp(b, "15550000002", "second chat")
	b.do(enter(false))
	waitJS[bool](b, `document.querySelectorAll("div[aria-label='Chat list'] [role='row']").length === 2`, 5*time.Second)

	// A click on a chat row opens that chat with its history.
	b.do(chromedp.Click(chromedp.Search(`//div[@aria-label='Chat list']//span[@title='+15550000001']`)))
	waitJS[bool](b, `document.querySelector('#main header span[title]').title === '+15550000001'`, 5*time.Second)
	assert.Equal(t, "via pushState", lastOutText(b))

	// Typing a number into the search box and Enter opens a chat.
	b.do(chromedp.SendKeys(chromedp.CSS("input[data-tab='3'][aria-label='Search or start a new chat']"), "+1 555 000 0003"),
		chromedp.KeyEvent(kb.Enter))
	waitJS[bool](b, `(() => { const s = document.querySelector('#main header span[title]'); return s && s.title === '+15550000003'; })()`, 5*time.Second)

	assert.True(t, eval[bool](b, "window.__noReload === true"), "in-app navigation must not reload the page")
	assert.Len(t, s.Received(me, "15550000001"), 1)
	assert.Len(t, s.Received(me, "15550000002"), 1)
	for _, ss := range s.Sessions() {
		if ss.Connected {
			assert.Equal(t, PageMain, ss.State)
			assert.Equal(t, "15550000003", ss.Chat)
		}
	}
}

func TestBrowserConflict(t *testing.T) {
	t.Parallel()
	s, base := startServer(t)
	const me, to = "15550009999", "15552223333"
	b := newBrowser(t)
	loginPage(t, s, b, base, me)
	openChatInApp(b, to, "blocked")

	conflictText := `WhatsApp is open in another window. Click "Use Here" to use WhatsApp in this window.`
	s.Conflict(me)
	waitJS[bool](b, `/open in another window/i.test(document.body.innerText)`, 5*time.Second)
	assert.Contains(t, eval[string](b, "document.body.innerText"), conflictText)
	assert.True(t, eval[bool](b, `[...document.querySelectorAll("div[role='dialog'] button")].map(b => b.textContent).join(',') === 'Close,Use here'`))

	// No send is possible behind the dialog.
	eval[bool](b, fmt.Sprintf(`(() => { const e = document.querySelector(%s); e.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', keyCode: 13, bubbles: true, cancelable: true})); return true; })()`, jsString(selCompose)))
	time.Sleep(100 * time.Millisecond)
	assert.Empty(t, s.Received(me, to))

	b.do(chromedp.Click(chromedp.Search("//button[text()='Use here']")))
	waitJS[bool](b, `!/open in another window/i.test(document.body.innerText)`, 5*time.Second)
	b.do(chromedp.Click(chromedp.CSS(selSend)))
	waitJS[bool](b, `!!document.querySelector("#main [data-id^='true_']")`, 5*time.Second)
	assert.Len(t, s.Received(me, to), 1)

	// A second tab of the same profile gets the dialog; "Use here" there
	// moves the dialog to the first tab.
	t2 := b.tab()
	t2.navigate(base + "/")
	waitJS[bool](t2, `/open in another window/i.test(document.body.innerText)`, 5*time.Second)
	t2.do(chromedp.Click(chromedp.Search("//button[text()='Use here']")))
	waitJS[bool](b, `/open in another window/i.test(document.body.innerText)`, 5*time.Second)
	waitJS[bool](t2, `!/open in another window/i.test(document.body.innerText) && !!document.querySelector('#pane-side')`, 5*time.Second)
}

func TestBrowserPhoneOfflineAndStuck(t *testing.T) {
	t.Parallel()
	s, base := startServer(t)
	const me, to = "15550001212", "15553334444"
	b := newBrowser(t)
	loginPage(t, s, b, base, me)
	openChatInApp(b, to, "while offline")

	s.SetPhoneOnline(me, false)
	b.waitFor(selPhoneAlert)
	alert := eval[string](b, fmt.Sprintf("document.querySelector(%s).innerText", jsString(selPhoneAlert)))
	assert.Contains(t, alert, "Phone not connected")
	assert.Contains(t, alert, "Make sure your phone has an active internet connection.")
	b.do(chromedp.Click(chromedp.CSS(selSend)))
	waitJS[bool](b, `!!document.querySelector("#main div.message-out[class] [data-id], #main [data-id] div.message-out")`, 5*time.Second)
	time.Sleep(400 * time.Millisecond)
	assert.True(t, eval[bool](b, `!!document.querySelector("#main div.message-out span[data-icon='msg-time'][aria-label=' Pending ']")`))
	assert.Empty(t, s.Received(me, to), "an offline phone does not pass the message on")

	s.SetPhoneOnline(me, true)
	waitJS[bool](b, fmt.Sprintf("!document.querySelector(%s)", jsString(selPhoneAlert)), 5*time.Second)
	waitJS[bool](b, `!!document.querySelector("#main div.message-out span[data-icon='msg-check'], #main div.message-out span[data-icon='msg-dblcheck']")`, 5*time.Second)
	require.Len(t, s.Received(me, to), 1)

	// Stuck pending: the server gets the message, the row stays Pending.
	s.SetStuckPending(AllAccounts, true)
	eval[bool](b, fmt.Sprintf(`(() => { const e = document.querySelector(%s); e.focus(); return document.execCommand('insertText', false, 'stuck'); })()`, jsString(selCompose)))
	b.do(chromedp.Click(chromedp.CSS(selSend)))
	waitJS[bool](b, `document.querySelectorAll("#main [data-id^='true_']").length === 2`, 5*time.Second)
	time.Sleep(400 * time.Millisecond)
	assert.Equal(t, 1, eval[int](b, `document.querySelectorAll("#main div.message-out span[data-icon='msg-time']").length`))
	require.Len(t, s.Received(me, to), 2)
	s.SetStuckPending(AllAccounts, false)
	waitJS[bool](b, `document.querySelectorAll("#main div.message-out span[data-icon='msg-time']").length === 0`, 5*time.Second)
}

func TestBrowserConcurrentSessions(t *testing.T) {
	t.Parallel()
	s, base := startServer(t)
	b := newBrowser(t)
	const n = 5
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			// Each browser context has its own storage, like a profile.
			ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
			defer cancel()
			// Five logins and sends at once in one Chromium: under a load of
			// 40 on two cores they took more than 30 s, with or without the
			// race detector.
			tctx, tcancel := context.WithTimeout(ctx, 90*time.Second)
			defer tcancel()
			me := fmt.Sprintf("1666000000%d", i)
			to := fmt.Sprintf("1777000000%d", i)
			text := fmt.Sprintf("message %d ✓", i)
			if err := chromedp.Do(tctx, chromedp.Navigate(base+"/send?phone="+to+"&text="+queryEscape(text))); err != nil {
				errs <- err
				return
			}
			ref, err := chromedp.Run(tctx, chromedp.Poll[string](`(() => { const c = document.querySelector('[data-testid=qrcode]'); return c && c.dataset.ref; })()`))
			if err != nil {
				errs <- err
				return
			}
			if err := s.Scan(tctx, ref, me); err != nil {
				errs <- err
				return
			}
			if err := chromedp.Do(tctx, chromedp.WaitVisible(chromedp.CSS(selSend)), chromedp.Click(chromedp.CSS(selSend))); err != nil {
				errs <- err
				return
			}
			if _, err := chromedp.Run(tctx, chromedp.Poll[bool](`!!document.querySelector("#main [data-icon='msg-check'], #main [data-icon='msg-dblcheck']")`)); err != nil {
				errs <- err
				return
			}
			got := s.Received(me, to)
			if len(got) != 1 || got[0].Text != text {
				errs <- fmt.Errorf("session %d: got %+v", i, got)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	assert.Len(t, s.AllReceived(), n)
}
