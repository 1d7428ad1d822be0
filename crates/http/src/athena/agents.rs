//! Agents: their persona, visibility and shares.

use super::resources::AgentBody;
use super::wire::{Data, Paginated, data};
use super::{Athena, PageParams, Result, WorkspaceParam, scope};
use crate::AppState;
use crate::extract::{Auth, Json, Query};
use crate::paths::{PathId, double_option};
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Map, Value};
use spool_core::AgentId;
use spool_core::service::{AgentInput, ShareInput};
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentRequest {
    #[schema(example = "Customer Support Assistant")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, example = "You are a helpful customer support agent.")]
    pub instruction: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub profile_photo_url: Option<Option<String>>,
    /// `{emoji, background_color, preference}`.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Object>)]
    pub profile_photo_config: Option<Option<Map<String, Value>>>,
    /// `private`, `workspace` (default) or `public`.
    pub visibility: Option<String>,
    /// Persona: role, goal_statement, backstory, guardrails, base_instructions,
    /// conversation_starters (strings), greetings, tone_of_voice,
    /// disc_personality, openai_voice, large_language_model, memory,
    /// knowledge, web_search (booleans); plus client keys.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Map<String, Value>>,
    pub workspace_uuid: Option<String>,
}

impl AgentRequest {
    fn input(self) -> AgentInput {
        AgentInput {
            name: self.name,
            description: self.description,
            instruction: self.instruction,
            profile_photo_url: self.profile_photo_url,
            profile_photo_config: self.profile_photo_config,
            visibility: self.visibility,
            metadata: self.metadata,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShareRequest {
    /// `workspace` or `user`.
    pub entity_type: String,
    /// A workspace uuid, or a user id.
    #[schema(value_type = String)]
    pub entity_id: Value,
    /// `read` or `write`.
    pub permission: String,
    pub workspace_uuid: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ListParams {
    pub workspace_uuid: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// Agents the caller may use: their workspace's (private ones only for their
/// creator, owners, admins and keys) and those shared with them.
#[utoipa::path(get, path = "/api/v1/agents", tag = "Agent", params(ListParams),
    security(("bearer" = []), ("api_key" = [])), responses((status = 200, body = Paginated<AgentBody>), (status = 401)))]
pub async fn list(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    Query(query, _): Query<Athena, ListParams>,
) -> Result<axum::Json<Paginated<AgentBody>>> {
    let page = PageParams {
        page: query.page,
        per_page: query.per_page,
    }
    .request()?;
    let scope = scope(&state, &principal, query.workspace_uuid.as_deref()).await?;
    let agents = state.spool.list_agents(&principal, &scope, page).await?;
    let total = agents.total;
    let request = agents.request;
    let views = state.spool.agent_views(agents.items).await?;
    let page = spool_core::paging::Page {
        items: views,
        total,
        request,
    };
    let viewer = principal.user_id();
    let kept: Vec<(String, String)> = query
        .workspace_uuid
        .into_iter()
        .map(|w| ("workspace_uuid".to_owned(), w))
        .collect();
    let body = Paginated::new(page, "/api/v1/agents", |a| AgentBody::new(a, viewer));
    Ok(axum::Json(body.keeping(&kept)))
}

#[utoipa::path(post, path = "/api/v1/agents", tag = "Agent", params(WorkspaceParam), request_body = AgentRequest,
    security(("bearer" = []), ("api_key" = [])), responses((status = 201, body = Data<AgentBody>), (status = 422)))]
pub async fn create(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    Query(query, _): Query<Athena, WorkspaceParam>,
    Json(body, _): Json<Athena, AgentRequest>,
) -> Result<(StatusCode, axum::Json<Data<AgentBody>>)> {
    let named = body.workspace_uuid.clone().or(query.workspace_uuid);
    let scope = scope(&state, &principal, named.as_deref()).await?;
    let agent = state
        .spool
        .create_agent(&principal, &scope, body.input())
        .await?;
    Ok((
        StatusCode::CREATED,
        render(&state, agent, principal.user_id()).await?,
    ))
}

async fn render(
    state: &AppState,
    agent: spool_core::model::Agent,
    viewer: spool_core::UserId,
) -> Result<axum::Json<Data<AgentBody>>> {
    let view = state
        .spool
        .agent_views(vec![agent])
        .await?
        .pop()
        .ok_or(crate::error::ApiError::not_found("Agent"))?;
    Ok(data(AgentBody::new(view, viewer)))
}

#[utoipa::path(get, path = "/api/v1/agents/{uuid}", tag = "Agent", params(("uuid" = String, Path), WorkspaceParam),
    security(("bearer" = []), ("api_key" = [])), responses((status = 200, body = Data<AgentBody>), (status = 404)))]
pub async fn show(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    PathId(id, _): PathId<Athena, AgentId>,
    Query(query, _): Query<Athena, WorkspaceParam>,
) -> Result<axum::Json<Data<AgentBody>>> {
    let scope = scope(&state, &principal, query.workspace_uuid.as_deref()).await?;
    let agent = state.spool.agent(&principal, &scope, id).await?;
    render(&state, agent, principal.user_id()).await
}

/// Change an agent: its creator, the workspace's owners, admins and keys, or a `write` share.
#[utoipa::path(put, path = "/api/v1/agents/{uuid}", tag = "Agent", params(("uuid" = String, Path), WorkspaceParam),
    request_body = AgentRequest, security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = Data<AgentBody>), (status = 403), (status = 404), (status = 422)))]
pub async fn update(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    PathId(id, _): PathId<Athena, AgentId>,
    Query(query, _): Query<Athena, WorkspaceParam>,
    Json(body, _): Json<Athena, AgentRequest>,
) -> Result<axum::Json<Data<AgentBody>>> {
    let named = body.workspace_uuid.clone().or(query.workspace_uuid);
    let scope = scope(&state, &principal, named.as_deref()).await?;
    let agent = state
        .spool
        .update_agent(&principal, &scope, id, body.input())
        .await?;
    render(&state, agent, principal.user_id()).await
}

/// Delete an agent; its threads stay, without an agent.
#[utoipa::path(delete, path = "/api/v1/agents/{uuid}", tag = "Agent", params(("uuid" = String, Path), WorkspaceParam),
    security(("bearer" = []), ("api_key" = [])), responses((status = 204), (status = 403), (status = 404)))]
pub async fn delete(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    PathId(id, _): PathId<Athena, AgentId>,
    Query(query, _): Query<Athena, WorkspaceParam>,
) -> Result<StatusCode> {
    let scope = scope(&state, &principal, query.workspace_uuid.as_deref()).await?;
    state.spool.delete_agent(&principal, &scope, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Share an agent with a workspace or a user, to read (use) or write.
#[utoipa::path(post, path = "/api/v1/agents/{uuid}/share", tag = "Agent", params(("uuid" = String, Path), WorkspaceParam),
    request_body = ShareRequest, security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = Data<AgentBody>), (status = 403), (status = 404), (status = 422)))]
pub async fn share(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    PathId(id, _): PathId<Athena, AgentId>,
    Query(query, _): Query<Athena, WorkspaceParam>,
    Json(body, _): Json<Athena, ShareRequest>,
) -> Result<axum::Json<Data<AgentBody>>> {
    let named = body.workspace_uuid.clone().or(query.workspace_uuid);
    let scope = scope(&state, &principal, named.as_deref()).await?;
    let input = ShareInput {
        entity_type: body.entity_type,
        entity_id: body.entity_id,
        permission: body.permission,
    };
    let agent = state
        .spool
        .share_agent(&principal, &scope, id, input)
        .await?;
    render(&state, agent, principal.user_id()).await
}
