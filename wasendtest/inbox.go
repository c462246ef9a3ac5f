package wasendtest

import (
	"strconv"
	"time"

	"github.com/wasend/wasend"
)

// Receive plays a contact who writes to the session's account: the
// session reports it as a wasend.EventIncoming, with From, Text, At (now)
// and WAMessageID id, and Receive returns the message reported. An empty
// id gets a new one, as WhatsApp gives each row its own; the same id
// again reports the same row again, as a page seen twice would.
func (s *Session) Receive(from, text, id string) wasend.IncomingMessage {
	if id == "" {
		s.chats.mu.Lock()
		s.chats.seq++
		id = "false_" + digits(from) + "@c.us_IN" + strconv.Itoa(s.chats.seq)
		s.chats.mu.Unlock()
	}
	m := wasend.IncomingMessage{From: from, Text: text, At: time.Now().UTC(), WAMessageID: id}
	in := m
	s.emit(wasend.SessionEvent{Type: wasend.EventIncoming, Incoming: &in})
	return m
}

// digits returns the digits of a phone number.
func digits(p string) string {
	b := make([]byte, 0, len(p))
	for i := 0; i < len(p); i++ {
		if p[i] >= '0' && p[i] <= '9' {
			b = append(b, p[i])
		}
	}
	return string(b)
}
