package chromedpdriver

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/wasend/wasend"
)

// The mark of a send and the lookup of a sent message: the Client's
// duplicate-send guard.

const (
	// markVersion is the version of the mark's JSON.
	markVersion = 1
	// maxMarkIDs is how many row ids a mark keeps: the last ones.
	maxMarkIDs = 10
	// maxMarkIDLen is the longest id a mark keeps as it is; a longer one
	// is kept as a hash (markKey).
	maxMarkIDLen = 64
	// findReads bounds the reads of a chat whose history is still
	// arriving; findStep is the time between two reads.
	findReads = 10
	findStep  = 150 * time.Millisecond
)

// sentMark is what SendText hands to wasend.BeforeSend just before the
// click: what the chat showed then of its outgoing rows. It travels as
// compact JSON of at most about 1 KiB, such as
//
//	{"v":1,"n":2,"ids":["true_15551234567@c.us_3EB0…","7D1F…"],"last":"7D1F…"}
//
// and holds neither the text nor anything else of the message.
type sentMark struct {
	V int `json:"v"`
	// N counts the outgoing rows with the text.
	N int `json:"n"`
	// IDs are the keys (markKey) of the last maxMarkIDs of those rows
	// that had an id, in the chat's order.
	IDs []string `json:"ids,omitempty"`
	// Last is the key of the last outgoing row, whatever its text, that
	// had an id.
	Last string `json:"last,omitempty"`
	// Tail counts the rows with the text that had no id and came after
	// Last (all of them when no row had an id): rows whose send was in
	// flight, which may have an id by the lookup. TailAt holds the times
	// of the last maxMarkIDs of them, in Unix seconds, 0 when unreadable.
	Tail   int     `json:"tail,omitempty"`
	TailAt []int64 `json:"tail_at,omitempty"`
}

// markKey is how a mark keeps a row id: as it is, or as a hash when it
// is longer than maxMarkIDLen.
func markKey(id string) string {
	if len(id) <= maxMarkIDLen {
		return id
	}
	h := sha256.Sum256([]byte(id))
	return "#" + hex.EncodeToString(h[:8])
}

// makeMark returns the mark of the outgoing rows rows (in the chat's
// order, times in loc) for the text want.
func makeMark(rows []rowInfo, want string, loc *time.Location) string {
	m := sentMark{V: markVersion}
	for _, r := range rows {
		same := r.Text != nil && normText(*r.Text) == want
		if r.ID != "" {
			m.Last = markKey(r.ID)
			m.Tail, m.TailAt = 0, nil
		}
		if !same {
			continue
		}
		m.N++
		if r.ID != "" {
			m.IDs = append(m.IDs, m.Last)
			continue
		}
		m.Tail++
		var at int64
		if t, ok := parsePrePlain(r.Pre, loc); ok {
			at = t.Unix()
		}
		m.TailAt = append(m.TailAt, at)
	}
	if len(m.IDs) > maxMarkIDs {
		m.IDs = m.IDs[len(m.IDs)-maxMarkIDs:]
	}
	if len(m.TailAt) > maxMarkIDs {
		m.TailAt = m.TailAt[len(m.TailAt)-maxMarkIDs:]
	}
	b, err := json.Marshal(m)
	if err != nil { // a struct of ints and strings always encodes
		panic(err)
	}
	return string(b)
}

// parseMark decodes a mark; an empty one is nil.
func parseMark(s string) (*sentMark, error) {
	if s == "" {
		return nil, nil
	}
	var m sentMark
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("chromedpdriver: the mark is not this driver's: %w", err)
	}
	if m.V != markVersion || m.N < 0 || m.Tail < len(m.TailAt) {
		return nil, fmt.Errorf("chromedpdriver: a mark of version %d that this driver cannot read", m.V)
	}
	return &m, nil
}

// matchSent returns the index in rows (the chat's outgoing rows, in its
// order) of the row that is the message with text want whose first
// attempt began after since, or -1.
//
// Without a mark, it is the last row with the text whose time (minute
// resolution, in loc) is at or after since truncated to the minute (the
// cut), or whose time cannot be read: a row of the same text sent earlier
// in the same minute counts as this message.
//
// With a mark, a row is this message only if it holds the text and the
// mark does not describe it as already there. Rows are appended, so the
// rows up to the last one that the mark names (Last, or one of IDs) were
// there: this covers the ids that the mark dropped and old rows that were
// scrolled out of the DOM when the mark was made. Of the rows with the
// text after it, the first mark.Tail were the rows in flight, which had no
// id then (a count: they may have one now). The first row left whose time
// is not before the cut is the message.
//
// When no row that the mark names is in the DOM any more (a virtualized
// chat dropped them, or no row had an id), only the rows with the text
// whose time is not before the cut count, against the rows in flight
// whose time was not before it either.
func matchSent(rows []rowInfo, want string, since time.Time, loc *time.Location, mark *sentMark) int {
	cut := since.Truncate(time.Minute)
	same := func(r rowInfo) bool { return r.Text != nil && normText(*r.Text) == want }
	recent := func(r rowInfo) bool {
		at, ok := parsePrePlain(r.Pre, loc)
		return !ok || !at.Before(cut)
	}
	if mark == nil {
		for i := len(rows) - 1; i >= 0; i-- {
			if same(rows[i]) && recent(rows[i]) {
				return i
			}
		}
		return -1
	}
	named := make(map[string]bool, len(mark.IDs)+1)
	for _, id := range mark.IDs {
		named[id] = true
	}
	if mark.Last != "" {
		named[mark.Last] = true
	}
	anchor := -1
	for i, r := range rows {
		if r.ID != "" && named[markKey(r.ID)] {
			anchor = i
		}
	}
	var cands []int
	for i := anchor + 1; i < len(rows); i++ {
		if same(rows[i]) && (anchor >= 0 || recent(rows[i])) {
			cands = append(cands, i)
		}
	}
	inFlight := mark.Tail
	if anchor < 0 {
		// Count only the rows in flight that were not before the cut;
		// those whose time the mark did not keep count.
		inFlight = mark.Tail - len(mark.TailAt)
		for _, at := range mark.TailAt {
			if at == 0 || !time.Unix(at, 0).Before(cut) {
				inFlight++
			}
		}
	}
	if len(cands) <= inFlight {
		return -1
	}
	for _, i := range cands[inFlight:] {
		if recent(rows[i]) {
			return i
		}
	}
	return -1
}

// otherRow is a row of the chat that holds the text and is not outgoing.
type otherRow struct {
	// Dir is "in" when the row is recognized as incoming, "?" when the
	// selectors cannot tell.
	Dir string `json:"dir"`
}

// chatRows is what the "rows" operation reads of the open chat.
type chatRows struct {
	Panel  bool       `json:"panel"`
	Rows   []rowInfo  `json:"rows"`
	Others []otherRow `json:"others"`
	TZ     string     `json:"tz"`
	Offset int        `json:"offset"`
}

// key sums up what a read of the chat saw, to tell whether two reads agree.
func (c chatRows) key() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%t|%d|", c.Panel, len(c.Others))
	for _, r := range c.Rows {
		b.WriteString(r.ID)
		if r.Text == nil {
			b.WriteString("|-")
		}
		b.WriteByte(',')
	}
	return b.String()
}

// MarksSends reports true (wasend.Marker): SendText calls
// wasend.BeforeSend with a non-empty mark before every click on the send
// button, and clicks nothing that sends without it. An attempt that made
// no mark never clicked.
func (s *Session) MarksSends() bool { return true }

// FindSent looks in the chat with q.To for the outgoing message that
// q describes, and reports whether it is there. For a media message
// (q.Media), the row must show an attachment of its kind with q.Text as
// its caption and, for a document, the file name that SendMedia gave it
// (q.Media.Name, or the base name of its path) on its card; an image's
// bubble shows no name, and neither shows a size the page would write
// the same way in every language, so the size is not compared.
//
// With q.Mark (what SendText handed to wasend.BeforeSend before the click)
// a row is the message only if the mark does not describe it as already
// there, so an earlier message with the same text does not count (see
// matchSent). Without a mark, it is the last outgoing row with the text
// whose time ("[HH:MM, M/D/YYYY] Me: ", minute resolution, in the page's
// time zone) is at or after q.Since truncated to the minute; a row whose
// time cannot be read counts.
//
// A number that is not on WhatsApp has no such message. Every lookup that
// cannot answer returns an error, never "not found": the chat did not open
// or closed while it was read, its rows kept changing, the outgoing rows'
// text cannot be read, or a row with the text is neither recognized as
// outgoing nor as incoming (the selector set no longer matches the page;
// the session then reports wasend.ErrSelectors).
func (s *Session) FindSent(ctx context.Context, q wasend.SentQuery) (wasend.Receipt, bool, error) {
	digits, err := phoneDigits(q.To)
	if err != nil {
		return wasend.Receipt{}, false, err
	}
	if q.Media != nil && q.Media.Kind != wasend.MediaImage && q.Media.Kind != wasend.MediaDocument {
		return wasend.Receipt{}, false, fmt.Errorf("%w: unknown kind %q", wasend.ErrInvalidMedia, q.Media.Kind)
	}
	mark, err := parseMark(q.Mark)
	if err != nil {
		// The Client gives back what this driver made; another one's mark
		// says nothing this driver can read.
		s.log.Warn("cannot read the mark; looking by time only", "err", err)
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	inc, err := s.acquire(ctx, false)
	if err != nil {
		s.noteFailure(err)
		return wasend.Receipt{}, false, err
	}
	defer s.unlock()
	sel := s.selectors()
	var bar *newChatBar
	if err := s.openChat(ctx, inc, sel, digits); err != nil && !errors.As(err, &bar) {
		// A restriction's bar leaves the chat open: its rows are read.
		if errors.Is(err, wasend.ErrNotOnWhatsApp) {
			return wasend.Receipt{}, false, nil
		}
		s.noteFailure(err)
		if errors.Is(err, wasend.ErrTimeout) {
			s.debugDump(ctx, "find-open-chat")
		}
		return wasend.Receipt{}, false, err
	}
	octx, cancel2 := s.opContext(ctx, inc, s.pool.cfg.actionTimeout)
	defer cancel2()
	want := normText(q.Text)
	if q.Media != nil {
		want = mediaKey(q.Media.Kind, q.Text, mediaName(*q.Media))
	}
	res, err := s.readChat(octx, inc, sel, want)
	if err != nil {
		s.noteFailure(err)
		return wasend.Receipt{}, false, err
	}
	i := matchSent(res.Rows, want, q.Since, pageLocation(res.TZ, res.Offset), mark)
	if i < 0 {
		s.log.Info("the message is not in the chat", "to", wasend.MaskPhone(q.To), "rows", len(res.Rows), "marked", mark != nil)
		return wasend.Receipt{}, false, nil
	}
	r := res.Rows[i]
	if r.Failed != "" {
		s.log.Info("the message is in the chat with the fail icon", "to", wasend.MaskPhone(q.To))
		return wasend.Receipt{}, false, rejectedError(r.Failed)
	}
	at, _ := parsePrePlain(r.Pre, pageLocation(res.TZ, res.Offset))
	s.log.Info("found the message in the chat", "to", wasend.MaskPhone(q.To), "status", r.Status, "marked", mark != nil)
	return wasend.Receipt{MessageID: r.ID, SentAt: at}, true, nil
}

// readChat reads the open chat's rows until two reads agree, since its
// history can still be arriving. It fails when the reads cannot answer.
func (s *Session) readChat(ctx context.Context, inc *incarnation, sel *compiledSelectors, want string) (chatRows, error) {
	const step = "find"
	var prev chatRows
	for i := range findReads {
		if i > 0 && !sleepCtx(ctx, findStep) {
			return chatRows{}, s.fail(ctx, inc, step, ctx.Err())
		}
		res, err := evalOp[chatRows](ctx, sel, "rows", map[string]string{"text": want})
		if err != nil {
			if transient(err) {
				prev = chatRows{}
				continue
			}
			return chatRows{}, s.fail(ctx, inc, step, err)
		}
		if !res.Panel {
			return chatRows{}, fmt.Errorf("chromedpdriver: %s: the chat closed while it was read", step)
		}
		if len(res.Rows) > 0 && !anyText(res.Rows) {
			return chatRows{}, s.broken(ctx, sel, step, []string{"message_text"})
		}
		for _, o := range res.Others {
			if o.Dir != "in" {
				return chatRows{}, s.broken(ctx, sel, step, []string{"out_row", "in_row"})
			}
		}
		if i > 0 && res.key() == prev.key() {
			return res, nil
		}
		prev = res
	}
	return chatRows{}, fmt.Errorf("%w: %s: the chat's rows kept changing", wasend.ErrTimeout, step)
}

// anyText reports whether the text of one of rows could be read.
func anyText(rows []rowInfo) bool {
	for _, r := range rows {
		if r.Text != nil {
			return true
		}
	}
	return false
}

// pageLocation returns the page's time zone: by name when the system knows
// it, else the page's current UTC offset.
func pageLocation(name string, offsetMinutes int) *time.Location {
	if name != "" {
		if loc, err := time.LoadLocation(name); err == nil {
			return loc
		}
	}
	return time.FixedZone("page", offsetMinutes*60)
}

var prePlain = regexp.MustCompile(`^\[\s*(\d{1,2}):(\d{2})(?::\d{2})?\s*([AaPp])?\.?\s*(?:[Mm]\.?)?\s*,\s*(\d{1,4})([/.-])(\d{1,2})[/.-](\d{1,4})\s*\]`)

// parsePrePlain reads the time of a row's data-pre-plain-text:
// "[10:15, 3/1/2026] Me: " (24-hour, month first), "[1:07 PM, 9/29/2026]"
// (12-hour), "[10:15, 01.03.2026]" (day first) or "[10:15, 2026-03-01]".
func parsePrePlain(s string, loc *time.Location) (time.Time, bool) {
	m := prePlain.FindStringSubmatch(s)
	if m == nil {
		return time.Time{}, false
	}
	hh, _ := strconv.Atoi(m[1])
	mm, _ := strconv.Atoi(m[2])
	a, _ := strconv.Atoi(m[4])
	b, _ := strconv.Atoi(m[6])
	c, _ := strconv.Atoi(m[7])
	switch strings.ToLower(m[3]) {
	case "a":
		if hh == 12 {
			hh = 0
		}
	case "p":
		if hh < 12 {
			hh += 12
		}
	}
	var y, mo, d int
	switch {
	case len(m[4]) == 4: // year first
		y, mo, d = a, b, c
	case m[5] == ".": // day first
		d, mo, y = a, b, c
	default: // month first
		mo, d, y = a, b, c
	}
	if y < 100 {
		y += 2000
	}
	if mo < 1 || mo > 12 || d < 1 || d > 31 || hh > 23 || mm > 59 {
		return time.Time{}, false
	}
	return time.Date(y, time.Month(mo), d, hh, mm, 0, 0, loc), true
}
