-- wasend schema, version 5: the outbox (wasend.OutboxStore). Each row of
-- send_events is an outcome event that the change it tells of wrote in its
-- own transaction: its topic, time (at), the ids it concerns (no foreign
-- keys: an event outlives Clean's deletion of its job), the status and
-- error kind, the job's metadata (JSON, copied), the version of the
-- event's shape, and its delivery: attempts, when it is due (next_at), the
-- relay that holds it (claimed_by, claimed_until), when it was delivered
-- (NULL until then), whether it is dead (no delivery will come) and the
-- last delivery error.
--
-- MySQL commits each DDL statement on its own: this one is idempotent, and
-- creates the table with its indexes: the due scan (delivered_at, dead,
-- id), the order of a job's events (job_id, id) and PruneEvents'
-- (delivered_at).

CREATE TABLE IF NOT EXISTS send_events (
    id            BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    topic         VARCHAR(64)  NOT NULL,
    at            DATETIME(6)  NOT NULL,
    job_id        BIGINT       NULL,
    message_id    BIGINT       NULL,
    context_id    BIGINT       NULL,
    campaign_id   BIGINT       NULL,
    status        VARCHAR(32)  NULL,
    error_kind    VARCHAR(64)  NULL,
    metadata      JSON         NULL,
    version       INT          NOT NULL,
    attempts      INT          NOT NULL DEFAULT 0,
    next_at       DATETIME(6)  NOT NULL,
    claimed_by    VARCHAR(128) NULL,
    claimed_until DATETIME(6)  NULL,
    delivered_at  DATETIME(6)  NULL,
    dead          BOOLEAN      NOT NULL DEFAULT FALSE,
    last_error    TEXT         NULL,
    KEY send_events_due_idx (delivered_at, dead, id),
    KEY send_events_job_idx (job_id, id),
    KEY send_events_delivered_idx (delivered_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
