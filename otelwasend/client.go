package otelwasend

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/wasend/wasend"
)

// The values of KeyQueueState.
const (
	QueueWaiting  = "waiting"
	QueueDelayed  = "delayed"
	QueueInFlight = "in_flight"
)

// Registration is the registration of a Client's gauges (RegisterClient).
type Registration struct {
	o    *Observer
	mu   sync.Mutex
	reg  metric.Registration
	done bool
}

// RegisterClient registers the gauges read from client: browser contexts
// by status, browser memory, queue deliveries and the age of the oldest
// pending job (see the package documentation). They are read when the
// MeterProvider's reader collects, by one callback that calls
// client.Stats and client.Jobs once each, within the collect timeout
// (WithCollectTimeout). RegisterClient starts no goroutine.
//
// One Client at a time may be registered with an Observer: while one is,
// RegisterClient returns ErrClientRegistered. A nil client gives an error
// wrapping wasend.ErrInvalidOption.
func (o *Observer) RegisterClient(client *wasend.Client) (*Registration, error) {
	if client == nil {
		return nil, invalid("nil Client")
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.registered {
		return nil, ErrClientRegistered
	}
	g := &gauges{o: o, client: client, timeout: o.cfg.collectTimeout}
	reg, err := o.meter.RegisterCallback(g.collect, o.contexts, o.memory, o.queue, o.oldest, o.events)
	if err != nil {
		return nil, err
	}
	o.registered = true
	return &Registration{o: o, reg: reg}, nil
}

// Unregister stops the collection of the Client's gauges; another Client
// may be registered after it. Calls after the first return nil.
func (r *Registration) Unregister() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return nil
	}
	r.done = true
	err := r.reg.Unregister()
	r.o.mu.Lock()
	r.o.registered = false
	r.o.mu.Unlock()
	return err
}

// gauges reads a Client's figures for one collection.
type gauges struct {
	o       *Observer
	client  *wasend.Client
	timeout time.Duration
}

// collect observes every gauge from one call of Stats and one of Jobs.
// When the store fails, it observes nothing and returns the error, which
// the SDK hands on (a PeriodicReader to otel.Handle, a ManualReader's
// Collect to its caller). When only the queue fails, the queue's gauge is
// left out and the error is returned too.
func (g *gauges) collect(ctx context.Context, obs metric.Observer) error {
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	st, statsErr := g.client.Stats(ctx)
	if statsErr != nil && (!errors.Is(statsErr, wasend.ErrQueue) || st.Messages == nil) {
		return fmt.Errorf("otelwasend: client stats: %w", statsErr)
	}
	page, err := g.client.Jobs(ctx, wasend.JobFilter{Statuses: []wasend.JobStatus{wasend.JobPending}, Limit: 1})
	if err != nil {
		return fmt.Errorf("otelwasend: oldest pending job: %w", err)
	}
	now := time.Now()

	byStatus := make(map[wasend.ContextStatus]int64, len(wasend.ContextStatuses()))
	for _, s := range wasend.ContextStatuses() {
		byStatus[s] = 0
	}
	for _, c := range st.Contexts {
		byStatus[c.Status]++
		if c.MemoryPSS >= 0 {
			obs.ObserveInt64(g.o.memory, c.MemoryPSS, metric.WithAttributes(KeyContextID.Int64(c.ID)))
		}
	}
	for s, n := range byStatus {
		obs.ObserveInt64(g.o.contexts, n, metric.WithAttributes(KeyContextStatus.String(string(s))))
	}
	for _, q := range []struct {
		state string
		n     int64
	}{{QueueWaiting, st.Queue.Waiting}, {QueueDelayed, st.Queue.Delayed}, {QueueInFlight, st.Queue.InFlight}} {
		if q.n >= 0 {
			obs.ObserveInt64(g.o.queue, q.n, metric.WithAttributeSet(attribute.NewSet(KeyQueueState.String(q.state))))
		}
	}
	age := 0.0
	if len(page.Jobs) > 0 {
		age = max(now.Sub(page.Jobs[0].CreatedAt).Seconds(), 0)
	}
	obs.ObserveFloat64(g.o.oldest, age)
	if ob := st.Outbox; ob != nil {
		obs.ObserveInt64(g.o.events, ob.Pending, metric.WithAttributes(KeyEventState.String("pending")))
		obs.ObserveInt64(g.o.events, ob.Dead, metric.WithAttributes(KeyEventState.String("dead")))
	}
	if statsErr != nil {
		return fmt.Errorf("otelwasend: client stats: %w", statsErr)
	}
	return nil
}
