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
-- still follows are one range of an index, (browser_context_id, read_at,
-- sent_at), rather than a join over every job of the context; the old rows
-- get it here. The index leaves out status, so that the changes of status
-- before the send leave it alone.
--
-- A browser context keeps the account its session last logged in as
-- (account). send_incoming holds the messages contacts wrote (one per
-- context and WhatsApp id), send_suppressions the numbers that take no
-- message, and send_number_checks the answers of number checks. Their
-- keys that are text (wa_message_id, phone) are VARBINARY, as the
-- idempotency keys: utf8mb4_bin pads with spaces, and bytes compare and
-- sort exactly as on the other databases.
--
-- MySQL commits each DDL statement on its own: each statement is
-- idempotent, or changes one table at once and fails, when an interrupted
-- run applied it, with an error that Migrate takes as applied (1060,
-- 1061). The index comes after the copy of the contexts, which is
-- idempotent.

ALTER TABLE send_messages_jobs_messages
    ADD COLUMN browser_context_id BIGINT       NULL,
    ADD COLUMN media_kind         VARCHAR(16)  NULL,
    ADD COLUMN media_path         TEXT         NULL,
    ADD COLUMN media_name         TEXT         NULL,
    ADD COLUMN media_type         VARCHAR(255) NULL,
    ADD COLUMN media_size         BIGINT       NULL,
    ADD COLUMN media_sha256       VARCHAR(64)  NULL,
    ADD COLUMN delivered_at       DATETIME(6)  NULL,
    ADD COLUMN read_at            DATETIME(6)  NULL,
    ADD COLUMN undelivered_at     DATETIME(6)  NULL;

UPDATE send_messages_jobs_messages m JOIN send_messages_jobs j ON j.id = m.send_messages_job_id
    SET m.browser_context_id = j.browser_context_id
    WHERE m.browser_context_id IS NULL;

ALTER TABLE send_messages_jobs_messages
    ADD KEY send_messages_jobs_messages_unread_idx (browser_context_id, read_at, sent_at);

ALTER TABLE browser_context
    ADD COLUMN account VARCHAR(32) NULL;

CREATE TABLE IF NOT EXISTS send_incoming (
    id            BIGINT         NOT NULL AUTO_INCREMENT PRIMARY KEY,
    context_id    BIGINT         NOT NULL,
    from_phone    VARCHAR(32)    NOT NULL,
    body          MEDIUMTEXT     NOT NULL,
    at            DATETIME(6)    NOT NULL,
    wa_message_id VARBINARY(255) NOT NULL,
    opt_out       BOOLEAN        NOT NULL DEFAULT FALSE,
    created_at    DATETIME(6)    NOT NULL,
    UNIQUE KEY send_incoming_context_wa_key (context_id, wa_message_id),
    KEY send_incoming_context_idx (context_id, id),
    KEY send_incoming_from_idx (from_phone, id),
    KEY send_incoming_created_idx (created_at),
    CONSTRAINT send_incoming_context_fk FOREIGN KEY (context_id)
        REFERENCES browser_context (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS send_suppressions (
    phone      VARBINARY(128) NOT NULL PRIMARY KEY,
    reason     VARCHAR(64)    NULL,
    context_id BIGINT         NULL,
    created_at DATETIME(6)    NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS send_number_checks (
    phone       VARBINARY(128) NOT NULL PRIMARY KEY,
    on_whatsapp BOOLEAN        NOT NULL,
    canonical   VARCHAR(32)    NULL,
    context_id  BIGINT         NULL,
    checked_at  DATETIME(6)    NOT NULL,
    KEY send_number_checks_checked_idx (checked_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
