package wasendtest

import (
	"context"
	"fmt"
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

// MarkRead implements wasend.InboxReader: it records that the chat with
// from was marked read (Reads), or fails with the error SetMarkReadError
// gave.
func (s *Session) MarkRead(ctx context.Context, from string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return fmt.Errorf("scripted: session closed: %w", wasend.ErrDisconnected)
	case s.loggedOut:
		return wasend.ErrLoggedOut
	case s.markReadErr != nil:
		return s.markReadErr
	}
	s.reads = append(s.reads, from)
	return nil
}

// SetMarkReadError makes the later calls of MarkRead fail with err (nil
// restores them).
func (s *Session) SetMarkReadError(err error) {
	s.mu.Lock()
	s.markReadErr = err
	s.mu.Unlock()
}

// Reads returns the numbers whose chats MarkRead marked read, in order.
func (s *Session) Reads() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.reads...)
}

// Report makes the session report ev as it is (SystemID and, when zero,
// At filled in): for the tests of what a page may report wrong, such as
// an event with missing fields.
func (s *Session) Report(ev wasend.SessionEvent) { s.emit(ev) }
