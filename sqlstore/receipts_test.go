package sqlstore_test

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/sqlstore"
)

const unreadIndex = "send_messages_jobs_messages_unread_idx"

// unreadRows writes messages of two contexts, some sent, read or
// delivered, and returns the first context.
func unreadRows(t *testing.T, s *sqlstore.Store) int64 {
	t.Helper()
	ctx := t.Context()
	at := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	var first int64
	for c := range 2 {
		bc, err := s.CreateContext(ctx, wasend.BrowserContext{Status: wasend.ContextAvailable})
		require.NoError(t, err)
		if c == 0 {
			first = bc.ID
		}
		for range 10 {
			j := wasend.Job{ContextID: bc.ID, Kind: wasend.KindBulk}
			for i := range 5 {
				j.Messages = append(j.Messages, wasend.Message{To: fmt.Sprintf("+1555000%04d", i), Text: "x"})
			}
			j, err := s.CreateJob(ctx, j)
			require.NoError(t, err)
			for i, m := range j.Messages[:4] {
				ok, err := s.Apply(ctx, wasend.Step{Message: &wasend.MessageTransition{ID: m.ID, From: []wasend.MessageStatus{wasend.MessagePending},
					To: wasend.MessageSent, At: at.Add(time.Duration(i) * time.Hour)}})
				require.NoError(t, err)
				require.True(t, ok)
				if i < 2 {
					ok, err = s.Apply(ctx, wasend.Step{Receipt: &wasend.ReceiptTransition{MessageID: m.ID, Ack: wasend.Ack(int(wasend.AckDelivered) + i),
						At: at.Add(5 * time.Hour)}})
					require.NoError(t, err)
					require.True(t, ok)
				}
			}
		}
	}
	return first
}

// unreadFilters are filters of Unread whose plans must read the index.
func unreadFilters(contextID int64) []wasend.ReceiptFilter {
	at := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	return []wasend.ReceiptFilter{
		{ContextID: contextID},
		{ContextID: contextID, SentAfter: at.Add(time.Hour), Undelivered: true, Limit: 3},
		{ContextID: contextID, SentAfter: at, SentBefore: at.Add(3 * time.Hour), AfterID: 7, Limit: 2},
	}
}

// TestUnreadPlan: Unread reads the index of the unread messages, and so
// the statement's cost is that of one context's unread messages, not of
// the table: on PostgreSQL in a generic plan (what pgx's prepared
// statements end up with) with sequential scans disabled, so that only
// the index, or the primary key, can serve it; on MySQL and SQLite as
// EXPLAIN tells.
func TestUnreadPlan(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		db := b.open(t, "")
		db.SetMaxOpenConns(1) // one session: its settings and its statistics
		s, err := sqlstore.New(db)
		require.NoError(t, err)
		require.NoError(t, s.Migrate(ctx))
		contextID := unreadRows(t, s)
		filters := unreadFilters(contextID)

		switch b.dialect {
		case sqlstore.Postgres:
			for _, set := range []string{"SET plan_cache_mode = force_generic_plan", "SET enable_seqscan = off", "ANALYZE"} {
				_, err := db.ExecContext(ctx, set)
				require.NoError(t, err)
			}
			scans := func(index string) int64 {
				t.Helper()
				_, err := db.ExecContext(ctx, "SELECT pg_stat_force_next_flush()")
				require.NoError(t, err)
				_, err = db.ExecContext(ctx, "SELECT pg_stat_clear_snapshot()")
				require.NoError(t, err)
				var n int64
				require.NoError(t, db.QueryRowContext(ctx, "SELECT idx_scan FROM pg_stat_user_indexes "+
					"WHERE schemaname = current_schema() AND indexrelname = $1", index).Scan(&n))
				return n
			}
			before, pkBefore := scans(unreadIndex), scans("send_messages_jobs_messages_pkey")
			const runs = 8 // past the five custom plans
			for range runs {
				for _, f := range filters {
					_, err := s.Unread(ctx, f)
					require.NoError(t, err)
				}
			}
			require.Equal(t, int64(runs*len(filters)), scans(unreadIndex)-before, "scans of %s by Unread", unreadIndex)
			require.Zero(t, scans("send_messages_jobs_messages_pkey")-pkBefore, "scans of the primary key by Unread")
		case sqlstore.MySQL:
			for _, f := range filters {
				q, args, err := s.UnreadSQL(f)
				require.NoError(t, err)
				plan := explain(t, db, "EXPLAIN "+q, args)
				require.Len(t, plan, 1, "%v", plan)
				require.Equal(t, unreadIndex, plan[0]["key"], "%v", plan)
				// A range of the index (or a ref of its prefix), not a
				// scan of all of it.
				require.Contains(t, []string{"ref", "range"}, plan[0]["type"], "%v", plan)
			}
		case sqlstore.SQLite:
			for _, f := range filters {
				q, args, err := s.UnreadSQL(f)
				require.NoError(t, err)
				plan := explain(t, db, "EXPLAIN QUERY PLAN "+q, args)
				var details []string
				for _, row := range plan {
					details = append(details, row["detail"])
				}
				require.Contains(t, strings.Join(details, "\n"), "USING INDEX "+unreadIndex, "%v", details)
			}
		}
	})
}

// explain runs an EXPLAIN and returns its rows, as text by column.
func explain(t *testing.T, db *sql.DB, q string, args []any) []map[string]string {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), q, args...)
	require.NoError(t, err)
	defer rows.Close()
	cols, err := rows.Columns()
	require.NoError(t, err)
	var out []map[string]string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		dest := make([]any, len(cols))
		for i := range vals {
			dest[i] = &vals[i]
		}
		require.NoError(t, rows.Scan(dest...))
		row := map[string]string{}
		for i, c := range cols {
			row[c] = vals[i].String
		}
		out = append(out, row)
	}
	require.NoError(t, rows.Err())
	return out
}

// TestUnreadPaths: every path that inserts messages records their
// context: a job of several INSERTs, a campaign's job, and the copies that
// MoveMessages makes on the context they move to.
func TestUnreadPaths(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		s := newStore(t, b, "")
		a, err := s.CreateContext(ctx, wasend.BrowserContext{Status: wasend.ContextAvailable})
		require.NoError(t, err)
		other, err := s.CreateContext(ctx, wasend.BrowserContext{Status: wasend.ContextAvailable})
		require.NoError(t, err)
		send := func(id int64) {
			t.Helper()
			ok, err := s.Apply(ctx, wasend.Step{Message: &wasend.MessageTransition{ID: id, From: []wasend.MessageStatus{wasend.MessagePending},
				To: wasend.MessageSent}})
			require.NoError(t, err)
			require.True(t, ok)
		}
		unread := func(contextID int64) []int64 {
			t.Helper()
			list, err := s.Unread(ctx, wasend.ReceiptFilter{ContextID: contextID})
			require.NoError(t, err)
			var ids []int64
			for _, m := range list {
				ids = append(ids, m.ID)
			}
			return ids
		}
		// More messages than one INSERT takes.
		big := wasend.Job{ContextID: a.ID, Kind: wasend.KindBulk}
		for i := range 1001 {
			big.Messages = append(big.Messages, wasend.Message{To: "+1", Text: fmt.Sprint(i)})
		}
		big, err = s.CreateJob(ctx, big)
		require.NoError(t, err)
		send(big.Messages[0].ID)
		send(big.Messages[1000].ID)
		require.Equal(t, []int64{big.Messages[0].ID, big.Messages[1000].ID}, unread(a.ID))

		c, err := s.CreateCampaign(ctx, wasend.Campaign{Contexts: []int64{a.ID, other.ID}, Move: true,
			Jobs: []wasend.Job{{ContextID: a.ID, Kind: wasend.KindBulk, Messages: []wasend.Message{{To: "+2", Text: "a"}, {To: "+3", Text: "b"}}}}})
		require.NoError(t, err)
		src := c.Jobs[0]
		send(src.Messages[0].ID)
		moved, err := s.MoveMessages(ctx, wasend.MessageMove{FromJob: src.ID, ToContext: other.ID, Messages: []int64{src.Messages[1].ID}})
		require.NoError(t, err)
		send(moved.Messages[0].ID)
		require.Equal(t, []int64{big.Messages[0].ID, big.Messages[1000].ID, src.Messages[0].ID}, unread(a.ID))
		require.Equal(t, []int64{moved.Messages[0].ID}, unread(other.ID))
		require.Zero(t, count(t, s, "SELECT COUNT(*) FROM send_messages_jobs_messages WHERE browser_context_id IS NULL"))
	})
}

// TestBreadthLimits: the longest values the columns of version 6 take
// round-trip on every database, and longer or malformed ones are refused
// (or, for an incoming text, cut and repaired) before any statement runs.
func TestBreadthLimits(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		s := newStore(t, b, "")
		bc, err := s.CreateContext(ctx, wasend.BrowserContext{Status: wasend.ContextAvailable})
		require.NoError(t, err)

		// Media: a path of MaxMediaPathLength bytes and a name of
		// MaxMediaNameLength, in 4-byte characters, and a type of
		// MaxMediaTypeLength.
		longest := &wasend.Media{Kind: wasend.MediaDocument, Path: "/" + strings.Repeat("😀", (sqlstore.MaxMediaPathLength-1)/4) + "abc",
			Name: strings.Repeat("😀", sqlstore.MaxMediaNameLength/4) + "abc", Type: strings.Repeat("t", sqlstore.MaxMediaTypeLength),
			Size: 1 << 40, SHA256: strings.Repeat("Ff", 32)}
		require.Len(t, longest.Path, sqlstore.MaxMediaPathLength)
		require.Len(t, longest.Name, sqlstore.MaxMediaNameLength)
		j, err := s.CreateJob(ctx, wasend.Job{ContextID: bc.ID, Kind: wasend.KindSingle, Messages: []wasend.Message{{To: "+1", Media: longest}}})
		require.NoError(t, err)
		got, err := s.Job(ctx, j.ID)
		require.NoError(t, err)
		require.Equal(t, longest, got.Messages[0].Media)
		for name, m := range map[string]wasend.Media{
			"path":   {Kind: wasend.MediaImage, Path: longest.Path + "x"},
			"name":   {Kind: wasend.MediaImage, Path: "/a", Name: longest.Name + "x"},
			"type":   {Kind: wasend.MediaImage, Path: "/a", Type: longest.Type + "x"},
			"sha256": {Kind: wasend.MediaImage, Path: "/a", SHA256: strings.Repeat("g", 64)},
			"short":  {Kind: wasend.MediaImage, Path: "/a", SHA256: "abc"},
			"type 0": {Kind: wasend.MediaImage, Path: "/a", Type: "image/\x00"},
		} {
			_, err := s.CreateJob(ctx, wasend.Job{ContextID: bc.ID, Kind: wasend.KindSingle, Messages: []wasend.Message{{To: "+1", Media: &m}}})
			require.ErrorIs(t, err, wasend.ErrInvalidMedia, name)
			var ve *wasend.ValidationError
			require.ErrorAs(t, err, &ve, name)
			require.Equal(t, "media", ve.Field, name)
		}

		// Incoming: a WhatsApp id of MaxWAMessageIDLength bytes is kept, a
		// longer one refused; a text too long is cut, and bytes that are
		// not UTF-8, or NUL, repaired.
		id := strings.Repeat("A", sqlstore.MaxWAMessageIDLength)
		in := wasend.IncomingMessage{ContextID: bc.ID, From: "+" + strings.Repeat("9", sqlstore.MaxPhoneLength-1), WAMessageID: id,
			Text: strings.Repeat("ñ", sqlstore.MaxIncomingTextLength/2) + "cut"}
		m, stored, err := s.RecordIncoming(ctx, in, nil)
		require.NoError(t, err)
		require.True(t, stored)
		require.Equal(t, id, m.WAMessageID)
		require.Len(t, m.Text, sqlstore.MaxIncomingTextLength)
		list, err := s.Incoming(ctx, wasend.InboxFilter{})
		require.NoError(t, err)
		require.Equal(t, []wasend.IncomingMessage{m}, list)
		in.WAMessageID += "A"
		_, _, err = s.RecordIncoming(ctx, in, nil)
		require.ErrorIs(t, err, sqlstore.ErrInvalidInput)
		m, _, err = s.RecordIncoming(ctx, wasend.IncomingMessage{ContextID: bc.ID, From: "+1", WAMessageID: "bad", Text: "a\xffb\x00c"}, nil)
		require.NoError(t, err)
		require.Equal(t, "a\uFFFDbc", m.Text)

		// Numbers of MaxPhoneLength characters, of 4 bytes each, in the
		// suppression list and the cache; one more is refused.
		phone := strings.Repeat("😀", sqlstore.MaxPhoneLength)
		ok, err := s.Suppress(ctx, wasend.Suppression{Phone: phone, Reason: strings.Repeat("r", sqlstore.MaxReasonLength)}, nil)
		require.NoError(t, err)
		require.True(t, ok)
		sup, err := s.Suppressed(ctx, []string{phone})
		require.NoError(t, err)
		require.Equal(t, strings.Repeat("r", sqlstore.MaxReasonLength), sup[phone].Reason)
		_, err = s.Suppress(ctx, wasend.Suppression{Phone: phone + "1"}, nil)
		require.ErrorIs(t, err, wasend.ErrInvalidPhone)
		_, err = s.Suppress(ctx, wasend.Suppression{Phone: "+1", Reason: strings.Repeat("r", sqlstore.MaxReasonLength+1)}, nil)
		require.ErrorIs(t, err, sqlstore.ErrInvalidInput)
		require.NoError(t, s.CacheNumbers(ctx, []wasend.NumberInfo{{Phone: phone, Canonical: phone, OnWhatsApp: true}}))
		nums, err := s.CachedNumbers(ctx, []string{phone}, time.Time{})
		require.NoError(t, err)
		require.Equal(t, phone, nums[phone].Canonical)

		// An account of MaxPhoneLength characters; one more is refused.
		account := phone
		ok, err = s.Apply(ctx, wasend.Step{Context: &wasend.ContextTransition{ID: bc.ID, From: []wasend.ContextStatus{wasend.ContextAvailable},
			To: wasend.ContextAvailable, Account: &account}})
		require.NoError(t, err)
		require.True(t, ok)
		got2, err := s.Context(ctx, bc.ID)
		require.NoError(t, err)
		require.Equal(t, account, got2.Account)
		account += "1"
		_, err = s.Apply(ctx, wasend.Step{Context: &wasend.ContextTransition{ID: bc.ID, From: []wasend.ContextStatus{wasend.ContextAvailable},
			To: wasend.ContextAvailable, Account: &account}})
		require.ErrorIs(t, err, wasend.ErrInvalidStep)
	})
}

// TestPrune: PruneIncoming and PruneNumbers delete what is older than
// their time, and nothing for a zero time; Clean deletes neither.
func TestPrune(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
		s := newStore(t, b, "", sqlstore.WithClock(func() time.Time { return now }))
		bc, err := s.CreateContext(ctx, wasend.BrowserContext{})
		require.NoError(t, err)
		for i, created := range []time.Time{now.Add(-48 * time.Hour), now.Add(-time.Hour), {}} {
			_, _, err := s.RecordIncoming(ctx, wasend.IncomingMessage{ContextID: bc.ID, From: "+1", WAMessageID: fmt.Sprint(i), CreatedAt: created}, nil)
			require.NoError(t, err)
		}
		require.NoError(t, s.CacheNumbers(ctx, []wasend.NumberInfo{{Phone: "+1", CheckedAt: now.Add(-48 * time.Hour)}, {Phone: "+2"}}))
		_, err = s.Clean(ctx, now.Add(time.Hour))
		require.NoError(t, err)
		for _, c := range []struct {
			prune func(time.Time) (int64, error)
			at    time.Time
			want  int64
		}{
			{func(at time.Time) (int64, error) { return s.PruneIncoming(ctx, at) }, time.Time{}, 0},
			{func(at time.Time) (int64, error) { return s.PruneIncoming(ctx, at) }, now.Add(-2 * time.Hour), 1},
			{func(at time.Time) (int64, error) { return s.PruneIncoming(ctx, at) }, now, 1},
			{func(at time.Time) (int64, error) { return s.PruneIncoming(ctx, at) }, now.Add(time.Second), 1},
			{func(at time.Time) (int64, error) { return s.PruneNumbers(ctx, at) }, time.Time{}, 0},
			{func(at time.Time) (int64, error) { return s.PruneNumbers(ctx, at) }, now, 1},
		} {
			n, err := c.prune(c.at)
			require.NoError(t, err)
			require.Equal(t, c.want, n, "prune before %v", c.at)
		}
		nums, err := s.CachedNumbers(ctx, []string{"+1", "+2"}, time.Time{})
		require.NoError(t, err)
		require.Len(t, nums, 1)
		require.Contains(t, nums, "+2")
	})
}
