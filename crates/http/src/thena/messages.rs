//! Sending a message in a chat thread.

use super::wire::MessageBody;
use super::{Result, ScopeParams, Thena, ThreadPath, scope};
use crate::AppState;
use crate::extract::{Auth, Json, Query};
use crate::paths::PathId;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Map, Value};
use spool_core::service::NewMessageInput;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendMessage {
    /// The user's message (≤ 256 KiB).
    #[schema(example = "What can you do?")]
    pub content: String,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Map<String, Value>>,
    /// The anonymous end user writing (API keys only).
    pub anon_user_id: Option<String>,
}

/// Send a user message to the thread.
#[utoipa::path(post, path = "/api/v1/chat/{agent_id}/threads/{thread_id}/messages", tag = "thena",
    params(("agent_id" = String, Path), ("thread_id" = String, Path), ScopeParams),
    request_body = SendMessage, security(("api_key" = []), ("bearer" = [])),
    responses((status = 200, body = MessageBody), (status = 404), (status = 422)))]
pub async fn send(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Thena>,
    PathId(path, _): PathId<Thena, ThreadPath>,
    Query(query, _): Query<Thena, ScopeParams>,
    Json(body, _): Json<Thena, SendMessage>,
) -> Result<axum::Json<MessageBody>> {
    let scope = scope(&state, &principal, query.organization_id.as_deref()).await?;
    let anon = body.anon_user_id.or(query.anon_user_id);
    state
        .spool
        .agent_thread(&principal, &scope, path.agent, path.thread, anon.as_deref())
        .await?;
    let input = NewMessageInput {
        content: Some(body.content),
        metadata: body.metadata,
        ..Default::default()
    };
    let message = state
        .spool
        .create_message(&principal, &scope, path.thread, input, anon.as_deref())
        .await?;
    Ok(axum::Json(MessageBody::new(message, None)))
}
