package otelwasend

import (
	"context"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/wasend/wasend"
)

// The names of the instruments and of the span.
const (
	// MetricMessages counts the messages that reached their outcome.
	MetricMessages = "wasend.messages"
	// MetricAttempts counts the attempts of messages.
	MetricAttempts = "wasend.attempts"
	// MetricSendDuration is the histogram of the attempts' durations.
	MetricSendDuration = "wasend.send.duration"
	// MetricPacingWaits counts the waits of jobs for pacing or a
	// restriction.
	MetricPacingWaits = "wasend.pacing.waits"
	// MetricContexts is the gauge of browser contexts by status.
	MetricContexts = "wasend.contexts"
	// MetricBrowserMemory is the gauge of each live session's browser
	// memory.
	MetricBrowserMemory = "wasend.browser.memory"
	// MetricQueueDeliveries is the gauge of the queue's deliveries by
	// state.
	MetricQueueDeliveries = "wasend.queue.deliveries"
	// MetricOldestPendingAge is the gauge of the age of the oldest
	// pending job.
	MetricOldestPendingAge = "wasend.jobs.oldest_pending.age"
	// MetricOutboxEvents is the gauge of the outbox's events not
	// delivered, by state (pending, dead).
	MetricOutboxEvents = "wasend.outbox.events"
	// SpanSend names the span of an attempt.
	SpanSend = "wasend.send"
)

// The attribute keys.
const (
	// KeyContextID is a browser context's id (an int).
	KeyContextID attribute.Key = "wasend.context.id"
	// KeyContextStatus is a browser context's status (wasend.ContextStatus).
	KeyContextStatus attribute.Key = "wasend.context.status"
	// KeyJobID and KeyMessageID are a job's and a message's ids (ints).
	KeyJobID     attribute.Key = "wasend.job.id"
	KeyMessageID attribute.Key = "wasend.message.id"
	// KeyJobKind is a job's kind (wasend.JobKind: single or bulk).
	KeyJobKind attribute.Key = "wasend.job.kind"
	// KeyMessageStatus is a message's final status (wasend.MessageStatus).
	KeyMessageStatus attribute.Key = "wasend.message.status"
	// KeyAttemptNumber is an attempt's number for its message, from 1.
	KeyAttemptNumber attribute.Key = "wasend.attempt.number"
	// KeyAttemptClicked says whether an attempt reached the click (a bool).
	KeyAttemptClicked attribute.Key = "wasend.attempt.clicked"
	// KeyWaitReason is why a job waited (wasend.WaitReason).
	KeyWaitReason attribute.Key = "wasend.wait.reason"
	// KeyEventState is an outbox event's state: pending or dead.
	KeyEventState attribute.Key = "wasend.event.state"
	// KeyQueueState is a queue delivery's state: waiting, delayed or
	// in_flight.
	KeyQueueState attribute.Key = "wasend.queue.state"
	// KeyErrorType is the semantic conventions' error.type: the wasend
	// ErrorKind of a failure.
	KeyErrorType attribute.Key = "error.type"
)

// otherError is error.type for an error without a kind, as the semantic
// conventions name it.
const otherError = "_OTHER"

// durationBuckets are the bounds, in seconds, of the send duration
// histogram: a browser send takes from a fraction of a second to the send
// timeout.
var durationBuckets = []float64{0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120}

// Observer is a wasend.Observer that records wasend's metrics and traces
// on the OpenTelemetry API (see the package documentation). Give it to the
// Client with wasend.WithObserver, and register the Client for its gauges
// with RegisterClient. It is safe for concurrent use.
type Observer struct {
	cfg    config
	tracer trace.Tracer
	meter  metric.Meter

	messages metric.Int64Counter
	attempts metric.Int64Counter
	duration metric.Float64Histogram
	waits    metric.Int64Counter

	contexts metric.Int64ObservableGauge
	memory   metric.Int64ObservableGauge
	queue    metric.Int64ObservableGauge
	oldest   metric.Float64ObservableGauge
	events   metric.Int64ObservableGauge

	mu         sync.Mutex
	registered bool
}

var _ wasend.Observer = (*Observer)(nil)

// New returns an Observer whose instruments and tracer come from the
// providers of the options, under the scope ScopeName. It returns an error
// wrapping wasend.ErrInvalidOption when an option is wrong, or the
// provider's error when an instrument cannot be created. New starts no
// goroutine.
func New(opts ...Option) (*Observer, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	o := &Observer{cfg: cfg, meter: cfg.meterProvider.Meter(ScopeName), tracer: cfg.tracerProvider.Tracer(ScopeName)}
	if err := o.instruments(); err != nil {
		return nil, err
	}
	return o, nil
}

func (o *Observer) instruments() error {
	m := o.meter
	var err error
	if o.messages, err = m.Int64Counter(MetricMessages, metric.WithUnit("{message}"),
		metric.WithDescription("Messages that reached their outcome (sent, failed, cancelled or unknown).")); err != nil {
		return err
	}
	if o.attempts, err = m.Int64Counter(MetricAttempts, metric.WithUnit("{attempt}"),
		metric.WithDescription("Attempts to send a message through a browser session.")); err != nil {
		return err
	}
	if o.duration, err = m.Float64Histogram(MetricSendDuration, metric.WithUnit("s"),
		metric.WithDescription("Duration of the attempts to send a message."),
		metric.WithExplicitBucketBoundaries(durationBuckets...)); err != nil {
		return err
	}
	if o.waits, err = m.Int64Counter(MetricPacingWaits, metric.WithUnit("{wait}"),
		metric.WithDescription("Times a job waited for its context's pacing or a restriction, without an attempt.")); err != nil {
		return err
	}
	if o.contexts, err = m.Int64ObservableGauge(MetricContexts, metric.WithUnit("{context}"),
		metric.WithDescription("Browser contexts by status.")); err != nil {
		return err
	}
	if o.memory, err = m.Int64ObservableGauge(MetricBrowserMemory, metric.WithUnit("By"),
		metric.WithDescription("Memory (proportional set size) of the browser of each live session.")); err != nil {
		return err
	}
	if o.queue, err = m.Int64ObservableGauge(MetricQueueDeliveries, metric.WithUnit("{delivery}"),
		metric.WithDescription("Deliveries the queue holds, by state.")); err != nil {
		return err
	}
	if o.oldest, err = m.Float64ObservableGauge(MetricOldestPendingAge, metric.WithUnit("s"),
		metric.WithDescription("Age of the oldest pending job, from its creation; 0 when none is pending.")); err != nil {
		return err
	}
	if o.events, err = m.Int64ObservableGauge(MetricOutboxEvents, metric.WithUnit("{event}"),
		metric.WithDescription("Events of the outbox not delivered, by state (pending, dead); only with WithOutbox.")); err != nil {
		return err
	}
	return nil
}

// StartAttempt implements wasend.Observer: it starts the attempt's span,
// a child of any span in ctx, and returns ctx with it. The returned func
// ends the span and records the attempt's count and duration; calls after
// the first do nothing.
func (o *Observer) StartAttempt(ctx context.Context, a wasend.Attempt) (context.Context, func(wasend.AttemptEnd)) {
	ctx, span := o.tracer.Start(ctx, SpanSend, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		KeyContextID.Int64(a.ContextID),
		KeyJobID.Int64(a.JobID),
		KeyMessageID.Int64(a.MessageID),
		KeyAttemptNumber.Int(a.Number),
		KeyJobKind.String(string(a.Kind)),
	))
	var once sync.Once
	return ctx, func(e wasend.AttemptEnd) {
		once.Do(func() { o.endAttempt(ctx, span, a, e) })
	}
}

func (o *Observer) endAttempt(ctx context.Context, span trace.Span, a wasend.Attempt, e wasend.AttemptEnd) {
	attrs := []attribute.KeyValue{KeyContextID.Int64(a.ContextID), KeyJobKind.String(string(a.Kind)),
		KeyAttemptClicked.Bool(e.Clicked)}
	span.SetAttributes(KeyAttemptClicked.Bool(e.Clicked))
	if kind := errorType(e); kind != "" {
		attrs = append(attrs, KeyErrorType.String(kind))
		span.SetAttributes(KeyErrorType.String(kind))
		// The error's text is left out: an adapter's error may quote a
		// number or a text.
		span.SetStatus(codes.Error, kind)
	}
	// The measurements are made in the span's ctx, so that an SDK that
	// keeps exemplars links them to the span.
	set := metric.WithAttributeSet(attribute.NewSet(attrs...))
	o.attempts.Add(ctx, 1, set)
	o.duration.Record(ctx, e.Duration.Seconds(), set)
	span.End()
}

// errorType is error.type for an attempt's end: its ErrorKind, _OTHER for
// an error without one, or "" for a success.
func errorType(e wasend.AttemptEnd) string {
	switch {
	case e.Err == nil:
		return ""
	case e.ErrorKind == wasend.ErrorKindNone:
		return otherError
	}
	return string(e.ErrorKind)
}

// Turn implements wasend.Observer: a turn that gives a message its
// outcome is counted in MetricMessages.
func (o *Observer) Turn(t wasend.Turn) {
	if !t.Final {
		return
	}
	attrs := []attribute.KeyValue{KeyContextID.Int64(t.ContextID), KeyMessageStatus.String(string(t.Status))}
	if t.ErrorKind != wasend.ErrorKindNone {
		attrs = append(attrs, KeyErrorType.String(string(t.ErrorKind)))
	}
	o.messages.Add(context.Background(), 1, metric.WithAttributeSet(attribute.NewSet(attrs...)))
}

// Waited implements wasend.Observer: the wait is counted in
// MetricPacingWaits.
func (o *Observer) Waited(w wasend.Wait) {
	o.waits.Add(context.Background(), 1, metric.WithAttributes(KeyContextID.Int64(w.ContextID),
		KeyWaitReason.String(string(w.Reason))))
}
