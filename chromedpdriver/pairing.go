package chromedpdriver

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wasend/wasend"
)

// RequestPairingCode starts a login by phone number instead of a QR code:
// it clicks "Link with phone number", types phone (international form),
// clicks "Next" and returns the code that the page shows (eight
// characters, without separators). The code also reaches the host as a
// wasend.EventPairingCode. The user types it on the phone; the session then
// reports ContextAvailable as usual. It fails with ErrLoggedIn when the
// session is logged in.
func (s *Session) RequestPairingCode(ctx context.Context, phone string) (string, error) {
	digits, err := phoneDigits(phone)
	if err != nil {
		return "", err
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	inc, err := s.acquire(ctx, true)
	if err != nil {
		return "", err
	}
	defer s.unlock()
	sel := s.selectors()
	octx, cancel2 := s.opContext(ctx, inc, s.pool.cfg.actionTimeout)
	defer cancel2()
	const step = "pairing"
	code, err := s.pair(octx, inc, sel, digits)
	if err != nil {
		if errors.Is(err, wasend.ErrTimeout) {
			s.debugDump(ctx, step)
		}
		return "", err
	}
	s.lastCode = code
	s.setState(StatePairing, nil)
	s.log.Info("pairing code requested", "phone", wasend.MaskPhone(phone))
	s.emit(wasend.SessionEvent{Type: wasend.EventPairingCode, Code: code})
	return code, nil
}

func (s *Session) pair(ctx context.Context, inc *incarnation, sel *compiledSelectors, digits string) (string, error) {
	const step = "pairing"
	wait := func(what string, cond func(pageFlags) bool) (pageFlags, error) {
		for {
			f, err := evalOp[pageFlags](ctx, sel, "probe", nil)
			if err != nil && !transient(err) {
				return f, s.fail(ctx, inc, step+" "+what, err)
			}
			if err == nil && cond(f) {
				return f, nil
			}
			if !sleepCtx(ctx, pollStep) {
				return f, s.fail(ctx, inc, step+" "+what, ctx.Err())
			}
		}
	}
	f, err := wait("login page", func(f pageFlags) bool { return f.QRShown || f.PairingForm || f.PairingCode != "" || f.LoggedIn })
	if err != nil {
		return "", err
	}
	if f.LoggedIn && !f.QRShown {
		return "", ErrLoggedIn
	}
	if !f.PairingForm {
		ok, err := click(ctx, sel, "link_phone")
		if err != nil {
			return "", s.fail(ctx, inc, step, err)
		}
		if !ok {
			return "", &SelectorError{Set: sel.set.ID(), Step: step, Keys: []string{"link_phone"}}
		}
		if _, err := wait("phone input", func(f pageFlags) bool { return f.PairingForm }); err != nil {
			return "", err
		}
	}
	if _, err := evalOp[bool](ctx, sel, "selectall", map[string]string{"key": "phone_input"}); err != nil {
		return "", s.fail(ctx, inc, step, err)
	}
	// Typed with the page's editing command over the selected text, as
	// every text the driver types: the browser's input would give the
	// page the focus for good, and with it WhatsApp Web marks chats read.
	if err := typeText(ctx, sel, "phone_input", "+"+digits); err != nil {
		return "", s.fail(ctx, inc, step, err)
	}
	ok, err := click(ctx, sel, "phone_next")
	if err != nil {
		return "", s.fail(ctx, inc, step, err)
	}
	if !ok {
		return "", &SelectorError{Set: sel.set.ID(), Step: step, Keys: []string{"phone_next"}}
	}
	end := time.Now().Add(s.pool.cfg.navTimeout)
	f, err = wait("code", func(f pageFlags) bool { return f.PairingCode != "" || time.Now().After(end) })
	if err != nil {
		return "", err
	}
	code := normalizeCode(f.PairingCode)
	if code == "" {
		return "", fmt.Errorf("%w: no pairing code shown", wasend.ErrTimeout)
	}
	return code, nil
}
