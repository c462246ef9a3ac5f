package wasend_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/wasendtest"
)

// listReads counts the reads of the suppression list of a store that
// guards it (wasend.SuppressionGuard).
type listReads struct {
	*wasendtest.Store
	n atomic.Int64
}

func (s *listReads) Suppressed(ctx context.Context, phones []string) (map[string]wasend.Suppression, error) {
	s.n.Add(1)
	return s.Store.Suppressed(ctx, phones)
}

// unguarded is the same store without wasend.SuppressionGuard: the field
// hides the method of the embedded store, so the Client reads the list
// before each Send and each turn.
type unguarded struct {
	*listReads
	GuardsSuppressions struct{}
}

var _ wasend.SuppressionGuard = (*listReads)(nil)

// The suppression list holds, whether the store guards it in its
// statements or the Client reads it first: a suppressed number is refused
// at Send with nothing recorded, one suppressed after Send is refused at
// its turn, never sent, and no attempt is spent. A store that guards the
// list is read only to explain a refusal.
func TestSuppressionGuardAndReads(t *testing.T) {
	for _, guarded := range []bool{true, false} {
		name := map[bool]string{true: "guarded", false: "read first"}[guarded]
		t.Run(name, func(t *testing.T) {
			reads := &listReads{Store: wasendtest.NewStore()}
			var store wasend.Store = reads
			if !guarded {
				store = &unguarded{listReads: reads}
			}
			_, isGuard := store.(wasend.SuppressionGuard)
			require.Equal(t, guarded, isGuard)
			h := newHarness(t, harnessOpt{store: reads.Store, noRun: true, wrap: func(wasend.Store) wasend.Store { return store }})
			bc, sess := h.newContext()

			before := reads.n.Load()
			ok, err := h.client.Send(bg, bc.ID, "+5491100000001", "fine")
			require.NoError(t, err)
			_, err = h.client.Suppress(bg, "+5491100000002", "")
			require.NoError(t, err)
			_, err = h.client.Send(bg, bc.ID, "+5491100000002", "refused")
			require.ErrorIs(t, err, wasend.ErrSuppressed)
			var ve *wasend.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, "to", ve.Field)
			assert.Contains(t, err.Error(), string(wasend.SuppressHost), "the error gives the reason")
			assert.NotContains(t, err.Error(), "1100000002", "the error masks the number")
			late, err := h.client.Send(bg, bc.ID, "+5491100000003", "late")
			require.NoError(t, err)
			_, err = h.client.Suppress(bg, "+5491100000003", "")
			require.NoError(t, err)
			sendReads := reads.n.Load() - before

			h.run()
			h.waitJob(ok.ID, wasend.JobCompleted)
			j := h.waitJob(late.ID, wasend.JobFailed)
			assert.Equal(t, wasend.ErrorKindSuppressed, j.Messages[0].ErrorKind)
			assert.Zero(t, j.Messages[0].Attempts)
			assert.Equal(t, 1, sess.Calls(), "only the number never suppressed was sent to")
			jobs, err := h.store.Jobs(bg, wasend.JobFilter{})
			require.NoError(t, err)
			assert.Len(t, jobs, 2, "the refused Send recorded nothing")
			if guarded {
				// One read explains the refused Send, one the refused turn.
				assert.Equal(t, int64(1), sendReads, "reads of the list by three Sends")
				assert.Equal(t, int64(2), reads.n.Load()-before, "reads of the list by three Sends and two turns")
			} else {
				assert.Equal(t, int64(3), sendReads, "reads of the list by three Sends")
				assert.Equal(t, int64(5), reads.n.Load()-before, "reads of the list by three Sends and two turns")
			}
		})
	}
}
