package fakewa

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// This file tests, with the page played in Go, the hooks of the "breadth"
// features: ticks under the test's control, the read state of incoming
// messages, attachments, the chat-id correction of number checks.

// nextAck waits for the next ack of message id and returns its status.
func (p *fakePage) nextAck(id string) string {
	p.t.Helper()
	for {
		ack := p.next("ack")
		if ack["id"] == id {
			return ack["status"].(string)
		}
	}
}

func TestTickHooks(t *testing.T) {
	s, base := newTestServer(t, WithTickDelays(5*time.Millisecond, 20*time.Millisecond, 20*time.Millisecond, 0))
	h := NewHookClient(base, s.HookToken(), nil)
	ctx := t.Context()
	const me, blocked, other = "15550004101", "15557774101", "15557774102"
	p, _ := loggedInPage(t, s, base, me)

	// Never delivered: one tick for good, and ReadBy cannot read it.
	require.NoError(t, h.SetNeverDeliver(ctx, me, blocked, true))
	code, v := p.sendText(blocked, "are you there?")
	require.Equal(t, http.StatusOK, code)
	id := v["id"].(string)
	assert.Equal(t, "sent", p.nextAck(id))
	p.none("ack", 150*time.Millisecond)
	st, _ := s.MessageStatus(id)
	assert.Equal(t, StatusSent, st)
	read, err := h.ReadBy(ctx, me, blocked)
	require.NoError(t, err)
	assert.Empty(t, read)
	assert.Len(t, s.Received(me, blocked), 1, "the server got it")

	// Unblocked: it goes on to Delivered; then the contact reads it.
	require.NoError(t, h.SetNeverDeliver(ctx, me, blocked, false))
	assert.Equal(t, "delivered", p.nextAck(id))
	p.none("ack", 100*time.Millisecond)
	read, err = h.ReadBy(ctx, me, blocked)
	require.NoError(t, err)
	assert.Equal(t, []string{id}, read)
	assert.Equal(t, "read", p.nextAck(id))
	assert.Empty(t, s.ReadBy(me, blocked), "nothing left to read")

	// One message at a time.
	_, v = p.sendText(other, "one")
	id1 := v["id"].(string)
	assert.ErrorIs(t, s.SetMessageStatus("nope", StatusRead), ErrUnknownMessage)
	assert.ErrorIs(t, h.SetMessageStatus(ctx, "nope", StatusRead), ErrUnknownMessage)
	assert.Equal(t, "sent", p.nextAck(id1))
	require.NoError(t, h.SetMessageStatus(ctx, id1, StatusRead))
	assert.Equal(t, "read", p.nextAck(id1))
	p.none("ack", 100*time.Millisecond) // the delivered timer does nothing
	assert.ErrorIs(t, s.SetMessageStatus(id1, StatusDelivered), ErrInvalidStatus)
	assert.ErrorIs(t, h.SetMessageStatus(ctx, id1, StatusPending), ErrInvalidStatus)
	assert.NoError(t, s.SetMessageStatus(id1, StatusRead), "no change")
	in, err := s.Incoming(me, other, "an incoming one")
	require.NoError(t, err)
	assert.ErrorIs(t, s.SetMessageStatus(in.ID, StatusRead), ErrUnknownMessage)

	// Every recipient.
	s.SetNeverDeliver(me, AllAccounts, true)
	_, v = p.sendText(other, "two")
	id2 := v["id"].(string)
	assert.Equal(t, "sent", p.nextAck(id2))
	p.none("ack", 100*time.Millisecond)
	require.NoError(t, s.SetMessageStatus(id2, StatusDelivered), "a hook for one message overrides the switch")
	assert.Equal(t, "delivered", p.nextAck(id2))
	s.SetNeverDeliver(me, AllAccounts, false)
}
