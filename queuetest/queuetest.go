package queuetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wasend/wasend"
)

// Options says what the suite may expect of the queues that newQueue builds.
// The zero value is valid: each field has a default.
type Options struct {
	// DeliveryTimeout bounds the wait for a delivery that is due. Default:
	// DefaultDeliveryTimeout (10 s).
	DeliveryTimeout time.Duration
	// Delay is the delay of the delayed deliveries. Default: DefaultDelay
	// (1.5 s).
	Delay time.Duration
	// DelayTolerance is how late after Delay a delayed delivery may arrive.
	// Default: DefaultDelayTolerance (5 s).
	DelayTolerance time.Duration
	// RedeliveryTimeout bounds the wait for a delivery whose handler
	// returned an error to come again. Default: DefaultRedeliveryTimeout
	// (15 s).
	RedeliveryTimeout time.Duration
	// DeadLetter says that the queues give up on a delivery whose handler
	// keeps failing within DeadLetterTimeout, and then call
	// HandleDeadLetter. Default: false (the dead letter is not checked).
	DeadLetter bool
	// DeadLetterTimeout bounds the wait for the dead letter. Default:
	// DefaultDeadLetterTimeout (30 s).
	DeadLetterTimeout time.Duration
	// Many is the number of deliveries of the volume check. Default:
	// DefaultMany (500).
	Many int
	// MinConcurrency is the number of handlers that the queues run at once
	// for one browser context; the suite checks that it reaches it. Default:
	// 0 (not checked).
	MinConcurrency int
	// Parallel runs the subtests in parallel (t.Parallel). Default: false
	// (one after another).
	Parallel bool
}

// The defaults of Options.
const (
	DefaultDeliveryTimeout   = 10 * time.Second
	DefaultDelay             = 1500 * time.Millisecond
	DefaultDelayTolerance    = 5 * time.Second
	DefaultRedeliveryTimeout = 15 * time.Second
	DefaultDeadLetterTimeout = 30 * time.Second
	DefaultMany              = 500
)

func (o *Options) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.DeliveryTimeout, DefaultDeliveryTimeout)
	def(&o.Delay, DefaultDelay)
	def(&o.DelayTolerance, DefaultDelayTolerance)
	def(&o.RedeliveryTimeout, DefaultRedeliveryTimeout)
	def(&o.DeadLetterTimeout, DefaultDeadLetterTimeout)
	if o.Many <= 0 {
		o.Many = DefaultMany
	}
}

// Run runs the suite. newQueue returns a new queue for one subtest and is
// responsible for closing it (with t.Cleanup).
func Run(t *testing.T, newQueue func(t *testing.T) wasend.Queue, opts Options) {
	t.Helper()
	opts.defaults()
	s := &suite{newQueue: newQueue, opts: opts}
	tests := []struct {
		name string
		fn   func(t *testing.T)
	}{
		{"Deliver", s.testDeliver},
		{"Delay", s.testDelay},
		{"Routing", s.testRouting},
		{"TwoContexts", s.testTwoContexts},
		{"Redelivery", s.testRedelivery},
		{"DeadLetter", s.testDeadLetter},
		{"Shutdown", s.testShutdown},
		{"DoneContext", s.testDoneContext},
		{"Many", s.testMany},
		{"ConcurrentWorkers", s.testConcurrentWorkers},
		{"Depth", s.testDepth},
		{"Stats", s.testStats},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if opts.Parallel {
				t.Parallel()
			}
			tc.fn(t)
		})
	}
}

type suite struct {
	newQueue func(t *testing.T) wasend.Queue
	opts     Options
}

var errHandler = errors.New("queuetest: handler failure")

// contextIDs returns n random browser context ids, distinct from those of
// other subtests with near certainty.
func contextIDs(n int) []int64 {
	base := rand.Int64N(1<<40) + 1<<20
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = base + int64(i)
	}
	return ids
}

func jobID() int64 { return rand.Int64N(1<<50) + 1 }

// recorder is a Handler that reports each call on a channel, after running
// fn if set.
type recorder struct {
	ch chan wasend.Delivery
	fn func(ctx context.Context, d wasend.Delivery) error
}

func newRecorder(fn func(ctx context.Context, d wasend.Delivery) error) *recorder {
	return &recorder{ch: make(chan wasend.Delivery, 100000), fn: fn}
}

func (r *recorder) HandleDelivery(ctx context.Context, d wasend.Delivery) error {
	var err error
	if r.fn != nil {
		err = r.fn(ctx, d)
	}
	r.ch <- d
	return err
}

// next returns the next delivery, or fails after timeout.
func (r *recorder) next(t *testing.T, timeout time.Duration, what string) wasend.Delivery {
	t.Helper()
	select {
	case d := <-r.ch:
		return d
	case <-time.After(timeout):
		t.Fatalf("%s: got no delivery in %s, want one", what, timeout)
		return wasend.Delivery{}
	}
}

// none fails if a delivery arrives within d.
func (r *recorder) none(t *testing.T, d time.Duration, what string) {
	t.Helper()
	select {
	case got := <-r.ch:
		t.Fatalf("%s: got delivery %+v, want none", what, got)
	case <-time.After(d):
	}
}

// consume runs q.Consume in a goroutine. stop cancels it and fails the test
// unless Consume returns nil in time; it runs at cleanup too.
func (s *suite) consume(t *testing.T, q wasend.Queue, contextID int64, h wasend.Handler) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- q.Consume(ctx, contextID, h) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Consume(%d) = %v, want nil", contextID, err)
				}
			case <-time.After(s.opts.DeliveryTimeout + 30*time.Second):
				t.Errorf("Consume(%d) did not return after its ctx was canceled", contextID)
			}
		})
	}
	t.Cleanup(stop)
	// Fail early if Consume cannot start.
	select {
	case err := <-done:
		once.Do(cancel) // stop has nothing left to wait for
		t.Fatalf("Consume(%d) returned %v at once, want it to run", contextID, err)
	case <-time.After(20 * time.Millisecond):
	}
	return stop
}

func (s *suite) enqueue(t *testing.T, q wasend.Queue, d wasend.Delivery, delay time.Duration) {
	t.Helper()
	if err := q.Enqueue(context.Background(), d, delay); err != nil {
		t.Fatalf("Enqueue(%+v, %s) = %v, want nil", d, delay, err)
	}
}

func (s *suite) testDeliver(t *testing.T) {
	q := s.newQueue(t)
	id := contextIDs(1)[0]
	rec := newRecorder(func(ctx context.Context, _ wasend.Delivery) error {
		if ctx == nil || ctx.Err() != nil {
			return fmt.Errorf("handler ctx is nil or done")
		}
		return nil
	})
	s.consume(t, q, id, rec)

	want := []wasend.Delivery{
		{JobID: jobID(), ContextID: id, Kind: wasend.KindSingle},
		{JobID: 1<<62 + 12345, ContextID: id, Kind: wasend.KindBulk},
	}
	s.enqueue(t, q, want[0], 0)
	if got := rec.next(t, s.opts.DeliveryTimeout, "delay 0"); got != want[0] {
		t.Fatalf("got %+v, want %+v", got, want[0])
	}
	s.enqueue(t, q, want[1], -time.Second)
	if got := rec.next(t, s.opts.DeliveryTimeout, "negative delay"); got != want[1] {
		t.Fatalf("got %+v, want %+v", got, want[1])
	}
	rec.none(t, 200*time.Millisecond, "after the acknowledged deliveries")
}

func (s *suite) testDelay(t *testing.T) {
	q := s.newQueue(t)
	id := contextIDs(1)[0]
	type arrival struct {
		d  wasend.Delivery
		at time.Time
	}
	arrivals := make(chan arrival, 10)
	s.consume(t, q, id, wasend.HandlerFunc(func(_ context.Context, d wasend.Delivery) error {
		arrivals <- arrival{d, time.Now()}
		return nil
	}))

	delayed := wasend.Delivery{JobID: jobID(), ContextID: id, Kind: wasend.KindSingle}
	now := wasend.Delivery{JobID: jobID(), ContextID: id, Kind: wasend.KindSingle}
	start := time.Now()
	s.enqueue(t, q, delayed, s.opts.Delay)
	s.enqueue(t, q, now, 0)

	wait := func(what string) arrival {
		t.Helper()
		select {
		case a := <-arrivals:
			return a
		case <-time.After(s.opts.Delay + s.opts.DelayTolerance + s.opts.DeliveryTimeout):
			t.Fatalf("%s: no delivery", what)
			return arrival{}
		}
	}
	first := wait("first")
	if first.d != now {
		t.Fatalf("first delivery = %+v, want the undelayed %+v", first.d, now)
	}
	second := wait("second")
	if second.d != delayed {
		t.Fatalf("second delivery = %+v, want the delayed %+v", second.d, delayed)
	}
	elapsed := second.at.Sub(start)
	if early := s.opts.Delay - s.opts.Delay/20; elapsed < early {
		t.Fatalf("delayed delivery arrived after %s, want at least %s (delay %s)", elapsed, early, s.opts.Delay)
	}
	if late := s.opts.Delay + s.opts.DelayTolerance; elapsed > late {
		t.Fatalf("delayed delivery arrived after %s, want at most %s", elapsed, late)
	}
}

func (s *suite) testRouting(t *testing.T) {
	q := s.newQueue(t)
	ids := contextIDs(2)
	a, b := ids[0], ids[1]
	recA, recB := newRecorder(nil), newRecorder(nil)
	s.consume(t, q, a, recA)

	dB := wasend.Delivery{JobID: jobID(), ContextID: b, Kind: wasend.KindSingle}
	dA := wasend.Delivery{JobID: jobID(), ContextID: a, Kind: wasend.KindBulk}
	s.enqueue(t, q, dB, 0) // before any consumer of b exists
	s.enqueue(t, q, dA, 0)
	if got := recA.next(t, s.opts.DeliveryTimeout, "consumer of A"); got != dA {
		t.Fatalf("consumer of context %d got %+v, want %+v", a, got, dA)
	}
	recA.none(t, 500*time.Millisecond, "consumer of A, with B's delivery waiting")

	s.consume(t, q, b, recB)
	if got := recB.next(t, s.opts.DeliveryTimeout, "consumer of B started after the enqueue"); got != dB {
		t.Fatalf("consumer of context %d got %+v, want %+v", b, got, dB)
	}
	recA.none(t, 100*time.Millisecond, "consumer of A at the end")
}

func (s *suite) testTwoContexts(t *testing.T) {
	q := s.newQueue(t)
	ids := contextIDs(2)
	recs := []*recorder{newRecorder(nil), newRecorder(nil)}
	for i, id := range ids {
		s.consume(t, q, id, recs[i])
	}
	const n = 20
	want := []map[int64]bool{{}, {}}
	for j := range n {
		for i, id := range ids {
			d := wasend.Delivery{JobID: int64(j + 1), ContextID: id, Kind: wasend.KindSingle}
			want[i][d.JobID] = true
			s.enqueue(t, q, d, 0)
		}
	}
	for i, id := range ids {
		seen := map[int64]bool{}
		for len(seen) < n {
			d := recs[i].next(t, s.opts.DeliveryTimeout, fmt.Sprintf("context %d after %d deliveries", id, len(seen)))
			if d.ContextID != id || !want[i][d.JobID] {
				t.Fatalf("consumer of context %d got %+v, want one of its own %d jobs", id, d, n)
			}
			seen[d.JobID] = true
		}
	}
}

func (s *suite) testRedelivery(t *testing.T) {
	q := s.newQueue(t)
	id := contextIDs(1)[0]
	var calls atomic.Int32
	rec := newRecorder(func(context.Context, wasend.Delivery) error {
		if calls.Add(1) == 1 {
			return errHandler
		}
		return nil
	})
	s.consume(t, q, id, rec)
	d := wasend.Delivery{JobID: jobID(), ContextID: id, Kind: wasend.KindSingle}
	s.enqueue(t, q, d, 0)
	if got := rec.next(t, s.opts.DeliveryTimeout, "first attempt"); got != d {
		t.Fatalf("first attempt got %+v, want %+v", got, d)
	}
	if got := rec.next(t, s.opts.RedeliveryTimeout, "attempt after a handler error"); got != d {
		t.Fatalf("second attempt got %+v, want %+v", got, d)
	}
}

// deadLetterRecorder fails every delivery and records the dead letters.
type deadLetterRecorder struct {
	attempts atomic.Int32
	dead     chan deadLetter
}

type deadLetter struct {
	d   wasend.Delivery
	err error
	ctx error
}

func (r *deadLetterRecorder) HandleDelivery(context.Context, wasend.Delivery) error {
	r.attempts.Add(1)
	return errHandler
}

func (r *deadLetterRecorder) HandleDeadLetter(ctx context.Context, d wasend.Delivery, err error) {
	r.dead <- deadLetter{d, err, ctx.Err()}
}

func (s *suite) testDeadLetter(t *testing.T) {
	if !s.opts.DeadLetter {
		t.Skip("Options.DeadLetter is false")
	}
	q := s.newQueue(t)
	id := contextIDs(1)[0]
	rec := &deadLetterRecorder{dead: make(chan deadLetter, 10)}
	s.consume(t, q, id, rec)
	d := wasend.Delivery{JobID: jobID(), ContextID: id, Kind: wasend.KindBulk}
	s.enqueue(t, q, d, 0)
	select {
	case got := <-rec.dead:
		if got.d != d {
			t.Fatalf("HandleDeadLetter got %+v, want %+v", got.d, d)
		}
		if got.err == nil {
			t.Fatalf("HandleDeadLetter got a nil error, want the handler's")
		}
		if !errors.Is(got.err, errHandler) {
			t.Logf("HandleDeadLetter got error %v, which does not wrap the handler's %v", got.err, errHandler)
		}
		if got.ctx != nil {
			t.Fatalf("HandleDeadLetter got a done ctx (%v), want a live one", got.ctx)
		}
		if n := rec.attempts.Load(); n < 1 {
			t.Fatalf("dead letter after %d attempts, want at least 1", n)
		}
	case <-time.After(s.opts.DeadLetterTimeout):
		t.Fatalf("no HandleDeadLetter in %s after %d attempts", s.opts.DeadLetterTimeout, rec.attempts.Load())
	}
	select {
	case got := <-rec.dead:
		t.Fatalf("second HandleDeadLetter %+v, want one", got.d)
	case <-time.After(200 * time.Millisecond):
	}
}

func (s *suite) testShutdown(t *testing.T) {
	q := s.newQueue(t)
	id := contextIDs(1)[0]
	started := make(chan context.Context, 1)
	release := make(chan struct{})
	h := wasend.HandlerFunc(func(ctx context.Context, _ wasend.Delivery) error {
		started <- ctx
		<-release
		return nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- q.Consume(ctx, id, h) }()
	released := false
	defer func() {
		if !released {
			close(release)
		}
	}()

	s.enqueue(t, q, wasend.Delivery{JobID: jobID(), ContextID: id, Kind: wasend.KindSingle}, 0)
	var hctx context.Context
	select {
	case hctx = <-started:
	case err := <-done:
		t.Fatalf("Consume returned %v before the delivery, want it to run", err)
	case <-time.After(s.opts.DeliveryTimeout):
		t.Fatalf("no delivery in %s", s.opts.DeliveryTimeout)
	}
	cancel()
	select {
	case err := <-done:
		t.Fatalf("Consume returned %v while a handler was in flight, want it to wait", err)
	case <-time.After(500 * time.Millisecond):
	}
	if err := hctx.Err(); err != nil {
		t.Fatalf("in-flight handler ctx: Err() = %v after the consume ctx was canceled, want nil", err)
	}
	close(release)
	released = true
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Consume = %v after cancel, want nil", err)
		}
	case <-time.After(s.opts.DeliveryTimeout + 10*time.Second):
		t.Fatalf("Consume did not return after the handler returned")
	}
}

func (s *suite) testDoneContext(t *testing.T) {
	q := s.newQueue(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	done := make(chan error, 1)
	go func() { done <- q.Consume(ctx, contextIDs(1)[0], newRecorder(nil)) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Consume(done ctx) = %v, want nil", err)
		}
	case <-time.After(s.opts.DeliveryTimeout):
		t.Fatalf("Consume(done ctx) did not return in %s", s.opts.DeliveryTimeout)
	}
}

func (s *suite) testMany(t *testing.T) {
	q := s.newQueue(t)
	id := contextIDs(1)[0]
	n := s.opts.Many
	rec := newRecorder(nil)
	s.consume(t, q, id, rec)

	const producers = 4
	var wg sync.WaitGroup
	errs := make(chan error, producers)
	for p := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := p; j < n; j += producers {
				d := wasend.Delivery{JobID: int64(j + 1), ContextID: id, Kind: wasend.KindSingle}
				if err := q.Enqueue(context.Background(), d, 0); err != nil {
					errs <- fmt.Errorf("Enqueue(job %d) = %w", j+1, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	seen := make(map[int64]bool, n)
	deadline := time.After(s.opts.DeliveryTimeout + time.Duration(n)*20*time.Millisecond)
	for len(seen) < n {
		select {
		case d := <-rec.ch:
			if d.ContextID != id || d.JobID < 1 || d.JobID > int64(n) {
				t.Fatalf("got %+v, want one of the %d jobs of context %d", d, n, id)
			}
			seen[d.JobID] = true
		case <-deadline:
			t.Fatalf("got %d of %d deliveries, want all", len(seen), n)
		}
	}
}

func (s *suite) testConcurrentWorkers(t *testing.T) {
	q := s.newQueue(t)
	id := contextIDs(1)[0]
	const n = 100
	var (
		running, peak atomic.Int32
		mu            sync.Mutex
		attempts      = map[int64]int{}
	)
	acked := make(chan int64, 10*n)
	h := wasend.HandlerFunc(func(_ context.Context, d wasend.Delivery) error {
		r := running.Add(1)
		defer running.Add(-1)
		for {
			p := peak.Load()
			if r <= p || peak.CompareAndSwap(p, r) {
				break
			}
		}
		time.Sleep(10 * time.Millisecond)
		mu.Lock()
		attempts[d.JobID]++
		first := attempts[d.JobID] == 1
		mu.Unlock()
		if first && d.JobID%10 == 0 {
			return errHandler // every tenth job fails its first attempt
		}
		acked <- d.JobID
		return nil
	})
	s.consume(t, q, id, h)
	for j := 1; j <= n; j++ {
		s.enqueue(t, q, wasend.Delivery{JobID: int64(j), ContextID: id, Kind: wasend.KindSingle}, 0)
	}
	done := make(map[int64]bool, n)
	deadline := time.After(s.opts.DeliveryTimeout + s.opts.RedeliveryTimeout)
	for len(done) < n {
		select {
		case j := <-acked:
			done[j] = true
		case <-deadline:
			t.Fatalf("%d of %d jobs handled successfully, want all", len(done), n)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for j := int64(10); j <= n; j += 10 {
		if attempts[j] < 2 {
			t.Fatalf("job %d: %d attempts, want at least 2 (the first failed)", j, attempts[j])
		}
	}
	if m := s.opts.MinConcurrency; m > 0 && int(peak.Load()) < m {
		t.Fatalf("at most %d handlers ran at once, want at least %d", peak.Load(), m)
	}
}

func (s *suite) testDepth(t *testing.T) {
	q := s.newQueue(t)
	dr, ok := q.(wasend.DepthReporter)
	if !ok {
		t.Skip("the queue is not a wasend.DepthReporter")
	}
	ids := contextIDs(3)
	idle, other, busy := ids[0], ids[1], ids[2]
	ctx := context.Background()
	depth := func(id int64) int64 {
		t.Helper()
		n, err := dr.Depth(ctx, id)
		if err != nil {
			t.Fatalf("Depth(%d) = %v, want nil error", id, err)
		}
		return n
	}

	for range 3 {
		s.enqueue(t, q, wasend.Delivery{JobID: jobID(), ContextID: idle, Kind: wasend.KindSingle}, 0)
	}
	for range 2 {
		s.enqueue(t, q, wasend.Delivery{JobID: jobID(), ContextID: idle, Kind: wasend.KindSingle}, time.Hour)
	}
	if got := depth(idle); got != 5 {
		t.Fatalf("Depth = %d with 3 waiting and 2 delayed, want 5", got)
	}
	if got := depth(other); got != 0 {
		t.Fatalf("Depth of an unused context = %d, want 0", got)
	}

	// A delivery in flight counts until it is acknowledged.
	started := make(chan struct{}, 1)
	release := make(chan struct{})
	s.consume(t, q, busy, wasend.HandlerFunc(func(context.Context, wasend.Delivery) error {
		started <- struct{}{}
		<-release
		return nil
	}))
	s.enqueue(t, q, wasend.Delivery{JobID: jobID(), ContextID: busy, Kind: wasend.KindSingle}, 0)
	select {
	case <-started:
	case <-time.After(s.opts.DeliveryTimeout):
		close(release)
		t.Fatalf("no delivery in %s", s.opts.DeliveryTimeout)
	}
	got := depth(busy)
	close(release)
	if got != 1 {
		t.Fatalf("Depth with 1 delivery in flight = %d, want 1", got)
	}
	deadline := time.Now().Add(s.opts.DeliveryTimeout)
	for depth(busy) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("Depth after the acknowledgement = %d, want 0", depth(busy))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *suite) testStats(t *testing.T) {
	q := s.newQueue(t)
	ctx := context.Background()
	check := func(what string) wasend.QueueStats {
		t.Helper()
		st, err := q.Stats(ctx)
		if err != nil {
			t.Fatalf("%s: Stats() = %v, want nil error", what, err)
		}
		for name, v := range map[string]int64{
			"Waiting": st.Waiting, "Delayed": st.Delayed, "InFlight": st.InFlight,
			"Processed": st.Processed, "Retried": st.Retried, "Failed": st.Failed,
			"Consumers": int64(st.Consumers),
		} {
			if v < -1 {
				t.Fatalf("%s: Stats().%s = %d, want -1 or more", what, name, v)
			}
		}
		return st
	}
	check("new queue")

	id := contextIDs(1)[0]
	rec := newRecorder(nil)
	stop := s.consume(t, q, id, rec)
	s.enqueue(t, q, wasend.Delivery{JobID: jobID(), ContextID: id, Kind: wasend.KindSingle}, 0)
	rec.next(t, s.opts.DeliveryTimeout, "delivery")
	deadline := time.Now().Add(s.opts.DeliveryTimeout)
	for {
		st := check("while consuming")
		if st.Consumers != -1 && st.Consumers != 1 {
			t.Fatalf("Stats().Consumers = %d while consuming one context, want 1 (or -1)", st.Consumers)
		}
		if st.Processed != 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Stats().Processed = 0 after an acknowledged delivery, want 1 or more (or -1)")
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	if st := check("after Consume returned"); st.Consumers > 0 {
		t.Fatalf("Stats().Consumers = %d after Consume returned, want 0 (or -1)", st.Consumers)
	}
}
