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
}

// evalOp runs an operation of pageJS in the tab of ctx and decodes its
// result into T. The page keeps the page code, compiled, and the selector
// set under a Symbol on window: an evaluation sends only the operation and
// its argument, and the code and the set when the page does not have them
// yet (after a load, or for a new set), in a second evaluation.
func evalOp[T any](ctx context.Context, sel *compiledSelectors, op string, arg any) (T, error) {
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
	call := `(function (w) {
  if (!w || w.v !== "` + pageJSVersion + `" || !w.s[` + gen + `]) return { k: 0 };
  return { k: 1, r: w.f(` + string(o) + `, w.s[` + gen + `], ` + string(a) + `) };
})(window[Symbol.for('wasend.code')])`
	countEval(ctx)
	res, err := chromedp.Run(ctx, chromedp.Evaluate[opResult](call))
	if err == nil && res.K == 0 {
		install := `(function () {
  var K = Symbol.for('wasend.code'), w = window[K];
  if (!w || w.v !== "` + pageJSVersion + `") {
    w = { v: "` + pageJSVersion + `", s: {}, f: ` + pageJS + ` };
    Object.defineProperty(window, K, { value: w, configurable: true });
  }
  w.s = {};
  w.s[` + gen + `] = ` + sel.json + `;
  return { k: 1, r: w.f(` + string(o) + `, w.s[` + gen + `], ` + string(a) + `) };
})()`
		countEval(ctx)
		res, err = chromedp.Run(ctx, chromedp.Evaluate[opResult](install))
	}
	if err != nil {
		return zero, err
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
