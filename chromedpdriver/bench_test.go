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

// BenchmarkAckFollowing measures what following ticks costs, on 1 and on
// 10 sessions (contexts) against one fakewa, with the default poll
// interval (250 ms) and visit interval (30 s): page evaluations per minute
// and the CPU time of the browsers' processes per minute, summed over the
// sessions, over windows of benchWindow, without following (the monitor
// alone), following 20 messages per session while idle (10 of them the
// last of their chat, shown by the chat list, and 10 older ones, which
// need visits), and following them while sending. The fleet sends one
// message every 2 s in all, round robin over its sessions (a paced fleet
// sends no faster), so the two sizes differ only by the number of
// sessions that follow and idle. It prints the figures; it asserts no
// timing.
//
//	go test -run '^$' -bench BenchmarkAckFollowing -benchtime 1x ./chromedpdriver/
func BenchmarkAckFollowing(b *testing.B) {
	for _, n := range []int{1, 10} {
		b.Run(fmt.Sprintf("contexts=%d", n), func(b *testing.B) { benchAckFollowing(b, n) })
	}
}

func benchAckFollowing(b *testing.B, contexts int) {
	f, base := startFake(b)
	p, _ := testPool(b, base, WithPollInterval(DefaultPollInterval), WithWatchdog(DefaultWatchdogInterval, DefaultWatchdogTimeout),
		WithAckVisitInterval(DefaultAckVisitInterval))
	sessions := make([]*Session, contexts)
	mes := make([]string, contexts)
	for c := range contexts {
		s, rec := launch(b, p, "")
		mes[c] = fmt.Sprintf("155500091%02d", c)
		login(b, f, s, rec, 0, mes[c])
		sessions[c] = s
	}
	// Each session sends its 20 messages, the sessions side by side.
	msgs := make([][]wasend.TrackedMessage, contexts)
	errs := make(chan error, contexts)
	for c, s := range sessions {
		go func() {
			for i := range 10 {
				to := fmt.Sprintf("+1555%02d1%04d", c, i)
				for j, text := range []string{"an older message", "the last message"} {
					r, err := s.SendText(quickCtx(b, 60*time.Second), to, text)
					if err != nil {
						errs <- err
						return
					}
					msgs[c] = append(msgs[c], wasend.TrackedMessage{MessageID: int64(2*i + j + 1), To: to, WAMessageID: r.MessageID, Text: text, SentAt: r.SentAt, Ack: wasend.AckSent})
				}
				f.SetNeverDeliver(mes[c], to[1:], true) // later messages stay at one tick: followed for good
			}
			errs <- nil
		}()
	}
	for range sessions {
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}
	window := benchWindow()
	evals := func() (n int64) {
		for _, s := range sessions {
			n += s.evals.Load()
		}
		return n
	}
	pids := func() (all []int) {
		for _, s := range sessions {
			all = append(all, s.pids()...)
		}
		return all
	}
	measure := func(b *testing.B, during func(stop <-chan struct{})) {
		b.Helper()
		stop := make(chan struct{})
		done := make(chan struct{})
		evals0 := evals()
		cpu0, cpuErr := browserCPU(pids())
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
		cpu1, cpuErr1 := browserCPU(pids())
		perMin := float64(time.Minute) / float64(el)
		b.ReportMetric(float64(evals()-evals0)*perMin, "evals/min")
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
				s := sessions[i%contexts]
				if _, err := s.SendText(quickCtx(b, 20*time.Second), fmt.Sprintf("+1555920%04d", i%20), "while following"); err != nil {
					b.Error(err)
				}
			}
		}
	}
	follow := func(b *testing.B, on bool) {
		for c, s := range sessions {
			var m []wasend.TrackedMessage
			if on {
				m = msgs[c]
			}
			if err := s.FollowAcks(quickCtx(b, time.Second), m); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("not-following/idle", func(b *testing.B) {
		follow(b, false)
		measure(b, nil)
	})
	b.Run("not-following/sending", func(b *testing.B) { measure(b, sendEvery(2*time.Second)) })
	b.Run("following-20/idle", func(b *testing.B) {
		follow(b, true)
		measure(b, nil)
	})
	b.Run("following-20/sending", func(b *testing.B) { measure(b, sendEvery(2*time.Second)) })
}

// BenchmarkSendMedia compares, in one run on one session, the send time
// of a text with that of a 1 MB JPEG (with a caption), sent in turns to
// the same chats, and reports the median and p90 of each and the ratio
// of the medians. It asserts no timing.
//
//	go test -run '^$' -bench BenchmarkSendMedia -benchtime 20x ./chromedpdriver/
func BenchmarkSendMedia(b *testing.B) {
	f, base := startFake(b)
	p, _ := testPool(b, base)
	s, rec := launch(b, p, "")
	login(b, f, s, rec, 0, "15550009201")
	img := encodeJPEG(b, testImage(760, 760))
	for len(img) < 1<<20 { // noise compresses little: pad with a comment segment if short
		img = append(img[:2:2], append([]byte{0xFF, 0xFE, 0x40, 0x00}, append(bytes.Repeat([]byte{'w'}, 0x4000-2), img[2:]...)...)...)
	}
	path := writeFile(b, b.TempDir(), "photo-1mb.jpg", img)
	b.Logf("image: %d bytes", len(img))
	var texts, images []time.Duration
	b.ResetTimer()
	for i := range b.N {
		to := fmt.Sprintf("+1555930%04d", i%10)
		start := time.Now()
		if _, err := s.SendText(quickCtx(b, 60*time.Second), to, "benchmark text ✓"); err != nil {
			b.Fatal(err)
		}
		texts = append(texts, time.Since(start))
		start = time.Now()
		if _, err := s.SendMedia(quickCtx(b, 60*time.Second), to, wasend.MediaFile{Kind: wasend.MediaImage, Path: path, Caption: fmt.Sprintf("benchmark image %d", i)}); err != nil {
			b.Fatal(err)
		}
		images = append(images, time.Since(start))
	}
	b.StopTimer()
	tp50, tp90 := percentiles(texts)
	ip50, ip90 := percentiles(images)
	b.ReportMetric(ms(tp50), "text-p50-ms")
	b.ReportMetric(ms(tp90), "text-p90-ms")
	b.ReportMetric(ms(ip50), "image-p50-ms")
	b.ReportMetric(ms(ip90), "image-p90-ms")
	b.ReportMetric(float64(ip50)/float64(tp50), "image/text")
}

// percentiles returns the median and the 90th percentile of d, sorted in
// place.
func percentiles(d []time.Duration) (p50, p90 time.Duration) {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[len(d)/2], d[len(d)*9/10]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

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
