package redisqueue

import (
	"context"
	"log"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vmihailenco/taskq/v3"
)

// Settings of the bridge from taskq's log.Logger to slog.
const (
	// taskqLogWindow is the time during which a repeated taskq line is
	// counted instead of logged.
	taskqLogWindow = time.Minute
	// taskqLogKeys bounds the number of distinct lines remembered.
	taskqLogKeys = 512
)

var (
	taskqLoggerOnce sync.Once
	taskqLogDest    atomic.Pointer[slog.Logger]
	taskqBridge     = newLogBridge(taskqLogWindow, taskqLogKeys, time.Now, func() *slog.Logger {
		if l := taskqLogDest.Load(); l != nil {
			return l
		}
		return slog.Default()
	})
)

// SetTaskqLogger sends taskq's log lines to logger (nil means
// slog.Default(), which is also the default).
//
// taskq has a single, process-global logger (taskq.SetLogger). The first
// New installs in it, once per process, a bridge that forwards each line to
// slog at level Warn with the attribute component=taskq. A line that repeats
// within a minute, digits aside, is counted rather than logged, and the
// count goes out with the next occurrence as the attribute "suppressed":
// taskq logs some errors every 1 to 1.5 s and each queue logs them on its
// own (for example the XINFO CONSUMERS error of Redis 7.2, taskq #203). The
// setting is process-global too: it applies to every Queue.
func SetTaskqLogger(logger *slog.Logger) {
	taskqLogDest.Store(logger)
}

// installTaskqLogger puts the bridge in taskq's global logger, once: taskq
// reads that variable without synchronization, so it must not change while
// taskq goroutines run.
func installTaskqLogger() {
	taskqLoggerOnce.Do(func() {
		taskq.SetLogger(log.New(taskqBridge, "", 0))
	})
}

// logBridge is an io.Writer for a log.Logger: each Write is one line, which
// it forwards to slog unless the same line was forwarded within the window.
type logBridge struct {
	window time.Duration
	max    int
	now    func() time.Time
	dest   func() *slog.Logger

	mu   sync.Mutex
	seen map[string]*seenLine
}

type seenLine struct {
	last       time.Time // when the line was last forwarded
	suppressed int
}

func newLogBridge(window time.Duration, max int, now func() time.Time, dest func() *slog.Logger) *logBridge {
	return &logBridge{window: window, max: max, now: now, dest: dest, seen: make(map[string]*seenLine)}
}

// Write implements io.Writer.
func (b *logBridge) Write(p []byte) (int, error) {
	line := strings.TrimSpace(string(p))
	if line == "" {
		return len(p), nil
	}
	key := lineKey(line)
	now := b.now()

	b.mu.Lock()
	s := b.seen[key]
	if s != nil && now.Sub(s.last) < b.window {
		s.suppressed++
		b.mu.Unlock()
		return len(p), nil
	}
	suppressed := 0
	if s == nil {
		if len(b.seen) >= b.max {
			b.evict(now)
		}
		s = &seenLine{}
		b.seen[key] = s
	} else {
		suppressed = s.suppressed
	}
	s.last, s.suppressed = now, 0
	b.mu.Unlock()

	attrs := []slog.Attr{slog.String("component", "taskq")}
	if suppressed > 0 {
		attrs = append(attrs, slog.Int("suppressed", suppressed))
	}
	b.dest().LogAttrs(context.Background(), slog.LevelWarn, line, attrs...)
	return len(p), nil
}

// evict drops the lines whose window is over, or all of them when none is;
// b.mu is held.
func (b *logBridge) evict(now time.Time) {
	for k, s := range b.seen {
		if now.Sub(s.last) >= b.window {
			delete(b.seen, k)
		}
	}
	if len(b.seen) >= b.max {
		clear(b.seen)
	}
}

// lineKey is line with every run of digits replaced by '#', so that lines
// differing only in counts, durations or ids count as the same.
func lineKey(line string) string {
	var sb strings.Builder
	sb.Grow(len(line))
	digits := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		if c >= '0' && c <= '9' {
			if !digits {
				sb.WriteByte('#')
			}
			digits = true
			continue
		}
		digits = false
		sb.WriteByte(c)
	}
	return sb.String()
}
