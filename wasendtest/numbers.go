package wasendtest

import (
	"context"
	"fmt"
	"time"

	"github.com/wasend/wasend"
)

var _ wasend.NumberChecker = (*Session)(nil)

// Check scripts one call of CheckNumber. The zero Check answers the truth.
type Check struct {
	// Delay is how long the check takes; it honours ctx unless IgnoreCtx
	// is set.
	Delay     time.Duration
	IgnoreCtx bool
	// Err is the error the check returns instead of an answer.
	Err error
	// Panic makes the check panic with this value.
	Panic any
}

// ScriptCheck appends checks for the next calls of CheckNumber.
func (s *Session) ScriptCheck(checks ...Check) {
	s.mu.Lock()
	s.checkScript = append(s.checkScript, checks...)
	s.mu.Unlock()
}

// CheckNumber implements wasend.NumberChecker. Unless scripted otherwise,
// it answers the truth: not on WhatsApp for the numbers SetNotOnWhatsApp
// (or the pool's WithNotOnWhatsApp) names, and on WhatsApp otherwise, with
// the canonical number the pool's SetCanonical gives.
func (s *Session) CheckNumber(ctx context.Context, phone string) (wasend.NumberInfo, error) {
	if err := ctx.Err(); err != nil {
		return wasend.NumberInfo{}, err
	}
	s.mu.Lock()
	var c Check
	if len(s.checkScript) > 0 {
		c, s.checkScript = s.checkScript[0], s.checkScript[1:]
	}
	s.checks = append(s.checks, phone)
	closed, out, notOnWA := s.closed, s.loggedOut, s.notOnWA[phone]
	s.mu.Unlock()
	switch {
	case closed:
		return wasend.NumberInfo{}, fmt.Errorf("scripted: session closed: %w", wasend.ErrDisconnected)
	case out:
		return wasend.NumberInfo{}, wasend.ErrLoggedOut
	}
	if err := s.wait(ctx, c.Delay, false, c.IgnoreCtx); err != nil {
		return wasend.NumberInfo{}, err
	}
	if c.Panic != nil {
		panic(c.Panic)
	}
	if c.Err != nil {
		return wasend.NumberInfo{}, c.Err
	}
	if notOnWA {
		return wasend.NumberInfo{Phone: phone}, nil
	}
	info := wasend.NumberInfo{Phone: phone, OnWhatsApp: true}
	if canon := s.chats.all.canon(phone); canon != phone {
		info.Canonical = canon
	}
	return info, nil
}

// Checks returns the numbers CheckNumber was asked, in order.
func (s *Session) Checks() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.checks...)
}
