package chromedpdriver

// This file reads the account a session is logged in as, from the page's
// storage, and reports it (wasend.EventAccount).

import (
	"encoding/json"
	"strings"

	"github.com/wasend/wasend"
)

// parseWID reads a phone number (E.164) from a stored WhatsApp id:
// last-wid-md holds a JSON string such as "15550001111:3@c.us" (the number,
// the device, the server), last-wid "15550001111@c.us". It returns "" for
// anything else, such as an @lid id, which names no phone number.
func parseWID(v string) string {
	v = strings.TrimSpace(v)
	if strings.HasPrefix(v, `"`) {
		var s string
		if json.Unmarshal([]byte(v), &s) != nil {
			return ""
		}
		v = s
	}
	user, server, ok := strings.Cut(v, "@")
	if !ok || (server != "c.us" && server != "s.whatsapp.net") {
		return ""
	}
	user, _, _ = strings.Cut(user, ":")
	user, _, _ = strings.Cut(user, ".")
	if len(user) < 6 || len(user) > 15 || onlyDigits(user) != user {
		return ""
	}
	n, err := wasend.NormalizePhone("+" + user)
	if err != nil {
		return ""
	}
	return n
}

// noteAccount reports the account that the page's storage names when it is
// new: the first one the session learns, and each change.
func (s *Session) noteAccount(wid string) {
	acc := parseWID(wid)
	if acc == "" {
		return
	}
	s.mu.Lock()
	changed := acc != s.account
	prev := s.account
	s.account = acc
	s.mu.Unlock()
	if !changed {
		return
	}
	if prev == "" {
		s.log.Info("logged in as", "account", wasend.MaskPhone(acc))
	} else {
		s.log.Warn("another account logged in", "account", wasend.MaskPhone(acc), "was", wasend.MaskPhone(prev))
	}
	s.emit(wasend.SessionEvent{Type: wasend.EventAccount, Account: acc})
}

// Account returns the number (E.164) that the session's page last showed
// it logged in as, or "" while it is not known. The session reports it,
// and each change, as a wasend.EventAccount once the page is logged in: it
// reads the localStorage items of the selector set's account_storage
// ("last-wid-md", then "last-wid") at every poll of the monitor.
func (s *Session) Account() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.account
}
