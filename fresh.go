package wasend

import (
	"encoding/json"
	"sync"
)

// freshJobs keeps the single jobs that this process's Send has just
// recorded, as the store returned them, so that their first delivery
// starts without reading them back: one statement a message less. It
// never decides anything the store has not: a job taken from it is the
// job at version 1, and every step the executor applies to it is
// conditional on that version (the claim's IfVersion), so a job that
// changed since (cancelled, paused, moved, run by a duplicate delivery)
// is found changed by its claim, exactly as one read just before the
// change would be. Each job is given out once; later deliveries read the
// store.
//
// It is bounded: at most freshJobsCap jobs and freshBytesMax bytes (a
// job counted as its text, its number, its metadata's JSON and
// freshOverhead), the oldest dropped first, and only jobs of at most
// freshTextMax bytes of text without media. A job whose delivery goes to
// another process (the context moved), or never comes, is dropped as
// newer ones come in.
type freshJobs struct {
	mu    sync.Mutex
	jobs  map[int64]freshJob
	order []int64 // the ids in the order they came in, from head; some taken already
	head  int
	bytes int
}

type freshJob struct {
	job  Job
	size int
}

const (
	// freshJobsCap is how many jobs freshJobs holds at most.
	freshJobsCap = 1 << 15
	// freshBytesMax is how many bytes of jobs it holds at most.
	freshBytesMax = 32 << 20
	// freshTextMax is the longest text, in bytes, of a job it holds.
	freshTextMax = 1024
	// freshOverhead is what a job costs beyond its text, number and
	// metadata: the Job and Message structs, the map's entry.
	freshOverhead = 512
)

// put keeps a job that CreateJob has just recorded, if it qualifies: a
// pending single job at version 1 with one pending text message. The job
// is copied, its metadata through JSON (as the store would give it back),
// so that the caller may change what Send returned.
func (f *freshJobs) put(j Job) {
	if j.Kind != KindSingle || j.Status != JobPending || j.Version != 1 || j.ID <= 0 || len(j.Messages) != 1 {
		return
	}
	m := j.Messages[0]
	if m.Status != MessagePending || m.ID <= 0 || m.Media != nil || len(m.Text) > freshTextMax {
		return
	}
	size := freshOverhead + len(m.Text) + len(m.To) + len(j.IdempotencyKey)
	if j.Metadata != nil {
		b, err := json.Marshal(j.Metadata)
		if err != nil {
			return
		}
		var md map[string]any
		if err := json.Unmarshal(b, &md); err != nil {
			return
		}
		j.Metadata = md
		size += 2 * len(b)
	}
	j.Messages = []Message{m}
	j.Events, j.Unsuppressed = nil, nil
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.jobs == nil {
		f.jobs = make(map[int64]freshJob)
	}
	if _, ok := f.jobs[j.ID]; ok {
		return
	}
	f.jobs[j.ID] = freshJob{job: j, size: size}
	f.order = append(f.order, j.ID)
	f.bytes += size
	// Drop the oldest while over a bound; the order list itself is kept
	// within twice the cap, whatever was taken out of order.
	for len(f.jobs) > freshJobsCap || f.bytes > freshBytesMax || len(f.order)-f.head > 2*freshJobsCap {
		f.drop(f.order[f.head])
		f.head++
	}
	for f.head < len(f.order) {
		if _, ok := f.jobs[f.order[f.head]]; ok {
			break
		}
		f.head++ // taken already
	}
	if f.head > 1024 && f.head > len(f.order)/2 {
		f.order = append([]int64(nil), f.order[f.head:]...)
		f.head = 0
	}
}

// drop forgets a job, if it holds it. f.mu is held.
func (f *freshJobs) drop(id int64) (Job, bool) {
	e, ok := f.jobs[id]
	if ok {
		delete(f.jobs, id)
		f.bytes -= e.size
	}
	return e.job, ok
}

// take returns the job with this id, once, if it holds it.
func (f *freshJobs) take(id int64) (Job, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.drop(id)
}

// len returns how many jobs, and how many bytes, it holds.
func (f *freshJobs) len() (int, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.jobs), f.bytes
}
