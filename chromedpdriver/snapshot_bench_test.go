package chromedpdriver

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/wasend/wasend/profiledir"
)

// folderBytes sums the sizes of the regular files under dir.
func folderBytes(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

// BenchmarkProfileSnapshot measures the snapshot of a real profile: one
// persistent session logs in to fakewa and sends 1,000 messages to 50
// chats, then closes. It reports the whole profile folder, the login's
// folders (Local Storage and the origin's IndexedDB) and the archive (the
// bytes stored), the median time to take a snapshot (archive, compress,
// save to a profiledir.Store) and to restore one (load, verify, unpack and
// rename), over 5 of each on the closed profile, and the time until a
// second pool, on an empty profile root, has the session ready without a
// QR code. It prints the figures; it asserts no timing.
//
//	go test -run '^$' -bench BenchmarkProfileSnapshot -benchtime 1x -timeout 30m ./chromedpdriver/
func BenchmarkProfileSnapshot(b *testing.B) {
	const sends = 1000
	f, base := startFake(b)
	store, err := profiledir.New(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	p, _ := testPool(b, base, WithProfileStore(store))
	s, rec := launch(b, p, "")
	login(b, f, s, rec, 0, "15550009501")
	for i := range sends {
		if _, err := s.SendText(quickCtx(b, 30*time.Second), fmt.Sprintf("+1555950%04d", i%50), fmt.Sprintf("message %d of the snapshot benchmark", i)); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Close(quickCtx(b, 60*time.Second)); err != nil {
		b.Fatal(err)
	}
	folders, err := loginFolders(base)
	if err != nil {
		b.Fatal(err)
	}
	var login int64
	for _, f := range folders {
		login += folderBytes(filepath.Join(s.dir, filepath.FromSlash(f)))
	}
	var takes, restores []time.Duration
	var stored int64
	b.ResetTimer()
	for range 5 {
		start := time.Now()
		snap, err := s.takeSnapshot(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		takes = append(takes, time.Since(start))
		stored = snap.Size

		dst := filepath.Join(b.TempDir(), "restored")
		start = time.Now()
		loaded, err := store.LoadProfile(b.Context(), s.id)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := extractLogin(loaded.Data, dst, folders); err != nil {
			b.Fatal(err)
		}
		restores = append(restores, time.Since(start))
	}
	b.StopTimer()

	pb, _ := testPool(b, base, WithProfileStore(store))
	start := time.Now()
	sb, recb := launch(b, pb, s.id)
	if err := sb.WaitReady(quickCtx(b, 60*time.Second)); err != nil {
		b.Fatal(err)
	}
	ready := time.Since(start)
	if hasQR(recb) {
		b.Fatal("the second pool showed a QR code")
	}
	slices.Sort(takes)
	slices.Sort(restores)
	b.ReportMetric(float64(folderBytes(s.dir))/(1<<20), "profile-MiB")
	b.ReportMetric(float64(login)/(1<<10), "login-KiB")
	b.ReportMetric(float64(stored)/(1<<10), "stored-KiB")
	b.ReportMetric(float64(takes[len(takes)/2].Microseconds())/1000, "take-ms")
	b.ReportMetric(float64(restores[len(restores)/2].Microseconds())/1000, "restore-ms")
	b.ReportMetric(float64(ready.Milliseconds()), "ready-ms")
	b.Logf("%d sends; profile %d bytes, login folders %d bytes, stored %d bytes; take %v, restore %v (medians of 5); second pool ready in %v",
		sends, folderBytes(s.dir), login, stored, takes[len(takes)/2], restores[len(restores)/2], ready)
}
