//! Agents: their persona, visibility and shares.

use super::resources::AgentBody;
use super::wire::{Data, Paginated, data};
use super::{Athena, PageParams, Result, WorkspaceParam, scope};
use crate::AppState;
use crate::extract::{Auth, Json, Query};
use crate::paths::{PathId, double_option};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use spool_core::AgentId;
use spool_core::service::{AgentInput, GenerateAgentInput, GeneratedAgent, ShareInput};
use utoipa::ToSchema;

/// An agent's fields; on create `name` is required, on update absent
/// fields are kept and `null` clears the nullable ones.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AthenaAgentRequest)]
pub struct AgentRequest {
    /// Not blank, at most 200 characters; required on create.
    #[schema(
        example = "Customer Support Assistant",
        min_length = 1,
        max_length = 200
    )]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 32000, example = "You are a helpful customer support agent.")]
    pub instruction: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub profile_photo_url: Option<Option<String>>,
    /// `{emoji, background_color, preference}`.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = super::openapi::limited_object)]
    pub profile_photo_config: Option<Option<Map<String, Value>>>,
    /// `private`, `workspace` (default) or `public`; only the agent's own
    /// workspace may change it.
    #[schema(value_type = Option<super::openapi::Visibility>)]
    pub visibility: Option<String>,
    /// Persona: role, goal_statement, backstory, guardrails, base_instructions,
    /// greetings, tone_of_voice, disc_personality, openai_voice,
    /// large_language_model (strings), conversation_starters (strings),
    /// memory, knowledge, web_search (booleans); plus client keys.
    #[schema(schema_with = super::openapi::agent_metadata_input)]
    pub metadata: Option<Map<String, Value>>,
    /// Tool definitions the agent's runs may call; replaces the current list
    /// (`[]` removes them all). At most 64, names unique.
    #[schema(value_type = Option<Vec<super::ToolSchema>>, max_items = 64)]
    pub tools: Option<Value>,
    #[schema(format = Uuid)]
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
            tools: self.tools,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AthenaShareRequest)]
pub struct ShareRequest {
    /// `workspace` or `user`.
    #[schema(value_type = super::openapi::ShareEntityType)]
    pub entity_type: String,
    /// A workspace uuid, or a user id (a number, or the number as a string).
    #[schema(schema_with = super::openapi::share_entity_id)]
    pub entity_id: Value,
    /// `read` (use the agent) or `write` (also change it).
    #[schema(value_type = super::openapi::SharePermission)]
    pub permission: String,
    #[schema(format = Uuid)]
    pub workspace_uuid: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// The workspace to act in; by default the API key's own, or the
    /// signed-in user's primary workspace.
    #[param(format = Uuid)]
    pub workspace_uuid: Option<String>,
    /// 1-based page number (default 1).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 4294967295_u64)]
    pub page: Option<u32>,
    /// Items per page, 1–100 (default 15).
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u32>,
}

/// List agents
///
/// Agents the caller may use: their workspace's (private ones only for their
/// creator, owners, admins and keys) and those shared with them.
#[utoipa::path(get, path = "/api/v1/agents", tag = "athena: agents", operation_id = "athena_list_agents",
    params(ListParams), security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "A page of agents", body = super::openapi::AthenaAgentPage)))]
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

/// Create an agent
#[utoipa::path(post, path = "/api/v1/agents", tag = "athena: agents", operation_id = "athena_create_agent",
    params(WorkspaceParam), request_body = super::openapi::CreateAgentRequest, security(("bearer" = []), ("api_key" = [])),
    responses((status = 201, description = "Created", body = super::openapi::AthenaAgentResponse)))]
pub async fn create(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    Query(query, _): Query<Athena, WorkspaceParam>,
    Json(body, _): Json<Athena, AgentRequest>,
) -> Result<(StatusCode, axum::Json<Data<AgentBody>>)> {
    let named = super::named_workspace(body.workspace_uuid.clone(), query.workspace_uuid)?;
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

/// Get an agent
#[utoipa::path(get, path = "/api/v1/agents/{uuid}", tag = "athena: agents", operation_id = "athena_get_agent",
    params(("uuid" = String, Path, format = Uuid), WorkspaceParam), security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "The agent", body = super::openapi::AthenaAgentResponse)))]
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

/// Update an agent
///
/// Its creator, the workspace's owners, admins and keys, or a `write` share.
#[utoipa::path(put, path = "/api/v1/agents/{uuid}", tag = "athena: agents", operation_id = "athena_update_agent",
    params(("uuid" = String, Path, format = Uuid), WorkspaceParam), request_body = AgentRequest,
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "Updated", body = super::openapi::AthenaAgentResponse),
        (status = 403, description = "The caller may use the agent but not change it (or its visibility)", body = super::openapi::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    PathId(id, _): PathId<Athena, AgentId>,
    Query(query, _): Query<Athena, WorkspaceParam>,
    Json(body, _): Json<Athena, AgentRequest>,
) -> Result<axum::Json<Data<AgentBody>>> {
    let named = super::named_workspace(body.workspace_uuid.clone(), query.workspace_uuid)?;
    let scope = scope(&state, &principal, named.as_deref()).await?;
    let agent = state
        .spool
        .update_agent(&principal, &scope, id, body.input())
        .await?;
    render(&state, agent, principal.user_id()).await
}

/// Delete an agent
///
/// Its threads stay, without an agent.
#[utoipa::path(delete, path = "/api/v1/agents/{uuid}", tag = "athena: agents", operation_id = "athena_delete_agent",
    params(("uuid" = String, Path, format = Uuid), WorkspaceParam), security(("bearer" = []), ("api_key" = [])),
    responses((status = 204, description = "Deleted"),
        (status = 403, description = "The caller may use the agent but not delete it", body = super::openapi::ErrorBody)))]
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

/// Share an agent
///
/// With a workspace or a user, to read (use) or write.
#[utoipa::path(post, path = "/api/v1/agents/{uuid}/share", tag = "athena: agents", operation_id = "athena_share_agent",
    params(("uuid" = String, Path, format = Uuid), WorkspaceParam), request_body = ShareRequest,
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "The agent with its shares", body = super::openapi::AthenaAgentResponse),
        (status = 403, description = "The caller may use the agent but not share it", body = super::openapi::ErrorBody)))]
pub async fn share(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    PathId(id, _): PathId<Athena, AgentId>,
    Query(query, _): Query<Athena, WorkspaceParam>,
    Json(body, _): Json<Athena, ShareRequest>,
) -> Result<axum::Json<Data<AgentBody>>> {
    let named = super::named_workspace(body.workspace_uuid.clone(), query.workspace_uuid)?;
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

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AthenaGenerateAgentRequest)]
pub struct GenerateAgentRequest {
    /// What the agent is for, in a line (at most 2000 characters).
    #[schema(
        min_length = 1,
        max_length = 2000,
        pattern = r"\S",
        example = "A travel planner for weekend city trips"
    )]
    pub description: String,
    /// The model that writes it; by default the catalog's naming model, else its default.
    #[schema(example = "echo")]
    pub model: Option<String>,
    /// Create the agent (201) instead of answering the proposal (200).
    pub create: Option<bool>,
    #[schema(format = Uuid)]
    pub workspace_uuid: Option<String>,
}

/// What the model proposed, in the fields creating an agent takes.
#[derive(Serialize, ToSchema)]
#[schema(as = AthenaAgentProposal)]
pub struct AgentProposal {
    pub name: String,
    pub description: Option<String>,
    pub instruction: Option<String>,
    /// `role`, `goal_statement`, `backstory`, `tone_of_voice`, `guardrails`,
    /// `conversation_starters`, as the model wrote them.
    #[schema(value_type = Object)]
    pub metadata: Map<String, Value>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = AthenaAgentProposalResponse)]
pub struct AgentProposalBody {
    pub data: AgentProposal,
}

/// Generate an agent
///
/// A model writes an agent's name, description, instruction and persona
/// from a one-line description. Answers the proposal, or with `create`
/// the agent it created. A model whose answer is not an agent answers 409.
#[utoipa::path(post, path = "/api/v1/agents/generate", tag = "athena: agents", operation_id = "athena_generate_agent",
    params(WorkspaceParam), request_body = GenerateAgentRequest, security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "The proposal", body = AgentProposalBody),
        (status = 201, description = "Created (`create: true`)", body = super::openapi::AthenaAgentResponse),
        (status = 409, description = "The model could not write an agent", body = super::openapi::ErrorBody)))]
pub async fn generate(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    Query(query, _): Query<Athena, WorkspaceParam>,
    Json(body, _): Json<Athena, GenerateAgentRequest>,
) -> Result<Response> {
    let named = super::named_workspace(body.workspace_uuid.clone(), query.workspace_uuid)?;
    let scope = scope(&state, &principal, named.as_deref()).await?;
    let input = GenerateAgentInput {
        description: body.description,
        model: body.model,
        create: body.create.unwrap_or(false),
    };
    match state
        .spool
        .generate_agent(&principal, &scope, input)
        .await?
    {
        GeneratedAgent::Created(agent) => Ok((
            StatusCode::CREATED,
            render(&state, *agent, principal.user_id()).await?,
        )
            .into_response()),
        GeneratedAgent::Proposed(mut fields) => {
            let text = |fields: &mut Map<String, Value>, key: &str| match fields.remove(key) {
                Some(Value::String(s)) => Some(s),
                _ => None,
            };
            let proposal = AgentProposal {
                name: text(&mut fields, "name").unwrap_or_default(),
                description: text(&mut fields, "description"),
                instruction: text(&mut fields, "instruction"),
                metadata: match fields.remove("metadata") {
                    Some(Value::Object(map)) => map,
                    _ => Map::new(),
                },
            };
            Ok(axum::Json(AgentProposalBody { data: proposal }).into_response())
        }
    }
}
