package chromedpdriver

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
)

// contextStats returns the Stats entry of context id.
func (h *clientHarness) contextStats(id int64) wasend.ContextStats {
	h.t.Helper()
	st, err := h.client.Stats(context.Background())
	require.NoError(h.t, err)
	for _, cs := range st.Contexts {
		if cs.ID == id {
			return cs
		}
	}
	h.t.Fatalf("context %d not in Stats", id)
	return wasend.ContextStats{}
}

// A logged-in context whose browser the Client closed while it was idle
// wakes for a job on its saved profile, without a QR code, and the message
// reaches WhatsApp Web once.
func TestClientHibernatesAndWakesWithoutQR(t *testing.T) {
	t.Parallel()
	f, base := startFake(t)
	p, _ := testPool(t, base)
	h := newClientHarness(t, f, p, wasend.WithHibernation(2*time.Second, 0), wasend.WithCatchUp(0))
	const me, to = "15559400001", "15559400002"
	bc := h.newContext(me)
	first := p.Session(bc.SystemID)
	require.NotNil(t, first)

	require.Eventually(t, func() bool { return h.contextStats(bc.ID).Asleep }, 60*time.Second, 50*time.Millisecond,
		"the idle context sleeps")
	require.Eventually(t, func() bool { return p.Session(bc.SystemID) == nil }, 30*time.Second, 20*time.Millisecond,
		"its browser is closed")
	cs := h.contextStats(bc.ID)
	assert.Equal(t, wasend.ContextAvailable, cs.Status, "a sleeping context stays available")
	assert.Zero(t, cs.MemoryPSS)
	qrs := 0
	for _, ev := range h.events.all() {
		if ev.ContextID == bc.ID && isQR(ev) {
			qrs++
		}
	}

	j, err := h.client.Send(context.Background(), bc.ID, "+"+to, "good morning, sleeper")
	require.NoError(t, err)
	h.waitJob(j.ID, wasend.JobCompleted, 90*time.Second)
	got := f.Received(me, to)
	require.Len(t, got, 1, "sent exactly once")
	assert.Equal(t, "good morning, sleeper", got[0].Text)
	woken := p.Session(bc.SystemID)
	require.NotNil(t, woken, "the job woke the context")
	assert.NotSame(t, first, woken)
	n := 0
	for _, ev := range h.events.all() {
		if ev.ContextID == bc.ID && isQR(ev) {
			n++
		}
		if ev.ContextID == bc.ID && ev.Type == wasend.EventStatus {
			assert.NotEqual(t, wasend.ContextDisconnected, ev.Status, "the context never showed logged out: %v", ev.Err)
		}
	}
	assert.Equal(t, qrs, n, "the wake needed no QR code")
	var asleep, awake int
	for _, ev := range h.events.all() {
		switch {
		case ev.ContextID != bc.ID:
		case ev.Type == wasend.EventAsleep:
			asleep++
		case ev.Type == wasend.EventAwake:
			awake++
		}
	}
	assert.GreaterOrEqual(t, asleep, 1)
	assert.GreaterOrEqual(t, awake, 1)
}
