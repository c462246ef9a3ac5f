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
}

// simulate drives the pacers of some contexts the way the executor does,
// on a fake clock from start to end: each context tries its next message
// as soon as it may, and waits for what its pacer decides. It returns the
// sends of each context.
func simulate(ctxs []*simContext, start, end time.Time) {
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
		if c == nil {
			return
		}
		now := c.next
		for len(c.events) > 0 && !c.events[0].at.After(now) {
			c.p.restriction = c.events[0].r
			c.events = c.events[1:]
		}
		if c.p.restriction.Kind == RestrictionBanned {
			c.next = end // the context stops for good
			continue
		}
		m := c.queue[0]
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
// contacts a day). It prints messages per context per hour, the largest
// gap under the minimum (which must be none), the waits by reason (the
// caps reached), what the restrictions held back, and the wall time.
func BenchmarkCampaignSimulated(b *testing.B) {
	tuned := DefaultPacing()
	tuned.NewContactsPerDay = 300
	for _, run := range []struct {
		name string
		pol  Pacing
	}{{"default", DefaultPacing()}, {"campaign", tuned}} {
		b.Run(run.name, func(b *testing.B) {
			for range b.N {
				campaign(b, run.pol)
			}
		})
	}
}

func campaign(b *testing.B, pol Pacing) {
	began := time.Now()
	start := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	end := start.Add(24 * time.Hour)
	ctxs := make([]*simContext, 10)
	rng := rand.New(rand.NewPCG(7, 7))
	for i := range ctxs {
		p := &pacer{rand: rng.Float64}
		p.setPolicy(pol)
		p.firstLogin = start.Add(-60 * 24 * time.Hour) // warmed up
		ctxs[i] = &simContext{p: p}
	}
	// Each recipient is assigned to one context, by number; one in four
	// is a contact the context knows; texts vary by recipient.
	for r := range 5000 {
		c := ctxs[r%len(ctxs)]
		c.queue = append(c.queue, simMsg{to: fmt.Sprintf("+5511%08d", r), text: fmt.Sprintf("hello %d", r), fresh: r%4 != 0})
	}
	ctxs[3].events = []simEvent{{start.Add(12 * time.Hour), Restriction{Kind: RestrictionTemporary, Until: start.Add(14 * time.Hour)}}}
	ctxs[7].events = []simEvent{{start.Add(10 * time.Hour), Restriction{Kind: RestrictionNewChats, Until: start.Add(34 * time.Hour)}}}
	ctxs[9].events = []simEvent{{start.Add(15 * time.Hour), Restriction{Kind: RestrictionBanned}}}
	simulate(ctxs, start, end)

	var short time.Duration
	total := 0
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
		b.Logf("context %d: sent %d, left %d, waits %v; per hour%s", i, len(c.sent), len(c.queue), c.waits, line)
	}
	b.Logf("sent %d of 5000; largest gap under the minimum: %v; messages moved: 0 (campaign moves are not built yet); wall time %v",
		total, short, time.Since(began).Round(time.Millisecond))
	b.ReportMetric(float64(total), "msgs/day")
	b.ReportMetric(float64(short), "ns-under-min-gap")
}
