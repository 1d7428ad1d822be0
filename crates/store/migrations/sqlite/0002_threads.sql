-- Agents, their shares, threads, messages (with full-text search) and
-- Idempotency-Key claims. Same conventions as 0001: UUID blobs, instants in
-- microseconds since the epoch (UTC), JSON as text.
--
-- threads and messages carry `rid INTEGER PRIMARY KEY`, with the uuid as a
-- UNIQUE key (stored exactly as a BLOB PRIMARY KEY would be): the FTS5 tables
-- below are keyed on the content table's rowid, and an implicit rowid may be
-- renumbered by VACUUM while an INTEGER PRIMARY KEY never is.

CREATE TABLE agents (
    id                   BLOB PRIMARY KEY,
    workspace_id         BLOB NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id              INTEGER REFERENCES users (id) ON DELETE SET NULL,
    name                 TEXT NOT NULL,
    description          TEXT,
    instruction          TEXT,
    profile_photo_url    TEXT,
    profile_photo_config TEXT,                 -- JSON object or NULL
    visibility           TEXT NOT NULL CHECK (visibility IN ('private', 'workspace', 'public')),
    metadata             TEXT NOT NULL DEFAULT '{}',
    threads_count        INTEGER NOT NULL DEFAULT 0,
    usage_count          INTEGER NOT NULL DEFAULT 0,
    last_used_at         INTEGER,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL
) STRICT;

-- Lists (newest first) and metrics (created per period) of a workspace.
CREATE INDEX agents_workspace_created ON agents (workspace_id, created_at, id);
CREATE INDEX agents_user ON agents (user_id);

CREATE TABLE agent_shares (
    agent_id    BLOB NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    entity_type TEXT NOT NULL CHECK (entity_type IN ('workspace', 'user')),
    entity_id   TEXT NOT NULL,                 -- workspace uuid (hyphenated) or user id, as text
    permission  TEXT NOT NULL CHECK (permission IN ('read', 'write')),
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (agent_id, entity_type, entity_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX agent_shares_entity ON agent_shares (entity_type, entity_id);

CREATE TABLE threads (
    rid             INTEGER PRIMARY KEY,
    id              BLOB NOT NULL UNIQUE,
    workspace_id    BLOB NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    creator_id      INTEGER REFERENCES users (id) ON DELETE SET NULL,
    anon_user_id    TEXT,
    agent_id        BLOB REFERENCES agents (id) ON DELETE SET NULL,
    title           TEXT,
    subject         TEXT,
    metadata        TEXT NOT NULL DEFAULT '{}',
    status          TEXT NOT NULL DEFAULT 'idle' CHECK (status IN ('idle', 'running')),
    message_count   INTEGER NOT NULL DEFAULT 0,
    last_message_at INTEGER,
    -- COALESCE(last_message_at, created_at), kept in step: the sort key of
    -- "last_message_at" ordering, so that it has an index and no NULLs.
    activity_at     INTEGER NOT NULL,
    last_model_used TEXT,
    is_pinned       INTEGER NOT NULL DEFAULT 0,
    pinned_at       INTEGER,
    visible_in_ui   INTEGER NOT NULL DEFAULT 1,
    input_tokens    INTEGER NOT NULL DEFAULT 0,
    output_tokens   INTEGER NOT NULL DEFAULT 0,
    last_seq        INTEGER NOT NULL DEFAULT 0,  -- seq of the newest message
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT;

CREATE INDEX threads_by_activity ON threads (workspace_id, activity_at, id);
CREATE INDEX threads_by_created ON threads (workspace_id, created_at, id);
CREATE INDEX threads_by_updated ON threads (workspace_id, updated_at, id);
CREATE INDEX threads_by_creator ON threads (workspace_id, creator_id, activity_at, id);
CREATE INDEX threads_by_anon ON threads (workspace_id, anon_user_id, activity_at, id) WHERE anon_user_id IS NOT NULL;
CREATE INDEX threads_by_agent ON threads (agent_id, created_at, id) WHERE agent_id IS NOT NULL;

CREATE TABLE messages (
    rid           INTEGER PRIMARY KEY,
    id            BLOB NOT NULL UNIQUE,
    thread_id     BLOB NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
    workspace_id  BLOB NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    agent_id      BLOB,                          -- the thread's agent when written, for per-agent metrics
    seq           INTEGER NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('user', 'assistant', 'system', 'tool')),
    content       TEXT NOT NULL,
    content_html  TEXT NOT NULL,
    metadata      TEXT NOT NULL DEFAULT '{}',
    tool_calls    TEXT NOT NULL DEFAULT '[]',
    user_id       INTEGER REFERENCES users (id) ON DELETE SET NULL,
    run_id        BLOB,
    model         TEXT,
    temperature   REAL,
    input_tokens  INTEGER,
    output_tokens INTEGER,
    finish_reason TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    UNIQUE (thread_id, seq)
) STRICT;

CREATE INDEX messages_workspace_created ON messages (workspace_id, created_at);
CREATE INDEX messages_agent_created ON messages (agent_id, created_at) WHERE agent_id IS NOT NULL;

-- Full-text search over message content and thread titles, kept in step by
-- triggers (which also fire for rows removed by ON DELETE CASCADE).
CREATE VIRTUAL TABLE message_search USING fts5 (
    content, content = 'messages', content_rowid = 'rid', tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER messages_search_insert AFTER INSERT ON messages BEGIN
    INSERT INTO message_search (rowid, content) VALUES (new.rid, new.content);
END;
CREATE TRIGGER messages_search_delete AFTER DELETE ON messages BEGIN
    INSERT INTO message_search (message_search, rowid, content) VALUES ('delete', old.rid, old.content);
END;
CREATE TRIGGER messages_search_update AFTER UPDATE OF content ON messages BEGIN
    INSERT INTO message_search (message_search, rowid, content) VALUES ('delete', old.rid, old.content);
    INSERT INTO message_search (rowid, content) VALUES (new.rid, new.content);
END;

CREATE VIRTUAL TABLE thread_search USING fts5 (
    title, content = 'threads', content_rowid = 'rid', tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER threads_search_insert AFTER INSERT ON threads BEGIN
    INSERT INTO thread_search (rowid, title) VALUES (new.rid, coalesce(new.title, ''));
END;
CREATE TRIGGER threads_search_delete AFTER DELETE ON threads BEGIN
    INSERT INTO thread_search (thread_search, rowid, title) VALUES ('delete', old.rid, coalesce(old.title, ''));
END;
CREATE TRIGGER threads_search_update AFTER UPDATE OF title ON threads BEGIN
    INSERT INTO thread_search (thread_search, rowid, title) VALUES ('delete', old.rid, coalesce(old.title, ''));
    INSERT INTO thread_search (rowid, title) VALUES (new.rid, coalesce(new.title, ''));
END;

CREATE TABLE idempotency_keys (
    owner       TEXT NOT NULL,                   -- the credential's identity
    key         TEXT NOT NULL,
    fingerprint BLOB NOT NULL,                   -- SHA-256 of method, path and body
    status      INTEGER,                         -- NULL while the first request runs
    body        BLOB,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (owner, key)
) STRICT, WITHOUT ROWID;

CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
