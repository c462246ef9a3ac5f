package wasend

import (
	"context"
	"sync"
	"time"
)

// runState holds the signals of one call of Run. stopping is closed when
// Run's ctx is done: no new work starts, and bulk jobs stop after the
// message in flight. hard is closed when the shutdown deadline passes: work
// in flight is canceled.
type runState struct {
	stopping chan struct{}
	hard     chan struct{}
	hardOnce sync.Once
}

func (rs *runState) isStopping() bool {
	select {
	case <-rs.stopping:
		return true
	default:
		return false
	}
}

func (rs *runState) isHard() bool {
	select {
	case <-rs.hard:
		return true
	default:
		return false
	}
}

func (rs *runState) stopHard() { rs.hardOnce.Do(func() { close(rs.hard) }) }

// startConsumer starts consuming a live context's queue, once.
func (c *Client) startConsumer(ctx context.Context, wg *sync.WaitGroup, lc *liveContext) {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	if lc.stopConsume != nil || ctx.Err() != nil || lc.leaseLapsed.Load() {
		return
	}
	c.mu.Lock()
	current := c.live[lc.id] == lc
	c.mu.Unlock()
	if !current {
		return
	}
	cctx, cancel := context.WithCancel(ctx)
	lc.stopConsume = cancel
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer func() {
			cancel()
			lc.mu.Lock()
			lc.stopConsume = nil
			lc.mu.Unlock()
		}()
		backoff := 100 * time.Millisecond
		for cctx.Err() == nil {
			err := c.queue.Consume(cctx, lc.id, worker{c})
			if cctx.Err() != nil {
				return
			}
			c.log.Warn("queue consumer stopped; restarting", "context", lc.id, "err", err)
			if !sleepCtx(cctx, backoff) {
				return
			}
			backoff = min(backoff*2, 10*time.Second)
		}
	}()
}

func (c *Client) currentRun() *runState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.run
}
