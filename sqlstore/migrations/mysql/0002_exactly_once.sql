-- wasend schema, version 2: what exactly-once sending needs. Each message
-- keeps the guard of an attempt whose outcome is not known (guard_since,
-- guard_mark) and counts the lookups in the chat that could not answer;
-- each job may carry the caller's idempotency key, unique, and counts its
-- changes (version), so that a change can require that none came between. The statuses
-- 'unconfirmed' and 'unknown' fit the message status column as it is.
--
-- MySQL commits each DDL statement on its own, and MySQL 8.0 has no ADD
-- COLUMN IF NOT EXISTS: each statement changes one table at once, and
-- Migrate takes a statement that fails because its column or key exists
-- already (errors 1060 and 1061) as one that an interrupted run applied.
--
-- The key is VARBINARY, not VARCHAR: utf8mb4_bin pads with spaces, so that
-- 'k' and 'k ' would be one key; bytes compare exactly, as on the other
-- databases. 255 bytes is wasend.MaxIdempotencyKeyLength.

ALTER TABLE send_messages_jobs_messages
    ADD COLUMN lookups     INT         NOT NULL DEFAULT 0,
    ADD COLUMN guard_since DATETIME(6) NULL,
    ADD COLUMN guard_mark  TEXT        NULL;

ALTER TABLE send_messages_jobs
    ADD COLUMN idempotency_key VARBINARY(255) NULL,
    ADD UNIQUE KEY send_messages_jobs_idempotency_key (idempotency_key);

ALTER TABLE send_messages_jobs
    ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
