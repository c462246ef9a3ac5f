package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/chromedpdriver"
	"github.com/wasend/wasend/internal/fakewa"
	"github.com/wasend/wasend/wasendtest"
)

// The fleet benchmark of issue 15: many logged-in persistent contexts in
// one process, at most WASEND_FLEET_AWAKE of them with an open browser
// (WithHibernation), under a paced, bursty workload with short real gaps.
// Run it with
//
//	WASEND_FLEET=50,100,200 go test -run '^$' -bench BenchmarkFleet -benchtime 1x -timeout 120m ./internal/bench/
//
// WASEND_FLEET lists the fleet sizes (default 50), WASEND_FLEET_AWAKE the
// cap on open browsers (default 20), and WASEND_FLEET_WAKES how many wakes
// launch at once (WithWakeConcurrency; default
// wasend.DefaultWakeConcurrency; a large number for no cap); the workload
// comes in clusters of WASEND_FLEET_CLUSTER bursts at once (default
// fleetCluster), one burst every WASEND_FLEET_GAP on average (default
// fleetGap).
const (
	fleetLogins  = 4                      // logins at a time
	fleetIdle    = 3 * time.Second        // a context sleeps after this idle
	fleetGap     = 2 * time.Second        // between two bursts, on average (WASEND_FLEET_GAP)
	fleetBurst   = 3                      // messages in a burst, to one context
	fleetCluster = 5                      // bursts that come at once (WASEND_FLEET_CLUSTER)
	fleetDrain   = 10 * time.Minute       // for the last messages, after the last burst
	fleetSample  = 1 * time.Second        // between two memory samples
	fleetPoll    = 100 * time.Millisecond // between two looks at a job
)

// fleetEnv reads the positive integer in the environment variable name,
// or returns def.
func fleetEnv(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}

// fleetGapEnv reads WASEND_FLEET_GAP, a duration such as 2s.
func fleetGapEnv(b *testing.B) time.Duration {
	v := os.Getenv("WASEND_FLEET_GAP")
	if v == "" {
		return fleetGap
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		b.Fatalf("WASEND_FLEET_GAP=%q: want a duration such as 2s", v)
	}
	return d
}

func fleetSizes(b *testing.B) []int {
	v := os.Getenv("WASEND_FLEET")
	if v == "" {
		return []int{50}
	}
	var out []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			b.Fatalf("WASEND_FLEET=%q: want sizes such as 50,100,200", v)
		}
		out = append(out, n)
	}
	return out
}

// BenchmarkFleet logs in N contexts, fleetLogins at a time, then sends N
// bursts of fleetBurst messages, each to the next context of a shuffled
// list (every context gets one burst), WASEND_FLEET_CLUSTER bursts at once
// (default fleetCluster), one every WASEND_FLEET_GAP on average, with at
// most WASEND_FLEET_AWAKE browsers open: most bursts wake their context.
// It reports the PSS of the open browsers (the largest total seen, and per
// awake session), and of this process, during the logins (login-, when the
// cap holds the open browsers) and during the workload; the wakes (how many, how many
// failed, and their latency, from the launch to the session's first
// status); the wait a due burst sees, from its submission to its context
// awake (bursts whose context slept), and the latency of a message, from
// its submission to its send; the throughput of the workload; the CPU and
// the load. Every message must reach the fake exactly once.
func BenchmarkFleet(b *testing.B) {
	for _, n := range fleetSizes(b) {
		b.Run(fmt.Sprintf("contexts=%d", n), func(b *testing.B) { runFleet(b, n) })
	}
}

// wakeTimer is a BrowserPool that times the launches of existing contexts
// (wakes): from Launch to the session's first status event. It returns
// the pool's sessions unwrapped.
type wakeTimer struct {
	wasend.BrowserPool
	mu    sync.Mutex
	wakes []time.Duration
	fails int
}

func (w *wakeTimer) Launch(ctx context.Context, req wasend.LaunchRequest) (wasend.Session, error) {
	if req.SystemID == "" {
		return w.BrowserPool.Launch(ctx, req)
	}
	t0 := time.Now()
	var once sync.Once
	next := req.OnEvent
	req.OnEvent = func(ev wasend.SessionEvent) {
		if ev.Type == wasend.EventStatus {
			once.Do(func() {
				w.mu.Lock()
				if ev.Status == wasend.ContextAvailable {
					w.wakes = append(w.wakes, time.Since(t0))
				} else {
					w.fails++
				}
				w.mu.Unlock()
			})
		}
		if next != nil {
			next(ev)
		}
	}
	return w.BrowserPool.Launch(ctx, req)
}

// fleetEvents keeps the QR codes of the contexts, by id, and times the
// wait of the bursts whose context sleeps: from the burst's submission
// (due) to the context's EventAwake.
type fleetEvents struct {
	mu     sync.Mutex
	qr     map[int64]string
	sig    chan struct{}
	asleep map[int64]bool
	due    map[int64][]time.Time // bursts waiting for their context to wake
	waits  []time.Duration
}

func newFleetEvents() *fleetEvents {
	return &fleetEvents{qr: map[int64]string{}, sig: make(chan struct{}, 1), asleep: map[int64]bool{},
		due: map[int64][]time.Time{}}
}

func (e *fleetEvents) add(ev wasend.SessionEvent) {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch ev.Type {
	case wasend.EventQR:
		e.qr[ev.ContextID] = ev.QR
		select {
		case e.sig <- struct{}{}:
		default:
		}
	case wasend.EventAsleep:
		e.asleep[ev.ContextID] = true
	case wasend.EventAwake:
		e.asleep[ev.ContextID] = false
		for _, t := range e.due[ev.ContextID] {
			e.waits = append(e.waits, ev.At.Sub(t))
		}
		delete(e.due, ev.ContextID)
	}
}

// submitted notes a burst for context id, due at: if the context sleeps,
// its wait ends at its wake.
func (e *fleetEvents) submitted(id int64, at time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.asleep[id] {
		e.due[id] = append(e.due[id], at)
	}
}

// dueWaits returns the waits of the bursts whose context woke, and how
// many bursts still wait.
func (e *fleetEvents) dueWaits() ([]time.Duration, int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, ts := range e.due {
		n += len(ts)
	}
	return slices.Clone(e.waits), n
}

func (e *fleetEvents) waitQR(ctx context.Context, id int64) (string, error) {
	for {
		e.mu.Lock()
		qr := e.qr[id]
		e.mu.Unlock()
		if qr != "" {
			return qr, nil
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("no QR code for context %d: %w", id, ctx.Err())
		case <-e.sig:
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// fleetLogin creates a context, scans its QR code as phone, and waits
// until it is available.
func fleetLogin(c *wasend.Client, f *fakewa.Server, evs *fleetEvents, store wasend.Store, phone string) (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bc, err := c.CreateContext(ctx)
	if err != nil {
		return 0, err
	}
	qr, err := evs.waitQR(ctx, bc.ID)
	if err == nil {
		err = f.Scan(ctx, qr, phone)
	}
	for err == nil {
		got, gerr := store.Context(ctx, bc.ID)
		if gerr != nil || got.Status == wasend.ContextAvailable {
			return bc.ID, gerr
		}
		select {
		case <-ctx.Done():
			err = ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return bc.ID, err
}

// fleetSampler samples, every fleetSample, the PSS of the open browsers
// and of this process.
type fleetSampler struct {
	peakPSS, peakSelf int64
	peakAwake         int
	perAwake          []float64
	stop              context.CancelFunc
	wg                sync.WaitGroup
}

func sampleFleet(c *wasend.Client) *fleetSampler {
	s := &fleetSampler{}
	ctx, stop := context.WithCancel(context.Background())
	s.stop = stop
	s.wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(fleetSample):
			}
			pss, awake := fleetMemory(c)
			s.peakPSS, s.peakAwake = max(s.peakPSS, pss), max(s.peakAwake, awake)
			s.peakSelf = max(s.peakSelf, selfPSS())
			if awake > 0 {
				s.perAwake = append(s.perAwake, float64(pss)/float64(awake))
			}
		}
	})
	return s
}

// report stops the sampling and adds its figures to b's metrics, their
// names prefixed with phase.
func (s *fleetSampler) report(b *testing.B, phase string) {
	s.stop()
	s.wg.Wait()
	b.ReportMetric(mib(s.peakPSS), phase+"peak-pss-MiB")
	b.ReportMetric(mib(s.peakSelf), phase+"self-pss-MiB")
	b.ReportMetric(float64(s.peakAwake), phase+"peak-awake")
	if len(s.perAwake) > 0 {
		var sum float64
		for _, v := range s.perAwake {
			sum += v
		}
		b.ReportMetric(sum/float64(len(s.perAwake))/(1<<20), phase+"pss-per-awake-MiB")
	}
}

func runFleet(b *testing.B, n int) {
	noLeftovers(b)
	awake := fleetEnv(b, "WASEND_FLEET_AWAKE", 20)
	turns := fleetEnv(b, "WASEND_FLEET_WAKES", wasend.DefaultWakeConcurrency)
	gap := fleetGapEnv(b)
	cluster := fleetEnv(b, "WASEND_FLEET_CLUSTER", fleetCluster)
	f, base := startFake(b)
	p := newPool(b, base, chromedpdriver.Persistent)
	wt := &wakeTimer{BrowserPool: p}
	evs := newFleetEvents()
	store, queue := wasendtest.NewStore(), wasendtest.NewQueue()
	b.Cleanup(func() { _ = queue.Close() })
	c, err := wasend.New(wt, queue, store,
		wasend.WithLogger(benchLogger(b)),
		wasend.WithPacing(wasend.NoPacing()),
		wasend.WithBreaker(wasend.Breaker{}),
		wasend.WithEventHandler(evs.add),
		wasend.WithHibernation(fleetIdle, awake),
		wasend.WithWakeConcurrency(turns),
		// A loaded machine starts a Chrome in tens of seconds.
		wasend.WithWakeTimeout(3*time.Minute),
		wasend.WithCatchUp(0),
		wasend.WithSweep(500*time.Millisecond, time.Minute),
		wasend.WithContextWait(5*time.Second),
		wasend.WithSingleConcurrency(awake),
	)
	if err != nil {
		b.Fatal(err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	runDone := make(chan error, 1)
	go func() { runDone <- c.Run(runCtx) }()
	b.Cleanup(func() {
		stop()
		<-runDone
		_ = c.Close()
	})

	// Log in, fleetLogins at a time; the cap puts the least recently used
	// to sleep as the next ones come.
	phones := make([]string, n)
	ids := make([]int64, n)
	errs := make([]error, n)
	next := make(chan int)
	t0 := time.Now()
	loginMem := sampleFleet(c)
	var logins sync.WaitGroup
	for range fleetLogins {
		logins.Go(func() {
			for i := range next {
				ids[i], errs[i] = fleetLogin(c, f, evs, store, phones[i])
			}
		})
	}
	for i := range n {
		phones[i] = fmt.Sprintf("1555%07d", 7000000+i)
		next <- i
	}
	close(next)
	logins.Wait()
	for i, err := range errs {
		if err != nil {
			b.Fatalf("logging in context %d: %v", i, err)
		}
	}
	waitAwakeAtMost(b, c, awake)
	loginTime := time.Since(t0)
	loginMem.report(b, "login-")

	// The workload: n bursts of fleetBurst messages, each to the next
	// context of a shuffled list, cluster at once, one every gap on
	// average.
	type sent struct {
		me, to, text string
		job          int64
	}
	msgs := make([]sent, 0, n*fleetBurst)
	rng := rand.New(rand.NewPCG(15, uint64(n)))
	order := rng.Perm(n)
	cpu := startCPU()
	mem := sampleFleet(c)
	w0 := time.Now()
	for lo := 0; lo < n; lo += cluster {
		hi := min(n, lo+cluster)
		for k := lo; k < hi; k++ {
			i := order[k]
			evs.submitted(ids[i], time.Now())
			for m := range fleetBurst {
				s := sent{me: phones[i], to: fmt.Sprintf("1555%07d", 8000000+k*fleetBurst+m),
					text: fmt.Sprintf("fleet %d, burst %d, message %d", n, k, m)}
				j, err := c.Send(context.Background(), ids[i], "+"+s.to, s.text)
				if err != nil {
					b.Fatal(err)
				}
				s.job = j.ID
				msgs = append(msgs, s)
			}
		}
		time.Sleep(time.Duration(hi-lo) * gap)
	}
	deadline := time.Now().Add(fleetDrain)
	var lat []time.Duration
	for _, m := range msgs {
		for {
			j, err := c.Job(context.Background(), m.job)
			if err != nil {
				b.Fatal(err)
			}
			if j.Status == wasend.JobCompleted {
				lat = append(lat, j.Messages[0].SentAt.Sub(j.CreatedAt))
				break
			}
			if j.Status.Final() || time.Now().After(deadline) {
				b.Fatalf("job %d: %s (wait %q, %s)", m.job, j.Status, j.Wait, j.Error)
			}
			time.Sleep(fleetPoll)
		}
	}
	elapsed := time.Since(w0)
	cpu.report(b)
	mem.report(b, "")
	for _, m := range msgs {
		if err := checkOracle(f, m.me, m.to, m.text); err != nil {
			b.Error(err)
		}
	}
	wt.mu.Lock()
	wakes, fails := wt.wakes, wt.fails
	wt.mu.Unlock()
	waits, unmatched := evs.dueWaits()
	b.ReportMetric(float64(len(msgs))/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(len(wakes)), "wakes")
	b.ReportMetric(float64(fails), "failed-wakes")
	b.ReportMetric(ms(pct(wakes, .5)), "wake-p50-ms")
	b.ReportMetric(ms(pct(wakes, .95)), "wake-p95-ms")
	b.ReportMetric(float64(len(waits)), "woken-bursts")
	b.ReportMetric(float64(unmatched), "unmatched-bursts")
	b.ReportMetric(ms(pct(waits, .5)), "due-wait-p50-ms")
	b.ReportMetric(ms(pct(waits, .95)), "due-wait-p95-ms")
	b.ReportMetric(ms(pct(lat, .5)), "send-p50-ms")
	b.ReportMetric(ms(pct(lat, .95)), "send-p95-ms")
	b.ReportMetric(loginTime.Seconds(), "login-s")
	b.ReportMetric(elapsed.Seconds(), "workload-s")
	b.ReportMetric(load1(), "load1")
	b.ReportMetric(0, "ns/op")
}

// fleetMemory sums the PSS of the open browsers (Stats) and counts them.
func fleetMemory(c *wasend.Client) (pss int64, awake int) {
	st, err := c.Stats(context.Background())
	if err != nil && st.Contexts == nil {
		return 0, 0
	}
	for _, cs := range st.Contexts {
		if cs.Live && !cs.Asleep {
			awake++
			pss += max(cs.MemoryPSS, 0)
		}
	}
	return pss, awake
}

// selfPSS is the PSS of this process (the Client, the store and the fake
// WhatsApp), in bytes, or 0 if unknown.
func selfPSS() int64 {
	b, err := os.ReadFile("/proc/self/smaps_rollup")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "Pss:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// load1 is the machine's load average over the last minute.
func load1() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

// waitAwakeAtMost waits until at most max contexts have an open browser.
func waitAwakeAtMost(b *testing.B, c *wasend.Client, most int) {
	b.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for {
		if _, awake := fleetMemory(c); awake <= most {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("more than %d browsers still open after 5 minutes", most)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
