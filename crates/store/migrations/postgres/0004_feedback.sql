-- Feedback: the same intent as migrations/sqlite/0004_feedback.sql.

CREATE TABLE feedback (
    id               UUID PRIMARY KEY,
    workspace_id     UUID NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    thread_id        UUID NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
    message_id       UUID NOT NULL UNIQUE REFERENCES messages (id) ON DELETE CASCADE,
    human_message_id UUID REFERENCES messages (id) ON DELETE SET NULL,
    run_id           UUID,
    user_id          BIGINT REFERENCES users (id) ON DELETE SET NULL,
    anon_user_id     TEXT,
    feedback_type    TEXT NOT NULL CHECK (feedback_type IN ('positive', 'negative')),
    issue_type       TEXT,
    comment          TEXT,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);

CREATE INDEX feedback_thread ON feedback (thread_id);
CREATE INDEX feedback_human_message ON feedback (human_message_id) WHERE human_message_id IS NOT NULL;
CREATE INDEX feedback_workspace ON feedback (workspace_id);
CREATE INDEX feedback_user ON feedback (user_id) WHERE user_id IS NOT NULL;
