//! The large language models this server can run (from configuration).

use super::resources::ModelBody;
use super::wire::{Data, data};
use super::{Athena, Result};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::Auth;
use axum::extract::{Path, State};

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ModelList {
    pub data: Vec<ModelBody>,
}

/// Every model in the catalog; `echo` is the built-in offline development model.
#[utoipa::path(get, path = "/api/v1/large-language-models", tag = "Large Language Model",
    security(("bearer" = []), ("api_key" = [])), responses((status = 200, body = ModelList), (status = 401)))]
pub async fn list(State(state): State<AppState>, _auth: Auth<Athena>) -> axum::Json<ModelList> {
    let catalog = &state.spool.config().catalog;
    axum::Json(ModelList {
        data: catalog.models.iter().map(ModelBody::from).collect(),
    })
}

#[utoipa::path(get, path = "/api/v1/large-language-models/{uuid}", tag = "Large Language Model",
    params(("uuid" = String, Path)), security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = Data<ModelBody>), (status = 404)))]
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
