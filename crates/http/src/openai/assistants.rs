//! Assistants: spool agents in OpenAI's shape. `model`, `temperature` and
//! `top_p` are kept in the agent's metadata (`large_language_model`, the
//! key runs read the model from), and shown as the assistant's fields.

use super::wire::{
    AssistantObject, Deleted, List, MODEL_KEY, RESERVED_KEYS, TEMPERATURE_KEY, TOP_P_KEY,
};
use super::{
    AssistantPath, ListQuery, OpenAi, OpenAiError, Result, check_response_format, ids, scope,
    tools_in,
};
use crate::AppState;
use crate::extract::{Auth, Json};
use crate::paths::{PathId, double_option};
use crate::query::QueryPairs;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use spool_core::service::{AgentInput, AgentWindow};
use spool_core::{AgentId, model::Agent};

#[derive(Deserialize)]
pub struct AssistantBody {
    pub model: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub instructions: Option<Option<String>>,
    pub tools: Option<Vec<Value>>,
    pub metadata: Option<Map<String, Value>>,
    #[serde(default, deserialize_with = "double_option")]
    pub temperature: Option<Option<f64>>,
    #[serde(default, deserialize_with = "double_option")]
    pub top_p: Option<Option<f64>>,
    pub response_format: Option<Value>,
    pub tool_resources: Option<Value>,
    pub reasoning_effort: Option<Value>,
}

impl AssistantBody {
    /// The agent's metadata: the client's keys (none of the reserved
    /// ones), with `model`, `temperature` and `top_p` from the request or
    /// kept from `current`.
    fn metadata(&self, current: Option<&Agent>) -> Result<Option<Map<String, Value>>> {
        let touched = self.metadata.is_some()
            || self.model.is_some()
            || self.temperature.is_some()
            || self.top_p.is_some();
        if !touched {
            return Ok(None);
        }
        let kept = current
            .map(|a| a.metadata.as_map().clone())
            .unwrap_or_default();
        let mut metadata = match &self.metadata {
            Some(given) => {
                if let Some(key) = RESERVED_KEYS.iter().find(|k| given.contains_key(**k)) {
                    return Err(OpenAiError::invalid(
                        &format!("metadata.{key}"),
                        format!(
                            "The metadata key '{key}' is reserved; set the assistant's field instead."
                        ),
                    ));
                }
                let mut map = given.clone();
                for key in RESERVED_KEYS {
                    if let Some(value) = kept.get(key) {
                        map.insert(key.into(), value.clone());
                    }
                }
                map
            }
            None => kept,
        };
        if let Some(model) = &self.model {
            metadata.insert(MODEL_KEY.into(), json!(model));
        }
        for (key, value, max) in [
            (TEMPERATURE_KEY, self.temperature, 2.0),
            (TOP_P_KEY, self.top_p, 1.0),
        ] {
            match value {
                Some(Some(v)) if !(0.0..=max).contains(&v) => {
                    return Err(OpenAiError::invalid(
                        key,
                        format!("The {key} must be between 0 and {max}."),
                    ));
                }
                Some(Some(v)) => {
                    metadata.insert(key.into(), json!(v));
                }
                Some(None) => {
                    metadata.remove(key);
                }
                None => {}
            }
        }
        Ok(Some(metadata))
    }

    fn input(self, current: Option<&Agent>) -> Result<AgentInput> {
        check_response_format(self.response_format.as_ref())?;
        if self
            .tool_resources
            .as_ref()
            .is_some_and(|v| v.as_object().is_some_and(|m| !m.is_empty()))
        {
            return Err(OpenAiError::invalid(
                "tool_resources",
                "spool has no code interpreter or file search, so no tool_resources.",
            ));
        }
        let metadata = self.metadata(current)?;
        let tools = self
            .tools
            .as_deref()
            .map(|t| tools_in("tools", t))
            .transpose()?;
        let name = match (self.name, current) {
            (Some(Some(name)), _) => Some(name),
            // OpenAI's assistants may be nameless; a spool agent has a name.
            (Some(None) | None, None) => Some("Assistant".to_owned()),
            (Some(None) | None, Some(_)) => None,
        };
        Ok(AgentInput {
            name,
            description: self.description,
            instruction: self.instructions,
            metadata,
            tools,
            ..Default::default()
        })
    }
}

pub async fn create(
    State(state): State<AppState>,
    Auth(principal, _): Auth<OpenAi>,
    Json(body, _): Json<OpenAi, AssistantBody>,
) -> Result<axum::Json<AssistantObject>> {
    let scope = scope(&state, &principal).await?;
    if body.model.is_none() {
        return Err(OpenAiError::invalid(
            "model",
            "The model field is required.",
        ));
    }
    let agent = state
        .spool
        .create_agent(&principal, &scope, body.input(None)?)
        .await?;
    Ok(axum::Json(AssistantObject::new(agent)))
}

pub async fn show(
    State(state): State<AppState>,
    Auth(principal, _): Auth<OpenAi>,
    PathId(AssistantPath(id), _): PathId<OpenAi, AssistantPath>,
) -> Result<axum::Json<AssistantObject>> {
    let scope = scope(&state, &principal).await?;
    let agent = state.spool.agent(&principal, &scope, id).await?;
    Ok(axum::Json(AssistantObject::new(agent)))
}

pub async fn update(
    State(state): State<AppState>,
    Auth(principal, _): Auth<OpenAi>,
    PathId(AssistantPath(id), _): PathId<OpenAi, AssistantPath>,
    Json(body, _): Json<OpenAi, AssistantBody>,
) -> Result<axum::Json<AssistantObject>> {
    let scope = scope(&state, &principal).await?;
    // The reserved metadata keys are kept across a metadata change.
    let current = state.spool.agent(&principal, &scope, id).await?;
    let input = body.input(Some(&current))?;
    let agent = state
        .spool
        .update_agent(&principal, &scope, id, input)
        .await?;
    Ok(axum::Json(AssistantObject::new(agent)))
}

pub async fn delete(
    State(state): State<AppState>,
    Auth(principal, _): Auth<OpenAi>,
    PathId(AssistantPath(id), _): PathId<OpenAi, AssistantPath>,
) -> Result<axum::Json<Deleted>> {
    let scope = scope(&state, &principal).await?;
    state.spool.delete_agent(&principal, &scope, id).await?;
    Ok(axum::Json(Deleted {
        id: ids::render(ids::ASSISTANT, id.0),
        object: "assistant.deleted",
        deleted: true,
    }))
}

pub async fn list(
    State(state): State<AppState>,
    Auth(principal, _): Auth<OpenAi>,
    query: QueryPairs<OpenAi>,
) -> Result<axum::Json<List<AssistantObject>>> {
    let scope = scope(&state, &principal).await?;
    let params = ListQuery::parse(&query, ids::ASSISTANT)?;
    let window = AgentWindow {
        descending: params.descending,
        after: params.after.map(AgentId),
        before: params.before.map(AgentId),
        limit: params.limit,
    };
    let (agents, more) = state.spool.agent_window(&principal, &scope, window).await?;
    let data = agents.into_iter().map(AssistantObject::new).collect();
    Ok(axum::Json(List::new(data, more, |a: &AssistantObject| {
        &a.id
    })))
}
