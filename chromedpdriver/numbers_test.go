package chromedpdriver

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/internal/fakewa"
)

// TestCheckNumber checks numbers through the page, in both markups: on
// WhatsApp, not on it, opened under another number (the country quirks
// of whatsapp-web.md §10.7), behind a restriction's compose bar, and
// never a negative answer when the page cannot tell.
func TestCheckNumber(t *testing.T) {
	t.Parallel()
	for i, markup := range []fakewa.Markup{fakewa.MarkupClassic, fakewa.Markup2026} {
		t.Run(markup.String(), func(t *testing.T) {
			t.Parallel()
			f, base := startFake(t, fakewa.WithMarkup(markup))
			p, logs := testPool(t, base)
			s, rec := launch(t, p, "")
			me := fmt.Sprintf("155500051%02d", i)
			login(t, f, s, rec, 0, me)
			inc := s.current()
			_, err := chromedp.Run(inc.ctx, chromedp.Evaluate[bool]("window.__noReload = true"))
			require.NoError(t, err)
			check := func(phone string) (wasend.NumberInfo, error) {
				return s.CheckNumber(quickCtx(t, 20*time.Second), phone)
			}

			t.Run("on WhatsApp", func(t *testing.T) {
				to := fmt.Sprintf("1555510%d001", i)
				before := time.Now()
				info, err := check("+" + to)
				require.NoError(t, err)
				assert.Equal(t, wasend.NumberInfo{Phone: "+" + to, OnWhatsApp: true, CheckedAt: info.CheckedAt}, info)
				assert.False(t, info.CheckedAt.Before(before))
				assert.Equal(t, to, openTitle(t, s), "the chat is open")
				// A number written with spaces is normalised.
				info, err = check("+1 555 510 " + fmt.Sprintf("%d001", i))
				require.NoError(t, err)
				assert.True(t, info.OnWhatsApp)
				assert.Equal(t, "+"+to, info.Phone)
			})

			t.Run("not on WhatsApp", func(t *testing.T) {
				to := fmt.Sprintf("1555510%d002", i)
				f.SetNotOnWhatsApp(to, true)
				for range 2 { // the dialog is gone after each
					info, err := check("+" + to)
					require.NoError(t, err)
					assert.False(t, info.OnWhatsApp)
					assert.Empty(t, info.Canonical)
					assert.Equal(t, "+"+to, info.Phone)
				}
				info, err := check(fmt.Sprintf("+1555510%d001", i))
				require.NoError(t, err)
				assert.True(t, info.OnWhatsApp, "the next check works")
			})

			t.Run("canonical numbers", func(t *testing.T) {
				for _, c := range []struct{ name, typed, canonical string }{
					{"Brazil without the ninth digit", "5511987654321", "551187654321"},
					{"Brazil with the ninth digit", "552187654321", "5521987654321"},
					{"Mexico without the 1", "5215512345678", "525512345678"},
					{"Argentina without the 9", "5491123456789", "541123456789"},
				} {
					t.Run(c.name, func(t *testing.T) {
						require.NoError(t, f.SetCanonicalNumber(c.typed, c.canonical))
						info, err := check("+" + c.typed)
						require.NoError(t, err)
						assert.True(t, info.OnWhatsApp)
						assert.Equal(t, "+"+c.typed, info.Phone)
						assert.Equal(t, "+"+c.canonical, info.Canonical)
						// The canonical number itself opens as it is.
						info, err = check("+" + c.canonical)
						require.NoError(t, err)
						assert.True(t, info.OnWhatsApp)
						assert.Empty(t, info.Canonical)
						// A send to the typed number is refused at once,
						// before anything is typed: the host sends to
						// Canonical.
						start := time.Now()
						_, err = s.SendText(quickCtx(t, 20*time.Second), "+"+c.typed, "to the typed number")
						require.ErrorIs(t, err, wasend.ErrInvalidPhone)
						assert.NotErrorIs(t, err, wasend.ErrUnconfirmed)
						assert.Less(t, time.Since(start), 10*time.Second, "not the navigation timeout")
					})
				}
			})

			t.Run("restricted account", func(t *testing.T) {
				f.Timelock(me, time.Now().Add(time.Hour), "BULK_MESSAGING")
				defer f.LiftTimelock(me)
				info, err := check(fmt.Sprintf("+1555510%d003", i))
				require.NoError(t, err)
				assert.True(t, info.OnWhatsApp, "the compose bar of a new chat: the number exists")
				f.SetNotOnWhatsApp(fmt.Sprintf("1555510%d004", i), true)
				info, err = check(fmt.Sprintf("+1555510%d004", i))
				require.NoError(t, err)
				assert.False(t, info.OnWhatsApp)
			})

			t.Run("errors are never a negative answer", func(t *testing.T) {
				_, err := s.CheckNumber(quickCtx(t, time.Second), "12ab")
				assert.ErrorIs(t, err, wasend.ErrInvalidPhone)
				_, err = s.CheckNumber(quickCtx(t, 30*time.Millisecond), fmt.Sprintf("+1555510%d005", i))
				require.Error(t, err, "a check cut short")
				assert.ErrorIs(t, err, wasend.ErrTimeout)
			})

			noReload, err := chromedp.Run(inc.ctx, chromedp.Evaluate[bool]("window.__noReload === true"))
			require.NoError(t, err)
			assert.True(t, noReload, "links opened in the app, no reload")
			assert.Empty(t, f.AllReceived(), "nothing sent")
			for _, ts := range []string{"001", "003", "987654321"} {
				assert.Empty(t, f.TypingSpans(me, fmt.Sprintf("1555510%d%s", i, ts)), "nothing typed")
			}
			out := logs.String()
			assert.Contains(t, out, "number checked")
			assert.False(t, strings.Contains(out, "5511987654321") || strings.Contains(out, "551187654321"), "no whole number in the logs")
		})
	}
}
