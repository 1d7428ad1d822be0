-- Accounts: users, workspaces, memberships, sessions and API keys.
-- Ids are 16-byte UUID blobs (users also have an integer id); instants are
-- microseconds since the Unix epoch (UTC); metadata is JSON text.

CREATE TABLE users (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid                 BLOB NOT NULL UNIQUE,
    name                 TEXT NOT NULL,
    first_name           TEXT,
    last_name            TEXT,
    email                TEXT NOT NULL UNIQUE,  -- stored lower-cased
    password_hash        TEXT NOT NULL,
    profile_photo_url    TEXT,
    primary_workspace_id BLOB REFERENCES workspaces (id) ON DELETE SET NULL,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL
) STRICT;

CREATE TABLE workspaces (
    id                BLOB PRIMARY KEY,
    slug              TEXT NOT NULL,
    name              TEXT NOT NULL,
    profile_photo_url TEXT,
    is_onboarded      INTEGER NOT NULL DEFAULT 0,
    metadata          TEXT NOT NULL DEFAULT '{}',
    owner_id          INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
) STRICT;

CREATE INDEX users_primary_workspace ON users (primary_workspace_id);
CREATE INDEX workspaces_owner ON workspaces (owner_id);

CREATE TABLE workspace_members (
    workspace_id BLOB NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role         TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX workspace_members_user ON workspace_members (user_id, workspace_id);

CREATE TABLE sessions (
    id         BLOB PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash BLOB NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER
) STRICT;

CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_keys (
    id           BLOB PRIMARY KEY,
    workspace_id BLOB NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    key_hash     BLOB NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    expires_at   INTEGER,
    revoked_at   INTEGER
) STRICT;

CREATE INDEX api_keys_workspace ON api_keys (workspace_id, created_at);
CREATE INDEX api_keys_user ON api_keys (user_id);
