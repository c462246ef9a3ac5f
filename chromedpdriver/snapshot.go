package chromedpdriver

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wasend/wasend"
)

// Bounds of the snapshots.
const (
	// maxUnpacked bounds the bytes of a login's files, read into a snapshot
	// or written out of one: an archive that unpacks to more is refused
	// (a compression bomb, or a profile that holds far more than a login).
	maxUnpacked = 1 << 30
	// snapshotCloseTimeout bounds the snapshot that Close takes after the
	// browser has exited, whatever is left of Close's ctx.
	snapshotCloseTimeout = 30 * time.Second
)

// loginFolders returns the folders of a profile, relative to it and with
// slashes, that hold WhatsApp Web's login at origin u: Local Storage (one
// database for every origin) and the origin's IndexedDB, as whatsapp-web.js's
// RemoteAuth keeps them. Chrome names an origin's IndexedDB folder
// <scheme>_<host>_<port, 0 for the default>.indexeddb.leveldb (and .blob
// for its large values).
func loginFolders(u string) ([]string, error) {
	pu, err := url.Parse(u)
	if err != nil || pu.Hostname() == "" {
		return nil, fmt.Errorf("%w: URL %q", wasend.ErrInvalidOption, u)
	}
	port := pu.Port()
	if port == "" {
		port = "0"
	}
	origin := pu.Scheme + "_" + pu.Hostname() + "_" + port
	return []string{
		"Default/Local Storage",
		"Default/IndexedDB/" + origin + ".indexeddb.leveldb",
		"Default/IndexedDB/" + origin + ".indexeddb.blob",
	}, nil
}

// skipFile says whether a file of a LevelDB folder stays out of a
// snapshot: its lock and its human-readable logs.
func skipFile(name string) bool {
	return name == "LOCK" || name == "LOG" || name == "LOG.old"
}

// archiveLogin returns the gzip-compressed tar of the login folders of the
// profile dir, and how many files it holds. Missing folders are left out.
func archiveLogin(dir string, folders []string) ([]byte, int, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	files, total := 0, int64(0)
	for _, folder := range folders {
		root := filepath.Join(dir, filepath.FromSlash(folder))
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if errors.Is(err, fs.ErrNotExist) && p == root {
				return fs.SkipDir
			}
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(dir, p)
			if err != nil {
				return err
			}
			name := filepath.ToSlash(rel)
			switch {
			case d.IsDir():
				return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: 0o700})
			case !d.Type().IsRegular() || skipFile(d.Name()):
				return nil
			}
			b, err := os.ReadFile(p)
			if errors.Is(err, fs.ErrNotExist) {
				return nil // Chrome removed it (a compaction) while we walked
			}
			if err != nil {
				return err
			}
			if total += int64(len(b)); total > maxUnpacked {
				return fmt.Errorf("%w: the login's files are over %d bytes", wasend.ErrProfileTooLarge, maxUnpacked)
			}
			files++
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o600, Size: int64(len(b))}); err != nil {
				return err
			}
			_, err = tw.Write(b)
			return err
		})
		if err != nil {
			return nil, 0, fmt.Errorf("chromedpdriver: snapshot of %s: %w", folder, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, 0, err
	}
	if err := zw.Close(); err != nil {
		return nil, 0, err
	}
	return buf.Bytes(), files, nil
}

// extractLogin unpacks an archive of archiveLogin into the empty folder
// dst. It accepts only folders and regular files under the login folders,
// with clean relative names, and at most maxUnpacked bytes; anything else
// is an error wrapping wasend.ErrProfileCorrupt. It returns the number of
// files.
func extractLogin(data []byte, dst string, folders []string) (int, error) {
	corrupt := func(format string, args ...any) (int, error) {
		return 0, fmt.Errorf("%w: %s", wasend.ErrProfileCorrupt, fmt.Sprintf(format, args...))
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return corrupt("not a compressed archive (a sealed snapshot needs WithProfileCipher): %v", err)
	}
	tr := tar.NewReader(zr)
	files, total := 0, int64(0)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return corrupt("%v", err)
		}
		name := strings.TrimSuffix(h.Name, "/")
		if name == "" || path.Clean(name) != name || path.IsAbs(name) || strings.Contains(name, "\\") || !inFolders(name, folders) {
			return corrupt("an entry %q outside the login's folders", h.Name)
		}
		target := filepath.Join(dst, filepath.FromSlash(name))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o700); err != nil {
				return 0, err
			}
		case tar.TypeReg:
			if total += h.Size; h.Size < 0 || total > maxUnpacked {
				return corrupt("over %d bytes unpacked", maxUnpacked)
			}
			if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
				return 0, err
			}
			f, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
			if err != nil {
				return corrupt("entry %q: %v", h.Name, err)
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return corrupt("entry %q: %v", h.Name, err)
			}
			files++
		default:
			return corrupt("an entry %q of type %q", h.Name, h.Typeflag)
		}
	}
	return files, nil
}

// inFolders says whether the slash path name is one of folders or inside
// one, or a parent of one ("Default", "Default/IndexedDB").
func inFolders(name string, folders []string) bool {
	for _, f := range folders {
		if name == f || strings.HasPrefix(name, f+"/") || strings.HasPrefix(f, name+"/") {
			return true
		}
	}
	return false
}

// snapshots is a persistent session's share of the snapshots: its periodic
// loop, the generation of the last one saved or restored, and what launch
// did with the stored one.
type snapshots struct {
	mu  sync.Mutex // one snapshot at a time; guards gen
	gen int64

	restoredGen int64
	restoreErr  error

	// current says that the store holds the login the profile runs: it
	// was restored from there, or its folder is the stored generation, or
	// the login snapshots of this session were taken. A login page (QR
	// code, pairing) clears it: the login snapshots are due again.
	current atomic.Bool

	stop chan struct{}
	wg   sync.WaitGroup // the loop
}

// snapshotting says whether the session takes snapshots.
func (s *Session) snapshotting() bool {
	return s.dir != "" && s.pool.cfg.profileStore != nil
}

// ProfileRestore tells what Launch did with the session's stored snapshot
// (WithProfileStore): the generation it restored, or the error that made
// the session fall back to a QR code (wrapping wasend.ErrProfileNotFound,
// ErrProfileCorrupt or ErrProfileKey; other errors fail Launch), or
// (0, nil) when it did not look: no ProfileStore, an ephemeral or new
// session, or a profile folder that was there already.
func (s *Session) ProfileRestore() (generation int64, err error) {
	s.snap.mu.Lock()
	defer s.snap.mu.Unlock()
	return s.snap.restoredGen, s.snap.restoreErr
}

// restoreProfile fills the session's profile folder from its stored
// snapshot before the browser starts, when the folder is missing or
// empty. A snapshot that is missing, corrupt or cannot be opened does not
// fail the launch: the folder stays as it was, and the session shows a QR
// code. Any other error (the store is unreachable, ctx ended, the disk
// failed) fails it, so that the launch is tried again later rather than
// asking for a QR code while a good login waits in the store. The folder
// is written whole or not at all (a temporary folder, renamed).
func (s *Session) restoreProfile(ctx context.Context) error {
	if !s.snapshotting() || !s.resumed {
		return nil // a new session has no snapshot
	}
	start := time.Now()
	var stored *wasend.ProfileSnapshot
	if entries, err := os.ReadDir(s.dir); err == nil && len(entries) > 0 {
		gen, p, stale, err := s.staleFolder(ctx)
		if !stale {
			if err != nil {
				s.log.Warn("profile snapshot not compared with the local folder; the folder is used", "kind", wasend.KindOf(err), "err", err)
			}
			s.snap.current.Store(gen > 0 && localGeneration(s.dir) >= gen)
			return nil
		}
		stored = p
	}
	gen, files, n, err := s.restoreFrom(ctx, stored)
	s.snap.current.Store(err == nil)
	s.snap.mu.Lock()
	s.snap.restoredGen, s.snap.restoreErr = gen, err
	if gen > s.snap.gen {
		s.snap.gen = gen
	}
	s.snap.mu.Unlock()
	switch {
	case err == nil:
		s.log.Info("profile restored from its snapshot", "generation", gen, "bytes", n, "files", files, "took", time.Since(start))
	case errors.Is(err, wasend.ErrProfileNotFound):
		s.log.Info("no profile snapshot to restore; the session starts without a login")
	case errors.Is(err, wasend.ErrProfileCorrupt), errors.Is(err, wasend.ErrProfileKey):
		s.log.Warn("profile snapshot unusable; the session logs in with a QR code", "kind", wasend.KindOf(err), "err", err)
	default:
		s.log.Warn("profile snapshot not restored; the launch fails", "kind", wasend.KindOf(err), "err", err)
		return fmt.Errorf("chromedpdriver: restoring the profile: %w", err)
	}
	return nil
}

// restoreFrom opens and unpacks the snapshot p, or when p is nil the one
// it loads.
func (s *Session) restoreFrom(ctx context.Context, stored *wasend.ProfileSnapshot) (gen int64, files, size int, err error) {
	cfg := &s.pool.cfg
	if stored == nil {
		p, err := cfg.profileStore.LoadProfile(ctx, s.id)
		if err != nil {
			return 0, 0, 0, err
		}
		stored = &p
	}
	p := *stored
	if err := p.Verify(); err != nil {
		return 0, 0, 0, err
	}
	data := p.Data
	if cfg.profileCipher != nil {
		if data, err = cfg.profileCipher.Open(s.id, data); err != nil {
			return 0, 0, 0, err
		}
	}
	folders, err := loginFolders(cfg.url)
	if err != nil {
		return 0, 0, 0, err
	}
	if err := os.MkdirAll(filepath.Dir(s.dir), 0o700); err != nil {
		return 0, 0, 0, fmt.Errorf("chromedpdriver: restore: %w", err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(s.dir), ".restore-"+s.name+"-")
	if err != nil {
		return 0, 0, 0, fmt.Errorf("chromedpdriver: restore: %w", err)
	}
	defer os.RemoveAll(tmp) // nothing left once renamed
	if files, err = extractLogin(data, tmp, folders); err != nil {
		return 0, 0, 0, err
	}
	if err := writeGeneration(tmp, p.Generation); err != nil {
		return 0, 0, 0, fmt.Errorf("chromedpdriver: restore: %w", err)
	}
	if err := os.RemoveAll(s.dir); err != nil {
		return 0, 0, 0, fmt.Errorf("chromedpdriver: restore: %w", err)
	}
	if err := os.Rename(tmp, s.dir); err != nil {
		return 0, 0, 0, fmt.Errorf("chromedpdriver: restore: %w", err)
	}
	return p.Generation, files, len(p.Data), nil
}

// takeSnapshot archives the login folders, seals the archive and saves it
// with the next generation. The error wraps the store's.
func (s *Session) takeSnapshot(ctx context.Context) (wasend.ProfileSnapshot, error) {
	cfg := &s.pool.cfg
	s.snap.mu.Lock()
	defer s.snap.mu.Unlock()
	start := time.Now()
	folders, err := loginFolders(cfg.url)
	if err != nil {
		return wasend.ProfileSnapshot{}, err
	}
	data, files, err := archiveLogin(s.dir, folders)
	if err != nil {
		return wasend.ProfileSnapshot{}, err
	}
	if files == 0 {
		return wasend.ProfileSnapshot{}, errors.New("chromedpdriver: the profile holds no login files")
	}
	if cfg.profileCipher != nil {
		if data, err = cfg.profileCipher.Seal(s.id, data); err != nil {
			return wasend.ProfileSnapshot{}, err
		}
	}
	// Generations follow the clock, so that a process that never saw the
	// stored one still saves a newer one, and never go back.
	gen := max(s.snap.gen+1, start.UnixMicro())
	p := wasend.NewProfileSnapshot(s.id, gen, data, start, time.Since(start))
	if err := cfg.profileStore.SaveProfile(ctx, p); err != nil {
		return wasend.ProfileSnapshot{}, err
	}
	s.snap.gen = gen
	if err := writeGeneration(s.dir, gen); err != nil {
		s.log.Warn("profile snapshot saved, but its generation not written in the folder", "err", err)
	}
	return p, nil
}

// generationFile, in a profile folder, holds the generation of the
// snapshot the folder was last saved as or restored from. Chrome ignores
// it.
const generationFile = "wasend-snapshot-generation"

// writeGeneration records in the profile folder dir the generation of the
// snapshot that matches it.
func writeGeneration(dir string, gen int64) error {
	return os.WriteFile(filepath.Join(dir, generationFile), []byte(strconv.FormatInt(gen, 10)+"\n"), 0o600)
}

// localGeneration returns the generation written in the profile folder,
// or 0 when there is none.
func localGeneration(dir string) int64 {
	b, err := os.ReadFile(filepath.Join(dir, generationFile))
	if err != nil {
		return 0
	}
	gen, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || gen < 0 {
		return 0
	}
	return gen
}

// staleFolder says whether the session's profile folder, which holds
// files, is older than its stored snapshot: another process used the
// login since this folder was last saved (a takeover), and a stale copy of
// a login must not be run, since WhatsApp may have moved on from it. The
// folder's generation file tells; a folder without one is compared by the
// time its login's files were last written. A missing snapshot, or one
// that cannot be read, keeps the folder (with the error to log). It
// returns the stored generation (0: none), and the snapshot when it read
// it: with a store that tells generations (wasend.ProfileGenerations), a
// folder that is current costs no read of the snapshot.
func (s *Session) staleFolder(ctx context.Context) (gen int64, stored *wasend.ProfileSnapshot, stale bool, err error) {
	if pids := dirProcesses(s.dir); len(pids) > 0 {
		return 0, nil, false, nil // a live browser holds it: the launch fails with ErrProfileInUse
	}
	store := s.pool.cfg.profileStore
	local := localGeneration(s.dir)
	if g, ok := store.(wasend.ProfileGenerations); ok && local != 0 {
		// The usual case, a wake: the generation alone tells, without
		// reading the snapshot.
		gen, err := g.ProfileGeneration(ctx, s.id)
		switch {
		case errors.Is(err, wasend.ErrProfileNotFound):
			return 0, nil, false, nil
		case err != nil:
			return 0, nil, false, err
		case gen <= local:
			return gen, nil, false, nil
		}
	}
	p, err := store.LoadProfile(ctx, s.id)
	if errors.Is(err, wasend.ErrProfileNotFound) {
		return 0, nil, false, nil
	}
	if err != nil {
		return 0, nil, false, err
	}
	if local != 0 {
		if p.Generation <= local {
			return p.Generation, &p, false, nil
		}
		s.log.Info("the profile folder is older than its stored snapshot; the snapshot replaces it",
			"folder_generation", local, "stored_generation", p.Generation)
		return p.Generation, &p, true, nil
	}
	folders, err := loginFolders(s.pool.cfg.url)
	if err != nil {
		return 0, nil, false, err
	}
	newest := lastWritten(s.dir, folders)
	if newest.IsZero() || p.TakenAt.After(newest) {
		s.log.Info("the profile folder holds no login newer than its stored snapshot; the snapshot replaces it",
			"stored_generation", p.Generation)
		return p.Generation, &p, true, nil
	}
	return p.Generation, &p, false, nil
}

// lastWritten returns when a file of the login folders of the profile dir
// was last written, or the zero time when they hold none.
func lastWritten(dir string, folders []string) time.Time {
	var newest time.Time
	for _, folder := range folders {
		_ = filepath.WalkDir(filepath.Join(dir, filepath.FromSlash(folder)), func(_ string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || skipFile(d.Name()) {
				return nil
			}
			if fi, err := d.Info(); err == nil && fi.ModTime().After(newest) {
				newest = fi.ModTime()
			}
			return nil
		})
	}
	return newest
}

// snapshot takes a snapshot, logs how it went, and reports whether it was
// saved.
func (s *Session) snapshot(ctx context.Context, why string) bool {
	p, err := s.takeSnapshot(ctx)
	if err != nil {
		s.log.Warn("profile snapshot failed", "why", why, "kind", wasend.KindOf(err), "err", err)
		return false
	}
	s.log.Info("profile snapshot saved", "why", why, "generation", p.Generation, "bytes", p.Size, "took", p.Took)
	return true
}

// defaultLoginSnapshots are when a session that became ready saves its
// login, counted from then: Chrome writes Local Storage to disk in
// batches a few seconds after the page changed it, so the first waits for
// that, and the second catches what a busy machine wrote late. A process
// killed a minute after a login has left a snapshot another process can
// restore, not only one that closed or lived a whole interval.
var defaultLoginSnapshots = []time.Duration{10 * time.Second, time.Minute}

// startSnapshots starts the snapshots of a logged-in session: at
// loginSnaps after each time it becomes ready, and every
// snapshotInterval while it is.
func (s *Session) startSnapshots() {
	if !s.snapshotting() {
		return
	}
	cfg := &s.pool.cfg
	s.snap.stop = make(chan struct{})
	s.snap.wg.Go(func() {
		t := time.NewTicker(min(time.Second, cfg.snapshotInterval))
		defer t.Stop()
		var (
			period time.Time // the ready period whose login snapshots are counted
			taken  int       // login snapshots taken in it
			last   = time.Now()
		)
		for {
			select {
			case <-s.snap.stop:
				return
			case <-t.C:
			}
			s.mu.Lock()
			since := s.readySince
			s.mu.Unlock()
			if since.IsZero() {
				continue
			}
			if !since.Equal(period) {
				period, taken = since, 0
			}
			now := time.Now()
			why := ""
			if !s.snap.current.Load() {
				for taken < len(cfg.loginSnaps) && now.Sub(since) >= cfg.loginSnaps[taken] {
					taken++
					why = "login"
				}
			}
			if why == "" && now.Sub(last) >= cfg.snapshotInterval {
				why = "periodic"
			}
			if why == "" {
				continue
			}
			last = now
			ctx, cancel := context.WithTimeout(s.life, snapshotCloseTimeout)
			saved := s.snapshot(ctx, why)
			cancel()
			if saved && why == "login" && taken == len(cfg.loginSnaps) {
				s.snap.current.Store(true)
			}
		}
	})
}

// stopSnapshots stops the periodic snapshots and returns the snapshot to
// take once the browser has exited: one when the session is logged in
// now, nothing otherwise (a profile that holds no login must not replace
// one that does).
func (s *Session) stopSnapshots() func(ctx context.Context) {
	if !s.snapshotting() {
		return func(context.Context) {}
	}
	if s.snap.stop != nil {
		close(s.snap.stop)
	}
	s.snap.wg.Wait()
	if s.State() != StateReady {
		return func(context.Context) {}
	}
	return func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), snapshotCloseTimeout)
		defer cancel()
		s.snapshot(ctx, "close")
	}
}
