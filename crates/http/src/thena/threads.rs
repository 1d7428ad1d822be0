//! Chat threads of an agent: create (seed 003), list, read with messages, delete.

use super::wire::{ListBody, ThreadBody};
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
use spool_core::listing::Listing;
use spool_core::service::{NewThreadInput, ThreadListInput};
use spool_core::{AgentId, CoreError, ThreadId};
use utoipa::ToSchema;

/// Model for creating a new chat thread.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateChatThread {
    /// The agent of the path, repeated (optional; must match).
    #[schema(example = "3c90c3cc-0d44-4b50-8888-8dd25736052a")]
    pub agent_id: Option<String>,
    /// ≤ 200 characters.
    pub title: Option<String>,
    /// ≤ 16 keys, keys ≤ 64 characters, values ≤ 512.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Map<String, Value>>,
    /// Make the thread an anonymous end user's (API keys only).
    pub anon_user_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct DeletedBody {
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

/// Create Chat Thread (seed 003).
#[utoipa::path(post, path = "/api/v1/chat/{agent_id}/threads", tag = "thena",
    params(("agent_id" = String, Path), ScopeParams), request_body = CreateChatThread,
    security(("api_key" = []), ("bearer" = [])),
    responses((status = 200, body = ThreadBody), (status = 404), (status = 422)))]
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
        anon_user_id: body.anon_user_id.or(query.anon_user_id),
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
    params(("agent_id" = String, Path), ScopeParams, ("limit" = Option<u32>, Query), ("after" = Option<String>, Query),
        ("before" = Option<String>, Query), ("sort" = Option<String>, Query), ("order" = Option<String>, Query)),
    security(("api_key" = []), ("bearer" = [])),
    responses((status = 200, body = ListBody<ThreadBody>), (status = 404), (status = 422)))]
pub async fn list(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Thena>,
    PathId(AgentPath(agent), _): PathId<Thena, AgentPath>,
    query: QueryPairs<Thena>,
) -> Result<axum::Json<ListBody<ThreadBody>>> {
    let scope = scope(&state, &principal, query.get("organization_id")).await?;
    let anon = query.get("anon_user_id");
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
        anon_user_id: query.string("anon_user_id"),
        paging,
    };
    let Listing::Cursor(page) = state
        .spool
        .list_agent_threads(&principal, &scope, agent, input)
        .await?
    else {
        return Err(CoreError::Internal("a keyset request answered an offset page".into()).into());
    };
    let data = state
        .spool
        .thread_views(page.items)
        .await?
        .into_iter()
        .map(|view| ThreadBody::new(view, None))
        .collect();
    Ok(axum::Json(ListBody::new(
        data,
        page.next,
        page.prev,
        backwards,
        |t| t.id.clone(),
    )))
}

/// A thread of the agent with its messages, each with its feedback: all of
/// them unless they pass `list_page_max_bytes`; then `messages_next_cursor`
/// says where `GET …/messages` continues.
#[utoipa::path(get, path = "/api/v1/chat/{agent_id}/threads/{thread_id}", tag = "thena",
    params(("agent_id" = String, Path), ("thread_id" = String, Path), ScopeParams),
    security(("api_key" = []), ("bearer" = [])),
    responses((status = 200, body = ThreadBody), (status = 404)))]
pub async fn show(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Thena>,
    PathId(path, _): PathId<Thena, ThreadPath>,
    Query(query, _): Query<Thena, ScopeParams>,
) -> Result<axum::Json<ThreadBody>> {
    let scope = scope(&state, &principal, query.organization_id.as_deref()).await?;
    let anon = query.anon_user_id.as_deref();
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
    params(("agent_id" = String, Path), ("thread_id" = String, Path), ScopeParams),
    security(("api_key" = []), ("bearer" = [])),
    responses((status = 200, body = DeletedBody), (status = 404)))]
pub async fn delete(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Thena>,
    PathId(path, _): PathId<Thena, ThreadPath>,
    Query(query, _): Query<Thena, ScopeParams>,
) -> Result<axum::Json<DeletedBody>> {
    let scope = scope(&state, &principal, query.organization_id.as_deref()).await?;
    let anon = query.anon_user_id.as_deref();
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
