//! Models: the server's catalog and the workspace's own providers' models,
//! as OpenAI lists models. spool keeps no creation time for a configured
//! model, so `created` is 0.

use super::{OpenAi, Result};
use crate::AppState;
use crate::extract::Auth;
use axum::extract::{Path, State};
use serde_json::{Value, json};
use spool_core::CoreError;
use spool_core::catalog::ModelEntry;

fn model_object(model: &ModelEntry) -> Value {
    json!({"id": model.name, "object": "model", "created": 0, "owned_by": model.provider})
}

pub async fn list(
    State(state): State<AppState>,
    Auth(principal, _): Auth<OpenAi>,
) -> Result<axum::Json<Value>> {
    let models = state.spool.models_seen_by(&principal, None).await?;
    let data: Vec<Value> = models.iter().map(model_object).collect();
    Ok(axum::Json(json!({"object": "list", "data": data})))
}

pub async fn show(
    State(state): State<AppState>,
    Auth(principal, _): Auth<OpenAi>,
    Path(name): Path<String>,
) -> Result<axum::Json<Value>> {
    let models = state.spool.models_seen_by(&principal, None).await?;
    let model = models
        .iter()
        .find(|m| m.name == name)
        .ok_or(CoreError::NotFound("Model"))?;
    Ok(axum::Json(model_object(model)))
}
