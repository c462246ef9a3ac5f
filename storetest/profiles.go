package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/wasend/wasend"
)

// ProfileLimit is the size limit, in bytes, of the stores that RunProfiles
// asks newStore for: large enough that a store which cuts snapshots into
// parts holds several, small enough to stay quick.
const ProfileLimit = 3<<20 + 12345

// ProfileOptions says what RunProfiles may expect of the stores. The zero
// value is valid: each field has a default.
type ProfileOptions struct {
	// Parallel runs the subtests in parallel, each on a store of its own.
	// Default: false.
	Parallel bool
	// Corrupt damages the stored bytes of the session's snapshot in s, as
	// a bad disk or a hand in the database would (flip a byte of the
	// data, or cut it short), so that the suite checks that LoadProfile
	// detects it. Default: nil, and that check is skipped with a message:
	// give it for a real store.
	Corrupt func(t *testing.T, s wasend.ProfileStore, systemID string)
}

// RunProfiles runs the conformance suite of wasend.ProfileStore. newStore
// must return a fresh, empty store whose size limit is limit bytes (a
// snapshot of exactly limit bytes is kept, one byte more is refused with
// ErrProfileTooLarge), isolated from the others (if opts.Parallel), and
// release it in t.Cleanup.
//
// It checks: ErrProfileNotFound and an idempotent DeleteProfile; a round
// trip that keeps every field and every byte; the generations (a newer
// snapshot replaces, an older or equal one is refused with ErrProfileStale
// and changes nothing, also under concurrent saves in any order);
// snapshots that fail Verify refused with ErrProfileCorrupt and nothing
// kept; the size limit; stored bytes damaged afterwards detected by
// LoadProfile (opts.Corrupt); and system ids that differ only in case or
// in a trailing space, or hold path separators, kept apart.
func RunProfiles(t *testing.T, newStore func(t *testing.T, limit int64) wasend.ProfileStore, opts ProfileOptions) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s wasend.ProfileStore, o ProfileOptions)
	}{
		{"NotFound", testProfileNotFound},
		{"RoundTrip", testProfileRoundTrip},
		{"Generations", testProfileGenerations},
		{"ConcurrentSaves", testProfileConcurrentSaves},
		{"RefusesCorrupt", testProfileRefusesCorrupt},
		{"Limit", testProfileLimit},
		{"DetectsDamage", testProfileDetectsDamage},
		{"SystemIDs", testProfileSystemIDs},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if opts.Parallel {
				t.Parallel()
			}
			tc.fn(t, newStore(t, ProfileLimit), opts)
		})
	}
}

// profileData returns n random bytes: every byte value, no text.
func profileData(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func profileAt() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

func mustSaveProfile(t *testing.T, s wasend.ProfileStore, p wasend.ProfileSnapshot) {
	t.Helper()
	if err := s.SaveProfile(t.Context(), p); err != nil {
		t.Fatalf("SaveProfile(%s, generation %d, %d bytes): %v", p.SystemID, p.Generation, p.Size, err)
	}
}

func mustLoadProfile(t *testing.T, s wasend.ProfileStore, systemID string) wasend.ProfileSnapshot {
	t.Helper()
	p, err := s.LoadProfile(t.Context(), systemID)
	if err != nil {
		t.Fatalf("LoadProfile(%s): %v", systemID, err)
	}
	return p
}

// sameProfile fails unless got is want, field by field.
func sameProfile(t *testing.T, got, want wasend.ProfileSnapshot) {
	t.Helper()
	if got.SystemID != want.SystemID || got.Generation != want.Generation || got.Size != want.Size ||
		got.SHA256 != want.SHA256 || !got.TakenAt.Equal(want.TakenAt) || got.Took != want.Took {
		t.Fatalf("loaded %s gen %d size %d sha %x at %v took %v; want %s gen %d size %d sha %x at %v took %v",
			got.SystemID, got.Generation, got.Size, got.SHA256[:4], got.TakenAt, got.Took,
			want.SystemID, want.Generation, want.Size, want.SHA256[:4], want.TakenAt, want.Took)
	}
	if !bytes.Equal(got.Data, want.Data) {
		t.Fatalf("loaded data differs from the saved (%d and %d bytes)", len(got.Data), len(want.Data))
	}
	if err := got.Verify(); err != nil {
		t.Fatalf("loaded snapshot: %v", err)
	}
}

func wantProfileErr(t *testing.T, err, want error, what string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got %v, want an error wrapping %v", what, err, want)
	}
}

func testProfileNotFound(t *testing.T, s wasend.ProfileStore, _ ProfileOptions) {
	_, err := s.LoadProfile(t.Context(), "persistent:nobody")
	wantProfileErr(t, err, wasend.ErrProfileNotFound, "LoadProfile of an unknown session")
	if err := s.DeleteProfile(t.Context(), "persistent:nobody"); err != nil {
		t.Fatalf("DeleteProfile of an unknown session: %v", err)
	}
	mustSaveProfile(t, s, wasend.NewProfileSnapshot("persistent:a", 1, profileData(1, 100), profileAt(), time.Second))
	if err := s.DeleteProfile(t.Context(), "persistent:a"); err != nil {
		t.Fatalf("DeleteProfile: %v", err)
	}
	_, err = s.LoadProfile(t.Context(), "persistent:a")
	wantProfileErr(t, err, wasend.ErrProfileNotFound, "LoadProfile after DeleteProfile")
	if err := s.DeleteProfile(t.Context(), "persistent:a"); err != nil {
		t.Fatalf("DeleteProfile twice: %v", err)
	}
	// A deleted session starts again from any generation.
	mustSaveProfile(t, s, wasend.NewProfileSnapshot("persistent:a", 1, profileData(2, 10), profileAt(), 0))
}

func testProfileRoundTrip(t *testing.T, s wasend.ProfileStore, _ ProfileOptions) {
	for i, n := range []int{1, 1000, 1 << 20, ProfileLimit / 2} {
		p := wasend.NewProfileSnapshot(fmt.Sprintf("persistent:r%d", i), int64(1+i*1000), profileData(uint64(i), n),
			profileAt().Add(-time.Duration(i)*time.Hour), time.Duration(i)*1234*time.Microsecond)
		mustSaveProfile(t, s, p)
		sameProfile(t, mustLoadProfile(t, s, p.SystemID), p)
	}
	// An empty archive is a snapshot too.
	p := wasend.NewProfileSnapshot("persistent:empty", 5, nil, profileAt(), 0)
	mustSaveProfile(t, s, p)
	got := mustLoadProfile(t, s, p.SystemID)
	if got.Size != 0 || len(got.Data) != 0 || got.SHA256 != p.SHA256 {
		t.Fatalf("empty snapshot loaded with %d bytes, size %d", len(got.Data), got.Size)
	}
}

func testProfileGenerations(t *testing.T, s wasend.ProfileStore, _ ProfileOptions) {
	id := "persistent:g"
	v1 := wasend.NewProfileSnapshot(id, 10, profileData(1, 5000), profileAt(), time.Millisecond)
	mustSaveProfile(t, s, v1)
	v2 := wasend.NewProfileSnapshot(id, 11, profileData(2, 7000), profileAt().Add(time.Second), 2*time.Millisecond)
	mustSaveProfile(t, s, v2)
	sameProfile(t, mustLoadProfile(t, s, id), v2)
	for _, gen := range []int64{11, 10, 1} {
		old := wasend.NewProfileSnapshot(id, gen, profileData(uint64(gen+100), 3000), profileAt(), 0)
		wantProfileErr(t, s.SaveProfile(t.Context(), old), wasend.ErrProfileStale, fmt.Sprintf("a save of generation %d over 11", gen))
		sameProfile(t, mustLoadProfile(t, s, id), v2)
	}
	v3 := wasend.NewProfileSnapshot(id, 1<<62, profileData(3, 100), profileAt(), 0)
	mustSaveProfile(t, s, v3)
	sameProfile(t, mustLoadProfile(t, s, id), v3)
	// A store that tells generations without a read tells the same.
	if g, ok := s.(wasend.ProfileGenerations); ok {
		gen, err := g.ProfileGeneration(t.Context(), id)
		if err != nil || gen != v3.Generation {
			t.Fatalf("ProfileGeneration = %d, %v; want %d", gen, err, v3.Generation)
		}
		_, err = g.ProfileGeneration(t.Context(), "persistent:none")
		wantProfileErr(t, err, wasend.ErrProfileNotFound, "the generation of a session without a snapshot")
	}
}

func testProfileConcurrentSaves(t *testing.T, s wasend.ProfileStore, _ ProfileOptions) {
	const n = 12
	id := "persistent:c"
	snaps := make([]wasend.ProfileSnapshot, n)
	for i := range snaps {
		snaps[i] = wasend.NewProfileSnapshot(id, int64(i+1), profileData(uint64(i), 20000+i*4096), profileAt(), time.Duration(i))
	}
	order := rand.Perm(n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, i := range order {
		wg.Go(func() {
			<-start
			errs[i] = s.SaveProfile(context.Background(), snaps[i])
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil && !errors.Is(err, wasend.ErrProfileStale) {
			t.Fatalf("save of generation %d: %v, want nil or ErrProfileStale", i+1, err)
		}
	}
	if errs[n-1] != nil {
		t.Fatalf("the greatest generation was refused: %v", errs[n-1])
	}
	sameProfile(t, mustLoadProfile(t, s, id), snaps[n-1])
}

func testProfileRefusesCorrupt(t *testing.T, s wasend.ProfileStore, _ ProfileOptions) {
	good := wasend.NewProfileSnapshot("persistent:x", 3, profileData(9, 4096), profileAt(), 0)
	for name, change := range map[string]func(p *wasend.ProfileSnapshot){
		"flipped byte":    func(p *wasend.ProfileSnapshot) { p.Data = append([]byte{p.Data[0] ^ 1}, p.Data[1:]...) },
		"short data":      func(p *wasend.ProfileSnapshot) { p.Data = p.Data[:100] },
		"size":            func(p *wasend.ProfileSnapshot) { p.Size++ },
		"zero generation": func(p *wasend.ProfileSnapshot) { p.Generation = 0 },
		"no system id":    func(p *wasend.ProfileSnapshot) { p.SystemID = "" },
	} {
		p := good
		change(&p)
		wantProfileErr(t, s.SaveProfile(t.Context(), p), wasend.ErrProfileCorrupt, name)
	}
	_, err := s.LoadProfile(t.Context(), good.SystemID)
	wantProfileErr(t, err, wasend.ErrProfileNotFound, "LoadProfile after refused saves")
	mustSaveProfile(t, s, good)
	bad := wasend.NewProfileSnapshot(good.SystemID, 4, profileData(10, 4096), profileAt(), 0)
	bad.SHA256[0] ^= 1
	wantProfileErr(t, s.SaveProfile(t.Context(), bad), wasend.ErrProfileCorrupt, "a bad checksum over a good snapshot")
	sameProfile(t, mustLoadProfile(t, s, good.SystemID), good)
}

func testProfileLimit(t *testing.T, s wasend.ProfileStore, _ ProfileOptions) {
	id := "persistent:big"
	atLimit := wasend.NewProfileSnapshot(id, 1, profileData(5, ProfileLimit), profileAt(), 0)
	mustSaveProfile(t, s, atLimit)
	over := wasend.NewProfileSnapshot(id, 2, profileData(6, ProfileLimit+1), profileAt(), 0)
	wantProfileErr(t, s.SaveProfile(t.Context(), over), wasend.ErrProfileTooLarge, "a snapshot one byte over the limit")
	sameProfile(t, mustLoadProfile(t, s, id), atLimit)
	wantProfileErr(t, s.SaveProfile(t.Context(), wasend.NewProfileSnapshot("persistent:other", 1, profileData(7, 2*ProfileLimit), profileAt(), 0)),
		wasend.ErrProfileTooLarge, "a snapshot twice the limit")
	_, err := s.LoadProfile(t.Context(), "persistent:other")
	wantProfileErr(t, err, wasend.ErrProfileNotFound, "LoadProfile of a refused snapshot")
}

func testProfileDetectsDamage(t *testing.T, s wasend.ProfileStore, o ProfileOptions) {
	if o.Corrupt == nil {
		t.Skip("ProfileOptions.Corrupt not given: the damage of stored bytes is not checked")
	}
	id := "persistent:d"
	p := wasend.NewProfileSnapshot(id, 7, profileData(11, 1<<20+17), profileAt(), 0)
	mustSaveProfile(t, s, p)
	o.Corrupt(t, s, id)
	_, err := s.LoadProfile(t.Context(), id)
	wantProfileErr(t, err, wasend.ErrProfileCorrupt, "LoadProfile of damaged bytes")
	// A newer snapshot replaces the damaged one.
	p2 := wasend.NewProfileSnapshot(id, 8, profileData(12, 999), profileAt(), 0)
	mustSaveProfile(t, s, p2)
	sameProfile(t, mustLoadProfile(t, s, id), p2)
}

func testProfileSystemIDs(t *testing.T, s wasend.ProfileStore, _ ProfileOptions) {
	ids := []string{"persistent:a", "persistent:A", "persistent:a ", "persistent:../a", "persistent:a/b", "persistent:a\\b",
		"persistent:a.tmp", "persistent:é", "persistent:" + string(bytes.Repeat([]byte("n"), 90))}
	snaps := map[string]wasend.ProfileSnapshot{}
	for i, id := range ids {
		p := wasend.NewProfileSnapshot(id, int64(i+1), profileData(uint64(i+50), 100+i), profileAt(), 0)
		mustSaveProfile(t, s, p)
		snaps[id] = p
	}
	if err := s.DeleteProfile(t.Context(), "persistent:A"); err != nil {
		t.Fatal(err)
	}
	delete(snaps, "persistent:A")
	for _, id := range ids {
		if p, ok := snaps[id]; ok {
			sameProfile(t, mustLoadProfile(t, s, id), p)
			continue
		}
		_, err := s.LoadProfile(t.Context(), id)
		wantProfileErr(t, err, wasend.ErrProfileNotFound, "LoadProfile of the deleted "+id)
	}
}
