//! The thena dialect: chat threads under an agent at
//! `/api/v1/chat/{agent_id}/threads...` (seed 003), FastAPI errors, plain
//! UUIDs, timestamps in whole seconds.

pub mod error;
pub mod feedback;
pub mod messages;
pub mod openapi;
pub mod runs;
pub mod threads;
pub mod wire;

pub use error::{Thena, ThenaError};

use crate::AppState;
use crate::error::ApiError;
use crate::paths::FromPath;
use axum::Router;
use axum::routing::{get, post};
use serde::Deserialize;
use spool_core::service::{Scope, check_end_user};
use spool_core::{
    AgentId, CoreError, MessageId, Principal, ThreadId, ValidationErrors, WorkspaceId,
};

pub type Result<T> = std::result::Result<T, ThenaError>;

/// A stored tool call under thena's schema name.
pub type ToolCallSchema = crate::tool_schema::ToolCall<Thena>;

/// thena's endpoints, with their full paths; merged into the one route table.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/chat/{agent_id}/threads",
            get(threads::list).post(threads::create),
        )
        .route(
            "/api/v1/chat/{agent_id}/threads/{thread_id}",
            get(threads::show).delete(threads::delete),
        )
        .route(
            "/api/v1/chat/{agent_id}/threads/{thread_id}/messages",
            get(messages::list).post(messages::send),
        )
        .route(
            "/api/v1/chat/{agent_id}/threads/{thread_id}/runs/{run_id}/events",
            get(runs::events),
        )
        .route(
            "/api/v1/chat/{agent_id}/threads/{thread_id}/messages/{message_id}/feedback",
            post(feedback::create).put(feedback::update),
        )
}

/// `{agent_id}` of the path.
pub struct AgentPath(pub AgentId);

impl FromPath for AgentPath {
    const WHAT: &'static str = "Agent";
    fn from_path(values: &[&str]) -> Option<Self> {
        AgentId::parse(values.first()?).map(AgentPath)
    }
}

/// `{agent_id}/threads/{thread_id}` of the path.
pub struct ThreadPath {
    pub agent: AgentId,
    pub thread: ThreadId,
}

impl FromPath for ThreadPath {
    const WHAT: &'static str = "Thread";
    fn from_path(values: &[&str]) -> Option<Self> {
        Some(ThreadPath {
            agent: AgentId::parse(values.first()?)?,
            thread: ThreadId::parse(values.get(1)?)?,
        })
    }
}

/// `{agent_id}/threads/{thread_id}/messages/{message_id}` of the path.
pub struct MessagePath {
    pub agent: AgentId,
    pub thread: ThreadId,
    pub message: MessageId,
}

impl FromPath for MessagePath {
    const WHAT: &'static str = "Message";
    fn from_path(values: &[&str]) -> Option<Self> {
        Some(MessagePath {
            agent: AgentId::parse(values.first()?)?,
            thread: ThreadId::parse(values.get(1)?)?,
            message: MessageId::parse(values.get(2)?)?,
        })
    }
}

/// Query parameters every thena endpoint reads.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScopeParams {
    /// An end user of the API key's product: only their threads are seen,
    /// and new threads and messages are theirs. API keys only (a session
    /// naming one answers 422).
    #[param(min_length = 1, max_length = 200, pattern = "\\S")]
    pub anon_user_id: Option<String>,
    /// A session acts in this workspace (default: the user's primary one);
    /// an API key only in its own. Another workspace answers 404.
    #[param(format = Uuid)]
    pub organization_id: Option<String>,
}

/// The end user a request acts for: `anon_user_id` in the query and, on a
/// write, in the body too (then both must name the same one). Each is
/// checked, by the core's rule, where it was given, so that a 422 points
/// there.
pub fn end_user(
    principal: &Principal,
    query: Option<String>,
    body: Option<String>,
) -> Result<Option<String>> {
    let mut errors = ValidationErrors::new();
    for (field, value) in [("query.anon_user_id", &query), ("body.anon_user_id", &body)] {
        if let Some(value) = value {
            check_end_user(field, value, principal, &mut errors);
        }
    }
    if let (Some(query), Some(body)) = (&query, &body)
        && errors.is_empty()
        && query.trim() != body.trim()
    {
        errors.add(
            "query.anon_user_id",
            "The anon_user_id of the query and of the body name different end users.",
        );
    }
    if !errors.is_empty() {
        return Err(ApiError::Core(CoreError::Validation(errors)).into());
    }
    Ok(body.or(query))
}

/// The workspace a request acts in.
pub async fn scope(
    state: &AppState,
    principal: &Principal,
    organization_id: Option<&str>,
) -> Result<Scope> {
    let named = organization_id
        .map(|text| {
            WorkspaceId::parse(text).ok_or_else(|| {
                ApiError::invalid("organization_id", "The organization_id must be a UUID.")
            })
        })
        .transpose()?;
    Ok(state.spool.resolve_scope(principal, named).await?)
}

pub use crate::keyset::{DEFAULT_LIMIT, ListParams, Mark, unknown_mark};
