// Package otelwasend records wasend's metrics and traces on the
// OpenTelemetry API. It is the one place where wasend meets OpenTelemetry:
// the root package imports only the standard library, and tells what the
// Client does to a wasend.Observer, which this package implements.
//
//	obs, err := otelwasend.New() // the global MeterProvider and TracerProvider
//	if err != nil { ... }
//	client, err := wasend.New(pool, queue, store, wasend.WithObserver(obs))
//	if err != nil { ... }
//	defer client.Close()
//	reg, err := obs.RegisterClient(client) // the gauges read from the Client
//	if err != nil { ... }
//	defer reg.Unregister() // before the Client closes
//
// WithMeterProvider and WithTracerProvider set other providers. The package
// uses only the API: the host sets up the SDK, its readers and exporters
// (a Prometheus exporter, OTLP, ...). The meter and the tracer are named
// ScopeName ("github.com/wasend/wasend").
//
// # Metrics
//
// Counters and the histogram are recorded as the Client works, from the
// calls of the wasend.Observer interface (StartAttempt, Turn, Waited):
//
//   - wasend.messages ({message}, counter): messages that reached their
//     outcome (Observer.Turn with Final set): in a worker's turn, or
//     outside one, when their job is cancelled, failed by its closed
//     context or dead-lettered. Attributes: wasend.context.id (int),
//     wasend.message.status (sent, failed, cancelled or unknown) and
//     error.type (the message's wasend.ErrorKind, such as not_on_whatsapp;
//     absent when it has none). A message of a campaign that moves to
//     another context is not counted; its copy is, when it ends.
//   - wasend.attempts ({attempt}, counter): attempts to send a message
//     through a session (the end of Observer.StartAttempt). Attributes:
//     wasend.context.id, wasend.job.kind (single or bulk), error.type (the
//     attempt's ErrorKind; absent when the session confirmed the send) and
//     wasend.attempt.clicked (bool: the session reached the click, so the
//     message may have left).
//   - wasend.send.duration (s, histogram): the duration of each attempt,
//     with the attributes of wasend.attempts, in buckets from 0.05 s to
//     120 s (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120); an SDK
//     View can set others. It is recorded in the attempt's span's ctx, so
//     an SDK that keeps exemplars links them to the span.
//   - wasend.pacing.waits ({wait}, counter): the times a job waited for
//     its context's pacing or a restriction without spending an attempt
//     (Observer.Waited). Attributes: wasend.context.id and
//     wasend.wait.reason (a wasend.WaitReason: gap, hourly_cap, daily_cap,
//     new_contact_cap, same_text, window, restricted, new_chats_locked,
//     breaker, ...).
//
// The gauges are read from the Client registered with RegisterClient, when
// the reader collects: one callback calls Client.Stats once and Client.Jobs
// once, within the collect timeout (WithCollectTimeout, default
// DefaultCollectTimeout), so that a slow store never holds up the
// collector. When the store fails or times out, no gauge is reported for
// that collection and the callback returns the error, which the SDK hands
// on (a PeriodicReader to otel.Handle, a ManualReader's Collect to its
// caller). When only the queue fails, the queue's gauge is left out and the
// error is returned too.
//
//   - wasend.contexts ({context}, gauge): browser contexts by status, from
//     Stats.Contexts. Attribute: wasend.context.status; every status of
//     wasend.ContextStatuses is present, 0 included.
//   - wasend.browser.memory (By, gauge): the memory (proportional set
//     size) of the browser of each session live in this process, from
//     ContextStats.MemoryPSS. Attribute: wasend.context.id. Contexts whose
//     memory is not known here (-1) are left out.
//   - wasend.queue.deliveries ({delivery}, gauge): the deliveries the
//     queue holds, from Stats.Queue. Attribute: wasend.queue.state
//     (waiting, delayed, in_flight); a counter the queue cannot tell (-1)
//     is left out.
//   - wasend.jobs.oldest_pending.age (s, gauge): the age, from its
//     creation, of the oldest pending job, from Client.Jobs (pending,
//     oldest first, one job); 0 when no job is pending. A job scheduled
//     for later (wasend.NotBefore) is pending too, and counts.
//   - wasend.outbox.events ({event}, gauge): the outbox's events not
//     delivered, from Stats.Outbox, with wasend.WithOutbox only.
//     Attribute: wasend.event.state (pending, dead).
//
// One Client at a time may be registered with an Observer (the gauges of
// two would clash); RegisterClient returns ErrClientRegistered otherwise.
// Each collection costs the store the queries of Client.Stats: set the
// reader's interval accordingly.
//
// Not here yet: the queue's cumulative counters (Processed, Retried,
// Failed).
//
// # Traces
//
// Each attempt is a span named wasend.send, of kind client, started by
// StartAttempt as a child of any span in the Client's ctx, and ended when
// the attempt ends. Its attributes are wasend.context.id, wasend.job.id,
// wasend.message.id, wasend.attempt.number (from 1) and wasend.job.kind,
// and, at its end, wasend.attempt.clicked. An attempt that failed has the
// status Error, with its ErrorKind as description and as error.type.
//
// # What is never recorded
//
// No metric and no span holds a phone number, a text, a job's metadata or
// an error's message: the wasend.Observer calls hold none of the first
// three, and the error's message is left out (a session's or a store's
// error may quote a number or a text), so spans record no exception event.
// A failure is told by its wasend.ErrorKind alone. The attributes are ids,
// kinds and statuses; the context id's cardinality is the number of
// browser contexts.
package otelwasend
