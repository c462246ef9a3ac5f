package sqlstore_test

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/sqlstore"
)

var _ wasend.CampaignStore = (*sqlstore.Store)(nil)

// TestCampaignMoveRace: workers race on the jobs of a campaign, each
// either claiming a pending job (pending to running with IfVersion, as a
// worker does) and sending its messages through Apply steps, or moving the
// job's pending messages to another context of the pool (MoveMessages),
// copies of copies included. Afterwards every message is either moved
// (cancelled, moved) with exactly one copy, or sent by a claim, never both;
// every copy points to a moved message; and the campaign's messages are
// its recipients, each once.
func TestCampaignMoveRace(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		s := newStore(t, b, "")
		var pool []int64
		for range 3 {
			c, err := s.CreateContext(ctx, wasend.BrowserContext{Status: wasend.ContextAvailable})
			require.NoError(t, err)
			pool = append(pool, c.ID)
		}
		const (
			rounds   = 10
			workers  = 6
			messages = 8
		)
		deadline := time.Now().Add(5 * time.Second)
		var claims, moves atomic.Int64
		for round := range rounds {
			if time.Now().After(deadline) && round > 0 {
				break
			}
			in := wasend.Job{ContextID: pool[0], Kind: wasend.KindBulk, MaxAttempts: 3}
			for i := range messages {
				in.Messages = append(in.Messages, wasend.Message{To: fmt.Sprintf("+3460%07d", round*100+i), Text: fmt.Sprintf("m%d", i)})
			}
			c, err := s.CreateCampaign(ctx, wasend.Campaign{Contexts: pool, Move: true, Jobs: []wasend.Job{in}})
			require.NoError(t, err)

			var (
				wg    sync.WaitGroup
				start = make(chan struct{})
				mu    sync.Mutex
				errs  []error
			)
			report := func(err error) {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
			for w := range workers {
				wg.Go(func() {
					<-start
					rng := rand.New(rand.NewPCG(uint64(round), uint64(w)))
					for range 6 {
						cur, err := s.Campaign(ctx, c.ID)
						if err != nil {
							report(err)
							return
						}
						var open []wasend.Job
						for _, j := range cur.Jobs {
							if j.Status == wasend.JobPending {
								open = append(open, j)
							}
						}
						if len(open) == 0 {
							return
						}
						j := open[rng.IntN(len(open))]
						if w%2 == 0 {
							won, err := claimAndSend(t, s, j, fmt.Sprintf("w%d", w))
							if err != nil {
								report(err)
								return
							}
							if won {
								claims.Add(1)
							}
							continue
						}
						to := pool[rng.IntN(len(pool))]
						if to == j.ContextID {
							to = pool[(rng.IntN(len(pool)-1)+1+indexOf(pool, j.ContextID))%len(pool)]
						}
						var ids []int64
						for _, m := range j.Messages {
							if m.Status == wasend.MessagePending && rng.IntN(4) > 0 {
								ids = append(ids, m.ID)
							}
						}
						nj, err := s.MoveMessages(ctx, wasend.MessageMove{FromJob: j.ID, Messages: ids, ToContext: to})
						if err != nil {
							report(err)
							return
						}
						if nj.ID != 0 {
							moves.Add(1)
						}
					}
				})
			}
			close(start)
			wg.Wait()
			require.Empty(t, errs, "round %d", round)

			// What is left pending is sent by a last claim.
			cur, err := s.Campaign(ctx, c.ID)
			require.NoError(t, err)
			for _, j := range cur.Jobs {
				if j.Status == wasend.JobPending {
					_, err := claimAndSend(t, s, j, "sweep")
					require.NoError(t, err)
				}
			}
			checkMoves(t, s, c.ID, in.Messages)
		}
		// The race had both sides.
		require.NotZero(t, claims.Load(), "no claim won")
		require.NotZero(t, moves.Load(), "no move moved anything")
		t.Logf("%d claims and %d moves won", claims.Load(), moves.Load())
	})
}

func indexOf(xs []int64, x int64) int {
	for i, v := range xs {
		if v == x {
			return i
		}
	}
	return -1
}

// claimAndSend claims a job read at j (pending, at its version), and if
// the claim holds, sends each of its pending messages and completes it. It
// reports whether the claim held.
func claimAndSend(t *testing.T, s *sqlstore.Store, j wasend.Job, claim string) (bool, error) {
	ctx := t.Context()
	ok, err := s.Apply(ctx, wasend.Step{Job: &wasend.JobTransition{ID: j.ID, From: []wasend.JobStatus{wasend.JobPending},
		To: wasend.JobRunning, Claim: claim, IfVersion: j.Version}})
	if err != nil || !ok {
		return false, err
	}
	now, err := s.Job(ctx, j.ID)
	if err != nil {
		return true, err
	}
	for _, m := range now.Messages {
		if m.Status != wasend.MessagePending {
			continue
		}
		for _, st := range [][2]wasend.MessageStatus{{wasend.MessagePending, wasend.MessageSending}, {wasend.MessageSending, wasend.MessageSent}} {
			ok, err := s.Apply(ctx, wasend.Step{Job: &wasend.JobTransition{ID: j.ID, From: []wasend.JobStatus{wasend.JobRunning},
				To: wasend.JobRunning, Claim: claim, IfClaim: claim},
				Message: &wasend.MessageTransition{ID: m.ID, From: []wasend.MessageStatus{st[0]}, To: st[1], AddAttempt: st[1] == wasend.MessageSending}})
			if err != nil {
				return true, err
			}
			if !ok {
				return true, fmt.Errorf("job %d held by %s: message %d could not go from %s to %s", j.ID, claim, m.ID, st[0], st[1])
			}
		}
	}
	ok, err = s.Apply(ctx, wasend.Step{Job: &wasend.JobTransition{ID: j.ID, From: []wasend.JobStatus{wasend.JobRunning},
		To: wasend.JobCompleted, IfClaim: claim}})
	if err == nil && !ok {
		err = fmt.Errorf("job %d held by %s could not complete", j.ID, claim)
	}
	return true, err
}

// checkMoves checks a campaign after the race: every message is sent or
// moved, a moved one has exactly one copy and no sent status, every copy
// points to a moved message of the campaign, and the campaign's messages
// are the recipients of the original ones, each once, all sent.
func checkMoves(t *testing.T, s *sqlstore.Store, campaignID int64, originals []wasend.Message) {
	t.Helper()
	c, err := s.Campaign(t.Context(), campaignID)
	require.NoError(t, err)
	byID := map[int64]wasend.Message{}
	copies := map[int64]int{}
	for _, j := range c.Jobs {
		require.Equal(t, campaignID, j.CampaignID)
		require.Equal(t, wasend.JobCompleted, j.Status, "job %d", j.ID)
		for _, m := range j.Messages {
			byID[m.ID] = m
			if m.MovedFrom != 0 {
				copies[m.MovedFrom]++
			}
		}
	}
	for id, m := range byID {
		moved := m.Status == wasend.MessageCancelled && m.ErrorKind == wasend.ErrorKindMoved
		if moved {
			require.Equal(t, 1, copies[id], "moved message %d: copies", id)
			require.Zero(t, m.Attempts, "moved message %d was attempted", id)
		} else {
			require.Equal(t, wasend.MessageSent, m.Status, "message %d", id)
			require.Zero(t, copies[id], "message %d was sent and has copies", id)
		}
		if m.MovedFrom != 0 {
			from, ok := byID[m.MovedFrom]
			require.True(t, ok, "message %d is a copy of %d, not in the campaign", id, m.MovedFrom)
			require.Equal(t, wasend.ErrorKindMoved, from.ErrorKind, "message %d is a copy of %d, which did not move", id, m.MovedFrom)
			require.Equal(t, from.To, m.To)
			require.Equal(t, from.Text, m.Text)
		}
	}
	got := map[string]int{}
	for _, m := range c.Messages() {
		require.Equal(t, wasend.MessageSent, m.Status)
		got[m.To]++
	}
	require.Len(t, got, len(originals))
	for _, m := range originals {
		require.Equal(t, 1, got[m.To], "recipient %s", m.To)
	}
}
