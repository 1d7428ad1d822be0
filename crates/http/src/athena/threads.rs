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
use spool_core::{AgentId, Principal, ThreadId, Timestamp};
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AthenaCreateThread)]
pub struct CreateThread {
    #[schema(format = Uuid, example = "550e8400-e29b-41d4-a716-446655440000")]
    pub workspace_uuid: Option<String>,
    /// The title (at most 200 characters; blank means none).
    #[schema(example = "Customer Support Conversation", max_length = 200)]
    pub name: Option<String>,
    /// An agent the caller may use.
    #[schema(format = Uuid)]
    pub agent_uuid: Option<String>,
    /// What or whom the conversation is about (at most 200 characters).
    #[schema(example = "Product inquiry about pricing plans", max_length = 200)]
    pub with: Option<String>,
    /// `model` and `system_prompt` are read by runs.
    #[schema(schema_with = super::openapi::thread_metadata_input)]
    pub metadata: Option<Map<String, Value>>,
    /// RFC 3339, in the future: the thread is deleted then, with its
    /// messages and runs. Else the workspace's `thread_retention_days` applies.
    #[schema(value_type = Option<String>, format = DateTime, example = "2027-01-01T00:00:00Z")]
    pub expires_at: Option<Timestamp>,
}

/// Absent fields are kept; `null` clears name, with and agent_uuid.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AthenaUpdateThread)]
pub struct UpdateThread {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub with: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub agent_uuid: Option<Option<String>>,
    /// Replaces the metadata object.
    #[schema(schema_with = super::openapi::thread_metadata_input)]
    pub metadata: Option<Map<String, Value>>,
    pub is_pinned: Option<bool>,
    /// A signed-in user's session only: an API key sending it answers 422.
    pub visible_in_ui: Option<bool>,
    /// RFC 3339, in the future; `null` removes the thread's own expiry.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Option<Timestamp>>,
    #[schema(format = Uuid)]
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

/// List threads
///
/// Threads the caller may see, newest activity first. Page mode (`page`,
/// `per_page`) or keyset mode (`cursor`); filters `agent_uuid`, `pinned`,
/// `metadata[key]=value`; `search` ranks by full-text relevance; `sort`
/// (`last_message_at`, `created_at`, `updated_at`) and `order` (`asc`, `desc`).
#[utoipa::path(get, path = "/api/v1/threads", tag = "athena: threads", operation_id = "athena_list_threads",
    params(WorkspaceParam, super::PageParams, super::openapi::CursorParam, super::openapi::ThreadFilters),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "A page of threads, in page or cursor mode", body = super::openapi::AthenaThreadList)))]
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
    let views = state
        .spool
        .list_thread_views(&principal, &scope, input)
        .await?;
    let viewer = principal.user_id();
    let body = ListBody::new(views, "/api/v1/threads", |v| ThreadBody::new(v, viewer));
    Ok(axum::Json(body.keeping(&query.0)))
}

/// Create a thread
///
/// As in seed 000.
#[utoipa::path(post, path = "/api/v1/threads", tag = "athena: threads", operation_id = "athena_create_thread",
    params(WorkspaceParam), request_body = CreateThread, security(("bearer" = []), ("api_key" = [])),
    responses((status = 201, description = "Created", body = super::openapi::AthenaThreadResponse)))]
pub async fn create(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    Query(query, _): Query<Athena, WorkspaceParam>,
    Json(body, _): Json<Athena, CreateThread>,
) -> Result<(StatusCode, axum::Json<Data<ThreadBody>>)> {
    let named = super::named_workspace(body.workspace_uuid.clone(), query.workspace_uuid)?;
    let scope = scope(&state, &principal, named.as_deref()).await?;
    let input = NewThreadInput {
        title: body.name,
        subject: body.with,
        agent: agent_field(body.agent_uuid.as_deref())?,
        metadata: body.metadata,
        anon_user_id: None,
        visible_in_ui: None,
        expires_at: body.expires_at,
    };
    let thread = state.spool.create_thread(&principal, &scope, input).await?;
    let view = state
        .spool
        .own_thread_view(&principal, &scope, thread)
        .await?;
    Ok((
        StatusCode::CREATED,
        data(ThreadBody::new(view, principal.user_id())),
    ))
}

/// Get a thread
#[utoipa::path(get, path = "/api/v1/threads/{uuid}", tag = "athena: threads", operation_id = "athena_get_thread",
    params(("uuid" = String, Path, format = Uuid), WorkspaceParam), security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "The thread", body = super::openapi::AthenaThreadResponse)))]
pub async fn show(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    PathId(id, _): PathId<Athena, ThreadId>,
    Query(query, _): Query<Athena, WorkspaceParam>,
) -> Result<axum::Json<Data<ThreadBody>>> {
    let scope = scope(&state, &principal, query.workspace_uuid.as_deref()).await?;
    let view = state
        .spool
        .thread_view_of(&principal, &scope, id, None)
        .await?;
    Ok(data(ThreadBody::new(view, principal.user_id())))
}

/// Update a thread
///
/// As in seed 002.
#[utoipa::path(put, path = "/api/v1/threads/{uuid}", tag = "athena: threads", operation_id = "athena_update_thread",
    params(("uuid" = String, Path, format = Uuid), WorkspaceParam), request_body = UpdateThread,
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "Updated", body = super::openapi::AthenaThreadResponse)))]
pub async fn update(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    PathId(id, _): PathId<Athena, ThreadId>,
    Query(query, _): Query<Athena, WorkspaceParam>,
    Json(body, _): Json<Athena, UpdateThread>,
) -> Result<axum::Json<Data<ThreadBody>>> {
    let named = super::named_workspace(body.workspace_uuid.clone(), query.workspace_uuid)?;
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
        expires_at: body.expires_at,
    };
    let thread = state
        .spool
        .update_thread(&principal, &scope, id, input, None)
        .await?;
    render(&state, &principal, thread).await
}

/// Delete a thread
///
/// With its messages, runs and feedback.
#[utoipa::path(delete, path = "/api/v1/threads/{uuid}", tag = "athena: threads", operation_id = "athena_delete_thread",
    params(("uuid" = String, Path, format = Uuid), WorkspaceParam), security(("bearer" = []), ("api_key" = [])),
    responses((status = 204, description = "Deleted, with its messages, runs and feedback")))]
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

/// Pin a thread
#[utoipa::path(post, path = "/api/v1/threads/{uuid}/pin", tag = "athena: threads", operation_id = "athena_pin_thread",
    params(("uuid" = String, Path, format = Uuid), WorkspaceParam), security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "The pinned thread", body = super::openapi::AthenaThreadResponse)))]
pub async fn pin(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    PathId(id, _): PathId<Athena, ThreadId>,
    Query(query, _): Query<Athena, WorkspaceParam>,
) -> Result<axum::Json<Data<ThreadBody>>> {
    set_pinned(state, principal, id, query.workspace_uuid, true).await
}

/// Unpin a thread
#[utoipa::path(post, path = "/api/v1/threads/{uuid}/unpin", tag = "athena: threads", operation_id = "athena_unpin_thread",
    params(("uuid" = String, Path, format = Uuid), WorkspaceParam), security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "The unpinned thread", body = super::openapi::AthenaThreadResponse)))]
pub async fn unpin(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    PathId(id, _): PathId<Athena, ThreadId>,
    Query(query, _): Query<Athena, WorkspaceParam>,
) -> Result<axum::Json<Data<ThreadBody>>> {
    set_pinned(state, principal, id, query.workspace_uuid, false).await
}
