package wasendtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"

	"github.com/wasend/wasend"
)

// Media: the scripted sessions send files (wasend.MediaSender) unless the
// pool is WithLegacySessions or WithoutFinder.

var _ wasend.MediaSender = (*Session)(nil)

// SendMedia implements wasend.MediaSender: it follows the next Action of
// the script, as SendText does, and the message that reaches WhatsApp
// records the file (Sent.Media) and the checksum of the bytes the session
// read from it (Sent.MediaSHA256). A file it cannot read fails the call
// before the click, as a browser's file input would.
func (s *Session) SendMedia(ctx context.Context, to string, m wasend.MediaFile) (wasend.Receipt, error) {
	if _, err := os.Stat(m.Path); err != nil {
		return wasend.Receipt{}, fmt.Errorf("scripted: attach %s: %w", m.Name, err)
	}
	return s.send(ctx, to, m.Caption, &m)
}

// matches reports whether the message is one to to with text, and with
// media an attachment of its kind with its file name or size (as
// wasend.SentQuery.Media asks); without media, a text message.
func (m Sent) matches(to, text string, media *wasend.MediaFile) bool {
	if m.To != to || m.Text != text || (m.Media == nil) != (media == nil) {
		return false
	}
	if media == nil {
		return true
	}
	return m.Media.Kind == media.Kind && (m.Media.Name == media.Name || m.Media.Size == media.Size)
}

// fileSum is the SHA-256 (hex) of a file's bytes, or "" when it cannot be
// read.
func fileSum(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// CountMedia returns how many times a file named name reached to from the
// session's account.
func (s *Session) CountMedia(to, name string) int {
	s.chats.mu.Lock()
	defer s.chats.mu.Unlock()
	n := 0
	for _, m := range s.chats.sent {
		if m.To == to && m.Media != nil && m.Media.Name == name {
			n++
		}
	}
	return n
}
