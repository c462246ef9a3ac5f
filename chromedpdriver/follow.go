package chromedpdriver

// This file follows the ticks of sent messages (wasend.AckFollower): the
// set that FollowAcks replaces, and what a reading of the page (watch.go)
// says of each message in it.

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/wasend/wasend"
)

// doneTTL is how long a message reported read is not followed again when
// FollowAcks lists it once more (the Client had not stored the read yet);
// after it, such a message is followed, and reported read, again.
const doneTTL = 10 * time.Minute

// followed is a message whose ticks the session follows.
type followed struct {
	wasend.TrackedMessage
	digits string
	// reported is the highest ack known: given by FollowAcks or reported.
	reported wasend.Ack
}

// followSet is the set of followed messages. FollowAcks replaces it; the
// monitor reads it and records what it reported. Its mutex guards it.
type followSet struct {
	mu   sync.Mutex
	msgs map[int64]*followed
	gen  uint64 // counts the replacements
	// done holds the messages reported read, and when (doneTTL).
	done map[int64]time.Time
}

// FollowAcks replaces the set of messages whose ticks the session follows
// (wasend.AckFollower). It touches no page and returns at once; the
// session's monitor does the following, and reports each change of a
// message's ticks as a wasend.EventAck with MessageID, To, WAMessageID
// (the row's data-id, when the message had none and its row was found by
// its text) and Ack. A message already read is not followed; one reported
// read stops being followed, and is not followed again for doneTTL (10
// minutes) if a later call lists it again. A message with an invalid
// number or a MessageID that is not positive or is listed twice fails the
// whole call (wasend.ErrInvalidPhone, ErrInvalidTracked) and leaves the
// set as it was. It is safe for concurrent use.
//
// How late a receipt can be: the monitor reads the open chat and the chat
// list at every poll (WithPollInterval, 250 ms by default) while no call
// holds the page; the read costs nothing more than the poll's one
// evaluation unless the page changed since the last one. A message in the
// open chat, or the last message of its chat (the chat list shows the
// tick of a chat's last message when it is ours, and its preview tells
// which), is reported within a poll of the page showing its new tick,
// plus the time a send or another call holds the page (up to its
// deadline). Any other message waits for a visit of its chat: one chat is
// opened every WithAckVisitInterval (30 s by default), the one not visited
// for the longest time first, and never while a call waits for the page;
// with N such chats, a tick can be N intervals late. A receipt is
// followed for as long as the Client lists the message (its receipt
// window), or until it is read.
func (s *Session) FollowAcks(ctx context.Context, msgs []wasend.TrackedMessage) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	next := make(map[int64]*followed, len(msgs))
	for _, m := range msgs {
		if m.MessageID <= 0 {
			return fmt.Errorf("%w: message id %d", ErrInvalidTracked, m.MessageID)
		}
		if _, dup := next[m.MessageID]; dup {
			return fmt.Errorf("%w: message %d listed twice", ErrInvalidTracked, m.MessageID)
		}
		if m.Ack < wasend.AckNone || m.Ack > wasend.AckPlayed {
			return fmt.Errorf("%w: message %d: unknown ack %d", ErrInvalidTracked, m.MessageID, int(m.Ack))
		}
		digits, err := phoneDigits(m.To)
		if err != nil {
			return fmt.Errorf("chromedpdriver: followed message %d: %w", m.MessageID, err)
		}
		next[m.MessageID] = &followed{TrackedMessage: m, digits: digits, reported: m.Ack}
	}
	now := time.Now()
	fs := &s.follow
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for id, at := range fs.done {
		if now.Sub(at) > doneTTL {
			delete(fs.done, id)
		}
	}
	for id, f := range next {
		if f.reported >= wasend.AckRead {
			delete(next, id)
			continue
		}
		if _, ok := fs.done[id]; ok {
			delete(next, id)
			continue
		}
		if old := fs.msgs[id]; old != nil {
			f.reported = max(f.reported, old.reported)
			if f.WAMessageID == "" {
				f.WAMessageID = old.WAMessageID
			}
		}
	}
	fs.msgs = next
	fs.gen++
	return nil
}

// ackReading is what one reading of the page says of a followed message.
type ackReading struct {
	// ack is the tick shown, AckNone when none was seen.
	ack wasend.Ack
	// waID is the data-id of the row found by its text, for a message
	// that had no WhatsApp id.
	waID string
	// covered says the reading showed the message: its row in the open
	// chat, or its chat's list row with it as the last message.
	covered bool
}

// readAcks says what snap shows of each message of fs: the tick of its row
// in the open chat (by its WhatsApp id, or, without one, the last
// outgoing row of its chat with its text that no newer message took), and
// the chat list's tick of its chat when it is the newest message followed
// in that chat and the list's preview is its text.
func readAcks(fs []*followed, snap *pageSnap) map[int64]ackReading {
	out := make(map[int64]ackReading, len(fs))
	if snap == nil {
		return out
	}
	byID := map[string]*snapRow{}
	var outs []*snapRow
	chat := ""
	if c := snap.Chat; c != nil {
		chat = c.digits()
		for i := range c.Rows {
			r := &c.Rows[i]
			if r.ID != "" {
				byID[r.ID] = r
			}
			if r.Dir == "out" {
				outs = append(outs, r)
			}
		}
	}
	list := snap.listByDigits()
	sorted := slices.Clone(fs)
	slices.SortFunc(sorted, func(a, b *followed) int { // newest first
		if c := b.SentAt.Compare(a.SentAt); c != 0 {
			return c
		}
		return cmp.Compare(b.MessageID, a.MessageID)
	})
	newest := map[string]*followed{}
	for _, f := range sorted {
		if newest[f.digits] == nil {
			newest[f.digits] = f
		}
	}
	claimed := map[*snapRow]bool{}
	for _, f := range sorted {
		var rd ackReading
		switch {
		case f.WAMessageID != "":
			if r := byID[f.WAMessageID]; r != nil {
				rd.covered, rd.ack = true, parseAck(r.Ack)
			}
		case chat == f.digits:
			want := normText(f.Text)
			for i := len(outs) - 1; i >= 0; i-- {
				r := outs[i]
				if claimed[r] || r.Text == nil || normText(*r.Text) != want {
					continue
				}
				claimed[r] = true
				rd.covered, rd.ack, rd.waID = true, parseAck(r.Ack), r.ID
				break
			}
		}
		if lr := list[f.digits]; lr != nil && newest[f.digits] == f && previewMatches(lr.Preview, f.Text) {
			rd.covered = true
			rd.ack = max(rd.ack, parseAck(lr.Ack))
		}
		out[f.MessageID] = rd
	}
	return out
}

// previewMatches reports whether a chat list preview shows text: the same
// words, or, for a preview of ten characters or more that the list cut
// short, the text's beginning.
func previewMatches(preview, text string) bool {
	p := strings.Join(strings.Fields(preview), " ")
	t := strings.Join(strings.Fields(text), " ")
	if p == "" {
		return false
	}
	if p == t {
		return true
	}
	p = strings.TrimRight(p, "…. ")
	return len([]rune(p)) >= 10 && strings.HasPrefix(t, p)
}

// parseAck turns the page code's name of a tick into an Ack.
func parseAck(s string) wasend.Ack {
	switch s {
	case "pending":
		return wasend.AckPending
	case "sent":
		return wasend.AckSent
	case "delivered":
		return wasend.AckDelivered
	case "read":
		return wasend.AckRead
	}
	return wasend.AckNone
}

// followTick matches the last reading against the followed messages when
// either changed, reports the new acks, and notes the chats to visit: those
// of messages that the reading does not show, except the open one, the
// chat of the oldest message first.
func (s *Session) followTick(now time.Time) {
	w := &s.watch
	fs := &s.follow
	fs.mu.Lock()
	if w.snap == nil || (w.matchedSnap == w.snap && w.matchedGen == fs.gen) {
		fs.mu.Unlock()
		return
	}
	w.matchedSnap, w.matchedGen = w.snap, fs.gen
	list := make([]*followed, 0, len(fs.msgs))
	for _, f := range fs.msgs {
		list = append(list, f)
	}
	readings := readAcks(list, w.snap)
	open := ""
	if w.snap.Chat != nil {
		open = w.snap.Chat.digits()
	}
	var evs []wasend.SessionEvent
	oldest := map[string]time.Time{}
	for _, f := range list {
		rd := readings[f.MessageID]
		if rd.waID != "" && f.WAMessageID == "" {
			f.WAMessageID = rd.waID
		}
		if rd.ack > f.reported {
			f.reported = rd.ack
			evs = append(evs, wasend.SessionEvent{Type: wasend.EventAck, MessageID: f.MessageID, To: f.To,
				WAMessageID: f.WAMessageID, Ack: rd.ack, At: now})
			if rd.ack >= wasend.AckRead {
				delete(fs.msgs, f.MessageID)
				if fs.done == nil {
					fs.done = map[int64]time.Time{}
				}
				fs.done[f.MessageID] = now
				continue
			}
		}
		if !rd.covered && f.digits != open {
			if at, ok := oldest[f.digits]; !ok || f.SentAt.Before(at) {
				oldest[f.digits] = f.SentAt
			}
		}
	}
	fs.mu.Unlock()
	w.uncovered = w.uncovered[:0]
	for d := range oldest {
		w.uncovered = append(w.uncovered, d)
	}
	slices.SortFunc(w.uncovered, func(a, b string) int { return oldest[a].Compare(oldest[b]) })
	for _, ev := range evs {
		s.log.Debug("ack", "to", wasend.MaskPhone(ev.To), "message_id", ev.MessageID, "ack", ev.Ack)
		s.emit(ev)
	}
}

// ackVisitTarget returns the chat to visit for its ticks: of the chats
// whose followed messages the last reading did not show, the one visited
// longest ago (never first), or "".
func (s *Session) ackVisitTarget() string {
	best, bestAt := "", time.Time{}
	for i, d := range s.watch.uncovered {
		at := s.watch.visited[d]
		if i == 0 || at.Before(bestAt) {
			best, bestAt = d, at
		}
	}
	return best
}
