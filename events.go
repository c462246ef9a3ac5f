package wasend

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// hostEvent hands the host an event about what the Client recorded itself.
func (c *Client) hostEvent(ev SessionEvent) {
	if ev.At.IsZero() {
		ev.At = c.now()
	}
	c.events.push(queuedEvent{ev: ev, hostOnly: true})
}

// onEvent receives the pool's events. It never blocks.
func (c *Client) onEvent(ev SessionEvent) {
	if ev.At.IsZero() {
		ev.At = c.now()
	}
	c.mu.Lock()
	lc := c.bySystem[ev.SystemID]
	if lc == nil {
		if len(c.early[ev.SystemID]) < 64 {
			c.early[ev.SystemID] = append(c.early[ev.SystemID], ev)
		}
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	ev.ContextID = lc.id
	c.events.push(queuedEvent{ev: ev})
}

// eventLoop applies session events to the store and hands them to the host.
func (c *Client) eventLoop() {
	for {
		qe, ok := c.events.pop()
		if !ok {
			return
		}
		ev := qe.ev
		if ev.Type == EventStatus && !qe.hostOnly {
			c.applyStatus(ev)
		}
		if c.cfg.onEvent != nil {
			func() {
				defer func() {
					if r := recover(); r != nil {
						c.log.Error("event handler panicked", "panic", fmt.Sprint(r))
					}
				}()
				c.cfg.onEvent(ev)
			}()
		}
	}
}

func (c *Client) applyStatus(ev SessionEvent) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var e edge[ContextStatus]
	switch ev.Status {
	case ContextAvailable:
		e = ctxUp
	case ContextDisconnected:
		e = ctxDown
	case ContextError:
		e = ctxFault
	default:
		c.log.Warn("session event with an unexpected status", "context", ev.ContextID, "status", ev.Status)
		return
	}
	lc := c.liveContext(ev.ContextID)
	if lc != nil {
		lc.statusMu.Lock()
		lc.sessionUp.Store(ev.Status == ContextAvailable)
		lc.statusGen.Add(1)
	}
	ok, err := c.store.Apply(ctx, Step{Context: e.context(ev.ContextID, ev.At)})
	if lc != nil {
		lc.stale.Store(true)
		lc.statusMu.Unlock()
	}
	if err != nil {
		c.log.Error("recording a session status", "context", ev.ContextID, "status", ev.Status, "err", err)
		return
	}
	attrs := []any{"context", ev.ContextID, "status", ev.Status}
	if ev.Err != nil {
		attrs = append(attrs, "cause", ev.Err)
	}
	c.log.Info("session status", attrs...)
	if ok && ev.Status == ContextAvailable {
		c.wakeJobs(ctx, ev.ContextID)
	}
}

// wakeJobs enqueues at once the pending jobs of a context that were waiting
// for it to come back.
func (c *Client) wakeJobs(ctx context.Context, contextID int64) {
	now := c.now()
	var after int64
	for {
		jobs, err := c.store.Jobs(ctx, JobFilter{ContextID: contextID, Statuses: []JobStatus{JobPending}, AfterID: after})
		if err != nil {
			c.log.Warn("waking jobs", "context", contextID, "err", err)
			return
		}
		for _, j := range jobs {
			after = j.ID
			if !j.NextRunAt.After(now) {
				continue // due already: its delivery is in the queue
			}
			ok, err := c.store.Apply(ctx, Step{Job: wakeJob(j.ID, now)})
			if err != nil || !ok {
				continue
			}
			_ = c.queue.Enqueue(ctx, Delivery{JobID: j.ID, ContextID: j.ContextID, Kind: j.Kind}, 0)
		}
		if len(jobs) < DefaultJobsLimit {
			return
		}
	}
}

// queuedEvent is an event on its way to the store and the host. A
// hostOnly event reports what the Client itself recorded already (a
// session found gone by a send): it goes to the host only.
type queuedEvent struct {
	ev       SessionEvent
	hostOnly bool
}

// eventQueue is an unbounded FIFO of session events, so that a pool's
// callback never blocks.
type eventQueue struct {
	mu     sync.Mutex
	buf    []queuedEvent
	signal chan struct{}
	closed bool
}

func newEventQueue() *eventQueue { return &eventQueue{signal: make(chan struct{}, 1)} }

func (q *eventQueue) push(ev queuedEvent) {
	q.mu.Lock()
	if !q.closed {
		q.buf = append(q.buf, ev)
	}
	q.mu.Unlock()
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

// pop returns the next event, waiting for one; false once closed and empty.
func (q *eventQueue) pop() (queuedEvent, bool) {
	for {
		q.mu.Lock()
		if len(q.buf) > 0 {
			ev := q.buf[0]
			q.buf[0] = queuedEvent{}
			q.buf = q.buf[1:]
			q.mu.Unlock()
			return ev, true
		}
		if q.closed {
			q.mu.Unlock()
			return queuedEvent{}, false
		}
		q.mu.Unlock()
		<-q.signal
	}
}

func (q *eventQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	select {
	case q.signal <- struct{}{}:
	default:
	}
}
