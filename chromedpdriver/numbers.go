package chromedpdriver

// This file answers "is this number on WhatsApp?" (wasend.NumberChecker)
// as WhatsApp Web's own links do, sending nothing.

import (
	"context"
	"errors"
	"time"

	"github.com/wasend/wasend"
)

// CheckNumber reports whether phone (E.164) is on WhatsApp
// (wasend.NumberChecker). It opens the number's chat as a link to
// /send?phone= does when clicked inside the app (whatsapp-web.md §10.7;
// the chat link is loaded instead when the app does not react), waits
// through "Starting chat", and reads what the page shows:
//
//   - the chat with its compose box: on WhatsApp. WhatsApp opens some
//     numbers under another one (Brazil's ninth digit, Mexico's "1",
//     Argentina's "9"); when the chat's header shows a number other than
//     phone, it is Canonical (a saved contact's name tells none, and
//     Canonical stays empty);
//   - a restriction's compose bar in place of the compose box (a timelock
//     or the cap on new chats): on WhatsApp, as the chat exists;
//   - the "isn't on WhatsApp" or "Phone number shared via url is invalid"
//     dialog: not on WhatsApp; the dialog is dismissed with OK.
//
// Anything else is an error, never a negative answer: a page that shows
// none of these within the navigation timeout gives wasend.ErrTimeout, a
// page that does not match the selectors wasend.ErrSelectors, a session
// that cannot use its page the same errors as SendText (wasend.ErrLoggedOut,
// a *wasend.RestrictionError for a temporary ban, ...). An invalid number
// gives wasend.ErrInvalidPhone before anything is done. CheckNumber types
// nothing and sends nothing; it leaves the chat open. ContextID and Cached
// are the Client's to fill.
func (s *Session) CheckNumber(ctx context.Context, phone string) (wasend.NumberInfo, error) {
	digits, err := phoneDigits(phone)
	if err != nil {
		return wasend.NumberInfo{}, err
	}
	n := "+" + digits
	ctx, cancel := s.bound(ctx)
	defer cancel()
	start := time.Now()
	inc, err := s.acquire(ctx, false)
	if err != nil {
		s.noteFailure(err)
		return wasend.NumberInfo{}, err
	}
	defer s.unlock()
	info := wasend.NumberInfo{Phone: n}
	c, err := s.openChatWith(ctx, inc, s.selectors(), digits, openOpts{link: true, anyNumber: true})
	var bar *newChatBar
	switch {
	case errors.Is(err, wasend.ErrNotOnWhatsApp):
		info.CheckedAt = time.Now()
		s.log.Info("number checked", "phone", wasend.MaskPhone(n), "on_whatsapp", false, "ms", time.Since(start).Milliseconds())
		return info, nil
	case err != nil && !errors.As(err, &bar):
		s.noteFailure(err)
		if errors.Is(err, wasend.ErrTimeout) {
			s.debugDump(ctx, "check-number")
		}
		s.log.Warn("number check failed", "phone", wasend.MaskPhone(n), "ms", time.Since(start).Milliseconds(), "err", err)
		return wasend.NumberInfo{}, err
	}
	info.OnWhatsApp = true
	info.CheckedAt = time.Now()
	if d := onlyDigits(c.Chat); len(d) >= 6 && d != digits {
		if cn, err := wasend.NormalizePhone("+" + d); err == nil {
			info.Canonical = cn
		}
	}
	s.log.Info("number checked", "phone", wasend.MaskPhone(n), "on_whatsapp", true, "canonical", wasend.MaskPhone(info.Canonical),
		"restricted", bar != nil, "ms", time.Since(start).Milliseconds())
	return info, nil
}
