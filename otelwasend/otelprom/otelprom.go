// Package otelprom serves wasend's metrics (otelwasend) in the Prometheus
// text format, for a /metrics endpoint, through the OpenTelemetry
// Prometheus exporter on a registry of its own.
//
// # Use
//
//	exp, err := otelprom.New()
//	obs, err := otelwasend.New(otelwasend.WithMeterProvider(exp.MeterProvider()))
//	client, err := wasend.New(pool, queue, store, wasend.WithObserver(obs))
//	reg, err := obs.RegisterClient(client) // the gauges
//	http.Handle("GET /metrics", exp.Handler())
//
// The metrics' names follow the exporter's translation of OpenTelemetry
// names: wasend.messages becomes wasend_messages_total, and
// wasend.send.duration (in seconds) wasend_send_duration_seconds.
package otelprom

import (
	"context"
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprometheus "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// Exporter is a MeterProvider whose metrics an http.Handler serves in the
// Prometheus text format. It is safe for concurrent use.
type Exporter struct {
	provider *sdkmetric.MeterProvider
	handler  http.Handler
}

// New returns an Exporter on a Prometheus registry of its own (the
// process's default registry is left alone).
func New() (*Exporter, error) {
	reg := prometheus.NewRegistry()
	exp, err := otelprometheus.New(otelprometheus.WithRegisterer(reg))
	if err != nil {
		return nil, fmt.Errorf("otelprom: %w", err)
	}
	return &Exporter{
		provider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp)),
		handler:  promhttp.HandlerFor(reg, promhttp.HandlerOpts{}),
	}, nil
}

// MeterProvider returns the provider to record to
// (otelwasend.WithMeterProvider).
func (e *Exporter) MeterProvider() metric.MeterProvider { return e.provider }

// Handler returns the handler that serves the metrics (GET /metrics).
func (e *Exporter) Handler() http.Handler { return e.handler }

// Shutdown stops the provider; the handler then serves nothing new.
func (e *Exporter) Shutdown(ctx context.Context) error { return e.provider.Shutdown(ctx) }
