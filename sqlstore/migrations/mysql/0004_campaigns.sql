-- wasend schema, version 4: campaigns. A campaign (send_campaigns) is a
-- bulk send over a pool of browser contexts: it keeps the pool (a JSON
-- array of context ids, in the host's order), whether its messages may move
-- between contexts (allow_moves), the host's metadata (JSON) and
-- idempotency key (unique, NULL for none; VARBINARY, as the jobs' key, so
-- that keys compare byte for byte), and when it was created. Each of its
-- jobs points to it (send_messages_jobs.campaign_id, NULL for a job of no
-- campaign), and a message that moved to another context leaves behind a
-- cancelled message and becomes a copy whose moved_from is the id of the
-- one it left (no foreign key: Clean may delete the job of the original
-- before the job of the copy).
--
-- MySQL commits each DDL statement on its own: each statement is
-- idempotent, or changes one table at once (the column, its index and its
-- foreign key together) and fails, when an interrupted run applied it,
-- with an error that Migrate takes as applied (1060).

CREATE TABLE IF NOT EXISTS send_campaigns (
    id              BIGINT         NOT NULL AUTO_INCREMENT PRIMARY KEY,
    contexts        MEDIUMTEXT     NOT NULL,
    allow_moves     BOOLEAN        NOT NULL DEFAULT FALSE,
    metadata        JSON           NULL,
    idempotency_key VARBINARY(255) NULL,
    created_at      DATETIME(6)    NOT NULL,
    UNIQUE KEY send_campaigns_idempotency_key (idempotency_key)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

ALTER TABLE send_messages_jobs
    ADD COLUMN campaign_id BIGINT NULL,
    ADD KEY send_messages_jobs_campaign_idx (campaign_id),
    ADD CONSTRAINT send_messages_jobs_campaign_fk FOREIGN KEY (campaign_id)
        REFERENCES send_campaigns (id);

ALTER TABLE send_messages_jobs_messages
    ADD COLUMN moved_from BIGINT NULL;
