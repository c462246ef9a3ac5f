-- wasend schema, version 5: the outbox (wasend.OutboxStore). Each row of
-- send_events is an outcome event that the change it tells of wrote in its
-- own transaction: its topic, time (at), the ids it concerns (no foreign
-- keys: an event outlives Clean's deletion of its job), the status and
-- error kind, the job's metadata (JSON text, copied), the version of the
-- event's shape, and its delivery: attempts, when it is due (next_at), the
-- relay that holds it (claimed_by, claimed_until), when it was delivered
-- (NULL until then), whether it is dead (0 or 1: no delivery will come)
-- and the last delivery error.
-- SQLite applies the whole file in one transaction.

CREATE TABLE IF NOT EXISTS send_events (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    topic         TEXT    NOT NULL,
    at            TEXT    NOT NULL,
    job_id        INTEGER,
    message_id    INTEGER,
    context_id    INTEGER,
    campaign_id   INTEGER,
    status        TEXT,
    error_kind    TEXT,
    metadata      TEXT,
    version       INTEGER NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_at       TEXT    NOT NULL,
    claimed_by    TEXT,
    claimed_until TEXT,
    delivered_at  TEXT,
    dead          INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT
);

-- The due scan (ClaimEvents), by id: a partial index holds only the events
-- that wait for a delivery.
CREATE INDEX IF NOT EXISTS send_events_due_idx
    ON send_events (id) WHERE delivered_at IS NULL AND dead = 0;

-- The order of a job's events: is an earlier one still waiting?
CREATE INDEX IF NOT EXISTS send_events_job_idx ON send_events (job_id, id);

-- PruneEvents.
CREATE INDEX IF NOT EXISTS send_events_delivered_idx ON send_events (delivered_at);
