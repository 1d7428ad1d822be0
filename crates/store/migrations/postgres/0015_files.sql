-- Uploaded files: their metadata here, their bytes in the object store under
-- `{workspace_id}/{id}`. A message's attachments are kept on the message as
-- JSON (a file's metadata never changes, so the copy stays true) and, for
-- the lifecycle, as rows of `message_files`: a file no message refers to
-- any more is removed by the sweep once its grace period has passed.
CREATE TABLE files (
    id            UUID PRIMARY KEY,
    workspace_id  UUID NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id       BIGINT REFERENCES users (id) ON DELETE SET NULL,
    name          TEXT NOT NULL,
    mime_type     TEXT NOT NULL,
    size          BIGINT NOT NULL,
    sha256        TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL
);

CREATE INDEX files_by_workspace ON files (workspace_id, created_at, id);
CREATE INDEX files_by_created ON files (created_at);

CREATE TABLE message_files (
    message_id    UUID NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    file_id       UUID NOT NULL REFERENCES files (id) ON DELETE CASCADE,
    PRIMARY KEY (message_id, file_id)
);

CREATE INDEX message_files_by_file ON message_files (file_id);

ALTER TABLE messages ADD COLUMN attachments JSONB NOT NULL DEFAULT '[]';
