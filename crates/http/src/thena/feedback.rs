//! Feedback on an assistant message of a chat thread.

use super::wire::FeedbackBody;
use super::{MessagePath, Result, ScopeParams, Thena, scope};
use crate::AppState;
use crate::extract::{Auth, Json, Query};
use crate::paths::PathId;
use axum::extract::State;
use serde::Deserialize;
use spool_core::service::FeedbackInput;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackRequest {
    /// `positive` or `negative` (required on POST).
    #[schema(example = "negative")]
    pub feedback_type: Option<String>,
    /// What went wrong, in the client's own words or codes (≤ 100 characters).
    #[schema(example = "inaccurate")]
    pub issue_type: Option<String>,
    /// ≤ 4000 characters.
    pub comment: Option<String>,
    /// The anonymous end user giving it (API keys only).
    pub anon_user_id: Option<String>,
}

impl FeedbackRequest {
    fn split(self) -> (FeedbackInput, Option<String>) {
        let input = FeedbackInput {
            feedback_type: self.feedback_type,
            issue_type: self.issue_type,
            comment: self.comment,
        };
        (input, self.anon_user_id)
    }
}

/// Rate an assistant message; replaces the rating it had.
#[utoipa::path(post, path = "/api/v1/chat/{agent_id}/threads/{thread_id}/messages/{message_id}/feedback", tag = "thena",
    params(("agent_id" = String, Path), ("thread_id" = String, Path), ("message_id" = String, Path), ScopeParams),
    request_body = FeedbackRequest, security(("api_key" = []), ("bearer" = [])),
    responses((status = 200, body = FeedbackBody), (status = 404), (status = 422)))]
pub async fn create(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Thena>,
    PathId(path, _): PathId<Thena, MessagePath>,
    Query(query, _): Query<Thena, ScopeParams>,
    Json(body, _): Json<Thena, FeedbackRequest>,
) -> Result<axum::Json<FeedbackBody>> {
    let scope = scope(&state, &principal, query.organization_id.as_deref()).await?;
    let (input, anon) = body.split();
    let anon = anon.or(query.anon_user_id);
    state
        .spool
        .agent_thread(&principal, &scope, path.agent, path.thread, anon.as_deref())
        .await?;
    let view = state
        .spool
        .rate_message(
            &principal,
            &scope,
            path.thread,
            path.message,
            input,
            anon.as_deref(),
        )
        .await?;
    Ok(axum::Json(FeedbackBody::new(view)))
}

/// Change a message's rating: absent fields keep their values; 404 when it has none.
#[utoipa::path(put, path = "/api/v1/chat/{agent_id}/threads/{thread_id}/messages/{message_id}/feedback", tag = "thena",
    params(("agent_id" = String, Path), ("thread_id" = String, Path), ("message_id" = String, Path), ScopeParams),
    request_body = FeedbackRequest, security(("api_key" = []), ("bearer" = [])),
    responses((status = 200, body = FeedbackBody), (status = 404), (status = 422)))]
pub async fn update(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Thena>,
    PathId(path, _): PathId<Thena, MessagePath>,
    Query(query, _): Query<Thena, ScopeParams>,
    Json(body, _): Json<Thena, FeedbackRequest>,
) -> Result<axum::Json<FeedbackBody>> {
    let scope = scope(&state, &principal, query.organization_id.as_deref()).await?;
    let (input, anon) = body.split();
    let anon = anon.or(query.anon_user_id);
    state
        .spool
        .agent_thread(&principal, &scope, path.agent, path.thread, anon.as_deref())
        .await?;
    let view = state
        .spool
        .update_rating(
            &principal,
            &scope,
            path.thread,
            path.message,
            input,
            anon.as_deref(),
        )
        .await?;
    Ok(axum::Json(FeedbackBody::new(view)))
}
