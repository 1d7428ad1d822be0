//! API keys of a workspace (owners and admins, signed in).

use super::wire::{ApiKeyBody, Data, Paginated, data};
use super::{Athena, PageParams, Result, WorkspaceParam, uuid_field};
use crate::AppState;
use crate::extract::{Auth, Json, Query};
use crate::paths::PathId;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use spool_core::service::NewApiKeyInput;
use spool_core::{ApiKeyId, Timestamp};
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AthenaCreateApiKey)]
pub struct CreateApiKey {
    /// Not blank, at most 200 characters.
    #[schema(example = "CI pipeline", min_length = 1, max_length = 200)]
    pub name: String,
    /// RFC 3339, in the future; the key stops working then. Never, when absent.
    #[schema(value_type = Option<String>, format = DateTime, example = "2027-01-01T00:00:00Z")]
    pub expires_at: Option<Timestamp>,
    /// The workspace the key acts in (else the caller's primary workspace).
    #[schema(format = Uuid)]
    pub workspace_uuid: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// The workspace whose keys to list; by default the user's primary workspace.
    #[param(format = Uuid)]
    pub workspace_uuid: Option<String>,
    /// 1-based page number (default 1).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 4294967295_u64)]
    pub page: Option<u32>,
    /// Items per page, 1–100 (default 15).
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u32>,
}

/// Create an API key
///
/// The response is the only time the key is shown.
#[utoipa::path(post, path = "/api/v1/api-keys", tag = "athena: api keys", operation_id = "athena_create_api_key",
    params(WorkspaceParam), request_body = CreateApiKey, security(("bearer" = [])),
    responses((status = 201, description = "Created; `key` is shown this once", body = super::openapi::AthenaApiKeyResponse),
        (status = 403, description = "Not an owner or admin, or an API key", body = super::openapi::ErrorBody),
        (status = 409, description = "The workspace has no owner to hold the key", body = super::openapi::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    Query(query, _): Query<Athena, WorkspaceParam>,
    Json(body, _): Json<Athena, CreateApiKey>,
) -> Result<(StatusCode, axum::Json<Data<ApiKeyBody>>)> {
    let named = body
        .workspace_uuid
        .as_deref()
        .or(query.workspace_uuid.as_deref());
    let scope = state
        .spool
        .resolve_scope(&principal, uuid_field("workspace_uuid", named)?)
        .await?;
    let input = NewApiKeyInput {
        name: body.name,
        expires_at: body.expires_at,
    };
    let created = state
        .spool
        .create_api_key(&scope, principal.user_id(), input)
        .await?;
    let mut body = ApiKeyBody::from(created.key);
    body.key = Some(created.token.expose().to_owned());
    Ok((StatusCode::CREATED, data(body)))
}

/// List API keys
///
/// The workspace's keys, newest first, without the keys themselves.
#[utoipa::path(get, path = "/api/v1/api-keys", tag = "athena: api keys", operation_id = "athena_list_api_keys",
    params(ListParams), security(("bearer" = [])),
    responses((status = 200, description = "A page of keys, without the keys themselves", body = super::openapi::AthenaApiKeyPage),
        (status = 403, description = "Not an owner or admin, or an API key", body = super::openapi::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    Query(query, _): Query<Athena, ListParams>,
) -> Result<axum::Json<Paginated<ApiKeyBody>>> {
    let page = PageParams {
        page: query.page,
        per_page: query.per_page,
    }
    .request()?;
    let named = uuid_field("workspace_uuid", query.workspace_uuid.as_deref())?;
    let scope = state.spool.resolve_scope(&principal, named).await?;
    let keys = state.spool.list_api_keys(&scope, page).await?;
    let kept: Vec<(String, String)> = query
        .workspace_uuid
        .into_iter()
        .map(|w| ("workspace_uuid".to_owned(), w))
        .collect();
    let body = Paginated::new(keys, "/api/v1/api-keys", ApiKeyBody::from);
    Ok(axum::Json(body.keeping(&kept)))
}

/// Revoke an API key
///
/// It stops authenticating at once.
#[utoipa::path(delete, path = "/api/v1/api-keys/{uuid}", tag = "athena: api keys", operation_id = "athena_revoke_api_key",
    params(("uuid" = String, Path, format = Uuid), WorkspaceParam), security(("bearer" = [])),
    responses((status = 204, description = "Revoked"),
        (status = 403, description = "Not an owner or admin, or an API key", body = super::openapi::ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    PathId(id, _): PathId<Athena, ApiKeyId>,
    Query(query, _): Query<Athena, WorkspaceParam>,
) -> Result<StatusCode> {
    let named = uuid_field("workspace_uuid", query.workspace_uuid.as_deref())?;
    let scope = state.spool.resolve_scope(&principal, named).await?;
    state.spool.revoke_api_key(&scope, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
