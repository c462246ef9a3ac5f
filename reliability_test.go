package wasend_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/wasendtest"
)

// switchLeaser is a process's view of a shared Leaser that can be cut off,
// as a process that hangs, or loses Redis, would be.
type switchLeaser struct {
	wasend.Leaser
	off atomic.Bool
}

var errCut = errors.New("cut off")

func (s *switchLeaser) Acquire(ctx context.Context, id int64, owner string, ttl time.Duration) (bool, error) {
	if s.off.Load() {
		return false, errCut
	}
	return s.Leaser.Acquire(ctx, id, owner, ttl)
}

func (s *switchLeaser) Release(ctx context.Context, id int64, owner string) error {
	if s.off.Load() {
		return errCut
	}
	return s.Leaser.Release(ctx, id, owner)
}

func (s *switchLeaser) Holders(ctx context.Context, ids []int64) (map[int64]string, error) {
	if s.off.Load() {
		return nil, errCut
	}
	return s.Leaser.Holders(ctx, ids)
}

// cluster is two processes (A and B) on one store, one queue, one leaser
// and one WhatsApp (the scripted pool).
type cluster struct {
	store   *wasendtest.Store
	queue   *wasendtest.Queue
	pool    *wasendtest.Pool
	leaser  *wasendtest.Leaser
	a, b    *harness
	aLeaser *switchLeaser
}

// testTTL is long enough for a heartbeat (every third of it) to keep up on a
// loaded machine.
const testTTL = time.Second

func newCluster(t *testing.T, bOpts ...wasend.Option) *cluster {
	c := &cluster{store: wasendtest.NewStore(), queue: wasendtest.NewQueue(), pool: wasendtest.NewPool(), leaser: wasendtest.NewLeaser()}
	t.Cleanup(func() { _ = c.queue.Close() })
	c.aLeaser = &switchLeaser{Leaser: c.leaser}
	common := []wasend.Option{wasend.WithLeaseTTL(testTTL), wasend.WithSendTimeout(time.Second)}
	c.a = newHarness(t, harnessOpt{store: c.store, sharedQueue: c.queue, sharedPool: c.pool,
		opts: append(common, wasend.WithLeaser(c.aLeaser), wasend.WithOwnerID("A"))})
	c.b = newHarness(t, harnessOpt{store: c.store, sharedQueue: c.queue, sharedPool: c.pool,
		opts: append(append(common, wasend.WithLeaser(c.leaser), wasend.WithOwnerID("B")), bOpts...)})
	return c
}

// waitHolder waits until owner holds the context's lease.
func (c *cluster) waitHolder(t *testing.T, id int64, owner string) {
	t.Helper()
	eventually(t, func() bool {
		h, err := c.leaser.Holders(bg, []int64{id})
		return err == nil && h[id] == owner
	}, "%s to take context %d over", owner, id)
}

func TestLeaseKeepsAContextInOneProcess(t *testing.T) {
	c := newCluster(t)
	bc, _ := c.a.newContext()
	_, err := c.b.client.OpenContext(bg, bc.ID)
	require.ErrorIs(t, err, wasend.ErrContextHeld)
	holders, err := c.leaser.Holders(bg, []int64{bc.ID})
	require.NoError(t, err)
	assert.Equal(t, "A", holders[bc.ID])

	// Any process can send; the holder sends.
	job, err := c.b.client.Send(bg, bc.ID, "+5491122334455", "routed")
	require.NoError(t, err)
	c.b.waitJob(job.ID, wasend.JobCompleted)
	assert.Equal(t, 1, c.pool.Session(bc.SystemID).Count("+5491122334455", "routed"))

	// The lease outlives many TTLs while the holder renews it.
	time.Sleep(3 * testTTL)
	_, err = c.b.client.OpenContext(bg, bc.ID)
	require.ErrorIs(t, err, wasend.ErrContextHeld)

	// A clean close releases it at once.
	c.a.stop()
	require.NoError(t, c.a.client.Close())
	got, err := c.b.client.OpenContext(bg, bc.ID)
	require.NoError(t, err)
	require.NotNil(t, got.Session)
	c.b.waitContext(bc.ID, wasend.ContextAvailable)
}

func TestTakeoverAfterTheHolderDies(t *testing.T) {
	c := newCluster(t, wasend.WithTakeover(5))
	bc, sess := c.a.newContext()
	// A sends a message and hangs right after the click: WhatsApp has it,
	// the store says sending.
	sess.Script(wasendtest.Action{Deliver: true, Block: true})
	job, err := c.a.client.Send(bg, bc.ID, "+5491122334455", "sent once")
	require.NoError(t, err)
	c.a.waitJob(job.ID, wasend.JobRunning)
	// A loses Redis: it can renew nothing, and after the TTL it must stop
	// using the context; B takes it over once it has been free for a TTL.
	c.aLeaser.off.Store(true)
	c.waitHolder(t, bc.ID, "B")
	// B finds the job A left running, and the message A left in sending:
	// the guard finds it in the chat, so it is not sent again.
	j := c.b.waitJob(job.ID, wasend.JobCompleted)
	assert.Equal(t, wasend.MessageSent, j.Messages[0].Status)
	assert.Equal(t, 1, j.Messages[0].Attempts, "the attempt of the dead worker counts, once")
	assert.Equal(t, 1, sess.Count("+5491122334455", "sent once"), "never twice")
	// A's hung send ends (its ctx times out) and must not touch B's work.
	time.Sleep(1200 * time.Millisecond)
	j, err = c.b.client.Job(bg, job.ID)
	require.NoError(t, err)
	assert.Equal(t, wasend.JobCompleted, j.Status)
	assert.Equal(t, wasend.MessageSent, j.Messages[0].Status)
	// New work goes to B.
	job2, err := c.a.client.Send(bg, bc.ID, "+5491122334455", "after takeover")
	require.NoError(t, err)
	c.b.waitJob(job2.ID, wasend.JobCompleted)
	c.b.waitContext(bc.ID, wasend.ContextAvailable)
}

func TestUnheldContextShowsDisconnected(t *testing.T) {
	c := newCluster(t) // B does not take over
	bc, _ := c.a.newContext()
	c.aLeaser.off.Store(true)
	c.b.waitContext(bc.ID, wasend.ContextDisconnected)
	_, err := c.b.client.OpenContext(bg, bc.ID)
	require.NoError(t, err, "a context no process holds can be opened")
	c.b.waitContext(bc.ID, wasend.ContextAvailable)
}

func TestRedisRestartLosesLeasesAndDeliveries(t *testing.T) {
	c := newCluster(t, wasend.WithTakeover(5))
	bc, sess := c.a.newContext()
	c.a.stop() // A holds the context but does not run workers yet
	var ids []int64
	for range 5 {
		j, err := c.b.client.Send(bg, bc.ID, "+5491122334455", "after the restart "+time.Now().String())
		require.NoError(t, err)
		ids = append(ids, j.ID)
	}
	// Redis restarts without persistence: leases and deliveries are gone.
	c.leaser.Drop()
	c.queue.Lose()
	c.a.run()
	for _, id := range ids {
		c.a.waitJob(id, wasend.JobCompleted)
	}
	eventually(t, func() bool {
		h, err := c.leaser.Holders(bg, []int64{bc.ID})
		require.NoError(t, err)
		require.NotEqual(t, "B", h[bc.ID], "the holder takes its lease back before anyone takes the context over")
		return h[bc.ID] == "A"
	}, "A to hold its lease again")
	assertSentOnce(t, sess)
	c.a.waitContext(bc.ID, wasend.ContextAvailable)
}

func TestRecoverRunningJobOfAPreviousRun(t *testing.T) {
	store := wasendtest.NewStore()
	pool := wasendtest.NewPool()
	h1 := newHarness(t, harnessOpt{store: store, sharedPool: pool, noRun: true})
	bc, sess := h1.newContext()
	job, err := h1.client.Send(bg, bc.ID, "+5491122334455", "crash after the click")
	require.NoError(t, err)
	// The process crashed mid-send: the job is running, the message
	// sending, and WhatsApp has it.
	now := time.Now()
	ok, err := store.Apply(bg, wasend.Step{
		Job:     &wasend.JobTransition{ID: job.ID, From: []wasend.JobStatus{wasend.JobPending}, To: wasend.JobRunning, Claim: "dead-worker", At: now},
		Message: &wasend.MessageTransition{ID: job.Messages[0].ID, From: []wasend.MessageStatus{wasend.MessagePending}, To: wasend.MessageSending, At: now},
		Context: &wasend.ContextTransition{ID: bc.ID, From: []wasend.ContextStatus{wasend.ContextAvailable}, To: wasend.ContextBusy, At: now},
	})
	require.NoError(t, err)
	require.True(t, ok)
	// The session marks its sends: before its click, the dead worker
	// recorded the mark, as the Client does.
	trace := &wasend.SendTrace{BeforeSend: func(mark string) error {
		ok, err := store.Apply(bg, wasend.Step{Message: &wasend.MessageTransition{ID: job.Messages[0].ID,
			From: []wasend.MessageStatus{wasend.MessageSending}, To: wasend.MessageSending, Mark: mark}})
		if err == nil && !ok {
			err = errors.New("not sending")
		}
		return err
	}}
	_, err = sess.SendText(wasend.WithSendTrace(bg, trace), "+5491122334455", "crash after the click")
	require.NoError(t, err)
	require.NoError(t, h1.client.Close())

	h2 := newHarness(t, harnessOpt{store: store, sharedPool: pool})
	_, err = h2.client.OpenContext(bg, bc.ID)
	require.NoError(t, err)
	j := h2.waitJob(job.ID, wasend.JobCompleted)
	assert.Equal(t, 1, j.Attempts)
	assert.Equal(t, 1, sess.Count("+5491122334455", "crash after the click"), "the guard found it")
	h2.waitContext(bc.ID, wasend.ContextAvailable)
}

func TestSweepReleasesBusyContextWithNoSend(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	bc, _ := h.newContext()
	ok, err := h.store.Apply(bg, wasend.Step{Context: &wasend.ContextTransition{ID: bc.ID,
		From: []wasend.ContextStatus{wasend.ContextAvailable}, To: wasend.ContextBusy}})
	require.NoError(t, err)
	require.True(t, ok)
	h.waitContext(bc.ID, wasend.ContextAvailable)
}

func TestStoreOutageDuringSendIsRecordedOnceBack(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	bc, sess := h.newContext()
	sess.Script(wasendtest.Action{Delay: 100 * time.Millisecond})
	job, err := h.client.Send(bg, bc.ID, "+5491122334455", "db blinks")
	require.NoError(t, err)
	h.waitJob(job.ID, wasend.JobRunning)
	h.store.SetFailure(errors.New("connection refused"))
	time.Sleep(400 * time.Millisecond) // the send ends while the store is down
	_, err = h.client.Send(bg, bc.ID, "+5491122334455", "refused")
	require.ErrorIs(t, err, wasend.ErrStore, "calls return clear errors while the store is down")
	h.store.SetFailure(nil)
	j := h.waitJob(job.ID, wasend.JobCompleted)
	assert.Equal(t, wasend.MessageSent, j.Messages[0].Status)
	assert.Equal(t, 1, sess.Count("+5491122334455", "db blinks"))
	h.waitContext(bc.ID, wasend.ContextAvailable)
}

func TestShutdownMidBulkThenResumeElsewhere(t *testing.T) {
	c := newCluster(t)
	bc, sess := c.a.newContext()
	for range 10 {
		sess.Script(wasendtest.Action{Delay: 20 * time.Millisecond})
	}
	job, err := c.a.client.SendBulk(bg, bc.ID, bulkOf(10), wasend.Delay(30*time.Millisecond))
	require.NoError(t, err)
	eventually(t, func() bool { return len(sess.Sent()) >= 3 }, "the bulk to start")
	c.a.stop()
	j, err := c.a.client.Job(bg, job.ID)
	require.NoError(t, err)
	assert.Equal(t, wasend.JobPending, j.Status, "a stopped bulk goes back to pending")
	require.NoError(t, c.a.client.Close())
	c.b.waitContext(bc.ID, wasend.ContextDisconnected)
	h, err := c.leaser.Holders(bg, []int64{bc.ID})
	require.NoError(t, err)
	assert.Empty(t, h, "Close released the lease")
	_, err = c.b.client.OpenContext(bg, bc.ID)
	require.NoError(t, err)
	c.b.waitJob(job.ID, wasend.JobCompleted)
	assert.Len(t, sess.Sent(), 10)
	assertSentOnce(t, sess)
}

// A holder stalls past its lease (a long pause, SIGSTOP) while its browser
// keeps the profile open. Another process marks the context disconnected
// and tries to take it over, but cannot launch the session: the context
// stays disconnected, not error, and jobs are still accepted for it.
func TestTakeoverOfAProfileStillOpenLeavesItDisconnected(t *testing.T) {
	c := newCluster(t, wasend.WithTakeover(5))
	bc, _ := c.a.newContext()
	c.pool.SetLaunchError(fmt.Errorf("profile folder in use: %w", wasend.ErrContextHeld))
	c.aLeaser.off.Store(true)
	eventually(t, func() bool { return c.pool.Attempts() >= 3 }, "B to try to take the context over")
	got, err := c.b.client.Context(bg, bc.ID)
	require.NoError(t, err)
	assert.Equal(t, wasend.ContextDisconnected, got.Status)
	job, err := c.b.client.Send(bg, bc.ID, "+5491122334455", "sent after the takeover")
	require.NoError(t, err, "a disconnected context still takes jobs")

	c.pool.SetLaunchError(nil)
	c.b.waitJob(job.ID, wasend.JobCompleted)
	c.b.waitContext(bc.ID, wasend.ContextAvailable)
	assert.Equal(t, 1, c.pool.Session(bc.SystemID).Count("+5491122334455", "sent after the takeover"))
}

// Another process changed the stored status of a context whose session is
// logged in here (its sweep, or a failed takeover, while this process could
// not renew its lease). The holder's heartbeat puts it back, and the jobs
// that waited for it are sent; a status the session itself reported stays.
func TestHolderPutsBackAStatusChangedElsewhere(t *testing.T) {
	c := newCluster(t)
	bc, sess := c.a.newContext()
	for _, to := range []wasend.ContextStatus{wasend.ContextError, wasend.ContextDisconnected} {
		ok, err := c.store.Apply(bg, wasend.Step{Context: &wasend.ContextTransition{ID: bc.ID,
			From: []wasend.ContextStatus{wasend.ContextAvailable}, To: to}})
		require.NoError(t, err)
		require.True(t, ok)
		c.a.waitContext(bc.ID, wasend.ContextAvailable)
	}
	job, err := c.a.client.Send(bg, bc.ID, "+5491122334455", "after the reconciliation")
	require.NoError(t, err)
	c.a.waitJob(job.ID, wasend.JobCompleted)

	sess.Logout()
	c.a.waitContext(bc.ID, wasend.ContextDisconnected)
	time.Sleep(3 * testTTL) // several heartbeats
	got, err := c.a.client.Context(bg, bc.ID)
	require.NoError(t, err)
	assert.Equal(t, wasend.ContextDisconnected, got.Status, "the session's own report is not overwritten")
}

// freezeAfterMark is a store whose first Apply of a message's mark (the
// last write before a click) returns only when released: a process frozen
// (SIGSTOP, a paused VM) right after that write committed.
type freezeAfterMark struct {
	wasend.Store
	held, hold chan struct{}
	once       sync.Once
}

func (s *freezeAfterMark) Apply(ctx context.Context, st wasend.Step) (bool, error) {
	ok, err := s.Store.Apply(ctx, st)
	if st.Message != nil && st.Message.Mark != "" {
		s.once.Do(func() {
			close(s.held)
			<-s.hold
		})
	}
	return ok, err
}

// A holder frozen between the mark of its send and its click loses the
// context: B takes it over, finds nothing in the chat, and sends the
// message. When A wakes, its lease has run out by its own clock, and it
// does not click: the message reaches WhatsApp once.
func TestFrozenHolderDoesNotClickAfterATakeover(t *testing.T) {
	store, queue, pool, leaser := wasendtest.NewStore(), wasendtest.NewQueue(), wasendtest.NewPool(), wasendtest.NewLeaser()
	t.Cleanup(func() { _ = queue.Close() })
	aLeaser := &switchLeaser{Leaser: leaser}
	frozen := &freezeAfterMark{held: make(chan struct{}), hold: make(chan struct{})}
	released := false
	release := func() {
		if !released {
			released = true
			close(frozen.hold)
		}
	}
	a := newHarness(t, harnessOpt{store: store, sharedQueue: queue, sharedPool: pool,
		wrap: func(s wasend.Store) wasend.Store { frozen.Store = s; return frozen },
		opts: []wasend.Option{wasend.WithLeaseTTL(testTTL), wasend.WithSendTimeout(time.Minute),
			wasend.WithLeaser(aLeaser), wasend.WithOwnerID("A")}})
	// B has a queue of its own: the test queue lets one consumer per
	// context at a time, and A's is stuck in the frozen send (Redis would
	// serve both processes).
	b := newHarness(t, harnessOpt{store: store, sharedPool: pool,
		opts: []wasend.Option{wasend.WithLeaseTTL(testTTL), wasend.WithSendTimeout(time.Second),
			wasend.WithLeaser(leaser), wasend.WithOwnerID("B"), wasend.WithTakeover(5)}})
	t.Cleanup(release) // before the harnesses close: A's Close waits for its send
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("A:\n%s\nB:\n%s", a.logs.String(), b.logs.String())
		}
	})
	bc, sess := a.newContext()
	const to, text = "+5491122334455", "frozen after its mark"
	job, err := a.client.Send(bg, bc.ID, to, text)
	require.NoError(t, err)
	select {
	case <-frozen.held:
	case <-time.After(time.Minute):
		t.Fatal("A's send did not reach its mark")
	}
	// A is frozen: it renews nothing, and B takes the context over.
	aLeaser.off.Store(true)
	c := &cluster{leaser: leaser}
	c.waitHolder(t, bc.ID, "B")
	j := b.waitJob(job.ID, wasend.JobCompleted)
	require.Equal(t, wasend.MessageSent, j.Messages[0].Status)
	require.Equal(t, 1, sess.Count(to, text), "B sent it")

	release() // A wakes up just before its click
	eventually(t, func() bool { return sess.Active() == 0 }, "A's send to return")
	assert.Equal(t, 1, sess.Count(to, text), "never twice")
	assert.True(t, strings.Contains(a.logs.String(), "the lease ran out before the click"), "A says why it did not click")
	j, err = b.client.Job(bg, job.ID)
	require.NoError(t, err)
	assert.Equal(t, wasend.JobCompleted, j.Status, "A's late outcome does not touch B's work")
}
