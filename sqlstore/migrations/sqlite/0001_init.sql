-- wasend schema, version 1: browser contexts, send jobs and their messages.
-- Every statement ends with a semicolon at the end of a line. Times are UTC
-- text in the fixed-width form 2006-01-02 15:04:05.000000, so that text
-- order is time order. AUTOINCREMENT keeps the ids of deleted jobs from
-- being given again.

CREATE TABLE IF NOT EXISTS browser_context_status (
    id          INTEGER NOT NULL PRIMARY KEY,
    slug        TEXT    NOT NULL UNIQUE,
    description TEXT    NOT NULL
);

INSERT OR IGNORE INTO browser_context_status (id, slug, description) VALUES
    (1, 'available', 'Contexto listo para recibir trabajo'),
    (2, 'busy', 'Contexto procesando un mensaje'),
    (3, 'disconnected', 'Contexto sin conexión activa'),
    (4, 'error', 'Contexto con problema'),
    (5, 'closed', 'Contexto cerrado permanentemente');

CREATE TABLE IF NOT EXISTS send_messages_jobs_status (
    id          INTEGER NOT NULL PRIMARY KEY,
    slug        TEXT    NOT NULL UNIQUE,
    description TEXT    NOT NULL
);

INSERT OR IGNORE INTO send_messages_jobs_status (id, slug, description) VALUES
    (1, 'pending', 'Job creado, esperando procesamiento'),
    (2, 'running', 'Job en proceso'),
    (3, 'completed', 'Job completado exitosamente'),
    (4, 'failed', 'Job fallido'),
    (5, 'paused', 'Job pausado'),
    (6, 'cancelled', 'Job cancelado');

CREATE TABLE IF NOT EXISTS browser_context (
    id                        INTEGER PRIMARY KEY AUTOINCREMENT,
    browser_context_status_id INTEGER NOT NULL REFERENCES browser_context_status (id),
    browser_system_id         TEXT    UNIQUE,
    created_at                TEXT    NOT NULL,
    updated_at                TEXT    NOT NULL
);

CREATE TABLE IF NOT EXISTS send_messages_jobs (
    id                           INTEGER PRIMARY KEY AUTOINCREMENT,
    browser_context_id           INTEGER NOT NULL REFERENCES browser_context (id),
    send_messages_jobs_status_id INTEGER NOT NULL REFERENCES send_messages_jobs_status (id),
    kind                         TEXT    NOT NULL,
    delay_ms                     INTEGER NOT NULL DEFAULT 0,
    metadata                     TEXT,
    attempts                     INTEGER NOT NULL DEFAULT 0,
    max_attempts                 INTEGER NOT NULL DEFAULT 0,
    claim                        TEXT,
    next_run_at                  TEXT    NOT NULL,
    enqueued_at                  TEXT    NOT NULL,
    error_kind                   TEXT,
    error_message                TEXT,
    created_at                   TEXT    NOT NULL,
    updated_at                   TEXT    NOT NULL,
    started_at                   TEXT,
    finished_at                  TEXT
);

CREATE INDEX IF NOT EXISTS send_messages_jobs_status_next_run_idx
    ON send_messages_jobs (send_messages_jobs_status_id, next_run_at);

CREATE INDEX IF NOT EXISTS send_messages_jobs_context_status_idx
    ON send_messages_jobs (browser_context_id, send_messages_jobs_status_id);

CREATE INDEX IF NOT EXISTS send_messages_jobs_finished_idx
    ON send_messages_jobs (finished_at);

CREATE TABLE IF NOT EXISTS send_messages_jobs_messages (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    send_messages_job_id INTEGER NOT NULL REFERENCES send_messages_jobs (id) ON DELETE CASCADE,
    position             INTEGER NOT NULL,
    to_phone             TEXT    NOT NULL,
    body                 TEXT    NOT NULL,
    status               TEXT    NOT NULL,
    attempts             INTEGER NOT NULL DEFAULT 0,
    attempted_at         TEXT,
    sent_at              TEXT,
    wa_message_id        TEXT,
    error_kind           TEXT,
    error_message        TEXT,
    created_at           TEXT    NOT NULL,
    updated_at           TEXT    NOT NULL,
    UNIQUE (send_messages_job_id, position)
);
