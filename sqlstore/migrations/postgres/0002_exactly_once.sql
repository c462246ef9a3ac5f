-- wasend schema, version 2: what exactly-once sending needs. Each message
-- keeps the guard of an attempt whose outcome is not known (guard_since,
-- guard_mark) and counts the lookups in the chat that could not answer;
-- each job may carry the caller's idempotency key, unique, and counts its
-- changes (version), so that a change can require that none came between. The statuses
-- 'unconfirmed' and 'unknown' fit the message status column as it is.
-- PostgreSQL applies the whole file in one transaction.

ALTER TABLE send_messages_jobs_messages
    ADD COLUMN IF NOT EXISTS lookups     integer     NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS guard_since timestamptz,
    ADD COLUMN IF NOT EXISTS guard_mark  text;

ALTER TABLE send_messages_jobs
    ADD COLUMN IF NOT EXISTS idempotency_key varchar(255);

-- A partial unique index: jobs with no key (NULL) take no entry in it, so
-- that they cost no index write.
CREATE UNIQUE INDEX IF NOT EXISTS send_messages_jobs_idempotency_key_idx
    ON send_messages_jobs (idempotency_key) WHERE idempotency_key IS NOT NULL;

ALTER TABLE send_messages_jobs
    ADD COLUMN IF NOT EXISTS version bigint NOT NULL DEFAULT 1;
