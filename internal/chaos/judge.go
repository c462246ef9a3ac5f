package main

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/wasend/wasend"
)

// The judge's timings (see the package doc and the -stall and -cap flags).
const (
	// defaultStall is how long nothing may progress before the run is
	// judged stalled. The longest wait of a healthy run that shows no
	// progress at all is far shorter: a send and the duplicate-send guard
	// before it (30 s each, the default send timeout), a record retried
	// while the store fails (2 min), the sweep that enqueues a job the
	// queue lost (15 s interval, 1 min lost-after, by default; 1 s and 5 s
	// in the workers here), a context wait (30 s by default, 3 s here), a
	// lease to expire (15 s by default, 3 s here). A backoff (2 s doubling
	// to 5 min, plus a quarter, by default; 200 ms to 3 s here) is not
	// counted against it: a job whose next_run_at is in the future waits
	// for a visible reason, and the window starts at that next_run_at.
	defaultStall = 5 * time.Minute
	// defaultCap ends a run that is still progressing after this long in
	// all: a guard against a hung run, reported as hung, never as lost. A
	// run takes 5 to 7 minutes on 2 cores, and about 10 at 3.4 msgs/s.
	defaultCap = 45 * time.Minute
	// sampleEvery is how often the judge samples the progress.
	sampleEvery = time.Second
)

// How a run ended.
const (
	endQuiescent = "quiescent" // every job reached a final status
	endStalled   = "stalled"   // nothing progressed for the stall window
	endHung      = "hung"      // still progressing when the cap ran out
)

// progress is one sample of what the judge watches to tell a slow run
// from a stalled one. Two samples that differ in any field are progress.
//
// Some changes are left out on purpose, because a run that can no longer
// deliver keeps making them: a job handed back to the queue to wait for
// its context (next_run_at and enqueued_at move, nothing else), a job
// swinging between pending and running, a context swinging between
// statuses. They show in the log lines, and the stall window covers the
// healthy waits made of them (a Chrome relaunched and logged in again, a
// context taken over).
type progress struct {
	received  int                            // messages the local WhatsApp Web received
	submitted int64                          // jobs the submitter finished with
	messages  map[msgKey]int64               // messages by context and status
	final     map[jobKey]int64               // final jobs by context, kind and status
	attempts  int64                          // attempts spent by the jobs not final
	nonFinal  int64                          // jobs not in a final status
	nextRun   time.Time                      // the latest next_run_at of a job not final
	sent      int64                          // messages recorded sent
	contexts  map[int64]wasend.ContextStatus // for the log lines only
}

type msgKey struct {
	ctx    int64
	status wasend.MessageStatus
}

type jobKey struct {
	ctx    int64
	kind   wasend.JobKind
	status wasend.JobStatus
}

// moved reports whether p differs from q in anything the judge counts as
// progress.
func (p progress) moved(q progress) bool {
	return p.received != q.received || p.submitted != q.submitted || p.attempts != q.attempts ||
		p.nonFinal != q.nonFinal || !maps.Equal(p.messages, q.messages) || !maps.Equal(p.final, q.final)
}

// sample reads the progress from the fake, the store and the submitter.
func (s *suite) sample(ctx context.Context, submitted int64) (progress, error) {
	p := progress{
		received:  len(s.fake.AllReceived()),
		submitted: submitted,
		messages:  map[msgKey]int64{},
		final:     map[jobKey]int64{},
		contexts:  map[int64]wasend.ContextStatus{},
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, err := s.store.Counts(cctx)
	if err != nil {
		return p, err
	}
	for _, mc := range c.Messages {
		p.messages[msgKey{mc.ContextID, mc.Status}] += mc.N
		if mc.Status == wasend.MessageSent {
			p.sent += mc.N
		}
	}
	for _, jc := range c.Jobs {
		if jc.Status.Final() {
			p.final[jobKey{jc.ContextID, jc.Kind, jc.Status}] += jc.N
		}
	}
	// The jobs not final, for their attempts and next runs.
	var after int64
	for {
		jobs, err := s.store.Jobs(cctx, wasend.JobFilter{
			Statuses: []wasend.JobStatus{wasend.JobPending, wasend.JobRunning, wasend.JobPaused},
			AfterID:  after, Limit: 1000})
		if err != nil {
			return p, err
		}
		for _, j := range jobs {
			after = j.ID
			p.nonFinal++
			p.attempts += int64(j.Attempts)
			if j.NextRunAt.After(p.nextRun) {
				p.nextRun = j.NextRunAt
			}
		}
		if len(jobs) < 1000 {
			break
		}
	}
	list, err := s.store.Contexts(cctx)
	if err != nil {
		return p, err
	}
	for _, bc := range list {
		p.contexts[bc.ID] = bc.Status
	}
	return p, nil
}

// judgement is how the wait for the jobs ended.
type judgement struct {
	end      string
	sendTime time.Duration // from the first submission to the end of the send phase
}

// awaitQuiescence samples the progress every second until the run is
// quiescent (the submissions and faults are done and every job is final),
// stalled (nothing progressed for the stall window, counted from the last
// change or from the latest next_run_at then seen in the future, whichever
// is later) or hung (still progressing when the cap, counted from the
// start of the suite, runs out). It never judges on a fixed deadline: a
// slow machine only makes it wait longer.
func (s *suite) awaitQuiescence(ctx context.Context, t0 time.Time, planned int, submitted func() int64,
	subsDone <-chan struct{}) (judgement, error) {
	o := s.o
	capAt := s.start.Add(o.cap)
	var (
		last       progress
		have       bool
		lastChange = t0
		waitUntil  time.Time // a next_run_at in the future, seen at a change
		lastLog    = time.Now()
		sampleErr  error
	)
	for {
		if ctx.Err() != nil {
			return judgement{}, ctx.Err()
		}
		done := false
		select {
		case <-subsDone:
			done = true
		default:
		}
		p, err := s.sample(ctx, submitted())
		now := time.Now()
		sampleErr = err
		if err == nil {
			if !have || p.moved(last) {
				lastChange = now
				if p.nextRun.After(waitUntil) {
					waitUntil = p.nextRun
				}
			}
			last, have = p, true
		}
		quietFrom := lastChange
		if waitUntil.After(quietFrom) {
			quietFrom = waitUntil
		}
		quiet := max(now.Sub(quietFrom), 0)
		if now.Sub(lastLog) >= 15*time.Second {
			lastLog = now
			line := fmt.Sprintf("t+%-6s submitted %d/%d jobs, not final %d, messages sent %d, received %d (%.2f msgs/s), quiet for %s",
				now.Sub(t0).Round(time.Second), submitted(), planned, last.nonFinal, last.sent, last.received,
				perSecond(last.received, now.Sub(t0)), quiet.Round(time.Second))
			if w := waitUntil.Sub(now); w > 0 {
				line += fmt.Sprintf(" (a job waits %s more)", w.Round(time.Second))
			}
			if sampleErr != nil {
				line += fmt.Sprintf("; store: %v", sampleErr)
			}
			logf("%s; contexts: %s; leases: %s", line, contextsText(last.contexts), s.holdersText(ctx))
		}
		switch {
		case done && err == nil && p.nonFinal == 0:
			logf("t+%-6s every job is final", now.Sub(t0).Round(100*time.Millisecond))
			return judgement{end: endQuiescent, sendTime: now.Sub(t0)}, nil
		case quiet >= o.stall:
			logf("t+%-6s stalled: nothing progressed for %s (last change at t+%s); %d jobs not final",
				now.Sub(t0).Round(time.Second), o.stall, lastChange.Sub(t0).Round(time.Second), last.nonFinal)
			return judgement{end: endStalled, sendTime: lastChange.Sub(t0)}, nil
		case now.After(capAt):
			logf("t+%-6s hung: still progressing after %s in all (the -cap); %d jobs not final, reported late, not lost",
				now.Sub(t0).Round(time.Second), o.cap, last.nonFinal)
			return judgement{end: endHung, sendTime: now.Sub(t0)}, nil
		}
		select {
		case <-ctx.Done():
		case <-time.After(sampleEvery):
		}
	}
}

func perSecond(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// contextsText counts the contexts by status: "available:9 busy:1".
func contextsText(m map[int64]wasend.ContextStatus) string {
	n := map[wasend.ContextStatus]int{}
	for _, st := range m {
		n[st]++
	}
	var parts []string
	for _, st := range wasend.ContextStatuses() {
		if n[st] > 0 {
			parts = append(parts, fmt.Sprintf("%s:%d", st, n[st]))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " ")
}
