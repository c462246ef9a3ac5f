package otelwasend_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/trace"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/otelwasend"
	"github.com/wasend/wasend/wasendtest"
)

var _ wasend.Observer = (*otelwasend.Observer)(nil)

// The numbers and texts of the scenario: none of them may reach a metric
// or a span.
const (
	numberOK  = "+5491122334455"
	textOK    = "Your parcel 4711 is on its way"
	numberNo  = "+5491166778899"
	textNo    = "Nobody reads this secret"
	numberBye = "+14155550123"
	textBye   = "Scheduled for later"
)

// scenario sends, on one context, a message that fails once and is then
// sent, and a message to a number not on WhatsApp; it closes a second
// context. It returns the jobs and the contexts.
func scenario(t *testing.T, r *rig) (ok, no wasend.Job, bc, closed wasend.BrowserContext) {
	t.Helper()
	bc = r.kit.NewContext()
	closed = r.kit.NewContext()
	require.NoError(t, r.kit.CloseContext(bg, closed.ID))
	r.kit.WaitContext(closed.ID, wasend.ContextClosed)

	r.kit.Session(bc.ID).Script(wasendtest.Action{Err: wasendtest.ErrScripted})
	ok, err := r.kit.Send(bg, bc.ID, numberOK, textOK)
	require.NoError(t, err)
	ok = r.kit.WaitJobStatus(ok.ID, wasend.JobCompleted)

	r.kit.Session(bc.ID).SetNotOnWhatsApp(numberNo)
	no, err = r.kit.Send(bg, bc.ID, numberNo, textNo)
	require.NoError(t, err)
	no = r.kit.WaitJobStatus(no.ID, wasend.JobFailed)
	// The job is final before its delivery is acknowledged: wait for the
	// queue to settle, so that the gauges read a quiet queue.
	require.Eventually(t, func() bool {
		st, err := r.kit.Stats(bg)
		return err == nil && st.Queue.InFlight == 0 && st.Queue.Waiting == 0
	}, 10*time.Second, 5*time.Millisecond, "the queue settles")
	return ok, no, bc, closed
}

func TestMetrics(t *testing.T) {
	r := newRig(t)
	_, _, bc, closed := scenario(t, r)
	rm := r.collect()

	id := fmt.Sprintf("wasend.context.id=%d", bc.ID)
	t.Run("messages", func(t *testing.T) {
		got := int64Points(t, mustMetric(t, rm, otelwasend.MetricMessages, "{message}"))
		assert.Equal(t, map[string]int64{
			id + ",wasend.message.status=sent":                                   1,
			"error.type=not_on_whatsapp," + id + ",wasend.message.status=failed": 1,
		}, got)
	})
	attempts := map[string]int64{
		"error.type=other,wasend.attempt.clicked=false," + id + ",wasend.job.kind=single":           1,
		"wasend.attempt.clicked=true," + id + ",wasend.job.kind=single":                             1,
		"error.type=not_on_whatsapp,wasend.attempt.clicked=false," + id + ",wasend.job.kind=single": 1,
	}
	t.Run("attempts", func(t *testing.T) {
		got := int64Points(t, mustMetric(t, rm, otelwasend.MetricAttempts, "{attempt}"))
		assert.Equal(t, attempts, got)
	})
	t.Run("send duration", func(t *testing.T) {
		got := histogramCounts(t, mustMetric(t, rm, otelwasend.MetricSendDuration, "s"))
		want := map[string]uint64{}
		for k, n := range attempts {
			want[k] = uint64(n)
		}
		assert.Equal(t, want, got, "one duration for each attempt, with the attempt's attributes")
	})
	t.Run("contexts by status", func(t *testing.T) {
		got := int64Points(t, mustMetric(t, rm, otelwasend.MetricContexts, "{context}"))
		want := map[string]int64{}
		for _, s := range wasend.ContextStatuses() {
			want["wasend.context.status="+string(s)] = 0
		}
		want["wasend.context.status=available"] = 1
		want["wasend.context.status=closed"] = 1
		assert.Equal(t, want, got)
	})
	t.Run("browser memory", func(t *testing.T) {
		got := int64Points(t, mustMetric(t, rm, otelwasend.MetricBrowserMemory, "By"))
		assert.Equal(t, map[string]int64{id: wasendtest.FakePSS}, got,
			"the closed context %d has no session, so no memory", closed.ID)
	})
	t.Run("queue", func(t *testing.T) {
		got := int64Points(t, mustMetric(t, rm, otelwasend.MetricQueueDeliveries, "{delivery}"))
		assert.Equal(t, map[string]int64{"wasend.queue.state=waiting": 0, "wasend.queue.state=delayed": 0,
			"wasend.queue.state=in_flight": 0}, got)
	})
	t.Run("oldest pending", func(t *testing.T) {
		m := mustMetric(t, rm, otelwasend.MetricOldestPendingAge, "s")
		g, ok := m.Data.(metricdata.Gauge[float64])
		require.True(t, ok, "%T", m.Data)
		require.Len(t, g.DataPoints, 1)
		assert.Zero(t, g.DataPoints[0].Value, "no job is pending")
		assert.Zero(t, g.DataPoints[0].Attributes.Len())
	})
	t.Run("no pacing waits", func(t *testing.T) {
		_, ok := metric(rm, otelwasend.MetricPacingWaits)
		assert.False(t, ok, "without pacing no job waits")
	})
}

func TestSpans(t *testing.T) {
	r := newRig(t)
	ok, no, bc, _ := scenario(t, r)
	spans := r.spans.Ended()
	require.Len(t, spans, 3, "one span for each attempt")
	want := []struct {
		job     wasend.Job
		number  string
		clicked string
		errType string
	}{
		{ok, "1", "false", "other"},
		{ok, "2", "true", ""},
		{no, "1", "false", "not_on_whatsapp"},
	}
	for i, w := range want {
		s := spans[i]
		assert.Equal(t, otelwasend.SpanSend, s.Name())
		assert.Equal(t, trace.SpanKindClient, s.SpanKind())
		assert.Equal(t, otelwasend.ScopeName, s.InstrumentationScope().Name)
		wantAttrs := map[string]string{
			"wasend.context.id":      fmt.Sprint(bc.ID),
			"wasend.job.id":          fmt.Sprint(w.job.ID),
			"wasend.message.id":      fmt.Sprint(w.job.Messages[0].ID),
			"wasend.attempt.number":  w.number,
			"wasend.job.kind":        "single",
			"wasend.attempt.clicked": w.clicked,
		}
		if w.errType != "" {
			wantAttrs["error.type"] = w.errType
			assert.Equal(t, codes.Error, s.Status().Code, "span %d", i)
			assert.Equal(t, w.errType, s.Status().Description, "span %d", i)
		} else {
			assert.Equal(t, codes.Unset, s.Status().Code, "span %d", i)
		}
		assert.Equal(t, wantAttrs, attrs(s), "span %d", i)
		assert.Empty(t, s.Events(), "no error event: its text could quote a number")
		assert.False(t, s.Parent().IsValid(), "the Client's ctx holds no span")
	}
}

func TestNothingSensitiveIsRecorded(t *testing.T) {
	r := newRig(t)
	scenario(t, r)
	_, err := r.kit.Send(bg, r.kit.NewContext().ID, numberBye, textBye, wasend.NotBefore(time.Now().Add(time.Hour)))
	require.NoError(t, err)
	all := allStrings(r.collect(), r.spans.Ended())
	// The walk sees what is recorded: the ids, kinds and error types.
	require.True(t, contains(all, "not_on_whatsapp") && contains(all, otelwasend.SpanSend), "%q", all)
	for _, secret := range []string{numberOK, numberNo, numberBye, textOK, textNo, textBye} {
		for _, part := range []string{secret, secret[len(secret)-6:]} {
			assert.False(t, contains(all, part), "%q is recorded in %q", part, all)
		}
	}
	for _, word := range []string{"parcel", "secret", "Scheduled"} {
		assert.False(t, contains(all, word), "%q is recorded", word)
	}
}

func TestPacingWaits(t *testing.T) {
	gap := 200 * time.Millisecond
	r := newRig(t, wasend.WithPacing(wasend.Pacing{MinGap: gap, MaxGap: gap}))
	bc := r.kit.NewContext()
	first, err := r.kit.Send(bg, bc.ID, numberOK, textOK)
	require.NoError(t, err)
	second, err := r.kit.Send(bg, bc.ID, numberNo, textNo)
	require.NoError(t, err)
	r.kit.WaitJobStatus(first.ID, wasend.JobCompleted)
	r.kit.WaitJobStatus(second.ID, wasend.JobCompleted)

	got := int64Points(t, mustMetric(t, r.collect(), otelwasend.MetricPacingWaits, "{wait}"))
	gapKey := fmt.Sprintf("wasend.context.id=%d,wasend.wait.reason=gap", bc.ID)
	assert.GreaterOrEqual(t, got[gapKey], int64(1), "the second message waited for the gap; got %v", got)
	for k := range got {
		assert.Contains(t, k, fmt.Sprintf("wasend.context.id=%d,", bc.ID))
	}
}

func TestOldestPendingAndDelayed(t *testing.T) {
	r := newRig(t)
	bc := r.kit.NewContext()
	before := time.Now()
	_, err := r.kit.Send(bg, bc.ID, numberBye, textBye, wasend.NotBefore(time.Now().Add(time.Hour)))
	require.NoError(t, err)
	rm := r.collect()
	elapsed := time.Since(before)

	m := mustMetric(t, rm, otelwasend.MetricOldestPendingAge, "s")
	g, ok := m.Data.(metricdata.Gauge[float64])
	require.True(t, ok, "%T", m.Data)
	require.Len(t, g.DataPoints, 1)
	age := g.DataPoints[0].Value
	assert.Positive(t, age, "the job scheduled for later is pending")
	assert.LessOrEqual(t, age, elapsed.Seconds()+1e-6, "the job is younger than the test's wait")

	q := int64Points(t, mustMetric(t, rm, otelwasend.MetricQueueDeliveries, "{delivery}"))
	assert.Equal(t, int64(1), q["wasend.queue.state=delayed"], "the job's delivery waits in the queue; got %v", q)
}

func TestStoreFailureReportsNoGauge(t *testing.T) {
	r := newRig(t)
	r.kit.Store.SetFailure(errDown)
	var rm metricdata.ResourceMetrics
	err := r.reader.Collect(bg, &rm)
	require.ErrorIs(t, err, errDown)
	require.ErrorIs(t, err, wasend.ErrStore)
	for _, name := range []string{otelwasend.MetricContexts, otelwasend.MetricBrowserMemory,
		otelwasend.MetricQueueDeliveries, otelwasend.MetricOldestPendingAge} {
		if m, ok := metric(rm, name); ok {
			assert.Failf(t, "gauge reported", "%s reported %+v while the store failed", name, m.Data)
		}
	}

	r.kit.Store.SetFailure(nil)
	rm = r.collect()
	got := int64Points(t, mustMetric(t, rm, otelwasend.MetricContexts, "{context}"))
	assert.Len(t, got, len(wasend.ContextStatuses()), "every status is present, 0 included")
}

func TestSlowStoreIsCutOff(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { require.NoError(t, mp.Shutdown(bg)) })
	obs, err := otelwasend.New(otelwasend.WithMeterProvider(mp), otelwasend.WithCollectTimeout(50*time.Millisecond))
	require.NoError(t, err)
	queue := wasendtest.NewQueue()
	t.Cleanup(func() { require.NoError(t, queue.Close()) })
	client, err := wasend.New(wasendtest.NewPool(), queue, slowStore{wasendtest.NewStore()}, wasend.WithObserver(obs))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, client.Close()) })
	reg, err := obs.RegisterClient(client)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, reg.Unregister()) })

	start := time.Now()
	var rm metricdata.ResourceMetrics
	err = reader.Collect(bg, &rm)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 5*time.Second, "the collect timeout bounds the store's call")
	_, ok := metric(rm, otelwasend.MetricContexts)
	assert.False(t, ok)
}

func TestRegisterClient(t *testing.T) {
	obs, err := otelwasend.New(otelwasend.WithMeterProvider(noop.NewMeterProvider()))
	require.NoError(t, err)
	kit := wasendtest.NewClient(t, wasendtest.WithRun(false))

	_, err = obs.RegisterClient(nil)
	require.ErrorIs(t, err, wasend.ErrInvalidOption)

	reg, err := obs.RegisterClient(kit.Client)
	require.NoError(t, err)
	_, err = obs.RegisterClient(kit.Client)
	require.ErrorIs(t, err, otelwasend.ErrClientRegistered)
	require.NoError(t, reg.Unregister())
	require.NoError(t, reg.Unregister(), "a second Unregister does nothing")

	again, err := obs.RegisterClient(kit.Client)
	require.NoError(t, err, "a Client may be registered after the last one was unregistered")
	require.NoError(t, again.Unregister())
	require.NoError(t, reg.Unregister(), "an old registration does not undo a new one")
	_, err = obs.RegisterClient(kit.Client)
	require.NoError(t, err)
}

func TestNewValidates(t *testing.T) {
	for _, tc := range []struct {
		name string
		opt  otelwasend.Option
	}{
		{"nil meter provider", otelwasend.WithMeterProvider(nil)},
		{"nil tracer provider", otelwasend.WithTracerProvider(nil)},
		{"zero collect timeout", otelwasend.WithCollectTimeout(0)},
		{"negative collect timeout", otelwasend.WithCollectTimeout(-time.Second)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obs, err := otelwasend.New(tc.opt)
			require.ErrorIs(t, err, wasend.ErrInvalidOption)
			assert.Nil(t, obs)
		})
	}
	t.Run("defaults", func(t *testing.T) {
		obs, err := otelwasend.New()
		require.NoError(t, err, "the global providers are the defaults")
		require.NotNil(t, obs)
	})
}

func TestEndIsOnce(t *testing.T) {
	r := newRig(t)
	ctx, end := r.obs.StartAttempt(context.Background(), wasend.Attempt{ContextID: 7, JobID: 8, MessageID: 9,
		Kind: wasend.KindBulk, Number: 1})
	require.True(t, trace.SpanFromContext(ctx).SpanContext().IsValid(), "the attempt's ctx holds its span")
	end(wasend.AttemptEnd{Duration: time.Second})
	end(wasend.AttemptEnd{Duration: time.Second})
	got := int64Points(t, mustMetric(t, r.collect(), otelwasend.MetricAttempts, "{attempt}"))
	assert.Equal(t, map[string]int64{"wasend.attempt.clicked=false,wasend.context.id=7,wasend.job.kind=bulk": 1}, got)
	assert.Len(t, r.spans.Ended(), 1)
}
