package wasend_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"pgregory.net/rapid"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/wasendtest"
)

// The hibernation policy as a state machine: rapid draws a configuration
// (a few contexts, a small cap, an idle time, a catch-up schedule, a
// number of wake turns) and a script of sends, bursts of sends, moves of
// the clock and wakes that fail (the launch fails, the profile is open
// elsewhere, the launch hangs, the phone logged the device out while it
// slept), and after each step compares the Client with a model of the
// policy (hibModel).
//
// It runs in a testing/synctest bubble: synctest.Wait tells when every
// goroutine of the Client waits, so that "after the hibernator's round"
// and "after the job's turn" are exact points and the model can say which
// contexts sleep; the bubble's clock makes the wake timeout and the job's
// retries cost no wall-clock time. The hibernator's own clock (WithClock)
// moves only when the script says so.
//
// Checked after every step:
//   - the contexts asleep are those the model says: idle ones sleep, a due
//     job's wake puts the least recently used other context to sleep when
//     the cap is reached (and no other), new contexts beyond the cap put
//     one to sleep each, and catch-up wakes take only the room left, none
//     beyond it (which ones is not checked: see hibModel.round);
//   - never more awake sessions than the cap, and a sleeping context's
//     browser is closed, an awake one's open;
//   - a sleeping context's stored status is available (but for the wake
//     that fails, which leaves the status a launch would);
//   - every message went out exactly once, with one attempt: the waits for
//     a wake spend none;
//   - at most WithWakeConcurrency launches run at once, and a burst of due
//     jobs for sleeping contexts fills the turns.
func TestHibernationPolicyRapid(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		rapid.SyncTest(rt, func(rt *rapid.T) {
			s := newHibSim(rt)
			defer s.close()
			s.createContexts(rt)
			actions := map[string]func(*rapid.T){
				"":        func(rt *rapid.T) { s.check(rt) },
				"send":    s.send,
				"advance": s.advance,
				"burst":   s.burst,
			}
			if s.cfg.catchUp == 0 {
				// A failed wake's retries race with catch-up wakes for the
				// room under the cap, which would leave the model two
				// answers; catch-up runs in the other half of the checks.
				actions["failedWake"] = s.failedWake
			}
			rt.Repeat(actions)
			s.drain(rt)
		})
	})
}

const (
	hibRecipient   = "+5491122334455"
	hibIdle        = time.Minute
	hibCatchUp     = 10 * time.Minute
	hibRetry       = time.Second // WithContextWait: a failed wake's retry
	hibWakeTimeout = 2 * time.Second
	hibTick        = 250 * time.Millisecond // WithSweep: the hibernator's round
	// hibSettle is how long the bubble's clock runs after a step, then
	// synctest.Wait: longer than a wake timeout and a retry, and many
	// rounds. Every sleep of the script is a whole number of ticks.
	hibSettle = hibWakeTimeout + 3*hibRetry
)

type hibConfig struct {
	n, maxAwake, turns int
	idle, catchUp      time.Duration
}

func (c hibConfig) String() string {
	return fmt.Sprintf("%d contexts, idle %s, maxAwake %d, catch-up %s, %d turns", c.n, c.idle, c.maxAwake, c.catchUp, c.turns)
}

// hibSim is a Client with hibernation, on the in-memory store, queue and
// scripted pool, and the model it must agree with.
type hibSim struct {
	cfg    hibConfig
	clock  *fakeClock
	pool   *wasendtest.Pool
	queue  *wasendtest.Queue
	store  *wasendtest.Store
	client *wasend.Client
	logs   *wasendtest.LogBuffer
	cancel context.CancelFunc
	done   chan error

	ids    []int64
	sysIDs []string
	// models are the states the policy may be in: more than one when
	// contexts used at the same instant tie for least recently used, or
	// a round may choose (see hibModel.round).
	models []hibModel
	jobs   []hibJob
	// launches counts the launches running and the most seen at once.
	launches launchCounter
}

type hibJob struct {
	id   int64
	text string
}

func newHibSim(rt *rapid.T) *hibSim {
	cfg := hibConfig{n: rapid.IntRange(2, 4).Draw(rt, "contexts")}
	cfg.maxAwake = rapid.IntRange(0, cfg.n-1).Draw(rt, "maxAwake")
	cfg.idle = hibIdle
	if cfg.maxAwake > 0 && rapid.Bool().Draw(rt, "noIdle") {
		cfg.idle = 0
	}
	if rapid.Bool().Draw(rt, "catchUp") {
		cfg.catchUp = hibCatchUp
	}
	cfg.turns = rapid.IntRange(1, 2).Draw(rt, "turns")
	rt.Logf("config: %s", cfg)

	s := &hibSim{cfg: cfg, clock: newFakeClock(), pool: wasendtest.NewPool(), queue: wasendtest.NewQueue(),
		store: wasendtest.NewStore(), logs: &wasendtest.LogBuffer{}}
	s.pool.SetLaunchHook(s.launches.hook)
	opts := append(fastOptions(),
		wasend.WithLogger(slog.New(slog.NewTextHandler(s.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		wasend.WithClock(s.clock.Now), wasend.WithSweep(hibTick, time.Hour),
		wasend.WithHibernation(cfg.idle, cfg.maxAwake), wasend.WithCatchUp(cfg.catchUp),
		wasend.WithWakeConcurrency(cfg.turns), wasend.WithWakeTimeout(hibWakeTimeout),
		wasend.WithContextWait(hibRetry), wasend.WithSingleConcurrency(2*cfg.n))
	c, err := wasend.New(s.pool, s.queue, s.store, opts...)
	if err != nil {
		rt.Fatalf("New: %v", err)
	}
	s.client = c
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel, s.done = cancel, make(chan error, 1)
	go func() { s.done <- c.Run(ctx) }()
	// Half a tick: the script acts between the ticks of the sweeper and
	// of the hibernator (every sleep below is a whole number of ticks),
	// so that no sweep runs while a due job's wake makes room.
	time.Sleep(hibTick / 2)
	synctest.Wait()

	s.models = []hibModel{{cfg: cfg}}
	return s
}

// createContexts creates the contexts, a second apart.
func (s *hibSim) createContexts(rt *rapid.T) {
	for range s.cfg.n {
		s.clock.advance(time.Second)
		bc, err := s.client.CreateContext(bg)
		if err != nil {
			rt.Fatalf("CreateContext: %v", err)
		}
		s.ids = append(s.ids, bc.ID)
		s.sysIDs = append(s.sysIDs, bc.SystemID)
		now := s.now()
		s.step(func(m hibModel) []hibModel {
			m = m.clone()
			m.ctxs = append(m.ctxs, hibCtx{used: now})
			return m.round(now)
		})
		s.settle()
		s.check(rt)
	}
}

// close stops the Client; every goroutine of the bubble must end.
func (s *hibSim) close() {
	s.launches.releaseAll()
	s.launches.unhang()
	s.cancel()
	<-s.done
	_ = s.client.Close()
	_ = s.queue.Close()
}

func (s *hibSim) now() int64 { return s.clock.Now().UnixNano() }

// settle lets the bubble's clock run (rounds of the hibernator, retries
// of the jobs, wake timeouts), then waits until every goroutine waits.
func (s *hibSim) settle() {
	time.Sleep(hibSettle)
	synctest.Wait()
}

// step applies a transition to every model the policy may be in.
func (s *hibSim) step(f func(hibModel) []hibModel) {
	var next []hibModel
	for _, m := range s.models {
		next = append(next, f(m)...)
	}
	s.models = next
}

// tick moves the hibernator's clock by d and lets its rounds run.
func (s *hibSim) tick(d time.Duration) {
	s.clock.advance(d)
	now := s.now()
	s.step(func(m hibModel) []hibModel { return m.round(now) })
	s.settle()
}

// sendTo records a due job for context k.
func (s *hibSim) sendTo(rt *rapid.T, k int) hibJob {
	text := fmt.Sprintf("message %d to context %d", len(s.jobs), k)
	job, err := s.client.Send(bg, s.ids[k], hibRecipient, text)
	if err != nil {
		rt.Fatalf("Send: %v", err)
	}
	j := hibJob{id: job.ID, text: text}
	s.jobs = append(s.jobs, j)
	return j
}

func (s *hibSim) pick(rt *rapid.T, label string) int {
	return rapid.IntRange(0, s.cfg.n-1).Draw(rt, label)
}

// send sends a message through a context, after a second (so that no two
// sends are used at the same instant), and waits for its turn.
func (s *hibSim) send(rt *rapid.T) {
	k := s.pick(rt, "k")
	s.tick(time.Second)
	s.check(rt)
	s.sendTo(rt, k)
	now := s.now()
	s.step(func(m hibModel) []hibModel { return m.use(now, k) })
	s.settle()
	s.jobsDone(rt)
}

// advance moves the hibernator's clock: contexts go idle, and catch-ups
// come due.
func (s *hibSim) advance(rt *rapid.T) {
	d := rapid.SampledFrom([]time.Duration{10 * time.Second, 45 * time.Second, hibIdle + time.Second,
		5 * time.Minute, hibCatchUp + time.Second}).Draw(rt, "d")
	s.tick(d)
}

// burst sends, at one instant, a message through each of a few sleeping
// contexts, while every launch waits: their wakes take the turns, at most
// WithWakeConcurrency at once; then the launches go on and every job gets
// its turn. At most maxAwake contexts take part, so that the contexts
// that sleep to make room are the least recently used of the others,
// whatever the order of the wakes.
func (s *hibSim) burst(rt *rapid.T) {
	s.tick(time.Second)
	s.check(rt)
	var asleep []int
	for k := range s.ids {
		if s.asleep(rt, k) {
			asleep = append(asleep, k)
		}
	}
	most := len(asleep)
	if s.cfg.maxAwake > 0 {
		most = min(most, s.cfg.maxAwake)
	}
	if most < 2 {
		return // nothing to burst: a second went by
	}
	ks := rapid.SliceOfNDistinct(rapid.SampledFrom(asleep), 2, most, rapid.ID[int]).Draw(rt, "ks")
	s.launches.hold()
	for _, k := range ks {
		s.sendTo(rt, k)
		synctest.Wait()
	}
	// Within the wake timeout: a held launch would fail past it.
	time.Sleep(hibWakeTimeout / 2)
	synctest.Wait()
	if got, want := s.launches.running(), min(len(ks), s.cfg.turns); got != want {
		rt.Fatalf("a burst of %d due jobs for sleeping contexts, %d turns: %d launches run, want %d\n%s",
			len(ks), s.cfg.turns, got, want, s.logs)
	}
	s.launches.releaseAll()
	now := s.now()
	s.step(func(m hibModel) []hibModel { return m.use(now, ks...) })
	s.settle()
	s.jobsDone(rt)
}

// failedWake wakes a sleeping context for a job while its wakes fail, then
// lets them succeed: the job waits meanwhile, spends no attempt, and goes
// out once.
func (s *hibSim) failedWake(rt *rapid.T) {
	k := s.pick(rt, "k")
	kind := rapid.SampledFrom([]string{"launch fails", "profile held", "launch hangs", "logged out"}).Draw(rt, "kind")
	if !s.asleep(rt, k) {
		rt.Skip("the context is awake")
	}
	// A second on, it still sleeps: no catch-up in these checks.
	s.tick(time.Second)
	s.check(rt)
	var want wasend.ContextStatus
	switch kind {
	case "launch fails":
		s.pool.SetLaunchError(errors.New("chrome: exec failed"))
		want = wasend.ContextError
	case "profile held":
		s.pool.SetLaunchError(fmt.Errorf("profile open elsewhere (%w)", wasend.ErrContextHeld))
		want = wasend.ContextDisconnected
	case "launch hangs":
		s.launches.hang()
		want = wasend.ContextError
	case "logged out":
		s.pool.SetAutoLogin(false)
		want = wasend.ContextDisconnected
	}
	launches := s.pool.Attempts()
	if kind == "launch hangs" {
		launches = s.launches.started()
	}
	// Two jobs, due at once, the second sent while the first one's wake
	// launches (Send refuses a context in error): within WithContextWait
	// of the failed wake, the second waits without a launch.
	s.launches.hold()
	job := s.sendTo(rt, k)
	synctest.Wait()
	second := s.sendTo(rt, k)
	synctest.Wait()
	s.launches.releaseAll()
	now := s.now()
	s.step(func(m hibModel) []hibModel { return m.failWake(now, k, kind == "logged out") })
	s.settle()
	if kind == "launch hangs" {
		launches = s.launches.started() - launches // the hung launch has not returned
	} else {
		launches = s.pool.Attempts() - launches
	}
	if launches != 1 {
		rt.Fatalf("%s: %d launches for two due jobs, want 1: a failed wake is retried only after WithContextWait\n%s",
			kind, launches, s.logs)
	}

	// The jobs wait, and the context has the status a launch would give
	// it.
	for _, job := range []hibJob{job, second} {
		j, err := s.client.Job(bg, job.id)
		if err != nil {
			rt.Fatalf("Job: %v", err)
		}
		if j.Status != wasend.JobPending || j.Messages[0].Attempts != 0 {
			rt.Fatalf("%s: the job is %s with %d attempts, want pending with none\n%s", kind, j.Status, j.Messages[0].Attempts, s.logs)
		}
		if n := s.pool.Count(hibRecipient, job.text); n != 0 {
			rt.Fatalf("%s: sent %d times before the wake", kind, n)
		}
	}
	s.check(rt, k)
	if got := s.stats(rt)[s.ids[k]].Status; got != want {
		rt.Fatalf("%s: context %d is %s after the failed wake, want %s\n%s", kind, k, got, want, s.logs)
	}

	// The wakes succeed again.
	switch kind {
	case "launch fails", "profile held":
		s.pool.SetLaunchError(nil)
	case "launch hangs":
		s.launches.unhang()
		synctest.Wait() // the hung launch returns, before any other
	case "logged out":
		if s.cfg.idle > 0 {
			// Its login page stays open for the QR code, however long
			// it waits; the other contexts go idle.
			s.tick(s.cfg.idle + time.Second)
			s.check(rt, k)
		}
		s.pool.SetAutoLogin(true)
		s.pool.Session(s.sysIDs[k]).Login() // the host's QR code is scanned
		now := s.now()
		s.step(func(m hibModel) []hibModel {
			m = m.clone()
			m.ctxs[k].down, m.ctxs[k].used = false, now
			return []hibModel{m}
		})
		s.settle()
		s.jobsDone(rt)
		return
	}
	// The job tries again once the retry (WithContextWait) has passed.
	s.clock.advance(2 * hibRetry)
	now = s.now()
	s.step(func(m hibModel) []hibModel {
		var next []hibModel
		for _, m := range m.round(now) {
			next = append(next, m.use(now, k)...)
		}
		return next
	})
	s.settle()
	s.jobsDone(rt)
}

// drain checks, at the end, that every message went out exactly once.
func (s *hibSim) drain(rt *rapid.T) {
	s.settle()
	s.jobsDone(rt)
	for _, j := range s.jobs {
		if n := s.pool.Count(hibRecipient, j.text); n != 1 {
			rt.Fatalf("%q sent %d times, want once", j.text, n)
		}
	}
}

// jobsDone checks that every job has completed, its message sent once
// with one attempt.
func (s *hibSim) jobsDone(rt *rapid.T) {
	for _, job := range s.jobs {
		j, err := s.client.Job(bg, job.id)
		if err != nil {
			rt.Fatalf("Job: %v", err)
		}
		if j.Status != wasend.JobCompleted {
			rt.Fatalf("job %d (%q) is %s, want completed\n%s", job.id, job.text, j.Status, s.logs)
		}
		if a := j.Messages[0].Attempts; a != 1 {
			rt.Fatalf("job %d (%q) took %d attempts, want 1: a wait for a wake spent one", job.id, job.text, a)
		}
		if n := s.pool.Count(hibRecipient, job.text); n != 1 {
			rt.Fatalf("%q sent %d times, want once", job.text, n)
		}
	}
}

func (s *hibSim) stats(rt *rapid.T) map[int64]wasend.ContextStats {
	st, err := s.client.Stats(bg)
	if err != nil {
		rt.Fatalf("Stats: %v", err)
	}
	out := map[int64]wasend.ContextStats{}
	for _, cs := range st.Contexts {
		out[cs.ID] = cs
	}
	return out
}

func (s *hibSim) asleep(rt *rapid.T, k int) bool {
	return s.stats(rt)[s.ids[k]].Asleep
}

// check compares the Client with the models, and keeps those that agree.
// The contexts in failing are in a failed wake: their status is checked
// by the caller.
func (s *hibSim) check(rt *rapid.T, failing ...int) {
	st := s.stats(rt)
	awake := 0
	got := make([]bool, len(s.ids))
	for k, id := range s.ids {
		cs, ok := st[id]
		if !ok || !cs.Live {
			rt.Fatalf("context %d is not live here: %+v", k, cs)
		}
		got[k] = cs.Asleep
		if !cs.Asleep {
			awake++
		}
		if sess := s.pool.Session(s.sysIDs[k]); sess.Closed() != cs.Asleep {
			rt.Fatalf("context %d: asleep %v, but its browser closed %v", k, cs.Asleep, sess.Closed())
		}
		if !slices.Contains(failing, k) && cs.Status != wasend.ContextAvailable {
			rt.Fatalf("context %d (asleep %v) is %s, want available\n%s", k, cs.Asleep, cs.Status, s.logs)
		}
	}
	if s.cfg.maxAwake > 0 && awake > s.cfg.maxAwake {
		rt.Fatalf("%d contexts awake, cap %d: asleep %v", awake, s.cfg.maxAwake, got)
	}
	if most := s.launches.most(); most > s.cfg.turns {
		rt.Fatalf("%d launches at once, %d turns", most, s.cfg.turns)
	}
	var agree []hibModel
	for _, m := range s.models {
		if slices.Equal(m.asleep(), got) {
			agree = append(agree, m)
		}
	}
	if len(agree) == 0 {
		var want [][]bool
		for _, m := range s.models {
			want = append(want, m.asleep())
		}
		rt.Fatalf("asleep %v, want one of %v (models: %+v)\n%s", got, want, s.models, s.logs)
	}
	s.models = dedup(agree)
}

// hibModel is the hibernation policy, as hibernator.go's comments say it.
type hibModel struct {
	cfg  hibConfig
	ctxs []hibCtx
}

type hibCtx struct {
	asleep bool
	// down is an awake context whose session is not up (its login page
	// waits for a QR code): it does not sleep.
	down bool
	// used, slept and failed are the times (on the hibernator's clock) of
	// its last use, sleep and failed wake, 0 for never.
	used, slept, failed int64
}

func (m hibModel) clone() hibModel {
	m.ctxs = slices.Clone(m.ctxs)
	return m
}

func (m hibModel) asleep() []bool {
	out := make([]bool, len(m.ctxs))
	for i, c := range m.ctxs {
		out[i] = c.asleep
	}
	return out
}

func (m hibModel) awake() int {
	n := 0
	for _, c := range m.ctxs {
		if !c.asleep {
			n++
		}
	}
	return n
}

func (m hibModel) full() bool { return m.cfg.maxAwake > 0 && m.awake() >= m.cfg.maxAwake }

// evict puts to sleep the least recently used awake context but one: one
// model for each context that ties for it.
func (m hibModel) evict(now int64, but int) []hibModel {
	var lru []int
	for i, c := range m.ctxs {
		if i == but || c.asleep || c.down {
			continue
		}
		if len(lru) == 0 || c.used < m.ctxs[lru[0]].used {
			lru = []int{i}
		} else if c.used == m.ctxs[lru[0]].used {
			lru = append(lru, i)
		}
	}
	if len(lru) == 0 {
		return []hibModel{m}
	}
	var out []hibModel
	for _, i := range lru {
		n := m.clone()
		n.ctxs[i].asleep, n.ctxs[i].slept = true, now
		out = append(out, n)
	}
	return out
}

// evictAny puts to sleep any awake context whose session is up: one model
// for each.
func (m hibModel) evictAny(now int64) []hibModel {
	var out []hibModel
	for i, c := range m.ctxs {
		if !c.asleep && !c.down {
			n := m.clone()
			n.ctxs[i].asleep, n.ctxs[i].slept = true, now
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return []hibModel{m}
	}
	return out
}

// round is the rounds of the hibernator at now: the idle contexts sleep,
// then contexts beyond the cap, then the sleeping contexts due for a
// catch-up wake, while there is room.
//
// The sweeper ticks with the round (both every WithSweep interval) and
// holds each context's send lock for a moment (releaseIdleBusy): a round
// that finds a context locked passes it by, as it would a context that
// sends. An idle context then sleeps a round later, but beyond the cap
// the next least recently used sleeps instead, and a younger sleeper may
// take the room of a catch-up: the model lets any context sleep beyond
// the cap (only new contexts push the count beyond it) and any sleeper
// due for a catch-up wake first. The order is checked where the script
// can keep the sweeper away: in the wakes for due jobs (use).
func (m hibModel) round(now int64) []hibModel {
	m = m.clone()
	for i, c := range m.ctxs {
		if m.cfg.idle > 0 && !c.asleep && !c.down && now-c.used >= int64(m.cfg.idle) {
			m.ctxs[i].asleep, m.ctxs[i].slept = true, now
		}
	}
	ms := []hibModel{m}
	for {
		var next []hibModel
		over := false
		for _, m := range ms {
			if m.cfg.maxAwake > 0 && m.awake() > m.cfg.maxAwake {
				over = true
				next = append(next, m.evictAny(now)...)
			} else {
				next = append(next, m)
			}
		}
		ms = next
		if !over {
			break
		}
	}
	if m.cfg.catchUp == 0 {
		return ms
	}
	var out []hibModel
	for _, m := range ms {
		out = append(out, m.catchUp(now)...)
	}
	return out
}

// catchUp wakes the contexts due for a catch-up, while there is room:
// those asleep longest first, but for those a sweep passes by (see round),
// so any of them.
func (m hibModel) catchUp(now int64) []hibModel {
	since := func(c hibCtx) int64 { return max(c.slept, c.failed) }
	var due []int
	for i, c := range m.ctxs {
		if c.asleep && since(c) != 0 && now-since(c) >= int64(m.cfg.catchUp) {
			due = append(due, i)
		}
	}
	if len(due) == 0 || m.full() {
		return []hibModel{m}
	}
	var out []hibModel
	for _, i := range due {
		n := m.clone()
		n.ctxs[i].asleep, n.ctxs[i].used = false, now
		out = append(out, n.catchUp(now)...)
	}
	return out
}

// use is a due job for each of ks at now, one after the other: each
// wakes its context if it sleeps, after putting the least recently used
// other one to sleep when the cap is reached.
func (m hibModel) use(now int64, ks ...int) []hibModel {
	m = m.clone()
	for _, k := range ks {
		m.ctxs[k].used = now
	}
	ms := []hibModel{m}
	for _, k := range ks {
		var next []hibModel
		for _, m := range ms {
			if !m.ctxs[k].asleep {
				next = append(next, m)
				continue
			}
			room := []hibModel{m}
			if m.full() {
				room = m.evict(now, k)
			}
			for _, n := range room {
				n = n.clone()
				n.ctxs[k].asleep, n.ctxs[k].failed = false, 0
				next = append(next, n)
			}
		}
		ms = next
	}
	return ms
}

// failWake is a due job for k at now whose wake fails after it made room:
// k sleeps on, unless its session was launched but logged out (it stays
// awake on its login page).
func (m hibModel) failWake(now int64, k int, loggedOut bool) []hibModel {
	m = m.clone()
	m.ctxs[k].used = now
	room := []hibModel{m}
	if m.full() {
		room = m.evict(now, k)
	}
	for i := range room {
		if loggedOut {
			room[i].ctxs[k].asleep, room[i].ctxs[k].down = false, true
		} else {
			room[i].ctxs[k].failed = now
		}
	}
	return room
}

func dedup(ms []hibModel) []hibModel {
	var out []hibModel
	for _, m := range ms {
		if !slices.ContainsFunc(out, func(o hibModel) bool { return slices.Equal(o.ctxs, m.ctxs) }) {
			out = append(out, m)
		}
	}
	return out
}

// launchCounter is the pool's launch hook: it counts the launches running
// and the most at once, and holds them while a burst or a hang says so.
type launchCounter struct {
	mu    sync.Mutex
	n     int // started
	now   int
	max   int
	held  chan struct{} // closed to let held launches go on
	hangs chan struct{} // a hang: launches block until it is closed, ignoring their ctx
	// open are the hangs not yet released.
	open []chan struct{}
}

func (l *launchCounter) hook(ctx context.Context, _ wasend.LaunchRequest) error {
	l.mu.Lock()
	l.n++
	l.now++
	l.max = max(l.max, l.now)
	held, hangs := l.held, l.hangs
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		l.now--
		l.mu.Unlock()
	}()
	if hangs != nil {
		<-hangs
	}
	if held != nil {
		select {
		case <-held:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// started counts the launches that entered the hook.
func (l *launchCounter) started() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n
}

func (l *launchCounter) running() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.now
}

func (l *launchCounter) most() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.max
}

// hold makes the launches wait until releaseAll.
func (l *launchCounter) hold() {
	l.mu.Lock()
	l.held = make(chan struct{})
	l.mu.Unlock()
}

func (l *launchCounter) releaseAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held != nil {
		close(l.held)
		l.held = nil
	}
}

// hang makes the later launches block, whatever their ctx, until
// unhang.
func (l *launchCounter) hang() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.hangs = make(chan struct{})
	l.open = append(l.open, l.hangs)
}

// unhang lets the hung launches return, and the later ones run.
func (l *launchCounter) unhang() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.open {
		close(c)
	}
	l.hangs, l.open = nil, nil
}
