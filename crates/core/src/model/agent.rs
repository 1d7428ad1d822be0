//! Agents (freddy assistants): instructions and persona, who may see them,
//! and how much they are used.

use crate::Timestamp;
use crate::ids::{AgentId, UserId, WorkspaceId};
use crate::validate::Metadata;
use serde_json::{Map, Value};

/// The persona keys an agent's metadata always shows (`null` when unset).
pub const AGENT_METADATA_KEYS: [&str; 14] = [
    "role",
    "goal_statement",
    "backstory",
    "guardrails",
    "base_instructions",
    "conversation_starters",
    "greetings",
    "tone_of_voice",
    "disc_personality",
    "openai_voice",
    "large_language_model",
    "memory",
    "knowledge",
    "web_search",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Visibility {
    /// Only its creator (and whoever it is shared with).
    Private,
    /// Every member of its workspace.
    Workspace,
    /// Anyone signed in to spool, by its uuid.
    Public,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Private => "private",
            Visibility::Workspace => "workspace",
            Visibility::Public => "public",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "private" => Some(Visibility::Private),
            "workspace" => Some(Visibility::Workspace),
            "public" => Some(Visibility::Public),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ShareEntity {
    Workspace(WorkspaceId),
    User(UserId),
}

impl ShareEntity {
    pub fn type_str(self) -> &'static str {
        match self {
            ShareEntity::Workspace(_) => "workspace",
            ShareEntity::User(_) => "user",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum SharePermission {
    /// See the agent and run threads with it.
    Read,
    /// Also change it.
    Write,
}

impl SharePermission {
    pub fn as_str(self) -> &'static str {
        match self {
            SharePermission::Read => "read",
            SharePermission::Write => "write",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "read" => Some(SharePermission::Read),
            "write" => Some(SharePermission::Write),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct AgentShare {
    pub entity: ShareEntity,
    pub permission: SharePermission,
    pub created_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Agent {
    pub id: AgentId,
    pub workspace_id: WorkspaceId,
    /// The creator; `None` once that user is gone.
    pub user_id: Option<UserId>,
    pub name: String,
    pub description: Option<String>,
    pub instruction: Option<String>,
    pub profile_photo_url: Option<String>,
    /// `{emoji, background_color, preference}` as the client sent it.
    pub profile_photo_config: Option<Map<String, Value>>,
    pub visibility: Visibility,
    /// Persona keys (see [`AGENT_METADATA_KEYS`]) and any client keys.
    pub metadata: Metadata,
    /// What its runs' models may call.
    pub tools: Vec<crate::tools::ToolDefinition>,
    pub shares: Vec<AgentShare>,
    /// Maintained by the store in the same transaction as the threads.
    pub threads_count: u64,
    /// Runs made with the agent.
    pub usage_count: u64,
    pub last_used_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}
