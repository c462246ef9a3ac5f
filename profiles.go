package wasend

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"time"
)

// DefaultProfileSnapshotLimit is the largest snapshot, in bytes, that the
// ProfileStore implementations of this module keep unless told otherwise:
// 64 MiB. A WhatsApp Web login (its IndexedDB and Local Storage, compressed)
// is far smaller; a larger archive means the profile holds something else.
const DefaultProfileSnapshotLimit = 64 << 20

// ProfileSnapshot is the saved login of a persistent session: an archive of
// what WhatsApp Web keeps in the browser profile to stay logged in, so that
// another process, on another machine, can open the session without a QR
// code.
//
// A snapshot IS a login. Whoever holds its bytes can send messages as the
// number, read its chats and log it out, from anywhere, until the phone
// unlinks the device. Keep snapshots as you keep passwords: a store that
// others can read, backups, logs and dumps must never see them in the
// clear. Seal them with a ProfileCipher (the browser pool's option) so that
// the store holds only ciphertext.
type ProfileSnapshot struct {
	// SystemID is the session's system id (BrowserContext.SystemID).
	SystemID string
	// Generation orders the snapshots of one session: a store refuses to
	// replace a snapshot with one whose generation is not greater
	// (ErrProfileStale), so that a late save of an older profile never
	// overwrites a newer one. It is positive.
	Generation int64
	// Data is the archive, sealed when a ProfileCipher is in use.
	Data []byte
	// SHA256 is the checksum of Data, and Size its length.
	SHA256 [sha256.Size]byte
	Size   int64
	// TakenAt is when the snapshot was taken, and Took how long taking it
	// lasted.
	TakenAt time.Time
	Took    time.Duration
}

// NewProfileSnapshot returns a snapshot of data with its checksum and
// size.
func NewProfileSnapshot(systemID string, generation int64, data []byte, takenAt time.Time, took time.Duration) ProfileSnapshot {
	return ProfileSnapshot{
		SystemID: systemID, Generation: generation, Data: data,
		SHA256: sha256.Sum256(data), Size: int64(len(data)),
		TakenAt: takenAt, Took: took,
	}
}

// Verify checks that the snapshot is whole: a system id, a positive
// generation, and data of its size and checksum. Its errors wrap
// ErrProfileCorrupt.
func (p ProfileSnapshot) Verify() error {
	switch {
	case p.SystemID == "":
		return fmt.Errorf("%w: no system id", ErrProfileCorrupt)
	case p.Generation <= 0:
		return fmt.Errorf("%w: generation %d is not positive", ErrProfileCorrupt, p.Generation)
	case p.Size != int64(len(p.Data)):
		return fmt.Errorf("%w: %d bytes where %d were recorded", ErrProfileCorrupt, len(p.Data), p.Size)
	case sha256.Sum256(p.Data) != p.SHA256:
		return fmt.Errorf("%w: checksum mismatch", ErrProfileCorrupt)
	}
	return nil
}

// ProfileStore keeps the latest snapshot of each persistent session, off
// the machine that runs it. Implementations must be safe for concurrent use
// by many goroutines, and by many processes sharing the store: SaveProfile
// is atomic and conditional, so that of two concurrent saves the greater
// generation is kept, whole, whatever their order.
//
// This module has two: a folder (package profiledir) and SQL (package
// sqlstore). Package storetest holds the conformance suite (RunProfiles).
type ProfileStore interface {
	// SaveProfile keeps p as the session's latest snapshot. It fails with
	// ErrProfileCorrupt when p does not pass Verify, with
	// ErrProfileTooLarge when p is over the store's size limit, and with
	// ErrProfileStale when the store holds a snapshot of the same or a
	// greater generation; the stored snapshot is then unchanged.
	SaveProfile(ctx context.Context, p ProfileSnapshot) error
	// LoadProfile returns the session's latest snapshot, verified (its
	// errors wrap ErrProfileCorrupt when the stored bytes were damaged), or
	// an error wrapping ErrProfileNotFound.
	LoadProfile(ctx context.Context, systemID string) (ProfileSnapshot, error)
	// DeleteProfile removes the session's snapshot; removing one that does
	// not exist is not an error.
	DeleteProfile(ctx context.Context, systemID string) error
}

// ProfileGenerations is implemented by ProfileStores that tell the
// generation of a session's latest snapshot without reading its bytes
// (sqlstore's and profiledir's do). chromedpdriver asks at every launch of
// a session whose profile folder is there (each wake from hibernation) to
// tell whether the folder is current, and reads the snapshot only when it
// is not: a real WhatsApp Web profile's snapshot is megabytes.
type ProfileGenerations interface {
	// ProfileGeneration returns the generation of the session's latest
	// snapshot, or an error wrapping ErrProfileNotFound.
	ProfileGeneration(ctx context.Context, systemID string) (int64, error)
}

// ProfileCipher seals snapshot bytes before they reach a ProfileStore and
// opens them after. It is the hook for encryption at rest: use
// NewProfileCipher, or wrap a key management service. Implementations must
// be safe for concurrent use.
type ProfileCipher interface {
	// Seal returns the sealed form of plain, bound to systemID so that a
	// snapshot cannot be passed off as another session's.
	Seal(systemID string, plain []byte) ([]byte, error)
	// Open returns the plain bytes; an error (a wrong key, another
	// session's snapshot, tampered bytes) wraps ErrProfileKey.
	Open(systemID string, sealed []byte) ([]byte, error)
}

// aesGCM is the ProfileCipher of NewProfileCipher.
type aesGCM struct{ aead cipher.AEAD }

// NewProfileCipher returns a ProfileCipher that seals with AES-GCM under
// key (16, 24 or 32 bytes: AES-128, -192 or -256), a random nonce per
// snapshot and the system id as additional data. A key of another length
// is an error wrapping ErrInvalidOption. Keep the key apart from the
// store: whoever has both has the logins.
func NewProfileCipher(key []byte) (ProfileCipher, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("%w: profile cipher: %v", ErrInvalidOption, err)
	}
	aead, err := cipher.NewGCM(b)
	if err != nil {
		return nil, fmt.Errorf("%w: profile cipher: %v", ErrInvalidOption, err)
	}
	return aesGCM{aead: aead}, nil
}

func (c aesGCM) Seal(systemID string, plain []byte) ([]byte, error) {
	nonce := make([]byte, c.aead.NonceSize(), c.aead.NonceSize()+len(plain)+c.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("wasend: profile cipher: %w", err)
	}
	return c.aead.Seal(nonce, nonce, plain, []byte(systemID)), nil
}

func (c aesGCM) Open(systemID string, sealed []byte) ([]byte, error) {
	n := c.aead.NonceSize()
	if len(sealed) < n+c.aead.Overhead() {
		return nil, fmt.Errorf("%w: %d bytes are too few for a sealed snapshot", ErrProfileKey, len(sealed))
	}
	plain, err := c.aead.Open(nil, sealed[:n], sealed[n:], []byte(systemID))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrProfileKey, err)
	}
	return plain, nil
}
