package redisqueue

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
)

// The benchmarks and TestMeasureIdleLoad need a real Redis
// (WASEND_TEST_REDIS).

func BenchmarkEnqueue(b *testing.B) {
	q := newTestQueue(b, realBackend(b))
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d := wasend.Delivery{JobID: int64(i), ContextID: int64(i % 10), Kind: wasend.KindSingle}
		if err := q.Enqueue(ctx, d, 0); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "enqueues/s")
}

func BenchmarkEnqueueParallel(b *testing.B) {
	q := newTestQueue(b, realBackend(b))
	ctx := context.Background()
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			if err := q.Enqueue(ctx, wasend.Delivery{JobID: i, ContextID: i % 10}, 0); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "enqueues/s")
}

// BenchmarkDeliver measures deliveries/s through 10 consumed contexts with
// DefaultWorkers workers each and a no-op handler; the deliveries are
// enqueued while the consumers run.
func BenchmarkDeliver(b *testing.B) {
	const contexts = 10
	q := newTestQueue(b, realBackend(b))
	ctx := context.Background()
	var handled atomic.Int64
	for c := int64(0); c < contexts; c++ {
		consumeAsync(b, q, c, func(context.Context, wasend.Delivery) error {
			handled.Add(1)
			return nil
		})
	}
	time.Sleep(100 * time.Millisecond)
	b.ResetTimer()
	go func() {
		for i := 0; i < b.N; i++ {
			if err := q.Enqueue(ctx, wasend.Delivery{JobID: int64(i), ContextID: int64(i % contexts)}, 0); err != nil {
				b.Error(err)
				return
			}
		}
	}()
	deadline := time.Now().Add(5*time.Minute + time.Duration(b.N)*time.Millisecond)
	for handled.Load() < int64(b.N) {
		if time.Now().After(deadline) {
			b.Fatalf("handled %d of %d", handled.Load(), b.N)
		}
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "deliveries/s")
}

// BenchmarkDeliverBacklog is BenchmarkDeliver with the deliveries enqueued
// before the consumers start.
func BenchmarkDeliverBacklog(b *testing.B) {
	const contexts = 10
	q := newTestQueue(b, realBackend(b))
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		require.NoError(b, q.Enqueue(ctx, wasend.Delivery{JobID: int64(i), ContextID: int64(i % contexts)}, 0))
	}
	var handled atomic.Int64
	b.ResetTimer()
	for c := int64(0); c < contexts; c++ {
		consumeAsync(b, q, c, func(context.Context, wasend.Delivery) error {
			handled.Add(1)
			return nil
		})
	}
	deadline := time.Now().Add(5*time.Minute + time.Duration(b.N)*time.Millisecond)
	for handled.Load() < int64(b.N) {
		if time.Now().After(deadline) {
			b.Fatalf("handled %d of %d", handled.Load(), b.N)
		}
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "deliveries/s")
}

// BenchmarkIdleLoad reports the Redis commands per second caused by idle
// consumed contexts, with the default scheduler interval and with 1 s, for
// 1, 10 and 100 contexts. Each case measures a 10-second window once,
// whatever b.N is; run it on an otherwise idle Redis:
//
//	go test -run '^$' -bench BenchmarkIdleLoad -benchtime 1x ./redisqueue/
func BenchmarkIdleLoad(b *testing.B) {
	be := realBackend(b)
	rdb := client(b, be)
	ctx := context.Background()
	commands := func() int64 {
		info, err := rdb.Info(ctx, "stats").Result()
		require.NoError(b, err)
		for _, line := range strings.Split(info, "\r\n") {
			if v, ok := strings.CutPrefix(line, "total_commands_processed:"); ok {
				n, err := strconv.ParseInt(v, 10, 64)
				require.NoError(b, err)
				return n
			}
		}
		b.Fatal("no total_commands_processed")
		return 0
	}
	const window = 10 * time.Second
	rate := func() float64 {
		c0 := commands()
		time.Sleep(window)
		return float64(commands()-c0-1) / window.Seconds()
	}
	b.Run("baseline", func(b *testing.B) {
		b.ReportMetric(rate(), "commands/s")
		b.ReportMetric(0, "ns/op")
	})
	for _, interval := range []time.Duration{DefaultSchedulerInterval, time.Second} {
		for _, n := range []int{1, 10, 100} {
			b.Run(fmt.Sprintf("interval=%s/contexts=%d", interval, n), func(b *testing.B) {
				q := newTestQueue(b, be, WithSchedulerInterval(interval))
				for c := 0; c < n; c++ {
					consumeAsync(b, q, int64(c), func(context.Context, wasend.Delivery) error { return nil })
				}
				time.Sleep(2 * time.Second)
				r := rate()
				require.NoError(b, q.Close())
				b.ReportMetric(r, "commands/s")
				b.ReportMetric(r/float64(n), "commands/s/context")
				b.ReportMetric(0, "ns/op")
			})
		}
	}
}
