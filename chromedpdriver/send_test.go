package chromedpdriver

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
)

// sendTimes collects the durations of successful sends for the p50.
var sendTimes struct {
	sync.Mutex
	d []time.Duration
}

func noteSend(d time.Duration) {
	sendTimes.Lock()
	sendTimes.d = append(sendTimes.d, d)
	sendTimes.Unlock()
}

func TestMain(m *testing.M) {
	code := m.Run()
	sendTimes.Lock()
	if n := len(sendTimes.d); n > 0 {
		sort.Slice(sendTimes.d, func(i, j int) bool { return sendTimes.d[i] < sendTimes.d[j] })
		fmt.Printf("chromedpdriver: %d sends against fakewa: p50 %v, p90 %v, max %v\n", n,
			sendTimes.d[n/2].Round(time.Millisecond), sendTimes.d[n*9/10].Round(time.Millisecond), sendTimes.d[n-1].Round(time.Millisecond))
	}
	sendTimes.Unlock()
	os.Exit(code)
}

// fidelityTexts are the texts that must arrive exactly as given.
func fidelityTexts() map[string]string {
	long := strings.Repeat("Lorem ipsum dolor sit amet, consectetur adipiscing elit. ", 60) + "\n" +
		strings.Repeat("0123456789", 130) + "\nend ✓"
	return map[string]string{
		"plain":     "Hello from wasend",
		"newlines":  "first line\nsecond line\n\nfourth after a blank line\n  indented",
		"emoji":     "Family 👨‍👩‍👧‍👦, women 👩‍❤️‍💋‍👩, flag 🇦🇷, skin 👍🏽, keycap 1️⃣, ZWJ 🏳️‍🌈 done",
		"long":      long,
		"rtl":       "مرحبا بالعالم — שלום עולם — mixed עברית and English ١٢٣",
		"html":      `<b>bold</b> &amp; <script>alert(1)</script> <img src=x onerror=alert(2)> &lt;p&gt; "quotes" 'single'`,
		"spaces":    "  two  leading spaces,\ttab, trailing spaces  ",
		"markdown":  "*bold* _italic_ ~strike~ ```mono``` > quote",
		"crlf-like": "a\r\nb",
	}
}

func TestSendTextFidelityAndFind(t *testing.T) {
	t.Parallel()
	f, base := startFake(t)
	p, logs := testPool(t, base)
	s, rec := launch(t, p, "")
	const me = "15550001000"
	login(t, f, s, rec, 0, me)

	// The page sees a desktop Chrome, not HeadlessChrome.
	inc := s.current()
	ua, err := chromedp.Run(inc.ctx, chromedp.Evaluate[string]("navigator.userAgent + '|' + navigator.userAgentData.brands.map(b => b.brand).join(',') + '|' + navigator.webdriver"))
	require.NoError(t, err)
	assert.NotContains(t, ua, "Headless")
	assert.Contains(t, ua, "Chrome/")
	assert.True(t, strings.HasSuffix(ua, "|false"), "navigator.webdriver is false: %s", ua)

	// Sends open chats inside the app: the page is never reloaded.
	_, err = chromedp.Run(inc.ctx, chromedp.Evaluate[bool]("window.__noReload = true"))
	require.NoError(t, err)

	texts := fidelityTexts()
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range texts {
			if !yield(k) {
				return
			}
		}
	})
	for i, name := range names {
		text := texts[name]
		to := fmt.Sprintf("1555200%04d", i)
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			r, err := s.SendText(quickCtx(t, 20*time.Second), "+"+to, text)
			require.NoError(t, err)
			noteSend(time.Since(start))
			got := f.Received(me, to)
			require.Len(t, got, 1, "exactly one message")
			assert.Equal(t, normText(text), got[0].Text, "text intact")
			assert.Equal(t, "true_"+to+"@c.us_"+got[0].ID, r.MessageID, "receipt carries the row's data-id")
			assert.False(t, r.SentAt.IsZero())
		})
	}

	t.Run("same chat twice", func(t *testing.T) {
		const to = "15552009999"
		for i := range 3 {
			start := time.Now()
			_, err := s.SendText(quickCtx(t, 20*time.Second), "+"+to, fmt.Sprintf("repeat %d", i))
			require.NoError(t, err)
			noteSend(time.Since(start))
		}
		got := f.Received(me, to)
		require.Len(t, got, 3)
		for i, m := range got {
			assert.Equal(t, fmt.Sprintf("repeat %d", i), m.Text)
		}
		noReload, err := chromedp.Run(inc.ctx, chromedp.Evaluate[bool]("window.__noReload === true"))
		require.NoError(t, err)
		assert.True(t, noReload, "in-app navigation, no reload")
	})

	t.Run("find sent", func(t *testing.T) {
		const to = "15552008888"
		since := time.Now().Add(-2 * time.Second)
		r, err := s.SendText(quickCtx(t, 20*time.Second), "+"+to, "find me\nplease")
		require.NoError(t, err)
		// Move away, so that FindSent opens the chat again.
		_, err = s.SendText(quickCtx(t, 20*time.Second), "+15552007777", "elsewhere")
		require.NoError(t, err)

		find := func(to, text string, since time.Time) (wasend.Receipt, bool, error) {
			return s.FindSent(quickCtx(t, 20*time.Second), wasend.SentQuery{To: "+" + to, Text: text, Since: since})
		}
		got, found, err := find(to, "find me\nplease", since)
		require.NoError(t, err)
		assert.True(t, found)
		assert.Equal(t, r.MessageID, got.MessageID)
		assert.WithinDuration(t, time.Now(), got.SentAt, 2*time.Minute)

		_, found, err = find(to, "find me", since)
		require.NoError(t, err)
		assert.False(t, found, "another text")
		_, found, err = find(to, "find me\nplease", time.Now().Add(2*time.Minute))
		require.NoError(t, err)
		assert.False(t, found, "sent before since")
		_, found, err = find("15552006666", "find me\nplease", since)
		require.NoError(t, err)
		assert.False(t, found, "an empty chat")
	})

	t.Run("invalid number", func(t *testing.T) {
		f.SetNotOnWhatsApp("15559990000", true)
		for _, to := range []string{"+15559990000", "+15559990000"} {
			_, err := s.SendText(quickCtx(t, 20*time.Second), to, "nobody")
			require.ErrorIs(t, err, wasend.ErrNotOnWhatsApp)
			assert.False(t, wasend.Retryable(err), "permanent")
			assert.NotErrorIs(t, err, wasend.ErrUnconfirmed)
		}
		_, found, err := s.FindSent(quickCtx(t, 20*time.Second), wasend.SentQuery{To: "+15559990000", Text: "nobody", Since: time.Now().Add(-time.Hour)})
		require.NoError(t, err)
		assert.False(t, found)
		// The dialog is gone: the next send works.
		_, err = s.SendText(quickCtx(t, 20*time.Second), "+15552005555", "after the dialog")
		require.NoError(t, err)
		assert.Empty(t, f.Received(me, "15559990000"))
		assert.Len(t, f.Received(me, "15552005555"), 1)
	})

	t.Run("phone offline", func(t *testing.T) {
		const to = "15552004444"
		f.SetPhoneOnline(me, false)
		since := time.Now()
		// 5 s: under load, 2 s could run out before the page showed the
		// phone offline (it failed so once, as a bare timeout).
		_, err := s.SendText(quickCtx(t, 5*time.Second), "+"+to, "while offline")
		require.Error(t, err)
		assert.ErrorIs(t, err, wasend.ErrUnconfirmed, "after the click")
		assert.ErrorIs(t, err, wasend.ErrPhoneOffline)
		assert.ErrorIs(t, err, wasend.ErrTimeout)
		assert.True(t, wasend.Retryable(err))
		_, gone := wasend.SessionStatus(err)
		assert.False(t, gone, "the session itself is fine")
		assert.Empty(t, f.Received(me, to))

		// A timeout leaves a screenshot and the HTML, named without text.
		ents, err := os.ReadDir(p.cfg.debugDir)
		require.NoError(t, err)
		require.NotEmpty(t, ents)
		for _, e := range ents {
			assert.NotContains(t, e.Name(), "offline")
			assert.NotContains(t, e.Name(), to)
			assert.Contains(t, e.Name(), "confirm")
		}

		f.SetPhoneOnline(me, true)
		require.Eventually(t, func() bool { return len(f.Received(me, to)) == 1 }, 10*time.Second, 20*time.Millisecond)
		// The guard finds it: the Client would not send it again.
		_, found, err := s.FindSent(quickCtx(t, 20*time.Second), wasend.SentQuery{To: "+" + to, Text: "while offline", Since: since})
		require.NoError(t, err)
		assert.True(t, found)
	})

	t.Run("app not loaded", func(t *testing.T) {
		// With the app gone, the chat opens through a full load of the
		// chat link.
		ctx := quickCtx(t, 20*time.Second)
		require.NoError(t, s.lock(ctx))
		inc := s.current()
		require.NoError(t, chromedp.Do(inc.ctx, chromedp.Navigate("about:blank")))
		err := s.openChat(ctx, inc, s.selectors(), "15552003333")
		s.unlock()
		require.NoError(t, err)
		_, err = s.SendText(ctx, "+15552003333", "after a full load")
		require.NoError(t, err)
		assert.Len(t, f.Received(me, "15552003333"), 1)

		// A page that left WhatsApp Web is brought back by the monitor.
		require.NoError(t, s.lock(ctx))
		require.NoError(t, chromedp.Do(inc.ctx, chromedp.Navigate("about:blank")))
		s.unlock()
		require.Eventually(t, func() bool {
			u, err := chromedp.Run(inc.ctx, chromedp.Evaluate[string]("location.href"))
			return err == nil && strings.HasPrefix(u, base) && s.State() == StateReady
		}, 15*time.Second, 50*time.Millisecond)
		_, err = s.SendText(ctx, "+15552003333", "after the monitor's reload")
		require.NoError(t, err)
	})

	t.Run("input errors", func(t *testing.T) {
		_, err := s.SendText(quickCtx(t, time.Second), "12ab", "x")
		assert.ErrorIs(t, err, wasend.ErrInvalidPhone)
		_, err = s.SendText(quickCtx(t, time.Second), "+15551234567", " \n ")
		assert.ErrorIs(t, err, wasend.ErrEmptyText)
	})

	t.Run("memory and pids", func(t *testing.T) {
		pids := s.pids()
		require.NotEmpty(t, pids)
		assert.Greater(t, len(pids), 1, "the browser and its children")
		m, err := s.Memory()
		require.NoError(t, err)
		assert.Greater(t, m.PSS, int64(20<<20))
		assert.Greater(t, m.USS, int64(0))
		assert.LessOrEqual(t, m.USS, m.PSS, "private pages are part of the proportional set")
		assert.Greater(t, m.Processes, 1, "the browser and its children")
		pss, err := s.MemoryPSS()
		require.NoError(t, err)
		assert.InDelta(t, m.PSS, pss, float64(m.PSS)/2, "MemoryPSS is Memory's PSS")
		t.Logf("browser PSS %d MiB, USS %d MiB, over %d processes", m.PSS>>20, m.USS>>20, m.Processes)
	})

	// Neither message text nor whole numbers reach the logs.
	out := logs.String()
	for name, text := range fidelityTexts() {
		for _, line := range strings.Split(text, "\n") {
			if len(strings.TrimSpace(line)) >= 6 {
				assert.NotContains(t, out, line, "text of %s in the logs", name)
			}
		}
	}
	assert.NotContains(t, out, "15552004444")
	assert.NotContains(t, out, me)

	require.NoError(t, s.Close(context.Background()))
	require.NoError(t, s.Close(context.Background()), "idempotent")
	assert.Equal(t, StateClosed, s.State())
	_, err = s.SendText(quickCtx(t, time.Second), "+15551234567", "after close")
	assert.ErrorIs(t, err, wasend.ErrDisconnected)
	_, err = s.Memory()
	assert.ErrorIs(t, err, wasend.ErrDisconnected, "no browser after close")
}

// TestRejectWatchEndsAtDelivery: the watch for a rejection after the tick
// ends when the row shows delivered, as no rejection comes after that; a
// message that stays at one tick is watched to the end of the watch, and
// the send still succeeds.
func TestRejectWatchEndsAtDelivery(t *testing.T) {
	t.Parallel()
	f, base := startFake(t)
	p, _ := testPool(t, base, WithRejectWatch(time.Minute))
	s, rec := launch(t, p, "")
	const me, to, stuck = "15550004301", "15554301001", "15554301002"
	login(t, f, s, rec, 0, me)
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	r, err := s.SendText(ctx, "+"+to, "delivered soon")
	require.NoError(t, err)
	assert.NotEmpty(t, r.MessageID)
	assert.NoError(t, ctx.Err(), "the send returned at delivery, not at the end of its minute of watch")

	// A message left at one tick is watched for the whole watch (here one
	// second): the send cannot return before it.
	const me2 = "15550004302"
	f.SetNeverDeliver(me2, stuck, true)
	p2, _ := testPool(t, base, WithRejectWatch(time.Second))
	s2, rec2 := launch(t, p2, "")
	login(t, f, s2, rec2, 0, me2)
	start := time.Now()
	_, err = s2.SendText(quickCtx(t, 20*time.Second), "+"+stuck, "one tick only")
	require.NoError(t, err)
	assert.GreaterOrEqual(t, time.Since(start), time.Second, "the watch ran to its end")
}
