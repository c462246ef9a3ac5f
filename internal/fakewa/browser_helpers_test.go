package fakewa

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// desktopUA is the User-Agent a driver sets to pass the headless check.
const desktopUA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"

// fastOptions make the page quick enough for browser tests.
func fastOptions(extra ...Option) []Option {
	return append([]Option{
		WithBootDelay(50 * time.Millisecond),
		WithLoadingDelay(50 * time.Millisecond),
		WithStartingChatDelay(50 * time.Millisecond),
		WithTickDelays(20*time.Millisecond, 150*time.Millisecond, 150*time.Millisecond, 0),
	}, extra...)
}

// chromiumPath finds Chromium. Without it, browser tests skip, except under
// CI=true, where they fail.
func chromiumPath(t *testing.T) string {
	t.Helper()
	candidates := []string{os.Getenv("FAKEWA_CHROME"), "/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("Chromium not found (set FAKEWA_CHROME); browser tests must run under CI=true")
	}
	t.Skip("Chromium not found; set FAKEWA_CHROME to run the browser tests")
	return ""
}

// browser is one Chromium process with its own profile.
type browser struct {
	t       *testing.T
	allocCx context.Context
	ctx     context.Context
	cancel  func()
	dir     string
	ua      string
}

type browserOpt func(*browser)

func withProfile(dir string) browserOpt { return func(b *browser) { b.dir = dir } }
func withUA(ua string) browserOpt       { return func(b *browser) { b.ua = ua } }

// newBrowser starts Chromium and returns it with a context for its first
// tab. The browser closes gracefully at the end of the test, or earlier
// with close.
func newBrowser(t *testing.T, opts ...browserOpt) *browser {
	t.Helper()
	b := &browser{t: t, ua: desktopUA}
	for _, o := range opts {
		o(b)
	}
	if b.dir == "" {
		b.dir = t.TempDir()
	}
	allocOpts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(b.dir),
		chromedp.WindowSize(1280, 800),
	)
	if b.ua != "" {
		allocOpts = append(allocOpts, chromedp.UserAgent(b.ua))
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), allocOpts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	require.NoError(t, chromedp.Do(ctx), "start Chromium")
	b.allocCx, b.ctx = allocCtx, ctx
	b.cancel = func() {
		cctx, ccancel := context.WithTimeout(ctx, 10*time.Second)
		defer ccancel()
		_ = chromedp.Cancel(cctx)
		cancel()
		cancelAlloc()
	}
	t.Cleanup(b.close)
	return b
}

// close shuts the browser down gracefully, so that it flushes its profile.
func (b *browser) close() {
	if b.cancel != nil {
		b.cancel()
		b.cancel = nil
	}
}

// tab opens another tab in the same browser.
func (b *browser) tab() *browser {
	ctx, cancel := chromedp.NewContext(b.ctx)
	require.NoError(b.t, chromedp.Do(ctx))
	tb := &browser{t: b.t, ctx: ctx, cancel: cancel, dir: b.dir}
	b.t.Cleanup(tb.close)
	return tb
}

// do runs actions with a timeout.
func (b *browser) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	require.NoError(b.t, chromedp.Do(ctx, actions...))
}

func (b *browser) navigate(url string) { b.t.Helper(); b.do(chromedp.Navigate(url)) }

// eval evaluates a JavaScript expression and decodes its result into T.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	require.NoError(b.t, err, "eval %s", expr)
	return v
}

// waitJS waits until expr is truthy and returns its value.
func waitJS[T any](b *browser, expr string, d time.Duration) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, d+5*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Poll[T](expr,
		chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(d)))
	require.NoError(b.t, err, "waiting for %s; page: %s", expr, b.describe())
	return v
}

// waitFor waits until a CSS selector matches.
func (b *browser) waitFor(sel string) {
	b.t.Helper()
	waitJS[bool](b, fmt.Sprintf("!!document.querySelector(%s)", jsString(sel)), 10*time.Second)
}

// describe returns a short text of the page for failure messages.
func (b *browser) describe() string {
	ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + " | " + document.body.innerText.slice(0, 400)`))
	if err != nil {
		return "(page unavailable: " + err.Error() + ")"
	}
	return s
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// qrRef waits for the QR code and returns its payload as a driver reads it.
func (b *browser) qrRef() string {
	b.t.Helper()
	return waitJS[string](b, `(() => { const c = document.querySelector("canvas[aria-label='Scan this QR code to link a device!']"); return c && c.closest('[data-ref]') && c.closest('[data-ref]').dataset.ref; })()`, 10*time.Second)
}

// enter sends the Enter key the way the chromedp docs recommend for Lexical:
// a rawKeyDown and a keyUp, no char event. shift adds the Shift modifier.
func enter(shift bool) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		var mods int64
		if shift {
			mods = 8
		}
		for _, typ := range []input.DispatchKeyEventType{input.DispatchKeyEventTypeRawKeyDown, input.DispatchKeyEventTypeKeyUp} {
			_, err := cdp.Call(ctx, t, input.DispatchKeyEvent, input.DispatchKeyEventParams{
				Type: typ, Key: "Enter", Code: "Enter", Modifiers: mods,
				WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13,
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// insertText sends CDP Input.insertText, as an IME commit.
func insertText(s string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, input.InsertText, input.InsertTextParams{Text: s})
		return err
	})
}

// loginPage opens the page, scans its QR code for phone and waits for MAIN.
func loginPage(t *testing.T, s *Server, b *browser, base, phone string) {
	t.Helper()
	b.navigate(base + "/")
	ref := b.qrRef()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	links := s.Links(phone)
	require.NoError(t, s.Scan(ctx, ref, phone))
	require.Equal(t, links+1, s.Links(phone), "a scan links one more device")
	b.waitFor("#pane-side")
}

// watch records, from the start of every document the tab loads, whether
// each JavaScript predicate was ever true; seen reads the record. It lets a
// test check short-lived states without racing their timers.
func (b *browser) watch(preds map[string]string) {
	b.t.Helper()
	var src strings.Builder
	src.WriteString("window.__seen = window.__seen || {}; const __check = () => {")
	for name, pred := range preds {
		fmt.Fprintf(&src, "try { if (%s) window.__seen[%s] = true; } catch (e) {}\n", pred, jsString(name))
	}
	src.WriteString("}; new MutationObserver(__check).observe(document, {subtree: true, childList: true, attributes: true, characterData: true});")
	b.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: src.String()})
		return err
	}))
}

// seen reports whether the watched predicate name was true at some point.
func (b *browser) seen(name string) bool {
	b.t.Helper()
	return eval[bool](b, fmt.Sprintf("!!(window.__seen && window.__seen[%s])", jsString(name)))
}
