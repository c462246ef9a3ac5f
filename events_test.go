package wasend_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/wasendtest"
)

func TestEventsReachTheHostWithContextID(t *testing.T) {
	h := newHarness(t, harnessOpt{pool: []wasendtest.Option{wasendtest.WithAutoLogin(false)}})
	bc, err := h.client.CreateContext(bg)
	require.NoError(t, err)
	assert.Equal(t, wasend.ContextDisconnected, bc.Status)
	eventually(t, func() bool { return len(h.events.all()) >= 1 }, "the QR event")
	ev := h.events.all()[0]
	assert.Equal(t, wasend.EventQR, ev.Type)
	assert.Equal(t, bc.ID, ev.ContextID, "events sent before the context had an id are replayed with it")
	assert.NotEmpty(t, ev.QR)
	h.pool.Session(bc.SystemID).Login()
	h.waitContext(bc.ID, wasend.ContextAvailable)
	eventually(t, func() bool { return len(h.events.all()) >= 2 }, "the status event")
	assert.Equal(t, wasend.ContextAvailable, h.events.all()[1].Status)
}
