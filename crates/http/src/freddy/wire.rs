//! freddy's shapes (seed 004): OpenAI-style objects with prefixed ids and
//! timestamps in whole seconds (`2025-11-17T10:00:00Z`).

use super::ids;
use super::openapi::Role;
use serde::Serialize;
use serde_json::{Map, Value};
use spool_core::Timestamp;
use spool_core::listing::Cursor;
use spool_core::model::{Message, Thread, ThreadStatus};
use spool_core::service::ThreadView;
use utoipa::ToSchema;

pub fn time(at: Timestamp) -> String {
    crate::timestamps::seconds(at)
}

/// A thread (seed 004).
#[derive(Serialize, ToSchema)]
#[schema(as = FreddyThread)]
pub struct ThreadObject {
    #[schema(
        pattern = "^thrd_[0-9a-f]{32}$",
        example = "thrd_0192c1f0a1b27c3d8e9f0a1b2c3d4e5f"
    )]
    pub id: String,
    /// Always `thread`.
    #[schema(example = "thread")]
    pub object: &'static str,
    #[schema(format = DateTime, example = "2025-11-17T10:00:00Z")]
    pub created_at: String,
    #[schema(format = DateTime, example = "2025-11-17T10:00:00Z")]
    pub updated_at: String,
    /// The last message's time; the creation time while there is none.
    #[schema(format = DateTime, example = "2025-11-17T10:00:00Z")]
    pub last_message_at: String,
    #[schema(value_type = Object)]
    pub metadata: Map<String, Value>,
    #[schema(pattern = "^asst_[0-9a-f]{32}$", required = true)]
    pub assistant_id: Option<String>,
    #[schema(pattern = "^org_[0-9a-f]{32}$")]
    pub organization_id: String,
    /// The creator; null for an anonymous end user's thread.
    #[schema(pattern = "^usr_[0-9a-f]{32}$", required = true)]
    pub user_id: Option<String>,
    #[schema(required = true)]
    pub title: Option<String>,
    #[schema(value_type = super::openapi::ThreadStatus)]
    pub status: &'static str,
    pub message_count: u64,
    pub visible_in_ui: bool,
    /// The model of the thread's latest run.
    #[schema(required = true)]
    pub last_model_used: Option<String>,
    pub is_pinned: bool,
    #[schema(format = DateTime, required = true)]
    pub pinned_at: Option<String>,
    /// spool has no spaces; always empty.
    pub space_ids: Vec<String>,
}

impl ThreadObject {
    pub fn new(view: ThreadView) -> Self {
        let ThreadView {
            thread, creator, ..
        } = view;
        let Thread {
            id,
            workspace_id,
            agent_id,
            title,
            metadata,
            status,
            message_count,
            last_message_at,
            last_model_used,
            is_pinned,
            pinned_at,
            visible_in_ui,
            created_at,
            updated_at,
            ..
        } = thread;
        Self {
            id: ids::render(ids::THREAD, id.0),
            object: "thread",
            created_at: time(created_at),
            updated_at: time(updated_at),
            last_message_at: time(last_message_at.unwrap_or(created_at)),
            metadata: metadata.into_map(),
            assistant_id: agent_id.map(|a| ids::render(ids::ASSISTANT, a.0)),
            organization_id: ids::render(ids::ORGANIZATION, workspace_id.0),
            user_id: creator.map(|c| ids::render(ids::USER, c.user.uuid)),
            title,
            status: match status {
                ThreadStatus::Idle => "inactive",
                ThreadStatus::Running => "active",
            },
            message_count,
            visible_in_ui,
            last_model_used,
            is_pinned,
            pinned_at: pinned_at.map(time),
            space_ids: Vec::new(),
        }
    }
}

/// A message of a thread.
#[derive(Serialize, ToSchema)]
#[schema(as = FreddyMessage)]
pub struct MessageObject {
    #[schema(
        pattern = "^msg_[0-9a-f]{32}$",
        example = "msg_0192c1f0a1b27c3d8e9f0a1b2c3d4e5f"
    )]
    pub id: String,
    /// Always `thread.message`.
    #[schema(example = "thread.message")]
    pub object: &'static str,
    #[schema(pattern = "^thrd_[0-9a-f]{32}$")]
    pub thread_id: String,
    #[schema(value_type = Role)]
    pub role: &'static str,
    /// Plain text (markdown).
    pub content: String,
    /// `content` rendered from markdown and sanitised.
    pub content_html: String,
    /// The client's keys with the run's `model`, `temperature`, `tokens
    /// {input, output, total}`, `finish_reason` and `run_uuid` over them.
    #[schema(value_type = Object)]
    pub metadata: Map<String, Value>,
    /// The tool calls an assistant message made, or (a `tool` message) the
    /// call it answers, OpenAI-style.
    pub tool_calls: Vec<ToolCallObject>,
    /// A `tool` message's call; null for other roles.
    #[schema(required = true)]
    pub tool_call_id: Option<String>,
    /// The files attached to it.
    pub attachments: Vec<AttachmentObject>,
    /// The run that wrote it (assistant replies).
    #[schema(pattern = "^run_[0-9a-f]{32}$", required = true)]
    pub run_id: Option<String>,
    #[schema(format = DateTime, example = "2025-11-17T10:00:00Z")]
    pub created_at: String,
    #[schema(format = DateTime, example = "2025-11-17T10:00:00Z")]
    pub updated_at: String,
}

/// A file attached to a message (uploaded through `POST /v1/files`).
#[derive(Serialize, ToSchema)]
#[schema(as = FreddyAttachment)]
pub struct AttachmentObject {
    #[schema(format = Uuid)]
    pub id: String,
    /// Always `thread.message.attachment`.
    #[schema(example = "thread.message.attachment")]
    pub object: &'static str,
    #[schema(pattern = "^file_[0-9a-f]{32}$")]
    pub file_id: String,
    pub name: String,
    /// Sniffed from the bytes.
    #[schema(example = "application/pdf")]
    pub mime_type: String,
    pub size: u64,
    /// Where its bytes are downloaded.
    #[schema(example = "/v1/files/file_0192c1f0a1b27c3d8e9f0a1b2c3d4e5f/content")]
    pub url: String,
    #[schema(format = DateTime, example = "2025-11-17T10:00:00Z")]
    pub created_at: String,
}

impl AttachmentObject {
    pub fn new(attachment: &spool_core::model::Attachment) -> Self {
        let file_id = ids::render(ids::FILE, attachment.file.id.0);
        Self {
            id: attachment.id.to_string(),
            object: "thread.message.attachment",
            url: format!("/v1/files/{file_id}/content"),
            file_id,
            name: attachment.name.clone(),
            mime_type: attachment.file.mime_type.clone(),
            size: attachment.file.size,
            created_at: time(attachment.created_at),
        }
    }
}

/// A file to attach: `file_…` (or its UUID), as an upload answered it.
#[derive(serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = FreddyAttachmentRef)]
pub struct AttachmentRef {
    #[schema(
        pattern = "^(file_[0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32})$"
    )]
    pub file_id: String,
    /// Shown instead of the file's own name.
    #[schema(max_length = 255)]
    pub name: Option<String>,
}

/// The core's references; an id that does not read is passed on as it is,
/// for the core to refuse as unknown.
pub fn refs(list: Vec<AttachmentRef>) -> Vec<spool_core::files::FileRef> {
    list.into_iter()
        .map(|r| spool_core::files::FileRef {
            key: ids::parse(ids::FILE, &r.file_id)
                .map(|id| id.to_string())
                .unwrap_or(r.file_id),
            name: r.name,
        })
        .collect()
}

impl MessageObject {
    pub fn new(message: Message) -> Self {
        Self {
            id: ids::render(ids::MESSAGE, message.id.0),
            object: "thread.message",
            thread_id: ids::render(ids::THREAD, message.thread_id.0),
            role: message.role.as_str(),
            metadata: message.metadata_with_run(),
            run_id: message.run.run_id.map(|r| ids::render(ids::RUN, r.0)),
            content: message.content,
            content_html: message.content_html,
            tool_call_id: (message.role == spool_core::model::MessageRole::Tool)
                .then(|| message.tool_calls.first())
                .flatten()
                .and_then(|call| call["id"].as_str().map(str::to_owned)),
            tool_calls: message.tool_calls.iter().map(ToolCallObject::new).collect(),
            attachments: message
                .attachments
                .iter()
                .map(AttachmentObject::new)
                .collect(),
            created_at: time(message.created_at),
            updated_at: time(message.updated_at),
        }
    }
}

/// A keyset list of `$item`s under the schema name `$schema` (`$prefix`:
/// the items' id pattern): `after`/`before` take `next_cursor`/
/// `prev_cursor` (stable while items move) or an item id (OpenAI style);
/// `has_more` says whether more follow in the direction read.
macro_rules! keyset_list {
    ($(#[$doc:meta])* $name:ident as $schema:ident of $item:ident, $pattern:literal) => {
        $(#[$doc])*
        #[derive(Serialize, ToSchema)]
        #[schema(as = $schema)]
        pub struct $name {
            /// Always `list`.
            #[schema(example = "list")]
            pub object: &'static str,
            pub data: Vec<$item>,
            /// The first item's id; null on an empty page.
            #[schema(pattern = $pattern, required = true)]
            pub first_id: Option<String>,
            /// The last item's id; null on an empty page.
            #[schema(pattern = $pattern, required = true)]
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
            pub fn new(
                data: Vec<$item>,
                next: Option<Cursor>,
                prev: Option<Cursor>,
                backwards: bool,
            ) -> Self {
                Self {
                    object: "list",
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

keyset_list! {
    /// A list of threads.
    ThreadList as FreddyThreadList of ThreadObject, "^thrd_[0-9a-f]{32}$"
}

keyset_list! {
    /// A list of a thread's messages.
    MessageList as FreddyMessageList of MessageObject, "^msg_[0-9a-f]{32}$"
}

#[derive(Serialize, ToSchema)]
#[schema(as = FreddyDeleted)]
pub struct DeletedObject {
    #[schema(pattern = "^thrd_[0-9a-f]{32}$")]
    pub id: String,
    /// Always `thread.deleted`.
    #[schema(example = "thread.deleted")]
    pub object: &'static str,
    pub deleted: bool,
}

/// A tool call, OpenAI-style (as a run step's `function` call): what the
/// model asked for, and its `output` once it ran; plus spool's `kind`
/// (`function` for the client's, `http`, `mcp`), `error`, and when it
/// started and ended.
#[derive(Serialize, ToSchema)]
#[schema(as = FreddyToolCall)]
pub struct ToolCallObject {
    #[schema(example = "call_abc123")]
    pub id: String,
    /// Always `function`.
    #[schema(example = "function")]
    pub r#type: &'static str,
    pub function: ToolFunction,
    /// `function`, `http` or `mcp`; null for a call to a tool the run does
    /// not have.
    #[schema(required = true, example = "function")]
    pub kind: Option<String>,
    /// Why the call gave no output; the model was given this instead.
    #[schema(required = true)]
    pub error: Option<String>,
    #[schema(format = DateTime, required = true)]
    pub started_at: Option<String>,
    #[schema(format = DateTime, required = true)]
    pub completed_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = FreddyToolFunction)]
pub struct ToolFunction {
    #[schema(example = "get_weather")]
    pub name: String,
    /// The arguments as JSON text.
    #[schema(example = "{\"city\": \"Oslo\"}")]
    pub arguments: String,
    /// What the tool answered; null until it ran, or when it failed.
    #[schema(required = true)]
    pub output: Option<String>,
}

/// JSON text of stored arguments (an object, or the model's text as is).
pub fn arguments_text(arguments: &Value) -> String {
    match arguments {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// A stored RFC 3339 time in freddy's whole seconds.
fn stored_time(value: &Value) -> Option<String> {
    let at = chrono::DateTime::parse_from_rfc3339(value.as_str()?).ok()?;
    Some(time(at.with_timezone(&chrono::Utc)))
}

impl ToolCallObject {
    /// From a call as spool stores it.
    pub fn new(call: &Value) -> Self {
        let text = |key: &str| call[key].as_str().map(str::to_owned);
        Self {
            id: text("id").unwrap_or_default(),
            r#type: "function",
            function: ToolFunction {
                name: text("tool_name").unwrap_or_default(),
                arguments: arguments_text(&call["arguments"]),
                output: text("result"),
            },
            kind: text("kind"),
            error: text("error"),
            started_at: stored_time(&call["start_time"]),
            completed_at: stored_time(&call["end_time"]),
        }
    }
}
