package chromedpdriver

import (
	"fmt"
	"sort"
	"testing"
	"time"
)

// BenchmarkSendText sends messages through one persistent session against
// fakewa, each to another chat, and reports the median send time and the
// browser's memory (PSS summed over its processes): with the watch for a
// rejection after the tick (the default) and without it.
func BenchmarkSendText(b *testing.B) {
	for _, watch := range []time.Duration{DefaultRejectWatch, 0} {
		b.Run(fmt.Sprintf("reject-watch=%v", watch), func(b *testing.B) { benchSendText(b, watch) })
	}
}

func benchSendText(b *testing.B, watch time.Duration) {
	f, base := startFake(b)
	p, _ := testPool(b, base, WithRejectWatch(watch))
	s, rec := launch(b, p, "")
	const me = "15550009001"
	login(b, f, s, rec, 0, me)
	var times []time.Duration
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		if _, err := s.SendText(quickCtx(b, 20*time.Second), fmt.Sprintf("+1555900%04d", i%50), "benchmark message ✓"); err != nil {
			b.Fatal(err)
		}
		times = append(times, time.Since(start))
	}
	b.StopTimer()
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "p50-ms")
	if pss, err := s.MemoryPSS(); err == nil {
		b.ReportMetric(float64(pss>>20), "pss-MiB")
	}
}
