-- wasend schema, version 6: receipts, media, the context's account, the
-- inbox, the suppression list and the cache of number checks.
--
-- Each message keeps its attachment's reference and checksum, never its
-- bytes (media_kind, NULL for a text message, media_path, media_name,
-- media_type, media_size, media_sha256), and its receipts: when the page
-- showed it delivered (delivered_at) and read (read_at), and when the
-- Client gave up waiting for it to be delivered (undelivered_at). It also
-- keeps its job's browser context (browser_context_id, copied from the
-- job, which never changes context), so that the sent messages a context
-- still follows are one range of a small partial index rather than a
-- join over every job of the context; the old rows get it here.
--
-- A browser context keeps the account its session last logged in as
-- (account). send_incoming holds the messages contacts wrote (one per
-- context and WhatsApp id; opt_out 0 or 1), send_suppressions the numbers
-- that take no message, and send_number_checks the answers of number
-- checks (on_whatsapp 0 or 1).
-- SQLite applies the whole file in one transaction.

ALTER TABLE send_messages_jobs_messages ADD COLUMN browser_context_id INTEGER;

ALTER TABLE send_messages_jobs_messages ADD COLUMN media_kind TEXT;

ALTER TABLE send_messages_jobs_messages ADD COLUMN media_path TEXT;

ALTER TABLE send_messages_jobs_messages ADD COLUMN media_name TEXT;

ALTER TABLE send_messages_jobs_messages ADD COLUMN media_type TEXT;

ALTER TABLE send_messages_jobs_messages ADD COLUMN media_size INTEGER;

ALTER TABLE send_messages_jobs_messages ADD COLUMN media_sha256 TEXT;

ALTER TABLE send_messages_jobs_messages ADD COLUMN delivered_at TEXT;

ALTER TABLE send_messages_jobs_messages ADD COLUMN read_at TEXT;

ALTER TABLE send_messages_jobs_messages ADD COLUMN undelivered_at TEXT;

UPDATE send_messages_jobs_messages SET browser_context_id =
    (SELECT j.browser_context_id FROM send_messages_jobs j WHERE j.id = send_messages_jobs_messages.send_messages_job_id)
    WHERE browser_context_id IS NULL;

-- ReceiptStore.Unread: the sent messages of a context that are not read,
-- by sent_at. Partial: a message enters it when sent and leaves it once
-- read. Its predicate names sent_at and read_at, not status, so that the
-- changes of status before the send leave the index alone.
CREATE INDEX IF NOT EXISTS send_messages_jobs_messages_unread_idx
    ON send_messages_jobs_messages (browser_context_id, sent_at)
    WHERE sent_at IS NOT NULL AND read_at IS NULL;

ALTER TABLE browser_context ADD COLUMN account TEXT;

CREATE TABLE IF NOT EXISTS send_incoming (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    context_id    INTEGER NOT NULL REFERENCES browser_context (id),
    from_phone    TEXT    NOT NULL,
    body          TEXT    NOT NULL,
    at            TEXT    NOT NULL,
    wa_message_id TEXT    NOT NULL,
    opt_out       INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT    NOT NULL,
    UNIQUE (context_id, wa_message_id)
);

-- InboxStore.Incoming, by context or by sender, paged by id.
CREATE INDEX IF NOT EXISTS send_incoming_context_idx ON send_incoming (context_id, id);
CREATE INDEX IF NOT EXISTS send_incoming_from_idx ON send_incoming (from_phone, id);
-- PruneIncoming.
CREATE INDEX IF NOT EXISTS send_incoming_created_idx ON send_incoming (created_at);

CREATE TABLE IF NOT EXISTS send_suppressions (
    phone      TEXT    NOT NULL PRIMARY KEY,
    reason     TEXT,
    context_id INTEGER,
    created_at TEXT    NOT NULL
);

CREATE TABLE IF NOT EXISTS send_number_checks (
    phone       TEXT    NOT NULL PRIMARY KEY,
    on_whatsapp INTEGER NOT NULL,
    canonical   TEXT,
    context_id  INTEGER,
    checked_at  TEXT    NOT NULL
);

-- PruneNumbers.
CREATE INDEX IF NOT EXISTS send_number_checks_checked_idx ON send_number_checks (checked_at);
