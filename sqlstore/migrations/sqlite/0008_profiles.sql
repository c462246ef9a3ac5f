-- wasend schema, version 8: the login snapshots of persistent sessions
-- (wasend.ProfileStore, Store.Profiles). browser_profiles holds one row per
-- session (its system id): the snapshot's generation (0 while a first save
-- is under way), size, SHA-256, when it was taken, how long that took (ns),
-- how many parts it has, and when it was saved. The archive is cut into
-- parts of at most 1 MiB in browser_profile_parts.
-- SQLite applies the whole file in one transaction.

CREATE TABLE IF NOT EXISTS browser_profiles (
    system_id  TEXT    NOT NULL PRIMARY KEY,
    generation INTEGER NOT NULL,
    size       INTEGER NOT NULL,
    sha256     BLOB    NOT NULL,
    taken_at   TEXT    NOT NULL,
    took_ns    INTEGER NOT NULL,
    parts      INTEGER NOT NULL,
    saved_at   TEXT    NOT NULL
);

CREATE TABLE IF NOT EXISTS browser_profile_parts (
    system_id TEXT    NOT NULL,
    part      INTEGER NOT NULL,
    data      BLOB    NOT NULL,
    PRIMARY KEY (system_id, part)
);
