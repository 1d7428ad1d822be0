//! Memories: what agents with `metadata.memory` remember about their users
//! (docs/api.md). Listed (by agent), read, edited and deleted.

use super::wire::{Data, Paginated, data, time};
use super::{Athena, PageParams, Result, WorkspaceParam, scope};
use crate::AppState;
use crate::extract::{Auth, Json, Query};
use crate::paths::PathId;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use spool_core::model::Memory;
use spool_core::{AgentId, MemoryId};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
#[schema(as = AthenaMemory)]
pub struct MemoryBody {
    #[schema(format = Uuid)]
    pub uuid: String,
    #[schema(format = Uuid)]
    pub workspace_uuid: String,
    #[schema(format = Uuid)]
    pub agent_uuid: String,
    /// Whom it is about.
    #[schema(format = Uuid)]
    pub user_uuid: Option<String>,
    pub content: String,
    /// Where it was learnt (null once that thread or message is gone).
    #[schema(format = Uuid)]
    pub thread_uuid: Option<String>,
    #[schema(format = Uuid)]
    pub message_uuid: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl MemoryBody {
    fn new(memory: Memory, user_uuid: Option<String>) -> Self {
        Self {
            uuid: memory.id.to_string(),
            workspace_uuid: memory.workspace_id.to_string(),
            agent_uuid: memory.agent_id.to_string(),
            user_uuid,
            content: memory.content,
            thread_uuid: memory.thread_id.map(|t| t.to_string()),
            message_uuid: memory.message_id.map(|m| m.to_string()),
            created_at: time(memory.created_at),
            updated_at: time(memory.updated_at),
        }
    }
}

async fn body(state: &AppState, memory: Memory) -> Result<MemoryBody> {
    let users = state.spool.user_uuids(&[memory.user_id]).await?;
    let user = users.get(&memory.user_id).map(|u| u.to_string());
    Ok(MemoryBody::new(memory, user))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only this agent's memories.
    #[param(format = Uuid)]
    pub agent_uuid: Option<String>,
    /// The workspace; by default the API key's own or the user's primary one.
    #[param(format = Uuid)]
    pub workspace_uuid: Option<String>,
    /// 1-based page number (default 1).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 4294967295_u64)]
    pub page: Option<u32>,
    /// Items per page, 1–100 (default 15).
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u32>,
}

/// List memories
///
/// Newest first: the caller's own memories (all of the workspace's for its
/// owners, admins and API keys), of one agent with `agent_uuid`.
#[utoipa::path(get, path = "/api/v1/memories", tag = "athena: memories", operation_id = "athena_list_memories",
    params(ListParams), security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "A page of memories", body = super::openapi::AthenaMemoryPage),
        (status = 404, description = "The workspace or agent is not the caller's", body = super::openapi::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    Query(query, _): Query<Athena, ListParams>,
) -> Result<axum::Json<Paginated<MemoryBody>>> {
    let page = PageParams {
        page: query.page,
        per_page: query.per_page,
    }
    .request()?;
    let agent = match query.agent_uuid.as_deref() {
        None => None,
        Some(text) => Some(AgentId::parse(text).ok_or_else(|| {
            crate::error::ApiError::from(spool_core::CoreError::invalid(
                "agent_uuid",
                "The agent uuid must be a valid UUID.",
            ))
        })?),
    };
    let scope = scope(&state, &principal, query.workspace_uuid.as_deref()).await?;
    let memories = state
        .spool
        .list_memories(&principal, &scope, agent, page)
        .await?;
    let users = state
        .spool
        .user_uuids(&memories.items.iter().map(|m| m.user_id).collect::<Vec<_>>())
        .await?;
    let body = Paginated::new(memories, "/api/v1/memories", |memory| {
        let user = users.get(&memory.user_id).map(|u| u.to_string());
        MemoryBody::new(memory, user)
    });
    let kept: Vec<(String, String)> = [
        ("agent_uuid", &query.agent_uuid),
        ("workspace_uuid", &query.workspace_uuid),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.as_ref().map(|v| (k.to_owned(), v.clone())))
    .collect();
    Ok(axum::Json(body.keeping(&kept)))
}

/// Show a memory
#[utoipa::path(get, path = "/api/v1/memories/{uuid}", tag = "athena: memories", operation_id = "athena_show_memory",
    params(("uuid" = String, Path, format = Uuid), WorkspaceParam), security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "The memory", body = super::openapi::AthenaMemoryResponse),
        (status = 404, description = "No such memory the caller may see", body = super::openapi::ErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    PathId(id, _): PathId<Athena, MemoryId>,
    Query(query, _): Query<Athena, WorkspaceParam>,
) -> Result<axum::Json<Data<MemoryBody>>> {
    let scope = scope(&state, &principal, query.workspace_uuid.as_deref()).await?;
    let memory = state.spool.memory(&principal, &scope, id).await?;
    Ok(data(body(&state, memory).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AthenaMemoryRequest)]
pub struct MemoryRequest {
    /// The fact, at most 500 characters, not blank.
    #[schema(
        min_length = 1,
        max_length = 500,
        pattern = r"\S",
        example = "Prefers answers in French."
    )]
    pub content: String,
}

/// Update a memory
#[utoipa::path(put, path = "/api/v1/memories/{uuid}", tag = "athena: memories", operation_id = "athena_update_memory",
    params(("uuid" = String, Path, format = Uuid), WorkspaceParam), request_body = MemoryRequest,
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "The memory as it is now", body = super::openapi::AthenaMemoryResponse),
        (status = 404, description = "No such memory the caller may see", body = super::openapi::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    PathId(id, _): PathId<Athena, MemoryId>,
    Query(query, _): Query<Athena, WorkspaceParam>,
    Json(request, _): Json<Athena, MemoryRequest>,
) -> Result<axum::Json<Data<MemoryBody>>> {
    let scope = scope(&state, &principal, query.workspace_uuid.as_deref()).await?;
    let memory = state
        .spool
        .update_memory(&principal, &scope, id, request.content)
        .await?;
    Ok(data(body(&state, memory).await?))
}

/// Delete a memory
#[utoipa::path(delete, path = "/api/v1/memories/{uuid}", tag = "athena: memories", operation_id = "athena_delete_memory",
    params(("uuid" = String, Path, format = Uuid), WorkspaceParam), security(("bearer" = []), ("api_key" = [])),
    responses((status = 204, description = "Deleted"),
        (status = 404, description = "No such memory the caller may see", body = super::openapi::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    PathId(id, _): PathId<Athena, MemoryId>,
    Query(query, _): Query<Athena, WorkspaceParam>,
) -> Result<StatusCode> {
    let scope = scope(&state, &principal, query.workspace_uuid.as_deref()).await?;
    state.spool.delete_memory(&principal, &scope, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
