package wasend

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// simMsg is one message of a simulated campaign.
type simMsg struct {
	to, text string
	fresh    bool // the context never sent to to before
}

// simEvent is a restriction injected into a simulated context at a time.
type simEvent struct {
	at time.Time
	r  Restriction
}

// simContext is one browser context of a simulation: its pacer, its queue
// of messages in order, and the restrictions injected into it.
type simContext struct {
	p      *pacer
	queue  []simMsg
	events []simEvent
	sent   []SendRecord
	waits  map[WaitReason]int
	next   time.Time
	// known are the recipients the context wrote to, when the simulation
	// balances a campaign (nil otherwise: simMsg.fresh says).
	known map[string]bool
	// moved counts the messages that moved off the context.
	moved int
}

// simBalance is the balancer's policy on the simulated contexts, run at
// each sweep: with move, every unsent message of a restricted or banned
// context moves to the others (only those to new contacts under a lock on
// new chats); and always, the new contacts of a context out of daily
// budget flow to the contexts with budget left.
func simBalance(ctxs []*simContext, now time.Time, move bool) {
	for _, c := range ctxs {
		if len(c.queue) == 0 {
			continue
		}
		r := c.p.restriction
		mode := moveNone
		switch {
		case r.Kind == RestrictionBanned || (r.Active(now) && r.Kind != RestrictionNewChats):
			if move {
				mode = moveAll
			}
		case r.Active(now):
			if move {
				mode = moveNewAnyway
			}
		case outOfDay(c.p, now):
			mode = moveNew
		}
		if mode == moveNone {
			continue
		}
		var targets []*target
		index := map[int64]*simContext{}
		for i, o := range ctxs {
			// Off a banned number, messages move even to a number out of
			// budget today: it sends them tomorrow, the banned one never.
			if o == c || o.p.restriction.Kind == RestrictionBanned || o.p.restriction.Active(now) ||
				(outOfDay(o.p, now) && r.Kind != RestrictionBanned) {
				continue
			}
			room := unlimited
			if mode == moveNew {
				left := o.p.budget(now)
				room = min(nonNeg(left.newContacts), nonNeg(left.day))
				for _, m := range o.queue {
					if !o.known[m.to] {
						room--
					}
				}
			}
			if room > 0 {
				targets = append(targets, &target{id: int64(i), room: room})
				index[int64(i)] = o
			}
		}
		if len(targets) == 0 {
			continue
		}
		var keep []simMsg
		for _, m := range c.queue {
			if mode != moveAll && c.known[m.to] {
				keep = append(keep, m)
				continue
			}
			var t *target
			for _, o := range targets {
				if index[o.id].known[m.to] {
					t = o
					break
				}
			}
			if t == nil {
				for _, o := range targets {
					if o.room-o.given > 0 && (t == nil || o.room-o.given > t.room-t.given) {
						t = o
					}
				}
			}
			if t == nil {
				keep = append(keep, m)
				continue
			}
			t.given++
			dst := index[t.id]
			dst.queue = append(dst.queue, m)
			if dst.next.Before(now) {
				dst.next = now
			}
			c.moved++
		}
		c.queue = keep
	}
}

// outOfDay reports whether a context has no budget left today for a new
// contact, and the day ends later than CampaignFlowAfter.
func outOfDay(p *pacer, now time.Time) bool {
	b := p.budget(now)
	return (b.newContacts == 0 || b.day == 0) && nextDay(now, p.loc).Sub(now) > CampaignFlowAfter
}

func nonNeg(n int) int {
	if n < 0 {
		return unlimited
	}
	return n
}

// simulate drives the pacers of some contexts the way the executor does,
// on a fake clock from start to end: each context tries its next message
// as soon as it may, and waits for what its pacer decides. It returns the
// sends of each context.
func simulate(ctxs []*simContext, start, end time.Time) {
	simulateCampaign(ctxs, start, end, false, false)
}

// simulateCampaign is simulate, balancing the contexts as a campaign at
// each simulated sweep when balance is set (with moves off restrictions
// when move is set).
func simulateCampaign(ctxs []*simContext, start, end time.Time, balance, move bool) {
	var swept time.Time
	for _, c := range ctxs {
		c.next = start
		if c.waits == nil {
			c.waits = map[WaitReason]int{}
		}
	}
	for {
		var c *simContext
		for _, o := range ctxs {
			if len(o.queue) > 0 && o.next.Before(end) && (c == nil || o.next.Before(c.next)) {
				c = o
			}
		}
		// A restriction that begins before the next send is applied at
		// its time, and a sweep follows it at once.
		var ev *simContext
		for _, o := range ctxs {
			if len(o.events) > 0 && o.events[0].at.Before(end) && (ev == nil || o.events[0].at.Before(ev.events[0].at)) {
				ev = o
			}
		}
		if ev != nil && (c == nil || ev.events[0].at.Before(c.next)) {
			at := ev.events[0].at
			ev.p.restriction = ev.events[0].r
			ev.events = ev.events[1:]
			if balance {
				swept = at
				simBalance(ctxs, at, move)
			}
			continue
		}
		if c == nil {
			return
		}
		now := c.next
		for _, o := range ctxs {
			for len(o.events) > 0 && !o.events[0].at.After(now) {
				o.p.restriction = o.events[0].r
				o.events = o.events[1:]
			}
		}
		if balance && now.Sub(swept) >= DefaultSweepInterval {
			swept = now
			simBalance(ctxs, now, move)
			if len(c.queue) == 0 {
				continue
			}
		}
		if c.p.restriction.Kind == RestrictionBanned {
			c.next = end // the context stops for good
			continue
		}
		m := c.queue[0]
		if c.known != nil {
			m.fresh = !c.known[m.to]
		}
		d := c.p.decide(now, m.fresh, m.text)
		if !d.send() {
			c.waits[d.wait]++
			c.next = c.p.slot(now, d)
			if !c.next.After(now) {
				panic(fmt.Sprintf("pacer gave a wait that ends at once: %+v at %v", d, now))
			}
			continue
		}
		rec := SendRecord{At: now, Recipient: m.to, TextHash: m.text, NewContact: m.fresh}
		if c.known != nil {
			c.known[m.to] = true
		}
		c.p.note(rec)
		c.sent = append(c.sent, rec)
		c.queue = c.queue[1:]
		c.next = now.Add(time.Millisecond) // the send itself
	}
}

// checkSends checks a context's sends against its policy and returns the
// largest shortfall of a gap under MinGap (zero when none).
func checkSends(t interface{ Fatalf(string, ...any) }, pol Pacing, firstLogin time.Time, sends []SendRecord) time.Duration {
	p := &pacer{}
	p.setPolicy(pol)
	p.firstLogin = firstLogin
	var short time.Duration
	for i, s := range sends {
		if i > 0 {
			if gap := s.At.Sub(sends[i-1].At); gap < pol.MinGap && pol.MinGap-gap > short {
				short = pol.MinGap - gap
			}
		}
		if ok, _ := p.inWindow(s.At); !ok {
			t.Fatalf("send %d at %v is outside the window", i, s.At)
		}
		var hour, day, fresh, same int
		for _, o := range sends[:i+1] {
			if o.At.After(s.At.Add(-time.Hour)) {
				hour++
			}
			if !o.At.Before(dayStart(s.At, p.loc)) {
				day++
				if o.NewContact {
					fresh++
				}
			}
			if pol.SameTextPerWindow > 0 && o.TextHash == s.TextHash && o.At.After(s.At.Add(-pol.SameTextWindow)) {
				same++
			}
		}
		all, freshCap := p.dailyCaps(s.At)
		switch {
		case pol.PerHour > 0 && hour > pol.PerHour:
			t.Fatalf("send %d at %v: %d sends in an hour, cap %d", i, s.At, hour, pol.PerHour)
		case all >= 0 && day > all:
			t.Fatalf("send %d at %v: %d sends in a day, cap %d", i, s.At, day, all)
		case freshCap >= 0 && fresh > freshCap:
			t.Fatalf("send %d at %v: %d new contacts in a day, cap %d", i, s.At, fresh, freshCap)
		case pol.SameTextPerWindow > 0 && same > pol.SameTextPerWindow:
			t.Fatalf("send %d at %v: one text %d times in its window, cap %d", i, s.At, same, pol.SameTextPerWindow)
		}
	}
	return short
}

// TestPacingHoldsOverAnyWorkload lets rapid search for a policy and a
// workload under which a context sends more, or sooner, than its policy
// allows.
func TestPacingHoldsOverAnyWorkload(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		minGap := time.Duration(rapid.IntRange(0, 120).Draw(rt, "minGap")) * time.Second
		pol := Pacing{
			MinGap:            minGap,
			MaxGap:            minGap + time.Duration(rapid.IntRange(0, 120).Draw(rt, "jitter"))*time.Second,
			PerHour:           rapid.IntRange(0, 80).Draw(rt, "perHour"),
			PerDay:            rapid.IntRange(0, 400).Draw(rt, "perDay"),
			NewContactsPerDay: rapid.IntRange(0, 40).Draw(rt, "fresh"),
			SameTextPerWindow: rapid.IntRange(0, 5).Draw(rt, "same"),
			SameTextWindow:    time.Hour,
			Location:          rapid.SampledFrom([]string{"", "America/Sao_Paulo", "Asia/Kolkata", "Europe/Madrid"}).Draw(rt, "zone"),
		}
		if rapid.Bool().Draw(rt, "window") {
			pol.WindowStart = time.Duration(rapid.IntRange(0, 23).Draw(rt, "from")) * time.Hour
			pol.WindowEnd = time.Duration(rapid.IntRange(0, 24).Draw(rt, "to")) * time.Hour
		}
		if rapid.Bool().Draw(rt, "warmup") {
			pol.WarmupDays, pol.WarmupStart, pol.WarmupGrowth = 7, rapid.IntRange(1, 30).Draw(rt, "start"), 1.8
		}
		if err := pol.Validate(); err != nil {
			rt.Fatalf("the generator made an invalid policy: %v", err) // it draws valid ones only
		}
		seed := rapid.Uint64().Draw(rt, "seed")
		rng := rand.New(rand.NewPCG(seed, 1))
		p := &pacer{rand: rng.Float64}
		p.setPolicy(pol)
		start := time.Date(2026, 3, 28, rapid.IntRange(0, 23).Draw(rt, "hour"), 0, 0, 0, time.UTC) // over a DST change in Madrid
		firstLogin := start.Add(-time.Duration(rapid.IntRange(0, 240).Draw(rt, "age")) * time.Hour)
		p.firstLogin = firstLogin
		n := rapid.IntRange(1, 400).Draw(rt, "messages")
		c := &simContext{p: p}
		seen := map[string]bool{}
		for i := range n {
			to := fmt.Sprintf("r%d", rng.IntN(n))
			c.queue = append(c.queue, simMsg{to: to, text: fmt.Sprintf("t%d", rng.IntN(3)+i%2*i), fresh: !seen[to]})
			seen[to] = true
		}
		simulate([]*simContext{c}, start, start.Add(72*time.Hour))
		if short := checkSends(rt, pol, firstLogin, c.sent); short > 0 {
			rt.Fatalf("a gap was %v under the minimum", short)
		}
	})
}

// BenchmarkCampaignSimulated runs a campaign of 5,000 recipients over 10
// contexts for one simulated day, with restrictions injected: a temporary
// ban (context 3, 12:00 to 14:00), a lock on new chats (context 7, from
// 10:00) and a ban (context 9, at 15:00). It runs twice: on the default
// policy, and on one tuned for a campaign of warmed-up numbers (300 new
// contacts a day), each as separate bulk jobs (no balancing), and as a
// campaign (SendCampaign's balancing at each 15 s sweep, with
// AllowMoves). It prints messages per context per hour, the largest gap
// under the minimum (which must be none), the waits by reason (the caps
// reached), what the restrictions held back, the messages moved, and the
// wall time.
func BenchmarkCampaignSimulated(b *testing.B) {
	tuned := DefaultPacing()
	tuned.NewContactsPerDay = 300
	for _, run := range []struct {
		name     string
		pol      Pacing
		campaign bool
	}{{"default", DefaultPacing(), false}, {"default-campaign", DefaultPacing(), true},
		{"tuned", tuned, false}, {"tuned-campaign", tuned, true}} {
		b.Run(run.name, func(b *testing.B) {
			for range b.N {
				campaign(b, run.pol, run.campaign)
			}
		})
	}
}

func campaign(b *testing.B, pol Pacing, balance bool) {
	began := time.Now()
	start := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	end := start.Add(24 * time.Hour)
	ctxs := make([]*simContext, 10)
	rng := rand.New(rand.NewPCG(7, 7))
	for i := range ctxs {
		p := &pacer{rand: rng.Float64}
		p.setPolicy(pol)
		p.firstLogin = start.Add(-60 * 24 * time.Hour) // warmed up
		ctxs[i] = &simContext{p: p, known: map[string]bool{}}
	}
	// Each recipient is assigned to one context, by number; one in four
	// is a contact the context knows; texts vary by recipient.
	for r := range 5000 {
		c := ctxs[r%len(ctxs)]
		to := fmt.Sprintf("+5511%08d", r)
		c.queue = append(c.queue, simMsg{to: to, text: fmt.Sprintf("hello %d", r)})
		if r%4 == 0 {
			c.known[to] = true
		}
	}
	ctxs[3].events = []simEvent{{start.Add(12 * time.Hour), Restriction{Kind: RestrictionTemporary, Until: start.Add(14 * time.Hour)}}}
	ctxs[7].events = []simEvent{{start.Add(10 * time.Hour), Restriction{Kind: RestrictionNewChats, Until: start.Add(34 * time.Hour)}}}
	ctxs[9].events = []simEvent{{start.Add(15 * time.Hour), Restriction{Kind: RestrictionBanned}}}
	simulateCampaign(ctxs, start, end, balance, balance)

	var short time.Duration
	total, moved, stranded := 0, 0, 0
	b.Logf("simulated day %s: gaps %v-%v, %d/h, %d/day, %d new contacts/day, window %v-%v UTC",
		start.Format("2006-01-02"), pol.MinGap, pol.MaxGap, pol.PerHour, pol.PerDay, pol.NewContactsPerDay,
		pol.WindowStart, pol.WindowEnd)
	for i, c := range ctxs {
		perHour := map[int]int{}
		for _, s := range c.sent {
			perHour[s.At.Hour()]++
		}
		hours := make([]int, 0, len(perHour))
		for h := range perHour {
			hours = append(hours, h)
		}
		sort.Ints(hours)
		line := ""
		for _, h := range hours {
			line += fmt.Sprintf(" %02dh:%d", h, perHour[h])
		}
		if s := checkSends(b, pol, c.p.firstLogin, c.sent); s > short {
			short = s
		}
		total += len(c.sent)
		moved += c.moved
		if r := c.p.restriction; r.Kind == RestrictionBanned || r.Active(end) {
			stranded += len(c.queue) // on a banned or locked number at the day's end
		}
		b.Logf("context %d: sent %d, left %d, moved off %d, waits %v; per hour%s", i, len(c.sent), len(c.queue), c.moved, c.waits, line)
	}
	b.Logf("sent %d of 5000; largest gap under the minimum: %v; messages moved: %d; left on a banned or locked number: %d; wall time %v",
		total, short, moved, stranded, time.Since(began).Round(time.Millisecond))
	b.ReportMetric(float64(total), "msgs/day")
	b.ReportMetric(float64(moved), "moved")
	b.ReportMetric(float64(stranded), "stranded")
	b.ReportMetric(float64(short), "ns-under-min-gap")
}
