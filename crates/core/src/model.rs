//! The resources spool stores, as the core sees them. Dialects render these.

use crate::Timestamp;
use crate::ids::{ApiKeyId, SessionId, UserId, WorkspaceId};
use crate::secret::TokenHash;
use crate::validate::Metadata;
use uuid::Uuid;

#[derive(Clone, Debug, PartialEq)]
pub struct User {
    pub id: UserId,
    pub uuid: Uuid,
    pub name: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: String,
    pub profile_photo_url: Option<String>,
    pub primary_workspace_id: Option<WorkspaceId>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A user to insert; the store assigns the integer id.
#[derive(Clone, Debug)]
pub struct NewUser {
    pub uuid: Uuid,
    pub name: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: String,
    pub password_hash: String,
    pub created_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Workspace {
    pub id: WorkspaceId,
    pub slug: String,
    pub name: String,
    pub profile_photo_url: Option<String>,
    pub is_onboarded: bool,
    pub metadata: Metadata,
    /// The user who created it; `None` once that user is gone.
    pub owner_id: Option<UserId>,
    /// Threads without an `expires_at` of their own are deleted this many
    /// days after their last activity; kept for good when `None`.
    pub thread_retention_days: Option<u32>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Changes to a workspace; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct WorkspacePatch {
    pub name: Option<String>,
    pub slug: Option<String>,
    pub profile_photo_url: Option<Option<String>>,
    pub is_onboarded: Option<bool>,
    pub metadata: Option<Metadata>,
    /// `Some(None)` keeps threads for good again.
    pub thread_retention_days: Option<Option<u32>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Member,
    Admin,
    Owner,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "owner" => Some(Role::Owner),
            "admin" => Some(Role::Admin),
            "member" => Some(Role::Member),
            _ => None,
        }
    }

    /// Owners and admins manage the workspace, its members and its keys.
    pub fn can_manage(self) -> bool {
        self >= Role::Admin
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Member {
    pub user: User,
    pub role: Role,
    pub joined_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub workspace_id: WorkspaceId,
    pub user_id: UserId,
    pub name: String,
    /// The first characters of the key, shown so that users can tell keys apart.
    pub prefix: String,
    pub hash: TokenHash,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

impl ApiKey {
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|at| at > now)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Session {
    pub id: SessionId,
    pub user_id: UserId,
    pub hash: TokenHash,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

impl Session {
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && self.expires_at > now
    }
}

mod agent;
mod feedback;
mod file;
mod memory;
mod prompt;
mod run;
mod thread;
mod workspace_provider;

pub use agent::{AGENT_METADATA_KEYS, Agent, AgentShare, ShareEntity, SharePermission, Visibility};
pub use feedback::{Feedback, FeedbackType};
pub use file::{Attachment, StoredFile, object_path};
pub use memory::Memory;
pub use prompt::{Prompt, fill_template, template_variables};
pub use run::{FinishedRun, Run, RunAdmission, RunStatus};
pub use thread::{Message, MessageRole, RunInfo, Thread, ThreadStatus};
pub use workspace_provider::{
    Authentication, ProviderKind, ProviderModel, WorkspaceProvider, authentication_from_json,
    authentication_json, models_from_json, models_json, secret_hint,
};
