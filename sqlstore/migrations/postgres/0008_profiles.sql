-- wasend schema, version 8: the login snapshots of persistent sessions
-- (wasend.ProfileStore, Store.Profiles). browser_profiles holds one row per
-- session (its system id): the snapshot's generation (0 while a first save
-- is under way), size, SHA-256, when it was taken, how long that took (ns),
-- how many parts it has, and when it was saved. The archive is cut into
-- parts of at most 1 MiB in browser_profile_parts, so that no statement
-- carries more than that (MySQL's max_allowed_packet).
-- PostgreSQL applies the whole file in one transaction.

CREATE TABLE IF NOT EXISTS browser_profiles (
    system_id  text        NOT NULL PRIMARY KEY,
    generation bigint      NOT NULL,
    size       bigint      NOT NULL,
    sha256     bytea       NOT NULL,
    taken_at   timestamptz NOT NULL,
    took_ns    bigint      NOT NULL,
    parts      integer     NOT NULL,
    saved_at   timestamptz NOT NULL
);

CREATE TABLE IF NOT EXISTS browser_profile_parts (
    system_id text    NOT NULL,
    part      integer NOT NULL,
    data      bytea   NOT NULL,
    PRIMARY KEY (system_id, part)
);
