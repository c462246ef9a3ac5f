-- wasend schema, version 3: what keeps an account safe. A browser context
-- keeps the restriction in force (or the last one: restriction_kind,
-- restricted_until, restriction_reason), when its session first logged in
-- (first_login_at, where the pacing warm-up starts), its own pacing policy
-- (JSON text, NULL for the Client's default) and its proxy (NULL for none);
-- the status 'restricted' joins the context statuses. A job keeps why it
-- waits (wait_reason, NULL for no reason) and its earliest send
-- (not_before). The send ledger (browser_context_sends) holds one row per
-- attempt that began, with hashes of the recipient and the text, never the
-- number or the text; PruneSends deletes its old rows. The contacts
-- (browser_context_contacts) are the recipients each context ever sent to,
-- and are never pruned.
-- SQLite applies the whole file in one transaction.

INSERT OR IGNORE INTO browser_context_status (id, slug, description) VALUES
    (6, 'restricted', 'Contexto restringido temporalmente por WhatsApp');

ALTER TABLE browser_context ADD COLUMN restriction_kind TEXT;

ALTER TABLE browser_context ADD COLUMN restricted_until TEXT;

ALTER TABLE browser_context ADD COLUMN restriction_reason TEXT;

ALTER TABLE browser_context ADD COLUMN first_login_at TEXT;

ALTER TABLE browser_context ADD COLUMN pacing TEXT;

ALTER TABLE browser_context ADD COLUMN proxy TEXT;

ALTER TABLE send_messages_jobs ADD COLUMN wait_reason TEXT;

ALTER TABLE send_messages_jobs ADD COLUMN not_before TEXT;

CREATE TABLE IF NOT EXISTS browser_context_sends (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    browser_context_id INTEGER NOT NULL REFERENCES browser_context (id),
    sent_at            TEXT    NOT NULL,
    recipient_hash     TEXT    NOT NULL,
    text_hash          TEXT,
    new_contact        INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX IF NOT EXISTS browser_context_sends_context_sent_idx
    ON browser_context_sends (browser_context_id, sent_at);

CREATE INDEX IF NOT EXISTS browser_context_sends_sent_idx
    ON browser_context_sends (sent_at);

CREATE TABLE IF NOT EXISTS browser_context_contacts (
    browser_context_id INTEGER NOT NULL REFERENCES browser_context (id),
    recipient_hash     TEXT    NOT NULL,
    first_sent_at      TEXT    NOT NULL,
    PRIMARY KEY (browser_context_id, recipient_hash)
);
