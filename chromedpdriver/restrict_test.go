package chromedpdriver

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/internal/fakewa"
)

func TestTempBanErrorText(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		text  string
		code  int
		until time.Duration
	}{
		{"You're temporarily banned from WhatsApp because you sent too many messages to people who don't have +1 555-123-4567 in their address books.You'll be able to use WhatsApp again in 2 hours", 101, 2 * time.Hour},
		{"You're temporarily banned from WhatsApp because too many people blocked you. You’ll be able to use WhatsApp again in a day.", 102, 24 * time.Hour},
		{"You're temporarily banned from WhatsApp because you created too many groups with people who don't have +15551234567 in their address books. You'll be able to use WhatsApp again in an hour", 103, time.Hour},
		{"You're temporarily banned from WhatsApp because you sent the same message to too many people. You'll be able to use WhatsApp again in 45 minutes", 104, 45 * time.Minute},
		{"You're temporarily banned from WhatsApp because you sent too many messages to a broadcast list. You'll be able to use WhatsApp again in 3 days", 106, 72 * time.Hour},
		{"You're temporarily banned from WhatsApp because you may have violated our terms of service. You'll be able to use WhatsApp again in a few seconds", 0, 30 * time.Second},
		{"You're temporarily banned from WhatsApp because you may have violated our terms of service.", 0, 0},
	} {
		e := tempBanError(c.text, now)
		assert.Equal(t, wasend.RestrictionTemporary, e.Kind)
		assert.Equal(t, c.code, e.Code, c.text)
		if c.until == 0 {
			assert.True(t, e.Until.IsZero())
		} else {
			assert.Equal(t, now.Add(c.until), e.Until, c.text)
		}
		assert.NotContains(t, e.Reason, "555-123", "numbers are masked")
		assert.NotContains(t, e.Reason, "5551234567")
		assert.NotContains(t, e.Reason, "be able to use", "the reason is the first line")
		assert.ErrorIs(t, e, wasend.ErrRestricted)
	}
}

func TestRestrictionParsers(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	assert.Equal(t, now.Add(time.Hour+2*time.Minute+3*time.Second), parseCountdown("01:02:03", now))
	assert.Equal(t, now.Add(6*24*time.Hour), parseCountdown("6 days", now))
	assert.True(t, parseCountdown("soon", now).IsZero())
	assert.Equal(t, time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC),
		parseCapUntil("You've started 5 of 5 new chats this month … You can't start any more new chats until December 31, 2026. Track in Settings.", time.UTC))
	assert.True(t, parseCapUntil("no date here", time.UTC).IsZero())
	assert.Equal(t, "Call +*******4567 now", maskReason("Call +15551234567 now"))
	b := bannedError(" " + fakewa.LoggedOutBannerText + " ")
	assert.Equal(t, fakewa.LoggedOutBannerText, b.Reason)
	assert.ErrorIs(t, b, wasend.ErrBanned)
	r := rejectedError("capped")
	assert.ErrorIs(t, r, wasend.ErrMessageRejected)
	assert.ErrorIs(t, r, wasend.ErrNewChatsLocked)
	assert.NotErrorIs(t, rejectedError("failed"), wasend.ErrNewChatsLocked)
}

// restriction returns the *wasend.RestrictionError of err, failing the
// test when there is none.
func restriction(t *testing.T, err error, kind wasend.RestrictionKind) *wasend.RestrictionError {
	t.Helper()
	require.Error(t, err)
	re, ok := wasend.RestrictionOf(err)
	require.True(t, ok, "a *wasend.RestrictionError: %v", err)
	assert.Equal(t, kind, re.Kind, "%v", err)
	assert.NotErrorIs(t, err, wasend.ErrUnconfirmed, "known not sent")
	return re
}

func isRestricted(kind wasend.RestrictionKind, st wasend.ContextStatus) func(wasend.SessionEvent) bool {
	return func(ev wasend.SessionEvent) bool {
		re, ok := wasend.RestrictionOf(ev.Err)
		return ev.Type == wasend.EventStatus && ev.Status == st && ok && re.Kind == kind
	}
}

// TestRestrictions runs the screens of whatsapp-web.md §10 on the
// imitation, in both markups, with the default selector set: each gives
// its typed error before a click (nothing reaches the fake's oracle), or,
// for a message that WhatsApp takes and then rejects, an error wrapping
// wasend.ErrMessageRejected that is not Unconfirmed.
func TestRestrictions(t *testing.T) {
	t.Parallel()
	for i, mk := range []struct {
		markup fakewa.Markup
		reject time.Duration // the fail icon: at once, or after the tick
	}{
		{fakewa.MarkupClassic, 0},
		{fakewa.Markup2026, 400 * time.Millisecond},
	} {
		t.Run(mk.markup.String(), func(t *testing.T) {
			t.Parallel()
			f, base := startFake(t, fakewa.WithMarkup(mk.markup), fakewa.WithRejectDelay(mk.reject))
			p, logs := testPool(t, base, WithRejectWatch(DefaultRejectWatch))
			s, rec := launch(t, p, "")
			me := fmt.Sprintf("155500041%02d", i)
			num := func(n int) string { return fmt.Sprintf("1555410%d%03d", i, n) }
			login(t, f, s, rec, 0, me)
			send := func(to, text string) (wasend.Receipt, error) {
				return s.SendText(quickCtx(t, 20*time.Second), "+"+to, text)
			}
			old := num(1)
			_, err := f.Incoming(me, old, "hi")
			require.NoError(t, err)

			t.Run("timelock", func(t *testing.T) {
				f.Timelock(me, time.Now().Add(2*time.Hour), "")
				defer f.LiftTimelock(me)
				to := num(2)
				start := time.Now()
				_, err := send(to, "first contact")
				re := restriction(t, err, wasend.RestrictionNewChats)
				assert.ErrorIs(t, err, wasend.ErrNewChatsLocked)
				assert.WithinDuration(t, start.Add(2*time.Hour), re.Until, 10*time.Second, "read from the modal's countdown")
				assert.Contains(t, re.Reason, "You can't start new chats right now")
				assert.Empty(t, f.Received(me, to))
				assert.Empty(t, f.Rejected(me, to))
				// The modal is closed again, and an existing chat still sends.
				_, err = send(old, "to an old contact")
				require.NoError(t, err)
				require.Len(t, f.Received(me, old), 1)
			})

			t.Run("capped", func(t *testing.T) {
				until := time.Date(2027, 1, 31, 0, 0, 0, 0, time.Local)
				f.CapNewChats(me, 5, 5, until)
				defer f.CapNewChats(me, 0, 0, time.Time{})
				to := num(3)
				_, err := send(to, "first contact")
				re := restriction(t, err, wasend.RestrictionNewChats)
				assert.Equal(t, until, re.Until)
				assert.Contains(t, re.Reason, "monthly limit on new chats")
				assert.Empty(t, f.Received(me, to))
			})

			t.Run("rejected", func(t *testing.T) {
				to := num(4)
				f.RejectNext(me, to)
				_, err := send(to, "will fail")
				require.ErrorIs(t, err, wasend.ErrMessageRejected)
				assert.NotErrorIs(t, err, wasend.ErrUnconfirmed)
				_, isRestr := wasend.RestrictionOf(err)
				assert.False(t, isRestr, "the generic fail icon says no more")
				assert.Empty(t, f.Received(me, to))
				require.Len(t, f.Rejected(me, to), 1)

				// FindSent does not report a rejected message as sent.
				_, found, err := s.FindSent(quickCtx(t, 20*time.Second), wasend.SentQuery{To: "+" + to, Text: "will fail", Since: time.Now().Add(-time.Minute)})
				assert.False(t, found)
				assert.ErrorIs(t, err, wasend.ErrMessageRejected)

				f.RejectNextCapped(me, to)
				_, err = send(to, "will fail too")
				re := restriction(t, err, wasend.RestrictionNewChats)
				assert.ErrorIs(t, re, wasend.ErrMessageRejected)
				require.Len(t, f.Rejected(me, to), 2)

				// The next one goes through.
				_, err = send(to, "fine now")
				require.NoError(t, err)
				require.Len(t, f.Received(me, to), 1)
			})

			t.Run("temporary ban", func(t *testing.T) {
				from := rec.len()
				start := time.Now()
				f.TemporaryBan(me, 104, 3*time.Hour)
				ev := rec.waitFrom(t, from, 10*time.Second, "restricted", isRestricted(wasend.RestrictionTemporary, wasend.ContextRestricted))
				re, _ := wasend.RestrictionOf(ev.Err)
				assert.Equal(t, 104, re.Code)
				assert.WithinDuration(t, start.Add(3*time.Hour), re.Until, time.Minute)
				assert.Equal(t, StateRestricted, s.State())
				to := num(5)
				_, err := send(to, "during the ban")
				re = restriction(t, err, wasend.RestrictionTemporary)
				assert.Equal(t, 104, re.Code)
				assert.Empty(t, f.Received(me, to))

				from = rec.len()
				f.LiftTemporaryBan(me)
				rec.waitFrom(t, from, 10*time.Second, "available", isStatus(wasend.ContextAvailable, nil))
				_, err = send(old, "after the ban")
				require.NoError(t, err)
			})

			t.Run("banned", func(t *testing.T) {
				from := rec.len()
				f.Ban(me)
				ev := rec.waitFrom(t, from, 10*time.Second, "banned", isRestricted(wasend.RestrictionBanned, wasend.ContextDisconnected))
				re, _ := wasend.RestrictionOf(ev.Err)
				assert.Equal(t, fakewa.LoggedOutBannerText, re.Reason)
				_, err := send(old, "after the ban")
				restriction(t, err, wasend.RestrictionBanned)
				assert.ErrorIs(t, err, wasend.ErrBanned)
				for _, ev := range rec.all()[from:] {
					assert.NotEqual(t, wasend.ContextClosed, ev.Status, "the driver does not close the context")
				}
			})

			assert.NotContains(t, logs.String(), me, "no whole number in the logs")
			assert.NotContains(t, logs.String(), old)
		})
	}
}

// TestPasskeyRequired: a scan that meets the passkey overlay leaves the
// session in error with wasend.ErrPasskeyRequired.
func TestPasskeyRequired(t *testing.T) {
	t.Parallel()
	f, base := startFake(t)
	p, _ := testPool(t, base)
	s, rec := launch(t, p, "")
	const me = "15550004201"
	f.RequirePasskey(me, true)
	rec.waitFrom(t, 0, 20*time.Second, "qr", isQR)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.ErrorIs(t, f.ScanAny(ctx, me), fakewa.ErrPasskeyRequired)
	rec.waitFrom(t, 0, 10*time.Second, "error", isStatus(wasend.ContextError, wasend.ErrPasskeyRequired))
	require.ErrorIs(t, s.WaitReady(ctx), wasend.ErrPasskeyRequired)
	assert.Equal(t, StatePasskey, s.State())
	_, err := s.SendText(quickCtx(t, 5*time.Second), "+15550004299", "hi")
	assert.ErrorIs(t, err, wasend.ErrPasskeyRequired)
}
