package wasend

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// queued waits until n wakes wait at g.
func queued(t *testing.T, g *wakeGate, n int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		g.mu.Lock()
		got := len(g.queue)
		g.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d wakes wait for a turn, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// freeTurns returns the turns nobody holds.
func (g *wakeGate) freeTurns() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.free
}

// Waiting wakes get their turns in the order they came, and tryEnter
// never passes one.
func TestWakeGateTurnsInOrder(t *testing.T) {
	g := newWakeGate(1)
	require.NoError(t, g.enter(context.Background()))
	got := make(chan int, 3)
	for i := range 3 {
		go func() {
			if g.enter(context.Background()) == nil {
				got <- i
			}
		}()
		queued(t, g, i+1)
	}
	for want := range 3 {
		assert.False(t, g.tryEnter(), "a turn taken past %d waiting wakes", 3-want)
		g.leave()
		assert.Equal(t, want, <-got)
	}
	g.leave()
	assert.True(t, g.tryEnter(), "the turn is free once nobody waits")
	g.leave()
	assert.Equal(t, 1, g.freeTurns())
}

// A wake whose ctx ends leaves the queue: the wakes behind it move up, and
// the turns are all there afterwards.
func TestWakeGateCancelledWakeLeavesTheQueue(t *testing.T) {
	g := newWakeGate(1)
	require.NoError(t, g.enter(context.Background()))
	ctx, cancel := context.WithCancel(context.Background())
	gaveUp := make(chan error, 1)
	go func() { gaveUp <- g.enter(ctx) }()
	queued(t, g, 1)
	next := make(chan error, 1)
	go func() { next <- g.enter(context.Background()) }()
	queued(t, g, 2)

	cancel()
	require.ErrorIs(t, <-gaveUp, context.Canceled)
	queued(t, g, 1)
	g.leave()
	require.NoError(t, <-next, "the wake behind the cancelled one gets the turn")
	g.leave()
	assert.Equal(t, 1, g.freeTurns())
}

// A wake that gives up as its turn comes passes the turn on: whatever
// the order of leave and cancel, no turn is lost and none is made up.
func TestWakeGateCancelRacesATurn(t *testing.T) {
	for range 500 {
		g := newWakeGate(2)
		require.NoError(t, g.enter(context.Background()))
		require.NoError(t, g.enter(context.Background()))
		ctx, cancel := context.WithCancel(context.Background())
		res := make(chan error, 1)
		go func() { res <- g.enter(ctx) }()
		queued(t, g, 1)
		var wg sync.WaitGroup
		wg.Go(g.leave)
		wg.Go(cancel)
		wg.Wait()
		if <-res == nil {
			g.leave() // it got the turn: it gives it back when done
		}
		g.leave()
		require.Equal(t, 2, g.freeTurns())
		require.Empty(t, g.queue)
	}
}
