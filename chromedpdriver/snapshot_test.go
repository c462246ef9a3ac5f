package chromedpdriver

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/internal/fakewa"
	"github.com/wasend/wasend/profiledir"
	"github.com/wasend/wasend/sqlstore"
	"github.com/wasend/wasend/sqlstore/sqlite"
)

func TestLoginFolders(t *testing.T) {
	got, err := loginFolders("https://web.whatsapp.com")
	require.NoError(t, err)
	assert.Equal(t, []string{"Default/Local Storage", "Default/IndexedDB/https_web.whatsapp.com_0.indexeddb.leveldb",
		"Default/IndexedDB/https_web.whatsapp.com_0.indexeddb.blob"}, got)
	got, err = loginFolders("http://127.0.0.1:41993")
	require.NoError(t, err)
	assert.Equal(t, "Default/IndexedDB/http_127.0.0.1_41993.indexeddb.leveldb", got[1])
}

// writeFiles writes files (slash paths to contents) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o700))
		require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
	}
}

// TestArchiveLogin: the archive holds the login folders' files but their
// locks and logs, and nothing else of the profile; it unpacks to the
// same files.
func TestArchiveLogin(t *testing.T) {
	folders, err := loginFolders("http://127.0.0.1:5000")
	require.NoError(t, err)
	src := t.TempDir()
	writeFiles(t, src, map[string]string{
		"Default/Local Storage/leveldb/000003.log":                           "token",
		"Default/Local Storage/leveldb/LOCK":                                 "",
		"Default/Local Storage/leveldb/LOG":                                  "log",
		"Default/IndexedDB/http_127.0.0.1_5000.indexeddb.leveldb/CURRENT":    "MANIFEST-000001\n",
		"Default/IndexedDB/http_127.0.0.1_5000.indexeddb.blob/1/00/1":        "blob",
		"Default/IndexedDB/http_127.0.0.1_5001.indexeddb.leveldb/000003.log": "another origin",
		"Default/Cookies": "cookies",
		"Default/History": "history",
	})
	data, files, err := archiveLogin(src, folders)
	require.NoError(t, err)
	assert.Equal(t, 3, files)
	dst := t.TempDir()
	n, err := extractLogin(data, dst, folders)
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	var got []string
	require.NoError(t, filepath.WalkDir(dst, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dst, p)
			got = append(got, filepath.ToSlash(rel))
		}
		return err
	}))
	assert.ElementsMatch(t, []string{"Default/Local Storage/leveldb/000003.log",
		"Default/IndexedDB/http_127.0.0.1_5000.indexeddb.leveldb/CURRENT",
		"Default/IndexedDB/http_127.0.0.1_5000.indexeddb.blob/1/00/1"}, got)
	b, err := os.ReadFile(filepath.Join(dst, "Default/Local Storage/leveldb/000003.log"))
	require.NoError(t, err)
	assert.Equal(t, "token", string(b))
}

// tarball builds a gzip-compressed tar of the headers, each with body.
func tarball(t *testing.T, entries ...*tar.Header) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, h := range entries {
		body := strings.Repeat("x", int(h.Size))
		require.NoError(t, tw.WriteHeader(h))
		_, err := io.WriteString(tw, body)
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// bomb is an archive whose one file claims more than maxUnpacked bytes
// (its body is cut short: the claim alone must be refused).
func bomb(t *testing.T) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	require.NoError(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "Default/Local Storage/big", Size: maxUnpacked + 1}))
	_, err := tw.Write(make([]byte, 4096))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// TestExtractLoginHostile: archives that would write outside the login's
// folders, links, devices, bombs and garbage are corrupt, and nothing is
// written outside the destination.
func TestExtractLoginHostile(t *testing.T) {
	folders, err := loginFolders("http://127.0.0.1:5000")
	require.NoError(t, err)
	reg := func(name string, size int64) *tar.Header {
		return &tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: 0o600}
	}
	cases := map[string][]byte{
		"parent":       tarball(t, reg("Default/Local Storage/../../../escape", 1)),
		"absolute":     tarball(t, reg("/tmp/escape", 1)),
		"other folder": tarball(t, reg("Default/Cookies", 1)),
		"other origin": tarball(t, reg("Default/IndexedDB/https_evil_0.indexeddb.leveldb/x", 1)),
		"symlink":      tarball(t, &tar.Header{Typeflag: tar.TypeSymlink, Name: "Default/Local Storage/l", Linkname: "/etc/passwd"}),
		"hard link":    tarball(t, &tar.Header{Typeflag: tar.TypeLink, Name: "Default/Local Storage/l", Linkname: "Default/Local Storage/x"}),
		"device":       tarball(t, &tar.Header{Typeflag: tar.TypeChar, Name: "Default/Local Storage/d"}),
		"not clean":    tarball(t, reg("Default/Local Storage//x", 1)),
		"twice":        tarball(t, reg("Default/Local Storage/x", 1), reg("Default/Local Storage/x", 1)),
		"bomb":         bomb(t),
		"not gzip":     []byte("sealed bytes, or garbage"),
		"truncated":    tarball(t, reg("Default/Local Storage/x", 5000))[:60],
		"gzip, not tar": func() []byte {
			var b bytes.Buffer
			w := gzip.NewWriter(&b)
			_, _ = w.Write([]byte("hello"))
			_ = w.Close()
			return b.Bytes()
		}(),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			base := t.TempDir()
			dst := filepath.Join(base, "dst")
			require.NoError(t, os.Mkdir(dst, 0o700))
			_, err := extractLogin(data, dst, folders)
			require.ErrorIs(t, err, wasend.ErrProfileCorrupt)
			entries, err := os.ReadDir(base)
			require.NoError(t, err)
			require.Len(t, entries, 1, "only dst in its parent")
		})
	}
}

// profileStores are the ProfileStores the browser tests run on: a folder
// and SQL on SQLite (sqlstore's own tests run it on all three databases).
func profileStores(t *testing.T) map[string]func(t *testing.T) wasend.ProfileStore {
	return map[string]func(t *testing.T) wasend.ProfileStore{
		"profiledir": func(t *testing.T) wasend.ProfileStore {
			s, err := profiledir.New(t.TempDir())
			require.NoError(t, err)
			return s
		},
		"sqlite": func(t *testing.T) wasend.ProfileStore {
			db, err := sqlite.Open(filepath.Join(t.TempDir(), "wasend.db"))
			require.NoError(t, err)
			t.Cleanup(func() { _ = db.Close() })
			s, err := sqlstore.New(db)
			require.NoError(t, err)
			require.NoError(t, s.Migrate(t.Context()))
			return s.Profiles(0)
		},
	}
}

// hasQR says whether the session showed a QR code.
func hasQR(rec *recorder) bool {
	for _, ev := range rec.all() {
		if isQR(ev) {
			return true
		}
	}
	return false
}

// TestProfileMovesBetweenPools: a session logs in and sends in pool A,
// closes (a snapshot); pool B, with another, empty profile root and the
// same ProfileStore, launches the same system id and is logged in without
// a QR code, and sends.
func TestProfileMovesBetweenPools(t *testing.T) {
	for name, newStore := range profileStores(t) {
		t.Run(name, func(t *testing.T) {
			f, base := startFake(t)
			store := newStore(t)
			const me, to = "15550001501", "15550001502"

			rootA := t.TempDir()
			pa, _ := testPool(t, base, WithProfileRoot(rootA), WithProfileStore(store))
			sa, reca := launch(t, pa, "")
			login(t, f, sa, reca, 0, me)
			gen, err := sa.ProfileRestore()
			require.NoError(t, err)
			require.Zero(t, gen, "nothing to restore for a new session")
			_, err = sa.SendText(quickCtx(t, 20*time.Second), "+"+to, "before the move")
			require.NoError(t, err)
			id := sa.SystemID()
			require.NoError(t, sa.Close(quickCtx(t, 30*time.Second)))
			snap, err := store.LoadProfile(t.Context(), id)
			require.NoError(t, err, "the close saved a snapshot")
			t.Logf("snapshot of %d bytes, taken in %v", snap.Size, snap.Took)

			rootB := filepath.Join(t.TempDir(), "not", "there", "yet")
			pb, logB := testPool(t, base, WithProfileRoot(rootB), WithProfileStore(store))
			sb, recb := launch(t, pb, id)
			gen, err = sb.ProfileRestore()
			require.NoError(t, err)
			require.Equal(t, snap.Generation, gen)
			require.NoError(t, sb.WaitReady(quickCtx(t, 30*time.Second)))
			require.False(t, hasQR(recb), "pool B showed a QR code: %s", describeEvents(recb.all()))
			_, err = sb.SendText(quickCtx(t, 20*time.Second), "+"+to, "after the move")
			require.NoError(t, err)
			got := f.Received(me, to)
			require.Len(t, got, 2)
			assert.Equal(t, "after the move", got[1].Text)
			assert.NotContains(t, logB.String(), "after the move")

			// B's close saves a newer generation.
			require.NoError(t, sb.Close(quickCtx(t, 30*time.Second)))
			snap2, err := store.LoadProfile(t.Context(), id)
			require.NoError(t, err)
			require.Greater(t, snap2.Generation, snap.Generation)
		})
	}
}

// loggedIn launches a new session in pool, logs it in as me and closes it
// (its snapshot at close), and returns its system id.
func loggedIn(t *testing.T, f *fakewa.Server, pool *Pool, me string) string {
	t.Helper()
	s, rec := launch(t, pool, "")
	login(t, f, s, rec, 0, me)
	require.NoError(t, s.Close(quickCtx(t, 30*time.Second)))
	return s.SystemID()
}

// TestProfileSnapshotPeriodic: a logged-in session saves snapshots at its
// interval, and none before it is logged in.
func TestProfileSnapshotPeriodic(t *testing.T) {
	f, base := startFake(t)
	store, err := profiledir.New(t.TempDir())
	require.NoError(t, err)
	p, _ := testPool(t, base, WithProfileStore(store), WithSnapshotInterval(200*time.Millisecond))
	s, rec := launch(t, p, "")
	rec.waitFrom(t, 0, 20*time.Second, "qr", isQR)
	time.Sleep(600 * time.Millisecond) // three intervals at the QR code
	_, err = store.LoadProfile(t.Context(), s.SystemID())
	require.ErrorIs(t, err, wasend.ErrProfileNotFound, "a snapshot before the login")
	login(t, f, s, rec, 0, "15550001601")
	var first int64
	require.Eventually(t, func() bool {
		snap, err := store.LoadProfile(t.Context(), s.SystemID())
		if err != nil {
			return false
		}
		if first == 0 {
			first = snap.Generation
		}
		return snap.Generation > first
	}, 20*time.Second, 50*time.Millisecond, "two periodic snapshots")
}

// openArchive returns the text of every file of a snapshot's archive.
func openArchive(t *testing.T, data []byte) string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	require.NoError(t, err)
	tr := tar.NewReader(zr)
	var all strings.Builder
	for {
		_, err := tr.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		b, err := io.ReadAll(tr)
		require.NoError(t, err)
		all.Write(b)
	}
	return all.String()
}

// TestProfileSnapshotSealed: with a cipher, the store holds no archive in
// the clear; the same key restores the login; a wrong key is
// ErrProfileKey, and the session falls back to a QR code and logs in.
func TestProfileSnapshotSealed(t *testing.T) {
	f, base := startFake(t)
	store, err := profiledir.New(t.TempDir())
	require.NoError(t, err)
	key, err := wasend.NewProfileCipher(bytes.Repeat([]byte{1}, 32))
	require.NoError(t, err)
	wrong, err := wasend.NewProfileCipher(bytes.Repeat([]byte{2}, 32))
	require.NoError(t, err)
	const me = "15550001701"

	pa, _ := testPool(t, base, WithProfileStore(store), WithProfileCipher(key))
	id := loggedIn(t, f, pa, me)
	snap, err := store.LoadProfile(t.Context(), id)
	require.NoError(t, err)
	_, err = gzip.NewReader(bytes.NewReader(snap.Data))
	require.Error(t, err, "the stored bytes are an archive in the clear")
	plain, err := key.Open(id, snap.Data)
	require.NoError(t, err)
	clear := openArchive(t, plain)
	require.Contains(t, clear, "fakewa-login-token", "the archive holds the login")
	require.NotContains(t, string(snap.Data), "fakewa-login-token")
	require.NotContains(t, string(snap.Data), me)

	// The same key: restored, no QR code.
	pb, _ := testPool(t, base, WithProfileStore(store), WithProfileCipher(key))
	sb, recb := launch(t, pb, id)
	gen, err := sb.ProfileRestore()
	require.NoError(t, err)
	require.Equal(t, snap.Generation, gen)
	require.NoError(t, sb.WaitReady(quickCtx(t, 30*time.Second)))
	require.False(t, hasQR(recb))
	require.NoError(t, sb.Close(quickCtx(t, 30*time.Second)))

	// A wrong key: ErrProfileKey, a QR code, and a login by it.
	pw, logW := testPool(t, base, WithProfileStore(store), WithProfileCipher(wrong))
	sw, recw := launch(t, pw, id)
	_, err = sw.ProfileRestore()
	require.ErrorIs(t, err, wasend.ErrProfileKey)
	assert.Contains(t, logW.String(), "kind=profile_key")
	assert.NotContains(t, logW.String(), me)
	login(t, f, sw, recw, 0, me)
}

// TestProfileSnapshotCorrupt: a damaged snapshot is not restored: the
// session shows a QR code, and its profile folder holds nothing of the
// snapshot.
func TestProfileSnapshotCorrupt(t *testing.T) {
	f, base := startFake(t)
	dir := t.TempDir()
	store, err := profiledir.New(dir)
	require.NoError(t, err)
	pa, _ := testPool(t, base, WithProfileStore(store))
	id := loggedIn(t, f, pa, "15550001901")
	path := store.Path(id)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	b[len(b)-20] ^= 0xff
	require.NoError(t, os.WriteFile(path, b, 0o600))

	rootB := t.TempDir()
	pb, _ := testPool(t, base, WithProfileStore(store), WithProfileRoot(rootB))
	sb, recb := launch(t, pb, id)
	_, err = sb.ProfileRestore()
	require.ErrorIs(t, err, wasend.ErrProfileCorrupt)
	recb.waitFrom(t, 0, 20*time.Second, "qr", isQR)
	entries, err := os.ReadDir(rootB)
	require.NoError(t, err)
	for _, e := range entries {
		require.False(t, strings.HasPrefix(e.Name(), ".restore-"), "a restore folder is left: %s", e.Name())
	}
}

// failingStore is a ProfileStore that is unreachable while down is set,
// and delegates otherwise.
type failingStore struct {
	wasend.ProfileStore
	down atomic.Bool
}

func (s *failingStore) LoadProfile(ctx context.Context, id string) (wasend.ProfileSnapshot, error) {
	if s.down.Load() {
		return wasend.ProfileSnapshot{}, fmt.Errorf("%w: connection refused", wasend.ErrStore)
	}
	return s.ProfileStore.LoadProfile(ctx, id)
}

// TestProfileRestoreStoreDown: an unreachable store fails Launch with its
// error (retryable), writes nothing and keeps nothing open; once the store
// is back, the same Launch restores the login.
func TestProfileRestoreStoreDown(t *testing.T) {
	f, base := startFake(t)
	dir, err := profiledir.New(t.TempDir())
	require.NoError(t, err)
	store := &failingStore{ProfileStore: dir}
	pa, _ := testPool(t, base, WithProfileStore(store))
	id := loggedIn(t, f, pa, "15550002001")

	rootB := t.TempDir()
	pb, _ := testPool(t, base, WithProfileStore(store), WithProfileRoot(rootB))
	store.down.Store(true)
	_, err = pb.Launch(quickCtx(t, 30*time.Second), wasend.LaunchRequest{SystemID: id})
	require.ErrorIs(t, err, wasend.ErrStore)
	require.True(t, wasend.Retryable(err))
	require.Nil(t, pb.Session(id))
	entries, err := os.ReadDir(rootB)
	require.NoError(t, err)
	require.Empty(t, entries, "the failed launch wrote into the profile root")

	store.down.Store(false)
	sb, recb := launch(t, pb, id)
	gen, err := sb.ProfileRestore()
	require.NoError(t, err)
	require.NotZero(t, gen)
	require.NoError(t, sb.WaitReady(quickCtx(t, 30*time.Second)))
	require.False(t, hasQR(recb))
}

// TestProfileSnapshotAfterLogin: a session saves its login soon after it
// logged in, without waiting for its interval or its close, so a process
// killed then leaves a login that another restores without a QR code.
func TestProfileSnapshotAfterLogin(t *testing.T) {
	f, base := startFake(t)
	store, err := profiledir.New(t.TempDir())
	require.NoError(t, err)
	pa, _ := testPool(t, base, WithProfileStore(store), withLoginSnapshots(8*time.Second))
	sa, reca := launch(t, pa, "")
	login(t, f, sa, reca, 0, "15550001701")
	var snap wasend.ProfileSnapshot
	require.Eventually(t, func() bool {
		snap, err = store.LoadProfile(t.Context(), sa.SystemID())
		return err == nil
	}, 30*time.Second, 50*time.Millisecond, "a snapshot after the login, before any interval or close")

	// What the store held then is all that a killed process leaves.
	killed, err := profiledir.New(t.TempDir())
	require.NoError(t, err)
	require.NoError(t, killed.SaveProfile(t.Context(), snap))
	id := sa.SystemID()
	require.NoError(t, sa.Close(quickCtx(t, 30*time.Second)))

	pb, _ := testPool(t, base, WithProfileStore(killed))
	sb, recb := launch(t, pb, id)
	gen, err := sb.ProfileRestore()
	require.NoError(t, err)
	require.Equal(t, snap.Generation, gen)
	require.NoError(t, sb.WaitReady(quickCtx(t, 30*time.Second)))
	require.False(t, hasQR(recb), "the login snapshot was not enough: %s", describeEvents(recb.all()))
}

// TestProfileStaleFolderIsReplaced: a login used by another process since
// this one's folder was saved is restored over the folder; a folder as new
// as the stored snapshot is kept.
func TestProfileStaleFolderIsReplaced(t *testing.T) {
	f, base := startFake(t)
	store, err := profiledir.New(t.TempDir())
	require.NoError(t, err)
	const me, to = "15550001801", "15550001802"
	rootA, rootB := t.TempDir(), t.TempDir()

	pa, _ := testPool(t, base, WithProfileRoot(rootA), WithProfileStore(store))
	id := loggedIn(t, f, pa, me) // A's folder and the store: generation 1

	pb, _ := testPool(t, base, WithProfileRoot(rootB), WithProfileStore(store))
	sb, _ := launch(t, pb, id)
	require.NoError(t, sb.WaitReady(quickCtx(t, 30*time.Second)))
	_, err = sb.SendText(quickCtx(t, 20*time.Second), "+"+to, "from B")
	require.NoError(t, err)
	require.NoError(t, sb.Close(quickCtx(t, 30*time.Second))) // generation 2
	newer, err := store.LoadProfile(t.Context(), id)
	require.NoError(t, err)

	// A launches again on its old folder: the store's is newer.
	pa2, logA := testPool(t, base, WithProfileRoot(rootA), WithProfileStore(store))
	sa, reca := launch(t, pa2, id)
	gen, err := sa.ProfileRestore()
	require.NoError(t, err)
	require.Equal(t, newer.Generation, gen, "the newer snapshot replaced the old folder")
	assert.Contains(t, logA.String(), "older than its stored snapshot")
	require.NoError(t, sa.WaitReady(quickCtx(t, 30*time.Second)))
	require.False(t, hasQR(reca), "%s", describeEvents(reca.all()))
	_, err = sa.SendText(quickCtx(t, 20*time.Second), "+"+to, "from A again")
	require.NoError(t, err)
	require.NoError(t, sa.Close(quickCtx(t, 30*time.Second)))

	// A's folder is now as new as the store: it is kept.
	pa3, _ := testPool(t, base, WithProfileRoot(rootA), WithProfileStore(store))
	sa3, _ := launch(t, pa3, id)
	gen, err = sa3.ProfileRestore()
	require.NoError(t, err)
	assert.Zero(t, gen, "an up-to-date folder is not restored")
	require.NoError(t, sa3.WaitReady(quickCtx(t, 30*time.Second)))
	assert.Len(t, f.Received(me, to), 2)
}

// TestProfileAbandonSavesNothing: a session relaunched on a folder that is
// the stored login takes no login snapshots (a wake would write two), and
// abandoned (its context taken over by another process) it saves no
// snapshot, unlike Close.
func TestProfileAbandonSavesNothing(t *testing.T) {
	f, base := startFake(t)
	dir, err := profiledir.New(t.TempDir())
	require.NoError(t, err)
	store := &countingStore{Store: dir}
	p, _ := testPool(t, base, WithProfileStore(store), withLoginSnapshots(500*time.Millisecond))
	id := loggedIn(t, f, p, "15550001901")
	saved, err := store.LoadProfile(t.Context(), id)
	require.NoError(t, err)

	loads := store.loads.Load()
	s, _ := launch(t, p, id)
	assert.Equal(t, loads, store.loads.Load(), "a current folder's launch read the snapshot; its generation was enough")
	require.NoError(t, s.WaitReady(quickCtx(t, 30*time.Second)))
	time.Sleep(2 * time.Second) // four times the login snapshot's delay
	again, err := store.LoadProfile(t.Context(), id)
	require.NoError(t, err)
	assert.Equal(t, saved.Generation, again.Generation, "a current folder took a login snapshot")
	require.NoError(t, s.Abandon(quickCtx(t, 30*time.Second)))
	after, err := store.LoadProfile(t.Context(), id)
	require.NoError(t, err)
	assert.Equal(t, saved.Generation, after.Generation, "an abandoned session saved a snapshot")
	assert.Equal(t, StateClosed, s.State())
}

// countingStore is a profiledir store that counts the snapshots read.
type countingStore struct {
	*profiledir.Store
	loads atomic.Int32
}

func (s *countingStore) LoadProfile(ctx context.Context, id string) (wasend.ProfileSnapshot, error) {
	s.loads.Add(1)
	return s.Store.LoadProfile(ctx, id)
}
