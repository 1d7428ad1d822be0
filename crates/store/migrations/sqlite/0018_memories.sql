-- Facts an agent remembers about a user across threads (agents whose
-- metadata.memory is true). thread_id and message_id say where a memory was
-- learnt; they are cleared when that thread or message goes.
CREATE TABLE memories (
    id           BLOB PRIMARY KEY,
    workspace_id BLOB NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    agent_id     BLOB NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    content      TEXT NOT NULL,
    thread_id    BLOB REFERENCES threads (id) ON DELETE SET NULL,
    message_id   BLOB REFERENCES messages (id) ON DELETE SET NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
) STRICT;

CREATE INDEX memories_agent_user ON memories (agent_id, user_id, created_at);
CREATE INDEX memories_workspace ON memories (workspace_id, created_at);
