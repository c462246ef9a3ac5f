package otelwasend_test

import (
	"context"
	"errors"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/otelwasend"
	"github.com/wasend/wasend/wasendtest"
)

var bg = context.Background()

// rig is an Observer on in-memory SDK providers, given to a wasendtest
// Client whose gauges it registers.
type rig struct {
	t      *testing.T
	obs    *otelwasend.Observer
	reader *sdkmetric.ManualReader
	spans  *tracetest.SpanRecorder
	kit    *wasendtest.Client
}

// newRig returns a rig whose Client has opts after the kit's own.
func newRig(t *testing.T, opts ...wasend.Option) *rig {
	t.Helper()
	r := &rig{t: t, reader: sdkmetric.NewManualReader(), spans: tracetest.NewSpanRecorder()}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r.reader))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(r.spans))
	// Registered first, so they run after the Client is closed.
	t.Cleanup(func() {
		require.NoError(t, mp.Shutdown(bg))
		require.NoError(t, tp.Shutdown(bg))
	})
	obs, err := otelwasend.New(otelwasend.WithMeterProvider(mp), otelwasend.WithTracerProvider(tp))
	require.NoError(t, err)
	r.obs = obs
	r.kit = wasendtest.NewClient(t, wasendtest.WithClientOptions(append([]wasend.Option{wasend.WithObserver(obs)}, opts...)...))
	reg, err := obs.RegisterClient(r.kit.Client)
	require.NoError(t, err)
	// Registered last, so it runs before the Client is stopped and closed.
	t.Cleanup(func() { require.NoError(t, reg.Unregister()) })
	return r
}

// collect collects the metrics and requires that it succeeds.
func (r *rig) collect() metricdata.ResourceMetrics {
	r.t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(r.t, r.reader.Collect(bg, &rm))
	return rm
}

// metric returns the named metric, or false.
func metric(rm metricdata.ResourceMetrics, name string) (metricdata.Metrics, bool) {
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				return m, true
			}
		}
	}
	return metricdata.Metrics{}, false
}

// mustMetric returns the named metric and checks its unit and scope.
func mustMetric(t *testing.T, rm metricdata.ResourceMetrics, name, unit string) metricdata.Metrics {
	t.Helper()
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				require.Equal(t, otelwasend.ScopeName, sm.Scope.Name)
				require.Equal(t, unit, m.Unit, "unit of %s", name)
				return m
			}
		}
	}
	require.Failf(t, "metric not found", "no metric %q in %v", name, names(rm))
	return metricdata.Metrics{}
}

func names(rm metricdata.ResourceMetrics) []string {
	var out []string
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			out = append(out, m.Name)
		}
	}
	return out
}

// key writes an attribute set as "k=v,k=v", sorted by key.
func key(s attribute.Set) string { return s.Encoded(attribute.DefaultEncoder()) }

// int64Points returns an int64 sum's or gauge's values by attribute set.
func int64Points(t *testing.T, m metricdata.Metrics) map[string]int64 {
	t.Helper()
	var dps []metricdata.DataPoint[int64]
	switch d := m.Data.(type) {
	case metricdata.Sum[int64]:
		require.True(t, d.IsMonotonic, "%s is a counter", m.Name)
		dps = d.DataPoints
	case metricdata.Gauge[int64]:
		dps = d.DataPoints
	default:
		require.Failf(t, "unexpected data", "%s holds %T", m.Name, m.Data)
	}
	out := map[string]int64{}
	for _, dp := range dps {
		k := key(dp.Attributes)
		_, dup := out[k]
		require.False(t, dup, "%s has two points for %s", m.Name, k)
		out[k] = dp.Value
	}
	return out
}

// histogramCounts returns a histogram's counts by attribute set, and
// checks its bounds.
func histogramCounts(t *testing.T, m metricdata.Metrics) map[string]uint64 {
	t.Helper()
	h, ok := m.Data.(metricdata.Histogram[float64])
	require.True(t, ok, "%s holds %T", m.Name, m.Data)
	out := map[string]uint64{}
	for _, dp := range h.DataPoints {
		require.Equal(t, []float64{0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120}, dp.Bounds)
		require.Positive(t, dp.Sum, "durations are positive")
		out[key(dp.Attributes)] = dp.Count
	}
	return out
}

// allStrings returns every string a back end would receive from the
// metrics and the spans: names, attribute keys and values, statuses and
// events.
func allStrings(rm metricdata.ResourceMetrics, spans []sdktrace.ReadOnlySpan) []string {
	var out []string
	kvs := func(attrs []attribute.KeyValue) {
		for _, kv := range attrs {
			out = append(out, string(kv.Key), kv.Value.Emit())
		}
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			out = append(out, m.Name, m.Description, m.Unit)
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, dp := range d.DataPoints {
					kvs(dp.Attributes.ToSlice())
				}
			case metricdata.Gauge[int64]:
				for _, dp := range d.DataPoints {
					kvs(dp.Attributes.ToSlice())
				}
			case metricdata.Gauge[float64]:
				for _, dp := range d.DataPoints {
					kvs(dp.Attributes.ToSlice())
				}
			case metricdata.Histogram[float64]:
				for _, dp := range d.DataPoints {
					kvs(dp.Attributes.ToSlice())
					for _, ex := range dp.Exemplars {
						kvs(ex.FilteredAttributes)
					}
				}
			default:
				out = append(out, "unexpected data type")
			}
		}
	}
	for _, s := range spans {
		out = append(out, s.Name(), s.Status().Description)
		kvs(s.Attributes())
		for _, ev := range s.Events() {
			out = append(out, ev.Name)
			kvs(ev.Attributes)
		}
	}
	sort.Strings(out)
	return out
}

// attrs returns a span's attributes as a map of emitted values.
func attrs(s sdktrace.ReadOnlySpan) map[string]string {
	out := map[string]string{}
	for _, kv := range s.Attributes() {
		out[string(kv.Key)] = kv.Value.Emit()
	}
	return out
}

// slowStore is a Store whose Counts waits until its ctx ends.
type slowStore struct{ wasend.Store }

func (s slowStore) Counts(ctx context.Context) (wasend.StoreCounts, error) {
	<-ctx.Done()
	return wasend.StoreCounts{}, ctx.Err()
}

var errDown = errors.New("store down")

func contains(all []string, sub string) bool {
	for _, s := range all {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
