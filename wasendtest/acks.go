package wasendtest

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/wasend/wasend"
)

var _ wasend.AckFollower = (*Session)(nil)

// FollowAcks implements wasend.AckFollower: it keeps the set of messages
// to follow (Followed) and counts the calls (FollowCalls). SetFollowError
// makes it fail; SetFollowBlock makes it wait until its ctx ends or
// Release is called, as a page that does not answer.
func (s *Session) FollowAcks(ctx context.Context, msgs []wasend.TrackedMessage) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	closed, err, block := s.closed, s.followErr, s.followBlock
	s.mu.Unlock()
	switch {
	case closed:
		return fmt.Errorf("scripted: session closed: %w", wasend.ErrDisconnected)
	case block:
		if err := s.wait(ctx, 0, true, false); err != nil {
			return err
		}
	case err != nil:
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.followed = slices.Clone(msgs)
	s.followCalls++
	return nil
}

// Followed returns the messages the session follows: those of the last
// call of FollowAcks that succeeded.
func (s *Session) Followed() []wasend.TrackedMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.followed)
}

// FollowCalls counts the calls of FollowAcks that succeeded.
func (s *Session) FollowCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.followCalls
}

// SetFollowError makes the later calls of FollowAcks fail with err (nil
// restores them).
func (s *Session) SetFollowError(err error) {
	s.mu.Lock()
	s.followErr = err
	s.mu.Unlock()
}

// SetFollowBlock makes the later calls of FollowAcks wait until their ctx
// ends or Release is called.
func (s *Session) SetFollowBlock(on bool) {
	s.mu.Lock()
	s.followBlock = on
	s.mu.Unlock()
}

// Ack plays the page showing new ticks of a message: the session reports
// a wasend.EventAck with the message's id, ack, the time, and the
// recipient and WhatsApp id it follows the message with (empty when it
// does not follow it: a hostile page may report any id).
func (s *Session) Ack(messageID int64, ack wasend.Ack) {
	ev := wasend.SessionEvent{Type: wasend.EventAck, MessageID: messageID, Ack: ack, At: time.Now().UTC()}
	s.mu.Lock()
	for _, m := range s.followed {
		if m.MessageID == messageID {
			ev.To, ev.WAMessageID = m.To, m.WAMessageID
		}
	}
	s.mu.Unlock()
	s.emit(ev)
}
