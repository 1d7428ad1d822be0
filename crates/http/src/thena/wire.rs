//! thena's shapes (seed 003): a chat thread with its messages, each with its
//! feedback. Ids are plain UUIDs; timestamps carry whole seconds
//! (`2023-11-07T05:31:56Z`).

use serde::Serialize;
use serde_json::{Map, Value};
use spool_core::listing::Cursor;
use spool_core::model::{Message, Thread};
use spool_core::service::{FeedbackView, ThreadView};
use spool_core::{MessageId, Timestamp};
use std::collections::HashMap;
use utoipa::ToSchema;

pub fn time(at: Timestamp) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[derive(Serialize, ToSchema)]
pub struct FeedbackBody {
    pub id: String,
    /// The user message the rated reply answered.
    pub human_message_id: Option<String>,
    pub ai_message_id: String,
    /// The run that wrote the rated reply.
    pub flow_execution_id: Option<String>,
    /// The uuid of the user who gave it (null for an anonymous end user).
    pub user_id: Option<String>,
    pub organization_id: String,
    #[schema(example = "positive")]
    pub feedback_type: String,
    pub issue_type: Option<String>,
    pub comment: Option<String>,
    #[schema(example = "2023-11-07T05:31:56Z")]
    pub created_at: String,
    pub updated_at: String,
}

impl FeedbackBody {
    pub fn new(view: FeedbackView) -> Self {
        let FeedbackView { feedback, user } = view;
        Self {
            id: feedback.id.to_string(),
            human_message_id: feedback.human_message_id.map(|m| m.to_string()),
            ai_message_id: feedback.message_id.to_string(),
            flow_execution_id: feedback.run_id.map(|r| r.to_string()),
            user_id: user.map(|u| u.uuid.to_string()),
            organization_id: feedback.workspace_id.to_string(),
            feedback_type: feedback.feedback_type.as_str().to_owned(),
            issue_type: feedback.issue_type,
            comment: feedback.comment,
            created_at: time(feedback.created_at),
            updated_at: time(feedback.updated_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct MessageBody {
    pub id: String,
    pub thread_id: String,
    pub content: String,
    /// `content` rendered from markdown and sanitised.
    pub content_html: String,
    #[schema(example = "assistant")]
    pub role: &'static str,
    /// `{tool_name, arguments, result, error, start_time, end_time}`.
    #[schema(value_type = Vec<Object>)]
    pub tool_calls: Vec<Value>,
    /// None until file uploads exist.
    #[schema(value_type = Vec<Object>)]
    pub attachments: Vec<Value>,
    /// The client's keys with the run's `model`, `temperature`, `tokens`,
    /// `finish_reason` and `run_uuid` over them.
    #[schema(value_type = Object)]
    pub metadata: Map<String, Value>,
    pub created_at: String,
    /// The feedback on this (assistant) message, if any.
    pub feedback: Option<FeedbackBody>,
}

impl MessageBody {
    /// Messages each with its feedback, if any.
    pub fn rated(messages: Vec<Message>, mut feedback: HashMap<MessageId, FeedbackView>) -> Vec<Self> {
        messages
            .into_iter()
            .map(|m| {
                let rating = feedback.remove(&m.id).map(FeedbackBody::new);
                MessageBody::new(m, rating)
            })
            .collect()
    }

    pub fn new(message: Message, feedback: Option<FeedbackBody>) -> Self {
        Self {
            id: message.id.to_string(),
            thread_id: message.thread_id.to_string(),
            metadata: message.metadata_with_run(),
            content: message.content,
            content_html: message.content_html,
            role: message.role.as_str(),
            tool_calls: message.tool_calls,
            attachments: Vec::new(),
            created_at: time(message.created_at),
            feedback,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ThreadBody {
    pub id: String,
    pub agent_id: Option<String>,
    /// The uuid of the user who made it; null for an anonymous end user's thread.
    pub user_id: Option<String>,
    pub anon_user_id: Option<String>,
    pub organization_id: String,
    pub title: Option<String>,
    #[schema(value_type = Object)]
    pub metadata: Map<String, Value>,
    #[schema(example = "2023-11-07T05:31:56Z")]
    pub created_at: String,
    pub updated_at: String,
    /// In thread order. Left out of list items.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages: Option<Vec<MessageBody>>,
    /// Only when `messages` stopped at the byte bound of a list page: pass it
    /// as `after` to `GET …/threads/{thread_id}/messages` for the rest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages_next_cursor: Option<String>,
}

impl ThreadBody {
    pub fn new(view: ThreadView, messages: Option<Vec<MessageBody>>) -> Self {
        let ThreadView {
            thread, creator, ..
        } = view;
        let Thread {
            id,
            workspace_id,
            anon_user_id,
            agent_id,
            title,
            metadata,
            created_at,
            updated_at,
            ..
        } = thread;
        Self {
            id: id.to_string(),
            agent_id: agent_id.map(|a| a.to_string()),
            user_id: creator.map(|c| c.user.uuid.to_string()),
            anon_user_id,
            organization_id: workspace_id.to_string(),
            title,
            metadata: metadata.into_map(),
            created_at: time(created_at),
            updated_at: time(updated_at),
            messages,
            messages_next_cursor: None,
        }
    }

    /// The thread with its messages, each with its feedback; `stopped` is
    /// where the messages stopped short of the thread's end.
    pub fn with_messages(
        view: ThreadView,
        messages: Vec<Message>,
        feedback: HashMap<MessageId, FeedbackView>,
        stopped: Option<Cursor>,
    ) -> Self {
        Self {
            messages_next_cursor: stopped.map(|c| c.encode()),
            ..Self::new(view, Some(MessageBody::rated(messages, feedback)))
        }
    }
}

/// A keyset page: `after`/`before` take a `next_cursor`/`prev_cursor` (or
/// an item id); `has_more` says whether more follow in the direction read.
#[derive(Serialize, ToSchema)]
pub struct ListBody<T> {
    pub data: Vec<T>,
    pub first_id: Option<String>,
    pub last_id: Option<String>,
    pub has_more: bool,
    pub next_cursor: Option<String>,
    pub prev_cursor: Option<String>,
}

impl<T> ListBody<T> {
    /// `next`/`prev` as a keyset page answered them.
    pub fn new(
        data: Vec<T>,
        next: Option<Cursor>,
        prev: Option<Cursor>,
        backwards: bool,
        id: impl Fn(&T) -> String,
    ) -> Self {
        ListBody {
            first_id: data.first().map(&id),
            last_id: data.last().map(&id),
            has_more: if backwards {
                prev.is_some()
            } else {
                next.is_some()
            },
            next_cursor: next.map(|c| c.encode()),
            prev_cursor: prev.map(|c| c.encode()),
            data,
        }
    }
}
