package profiledir

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/wasend/wasend"
)

// magic starts every snapshot file.
const magic = "wasendPS1\n"

// maxHeader bounds the header of a snapshot file.
const maxHeader = 4096

// Store is a wasend.ProfileStore in a folder. It is safe for concurrent
// use.
type Store struct {
	dir   string
	limit int64
	// mu makes the saves and deletes of this Store one at a time; the
	// file lock does it across processes.
	mu sync.Mutex
}

var _ wasend.ProfileStore = (*Store)(nil)

// Option configures a Store.
type Option func(*Store)

// WithLimit sets the largest snapshot, in bytes, that the Store keeps; a
// larger one is refused with wasend.ErrProfileTooLarge. Default:
// wasend.DefaultProfileSnapshotLimit (64 MiB).
func WithLimit(n int64) Option { return func(s *Store) { s.limit = n } }

// New returns a Store in dir, which it creates (mode 0700) if needed. A
// limit that is not positive is an error wrapping wasend.ErrInvalidOption.
func New(dir string, opts ...Option) (*Store, error) {
	s := &Store{dir: dir, limit: wasend.DefaultProfileSnapshotLimit}
	for _, o := range opts {
		o(s)
	}
	if s.limit <= 0 {
		return nil, fmt.Errorf("%w: profiledir: limit %d is not positive", wasend.ErrInvalidOption, s.limit)
	}
	if dir == "" {
		return nil, fmt.Errorf("%w: profiledir: empty folder", wasend.ErrInvalidOption)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("%w: profiledir: %v", wasend.ErrInvalidOption, err)
	}
	return s, nil
}

// header is the part of a snapshot file before its data.
type header struct {
	SystemID   string        `json:"system_id"`
	Generation int64         `json:"generation"`
	Size       int64         `json:"size"`
	SHA256     string        `json:"sha256"`
	TakenAt    time.Time     `json:"taken_at"`
	Took       time.Duration `json:"took"`
}

// name returns the file name of the session's snapshot, without the
// extension.
func name(systemID string) string {
	h := sha256.Sum256([]byte(systemID))
	return hex.EncodeToString(h[:])
}

// Path returns the file of the session's snapshot, which may not exist.
func (s *Store) Path(systemID string) string {
	return filepath.Join(s.dir, name(systemID)+".snap")
}

// SaveProfile keeps p as the session's snapshot (see
// wasend.ProfileStore).
func (s *Store) SaveProfile(ctx context.Context, p wasend.ProfileSnapshot) error {
	if err := p.Verify(); err != nil {
		return fmt.Errorf("profiledir: %w", err)
	}
	if p.Size > s.limit {
		return fmt.Errorf("%w: profiledir: %d bytes, over the limit of %d", wasend.ErrProfileTooLarge, p.Size, s.limit)
	}
	unlock, err := s.lock(ctx, p.SystemID)
	if err != nil {
		return err
	}
	defer unlock()
	if cur, err := s.readHeader(p.SystemID); err == nil && cur.Generation >= p.Generation {
		return fmt.Errorf("%w: profiledir: generation %d is stored, %d saved", wasend.ErrProfileStale, cur.Generation, p.Generation)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("profiledir: %w", err)
	}
	return s.write(p)
}

// lock takes the session's locks, in the process and across processes.
func (s *Store) lock(ctx context.Context, systemID string) (func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("profiledir: %w", err)
	}
	s.mu.Lock()
	f, err := os.OpenFile(filepath.Join(s.dir, name(systemID)+".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("%w: profiledir: %v", wasend.ErrStore, err)
	}
	if err := lockFile(f); err != nil {
		_ = f.Close()
		s.mu.Unlock()
		return nil, fmt.Errorf("%w: profiledir: lock: %v", wasend.ErrStore, err)
	}
	return func() {
		_ = f.Close() // releases the lock
		s.mu.Unlock()
	}, nil
}

// write writes p to a temporary file, syncs it and renames it over the
// session's file.
func (s *Store) write(p wasend.ProfileSnapshot) (err error) {
	h, err := json.Marshal(header{SystemID: p.SystemID, Generation: p.Generation, Size: p.Size,
		SHA256: hex.EncodeToString(p.SHA256[:]), TakenAt: p.TakenAt, Took: p.Took})
	if err != nil {
		return fmt.Errorf("profiledir: %w", err)
	}
	if len(h) > maxHeader {
		return fmt.Errorf("%w: profiledir: system id of %d bytes", wasend.ErrProfileTooLarge, len(p.SystemID))
	}
	tmp, err := os.CreateTemp(s.dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("%w: profiledir: %v", wasend.ErrStore, err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(h)))
	for _, b := range [][]byte{[]byte(magic), n[:], h, p.Data} {
		if _, err := tmp.Write(b); err != nil {
			return fmt.Errorf("%w: profiledir: %v", wasend.ErrStore, err)
		}
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("%w: profiledir: %v", wasend.ErrStore, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("%w: profiledir: %v", wasend.ErrStore, err)
	}
	if err := os.Rename(tmp.Name(), s.Path(p.SystemID)); err != nil {
		return fmt.Errorf("%w: profiledir: %v", wasend.ErrStore, err)
	}
	syncDir(s.dir)
	return nil
}

// syncDir makes a rename in dir durable, where the system allows it.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}

// open opens the session's file and reads its header; it fails with
// ErrProfileNotFound or ErrProfileCorrupt.
func (s *Store) open(systemID string) (*os.File, header, error) {
	f, err := os.Open(s.Path(systemID))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, header{}, fmt.Errorf("%w: profiledir: %s", wasend.ErrProfileNotFound, systemID)
	}
	if err != nil {
		return nil, header{}, fmt.Errorf("%w: profiledir: %v", wasend.ErrStore, err)
	}
	h, err := readHeader(f, systemID)
	if err != nil {
		_ = f.Close()
		return nil, header{}, err
	}
	return f, h, nil
}

func (s *Store) readHeader(systemID string) (header, error) {
	f, h, err := s.open(systemID)
	if err != nil {
		return header{}, err
	}
	_ = f.Close()
	return h, nil
}

func readHeader(r io.Reader, systemID string) (header, error) {
	corrupt := func(format string, args ...any) error {
		return fmt.Errorf("%w: profiledir: %s", wasend.ErrProfileCorrupt, fmt.Sprintf(format, args...))
	}
	pre := make([]byte, len(magic)+4)
	if _, err := io.ReadFull(r, pre); err != nil {
		return header{}, corrupt("short file: %v", err)
	}
	if !bytes.Equal(pre[:len(magic)], []byte(magic)) {
		return header{}, corrupt("not a snapshot file")
	}
	n := binary.BigEndian.Uint32(pre[len(magic):])
	if n > maxHeader {
		return header{}, corrupt("header of %d bytes", n)
	}
	raw := make([]byte, n)
	if _, err := io.ReadFull(r, raw); err != nil {
		return header{}, corrupt("short header: %v", err)
	}
	var h header
	if err := json.Unmarshal(raw, &h); err != nil {
		return header{}, corrupt("header: %v", err)
	}
	if h.SystemID != systemID {
		return header{}, corrupt("the file holds another session's snapshot")
	}
	return h, nil
}

// LoadProfile returns the session's snapshot, verified (see
// wasend.ProfileStore).
func (s *Store) LoadProfile(ctx context.Context, systemID string) (wasend.ProfileSnapshot, error) {
	if err := ctx.Err(); err != nil {
		return wasend.ProfileSnapshot{}, fmt.Errorf("profiledir: %w", err)
	}
	f, h, err := s.open(systemID)
	if err != nil {
		return wasend.ProfileSnapshot{}, err
	}
	defer f.Close()
	if h.Size < 0 || h.Size > s.limit {
		return wasend.ProfileSnapshot{}, fmt.Errorf("%w: profiledir: a recorded size of %d bytes", wasend.ErrProfileCorrupt, h.Size)
	}
	// Read one byte more than recorded, to see a file that grew.
	data, err := io.ReadAll(io.LimitReader(f, h.Size+1))
	if err != nil {
		return wasend.ProfileSnapshot{}, fmt.Errorf("%w: profiledir: %v", wasend.ErrStore, err)
	}
	p := wasend.ProfileSnapshot{SystemID: h.SystemID, Generation: h.Generation, Data: data,
		Size: h.Size, TakenAt: h.TakenAt, Took: h.Took}
	sum, err := hex.DecodeString(h.SHA256)
	if err != nil || len(sum) != sha256.Size {
		return wasend.ProfileSnapshot{}, fmt.Errorf("%w: profiledir: bad checksum %q", wasend.ErrProfileCorrupt, h.SHA256)
	}
	copy(p.SHA256[:], sum)
	if err := p.Verify(); err != nil {
		return wasend.ProfileSnapshot{}, fmt.Errorf("profiledir: %w", err)
	}
	return p, nil
}

// ProfileGeneration returns the generation of the session's snapshot from
// its file's header, without reading the snapshot
// (wasend.ProfileGenerations).
func (s *Store) ProfileGeneration(ctx context.Context, systemID string) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("profiledir: %w", err)
	}
	h, err := s.readHeader(systemID)
	if err != nil {
		return 0, err
	}
	return h.Generation, nil
}

// DeleteProfile removes the session's snapshot (see wasend.ProfileStore).
func (s *Store) DeleteProfile(ctx context.Context, systemID string) error {
	unlock, err := s.lock(ctx, systemID)
	if err != nil {
		return err
	}
	defer unlock()
	if err := os.Remove(s.Path(systemID)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: profiledir: %v", wasend.ErrStore, err)
	}
	syncDir(s.dir)
	return nil
}
