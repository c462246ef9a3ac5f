package chromedpdriver

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/internal/fakewa"
)

func TestReadAcks(t *testing.T) {
	t.Parallel()
	str := func(s string) *string { return &s }
	t0 := time.Date(2026, 7, 1, 10, 0, 0, 0, time.UTC)
	fol := func(id int64, to, waID, text string, at time.Duration) *followed {
		d, err := phoneDigits(to)
		require.NoError(t, err)
		return &followed{TrackedMessage: wasend.TrackedMessage{MessageID: id, To: to, WAMessageID: waID, Text: text,
			SentAt: t0.Add(at), Ack: wasend.AckSent}, digits: d, reported: wasend.AckSent}
	}
	snap := &pageSnap{
		Chat: &chatSnap{Panel: "p:1", Title: "+1 555-000-0001", Rows: []snapRow{
			{ID: "true_15550000001@c.us_A1", Dir: "out", Text: str("hello"), Ack: "read"},
			{ID: "false_15550000001@c.us_B1", Dir: "in", Text: str("hi"), Ack: "none"},
			{ID: "", Dir: "out", Text: str("same"), Ack: "delivered"},
			{ID: "C2", Dir: "out", Text: str("same"), Ack: "sent"},
		}},
		List: []listRow{
			{Title: "+1 555-000-0001", Preview: "same", Ack: "sent"},
			{Title: "+1 (555) 000-0002", Preview: "a long message that the list cuts…", Ack: "read"},
			{Title: "+1 555-000-0003", Preview: "not ours", Ack: "none", Unread: 2},
			{Title: "Alice", Preview: "x", Ack: "read"},
		},
	}
	fs := []*followed{
		fol(1, "+15550000001", "true_15550000001@c.us_A1", "hello", 0),
		fol(2, "+15550000001", "", "same", time.Second),   // older: the row without id
		fol(3, "+15550000001", "", "same", 2*time.Second), // newer: the last row with the text
		fol(4, "+15550000002", "X", "a long message that the list cuts short", 0),
		fol(5, "+15550000002", "Y", "an older one", -time.Minute), // not the last of its chat
		fol(6, "+15550000003", "Z", "ours", 0),                    // the list shows another text
		fol(7, "+15550000009", "", "elsewhere", 0),                // not shown at all
	}
	got := readAcks(fs, snap)
	want := map[int64]ackReading{
		1: {ack: wasend.AckRead, covered: true},
		2: {ack: wasend.AckDelivered, covered: true},
		3: {ack: wasend.AckSent, waID: "C2", covered: true},
		4: {ack: wasend.AckRead, covered: true},
		5: {},
		6: {},
		7: {},
	}
	assert.Equal(t, want, got)
	assert.Empty(t, readAcks(fs, nil))

	assert.Equal(t, "15550000001", snap.Chat.digits())
	assert.Equal(t, "15550000004", (&chatSnap{Title: "Bob", Rows: []snapRow{{ID: "abc"}, {ID: "false_15550000004@c.us_Q"}}}).digits())
	assert.Empty(t, (&chatSnap{Title: "Bob", Rows: []snapRow{{ID: "false_123456789012345@lid_Q"}}}).digits(), "an @lid is no number")

	for _, c := range []struct {
		preview, text string
		ok            bool
	}{
		{"hello  world", "hello\nworld", true},
		{"", "", false},
		{"Your code is…", "Your code is 1234", true},
		{"Your…", "Your code is 1234", false},
		{"other", "hello", false},
	} {
		assert.Equal(t, c.ok, previewMatches(c.preview, c.text), "%q %q", c.preview, c.text)
	}
	for s, a := range map[string]wasend.Ack{"pending": wasend.AckPending, "sent": wasend.AckSent, "delivered": wasend.AckDelivered,
		"read": wasend.AckRead, "unknown": wasend.AckNone, "none": wasend.AckNone} {
		assert.Equal(t, a, parseAck(s), s)
	}
}

func TestFollowAcksInput(t *testing.T) {
	t.Parallel()
	s := &Session{log: slog.New(slog.DiscardHandler)}
	ctx := context.Background()
	good := wasend.TrackedMessage{MessageID: 1, To: "+15550000001", Ack: wasend.AckSent}
	require.NoError(t, s.FollowAcks(ctx, []wasend.TrackedMessage{good}))
	for _, c := range []struct {
		m    wasend.TrackedMessage
		want error
	}{
		{wasend.TrackedMessage{MessageID: 0, To: "+15550000001"}, ErrInvalidTracked},
		{wasend.TrackedMessage{MessageID: 2, To: "call me"}, wasend.ErrInvalidPhone},
		{wasend.TrackedMessage{MessageID: 2, To: "+15550000001", Ack: 99}, ErrInvalidTracked},
		{good, ErrInvalidTracked}, // listed twice
	} {
		err := s.FollowAcks(ctx, []wasend.TrackedMessage{good, c.m})
		assert.ErrorIs(t, err, c.want, "%+v", c.m)
	}
	assert.Len(t, s.follow.msgs, 1, "a bad call leaves the set as it was")
	assert.Equal(t, uint64(1), s.follow.gen)

	// A read message is not followed; the rest replaces the set.
	read := wasend.TrackedMessage{MessageID: 3, To: "+15550000003", Ack: wasend.AckRead}
	other := wasend.TrackedMessage{MessageID: 4, To: "+15550000004", Ack: wasend.AckDelivered}
	require.NoError(t, s.FollowAcks(ctx, []wasend.TrackedMessage{read, other}))
	assert.Len(t, s.follow.msgs, 1)
	assert.Contains(t, s.follow.msgs, int64(4))
	require.NoError(t, s.FollowAcks(ctx, nil))
	assert.Empty(t, s.follow.msgs)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	assert.ErrorIs(t, s.FollowAcks(cctx, nil), context.Canceled)
}

// ackEvents returns the acks reported for message id, in order.
func ackEvents(rec *recorder, id int64) []wasend.Ack {
	var out []wasend.Ack
	for _, ev := range rec.all() {
		if ev.Type == wasend.EventAck && ev.MessageID == id {
			out = append(out, ev.Ack)
		}
	}
	return out
}

func waitAck(t *testing.T, rec *recorder, id int64, ack wasend.Ack, d time.Duration) wasend.SessionEvent {
	t.Helper()
	return rec.waitFrom(t, 0, d, fmt.Sprintf("ack %v of message %d", ack, id), func(ev wasend.SessionEvent) bool {
		return ev.Type == wasend.EventAck && ev.MessageID == id && ev.Ack == ack
	})
}

// openTitle returns the digits of the open chat's title.
func openTitle(t *testing.T, s *Session) string {
	t.Helper()
	require.NoError(t, s.lock(quickCtx(t, 10*time.Second)))
	defer s.unlock()
	return openTitle2(t, s)
}

// openTitle2 is openTitle for a caller that holds the page lock.
func openTitle2(t *testing.T, s *Session) string {
	t.Helper()
	octx, cancel := s.opContext(quickCtx(t, 10*time.Second), s.current(), 10*time.Second)
	defer cancel()
	v, err := evalOp[*string](octx, s.selectors(), "value", map[string]string{"key": "chat_title"})
	require.NoError(t, err)
	if v == nil {
		return ""
	}
	return onlyDigits(*v)
}

// TestAckFollowing follows the ticks of sent messages in both markups of
// the imitation: in the open chat, on the chat list, and by visits of
// chats that neither shows, at most one per interval.
func TestAckFollowing(t *testing.T) {
	t.Parallel()
	for i, markup := range []fakewa.Markup{fakewa.MarkupClassic, fakewa.Markup2026} {
		t.Run(markup.String(), func(t *testing.T) {
			t.Parallel()
			f, base := startFake(t, fakewa.WithMarkup(markup))
			const interval = 2 * time.Second
			p, logs := testPool(t, base, WithAckVisitInterval(interval))
			s, rec := launch(t, p, "")
			me := fmt.Sprintf("155500031%02d", i)
			login(t, f, s, rec, 0, me)
			num := func(n int) string { return fmt.Sprintf("1555310%d%03d", i, n) }
			var tracked []wasend.TrackedMessage
			send := func(id int64, to, text string) wasend.TrackedMessage {
				t.Helper()
				r, err := s.SendText(quickCtx(t, 20*time.Second), "+"+to, text)
				require.NoError(t, err)
				m := wasend.TrackedMessage{MessageID: id, To: "+" + to, WAMessageID: r.MessageID, Text: text, SentAt: r.SentAt, Ack: wasend.AckSent}
				tracked = append(tracked, m)
				return m
			}
			follow := func(ms ...wasend.TrackedMessage) {
				t.Helper()
				require.NoError(t, s.FollowAcks(quickCtx(t, time.Second), ms))
			}
			waID := func(to string, n int) string {
				t.Helper()
				got := f.Received(me, to)
				require.Greater(t, len(got), n)
				return got[n].ID
			}

			t.Run("open chat", func(t *testing.T) {
				a := num(1)
				m := send(1, a, "ack in the open chat")
				follow(m)
				waitAck(t, rec, 1, wasend.AckDelivered, 10*time.Second)
				assert.Empty(t, f.ReadBy(me, "nobody"))
				require.Len(t, f.ReadBy(me, a), 1)
				ev := waitAck(t, rec, 1, wasend.AckRead, 10*time.Second)
				assert.Equal(t, "+"+a, ev.To)
				assert.Equal(t, m.WAMessageID, ev.WAMessageID)
				assert.WithinDuration(t, time.Now(), ev.At, 10*time.Second)
				assert.Equal(t, []wasend.Ack{wasend.AckDelivered, wasend.AckRead}, ackEvents(rec, 1), "each change once")
				s.follow.mu.Lock()
				assert.NotContains(t, s.follow.msgs, int64(1), "not followed once read")
				s.follow.mu.Unlock()
				// Listed again before the Client stored the read: not
				// followed, not reported again.
				follow(m)
				time.Sleep(300 * time.Millisecond)
				assert.Len(t, ackEvents(rec, 1), 2)
			})

			t.Run("chat list", func(t *testing.T) {
				b, c := num(2), num(3)
				f.SetNeverDeliver(me, b, true)
				mb := send(2, b, "ack on the chat list")
				mc := send(3, c, "ack of the open chat")
				follow(mb, mc)
				waitAck(t, rec, 3, wasend.AckDelivered, 10*time.Second)
				time.Sleep(300 * time.Millisecond)
				assert.Empty(t, ackEvents(rec, 2), "never delivered: one tick")
				f.SetNeverDeliver(me, b, false)
				waitAck(t, rec, 2, wasend.AckDelivered, 10*time.Second)
				require.NoError(t, f.SetMessageStatus(waID(b, 0), fakewa.StatusRead))
				waitAck(t, rec, 2, wasend.AckRead, 10*time.Second)
				assert.Equal(t, c, openTitle(t, s), "read on the chat list: no visit")
				assert.NotContains(t, logs.String(), "chat visited")
			})

			t.Run("visit", func(t *testing.T) {
				d, e := num(4), num(5)
				m4 := send(4, d, "first to d")
				m5 := send(5, d, "second to d")
				// A message without its WhatsApp id is found by its text.
				m5.WAMessageID = ""
				send(6, e, "e is open")
				follow(m4, m5)
				require.NoError(t, f.SetMessageStatus(waID(d, 0), fakewa.StatusRead))
				ev := waitAck(t, rec, 4, wasend.AckRead, 3*interval+5*time.Second)
				assert.Equal(t, m4.WAMessageID, ev.WAMessageID)
				assert.Eventually(t, func() bool { return strings.Contains(logs.String(), "chat visited") }, 5*time.Second, 20*time.Millisecond,
					"the chat list shows the newer message: the older one needs a visit")
				// The visit left d open: the newer one reads there.
				require.NoError(t, f.SetMessageStatus(waID(d, 1), fakewa.StatusRead))
				ev = waitAck(t, rec, 5, wasend.AckRead, 10*time.Second)
				assert.True(t, strings.HasSuffix(ev.WAMessageID, waID(d, 1)), "the row's id, learned from its text: %q", ev.WAMessageID)
			})

			t.Run("visits are bounded and give way to sends", func(t *testing.T) {
				// Three chats whose followed messages the page does not
				// show: one visit per interval at most.
				var ms []wasend.TrackedMessage
				for n := 10; n < 13; n++ {
					to := num(n)
					f.SetNeverDeliver(me, to, true)
					ms = append(ms, send(int64(100+n), to, "old one"), send(int64(200+n), to, "new one"))
				}
				before := strings.Count(logs.String(), "chat visited")
				start := time.Now()
				follow(ms...)
				// Sends go on while the session wants to visit.
				for n := range 4 {
					to := num(20 + n)
					_, err := s.SendText(quickCtx(t, 20*time.Second), "+"+to, "while following")
					require.NoError(t, err)
					assert.Len(t, f.Received(me, to), 1)
				}
				time.Sleep(interval)
				visits := strings.Count(logs.String(), "chat visited") + strings.Count(logs.String(), "chat visit gave way") - before
				limit := int(time.Since(start)/interval) + 1
				assert.LessOrEqual(t, visits, limit, "at most one visit per %v in %v", interval, time.Since(start))
				assert.Positive(t, visits)
				for _, m := range ms {
					assert.Empty(t, ackEvents(rec, m.MessageID), "never delivered")
				}

				// A visit stops before its click when a call waits.
				ctx := quickCtx(t, 10*time.Second)
				require.NoError(t, s.lock(ctx))
				open := openTitle2(t, s)
				s.pending.Add(1)
				octx, cancel := s.opContext(ctx, s.current(), 10*time.Second)
				err := s.visit(octx, s.current(), s.selectors(), num(10))
				cancel()
				s.pending.Add(-1)
				assert.ErrorIs(t, err, errGiveWay)
				assert.Equal(t, open, openTitle2(t, s), "the open chat did not change")
				s.unlock()
			})

			// No text and no whole number in the logs.
			out := logs.String()
			for _, m := range tracked {
				assert.NotContains(t, out, m.Text)
				assert.NotContains(t, out, m.To[1:])
			}
		})
	}
}

// TestSendChecksTheChatBeforeTheClick: another chat that opens between the
// opening of the recipient's chat and the click (a visit that gave way
// after its click, or the page itself) does not get the message: the send
// fails before its click, retryably, and sends nothing.
func TestSendChecksTheChatBeforeTheClick(t *testing.T) {
	t.Parallel()
	f, base := startFake(t)
	p, _ := testPool(t, base)
	s, rec := launch(t, p, "")
	const me, a, b = "15550003201", "15553201001", "15553201002"
	login(t, f, s, rec, 0, me)
	_, err := s.SendText(quickCtx(t, 20*time.Second), "+"+b, "b is on the chat list")
	require.NoError(t, err)
	_, err = s.SendText(quickCtx(t, 20*time.Second), "+"+a, "a is open")
	require.NoError(t, err)
	// Another chat opens after every check and just before the press: the
	// host's BeforeSend (the last step before it) clicks b's row in the
	// chat list and waits for b's chat. The fake opens a chat after a
	// fetch, so a paste hook could not place the switch deterministically.
	ctx, mark := traced(quickCtx(t, 20*time.Second), func(string) error {
		_, err := chromedp.Run(s.current().ctx, chromedp.Evaluate[bool](`(() => {
			const row = [...document.querySelectorAll("#pane-side [role='row']")]
				.find(r => r.querySelector("span[title='+`+b+`']"));
			row.click();
			return true;
		})()`))
		if err != nil {
			return err
		}
		// The driver holds the page lock while it sends.
		require.Eventually(t, func() bool { return openTitle2(t, s) == b }, 10*time.Second, 20*time.Millisecond)
		return nil
	})
	_, err = s.SendText(ctx, "+"+a, "for a only")
	require.Error(t, err)
	assert.ErrorIs(t, err, wasend.ErrTimeout)
	assert.NotErrorIs(t, err, wasend.ErrUnconfirmed, "nothing was clicked")
	assert.True(t, wasend.Retryable(err))
	assert.Equal(t, 1, mark.count(), "the mark was stored; the press was refused after it")
	assert.Len(t, f.Received(me, a), 1, "only the first message")
	assert.Len(t, f.Received(me, b), 1, "only the first message")
	// The next send goes to a, as asked.
	_, err = s.SendText(quickCtx(t, 20*time.Second), "+"+a, "for a only")
	require.NoError(t, err)
	assert.Len(t, f.Received(me, a), 2)
	assert.Len(t, f.Received(me, b), 1)
}
