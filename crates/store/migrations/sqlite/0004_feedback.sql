-- Feedback on assistant messages (thena): one per message, the latest rating
-- replacing the one before. It goes with its message, its thread and its
-- workspace (FK cascades), so deleting a thread deletes its feedback in the
-- same statement.

CREATE TABLE feedback (
    id               BLOB PRIMARY KEY,
    workspace_id     BLOB NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    thread_id        BLOB NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
    message_id       BLOB NOT NULL UNIQUE REFERENCES messages (id) ON DELETE CASCADE,
    human_message_id BLOB REFERENCES messages (id) ON DELETE SET NULL,
    run_id           BLOB,
    user_id          INTEGER REFERENCES users (id) ON DELETE SET NULL,
    anon_user_id     TEXT,
    feedback_type    TEXT NOT NULL CHECK (feedback_type IN ('positive', 'negative')),
    issue_type       TEXT,
    comment          TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
) STRICT;

-- Cascades and SET NULL look rows up by these columns.
CREATE INDEX feedback_thread ON feedback (thread_id);
CREATE INDEX feedback_human_message ON feedback (human_message_id) WHERE human_message_id IS NOT NULL;
CREATE INDEX feedback_workspace ON feedback (workspace_id);
CREATE INDEX feedback_user ON feedback (user_id) WHERE user_id IS NOT NULL;
