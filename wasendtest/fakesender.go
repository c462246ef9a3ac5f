package wasendtest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/wasend/wasend"
)

// FakeSender is a wasend.Sender that sends nothing: it records every call,
// keeps the jobs and contexts it made so that later calls find them, and
// returns the errors it is told to (Fail). It is for hosts whose code
// depends on the wasend.Sender interface and that want to check what their
// code asked for, or how it handles an error, without running a Client.
// For a test that sends through a real Client, use NewClient.
//
// Send and SendBulk check the numbers (wasend.NormalizePhone) and reject
// empty text as the Client does; they do not check that the browser
// context exists, and ignore the options (a SendOption cannot be read from
// outside package wasend: Call.Options counts them). Jobs stay pending
// unless the test changes them with SetJob.
//
// It is safe for concurrent use.
type FakeSender struct {
	mu       sync.Mutex
	calls    []Call
	fail     map[string]error
	jobs     map[int64]wasend.Job
	contexts map[int64]wasend.BrowserContext
	nextJob  int64
	nextMsg  int64
	nextCtx  int64
	closed   bool
	closedCh chan struct{}
}

var _ wasend.Sender = (*FakeSender)(nil)

// Call is one call of a FakeSender method, with its arguments. Only the
// fields of the method's arguments are set.
type Call struct {
	// Method is the method's name: "Send", "SendBulk", "Job", ...
	Method string
	// ContextID is the browser context of Send, SendBulk, OpenContext,
	// CloseContext, Context and RequestPairingCode.
	ContextID int64
	// JobID is the job of Job, Cancel, Pause and Resume.
	JobID int64
	// To and Text are Send's; To is as given, not normalized.
	To, Text string
	// Messages are SendBulk's.
	Messages []wasend.BulkMessage
	// Phone is RequestPairingCode's.
	Phone string
	// OlderThan is Clean's.
	OlderThan time.Duration
	// Options counts the SendOptions of Send and SendBulk.
	Options int
}

// senderMethods are the methods of wasend.Sender, for Fail.
var senderMethods = []string{"Send", "SendBulk", "Job", "Cancel", "Pause", "Resume", "Stats", "Clean",
	"CreateContext", "UpdateContext", "OpenContext", "CloseContext", "Context", "Contexts", "RequestPairingCode", "Run", "Close"}

// NewFakeSender returns a FakeSender with no job and no context.
func NewFakeSender() *FakeSender {
	return &FakeSender{fail: map[string]error{}, jobs: map[int64]wasend.Job{},
		contexts: map[int64]wasend.BrowserContext{}, closedCh: make(chan struct{})}
}

// Fail makes every later call of the method (named as in wasend.Sender:
// "Send", "Cancel", ...) return err, after it is recorded; a nil err
// restores the method. It panics on a name that is not a method of
// wasend.Sender.
func (f *FakeSender) Fail(method string, err error) {
	if !slices.Contains(senderMethods, method) {
		panic(fmt.Sprintf("wasendtest: FakeSender.Fail: %q is not a method of wasend.Sender", method))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err == nil {
		delete(f.fail, method)
		return
	}
	f.fail[method] = err
}

// Calls returns the calls made so far, in order.
func (f *FakeSender) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// CallsOf returns the calls of one method, in order.
func (f *FakeSender) CallsOf(method string) []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Call
	for _, c := range f.calls {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// SetJob stores j, replacing the job with its id: what Job and the job
// controls see next. A test uses it to play a job that finished.
func (f *FakeSender) SetJob(j wasend.Job) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.jobs[j.ID] = j
	f.nextJob = max(f.nextJob, j.ID)
}

// record records c, and returns the error the method is told to return,
// or wasend.ErrClosed after Close. The caller holds f.mu.
func (f *FakeSender) record(c Call) error {
	f.calls = append(f.calls, c)
	if err := f.fail[c.Method]; err != nil {
		return err
	}
	if f.closed && c.Method != "Close" {
		return wasend.ErrClosed
	}
	return nil
}

func checkMessage(index int, to, text string) (string, error) {
	phone, err := wasend.NormalizePhone(to)
	if err != nil {
		return "", &wasend.ValidationError{Index: index, Field: "to", Err: err}
	}
	if strings.TrimFunc(text, unicode.IsSpace) == "" {
		return "", &wasend.ValidationError{Index: index, Field: "text", Err: wasend.ErrEmptyText}
	}
	return phone, nil
}

// newJob stores a pending job with its messages. The caller holds f.mu.
func (f *FakeSender) newJob(contextID int64, kind wasend.JobKind, msgs []wasend.BulkMessage) wasend.Job {
	f.nextJob++
	now := time.Now().UTC()
	j := wasend.Job{ID: f.nextJob, ContextID: contextID, Kind: kind, Status: wasend.JobPending, Version: 1,
		NextRunAt: now, EnqueuedAt: now, CreatedAt: now, UpdatedAt: now}
	for i, m := range msgs {
		f.nextMsg++
		j.Messages = append(j.Messages, wasend.Message{ID: f.nextMsg, JobID: j.ID, Position: i, To: m.To,
			Text: m.Text, Media: cloneMedia(m.Media), Status: wasend.MessagePending, UpdatedAt: now})
	}
	f.jobs[j.ID] = j
	return copyJob(j)
}

func copyJob(j wasend.Job) wasend.Job {
	j.Messages = slices.Clone(j.Messages)
	for i := range j.Messages {
		j.Messages[i].Media = cloneMedia(j.Messages[i].Media)
	}
	return j
}

// Send implements wasend.Sender: it records the call and returns a new
// pending job.
func (f *FakeSender) Send(ctx context.Context, contextID int64, to, text string, opts ...wasend.SendOption) (wasend.Job, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record(Call{Method: "Send", ContextID: contextID, To: to, Text: text, Options: len(opts)}); err != nil {
		return wasend.Job{}, err
	}
	phone, err := checkMessage(-1, to, text)
	if err != nil {
		return wasend.Job{}, err
	}
	return f.newJob(contextID, wasend.KindSingle, []wasend.BulkMessage{{To: phone, Text: text}}), nil
}

// SendBulk implements wasend.Sender: it records the call and returns a new
// pending bulk job.
func (f *FakeSender) SendBulk(ctx context.Context, contextID int64, messages []wasend.BulkMessage, opts ...wasend.SendOption) (wasend.Job, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record(Call{Method: "SendBulk", ContextID: contextID, Messages: slices.Clone(messages), Options: len(opts)}); err != nil {
		return wasend.Job{}, err
	}
	if len(messages) == 0 {
		return wasend.Job{}, &wasend.ValidationError{Index: -1, Field: "messages", Err: wasend.ErrNoMessages}
	}
	msgs := make([]wasend.BulkMessage, len(messages))
	for i, m := range messages {
		text := m.Text
		if m.Media != nil && text == "" {
			text = "(media)" // a media message's caption may be empty; the fake checks no file
		}
		phone, err := checkMessage(i, m.To, text)
		if err != nil {
			return wasend.Job{}, err
		}
		msgs[i] = wasend.BulkMessage{To: phone, Text: m.Text, Media: cloneMedia(m.Media)}
	}
	return f.newJob(contextID, wasend.KindBulk, msgs), nil
}

// Job implements wasend.Sender.
func (f *FakeSender) Job(ctx context.Context, id int64) (wasend.Job, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record(Call{Method: "Job", JobID: id}); err != nil {
		return wasend.Job{}, err
	}
	j, ok := f.jobs[id]
	if !ok {
		return wasend.Job{}, fmt.Errorf("%w: %d", wasend.ErrJobNotFound, id)
	}
	return copyJob(j), nil
}

// control records a job control and applies change to the job, which
// reports the job's new status or an error.
func (f *FakeSender) control(method string, id int64, change func(j *wasend.Job) error) (wasend.Job, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record(Call{Method: method, JobID: id}); err != nil {
		return wasend.Job{}, err
	}
	j, ok := f.jobs[id]
	if !ok {
		return wasend.Job{}, fmt.Errorf("%w: %d", wasend.ErrJobNotFound, id)
	}
	if j.Status.Final() {
		return copyJob(j), fmt.Errorf("%w: job %d is %s", wasend.ErrJobFinished, id, j.Status)
	}
	j = copyJob(j)
	if err := change(&j); err != nil {
		return copyJob(f.jobs[id]), err
	}
	j.Version++
	j.UpdatedAt = time.Now().UTC()
	f.jobs[id] = j
	return copyJob(j), nil
}

// Cancel implements wasend.Sender: the job and its unsent messages become
// cancelled.
func (f *FakeSender) Cancel(ctx context.Context, id int64) (wasend.Job, error) {
	return f.control("Cancel", id, func(j *wasend.Job) error {
		j.Status = wasend.JobCancelled
		j.FinishedAt = time.Now().UTC()
		for i := range j.Messages {
			if !j.Messages[i].Status.Final() {
				j.Messages[i].Status = wasend.MessageCancelled
			}
		}
		return nil
	})
}

// Pause implements wasend.Sender: a pending or running job becomes paused.
func (f *FakeSender) Pause(ctx context.Context, id int64) (wasend.Job, error) {
	return f.control("Pause", id, func(j *wasend.Job) error {
		if j.Status != wasend.JobPending && j.Status != wasend.JobRunning {
			return fmt.Errorf("%w: job %d is %s", wasend.ErrJobState, j.ID, j.Status)
		}
		j.Status = wasend.JobPaused
		return nil
	})
}

// Resume implements wasend.Sender: a paused job becomes pending.
func (f *FakeSender) Resume(ctx context.Context, id int64) (wasend.Job, error) {
	return f.control("Resume", id, func(j *wasend.Job) error {
		if j.Status != wasend.JobPaused {
			return fmt.Errorf("%w: job %d is %s", wasend.ErrJobState, j.ID, j.Status)
		}
		j.Status = wasend.JobPending
		return nil
	})
}

// Stats implements wasend.Sender: it counts the fake's jobs, messages and
// contexts. The queue's counters are zero.
func (f *FakeSender) Stats(ctx context.Context) (wasend.Stats, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record(Call{Method: "Stats"}); err != nil {
		return wasend.Stats{}, err
	}
	st := wasend.Stats{Jobs: map[wasend.JobKind]map[wasend.JobStatus]int64{}, Messages: zeroMessages()}
	for _, k := range wasend.JobKinds() {
		st.Jobs[k] = zeroJobs()
	}
	per := map[int64]*wasend.ContextStats{}
	ids := make([]int64, 0, len(f.contexts))
	for id, bc := range f.contexts {
		per[id] = &wasend.ContextStats{ID: id, Status: bc.Status, MemoryPSS: -1, Jobs: zeroJobs(), Messages: zeroMessages()}
		ids = append(ids, id)
	}
	for _, j := range f.jobs {
		st.Jobs[j.Kind][j.Status]++
		cs := per[j.ContextID]
		if cs != nil {
			cs.Jobs[j.Status]++
		}
		for _, m := range j.Messages {
			st.Messages[m.Status]++
			if cs != nil {
				cs.Messages[m.Status]++
			}
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		st.Contexts = append(st.Contexts, *per[id])
	}
	return st, nil
}

func zeroJobs() map[wasend.JobStatus]int64 {
	m := map[wasend.JobStatus]int64{}
	for _, s := range wasend.JobStatuses() {
		m[s] = 0
	}
	return m
}

func zeroMessages() map[wasend.MessageStatus]int64 {
	m := map[wasend.MessageStatus]int64{}
	for _, s := range wasend.MessageStatuses() {
		m[s] = 0
	}
	return m
}

// Clean implements wasend.Sender: it deletes the finished jobs last
// changed more than olderThan ago.
func (f *FakeSender) Clean(ctx context.Context, olderThan time.Duration) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record(Call{Method: "Clean", OlderThan: olderThan}); err != nil {
		return 0, err
	}
	before := time.Now().Add(-olderThan)
	var n int64
	for id, j := range f.jobs {
		if j.Status.Final() && j.UpdatedAt.Before(before) {
			delete(f.jobs, id)
			n++
		}
	}
	return n, nil
}

// CreateContext implements wasend.Sender: it returns a new context,
// available at once, named "fake-<id>".
// Its options are validated as the Client validates them.
func (f *FakeSender) CreateContext(ctx context.Context, opts ...wasend.ContextOption) (wasend.BrowserContext, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record(Call{Method: "CreateContext"}); err != nil {
		return wasend.BrowserContext{}, err
	}
	bc, err := applyContextOptions(wasend.BrowserContext{}, opts)
	if err != nil {
		return bc, err
	}
	f.nextCtx++
	now := time.Now().UTC()
	bc.ID, bc.Status, bc.SystemID, bc.CreatedAt, bc.UpdatedAt = f.nextCtx, wasend.ContextAvailable,
		fmt.Sprintf("fake-%d", f.nextCtx), now, now
	f.contexts[bc.ID] = bc
	return bc, nil
}

// UpdateContext implements wasend.Sender.
func (f *FakeSender) UpdateContext(ctx context.Context, id int64, opts ...wasend.ContextOption) (wasend.BrowserContext, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	bc, err := f.contextCall(Call{Method: "UpdateContext", ContextID: id})
	if err != nil {
		return bc, err
	}
	if bc, err = applyContextOptions(bc, opts); err != nil {
		return bc, err
	}
	bc.UpdatedAt = time.Now().UTC()
	f.contexts[id] = bc
	return bc, nil
}

// applyContextOptions applies opts to bc, validated as the Client does.
func applyContextOptions(bc wasend.BrowserContext, opts []wasend.ContextOption) (wasend.BrowserContext, error) {
	set, err := wasend.ContextSettingsOf(opts...)
	if err != nil {
		return bc, err
	}
	if set.Pacing != nil {
		bc.Pacing = *set.Pacing
	}
	if set.Proxy != nil {
		bc.Proxy = *set.Proxy
	}
	return bc, nil
}

// contextCall records a call about one context and returns it.
func (f *FakeSender) contextCall(c Call) (wasend.BrowserContext, error) {
	if err := f.record(c); err != nil {
		return wasend.BrowserContext{}, err
	}
	bc, ok := f.contexts[c.ContextID]
	if !ok {
		return wasend.BrowserContext{}, fmt.Errorf("%w: %d", wasend.ErrContextNotFound, c.ContextID)
	}
	return bc, nil
}

// OpenContext implements wasend.Sender.
func (f *FakeSender) OpenContext(ctx context.Context, id int64) (wasend.BrowserContext, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	bc, err := f.contextCall(Call{Method: "OpenContext", ContextID: id})
	if err == nil && bc.Status == wasend.ContextClosed {
		return wasend.BrowserContext{}, fmt.Errorf("%w: %d", wasend.ErrContextClosed, id)
	}
	return bc, err
}

// CloseContext implements wasend.Sender: the context becomes closed.
func (f *FakeSender) CloseContext(ctx context.Context, id int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	bc, err := f.contextCall(Call{Method: "CloseContext", ContextID: id})
	if err != nil {
		return err
	}
	bc.Status = wasend.ContextClosed
	bc.UpdatedAt = time.Now().UTC()
	f.contexts[id] = bc
	return nil
}

// Context implements wasend.Sender.
func (f *FakeSender) Context(ctx context.Context, id int64) (wasend.BrowserContext, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.contextCall(Call{Method: "Context", ContextID: id})
}

// Contexts implements wasend.Sender: the contexts by id.
func (f *FakeSender) Contexts(ctx context.Context) ([]wasend.BrowserContext, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record(Call{Method: "Contexts"}); err != nil {
		return nil, err
	}
	out := make([]wasend.BrowserContext, 0, len(f.contexts))
	for _, bc := range f.contexts {
		out = append(out, bc)
	}
	slices.SortFunc(out, func(a, b wasend.BrowserContext) int { return int(a.ID - b.ID) })
	return out, nil
}

// RequestPairingCode implements wasend.Sender: it returns a code made of
// the context's id ("FAKE0001" for context 1).
func (f *FakeSender) RequestPairingCode(ctx context.Context, contextID int64, phone string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.contextCall(Call{Method: "RequestPairingCode", ContextID: contextID, Phone: phone}); err != nil {
		return "", err
	}
	if _, err := wasend.NormalizePhone(phone); err != nil {
		return "", &wasend.ValidationError{Index: -1, Field: "phone", Err: err}
	}
	return fmt.Sprintf("FAKE%04d", contextID), nil
}

// Run implements wasend.Sender: it blocks until ctx ends or the fake is
// closed, and returns nil.
func (f *FakeSender) Run(ctx context.Context) error {
	f.mu.Lock()
	err := f.record(Call{Method: "Run"})
	closed := f.closedCh
	f.mu.Unlock()
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
	case <-closed:
	}
	return nil
}

// Close implements wasend.Sender. It is idempotent; later calls of the
// other methods return wasend.ErrClosed.
func (f *FakeSender) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record(Call{Method: "Close"}); err != nil {
		return err
	}
	if !f.closed {
		f.closed = true
		close(f.closedCh)
	}
	return nil
}
