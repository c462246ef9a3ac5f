package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/wasend/wasend/chromedpdriver"
	"github.com/wasend/wasend/internal/fakewa"
	"github.com/wasend/wasend/internal/procfs"
	"github.com/wasend/wasend/internal/testenv"
)

// The browser benchmarks of issue 3: send latency against a floor, aggregate
// throughput, memory per session and cold start, all against fakewa with the
// timings of fakeOptions (boot 50 ms, loading 50 ms, "Starting chat" 50 ms,
// ticks: pending 30 ms, sent 60 ms, delivered 100 ms). Each does a fixed
// amount of work once and reports its figures with ReportMetric; run them
// with
//
//	go test -run '^$' -bench 'BenchmarkBrowser' -benchtime 1x ./internal/bench/
//
// Driver pools use the driver's default timings (monitor poll 250 ms,
// watchdog 10 s), persistent mode unless the benchmark says otherwise.

// ------------------------------------------------------------------ latency

const (
	latencyWarmup = 3  // sends per side before the timed ones, not counted
	latencySwitch = 60 // timed sends per side, each opening another chat
	latencySame   = 30 // timed sends per side to the chat that is open
)

// sendRec is one timed send, driver or floor.
type sendRec struct {
	floor  bool
	wid    string // "<digits>@c.us" of the sending page
	to     string // digits
	text   string
	open   bool // the send had to open the chat
	t0, t1 time.Time
}

// BenchmarkBrowserLatency measures SendText in one persistent session and,
// side by side in the same run, the floor (floorPage.send: the same DOM
// steps with the fewest chromedp calls and in-page waits) in a bare
// Chromium with the driver's flags, on the same fake, interleaved send by
// send (the order alternates). "switch" sends to 3 chats in turn, so that
// every send opens a chat in the app; "same-chat" sends to the chat that is
// open. Every message is checked in the fake's oracle. A page script
// (traceJS) timestamps the steps, to show where the driver's extra time
// goes. The floor returns at the first tick, so the driver runs without
// its watch for a rejection after the tick (WithRejectWatch(0)); by
// default that watch lasts until the row shows delivered, at most
// DefaultRejectWatch (BENCHMARKS.md gives its cost).
func BenchmarkBrowserLatency(b *testing.B) {
	noLeftovers(b)
	tf, base := startTracedFake(b)
	p := newPool(b, base, chromedpdriver.Persistent, chromedpdriver.WithRejectWatch(0))
	const drvPhone, floorPhone = "15550010001", "15550010002"
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, err := launchLoggedIn(ctx, p, tf.f, drvPhone)
	if err != nil {
		b.Fatal(err)
	}
	fp := newFloorPage(b, tf.f, base, p, floorPhone)

	lat := &latencyRun{tf: tf, s: s, fp: fp, drv: drvPhone, flr: floorPhone}
	// Warm up both pages (first evaluations, first chats).
	for i := range latencyWarmup {
		lat.pair(b, fmt.Sprintf("1555100900%d", i), fmt.Sprintf("warmup %d", i), true, i)
	}
	b.Run("switch", func(b *testing.B) {
		chats := []string{"15551000001", "15551000002", "15551000003"}
		lat.reset()
		for i := range latencySwitch {
			lat.pair(b, chats[i%len(chats)], fmt.Sprintf("switch %d ✓", i), true, i)
		}
		lat.report(b)
	})
	b.Run("same-chat", func(b *testing.B) {
		const chat = "15551000004"
		lat.pair(b, chat, "open the chat", true, 0)
		lat.reset()
		for i := range latencySame {
			lat.pair(b, chat, fmt.Sprintf("same %d ✓", i), false, i)
		}
		lat.report(b)
	})
	b.Run("eval-cost", func(b *testing.B) { evalCost(b, fp) })
}

// evalCost times, in the floor's page with a chat open, one round trip
// (Evaluate "1") and the driver's page code as the driver evaluates it
// (pageJS from chromedpdriver/js.go, with the default selector set, read
// from the source because it is not exported): the read-only operations
// "chat", "compose" and "confirm".
func evalCost(b *testing.B, fp *floorPage) {
	src, err := os.ReadFile("../../chromedpdriver/js.go")
	if err != nil {
		b.Fatalf("driver source not found: %v", err)
	}
	const open = "const pageJS = `"
	i := strings.Index(string(src), open)
	if i < 0 {
		b.Fatal("pageJS not found in chromedpdriver/js.go")
	}
	js := string(src)[i+len(open):]
	js = js[:strings.Index(js, "`")]
	sel, err := json.Marshal(chromedpdriver.DefaultSelectors())
	if err != nil {
		b.Fatal(err)
	}
	const n = 50
	timeIt := func(expr string) time.Duration {
		var ds []time.Duration
		for range n {
			t0 := time.Now()
			if _, err := chromedp.Run(fp.bc.ctx, chromedp.Evaluate[[]byte](expr)); err != nil {
				b.Fatalf("evaluating: %v", err)
			}
			ds = append(ds, time.Since(t0))
		}
		return pct(ds, .5)
	}
	rt := timeIt("1")
	b.ReportMetric(ms(rt), "rt-p50-ms")
	for _, op := range []string{"chat", "compose", "confirm"} {
		b.ReportMetric(ms(timeIt(js+`("`+op+`",`+string(sel)+`,{})`)), op+"-p50-ms")
	}
	// The same "chat" read with the "text=" entries left out of the set:
	// what the whole-document text searches cost.
	var set map[string]any
	if err := json.Unmarshal(sel, &set); err != nil {
		b.Fatal(err)
	}
	for k, v := range set {
		if list, ok := v.([]any); ok {
			set[k] = slices.DeleteFunc(list, func(e any) bool { return strings.Contains(fmt.Sprint(e), "text=") })
		}
	}
	cssOnly, _ := json.Marshal(set)
	b.ReportMetric(ms(timeIt(js+`("chat",`+string(cssOnly)+`,{})`)), "chat-css-only-p50-ms")
	// And the "chat" read on a page with 5,000 more text nodes (hidden),
	// closer to the size of the real WhatsApp Web.
	const grow = `(function () {
  var d = document.createElement('div'); d.id = 'bench-filler'; d.style.display = 'none';
  for (var i = 0; i < 5000; i++) { var s = document.createElement('span'); s.textContent = 'filler text ' + i; d.appendChild(s); }
  document.body.appendChild(d); return document.getElementsByTagName('*').length;
})()`
	nodes, err := chromedp.Run(fp.bc.ctx, chromedp.Evaluate[int](grow))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(ms(timeIt(js+`("chat",`+string(sel)+`,{})`)), "chat-5k-nodes-p50-ms")
	b.ReportMetric(ms(timeIt(js+`("chat",`+string(cssOnly)+`,{})`)), "chat-5k-css-only-p50-ms")
	b.ReportMetric(float64(nodes), "elements-5k")
	if err := chromedp.Do(fp.bc.ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById('bench-filler').remove()`)); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(len(js)), "pagejs-bytes")
	b.ReportMetric(0, "ns/op")
}

type latencyRun struct {
	tf       *tracedFake
	s        *chromedpdriver.Session
	fp       *floorPage
	drv, flr string
	recs     []sendRec
	cpu      *cpuMeter
}

func (l *latencyRun) reset() {
	l.recs = nil
	time.Sleep(1200 * time.Millisecond) // the pages post their trace every second
	l.tf.take()
	l.cpu = startCPU()
}

// pair sends text to the chat with digits from both pages, the driver
// first on even i.
func (l *latencyRun) pair(b *testing.B, digits, text string, open bool, i int) {
	b.Helper()
	drv := func() {
		t := "driver " + text
		ctx, cancel := sendCtx()
		defer cancel()
		t0 := time.Now()
		if _, err := l.s.SendText(ctx, "+"+digits, t); err != nil {
			b.Fatalf("driver send %q: %v", t, err)
		}
		l.recs = append(l.recs, sendRec{wid: l.drv + "@c.us", to: digits, text: t, open: open, t0: t0, t1: time.Now()})
		if err := checkOracle(l.tf.f, l.drv, digits, t); err != nil {
			b.Fatal(err)
		}
	}
	flr := func() {
		t := "floor " + text
		t0 := time.Now()
		if err := l.fp.send(digits, t, open); err != nil {
			b.Fatalf("floor send %q: %v", t, err)
		}
		l.recs = append(l.recs, sendRec{floor: true, wid: l.flr + "@c.us", to: digits, text: t, open: open, t0: t0, t1: time.Now()})
		if err := checkOracle(l.tf.f, l.flr, digits, t); err != nil {
			b.Fatal(err)
		}
	}
	if i%2 == 0 {
		drv()
		flr()
	} else {
		flr()
		drv()
	}
}

// The phases of a send, from the page's trace.
var phaseNames = []string{"start→nav", "nav→open", "open→input", "input→click", "click→tick", "tick→return"}

// phases splits a send into phaseNames (ms; NaN-free: ok is false when an
// event is missing) and counts the driver's page evaluations in each.
func phases(r sendRec, evs []traceEvent) (d [6]time.Duration, n [6]int, ok bool) {
	lo, hi := r.t0.Add(-time.Millisecond), r.t1.Add(time.Millisecond)
	var mine []traceEvent
	for _, e := range evs {
		if e.W == r.wid && !e.at().Before(lo) && !e.at().After(hi) {
			mine = append(mine, e)
		}
	}
	find := func(after time.Time, match func(traceEvent) bool) (time.Time, bool) {
		for _, e := range mine {
			if !e.at().Before(after) && match(e) {
				return e.at(), true
			}
		}
		return time.Time{}, false
	}
	marks := make([]time.Time, 7)
	marks[0] = r.t0
	at := r.t0
	if r.open {
		nav, ok1 := find(at, func(e traceEvent) bool { return e.K == "nav" })
		open, ok2 := find(nav, func(e traceEvent) bool { return e.K == "open" && e.V == "+"+r.to })
		if !ok1 || !ok2 {
			return d, n, false
		}
		marks[1], marks[2], at = nav, open, open
	} else {
		marks[1], marks[2] = r.t0, r.t0
	}
	in, ok1 := find(at, func(e traceEvent) bool { return e.K == "in" })
	click, ok2 := find(in, func(e traceEvent) bool { return e.K == "click" || e.K == "enter" })
	tick, ok3 := find(click, func(e traceEvent) bool { return e.K == "tick" && e.V == r.text })
	if !ok1 || !ok2 || !ok3 {
		return d, n, false
	}
	marks[3], marks[4], marks[5], marks[6] = in, click, tick, r.t1
	for i := range 6 {
		d[i] = marks[i+1].Sub(marks[i])
	}
	for _, e := range mine {
		if e.K != "eval" {
			continue
		}
		for i := range 6 {
			if !e.at().Before(marks[i]) && (e.at().Before(marks[i+1]) || i == 5) {
				n[i]++
				break
			}
		}
	}
	return d, n, true
}

func (l *latencyRun) report(b *testing.B) {
	l.cpu.report(b)
	time.Sleep(1200 * time.Millisecond)
	evs, offsets := l.tf.take()
	var drv, flr []time.Duration
	var dph, fph [6][]time.Duration
	var dn, fn [6][]int
	missing := 0
	for _, r := range l.recs {
		d, n, ok := phases(r, evs)
		if r.floor {
			flr = append(flr, r.t1.Sub(r.t0))
		} else {
			drv = append(drv, r.t1.Sub(r.t0))
		}
		if !ok {
			missing++
			continue
		}
		for i := range 6 {
			if r.floor {
				fph[i] = append(fph[i], d[i])
				fn[i] = append(fn[i], n[i])
			} else {
				dph[i] = append(dph[i], d[i])
				dn[i] = append(dn[i], n[i])
			}
		}
	}
	dp50, dp95, fp50, fp95 := pct(drv, .5), pct(drv, .95), pct(flr, .5), pct(flr, .95)
	b.ReportMetric(float64(len(drv)), "sends")
	b.ReportMetric(ms(dp50), "p50-ms")
	b.ReportMetric(ms(dp95), "p95-ms")
	b.ReportMetric(ms(fp50), "floor-p50-ms")
	b.ReportMetric(ms(fp95), "floor-p95-ms")
	b.ReportMetric(ms(dp50)/ms(fp50), "ratio-p50")
	b.ReportMetric(ms(dp95)/ms(fp95), "ratio-p95")
	b.ReportMetric(0, "ns/op")

	var t strings.Builder
	fmt.Fprintf(&t, "phases (p50 ms; driver page evaluations, median per send), %d sends per side, %d without a full trace:\n", len(drv), missing)
	fmt.Fprintf(&t, "  %-12s %8s %8s %8s %6s\n", "phase", "driver", "floor", "extra", "evals")
	for i, name := range phaseNames {
		if len(dph[i]) == 0 {
			continue
		}
		dd, ff := ms(pct(dph[i], .5)), ms(pct(fph[i], .5))
		if i < 2 && !l.recs[0].open {
			continue // no chat to open
		}
		if i == 2 && !l.recs[0].open {
			name = "start→input"
		}
		fmt.Fprintf(&t, "  %-12s %8.1f %8.1f %8.1f %6d\n", name, dd, ff, dd-ff, medianInt(dn[i]))
	}
	var total []int
	for k := range dn[0] {
		sum := 0
		for i := range 6 {
			sum += dn[i][k]
		}
		total = append(total, sum)
	}
	fmt.Fprintf(&t, "  driver evaluations per send: median %d; driver p50 %.1f ms, floor p50 %.1f ms", medianInt(total), ms(dp50), ms(fp50))
	b.ReportMetric(float64(medianInt(total)), "evals/send")
	if os.Getenv("BENCH_TRACE") != "" {
		// The timelines of the first sends, ms from the start of each (on
		// stdout: benchmark logs are cut at 10 lines).
		var tl strings.Builder
		fmt.Fprintf(&tl, "%s: page clock offsets (ms, Date.now() - high-resolution time): %v\n", b.Name(), offsets)
		for _, r := range l.recs[:min(8, len(l.recs))] {
			who := "driver"
			if r.floor {
				who = "floor"
			}
			fmt.Fprintf(&tl, "  %s %q (%.1f ms):", who, r.text, ms(r.t1.Sub(r.t0)))
			for _, e := range evs {
				if e.W == r.wid && !e.at().Before(r.t0.Add(-time.Millisecond)) && !e.at().After(r.t1.Add(time.Millisecond)) {
					fmt.Fprintf(&tl, " %s@%.1f", e.K, ms(e.at().Sub(r.t0)))
				}
			}
			tl.WriteString("\n")
		}
		fmt.Print(tl.String())
	}
	if missing > 0 {
		fmt.Fprintf(&t, "\n  page clock offsets (ms): %v", offsets)
		count := map[string]int{}
		for _, e := range evs {
			count[e.W+" "+e.K]++
		}
		fmt.Fprintf(&t, "\n  events collected: %v", count)
	}
	b.Log(t.String())
}

func medianInt(v []int) int {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}

// --------------------------------------------------------------- throughput

const throughputPerSession = 20

// BenchmarkBrowserThroughput sends throughputPerSession messages back to
// back from each of 1, 5 and 10 persistent sessions at once (sessions are
// added between the runs), through Session.SendText directly (no Client,
// no queue, no anti-ban delay), each message to a recipient of its own, and
// reports the aggregate rate. The fake's oracle must hold every message
// exactly once, intact.
func BenchmarkBrowserThroughput(b *testing.B) {
	noLeftovers(b)
	f, base := startFake(b)
	p := newPool(b, base, chromedpdriver.Persistent)
	var sessions []*chromedpdriver.Session
	var phones []string
	for _, n := range []int{1, 5, 10} {
		b.Run(fmt.Sprintf("sessions=%d", n), func(b *testing.B) {
			var add []string
			for i := len(sessions); i < n; i++ {
				add = append(add, fmt.Sprintf("155502%05d", i))
			}
			sessions = append(sessions, launchMany(b, p, f, add)...)
			phones = append(phones, add...)
			time.Sleep(2 * time.Second) // let the new pages settle
			before := len(f.AllReceived())

			type sent struct{ me, to, text string }
			var mu sync.Mutex
			var all []sent
			var durs []time.Duration
			var wg sync.WaitGroup
			cpu := startCPU()
			start := time.Now()
			for i := range n {
				s, me := sessions[i], phones[i]
				wg.Go(func() {
					for k := range throughputPerSession {
						to := fmt.Sprintf("1556%02d%02d%04d", n, i, k)
						text := fmt.Sprintf("throughput n=%d s=%d k=%d\nline two ✓", n, i, k)
						ctx, cancel := sendCtx()
						t0 := time.Now()
						_, err := s.SendText(ctx, "+"+to, text)
						d := time.Since(t0)
						cancel()
						if err != nil {
							b.Errorf("session %d send %d: %v", i, k, err)
							return
						}
						mu.Lock()
						all = append(all, sent{me, to, text})
						durs = append(durs, d)
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			cpu.report(b)
			if b.Failed() {
				return
			}
			for _, m := range all {
				if err := checkOracle(f, m.me, m.to, m.text); err != nil {
					b.Error(err)
				}
			}
			if got := len(f.AllReceived()) - before; got != len(all) {
				b.Errorf("the fake received %d messages, want %d", got, len(all))
			}
			b.ReportMetric(float64(len(all)), "msgs")
			b.ReportMetric(float64(len(all))/elapsed.Seconds(), "msgs/s")
			b.ReportMetric(float64(len(all))/elapsed.Seconds()/float64(n), "msgs/s/session")
			b.ReportMetric(ms(pct(durs, .5)), "send-p50-ms")
			b.ReportMetric(ms(pct(durs, .95)), "send-p95-ms")
			b.ReportMetric(elapsed.Seconds(), "wall-s")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// ------------------------------------------------------------------- memory

const (
	memSettle = 5 * time.Second // wait before each reading
	memSends  = 3               // sends per session before the second reading
)

// memPoint is a memory reading: PSS and USS in bytes.
type memPoint struct{ pss, uss int64 }

// reportMem reports readings with 1 and 5 sessions (or browsers): the value
// at 1, the value per session at 5, and the increment per added session
// ((at5 - at1) / 4), for PSS and USS.
func reportMem(b *testing.B, what string, at1, at5 memPoint) {
	for _, k := range []struct {
		name   string
		v1, v5 int64
	}{{"pss", at1.pss, at5.pss}, {"uss", at1.uss, at5.uss}} {
		b.ReportMetric(mib(k.v1), k.name+"-"+what+"-MiB@1")
		b.ReportMetric(mib(k.v5)/5, k.name+"-"+what+"-MiB/session@5")
		b.ReportMetric(mib(k.v5-k.v1)/4, k.name+"-"+what+"-MiB/added")
	}
}

// BenchmarkBrowserMemory reads memory, summed over a browser's process
// tree from /proc/<pid>/smaps_rollup, with 1 and then 5 sessions logged in
// on the fake's main screen, after memSettle ("idle") and again after
// memSends sends per session and memSettle ("sent"):
//
//   - floor: bare Chromium processes with the driver's flags on about:blank
//     (checked against a driver browser's command line);
//   - persistent: one Chrome per session (Session.Memory);
//   - ephemeral: browser contexts of one shared Chrome; its totals are
//     divided by the number of sessions.
//
// PSS splits shared pages among all the processes of the machine that map
// them, so it falls as browsers are added, and also when other programs
// run Chromium; USS (private pages) is the cost of one more session.
func BenchmarkBrowserMemory(b *testing.B) {
	noLeftovers(b)
	exe := testenv.Chromium(b)

	b.Run("floor", func(b *testing.B) {
		defer startCPU().report(b)
		p, err := chromedpdriver.New(chromedpdriver.WithExecPath(exe), chromedpdriver.WithLogger(benchLogger(b)))
		if err != nil {
			b.Fatal(err)
		}
		var bcs []*bareChrome
		read := func() memPoint {
			var pids []int
			for _, bc := range bcs {
				pids = append(pids, procfs.Tree(bc.pid)...)
			}
			pss, uss := memOf(pids)
			return memPoint{pss, uss}
		}
		bcs = append(bcs, startBare(b, p))
		time.Sleep(memSettle)
		at1 := read()
		for range 4 {
			bcs = append(bcs, startBare(b, p))
		}
		time.Sleep(memSettle)
		reportMem(b, "idle", at1, read())
		b.ReportMetric(float64(len(procfs.Tree(bcs[0].pid))), "procs/browser")
		b.ReportMetric(0, "ns/op")
	})

	b.Run("persistent", func(b *testing.B) {
		defer startCPU().report(b)
		f, base := startFake(b)
		p := newPool(b, base, chromedpdriver.Persistent)
		m := &memRun{f: f, p: p}
		m.add(b, 1)
		idle1, sent1 := m.measure(b)
		m.add(b, 4)
		idle5, sent5 := m.measure(b)
		checkFlags(b, p)
		reportMem(b, "idle", idle1, idle5)
		reportMem(b, "sent", sent1, sent5)
		b.ReportMetric(float64(m.processes(b)), "procs/session")
		b.ReportMetric(0, "ns/op")
	})

	b.Run("ephemeral", func(b *testing.B) {
		defer startCPU().report(b)
		f, base := startFake(b)
		p := newPool(b, base, chromedpdriver.Ephemeral)
		m := &memRun{f: f, p: p, shared: true}
		m.add(b, 1)
		idle1, sent1 := m.measure(b)
		m.add(b, 4)
		idle5, sent5 := m.measure(b)
		reportMem(b, "idle", idle1, idle5)
		reportMem(b, "sent", sent1, sent5)
		b.ReportMetric(mib(sent5.pss), "pss-sent-total-MiB@5")
		b.ReportMetric(float64(m.processes(b)), "procs@5")
		b.ReportMetric(0, "ns/op")
	})
}

type memRun struct {
	f      *fakewa.Server
	p      *chromedpdriver.Pool
	ss     []*chromedpdriver.Session
	phones []string
	shared bool
	round  int
}

// add launches and logs in n more sessions.
func (m *memRun) add(b *testing.B, n int) {
	b.Helper()
	var add []string
	for i := len(m.ss); i < len(m.ss)+n; i++ {
		add = append(add, fmt.Sprintf("155503%05d", i))
	}
	m.ss = append(m.ss, launchMany(b, m.p, m.f, add)...)
	m.phones = append(m.phones, add...)
}

// read returns the memory of the sessions' browsers (Session.Memory):
// their sum (persistent), or the shared browser's (ephemeral).
func (m *memRun) read(b *testing.B) memPoint {
	b.Helper()
	ss := m.ss
	if m.shared {
		ss = ss[:1]
	}
	var pt memPoint
	for _, s := range ss {
		v, err := s.Memory()
		if err != nil {
			b.Fatal(err)
		}
		pt.pss += v.PSS
		pt.uss += v.USS
	}
	return pt
}

// processes returns the number of processes of the first session's
// browser.
func (m *memRun) processes(b *testing.B) int {
	b.Helper()
	v, err := m.ss[0].Memory()
	if err != nil {
		b.Fatal(err)
	}
	return v.Processes
}

// measure reads the memory after memSettle, then sends memSends messages
// from every session and reads it again after memSettle.
func (m *memRun) measure(b *testing.B) (idle, sent memPoint) {
	b.Helper()
	time.Sleep(memSettle)
	idle = m.read(b)
	m.round++
	var wg sync.WaitGroup
	for i, s := range m.ss {
		wg.Go(func() {
			for k := range memSends {
				to := fmt.Sprintf("1557%d%02d%04d", m.round, i, k)
				text := fmt.Sprintf("memory %d %d %d", m.round, i, k)
				ctx, cancel := sendCtx()
				_, err := s.SendText(ctx, "+"+to, text)
				cancel()
				if err != nil {
					b.Errorf("session %d: %v", i, err)
					return
				}
				if err := checkOracle(m.f, m.phones[i], to, text); err != nil {
					b.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
	time.Sleep(memSettle)
	return idle, m.read(b)
}

// checkFlags compares the command line of the browsers of p, the only
// browsers running, with the floor's flags, so that the floor runs the
// same binary the same way.
func checkFlags(b *testing.B, p *chromedpdriver.Pool) {
	b.Helper()
	drivers := mainBrowsers()
	if len(drivers) == 0 {
		b.Fatal("checkFlags: no browser of the pool runs")
	}
	bc := startBare(b, p)
	defer bc.cancel()
	want, got := cmdFlags(drivers[0]), cmdFlags(bc.pid)
	delete(want, "user-data-dir")
	delete(got, "user-data-dir")
	if !maps.Equal(want, got) {
		var diff []string
		for k, v := range want {
			if g, ok := got[k]; !ok || g != v {
				diff = append(diff, fmt.Sprintf("driver --%s=%q, floor %q", k, v, g))
			}
		}
		for k, v := range got {
			if _, ok := want[k]; !ok {
				diff = append(diff, fmt.Sprintf("floor only --%s=%q", k, v))
			}
		}
		b.Errorf("the floor's flags differ from the driver's: %s", strings.Join(diff, "; "))
	}
}

// --------------------------------------------------------------- cold start

const coldRuns = 5

// BenchmarkBrowserColdStart logs a persistent session in once, closes it
// gracefully, then relaunches it coldRuns times on the same profile: each
// run is the time from Launch to WaitReady (no QR code may show), and the
// session is closed gracefully after it. The last run also sends a message.
func BenchmarkBrowserColdStart(b *testing.B) {
	noLeftovers(b)
	f, base := startFake(b)
	p := newPool(b, base, chromedpdriver.Persistent)
	const me = "15550040001"
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	t0 := time.Now()
	s, err := launchLoggedIn(ctx, p, f, me)
	if err != nil {
		b.Fatal(err)
	}
	first := time.Since(t0) // includes the scan
	id := s.SystemID()
	if err := s.Close(ctx); err != nil {
		b.Fatal(err)
	}
	var runs, launches []time.Duration
	cpu := startCPU()
	for i := range coldRuns {
		t0 := time.Now()
		s, ev, err := launch(ctx, p, id)
		if err != nil {
			b.Fatalf("run %d: %v", i, err)
		}
		tl := time.Since(t0)
		if err := s.WaitReady(ctx); err != nil {
			b.Fatalf("run %d: %v", i, err)
		}
		d := time.Since(t0)
		if n := ev.qrCount(); n > 0 {
			b.Fatalf("run %d: the relaunched session showed %d QR codes", i, n)
		}
		runs = append(runs, d)
		launches = append(launches, tl)
		if i == coldRuns-1 {
			sctx, scancel := sendCtx()
			_, err := s.SendText(sctx, "+15558000001", "after a cold start")
			scancel()
			if err != nil {
				b.Fatal(err)
			}
			if err := checkOracle(f, me, "15558000001", "after a cold start"); err != nil {
				b.Fatal(err)
			}
		}
		if err := s.Close(ctx); err != nil {
			b.Fatal(err)
		}
	}
	cpu.report(b)
	b.ReportMetric(ms(pct(runs, .5)), "p50-ms")
	b.ReportMetric(ms(slices.Min(runs)), "min-ms")
	b.ReportMetric(ms(slices.Max(runs)), "max-ms")
	for i, d := range runs {
		b.ReportMetric(ms(d), fmt.Sprintf("run%d-ms", i+1))
	}
	b.ReportMetric(ms(pct(launches, .5)), "launch-p50-ms")
	b.ReportMetric(ms(first), "first-login-ms")
	b.ReportMetric(0, "ns/op")
}
