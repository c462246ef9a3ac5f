package wasend_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/wasendtest"
)

// received keeps the events a handler took, in the order it took them.
type received struct {
	mu   sync.Mutex
	evs  []wasend.Event
	seen map[int64]int
}

func (r *received) take(ev wasend.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen == nil {
		r.seen = map[int64]int{}
	}
	r.evs = append(r.evs, ev)
	r.seen[ev.ID]++
}

func (r *received) all() []wasend.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]wasend.Event(nil), r.evs...)
}

func (r *received) ofJob(id int64) []wasend.Topic {
	var out []wasend.Topic
	for _, ev := range r.all() {
		if ev.JobID == id {
			out = append(out, ev.Topic)
		}
	}
	return out
}

func (r *received) waitFor(t *testing.T, what string, cond func([]wasend.Event) bool) {
	t.Helper()
	eventually(t, func() bool { return cond(r.all()) }, "%s (got %d events)", what, func() any { return len(r.all()) })
}

func hasTopic(evs []wasend.Event, job int64, topic wasend.Topic) bool {
	for _, ev := range evs {
		if ev.JobID == job && ev.Topic == topic {
			return true
		}
	}
	return false
}

func TestOutboxTellsEveryChangeInOrderPerJob(t *testing.T) {
	rec := &received{}
	h := newHarness(t, harnessOpt{opts: []wasend.Option{wasend.WithOutbox(func(_ context.Context, ev wasend.Event) error {
		rec.take(ev)
		return nil
	})}})
	bc, sess := h.newContext()
	sess.SetNotOnWhatsApp("+5491122334466")
	single, err := h.client.Send(bg, bc.ID, "+5491122334455", "told", wasend.Metadata(map[string]any{"order": "A-1"}))
	require.NoError(t, err)
	bulk, err := h.client.SendBulk(bg, bc.ID, []wasend.BulkMessage{{To: "+5491122334455", Text: "one"}, {To: "+5491122334466", Text: "two"}})
	require.NoError(t, err)
	h.waitJob(single.ID, wasend.JobCompleted)
	h.waitJob(bulk.ID, wasend.JobCompleted)
	rec.waitFor(t, "both jobs' completions", func(evs []wasend.Event) bool {
		return hasTopic(evs, single.ID, wasend.TopicJobCompleted) && hasTopic(evs, bulk.ID, wasend.TopicJobCompleted)
	})
	assert.Equal(t, []wasend.Topic{wasend.TopicJobCreated, wasend.TopicJobRunning, wasend.TopicMessageSent, wasend.TopicJobCompleted},
		rec.ofJob(single.ID))
	assert.Equal(t, []wasend.Topic{wasend.TopicJobCreated, wasend.TopicJobRunning, wasend.TopicMessageSent,
		wasend.TopicMessageFailed, wasend.TopicJobCompleted}, rec.ofJob(bulk.ID))
	for _, ev := range rec.all() {
		assert.Equal(t, wasend.EventVersion, ev.Version)
		assert.NotZero(t, ev.ID)
		assert.False(t, ev.At.IsZero())
		if ev.JobID == single.ID {
			assert.Equal(t, "A-1", ev.Metadata["order"], "job events carry the host's metadata")
			assert.Equal(t, bc.ID, ev.ContextID)
		}
		if ev.Topic == wasend.TopicMessageFailed {
			assert.Equal(t, wasend.ErrorKindNotOnWhatsApp, ev.ErrorKind)
			assert.Equal(t, bulk.Messages[1].ID, ev.MessageID)
		}
	}
	var ctxEvents int
	for _, ev := range rec.all() {
		if ev.Topic == wasend.TopicContextStatus {
			ctxEvents++
		}
		assert.LessOrEqual(t, rec.seen[ev.ID], 1, "event %d delivered twice", ev.ID)
	}
	assert.Positive(t, ctxEvents, "the context's login is told")
	st, err := h.client.Stats(bg)
	require.NoError(t, err)
	require.NotNil(t, st.Outbox)
	assert.Equal(t, wasend.OutboxCounts{}, *st.Outbox, "everything delivered")
}

func TestOutboxRetriesThenDeadLetters(t *testing.T) {
	rec := &received{}
	var mu sync.Mutex
	fails := map[int64]int{}
	var poison int64
	h := newHarness(t, harnessOpt{noRun: true, opts: []wasend.Option{wasend.WithOutboxRetries(10, 20*time.Millisecond), wasend.WithOutbox(func(_ context.Context, ev wasend.Event) error {
		mu.Lock()
		defer mu.Unlock()
		if ev.JobID == poison && ev.Topic == wasend.TopicJobRunning {
			return errors.New("receiver down for this one")
		}
		if ev.Topic == wasend.TopicJobCreated && fails[ev.ID] < 2 {
			fails[ev.ID]++
			return errors.New("receiver flaps")
		}
		rec.take(ev)
		return nil
	})}})
	bc, _ := h.newContext()
	ok, err := h.client.Send(bg, bc.ID, "+5491122334455", "retried")
	require.NoError(t, err)
	bad, err := h.client.Send(bg, bc.ID, "+5491122334455", "its running event dies")
	require.NoError(t, err)
	mu.Lock()
	poison = bad.ID
	mu.Unlock()
	h.run()
	h.waitJob(ok.ID, wasend.JobCompleted)
	h.waitJob(bad.ID, wasend.JobCompleted)
	rec.waitFor(t, "the dead event's job to be told completed after it", func(evs []wasend.Event) bool {
		return hasTopic(evs, bad.ID, wasend.TopicJobCompleted) && hasTopic(evs, ok.ID, wasend.TopicJobCompleted)
	})
	// The flapping receiver got job.created after two failures, and
	// before the rest of its job.
	topics := rec.ofJob(ok.ID)
	require.NotEmpty(t, topics)
	assert.Equal(t, wasend.TopicJobCreated, topics[0])
	for _, ev := range rec.all() {
		if ev.JobID == ok.ID && ev.Topic == wasend.TopicJobCreated {
			assert.Equal(t, 2, ev.Attempts, "two failed deliveries before")
		}
	}
	assert.NotContains(t, rec.ofJob(bad.ID), wasend.TopicJobRunning, "never delivered")
	st, err := h.client.Stats(bg)
	require.NoError(t, err)
	require.NotNil(t, st.Outbox)
	assert.Equal(t, int64(1), st.Outbox.Dead, "the event that kept failing is a dead letter")
}

// A relay stopped mid-batch (its process gone) loses nothing: another
// process's relay takes the events it claimed and did not settle once the
// lease ends, and every event is delivered at least once.
func TestOutboxSurvivesARelayStoppedMidBatch(t *testing.T) {
	store := wasendtest.NewStore()
	first := &received{}
	block := make(chan struct{})
	var once sync.Once
	stuck := make(chan struct{})
	lease := wasend.WithOutboxLease(500 * time.Millisecond)
	a := newHarness(t, harnessOpt{store: store, noRun: true, opts: []wasend.Option{lease,
		wasend.WithOutbox(func(ctx context.Context, ev wasend.Event) error {
			if ev.Topic == wasend.TopicMessageSent {
				once.Do(func() { close(stuck) })
				select { // the process hangs here, then dies
				case <-block:
				case <-ctx.Done():
				}
				return ctx.Err()
			}
			first.take(ev)
			return nil
		})}})
	bc, _ := a.newContext()
	var jobs []wasend.Job
	for _, text := range []string{"one", "two", "three"} {
		j, err := a.client.Send(bg, bc.ID, "+5491122334455", text)
		require.NoError(t, err)
		jobs = append(jobs, j)
	}
	a.run()
	for _, j := range jobs {
		a.waitJob(j.ID, wasend.JobCompleted)
	}
	<-stuck
	a.stop() // Run ends mid-batch; the claim stays until the lease ends
	close(block)

	second := &received{}
	b := newHarness(t, harnessOpt{store: store, sharedQueue: a.queue, sharedPool: a.pool, opts: []wasend.Option{lease,
		wasend.WithOutbox(func(_ context.Context, ev wasend.Event) error {
			second.take(ev)
			return nil
		})}})
	_ = b
	second.waitFor(t, "every job's completion through the second relay", func(evs []wasend.Event) bool {
		for _, j := range jobs {
			if !hasTopic(append(first.all(), evs...), j.ID, wasend.TopicJobCompleted) {
				return false
			}
		}
		return true
	})
	for _, j := range jobs {
		var got []wasend.Topic
		for _, ev := range append(first.all(), second.all()...) {
			if ev.JobID == j.ID {
				got = append(got, ev.Topic)
			}
		}
		assert.Equal(t, []wasend.Topic{wasend.TopicJobCreated, wasend.TopicJobRunning, wasend.TopicMessageSent,
			wasend.TopicJobCompleted}, got, "job %d: every event once, in order, across the two relays", j.ID)
	}
}

// Two processes relay one outbox: each event is delivered once.
func TestOutboxTwoRelaysDeliverEachEventOnce(t *testing.T) {
	store := wasendtest.NewStore()
	rec := &received{}
	handler := wasend.WithOutbox(func(_ context.Context, ev wasend.Event) error {
		rec.take(ev)
		return nil
	})
	a := newHarness(t, harnessOpt{store: store, opts: []wasend.Option{handler}})
	b := newHarness(t, harnessOpt{store: store, sharedQueue: a.queue, sharedPool: a.pool, opts: []wasend.Option{handler}})
	_ = b
	bc, _ := a.newContext()
	var jobs []wasend.Job
	for i := range 20 {
		j, err := a.client.SendBulk(bg, bc.ID, recipients(2, "twice "+string(rune('a'+i))))
		require.NoError(t, err)
		jobs = append(jobs, j)
	}
	for _, j := range jobs {
		a.waitJob(j.ID, wasend.JobCompleted)
	}
	rec.waitFor(t, "every completion", func(evs []wasend.Event) bool {
		for _, j := range jobs {
			if !hasTopic(evs, j.ID, wasend.TopicJobCompleted) {
				return false
			}
		}
		return true
	})
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for id, n := range rec.seen {
		assert.Equal(t, 1, n, "event %d delivered %d times", id, n)
	}
}

func TestOutboxNeedsAnOutboxStore(t *testing.T) {
	plain := struct{ wasend.Store }{wasendtest.NewStore()}
	_, err := wasend.New(wasendtest.NewPool(), wasendtest.NewQueue(), plain,
		wasend.WithOutbox(func(context.Context, wasend.Event) error { return nil }))
	assert.ErrorIs(t, err, wasend.ErrNotSupported)
}

// TestOutboxTellsCodesAndWaits: a context's QR code, a job's wait for the
// pacing gap (with its end) and a restriction (with its kind) reach the
// outbox; the QR payload only with WithEventSecrets.
func TestOutboxTellsCodesAndWaits(t *testing.T) {
	for _, secrets := range []bool{false, true} {
		t.Run(map[bool]string{false: "default", true: "secrets"}[secrets], func(t *testing.T) {
			rec := &received{}
			gap := 300 * time.Millisecond
			opts := []wasend.Option{wasend.WithOutbox(func(_ context.Context, ev wasend.Event) error {
				rec.take(ev)
				return nil
			}), wasend.WithPacing(wasend.Pacing{MinGap: gap, MaxGap: gap})}
			if secrets {
				opts = append(opts, wasend.WithEventSecrets())
			}
			h := newHarness(t, harnessOpt{opts: opts})
			bc, sess := h.newContext()
			rec.waitFor(t, "the context's QR code", func(evs []wasend.Event) bool {
				return slices.ContainsFunc(evs, func(e wasend.Event) bool { return e.Topic == wasend.TopicContextQR && e.ContextID == bc.ID })
			})
			for _, e := range rec.all() {
				if e.Topic != wasend.TopicContextQR {
					continue
				}
				if secrets {
					assert.Equal(t, "2@scripted,"+bc.SystemID, e.Data["qr"])
				} else {
					assert.Nil(t, e.Data, "no QR payload without WithEventSecrets")
				}
			}
			first, err := h.client.Send(bg, bc.ID, "+5491122334455", "one")
			require.NoError(t, err)
			second, err := h.client.Send(bg, bc.ID, "+5491122334466", "two")
			require.NoError(t, err)
			h.waitJob(first.ID, wasend.JobCompleted)
			h.waitJob(second.ID, wasend.JobCompleted)
			var wait wasend.Event
			rec.waitFor(t, "a job.waiting", func(evs []wasend.Event) bool {
				i := slices.IndexFunc(evs, func(e wasend.Event) bool { return e.Topic == wasend.TopicJobWaiting })
				if i >= 0 {
					wait = evs[i]
				}
				return i >= 0
			})
			assert.Contains(t, []int64{first.ID, second.ID}, wait.JobID)
			assert.Equal(t, bc.ID, wait.ContextID)
			assert.Equal(t, string(wasend.WaitGap), wait.Status)
			until, err := time.Parse(time.RFC3339Nano, fmt.Sprint(wait.Data["until"]))
			require.NoError(t, err, "until: %v", wait.Data)
			assert.WithinDuration(t, wait.At, until, 2*gap)

			// A temporary ban met by a send: context.status restricted, with
			// the kind and the end.
			sess.Script(wasendtest.Action{Err: &wasend.RestrictionError{Kind: wasend.RestrictionTemporary, Until: time.Now().Add(time.Hour)}})
			_, err = h.client.Send(bg, bc.ID, "+5491122334477", "three")
			require.NoError(t, err)
			rec.waitFor(t, "the restriction", func(evs []wasend.Event) bool {
				return slices.ContainsFunc(evs, func(e wasend.Event) bool {
					return e.Topic == wasend.TopicContextStatus && e.Status == string(wasend.ContextRestricted) &&
						e.Data["restriction"] == string(wasend.RestrictionTemporary) && e.Data["until"] != nil
				})
			})
		})
	}
}

// TestOutboxReceiverDownForAnHour: on the Client's clock, a receiver that
// fails every delivery for an hour gets every event once it is back, in
// order per job, and none is dead.
func TestOutboxReceiverDownForAnHour(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	back := now.Add(time.Hour)
	rec := &received{}
	failed := 0
	h := newHarness(t, harnessOpt{opts: []wasend.Option{wasend.WithClock(clock),
		wasend.WithBackoff(2*time.Second, time.Minute, 0),
		wasend.WithOutbox(func(_ context.Context, ev wasend.Event) error {
			if clock().Before(back) {
				mu.Lock()
				failed++
				mu.Unlock()
				return errors.New("receiver down")
			}
			rec.take(ev)
			return nil
		})}})
	bc, _ := h.newContext()
	a, err := h.client.Send(bg, bc.ID, "+5491122334455", "during the outage")
	require.NoError(t, err)
	b, err := h.client.SendBulk(bg, bc.ID, []wasend.BulkMessage{{To: "+5491122334466", Text: "x"}, {To: "+5491122334477", Text: "y"}})
	require.NoError(t, err)
	h.waitJob(a.ID, wasend.JobCompleted)
	h.waitJob(b.ID, wasend.JobCompleted)
	// Time passes, two minutes at a time: a delivery every two minutes
	// would fail 30 times in the hour (the Client's send backoff, capped
	// here at a minute, would have killed every event: 10 attempts); the
	// outbox's own, doubling up to an hour, tries about 11 times.
	deadline := time.Now().Add(30 * time.Second)
	for !(hasTopic(rec.all(), a.ID, wasend.TopicJobCompleted) && hasTopic(rec.all(), b.ID, wasend.TopicJobCompleted)) {
		require.True(t, time.Now().Before(deadline), "the events after the outage: got %d", len(rec.all()))
		mu.Lock()
		if now.Before(back.Add(90 * time.Minute)) {
			now = now.Add(2 * time.Minute)
		}
		mu.Unlock()
		time.Sleep(200 * time.Millisecond)
	}
	mu.Lock()
	assert.Positive(t, failed, "deliveries failed during the outage")
	mu.Unlock()
	assert.Equal(t, []wasend.Topic{wasend.TopicJobCreated, wasend.TopicJobRunning, wasend.TopicMessageSent, wasend.TopicJobCompleted}, rec.ofJob(a.ID))
	assert.Equal(t, []wasend.Topic{wasend.TopicJobCreated, wasend.TopicJobRunning, wasend.TopicMessageSent, wasend.TopicMessageSent,
		wasend.TopicJobCompleted}, rec.ofJob(b.ID))
	st, err := h.client.Stats(bg)
	require.NoError(t, err)
	require.NotNil(t, st.Outbox)
	assert.Zero(t, st.Outbox.Dead, "no event died")
}
