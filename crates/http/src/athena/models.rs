//! The large language models a workspace's runs may use: its own
//! providers' and the server's (from configuration).

use super::resources::ModelBody;
use super::wire::{Data, data};
use super::{Athena, Result, WorkspaceParam, uuid_field};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::{Auth, Query};
use axum::extract::{Path, State};

#[derive(serde::Serialize, utoipa::ToSchema)]
#[schema(as = AthenaModelList)]
pub struct ModelList {
    pub data: Vec<ModelBody>,
}

/// List models
///
/// The workspace's own providers' models (`provider_uuid` names the
/// provider), then the server's; `echo` is the built-in offline
/// development model.
#[utoipa::path(get, path = "/api/v1/large-language-models", tag = "athena: models", operation_id = "athena_list_models",
    params(WorkspaceParam), security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "The whole catalog (not paged)", body = ModelList),
        (status = 404, description = "The workspace is not the caller's", body = super::openapi::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    Query(query, _): Query<Athena, WorkspaceParam>,
) -> Result<axum::Json<ModelList>> {
    let named = uuid_field("workspace_uuid", query.workspace_uuid.as_deref())?;
    let models = state.spool.models_seen_by(&principal, named).await?;
    Ok(axum::Json(ModelList {
        data: models.iter().map(ModelBody::from).collect(),
    }))
}

/// Get a model
///
/// One model of the workspace's catalog, by uuid or by name.
#[utoipa::path(get, path = "/api/v1/large-language-models/{uuid}", tag = "athena: models", operation_id = "athena_get_model",
    params(("uuid" = String, Path, description = "The model's uuid, or its name (e.g. `echo`)"), WorkspaceParam),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "The model", body = super::openapi::AthenaModelResponse)))]
pub async fn show(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    Path(uuid): Path<String>,
    Query(query, _): Query<Athena, WorkspaceParam>,
) -> Result<axum::Json<Data<ModelBody>>> {
    let named = uuid_field("workspace_uuid", query.workspace_uuid.as_deref())?;
    let models = state.spool.models_seen_by(&principal, named).await?;
    let by_uuid = uuid::Uuid::try_parse(&uuid).ok();
    let model = models
        .iter()
        .find(|m| Some(m.uuid) == by_uuid)
        .or_else(|| models.iter().find(|m| m.name == uuid));
    let model = model.ok_or(ApiError::not_found("Large language model"))?;
    Ok(data(ModelBody::from(model)))
}
