//! Threads (seed 000 create, seed 002 update) and their lists.

use super::resources::ThreadBody;
use super::wire::{Data, ListBody, data};
use super::{Athena, Result, WorkspaceParam, paging, scope};
use crate::AppState;
use crate::extract::{Auth, Json, Query};
use crate::paths::{PathId, double_option};
use crate::query::QueryPairs;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Map, Value};
use spool_core::service::{NewThreadInput, ThreadListInput, ThreadUpdateInput};
use spool_core::{AgentId, Principal, ThreadId};
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateThread {
    #[schema(example = "550e8400-e29b-41d4-a716-446655440000")]
    pub workspace_uuid: Option<String>,
    /// The title (≤ 200 characters).
    #[schema(example = "Customer Support Conversation")]
    pub name: Option<String>,
    pub agent_uuid: Option<String>,
    /// What or whom the conversation is about.
    #[schema(example = "Product inquiry about pricing plans")]
    pub with: Option<String>,
    /// ≤ 16 keys; `model` and `system_prompt` are read by runs.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Map<String, Value>>,
}

/// Absent fields are kept; `null` clears name, with and agent_uuid.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateThread {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub with: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub agent_uuid: Option<Option<String>>,
    /// Replaces the metadata object.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Map<String, Value>>,
    pub is_pinned: Option<bool>,
    pub visible_in_ui: Option<bool>,
    pub workspace_uuid: Option<String>,
}

fn agent_field(value: Option<&str>) -> Result<Option<AgentId>> {
    value
        .map(|v| {
            AgentId::parse(v).ok_or_else(|| {
                crate::error::ApiError::invalid(
                    "agent_uuid",
                    "The agent uuid must be a valid UUID.",
                )
                .into()
            })
        })
        .transpose()
}

pub async fn render(
    state: &AppState,
    principal: &Principal,
    thread: spool_core::model::Thread,
) -> Result<axum::Json<Data<ThreadBody>>> {
    let view = state.spool.thread_view(thread).await?;
    Ok(data(ThreadBody::new(view, principal.user_id())))
}

/// Threads the caller may see, newest activity first. Page mode (`page`,
/// `per_page`) or keyset mode (`cursor`); filters `agent_uuid`, `pinned`,
/// `metadata[key]=value`; `search` ranks by full-text relevance; `sort`
/// (`last_message_at`, `created_at`, `updated_at`) and `order` (`asc`, `desc`).
#[utoipa::path(get, path = "/api/v1/threads", tag = "Thread",
    params(("workspace_uuid" = Option<String>, Query), ("page" = Option<u32>, Query), ("per_page" = Option<u32>, Query),
        ("cursor" = Option<String>, Query), ("sort" = Option<String>, Query), ("order" = Option<String>, Query),
        ("agent_uuid" = Option<String>, Query), ("pinned" = Option<bool>, Query), ("search" = Option<String>, Query)),
    security(("bearer" = []), ("api_key" = [])), responses((status = 200, body = super::wire::Paginated<ThreadBody>), (status = 422)))]
pub async fn list(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    query: QueryPairs<Athena>,
) -> Result<axum::Json<ListBody<ThreadBody>>> {
    let scope = scope(&state, &principal, query.get("workspace_uuid")).await?;
    let input = ThreadListInput {
        agent: query.id("agent_uuid", AgentId::parse)?,
        pinned: query.bool("pinned")?,
        metadata: query.bracketed("metadata"),
        search: query.string("search"),
        sort: query.string("sort"),
        order: query.string("order"),
        anon_user_id: None,
        paging: paging(&query)?,
    };
    let listing = state.spool.list_threads(&principal, &scope, input).await?;
    let views = expand(&state, listing).await?;
    let viewer = principal.user_id();
    let body = ListBody::new(views, "/api/v1/threads", |v| ThreadBody::new(v, viewer));
    Ok(axum::Json(body.keeping(&query.0)))
}

async fn expand(
    state: &AppState,
    listing: spool_core::listing::Listing<spool_core::model::Thread>,
) -> Result<spool_core::listing::Listing<spool_core::service::ThreadView>> {
    let threads = listing.items().to_vec();
    let mut views = state.spool.thread_views(threads).await?.into_iter();
    Ok(listing.map(|_| views.next().expect("one view per thread")))
}

/// Create a thread (seed 000).
#[utoipa::path(post, path = "/api/v1/threads", tag = "Thread", params(WorkspaceParam), request_body = CreateThread,
    security(("bearer" = []), ("api_key" = [])), responses((status = 201, body = Data<ThreadBody>), (status = 422)))]
pub async fn create(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    Query(query, _): Query<Athena, WorkspaceParam>,
    Json(body, _): Json<Athena, CreateThread>,
) -> Result<(StatusCode, axum::Json<Data<ThreadBody>>)> {
    let named = body.workspace_uuid.clone().or(query.workspace_uuid);
    let scope = scope(&state, &principal, named.as_deref()).await?;
    let input = NewThreadInput {
        title: body.name,
        subject: body.with,
        agent: agent_field(body.agent_uuid.as_deref())?,
        metadata: body.metadata,
        anon_user_id: None,
        visible_in_ui: None,
    };
    let thread = state.spool.create_thread(&principal, &scope, input).await?;
    Ok((
        StatusCode::CREATED,
        render(&state, &principal, thread).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/threads/{uuid}", tag = "Thread", params(("uuid" = String, Path), WorkspaceParam),
    security(("bearer" = []), ("api_key" = [])), responses((status = 200, body = Data<ThreadBody>), (status = 404)))]
pub async fn show(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    PathId(id, _): PathId<Athena, ThreadId>,
    Query(query, _): Query<Athena, WorkspaceParam>,
) -> Result<axum::Json<Data<ThreadBody>>> {
    let scope = scope(&state, &principal, query.workspace_uuid.as_deref()).await?;
    let thread = state.spool.thread(&principal, &scope, id, None).await?;
    render(&state, &principal, thread).await
}

/// Update a thread (seed 002).
#[utoipa::path(put, path = "/api/v1/threads/{uuid}", tag = "Thread", params(("uuid" = String, Path), WorkspaceParam),
    request_body = UpdateThread, security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = Data<ThreadBody>), (status = 404), (status = 422)))]
pub async fn update(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    PathId(id, _): PathId<Athena, ThreadId>,
    Query(query, _): Query<Athena, WorkspaceParam>,
    Json(body, _): Json<Athena, UpdateThread>,
) -> Result<axum::Json<Data<ThreadBody>>> {
    let named = body.workspace_uuid.clone().or(query.workspace_uuid);
    let scope = scope(&state, &principal, named.as_deref()).await?;
    let agent = match body.agent_uuid {
        None => None,
        Some(value) => Some(agent_field(value.as_deref())?),
    };
    let input = ThreadUpdateInput {
        title: body.name,
        subject: body.with,
        agent,
        metadata: body.metadata,
        is_pinned: body.is_pinned,
        visible_in_ui: body.visible_in_ui,
    };
    let thread = state
        .spool
        .update_thread(&principal, &scope, id, input, None)
        .await?;
    render(&state, &principal, thread).await
}

/// Delete a thread with its messages.
#[utoipa::path(delete, path = "/api/v1/threads/{uuid}", tag = "Thread", params(("uuid" = String, Path), WorkspaceParam),
    security(("bearer" = []), ("api_key" = [])), responses((status = 204), (status = 404)))]
pub async fn delete(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    PathId(id, _): PathId<Athena, ThreadId>,
    Query(query, _): Query<Athena, WorkspaceParam>,
) -> Result<StatusCode> {
    let scope = scope(&state, &principal, query.workspace_uuid.as_deref()).await?;
    state
        .spool
        .delete_thread(&principal, &scope, id, None)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn set_pinned(
    state: AppState,
    principal: Principal,
    id: ThreadId,
    named: Option<String>,
    pinned: bool,
) -> Result<axum::Json<Data<ThreadBody>>> {
    let scope = scope(&state, &principal, named.as_deref()).await?;
    let input = ThreadUpdateInput {
        is_pinned: Some(pinned),
        ..Default::default()
    };
    let thread = state
        .spool
        .update_thread(&principal, &scope, id, input, None)
        .await?;
    render(&state, &principal, thread).await
}

#[utoipa::path(post, path = "/api/v1/threads/{uuid}/pin", tag = "Thread", params(("uuid" = String, Path), WorkspaceParam),
    security(("bearer" = []), ("api_key" = [])), responses((status = 200, body = Data<ThreadBody>), (status = 404)))]
pub async fn pin(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    PathId(id, _): PathId<Athena, ThreadId>,
    Query(query, _): Query<Athena, WorkspaceParam>,
) -> Result<axum::Json<Data<ThreadBody>>> {
    set_pinned(state, principal, id, query.workspace_uuid, true).await
}

#[utoipa::path(post, path = "/api/v1/threads/{uuid}/unpin", tag = "Thread", params(("uuid" = String, Path), WorkspaceParam),
    security(("bearer" = []), ("api_key" = [])), responses((status = 200, body = Data<ThreadBody>), (status = 404)))]
pub async fn unpin(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    PathId(id, _): PathId<Athena, ThreadId>,
    Query(query, _): Query<Athena, WorkspaceParam>,
) -> Result<axum::Json<Data<ThreadBody>>> {
    set_pinned(state, principal, id, query.workspace_uuid, false).await
}
