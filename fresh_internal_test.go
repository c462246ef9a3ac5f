package wasend

import (
	"strings"
	"testing"
)

func newFresh(id int64, text string) Job {
	return Job{ID: id, ContextID: 1, Kind: KindSingle, Status: JobPending, Version: 1,
		Messages: []Message{{ID: id * 10, JobID: id, To: "+34600000001", Text: text, Status: MessagePending}}}
}

func TestFreshJobsGivesEachJobOnce(t *testing.T) {
	var f freshJobs
	f.put(newFresh(1, "hola"))
	j, ok := f.take(1)
	if !ok || j.ID != 1 || j.Messages[0].Text != "hola" {
		t.Fatalf("take(1) = %+v, %v; want job 1", j, ok)
	}
	if _, ok := f.take(1); ok {
		t.Fatal("take(1) gave job 1 twice")
	}
	if _, ok := f.take(2); ok {
		t.Fatal("take(2) gave a job never put")
	}
}

func TestFreshJobsKeepsOnlyNewSingleTextJobs(t *testing.T) {
	var f freshJobs
	bulk := newFresh(1, "a")
	bulk.Kind = KindBulk
	changed := newFresh(2, "a")
	changed.Version = 2
	noVersion := newFresh(3, "a")
	noVersion.Version = 0
	long := newFresh(4, strings.Repeat("a", freshTextMax+1))
	media := newFresh(5, "")
	media.Messages[0].Media = &Media{Kind: MediaImage, Path: "/tmp/x.png"}
	done := newFresh(6, "a")
	done.Status = JobCompleted
	two := newFresh(7, "a")
	two.Messages = append(two.Messages, two.Messages[0])
	sending := newFresh(8, "a")
	sending.Messages[0].Status = MessageSending
	for _, j := range []Job{bulk, changed, noVersion, long, media, done, two, sending} {
		f.put(j)
		if _, ok := f.take(j.ID); ok {
			t.Errorf("job %d (%+v) was kept; want it read from the store", j.ID, j)
		}
	}
	f.put(newFresh(9, strings.Repeat("a", freshTextMax)))
	if _, ok := f.take(9); !ok {
		t.Error("a text of freshTextMax bytes was not kept")
	}
}

func TestFreshJobsIsBounded(t *testing.T) {
	var f freshJobs
	for id := int64(1); id <= freshJobsCap+10; id++ {
		f.put(newFresh(id, ""))
	}
	if n, _ := f.len(); n != freshJobsCap {
		t.Fatalf("holds %d jobs, want %d", n, freshJobsCap)
	}
	for id := int64(1); id <= 10; id++ {
		if _, ok := f.take(id); ok {
			t.Fatalf("job %d, among the oldest, is still held", id)
		}
	}
	if _, ok := f.take(freshJobsCap + 10); !ok {
		t.Fatal("the newest job is not held")
	}
	// Bytes bound it too: jobs of a full text fill freshBytesMax first.
	var g freshJobs
	big := strings.Repeat("a", freshTextMax)
	for id := int64(1); id <= freshJobsCap; id++ {
		g.put(newFresh(id, big))
	}
	n, bytes := g.len()
	if bytes > freshBytesMax || n >= freshJobsCap || n < freshBytesMax/(freshOverhead+freshTextMax+20) {
		t.Fatalf("holds %d jobs of %d bytes of text in %d bytes; want at most %d bytes, nearly full", n, freshTextMax, bytes, freshBytesMax)
	}
	if _, ok := g.take(freshJobsCap); !ok {
		t.Fatal("the newest job is not held")
	}
}

// Jobs taken out of order (deliveries to other processes leave some
// behind) leave neither the map nor the order list growing.
func TestFreshJobsTakenOutOfOrderStayBounded(t *testing.T) {
	var f freshJobs
	f.put(newFresh(1, "never taken"))
	for id := int64(2); id <= 5*freshJobsCap; id++ {
		f.put(newFresh(id, "a"))
		f.take(id)
	}
	if n, bytes := f.len(); n > 1 || bytes > freshOverhead+64 {
		t.Fatalf("holds %d jobs in %d bytes after every one but the first was taken, want at most 1", n, bytes)
	}
	if len(f.order)-f.head > 2*freshJobsCap || cap(f.order) > 8*freshJobsCap {
		t.Fatalf("order holds %d ids (capacity %d), want at most %d", len(f.order)-f.head, cap(f.order), 2*freshJobsCap)
	}
	for id := int64(2); id <= 5*freshJobsCap; id++ {
		f.put(newFresh(id, "a")) // put twice: kept once
	}
	if n, bytes := f.len(); n != freshJobsCap || bytes != n*(freshOverhead+1+len("+34600000001")) {
		t.Fatalf("holds %d jobs in %d bytes, want %d", n, bytes, freshJobsCap)
	}
}

func TestFreshJobsCopiesWhatTheCallerHolds(t *testing.T) {
	var f freshJobs
	j := newFresh(1, "hola")
	j.Metadata = map[string]any{"n": 1, "tags": []any{"a"}}
	j.Events = []Event{{Topic: TopicJobCreated}}
	f.put(j)
	j.Metadata["n"] = 2
	j.Messages[0].Text = "changed"
	got, ok := f.take(1)
	if !ok {
		t.Fatal("job 1 not kept")
	}
	if got.Metadata["n"] != 1.0 {
		t.Errorf("Metadata[n] = %#v, want 1.0 (as the store reads JSON back), unchanged by the caller", got.Metadata["n"])
	}
	if got.Messages[0].Text != "hola" {
		t.Errorf("Text = %q, want %q: the caller's change reached the kept job", got.Messages[0].Text, "hola")
	}
	if got.Events != nil {
		t.Errorf("Events = %v, want none: they are on the way in only", got.Events)
	}
}
