//! Uploaded files and their attachment to messages.

use crate::Timestamp;
use crate::ids::{AttachmentId, FileId, UserId, WorkspaceId};
use serde::{Deserialize, Serialize};

/// A file's metadata; its bytes are in the object store under
/// [`StoredFile::object_path`]. Never changes once stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredFile {
    pub id: FileId,
    pub workspace_id: WorkspaceId,
    /// Who uploaded it, while that user exists.
    pub user_id: Option<UserId>,
    /// The name the client gave (sanitised: no path, no control characters).
    pub name: String,
    /// Sniffed from the bytes (and, for text, the name's extension), never
    /// taken from the client.
    pub mime_type: String,
    pub size: u64,
    /// Lowercase hex.
    pub sha256: String,
    pub created_at: Timestamp,
}

impl StoredFile {
    /// Where the bytes are: one prefix per workspace, so that deleting a
    /// workspace can remove its files in one sweep of the prefix.
    pub fn object_path(&self) -> String {
        object_path(self.workspace_id, self.id)
    }

    pub fn is_image(&self) -> bool {
        crate::files::is_inline_image(&self.mime_type)
    }
}

pub fn object_path(workspace: WorkspaceId, id: FileId) -> String {
    format!("{workspace}/{id}")
}

/// One file attached to one message, under the name the message gave it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub id: AttachmentId,
    pub name: String,
    pub file: StoredFile,
    pub created_at: Timestamp,
}
