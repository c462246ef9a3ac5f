package sqlstore_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/sqlstore"
)

// groupFixture is a store with group commit on a database that injects
// faults, and single jobs to claim.
type groupFixture struct {
	s    *sqlstore.Store
	f    *faults
	jobs []wasend.Job
}

func newGroupFixture(t *testing.T, b backend, limit, jobs int) *groupFixture {
	t.Helper()
	f := &faults{}
	s, err := sqlstore.New(openFaulty(t, b, f), sqlstore.WithGroupCommit(limit))
	require.NoError(t, err)
	require.NoError(t, s.Migrate(t.Context()))
	c, err := s.CreateContext(t.Context(), wasend.BrowserContext{Status: wasend.ContextAvailable})
	require.NoError(t, err)
	fx := &groupFixture{s: s, f: f}
	for range jobs {
		j, err := s.CreateJob(t.Context(), wasend.Job{ContextID: c.ID, Kind: wasend.KindSingle,
			Messages: []wasend.Message{{To: "+14155550100", Text: "hi"}}})
		require.NoError(t, err)
		fx.jobs = append(fx.jobs, j)
	}
	return fx
}

// claimStep is the step that claims job j and starts its message, as a
// worker's: conditional on the job's version.
func claimStep(j wasend.Job, claim string) wasend.Step {
	return wasend.Step{
		Job: &wasend.JobTransition{ID: j.ID, From: []wasend.JobStatus{wasend.JobPending}, To: wasend.JobRunning,
			Claim: claim, IfVersion: j.Version, AddAttempt: true},
		Message: &wasend.MessageTransition{ID: j.Messages[0].ID, From: []wasend.MessageStatus{wasend.MessagePending},
			To: wasend.MessageSending, StartAttempt: true},
	}
}

// claimOnly claims job j in one UPDATE: a step that runs as one statement
// in every dialect, outside any transaction.
func claimOnly(j wasend.Job, claim string) wasend.Step {
	s := claimStep(j, claim)
	s.Message = nil
	return s
}

// requireClaimed checks that job j is running with claim c and its message
// sending (c ""), or untouched: pending, as created.
func (fx *groupFixture) requireClaimed(t *testing.T, j wasend.Job, c string) {
	t.Helper()
	got, err := fx.s.Job(context.Background(), j.ID)
	require.NoError(t, err)
	if c == "" {
		require.Equal(t, wasend.JobPending, got.Status, "job %d", j.ID)
		require.Equal(t, wasend.MessagePending, got.Messages[0].Status, "job %d's message", j.ID)
		require.Equal(t, j.Version, got.Version, "job %d's version", j.ID)
		return
	}
	require.Equal(t, wasend.JobRunning, got.Status, "job %d", j.ID)
	require.Equal(t, c, got.Claim, "job %d's claim", j.ID)
}

type applied struct {
	ok  bool
	err error
}

// apply runs Apply in a goroutine and returns where its outcome arrives.
func (fx *groupFixture) apply(ctx context.Context, st wasend.Step) <-chan applied {
	out := make(chan applied, 1)
	go func() {
		ok, err := fx.s.Apply(ctx, st)
		out <- applied{ok, err}
	}()
	return out
}

// hold makes the store's one group-commit transaction busy: a claim of
// the first job that waits in the driver until the returned func opens
// its gate, and whose outcome the returned channel gives. Calls made
// meanwhile queue.
func (fx *groupFixture) hold(t *testing.T) (release func(), done <-chan applied) {
	t.Helper()
	g := fx.f.gate("holder")
	done = fx.apply(context.Background(), claimOnly(fx.jobs[0], "holder"))
	<-g.reached
	return func() { close(g.open) }, done
}

// waitQueued waits until n calls wait for a group-commit transaction.
func (fx *groupFixture) waitQueued(t *testing.T, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return fx.s.GroupQueued() == n }, time.Minute, time.Millisecond,
		"calls queued: want %d", n)
}

func TestGroupCommitConflictingClaims(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, b backend) {
		for _, limit := range []int{1, 2} {
			t.Run(fmt.Sprint(limit), func(t *testing.T) {
				// Eight workers claim each of ten jobs at once: exactly one
				// claim of each wins, whichever batch the others share.
				const jobs, workers = 10, 8
				fx := newGroupFixture(t, b, limit, jobs)
				start := make(chan struct{})
				var wg sync.WaitGroup
				won := make([][]string, jobs)
				var mu sync.Mutex
				for i, j := range fx.jobs {
					for w := range workers {
						wg.Go(func() {
							<-start
							c := fmt.Sprintf("w%d-j%d", w, i)
							ok, err := fx.s.Apply(t.Context(), claimStep(j, c))
							assert.NoError(t, err)
							if ok {
								mu.Lock()
								won[i] = append(won[i], c)
								mu.Unlock()
							}
						})
					}
				}
				close(start)
				wg.Wait()
				for i, j := range fx.jobs {
					require.Len(t, won[i], 1, "claims of job %d that won", j.ID)
					fx.requireClaimed(t, j, won[i][0])
				}
			})
		}
	})
}

func TestGroupCommitFailingStep(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, b backend) {
		// Five claims queue behind a busy transaction; the third fails in
		// the driver. The batch runs each again alone: the others apply,
		// and the failing one gets its error and changes nothing.
		fx := newGroupFixture(t, b, 1, 6)
		release, held := fx.hold(t)
		poison := "poison"
		fx.f.poison.Store(&poison)
		var outs []<-chan applied
		for i, j := range fx.jobs[1:] {
			c := fmt.Sprintf("c%d", i)
			if i == 2 {
				c = poison
			}
			outs = append(outs, fx.apply(t.Context(), claimStep(j, c)))
			fx.waitQueued(t, i+1)
		}
		release()
		require.Equal(t, applied{ok: true}, <-held)
		for i, out := range outs {
			got := <-out
			j := fx.jobs[1+i]
			if i == 2 {
				require.ErrorIs(t, got.err, errInjected)
				require.ErrorIs(t, got.err, wasend.ErrStore)
				require.False(t, got.ok)
				fx.requireClaimed(t, j, "")
				continue
			}
			require.Equal(t, applied{ok: true}, got, "claim %d", i)
			fx.requireClaimed(t, j, fmt.Sprintf("c%d", i))
		}
	})
}

func TestGroupCommitCommitFails(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, b backend) {
		// The commit of a batch of five claims fails: each caller gets the
		// error, and none of the claims took effect.
		fx := newGroupFixture(t, b, 1, 6)
		release, held := fx.hold(t)
		var outs []<-chan applied
		for i, j := range fx.jobs[1:] {
			outs = append(outs, fx.apply(t.Context(), claimStep(j, fmt.Sprintf("c%d", i))))
			fx.waitQueued(t, i+1)
		}
		fx.f.commits.Store(1)
		release()
		require.Equal(t, applied{ok: true}, <-held)
		for i, out := range outs {
			got := <-out
			require.ErrorIs(t, got.err, wasend.ErrStore, "claim %d", i)
			require.ErrorIs(t, got.err, errInjected, "claim %d", i)
			require.False(t, got.ok)
			fx.requireClaimed(t, fx.jobs[1+i], "")
		}
		require.Zero(t, fx.f.commits.Load(), "commits left to fail")
		// The store goes on: the same claims apply now.
		for i, j := range fx.jobs[1:] {
			ok, err := fx.s.Apply(t.Context(), claimStep(j, fmt.Sprintf("again%d", i)))
			require.NoError(t, err)
			require.True(t, ok)
		}
	})
}

func TestGroupCommitCancelledCaller(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, b backend) {
		fx := newGroupFixture(t, b, 1, 7)
		release, held := fx.hold(t)

		// Queued: a caller whose context ends withdraws its call and gets
		// the context's error; nothing of its call is written.
		ctx, cancel := context.WithCancel(t.Context())
		first := fx.apply(t.Context(), claimStep(fx.jobs[1], "kept"))
		fx.waitQueued(t, 1)
		gone := fx.apply(ctx, claimStep(fx.jobs[2], "gone"))
		fx.waitQueued(t, 2)
		// Taken: this one's claim waits in the driver, inside the batch.
		inBatch := fx.f.gate("in-batch")
		third := fx.apply(t.Context(), claimStep(fx.jobs[3], "in-batch"))
		fx.waitQueued(t, 3)
		ctx2, cancel2 := context.WithCancel(t.Context())
		late := fx.apply(ctx2, claimStep(fx.jobs[4], "late"))
		fx.waitQueued(t, 4)

		cancel()
		got := <-gone
		require.ErrorIs(t, got.err, context.Canceled)
		require.False(t, got.ok)
		fx.waitQueued(t, 3)

		release()
		require.Equal(t, applied{ok: true}, <-held)
		<-inBatch.reached
		// The batch (kept, in-batch, late) is being written: late's caller
		// gives up now, but its call is in the transaction, so it waits
		// for the outcome instead of being told it failed.
		cancel2()
		select {
		case got := <-late:
			t.Fatalf("a call taken into a batch returned before the batch: %+v", got)
		case <-time.After(100 * time.Millisecond):
		}
		close(inBatch.open)
		for name, out := range map[string]<-chan applied{"kept": first, "in-batch": third, "late": late} {
			require.Equal(t, applied{ok: true}, <-out, name)
		}
		fx.requireClaimed(t, fx.jobs[1], "kept")
		fx.requireClaimed(t, fx.jobs[2], "")
		fx.requireClaimed(t, fx.jobs[3], "in-batch")
		fx.requireClaimed(t, fx.jobs[4], "late")
	})
}

func TestGroupCommitCreateJob(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, b backend) {
		// Jobs created in one batch: one for a context that takes none,
		// two with the same idempotency key, and plain ones. Each caller
		// gets its own outcome.
		fx := newGroupFixture(t, b, 1, 1)
		ctx := t.Context()
		closed, err := fx.s.CreateContext(ctx, wasend.BrowserContext{Status: wasend.ContextClosed})
		require.NoError(t, err)
		open := fx.jobs[0].ContextID
		release, held := fx.hold(t)
		type created struct {
			j   wasend.Job
			err error
		}
		jobs := []wasend.Job{
			{ContextID: open, Kind: wasend.KindSingle, Messages: []wasend.Message{{To: "+1", Text: "a"}}},
			{ContextID: closed.ID, Kind: wasend.KindSingle, Messages: []wasend.Message{{To: "+1", Text: "b"}}},
			{ContextID: open, Kind: wasend.KindSingle, IdempotencyKey: "k", Messages: []wasend.Message{{To: "+1", Text: "c"}}},
			{ContextID: open, Kind: wasend.KindBulk, IdempotencyKey: "k", Messages: []wasend.Message{{To: "+1", Text: "d"}}},
			{ContextID: open, Kind: wasend.KindBulk, Messages: []wasend.Message{{To: "+1", Text: "e"}, {To: "+2", Text: "f"}}},
		}
		outs := make([]chan created, len(jobs))
		for i, j := range jobs {
			outs[i] = make(chan created, 1)
			go func() {
				got, err := fx.s.CreateJob(ctx, j)
				outs[i] <- created{got, err}
			}()
			fx.waitQueued(t, i+1)
		}
		release()
		require.Equal(t, applied{ok: true}, <-held)
		var got []created
		for _, out := range outs {
			got = append(got, <-out)
		}
		require.NoError(t, got[0].err)
		require.ErrorIs(t, got[1].err, wasend.ErrContextNotAvailable)
		require.NoError(t, got[2].err)
		require.ErrorIs(t, got[3].err, wasend.ErrJobExists)
		require.Equal(t, got[2].j.ID, got[3].j.ID, "the job that holds the key")
		require.NoError(t, got[4].err)
		for _, i := range []int{0, 2, 4} {
			j, err := fx.s.Job(ctx, got[i].j.ID)
			require.NoError(t, err)
			require.Equal(t, got[i].j.Messages[0].ID, j.Messages[0].ID)
			require.Equal(t, jobs[i].Messages[len(jobs[i].Messages)-1].Text, j.Messages[len(j.Messages)-1].Text)
		}
		require.Equal(t, 3+1, count(t, fx.s, "SELECT COUNT(*) FROM send_messages_jobs"))
	})
}

func TestGroupCommitOption(t *testing.T) {
	t.Parallel()
	db := openSQLite(t, "")
	_, err := sqlstore.New(db, sqlstore.WithGroupCommit(-1))
	require.ErrorIs(t, err, wasend.ErrInvalidOption)
	for _, n := range []int{0, 1, sqlstore.MaxGroupCommitCalls} {
		_, err := sqlstore.New(db, sqlstore.WithGroupCommit(n))
		require.NoError(t, err, "WithGroupCommit(%d)", n)
	}
}

func TestGroupCommitClaimsProperty(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, b backend) {
		// Any mix of claims (of the same jobs or others, at the current
		// version or a stale one, some refused by the server) queued
		// behind a busy transaction: a claim applies if and only if it is
		// the first to apply of its job at its current version, a refused
		// one never applies, and each caller learns its own outcome.
		f := &faults{}
		s, err := sqlstore.New(openFaulty(t, b, f), sqlstore.WithGroupCommit(1))
		require.NoError(t, err)
		require.NoError(t, s.Migrate(t.Context()))
		poison := "poison"
		f.poison.Store(&poison)
		round := 0
		rapid.Check(t, func(rt *rapid.T) {
			round++
			fx := &groupFixture{s: s, f: f}
			c, err := s.CreateContext(t.Context(), wasend.BrowserContext{Status: wasend.ContextAvailable})
			require.NoError(rt, err)
			jobs := rapid.IntRange(1, 4).Draw(rt, "jobs")
			for range jobs + 1 {
				j, err := s.CreateJob(t.Context(), wasend.Job{ContextID: c.ID, Kind: wasend.KindSingle,
					Messages: []wasend.Message{{To: "+14155550100", Text: "hi"}}})
				require.NoError(rt, err)
				fx.jobs = append(fx.jobs, j)
			}
			type try struct {
				job      int
				stale    bool
				poisoned bool
			}
			tries := rapid.SliceOfN(rapid.Custom(func(rt *rapid.T) try {
				return try{rapid.IntRange(1, jobs).Draw(rt, "job"), rapid.Bool().Draw(rt, "stale"),
					rapid.IntRange(0, 5).Draw(rt, "poison") == 0}
			}), 1, 8).Draw(rt, "claims")

			g := f.gate(fmt.Sprintf("holder-%d", round))
			held := fx.apply(context.Background(), claimOnly(fx.jobs[0], fmt.Sprintf("holder-%d", round)))
			<-g.reached
			var outs []<-chan applied
			for i, tr := range tries {
				j := fx.jobs[tr.job]
				if tr.stale {
					j.Version++
				}
				name := fmt.Sprintf("r%d-c%d", round, i)
				if tr.poisoned {
					name = poison
				}
				outs = append(outs, fx.apply(t.Context(), claimStep(j, name)))
				require.Eventually(rt, func() bool { return s.GroupQueued() == i+1 }, time.Minute, time.Millisecond)
			}
			close(g.open)
			require.Equal(rt, applied{ok: true}, <-held)
			winner := map[int]string{}
			for i, out := range outs {
				got := <-out
				tr := tries[i]
				switch {
				case tr.poisoned:
					require.ErrorIs(rt, got.err, errInjected, "claim %d", i)
				case tr.stale:
					require.Equal(rt, applied{}, got, "claim %d of a stale version", i)
				default:
					require.NoError(rt, got.err, "claim %d", i)
					if got.ok {
						require.NotContains(rt, winner, tr.job, "claim %d: job %d claimed twice", i, tr.job)
						winner[tr.job] = fmt.Sprintf("r%d-c%d", round, i)
					}
				}
			}
			for k := 1; k <= jobs; k++ {
				j, err := s.Job(t.Context(), fx.jobs[k].ID)
				require.NoError(rt, err)
				fresh := slices.ContainsFunc(tries, func(tr try) bool { return tr.job == k && !tr.stale && !tr.poisoned })
				if w, ok := winner[k]; ok {
					require.Equal(rt, wasend.JobRunning, j.Status)
					require.Equal(rt, w, j.Claim)
				} else {
					require.False(rt, fresh, "job %d: a claim at its version was made, none applied", k)
					require.Equal(rt, wasend.JobPending, j.Status)
				}
			}
		})
	})
}
