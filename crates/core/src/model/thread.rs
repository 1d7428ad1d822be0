//! Threads and their messages.

use crate::Timestamp;
use crate::ids::{AgentId, MessageId, RunId, ThreadId, UserId, WorkspaceId};
use crate::validate::Metadata;
use serde_json::{Map, Value, json};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThreadStatus {
    /// No run in progress [freddy `inactive`].
    Idle,
    /// A run is in progress [freddy `active`].
    Running,
}

impl ThreadStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ThreadStatus::Idle => "idle",
            ThreadStatus::Running => "running",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "idle" => Some(ThreadStatus::Idle),
            "running" => Some(ThreadStatus::Running),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Thread {
    pub id: ThreadId,
    pub workspace_id: WorkspaceId,
    /// The user who made it (for an API key: the key's user), unless made
    /// for an anonymous end user.
    pub creator_id: Option<UserId>,
    /// An end user of the client's own product, named by an API-key caller.
    pub anon_user_id: Option<String>,
    pub agent_id: Option<AgentId>,
    /// athena `name`, thena/freddy `title`.
    pub title: Option<String>,
    /// athena `with`: what or whom the conversation is about.
    pub subject: Option<String>,
    pub metadata: Metadata,
    pub status: ThreadStatus,
    pub message_count: u64,
    pub last_message_at: Option<Timestamp>,
    pub last_model_used: Option<String>,
    pub is_pinned: bool,
    pub pinned_at: Option<Timestamp>,
    pub visible_in_ui: bool,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// The retention sweep deletes the thread after this instant (its
    /// workspace's `thread_retention_days` applies when unset).
    pub expires_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageRole {
    User,
    Assistant,
    System,
    Tool,
}

impl MessageRole {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageRole::User => "user",
            MessageRole::Assistant => "assistant",
            MessageRole::System => "system",
            MessageRole::Tool => "tool",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "user" => Some(MessageRole::User),
            "assistant" => Some(MessageRole::Assistant),
            "system" => Some(MessageRole::System),
            "tool" => Some(MessageRole::Tool),
            _ => None,
        }
    }
}

/// What a run recorded about the message it produced. Rendered inside the
/// message's `metadata` (`model`, `temperature`, `tokens`, `finish_reason`,
/// `run_uuid`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunInfo {
    pub run_id: Option<RunId>,
    pub model: Option<String>,
    pub temperature: Option<f64>,
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    pub finish_reason: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    pub id: MessageId,
    pub thread_id: ThreadId,
    pub workspace_id: WorkspaceId,
    /// Order inside the thread, assigned by the store at insert: never the clock.
    pub seq: i64,
    pub role: MessageRole,
    pub content: String,
    /// Derived from `content` (see [`crate::markdown`]).
    pub content_html: String,
    /// Client keys.
    pub metadata: Metadata,
    pub run: RunInfo,
    /// `{tool_name, arguments, result, error, start_time, end_time}` objects.
    pub tool_calls: Vec<Value>,
    /// Who wrote it, when a user did.
    pub user_id: Option<UserId>,
    /// Files attached when it was written, in the order given.
    pub attachments: Vec<super::Attachment>,
    /// Tokens of its content and tool calls as a prompt gives them
    /// ([`crate::runs::prompt::message_tokens`]), counted when it is stored;
    /// `None` when not known (stored before counts were), counted on use.
    pub token_count: Option<u64>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Message {
    /// Where the message stands in its thread, for keyset paging: `seq`
    /// places it (unique in the thread), the id breaks no ties but names it.
    pub fn cursor(&self) -> crate::listing::Cursor {
        crate::listing::Cursor {
            key: self.seq,
            id: self.id.0,
        }
    }

    /// The bytes a list page's bound counts for this message, as the stores
    /// measure them in SQL: content, content_html, and the JSON text of
    /// metadata and tool_calls. What it costs to hold and to render, give or
    /// take JSON escaping and the fixed fields.
    pub fn listed_bytes(&self) -> usize {
        self.content.len()
            + self.content_html.len()
            + json_len(self.metadata.as_map())
            + json_len(&self.tool_calls)
    }

    /// The client's metadata with what the run recorded over it (`model`,
    /// `temperature`, `tokens {input, output, total}`, `finish_reason`,
    /// `run_uuid`), so a client cannot forge usage. What every dialect shows
    /// as a message's metadata.
    pub fn metadata_with_run(&self) -> Map<String, Value> {
        let mut metadata = self.metadata.as_map().clone();
        // Clients cannot write these keys (`validate::MetadataOf`); any stored
        // before that rule are not shown as if a run had set them.
        for key in crate::validate::MetadataOf::Message.server_keys() {
            metadata.remove(*key);
        }
        let run = &self.run;
        let total = match (run.input_tokens, run.output_tokens) {
            (Some(i), Some(o)) => Some(i + o),
            _ => None,
        };
        metadata.insert("model".into(), json!(run.model));
        metadata.insert("temperature".into(), json!(run.temperature));
        metadata.insert(
            "tokens".into(),
            json!({ "input": run.input_tokens, "output": run.output_tokens, "total": total }),
        );
        if let Some(reason) = &run.finish_reason {
            metadata.insert("finish_reason".into(), json!(reason));
        }
        if let Some(run_id) = run.run_id {
            metadata.insert("run_uuid".into(), json!(run_id.to_string()));
        }
        metadata
    }
}

/// The length of `value`'s JSON text, without building it.
fn json_len(value: &impl serde::Serialize) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.len();
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    serde_json::to_writer(&mut count, value).map_or(0, |()| count.0)
}
