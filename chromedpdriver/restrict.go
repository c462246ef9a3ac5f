package chromedpdriver

// This file reads the restrictions that WhatsApp Web shows
// (whatsapp-web.md §10) and turns them into the root's typed errors: the
// temporary-ban screen, the 403 banner of a ban, the passkey gate, the
// compose bars of the reach-out timelock and of the new-chat cap, and the
// fail icon of a message that the server rejected.

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/wasend/wasend"
)

// errPasskey is the error of the passkey overlay.
var errPasskey = fmt.Errorf("%w: WhatsApp Web asks for a passkey to link this device", wasend.ErrPasskeyRequired)

// tempBanCodes maps the reason lines of WAWebTempBanScreen to their codes.
var tempBanCodes = []struct {
	phrase string
	code   int
}{
	{"sent too many messages to people who don", 101},
	{"too many people blocked you", 102},
	{"created too many groups", 103},
	{"sent the same message to too many people", 104},
	{"too many messages to a broadcast list", 106},
}

// againRe finds the time left on the temporary-ban screen.
var againRe = regexp.MustCompile(`(?i)You['’]ll be able to use WhatsApp again in\s+(.+?)\.?\s*$`)

// tempBanError reads the text of the temporary-ban screen: the reason's
// code, and its end from the humanized time left ("2 hours", "a day").
func tempBanError(text string, now time.Time) *wasend.RestrictionError {
	e := &wasend.RestrictionError{Kind: wasend.RestrictionTemporary}
	reason := text
	if m := againRe.FindStringSubmatchIndex(text); m != nil {
		reason = text[:m[0]]
		if d, ok := parseHumanDuration(text[m[2]:m[3]]); ok {
			e.Until = now.Add(d)
		}
	}
	for _, c := range tempBanCodes {
		if strings.Contains(reason, c.phrase) {
			e.Code = c.code
			break
		}
	}
	e.Reason = maskReason(strings.TrimSpace(reason))
	return e
}

var humanRe = regexp.MustCompile(`(?i)^(a|an|a few|\d+)\s+(second|minute|hour|day|week|month|year)s?$`)

// parseHumanDuration reads a duration as moment's humanize writes it:
// "a few seconds", "a minute", "5 minutes", "an hour", "2 hours", "a day",
// "3 days", "a month", "a year".
func parseHumanDuration(s string) (time.Duration, bool) {
	m := humanRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, false
	}
	n := 1
	switch strings.ToLower(m[1]) {
	case "a", "an":
	case "a few":
		n = 30 // "a few seconds": below 45 seconds
	default:
		n, _ = strconv.Atoi(m[1])
	}
	unit := map[string]time.Duration{
		"second": time.Second, "minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour,
		"week": 7 * 24 * time.Hour, "month": 30 * 24 * time.Hour, "year": 365 * 24 * time.Hour,
	}[strings.ToLower(m[2])]
	return time.Duration(n) * unit, true
}

// phoneRe finds what may be a phone number in a text of the page.
var phoneRe = regexp.MustCompile(`\+?\d[\d \-().]{4,}\d`)

// maskReason masks the phone numbers of a text of the page, so that it may
// be logged and stored.
func maskReason(s string) string {
	return phoneRe.ReplaceAllStringFunc(s, wasend.MaskPhone)
}

// bannedError is the error of a login page with the 403 banner.
func bannedError(banner string) *wasend.RestrictionError {
	return &wasend.RestrictionError{Kind: wasend.RestrictionBanned, Reason: maskReason(strings.TrimSpace(banner))}
}

// rejectedError is the error of a row with the fail icon: the message is
// known not to have been delivered. The capped icon tells the new-chat cap.
func rejectedError(failed string) error {
	if failed == "capped" {
		return &wasend.RestrictionError{Kind: wasend.RestrictionNewChats,
			Reason: "the monthly limit of new chat messages is reached", Err: wasend.ErrMessageRejected}
	}
	return fmt.Errorf("%w: the message's row shows the fail icon", wasend.ErrMessageRejected)
}

// newChatBar is what openChat returns for a chat whose composer is
// replaced by a restriction's compose bar.
type newChatBar struct {
	kind string // "timelock" or "capped"
	text string
}

func (b *newChatBar) Error() string {
	return fmt.Sprintf("chromedpdriver: the chat cannot be started (%s)", b.kind)
}

// Is makes a newChatBar a wasend.ErrNewChatsLocked, should one escape.
func (b *newChatBar) Is(target error) bool { return target == wasend.ErrNewChatsLocked }

// restrictionModalWait bounds the read of a restriction's modal.
const restrictionModalWait = time.Second

var (
	clockRe   = regexp.MustCompile(`^(\d{1,2}):(\d{2}):(\d{2})$`)
	capDateRe = regexp.MustCompile(`until (.+?)\.\s*(Track|$)`)
)

// parseCountdown reads the timelock modal's countdown: "HH:MM:SS" or "N
// days".
func parseCountdown(s string, now time.Time) time.Time {
	s = strings.TrimSpace(s)
	if m := clockRe.FindStringSubmatch(s); m != nil {
		h, _ := strconv.Atoi(m[1])
		mi, _ := strconv.Atoi(m[2])
		se, _ := strconv.Atoi(m[3])
		return now.Add(time.Duration(h)*time.Hour + time.Duration(mi)*time.Minute + time.Duration(se)*time.Second)
	}
	if d, ok := parseHumanDuration(s); ok {
		return now.Add(d)
	}
	return time.Time{}
}

// parseCapUntil reads "You can't start any more new chats until {date}."
// of the cap's modal, in the page's English date forms.
func parseCapUntil(text string, loc *time.Location) time.Time {
	m := capDateRe.FindStringSubmatch(text)
	if m == nil {
		return time.Time{}
	}
	for _, layout := range []string{"January 2, 2006", "2 January 2006", "Jan 2, 2006", "2 Jan 2006", "1/2/2006", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, strings.TrimSpace(m[1]), loc); err == nil {
			return t
		}
	}
	return time.Time{}
}

// newChatsError reads the end of a new-chat restriction from its modal
// ("Show details" or "See details", read, closed), when it can cheaply,
// and returns the restriction. Nothing is sent.
func (s *Session) newChatsError(ctx context.Context, sel *compiledSelectors, bar *newChatBar) error {
	e := &wasend.RestrictionError{Kind: wasend.RestrictionNewChats, Reason: maskReason(strings.TrimSpace(bar.text))}
	key := "restriction_countdown"
	if bar.kind == "capped" {
		key = "restriction_modal"
	}
	if ok, err := click(ctx, sel, "restriction_details"); ok && err == nil {
		end := time.Now().Add(restrictionModalWait)
		for time.Now().Before(end) && e.Until.IsZero() {
			v, err := evalOp[*string](ctx, sel, "value", map[string]string{"key": key})
			if err == nil && v != nil {
				if bar.kind == "capped" {
					e.Until = parseCapUntil(*v, time.Local)
				} else {
					e.Until = parseCountdown(*v, time.Now())
				}
			}
			if e.Until.IsZero() && !sleepCtx(ctx, pollStep) {
				break
			}
		}
		if ok, err := click(ctx, sel, "restriction_close"); !ok || err != nil {
			s.log.Debug("could not close the restriction's modal", "err", err)
		}
	}
	s.log.Warn("WhatsApp does not let the account start this chat", "restriction", bar.kind, "until", e.Until)
	return e
}
