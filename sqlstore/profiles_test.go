package sqlstore_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/sqlstore"
	"github.com/wasend/wasend/storetest"
)

// damageProfile flips a bit in the first part of the session's snapshot.
func damageProfile(t *testing.T, s *sqlstore.Store, systemID string) {
	t.Helper()
	ph := func(n int) string {
		if s.Dialect() == sqlstore.Postgres {
			return "$" + string(rune('0'+n))
		}
		return "?"
	}
	var data []byte
	require.NoError(t, s.DB().QueryRowContext(t.Context(),
		"SELECT data FROM browser_profile_parts WHERE system_id = "+ph(1)+" AND part = 0", systemID).Scan(&data))
	data[len(data)/2] ^= 0x10
	_, err := s.DB().ExecContext(t.Context(),
		"UPDATE browser_profile_parts SET data = "+ph(1)+" WHERE system_id = "+ph(2)+" AND part = 0", data, systemID)
	require.NoError(t, err)
}

func TestProfilesConformance(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		storetest.RunProfiles(t, func(t *testing.T, limit int64) wasend.ProfileStore {
			return newStore(t, b, "").Profiles(limit)
		}, storetest.ProfileOptions{Parallel: true, Corrupt: func(t *testing.T, ps wasend.ProfileStore, systemID string) {
			damageProfile(t, ps.(*sqlstore.Profiles).Store(), systemID)
		}})
	})
}

// TestProfilesParts: a snapshot is cut into parts of 1 MiB, and a lost or
// extra part is corruption, not a shorter snapshot.
func TestProfilesParts(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		s := newStore(t, b, "")
		ps := s.Profiles(0)
		data := make([]byte, 2<<20+1)
		for i := range data {
			data[i] = byte(i * 7)
		}
		p := wasend.NewProfileSnapshot("persistent:p", 1, data, time.Now(), time.Second)
		require.NoError(t, ps.SaveProfile(t.Context(), p))
		require.Equal(t, 3, count(t, s, "SELECT COUNT(*) FROM browser_profile_parts"))
		got, err := ps.LoadProfile(t.Context(), "persistent:p")
		require.NoError(t, err)
		require.Equal(t, data, got.Data)

		_, err = s.DB().ExecContext(t.Context(), "DELETE FROM browser_profile_parts WHERE part = 2")
		require.NoError(t, err)
		_, err = ps.LoadProfile(t.Context(), "persistent:p")
		require.ErrorIs(t, err, wasend.ErrProfileCorrupt, "a lost last part")
		_, err = s.DB().ExecContext(t.Context(), "DELETE FROM browser_profile_parts WHERE part = 0")
		require.NoError(t, err)
		_, err = ps.LoadProfile(t.Context(), "persistent:p")
		require.ErrorIs(t, err, wasend.ErrProfileCorrupt, "a lost first part")
		_, err = s.DB().ExecContext(t.Context(), "DELETE FROM browser_profile_parts")
		require.NoError(t, err)
		_, err = ps.LoadProfile(t.Context(), "persistent:p")
		require.ErrorIs(t, err, wasend.ErrProfileCorrupt, "all parts lost")

		// The default limit is the root's.
		require.NoError(t, ps.SaveProfile(t.Context(), wasend.NewProfileSnapshot("persistent:p", 2, data[:10], time.Now(), 0)))
		big := wasend.NewProfileSnapshot("persistent:q", 1, make([]byte, wasend.DefaultProfileSnapshotLimit+1), time.Now(), 0)
		require.ErrorIs(t, ps.SaveProfile(t.Context(), big), wasend.ErrProfileTooLarge)
	})
}
