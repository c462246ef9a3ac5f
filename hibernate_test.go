package wasend_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
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
		wasend.WithCatchUp(-time.Second), wasend.WithWakeTimeout(0)} {
		_, err := wasend.New(wasendtest.NewPool(), wasendtest.NewQueue(), wasendtest.NewStore(), o)
		require.ErrorIs(t, err, wasend.ErrInvalidOption)
	}
}
