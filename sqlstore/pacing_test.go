package sqlstore_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/wasendtest"
)

// A process that takes a browser context over mid-day continues its
// pacing budget, read from the send ledger on each real database.
func TestPacingBudgetSurvivesATakeover(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		store := newStore(t, b, "")
		pool, queue, leaser := wasendtest.NewPool(), wasendtest.NewQueue(), wasendtest.NewLeaser()
		t.Cleanup(func() { _ = queue.Close() })
		pol := wasend.Pacing{PerDay: 2, MinGap: 50 * time.Millisecond, MaxGap: 100 * time.Millisecond}
		start := func(owner string) (*wasend.Client, func()) {
			c, err := wasend.New(pool, queue, store, wasend.WithLeaser(leaser), wasend.WithOwnerID(owner),
				wasend.WithPacing(pol), wasend.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
				wasend.WithSweep(50*time.Millisecond, 200*time.Millisecond), wasend.WithShutdownTimeout(2*time.Second))
			require.NoError(t, err)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- c.Run(ctx) }()
			return c, func() {
				cancel()
				require.NoError(t, <-done)
				require.NoError(t, c.Close())
			}
		}
		waitJob := func(c *wasend.Client, id int64, cond func(wasend.Job) bool) wasend.Job {
			var j wasend.Job
			require.Eventually(t, func() bool {
				var err error
				j, err = c.Job(context.Background(), id)
				require.NoError(t, err)
				return cond(j)
			}, time.Minute, 10*time.Millisecond, "job %d", id)
			return j
		}
		a, stopA := start("A")
		bc, err := a.CreateContext(t.Context())
		require.NoError(t, err)
		for _, text := range []string{"one", "two"} {
			j, err := a.Send(t.Context(), bc.ID, "+5491122334455", text)
			require.NoError(t, err)
			waitJob(a, j.ID, func(j wasend.Job) bool { return j.Status == wasend.JobCompleted })
		}
		stopA()

		c, stopB := start("B")
		defer stopB()
		_, err = c.OpenContext(t.Context(), bc.ID)
		require.NoError(t, err)
		third, err := c.Send(t.Context(), bc.ID, "+5491122334455", "three")
		require.NoError(t, err)
		j := waitJob(c, third.ID, func(j wasend.Job) bool { return j.Wait == wasend.WaitDailyCap })
		assert.Equal(t, wasend.JobPending, j.Status)
		assert.Equal(t, 0, j.Attempts)
		assert.Len(t, pool.Sent(), 2, "B respects what A sent")
		st, err := c.Stats(t.Context())
		require.NoError(t, err)
		require.NotNil(t, st.Contexts[0].Pacing)
		assert.Equal(t, 0, st.Contexts[0].Pacing.DayLeft)

		ledger, err := store.Sends(t.Context(), bc.ID, time.Time{})
		require.NoError(t, err)
		require.Len(t, ledger, 2)
		assert.False(t, ledger[0].NewContact && ledger[1].NewContact, "the second send went to a contact the first made")
		assert.Equal(t, 0, count(t, store, "SELECT COUNT(*) FROM browser_context_sends WHERE recipient_hash LIKE '%334455%'"),
			"the ledger holds no phone number")
	})
}
