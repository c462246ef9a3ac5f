package storetest

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wasend/wasend"
)

var jobTests = []test{
	{"CreateSingle", testJobCreateSingle},
	{"CreateDefaults", testJobCreateDefaults},
	{"CreateWithStatus", testJobCreateWithStatus},
	{"CreateBulk500", testJobCreateBulk},
	{"Texts", testJobTexts},
	{"Metadata", testJobMetadata},
	{"MissingContext", testJobMissingContext},
	{"RefusingContext", testJobRefusingContext},
	{"NotFound", testJobNotFound},
	{"Filter", testJobFilter},
	{"FilterCreated", testJobFilterCreated},
	{"Paging", testJobPaging},
}

func testJobCreateSingle(t *testing.T, s *store) {
	bc := newContext(t, s, wasend.ContextAvailable)
	b := s.base()
	in := wasend.Job{
		ContextID:   bc.ID,
		Kind:        wasend.KindSingle,
		Delay:       1500 * time.Millisecond,
		Metadata:    map[string]any{"campaign": "spring", "n": 1.0},
		MaxAttempts: 5,
		NextRunAt:   b.Add(time.Minute),
		EnqueuedAt:  b.Add(-time.Second),
		Messages:    []wasend.Message{{To: "+34600000001", Text: "hola"}},
	}
	j := mustJob(t, s, in)
	if j.ID <= 0 {
		t.Fatalf("ID = %d, want > 0", j.ID)
	}
	s.checkSet(t, "CreatedAt", j.CreatedAt)
	want := wasend.Job{
		ID: j.ID, ContextID: bc.ID, Kind: wasend.KindSingle, Status: wasend.JobPending,
		Delay: in.Delay, Metadata: in.Metadata, MaxAttempts: 5,
		NextRunAt: in.NextRunAt, EnqueuedAt: in.EnqueuedAt,
		CreatedAt: j.CreatedAt, UpdatedAt: j.CreatedAt,
	}
	if len(j.Messages) != 1 {
		t.Fatalf("len(Messages) = %d, want 1", len(j.Messages))
	}
	m := j.Messages[0]
	if m.ID <= 0 {
		t.Fatalf("Messages[0].ID = %d, want > 0", m.ID)
	}
	s.checkSet(t, "Messages[0].UpdatedAt", m.UpdatedAt)
	want.Messages = []wasend.Message{{ID: m.ID, JobID: j.ID, Position: 0, To: "+34600000001", Text: "hola",
		Status: wasend.MessagePending, UpdatedAt: m.UpdatedAt}}
	checkJob(t, "CreateJob", j, want)
	checkJob(t, "Job after CreateJob", mustGetJob(t, s, j.ID), want)
}

func testJobCreateDefaults(t *testing.T, s *store) {
	bc := newContext(t, s, wasend.ContextAvailable)
	// The job's status is pending whatever the messages say, and each
	// message is pending.
	in := job(bc.ID, wasend.KindBulk, 2)
	in.Messages[1].Status = wasend.MessageSent
	j := mustJob(t, s, in)
	if j.Status != wasend.JobPending {
		t.Fatalf("Status = %q, want %q", j.Status, wasend.JobPending)
	}
	s.checkSet(t, "NextRunAt", j.NextRunAt)
	s.checkSet(t, "EnqueuedAt", j.EnqueuedAt)
	s.checkSet(t, "CreatedAt", j.CreatedAt)
	checkTime(t, "UpdatedAt", j.UpdatedAt, j.CreatedAt)
	checkTime(t, "StartedAt", j.StartedAt, time.Time{})
	checkTime(t, "FinishedAt", j.FinishedAt, time.Time{})
	if j.Attempts != 0 || j.Claim != "" || j.ErrorKind != "" || j.Error != "" {
		t.Fatalf("Attempts, Claim, ErrorKind, Error = %d, %q, %q, %q; want zero", j.Attempts, j.Claim, j.ErrorKind, j.Error)
	}
	for i, m := range j.Messages {
		if m.Status != wasend.MessagePending || m.Attempts != 0 || m.Position != i || m.JobID != j.ID {
			t.Fatalf("Messages[%d] = %+v, want pending, no attempts, position %d, job %d", i, m, i, j.ID)
		}
	}
	checkJob(t, "Job after CreateJob", mustGetJob(t, s, j.ID), j)
}

func testJobCreateWithStatus(t *testing.T, s *store) {
	bc := newContext(t, s, wasend.ContextAvailable)
	for _, st := range []wasend.JobStatus{wasend.JobPending, wasend.JobPaused} {
		in := job(bc.ID, wasend.KindSingle, 1)
		in.Status = st
		j := mustJob(t, s, in)
		if j.Status != st {
			t.Fatalf("CreateJob with status %q: Status = %q", st, j.Status)
		}
		checkJob(t, "Job after CreateJob", mustGetJob(t, s, j.ID), j)
	}
}

func testJobCreateBulk(t *testing.T, s *store) {
	bc := newContext(t, s, wasend.ContextAvailable)
	in := job(bc.ID, wasend.KindBulk, 500)
	in.Delay = 2 * time.Second
	j := mustJob(t, s, in)
	if len(j.Messages) != 500 {
		t.Fatalf("len(Messages) = %d, want 500", len(j.Messages))
	}
	seen := make(map[int64]bool)
	for i, m := range j.Messages {
		if m.Position != i || m.JobID != j.ID || m.To != in.Messages[i].To || m.Text != in.Messages[i].Text {
			t.Fatalf("Messages[%d] = position %d, job %d, to %q, text %q; want %d, %d, %q, %q",
				i, m.Position, m.JobID, m.To, m.Text, i, j.ID, in.Messages[i].To, in.Messages[i].Text)
		}
		if m.ID <= 0 || seen[m.ID] {
			t.Fatalf("Messages[%d].ID = %d: not positive or not unique", i, m.ID)
		}
		seen[m.ID] = true
	}
	checkJob(t, "Job after CreateJob", mustGetJob(t, s, j.ID), j)
}

// Texts returns, by name, the message bodies every store must keep byte for
// byte: scripts, emoji, markup, SQL, control characters, and texts of
// wasend.MaxTextLength characters. The map is new at each call.
func Texts() map[string]string {
	return map[string]string{
		"ascii":       "Hello, world!",
		"accents":     "Canción de ñandú: ¿qué tal? àéîõü ÀÉÎÕÜ ç",
		"emoji":       "👋🏽 Hola 😀🎉 👨‍👩‍👧‍👦 🏳️‍🌈 1️⃣",
		"rtl":         "مرحبا بالعالم \u200f שלום עולם \u202eevil\u202c",
		"cjk":         "你好，世界。こんにちは世界。안녕하세요 세계",
		"indic":       "नमस्ते दुनिया · வணக்கம் உலகம்",
		"combining":   "e\u0301 a\u0308 Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇",
		"html":        `<script>alert('x')</script> <b>bold</b> &amp; &lt; "quotes" <a href="https://example.com/?a=1&b=2">link</a>`,
		"sql":         `'); DROP TABLE send_messages_jobs; -- \' \" \\ % _ ? $1 :name @x`,
		"newlines":    "line 1\nline 2\r\nline 3\rline 4\n\n\ttabbed\v\f",
		"spaces":      "   leading and trailing   ",
		"one space":   " ",
		"controls":    "bell\a back\b esc\x1b del\x7f",
		"big 4-byte":  strings.Repeat("😀", wasend.MaxTextLength),
		"big mixed":   strings.Repeat("a😀ñ€", wasend.MaxTextLength/4),
		"surrogates?": "\U0001F600\U00010000\U0010FFFF\uFFFD\uFEFF",
	}
}

func testJobTexts(t *testing.T, s *store) {
	texts := Texts()
	bc := newContext(t, s, wasend.ContextAvailable)
	names := make([]string, 0, len(texts))
	for name := range texts {
		names = append(names, name)
	}
	slices.Sort(names)
	in := wasend.Job{ContextID: bc.ID, Kind: wasend.KindBulk}
	for i, name := range names {
		in.Messages = append(in.Messages, wasend.Message{To: fmt.Sprintf("+1555000%04d", i), Text: texts[name]})
	}
	j := mustJob(t, s, in)
	got := mustGetJob(t, s, j.ID)
	if len(got.Messages) != len(names) {
		t.Fatalf("len(Messages) = %d, want %d", len(got.Messages), len(names))
	}
	for i, name := range names {
		if got.Messages[i].Text != texts[name] {
			t.Errorf("text %q: got %d bytes, want %d bytes (first difference at byte %d)",
				name, len(got.Messages[i].Text), len(texts[name]), firstDiff(got.Messages[i].Text, texts[name]))
		}
		if j.Messages[i].Text != texts[name] {
			t.Errorf("text %q: CreateJob returned %d bytes, want %d", name, len(j.Messages[i].Text), len(texts[name]))
		}
	}
	// Each text alone in a single job, too.
	for _, name := range names {
		sj := mustJob(t, s, wasend.Job{ContextID: bc.ID, Kind: wasend.KindSingle,
			Messages: []wasend.Message{{To: "+15550000000", Text: texts[name]}}})
		if got := mustGetJob(t, s, sj.ID).Messages[0].Text; got != texts[name] {
			t.Errorf("single job, text %q: got %d bytes, want %d", name, len(got), len(texts[name]))
		}
	}
}

func testJobMetadata(t *testing.T, s *store) {
	bc := newContext(t, s, wasend.ContextAvailable)
	cases := []struct {
		name string
		in   map[string]any
	}{
		{"nil", nil},
		{"empty", map[string]any{}},
		{"scalars", map[string]any{"s": "text", "f": 1.5, "i": 42.0, "neg": -7.0, "big": 9007199254740992.0, "t": true, "f2": false, "null": nil}},
		{"nested", map[string]any{"a": map[string]any{"b": []any{1.0, "two", map[string]any{"c": nil}}}, "list": []any{}}},
		{"unicode", map[string]any{"ключ": "значение 😀", "html": "<b>&amp;</b>", "quote": `"'\`, "nl": "a\nb"}},
		// Every store takes metadata nested wasend.MaxMetadataDepth deep.
		{"deepest maps", nested(wasend.MaxMetadataDepth, false)},
		{"deepest maps and lists", nested(wasend.MaxMetadataDepth, true)},
	}
	for _, c := range cases {
		in := job(bc.ID, wasend.KindSingle, 1)
		in.Metadata = c.in
		j := mustJob(t, s, in)
		got := mustGetJob(t, s, j.ID)
		if len(c.in) == 0 {
			if len(got.Metadata) != 0 || len(j.Metadata) != 0 {
				t.Fatalf("%s: Metadata = %#v (CreateJob %#v), want empty", c.name, got.Metadata, j.Metadata)
			}
			continue
		}
		if !reflect.DeepEqual(got.Metadata, c.in) {
			t.Fatalf("%s: Metadata = %#v, want %#v", c.name, got.Metadata, c.in)
		}
		if !reflect.DeepEqual(j.Metadata, c.in) {
			t.Fatalf("%s: CreateJob returned Metadata %#v, want %#v", c.name, j.Metadata, c.in)
		}
	}
	// Jobs returns the metadata too.
	list, err := s.Jobs(t.Context(), wasend.JobFilter{})
	if err != nil {
		t.Fatalf("Jobs: %v", err)
	}
	for i, c := range cases {
		if len(c.in) > 0 && !reflect.DeepEqual(list[i].Metadata, c.in) {
			t.Fatalf("%s: Jobs()[%d].Metadata = %#v, want %#v", c.name, i, list[i].Metadata, c.in)
		}
	}
}

// nested returns metadata nested depth deep (a flat map is depth 1): maps
// in maps, or maps and lists in turn.
func nested(depth int, lists bool) map[string]any {
	var v any = "leaf"
	for d := depth; d > 1; d-- {
		if lists && d%2 == 0 {
			v = []any{v, 1.0}
		} else {
			v = map[string]any{fmt.Sprintf("level%d", d): v}
		}
	}
	return map[string]any{"level1": v, "n": 1.0}
}

func testJobMissingContext(t *testing.T, s *store) {
	_, err := s.CreateJob(t.Context(), job(missingID, wasend.KindBulk, 3))
	checkErrorIs(t, "CreateJob for a missing context", err, wasend.ErrContextNotFound)
	list, err := s.Jobs(t.Context(), wasend.JobFilter{})
	if err != nil {
		t.Fatalf("Jobs: %v", err)
	}
	if len(list) != 0 {
		t.Fatalf("Jobs after a failed CreateJob = %v, want none", ids(list))
	}
	c, err := s.Counts(t.Context())
	if err != nil {
		t.Fatalf("Counts: %v", err)
	}
	if n := total(c); n != 0 {
		t.Fatalf("Counts after a failed CreateJob = %+v, want nothing", c)
	}
}

func testJobRefusingContext(t *testing.T, s *store) {
	for _, st := range []wasend.ContextStatus{wasend.ContextError, wasend.ContextClosed} {
		bc := newContext(t, s, st)
		for _, n := range []int{1, 3} {
			_, err := s.CreateJob(t.Context(), job(bc.ID, wasend.KindBulk, n))
			checkErrorIs(t, fmt.Sprintf("CreateJob for a context in %s", st), err, wasend.ErrContextNotAvailable)
			if st == wasend.ContextClosed {
				checkErrorIs(t, "CreateJob for a closed context", err, wasend.ErrContextClosed)
			}
		}
	}
	for _, st := range []wasend.ContextStatus{wasend.ContextAvailable, wasend.ContextBusy, wasend.ContextDisconnected} {
		bc := newContext(t, s, st)
		mustJob(t, s, job(bc.ID, wasend.KindSingle, 1))
	}
	list, err := s.Jobs(t.Context(), wasend.JobFilter{})
	if err != nil {
		t.Fatalf("Jobs: %v", err)
	}
	if len(list) != 3 {
		t.Fatalf("Jobs = %v, want the 3 jobs of the contexts that take jobs", ids(list))
	}
}

func total(c wasend.StoreCounts) int64 {
	var n int64
	for _, x := range c.Jobs {
		n += x.N
	}
	for _, x := range c.Messages {
		n += x.N
	}
	return n
}

func testJobNotFound(t *testing.T, s *store) {
	_, err := s.Job(t.Context(), missingID)
	checkErrorIs(t, "Job of a missing id", err, wasend.ErrJobNotFound)
}

func testJobFilter(t *testing.T, s *store) {
	b := s.base()
	ca := newContext(t, s, wasend.ContextAvailable)
	cb := newContext(t, s, wasend.ContextAvailable)
	mk := func(c wasend.BrowserContext, kind wasend.JobKind, st wasend.JobStatus, next, enq time.Time) wasend.Job {
		in := job(c.ID, kind, 2)
		in.Status, in.NextRunAt, in.EnqueuedAt = st, next, enq
		return mustJob(t, s, in)
	}
	j1 := mk(ca, wasend.KindSingle, wasend.JobPending, b.Add(-time.Hour), b.Add(-time.Hour))
	j2 := mk(ca, wasend.KindBulk, wasend.JobPending, b.Add(time.Hour), b)
	j3 := mk(cb, wasend.KindSingle, wasend.JobPaused, b, b.Add(-2*time.Hour))
	j4 := mk(cb, wasend.KindBulk, wasend.JobPending, b.Add(2*time.Hour), b.Add(time.Minute))
	j5 := mk(ca, wasend.KindSingle, wasend.JobPending, b.Add(-2*time.Hour), b.Add(-time.Minute))
	// j4 runs, and j5 completes, in the past: their updated_at is old.
	wantApply(t, s, wasend.Step{Job: &wasend.JobTransition{ID: j4.ID, From: []wasend.JobStatus{wasend.JobPending},
		To: wasend.JobRunning, Claim: "w", At: b.Add(-3 * time.Hour)}}, true)
	wantApply(t, s, wasend.Step{Job: &wasend.JobTransition{ID: j5.ID, From: []wasend.JobStatus{wasend.JobPending},
		To: wasend.JobCompleted, At: b.Add(-2 * time.Hour)}}, true)
	all := []int64{j1.ID, j2.ID, j3.ID, j4.ID, j5.ID}

	cases := []struct {
		name string
		f    wasend.JobFilter
		want []int64
	}{
		{"none", wasend.JobFilter{}, all},
		{"context a", wasend.JobFilter{ContextID: ca.ID}, []int64{j1.ID, j2.ID, j5.ID}},
		{"context b", wasend.JobFilter{ContextID: cb.ID}, []int64{j3.ID, j4.ID}},
		{"missing context", wasend.JobFilter{ContextID: missingID}, nil},
		{"pending", wasend.JobFilter{Statuses: []wasend.JobStatus{wasend.JobPending}}, []int64{j1.ID, j2.ID}},
		{"paused or running", wasend.JobFilter{Statuses: []wasend.JobStatus{wasend.JobPaused, wasend.JobRunning}}, []int64{j3.ID, j4.ID}},
		{"completed", wasend.JobFilter{Statuses: []wasend.JobStatus{wasend.JobCompleted}}, []int64{j5.ID}},
		{"failed", wasend.JobFilter{Statuses: []wasend.JobStatus{wasend.JobFailed}}, nil},
		{"single", wasend.JobFilter{Kind: wasend.KindSingle}, []int64{j1.ID, j3.ID, j5.ID}},
		{"bulk", wasend.JobFilter{Kind: wasend.KindBulk}, []int64{j2.ID, j4.ID}},
		{"next run at or before (inclusive)", wasend.JobFilter{NextRunBefore: b}, []int64{j1.ID, j3.ID, j5.ID}},
		{"next run before, just under", wasend.JobFilter{NextRunBefore: b.Add(-time.Millisecond)}, []int64{j1.ID, j5.ID}},
		{"enqueued before (exclusive)", wasend.JobFilter{EnqueuedBefore: b}, []int64{j1.ID, j3.ID, j5.ID}},
		{"enqueued before, just over", wasend.JobFilter{EnqueuedBefore: b.Add(time.Millisecond)}, []int64{j1.ID, j2.ID, j3.ID, j5.ID}},
		{"updated before", wasend.JobFilter{UpdatedBefore: b.Add(-time.Hour)}, []int64{j4.ID, j5.ID}},
		{"updated before (exclusive)", wasend.JobFilter{UpdatedBefore: b.Add(-2 * time.Hour)}, []int64{j4.ID}},
		{"after id", wasend.JobFilter{AfterID: j2.ID}, []int64{j3.ID, j4.ID, j5.ID}},
		{"after the last id", wasend.JobFilter{AfterID: j5.ID}, nil},
		{"limit", wasend.JobFilter{Limit: 2}, []int64{j1.ID, j2.ID}},
		{"after id and limit", wasend.JobFilter{AfterID: j1.ID, Limit: 2}, []int64{j2.ID, j3.ID}},
		{"all together", wasend.JobFilter{ContextID: ca.ID, Statuses: []wasend.JobStatus{wasend.JobPending, wasend.JobCompleted},
			Kind: wasend.KindSingle, NextRunBefore: b, EnqueuedBefore: b, AfterID: j1.ID - 1, Limit: 1}, []int64{j1.ID}},
		{"a sweep", wasend.JobFilter{Statuses: []wasend.JobStatus{wasend.JobPending}, NextRunBefore: b, EnqueuedBefore: b.Add(-30 * time.Minute)}, []int64{j1.ID}},
		{"before id", wasend.JobFilter{BeforeID: j3.ID}, []int64{j1.ID, j2.ID}},
		{"between ids", wasend.JobFilter{AfterID: j1.ID, BeforeID: j4.ID}, []int64{j2.ID, j3.ID}},
		{"newest first", wasend.JobFilter{Newest: true}, []int64{j5.ID, j4.ID, j3.ID, j2.ID, j1.ID}},
		{"newest first, a page", wasend.JobFilter{Newest: true, BeforeID: j5.ID, Limit: 2}, []int64{j4.ID, j3.ID}},
		{"newest first, filtered", wasend.JobFilter{Newest: true, ContextID: ca.ID, Kind: wasend.KindSingle}, []int64{j5.ID, j1.ID}},
		{"no campaign's jobs", wasend.JobFilter{CampaignID: missingID}, nil},
		{"created after the last", wasend.JobFilter{CreatedAfter: j5.CreatedAt.Add(time.Hour)}, nil},
		{"created before the first", wasend.JobFilter{CreatedBefore: j1.CreatedAt}, nil},
	}
	for _, c := range cases {
		list, err := s.Jobs(t.Context(), c.f)
		if err != nil {
			t.Fatalf("%s: Jobs(%+v): %v", c.name, c.f, err)
		}
		if got := ids(list); !slices.Equal(got, c.want) && !(len(got) == 0 && len(c.want) == 0) {
			t.Fatalf("%s: Jobs(%+v) = %v, want %v", c.name, c.f, got, c.want)
		}
		for _, j := range list {
			if j.Messages != nil {
				t.Fatalf("%s: Jobs returned job %d with %d messages, want none", c.name, j.ID, len(j.Messages))
			}
			full := mustGetJob(t, s, j.ID)
			full.Messages = nil
			checkJob(t, c.name+": Jobs against Job", j, full)
		}
	}
}

// testJobFilterCreated checks the bounds on created_at against the times
// the store stamped.
func testJobFilterCreated(t *testing.T, s *store) {
	bc := newContext(t, s, wasend.ContextAvailable)
	var jobs []wasend.Job
	for range 4 {
		jobs = append(jobs, mustJob(t, s, job(bc.ID, wasend.KindSingle, 1)))
		time.Sleep(3 * time.Millisecond)
	}
	for _, bound := range jobs {
		var after, before []int64
		for _, j := range jobs {
			if !j.CreatedAt.Before(bound.CreatedAt) {
				after = append(after, j.ID)
			} else {
				before = append(before, j.ID)
			}
		}
		for _, c := range []struct {
			f    wasend.JobFilter
			want []int64
		}{
			{wasend.JobFilter{CreatedAfter: bound.CreatedAt}, after},
			{wasend.JobFilter{CreatedBefore: bound.CreatedAt}, before},
			{wasend.JobFilter{CreatedAfter: bound.CreatedAt, CreatedBefore: bound.CreatedAt.Add(time.Microsecond)}, nil},
		} {
			list, err := s.Jobs(t.Context(), c.f)
			if err != nil {
				t.Fatalf("Jobs(%+v): %v", c.f, err)
			}
			got := ids(list)
			if c.f.CreatedBefore.Equal(bound.CreatedAt.Add(time.Microsecond)) {
				// Created at exactly the bound: at least the bound's job.
				if !slices.Contains(got, bound.ID) {
					t.Fatalf("Jobs(%+v) = %v, want it to hold job %d", c.f, got, bound.ID)
				}
				continue
			}
			if !slices.Equal(got, c.want) && !(len(got) == 0 && len(c.want) == 0) {
				t.Fatalf("Jobs(%+v) = %v, want %v (created at %v)", c.f, got, c.want, bound.CreatedAt)
			}
		}
	}
}

func testJobPaging(t *testing.T, s *store) {
	bc := newContext(t, s, wasend.ContextAvailable)
	const n = wasend.DefaultJobsLimit + 5
	var want []int64
	for range n {
		want = append(want, mustJob(t, s, job(bc.ID, wasend.KindSingle, 1)).ID)
	}
	list, err := s.Jobs(t.Context(), wasend.JobFilter{})
	if err != nil {
		t.Fatalf("Jobs: %v", err)
	}
	if got := ids(list); !slices.Equal(got, want[:wasend.DefaultJobsLimit]) {
		t.Fatalf("Jobs with no limit = %d jobs %v, want the first %d", len(got), got, wasend.DefaultJobsLimit)
	}
	var got []int64
	var after int64
	for pages := 0; ; pages++ {
		if pages > n {
			t.Fatalf("paging does not end")
		}
		list, err := s.Jobs(t.Context(), wasend.JobFilter{AfterID: after, Limit: 30})
		if err != nil {
			t.Fatalf("Jobs: %v", err)
		}
		if len(list) > 30 {
			t.Fatalf("Jobs with limit 30 = %d jobs", len(list))
		}
		if len(list) == 0 {
			break
		}
		got = append(got, ids(list)...)
		after = list[len(list)-1].ID
	}
	if !slices.Equal(got, want) {
		t.Fatalf("paged Jobs = %v, want %v", got, want)
	}
}
