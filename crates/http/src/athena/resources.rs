//! athena's shapes for agents, threads, messages and models, nested as the
//! seeds show them.

use super::wire::{UserBody, WorkspaceBody, time};
use serde::Serialize;
use serde_json::{Map, Value};
use spool_core::UserId;
use spool_core::catalog::ModelEntry;
use spool_core::model::{AGENT_METADATA_KEYS, Agent, Message, Thread};
use spool_core::service::{AgentView, MessageView, ThreadView, UserView};
use std::sync::Arc;
use utoipa::ToSchema;

fn user_body(view: Option<UserView>) -> Option<UserBody> {
    view.map(|v| UserBody::new(v.user, v.primary_workspace))
}

#[derive(Serialize, ToSchema)]
#[schema(as = AthenaShare)]
pub struct ShareBody {
    #[schema(value_type = super::openapi::ShareEntityType)]
    pub entity_type: &'static str,
    /// The workspace uuid, or the user id (as a string), the agent is shared with.
    pub entity_id: String,
    /// Not nested by spool; always null.
    #[schema(schema_with = super::openapi::always_null, required = true)]
    pub entity: Option<()>,
    #[schema(value_type = super::openapi::SharePermission)]
    pub permission: &'static str,
}

#[derive(Serialize, ToSchema)]
#[schema(as = AthenaAgent)]
pub struct AgentBody {
    #[schema(format = Uuid)]
    pub uuid: String,
    pub name: String,
    #[schema(required = true)]
    pub description: Option<String>,
    #[schema(required = true)]
    pub instruction: Option<String>,
    #[schema(required = true)]
    pub profile_photo_url: Option<String>,
    /// `{emoji, background_color, preference}`.
    #[schema(value_type = Option<Object>, required = true)]
    pub profile_photo_config: Option<Map<String, Value>>,
    #[schema(value_type = super::openapi::Visibility)]
    pub visibility: &'static str,
    /// The persona keys (always present, `null` when unset) and client keys.
    #[schema(schema_with = super::openapi::agent_metadata)]
    pub metadata: Map<String, Value>,
    /// Whether the caller made the agent.
    pub is_owner: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    /// Always 0: spool agents have no workflows.
    pub workflows_count: u64,
    /// How many tool definitions the agent has.
    pub tools_count: u64,
    pub threads_count: u64,
    #[schema(format = DateTime, required = true)]
    pub last_used_at: Option<String>,
    pub usage_count: u64,
    /// Not tracked by spool; always null.
    #[schema(schema_with = super::openapi::always_null, required = true)]
    pub usage_frequency: Option<()>,
    /// The agent's creator.
    #[schema(required = true)]
    pub user: Option<UserBody>,
    #[schema(required = true)]
    pub workspace: Option<WorkspaceBody>,
    /// The agent's tool definitions; header values written in them show as
    /// `"[redacted]"`.
    #[schema(value_type = Vec<super::ToolSchema>)]
    pub tools: Vec<Value>,
    /// spool agents have no workflows; always null.
    #[schema(schema_with = super::openapi::always_null, required = true)]
    pub workflows: Option<()>,
    pub shares: Vec<ShareBody>,
}

fn agent_metadata(agent: &Agent) -> Map<String, Value> {
    let mut metadata: Map<String, Value> = AGENT_METADATA_KEYS
        .iter()
        .map(|k| ((*k).to_owned(), Value::Null))
        .collect();
    metadata.extend(agent.metadata.as_map().clone());
    metadata
}

impl AgentBody {
    pub fn new(view: AgentView, viewer: UserId) -> Self {
        let AgentView {
            agent,
            user,
            workspace,
        } = view;
        Self {
            uuid: agent.id.to_string(),
            metadata: agent_metadata(&agent),
            name: agent.name,
            description: agent.description,
            instruction: agent.instruction,
            profile_photo_url: agent.profile_photo_url,
            profile_photo_config: agent.profile_photo_config,
            visibility: agent.visibility.as_str(),
            is_owner: agent.user_id == Some(viewer),
            created_at: time(agent.created_at),
            updated_at: time(agent.updated_at),
            workflows_count: 0,
            tools_count: agent.tools.len() as u64,
            threads_count: agent.threads_count,
            last_used_at: agent.last_used_at.map(time),
            usage_count: agent.usage_count,
            usage_frequency: None,
            user: user_body(user),
            workspace: workspace.map(|w| WorkspaceBody::new(w, viewer)),
            tools: agent.tools.iter().map(|t| t.to_public()).collect(),
            workflows: None,
            shares: agent
                .shares
                .iter()
                .map(|s| ShareBody {
                    entity_type: s.entity.type_str(),
                    entity_id: match s.entity {
                        spool_core::model::ShareEntity::Workspace(w) => w.to_string(),
                        spool_core::model::ShareEntity::User(u) => u.to_string(),
                    },
                    entity: None,
                    permission: s.permission.as_str(),
                })
                .collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
#[schema(as = AthenaThreadUsage)]
pub struct ThreadUsage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub total_tokens: u64,
}

#[derive(Serialize, ToSchema)]
#[schema(as = AthenaThread)]
pub struct ThreadBody {
    #[schema(format = Uuid)]
    pub uuid: String,
    /// The title.
    #[schema(required = true)]
    pub name: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    /// The client's keys; `model` and `system_prompt` are read by runs.
    #[schema(value_type = Object)]
    pub metadata: Map<String, Value>,
    /// The user who made the thread (null for an anonymous end user's).
    #[schema(required = true)]
    pub creator: Option<UserBody>,
    #[schema(required = true)]
    pub agent: Option<AgentBody>,
    /// Files attached to the thread itself: none (files attach to its
    /// messages, each of which lists its own).
    #[schema(value_type = Vec<Object>)]
    pub attachments: Vec<Value>,
    /// What or whom the conversation is about.
    #[schema(required = true)]
    pub with: Option<String>,
    #[schema(format = Uuid)]
    pub workspace_uuid: String,
    #[schema(required = true)]
    pub anon_user_id: Option<String>,
    #[schema(value_type = super::openapi::ThreadStatus)]
    pub status: &'static str,
    pub message_count: u64,
    #[schema(format = DateTime, required = true)]
    pub last_message_at: Option<String>,
    #[schema(required = true)]
    pub last_model_used: Option<String>,
    pub is_pinned: bool,
    #[schema(format = DateTime, required = true)]
    pub pinned_at: Option<String>,
    pub visible_in_ui: bool,
    pub usage: ThreadUsage,
    /// When the retention sweep deletes the thread, if it has an expiry of
    /// its own.
    #[schema(format = DateTime, required = true)]
    pub expires_at: Option<String>,
}

impl ThreadBody {
    pub fn new(view: ThreadView, viewer: UserId) -> Self {
        let ThreadView {
            thread,
            creator,
            agent,
        } = view;
        let Thread {
            input_tokens,
            output_tokens,
            ..
        } = thread;
        Self {
            uuid: thread.id.to_string(),
            name: thread.title,
            created_at: time(thread.created_at),
            updated_at: time(thread.updated_at),
            metadata: thread.metadata.into_map(),
            creator: user_body(creator),
            agent: agent.map(|a| AgentBody::new(a, viewer)),
            attachments: Vec::new(),
            with: thread.subject,
            workspace_uuid: thread.workspace_id.to_string(),
            anon_user_id: thread.anon_user_id,
            status: thread.status.as_str(),
            message_count: thread.message_count,
            last_message_at: thread.last_message_at.map(time),
            last_model_used: thread.last_model_used,
            is_pinned: thread.is_pinned,
            pinned_at: thread.pinned_at.map(time),
            visible_in_ui: thread.visible_in_ui,
            expires_at: thread.expires_at.map(time),
            usage: ThreadUsage {
                input_tokens,
                output_tokens,
                total_tokens: input_tokens + output_tokens,
            },
        }
    }
}

#[derive(Serialize, ToSchema)]
#[schema(as = AthenaMessage)]
pub struct MessageBody {
    #[schema(format = Uuid)]
    pub uuid: String,
    pub content: String,
    /// `content` rendered from markdown and sanitised.
    pub content_html: String,
    #[schema(value_type = super::openapi::MessageRole)]
    pub role: &'static str,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    #[schema(schema_with = super::openapi::message_metadata)]
    pub metadata: Map<String, Value>,
    pub thread: MessageThread,
    /// The files attached to it (`type: "media"`).
    pub attachments: Vec<super::files::AttachmentBody>,
    /// The tool calls this assistant message made, or (a `tool` message)
    /// the call it answers.
    #[schema(value_type = Vec<super::ToolCallSchema>)]
    pub tool_calls: Vec<Value>,
}

/// A message's `thread`: whole in a single-message answer (seed 001), and
/// compact in a list, where every item has the same thread.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
#[schema(as = AthenaMessageThread)]
pub enum MessageThread {
    Full(Box<ThreadBody>),
    Compact(SharedSummary),
}

/// One [`ThreadSummary`] for all the items of a page.
#[derive(Serialize)]
#[serde(transparent)]
pub struct SharedSummary(pub Arc<ThreadSummary>);

impl utoipa::PartialSchema for SharedSummary {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        ThreadSummary::schema()
    }
}

impl ToSchema for SharedSummary {
    fn name() -> std::borrow::Cow<'static, str> {
        ThreadSummary::name()
    }

    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        schemas.push((
            ThreadSummary::name().into(),
            <ThreadSummary as utoipa::PartialSchema>::schema(),
        ));
        ThreadSummary::schemas(schemas);
    }
}

/// A thread's own fields without what it nests (creator, agent, metadata,
/// attachments, usage): what each item of a message list carries, built once
/// per page. `GET /api/v1/threads/{uuid}` has the rest.
#[derive(Serialize, ToSchema)]
#[schema(as = AthenaThreadSummary)]
pub struct ThreadSummary {
    #[schema(format = Uuid)]
    pub uuid: String,
    #[schema(required = true)]
    pub name: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    #[schema(required = true)]
    pub with: Option<String>,
    #[schema(format = Uuid)]
    pub workspace_uuid: String,
    #[schema(required = true)]
    pub anon_user_id: Option<String>,
    #[schema(value_type = super::openapi::ThreadStatus)]
    pub status: &'static str,
    pub message_count: u64,
    #[schema(format = DateTime, required = true)]
    pub last_message_at: Option<String>,
    #[schema(required = true)]
    pub last_model_used: Option<String>,
    pub is_pinned: bool,
    #[schema(format = DateTime, required = true)]
    pub pinned_at: Option<String>,
    pub visible_in_ui: bool,
}

impl From<&Thread> for ThreadSummary {
    fn from(thread: &Thread) -> Self {
        Self {
            uuid: thread.id.to_string(),
            name: thread.title.clone(),
            created_at: time(thread.created_at),
            updated_at: time(thread.updated_at),
            with: thread.subject.clone(),
            workspace_uuid: thread.workspace_id.to_string(),
            anon_user_id: thread.anon_user_id.clone(),
            status: thread.status.as_str(),
            message_count: thread.message_count,
            last_message_at: thread.last_message_at.map(time),
            last_model_used: thread.last_model_used.clone(),
            is_pinned: thread.is_pinned,
            pinned_at: thread.pinned_at.map(time),
            visible_in_ui: thread.visible_in_ui,
        }
    }
}

/// The run's keys over the client's, so a client cannot forge usage.
pub fn message_metadata(message: &Message) -> Map<String, Value> {
    message.metadata_with_run()
}

impl MessageBody {
    /// A message with its whole thread (single-message answers).
    pub fn new(view: MessageView, viewer: UserId) -> Self {
        let MessageView { message, thread } = view;
        let thread = ThreadBody::new((*thread).clone(), viewer);
        Self::with_thread(message, MessageThread::Full(Box::new(thread)))
    }

    /// A list item: the page's one summary of the thread, shared.
    pub fn listed(message: Message, thread: &Arc<ThreadSummary>) -> Self {
        Self::with_thread(
            message,
            MessageThread::Compact(SharedSummary(thread.clone())),
        )
    }

    fn with_thread(message: Message, thread: MessageThread) -> Self {
        Self {
            uuid: message.id.to_string(),
            metadata: message_metadata(&message),
            content: message.content,
            content_html: message.content_html,
            role: message.role.as_str(),
            created_at: time(message.created_at),
            updated_at: time(message.updated_at),
            thread,
            attachments: super::files::attachments(&message.attachments),
            tool_calls: message.tool_calls,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[schema(as = AthenaModel)]
pub struct ModelBody {
    #[schema(format = Uuid)]
    pub uuid: String,
    #[schema(example = "echo")]
    pub name: String,
    pub provider: String,
    /// The workspace provider that serves it; null for the server's models.
    #[schema(format = Uuid, required = true)]
    pub provider_uuid: Option<String>,
    pub context_window: u32,
    pub max_output_tokens: u32,
    #[schema(required = true)]
    pub description: Option<String>,
}

impl From<&ModelEntry> for ModelBody {
    fn from(model: &ModelEntry) -> Self {
        Self {
            uuid: model.uuid.to_string(),
            name: model.name.clone(),
            provider: model.provider.clone(),
            provider_uuid: model.workspace_provider.map(|(_, id)| id.to_string()),
            context_window: model.context_window,
            max_output_tokens: model.max_output_tokens,
            description: model.description.clone(),
        }
    }
}
