package wasend

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// consumerRestart is the wait before a queue consumer that stopped on its
// own is started again, after its n-th stop.
var consumerRestart = backoff{base: 100 * time.Millisecond, max: 10 * time.Second}

// dispatcher runs, while Run runs, one queue consumer per live context,
// each handing its deliveries to the handler of the run. It starts the
// consumers of the contexts that become live meanwhile (offer), and looks
// for those it missed every rescan interval.
type dispatcher struct {
	queue    Queue
	contexts *registry
	rescan   time.Duration
	log      *slog.Logger

	opened chan *liveContext // contexts offered while running

	mu      sync.Mutex
	running bool

	loop sync.WaitGroup // the goroutine of start
	wg   sync.WaitGroup // the consumers
}

func newDispatcher(queue Queue, contexts *registry, rescan time.Duration, log *slog.Logger) *dispatcher {
	return &dispatcher{queue: queue, contexts: contexts, rescan: rescan, log: log,
		opened: make(chan *liveContext, 64)}
}

// offer asks a running dispatcher to consume a context that became live,
// or whose lease is back. It never blocks: the rescan finds what it drops.
func (d *dispatcher) offer(lc *liveContext) {
	d.mu.Lock()
	running := d.running
	d.mu.Unlock()
	if !running {
		return
	}
	select {
	case d.opened <- lc:
	default:
	}
}

// start consumes the queues of the live contexts until ctx ends, handing
// deliveries to h: it starts their consumers, and a goroutine that starts
// the consumers of the contexts offered meanwhile and rescans the live
// contexts every rescan interval. shutdown stops it all.
func (d *dispatcher) start(ctx context.Context, h Handler) {
	d.mu.Lock()
	d.running = true
	d.mu.Unlock()
	for _, lc := range d.contexts.all() {
		d.consume(ctx, lc, h)
	}
	d.log.Info("workers running", "contexts", d.contexts.len())
	d.loop.Add(1)
	go func() {
		defer d.loop.Done()
		ticker := time.NewTicker(d.rescan)
		defer ticker.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case lc := <-d.opened:
				d.consume(ctx, lc, h)
			case <-ticker.C:
				for _, lc := range d.contexts.all() {
					d.consume(ctx, lc, h)
				}
			}
		}
	}()
}

// shutdown, once the ctx of start has ended, stops the consumers and waits
// for them, at most timeout; when they have not returned by then, it runs
// onTimeout and then waits for them without limit.
func (d *dispatcher) shutdown(timeout time.Duration, onTimeout func()) {
	d.loop.Wait()
	d.mu.Lock()
	d.running = false
	d.mu.Unlock()
	for _, lc := range d.contexts.all() {
		lc.stopConsumer()
	}
	waited := make(chan struct{})
	go func() {
		d.wg.Wait()
		close(waited)
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-waited:
	case <-timer.C:
		onTimeout()
		<-waited
	}
}

// consume starts consuming a live context's queue, once.
func (d *dispatcher) consume(ctx context.Context, lc *liveContext, h Handler) {
	cctx, cancel := lc.beginConsuming(ctx)
	if cctx == nil {
		return
	}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		defer func() {
			cancel()
			lc.doneConsuming()
		}()
		for n := 1; cctx.Err() == nil; n++ {
			err := d.queue.Consume(cctx, lc.id, h)
			if cctx.Err() != nil {
				return
			}
			d.log.Warn("queue consumer stopped; restarting", "context", lc.id, "err", err)
			if !sleepCtx(cctx, consumerRestart.after(n), nil) {
				return
			}
		}
	}()
}
