-- wasend schema, version 4: campaigns. A campaign (send_campaigns) is a
-- bulk send over a pool of browser contexts: it keeps the pool (a JSON
-- array of context ids, in the host's order), whether its messages may move
-- between contexts (allow_moves, 0 or 1), the host's metadata (JSON text)
-- and idempotency key (unique, NULL for none), and when it was created.
-- Each of its jobs points to it (send_messages_jobs.campaign_id, NULL for a
-- job of no campaign), and a message that moved to another context leaves
-- behind a cancelled message and becomes a copy whose moved_from is the id
-- of the one it left (no foreign key: Clean may delete the job of the
-- original before the job of the copy).
-- SQLite applies the whole file in one transaction.

CREATE TABLE IF NOT EXISTS send_campaigns (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    contexts        TEXT    NOT NULL,
    allow_moves     INTEGER NOT NULL DEFAULT 0,
    metadata        TEXT,
    idempotency_key TEXT,
    created_at      TEXT    NOT NULL
);

-- A partial unique index, as the jobs' one: campaigns with no key take no
-- entry in it.
CREATE UNIQUE INDEX IF NOT EXISTS send_campaigns_idempotency_key_idx
    ON send_campaigns (idempotency_key) WHERE idempotency_key IS NOT NULL;

ALTER TABLE send_messages_jobs ADD COLUMN campaign_id INTEGER REFERENCES send_campaigns (id);

-- Partial too: jobs of no campaign cost no index write.
CREATE INDEX IF NOT EXISTS send_messages_jobs_campaign_idx
    ON send_messages_jobs (campaign_id) WHERE campaign_id IS NOT NULL;

ALTER TABLE send_messages_jobs_messages ADD COLUMN moved_from INTEGER;
