package wasend

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The pacer's decisions are pure functions of the time: these tests run on
// a fake clock, days in microseconds.

var t0 = time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC) // a Monday, 10:00 UTC

func newTestPacer(p Pacing) *pacer {
	pc := &pacer{rand: func() float64 { return 0.5 }}
	pc.setPolicy(p)
	pc.loaded = true
	return pc
}

// send records a send to a contact the context knows, of a unique text.
func (p *pacer) sendAt(at time.Time, to, text string, fresh bool) {
	p.note(SendRecord{At: at, Recipient: to, TextHash: text, NewContact: fresh})
}

func TestPacerGapIsJittered(t *testing.T) {
	p := newTestPacer(Pacing{MinGap: 30 * time.Second, MaxGap: 60 * time.Second})
	require.True(t, p.decide(t0, false, "a").send())
	p.sendAt(t0, "r1", "a", false)
	// rand 0.5: the gap is 45 s.
	d := p.decide(t0.Add(44*time.Second), false, "b")
	assert.Equal(t, WaitGap, d.wait)
	assert.Equal(t, t0.Add(45*time.Second), d.until)
	assert.True(t, p.decide(t0.Add(45*time.Second), false, "b").send())

	p.rand = func() float64 { return 0 }
	p.sendAt(t0.Add(45*time.Second), "r1", "b", false)
	assert.True(t, p.decide(t0.Add(75*time.Second), false, "c").send(), "rand 0: the minimum gap")
	p.rand = func() float64 { return 0.999 }
	p.sendAt(t0.Add(75*time.Second), "r1", "c", false)
	assert.False(t, p.decide(t0.Add(134*time.Second), false, "d").send(), "rand near 1: nearly the maximum gap")
}

func TestPacerGapWaitersAreSpread(t *testing.T) {
	p := newTestPacer(Pacing{MinGap: 10 * time.Second, MaxGap: 10 * time.Second})
	p.sendAt(t0, "r", "a", false)
	now := t0.Add(time.Second)
	var slots []time.Time
	for range 3 {
		slots = append(slots, p.slot(now, p.decide(now, false, "x")))
	}
	assert.Equal(t, []time.Time{t0.Add(10 * time.Second), t0.Add(20 * time.Second), t0.Add(30 * time.Second)}, slots)
}

func TestPacerHourlyCapSlides(t *testing.T) {
	p := newTestPacer(Pacing{PerHour: 3})
	for i := range 3 {
		at := t0.Add(time.Duration(i) * 10 * time.Minute)
		require.True(t, p.decide(at, false, "t").send())
		p.sendAt(at, "r", "t", false)
	}
	d := p.decide(t0.Add(30*time.Minute), false, "t")
	assert.Equal(t, WaitHourlyCap, d.wait)
	assert.Equal(t, t0.Add(time.Hour), d.until, "the oldest send of the hour leaves it then")
	assert.True(t, p.decide(t0.Add(time.Hour+time.Nanosecond), false, "t").send())
	assert.Equal(t, 1, p.budget(t0.Add(time.Hour+time.Nanosecond)).hour)
}

func TestPacerDailyCapIsInTheContextsZone(t *testing.T) {
	p := newTestPacer(Pacing{PerDay: 2, Location: "America/Sao_Paulo"}) // UTC-3
	// 23:30 in São Paulo is 02:30 UTC the next day: the same local day.
	evening := time.Date(2026, 12, 8, 2, 30, 0, 0, time.UTC)
	p.sendAt(evening.Add(-2*time.Hour), "r", "a", false) // 21:30 local
	p.sendAt(evening.Add(-time.Hour), "r", "b", false)   // 22:30 local
	d := p.decide(evening, false, "c")
	assert.Equal(t, WaitDailyCap, d.wait)
	assert.Equal(t, time.Date(2026, 12, 8, 3, 0, 0, 0, time.UTC), d.until.UTC(), "midnight in São Paulo")
	assert.True(t, p.decide(d.until, false, "c").send())
}

func TestPacerNewContactsHaveTheirOwnCap(t *testing.T) {
	p := newTestPacer(Pacing{PerDay: 10, NewContactsPerDay: 2})
	p.sendAt(t0, "a", "1", true)
	p.sendAt(t0.Add(time.Minute), "b", "2", true)
	at := t0.Add(2 * time.Minute)
	d := p.decide(at, true, "3")
	assert.Equal(t, WaitNewContactCap, d.wait)
	assert.True(t, p.decide(at, false, "3").send(), "a known contact still gets its message")
	b := p.budget(at)
	assert.Equal(t, 0, b.newContacts)
	assert.Equal(t, 8, b.day)
}

func TestPacerWarmupGrowsDayByDay(t *testing.T) {
	pol := Pacing{PerDay: 500, NewContactsPerDay: 25, WarmupDays: 7, WarmupStart: 20, WarmupGrowth: 1.8}
	p := newTestPacer(pol)
	p.firstLogin = t0.Add(-3 * time.Hour)
	want := []int{20, 36, 64, 116, 209, 377, 500, 500} // 20 × 1.8^d, floored, up to PerDay
	for d, w := range want {
		all, fresh := p.dailyCaps(t0.Add(time.Duration(d) * 24 * time.Hour))
		assert.Equal(t, w, all, "day %d", d)
		assert.Equal(t, min(25, w), fresh, "day %d", d)
	}
	// No login known yet: the warm-up starts from now.
	p.firstLogin = time.Time{}
	all, _ := p.dailyCaps(t0)
	assert.Equal(t, 20, all)
}

func TestPacerWindow(t *testing.T) {
	p := newTestPacer(Pacing{WindowStart: 8 * time.Hour, WindowEnd: 21 * time.Hour, Location: "Europe/Madrid"}) // UTC+1 in December
	ok, _ := p.inWindow(time.Date(2026, 12, 7, 19, 59, 0, 0, time.UTC))
	assert.True(t, ok, "20:59 in Madrid")
	d := p.decide(time.Date(2026, 12, 7, 20, 0, 0, 0, time.UTC), false, "x") // 21:00 in Madrid
	assert.Equal(t, WaitWindow, d.wait)
	assert.Equal(t, time.Date(2026, 12, 8, 7, 0, 0, 0, time.UTC), d.until.UTC(), "08:00 in Madrid")
	d = p.decide(time.Date(2026, 12, 8, 5, 0, 0, 0, time.UTC), false, "x") // 06:00
	assert.Equal(t, time.Date(2026, 12, 8, 7, 0, 0, 0, time.UTC), d.until.UTC())

	night := newTestPacer(Pacing{WindowStart: 22 * time.Hour, WindowEnd: 6 * time.Hour})
	for _, h := range []int{22, 23, 0, 5} {
		ok, _ := night.inWindow(time.Date(2026, 12, 7, h, 30, 0, 0, time.UTC))
		assert.True(t, ok, "%d:30 is within 22:00-06:00", h)
	}
	ok, opens := night.inWindow(time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC))
	assert.False(t, ok)
	assert.Equal(t, time.Date(2026, 12, 7, 22, 0, 0, 0, time.UTC), opens)
}

func TestPacerCapThatEndsOutsideTheWindowWaitsForIt(t *testing.T) {
	p := newTestPacer(Pacing{PerDay: 1, WindowStart: 8 * time.Hour, WindowEnd: 21 * time.Hour})
	p.sendAt(t0, "r", "a", false)
	d := p.decide(t0.Add(time.Hour), false, "b")
	assert.Equal(t, WaitDailyCap, d.wait)
	assert.Equal(t, time.Date(2026, 12, 8, 8, 0, 0, 0, time.UTC), d.until, "not midnight: the window opens at 08:00")
}

func TestPacerSameTextCap(t *testing.T) {
	p := newTestPacer(Pacing{SameTextPerWindow: 2, SameTextWindow: time.Hour})
	p.sendAt(t0, "a", "promo", true)
	p.sendAt(t0.Add(time.Minute), "b", "promo", true)
	d := p.decide(t0.Add(2*time.Minute), false, "promo")
	assert.Equal(t, WaitSameText, d.wait)
	assert.Equal(t, t0.Add(time.Hour), d.until)
	assert.True(t, p.decide(t0.Add(2*time.Minute), false, "other").send())
}

func TestPacerRestrictions(t *testing.T) {
	p := newTestPacer(NoPacing())
	until := t0.Add(time.Hour)
	p.restriction = Restriction{Kind: RestrictionTemporary, Until: until}
	d := p.decide(t0, false, "x")
	assert.Equal(t, decision{WaitRestricted, until}, d, "a temporary ban holds even with pacing off")
	assert.True(t, p.decide(until, false, "x").send(), "and ends by itself")

	p.restriction = Restriction{Kind: RestrictionNewChats, Until: until}
	assert.Equal(t, WaitNewChatsLocked, p.decide(t0, true, "x").wait)
	assert.True(t, p.decide(t0, false, "x").send(), "chats that exist go on")

	p.restriction = Restriction{Kind: RestrictionBreaker, Until: until}
	assert.Equal(t, WaitBreaker, p.decide(t0, false, "x").wait)

	p.restriction = Restriction{Kind: RestrictionBanned}
	assert.True(t, p.decide(t0, false, "x").send(), "a ban closes the context: the store refuses the turn")
}

func TestBreakerOpensProbesAndBacksOff(t *testing.T) {
	b := Breaker{Failures: 3, Rejects: 2, Window: time.Hour, Cooldown: 10 * time.Minute, MaxCooldown: 25 * time.Minute}
	p := newTestPacer(NoPacing())
	assert.Nil(t, p.outcome(b, t0, false, false))
	assert.Nil(t, p.outcome(b, t0, false, false))
	assert.Nil(t, p.outcome(b, t0, true, false), "a success resets the run")
	assert.Nil(t, p.outcome(b, t0, false, false))
	assert.Nil(t, p.outcome(b, t0, false, false))
	r := p.outcome(b, t0, false, false)
	require.NotNil(t, r)
	assert.Equal(t, RestrictionBreaker, r.Kind)
	assert.Equal(t, t0.Add(10*time.Minute), r.Until)

	// After the cool-down the next send probes: a failure opens it for
	// twice as long, then no longer than MaxCooldown.
	p.breaker.probing = true
	r = p.outcome(b, t0.Add(10*time.Minute), false, false)
	require.NotNil(t, r)
	assert.Equal(t, t0.Add(30*time.Minute), r.Until)
	p.breaker.probing = true
	r = p.outcome(b, t0.Add(30*time.Minute), false, false)
	assert.Equal(t, t0.Add(55*time.Minute), r.Until, "capped at MaxCooldown")
	p.breaker.probing = true
	assert.Nil(t, p.outcome(b, t0.Add(55*time.Minute), true, false), "a probe that succeeds closes it")

	// Rejections in a window open it too; old ones leave the window.
	assert.Nil(t, p.outcome(b, t0, false, true))
	assert.Nil(t, p.outcome(b, t0.Add(2*time.Hour), true, false))
	assert.Nil(t, p.outcome(b, t0.Add(2*time.Hour), false, true), "the first rejection left the window")
	assert.NotNil(t, p.outcome(b, t0.Add(2*time.Hour+time.Minute), false, true))
}

func TestPacerLoadContinuesTheBudget(t *testing.T) {
	// A process that takes a context over reads its ledger: the budget
	// goes on, and the gap runs from the last send.
	pol := Pacing{MinGap: time.Minute, MaxGap: time.Minute, PerDay: 3}
	old := newTestPacer(pol)
	for i := range 2 {
		old.sendAt(t0.Add(time.Duration(i)*time.Hour), "r", "t", false)
	}
	fresh := newTestPacer(pol)
	fresh.load(t0.Add(time.Hour+30*time.Second), old.sends)
	assert.Equal(t, WaitGap, fresh.decide(t0.Add(time.Hour+30*time.Second), false, "t").wait)
	now := t0.Add(2 * time.Hour)
	require.True(t, fresh.decide(now, false, "t").send())
	fresh.sendAt(now, "r", "t", false)
	assert.Equal(t, WaitDailyCap, fresh.decide(now.Add(time.Hour), false, "t").wait)
}

func TestPacingValidate(t *testing.T) {
	require.NoError(t, DefaultPacing().Validate())
	require.NoError(t, NoPacing().Validate())
	for name, p := range map[string]Pacing{
		"gap":      {MinGap: time.Minute, MaxGap: time.Second},
		"negative": {PerHour: -1},
		"warm-up":  {WarmupDays: 3},
		"growth":   {WarmupDays: 3, WarmupStart: 10, WarmupGrowth: 0.5},
		"window":   {WindowStart: 25 * time.Hour},
		"text":     {SameTextPerWindow: 3},
		"zone":     {Location: "Mars/Olympus_Mons"},
	} {
		assert.ErrorIs(t, p.Validate(), ErrInvalidPacing, name)
	}
}
