package chromedpdriver

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wasend/wasend"
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

// BenchmarkAckFollowing measures what following ticks costs one session
// (1 context) against fakewa, with the default poll interval (250 ms) and
// visit interval (30 s): page evaluations per minute and the CPU time of
// the browser's processes per minute, over windows of benchWindow,
// without following (the monitor alone), following 20 messages while idle
// (10 of them the last of their chat, shown by the chat list, and 10
// older ones, which need visits), and following them while sending a
// message every 2 s. It prints the figures; it asserts no timing.
//
//	go test -run '^$' -bench BenchmarkAckFollowing -benchtime 1x ./chromedpdriver/
func BenchmarkAckFollowing(b *testing.B) {
	f, base := startFake(b)
	p, _ := testPool(b, base, WithPollInterval(DefaultPollInterval), WithWatchdog(DefaultWatchdogInterval, DefaultWatchdogTimeout),
		WithAckVisitInterval(DefaultAckVisitInterval))
	s, rec := launch(b, p, "")
	const me = "15550009101"
	login(b, f, s, rec, 0, me)
	var msgs []wasend.TrackedMessage
	for i := range 10 {
		to := fmt.Sprintf("+1555910%04d", i)
		for j, text := range []string{"an older message", "the last message"} {
			r, err := s.SendText(quickCtx(b, 20*time.Second), to, text)
			if err != nil {
				b.Fatal(err)
			}
			msgs = append(msgs, wasend.TrackedMessage{MessageID: int64(2*i + j + 1), To: to, WAMessageID: r.MessageID, Text: text, SentAt: r.SentAt, Ack: wasend.AckSent})
		}
		f.SetNeverDeliver(me, to[1:], true) // later messages stay at one tick: followed for good
	}
	window := benchWindow()
	measure := func(b *testing.B, during func(stop <-chan struct{})) {
		b.Helper()
		stop := make(chan struct{})
		done := make(chan struct{})
		evals0 := s.evals.Load()
		cpu0, cpuErr := browserCPU(s.pids())
		start := time.Now()
		go func() {
			defer close(done)
			if during != nil {
				during(stop)
			}
		}()
		time.Sleep(window)
		close(stop)
		<-done
		el := time.Since(start)
		cpu1, cpuErr1 := browserCPU(s.pids())
		perMin := float64(time.Minute) / float64(el)
		b.ReportMetric(float64(s.evals.Load()-evals0)*perMin, "evals/min")
		if cpuErr == nil && cpuErr1 == nil {
			b.ReportMetric(float64((cpu1-cpu0).Milliseconds())*perMin, "cpu-ms/min")
		} else {
			b.Logf("no CPU time: %v %v", cpuErr, cpuErr1)
		}
	}
	sendEvery := func(d time.Duration) func(stop <-chan struct{}) {
		return func(stop <-chan struct{}) {
			t := time.NewTicker(d)
			defer t.Stop()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				case <-t.C:
				}
				if _, err := s.SendText(quickCtx(b, 20*time.Second), fmt.Sprintf("+1555920%04d", i%20), "while following"); err != nil {
					b.Error(err)
				}
			}
		}
	}
	b.Run("not-following/idle", func(b *testing.B) {
		if err := s.FollowAcks(quickCtx(b, time.Second), nil); err != nil {
			b.Fatal(err)
		}
		measure(b, nil)
	})
	b.Run("not-following/sending", func(b *testing.B) { measure(b, sendEvery(2*time.Second)) })
	b.Run("following-20/idle", func(b *testing.B) {
		if err := s.FollowAcks(quickCtx(b, time.Second), msgs); err != nil {
			b.Fatal(err)
		}
		measure(b, nil)
	})
	b.Run("following-20/sending", func(b *testing.B) { measure(b, sendEvery(2*time.Second)) })
}

// benchWindow is how long BenchmarkAckFollowing measures each case:
// WASEND_BENCH_WINDOW (a duration), or 30 s.
func benchWindow() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("WASEND_BENCH_WINDOW")); err == nil && d > 0 {
		return d
	}
	return 30 * time.Second
}

// browserCPU sums the CPU time (user and system) of the processes pids,
// read from /proc/<pid>/stat; it fails where there is no /proc. A process
// that exits between two readings takes its time with it.
func browserCPU(pids []int) (time.Duration, error) {
	if len(pids) == 0 {
		return 0, errors.New("no browser process")
	}
	var ticks int64
	read := 0
	var firstErr error
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		// The command may hold spaces and parentheses: the fields
		// follow the last ')'. utime and stime are fields 14 and 15.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 13 {
			continue
		}
		u, err1 := strconv.ParseInt(f[11], 10, 64)
		st, err2 := strconv.ParseInt(f[12], 10, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		ticks += u + st
		read++
	}
	if read == 0 {
		return 0, fmt.Errorf("reading the browser's CPU time: %w", firstErr)
	}
	const clockTicks = 100 // USER_HZ on Linux
	return time.Duration(ticks) * time.Second / clockTicks, nil
}
