-- Runs: one execution of a thread against a model. At most one run of a
-- thread is in progress at a time (enforced here too, by a partial unique
-- index); others wait `queued`, oldest first.

CREATE TABLE runs (
    id            BLOB PRIMARY KEY,
    thread_id     BLOB NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
    workspace_id  BLOB NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    agent_id      BLOB,
    user_id       INTEGER REFERENCES users (id) ON DELETE SET NULL,
    model         TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('queued', 'in_progress', 'completed', 'failed', 'cancelled')),
    temperature   REAL,
    max_tokens    INTEGER,
    input_tokens  INTEGER,
    output_tokens INTEGER,
    error         TEXT,
    message_id    BLOB,
    created_at    INTEGER NOT NULL,
    started_at    INTEGER,
    finished_at   INTEGER
) STRICT;

CREATE INDEX runs_thread_created ON runs (thread_id, created_at, id);
CREATE UNIQUE INDEX runs_one_in_progress ON runs (thread_id) WHERE status = 'in_progress';
CREATE INDEX runs_unfinished ON runs (status, thread_id, created_at) WHERE status IN ('queued', 'in_progress');
