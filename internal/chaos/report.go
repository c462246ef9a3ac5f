package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wasend/wasend"
)

// result holds the figures of a run.
type result struct {
	planned    int
	requested  int
	once       int
	twice      int // received two times or more
	lost       int // never received, or recorded failed or cancelled
	pending    int // received once, but its record is not final yet
	unfinished int
	stuck      int
	unexpected int // received, but never requested
	received   int
	delivered  int // requested messages received at least once
	// late counts the messages not received yet of jobs still running
	// when a hung run was cut at the cap: not lost, since the run was
	// still progressing.
	late int
	end  string // endQuiescent, endStalled or endHung
	// qrLogins counts the QR codes scanned after every context was logged
	// in, and restores the logins workers restored from a snapshot. With
	// a profile root per worker (moved), a takeover must restore the login
	// without a QR code: qrLogins must be 0, and when a worker was killed
	// (wantRestore) some login must have been restored.
	qrLogins, restores int
	moved, wantRestore bool
	sendTime           time.Duration
	stall              time.Duration

	subErrs  []string
	problems []string // one line per problem message or job
	contexts []wasend.BrowserContext
	queue    []string // the queue's view of the contexts with unfinished jobs
}

func (r *result) ok() bool {
	return r.end == endQuiescent && r.twice == 0 && r.lost == 0 && r.late == 0 && r.unfinished == 0 &&
		r.stuck == 0 && r.requested == r.planned && r.unexpected == 0 &&
		(!r.moved || r.qrLogins == 0) && (!r.wantRestore || r.restores > 0)
}

// line is the run's figures, in one line. The fields up to elapsed are
// those of the first version of the suite; later ones are added after it.
// elapsed is the whole run, set-up included; send is the send phase, from
// the first submission until every job was final (or, for a stalled run,
// until the last progress; for a hung one, until the cap), and msgs_per_s
// the messages delivered in it per second.
func (r *result) line(elapsed time.Duration) string {
	return fmt.Sprintf("chaos: requested=%d delivered_once=%d delivered_twice=%d lost=%d unfinished=%d stuck_busy=%d elapsed=%s"+
		" end=%s send=%s msgs_per_s=%.2f late=%d stall_window=%s qr_logins=%d restores=%d",
		r.requested, r.once, r.twice, r.lost, r.unfinished, r.stuck, elapsed.Round(time.Second),
		r.end, r.sendTime.Round(time.Second), perSecond(r.delivered, r.sendTime), r.late, r.stall, r.qrLogins, r.restores)
}

func (r *result) details(w io.Writer) {
	switch r.end {
	case endStalled:
		fmt.Fprintf(w, "chaos: the run stalled: nothing progressed for %s, so what was not delivered is lost\n", r.stall)
	case endHung:
		fmt.Fprintf(w, "chaos: the run hung: still progressing when the cap ran out; %d messages not delivered yet are late, not lost\n", r.late)
	}
	if r.requested != r.planned {
		fmt.Fprintf(w, "chaos: only %d of %d planned messages were accepted by Send\n", r.requested, r.planned)
		for _, e := range r.subErrs[:min(len(r.subErrs), 5)] {
			fmt.Fprintf(w, "  %s\n", e)
		}
	}
	if r.unexpected > 0 {
		fmt.Fprintf(w, "chaos: %d messages arrived that were never requested\n", r.unexpected)
	}
	if r.moved && r.qrLogins > 0 {
		fmt.Fprintf(w, "chaos: %d QR codes were scanned during the run: a login did not move through its snapshot\n", r.qrLogins)
	}
	if r.wantRestore && r.restores == 0 {
		fmt.Fprintf(w, "chaos: a worker was killed, but no worker restored a login from a snapshot\n")
	}
	if r.pending > 0 {
		fmt.Fprintf(w, "chaos: %d messages arrived once but are not recorded as final\n", r.pending)
	}
	const maxLines = 40
	for i, p := range r.problems {
		if i == maxLines {
			fmt.Fprintf(w, "  ... and %d more\n", len(r.problems)-maxLines)
			break
		}
		fmt.Fprintf(w, "  %s\n", p)
	}
	for _, q := range r.queue {
		fmt.Fprintf(w, "  %s\n", q)
	}
	var parts []string
	for _, bc := range r.contexts {
		parts = append(parts, fmt.Sprintf("%d:%s", bc.ID, bc.Status))
	}
	fmt.Fprintf(w, "chaos: contexts at the end: %s\n", strings.Join(parts, " "))
}

// check compares what was requested, what the store recorded and what the
// local WhatsApp Web received.
//
// A message not received is lost, except in a hung run (still progressing
// when the cap ran out), where one whose job is not final yet is late.
func (s *suite) check(ctx context.Context, subs []submitted, stuck []wasend.BrowserContext, end string) (*result, error) {
	r := &result{stuck: len(stuck), end: end}
	unfinishedCtx := map[int64]bool{}
	// The store first, the oracle after: a worker records a message sent
	// only once the local WhatsApp Web has it, so a run that still sends
	// (a hung one) shows no message recorded sent and never received.
	slices.SortFunc(subs, func(a, b submitted) int { return int(a.id - b.id) })
	jobs := make([]wasend.Job, 0, len(subs))
	for _, sub := range subs {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		job, err := s.store.Job(cctx, sub.id)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("reading job %d: %w", sub.id, err)
		}
		jobs = append(jobs, job)
	}
	got := map[string]int{}
	all := s.fake.AllReceived()
	r.received = len(all)
	for _, m := range all {
		got[m.Text]++
	}
	requested := map[string]bool{}
	for _, job := range jobs {
		if !job.Status.Final() {
			r.unfinished++
			unfinishedCtx[job.ContextID] = true
			r.problems = append(r.problems, fmt.Sprintf("unfinished job %d (%s, context %d): status %s, attempts %d/%d, next run %s, enqueued %s, last error %s %q",
				job.ID, job.Kind, job.ContextID, job.Status, job.Attempts, job.MaxAttempts,
				job.NextRunAt.Format("15:04:05.000"), job.EnqueuedAt.Format("15:04:05.000"), job.ErrorKind, job.Error))
		}
		for _, m := range job.Messages {
			requested[m.Text] = true
			r.requested++
			n := got[m.Text]
			label := m.Text
			if strings.HasPrefix(label, "chaos #") && len(label) >= 11 {
				label = label[:11] // the unique part
			}
			desc := fmt.Sprintf("%q job %d (%s, %s, context %d) message %d: status %s, attempts %d, error %s %q; received %d times",
				label, job.ID, job.Kind, job.Status, job.ContextID, m.ID, m.Status, m.Attempts, m.ErrorKind, m.Error, n)
			if n > 0 {
				r.delivered++
			}
			switch {
			case n >= 2:
				r.twice++
				r.problems = append(r.problems, "duplicated: "+desc)
			case n == 0 && end == endHung && !job.Status.Final() && !m.Status.Final():
				r.late++
				r.problems = append(r.problems, "late: "+desc)
			case n == 0 || m.Status == wasend.MessageFailed || m.Status == wasend.MessageCancelled:
				r.lost++
				r.problems = append(r.problems, "lost: "+desc)
			case m.Status == wasend.MessageSent:
				r.once++
			default:
				r.pending++
				r.problems = append(r.problems, "not recorded: "+desc)
			}
		}
	}
	for text, n := range got {
		if !requested[text] {
			r.unexpected += n
		}
	}
	for _, bc := range stuck {
		r.problems = append(r.problems, fmt.Sprintf("context %d (%s) stuck busy", bc.ID, bc.SystemID))
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	r.contexts, _ = s.store.Contexts(cctx)
	var ids []int64
	for id := range unfinishedCtx {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		r.queue = append(r.queue, s.queueView(cctx, id))
	}
	return r, nil
}

// queueView describes what Redis holds for a context: the stream's length,
// the delayed set's size, and the consumer group's pending entries by
// consumer (taskq's consumer names are host-pid based, so a dead worker's
// consumer shows with its pending entries).
func (s *suite) queueView(ctx context.Context, contextID int64) string {
	// The key layout of redisqueue's package doc, with the prefix that
	// setup gives the queue.
	name := queuePrefix + "-ctx-" + strconv.FormatInt(contextID, 10)
	stream, zset := "taskq:{"+name+"}:stream", "taskq:{"+name+"}:zset"
	rdb := redis.NewClient(&redis.Options{Addr: s.redis.addr()})
	defer rdb.Close()
	depth, derr := s.queue.Depth(ctx, contextID)
	xlen, _ := rdb.XLen(ctx, stream).Result()
	zcard, _ := rdb.ZCard(ctx, zset).Result()
	out := fmt.Sprintf("queue of context %d: depth %d (err %v), stream %d, delayed %d", contextID, depth, derr, xlen, zcard)
	pend, err := rdb.XPending(ctx, stream, "taskq").Result()
	if err != nil {
		return out + fmt.Sprintf("; XPENDING: %v", err)
	}
	out += fmt.Sprintf("; pending entries %d by consumer %v", pend.Count, pend.Consumers)
	cons, err := rdb.XInfoConsumers(ctx, stream, "taskq").Result()
	if err == nil {
		var parts []string
		for _, c := range cons {
			parts = append(parts, fmt.Sprintf("%s(pending %d, idle %s)", c.Name, c.Pending, c.Idle.Round(time.Second)))
		}
		out += "; consumers " + strings.Join(parts, " ")
	}
	return out
}
