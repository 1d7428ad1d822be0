-- Facts an agent remembers about a user (see migrations/sqlite/0018_memories.sql).
CREATE TABLE memories (
    id           UUID PRIMARY KEY,
    workspace_id UUID NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    agent_id     UUID NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    content      TEXT NOT NULL,
    thread_id    UUID REFERENCES threads (id) ON DELETE SET NULL,
    message_id   UUID REFERENCES messages (id) ON DELETE SET NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);

CREATE INDEX memories_agent_user ON memories (agent_id, user_id, created_at);
CREATE INDEX memories_workspace ON memories (workspace_id, created_at);
