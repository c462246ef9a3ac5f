package sqlstore_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/sqlstore"
)

var _ wasend.OutboxStore = (*sqlstore.Store)(nil)

// TestOutboxRelayRace: relays claim and settle a few hundred events of
// several jobs at once, as several processes would. Every event is
// delivered exactly once, no two relays ever hold one event at once, and
// each job's events are delivered in id order.
func TestOutboxRelayRace(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		s := newStore(t, b, "")
		bc, err := s.CreateContext(ctx, wasend.BrowserContext{Status: wasend.ContextAvailable})
		require.NoError(t, err)
		const (
			jobs    = 6
			rounds  = 25
			relays  = 4
			perJob  = 5 // events recorded with CreateJob
			limit   = 5
			maxTime = 25 * time.Second // a guard: it takes a few seconds
		)
		began := time.Now()
		var js []wasend.Job
		for i := range jobs {
			in := wasend.Job{ContextID: bc.ID, Kind: wasend.KindBulk, Messages: []wasend.Message{{To: fmt.Sprintf("+34600%d", i), Text: "x"}}}
			for range perJob {
				in.Events = append(in.Events, wasend.Event{Topic: wasend.TopicJobCreated})
			}
			j, err := s.CreateJob(ctx, in)
			require.NoError(t, err)
			js = append(js, j)
		}
		// The jobs' events interleave, with events of no job among them.
		total := jobs*perJob + rounds
		for r := range rounds {
			for _, j := range js {
				ok, err := s.Apply(ctx, wasend.Step{Job: &wasend.JobTransition{ID: j.ID, From: []wasend.JobStatus{wasend.JobPending},
					To: wasend.JobPending}, Events: []wasend.Event{{Topic: wasend.TopicJobResumed, JobID: j.ID}}})
				require.NoError(t, err)
				require.True(t, ok)
				total++
			}
			ok, err := s.Apply(ctx, wasend.Step{Context: &wasend.ContextTransition{ID: bc.ID, From: []wasend.ContextStatus{wasend.ContextAvailable},
				To: wasend.ContextAvailable}, Events: []wasend.Event{{Topic: wasend.TopicContextStatus, ContextID: bc.ID, Status: fmt.Sprint(r)}}})
			require.NoError(t, err)
			require.True(t, ok)
		}
		c, err := s.EventCounts(ctx)
		require.NoError(t, err)
		require.Equal(t, wasend.OutboxCounts{Pending: int64(total)}, c)

		var (
			mu        sync.Mutex
			held      = map[int64]string{}
			delivered = map[int64]int{}
			byJob     = map[int64][]int64{}
			problems  []string
			wg        sync.WaitGroup
			start     = make(chan struct{})
		)
		problem := func(format string, args ...any) {
			mu.Lock()
			defer mu.Unlock()
			if len(problems) < 20 {
				problems = append(problems, fmt.Sprintf(format, args...))
			}
		}
		deadline := time.Now().Add(maxTime)
		for r := range relays {
			owner := fmt.Sprintf("relay-%d", r)
			wg.Go(func() {
				<-start
				rng := rand.New(rand.NewPCG(uint64(r), 7))
				for time.Now().Before(deadline) {
					now := time.Now()
					evs, err := s.ClaimEvents(ctx, owner, now, now.Add(time.Minute), limit)
					if err != nil {
						problem("%s: ClaimEvents: %v", owner, err)
						return
					}
					if len(evs) == 0 {
						mu.Lock()
						done := len(delivered) == total
						mu.Unlock()
						if done {
							return
						}
						time.Sleep(5 * time.Millisecond)
						continue
					}
					mu.Lock()
					for _, e := range evs {
						if other, ok := held[e.ID]; ok {
							problems = append(problems, fmt.Sprintf("%s claimed event %d, which %s holds", owner, e.ID, other))
						}
						held[e.ID] = owner
					}
					mu.Unlock()
					results := make([]wasend.EventResult, 0, len(evs))
					blocked := map[int64]bool{} // jobs with an event not delivered in this batch
					for _, e := range evs {
						res := wasend.EventResult{ID: e.ID}
						switch {
						case e.JobID != 0 && blocked[e.JobID]:
							// Held back behind its job's failed event.
							res.NextAt = time.Now()
						case rng.IntN(5) == 0:
							res.Attempted, res.NextAt, res.Error = true, time.Now(), "handler failed"
							if e.JobID != 0 {
								blocked[e.JobID] = true
							}
						default:
							res.Delivered = true
						}
						results = append(results, res)
					}
					mu.Lock()
					for i, e := range evs {
						delete(held, e.ID)
						if results[i].Delivered {
							delivered[e.ID]++
							if e.JobID != 0 {
								byJob[e.JobID] = append(byJob[e.JobID], e.ID)
							}
						}
					}
					mu.Unlock()
					if err := s.SettleEvents(ctx, owner, results); err != nil {
						problem("%s: SettleEvents: %v", owner, err)
						return
					}
				}
			})
		}
		setup := time.Since(began)
		close(start)
		wg.Wait()
		t.Logf("%d events: recorded in %v, delivered in %v", total, setup, time.Since(began)-setup)
		require.Empty(t, problems)
		require.Len(t, delivered, total, "events delivered before the deadline")
		for id, n := range delivered {
			require.Equal(t, 1, n, "deliveries of event %d", id)
		}
		for _, j := range js {
			got := byJob[j.ID]
			require.Len(t, got, perJob+rounds, "events of job %d", j.ID)
			require.True(t, slices.IsSorted(got), "job %d: events delivered in the order %v", j.ID, got)
		}
		c, err = s.EventCounts(ctx)
		require.NoError(t, err)
		require.Equal(t, wasend.OutboxCounts{}, c)
	})
}
