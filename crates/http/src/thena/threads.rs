//! Chat threads of an agent: create (seed 003), list, read with messages, delete.

use super::wire::{ThreadBody, ThreadList};
use super::{
    AgentPath, ListParams, Mark, Result, ScopeParams, Thena, ThreadPath, scope, unknown_mark,
};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::{Auth, Json, Query};
use crate::paths::PathId;
use crate::query::QueryPairs;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use spool_core::service::{NewThreadInput, ThreadListInput};
use spool_core::{AgentId, CoreError, ThreadId};
use utoipa::ToSchema;

/// Model for creating a new chat thread.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ThenaCreateThread)]
pub struct CreateChatThread {
    /// The agent of the path, repeated (optional; another one answers 422).
    #[schema(format = Uuid)]
    pub agent_id: Option<String>,
    #[schema(max_length = 200)]
    pub title: Option<String>,
    #[schema(schema_with = super::openapi::metadata_input, required = false)]
    pub metadata: Option<Map<String, Value>>,
    /// Make the thread an anonymous end user's (API keys only; a session
    /// naming one answers 422).
    #[schema(min_length = 1, max_length = 200, pattern = "\\S")]
    pub anon_user_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = ThenaDeleted)]
pub struct DeletedBody {
    #[schema(format = Uuid)]
    pub id: String,
    pub deleted: bool,
}

/// The agent a body repeats must be the one in the path.
fn same_agent(path: AgentId, body: Option<&str>) -> Result<()> {
    match body {
        None => Ok(()),
        Some(text) if AgentId::parse(text) == Some(path) => Ok(()),
        Some(_) => {
            Err(ApiError::invalid("agent_id", "The agent_id must be the agent of the path.").into())
        }
    }
}

/// An agent of the path out of the caller's reach is a 404, not a field problem.
fn agent_in_path(err: CoreError) -> CoreError {
    match err {
        CoreError::Validation(errors) if errors.0.contains_key("agent_uuid") => {
            CoreError::NotFound("Agent")
        }
        other => other,
    }
}

/// Where a thread of the agent stands in the list's order.
async fn position(
    state: &AppState,
    principal: &spool_core::Principal,
    scope: &spool_core::service::Scope,
    agent: AgentId,
    id: ThreadId,
    sort: Option<&str>,
    anon: Option<&str>,
) -> std::result::Result<spool_core::listing::Cursor, CoreError> {
    state
        .spool
        .agent_thread(principal, scope, agent, id, anon)
        .await?;
    state
        .spool
        .thread_cursor(principal, scope, id, sort, anon)
        .await
}

/// Create Chat Thread (seed 003): answers the thread with `messages: []`.
#[utoipa::path(post, path = "/api/v1/chat/{agent_id}/threads", tag = "thena",
    operation_id = "thena_create_thread",
    params(("agent_id" = uuid::Uuid, Path, description = "The agent the thread is for."), ScopeParams),
    request_body = CreateChatThread, security(("api_key" = []), ("bearer" = [])),
    responses((status = 200, description = "The new thread.", body = ThreadBody)))]
pub async fn create(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Thena>,
    PathId(AgentPath(agent), _): PathId<Thena, AgentPath>,
    Query(query, _): Query<Thena, ScopeParams>,
    Json(body, _): Json<Thena, CreateChatThread>,
) -> Result<axum::Json<ThreadBody>> {
    same_agent(agent, body.agent_id.as_deref())?;
    let scope = scope(&state, &principal, query.organization_id.as_deref()).await?;
    let input = NewThreadInput {
        title: body.title,
        agent: Some(agent),
        metadata: body.metadata,
        anon_user_id: super::end_user(&principal, query.anon_user_id, body.anon_user_id)?,
        ..Default::default()
    };
    let thread = state
        .spool
        .create_thread(&principal, &scope, input)
        .await
        .map_err(agent_in_path)?;
    let view = state.spool.thread_view(thread).await?;
    Ok(axum::Json(ThreadBody::new(view, Some(Vec::new()))))
}

/// The agent's threads the caller may see, newest activity first, without
/// their messages. Keyset pages: `limit` (1–100, default 20), `after` or
/// `before` (a `next_cursor`/`prev_cursor`, or a thread id); `sort`
/// (`last_message_at`, `created_at`, `updated_at`), `order` (`desc`, `asc`),
/// `metadata[key]=value`.
#[utoipa::path(get, path = "/api/v1/chat/{agent_id}/threads", tag = "thena",
    operation_id = "thena_list_threads",
    params(("agent_id" = uuid::Uuid, Path, description = "The agent whose threads to list."), ScopeParams,
        super::openapi::ThreadListParams),
    security(("api_key" = []), ("bearer" = [])),
    responses((status = 200, description = "A keyset page of threads.", body = ThreadList)))]
pub async fn list(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Thena>,
    PathId(AgentPath(agent), _): PathId<Thena, AgentPath>,
    query: QueryPairs<Thena>,
) -> Result<axum::Json<ThreadList>> {
    let scope = scope(&state, &principal, query.get("organization_id")).await?;
    let end_user = super::end_user(&principal, query.string("anon_user_id"), None)?;
    let anon = end_user.as_deref();
    let sort = query.get("sort");
    let params = ListParams::parse(&query, |t| uuid::Uuid::try_parse(t).ok())?;
    let mut marks = [None, None];
    for ((slot, mark), field) in marks
        .iter_mut()
        .zip([params.after, params.before])
        .zip(["after", "before"])
    {
        *slot = match mark {
            None => None,
            Some(Mark::Cursor(cursor)) => Some(cursor),
            Some(Mark::Id(id)) => Some(
                position(&state, &principal, &scope, agent, ThreadId(id), sort, anon)
                    .await
                    .map_err(unknown_mark(field))?,
            ),
        };
    }
    let [after, before] = marks;
    let (paging, backwards) = ListParams::paging(params.limit, after, before)?;
    let input = ThreadListInput {
        agent: Some(agent),
        pinned: None,
        metadata: query.bracketed("metadata"),
        search: None,
        sort: query.string("sort"),
        order: query.string("order"),
        anon_user_id: end_user.clone(),
        paging,
    };
    let page = state
        .spool
        .list_agent_threads(&principal, &scope, agent, input)
        .await?
        .into_cursor()?;
    let data = state
        .spool
        .thread_views(page.items)
        .await?
        .into_iter()
        .map(|view| ThreadBody::new(view, None))
        .collect();
    Ok(axum::Json(ThreadList::new(
        data, page.next, page.prev, backwards,
    )))
}

/// A thread of the agent with its messages, each with its feedback: all of
/// them unless they pass `list_page_max_bytes`; then `messages_next_cursor`
/// says where `GET …/messages` continues.
#[utoipa::path(get, path = "/api/v1/chat/{agent_id}/threads/{thread_id}", tag = "thena",
    operation_id = "thena_get_thread",
    params(("agent_id" = uuid::Uuid, Path, description = "The thread's agent."),
        ("thread_id" = uuid::Uuid, Path, description = "The thread."), ScopeParams),
    security(("api_key" = []), ("bearer" = [])),
    responses((status = 200, description = "The thread with its messages.", body = ThreadBody)))]
pub async fn show(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Thena>,
    PathId(path, _): PathId<Thena, ThreadPath>,
    Query(query, _): Query<Thena, ScopeParams>,
) -> Result<axum::Json<ThreadBody>> {
    let scope = scope(&state, &principal, query.organization_id.as_deref()).await?;
    let anon = super::end_user(&principal, query.anon_user_id, None)?;
    let anon = anon.as_deref();
    let (thread, messages, stopped) = state
        .spool
        .conversation(&principal, &scope, Some(path.agent), path.thread, anon)
        .await?;
    let feedback = state.spool.feedback_views(&messages).await?;
    let view = state.spool.thread_view(thread).await?;
    Ok(axum::Json(ThreadBody::with_messages(
        view, messages, feedback, stopped,
    )))
}

/// Delete a thread with its messages and feedback.
#[utoipa::path(delete, path = "/api/v1/chat/{agent_id}/threads/{thread_id}", tag = "thena",
    operation_id = "thena_delete_thread",
    params(("agent_id" = uuid::Uuid, Path, description = "The thread's agent."),
        ("thread_id" = uuid::Uuid, Path, description = "The thread."), ScopeParams),
    security(("api_key" = []), ("bearer" = [])),
    responses((status = 200, description = "The thread is gone.", body = DeletedBody)))]
pub async fn delete(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Thena>,
    PathId(path, _): PathId<Thena, ThreadPath>,
    Query(query, _): Query<Thena, ScopeParams>,
) -> Result<axum::Json<DeletedBody>> {
    let scope = scope(&state, &principal, query.organization_id.as_deref()).await?;
    let anon = super::end_user(&principal, query.anon_user_id, None)?;
    let anon = anon.as_deref();
    state
        .spool
        .agent_thread(&principal, &scope, path.agent, path.thread, anon)
        .await?;
    state
        .spool
        .delete_thread(&principal, &scope, path.thread, anon)
        .await?;
    Ok(axum::Json(DeletedBody {
        id: path.thread.to_string(),
        deleted: true,
    }))
}
