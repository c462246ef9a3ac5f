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

func TestNewIncoming(t *testing.T) {
	t.Parallel()
	str := func(s string) *string { return &s }
	t0 := time.Date(2026, 7, 1, 10, 0, 0, 0, time.UTC)
	in := &inboxState{}
	ids := func(rows []snapRow) []string {
		var out []string
		for _, r := range rows {
			out = append(out, r.ID)
		}
		return out
	}
	chat := func(pid string, rows ...snapRow) *chatSnap {
		return &chatSnap{Panel: pid, Title: "+15550000001", Rows: rows}
	}
	old := snapRow{ID: "false_15550000001@c.us_OLD", Dir: "in", Text: str("old")}
	mine := snapRow{ID: "true_15550000001@c.us_MINE", Dir: "out", Text: str("mine")}
	new1 := snapRow{ID: "false_15550000001@c.us_N1", Dir: "in", Text: str("new 1")}
	new2 := snapRow{ID: "false_15550000001@c.us_N2", Dir: "in", Text: str("new 2")}

	// A chat opens with its history: nothing is new, and the badge of
	// another chat queues it for a visit.
	snap := &pageSnap{Chat: chat("p:1", old, mine), List: []listRow{{Title: "+15550000002", Unread: 2}, {Title: "+15550000001"}}}
	assert.Empty(t, in.newIncoming(snap, t0))
	assert.Equal(t, []string{"15550000002"}, in.queue)
	// Rows that load while it settles are history too.
	snap = &pageSnap{Chat: chat("p:1", old, mine, new1), List: snap.List}
	assert.Empty(t, in.newIncoming(snap, t0.Add(inboxSettle/2)))
	// After that, a new row is new.
	snap = &pageSnap{Chat: chat("p:1", old, mine, new1, new2), List: snap.List}
	assert.Equal(t, []string{new2.ID}, ids(in.newIncoming(snap, t0.Add(2*inboxSettle))))
	// The same badge again queues nothing more; a greater one does once.
	snap.List = []listRow{{Title: "+15550000002", Unread: 3}}
	in.newIncoming(snap, t0.Add(3*inboxSettle))
	assert.Equal(t, []string{"15550000002"}, in.queue, "queued once")
	in.queue = nil
	snap.List = []listRow{{Title: "+15550000002", Unread: 3}}
	in.newIncoming(snap, t0.Add(3*inboxSettle))
	assert.Empty(t, in.queue)

	// A visit opens a chat whose badge says two unread: its last two
	// incoming rows are new, even while it settles.
	other := func(id string) snapRow {
		return snapRow{ID: "false_15550000002@c.us_" + id, Dir: "in", Text: str(id)}
	}
	snap = &pageSnap{Chat: &chatSnap{Panel: "p:2", Title: "+15550000002", Rows: []snapRow{other("A"), other("B"), other("C")}},
		List: []listRow{{Title: "+15550000002", Unread: 2}}}
	assert.Equal(t, []string{other("B").ID, other("C").ID}, ids(in.newIncoming(snap, t0.Add(4*inboxSettle))))
	assert.Empty(t, in.queue, "the open chat is not queued")

	// A page loaded again (a relaunch) names its panels anew: its chat's
	// history is history, though the same number of panel came before.
	snap = &pageSnap{Chat: chat("q:1", old, mine, new1, new2)}
	assert.Empty(t, in.newIncoming(snap, t0.Add(10*inboxSettle)))

	// No chat open.
	assert.Empty(t, in.newIncoming(&pageSnap{}, t0))
	assert.Empty(t, in.panel)

	// The reported ids are bounded.
	var st inboxState
	for i := range maxReported + 5 {
		assert.True(t, st.seen(fmt.Sprint(i)))
	}
	assert.False(t, st.seen(fmt.Sprint(maxReported+4)))
	assert.True(t, st.seen("0"), "the oldest was forgotten")
	assert.Len(t, st.order, maxReported)

	// Failed visits are retried a few times.
	var rs inboxState
	for range maxVisitFails + 2 {
		rs.retry("15550000003")
		rs.queue = nil
	}
	rs.retry("15550000003")
	assert.Empty(t, rs.queue)
}

// incomingEvents returns the incoming messages reported, in order.
func incomingEvents(rec *recorder) []*wasend.IncomingMessage {
	var out []*wasend.IncomingMessage
	for _, ev := range rec.all() {
		if ev.Type == wasend.EventIncoming {
			out = append(out, ev.Incoming)
		}
	}
	return out
}

func waitIncoming(t *testing.T, rec *recorder, id string, d time.Duration) *wasend.IncomingMessage {
	t.Helper()
	ev := rec.waitFrom(t, 0, d, "incoming "+id, func(ev wasend.SessionEvent) bool {
		return ev.Type == wasend.EventIncoming && ev.Incoming != nil && strings.HasSuffix(ev.Incoming.WAMessageID, id)
	})
	return ev.Incoming
}

// TestIncoming notices incoming messages without marking them read, in
// chats that are not open (by their unread badge) and in the open chat,
// once each, and marks a chat read when asked; in both markups.
func TestIncoming(t *testing.T) {
	t.Parallel()
	for i, markup := range []fakewa.Markup{fakewa.MarkupClassic, fakewa.Markup2026} {
		t.Run(markup.String(), func(t *testing.T) {
			t.Parallel()
			f, base := startFake(t, fakewa.WithMarkup(markup))
			p, logs := testPool(t, base)
			s, rec := launch(t, p, "")
			me := fmt.Sprintf("155500061%02d", i)
			login(t, f, s, rec, 0, me)
			num := func(n int) string { return fmt.Sprintf("1555610%d%03d", i, n) }
			dataID := func(from string, m fakewa.Message) string {
				if markup == fakewa.Markup2026 {
					return m.ID
				}
				return "false_" + from + "@c.us_" + m.ID
			}
			var texts []string
			incoming := func(from, text string) fakewa.Message {
				t.Helper()
				m, err := f.Incoming(me, from, text)
				require.NoError(t, err)
				texts = append(texts, text)
				return m
			}

			t.Run("a chat that is not open", func(t *testing.T) {
				a := num(1)
				text := "Hello!\nA second line 👋🏽 and ünïcödé"
				m := incoming(a, text)
				got := waitIncoming(t, rec, m.ID, 10*time.Second)
				assert.Equal(t, "+"+a, got.From)
				assert.Equal(t, text, got.Text)
				assert.Equal(t, dataID(a, m), got.WAMessageID)
				assert.WithinDuration(t, m.At, got.At, 2*time.Minute, "the row's minute")
				assert.Zero(t, got.ID, "not stored")
				assert.Equal(t, []string{m.ID}, f.UnreadByAccount(me, a), "not read")
				assert.Empty(t, f.ReadByAccount(me, a))
			})

			t.Run("the open chat", func(t *testing.T) {
				b := num(2)
				_, err := s.SendText(quickCtx(t, 20*time.Second), "+"+b, "tell me")
				require.NoError(t, err)
				time.Sleep(2 * inboxSettle)
				m := incoming(b, "a reply in the open chat")
				got := waitIncoming(t, rec, m.ID, 10*time.Second)
				assert.Equal(t, "+"+b, got.From)
				assert.Equal(t, "a reply in the open chat", got.Text)
				assert.Equal(t, b, openTitle(t, s))
				time.Sleep(300 * time.Millisecond)
				assert.Equal(t, []string{m.ID}, f.UnreadByAccount(me, b), "not read")
			})

			t.Run("several at once, each once", func(t *testing.T) {
				c, d := num(3), num(4)
				m1 := incoming(c, "one")
				m2 := incoming(d, "two")
				m3 := incoming(c, "three")
				for _, m := range []fakewa.Message{m1, m2, m3} {
					waitIncoming(t, rec, m.ID, 15*time.Second)
				}
				// Opening the chats again, to send, reports nothing again.
				for _, to := range []string{c, d, num(1)} {
					_, err := s.SendText(quickCtx(t, 20*time.Second), "+"+to, "thanks")
					require.NoError(t, err)
				}
				time.Sleep(time.Second)
				count := map[string]int{}
				for _, in := range incomingEvents(rec) {
					count[in.WAMessageID]++
				}
				for id, n := range count {
					assert.Equal(t, 1, n, "message %s reported %d times", id, n)
				}
				assert.Len(t, count, 5)
				for _, from := range []string{num(1), c, d} {
					assert.NotEmpty(t, f.UnreadByAccount(me, from), "sending does not read the chat")
				}
				focus, err := chromedp.Run(s.current().ctx, chromedp.Evaluate[bool]("document.hasFocus()"))
				require.NoError(t, err)
				assert.False(t, focus, "clicks and typing leave the page without the focus")
			})

			t.Run("mark read", func(t *testing.T) {
				a := num(1)
				unread := f.UnreadByAccount(me, a)
				require.NotEmpty(t, unread)
				require.NoError(t, s.MarkRead(quickCtx(t, 20*time.Second), "+"+a))
				assert.Empty(t, f.UnreadByAccount(me, a))
				assert.Equal(t, unread, f.ReadByAccount(me, a))
				assert.NotEmpty(t, f.UnreadByAccount(me, num(3)), "only that chat")
				focus, err := chromedp.Run(s.current().ctx, chromedp.Evaluate[bool]("document.hasFocus()"))
				require.NoError(t, err)
				assert.False(t, focus, "the page has no focus after MarkRead")
				// A message that comes now is not read either.
				m := incoming(a, "after the read")
				waitIncoming(t, rec, m.ID, 10*time.Second)
				time.Sleep(300 * time.Millisecond)
				assert.Equal(t, []string{m.ID}, f.UnreadByAccount(me, a))
				// A chat with nothing unread, and one not open yet.
				require.NoError(t, s.MarkRead(quickCtx(t, 20*time.Second), "+"+a))
				require.NoError(t, s.MarkRead(quickCtx(t, 20*time.Second), "+"+num(4)))
				assert.Empty(t, f.UnreadByAccount(me, num(4)))
				assert.ErrorIs(t, s.MarkRead(quickCtx(t, time.Second), "not a number"), wasend.ErrInvalidPhone)
			})

			out := logs.String()
			for _, text := range texts {
				for _, line := range strings.Split(text, "\n") {
					if len(line) >= 6 {
						assert.NotContains(t, out, line)
					}
				}
			}
			assert.NotContains(t, out, num(1))
		})
	}
}
