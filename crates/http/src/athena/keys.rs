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
pub struct CreateApiKey {
    #[schema(example = "CI pipeline")]
    pub name: String,
    /// RFC 3339; the key stops working then. Never, when absent.
    #[schema(value_type = Option<String>, example = "2027-01-01T00:00:00Z")]
    pub expires_at: Option<Timestamp>,
    /// The workspace the key acts in (else the caller's primary workspace).
    pub workspace_uuid: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ListParams {
    pub workspace_uuid: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// Create a key. The response is the only time the key is shown.
#[utoipa::path(post, path = "/api/v1/api-keys", tag = "API keys", params(WorkspaceParam), request_body = CreateApiKey,
    security(("bearer" = [])), responses((status = 201, body = Data<ApiKeyBody>), (status = 403), (status = 404), (status = 422)))]
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

/// The workspace's keys, newest first, without the keys themselves.
#[utoipa::path(get, path = "/api/v1/api-keys", tag = "API keys", params(ListParams),
    security(("bearer" = [])), responses((status = 200, body = Paginated<ApiKeyBody>), (status = 403), (status = 404)))]
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

/// Revoke a key; it stops authenticating at once.
#[utoipa::path(delete, path = "/api/v1/api-keys/{uuid}", tag = "API keys", params(("uuid" = String, Path), WorkspaceParam),
    security(("bearer" = [])), responses((status = 204), (status = 403), (status = 404)))]
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
