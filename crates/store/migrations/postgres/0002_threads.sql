-- Agents, their shares, threads, messages (with full-text search) and
-- Idempotency-Key claims. The same intent as migrations/sqlite/0002_threads.sql
-- in PostgreSQL types; search is a generated tsvector column with a GIN
-- index instead of FTS5 tables and triggers.

CREATE TABLE agents (
    id                   UUID PRIMARY KEY,
    workspace_id         UUID NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id              BIGINT REFERENCES users (id) ON DELETE SET NULL,
    name                 TEXT NOT NULL,
    description          TEXT,
    instruction          TEXT,
    profile_photo_url    TEXT,
    profile_photo_config JSONB,                -- JSON object or NULL
    visibility           TEXT NOT NULL CHECK (visibility IN ('private', 'workspace', 'public')),
    metadata             JSONB NOT NULL DEFAULT '{}',
    threads_count        BIGINT NOT NULL DEFAULT 0,
    usage_count          BIGINT NOT NULL DEFAULT 0,
    last_used_at         TIMESTAMPTZ,
    created_at           TIMESTAMPTZ NOT NULL,
    updated_at           TIMESTAMPTZ NOT NULL
);

-- Lists (newest first) and metrics (created per period) of a workspace.
CREATE INDEX agents_workspace_created ON agents (workspace_id, created_at, id);
CREATE INDEX agents_user ON agents (user_id);

CREATE TABLE agent_shares (
    agent_id    UUID NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    entity_type TEXT NOT NULL CHECK (entity_type IN ('workspace', 'user')),
    entity_id   TEXT NOT NULL,                 -- workspace uuid (hyphenated) or user id, as text
    permission  TEXT NOT NULL CHECK (permission IN ('read', 'write')),
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (agent_id, entity_type, entity_id)
);

CREATE INDEX agent_shares_entity ON agent_shares (entity_type, entity_id);

CREATE TABLE threads (
    id              UUID PRIMARY KEY,
    workspace_id    UUID NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    creator_id      BIGINT REFERENCES users (id) ON DELETE SET NULL,
    anon_user_id    TEXT,
    agent_id        UUID REFERENCES agents (id) ON DELETE SET NULL,
    title           TEXT,
    subject         TEXT,
    metadata        JSONB NOT NULL DEFAULT '{}',
    status          TEXT NOT NULL DEFAULT 'idle' CHECK (status IN ('idle', 'running')),
    message_count   BIGINT NOT NULL DEFAULT 0,
    last_message_at TIMESTAMPTZ,
    -- COALESCE(last_message_at, created_at), kept in step: the sort key of
    -- "last_message_at" ordering, so that it has an index and no NULLs.
    activity_at     TIMESTAMPTZ NOT NULL,
    last_model_used TEXT,
    is_pinned       BOOLEAN NOT NULL DEFAULT FALSE,
    pinned_at       TIMESTAMPTZ,
    visible_in_ui   BOOLEAN NOT NULL DEFAULT TRUE,
    input_tokens    BIGINT NOT NULL DEFAULT 0,
    output_tokens   BIGINT NOT NULL DEFAULT 0,
    last_seq        BIGINT NOT NULL DEFAULT 0,  -- seq of the newest message
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    search          tsvector GENERATED ALWAYS AS (to_tsvector('simple', coalesce(title, ''))) STORED
);

CREATE INDEX threads_by_activity ON threads (workspace_id, activity_at, id);
CREATE INDEX threads_by_created ON threads (workspace_id, created_at, id);
CREATE INDEX threads_by_updated ON threads (workspace_id, updated_at, id);
CREATE INDEX threads_by_creator ON threads (workspace_id, creator_id, activity_at, id);
CREATE INDEX threads_by_anon ON threads (workspace_id, anon_user_id, activity_at, id) WHERE anon_user_id IS NOT NULL;
CREATE INDEX threads_by_agent ON threads (agent_id, created_at, id) WHERE agent_id IS NOT NULL;
CREATE INDEX threads_search ON threads USING GIN (search);

CREATE TABLE messages (
    id            UUID PRIMARY KEY,
    thread_id     UUID NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
    workspace_id  UUID NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    agent_id      UUID,                          -- the thread's agent when written, for per-agent metrics
    seq           BIGINT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('user', 'assistant', 'system', 'tool')),
    content       TEXT NOT NULL,
    content_html  TEXT NOT NULL,
    metadata      JSONB NOT NULL DEFAULT '{}',
    tool_calls    JSONB NOT NULL DEFAULT '[]',
    user_id       BIGINT REFERENCES users (id) ON DELETE SET NULL,
    run_id        UUID,
    model         TEXT,
    temperature   DOUBLE PRECISION,
    input_tokens  BIGINT,
    output_tokens BIGINT,
    finish_reason TEXT,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    search        tsvector GENERATED ALWAYS AS (to_tsvector('simple', content)) STORED,
    UNIQUE (thread_id, seq)
);

CREATE INDEX messages_workspace_created ON messages (workspace_id, created_at);
CREATE INDEX messages_agent_created ON messages (agent_id, created_at) WHERE agent_id IS NOT NULL;
CREATE INDEX messages_search ON messages USING GIN (search);

CREATE TABLE idempotency_keys (
    owner       TEXT NOT NULL,                   -- the credential's identity
    key         TEXT NOT NULL,
    fingerprint BYTEA NOT NULL,                  -- SHA-256 of method, path and body
    status      INTEGER,                         -- NULL while the first request runs
    body        BYTEA,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (owner, key)
);

CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
