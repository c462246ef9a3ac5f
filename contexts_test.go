package wasend

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stubSession is a Session that does nothing, for the unit tests of the
// live state.
type stubSession struct{ id string }

func (s stubSession) SystemID() string { return s.id }
func (s stubSession) SendText(context.Context, string, string) (Receipt, error) {
	return Receipt{}, nil
}
func (s stubSession) Close(context.Context) error { return nil }

func TestRegistry(t *testing.T) {
	r := newRegistry()
	early := SessionEvent{Type: EventQR, SystemID: "s1", QR: "code"}
	assert.Nil(t, r.route(early), "a session not registered yet has no context")
	for range maxEarlyEvents + 10 {
		r.route(SessionEvent{Type: EventQR, SystemID: "s2"})
	}

	a := newLiveContext(1, stubSession{"s1"}, time.Time{})
	got, live, ok := r.add(a)
	require.True(t, ok)
	assert.Same(t, a, live)
	require.Len(t, got, 1, "add returns the events its session sent before")
	assert.Equal(t, early, got[0])
	got, _, _ = r.add(a)
	assert.Empty(t, got, "the early events are handed over once")
	got, _, _ = r.add(newLiveContext(2, stubSession{"s2"}, time.Time{}))
	assert.Len(t, got, maxEarlyEvents, "early events are kept up to a bound")
	assert.Same(t, a, r.route(SessionEvent{SystemID: "s1"}))
	assert.Same(t, a, r.get(1))
	assert.Equal(t, 2, r.len())
	assert.Len(t, r.all(), 2)
	assert.Equal(t, map[int64]Session{1: stubSession{"s1"}, 2: stubSession{"s2"}}, r.sessions())

	late := newLiveContext(1, stubSession{"s1"}, time.Time{})
	_, live, ok = r.add(late)
	require.True(t, ok)
	assert.Same(t, a, live, "the first live context of an id stays; a late one is refused")
	assert.False(t, a.dropped.Load())
	assert.False(t, r.remove(late), "a refused context was never the registry's")
	assert.Same(t, a, r.get(1))
	assert.True(t, r.remove(a))
	assert.True(t, a.dropped.Load())
	assert.Nil(t, r.get(1))
	assert.Nil(t, r.route(SessionEvent{SystemID: "s1"}), "a removed context's session is unknown again")

	assert.Nil(t, r.removeID(1))
	b := r.removeID(2)
	require.NotNil(t, b)
	assert.True(t, b.dropped.Load())

	c, d := newLiveContext(3, stubSession{"s3"}, time.Time{}), newLiveContext(4, stubSession{"s4"}, time.Time{})
	r.add(c)
	r.add(d)
	assert.ElementsMatch(t, []*liveContext{c, d}, r.close())
	assert.True(t, c.dropped.Load() && d.dropped.Load(), "close drops every context")
	assert.Zero(t, r.len())
	_, _, ok = r.add(newLiveContext(5, stubSession{"s5"}, time.Time{}))
	assert.False(t, ok, "no context goes live after close")
	assert.Nil(t, r.get(5))
}
