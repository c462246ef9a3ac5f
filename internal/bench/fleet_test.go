package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/chromedpdriver"
	"github.com/wasend/wasend/wasendtest"
)

// The fleet benchmark of issue 15: many logged-in persistent contexts in
// one process, at most WASEND_FLEET_AWAKE of them with an open browser
// (WithHibernation), under a paced workload with short real gaps. Run it
// with
//
//	WASEND_FLEET=50,100,200 go test -run '^$' -bench BenchmarkFleet -benchtime 1x -timeout 90m ./internal/bench/
//
// WASEND_FLEET lists the fleet sizes (default 50), and WASEND_FLEET_AWAKE
// the cap on open browsers (default 20).
const (
	fleetBatch = 20                     // logins at a time
	fleetIdle  = 3 * time.Second        // a context sleeps after this idle
	fleetGap   = 150 * time.Millisecond // between two submitted messages
)

// fleetAwake is the cap on open browsers.
func fleetAwake(b *testing.B) int {
	v := os.Getenv("WASEND_FLEET_AWAKE")
	if v == "" {
		return 20
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		b.Fatalf("WASEND_FLEET_AWAKE=%q: want a cap such as 20", v)
	}
	return n
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

// BenchmarkFleet logs in N contexts, fleetBatch at a time, then sends 2N
// messages, one every fleetGap to a context drawn at random, with at most
// WASEND_FLEET_AWAKE browsers open: most sends wake their context. It reports the
// PSS of the open browsers (the largest total seen, and per awake
// session), the wake latency (launch to the session's first status), the
// throughput of the workload, and the CPU. Every message must reach the
// fake exactly once.
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

// fleetEvents keeps the QR codes of the contexts, by id.
type fleetEvents struct {
	mu  sync.Mutex
	qr  map[int64]string
	sig chan struct{}
}

func (e *fleetEvents) add(ev wasend.SessionEvent) {
	if ev.Type != wasend.EventQR {
		return
	}
	e.mu.Lock()
	e.qr[ev.ContextID] = ev.QR
	e.mu.Unlock()
	select {
	case e.sig <- struct{}{}:
	default:
	}
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

func runFleet(b *testing.B, n int) {
	noLeftovers(b)
	awake := fleetAwake(b)
	f, base := startFake(b)
	p := newPool(b, base, chromedpdriver.Persistent)
	wt := &wakeTimer{BrowserPool: p}
	evs := &fleetEvents{qr: map[int64]string{}, sig: make(chan struct{}, 1)}
	store, queue := wasendtest.NewStore(), wasendtest.NewQueue()
	b.Cleanup(func() { _ = queue.Close() })
	c, err := wasend.New(wt, queue, store,
		wasend.WithLogger(benchLogger(b)),
		wasend.WithPacing(wasend.NoPacing()),
		wasend.WithBreaker(wasend.Breaker{}),
		wasend.WithEventHandler(evs.add),
		wasend.WithHibernation(fleetIdle, awake),
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

	// Log in, fleetBatch at a time; before the next batch, the cap is
	// back in force (the last batch's contexts sleep as the next come).
	phones := make([]string, n)
	ids := make([]int64, n)
	t0 := time.Now()
	for lo := 0; lo < n; lo += fleetBatch {
		hi := min(n, lo+fleetBatch)
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := lo; i < hi; i++ {
			phones[i] = fmt.Sprintf("1555%07d", 7000000+i)
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
				defer cancel()
				bc, err := c.CreateContext(ctx)
				if err != nil {
					errs[i] = err
					return
				}
				ids[i] = bc.ID
				qr, err := evs.waitQR(ctx, bc.ID)
				if err == nil {
					err = f.Scan(ctx, qr, phones[i])
				}
				for err == nil {
					got, gerr := store.Context(ctx, bc.ID)
					if gerr != nil || got.Status == wasend.ContextAvailable {
						err = gerr
						break
					}
					select {
					case <-ctx.Done():
						err = ctx.Err()
					case <-time.After(50 * time.Millisecond):
					}
				}
				errs[i] = err
			})
		}
		wg.Wait()
		for i := lo; i < hi; i++ {
			if errs[i] != nil {
				b.Fatalf("logging in context %d: %v", i, errs[i])
			}
		}
		waitAwakeAtMost(b, c, awake)
	}
	loginTime := time.Since(t0)

	// The workload: 2n messages, one every fleetGap, each to a context
	// drawn at random.
	type sent struct {
		me, to, text string
		job          int64
	}
	msgs := make([]sent, 2*n)
	cpu := startCPU()
	var (
		peakPSS   int64
		peakAwake int
		perAwake  []float64
		sampling  sync.WaitGroup
	)
	sampleCtx, endSampling := context.WithCancel(context.Background())
	sampling.Go(func() {
		for {
			select {
			case <-sampleCtx.Done():
				return
			case <-time.After(time.Second):
			}
			pss, awake := fleetMemory(c)
			peakPSS, peakAwake = max(peakPSS, pss), max(peakAwake, awake)
			if awake > 0 {
				perAwake = append(perAwake, float64(pss)/float64(awake))
			}
		}
	})
	w0 := time.Now()
	rng := rand.New(rand.NewPCG(15, uint64(n)))
	for k := range msgs {
		i := rng.IntN(n)
		m := sent{me: phones[i], to: fmt.Sprintf("1555%07d", 8000000+k), text: fmt.Sprintf("fleet %d, message %d", n, k)}
		j, err := c.Send(context.Background(), ids[i], "+"+m.to, m.text)
		if err != nil {
			b.Fatal(err)
		}
		m.job = j.ID
		msgs[k] = m
		time.Sleep(fleetGap)
	}
	deadline := time.Now().Add(time.Duration(n) * time.Minute)
	for _, m := range msgs {
		for {
			j, err := c.Job(context.Background(), m.job)
			if err != nil {
				b.Fatal(err)
			}
			if j.Status == wasend.JobCompleted {
				break
			}
			if j.Status.Final() || time.Now().After(deadline) {
				b.Fatalf("job %d: %s (wait %q, %s)", m.job, j.Status, j.Wait, j.Error)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	elapsed := time.Since(w0)
	endSampling()
	sampling.Wait()
	cpu.report(b)
	for _, m := range msgs {
		if err := checkOracle(f, m.me, m.to, m.text); err != nil {
			b.Error(err)
		}
	}
	wt.mu.Lock()
	wakes, fails := wt.wakes, wt.fails
	wt.mu.Unlock()
	b.ReportMetric(float64(len(msgs))/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(mib(peakPSS), "peak-pss-MiB")
	b.ReportMetric(float64(peakAwake), "peak-awake")
	if len(perAwake) > 0 {
		var sum float64
		for _, v := range perAwake {
			sum += v
		}
		b.ReportMetric(sum/float64(len(perAwake))/(1<<20), "pss-per-awake-MiB")
	}
	b.ReportMetric(float64(len(wakes)), "wakes")
	b.ReportMetric(float64(fails), "failed-wakes")
	b.ReportMetric(ms(pct(wakes, .5)), "wake-p50-ms")
	b.ReportMetric(ms(pct(wakes, .95)), "wake-p95-ms")
	b.ReportMetric(loginTime.Seconds(), "login-s")
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
