-- Runs: the same intent as migrations/sqlite/0003_runs.sql.

CREATE TABLE runs (
    id            UUID PRIMARY KEY,
    thread_id     UUID NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
    workspace_id  UUID NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    agent_id      UUID,
    user_id       BIGINT REFERENCES users (id) ON DELETE SET NULL,
    model         TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('queued', 'in_progress', 'completed', 'failed', 'cancelled')),
    temperature   DOUBLE PRECISION,
    max_tokens    INTEGER,
    input_tokens  BIGINT,
    output_tokens BIGINT,
    error         TEXT,
    message_id    UUID,
    created_at    TIMESTAMPTZ NOT NULL,
    started_at    TIMESTAMPTZ,
    finished_at   TIMESTAMPTZ
);

CREATE INDEX runs_thread_created ON runs (thread_id, created_at, id);
CREATE UNIQUE INDEX runs_one_in_progress ON runs (thread_id) WHERE status = 'in_progress';
CREATE INDEX runs_unfinished ON runs (status, thread_id, created_at) WHERE status IN ('queued', 'in_progress');
