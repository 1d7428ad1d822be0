-- A workspace's prompt templates. settings: a JSON object (temperature,
-- top_p, max_tokens). visibility: private | workspace | public.
CREATE TABLE prompts (
    id           BLOB PRIMARY KEY,
    workspace_id BLOB NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    description  TEXT,
    template     TEXT NOT NULL,
    model        TEXT,
    settings     TEXT NOT NULL DEFAULT '{}',
    visibility   TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
) STRICT;

CREATE INDEX prompts_workspace ON prompts (workspace_id, created_at);
