package profiledir_test

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/profiledir"
	"github.com/wasend/wasend/storetest"
)

func TestConformance(t *testing.T) {
	storetest.RunProfiles(t, func(t *testing.T, limit int64) wasend.ProfileStore {
		s, err := profiledir.New(t.TempDir(), profiledir.WithLimit(limit))
		require.NoError(t, err)
		return s
	}, storetest.ProfileOptions{Parallel: true, Corrupt: func(t *testing.T, s wasend.ProfileStore, systemID string) {
		path := s.(*profiledir.Store).Path(systemID)
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		b[len(b)-1000] ^= 0x40
		require.NoError(t, os.WriteFile(path, b, 0o600))
	}})
}

// TestFiles: the folder holds one file per session, named by a hash (no
// system id reaches a path), mode 0600, and no temporary file after saves;
// a file cut short, grown, or holding another session's snapshot is
// corrupt.
func TestFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "snaps")
	s, err := profiledir.New(dir)
	require.NoError(t, err)
	ctx := t.Context()
	for i, id := range []string{"persistent:../../escape", "persistent:a"} {
		require.NoError(t, s.SaveProfile(ctx, wasend.NewProfileSnapshot(id, int64(i+1), []byte("data"), time.Now(), 0)))
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var snaps []string
	for _, e := range entries {
		require.False(t, strings.HasPrefix(e.Name(), ".tmp-"), "a temporary file is left: %s", e.Name())
		if strings.HasSuffix(e.Name(), ".snap") {
			snaps = append(snaps, e.Name())
			info, err := e.Info()
			require.NoError(t, err)
			require.Equal(t, os.FileMode(0o600), info.Mode().Perm())
		}
	}
	require.Len(t, snaps, 2)
	_, err = os.Stat(filepath.Join(filepath.Dir(dir), "escape"))
	require.ErrorIs(t, err, os.ErrNotExist)
	info, err := os.Stat(dir)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o700), info.Mode().Perm())

	good, err := os.ReadFile(s.Path("persistent:a"))
	require.NoError(t, err)
	for name, b := range map[string][]byte{
		"cut short": good[:len(good)-1],
		"grown":     append(append([]byte(nil), good...), 'x'),
		"no header": good[:5],
		"empty":     nil,
		"not ours":  []byte("PK\x03\x04 a zip file"),
	} {
		require.NoError(t, os.WriteFile(s.Path("persistent:a"), b, 0o600))
		_, err := s.LoadProfile(ctx, "persistent:a")
		require.ErrorIs(t, err, wasend.ErrProfileCorrupt, name)
	}
	// Another session's file under this one's name.
	other, err := os.ReadFile(s.Path("persistent:../../escape"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(s.Path("persistent:a"), other, 0o600))
	_, err = s.LoadProfile(ctx, "persistent:a")
	require.ErrorIs(t, err, wasend.ErrProfileCorrupt)
	// A damaged file does not block the next save.
	require.NoError(t, s.SaveProfile(ctx, wasend.NewProfileSnapshot("persistent:a", 1, []byte("again"), time.Now(), 0)))
}

// TestTwoStoresOneFolder: two Stores on one folder (two processes sharing
// it) saving concurrently keep the greatest generation.
func TestTwoStoresOneFolder(t *testing.T) {
	dir := t.TempDir()
	a, err := profiledir.New(dir)
	require.NoError(t, err)
	b, err := profiledir.New(dir)
	require.NoError(t, err)
	var wg sync.WaitGroup
	for i := range 40 {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() {
			err := s.SaveProfile(t.Context(), wasend.NewProfileSnapshot("persistent:x", int64(40-i), []byte{byte(i)}, time.Now(), 0))
			if err != nil {
				require.ErrorIs(t, err, wasend.ErrProfileStale)
			}
		})
	}
	wg.Wait()
	p, err := b.LoadProfile(t.Context(), "persistent:x")
	require.NoError(t, err)
	require.EqualValues(t, 40, p.Generation)
}

func TestNew(t *testing.T) {
	_, err := profiledir.New("")
	require.ErrorIs(t, err, wasend.ErrInvalidOption)
	_, err = profiledir.New(t.TempDir(), profiledir.WithLimit(0))
	require.ErrorIs(t, err, wasend.ErrInvalidOption)
}
