package chromedpdriver

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/internal/fakewa"
)

func loadTestSelectors(t *testing.T) SelectorSet {
	t.Helper()
	fh, err := os.Open("testdata/selectors.json")
	require.NoError(t, err)
	defer fh.Close()
	set, err := LoadSelectors(fh)
	require.NoError(t, err)
	return set
}

func TestSelectorSetOverride(t *testing.T) {
	t.Parallel()
	// Newer builds write a bare hash in data-id; the overridden set finds
	// the rows by class only.
	f, base := startFake(t, fakewa.WithIDStyle(fakewa.IDStyleHash), fakewa.WithStartingChatDelay(300*time.Millisecond))
	set := loadTestSelectors(t)
	p, _ := testPool(t, base, WithSelectors(set))
	s, rec := launch(t, p, "")
	const me = "15550003000"
	login(t, f, s, rec, 0, me)
	since := time.Now()
	for _, to := range []string{"15553001111", "15553002222"} {
		start := time.Now()
		r, err := s.SendText(quickCtx(t, 20*time.Second), "+"+to, "through the overridden set\nline 2")
		require.NoError(t, err)
		noteSend(time.Since(start))
		got := f.Received(me, to)
		require.Len(t, got, 1)
		assert.Equal(t, "through the overridden set\nline 2", got[0].Text)
		assert.Equal(t, got[0].ID, r.MessageID, "a bare hash id")
	}
	r, found, err := s.FindSent(quickCtx(t, 20*time.Second), wasend.SentQuery{To: "+15553001111", Text: "through the overridden set\nline 2", Since: since})
	require.NoError(t, err)
	assert.True(t, found)
	assert.Regexp(t, `^[0-9A-F]{32}$`, r.MessageID)
	_, err = s.SendText(quickCtx(t, 20*time.Second), "+15553003333", "a third chat")
	require.NoError(t, err)
}

func TestSelectorSetTypedFallback(t *testing.T) {
	t.Parallel()
	f, base := startFake(t)
	p, _ := testPool(t, base, WithMode(Ephemeral))
	p.typeOnly = true // the paste is skipped: the text is typed line by line
	s, rec := launch(t, p, "")
	const me = "15550003500"
	login(t, f, s, rec, 0, me)
	for i, text := range []string{"typed\nwith\n\nbreaks 😀 and ZWJ 👩‍💻", fidelityTexts()["rtl"], fidelityTexts()["html"]} {
		to := "1555350000" + string(rune('0'+i))
		_, err := s.SendText(quickCtx(t, 20*time.Second), "+"+to, text)
		require.NoError(t, err)
		got := f.Received(me, to)
		require.Len(t, got, 1)
		assert.Equal(t, text, got[0].Text)
	}
}

func TestSelectorSetBroken(t *testing.T) {
	t.Parallel()
	f, base := startFake(t)
	p, _ := testPool(t, base, WithMode(Ephemeral), WithNavigationTimeout(4*time.Second))

	t.Run("main screen", func(t *testing.T) {
		set := DefaultSelectors()
		set.Name = "broken-main"
		set.SearchBox = []string{"div[", "#no-such-search"}
		s, rec := launch(t, p, "")
		require.NoError(t, s.SetSelectors(set))
		ev := rec.waitFrom(t, 0, 10*time.Second, "qr", isQR)
		require.NoError(t, f.Scan(quickCtx(t, 10*time.Second), ev.QR, "15550004001"))
		ev = rec.waitFrom(t, 0, 15*time.Second, "error", isStatus(wasend.ContextError, wasend.ErrSelectors))
		var se *SelectorError
		require.True(t, errors.As(ev.Err, &se), "a *SelectorError: %v", ev.Err)
		assert.Equal(t, []string{"search_box"}, se.Keys)
		assert.Equal(t, "main", se.Step)
		assert.Contains(t, ev.Err.Error(), "broken-main@2026.3")
		for _, e := range rec.all() {
			assert.NotEqual(t, wasend.ContextAvailable, e.Status, "never available with a broken set")
		}
		assert.ErrorIs(t, s.WaitReady(quickCtx(t, time.Second)), wasend.ErrSelectors)
		_, err := s.SendText(quickCtx(t, 5*time.Second), "+15554001111", "x")
		assert.ErrorIs(t, err, wasend.ErrSelectors)
		st, _ := wasend.SessionStatus(err)
		assert.Equal(t, wasend.ContextError, st)

		// A fixed set brings the session back without a restart.
		require.NoError(t, s.SetSelectors(DefaultSelectors()))
		require.NoError(t, s.WaitReady(quickCtx(t, 10*time.Second)))
		rec.waitFrom(t, 0, 5*time.Second, "available", isStatus(wasend.ContextAvailable, nil))
		_, err = s.SendText(quickCtx(t, 20*time.Second), "+15554001111", "fixed")
		require.NoError(t, err)
		require.NoError(t, s.Close(context.Background()))
	})

	t.Run("chat", func(t *testing.T) {
		set := DefaultSelectors()
		set.Name = "broken-chat"
		set.Compose = []string{"#no-such-compose"}
		// A pool of its own: the chat must open, and then lack its compose
		// box for 2 s, within the navigation timeout, which the shared
		// pool keeps short (4 s) for the subtest "page states".
		p, _ := testPool(t, base, WithMode(Ephemeral), WithNavigationTimeout(30*time.Second))
		s, rec := launch(t, p, "")
		require.NoError(t, s.SetSelectors(set))
		login(t, f, s, rec, 0, "15550004002")
		from := rec.len()
		_, err := s.SendText(quickCtx(t, time.Minute), "+15554002222", "never typed")
		require.ErrorIs(t, err, wasend.ErrSelectors)
		assert.NotErrorIs(t, err, wasend.ErrUnconfirmed, "before the click")
		var se *SelectorError
		require.True(t, errors.As(err, &se))
		assert.Equal(t, []string{"compose"}, se.Keys)
		rec.waitFrom(t, from, 5*time.Second, "error", isStatus(wasend.ContextError, wasend.ErrSelectors))
		time.Sleep(300 * time.Millisecond)
		assert.Equal(t, StateBroken, s.State(), "the monitor keeps the error")
		assert.Empty(t, f.Received("15550004002", "15554002222"))
		require.NoError(t, s.Close(context.Background()))
	})

	t.Run("page states", func(t *testing.T) {
		set := DefaultSelectors()
		set.Name = "broken-states"
		set.LoggedIn = []string{"#no-such-pane"}
		s, rec := launch(t, p, "")
		require.NoError(t, s.SetSelectors(set))
		ev := rec.waitFrom(t, 0, 10*time.Second, "qr", isQR)
		require.NoError(t, f.Scan(quickCtx(t, 10*time.Second), ev.QR, "15550004003"))
		ev = rec.waitFrom(t, 0, 15*time.Second, "error", isStatus(wasend.ContextError, wasend.ErrSelectors))
		assert.Contains(t, ev.Err.Error(), "logged_in")
		require.NoError(t, s.Close(context.Background()))
	})
}
