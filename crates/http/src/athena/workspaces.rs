//! Workspaces and their members.

use super::wire::{Data, MemberBody, Paginated, WorkspaceBody, data};
use super::{Athena, PageParams, Result};
use crate::AppState;
use crate::extract::{Auth, Json, Query};
use crate::paths::PathId;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Map, Value};
use spool_core::service::{NewMemberInput, NewWorkspaceInput, WorkspaceUpdateInput};
use spool_core::{UserId, WorkspaceId};
use utoipa::ToSchema;

const PATH: &str = "/api/v1/workspaces";

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWorkspace {
    #[schema(example = "My AI Workspace")]
    pub name: String,
    /// Lower-case letters, digits and dashes; derived from the name when absent.
    pub slug: Option<String>,
    pub profile_photo_url: Option<String>,
    pub is_onboarded: Option<bool>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Map<String, Value>>,
}

/// Every field optional; absent fields are left as they are, `null`
/// clears `profile_photo_url`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWorkspace {
    pub name: Option<String>,
    pub slug: Option<String>,
    #[serde(default, deserialize_with = "crate::paths::double_option")]
    #[schema(value_type = Option<String>)]
    pub profile_photo_url: Option<Option<String>>,
    pub is_onboarded: Option<bool>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Map<String, Value>>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddMember {
    #[schema(example = "grace@example.com")]
    pub email: String,
    /// `owner`, `admin` or `member` (default).
    pub role: Option<String>,
}

/// The workspaces the caller belongs to (an API key: its own).
#[utoipa::path(get, path = "/api/v1/workspaces", tag = "Workspace", params(PageParams),
    security(("bearer" = []), ("api_key" = [])), responses((status = 200, body = Paginated<WorkspaceBody>), (status = 401)))]
pub async fn list(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    Query(params, _): Query<Athena, PageParams>,
) -> Result<axum::Json<Paginated<WorkspaceBody>>> {
    let page = state
        .spool
        .list_workspaces(&principal, params.request()?)
        .await?;
    let viewer = principal.user_id();
    Ok(axum::Json(Paginated::new(page, PATH, |w| {
        WorkspaceBody::new(w, viewer)
    })))
}

/// Create a workspace owned by the signed-in user.
#[utoipa::path(post, path = "/api/v1/workspaces", tag = "Workspace", request_body = CreateWorkspace,
    security(("bearer" = [])), responses((status = 201, body = Data<WorkspaceBody>), (status = 403), (status = 422)))]
pub async fn create(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    Json(body, _): Json<Athena, CreateWorkspace>,
) -> Result<(StatusCode, axum::Json<Data<WorkspaceBody>>)> {
    let input = NewWorkspaceInput {
        name: body.name,
        slug: body.slug,
        profile_photo_url: body.profile_photo_url,
        is_onboarded: body.is_onboarded,
        metadata: body.metadata,
    };
    let workspace = state.spool.create_workspace(&principal, input).await?;
    Ok((
        StatusCode::CREATED,
        data(WorkspaceBody::new(workspace, principal.user_id())),
    ))
}

#[utoipa::path(get, path = "/api/v1/workspaces/{uuid}", tag = "Workspace", params(("uuid" = String, Path)),
    security(("bearer" = []), ("api_key" = [])), responses((status = 200, body = Data<WorkspaceBody>), (status = 404)))]
pub async fn show(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    PathId(id, _): PathId<Athena, WorkspaceId>,
) -> Result<axum::Json<Data<WorkspaceBody>>> {
    let scope = state.spool.scope(&principal, id).await?;
    Ok(data(WorkspaceBody::new(
        scope.workspace,
        principal.user_id(),
    )))
}

/// Change settings (owners and admins).
#[utoipa::path(put, path = "/api/v1/workspaces/{uuid}", tag = "Workspace", params(("uuid" = String, Path)),
    request_body = UpdateWorkspace, security(("bearer" = [])),
    responses((status = 200, body = Data<WorkspaceBody>), (status = 403), (status = 404), (status = 422)))]
pub async fn update(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    PathId(id, _): PathId<Athena, WorkspaceId>,
    Json(body, _): Json<Athena, UpdateWorkspace>,
) -> Result<axum::Json<Data<WorkspaceBody>>> {
    let scope = state.spool.scope(&principal, id).await?;
    let input = WorkspaceUpdateInput {
        name: body.name,
        slug: body.slug,
        profile_photo_url: body.profile_photo_url,
        is_onboarded: body.is_onboarded,
        metadata: body.metadata,
    };
    let workspace = state.spool.update_workspace(&scope, input).await?;
    Ok(data(WorkspaceBody::new(workspace, principal.user_id())))
}

/// Delete the workspace and everything in it (owners).
#[utoipa::path(delete, path = "/api/v1/workspaces/{uuid}", tag = "Workspace", params(("uuid" = String, Path)),
    security(("bearer" = [])), responses((status = 204), (status = 403), (status = 404)))]
pub async fn delete(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    PathId(id, _): PathId<Athena, WorkspaceId>,
) -> Result<StatusCode> {
    let scope = state.spool.scope(&principal, id).await?;
    state.spool.delete_workspace(&scope).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/workspaces/{uuid}/members", tag = "Workspace", params(("uuid" = String, Path), PageParams),
    security(("bearer" = []), ("api_key" = [])), responses((status = 200, body = Paginated<MemberBody>), (status = 404)))]
pub async fn members(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    PathId(id, _): PathId<Athena, WorkspaceId>,
    Query(params, _): Query<Athena, PageParams>,
) -> Result<axum::Json<Paginated<MemberBody>>> {
    let scope = state.spool.scope(&principal, id).await?;
    let page = state.spool.list_members(&scope, params.request()?).await?;
    Ok(axum::Json(Paginated::new(
        page,
        &format!("{PATH}/{id}/members"),
        MemberBody::from,
    )))
}

/// Add an existing user, or change a member's role (owners and admins).
#[utoipa::path(post, path = "/api/v1/workspaces/{uuid}/members", tag = "Workspace", params(("uuid" = String, Path)),
    request_body = AddMember, security(("bearer" = [])),
    responses((status = 201, body = Data<MemberBody>), (status = 403), (status = 404), (status = 422)))]
pub async fn add_member(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    PathId(id, _): PathId<Athena, WorkspaceId>,
    Json(body, _): Json<Athena, AddMember>,
) -> Result<(StatusCode, axum::Json<Data<MemberBody>>)> {
    let scope = state.spool.scope(&principal, id).await?;
    let member = state
        .spool
        .put_member(
            &scope,
            NewMemberInput {
                email: body.email,
                role: body.role,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, data(MemberBody::from(member))))
}

/// Remove a member; anyone may remove themselves.
#[utoipa::path(delete, path = "/api/v1/workspaces/{uuid}/members/{user_id}", tag = "Workspace",
    params(("uuid" = String, Path), ("user_id" = i64, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 403), (status = 404), (status = 422)))]
pub async fn remove_member(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    PathId((id, user), _): PathId<Athena, (WorkspaceId, UserId)>,
) -> Result<StatusCode> {
    let scope = state.spool.scope(&principal, id).await?;
    state.spool.remove_member(&principal, &scope, user).await?;
    Ok(StatusCode::NO_CONTENT)
}
