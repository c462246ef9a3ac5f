package otelwasend

import (
	"fmt"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/wasend/wasend"
)

// ScopeName is the instrumentation scope of the meter and the tracer: the
// wasend module's path.
const ScopeName = "github.com/wasend/wasend"

// DefaultCollectTimeout bounds the store and queue calls that one
// collection of the Client's gauges makes (RegisterClient).
const DefaultCollectTimeout = 5 * time.Second

// Option configures an Observer. Options are applied in order; the last
// one that sets a value wins.
type Option func(*config)

type config struct {
	meterProvider  metric.MeterProvider
	tracerProvider trace.TracerProvider
	collectTimeout time.Duration
}

// WithMeterProvider sets the MeterProvider the Observer's instruments come
// from. Default: the global one, otel.GetMeterProvider(), read by New.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) { c.meterProvider = mp }
}

// WithTracerProvider sets the TracerProvider the attempts' spans come
// from. Default: the global one, otel.GetTracerProvider(), read by New.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) { c.tracerProvider = tp }
}

// WithCollectTimeout bounds the calls (Client.Stats and Client.Jobs) that
// one collection of the gauges of RegisterClient makes, so that a slow
// store never holds up the collector; it must be positive. Default:
// DefaultCollectTimeout (5 seconds).
func WithCollectTimeout(d time.Duration) Option {
	return func(c *config) { c.collectTimeout = d }
}

func newConfig(opts []Option) (config, error) {
	c := config{
		meterProvider:  otel.GetMeterProvider(),
		tracerProvider: otel.GetTracerProvider(),
		collectTimeout: DefaultCollectTimeout,
	}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	switch {
	case c.meterProvider == nil:
		return c, invalid("nil MeterProvider")
	case c.tracerProvider == nil:
		return c, invalid("nil TracerProvider")
	case c.collectTimeout <= 0:
		return c, invalid("collect timeout %v is not positive", c.collectTimeout)
	}
	return c, nil
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("otelwasend: "+format+": %w", append(args, wasend.ErrInvalidOption)...)
}
