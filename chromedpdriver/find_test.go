package chromedpdriver

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// row is an outgoing row for the matcher's tests. id "" is a row with no
// data-id; at is its minute ("" for a row whose time cannot be read).
func row(text, id, at string) rowInfo {
	r := rowInfo{ID: id}
	if at != "" {
		r.Pre = "[" + at + ", 3/1/2026] Me: "
	}
	if text != "\x00" {
		r.Text = &text
	}
	return r
}

func TestMatchSent(t *testing.T) {
	const code = "Your code is 482913"
	since := time.Date(2026, 3, 1, 10, 15, 20, 0, time.UTC) // cut 10:15
	hash := func(n int) string { return fmt.Sprintf("%032X", n) }
	jid := func(n int) string { return fmt.Sprintf("true_15551234567@c.us_3EB0%016X", n) }
	mark := func(rows ...rowInfo) string { return makeMark(rows, code, time.UTC) }
	long := "true_15551234567@c.us_" + strings.Repeat("F", 80)

	tests := []struct {
		name string
		mark string // "" for none
		rows []rowInfo
		want int
	}{
		// The time rule, without a mark.
		{"no mark: a row of the same minute counts", "",
			[]rowInfo{row(code, jid(1), "10:15")}, 0},
		{"no mark: the last recent row", "",
			[]rowInfo{row(code, jid(1), "10:15"), row("other", jid(2), "10:15"), row(code, jid(3), "10:16")}, 2},
		{"no mark: an older row does not", "",
			[]rowInfo{row(code, jid(1), "10:14")}, -1},
		{"no mark: an unreadable time counts", "",
			[]rowInfo{row(code, jid(1), "")}, 0},
		{"no mark: another text does not", "",
			[]rowInfo{row("Your code is 482914", jid(1), "10:15")}, -1},

		// Defect 2: the same text twice in one minute.
		{"the earlier identical row is not this message",
			mark(row(code, jid(1), "10:15")),
			[]rowInfo{row(code, jid(1), "10:15")}, -1},
		{"the new row after the earlier one",
			mark(row(code, jid(1), "10:15")),
			[]rowInfo{row(code, jid(1), "10:15"), row(code, jid(2), "10:15")}, 1},
		{"bare-hash ids (2026 markup)",
			mark(row(code, hash(1), "10:15"), row("x", hash(2), "10:15")),
			[]rowInfo{row(code, hash(1), "10:15"), row("x", hash(2), "10:15")}, -1},
		{"bare-hash ids, the new row",
			mark(row(code, hash(1), "10:15")),
			[]rowInfo{row(code, hash(1), "10:15"), row("x", hash(2), "10:15"), row(code, hash(3), "10:15")}, 2},
		{"the new row still pending, with no id",
			mark(row(code, jid(1), "10:15")),
			[]rowInfo{row(code, jid(1), "10:15"), row(code, "", "10:15")}, 1},
		{"an empty mark (no identical row) and a new row",
			mark(row("x", jid(1), "10:15")),
			[]rowInfo{row("x", jid(1), "10:15"), row(code, jid(2), "10:15")}, 1},
		{"with a mark, a row older than since is not this message",
			mark(),
			[]rowInfo{row(code, jid(1), "10:14")}, -1},

		// Virtualized chats: rows out of the DOM.
		{"the listed row is gone from the DOM; nothing new",
			mark(row(code, jid(1), "10:15"), row(code, jid(2), "10:15")),
			[]rowInfo{row(code, jid(2), "10:15")}, -1},
		{"every listed row is gone; the new row is there",
			mark(row(code, jid(1), "10:15")),
			[]rowInfo{row("later", jid(5), "10:15"), row(code, jid(6), "10:15")}, 1},
		{"an old row that the mark never saw comes before a listed one",
			mark(row(code, jid(2), "10:15")),
			[]rowInfo{row(code, jid(1), "10:15"), row(code, jid(2), "10:15")}, -1},
		{"more identical rows than the mark keeps",
			mark(rowsOf(code, 14, jid)...),
			rowsOf(code, 14, jid), -1},
		{"more identical rows than the mark keeps, and the new one",
			mark(rowsOf(code, 14, jid)...),
			append(rowsOf(code, 14, jid), row(code, jid(99), "10:16")), 14},

		// Rows with no id when the mark was made.
		{"a row in flight got its id; nothing new",
			mark(row(code, jid(1), "10:15"), row(code, "", "10:15")),
			[]rowInfo{row(code, jid(1), "10:15"), row(code, jid(2), "10:15")}, -1},
		{"a row in flight got its id, and the new row",
			mark(row(code, jid(1), "10:15"), row(code, "", "10:15")),
			[]rowInfo{row(code, jid(1), "10:15"), row(code, jid(2), "10:15"), row(code, jid(3), "10:15")}, 2},
		{"no row had an id: the count decides (no new row)",
			mark(row(code, "", "10:15"), row(code, "", "10:15")),
			[]rowInfo{row(code, "", "10:15"), row(code, "", "10:15")}, -1},
		{"no row had an id: the count decides (a new row)",
			mark(row(code, "", "10:15"), row(code, "", "10:15")),
			[]rowInfo{row(code, "", "10:15"), row(code, "", "10:15"), row(code, "", "10:15")}, 2},
		{"a row with no id before a listed one does not count in the tail",
			mark(row(code, "", "10:15"), row(code, jid(1), "10:15")),
			[]rowInfo{row(code, jid(7), "10:15"), row(code, jid(1), "10:15"), row(code, jid(2), "10:15")}, 2},

		// Long ids are kept as hashes.
		{"a long id",
			mark(row(code, long, "10:15")),
			[]rowInfo{row(code, long, "10:15")}, -1},
		// Rows whose text cannot be read never match.
		{"an unreadable text", mark(),
			[]rowInfo{row("\x00", jid(1), "10:15")}, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := parseMark(tt.mark)
			require.NoError(t, err)
			got := matchSent(tt.rows, code, since, time.UTC, m)
			assert.Equal(t, tt.want, got, "mark %s", tt.mark)
		})
	}
}

// rowsOf returns n rows with text and the ids id(1..n), at 10:15.
func rowsOf(text string, n int, id func(int) string) []rowInfo {
	var out []rowInfo
	for i := 1; i <= n; i++ {
		out = append(out, row(text, id(i), "10:15"))
	}
	return out
}

func TestMarkFormat(t *testing.T) {
	const code = "same text"
	m := makeMark([]rowInfo{row(code, "true_1@c.us_A", "10:15"), row("x", "true_1@c.us_B", ""), row(code, "", "10:16"), row(code, "", "")}, code, time.UTC)
	assert.Equal(t, `{"v":1,"n":3,"ids":["true_1@c.us_A"],"last":"true_1@c.us_B","tail":2,"tail_at":[1772360160,0]}`, m)
	assert.Equal(t, `{"v":1,"n":0}`, makeMark(nil, code, time.UTC))
	assert.NotContains(t, m, code, "no text in the mark")

	// Bounded: the last ids only, long ids hashed. The worst case: ids of
	// the longest length kept as they are, and many rows in flight.
	var rows []rowInfo
	for i := range 200 {
		rows = append(rows, row(code, fmt.Sprintf("%0*d", maxMarkIDLen, i), ""))
	}
	for range 30 {
		rows = append(rows, row(code, "", "10:15"))
	}
	m = makeMark(rows, code, time.UTC)
	assert.LessOrEqual(t, len(m), 1024, "mark %s", m)
	pm, err := parseMark(m)
	require.NoError(t, err)
	assert.Equal(t, 230, pm.N)
	assert.Equal(t, 30, pm.Tail)
	assert.Len(t, pm.TailAt, maxMarkIDs)
	assert.Len(t, pm.IDs, maxMarkIDs)
	assert.Equal(t, rows[199].ID, pm.IDs[maxMarkIDs-1])
	assert.Equal(t, markKey(strings.Repeat("F", 80)), markKey(strings.Repeat("F", 80)))
	assert.Len(t, markKey(strings.Repeat("F", 80)), 17, "a long id is kept as a hash")

	for _, bad := range []string{"not json", `{"v":2,"n":1}`, `{"v":1,"n":-1}`, `[1]`, `{"v":1,"tail":0,"tail_at":[1]}`} {
		_, err := parseMark(bad)
		assert.Error(t, err, bad)
	}
	pm, err = parseMark("")
	require.NoError(t, err)
	assert.Nil(t, pm)
}

// TestMatchSentProperty checks matchSent against the truth on random
// chats: a history with identical texts, rows without ids that get one
// later, ids past what the mark keeps, old rows scrolled out of the DOM
// when the mark was made and when the lookup reads, and a new row that
// was or was not sent. The assumptions it makes about the page: rows are
// appended; the DOM holds a suffix of the chat; rows scrolled out when the
// mark was made are older than since; rows that had no id then are still
// in the DOM at the lookup; nothing with the same text comes after the new
// row.
func TestMatchSentProperty(t *testing.T) {
	const want = "A"
	since := time.Date(2026, 3, 1, 10, 15, 20, 0, time.UTC)
	r := rand.New(rand.NewPCG(1, 2))
	next := 0
	newID := func() string {
		next++
		if r.IntN(2) == 0 {
			return fmt.Sprintf("%032X", next)
		}
		return fmt.Sprintf("true_15551234567@c.us_3EB0%016X", next)
	}
	for iter := range 5000 {
		var hist []rowInfo
		for range r.IntN(25) {
			text := want
			if r.IntN(3) == 0 {
				text = "B"
			}
			id := newID()
			if r.IntN(5) == 0 {
				id = ""
			}
			hist = append(hist, row(text, id, "10:15"))
		}
		// The mark sees a suffix; what it does not see is old.
		hidden := r.IntN(len(hist) + 1)
		for i := range hidden {
			hist[i].Pre = "[10:1" + fmt.Sprint(r.IntN(5)) + ", 3/1/2026] Me: "
		}
		mark := makeMark(hist[hidden:], want, time.UTC)
		pm, err := parseMark(mark)
		require.NoError(t, err)

		// The lookup: rows in flight may have their id now.
		now := make([]rowInfo, len(hist))
		copy(now, hist)
		// The rows in flight: no id, the text, after the last row with an id.
		firstTail := hidden
		for i := hidden; i < len(now); i++ {
			if now[i].ID != "" {
				firstTail = i + 1
			}
		}
		for firstTail < len(now) && (now[firstTail].ID != "" || *now[firstTail].Text != want) {
			firstTail++
		}
		for i := range now {
			if now[i].ID == "" && r.IntN(2) == 0 {
				now[i].ID = newID()
			}
		}
		sent := r.IntN(2) == 0
		at := -1
		if sent {
			id := newID()
			if r.IntN(4) == 0 {
				id = ""
			}
			now = append(now, row(want, id, "10:1"+fmt.Sprint(5+r.IntN(3))))
			at = len(now) - 1
		}
		for range r.IntN(3) {
			now = append(now, row("B", newID(), "10:16"))
		}
		// The DOM of the lookup holds a suffix that keeps the tail.
		drop := r.IntN(min(firstTail, len(hist)) + 1)
		got := matchSent(now[drop:], want, since, time.UTC, pm)
		if at >= 0 {
			at -= drop
		}
		if !assert.Equal(t, at, got, "iteration %d: mark %s, hidden %d, dropped %d, rows %s", iter, mark, hidden, drop, describeRows(now[drop:])) {
			return
		}
	}
}

func describeRows(rows []rowInfo) string {
	var b strings.Builder
	for _, r := range rows {
		text := "<nil>"
		if r.Text != nil {
			text = *r.Text
		}
		id := r.ID
		if len(id) > 6 {
			id = id[len(id)-6:]
		}
		fmt.Fprintf(&b, "[%s %q %s] ", text, id, r.Pre)
	}
	return b.String()
}

// The mark is JSON that the Client may store as it is.
func TestMarkIsJSON(t *testing.T) {
	m := makeMark([]rowInfo{row("a", "id\"with\\quotes", "")}, "a", time.UTC)
	assert.True(t, json.Valid([]byte(m)), m)
}
