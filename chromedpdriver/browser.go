package chromedpdriver

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/wasend/wasend/internal/chromeflags"
)

// browserProc is one Chrome process. It hides chromedp's context-bound
// lifecycle behind explicit calls: startBrowser creates it, close shuts it
// down gracefully (so that the profile is flushed) and kill stops it at
// once. Both wait for the process to exit and may be called more than once.
type browserProc struct {
	// ctx is the chromedp context of the browser's first tab. It has no
	// deadline: the browser lives as long as it.
	ctx         context.Context
	cancel      context.CancelFunc // kills the browser and waits for it
	allocCancel context.CancelFunc
	pid         int
	dir         string
	lost        <-chan struct{}
	once        sync.Once
}

// chromeFlag is one command-line flag; a false bool value omits it.
type chromeFlag = chromeflags.Flag

// chromeFlags returns the browser's flags, in order, the host's
// (WithFlags) last. dir is the profile folder ("" for a temporary one that
// chromedp removes), root says whether the process runs as root (the only
// case that gets --no-sandbox).
func chromeFlags(cfg *config, ua, dir string, root bool) []chromeFlag {
	var extra []chromeFlag
	for _, s := range cfg.flags {
		if name, v, err := parseFlag(s); err == nil {
			extra = append(extra, chromeFlag{Name: name, Value: v})
		}
	}
	return chromeflags.Browser(cfg.headless, ua, dir, root, extra...)
}

// startBrowser starts Chrome with flags. ctx bounds the start only; the
// browser lives until close or kill.
func startBrowser(ctx context.Context, execPath string, flags []chromeFlag, dir string, log *slog.Logger) (*browserProc, error) {
	allocCtx, allocCancel := chromedp.NewExecAllocator(context.Background(), chromeflags.Allocator(execPath, flags)...)
	logf := func(format string, a ...any) {
		msg := fmt.Sprintf(format, a...)
		if strings.Contains(msg, "could not unmarshal event") {
			return // events of a newer protocol than cdproto knows
		}
		log.Debug("chromedp: " + msg)
	}
	bctx, bcancel := chromedp.NewContext(allocCtx, chromedp.WithBrowserOption(
		chromedp.WithBrowserLogf(logf), chromedp.WithBrowserErrorf(logf)))
	done := make(chan error, 1)
	go func() { done <- chromedp.Do(bctx) }()
	select {
	case err := <-done:
		if err != nil {
			bcancel()
			allocCancel()
			return nil, fmt.Errorf("chromedpdriver: starting %s: %w", execPath, err)
		}
	case <-ctx.Done():
		bcancel()
		allocCancel()
		<-done
		return nil, ctx.Err()
	}
	c := chromedp.FromContext(bctx)
	b := &browserProc{ctx: bctx, cancel: bcancel, allocCancel: allocCancel, dir: dir, lost: c.Browser.LostConnection}
	if p := c.Browser.Process(); p != nil {
		b.pid = p.Pid
	}
	return b, nil
}

// dead reports whether the connection to the browser is gone.
func (b *browserProc) dead() bool {
	select {
	case <-b.lost:
		return true
	default:
		return false
	}
}

// close asks the browser to close (Browser.close), so that it flushes its
// profile, and waits for it to exit until ctx ends; then it kills what is
// left.
func (b *browserProc) close(ctx context.Context) {
	b.once.Do(func() {
		if !b.dead() {
			cctx, cancel := context.WithCancel(b.ctx)
			stop := context.AfterFunc(ctx, cancel)
			if err := chromedp.Cancel(cctx); err != nil {
				// The pipe can close before the reply to Browser.close;
				// Chrome still shuts down by itself.
				_ = chromedp.WaitClosed(cctx)
			}
			stop()
			cancel()
		}
		b.stop()
	})
}

// kill stops the browser at once and waits for it.
func (b *browserProc) kill() {
	b.once.Do(b.stop)
}

func (b *browserProc) stop() {
	b.cancel()
	b.allocCancel()
	if b.dir != "" {
		// Children of a killed Chrome can outlive it and keep writing in
		// the profile.
		killDirProcesses(b.dir)
	}
}

// remaining returns the time left before ctx's deadline, or def.
func remaining(ctx context.Context, def time.Duration) time.Duration {
	if d, ok := ctx.Deadline(); ok {
		return time.Until(d)
	}
	return def
}
