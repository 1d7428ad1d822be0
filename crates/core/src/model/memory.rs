//! Memories: durable facts an agent with `metadata.memory` keeps about a
//! user (or their task), written after its runs and recalled in later ones.

use crate::Timestamp;
use crate::ids::{AgentId, MemoryId, MessageId, ThreadId, UserId, WorkspaceId};

#[derive(Clone, Debug, PartialEq)]
pub struct Memory {
    pub id: MemoryId,
    pub workspace_id: WorkspaceId,
    pub agent_id: AgentId,
    /// Whom it is about: the user who ran the agent.
    pub user_id: UserId,
    pub content: String,
    /// Where it was learnt: the thread and the reply of the run.
    pub thread_id: Option<ThreadId>,
    pub message_id: Option<MessageId>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}
