package wasend_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/wasendtest"
)

// Campaigns over a pool of numbers, through the whole runtime.

func recipients(n int, text string) []wasend.BulkMessage {
	out := make([]wasend.BulkMessage, n)
	for i := range out {
		out[i] = wasend.BulkMessage{To: fmt.Sprintf("+54911%08d", 40000000+i), Text: fmt.Sprintf("%s %d", text, i)}
	}
	return out
}

// middayZone returns an IANA zone where it is now between 06:00 and 18:00,
// so that a wait until tomorrow there is hours long whenever the test runs.
func middayZone() string {
	h := time.Now().UTC().Hour()
	for off := -12; off <= 12; off++ {
		if local := (h + off + 24) % 24; local >= 6 && local < 18 {
			// Etc/GMT-3 is three hours ahead of UTC: the sign is reversed.
			return fmt.Sprintf("Etc/GMT%+d", -off)
		}
	}
	return "UTC"
}

func (h *harness) waitCampaign(id int64, want wasend.JobStatus) wasend.Campaign {
	h.t.Helper()
	var c wasend.Campaign
	eventually(h.t, func() bool {
		var err error
		c, err = h.client.Campaign(bg, id)
		require.NoError(h.t, err)
		return c.Status() == want
	}, "campaign %d to be %s (is %s)", id, want, func() any { return c.Status() })
	return c
}

// sentOnce checks that every message of the campaign went out exactly once
// over all the sessions, and returns how many each session sent.
func sentOnce(t *testing.T, c wasend.Campaign, msgs []wasend.BulkMessage, sessions ...*wasendtest.Session) []int {
	t.Helper()
	per := make([]int, len(sessions))
	for _, m := range msgs {
		n := 0
		for i, s := range sessions {
			k := s.Count(m.To, m.Text)
			per[i] += k
			n += k
		}
		assert.Equal(t, 1, n, "message %q went out %d times", m.Text, n)
	}
	final := c.Messages()
	require.Len(t, final, len(msgs), "Campaign.Messages has one entry per message")
	for _, m := range final {
		assert.Equal(t, wasend.MessageSent, m.Status, "message %d (%s)", m.ID, m.ErrorKind)
	}
	return per
}

func contextOf(c wasend.Campaign, to string) []int64 {
	var out []int64
	for _, j := range c.Jobs {
		for _, m := range j.Messages {
			if m.To == to && m.Status == wasend.MessageSent {
				out = append(out, j.ContextID)
			}
		}
	}
	return out
}

func TestCampaignSplitsByBudgetAndKeepsRecipientsOnTheirThread(t *testing.T) {
	zone := middayZone()
	h := newHarness(t, harnessOpt{})
	a, sa := h.newContext()
	b, sb := h.newContext()
	c, sc := h.newContext()
	for id, p := range map[int64]*wasend.Pacing{
		a.ID: {NewContactsPerDay: 3, Location: zone},
		b.ID: {NewContactsPerDay: 6, Location: zone},
		c.ID: {NewContactsPerDay: 6, Location: zone},
	} {
		_, err := h.client.UpdateContext(bg, id, wasend.ContextPacing(p))
		require.NoError(t, err)
	}
	// c wrote to the first recipient before: that thread stays with c.
	msgs := recipients(9, "hello")
	msgs = append(msgs, wasend.BulkMessage{To: msgs[0].To, Text: "and again"})
	j, err := h.client.Send(bg, c.ID, msgs[0].To, "an earlier chat")
	require.NoError(t, err)
	h.waitJob(j.ID, wasend.JobCompleted)

	camp, err := h.client.SendCampaign(bg, []int64{a.ID, b.ID, c.ID}, msgs, wasend.Delay(0),
		wasend.Metadata(map[string]any{"campaign": "spring"}))
	require.NoError(t, err)
	assert.Equal(t, []int64{a.ID, b.ID, c.ID}, camp.Contexts)
	split := map[int64]int{}
	for _, j := range camp.Jobs {
		assert.Equal(t, camp.ID, j.CampaignID)
		assert.Equal(t, "spring", j.Metadata["campaign"])
		split[j.ContextID] = len(j.Messages)
	}
	// Eight new contacts over budgets of 3, 6 and 5 (c wrote to one
	// already): 2, 3 and 3 by largest remainders, plus the known recipient's
	// two messages on c.
	assert.Equal(t, map[int64]int{a.ID: 2, b.ID: 3, c.ID: 5}, split)

	done := h.waitCampaign(camp.ID, wasend.JobCompleted)
	per := sentOnce(t, done, msgs, sa, sb, sc)
	assert.Equal(t, []int{2, 3, 5}, per)
	assert.Equal(t, []int64{c.ID, c.ID}, contextOf(done, msgs[0].To), "the known recipient stays on its thread")
	assert.Equal(t, int64(10), done.Counts()[wasend.MessageSent])
}

func TestCampaignFlowsToTheContextWithBudget(t *testing.T) {
	zone := middayZone()
	h := newHarness(t, harnessOpt{})
	a, sa := h.newContext()
	b, sb := h.newContext()
	_, err := h.client.UpdateContext(bg, a.ID, wasend.ContextPacing(&wasend.Pacing{NewContactsPerDay: 2, Location: zone}))
	require.NoError(t, err)
	// b is under a short temporary ban when the campaign starts: it gets
	// nothing at first.
	until := time.Now().Add(1500 * time.Millisecond)
	sb.Script(wasendtest.Action{Err: &wasend.RestrictionError{Kind: wasend.RestrictionTemporary, Until: until}})
	j, err := h.client.Send(bg, b.ID, "+5491100000001", "before")
	require.NoError(t, err)
	h.waitContext(b.ID, wasend.ContextRestricted)

	msgs := recipients(8, "flow")
	camp, err := h.client.SendCampaign(bg, []int64{a.ID, b.ID}, msgs, wasend.Delay(0))
	require.NoError(t, err)
	require.Len(t, camp.Jobs, 1)
	assert.Equal(t, a.ID, camp.Jobs[0].ContextID, "a restricted context takes no share")

	// a sends its two new contacts, then waits until tomorrow; b's ban
	// ends, and the six others flow to it without AllowMoves.
	done := h.waitCampaign(camp.ID, wasend.JobCompleted)
	h.waitJob(j.ID, wasend.JobCompleted)
	per := sentOnce(t, done, msgs, sa, sb)
	assert.Equal(t, []int{2, 6}, per)
	moved := 0
	for _, j := range done.Jobs {
		for _, m := range j.Messages {
			if m.ErrorKind == wasend.ErrorKindMoved {
				moved++
				assert.Equal(t, wasend.MessageCancelled, m.Status)
				assert.Equal(t, 0, m.Attempts, "a moved message never began an attempt where it was")
			}
			if m.MovedFrom != 0 {
				assert.Equal(t, b.ID, j.ContextID)
			}
		}
	}
	assert.Equal(t, 6, moved)
}

func TestCampaignMovesOffABannedNumberOnlyWhenAllowed(t *testing.T) {
	for _, allow := range []bool{true, false} {
		t.Run(fmt.Sprintf("allow=%v", allow), func(t *testing.T) {
			h := newHarness(t, harnessOpt{})
			a, sa := h.newContext()
			b, sb := h.newContext()
			msgs := recipients(6, "ban")
			// b's messages hold back until a is banned.
			sb.Script(wasendtest.Action{Delay: 300 * time.Millisecond})
			sa.Script(wasendtest.Action{Delay: 100 * time.Millisecond, Err: &wasend.RestrictionError{Kind: wasend.RestrictionBanned,
				Reason: "This account is not allowed to use WhatsApp"}})
			opts := []wasend.SendOption{wasend.Delay(0)}
			if allow {
				opts = append(opts, wasend.AllowMoves())
			}
			camp, err := h.client.SendCampaign(bg, []int64{a.ID, b.ID}, msgs, opts...)
			require.NoError(t, err)
			assert.Equal(t, allow, camp.Move)
			require.Len(t, camp.Jobs, 2)
			h.waitContext(a.ID, wasend.ContextClosed)
			if !allow {
				done := h.waitCampaign(camp.ID, wasend.JobFailed)
				for _, j := range done.Jobs {
					if j.ContextID == a.ID {
						assert.Equal(t, wasend.ErrorKindBanned, j.ErrorKind)
					}
				}
				assert.Empty(t, sa.Sent())
				assert.Len(t, sb.Sent(), 3)
				return
			}
			var done wasend.Campaign
			eventually(t, func() bool {
				done, err = h.client.Campaign(bg, camp.ID)
				require.NoError(t, err)
				return done.Counts()[wasend.MessageSent] == 6
			}, "every message to go out (counts %v)", func() any { return done.Counts() })
			assert.Empty(t, sa.Sent())
			sentOnce(t, done, msgs, sa, sb)
			moved := 0
			for _, ev := range h.events.all() {
				if ev.Type == wasend.EventMoved {
					assert.Equal(t, b.ID, ev.ContextID, "they moved to b")
					assert.Equal(t, camp.Jobs[0].ID, ev.FromJobID, "off a's job")
					moved += ev.Moved
				}
			}
			assert.Equal(t, 3, moved, "the host was told of every move")
			for _, j := range done.Jobs {
				if j.ContextID != a.ID {
					continue
				}
				// The banned number's job handed every message over, the one
				// the ban page refused too (it never reached WhatsApp).
				assert.Equal(t, wasend.JobCompleted, j.Status)
				for _, m := range j.Messages {
					assert.Equal(t, wasend.ErrorKindMoved, m.ErrorKind)
					assert.Equal(t, 0, m.Attempts)
				}
			}
		})
	}
}

func TestCampaignPauseResumeCancel(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	a, sa := h.newContext()
	b, sb := h.newContext()
	msgs := recipients(40, "pause")
	camp, err := h.client.SendCampaign(bg, []int64{a.ID, b.ID}, msgs, wasend.Delay(50*time.Millisecond))
	require.NoError(t, err)
	paused, err := h.client.PauseCampaign(bg, camp.ID)
	require.NoError(t, err)
	eventually(t, func() bool {
		paused, err = h.client.Campaign(bg, camp.ID)
		require.NoError(t, err)
		return paused.Status() == wasend.JobPaused
	}, "the campaign to pause (is %s)", func() any { return paused.Status() })
	sent := len(sa.Sent()) + len(sb.Sent())
	time.Sleep(200 * time.Millisecond)
	assert.Equal(t, sent, len(sa.Sent())+len(sb.Sent()), "nothing goes out while paused")

	_, err = h.client.ResumeCampaign(bg, camp.ID)
	require.NoError(t, err)
	eventually(t, func() bool { return len(sa.Sent())+len(sb.Sent()) > sent }, "sends to resume")
	cancelled, err := h.client.CancelCampaign(bg, camp.ID)
	require.NoError(t, err)
	for _, j := range cancelled.Jobs {
		assert.True(t, j.Status.Final(), "job %d is %s", j.ID, j.Status)
	}
	final := h.waitCampaign(camp.ID, wasend.JobCancelled)
	// A message in flight when the campaign was cancelled keeps its
	// outcome: it is recorded after its job is final.
	n := final.Counts()
	eventually(t, func() bool {
		final, err = h.client.Campaign(bg, camp.ID)
		require.NoError(t, err)
		n = final.Counts()
		return n[wasend.MessageSending] == 0 && n[wasend.MessagePending] == 0
	}, "the message in flight to have its outcome (%v)", func() any { return n })
	assert.Equal(t, int64(len(sa.Sent())+len(sb.Sent())), n[wasend.MessageSent])
	assert.Equal(t, int64(len(msgs)), n[wasend.MessageSent]+n[wasend.MessageCancelled])
	_, err = h.client.CancelCampaign(bg, camp.ID)
	require.NoError(t, err, "cancelling a finished campaign changes nothing")
	list, err := h.client.Campaigns(bg, wasend.CampaignFilter{})
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, camp.ID, list[0].ID)
	assert.Nil(t, list[0].Jobs)
	active, err := h.client.Campaigns(bg, wasend.CampaignFilter{Active: true})
	require.NoError(t, err)
	assert.Empty(t, active, "a cancelled campaign is not active")
	_, err = h.client.Campaigns(bg, wasend.CampaignFilter{Limit: -1})
	assert.ErrorIs(t, err, wasend.ErrInvalidFilter)
}

func TestSendCampaignRefusesBadInput(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	a, _ := h.newContext()
	msgs := recipients(2, "x")
	var ve *wasend.ValidationError
	_, err := h.client.SendCampaign(bg, nil, msgs)
	assert.ErrorIs(t, err, wasend.ErrInvalidPool)
	assert.ErrorAs(t, err, &ve)
	_, err = h.client.SendCampaign(bg, []int64{a.ID, a.ID}, msgs)
	assert.ErrorIs(t, err, wasend.ErrInvalidPool)
	_, err = h.client.SendCampaign(bg, []int64{a.ID, 424242}, msgs)
	assert.ErrorIs(t, err, wasend.ErrContextNotFound)
	_, err = h.client.SendCampaign(bg, []int64{a.ID}, []wasend.BulkMessage{{To: "+5491122334455", Text: "ok"}, {To: "12", Text: "bad"}})
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, 1, ve.Index)
	assert.ErrorIs(t, err, wasend.ErrInvalidPhone)
	_, err = h.client.Send(bg, a.ID, "+5491122334455", "x", wasend.AllowMoves())
	assert.ErrorIs(t, err, wasend.ErrInvalidOption)
	_, err = h.client.SendBulk(bg, a.ID, msgs, wasend.AllowMoves())
	assert.ErrorIs(t, err, wasend.ErrInvalidOption)
	_, err = h.client.Campaign(bg, 424242)
	assert.ErrorIs(t, err, wasend.ErrCampaignNotFound)
	jobs, err := h.store.Jobs(bg, wasend.JobFilter{})
	require.NoError(t, err)
	assert.Empty(t, jobs, "nothing was recorded")

	// A store that keeps no campaigns says so.
	plain := newHarness(t, harnessOpt{wrap: func(s wasend.Store) wasend.Store { return struct{ wasend.Store }{s} }})
	p, _ := plain.newContext()
	_, err = plain.client.SendCampaign(bg, []int64{p.ID}, msgs)
	assert.ErrorIs(t, err, wasend.ErrNotSupported)
}

func TestSendCampaignIsIdempotent(t *testing.T) {
	h := newHarness(t, harnessOpt{noRun: true})
	a, _ := h.newContext()
	b, _ := h.newContext()
	msgs := recipients(5, "once")
	first, err := h.client.SendCampaign(bg, []int64{a.ID, b.ID}, msgs, wasend.IdempotencyKey("spring-2027"))
	require.NoError(t, err)
	again, err := h.client.SendCampaign(bg, []int64{a.ID, b.ID}, msgs, wasend.IdempotencyKey("spring-2027"))
	require.NoError(t, err)
	assert.Equal(t, first.ID, again.ID)
	assert.Len(t, again.Jobs, len(first.Jobs))
	_, err = h.client.SendCampaign(bg, []int64{a.ID, b.ID}, msgs[:4], wasend.IdempotencyKey("spring-2027"))
	assert.ErrorIs(t, err, wasend.ErrIdempotencyConflict)
	jobs, err := h.store.Jobs(bg, wasend.JobFilter{})
	require.NoError(t, err)
	assert.Len(t, jobs, len(first.Jobs))
}
