package chromedpdriver

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/wasend/wasend"
)

// pageFlags is what the "probe" operation reads from the page.
type pageFlags struct {
	URL          string              `json:"url"`
	ErrorPage    bool                `json:"errorPage"`
	NetError     string              `json:"netError"`
	Unsupported  bool                `json:"unsupported"`
	Conflict     bool                `json:"conflict"`
	QRShown      bool                `json:"qrShown"`
	QR           string              `json:"qr"`
	QRExpired    bool                `json:"qrExpired"`
	PairingForm  bool                `json:"pairingForm"`
	PairingCode  string              `json:"pairingCode"`
	LoggedIn     bool                `json:"loggedIn"`
	Loading      bool                `json:"loading"`
	Starting     bool                `json:"starting"`
	Invalid      bool                `json:"invalid"`
	PhoneOffline bool                `json:"phoneOffline"`
	TempBan      string              `json:"tempBan"`
	Banner       string              `json:"banner"`
	Passkey      bool                `json:"passkey"`
	Chat         string              `json:"chat"`
	Bad          map[string][]string `json:"bad"`
}

// state derives the page's state from its flags, the most specific first.
func (p pageFlags) state() State {
	switch {
	case p.TempBan != "":
		return StateRestricted // checked before every other screen, as the app does
	case p.Unsupported:
		return StateUnsupported
	case p.Conflict:
		return StateConflict
	case p.Passkey:
		return StatePasskey
	case p.PairingCode != "" || p.PairingForm:
		return StatePairing
	case p.QRShown:
		return StateQR
	case p.LoggedIn:
		return StateReady
	case p.Loading:
		return StateLoading
	}
	return StateStarting
}

// loggedOutURL reports whether the URL marks a logout.
func (p pageFlags) loggedOutURL() bool {
	return strings.Contains(p.URL, "post_logout") || strings.Contains(p.URL, "logout_reason")
}

type selfTestResult struct {
	Missing []string            `json:"missing"`
	Bad     map[string][]string `json:"bad"`
}

// failedKeys joins the missing keys and the keys with invalid entries.
func (r selfTestResult) failedKeys() []string {
	out := slices.Clone(r.Missing)
	for k := range r.Bad {
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// selectorKeys returns the keys of the set that hold selectors.
func selectorKeys(s SelectorSet) []string {
	var out []string
	for _, k := range s.Keys() {
		if !slices.Contains(tokenKeys, k) {
			out = append(out, k)
		}
	}
	return out
}

// monitor reads the page every poll interval, while no call holds the page,
// and turns what it sees into state changes and events.
func (s *Session) monitor(inc *incarnation) {
	t := time.NewTicker(s.pool.cfg.pollInterval)
	defer t.Stop()
	for {
		if s.tryLock() {
			s.tick(inc)
			s.unlock()
		}
		select {
		case <-inc.dead:
			return
		case <-s.life.Done():
			return
		case <-t.C:
		}
	}
}

// tick reads the page once and acts on it.
func (s *Session) tick(inc *incarnation) {
	if inc.isDead() {
		return
	}
	ctx, cancel := s.opContext(s.life, inc, probeTimeout)
	defer cancel()
	sel := s.selectors()
	p, err := evalOp[probeResult](ctx, sel, "probe", map[string]any{"watch": watchArg{Ver: s.watch.ver}})
	if err != nil {
		if !transient(err) && !inc.isDead() && s.life.Err() == nil {
			s.log.Debug("reading the page", "err", err)
		}
		return
	}
	s.apply(ctx, inc, sel, p.pageFlags)
	if p.Watch != nil && s.State() == StateReady {
		s.watched(inc, sel, p.Watch)
	}
}

// probeResult is what the monitor's "probe" reads: the page's flags and,
// once logged in, the watch (watch.go).
type probeResult struct {
	pageFlags
	Watch *watchRead `json:"watch"`
}

// apply turns one reading of the page into state changes, events and the
// actions the monitor takes by itself (reloading the QR code, taking over).
func (s *Session) apply(ctx context.Context, inc *incarnation, sel *compiledSelectors, p pageFlags) {
	cfg := &s.pool.cfg
	now := time.Now()
	s.phoneOffline.Store(p.PhoneOffline)
	st := p.state()
	if st != StateStarting {
		s.unknownSince = time.Time{}
	}
	if st != StateReady {
		s.failSince = time.Time{}
	}
	switch st {
	case StateUnsupported:
		err := fmt.Errorf("%w: WhatsApp Web refused the browser (User-Agent %q)", wasend.ErrUnsupportedBrowser, s.pool.ua)
		s.setState(StateUnsupported, err)
		s.setStatus(wasend.ContextError, err)

	case StateRestricted:
		err := tempBanError(p.TempBan, now)
		s.setState(StateRestricted, err)
		s.setStatus(wasend.ContextRestricted, err)

	case StatePasskey:
		s.mainGen = 0
		s.setState(StatePasskey, errPasskey)
		s.setStatus(wasend.ContextError, errPasskey)

	case StateConflict:
		if cfg.takeover {
			if now.Sub(s.lastTakeover) > 2*time.Second {
				s.lastTakeover = now
				ok, err := click(ctx, sel, "use_here")
				s.log.Info("WhatsApp Web is open in another window; taking over", "clicked", ok, "err", err)
			}
			return
		}
		err := fmt.Errorf("%w: WhatsApp Web is open in another window", wasend.ErrConflict)
		s.setState(StateConflict, err)
		s.setStatus(wasend.ContextDisconnected, err)

	case StatePairing:
		s.mainGen = 0
		s.setState(StatePairing, nil)
		if code := normalizeCode(p.PairingCode); code != "" && code != s.lastCode {
			s.lastCode = code
			s.log.Info("pairing code shown")
			s.emit(wasend.SessionEvent{Type: wasend.EventPairingCode, Code: code})
		}
		s.noteLoggedOut(p)

	case StateQR:
		s.mainGen = 0
		s.lastCode = ""
		var banned error
		if p.Banner != "" {
			banned = bannedError(p.Banner)
		}
		s.setState(StateQR, banned)
		if p.QR != "" && p.QR != s.lastQR {
			s.log.Info("QR code to scan", "refresh", s.lastQR != "")
			s.lastQR = p.QR
			s.emit(wasend.SessionEvent{Type: wasend.EventQR, QR: p.QR})
		}
		if p.QRExpired {
			if s.qrReloads < cfg.qrReloadLimit {
				s.qrReloads++
				ok, err := click(ctx, sel, "qr_reload")
				s.log.Info("QR code expired; reloading it", "reload", s.qrReloads, "clicked", ok, "err", err)
			} else if !s.qrLimitNoted {
				s.qrLimitNoted = true
				s.log.Warn("QR code expired and the reload limit is reached; waiting for the host", "limit", cfg.qrReloadLimit)
			}
		}
		if banned != nil {
			s.setStatus(wasend.ContextDisconnected, banned)
			return
		}
		s.noteLoggedOut(p)

	case StateReady:
		s.readyTick(ctx, inc, sel, now)

	case StateLoading:
		s.setState(StateLoading, nil)

	case StateStarting:
		if p.ErrorPage || !sameOrigin(p.URL, cfg.url) {
			if p.ErrorPage {
				if perr := s.px.loadError(p.NetError); perr != nil {
					s.setStatus(wasend.ContextError, perr)
				} else {
					err := fmt.Errorf("%w: WhatsApp Web did not load", wasend.ErrDisconnected)
					s.setStatus(wasend.ContextDisconnected, err)
				}
			}
			if now.Sub(s.lastReload) > min(cfg.navTimeout, 5*time.Second) {
				s.lastReload = now
				s.log.Warn("the page is not WhatsApp Web; loading it again", "error_page", p.ErrorPage)
				_ = chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
					_, err := chromedp.Call(ctx, page.Navigate, page.NavigateParams{URL: cfg.url + "/"})
					return err
				}))
			}
			return
		}
		if s.unknownSince.IsZero() {
			s.unknownSince = now
		}
		if now.Sub(s.unknownSince) > cfg.navTimeout && !s.isBroken(sel) {
			s.broken(ctx, sel, "page", []string{"logged_in", "loading", "qr_canvas", "unsupported"})
			return
		}
		if s.isBroken(sel) {
			s.keepBroken(sel)
			return
		}
		s.setState(StateStarting, nil)
	}
}

// sameOrigin reports whether the page's URL is on the origin of base.
func sameOrigin(pageURL, base string) bool {
	p, err1 := url.Parse(pageURL)
	b, err2 := url.Parse(base)
	return err1 == nil && err2 == nil && p.Scheme == b.Scheme && p.Host == b.Host
}

// noteLoggedOut reports a login page that ends a login: after the session
// was ready, for a resumed session, or when the URL says so.
func (s *Session) noteLoggedOut(p pageFlags) {
	if s.everReady || s.resumed || p.loggedOutURL() {
		s.setStatus(wasend.ContextDisconnected, fmt.Errorf("%w: WhatsApp Web shows the login page", wasend.ErrLoggedOut))
	}
}

// readyTick runs the main screen's self-test, once per incarnation, login
// and selector set, and reports the session available when it passes.
func (s *Session) readyTick(ctx context.Context, inc *incarnation, sel *compiledSelectors, now time.Time) {
	if s.isBroken(sel) {
		s.keepBroken(sel)
		return
	}
	if s.mainGen != sel.gen {
		res, err := evalOp[selfTestResult](ctx, sel, "selftest", map[string]any{"keys": mainKeys, "syntax": selectorKeys(sel.set)})
		if err != nil {
			return
		}
		if failed := res.failedKeys(); len(failed) > 0 {
			if s.failSince.IsZero() {
				s.failSince = now
			}
			if now.Sub(s.failSince) < max(selfTestGrace, 4*s.pool.cfg.pollInterval) {
				s.setState(StateLoading, nil)
				return
			}
			s.broken(ctx, sel, "main", failed)
			return
		}
		s.failSince = time.Time{}
		s.mainGen = sel.gen
		s.log.Info("self-test passed", "set", sel.set.ID())
	}
	s.qrReloads, s.qrLimitNoted = 0, false
	s.everReady = true
	inc.ready.Store(true)
	s.setState(StateReady, nil)
	s.setStatus(wasend.ContextAvailable, nil)
}

// broken puts the session in status error because the selector set does
// not match the page. It stays there until the set is replaced.
func (s *Session) broken(ctx context.Context, sel *compiledSelectors, step string, keys []string) error {
	err := &SelectorError{Set: sel.set.ID(), Step: step, Keys: keys}
	s.mu.Lock()
	if s.sel == sel {
		s.brokenGen, s.brokenErr = sel.gen, err
	}
	s.mu.Unlock()
	s.log.Error("the selector set does not match the page", "set", sel.set.ID(), "step", step, "keys", strings.Join(keys, ","))
	s.setState(StateBroken, err)
	s.setStatus(wasend.ContextError, err)
	s.debugDump(ctx, "selftest-"+step)
	return err
}

// isBroken reports whether the set sel failed a self-test.
func (s *Session) isBroken(sel *compiledSelectors) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.brokenGen == sel.gen
}

// keepBroken keeps the session broken while sel, which failed its
// self-test, is still the session's set. A set replaced since the monitor
// read sel (SetSelectors, which makes the state loading) is tested at the
// next reading instead: a stale reading must not undo the replacement, or
// WaitReady returns the old set's error.
func (s *Session) keepBroken(sel *compiledSelectors) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sel != sel || s.brokenGen != sel.gen {
		return
	}
	s.setStateLocked(StateBroken, s.brokenErr)
}

// normalizeCode turns "A,B,C,D,E,F,G,H" or "ABCD-EFGH" into "ABCDEFGH".
func normalizeCode(s string) string {
	var b strings.Builder
	for _, r := range s {
		if (r >= '0' && r <= '9') || (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z') {
			b.WriteRune(r)
		}
	}
	return strings.ToUpper(b.String())
}
