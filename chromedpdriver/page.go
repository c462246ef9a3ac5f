package chromedpdriver

// This file holds the page primitives: running an operation of the page
// code, clicking, typing and pressing keys through the DevTools protocol,
// and telling a lost browser from a navigation that cut an evaluation
// short. They take a chromedp context and know nothing of sessions.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/chromedp/chromedp"
)

// pageJSVersion names this build's pageJS in the page.
var pageJSVersion = func() string {
	h := sha256.Sum256([]byte(pageJS))
	return hex.EncodeToString(h[:8])
}()

// opResult is what an evaluation of an operation returns: K is 0 when the
// page has not got the page code (or the selector set) yet, else R is the
// operation's result.
type opResult struct {
	K int             `json:"k"`
	R json.RawMessage `json:"r"`
	E string          `json:"e"` // the exception of an operation run after a wait
}

// evalOp runs an operation of pageJS in the tab of ctx and decodes its
// result into T. The page keeps the page code, compiled, and the selector
// set under a Symbol on window: an evaluation sends only the operation and
// its argument, and the code and the set when the page does not have them
// yet (after a load, or for a new set), in a second evaluation.
func evalOp[T any](ctx context.Context, sel *compiledSelectors, op string, arg any) (T, error) {
	return evalOpWait[T](ctx, sel, op, arg, 0)
}

// evalOpWait is evalOp run once the page has changed: at the first change
// of the document (a node, an attribute or a text) after the call, but not
// before minWait, or after wait when nothing changes. A loop that waits
// for something to show (the tick of a sent message) learns of it when it
// happens instead of at its next poll, in fewer evaluations. A zero wait
// runs the operation at once.
func evalOpWait[T any](ctx context.Context, sel *compiledSelectors, op string, arg any, wait time.Duration) (T, error) {
	var zero T
	if arg == nil {
		arg = struct{}{}
	}
	a, err := json.Marshal(arg)
	if err != nil {
		return zero, err
	}
	o, _ := json.Marshal(op)
	gen := strconv.FormatUint(sel.gen, 10)
	run := "w.f(" + string(o) + ", w.s[" + gen + "], " + string(a) + ")"
	var opts []chromedp.EvaluateOption
	body := "return { k: 1, r: " + run + " };"
	if wait > 0 {
		opts = append(opts, chromedp.EvalAwaitPromise)
		body = `return new Promise(function (ok) {
    var done = false, t0 = Date.now(), mo, t;
    function fin() {
      if (done) return;
      var early = ` + strconv.FormatInt(minWait.Milliseconds(), 10) + ` - (Date.now() - t0);
      if (early > 0) { clearTimeout(t); t = setTimeout(fin, early); return; }
      done = true; mo.disconnect(); clearTimeout(t);
      try { ok({ k: 1, r: ` + run + ` }); } catch (e) { ok({ k: 1, e: String(e && e.message || e) }); }
    }
    mo = new MutationObserver(fin);
    mo.observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
    t = setTimeout(fin, ` + strconv.FormatInt(wait.Milliseconds(), 10) + `);
  });`
	}
	call := `(function (w) {
  if (!w || w.v !== "` + pageJSVersion + `" || !w.s[` + gen + `]) return { k: 0 };
  ` + body + `
})(window[Symbol.for('wasend.code')])`
	countEval(ctx)
	res, err := chromedp.Run(ctx, chromedp.Evaluate[opResult](call, opts...))
	if err == nil && res.K == 0 {
		// The page lacks the code: install it and run the operation at
		// once (a page that was just loaded has changed anyway).
		install := `(function () {
  var K = Symbol.for('wasend.code'), w = window[K];
  if (!w || w.v !== "` + pageJSVersion + `") {
    w = { v: "` + pageJSVersion + `", s: {}, f: ` + pageJS + ` };
    Object.defineProperty(window, K, { value: w, configurable: true });
  }
  w.s = {};
  w.s[` + gen + `] = ` + sel.json + `;
  return { k: 1, r: ` + run + ` };
})()`
		countEval(ctx)
		res, err = chromedp.Run(ctx, chromedp.Evaluate[opResult](install))
	}
	if err != nil {
		return zero, err
	}
	if res.E != "" {
		return zero, fmt.Errorf("chromedpdriver: the page's %s operation threw: %s", op, res.E)
	}
	if len(res.R) == 0 {
		return zero, nil // undefined
	}
	var v T
	if err := json.Unmarshal(res.R, &v); err != nil {
		return zero, fmt.Errorf("chromedpdriver: decoding the result of %s: %w", op, err)
	}
	return v, nil
}

// minWait is the least time evalOpWait waits: a page that changes at every
// frame does not make a loop of evaluations.
const minWait = 5 * time.Millisecond

// evalsKey is the key of the counter of page evaluations that a session
// puts in its tab's context.
type evalsKey struct{}

// withEvalCounter returns ctx with n as its counter of evaluations.
func withEvalCounter(ctx context.Context, n *atomic.Int64) context.Context {
	return context.WithValue(ctx, evalsKey{}, n)
}

// countEval counts one evaluation in the counter of ctx, if it has one.
func countEval(ctx context.Context) {
	if n, ok := ctx.Value(evalsKey{}).(*atomic.Int64); ok {
		n.Add(1)
	}
}

// lostConnection reports whether err says that the browser or the tab is
// gone.
func lostConnection(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, chromedp.ErrTargetDetached) || errors.Is(err, chromedp.ErrChannelClosed) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "lost the connection") || strings.Contains(msg, "Target closed") ||
		strings.Contains(msg, "target crashed") || strings.Contains(msg, "No target with given id")
}

// transient reports whether err is an evaluation that a navigation cut
// short; the next read works.
func transient(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, "Execution context was destroyed") ||
		strings.Contains(msg, "Cannot find default execution context") ||
		strings.Contains(msg, "Cannot find context with specified id") ||
		strings.Contains(msg, "Inspected target navigated or closed")
}

// click clicks the first element of a selector key, and reports whether
// there was one. The click is made of the page's own events (pointer and
// mouse down and up, then click), not of input from the browser: the
// browser's input gives the page the focus, and while it has it WhatsApp
// Web marks the open chat read (whatsapp-web.md §10.6).
func click(ctx context.Context, sel *compiledSelectors, key string) (bool, error) {
	return evalOp[bool](ctx, sel, "jsclick", map[string]string{"key": key})
}
