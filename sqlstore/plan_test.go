package sqlstore_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/sqlstore"
)

// TestPostgresGenericPlanUsesPrimaryKey: a job transition finds its row by
// primary key even in a generic plan made while the table was nearly empty.
// pgx prepares every statement and PostgreSQL switches to a generic plan
// after five runs; the plan used to pick the status index and then scan every
// job of that status for each transition, a cost that grows with the table.
// The test forces generic plans and counts the scans of that index.
func TestPostgresGenericPlanUsesPrimaryKey(t *testing.T) {
	t.Parallel()
	db := openPostgres(t, "")
	db.SetMaxOpenConns(1) // one session: its settings and its statistics
	ctx := t.Context()
	_, err := db.ExecContext(ctx, "SET plan_cache_mode = force_generic_plan")
	require.NoError(t, err)
	s, err := sqlstore.New(db)
	require.NoError(t, err)
	require.NoError(t, s.Migrate(ctx))

	c, err := s.CreateContext(ctx, wasend.BrowserContext{Status: wasend.ContextAvailable})
	require.NoError(t, err)
	var ids []int64
	for i := range 40 {
		j, err := s.CreateJob(ctx, wasend.Job{ContextID: c.ID, Kind: wasend.KindSingle,
			Messages: []wasend.Message{{To: "+1", Text: fmt.Sprint(i)}}})
		require.NoError(t, err)
		ids = append(ids, j.ID)
	}
	statusScans := func() int64 {
		t.Helper()
		_, err := db.ExecContext(ctx, "SELECT pg_stat_force_next_flush()")
		require.NoError(t, err)
		_, err = db.ExecContext(ctx, "SELECT pg_stat_clear_snapshot()")
		require.NoError(t, err)
		var n int64
		require.NoError(t, db.QueryRowContext(ctx, "SELECT idx_scan FROM pg_stat_user_indexes "+
			"WHERE schemaname = current_schema() AND indexrelname = 'send_messages_jobs_status_next_run_idx'").Scan(&n))
		return n
	}
	before := statusScans()
	for _, id := range ids {
		ok, err := s.Apply(ctx, wasend.Step{Job: &wasend.JobTransition{ID: id,
			From: []wasend.JobStatus{wasend.JobPending}, To: wasend.JobRunning, Claim: "w"}})
		require.NoError(t, err)
		require.True(t, ok)
		ok, err = s.Apply(ctx, wasend.Step{Job: &wasend.JobTransition{ID: id,
			From: []wasend.JobStatus{wasend.JobRunning}, IfClaim: "w", To: wasend.JobCompleted}})
		require.NoError(t, err)
		require.True(t, ok)
	}
	require.Zero(t, statusScans()-before, "job transitions scanned the status index")
}
