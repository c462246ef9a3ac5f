package wasend

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLiveContextLease(t *testing.T) {
	tests := []struct {
		name    string
		until   time.Time
		dropped bool
		valid   bool
		holds   bool
	}{
		{"no leaser", time.Time{}, false, true, true},
		{"lease valid", time.Now().Add(time.Hour), false, true, true},
		{"lease ran out", time.Now().Add(-time.Second), false, false, false},
		{"dropped", time.Time{}, true, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lc := newLiveContext(1, stubSession{"s"}, tt.until)
			lc.dropped.Store(tt.dropped)
			assert.Equal(t, tt.valid, lc.leaseValid(), "leaseValid")
			assert.Equal(t, tt.holds, lc.holds(), "holds")
		})
	}
}

func TestLiveContextLock(t *testing.T) {
	lc := newLiveContext(1, stubSession{"s"}, time.Time{})
	require.True(t, lc.waitLock(context.Background(), nil))
	assert.False(t, lc.tryLock(), "the lock is held")
	stop := make(chan struct{})
	close(stop)
	assert.False(t, lc.waitLock(context.Background(), stop), "a stopped wait gives up")
	assert.Zero(t, lc.waiters.Load(), "a waiter that gave up does not count")

	lc.storeBusy = true
	assert.True(t, lc.needsFree(), "busy in the store, and nobody waits")
	lc.waiters.Add(1)
	assert.False(t, lc.needsFree(), "a waiter keeps the context busy")
	lc.waiters.Add(-1)
	lc.dropped.Store(true)
	assert.False(t, lc.needsFree(), "a context this process no longer holds is not freed by it")

	lc.unlock()
	assert.True(t, lc.tryLock())
}

func TestLiveContextSendTransitions(t *testing.T) {
	at := time.Now()
	lc := newLiveContext(1, stubSession{"s"}, time.Time{})
	tr := lc.busyTransition(at)
	require.NotNil(t, tr)
	assert.Equal(t, ContextBusy, tr.To)
	lc.storeBusy = true
	assert.Nil(t, lc.busyTransition(at), "busy in the store already")
	lc.stale.Store(true)
	assert.NotNil(t, lc.busyTransition(at), "a session event may have changed the status")
	assert.False(t, lc.stale.Load(), "the check consumes stale")

	lc.storeBusy = true
	lc.waiters.Add(1)
	assert.Nil(t, lc.freeTransition(at), "it stays busy for the waiter")
	assert.True(t, lc.storeBusy)
	lc.waiters.Add(-1)
	tr = lc.freeTransition(at)
	require.NotNil(t, tr)
	assert.Equal(t, ContextAvailable, tr.To)
	assert.False(t, lc.storeBusy)
	lc.dropped.Store(true)
	assert.Nil(t, lc.freeTransition(at), "another process holds it now")
}

func TestLiveContextAfterTurn(t *testing.T) {
	tests := []struct {
		name   string
		to     ContextStatus
		event  bool // a session event arrived during the turn
		up     bool // the session's state after that event
		runs   bool
		edge   string
		seen   bool
		upThen bool
	}{
		{"the turn ended well", ContextAvailable, false, true, true, "free", false, true},
		{"the turn saw the session go", ContextDisconnected, false, true, true, "gone", true, false},
		{"the turn saw the page break", ContextError, false, true, true, "broken", true, false},
		{"an event said the session is down", ContextDisconnected, true, false, false, "", false, false},
		{"an event said the session is up", ContextDisconnected, true, true, true, "free", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lc := newLiveContext(1, stubSession{"s"}, time.Time{})
			lc.sessionUp.Store(true)
			gen := lc.statusGen.Load()
			if tt.event {
				lc.reportStatus(tt.up, func() {})
			}
			ran := false
			lc.afterTurn(tt.to, gen, func(e edge[ContextStatus], seen bool) {
				ran = true
				assert.Equal(t, tt.edge, e.name)
				assert.Equal(t, tt.seen, seen)
			})
			assert.Equal(t, tt.runs, ran, "the write runs")
			assert.Equal(t, tt.upThen, lc.sessionUp.Load(), "the session's state")
		})
	}
}

func TestLiveContextWedge(t *testing.T) {
	lc := newLiveContext(1, stubSession{"s"}, time.Time{})
	lc.sessionUp.Store(true)
	h := &hold{lc: lc}
	done := make(chan struct{})
	lc.wedge(h, done)
	assert.True(t, lc.wedged.Load())
	lc.sessionUp.Store(false) // what a send that hung may have concluded
	ran := false
	lc.unwedge(h, func() { ran = true })
	assert.False(t, lc.wedged.Load())
	assert.True(t, lc.sessionUp.Load(), "the session gets back its state from before the hung call")
	assert.True(t, ran, "its status is put back")

	h = &hold{lc: lc}
	lc.wedge(h, done)
	lc.reportStatus(false, func() {}) // the session's own event, during the hung call
	ran = false
	lc.unwedge(h, func() { ran = true })
	assert.False(t, lc.sessionUp.Load(), "the session's own event has the last word")
	assert.False(t, ran)
}

func TestLiveContextConsuming(t *testing.T) {
	lc := newLiveContext(1, stubSession{"s"}, time.Time{})
	ctx, cancel := lc.beginConsuming(context.Background())
	require.NotNil(t, ctx)
	again, _ := lc.beginConsuming(context.Background())
	assert.Nil(t, again, "a context is consumed once")
	lc.stopConsumer()
	assert.Error(t, ctx.Err(), "stopConsumer cancels the consumer")
	cancel()
	lc.doneConsuming()
	ctx, cancel = lc.beginConsuming(context.Background())
	require.NotNil(t, ctx, "a stopped consumer may start again")
	cancel()
	lc.doneConsuming()
	lc.leaseLapsed.Store(true)
	ctx, _ = lc.beginConsuming(context.Background())
	assert.Nil(t, ctx, "a context whose lease lapsed is not consumed")
}
