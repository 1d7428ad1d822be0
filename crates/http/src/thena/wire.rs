//! thena's shapes (seed 003): a chat thread with its messages, each with its
//! feedback. Ids are plain UUIDs; timestamps carry whole seconds
//! (`2023-11-07T05:31:56Z`).

use super::openapi::{FeedbackType, Role, RunStatus};
use serde::Serialize;
use serde_json::{Map, Value};
use spool_core::listing::Cursor;
use spool_core::model::{Attachment, Message, Run, Thread};
use spool_core::service::{FeedbackView, ThreadView};
use spool_core::{MessageId, Timestamp};
use std::collections::HashMap;
use utoipa::ToSchema;

pub fn time(at: Timestamp) -> String {
    crate::timestamps::seconds(at)
}

/// A rating of an assistant message (one per message, the latest wins).
#[derive(Serialize, ToSchema)]
#[schema(as = ThenaFeedback)]
pub struct FeedbackBody {
    #[schema(format = Uuid)]
    pub id: String,
    /// The user message the rated reply answered.
    #[schema(format = Uuid, required = true)]
    pub human_message_id: Option<String>,
    /// The rated assistant message.
    #[schema(format = Uuid)]
    pub ai_message_id: String,
    /// The run that wrote the rated reply.
    #[schema(format = Uuid, required = true)]
    pub flow_execution_id: Option<String>,
    /// The uuid of the user who gave it (null for an anonymous end user).
    #[schema(format = Uuid, required = true)]
    pub user_id: Option<String>,
    #[schema(format = Uuid)]
    pub organization_id: String,
    #[schema(value_type = FeedbackType)]
    pub feedback_type: String,
    #[schema(required = true)]
    pub issue_type: Option<String>,
    #[schema(required = true)]
    pub comment: Option<String>,
    #[schema(format = DateTime, example = "2023-11-07T05:31:56Z")]
    pub created_at: String,
    #[schema(format = DateTime, example = "2023-11-07T05:31:56Z")]
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

/// A file attached to a message. Files are uploaded through
/// `POST /api/v1/files` (the same credential works there).
#[derive(Serialize, ToSchema)]
#[schema(as = ThenaAttachment)]
pub struct AttachmentBody {
    #[schema(format = Uuid)]
    pub id: String,
    /// Always `media`: an uploaded file.
    #[schema(example = "media")]
    pub r#type: &'static str,
    /// The file's key.
    #[schema(format = Uuid)]
    pub key: String,
    pub name: String,
    /// Sniffed from the bytes.
    #[schema(example = "image/png")]
    pub mime_type: String,
    pub size: u64,
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub sha256: String,
    /// Where its bytes are downloaded.
    #[schema(example = "/api/v1/files/0192c1f0-a1b2-7c3d-8e9f-0a1b2c3d4e5f/content")]
    pub url: String,
    #[schema(format = DateTime, example = "2023-11-07T05:31:56Z")]
    pub created_at: String,
}

impl AttachmentBody {
    pub fn new(attachment: &Attachment) -> Self {
        let key = attachment.file.id.to_string();
        Self {
            id: attachment.id.to_string(),
            r#type: "media",
            url: format!("/api/v1/files/{key}/content"),
            key,
            name: attachment.name.clone(),
            mime_type: attachment.file.mime_type.clone(),
            size: attachment.file.size,
            sha256: attachment.file.sha256.clone(),
            created_at: time(attachment.created_at),
        }
    }
}

/// A file to attach to a message: the key an upload answered.
#[derive(serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ThenaAttachmentRef)]
pub struct AttachmentRef {
    #[schema(format = Uuid)]
    pub key: String,
    /// Shown instead of the file's own name.
    #[schema(max_length = 255)]
    pub name: Option<String>,
}

pub fn refs(list: Vec<AttachmentRef>) -> Vec<spool_core::files::FileRef> {
    list.into_iter()
        .map(|r| spool_core::files::FileRef {
            key: r.key,
            name: r.name,
        })
        .collect()
}

/// A message of a chat thread.
#[derive(Serialize, ToSchema)]
#[schema(as = ThenaMessage)]
pub struct MessageBody {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub thread_id: String,
    pub content: String,
    /// `content` rendered from markdown and sanitised.
    pub content_html: String,
    #[schema(value_type = Role)]
    pub role: &'static str,
    /// `{tool_name, arguments, result, error, start_time, end_time}` and
    /// the call's `id` and `kind`: the calls an assistant message made, or
    /// (a `tool` message) the call it answers.
    #[schema(value_type = Vec<super::ToolCallSchema>)]
    pub tool_calls: Vec<Value>,
    /// The files attached to it.
    pub attachments: Vec<AttachmentBody>,
    /// The client's keys with the run's `model`, `temperature`, `tokens
    /// {input, output, total}`, `finish_reason` and `run_uuid` over them.
    #[schema(value_type = Object)]
    pub metadata: Map<String, Value>,
    #[schema(format = DateTime, example = "2023-11-07T05:31:56Z")]
    pub created_at: String,
    /// The feedback on this (assistant) message, if any.
    #[schema(required = true)]
    pub feedback: Option<FeedbackBody>,
}

impl MessageBody {
    /// Messages each with its feedback, if any.
    pub fn rated(
        messages: Vec<Message>,
        mut feedback: HashMap<MessageId, FeedbackView>,
    ) -> Vec<Self> {
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
            attachments: message
                .attachments
                .iter()
                .map(AttachmentBody::new)
                .collect(),
            created_at: time(message.created_at),
            feedback,
        }
    }
}

/// A chat thread (seed 003).
#[derive(Serialize, ToSchema)]
#[schema(as = ThenaThread)]
pub struct ThreadBody {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid, required = true)]
    pub agent_id: Option<String>,
    /// The uuid of the user who made it; null for an anonymous end user's thread.
    #[schema(format = Uuid, required = true)]
    pub user_id: Option<String>,
    /// The anonymous end user whose thread it is.
    #[schema(required = true)]
    pub anon_user_id: Option<String>,
    /// The workspace.
    #[schema(format = Uuid)]
    pub organization_id: String,
    #[schema(required = true)]
    pub title: Option<String>,
    #[schema(value_type = Object)]
    pub metadata: Map<String, Value>,
    #[schema(format = DateTime, example = "2023-11-07T05:31:56Z")]
    pub created_at: String,
    #[schema(format = DateTime, example = "2023-11-07T05:31:56Z")]
    pub updated_at: String,
    /// In thread order. Left out of list items.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub messages: Option<Vec<MessageBody>>,
    /// Only when `messages` stopped at the byte bound of a list page: pass it
    /// as `after` to `GET …/threads/{thread_id}/messages` for the rest.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
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

// Fields in alphabetical order, as the `json!` object that rendered runs
// before: a stream resumed across an upgrade repeats the same bytes.
/// A run, as the `run.*` events of a stream carry it.
#[derive(Serialize, ToSchema)]
#[schema(as = ThenaRun)]
pub struct RunBody {
    #[schema(format = Uuid, required = true)]
    pub agent_id: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// Why it failed, in words for the client.
    #[schema(required = true)]
    pub error: Option<String>,
    #[schema(format = DateTime, required = true)]
    pub finished_at: Option<String>,
    #[schema(format = Uuid)]
    pub id: String,
    /// The assistant message it wrote (also a partial one).
    #[schema(format = Uuid, required = true)]
    pub message_id: Option<String>,
    #[schema(example = "echo")]
    pub model: String,
    #[schema(value_type = RunStatus)]
    pub status: &'static str,
    #[schema(format = Uuid)]
    pub thread_id: String,
}

impl RunBody {
    pub fn new(run: &Run) -> Self {
        Self {
            agent_id: run.agent_id.map(|a| a.to_string()),
            created_at: time(run.created_at),
            error: run.error.clone(),
            finished_at: run.finished_at.map(time),
            id: run.id.to_string(),
            message_id: run.message_id.map(|m| m.to_string()),
            model: run.model.clone(),
            status: run.status.as_str(),
            thread_id: run.thread_id.to_string(),
        }
    }
}

/// `message.delta`'s data: the next piece of the reply's text.
#[derive(Serialize, ToSchema)]
#[schema(as = ThenaMessageDelta)]
pub struct MessageDelta {
    #[schema(example = json!({"content": "Hel"}))]
    pub delta: DeltaContent,
}

#[derive(Serialize, ToSchema)]
#[schema(as = ThenaDeltaContent)]
pub struct DeltaContent {
    pub content: String,
}

impl MessageDelta {
    pub fn new(piece: &str) -> Self {
        Self {
            delta: DeltaContent {
                content: piece.to_owned(),
            },
        }
    }
}

/// A keyset page of `$item`s under the schema name `$schema`: `after`/
/// `before` take a `next_cursor`/`prev_cursor` (or an item id); `has_more`
/// says whether more follow in the direction read.
macro_rules! keyset_page {
    ($(#[$doc:meta])* $name:ident as $schema:ident of $item:ident) => {
        $(#[$doc])*
        #[derive(Serialize, ToSchema)]
        #[schema(as = $schema)]
        pub struct $name {
            pub data: Vec<$item>,
            /// The first item's id; null on an empty page.
            #[schema(format = Uuid, required = true)]
            pub first_id: Option<String>,
            /// The last item's id; null on an empty page.
            #[schema(format = Uuid, required = true)]
            pub last_id: Option<String>,
            /// Whether more items follow in the direction read.
            pub has_more: bool,
            /// Pass as `after` for the page after this one.
            #[schema(required = true)]
            pub next_cursor: Option<String>,
            /// Pass as `before` for the page before this one.
            #[schema(required = true)]
            pub prev_cursor: Option<String>,
        }

        impl $name {
            /// `next`/`prev` as a keyset page answered them.
            pub fn new(
                data: Vec<$item>,
                next: Option<Cursor>,
                prev: Option<Cursor>,
                backwards: bool,
            ) -> Self {
                Self {
                    first_id: data.first().map(|item| item.id.clone()),
                    last_id: data.last().map(|item| item.id.clone()),
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
    };
}

keyset_page! {
    /// A keyset page of an agent's chat threads (without their messages).
    ThreadList as ThenaThreadList of ThreadBody
}

keyset_page! {
    /// A keyset page of a thread's messages, each with its feedback.
    MessageList as ThenaMessageList of MessageBody
}
