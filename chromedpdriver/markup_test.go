package chromedpdriver

import (
	"context"
	"errors"
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

// loseClicks makes the page ignore the send button and Enter while lose
// is true: the click of a send is lost. It returns a channel that is
// closed once the page has swallowed an Enter, the driver's last try.
func loseClicks(t *testing.T, s *Session, lose bool) <-chan struct{} {
	t.Helper()
	ctx := s.current().ctx
	_, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(`(() => {
		window.__lose = %t;
		window.__swallowed = false;
		if (window.__loseHooked) return true;
		window.__loseHooked = true;
		const stop = e => {
			if (!window.__lose) return;
			const send = e.type === 'click' && e.target.closest && e.target.closest("button[aria-label='Send']");
			const enter = e.type === 'keydown' && e.key === 'Enter';
			if (!send && !enter) return;
			e.stopImmediatePropagation();
			e.preventDefault();
			if (enter) window.__swallowed = true;
		};
		window.addEventListener('click', stop, true);
		window.addEventListener('keydown', stop, true);
		return true;
	})()`, lose)))
	require.NoError(t, err)
	done := make(chan struct{})
	if !lose {
		close(done)
		return done
	}
	go func() {
		defer close(done)
		pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		_, _ = chromedp.Run(pctx, chromedp.Poll[bool]("window.__swallowed === true", chromedp.WithPollingInterval(20*time.Millisecond)))
	}()
	return done
}

// selectors2026_1 is the default set before the 2026 markup: it finds
// outgoing and incoming rows by data-id prefix and class only.
func selectors2026_1() SelectorSet {
	set := DefaultSelectors()
	set.Version = "2026.1"
	set.OutRow = []string{"#main [data-id^='true_']", "#main div.message-out"}
	set.InRow = []string{"#main [data-id^='false_']", "#main div.message-in"}
	return set
}

// TestMarkups runs the paths that read the chat's markup (send, confirm,
// the mark, FindSent, the invalid-number dialog) against the classic and
// the mid-2026 markup of the imitation, with the default selector set.
func TestMarkups(t *testing.T) {
	t.Parallel()
	for i, mk := range []struct {
		markup fakewa.Markup
		dataID func(to string, m fakewa.Message) string
	}{
		{fakewa.MarkupClassic, func(to string, m fakewa.Message) string { return "true_" + to + "@c.us_" + m.ID }},
		{fakewa.Markup2026, func(_ string, m fakewa.Message) string { return m.ID }},
	} {
		t.Run(mk.markup.String(), func(t *testing.T) {
			t.Parallel()
			f, base := startFake(t, fakewa.WithMarkup(mk.markup))
			p, logs := testPool(t, base)
			s, rec := launch(t, p, "")
			me := fmt.Sprintf("155500021%02d", i)
			login(t, f, s, rec, 0, me)
			num := func(n int) string { return fmt.Sprintf("1555210%d%03d", i, n) }
			received := func(to string) []fakewa.Message { return f.Received(me, to) }
			find := func(q wasend.SentQuery) (wasend.Receipt, bool, error) {
				return s.FindSent(quickCtx(t, 20*time.Second), q)
			}
			const code = "Your code is 482913"

			t.Run("send, confirm and find", func(t *testing.T) {
				to := num(1)
				// The contact wrote the same text first: an incoming row is
				// neither in the mark nor found.
				_, err := f.Incoming(me, to, code)
				require.NoError(t, err)
				since := time.Now()
				ctx, mark := traced(quickCtx(t, 20*time.Second), nil)
				r, err := s.SendText(ctx, "+"+to, code)
				require.NoError(t, err)
				got := received(to)
				require.Len(t, got, 1)
				assert.Equal(t, mk.dataID(to, got[0]), r.MessageID, "the receipt is the row's data-id")
				assert.Equal(t, `{"v":1,"n":0}`, mark.get(), "no outgoing row before")

				for _, m := range []string{mark.get(), ""} {
					fr, found, err := find(wasend.SentQuery{To: "+" + to, Text: code, Since: since, Mark: m})
					require.NoError(t, err)
					assert.True(t, found, "mark %q", m)
					assert.Equal(t, r.MessageID, fr.MessageID)
				}
				_, found, err := find(wasend.SentQuery{To: "+" + to, Text: "Your code is 482914", Since: since})
				require.NoError(t, err)
				assert.False(t, found, "another text")

				// A chat where only the contact wrote the text.
				_, err = f.Incoming(me, num(2), code)
				require.NoError(t, err)
				_, found, err = find(wasend.SentQuery{To: "+" + num(2), Text: code, Since: since})
				require.NoError(t, err)
				assert.False(t, found, "an incoming row is not a sent message")
			})

			// Defect 2: the same text twice to one number within a minute.
			t.Run("the second click is lost", func(t *testing.T) {
				to := num(3)
				since := time.Now()
				first, err := s.SendText(quickCtx(t, 20*time.Second), "+"+to, code)
				require.NoError(t, err)

				// The send is cut short once its Enter, after the click,
				// was swallowed too.
				base, cancel := context.WithCancel(quickCtx(t, 30*time.Second))
				defer cancel()
				ctx, mark := traced(base, func(string) error {
					swallowed := loseClicks(t, s, true)
					go func() {
						<-swallowed
						cancel()
					}()
					return nil
				})
				_, err = s.SendText(ctx, "+"+to, code)
				loseClicks(t, s, false)
				require.ErrorIs(t, err, wasend.ErrUnconfirmed, "the click was made")
				assert.Equal(t, 1, mark.count(), "one mark per send, though Enter followed the click")
				require.Len(t, received(to), 1, "the second message never left")
				pm, err := parseMark(mark.get())
				require.NoError(t, err)
				assert.Equal(t, []string{first.MessageID}, pm.IDs, "the mark names the first message's row")

				q := wasend.SentQuery{To: "+" + to, Text: code, Since: since, Mark: mark.get()}
				_, found, err := find(q)
				require.NoError(t, err)
				assert.False(t, found, "the first message is not the second")

				// Without the mark, the time rule takes the first for the second.
				q.Mark = ""
				r, found, err := find(q)
				require.NoError(t, err)
				assert.True(t, found)
				assert.Equal(t, first.MessageID, r.MessageID)
			})

			t.Run("the second arrived unconfirmed", func(t *testing.T) {
				to := num(4)
				since := time.Now()
				_, err := s.SendText(quickCtx(t, 20*time.Second), "+"+to, code)
				require.NoError(t, err)

				// The second reaches the server, but its tick never comes;
				// the send is cut short once the server has it.
				f.SetStuckPending(me, true)
				base, cancel := context.WithCancel(quickCtx(t, 30*time.Second))
				defer cancel()
				go func() {
					for len(received(to)) < 2 && base.Err() == nil {
						time.Sleep(10 * time.Millisecond)
					}
					cancel()
				}()
				ctx, mark := traced(base, nil)
				_, err = s.SendText(ctx, "+"+to, code)
				require.ErrorIs(t, err, wasend.ErrUnconfirmed)
				f.SetStuckPending(me, false)
				got := received(to)
				require.Len(t, got, 2)

				// Read from another chat, so that the lookup opens it again.
				_, err = s.SendText(quickCtx(t, 20*time.Second), "+"+num(5), "elsewhere")
				require.NoError(t, err)
				r, found, err := find(wasend.SentQuery{To: "+" + to, Text: code, Since: since, Mark: mark.get()})
				require.NoError(t, err)
				assert.True(t, found)
				assert.Equal(t, mk.dataID(to, got[1]), r.MessageID, "the second message, not the first")
			})

			t.Run("the host refuses the mark", func(t *testing.T) {
				to := num(6)
				refused := errors.New("store down")
				ctx, mark := traced(quickCtx(t, 20*time.Second), func(string) error { return refused })
				_, err := s.SendText(ctx, "+"+to, code)
				require.ErrorIs(t, err, refused)
				assert.NotErrorIs(t, err, wasend.ErrUnconfirmed, "nothing was sent")
				assert.Equal(t, 1, mark.count())
				time.Sleep(300 * time.Millisecond)
				assert.Empty(t, received(to))
				// The page is left usable: the next send goes out, once.
				_, err = s.SendText(quickCtx(t, 20*time.Second), "+"+to, code)
				require.NoError(t, err)
				assert.Len(t, received(to), 1)
			})

			t.Run("invalid number", func(t *testing.T) {
				f.SetNotOnWhatsApp("15559990000", true)
				_, err := s.SendText(quickCtx(t, 20*time.Second), "+15559990000", "nobody")
				require.ErrorIs(t, err, wasend.ErrNotOnWhatsApp)
				assert.NotErrorIs(t, err, wasend.ErrUnconfirmed)
				_, found, err := find(wasend.SentQuery{To: "+15559990000", Text: "nobody", Since: time.Now().Add(-time.Hour)})
				require.NoError(t, err)
				assert.False(t, found)
				_, err = s.SendText(quickCtx(t, 20*time.Second), "+"+num(7), "after the dialog")
				require.NoError(t, err)
				assert.Empty(t, f.Received(me, "15559990000"))
			})

			if mk.markup == fakewa.Markup2026 {
				// Defect 9 as reported: the set of before the 2026 markup
				// clicks, cannot find the row, and puts the context in
				// error; after a restart its lookup must not say "not
				// found", or the message is sent again and again.
				t.Run("the 2026.1 set", func(t *testing.T) {
					to := num(8)
					require.NoError(t, s.SetSelectors(selectors2026_1()))
					require.NoError(t, s.WaitReady(quickCtx(t, 10*time.Second)))
					from := rec.len()
					since := time.Now()
					ctx, mark := traced(quickCtx(t, 20*time.Second), nil)
					_, err := s.SendText(ctx, "+"+to, code)
					require.ErrorIs(t, err, wasend.ErrSelectors)
					assert.ErrorIs(t, err, wasend.ErrUnconfirmed, "after the click")
					assert.Contains(t, err.Error(), "out_row")
					rec.waitFrom(t, from, 5*time.Second, "error", isStatus(wasend.ContextError, wasend.ErrSelectors))
					require.Len(t, received(to), 1)

					// A restart with the same set: the lookup cannot tell.
					require.NoError(t, s.SetSelectors(selectors2026_1()))
					require.NoError(t, s.WaitReady(quickCtx(t, 10*time.Second)))
					q := wasend.SentQuery{To: "+" + to, Text: code, Since: since, Mark: mark.get()}
					_, found, err := find(q)
					require.ErrorIs(t, err, wasend.ErrSelectors, "an error, never not found")
					assert.False(t, found)

					// A set whose in_row takes the row's speaker label for a
					// contact's (as "Tu:" would be on an Italian page): the
					// row has a tick, so it is not incoming either.
					mistaken := selectors2026_1()
					mistaken.Name = "mistaken-in-row"
					mistaken.InRow = []string{"#main [role='row']:has(span[aria-label$=':'])"}
					require.NoError(t, s.SetSelectors(mistaken))
					require.NoError(t, s.WaitReady(quickCtx(t, 10*time.Second)))
					_, found, err = find(q)
					require.ErrorIs(t, err, wasend.ErrSelectors, "an error, never not found")
					assert.False(t, found)

					// The default set finds it.
					require.NoError(t, s.SetSelectors(DefaultSelectors()))
					require.NoError(t, s.WaitReady(quickCtx(t, 10*time.Second)))
					r, found, err := find(q)
					require.NoError(t, err)
					assert.True(t, found)
					assert.Equal(t, received(to)[0].ID, r.MessageID)
					assert.Len(t, received(to), 1)
				})
			}

			out := logs.String()
			assert.NotContains(t, out, code)
			assert.NotContains(t, out, me)
			assert.NotContains(t, out, num(1))
			assert.False(t, strings.Contains(out, `"ids"`), "no mark in the logs")
		})
	}
}
