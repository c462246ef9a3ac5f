package wasend

import (
	"math"
	"sync"
	"time"
)

// pacer is the pacing state of one browser context in the process that
// holds it: its policy, its restriction, its recent sends (the tail of
// its send ledger) and its circuit breaker. Only the holder of the
// context's lease sends through it, so the memory stays the ledger's
// tail; a process that takes the context over loads the ledger again and
// goes on with the same budget.
//
// Its decisions are pure functions of the time given and a random draw,
// so that they are tested on a fake clock.
type pacer struct {
	mu sync.Mutex
	// policy is the context's effective policy, loc its time zone.
	policy Pacing
	loc    *time.Location
	// firstLogin is the context's first login, for the warm-up.
	firstLogin time.Time
	// restriction is the context's restriction, as stored.
	restriction Restriction
	// pendingAccount is the account that logged into the context in
	// place of its stored one (E.164), while RestrictionAccount holds it:
	// ConfirmAccount, or the refresh that sees it confirmed elsewhere,
	// stores it. It is kept only here, never in the store.
	pendingAccount string
	// sends are the ledger's entries since the start of the retention
	// (the longest window a limit looks back on), oldest first.
	sends []SendRecord
	// nextAt is when the gap after the last send ends.
	nextAt time.Time
	// reserved is the last slot handed to a job that waits for the gap:
	// waiters are spread one MinGap apart, instead of all coming back at
	// once.
	reserved time.Time
	// rand draws from [0, 1).
	rand func() float64

	// loaded says the ledger was read; refreshAt is when the context's
	// record (policy, restriction) is read again.
	loaded    bool
	refreshAt time.Time

	breaker breakerState
}

// decision is what pacing decides for a message: send now (wait is
// WaitNone), or wait until.
type decision struct {
	wait  WaitReason
	until time.Time
}

func (d decision) send() bool { return d.wait == WaitNone }

// later keeps the decision that ends later.
func (d decision) later(o decision) decision {
	if o.wait != WaitNone && (d.wait == WaitNone || o.until.After(d.until)) {
		return o
	}
	return d
}

// setPolicy installs a policy; an invalid time zone falls back to UTC
// (policies are validated before they are stored).
func (p *pacer) setPolicy(pol Pacing) {
	p.policy = pol
	loc, err := pol.location()
	if err != nil {
		loc = time.UTC
	}
	p.loc = loc
}

// retention is how far back the ledger is kept in memory at now: the
// start of the day in the context's zone, or the longest window.
func (p *pacer) retention(now time.Time) time.Time {
	since := dayStart(now, p.loc)
	for _, w := range []time.Duration{time.Hour, p.policy.SameTextWindow} {
		if t := now.Add(-w); t.Before(since) {
			since = t
		}
	}
	return since
}

// dayStart is the start of t's calendar day in loc.
func dayStart(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, loc)
}

// nextDay is the start of the calendar day after t's in loc.
func nextDay(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day()+1, 0, 0, 0, 0, loc)
}

// dailyCaps returns the day's cap on sends and on new contacts at now,
// with the warm-up applied; -1 means no cap.
func (p *pacer) dailyCaps(now time.Time) (all, fresh int) {
	pol := p.policy
	all, fresh = -1, -1
	if pol.PerDay > 0 {
		all = pol.PerDay
	}
	if pol.NewContactsPerDay > 0 {
		fresh = pol.NewContactsPerDay
	}
	if pol.WarmupDays > 0 {
		first := p.firstLogin
		if first.IsZero() || first.After(now) {
			first = now // no login known: the warm-up starts now
		}
		day := int(math.Round(dayStart(now, p.loc).Sub(dayStart(first, p.loc)).Hours() / 24))
		if day < pol.WarmupDays {
			w := pol.WarmupStart
			if f := float64(pol.WarmupStart) * math.Pow(pol.WarmupGrowth, float64(day)); f < float64(math.MaxInt32) {
				w = int(f)
			} else {
				w = math.MaxInt32
			}
			if all < 0 || w < all {
				all = w
			}
		}
	}
	if all >= 0 && (fresh < 0 || all < fresh) {
		fresh = all
	}
	return all, fresh
}

// inWindow reports whether now is within the sending window, and when the
// next window opens if it is not.
func (p *pacer) inWindow(now time.Time) (bool, time.Time) {
	pol := p.policy
	if pol.WindowStart == pol.WindowEnd {
		return true, time.Time{}
	}
	day := dayStart(now, p.loc)
	// A wall-clock offset: DST days are 23 or 25 hours long.
	l := now.In(p.loc)
	off := time.Duration(l.Hour())*time.Hour + time.Duration(l.Minute())*time.Minute +
		time.Duration(l.Second())*time.Second + time.Duration(l.Nanosecond())
	at := func(d time.Time, o time.Duration) time.Time {
		return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, p.loc).Add(o)
	}
	if pol.WindowStart < pol.WindowEnd {
		if off >= pol.WindowStart && off < pol.WindowEnd {
			return true, time.Time{}
		}
		if off < pol.WindowStart {
			return false, at(day, pol.WindowStart)
		}
		return false, at(nextDay(now, p.loc), pol.WindowStart)
	}
	// Over midnight: open from WindowStart to midnight and from midnight
	// to WindowEnd.
	if off >= pol.WindowStart || off < pol.WindowEnd {
		return true, time.Time{}
	}
	return false, at(day, pol.WindowStart)
}

// decide says whether a message may be sent through the context at now:
// newContact says the recipient is new to the context, text is the hash
// of its text.
func (p *pacer) decide(now time.Time, newContact bool, text string) decision {
	var d decision
	if r := p.restriction; r.Active(now) {
		switch r.Kind {
		case RestrictionBanned:
			// The context is closed: the step that starts the turn
			// fails, and the job with it.
			return decision{}
		case RestrictionTemporary:
			d = d.later(decision{WaitRestricted, r.Until})
		case RestrictionBreaker:
			d = d.later(decision{WaitBreaker, r.Until})
		case RestrictionAccount:
			// No end: the host confirms the account (ConfirmAccount),
			// which wakes the jobs; meanwhile they look again seldom.
			d = d.later(decision{WaitRestricted, now.Add(accountRecheck)})
		case RestrictionNewChats:
			if newContact {
				d = d.later(decision{WaitNewChatsLocked, r.Until})
			}
		}
	}
	if p.policy.Off() {
		return d
	}
	if ok, opens := p.inWindow(now); !ok {
		d = d.later(decision{WaitWindow, opens})
	}
	day := dayStart(now, p.loc)
	var today, freshToday, lastHour, sameText int
	hour, textFrom := now.Add(-time.Hour), now.Add(-p.policy.SameTextWindow)
	var hourFirst, textFirst []time.Time
	for _, s := range p.sends {
		if !s.At.Before(day) {
			today++
			if s.NewContact {
				freshToday++
			}
		}
		if s.At.After(hour) {
			lastHour++
			hourFirst = append(hourFirst, s.At)
		}
		if p.policy.SameTextPerWindow > 0 && s.TextHash == text && s.At.After(textFrom) {
			sameText++
			textFirst = append(textFirst, s.At)
		}
	}
	all, fresh := p.dailyCaps(now)
	if all >= 0 && today >= all {
		d = d.later(decision{WaitDailyCap, nextDay(now, p.loc)})
	}
	if newContact && fresh >= 0 && freshToday >= fresh {
		d = d.later(decision{WaitNewContactCap, nextDay(now, p.loc)})
	}
	if n := p.policy.PerHour; n > 0 && lastHour >= n {
		// The send that must leave the hour is the n-th most recent.
		d = d.later(decision{WaitHourlyCap, hourFirst[lastHour-n].Add(time.Hour)})
	}
	if n := p.policy.SameTextPerWindow; n > 0 && sameText >= n {
		d = d.later(decision{WaitSameText, textFirst[sameText-n].Add(p.policy.SameTextWindow)})
	}
	if now.Before(p.nextAt) {
		d = d.later(decision{WaitGap, p.nextAt})
	}
	if d.wait != WaitNone {
		if !d.until.After(now) {
			d.until = now.Add(time.Second)
		}
		// A day or a window may open when a gap still runs: look again
		// then rather than send early.
		if ok, _ := p.inWindow(d.until); !ok && d.wait != WaitRestricted {
			_, opens := p.inWindow(d.until)
			d.until = opens
		}
	}
	return d
}

// accountRecheck is how long a job waits, at most, for its context held
// for an account change (RestrictionAccount) before it looks again:
// ConfirmAccount wakes the jobs sooner.
const accountRecheck = 10 * time.Minute

// slot returns when a job that waits for d should come back: a gap's
// waiters are spread one MinGap apart, so that they do not all wake at
// once and wait again.
func (p *pacer) slot(now time.Time, d decision) time.Time {
	if d.wait != WaitGap || p.policy.MinGap <= 0 {
		return d.until
	}
	at := d.until
	if p.reserved.After(now) && !p.reserved.Add(p.policy.MinGap).Before(at) {
		at = p.reserved.Add(p.policy.MinGap)
	}
	p.reserved = at
	return at
}

// gap draws the gap after a send.
func (p *pacer) gap() time.Duration {
	pol := p.policy
	if pol.MaxGap <= pol.MinGap {
		return pol.MinGap
	}
	r := 0.5
	if p.rand != nil {
		r = p.rand()
	}
	return pol.MinGap + time.Duration(r*float64(pol.MaxGap-pol.MinGap))
}

// note records a send that began at rec.At.
func (p *pacer) note(rec SendRecord) {
	p.sends = append(p.sends, rec)
	if next := rec.At.Add(p.gap()); next.After(p.nextAt) {
		p.nextAt = next
	}
	p.trim(rec.At)
}

// trim drops the sends that no limit looks at any more.
func (p *pacer) trim(now time.Time) {
	since := p.retention(now)
	i := 0
	for i < len(p.sends) && p.sends[i].At.Before(since) {
		i++
	}
	if i > 0 {
		p.sends = append(p.sends[:0], p.sends[i:]...)
	}
}

// load replaces the ledger's tail with recs (oldest first), read from the
// store: the gap after the last one starts again from it.
func (p *pacer) load(now time.Time, recs []SendRecord) {
	p.sends = append(p.sends[:0], recs...)
	p.nextAt = time.Time{}
	if n := len(recs); n > 0 {
		p.nextAt = recs[n-1].At.Add(p.gap())
	}
	p.trim(now)
	p.loaded = true
}

// budget is what is left of a context's limits at now; -1 means no limit.
type budget struct {
	hour, day, newContacts int
}

func (p *pacer) budget(now time.Time) budget {
	b := budget{hour: -1, day: -1, newContacts: -1}
	if p.policy.Off() {
		return b
	}
	day := dayStart(now, p.loc)
	var today, fresh, hour int
	for _, s := range p.sends {
		if !s.At.Before(day) {
			today++
			if s.NewContact {
				fresh++
			}
		}
		if s.At.After(now.Add(-time.Hour)) {
			hour++
		}
	}
	all, freshCap := p.dailyCaps(now)
	left := func(limit, used int) int {
		if limit < 0 {
			return -1
		}
		return max(0, limit-used)
	}
	if p.policy.PerHour > 0 {
		b.hour = left(p.policy.PerHour, hour)
	}
	b.day, b.newContacts = left(all, today), left(freshCap, fresh)
	return b
}

// Breaker figures, per browser context.
const (
	// DefaultBreakerFailures is how many sends in a row may fail before
	// the breaker opens.
	DefaultBreakerFailures = 5
	// DefaultBreakerRejects is how many messages WhatsApp may reject
	// after accepting them, within DefaultBreakerWindow, before the
	// breaker opens.
	DefaultBreakerRejects = 3
	DefaultBreakerWindow  = time.Hour
	// DefaultBreakerCooldown is how long the breaker stays open the first
	// time; each probe that fails doubles it, up to DefaultBreakerMaxCooldown.
	DefaultBreakerCooldown    = 15 * time.Minute
	DefaultBreakerMaxCooldown = 4 * time.Hour
)

// Breaker is the circuit breaker of each browser context: after Failures
// sends in a row that failed, or Rejects messages rejected by WhatsApp
// within Window, the context is restricted (RestrictionBreaker) for
// Cooldown; then one send probes. If it succeeds, the context goes on; if
// it fails, the breaker opens again for twice as long, up to MaxCooldown.
// A zero Failures or Rejects turns that trigger off.
type Breaker struct {
	Failures    int
	Rejects     int
	Window      time.Duration
	Cooldown    time.Duration
	MaxCooldown time.Duration
}

// DefaultBreaker returns the default breaker.
func DefaultBreaker() Breaker {
	return Breaker{Failures: DefaultBreakerFailures, Rejects: DefaultBreakerRejects, Window: DefaultBreakerWindow,
		Cooldown: DefaultBreakerCooldown, MaxCooldown: DefaultBreakerMaxCooldown}
}

func (b Breaker) valid() bool {
	return b.Failures >= 0 && b.Rejects >= 0 && (b.Rejects == 0 || b.Window > 0) &&
		((b.Failures == 0 && b.Rejects == 0) || (b.Cooldown > 0 && b.MaxCooldown >= b.Cooldown))
}

// breakerState is a context's breaker in memory.
type breakerState struct {
	failures int
	rejects  []time.Time
	// probing says that the breaker was open and its cool-down ended: the
	// next send is the probe.
	probing  bool
	cooldown time.Duration
}

// outcome feeds a send's outcome to the breaker: ok, failed (it counts
// toward Failures) or rejected (it counts toward both). It returns the
// restriction to impose when the breaker opens, or nil.
func (p *pacer) outcome(b Breaker, now time.Time, ok, rejected bool) *Restriction {
	s := &p.breaker
	if ok {
		s.failures, s.probing, s.cooldown = 0, false, 0
		return nil
	}
	s.failures++
	if rejected {
		s.rejects = append(s.rejects, now)
	}
	i := 0
	for i < len(s.rejects) && !s.rejects[i].After(now.Add(-b.Window)) {
		i++
	}
	s.rejects = s.rejects[i:]
	why := ""
	switch {
	case s.probing:
		why = "the probe after a cool-down failed"
	case b.Failures > 0 && s.failures >= b.Failures:
		why = "sends failed in a row"
	case b.Rejects > 0 && len(s.rejects) >= b.Rejects:
		why = "WhatsApp rejected messages"
	default:
		return nil
	}
	if s.probing && s.cooldown > 0 {
		s.cooldown = min(2*s.cooldown, b.MaxCooldown)
	} else {
		s.cooldown = b.Cooldown
	}
	s.failures, s.rejects, s.probing = 0, nil, false
	return &Restriction{Kind: RestrictionBreaker, Until: now.Add(s.cooldown), Reason: why}
}

// restrictionOf returns the restriction that an attempt's error reveals,
// with an end filled in when the page gave none, or nil.
// A temporary ban without an end is assumed to last an hour, and a lock
// on new chats a day: the Client then tries again.
func restrictionOf(err error, now time.Time) *Restriction {
	re, ok := RestrictionOf(err)
	if !ok {
		return nil
	}
	r := Restriction{Kind: re.Kind, Until: re.Until, Reason: truncate(re.Reason, 500)}
	if r.Kind == RestrictionNone {
		r.Kind = RestrictionTemporary
	}
	if r.Kind != RestrictionBanned && !r.Until.After(now) {
		r.Until = now.Add(time.Hour)
		if r.Kind == RestrictionNewChats {
			r.Until = now.Add(24 * time.Hour)
		}
	}
	if r.Kind == RestrictionBanned {
		r.Until = time.Time{}
	}
	return &r
}
