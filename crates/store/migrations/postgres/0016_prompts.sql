-- A workspace's prompt templates (see migrations/sqlite/0016_prompts.sql).
CREATE TABLE prompts (
    id           UUID PRIMARY KEY,
    workspace_id UUID NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    description  TEXT,
    template     TEXT NOT NULL,
    model        TEXT,
    settings     JSONB NOT NULL DEFAULT '{}',
    visibility   TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);

CREATE INDEX prompts_workspace ON prompts (workspace_id, created_at);
