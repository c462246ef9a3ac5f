package chromedpdriver

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTypingPieces(t *testing.T) {
	t.Parallel()
	p, pause := typingPieces("héllo", 10*time.Millisecond, time.Second)
	assert.Equal(t, []string{"h", "é", "l", "l", "o"}, p)
	assert.Equal(t, 10*time.Millisecond, pause)
	// 100 characters at 50 ms would take 5 s: bounded to 1 s, in 20 steps
	// of 5 characters.
	p, pause = typingPieces(strings.Repeat("x", 100), 50*time.Millisecond, time.Second)
	assert.Len(t, p, 20)
	assert.Equal(t, 50*time.Millisecond, pause)
	assert.Equal(t, strings.Repeat("x", 100), strings.Join(p, ""))
	p, _ = typingPieces("", time.Millisecond, time.Second)
	assert.Empty(t, p)
}

// TestTyping: with WithTyping the contact sees "composing" for a time
// about proportional to the text's length, up to the bound, as the fake
// server records it from the page's presence; the text arrives intact.
func TestTyping(t *testing.T) {
	t.Parallel()
	f, base := startFake(t)
	const perChar, limit = 60 * time.Millisecond, 3 * time.Second
	p, _ := testPool(t, base, WithTyping(perChar, limit))
	s, rec := launch(t, p, "")
	const me, to = "15550004301", "15554300001"
	login(t, f, s, rec, 0, me)
	texts := []string{"short text", strings.Repeat("a longer text ", 2) + "\nwith a line", strings.Repeat("z", 300)}
	for _, text := range texts {
		_, err := s.SendText(quickCtx(t, 30*time.Second), "+"+to, text)
		require.NoError(t, err)
	}
	got := f.Received(me, to)
	require.Len(t, got, len(texts))
	for i, m := range got {
		assert.Equal(t, texts[i], m.Text)
	}
	spans := f.TypingSpans(me, to)
	require.Len(t, spans, len(texts), "one composing span per message")
	// The span also holds the steps between the last key and the server's
	// acceptance of the message (read back, mark, click, POST): a few
	// hundred milliseconds, seconds on a loaded machine.
	want := make([]time.Duration, len(texts))
	for i, sp := range spans {
		n := len([]rune(texts[i]))
		want[i] = min(time.Duration(n)*perChar, limit)
		assert.True(t, sp.Sent, "the send ends the span")
		assert.GreaterOrEqual(t, sp.Duration, want[i]*8/10, "message %d (%d characters)", i, n)
		assert.Less(t, sp.Duration, want[i]+4*time.Second, "message %d (%d characters)", i, n)
	}
	assert.Greater(t, spans[1].Duration-spans[0].Duration, (want[1]-want[0])/2, "about proportional to the length")
}
