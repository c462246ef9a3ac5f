package wasend_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/wasendtest"
)

func TestCheckNumber(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	bc, sess := h.newContext()
	sess.SetNotOnWhatsApp("+5491100000002")
	// Brazil: the account is known by the old eight-digit form.
	h.pool.SetCanonical("+5511987654321", "+551187654321")

	info, err := h.client.CheckNumber(bg, bc.ID, "+54 9 11 0000-0001")
	require.NoError(t, err)
	assert.Equal(t, "+5491100000001", info.Phone)
	assert.True(t, info.OnWhatsApp)
	assert.Empty(t, info.Canonical)
	assert.Equal(t, bc.ID, info.ContextID)
	assert.False(t, info.CheckedAt.IsZero())
	assert.False(t, info.Cached)

	info, err = h.client.CheckNumber(bg, bc.ID, "+5491100000002")
	require.NoError(t, err)
	assert.False(t, info.OnWhatsApp)

	info, err = h.client.CheckNumber(bg, bc.ID, "+55 11 98765-4321")
	require.NoError(t, err)
	assert.True(t, info.OnWhatsApp)
	assert.Equal(t, "+551187654321", info.Canonical)

	// Mexico's old "1" is dropped before the check.
	info, err = h.client.CheckNumber(bg, bc.ID, "+52 1 55 1234 5678")
	require.NoError(t, err)
	assert.Equal(t, "+525512345678", info.Phone)

	asked := len(sess.Checks())
	for _, p := range []string{"+5491100000001", "+5491100000002", "+5511987654321", "+551187654321"} {
		info, err := h.client.CheckNumber(bg, bc.ID, p)
		require.NoError(t, err)
		assert.True(t, info.Cached, "%s from the cache", p)
	}
	assert.Len(t, sess.Checks(), asked, "the cache answered, and knows the canonical number too")
	assert.Equal(t, []string{"+5491100000001", "+5491100000002", "+5511987654321", "+525512345678"}, sess.Checks())
	assert.NotContains(t, h.logs.String(), "5511987654321", "no whole number in the logs")

	// A send to the number goes to the account WhatsApp knows.
	job, err := h.client.Send(bg, bc.ID, "+5511987654321", "olá")
	require.NoError(t, err)
	done := h.waitJob(job.ID, wasend.JobCompleted)
	assert.Equal(t, "+5511987654321", done.Messages[0].To, "the message keeps the number asked")
	assert.Equal(t, 1, h.pool.Count("+551187654321", "olá"))
}

// A check that cannot answer gives its error, never "not on WhatsApp",
// and is not cached; the answers expire.
func TestCheckNumberFailuresAndExpiry(t *testing.T) {
	h := newHarness(t, harnessOpt{opts: []wasend.Option{wasend.WithNumberCache(300*time.Millisecond, 100*time.Millisecond),
		wasend.WithSendTimeout(200 * time.Millisecond), wasend.WithHangGrace(100 * time.Millisecond)}})
	bc, sess := h.newContext()
	sess.ScriptCheck(wasendtest.Check{Err: wasend.ErrSelectors}, wasendtest.Check{Panic: "check boom"},
		wasendtest.Check{Delay: 2 * time.Second, IgnoreCtx: true})
	_, err := h.client.CheckNumber(bg, bc.ID, "+5491100000001")
	assert.ErrorIs(t, err, wasend.ErrSelectors)
	_, err = h.client.CheckNumber(bg, bc.ID, "+5491100000001")
	var pe *wasend.PanicError
	assert.ErrorAs(t, err, &pe)
	start := time.Now()
	_, err = h.client.CheckNumber(bg, bc.ID, "+5491100000001")
	assert.ErrorIs(t, err, wasend.ErrSessionHung)
	assert.Less(t, time.Since(start), 1500*time.Millisecond, "a hung check is abandoned after its deadline and grace")
	info, err := h.client.CheckNumber(bg, bc.ID, "+5491100000001")
	require.NoError(t, err)
	assert.True(t, info.OnWhatsApp)
	assert.False(t, info.Cached, "no failure was cached")

	sess.SetNotOnWhatsApp("+5491100000002")
	info, err = h.client.CheckNumber(bg, bc.ID, "+5491100000002")
	require.NoError(t, err)
	assert.False(t, info.OnWhatsApp)
	time.Sleep(150 * time.Millisecond) // past the negative TTL, within the positive one
	again, err := h.client.CheckNumber(bg, bc.ID, "+5491100000002")
	require.NoError(t, err)
	assert.False(t, again.Cached, "a negative answer expires sooner")
	cached, err := h.client.CheckNumber(bg, bc.ID, "+5491100000001")
	require.NoError(t, err)
	assert.True(t, cached.Cached)
	time.Sleep(350 * time.Millisecond)
	fresh, err := h.client.CheckNumber(bg, bc.ID, "+5491100000001")
	require.NoError(t, err)
	assert.False(t, fresh.Cached, "a positive answer expires too")
}

func TestCheckNumberNeedsWhatItUses(t *testing.T) {
	legacy := newHarness(t, harnessOpt{pool: []wasendtest.Option{wasendtest.WithLegacySessions()}})
	bc, _ := legacy.newContext()
	_, err := legacy.client.CheckNumber(bg, bc.ID, "+5491100000001")
	assert.ErrorIs(t, err, wasend.ErrNotSupported)
	_, err = legacy.client.CheckNumber(bg, bc.ID, "123")
	var ve *wasend.ValidationError
	assert.ErrorAs(t, err, &ve)
	assert.ErrorIs(t, err, wasend.ErrInvalidPhone)
	_, err = legacy.client.CheckNumber(bg, 4242, "+5491100000001")
	assert.ErrorIs(t, err, wasend.ErrContextNotFound)
	other := newHarness(t, harnessOpt{store: legacy.store, noRun: true})
	_, err = other.client.CheckNumber(bg, bc.ID, "+5491100000001")
	assert.ErrorIs(t, err, wasend.ErrContextNotAvailable)

	// Without a NumberStore, this process caches the answers itself.
	plain := newHarness(t, harnessOpt{wrap: func(s wasend.Store) wasend.Store { return struct{ wasend.Store }{s} }})
	pbc, sess := plain.newContext()
	_, err = plain.client.CheckNumber(bg, pbc.ID, "+5491100000001")
	require.NoError(t, err)
	info, err := plain.client.CheckNumber(bg, pbc.ID, "+5491100000001")
	require.NoError(t, err)
	assert.True(t, info.Cached)
	assert.Len(t, sess.Checks(), 1)
}

// With WithPreCheckNumbers, a bulk job checks its recipients before its
// first send and fails, without an attempt, the messages to numbers not on
// WhatsApp; a check that errors leaves the number to the send; a number
// WhatsApp knows by another form is sent to that form, exactly once even
// when the send's confirmation is lost.
func TestPreCheckNumbers(t *testing.T) {
	h := newHarness(t, harnessOpt{opts: []wasend.Option{wasend.WithPreCheckNumbers(true)}, noRun: true})
	bc, sess := h.newContext()
	sess.SetNotOnWhatsApp("+5491100000002")
	h.pool.SetCanonical("+5511987654321", "+551187654321")
	sess.ScriptCheck(wasendtest.Check{}, wasendtest.Check{}, wasendtest.Check{}, wasendtest.Check{Err: errors.New("scripted: the chat did not open")})
	// The send to the Brazilian number clicks, then loses its confirmation.
	sess.Script(wasendtest.Action{}, wasendtest.Action{Deliver: true, Err: wasend.Unconfirmed(wasend.ErrTimeout)})
	job, err := h.client.SendBulk(bg, bc.ID, []wasend.BulkMessage{
		{To: "+5491100000001", Text: "hola"},
		{To: "+5491100000002", Text: "hola"},
		{To: "+5511987654321", Text: "olá"},
		{To: "+5491100000004", Text: "hola"},
	})
	require.NoError(t, err)
	h.run()
	done := h.waitJob(job.ID, wasend.JobCompleted)
	want := []wasend.MessageStatus{wasend.MessageSent, wasend.MessageFailed, wasend.MessageSent, wasend.MessageSent}
	for i, m := range done.Messages {
		assert.Equal(t, want[i], m.Status, "message %d", i)
	}
	assert.False(t, done.Messages[1].UpdatedAt.After(done.Messages[0].SentAt),
		"the unreachable message failed before the first send")
	unreachable := done.Messages[1]
	assert.Equal(t, wasend.ErrorKindNotOnWhatsApp, unreachable.ErrorKind)
	assert.Zero(t, unreachable.Attempts, "failed before any attempt")
	// Every recipient is checked before the first send, in order; a later
	// slice asks again the number whose check could not answer.
	checks := sess.Checks()
	require.GreaterOrEqual(t, len(checks), 4)
	assert.Equal(t, []string{"+5491100000001", "+5491100000002", "+5511987654321", "+5491100000004"}, checks[:4])
	for _, p := range checks[4:] {
		assert.Equal(t, "+5491100000004", p, "only the number left unanswered is asked again")
	}
	assert.Equal(t, 1, h.pool.Count("+551187654321", "olá"), "sent once, to the number WhatsApp knows")
	assert.Zero(t, h.pool.Count("+5511987654321", "olá"))
	assert.Equal(t, 1, h.pool.Count("+5491100000004", "hola"), "a check that errored leaves the number to the send")
	assert.Zero(t, h.pool.Count("+5491100000002", "hola"))
	q := sess.Queries()
	require.NotEmpty(t, q)
	assert.Equal(t, "+551187654321", q[len(q)-1].To, "the lookup looked in the chat the send went to")
}

// A send that finds a number is not on WhatsApp teaches the cache.
func TestSendTeachesTheNumberCache(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	bc, sess := h.newContext()
	sess.SetNotOnWhatsApp("+5491100000002")
	job, err := h.client.Send(bg, bc.ID, "+5491100000002", "hola")
	require.NoError(t, err)
	h.waitJob(job.ID, wasend.JobFailed)
	info, err := h.client.CheckNumber(bg, bc.ID, "+5491100000002")
	require.NoError(t, err)
	assert.True(t, info.Cached)
	assert.False(t, info.OnWhatsApp)
	assert.Empty(t, sess.Checks())
}

// A long pre-check runs over several slices: what was checked is not asked
// again.
func TestPreCheckOverSeveralSlices(t *testing.T) {
	h := newHarness(t, harnessOpt{opts: []wasend.Option{wasend.WithPreCheckNumbers(true),
		wasend.WithBulkSlice(100 * time.Millisecond)}, noRun: true})
	bc, sess := h.newContext()
	var msgs []wasend.BulkMessage
	for i := range 6 {
		sess.ScriptCheck(wasendtest.Check{Delay: 40 * time.Millisecond})
		msgs = append(msgs, wasend.BulkMessage{To: fmt.Sprintf("+549110000001%d", i), Text: "slices"})
	}
	job, err := h.client.SendBulk(bg, bc.ID, msgs)
	require.NoError(t, err)
	h.run()
	done := h.waitJob(job.ID, wasend.JobCompleted)
	for _, m := range done.Messages {
		assert.Equal(t, wasend.MessageSent, m.Status)
	}
	assert.Len(t, sess.Checks(), 6, "each number checked once: %v", sess.Checks())
	assert.Contains(t, h.logs.String(), "numbers left for the next slice")
}

// A pre-check that finds the session gone stops, and the job waits for
// its context, checking nothing more meanwhile; it goes on at the login.
func TestPreCheckWaitsForAGoneSession(t *testing.T) {
	h := newHarness(t, harnessOpt{opts: []wasend.Option{wasend.WithPreCheckNumbers(true),
		wasend.WithContextWait(time.Second)}, noRun: true})
	bc, sess := h.newContext()
	sess.ScriptCheck(wasendtest.Check{}, wasendtest.Check{Err: wasend.ErrLoggedOut})
	job, err := h.client.SendBulk(bg, bc.ID, []wasend.BulkMessage{
		{To: "+5491100000001", Text: "a"}, {To: "+5491100000002", Text: "b"}, {To: "+5491100000003", Text: "c"}})
	require.NoError(t, err)
	h.run()
	eventually(t, func() bool { return containsLog(h, "pre-check: the session is gone") }, "the pre-check to stop")
	j, err := h.client.Job(bg, job.ID)
	require.NoError(t, err)
	assert.Equal(t, wasend.JobPending, j.Status)
	assert.Empty(t, h.pool.Sent(), "nothing sent while the pre-check is not done")
	done := h.waitJob(job.ID, wasend.JobCompleted)
	for _, m := range done.Messages {
		assert.Equal(t, wasend.MessageSent, m.Status)
	}
	assert.Len(t, sess.Checks(), 4, "the number whose check found the session gone is asked again: %v", sess.Checks())
}

// countingNumbers counts the reads of the number cache.
type countingNumbers struct {
	*wasendtest.Store
	reads atomic.Int64
}

func (s *countingNumbers) CachedNumbers(ctx context.Context, phones []string, since time.Time) (map[string]wasend.NumberInfo, error) {
	s.reads.Add(1)
	return s.Store.CachedNumbers(ctx, phones, since)
}

// A send reads the number cache only for the countries whose numbers
// WhatsApp corrects (Brazil, Mexico, Argentina): the others cost the
// pipeline no read.
func TestSendReadsTheNumberCacheOnlyWhereWhatsAppCorrects(t *testing.T) {
	store := wasendtest.NewStore()
	cn := &countingNumbers{Store: store}
	h := newHarness(t, harnessOpt{store: store, wrap: func(wasend.Store) wasend.Store { return cn }})
	bc, _ := h.newContext()
	for i, tc := range []struct {
		to    string
		reads int64
	}{
		{"+14155550100", 0},
		{"+447700900123", 0},
		{"+5511987654321", 1},
		{"+5215512345678", 1},
		{"+5491100000001", 1},
	} {
		before := cn.reads.Load()
		job, err := h.client.Send(bg, bc.ID, tc.to, fmt.Sprintf("hello %d", i))
		require.NoError(t, err)
		h.waitJob(job.ID, wasend.JobCompleted)
		assert.Equal(t, tc.reads, cn.reads.Load()-before, "reads of the cache for %s", wasend.MaskPhone(tc.to))
	}
}
