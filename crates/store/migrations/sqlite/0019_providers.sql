-- Providers a workspace adds itself. authentication: JSON, what may be shown
-- (type, header, hints); secret / secret_key_id: the credentials sealed
-- (base64 of nonce, ciphertext and tag) and the id of the key that sealed
-- them, both NULL when nothing is sent. models: a JSON array.
CREATE TABLE providers (
    id             BLOB PRIMARY KEY,
    workspace_id   BLOB NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id        INTEGER REFERENCES users (id) ON DELETE SET NULL,
    name           TEXT NOT NULL,
    description    TEXT,
    kind           TEXT NOT NULL,
    base_url       TEXT NOT NULL,
    authentication TEXT NOT NULL,
    secret_key_id  TEXT,
    secret         TEXT,
    models         TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX providers_workspace_name ON providers (workspace_id, name);
CREATE INDEX providers_secret_key ON providers (secret_key_id, id);
