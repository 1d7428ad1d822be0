//! Threads: create (with initial messages), retrieve, modify its metadata,
//! delete.

use super::messages::{NewMessage, message_input};
use super::wire::{Deleted, ThreadObject};
use super::{OpenAi, OpenAiError, Result, ThreadPath, ids, scope};
use crate::AppState;
use crate::extract::{Auth, Json};
use crate::paths::PathId;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Map, Value};
use spool_core::Principal;
use spool_core::model::Thread;
use spool_core::service::{NewThreadInput, Scope, ThreadUpdateInput};

#[derive(Deserialize, Default)]
pub struct CreateThread {
    #[serde(default)]
    pub messages: Vec<NewMessage>,
    pub metadata: Option<Map<String, Value>>,
    pub tool_resources: Option<Value>,
}

/// Creates the thread (with `agent` as its agent, when given), then
/// appends its messages in order. The messages'
/// wire form (roles, content parts, attachments) is checked before the
/// thread is made; the core checks each message as it is appended.
pub async fn create_thread(
    state: &AppState,
    principal: &Principal,
    scope: &Scope,
    body: CreateThread,
    agent: Option<spool_core::AgentId>,
) -> Result<Thread> {
    if body
        .tool_resources
        .as_ref()
        .is_some_and(|v| v.as_object().is_some_and(|m| !m.is_empty()))
    {
        return Err(OpenAiError::invalid(
            "tool_resources",
            "spool has no code interpreter or file search, so no tool_resources.",
        ));
    }
    let inputs = body
        .messages
        .into_iter()
        .enumerate()
        .map(|(i, m)| message_input(&format!("messages[{i}]"), m))
        .collect::<Result<Vec<_>>>()?;
    let input = NewThreadInput {
        metadata: body.metadata,
        agent,
        ..Default::default()
    };
    let thread = state.spool.create_thread(principal, scope, input).await?;
    for input in inputs {
        state
            .spool
            .create_message(principal, scope, thread.id, input, None)
            .await
            .map_err(super::attachments_named)?;
    }
    Ok(thread)
}

pub async fn create(
    State(state): State<AppState>,
    Auth(principal, _): Auth<OpenAi>,
    Json(body, _): Json<OpenAi, CreateThread>,
) -> Result<axum::Json<ThreadObject>> {
    let scope = scope(&state, &principal).await?;
    let thread = create_thread(&state, &principal, &scope, body, None).await?;
    Ok(axum::Json(ThreadObject::new(thread)))
}

pub async fn show(
    State(state): State<AppState>,
    Auth(principal, _): Auth<OpenAi>,
    PathId(ThreadPath(id), _): PathId<OpenAi, ThreadPath>,
) -> Result<axum::Json<ThreadObject>> {
    let scope = scope(&state, &principal).await?;
    let thread = state.spool.thread(&principal, &scope, id, None).await?;
    Ok(axum::Json(ThreadObject::new(thread)))
}

#[derive(Deserialize)]
pub struct UpdateThread {
    pub metadata: Option<Map<String, Value>>,
    pub tool_resources: Option<Value>,
}

pub async fn update(
    State(state): State<AppState>,
    Auth(principal, _): Auth<OpenAi>,
    PathId(ThreadPath(id), _): PathId<OpenAi, ThreadPath>,
    Json(body, _): Json<OpenAi, UpdateThread>,
) -> Result<axum::Json<ThreadObject>> {
    let scope = scope(&state, &principal).await?;
    let _ = body.tool_resources;
    let input = ThreadUpdateInput {
        metadata: body.metadata,
        ..Default::default()
    };
    let thread = state
        .spool
        .update_thread(&principal, &scope, id, input, None)
        .await?;
    Ok(axum::Json(ThreadObject::new(thread)))
}

pub async fn delete(
    State(state): State<AppState>,
    Auth(principal, _): Auth<OpenAi>,
    PathId(ThreadPath(id), _): PathId<OpenAi, ThreadPath>,
) -> Result<axum::Json<Deleted>> {
    let scope = scope(&state, &principal).await?;
    state
        .spool
        .delete_thread(&principal, &scope, id, None)
        .await?;
    Ok(axum::Json(Deleted {
        id: ids::render(ids::THREAD, id.0),
        object: "thread.deleted",
        deleted: true,
    }))
}
