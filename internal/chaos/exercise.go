package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/wasend/wasend"
)

// jobSpec is one job of the load.
type jobSpec struct {
	bulk  bool
	delay time.Duration
	msgs  []wasend.BulkMessage
}

// submitted is a job the orchestrator's client accepted.
type submitted struct {
	id    int64
	spec  jobSpec
	ctxID int64
}

// textFor returns the unique text of the n-th message, in a few shapes:
// plain, multi-line, emoji (with a ZWJ sequence), right-to-left scripts and
// HTML-like characters.
func textFor(n int) string {
	base := fmt.Sprintf("chaos #%04d", n)
	switch n % 6 {
	case 1:
		return base + "\nsecond line\n\nfourth line"
	case 2:
		return base + " 👋🏽 👨‍👩‍👧 ✓"
	case 3:
		return base + " שלום مرحبا"
	case 4:
		return base + " <b>50%</b> & \"quotes\" 'x'"
	case 5:
		return base + "  two spaces, tab\tand trailing space "
	}
	return base
}

// plan builds the load: singles and bulk jobs, in a shuffled order.
func plan(o options, rng *rand.Rand) []jobSpec {
	n := 0
	to := func() string { return fmt.Sprintf("+1415555%04d", rng.IntN(100)) }
	var jobs []jobSpec
	for range o.singles {
		jobs = append(jobs, jobSpec{msgs: []wasend.BulkMessage{{To: to(), Text: textFor(n)}}})
		n++
	}
	for b := range o.bulks {
		spec := jobSpec{bulk: true}
		if b%2 == 1 {
			spec.delay = 50 * time.Millisecond
		}
		for range o.bulkSize {
			spec.msgs = append(spec.msgs, wasend.BulkMessage{To: to(), Text: textFor(n)})
			n++
		}
		jobs = append(jobs, spec)
	}
	rng.Shuffle(len(jobs), func(i, j int) { jobs[i], jobs[j] = jobs[j], jobs[i] })
	return jobs
}

// fault is one step of the schedule, at a time after the first submission.
type fault struct {
	at   time.Duration
	name string
	do   func(ctx context.Context) string
}

// The schedule: the faults take slots in the order of -faults, the first
// at firstFault, then one every faultGap; kill-worker takes two slots (the
// kill, and the restart one slot later).
const (
	firstFault = 20 * time.Second
	faultGap   = 15 * time.Second
)

func (s *suite) schedule() ([]fault, error) {
	w1 := s.workers[0]
	w2 := s.workers[min(1, len(s.workers)-1)]
	all := map[string][]fault{
		"kill-worker": {
			{0, "SIGKILL worker " + w1.name, func(ctx context.Context) string {
				before := s.holdersText(ctx)
				pid := w1.pid()
				w1.kill()
				return fmt.Sprintf("pid %d killed; leases before: %s", pid, before)
			}},
			{0, "restart worker " + w1.name, func(ctx context.Context) string {
				before := s.holdersText(ctx)
				if err := w1.start(); err != nil {
					return "restart failed: " + err.Error()
				}
				return fmt.Sprintf("pid %d; leases: %s", w1.pid(), before)
			}},
		},
		"restart-redis": {
			{0, "restart Redis without persistence", func(ctx context.Context) string {
				before := s.holdersText(ctx)
				took, err := s.redis.restart()
				if err != nil {
					return "restart failed: " + err.Error()
				}
				return fmt.Sprintf("down for %s; leases before: %s", took.Round(time.Millisecond), before)
			}},
		},
		"kill-chrome": {
			{0, "SIGKILL a Chrome", func(ctx context.Context) string { return s.killChrome(ctx) }},
		},
		"cut-db": {
			{0, fmt.Sprintf("cut the database connections for %s", s.o.cutFor), func(ctx context.Context) string {
				n, err := s.proxy.cutFor(s.o.cutFor)
				if err != nil {
					return err.Error()
				}
				return fmt.Sprintf("%d connections cut, then accepting again", n)
			}},
		},
		// Not in the default schedule: the database network freezes
		// (packets dropped, connections kept) instead of being cut.
		"freeze-db": {
			{0, fmt.Sprintf("freeze the database network for %s", s.o.cutFor), func(ctx context.Context) string {
				n := s.proxy.freezeFor(s.o.cutFor)
				return fmt.Sprintf("%d connections frozen, then flowing again", n)
			}},
		},
		// A worker frozen (SIGSTOP) for longer than its lease TTL, as a long
		// GC pause or a VM freeze would, while its Chromes keep running:
		// the others cannot take its contexts over (the profiles are open),
		// and it must get them back when it wakes.
		"stop-worker": {
			{0, "SIGSTOP worker " + w2.name + " for 8s", func(ctx context.Context) string {
				before := s.holdersText(ctx)
				pid := w2.pid()
				if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
					return err.Error()
				}
				time.Sleep(8 * time.Second)
				during := s.holdersText(ctx)
				_ = syscall.Kill(pid, syscall.SIGCONT)
				return fmt.Sprintf("pid %d stopped and continued; leases before: %s; before SIGCONT: %s", pid, before, during)
			}},
		},
	}
	if s.o.faults == "none" {
		return nil, nil
	}
	var out []fault
	at := firstFault
	for _, name := range strings.Split(s.o.faults, ",") {
		steps, ok := all[strings.TrimSpace(name)]
		if !ok {
			return nil, fmt.Errorf("unknown fault %q", name)
		}
		for _, f := range steps {
			f.at = at
			at += faultGap
			out = append(out, f)
		}
	}
	return out, nil
}

// killChrome kills the main Chrome process of a context that a live worker
// other than w1 holds, so that the fault does not overlap the worker's.
func (s *suite) killChrome(ctx context.Context) string {
	h := s.holders(ctx)
	ids := slices.Clone(s.ctxIDs)
	slices.SortFunc(ids, func(a, b int64) int {
		// Prefer w2's contexts, then any other held one.
		ra, rb := rank(h[a]), rank(h[b])
		if ra != rb {
			return ra - rb
		}
		return int(a - b)
	})
	for _, id := range ids {
		if h[id] == "" {
			continue
		}
		root := s.profiles
		if !s.o.sharedProfiles {
			root = filepath.Join(root, h[id]) // the holder's own root
		}
		dir := filepath.Join(root, fmt.Sprintf("chaos-%02d", id))
		pid := chromeMain(dir)
		if pid == 0 {
			continue
		}
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			return fmt.Sprintf("kill %d: %v", pid, err)
		}
		return fmt.Sprintf("context %d (held by %s): Chrome pid %d killed", id, h[id], pid)
	}
	return "no Chrome found to kill"
}

func rank(holder string) int {
	switch holder {
	case "w2":
		return 0
	case "w3":
		return 1
	case "":
		return 9
	}
	return 5
}

// exercise submits the load, injects the faults, waits until the run is
// quiescent (or stalled, or hung: see awaitQuiescence), and checks the
// outcome against the oracle.
func (s *suite) exercise(ctx context.Context) (*result, error) {
	o := s.o
	rng := rand.New(rand.NewPCG(o.seed, 0x5eed))
	jobs := plan(o, rng)
	faults, err := s.schedule()
	if err != nil {
		return nil, err
	}
	var want int
	for _, j := range jobs {
		want += len(j.msgs)
	}
	logf("load: %d jobs (%d single, %d bulk of %d), %d messages, submitted over %s to random contexts",
		len(jobs), o.singles, o.bulks, o.bulkSize, want, o.submitFor)
	for _, f := range faults {
		logf("schedule: t+%-4s %s", f.at, f.name)
	}
	logf("judged at quiescence: every job final, or nothing progressed for %s (stalled); hung if still progressing after %s in all",
		o.stall, o.cap)

	t0 := time.Now()
	wctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go s.watchLeases(wctx, t0)
	// The submissions and the faults stop early only when the run is
	// judged stalled or hung before they are done.
	sctx, stopSubs := context.WithCancel(ctx)
	defer stopSubs()
	var (
		mu       sync.Mutex
		subs     []submitted
		subErrs  []string
		subCount atomic.Int64
		wg       sync.WaitGroup
	)
	// Submissions, spread evenly over submitFor.
	wg.Go(func() {
		interval := o.submitFor / time.Duration(max(len(jobs), 1))
		for i, spec := range jobs {
			if d := time.Until(t0.Add(time.Duration(i) * interval)); d > 0 {
				select {
				case <-sctx.Done():
					return
				case <-time.After(d):
				}
			}
			k := rng.IntN(len(s.ctxIDs))
			sub, err := s.submit(sctx, spec, k)
			mu.Lock()
			if err != nil {
				subErrs = append(subErrs, err.Error())
			} else {
				subs = append(subs, sub)
			}
			mu.Unlock()
			subCount.Add(1)
		}
	})
	// Faults, at their times.
	wg.Go(func() {
		for _, f := range faults {
			select {
			case <-sctx.Done():
				return
			case <-time.After(time.Until(t0.Add(f.at))):
			}
			at := time.Since(t0)
			logf("t+%-6s %s: %s", at.Round(100*time.Millisecond), f.name, f.do(sctx))
		}
	})
	subsDone := make(chan struct{})
	go func() { wg.Wait(); close(subsDone) }()

	j, err := s.awaitQuiescence(ctx, t0, len(jobs), subCount.Load, subsDone)
	if err != nil {
		return nil, err
	}
	stopSubs()
	<-subsDone

	// A context busy once every job is final must become available within
	// a minute: the workers sweep every second. While jobs still run, a
	// busy context is not stuck.
	var stuck []wasend.BrowserContext
	if j.end != endHung {
		stuck = s.waitNotBusy(ctx, time.Minute)
	}
	mu.Lock()
	defer mu.Unlock()
	res, err := s.check(ctx, subs, stuck, j.end)
	if err != nil {
		return nil, err
	}
	res.planned = want
	res.subErrs = subErrs
	res.sendTime = j.sendTime
	res.stall = o.stall
	return res, nil
}

// submit sends a job through the orchestrator's client, to the k-th
// context or, if that one takes no job now (a context in error after a
// failed takeover), to the next ones.
func (s *suite) submit(ctx context.Context, spec jobSpec, k int) (submitted, error) {
	var lastErr error
	for range 60 {
		for i := range s.ctxIDs {
			id := s.ctxIDs[(k+i)%len(s.ctxIDs)]
			var job wasend.Job
			var err error
			if spec.bulk {
				job, err = s.client.SendBulk(ctx, id, spec.msgs, wasend.Delay(spec.delay))
			} else {
				job, err = s.client.Send(ctx, id, spec.msgs[0].To, spec.msgs[0].Text)
			}
			if err == nil {
				return submitted{id: job.ID, spec: spec, ctxID: id}, nil
			}
			lastErr = err
			if !errors.Is(err, wasend.ErrContextNotAvailable) {
				break
			}
		}
		select {
		case <-ctx.Done():
			return submitted{}, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	return submitted{}, fmt.Errorf("job %q not accepted: %w", spec.msgs[0].Text, lastErr)
}

// nonFinal counts the jobs that are not in a final status, and the
// messages by status.
func (s *suite) nonFinal(ctx context.Context) (int64, map[wasend.MessageStatus]int64, error) {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c, err := s.store.Counts(cctx)
	if err != nil {
		return 0, nil, err
	}
	var n int64
	for _, jc := range c.Jobs {
		if !jc.Status.Final() {
			n += jc.N
		}
	}
	m := map[wasend.MessageStatus]int64{}
	for _, mc := range c.Messages {
		m[mc.Status] += mc.N
	}
	return n, m, nil
}

// waitNotBusy waits up to d for no context to be busy, and returns the
// ones still busy.
func (s *suite) waitNotBusy(ctx context.Context, d time.Duration) []wasend.BrowserContext {
	end := time.Now().Add(d)
	for {
		list, err := s.store.Contexts(ctx)
		var busy []wasend.BrowserContext
		if err == nil {
			for _, bc := range list {
				if bc.Status == wasend.ContextBusy {
					busy = append(busy, bc)
				}
			}
		}
		if (err == nil && len(busy) == 0) || time.Now().After(end) || ctx.Err() != nil {
			return busy
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// watchLeases polls the leases every 200 ms until ctx ends, and logs every
// time a context's lease was free for 500 ms or more: the takeovers after a
// worker's death, the Redis restart, and any lapse of a live holder's
// renewals (which should not happen).
func (s *suite) watchLeases(ctx context.Context, t0 time.Time) {
	type lapse struct {
		since time.Time
		was   string
	}
	last := map[int64]string{}
	free := map[int64]lapse{}
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		h, err := s.queue.Holders(cctx, s.ctxIDs)
		cancel()
		if err != nil {
			continue
		}
		now := time.Now()
		for _, id := range s.ctxIDs {
			owner, held := h[id]
			name, _, _ := strings.Cut(owner, "-")
			switch {
			case !held:
				if _, ok := free[id]; !ok {
					free[id] = lapse{since: now, was: last[id]}
				}
			default:
				if l, ok := free[id]; ok {
					delete(free, id)
					if d := now.Sub(l.since); d >= 500*time.Millisecond {
						logf("t+%-6s lease of context %d was free for %s (%s -> %s)",
							now.Sub(t0).Round(100*time.Millisecond), id, d.Round(100*time.Millisecond), l.was, name)
					}
				}
				last[id] = name
			}
		}
	}
}
