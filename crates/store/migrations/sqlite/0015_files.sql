-- Uploaded files: their metadata here, their bytes in the object store under
-- `{workspace_id}/{id}`. A message's attachments are kept on the message as
-- JSON (a file's metadata never changes, so the copy stays true) and, for
-- the lifecycle, as rows of `message_files`: a file no message refers to
-- any more is removed by the sweep once its grace period has passed.
CREATE TABLE files (
    rid           INTEGER PRIMARY KEY,
    id            BLOB NOT NULL UNIQUE,
    workspace_id  BLOB NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id       INTEGER REFERENCES users (id) ON DELETE SET NULL,
    name          TEXT NOT NULL,
    mime_type     TEXT NOT NULL,
    size          INTEGER NOT NULL,
    sha256        TEXT NOT NULL,
    created_at    INTEGER NOT NULL
) STRICT;

CREATE INDEX files_by_workspace ON files (workspace_id, created_at, id);
CREATE INDEX files_by_created ON files (created_at);

CREATE TABLE message_files (
    message_id    BLOB NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    file_id       BLOB NOT NULL REFERENCES files (id) ON DELETE CASCADE,
    PRIMARY KEY (message_id, file_id)
) STRICT;

CREATE INDEX message_files_by_file ON message_files (file_id);

ALTER TABLE messages ADD COLUMN attachments TEXT NOT NULL DEFAULT '[]';
