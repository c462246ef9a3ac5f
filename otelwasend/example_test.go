package otelwasend_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/otelwasend"
	"github.com/wasend/wasend/wasendtest"
)

// This example wires an Observer on SDK providers into a Client on
// in-memory back ends, sends a message, and reads the metrics and the span.
// A real host gives the SDK an exporter (Prometheus, OTLP) instead of a
// ManualReader and a SpanRecorder.
func Example() {
	ctx := context.Background()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(ctx)
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	defer tp.Shutdown(ctx)

	obs, err := otelwasend.New(otelwasend.WithMeterProvider(mp), otelwasend.WithTracerProvider(tp))
	if err != nil {
		panic(err)
	}
	pool, queue, store := wasendtest.NewPool(), wasendtest.NewQueue(), wasendtest.NewStore()
	defer queue.Close()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	client, err := wasend.New(pool, queue, store, wasend.WithObserver(obs),
		wasend.WithLogger(quiet), wasend.WithPacing(wasend.NoPacing()))
	if err != nil {
		panic(err)
	}
	defer client.Close()
	reg, err := obs.RegisterClient(client)
	if err != nil {
		panic(err)
	}
	defer reg.Unregister()

	// Run sends until its ctx ends; the example waits for it to return.
	runCtx, stop := context.WithCancel(ctx)
	ran := make(chan error, 1)
	go func() { ran <- client.Run(runCtx) }()
	defer func() { stop(); <-ran }()
	bc, err := client.CreateContext(ctx)
	if err != nil {
		panic(err)
	}
	job, err := client.Send(ctx, bc.ID, "+54 9 11 2233-4455", "Hola!")
	if err != nil {
		panic(err)
	}
	for !job.Status.Final() {
		time.Sleep(5 * time.Millisecond)
		if job, err = client.Job(ctx, job.ID); err != nil {
			panic(err)
		}
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		panic(err)
	}
	for _, m := range rm.ScopeMetrics[0].Metrics {
		if sum, ok := m.Data.(metricdata.Sum[int64]); ok && m.Name == otelwasend.MetricMessages {
			for _, dp := range sum.DataPoints {
				fmt.Println(m.Name, dp.Attributes.Encoded(attribute.DefaultEncoder()), dp.Value)
			}
		}
	}
	for _, s := range spans.Ended() {
		fmt.Println(s.Name(), s.SpanKind(), s.Status().Code)
	}
	// Output:
	// wasend.messages wasend.context.id=1,wasend.message.status=sent 1
	// wasend.send client Unset
}
