-- Providers a workspace adds itself (see migrations/sqlite/0019_providers.sql).
CREATE TABLE providers (
    id             UUID PRIMARY KEY,
    workspace_id   UUID NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id        BIGINT REFERENCES users (id) ON DELETE SET NULL,
    name           TEXT NOT NULL,
    description    TEXT,
    kind           TEXT NOT NULL,
    base_url       TEXT NOT NULL,
    authentication JSONB NOT NULL,
    secret_key_id  TEXT,
    secret         TEXT,
    models         JSONB NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);

CREATE UNIQUE INDEX providers_workspace_name ON providers (workspace_id, name);
CREATE INDEX providers_secret_key ON providers (secret_key_id, id);
