package wasend

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"time"
)

// Pacing is how fast one browser context may send: what keeps its number
// from looking like a bulk sender. Every limit applies to the attempts
// that begin (an attempt that fails before its click counts too, so that
// pacing errs on the slow side), of single and bulk jobs alike. A job
// that must wait for its context's budget waits: it does not fail, spends
// no attempt, and shows why on Job.Wait, in Stats and through EventWait.
//
// The zero value of a field turns its limit off; Pacing{} turns pacing
// off entirely (see NoPacing). DefaultPacing returns the defaults.
//
// WhatsApp publishes no limits. The defaults follow the community's
// figures (see the README, "Keeping numbers safe"): random gaps of 30 to
// 60 s (WAHA's guide), 60 an hour and 500 a day (well under
// baileys-antiban's 200 and 1,500), 25 new contacts a day (restrictions
// were reported after 30 to 40 messages to new users), a 7-day warm-up
// from 20 a day growing 1.8 times a day (baileys-antiban), sending from
// 08:00 to 21:00 in the context's time zone, and the same text to at most
// 3 recipients an hour (baileys-antiban; whatsmeow's ban code 104 is "the
// same message to too many people").
type Pacing struct {
	// MinGap and MaxGap bound the random gap between two consecutive
	// sends of the context; each gap is drawn anew, uniformly.
	MinGap time.Duration `json:"min_gap,omitempty"`
	MaxGap time.Duration `json:"max_gap,omitempty"`
	// PerHour caps the sends in any 60 minutes.
	PerHour int `json:"per_hour,omitempty"`
	// PerDay caps the sends of a calendar day in Location.
	PerDay int `json:"per_day,omitempty"`
	// NewContactsPerDay caps, within PerDay, the sends of a day to
	// numbers the context never sent to before.
	NewContactsPerDay int `json:"new_contacts_per_day,omitempty"`
	// WarmupDays, WarmupStart and WarmupGrowth set the warm-up of a new
	// account: on day d (0 is the day of its first login, in Location),
	// for d < WarmupDays, the daily caps are at most
	// WarmupStart × WarmupGrowth^d.
	WarmupDays   int     `json:"warmup_days,omitempty"`
	WarmupStart  int     `json:"warmup_start,omitempty"`
	WarmupGrowth float64 `json:"warmup_growth,omitempty"`
	// WindowStart and WindowEnd are the sending window, as offsets from
	// midnight in Location: sends begin only within [WindowStart,
	// WindowEnd). A window that ends before it starts spans midnight.
	// Equal values (both zero) mean no window.
	WindowStart time.Duration `json:"window_start,omitempty"`
	WindowEnd   time.Duration `json:"window_end,omitempty"`
	// SameTextPerWindow caps the sends of one text (byte for byte) within
	// any SameTextWindow.
	SameTextPerWindow int           `json:"same_text_per_window,omitempty"`
	SameTextWindow    time.Duration `json:"same_text_window,omitempty"`
	// Location is the context's time zone, an IANA name such as
	// "America/Sao_Paulo"; empty means UTC.
	Location string `json:"location,omitempty"`
}

// The default pacing policy's figures (see Pacing).
const (
	DefaultMinGap            = 30 * time.Second
	DefaultMaxGap            = 60 * time.Second
	DefaultPerHour           = 60
	DefaultPerDay            = 500
	DefaultNewContactsPerDay = 25
	DefaultWarmupDays        = 7
	DefaultWarmupStart       = 20
	DefaultWarmupGrowth      = 1.8
	DefaultWindowStart       = 8 * time.Hour
	DefaultWindowEnd         = 21 * time.Hour
	DefaultSameTextPerWindow = 3
	DefaultSameTextWindow    = time.Hour
)

// DefaultPacing returns the default pacing policy: conservative, and on
// unless the host turns it off (WithPacing(NoPacing())).
func DefaultPacing() Pacing {
	return Pacing{
		MinGap: DefaultMinGap, MaxGap: DefaultMaxGap,
		PerHour: DefaultPerHour, PerDay: DefaultPerDay, NewContactsPerDay: DefaultNewContactsPerDay,
		WarmupDays: DefaultWarmupDays, WarmupStart: DefaultWarmupStart, WarmupGrowth: DefaultWarmupGrowth,
		WindowStart: DefaultWindowStart, WindowEnd: DefaultWindowEnd,
		SameTextPerWindow: DefaultSameTextPerWindow, SameTextWindow: DefaultSameTextWindow,
	}
}

// NoPacing returns a policy that paces nothing. Restrictions that WhatsApp
// imposes, and the circuit breaker, still apply.
func NoPacing() Pacing { return Pacing{} }

// Off reports whether p paces nothing.
func (p Pacing) Off() bool { return p == Pacing{} }

func (p Pacing) location() (*time.Location, error) {
	if p.Location == "" {
		return time.UTC, nil
	}
	return time.LoadLocation(p.Location)
}

// RestrictionKind names what WhatsApp restricted.
type RestrictionKind string

// The restriction kinds.
const (
	// RestrictionNone is no restriction.
	RestrictionNone RestrictionKind = ""
	// RestrictionTemporary is a temporary ban: the account sends nothing
	// until it ends (the page's full-screen "You're temporarily banned"
	// dialog, failure 402).
	RestrictionTemporary RestrictionKind = "temporary"
	// RestrictionNewChats stops the account from starting new chats until
	// it ends: the reach-out timelock of 2026, or the monthly cap on new
	// chats. Messages to contacts the account already has go on.
	RestrictionNewChats RestrictionKind = "new_chats"
	// RestrictionBreaker is the Client's own circuit breaker: too many
	// sends failed in a row, or too many were rejected; the context
	// cools down, then one send probes.
	RestrictionBreaker RestrictionKind = "breaker"
	// RestrictionBanned is a ban: the context stops for good.
	RestrictionBanned RestrictionKind = "banned"
	// RestrictionAccount holds a context into which a different account
	// logged in than the one it had, until the host confirms it
	// (Client.ConfirmAccount).
	RestrictionAccount RestrictionKind = "account"
)

// RestrictionKinds returns the restriction kinds other than none, in a new
// slice.
func RestrictionKinds() []RestrictionKind {
	return []RestrictionKind{RestrictionTemporary, RestrictionNewChats, RestrictionBreaker, RestrictionBanned, RestrictionAccount}
}

// Valid reports whether k is a restriction kind, or none.
func (k RestrictionKind) Valid() bool {
	switch k {
	case RestrictionNone, RestrictionTemporary, RestrictionNewChats, RestrictionBreaker, RestrictionBanned, RestrictionAccount:
		return true
	}
	return false
}

// Restriction is a restriction of a browser context, as stored with it.
type Restriction struct {
	// Kind is what is restricted; RestrictionNone for nothing.
	Kind RestrictionKind
	// Until is when it ends; zero for a ban, or when the page did not say
	// (the Client then assumes a day and looks again).
	Until time.Time
	// Reason is what the page said, masked, or what tripped the breaker.
	Reason string
}

// Active reports whether r holds at now.
func (r Restriction) Active(now time.Time) bool {
	if r.Kind == RestrictionNone {
		return false
	}
	return r.Kind == RestrictionBanned || r.Kind == RestrictionAccount || r.Until.After(now)
}

// WaitReason says why a pending job waits without spending an attempt.
type WaitReason string

// The wait reasons.
const (
	// WaitNone: the job does not wait for a reason of its own.
	WaitNone WaitReason = ""
	// WaitNotBefore: the job's NotBefore has not come.
	WaitNotBefore WaitReason = "not_before"
	// WaitGap: the context's gap since its last send.
	WaitGap WaitReason = "gap"
	// WaitHourlyCap: the context reached its sends for the hour.
	WaitHourlyCap WaitReason = "hourly_cap"
	// WaitDailyCap: the context reached its sends for the day (warm-up
	// included).
	WaitDailyCap WaitReason = "daily_cap"
	// WaitNewContactCap: the recipient is a new contact and the context
	// reached its new contacts for the day.
	WaitNewContactCap WaitReason = "new_contact_cap"
	// WaitSameText: the context sent the same text to enough recipients
	// within the window.
	WaitSameText WaitReason = "same_text"
	// WaitWindow: outside the context's sending window.
	WaitWindow WaitReason = "window"
	// WaitRestricted: WhatsApp restricted the context (a temporary ban).
	WaitRestricted WaitReason = "restricted"
	// WaitNewChatsLocked: the recipient is a new contact and WhatsApp
	// locked the context's new chats.
	WaitNewChatsLocked WaitReason = "new_chats_locked"
	// WaitBreaker: the context's circuit breaker is open.
	WaitBreaker WaitReason = "breaker"
	// WaitContext: the context cannot send (disconnected, error).
	WaitContext WaitReason = "context"
)

// WaitReasons returns the wait reasons other than none, in a new slice.
func WaitReasons() []WaitReason {
	return []WaitReason{WaitNotBefore, WaitGap, WaitHourlyCap, WaitDailyCap, WaitNewContactCap, WaitSameText,
		WaitWindow, WaitRestricted, WaitNewChatsLocked, WaitBreaker, WaitContext}
}

// Valid reports whether w is a wait reason, or none.
func (w WaitReason) Valid() bool {
	if w == WaitNone {
		return true
	}
	for _, r := range WaitReasons() {
		if r == w {
			return true
		}
	}
	return false
}

// SendRecord is one entry of a browser context's send ledger: an attempt
// that began. Pacing counts them. The ledger keeps no number and no text,
// only their hashes (see HashRecipient and HashText).
type SendRecord struct {
	ContextID int64
	// At is when the attempt began.
	At time.Time
	// Recipient and TextHash are hashes of the recipient and of the text.
	Recipient string
	TextHash  string
	// NewContact reports that the context had never sent to the recipient
	// before.
	NewContact bool
}

// HashRecipient returns the hash under which the send ledger keeps a
// recipient (E.164): the ledger holds no phone number.
func HashRecipient(to string) string { return ledgerHash("to\x00" + to) }

// HashText returns the hash under which the send ledger keeps a text.
func HashText(text string) string { return ledgerHash("text\x00" + text) }

func ledgerHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:16])
}

// MaskProxy returns a proxy URL without its credentials, for logs and
// errors: "socks5://user:secret@host:1080" gives "socks5://***@host:1080".
// What does not parse as a URL gives "***".
func MaskProxy(proxy string) string {
	if proxy == "" {
		return ""
	}
	u, err := url.Parse(proxy)
	if err != nil || u.Host == "" {
		return "***"
	}
	out := u.Scheme + "://"
	if u.User != nil {
		out += "***@"
	}
	return out + u.Host
}

// PacingStats is what is left of a browser context's pacing budget, and
// what its next send waits for.
type PacingStats struct {
	// HourLeft, DayLeft and NewContactsLeft are the sends left in the
	// last 60 minutes, today (warm-up included) and to new contacts
	// today; -1 means no limit.
	HourLeft, DayLeft, NewContactsLeft int
	// Wait and Until say why and until when the context's next send (to a
	// contact it knows, of a new text) would wait now; WaitNone when it
	// would not.
	Wait  WaitReason
	Until time.Time
	// Restriction is the context's restriction, when one holds.
	Restriction Restriction
}
