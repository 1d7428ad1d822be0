//! Feedback on an assistant message (thena): one per message, the latest
//! rating replacing the one before.

use crate::Timestamp;
use crate::ids::{FeedbackId, MessageId, RunId, ThreadId, UserId, WorkspaceId};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeedbackType {
    Positive,
    Negative,
}

impl FeedbackType {
    pub fn as_str(self) -> &'static str {
        match self {
            FeedbackType::Positive => "positive",
            FeedbackType::Negative => "negative",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "positive" => Some(FeedbackType::Positive),
            "negative" => Some(FeedbackType::Negative),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Feedback {
    pub id: FeedbackId,
    pub workspace_id: WorkspaceId,
    pub thread_id: ThreadId,
    /// The rated assistant message (thena `ai_message_id`).
    pub message_id: MessageId,
    /// The user message the rated reply answered.
    pub human_message_id: Option<MessageId>,
    /// The run that wrote the rated reply (thena `flow_execution_id`).
    pub run_id: Option<RunId>,
    /// Who rated it: a user, or an API key's anonymous end user.
    pub user_id: Option<UserId>,
    pub anon_user_id: Option<String>,
    pub feedback_type: FeedbackType,
    pub issue_type: Option<String>,
    pub comment: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}
