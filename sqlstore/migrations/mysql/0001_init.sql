-- wasend schema, version 1: browser contexts, send jobs and their messages.
-- Every statement ends with a semicolon at the end of a line. MySQL commits
-- each DDL statement on its own, so every statement is idempotent.
--
-- InnoDB checks a foreign key, and share-locks the parent row, whenever the
-- child's index that backs the key changes. The key to browser_context has
-- an index of its own, first, so that a change of a job's status does not
-- lock its browser context (which a step may then want to update: two such
-- steps would deadlock).

CREATE TABLE IF NOT EXISTS browser_context_status (
    id          SMALLINT     NOT NULL PRIMARY KEY,
    slug        VARCHAR(32)  NOT NULL,
    description VARCHAR(255) NOT NULL,
    UNIQUE KEY browser_context_status_slug_key (slug)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

INSERT IGNORE INTO browser_context_status (id, slug, description) VALUES
    (1, 'available', 'Contexto listo para recibir trabajo'),
    (2, 'busy', 'Contexto procesando un mensaje'),
    (3, 'disconnected', 'Contexto sin conexión activa'),
    (4, 'error', 'Contexto con problema'),
    (5, 'closed', 'Contexto cerrado permanentemente');

CREATE TABLE IF NOT EXISTS send_messages_jobs_status (
    id          SMALLINT     NOT NULL PRIMARY KEY,
    slug        VARCHAR(32)  NOT NULL,
    description VARCHAR(255) NOT NULL,
    UNIQUE KEY send_messages_jobs_status_slug_key (slug)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

INSERT IGNORE INTO send_messages_jobs_status (id, slug, description) VALUES
    (1, 'pending', 'Job creado, esperando procesamiento'),
    (2, 'running', 'Job en proceso'),
    (3, 'completed', 'Job completado exitosamente'),
    (4, 'failed', 'Job fallido'),
    (5, 'paused', 'Job pausado'),
    (6, 'cancelled', 'Job cancelado');

CREATE TABLE IF NOT EXISTS browser_context (
    id                        BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    browser_context_status_id SMALLINT     NOT NULL,
    browser_system_id         VARCHAR(100) NULL,
    created_at                DATETIME(6)  NOT NULL,
    updated_at                DATETIME(6)  NOT NULL,
    UNIQUE KEY browser_context_system_id_key (browser_system_id),
    CONSTRAINT browser_context_status_fk FOREIGN KEY (browser_context_status_id)
        REFERENCES browser_context_status (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS send_messages_jobs (
    id                           BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
    browser_context_id           BIGINT      NOT NULL,
    send_messages_jobs_status_id SMALLINT    NOT NULL,
    kind                         VARCHAR(16) NOT NULL,
    delay_ms                     BIGINT      NOT NULL DEFAULT 0,
    metadata                     JSON        NULL,
    attempts                     INT         NOT NULL DEFAULT 0,
    max_attempts                 INT         NOT NULL DEFAULT 0,
    claim                        VARCHAR(64) NULL,
    next_run_at                  DATETIME(6) NOT NULL,
    enqueued_at                  DATETIME(6) NOT NULL,
    error_kind                   VARCHAR(64) NULL,
    error_message                TEXT        NULL,
    created_at                   DATETIME(6) NOT NULL,
    updated_at                   DATETIME(6) NOT NULL,
    started_at                   DATETIME(6) NULL,
    finished_at                  DATETIME(6) NULL,
    KEY send_messages_jobs_context_idx (browser_context_id),
    KEY send_messages_jobs_status_next_run_idx (send_messages_jobs_status_id, next_run_at),
    KEY send_messages_jobs_context_status_idx (browser_context_id, send_messages_jobs_status_id),
    KEY send_messages_jobs_finished_idx (finished_at),
    CONSTRAINT send_messages_jobs_context_fk FOREIGN KEY (browser_context_id)
        REFERENCES browser_context (id),
    CONSTRAINT send_messages_jobs_status_fk FOREIGN KEY (send_messages_jobs_status_id)
        REFERENCES send_messages_jobs_status (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS send_messages_jobs_messages (
    id                   BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    send_messages_job_id BIGINT       NOT NULL,
    position             INT          NOT NULL,
    to_phone             VARCHAR(32)  NOT NULL,
    body                 MEDIUMTEXT   NOT NULL,
    status               VARCHAR(16)  NOT NULL,
    attempts             INT          NOT NULL DEFAULT 0,
    attempted_at         DATETIME(6)  NULL,
    sent_at              DATETIME(6)  NULL,
    wa_message_id        VARCHAR(255) NULL,
    error_kind           VARCHAR(64)  NULL,
    error_message        TEXT         NULL,
    created_at           DATETIME(6)  NOT NULL,
    updated_at           DATETIME(6)  NOT NULL,
    UNIQUE KEY send_messages_jobs_messages_job_position_key (send_messages_job_id, position),
    CONSTRAINT send_messages_jobs_messages_job_fk FOREIGN KEY (send_messages_job_id)
        REFERENCES send_messages_jobs (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
