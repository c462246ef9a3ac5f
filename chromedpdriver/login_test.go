package chromedpdriver

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/internal/fakewa"
)

func TestLoginQRRefreshAndRestart(t *testing.T) {
	t.Parallel()
	// A cycle lasts 3 s (2 s, then two refreshes of 500 ms), and the
	// session reloads it twice: the scan below has about 6 s, and the
	// monitor (every 100 ms) sees each code, even on a loaded machine.
	f, base := startFake(t, fakewa.WithQRFirst(2*time.Second), fakewa.WithQRRotate(500*time.Millisecond), fakewa.WithQRMaxRefreshes(2))
	p, _ := testPool(t, base, WithQRReloadLimit(2))
	s, rec := launch(t, p, "")
	assert.Regexp(t, `^persistent:[0-9a-f]{20}$`, s.SystemID())
	assert.LessOrEqual(t, len(s.SystemID()), 100)

	// Launch returned before the login; the QR code and its refreshes
	// arrive as events, and the expired code is reloaded once.
	distinct := func() []string {
		var out []string
		for _, ev := range rec.all() {
			if isQR(ev) && (len(out) == 0 || out[len(out)-1] != ev.QR) {
				out = append(out, ev.QR)
			}
		}
		return out
	}
	require.Eventually(t, func() bool { return len(distinct()) >= 4 }, 20*time.Second, 20*time.Millisecond,
		"the first code, two refreshes and a reloaded one; got %d", len(distinct()))
	for _, qr := range distinct() {
		assert.Regexp(t, `^2@`, qr)
	}
	assert.Equal(t, StateQR, s.State())
	for _, ev := range rec.all() {
		assert.NotEqual(t, wasend.EventStatus, ev.Type, "a new session waiting for its scan reports no status")
	}

	// Scan the newest code; it may rotate under us.
	const me = "15550002000"
	ctx := quickCtx(t, 20*time.Second)
	require.Eventually(t, func() bool {
		q := distinct()
		err := f.Scan(ctx, q[len(q)-1], me)
		return err == nil || !(errors.Is(err, fakewa.ErrQRExpired) || errors.Is(err, fakewa.ErrUnknownQR))
	}, 10*time.Second, 50*time.Millisecond)
	require.NoError(t, s.WaitReady(ctx))
	ev := rec.waitFrom(t, 0, 5*time.Second, "available", isStatus(wasend.ContextAvailable, nil))
	assert.Equal(t, s.SystemID(), ev.SystemID)
	_, err := s.SendText(quickCtx(t, 20*time.Second), "+15552001111", "before the restart")
	require.NoError(t, err)

	// The same profile can be opened once.
	_, err = p.Launch(ctx, wasend.LaunchRequest{SystemID: s.SystemID()})
	assert.ErrorIs(t, err, ErrProfileInUse)

	// A graceful close keeps the login: the restart reaches ready with no
	// QR code.
	dir := s.dir
	pid := s.pids()[0]
	require.NoError(t, s.Close(ctx))
	assert.False(t, processAlive(pid), "the browser exited")
	assert.Empty(t, dirProcesses(dir), "no process left on the profile")
	s2, rec2 := launch(t, p, s.SystemID())
	assert.Equal(t, dir, s2.dir)
	require.NoError(t, s2.WaitReady(ctx))
	for _, ev := range rec2.all() {
		assert.NotEqual(t, wasend.EventQR, ev.Type, "no QR code after a restart")
	}
	rec2.waitFrom(t, 0, 5*time.Second, "available", isStatus(wasend.ContextAvailable, nil))
	_, err = s2.SendText(quickCtx(t, 20*time.Second), "+15552001111", "after the restart")
	require.NoError(t, err)
	assert.Len(t, f.Received(me, "15552001111"), 2)

	// A logout from the phone: status disconnected with ErrLoggedOut and a
	// new QR code; a send reports ErrLoggedOut.
	from := rec2.len()
	f.Logout(me)
	rec2.waitFrom(t, from, 10*time.Second, "logged out", isStatus(wasend.ContextDisconnected, wasend.ErrLoggedOut))
	rec2.waitFrom(t, from, 10*time.Second, "qr", isQR)
	_, err = s2.SendText(quickCtx(t, 5*time.Second), "+15552001111", "logged out")
	assert.ErrorIs(t, err, wasend.ErrLoggedOut)
	st, gone := wasend.SessionStatus(err)
	assert.True(t, gone)
	assert.Equal(t, wasend.ContextDisconnected, st)
	login(t, f, s2, rec2, from, me)
}

func TestPairingCode(t *testing.T) {
	t.Parallel()
	f, base := startFake(t)
	p, _ := testPool(t, base, WithMode(Ephemeral))
	s, rec := launch(t, p, "")
	assert.Regexp(t, `^ephemeral:`, s.SystemID())
	rec.waitFrom(t, 0, 10*time.Second, "qr", isQR)

	code, err := s.RequestPairingCode(quickCtx(t, 20*time.Second), "+44 7700 900123")
	require.NoError(t, err)
	assert.Regexp(t, `^[0-9A-Z]{8}$`, code)
	ev := rec.waitFrom(t, 0, 5*time.Second, "pairing code", func(ev wasend.SessionEvent) bool { return ev.Type == wasend.EventPairingCode })
	assert.Equal(t, code, ev.Code)
	assert.Equal(t, StatePairing, s.State())

	require.NoError(t, f.ConfirmPairingCode(quickCtx(t, 10*time.Second), code, "447700900123"))
	require.NoError(t, s.WaitReady(quickCtx(t, 10*time.Second)))
	rec.waitFrom(t, 0, 5*time.Second, "available", isStatus(wasend.ContextAvailable, nil))
	_, err = s.RequestPairingCode(quickCtx(t, 5*time.Second), "+447700900123")
	assert.ErrorIs(t, err, ErrLoggedIn)
	n := 0
	for _, ev := range rec.all() {
		if ev.Type == wasend.EventPairingCode {
			n++
		}
	}
	assert.Equal(t, 1, n, "one event per code")
	// The number was typed without the browser's input: the page has no
	// focus, and WhatsApp Web marks no chat read.
	focus, err := chromedp.Run(s.current().ctx, chromedp.Evaluate[bool]("document.hasFocus()"))
	require.NoError(t, err)
	assert.False(t, focus)
}

func TestUnsupportedBrowser(t *testing.T) {
	t.Parallel()
	_, base := startFake(t, fakewa.WithMinChromeMajor(999))
	p, _ := testPool(t, base, WithMode(Ephemeral))
	s, rec := launch(t, p, "")
	ev := rec.waitFrom(t, 0, 10*time.Second, "error", isStatus(wasend.ContextError, wasend.ErrUnsupportedBrowser))
	assert.ErrorIs(t, ev.Err, wasend.ErrUnsupportedBrowser)
	err := s.WaitReady(quickCtx(t, 5*time.Second))
	assert.ErrorIs(t, err, wasend.ErrUnsupportedBrowser)
	assert.Equal(t, StateUnsupported, s.State())
	_, err = s.SendText(quickCtx(t, 5*time.Second), "+15551234567", "x")
	assert.ErrorIs(t, err, wasend.ErrUnsupportedBrowser)
	st, _ := wasend.SessionStatus(err)
	assert.Equal(t, wasend.ContextError, st)
	for _, ev := range rec.all() {
		assert.NotEqual(t, wasend.EventQR, ev.Type)
	}
	require.NoError(t, s.Close(context.Background()))
}
