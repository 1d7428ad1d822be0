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
#[schema(as = AthenaCreateWorkspace)]
pub struct CreateWorkspace {
    /// Not blank, at most 200 characters.
    #[schema(example = "My AI Workspace", min_length = 1, max_length = 200)]
    pub name: String,
    /// Lower-case letters, digits and dashes; derived from the name when absent.
    #[schema(pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 200)]
    pub slug: Option<String>,
    #[schema(max_length = 200)]
    pub profile_photo_url: Option<String>,
    pub is_onboarded: Option<bool>,
    #[schema(schema_with = super::openapi::workspace_metadata_input)]
    pub metadata: Option<Map<String, Value>>,
}

/// Every field optional; absent fields are left as they are, `null`
/// clears `profile_photo_url`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AthenaUpdateWorkspace)]
pub struct UpdateWorkspace {
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[schema(pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 200)]
    pub slug: Option<String>,
    #[serde(default, deserialize_with = "crate::paths::double_option")]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub profile_photo_url: Option<Option<String>>,
    pub is_onboarded: Option<bool>,
    /// Replaces the metadata object.
    #[schema(schema_with = super::openapi::workspace_metadata_input)]
    pub metadata: Option<Map<String, Value>>,
    /// Threads without an `expires_at` are deleted this many days (1 to
    /// 36600) after their last activity; `null` keeps them for good.
    #[serde(default, deserialize_with = "crate::paths::whole_number_or_null")]
    #[schema(value_type = Option<u64>, minimum = 1, maximum = 36600)]
    pub thread_retention_days: Option<Option<u64>>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AthenaAddMember)]
pub struct AddMember {
    /// The email of an existing spool user.
    #[schema(example = "grace@example.com")]
    pub email: String,
    /// `owner`, `admin` or `member` (default).
    #[schema(value_type = Option<super::openapi::Role>)]
    pub role: Option<String>,
}

/// List workspaces
///
/// The workspaces the caller belongs to (an API key: its own).
#[utoipa::path(get, path = "/api/v1/workspaces", tag = "athena: workspaces", operation_id = "athena_list_workspaces",
    params(PageParams), security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "A page of workspaces", body = super::openapi::AthenaWorkspacePage)))]
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

/// Create a workspace
///
/// The signed-in user owns it.
#[utoipa::path(post, path = "/api/v1/workspaces", tag = "athena: workspaces", operation_id = "athena_create_workspace",
    request_body = CreateWorkspace, security(("bearer" = [])),
    responses((status = 201, description = "Created", body = super::openapi::AthenaWorkspaceResponse),
        (status = 403, description = "An API key cannot create workspaces", body = super::openapi::ErrorBody)))]
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

/// Get a workspace
#[utoipa::path(get, path = "/api/v1/workspaces/{uuid}", tag = "athena: workspaces", operation_id = "athena_get_workspace",
    params(("uuid" = String, Path, format = Uuid)), security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "The workspace", body = super::openapi::AthenaWorkspaceResponse)))]
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

/// Update a workspace
///
/// Changes settings (owners and admins).
#[utoipa::path(put, path = "/api/v1/workspaces/{uuid}", tag = "athena: workspaces", operation_id = "athena_update_workspace",
    params(("uuid" = String, Path, format = Uuid)), request_body = UpdateWorkspace, security(("bearer" = [])),
    responses((status = 200, description = "Updated", body = super::openapi::AthenaWorkspaceResponse),
        (status = 403, description = "Not an owner or admin, or an API key", body = super::openapi::ErrorBody)))]
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
        thread_retention_days: body.thread_retention_days,
    };
    let workspace = state.spool.update_workspace(&scope, input).await?;
    Ok(data(WorkspaceBody::new(workspace, principal.user_id())))
}

/// Delete a workspace
///
/// Deletes the workspace and everything in it (owners).
#[utoipa::path(delete, path = "/api/v1/workspaces/{uuid}", tag = "athena: workspaces", operation_id = "athena_delete_workspace",
    params(("uuid" = String, Path, format = Uuid)), security(("bearer" = [])),
    responses((status = 204, description = "Deleted"),
        (status = 403, description = "Not an owner, or an API key", body = super::openapi::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    PathId(id, _): PathId<Athena, WorkspaceId>,
) -> Result<StatusCode> {
    let scope = state.spool.scope(&principal, id).await?;
    state.spool.delete_workspace(&scope).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// List a workspace's members
#[utoipa::path(get, path = "/api/v1/workspaces/{uuid}/members", tag = "athena: workspaces", operation_id = "athena_list_workspace_members",
    params(("uuid" = String, Path, format = Uuid), PageParams), security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "A page of members", body = super::openapi::AthenaMemberPage)))]
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

/// Add a member
///
/// Adds an existing user, or changes a member's role (owners and admins).
#[utoipa::path(post, path = "/api/v1/workspaces/{uuid}/members", tag = "athena: workspaces", operation_id = "athena_add_workspace_member",
    params(("uuid" = String, Path, format = Uuid)), request_body = AddMember, security(("bearer" = [])),
    responses((status = 201, description = "The member, with their role", body = super::openapi::AthenaMemberResponse),
        (status = 403, description = "Not an owner or admin (admins may not touch owners), or an API key", body = super::openapi::ErrorBody),
        (status = 409, description = "The workspace's last owner cannot step down", body = super::openapi::ErrorBody)))]
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

/// Remove a member
///
/// Owners and admins (admins not owners); anyone may remove themselves.
#[utoipa::path(delete, path = "/api/v1/workspaces/{uuid}/members/{user_id}", tag = "athena: workspaces",
    operation_id = "athena_remove_workspace_member",
    params(("uuid" = String, Path, format = Uuid), ("user_id" = i64, Path, minimum = 1)), security(("bearer" = [])),
    responses((status = 204, description = "Removed"),
        (status = 403, description = "Not an owner or admin, or an API key", body = super::openapi::ErrorBody),
        (status = 409, description = "The workspace's last owner cannot be removed", body = super::openapi::ErrorBody)))]
pub async fn remove_member(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    PathId((id, user), _): PathId<Athena, (WorkspaceId, UserId)>,
) -> Result<StatusCode> {
    let scope = state.spool.scope(&principal, id).await?;
    state.spool.remove_member(&principal, &scope, user).await?;
    Ok(StatusCode::NO_CONTENT)
}
