package chromedpdriver

// This file holds what every call on a session's page goes through, a send
// (send.go) or a pairing (pairing.go): the phone number's digits, the
// call's deadline, waiting for a page in the right state and taking its
// lock, and turning page errors into the driver's errors.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wasend/wasend"
)

// phoneDigits returns the digits of an international phone number.
func phoneDigits(to string) (string, error) {
	n, err := wasend.NormalizePhone(to)
	if err != nil {
		return "", fmt.Errorf("%w: %s", wasend.ErrInvalidPhone, wasend.MaskPhone(to))
	}
	return n[1:], nil
}

// bound gives ctx the action timeout when it has no deadline.
func (s *Session) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, s.pool.cfg.actionTimeout)
}

// acquire waits until the session is in a state that allows the call, and
// takes the page lock. login asks for the login page instead of a ready
// session.
func (s *Session) acquire(ctx context.Context, login bool) (*incarnation, error) {
	for {
		s.mu.Lock()
		st, stErr, ch, inc, closed := s.state, s.stateErr, s.changed, s.inc, s.closed
		s.mu.Unlock()
		if closed || st == StateClosed {
			return nil, fmt.Errorf("%w: session closed", wasend.ErrDisconnected)
		}
		wait := false
		switch st {
		case StateReady:
			if login {
				return nil, ErrLoggedIn
			}
		case StateQR, StatePairing:
			if !login {
				if stErr != nil {
					return nil, stErr // banned
				}
				return nil, fmt.Errorf("%w: the session shows the login page", wasend.ErrLoggedOut)
			}
		case StateRestricted, StatePasskey:
			return nil, stErr
		case StateConflict:
			if !s.pool.cfg.takeover {
				return nil, stErr
			}
			wait = true
		case StateUnsupported, StateBroken:
			return nil, stErr
		case StateDisconnected:
			return nil, stErr
		default:
			wait = true
		}
		if wait {
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				if errors.Is(ctx.Err(), context.DeadlineExceeded) {
					return nil, fmt.Errorf("%w: session not ready (%s)", wasend.ErrTimeout, st)
				}
				return nil, fmt.Errorf("chromedpdriver: session not ready (%s): %w", st, ctx.Err())
			}
		}
		s.pending.Add(1)
		err := s.lock(ctx)
		s.pending.Add(-1)
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				return nil, fmt.Errorf("%w: waiting for the page", wasend.ErrTimeout)
			}
			return nil, err
		}
		s.mu.Lock()
		same := s.state == st && s.inc == inc
		s.mu.Unlock()
		if same && inc != nil {
			return inc, nil
		}
		s.unlock()
	}
}

// fail turns the error of a page operation into the driver's error.
func (s *Session) fail(ctx context.Context, inc *incarnation, step string, err error) error {
	switch {
	case err == nil:
		return nil
	case s.isClosed():
		return fmt.Errorf("%w: session closed during %s", wasend.ErrDisconnected, step)
	case inc.isDead() || lostConnection(err):
		cause := err
		if lostConnection(err) {
			inc.die(err)
		}
		if c := inc.why(); c != nil {
			cause = c
		}
		return fmt.Errorf("%w: %s: %v", wasend.ErrDisconnected, step, cause)
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) ||
		errors.Is(context.Cause(ctx), context.DeadlineExceeded):
		return fmt.Errorf("%w: %s", wasend.ErrTimeout, step)
	case ctx.Err() != nil:
		return fmt.Errorf("chromedpdriver: %s: %w", step, ctx.Err())
	}
	return fmt.Errorf("chromedpdriver: %s: %w", step, err)
}

// blocker returns the error of a page that cannot send: refused browser,
// conflict, login page.
func (s *Session) blocker(ctx context.Context, sel *compiledSelectors, f pageFlags) error {
	switch {
	case f.TempBan != "":
		return tempBanError(f.TempBan, time.Now())
	case f.Unsupported:
		return fmt.Errorf("%w: WhatsApp Web refused the browser", wasend.ErrUnsupportedBrowser)
	case f.Conflict:
		if s.pool.cfg.takeover {
			if time.Since(s.lastTakeover) > 2*time.Second {
				s.lastTakeover = time.Now()
				ok, err := click(ctx, sel, "use_here")
				s.log.Info("WhatsApp Web is open in another window; taking over", "clicked", ok, "err", err)
			}
			return nil
		}
		return fmt.Errorf("%w: WhatsApp Web is open in another window", wasend.ErrConflict)
	case f.Passkey:
		return errPasskey
	case f.Banner != "":
		return bannedError(f.Banner)
	case f.QRShown || f.PairingForm || f.PairingCode != "":
		return fmt.Errorf("%w: WhatsApp Web shows the login page", wasend.ErrLoggedOut)
	}
	return nil
}

// sleepCtx waits d, or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
