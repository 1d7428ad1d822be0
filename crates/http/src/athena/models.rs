//! The large language models this server can run (from configuration).

use super::resources::ModelBody;
use super::wire::{Data, data};
use super::{Athena, Result};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::Auth;
use axum::extract::{Path, State};

#[derive(serde::Serialize, utoipa::ToSchema)]
#[schema(as = AthenaModelList)]
pub struct ModelList {
    pub data: Vec<ModelBody>,
}

/// List models
///
/// Every model in the catalog; `echo` is the built-in offline development model.
#[utoipa::path(get, path = "/api/v1/large-language-models", tag = "athena: models", operation_id = "athena_list_models",
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "The whole catalog (not paged)", body = ModelList)))]
pub async fn list(State(state): State<AppState>, _auth: Auth<Athena>) -> axum::Json<ModelList> {
    let catalog = &state.spool.config().catalog;
    axum::Json(ModelList {
        data: catalog.models.iter().map(ModelBody::from).collect(),
    })
}

/// Get a model
///
/// One model of the catalog, by uuid or by name.
#[utoipa::path(get, path = "/api/v1/large-language-models/{uuid}", tag = "athena: models", operation_id = "athena_get_model",
    params(("uuid" = String, Path, description = "The model's uuid, or its name (e.g. `echo`)")),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "The model", body = super::openapi::AthenaModelResponse)))]
pub async fn show(
    State(state): State<AppState>,
    _auth: Auth<Athena>,
    Path(uuid): Path<String>,
) -> Result<axum::Json<Data<ModelBody>>> {
    let catalog = &state.spool.config().catalog;
    let model = uuid::Uuid::try_parse(&uuid)
        .ok()
        .and_then(|id| catalog.by_uuid(id))
        .or_else(|| catalog.get(&uuid));
    let model = model.ok_or(ApiError::not_found("Large language model"))?;
    Ok(data(ModelBody::from(model)))
}
