package redisqueue

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// captureHandler records slog records.
type captureHandler struct {
	mu      sync.Mutex
	records []slog.Record
}

func (h *captureHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *captureHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records = append(h.records, r.Clone())
	return nil
}
func (h *captureHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *captureHandler) WithGroup(string) slog.Handler      { return h }

func (h *captureHandler) lines() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, r := range h.records {
		s := r.Level.String() + " " + r.Message
		r.Attrs(func(a slog.Attr) bool {
			s += " " + a.String()
			return true
		})
		out = append(out, s)
	}
	return out
}

func TestLogBridgeDeduplicates(t *testing.T) {
	t.Parallel()
	h := &captureHandler{}
	logger := slog.New(h)
	now := time.Unix(1000, 0)
	b := newLogBridge(time.Minute, 3, func() time.Time { return now }, func() *slog.Logger { return logger })
	l := log.New(b, "", 0)

	// taskq #203 on Redis >= 7.2: the same error every ~1.5 s, per queue.
	const zombie = "redisq: clean_zombie_consumers failed: redis: got 8 elements in XINFO CONSUMERS reply, wanted 6"
	for i := 0; i < 40; i++ { // one minute of it
		l.Print(zombie)
		now = now.Add(1500 * time.Millisecond)
	}
	l.Printf("task=%q failed (will retry=%d in dur=%s): %s", "wasend.delivery", 2, "1s", "boom")
	l.Printf("task=%q failed (will retry=%d in dur=%s): %s", "wasend.delivery", 3, "2s", "boom")
	now = now.Add(time.Second)
	l.Print(zombie) // the window is over: logged with the count
	assert.Equal(t, []string{
		"WARN " + zombie + " component=taskq",
		`WARN task="wasend.delivery" failed (will retry=2 in dur=1s): boom component=taskq`,
		"WARN " + zombie + " component=taskq suppressed=39",
	}, h.lines())
}

func TestLogBridgeBoundsMemory(t *testing.T) {
	t.Parallel()
	h := &captureHandler{}
	logger := slog.New(h)
	now := time.Unix(0, 0)
	b := newLogBridge(time.Minute, 4, func() time.Time { return now }, func() *slog.Logger { return logger })
	for i := 0; i < 100; i++ {
		_, err := fmt.Fprintf(b, "line %c\n", 'a'+rune(i%26))
		require.NoError(t, err)
		assert.LessOrEqual(t, len(b.seen), 4)
	}
	_, _ = b.Write([]byte("  \n"))
	assert.NotEmpty(t, h.lines())
}

func TestLineKey(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "retry=# in dur=#.#s id=#-#", lineKey("retry=12 in dur=1.5s id=1700000000000-0"))
	assert.Equal(t, "", lineKey(""))
}

func TestSetTaskqLogger(t *testing.T) {
	// Not parallel: it changes the process-global destination.
	var buf bytes.Buffer
	SetTaskqLogger(slog.New(slog.NewTextHandler(&buf, nil)))
	defer SetTaskqLogger(nil)
	installTaskqLogger()
	// A line of its own in each run: the bridge drops a line it forwarded
	// within its window (with -count=2, the previous run's), and counts
	// digits as alike, so the tag is made of letters.
	tag := make([]byte, 12)
	for i := range tag {
		tag[i] = byte('a' + rand.IntN(26))
	}
	line := "a unique line for TestSetTaskqLogger " + string(tag)
	_, err := taskqBridge.Write([]byte("redisq: " + line + "\n"))
	require.NoError(t, err)
	assert.True(t, strings.Contains(buf.String(), line), buf.String())
	assert.Contains(t, buf.String(), "level=WARN")
}
