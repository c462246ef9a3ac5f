-- wasend schema, version 8: the login snapshots of persistent sessions
-- (wasend.ProfileStore, Store.Profiles). browser_profiles holds one row per
-- session (its system id, VARBINARY so that it compares byte for byte:
-- utf8mb4_bin would pad 'a' to equal 'a '): the snapshot's
-- generation (0 while a first save is under way), size, SHA-256, when it
-- was taken, how long that took (ns), how many parts it has, and when it
-- was saved. The archive is cut into parts of at most 1 MiB in
-- browser_profile_parts, so that no statement carries more than that
-- (max_allowed_packet).
--
-- MySQL commits each DDL statement on its own; both are idempotent.

CREATE TABLE IF NOT EXISTS browser_profiles (
    system_id  VARBINARY(255) NOT NULL PRIMARY KEY,
    generation BIGINT       NOT NULL,
    size       BIGINT       NOT NULL,
    sha256     VARBINARY(32) NOT NULL,
    taken_at   DATETIME(6)  NOT NULL,
    took_ns    BIGINT       NOT NULL,
    parts      INT          NOT NULL,
    saved_at   DATETIME(6)  NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS browser_profile_parts (
    system_id VARBINARY(255) NOT NULL,
    part      INT          NOT NULL,
    data      LONGBLOB     NOT NULL,
    PRIMARY KEY (system_id, part)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
