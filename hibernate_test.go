package wasend_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/wasendtest"
)

// fakeClock is a clock that tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Now()} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// hibHarness runs a harness whose contexts sleep after idle on the fake
// clock, with at most maxAwake open (0: no cap), and no catch-up unless
// opts say so.
func hibHarness(t *testing.T, clock *fakeClock, idle time.Duration, maxAwake int, opts ...wasend.Option) *harness {
	all := append([]wasend.Option{wasend.WithClock(clock.Now), wasend.WithHibernation(idle, maxAwake),
		wasend.WithCatchUp(0), wasend.WithContextWait(time.Second)}, opts...)
	return newHarness(t, harnessOpt{opts: all})
}

// sleepingContext runs a hibHarness whose contexts sleep after a minute,
// with no cap, and returns one of its contexts, asleep.
func sleepingContext(t *testing.T, opts ...wasend.Option) (*harness, *fakeClock, wasend.BrowserContext) {
	clock := newFakeClock()
	h := hibHarness(t, clock, time.Minute, 0, opts...)
	bc, _ := h.newContext()
	clock.advance(2 * time.Minute)
	h.waitAsleep(bc.ID, true)
	return h, clock, bc
}

// contextStats returns the Stats entry of context id.
func (h *harness) contextStats(id int64) wasend.ContextStats {
	h.t.Helper()
	st, err := h.client.Stats(bg)
	require.NoError(h.t, err)
	for _, cs := range st.Contexts {
		if cs.ID == id {
			return cs
		}
	}
	h.t.Fatalf("context %d not in Stats", id)
	return wasend.ContextStats{}
}

// waitAsleep waits until context id sleeps (asleep) or is awake.
func (h *harness) waitAsleep(id int64, asleep bool) {
	h.t.Helper()
	eventually(h.t, func() bool { return h.contextStats(id).Asleep == asleep }, "context %d asleep=%v %s", id, asleep, func() any { return h.logs.String() })
}

// countEvents counts the host's events of type typ for context id.
func (h *harness) countEvents(id int64, typ wasend.EventType) int {
	n := 0
	for _, ev := range h.events.all() {
		if ev.ContextID == id && ev.Type == typ {
			n++
		}
	}
	return n
}

func TestHibernationSleepsAnIdleContextAndAJobWakesIt(t *testing.T) {
	clock := newFakeClock()
	h := hibHarness(t, clock, time.Minute, 0)
	bc, first := h.newContext()

	// Not idle long enough: it stays awake.
	clock.advance(30 * time.Second)
	time.Sleep(200 * time.Millisecond) // several rounds of the loop (a sweep interval each)
	cs := h.contextStats(bc.ID)
	require.False(t, cs.Asleep, "asleep before its idle time")
	require.Equal(t, wasendtest.FakePSS, int(cs.MemoryPSS))

	clock.advance(31 * time.Second)
	h.waitAsleep(bc.ID, true)
	require.True(t, first.Closed(), "the browser of a sleeping context is closed")
	cs = h.contextStats(bc.ID)
	assert.True(t, cs.Live, "a sleeping context is still held here")
	assert.Equal(t, wasend.ContextAvailable, cs.Status, "a sleeping context stays available")
	assert.Zero(t, cs.MemoryPSS)
	eventually(t, func() bool { return h.countEvents(bc.ID, wasend.EventAsleep) == 1 }, "EventAsleep")
	stored, err := h.store.Context(bg, bc.ID)
	require.NoError(t, err)
	assert.Equal(t, wasend.ContextAvailable, stored.Status)

	job, err := h.client.Send(bg, bc.ID, "+5491122334455", "wake up")
	require.NoError(t, err)
	h.waitJob(job.ID, wasend.JobCompleted)
	assert.Equal(t, 1, h.pool.Count("+5491122334455", "wake up"), "sent exactly once")
	assert.Zero(t, first.Calls(), "nothing went through the closed browser")
	assert.Equal(t, 2, h.pool.Launches(), "the wake launched the same system id again")
	woken := h.pool.Session(bc.SystemID)
	require.NotSame(t, first, woken)
	assert.False(t, h.contextStats(bc.ID).Asleep)
	eventually(t, func() bool { return h.countEvents(bc.ID, wasend.EventAwake) == 1 }, "EventAwake")

	// Idle again: it sleeps again.
	clock.advance(2 * time.Minute)
	h.waitAsleep(bc.ID, true)
	require.True(t, woken.Closed())
}

func TestHibernationCapSleepsTheLeastRecentlyUsed(t *testing.T) {
	clock := newFakeClock()
	h := hibHarness(t, clock, 0, 2)
	a, _ := h.newContext()
	b, _ := h.newContext()
	send := func(id int64, text string) {
		t.Helper()
		clock.advance(time.Second)
		job, err := h.client.Send(bg, id, "+5491122334455", text)
		require.NoError(t, err)
		h.waitJob(job.ID, wasend.JobCompleted)
	}
	send(a.ID, "a1")
	send(b.ID, "b1")
	clock.advance(time.Second)
	c, _ := h.newContext()
	// Three open, two allowed: a, used least recently, sleeps.
	h.waitAsleep(a.ID, true)
	assert.False(t, h.contextStats(b.ID).Asleep)
	assert.False(t, h.contextStats(c.ID).Asleep)

	// A job for a: it wakes, and b, now the least recently used, sleeps
	// to make room.
	send(a.ID, "a2")
	h.waitAsleep(b.ID, true)
	assert.False(t, h.contextStats(a.ID).Asleep)
	assert.False(t, h.contextStats(c.ID).Asleep)
	for _, text := range []string{"a1", "b1", "a2"} {
		assert.Equal(t, 1, h.pool.Count("+5491122334455", text), text)
	}
}

func TestHibernationCatchUpWakesASleepingContext(t *testing.T) {
	h, clock, bc := sleepingContext(t, wasend.WithCatchUp(10*time.Minute))
	launches := h.pool.Launches()

	clock.advance(11 * time.Minute)
	h.waitAsleep(bc.ID, false)
	assert.Equal(t, launches+1, h.pool.Launches())
	// It stays awake for the idle time, then sleeps again.
	clock.advance(2 * time.Minute)
	h.waitAsleep(bc.ID, true)
}

func TestHibernationWakeThatFailsLeavesTheLaunchStatus(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want wasend.ContextStatus
	}{
		{"browser does not start", errors.New("chrome: exec failed"), wasend.ContextError},
		{"profile in use", fmt.Errorf("profile open elsewhere (%w)", wasend.ErrContextHeld), wasend.ContextDisconnected},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, clock, bc := sleepingContext(t)

			h.pool.SetLaunchError(tc.err)
			job, err := h.client.Send(bg, bc.ID, "+5491122334455", "after a failed wake")
			require.NoError(t, err)
			h.waitContext(bc.ID, tc.want)
			eventually(t, func() bool {
				for _, ev := range h.events.all() {
					if ev.Type == wasend.EventStatus && ev.ContextID == bc.ID && ev.Status == tc.want && errors.Is(ev.Err, tc.err) {
						return true
					}
				}
				return false
			}, "the host hears the status with the launch's error")
			j := h.waitJob(job.ID, wasend.JobPending)
			assert.Zero(t, j.Messages[0].Attempts, "a job whose context cannot wake spends no attempt")
			assert.Zero(t, h.pool.Count("+5491122334455", "after a failed wake"))
			assert.True(t, h.contextStats(bc.ID).Asleep)

			// The browser starts again: the job's next turn wakes the
			// context, and the message goes out once.
			h.pool.SetLaunchError(nil)
			clock.advance(2 * time.Second)
			h.waitJob(job.ID, wasend.JobCompleted)
			assert.Equal(t, 1, h.pool.Count("+5491122334455", "after a failed wake"))
			h.waitContext(bc.ID, wasend.ContextAvailable)
		})
	}
}

func TestHibernationWakeThatHangsIsAbandoned(t *testing.T) {
	h, clock, bc := sleepingContext(t, wasend.WithWakeTimeout(300*time.Millisecond))

	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	h.pool.SetLaunchHook(func(ctx context.Context, _ wasend.LaunchRequest) error {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-release // a browser start that ignores its ctx
		return nil
	})
	job, err := h.client.Send(bg, bc.ID, "+5491122334455", "after a hung wake")
	require.NoError(t, err)
	<-entered
	h.waitContext(bc.ID, wasend.ContextError)
	eventually(t, func() bool {
		for _, ev := range h.events.all() {
			if ev.Type == wasend.EventStatus && ev.ContextID == bc.ID && errors.Is(ev.Err, wasend.ErrSessionHung) {
				return true
			}
		}
		return false
	}, "the host hears that the wake hung")
	h.waitJob(job.ID, wasend.JobPending)

	// The hung launch returns at last: its session is closed, never used.
	h.pool.SetLaunchHook(nil)
	close(release)
	eventually(t, func() bool {
		s := h.pool.Session(bc.SystemID)
		return s != nil && s.Closed() && h.pool.Launches() == 2
	}, "the late session closed")
	late := h.pool.Session(bc.SystemID)

	clock.advance(2 * time.Second)
	h.waitJob(job.ID, wasend.JobCompleted)
	assert.Equal(t, 1, h.pool.Count("+5491122334455", "after a hung wake"))
	assert.Zero(t, late.Calls(), "nothing went through the abandoned launch's session")
	assert.Equal(t, 3, h.pool.Launches())
}

func TestHibernationLoggedOutWhileAsleep(t *testing.T) {
	h, _, bc := sleepingContext(t)

	h.pool.SetAutoLogin(false) // the phone unlinked the device meanwhile
	qrs := h.countEvents(bc.ID, wasend.EventQR)
	job, err := h.client.Send(bg, bc.ID, "+5491122334455", "after a logout")
	require.NoError(t, err)
	// The woken page shows a QR code, as at a launch: the context waits
	// for its login, awake.
	eventually(t, func() bool { return h.countEvents(bc.ID, wasend.EventQR) > qrs }, "a QR code for the host")
	h.waitJob(job.ID, wasend.JobPending)
	assert.False(t, h.contextStats(bc.ID).Asleep)
	assert.Zero(t, h.pool.Count("+5491122334455", "after a logout"))

	// Scanned: the context's jobs run, once.
	h.pool.Session(bc.SystemID).Login()
	h.waitJob(job.ID, wasend.JobCompleted)
	assert.Equal(t, 1, h.pool.Count("+5491122334455", "after a logout"))
}

// A job that arrives while its context is falling asleep waits for the
// browser to close, then wakes it: the message goes out once, through the
// new browser.
func TestHibernationJobArrivesWhileFallingAsleep(t *testing.T) {
	clock := newFakeClock()
	pool := wasendtest.NewPool()
	closing := make(chan struct{}, 1)
	release := make(chan struct{})
	pool.SetCloseHook(func(string) {
		select {
		case closing <- struct{}{}:
			<-release
		default:
		}
	})
	h := newHarness(t, harnessOpt{sharedPool: pool, opts: []wasend.Option{wasend.WithClock(clock.Now),
		wasend.WithHibernation(time.Minute, 0), wasend.WithCatchUp(0)}})
	bc, first := h.newContext()
	pool.SetCloseHook(nil)
	clock.advance(2 * time.Minute)
	select {
	case <-closing:
	case <-time.After(time.Minute):
		t.Fatal("the context did not start to sleep")
	}
	job, err := h.client.Send(bg, bc.ID, "+5491122334455", "while closing")
	require.NoError(t, err)
	time.Sleep(100 * time.Millisecond) // the job's worker waits for the send lock
	close(release)
	h.waitJob(job.ID, wasend.JobCompleted)
	assert.Equal(t, 1, pool.Count("+5491122334455", "while closing"))
	assert.Zero(t, first.Calls(), "nothing went through the closing browser")
	assert.Equal(t, 2, pool.Launches())
}

func TestHibernationOptionsAreValidated(t *testing.T) {
	for _, o := range []wasend.Option{wasend.WithHibernation(-time.Second, 0), wasend.WithHibernation(0, -1),
		wasend.WithCatchUp(-time.Second), wasend.WithWakeTimeout(0), wasend.WithWakeConcurrency(0)} {
		_, err := wasend.New(wasendtest.NewPool(), wasendtest.NewQueue(), wasendtest.NewStore(), o)
		require.ErrorIs(t, err, wasend.ErrInvalidOption)
	}
}

// launchGate is a launch hook that holds every launch until the test lets
// it go, and records the system ids in the order they entered and the most
// launches seen at once.
type launchGate struct {
	mu      sync.Mutex
	order   []string
	now     int
	most    int
	release chan struct{}
}

func newLaunchGate() *launchGate { return &launchGate{release: make(chan struct{}, 100)} }

func (g *launchGate) hook(ctx context.Context, req wasend.LaunchRequest) error {
	g.mu.Lock()
	g.order = append(g.order, req.SystemID)
	g.now++
	g.most = max(g.most, g.now)
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		g.now--
		g.mu.Unlock()
	}()
	select {
	case <-g.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// entered returns the system ids of the launches that entered, in order,
// and the most that ran at once.
func (g *launchGate) entered() ([]string, int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.order), g.most
}

// waitEntered waits until n launches have entered.
func (g *launchGate) waitEntered(t *testing.T, n int) []string {
	t.Helper()
	var order []string
	eventually(t, func() bool { order, _ = g.entered(); return len(order) >= n }, "%d launches (entered: %v)", n, func() any { return order })
	return order
}

// waitTurns waits until the log shows that n wakes wait for their turn.
func (h *harness) waitTurns(n int) {
	h.t.Helper()
	eventually(h.t, func() bool { return strings.Count(h.logs.String(), "waits for its turn to wake") >= n },
		"%d wakes waiting for their turn", n)
}

// sleepingContexts runs a hibHarness with n contexts, whose wakes take
// turns at most turns at once, with at most maxAwake awake, and returns
// them asleep.
func sleepingContexts(t *testing.T, n, turns, maxAwake int, opts ...wasend.Option) (*harness, *fakeClock, []wasend.BrowserContext) {
	clock := newFakeClock()
	h := hibHarness(t, clock, time.Minute, maxAwake, append([]wasend.Option{wasend.WithWakeConcurrency(turns),
		wasend.WithSingleConcurrency(2 * n), wasend.WithWakeTimeout(time.Minute)}, opts...)...)
	bcs := make([]wasend.BrowserContext, n)
	for i := range bcs {
		bcs[i], _ = h.newContext()
	}
	clock.advance(2 * time.Minute)
	for _, bc := range bcs {
		h.waitAsleep(bc.ID, true)
	}
	return h, clock, bcs
}

// Five due jobs for five sleeping contexts, two turns, two awake at most:
// two wakes launch, three wait; each wake that ends lets one more launch;
// every message goes out once.
func TestHibernationWakesTakeTurns(t *testing.T) {
	h, _, bcs := sleepingContexts(t, 5, 2, 2)
	gate := newLaunchGate()
	h.pool.SetLaunchHook(gate.hook)
	jobs := make([]int64, len(bcs))
	for i, bc := range bcs {
		job, err := h.client.Send(bg, bc.ID, "+5491122334455", fmt.Sprintf("turn %d", i))
		require.NoError(t, err)
		jobs[i] = job.ID
	}
	gate.waitEntered(t, 2)
	h.waitTurns(3)
	order, most := gate.entered()
	require.Len(t, order, 2, "launches while three wakes wait for their turn")
	require.Equal(t, 2, most)

	for n := 3; n <= len(bcs); n++ {
		gate.release <- struct{}{}
		gate.waitEntered(t, n)
	}
	gate.release <- struct{}{}
	gate.release <- struct{}{}
	for i, id := range jobs {
		h.waitJob(id, wasend.JobCompleted)
		assert.Equal(t, 1, h.pool.Count("+5491122334455", fmt.Sprintf("turn %d", i)))
	}
	order, most = gate.entered()
	assert.Len(t, order, len(bcs), "one wake each")
	assert.Equal(t, 2, most, "launches at once")
}

// A due job that comes while catch-up wakes run gets the next turn: the
// scheduled wakes of the other sleeping contexts wait for a later round.
func TestHibernationCatchUpDoesNotStarveDueJobs(t *testing.T) {
	h, clock, bcs := sleepingContexts(t, 4, 1, 0, wasend.WithCatchUp(10*time.Minute))
	gate := newLaunchGate()
	h.pool.SetLaunchHook(gate.hook)
	clock.advance(11 * time.Minute) // every context is due for a catch-up
	first := gate.waitEntered(t, 1)[0]

	target := bcs[0]
	if target.SystemID == first {
		target = bcs[1]
	}
	job, err := h.client.Send(bg, target.ID, "+5491122334455", "before the catch-ups")
	require.NoError(t, err)
	h.waitTurns(1)
	gate.release <- struct{}{}
	order := gate.waitEntered(t, 2)
	assert.Equal(t, target.SystemID, order[1], "the due job's wake comes next (launches: %v)", order)
	gate.release <- struct{}{}
	h.waitJob(job.ID, wasend.JobCompleted)
	assert.Equal(t, 1, h.pool.Count("+5491122334455", "before the catch-ups"))
	h.pool.SetLaunchHook(nil)
	close(gate.release)
	for _, bc := range bcs {
		h.waitAsleep(bc.ID, false)
	}
	_, most := gate.entered()
	assert.Equal(t, 1, most, "launches at once")
}

// A context whose delivery waits for a free worker does not fall asleep
// for being idle: it would only wake again for it (in the fleet benchmark,
// 80 wakes for 49 bursts before this).
func TestHibernationKeepsAwakeAContextWhoseJobWaitsForAWorker(t *testing.T) {
	clock := newFakeClock()
	h := hibHarness(t, clock, time.Minute, 0, wasend.WithSingleConcurrency(1))
	busy, busySess := h.newContext()
	waiting, _ := h.newContext()
	busySess.Script(wasendtest.Action{Block: true})
	first, err := h.client.Send(bg, busy.ID, "+5491100000001", "holds the only worker")
	require.NoError(t, err)
	eventually(t, func() bool { return busySess.Calls() == 1 }, "the first send to start")
	second, err := h.client.Send(bg, waiting.ID, "+5491100000002", "waits for the worker")
	require.NoError(t, err)
	time.Sleep(200 * time.Millisecond) // its delivery reaches the executor, and waits for the worker

	clock.advance(2 * time.Minute)     // both idle, by the clock
	time.Sleep(300 * time.Millisecond) // several rounds of the hibernator's loop (a sweep interval each)
	assert.False(t, h.contextStats(waiting.ID).Asleep, "a context whose delivery waits for a worker fell asleep")
	assert.False(t, h.contextStats(busy.ID).Asleep, "a context that sends fell asleep")

	busySess.Release()
	h.waitJob(first.ID, wasend.JobCompleted)
	h.waitJob(second.ID, wasend.JobCompleted)
	assert.Zero(t, h.countEvents(waiting.ID, wasend.EventAwake), "the waiting context was woken again")
	assert.Equal(t, 2, h.pool.Launches(), "only the two first launches")
	// Idle with nothing waiting, it sleeps as before.
	clock.advance(2 * time.Minute)
	h.waitAsleep(waiting.ID, true)
}

// Under the cap, a due job's wake puts to sleep the least recently used
// context among those with no delivery waiting for a worker, before one
// with a delivery waiting, which would only wake again.
func TestHibernationCapSparesAContextWhoseJobWaitsForAWorker(t *testing.T) {
	clock := newFakeClock()
	h := hibHarness(t, clock, time.Hour, 3, wasend.WithSingleConcurrency(1))
	sleeper, _ := h.newContext()
	clock.advance(time.Second)
	blocker, blockerSess := h.newContext()
	clock.advance(time.Second)
	waiting, _ := h.newContext() // least recently used of the awake ones
	clock.advance(time.Second)
	idle, _ := h.newContext() // over the cap: the first one sleeps
	h.waitAsleep(sleeper.ID, true)
	clock.advance(time.Second)

	blockerSess.Script(wasendtest.Action{Block: true})
	first, err := h.client.Send(bg, blocker.ID, "+5491100000001", "holds the only worker")
	require.NoError(t, err)
	eventually(t, func() bool { return blockerSess.Calls() == 1 }, "the blocking send to start")
	due, err := h.client.Send(bg, sleeper.ID, "+5491100000002", "wakes the sleeper")
	require.NoError(t, err)
	time.Sleep(100 * time.Millisecond) // its delivery waits for the worker first
	queued, err := h.client.Send(bg, waiting.ID, "+5491100000003", "waits for the worker")
	require.NoError(t, err)
	time.Sleep(100 * time.Millisecond)

	blockerSess.Release()
	for _, id := range []int64{first.ID, due.ID, queued.ID} {
		h.waitJob(id, wasend.JobCompleted)
	}
	h.waitAsleep(idle.ID, true)
	assert.Zero(t, h.countEvents(waiting.ID, wasend.EventAsleep), "the context whose delivery waited was put to sleep")
	assert.Zero(t, h.countEvents(waiting.ID, wasend.EventAwake), "the context whose delivery waited was woken again")
}

// A woken context takes its wake's place under the cap: while the wake
// waits for the session's first status, the hibernator's round does not
// count it twice (awake, and a wake in flight) and put another context to
// sleep. (Which context sleeps to make room is not asserted: the sweep,
// which ticks with the round, may hold the least recently used one's lock
// for a moment.)
func TestHibernationWakeCountsOnceUnderTheCap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clock := newFakeClock()
		h := hibHarness(t, clock, 0, 2, wasend.WithWakeTimeout(time.Minute))
		var bcs []wasend.BrowserContext
		for range 3 {
			clock.advance(time.Second)
			bc, _ := h.newContext()
			bcs = append(bcs, bc)
		}
		asleep := func() []int64 {
			var ids []int64
			for _, bc := range bcs {
				if h.contextStats(bc.ID).Asleep {
					ids = append(ids, bc.ID)
				}
			}
			return ids
		}
		eventually(t, func() bool { return len(asleep()) == 1 }, "one of three asleep under a cap of 2")
		a := asleep()[0]

		// a's job wakes it, and another context sleeps to make room. The
		// woken page is slow to report its status (here: until its QR code
		// is scanned), and rounds of the hibernator run meanwhile.
		h.pool.SetAutoLogin(false)
		clock.advance(time.Second)
		job, err := h.client.Send(bg, a, "+5491122334455", "slow page")
		require.NoError(t, err)
		h.waitAsleep(a, false)
		time.Sleep(time.Second) // rounds of the loop, a sweep interval each
		synctest.Wait()
		require.Len(t, asleep(), 1, "asleep with a cap of 2 and a awake")
		require.NotEqual(t, a, asleep()[0])

		i := slices.IndexFunc(bcs, func(bc wasend.BrowserContext) bool { return bc.ID == a })
		h.pool.Session(bcs[i].SystemID).Login()
		h.waitJob(job.ID, wasend.JobCompleted)
		synctest.Wait()
		assert.Len(t, asleep(), 1)
		assert.False(t, h.contextStats(a).Asleep)
	})
}
