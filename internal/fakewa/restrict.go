package fakewa

import (
	"fmt"
	"math"
	"time"
)

// This file holds the account restrictions of whatsapp-web.md §10: the
// temporary ban (failure 402), the reach-out timelock, the monthly cap on
// new chats, messages the server rejects after the page sent them, the
// ban that logs out with the 403 banner, and the passkey gate of linking.

// tempBan is a temporary ban of an account.
type tempBan struct {
	code  int
	until time.Time
}

// timelock is a reach-out timelock of an account.
type timelock struct {
	until       time.Time
	enforcement string
}

// capping is the capped state of the monthly quota of new chats.
type capping struct {
	used, total int
	until       time.Time
}

// rejectKind says why the server rejects a message: "" for none.
type rejectKind string

const (
	rejectNone    rejectKind = ""
	rejectGeneric rejectKind = "generic" // "Something went wrong. Click to learn more."
	rejectCapped  rejectKind = "capped"  // the monthly limit of new chat messages
)

// The enforcement types of a timelock (whatsapp-web.md §10.2b).
const (
	EnforcementDefault               = "DEFAULT"
	EnforcementWebCompanionOnly      = "WEB_COMPANION_ONLY"
	EnforcementRestrictAllCompanions = "RESTRICT_ALL_COMPANIONS"
)

// The texts of the restriction screens (whatsapp-web.md §10.1, §10.2, §10.3).
const (
	// LoggedOutBannerText is the default text of the 403 banner on the
	// landing page.
	LoggedOutBannerText = "You have been logged out. To log back in, you will need to verify your phone number."
	// FailIconLabel is the aria-label of the fail icon of a rejected message.
	FailIconLabel = "Something went wrong. Click to learn more."
	// CappedFailIconLabel is the fail icon's aria-label of a message
	// rejected because of the monthly cap (the apostrophes are U+2019).
	CappedFailIconLabel = "Your message couldn\u2019t send because you\u2019ve reached your monthly limit of new chat messages. Click to learn more."
)

// tempBanReason returns the first line of the temporary-ban screen for a
// reason code (WAWebTempBanScreen).
func tempBanReason(code int, phone string) string {
	const p = "You're temporarily banned from WhatsApp because "
	switch code {
	case 101:
		return p + "you sent too many messages to people who don't have " + phone + " in their address books."
	case 102:
		return p + "too many people blocked you."
	case 103:
		return p + "you created too many groups with people who don't have " + phone + " in their address books."
	case 104:
		return p + "you sent the same message to too many people."
	case 106:
		return p + "you sent too many messages to a broadcast list."
	}
	return p + "you may have violated our terms of service."
}

// humanize writes d as moment.duration(d).humanize() does: "a few
// seconds", "a minute", "5 minutes", "an hour", "2 hours", "a day",
// "3 days", "a month", "2 months", "a year", "2 years".
func humanize(d time.Duration) string {
	d = d.Abs()
	round := func(v float64) int { return int(math.Round(v)) }
	sec := round(d.Seconds())
	minutes := round(d.Minutes())
	hours := round(d.Hours())
	days := round(d.Hours() / 24)
	months := round(d.Hours() / 24 * 4800 / 146097)
	years := round(d.Hours() / 24 / 365.2425)
	if sec < 45 {
		return "a few seconds"
	}
	// moment's thresholds: each unit up to the point where the next one
	// takes over.
	for _, u := range []struct {
		n, below  int
		one, many string
	}{
		{minutes, 45, "a minute", "%d minutes"},
		{hours, 22, "an hour", "%d hours"},
		{days, 26, "a day", "%d days"},
		{months, 11, "a month", "%d months"},
		{years, math.MaxInt, "a year", "%d years"},
	} {
		if u.n <= 1 {
			return u.one
		}
		if u.n < u.below {
			return fmt.Sprintf(u.many, u.n)
		}
	}
	return ""
}

// timelockTexts returns the compose bar's text (without "Show details")
// and the modal's title for an enforcement type.
func timelockTexts(enforcement string) (bar, title string) {
	const tail = " You can't start new chats right now."
	switch enforcement {
	case EnforcementWebCompanionOnly:
		return "Your WhatsApp Web is restricted." + tail, "WhatsApp Web is restricted for your account right now"
	case EnforcementRestrictAllCompanions:
		return "Your account on linked devices is restricted." + tail, "Your account on linked devices is restricted right now"
	}
	return "Your account is restricted." + tail, "Your account is restricted right now"
}

// restrictView is the restriction state of an account as the page sees it.
type restrictView struct {
	TempBan  *tempBanView  `json:"tempBan,omitempty"`
	Timelock *timelockView `json:"timelock,omitempty"`
	Cap      *capView      `json:"cap,omitempty"`
}

type tempBanView struct {
	Reason string `json:"reason"`
	Again  string `json:"again"`
}

type timelockView struct {
	Until       int64  `json:"until"`
	Enforcement string `json:"enforcement"`
	Bar         string `json:"bar"`
	Title       string `json:"title"`
	AllDevices  bool   `json:"allDevices"`
}

type capView struct {
	Used  int    `json:"used"`
	Total int    `json:"total"`
	Until string `json:"until"`
}

// restrictLocked returns the page's view of the restrictions of a.
func (s *Server) restrictLocked(a *account) restrictView {
	var v restrictView
	now := time.Now()
	if b := a.tempBan; b != nil {
		v.TempBan = &tempBanView{
			Reason: tempBanReason(b.code, "+"+a.phone),
			Again:  "You'll be able to use WhatsApp again in " + humanize(b.until.Sub(now)),
		}
	}
	if t := a.timelock; t != nil {
		bar, title := timelockTexts(t.enforcement)
		v.Timelock = &timelockView{
			Until: t.until.UnixMilli(), Enforcement: t.enforcement, Bar: bar, Title: title,
			AllDevices: t.enforcement == EnforcementRestrictAllCompanions,
		}
	}
	if c := a.capped; c != nil {
		v.Cap = &capView{Used: c.used, Total: c.total, Until: c.until.Format("January 2, 2006")}
	}
	return v
}

// pushRestrictLocked tells the pages of a its restrictions.
func (s *Server) pushRestrictLocked(a *account) {
	for _, c := range s.accountClientsLocked(a.phone) {
		s.pushRestrictTo(c, a)
	}
}

func (s *Server) pushRestrictTo(c *client, a *account) {
	s.pushLocked(c, "restrict", map[string]any{"restrict": s.restrictLocked(a)})
}

// newChatLocked reports whether the chat of a with to is new: the account
// never exchanged a message with to (an incoming one, or an outgoing one
// that the server did not reject).
func newChatLocked(a *account, to string) bool {
	for _, m := range a.chats[to] {
		if m.in || m.reject == rejectNone {
			return false
		}
	}
	return true
}

// rejectionLocked returns why the server rejects the next message of a to
// to, consuming a RejectNext rule.
func (s *Server) rejectionLocked(a *account, to string) rejectKind {
	if q := a.rejects[to]; len(q) > 0 {
		a.rejects[to] = q[1:]
		return q[0]
	}
	if newChatLocked(a, to) {
		switch {
		case a.timelock != nil:
			return rejectGeneric // 463
		case a.capped != nil:
			return rejectCapped // 475
		}
	}
	return rejectNone
}

// TemporaryBan plays the temporary ban of account phone (failure 402) for
// d: every page of the account shows the full-screen dialog of
// WAWebTempBanScreen (div[role=dialog][aria-modal=true] > popup > body)
// with the line of the reason code (101 to 104 and 106; any other code
// gives the default "…may have violated our terms of service."), "You'll
// be able to use WhatsApp again in {duration}" (humanized as moment does:
// "2 hours", "a day") and the buttons "Log out" and "Learn more". Nothing
// can be sent while it shows. LiftTemporaryBan ends it.
func (s *Server) TemporaryBan(phone string, code int, d time.Duration) {
	s.restrict(phone, func(a *account) { a.tempBan = &tempBan{code: code, until: time.Now().Add(d)} })
}

// restrict changes the restrictions of account phone with set and tells
// its pages.
func (s *Server) restrict(phone string, set func(a *account)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accountLocked(phone)
	set(a)
	s.pushRestrictLocked(a)
}

// LiftTemporaryBan ends the temporary ban of phone; the pages go back to
// the app.
func (s *Server) LiftTemporaryBan(phone string) {
	s.restrict(phone, func(a *account) { a.tempBan = nil })
}

// Timelock plays the reach-out timelock of account phone until until, of
// enforcement type enforcement (EnforcementDefault when empty): in a new
// chat (one the account never exchanged a message with) the compose box
// is replaced by the restricted compose bar ("Your account is restricted.
// You can't start new chats right now. Show details", testid
// reachout-timelock-compose-bar, no contenteditable) whose "Show details"
// opens the modal with its countdown ("HH:MM:SS" up to 24 hours, else "N
// days"). Chats that exist can still send. LiftTimelock ends it.
func (s *Server) Timelock(phone string, until time.Time, enforcement string) {
	if enforcement == "" {
		enforcement = EnforcementDefault
	}
	s.restrict(phone, func(a *account) { a.timelock = &timelock{until: until, enforcement: enforcement} })
}

// LiftTimelock ends the timelock of phone.
func (s *Server) LiftTimelock(phone string) {
	s.restrict(phone, func(a *account) { a.timelock = nil })
}

// CapNewChats plays the CAPPED level of the monthly quota of new chats of
// phone: in a new chat the compose box is replaced by "You've reached the
// monthly limit on new chats you can start. See details", whose link
// opens the modal "You've started {used} of {total} new chats this month"
// with "You can't start any more new chats until {date}." (date as
// "January 2, 2006"). Zero total lifts the cap.
func (s *Server) CapNewChats(phone string, used, total int, until time.Time) {
	s.restrict(phone, func(a *account) {
		a.capped = nil
		if total > 0 {
			a.capped = &capping{used: used, total: total, until: until}
		}
	})
}

// RejectNext makes the server reject the next message that account phone
// sends to to: the row gets its Pending and Sent ticks, then, after
// WithRejectDelay, loses its tick and shows the fail icon
// div[role=button][aria-label="Something went wrong. Click to learn
// more."]. The oracle lists the message in Rejected, not in Received.
func (s *Server) RejectNext(phone, to string) { s.rejectNext(phone, to, rejectGeneric) }

// RejectNextCapped is RejectNext with the fail icon of the monthly cap
// (CappedFailIconLabel).
func (s *Server) RejectNextCapped(phone, to string) { s.rejectNext(phone, to, rejectCapped) }

func (s *Server) rejectNext(phone, to string, k rejectKind) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accountLocked(phone)
	if a.rejects == nil {
		a.rejects = make(map[string][]rejectKind)
	}
	a.rejects[to] = append(a.rejects[to], k)
}

// Rejected returns the messages from account from to to that the server
// rejected, oldest first.
func (s *Server) Rejected(from, to string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return between(s.rejected, from, to, Message.pair)
}

// between returns the items of all from account from to to, in order.
func between[T any](all []T, from, to string, pair func(T) (string, string)) []T {
	var out []T
	for _, v := range all {
		if f, t := pair(v); f == from && t == to {
			out = append(out, v)
		}
	}
	return out
}

func (m Message) pair() (string, string) { return m.From, m.To }
func (t Typing) pair() (string, string)  { return t.From, t.To }

// Ban plays the ban of account phone as WhatsApp Web shows a 403
// (LOCKED) failure: every login of the account ends, and every page
// logged into it goes back to the QR screen with the amber banner
// "You have been logged out. To log back in, you will need to verify your
// phone number." (LoggedOutBannerText) above the QR code.
func (s *Server) Ban(phone string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.logoutLocked(phone, "403", true)
}

// RequirePasskey makes a scan (Scan, ScanAny, ConfirmPairingCode) for
// phone show the Shortcake passkey overlay (testids
// shortcake_passkey_screen, shortcake_passkey_prompt_card,
// shortcake_passkey_continue_button) instead of logging the page in; the
// scan returns ErrPasskeyRequired. false turns it off.
func (s *Server) RequirePasskey(phone string, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accountLocked(phone).passkey = on
}

// passkeyLocked shows the passkey overlay on c instead of a login when
// phone needs a passkey. The caller holds s.mu.
func (s *Server) passkeyLocked(c *client, phone string) bool {
	if a := s.accounts[phone]; a == nil || !a.passkey {
		return false
	}
	s.stopQRLocked(c)
	c.state = PagePasskey
	s.pushLocked(c, "passkey", nil)
	return true
}

// presence records a presence update of page c for chat.
func (s *Server) presence(c *client, chat, state string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.login == nil || !c.login.valid || !validPhone(chat) {
		return
	}
	switch state {
	case "composing":
		if c.composing == nil {
			c.composing = make(map[string]time.Time)
		}
		if _, ok := c.composing[chat]; !ok {
			c.composing[chat] = time.Now()
		}
	case "paused", "available":
		s.endTypingLocked(c, chat, false)
	}
}

// endTypingLocked ends the "composing" span of c in chat, if any.
func (s *Server) endTypingLocked(c *client, chat string, sent bool) {
	start, ok := c.composing[chat]
	if !ok {
		return
	}
	delete(c.composing, chat)
	s.typing = append(s.typing, Typing{From: c.login.phone, To: chat, Start: start, Duration: time.Since(start), Sent: sent})
}

// TypingSpans returns the spans of "composing" presence that account from
// showed in the chat with to, oldest first.
func (s *Server) TypingSpans(from, to string) []Typing {
	s.mu.Lock()
	defer s.mu.Unlock()
	return between(s.typing, from, to, Typing.pair)
}
