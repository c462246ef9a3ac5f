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
--
-- MySQL commits each DDL statement on its own: each statement is
-- idempotent, or changes one table at once and fails, when an interrupted
-- run applied it, with an error that Migrate takes as applied (1060).

INSERT IGNORE INTO browser_context_status (id, slug, description) VALUES
    (6, 'restricted', 'Contexto restringido temporalmente por WhatsApp');

ALTER TABLE browser_context
    ADD COLUMN restriction_kind   VARCHAR(32) NULL,
    ADD COLUMN restricted_until   DATETIME(6) NULL,
    ADD COLUMN restriction_reason TEXT        NULL,
    ADD COLUMN first_login_at     DATETIME(6) NULL,
    ADD COLUMN pacing             TEXT        NULL,
    ADD COLUMN proxy              TEXT        NULL;

ALTER TABLE send_messages_jobs
    ADD COLUMN wait_reason VARCHAR(32) NULL,
    ADD COLUMN not_before  DATETIME(6) NULL;

CREATE TABLE IF NOT EXISTS browser_context_sends (
    id                 BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
    browser_context_id BIGINT      NOT NULL,
    sent_at            DATETIME(6) NOT NULL,
    recipient_hash     VARCHAR(64) NOT NULL,
    text_hash          VARCHAR(64) NULL,
    new_contact        BOOLEAN     NOT NULL DEFAULT FALSE,
    KEY browser_context_sends_context_sent_idx (browser_context_id, sent_at),
    KEY browser_context_sends_sent_idx (sent_at),
    CONSTRAINT browser_context_sends_context_fk FOREIGN KEY (browser_context_id)
        REFERENCES browser_context (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS browser_context_contacts (
    browser_context_id BIGINT      NOT NULL,
    recipient_hash     VARCHAR(64) NOT NULL,
    first_sent_at      DATETIME(6) NOT NULL,
    PRIMARY KEY (browser_context_id, recipient_hash),
    CONSTRAINT browser_context_contacts_context_fk FOREIGN KEY (browser_context_id)
        REFERENCES browser_context (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
