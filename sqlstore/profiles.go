package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/wasend/wasend"
)

// profilePart is the largest part of a snapshot in one row (and one
// statement): 1 MiB, well under MySQL's and MariaDB's default
// max_allowed_packet (16 MiB and more).
const profilePart = 1 << 20

// Profiles is a wasend.ProfileStore in the Store's database: the tables
// browser_profiles (one row per session) and browser_profile_parts (the
// archive, in parts of at most 1 MiB). It is safe for concurrent use, by
// many processes too: a save takes the session's row lock, checks the
// generation and replaces the parts in one transaction.
//
// A snapshot is a login (see wasend.ProfileSnapshot): whoever can read
// these tables can send as the number unless the browser pool seals the
// snapshots with a wasend.ProfileCipher.
type Profiles struct {
	s     *Store
	limit int64
}

var _ wasend.ProfileStore = (*Profiles)(nil)

// Profiles returns the ProfileStore of the Store's database, which keeps
// snapshots of at most limit bytes; a limit that is not positive means
// wasend.DefaultProfileSnapshotLimit (64 MiB). It needs schema version 8.
func (s *Store) Profiles(limit int64) *Profiles {
	if limit <= 0 {
		limit = wasend.DefaultProfileSnapshotLimit
	}
	return &Profiles{s: s, limit: limit}
}

// SaveProfile keeps p as the session's snapshot (see wasend.ProfileStore).
// A save that races a DeleteProfile of the same session may fail with
// wasend.ErrProfileStale.
func (ps *Profiles) SaveProfile(ctx context.Context, p wasend.ProfileSnapshot) error {
	if err := p.Verify(); err != nil {
		return fmt.Errorf("sqlstore: %w", err)
	}
	if p.Size > ps.limit {
		return fmt.Errorf("%w: sqlstore: %d bytes, over the limit of %d", wasend.ErrProfileTooLarge, p.Size, ps.limit)
	}
	s, d := ps.s, ps.s.d
	now := d.timeArg(s.clock(time.Time{}))
	// The session's row exists first, at generation 0, on its own: the
	// transaction below then locks that row, never a gap of the index
	// (two first saves in MySQL would otherwise deadlock).
	q := d.query().w("INSERT INTO browser_profiles (system_id, generation, size, sha256, taken_at, took_ns, parts, saved_at) VALUES (").
		a(p.SystemID).w(", 0, 0, ").a([]byte{}).w(", ").a(now).w(", 0, 0, ").a(now).w(")")
	if d.name == MySQL {
		q.w(" ON DUPLICATE KEY UPDATE system_id = system_id")
	} else {
		q.w(" ON CONFLICT (system_id) DO NOTHING")
	}
	if _, err := s.db.ExecContext(ctx, q.String(), q.args...); err != nil {
		return fail(ctx, "save profile", err)
	}
	var opts *sql.TxOptions
	if d.name == MySQL {
		// No gap locks on the parts of other sessions.
		opts = &sql.TxOptions{Isolation: sql.LevelReadCommitted}
	}
	tx, err := s.db.BeginTx(ctx, opts)
	if err != nil {
		return fail(ctx, "save profile", err)
	}
	defer rollback(tx)
	parts := (len(p.Data) + profilePart - 1) / profilePart
	q = d.query().w("UPDATE browser_profiles SET generation = ").a(p.Generation).
		w(", size = ").a(p.Size).w(", sha256 = ").a(p.SHA256[:]).
		w(", taken_at = ").a(d.timeArg(p.TakenAt)).w(", took_ns = ").a(int64(p.Took)).
		w(", parts = ").a(parts).w(", saved_at = ").a(now).
		w(" WHERE system_id = ").a(p.SystemID).w(" AND generation < ").a(p.Generation)
	res, err := tx.ExecContext(ctx, q.String(), q.args...)
	if err != nil {
		return fail(ctx, "save profile", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fail(ctx, "save profile", err)
	} else if n == 0 {
		return fmt.Errorf("%w: sqlstore: a generation of at least %d is stored", wasend.ErrProfileStale, p.Generation)
	}
	q = d.query().w("DELETE FROM browser_profile_parts WHERE system_id = ").a(p.SystemID)
	if _, err := tx.ExecContext(ctx, q.String(), q.args...); err != nil {
		return fail(ctx, "save profile", err)
	}
	for i := range parts {
		chunk := p.Data[i*profilePart : min((i+1)*profilePart, len(p.Data))]
		q = d.query().w("INSERT INTO browser_profile_parts (system_id, part, data) VALUES (").
			a(p.SystemID).w(", ").a(i).w(", ").a(chunk).w(")")
		if _, err := tx.ExecContext(ctx, q.String(), q.args...); err != nil {
			return fail(ctx, "save profile", err)
		}
	}
	return fail(ctx, "save profile", tx.Commit())
}

// LoadProfile returns the session's snapshot, verified (see
// wasend.ProfileStore). It reads the row and its parts in one statement,
// so that it sees one save, whole.
func (ps *Profiles) LoadProfile(ctx context.Context, systemID string) (wasend.ProfileSnapshot, error) {
	d := ps.s.d
	q := d.query().w("SELECT p.generation, p.size, p.sha256, p.taken_at, p.took_ns, p.parts, x.part, x.data",
		" FROM browser_profiles p LEFT JOIN browser_profile_parts x ON x.system_id = p.system_id",
		" WHERE p.system_id = ").a(systemID).w(" AND p.generation > 0 ORDER BY x.part")
	rows, err := ps.s.db.QueryContext(ctx, q.String(), q.args...)
	if err != nil {
		return wasend.ProfileSnapshot{}, fail(ctx, "load profile", err)
	}
	defer rows.Close()
	p := wasend.ProfileSnapshot{SystemID: systemID}
	var sum []byte
	var took int64
	found, parts, seen := false, 0, 0
	for rows.Next() {
		var part sql.NullInt64
		var data []byte
		if err := rows.Scan(&p.Generation, &p.Size, &sum, d.scanTime(&p.TakenAt), &took, &parts, &part, &data); err != nil {
			return wasend.ProfileSnapshot{}, fail(ctx, "load profile", err)
		}
		found = true
		if !part.Valid {
			continue // no parts: an empty archive, or parts lost
		}
		if part.Int64 != int64(seen) {
			return wasend.ProfileSnapshot{}, fmt.Errorf("%w: sqlstore: part %d where %d was due", wasend.ErrProfileCorrupt, part.Int64, seen)
		}
		seen++
		if int64(len(p.Data))+int64(len(data)) > ps.limit {
			return wasend.ProfileSnapshot{}, fmt.Errorf("%w: sqlstore: the parts are over the limit", wasend.ErrProfileCorrupt)
		}
		p.Data = append(p.Data, data...)
	}
	if err := rows.Err(); err != nil {
		return wasend.ProfileSnapshot{}, fail(ctx, "load profile", err)
	}
	if !found {
		return wasend.ProfileSnapshot{}, fmt.Errorf("%w: sqlstore: %s", wasend.ErrProfileNotFound, systemID)
	}
	if seen != parts {
		return wasend.ProfileSnapshot{}, fmt.Errorf("%w: sqlstore: %d parts where %d were saved", wasend.ErrProfileCorrupt, seen, parts)
	}
	if len(sum) != len(p.SHA256) {
		return wasend.ProfileSnapshot{}, fmt.Errorf("%w: sqlstore: a checksum of %d bytes", wasend.ErrProfileCorrupt, len(sum))
	}
	copy(p.SHA256[:], sum)
	p.Took = time.Duration(took)
	if err := p.Verify(); err != nil {
		return wasend.ProfileSnapshot{}, fmt.Errorf("sqlstore: %w", err)
	}
	return p, nil
}

// ProfileGeneration returns the generation of the session's snapshot
// without reading it (wasend.ProfileGenerations).
func (ps *Profiles) ProfileGeneration(ctx context.Context, systemID string) (int64, error) {
	q := ps.s.d.query().w("SELECT generation FROM browser_profiles WHERE system_id = ").a(systemID).w(" AND generation > 0")
	var gen int64
	err := ps.s.db.QueryRowContext(ctx, q.String(), q.args...).Scan(&gen)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("%w: sqlstore: %s", wasend.ErrProfileNotFound, systemID)
	}
	if err != nil {
		return 0, fail(ctx, "profile generation", err)
	}
	return gen, nil
}

// DeleteProfile removes the session's snapshot (see wasend.ProfileStore).
func (ps *Profiles) DeleteProfile(ctx context.Context, systemID string) error {
	s, d := ps.s, ps.s.d
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fail(ctx, "delete profile", err)
	}
	defer rollback(tx)
	for _, table := range []string{"browser_profiles", "browser_profile_parts"} {
		q := d.query().w("DELETE FROM ", table, " WHERE system_id = ").a(systemID)
		if _, err := tx.ExecContext(ctx, q.String(), q.args...); err != nil {
			return fail(ctx, "delete profile", err)
		}
	}
	return fail(ctx, "delete profile", tx.Commit())
}

// Store returns the Store whose database holds the snapshots.
func (ps *Profiles) Store() *Store { return ps.s }
