package chromedpdriver

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/internal/fakewa"
	"github.com/wasend/wasend/wasendtest"
)

// clientHarness runs the real workflow: a wasend.Client on the in-memory
// store and queue, with the chromedp pool on real Chromium.
type clientHarness struct {
	t      *testing.T
	f      *fakewa.Server
	pool   *Pool
	store  *wasendtest.Store
	client *wasend.Client
	events *recorder
}

func newClientHarness(t *testing.T, f *fakewa.Server, p *Pool, opts ...wasend.Option) *clientHarness {
	t.Helper()
	h := &clientHarness{t: t, f: f, pool: p, store: wasendtest.NewStore(), events: newRecorder()}
	queue := wasendtest.NewQueue()
	log, _ := testLogger(t)
	c, err := wasend.New(p, queue, h.store, append([]wasend.Option{
		wasend.WithLogger(log),
		wasend.WithPacing(wasend.NoPacing()),
		wasend.WithBreaker(wasend.Breaker{}),
		wasend.WithEventHandler(h.events.add),
		wasend.WithSendTimeout(10 * time.Second),
		wasend.WithBackoff(50*time.Millisecond, 500*time.Millisecond, 0.1),
		wasend.WithContextWait(3 * time.Second),
		wasend.WithSweep(200*time.Millisecond, time.Second),
		wasend.WithShutdownTimeout(5 * time.Second),
		wasend.WithBulkDelay(50 * time.Millisecond),
	}, opts...)...)
	require.NoError(t, err)
	h.client = c
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err)
		case <-time.After(15 * time.Second):
			t.Error("Run did not return")
		}
		assert.NoError(t, c.Close())
		assert.NoError(t, queue.Close())
	})
	return h
}

// newContext creates a browser context and logs it in as phone.
func (h *clientHarness) newContext(phone string) wasend.BrowserContext {
	h.t.Helper()
	bc, err := h.client.CreateContext(quickCtx(h.t, 30*time.Second))
	require.NoError(h.t, err)
	h.login(bc.ID, 0, phone)
	return bc
}

// login scans the context's next QR code (an event at index from or later).
func (h *clientHarness) login(id int64, from int, phone string) {
	h.t.Helper()
	scanQR(quickCtx(h.t, 60*time.Second), h.t, h.f, h.events, from, func(ev wasend.SessionEvent) bool {
		return ev.ContextID == id && isQR(ev)
	}, phone)
	h.waitContext(id, wasend.ContextAvailable)
}

func (h *clientHarness) waitContext(id int64, want wasend.ContextStatus) {
	h.t.Helper()
	var got wasend.ContextStatus
	require.Eventually(h.t, func() bool {
		bc, err := h.store.Context(context.Background(), id)
		require.NoError(h.t, err)
		got = bc.Status
		return got == want
	}, 30*time.Second, 10*time.Millisecond, "context %d to be %s", id, want)
}

func (h *clientHarness) job(id int64) wasend.Job {
	j, err := h.client.Job(context.Background(), id)
	require.NoError(h.t, err)
	return j
}

func (h *clientHarness) waitJob(id int64, want wasend.JobStatus, d time.Duration) wasend.Job {
	h.t.Helper()
	return h.waitUntil(id, d, fmt.Sprintf("to be %s", want), func(j wasend.Job) bool { return j.Status == want })
}

// waitUntil polls a job for up to d until cond holds.
func (h *clientHarness) waitUntil(id int64, d time.Duration, what string, cond func(wasend.Job) bool) wasend.Job {
	h.t.Helper()
	var j wasend.Job
	require.Eventually(h.t, func() bool {
		j = h.job(id)
		return cond(j)
	}, d, 20*time.Millisecond, "job %d: %s", id, what)
	return j
}

func TestClientBulkWithLogout(t *testing.T) {
	t.Parallel()
	f, base := startFake(t)
	p, _ := testPool(t, base)
	h := newClientHarness(t, f, p)
	const me = "15550008001"
	bc := h.newContext(me)

	var msgs []wasend.BulkMessage
	for i := range 8 {
		msgs = append(msgs, wasend.BulkMessage{To: fmt.Sprintf("+155580010%02d", i), Text: fmt.Sprintf("bulk %d\nline two ✓", i)})
	}
	job, err := h.client.SendBulk(context.Background(), bc.ID, msgs, wasend.Delay(200*time.Millisecond))
	require.NoError(t, err)

	// Log the phone out in the middle of the job.
	require.Eventually(t, func() bool { return len(f.AllReceived()) >= 3 }, 30*time.Second, 5*time.Millisecond)
	from := h.events.len()
	f.Logout(me)
	h.waitContext(bc.ID, wasend.ContextDisconnected)
	// The job stops cleanly: it waits for the context, it is not completed,
	// and it sends nothing while the session is logged out.
	require.Eventually(t, func() bool { return h.job(job.ID).Status != wasend.JobRunning }, 15*time.Second, 20*time.Millisecond)
	j := h.job(job.ID)
	assert.Contains(t, []wasend.JobStatus{wasend.JobPending, wasend.JobPaused}, j.Status)
	sentBefore := 0
	for _, m := range j.Messages {
		got := f.Received(me, m.To[1:])
		if m.Status == wasend.MessageSent {
			sentBefore++
			require.Len(t, got, 1, "a sent message stays sent, once")
			assert.Equal(t, m.Text, got[0].Text)
			assert.NotEmpty(t, m.WAMessageID)
		} else {
			assert.LessOrEqual(t, len(got), 1)
		}
	}
	assert.GreaterOrEqual(t, sentBefore, 2, "the messages sent before the logout")
	assert.Less(t, sentBefore, len(msgs), "the logout stopped the job")
	n := len(f.AllReceived())
	time.Sleep(500 * time.Millisecond)
	assert.Equal(t, n, len(f.AllReceived()), "nothing is sent while logged out")

	// A new scan brings the context back and the job finishes: every
	// message exactly once.
	h.login(bc.ID, from, me)
	j = h.waitJob(job.ID, wasend.JobCompleted, 60*time.Second)
	for _, m := range j.Messages {
		assert.Equal(t, wasend.MessageSent, m.Status)
		got := f.Received(me, m.To[1:])
		require.Len(t, got, 1, "message to %s exactly once", m.To)
		assert.Equal(t, m.Text, got[0].Text)
	}
	assert.Len(t, f.AllReceived(), len(msgs))
}

func TestClientFiveContextsAtOnce(t *testing.T) {
	t.Parallel()
	f, base := startFake(t)
	p, _ := testPool(t, base)
	h := newClientHarness(t, f, p)

	const n = 5
	ctxs := make([]wasend.BrowserContext, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			bc, err := h.client.CreateContext(quickCtx(t, 60*time.Second))
			if !assert.NoError(t, err) {
				return
			}
			ctxs[i] = bc
		})
	}
	wg.Wait()
	require.False(t, t.Failed())
	for i, bc := range ctxs {
		h.login(bc.ID, 0, fmt.Sprintf("1555900000%d", i))
	}

	start := time.Now()
	type sent struct{ me, to, text string }
	var want []sent
	var jobs []int64
	for i, bc := range ctxs {
		me := fmt.Sprintf("1555900000%d", i)
		var msgs []wasend.BulkMessage
		for k := range 4 {
			to := fmt.Sprintf("15559100%d%02d", i, k)
			text := fmt.Sprintf("context %d, bulk %d: %s", i, k, []string{"hola 👋", "שלום", "<i>x</i>", "a\nb"}[k])
			msgs = append(msgs, wasend.BulkMessage{To: "+" + to, Text: text})
			want = append(want, sent{me, to, text})
		}
		j, err := h.client.SendBulk(context.Background(), bc.ID, msgs, wasend.Delay(0))
		require.NoError(t, err)
		jobs = append(jobs, j.ID)
		for k := range 2 {
			to := fmt.Sprintf("15559200%d%02d", i, k)
			text := fmt.Sprintf("context %d, single %d", i, k)
			j, err := h.client.Send(context.Background(), bc.ID, "+"+to, text)
			require.NoError(t, err)
			jobs = append(jobs, j.ID)
			want = append(want, sent{me, to, text})
		}
	}
	for _, id := range jobs {
		h.waitJob(id, wasend.JobCompleted, 90*time.Second)
	}
	elapsed := time.Since(start)
	t.Logf("%d messages through %d contexts in %v (%.1f msg/s)", len(want), n, elapsed.Round(time.Millisecond), float64(len(want))/elapsed.Seconds())
	for _, w := range want {
		got := f.Received(w.me, w.to)
		require.Len(t, got, 1, "%s -> %s exactly once", w.me, w.to)
		assert.Equal(t, w.text, got[0].Text)
	}
	assert.Len(t, f.AllReceived(), len(want))
	var total int64
	for _, bc := range ctxs {
		s := p.Session(bc.SystemID)
		require.NotNil(t, s)
		pss, err := s.MemoryPSS()
		require.NoError(t, err)
		total += pss
	}
	t.Logf("PSS of the %d browsers: %d MiB", n, total>>20)
}

// loseNextSend makes the page ignore the send button and then Enter, once:
// the next send's click is lost, and the send after it goes through.
func loseNextSend(t *testing.T, s *Session) {
	t.Helper()
	_, err := chromedp.Run(s.current().ctx, chromedp.Evaluate[bool](`(() => {
		let armed = true;
		const stop = e => {
			if (!armed) return;
			const send = e.type === 'click' && e.target.closest && e.target.closest("button[aria-label='Send']");
			const enter = e.type === 'keydown' && e.key === 'Enter' && !e.shiftKey;
			if (!send && !enter) return;
			e.stopImmediatePropagation();
			e.preventDefault();
			if (enter) armed = false;
		};
		window.addEventListener('click', stop, true);
		window.addEventListener('keydown', stop, true);
		return true;
	})()`))
	require.NoError(t, err)
}

// TestClientSameTextTwice is defect 2 through the Client: a one-time code
// sent twice to one number within a minute, and the second send's click is
// lost. The lookup with the second's mark does not take the first message
// for the second, so the second is sent again and the number gets the
// code twice.
func TestClientSameTextTwice(t *testing.T) {
	t.Parallel()
	f, base := startFake(t)
	p, _ := testPool(t, base)
	h := newClientHarness(t, f, p)
	const me, to, code = "15550008101", "15558101111", "Your code is 482913"
	bc := h.newContext(me)

	j1, err := h.client.Send(context.Background(), bc.ID, "+"+to, code, nil)
	require.NoError(t, err)
	h.waitJob(j1.ID, wasend.JobCompleted, 30*time.Second)
	require.Len(t, f.Received(me, to), 1)

	s := p.Session(bc.SystemID)
	require.NotNil(t, s)
	loseNextSend(t, s)
	j2, err := h.client.Send(context.Background(), bc.ID, "+"+to, code, nil)
	require.NoError(t, err)
	j := h.waitJob(j2.ID, wasend.JobCompleted, 60*time.Second)

	got := f.Received(me, to)
	require.Len(t, got, 2, "the second code arrived")
	require.Len(t, j.Messages, 1)
	m := j.Messages[0]
	assert.Equal(t, wasend.MessageSent, m.Status)
	assert.Equal(t, "true_"+to+"@c.us_"+got[1].ID, m.WAMessageID, "recorded as the second message, not the first")
	assert.Equal(t, 2, m.Attempts, "the lost attempt and the one that went out")
}

// A host logs a context in by phone number through the Client, without a
// type assertion on the session: the session is a wasend.PhonePairer.
func TestClientPairingCode(t *testing.T) {
	t.Parallel()
	f, base := startFake(t)
	p, _ := testPool(t, base)
	h := newClientHarness(t, f, p)
	bc, err := h.client.CreateContext(quickCtx(t, 30*time.Second))
	require.NoError(t, err)
	h.events.waitFrom(t, 0, 30*time.Second, "qr", func(ev wasend.SessionEvent) bool { return ev.ContextID == bc.ID && isQR(ev) })

	code, err := h.client.RequestPairingCode(quickCtx(t, 20*time.Second), bc.ID, "+44 7700 900124")
	require.NoError(t, err)
	assert.Regexp(t, `^[0-9A-Z]{8}$`, code)
	ev := h.events.waitFrom(t, 0, 5*time.Second, "pairing code", func(ev wasend.SessionEvent) bool {
		return ev.ContextID == bc.ID && ev.Type == wasend.EventPairingCode
	})
	assert.Equal(t, code, ev.Code)

	require.NoError(t, f.ConfirmPairingCode(quickCtx(t, 10*time.Second), code, "447700900124"))
	h.waitContext(bc.ID, wasend.ContextAvailable)
	_, err = h.client.RequestPairingCode(quickCtx(t, 5*time.Second), bc.ID, "+447700900124")
	assert.ErrorIs(t, err, ErrLoggedIn, "a logged-in context")
	assert.ErrorIs(t, err, wasend.ErrLoggedIn, "the driver's error wraps the root's")
}
