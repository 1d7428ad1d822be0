//! Feedback on an assistant message of a chat thread.

use super::openapi::FeedbackType;
use super::wire::FeedbackBody;
use super::{MessagePath, Result, ScopeParams, Thena, scope};
use crate::AppState;
use crate::extract::{Auth, Json, Query};
use crate::paths::PathId;
use axum::extract::State;
use serde::Deserialize;
use spool_core::service::FeedbackInput;
use utoipa::ToSchema;

/// Changes to a rating: absent fields keep their values.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ThenaFeedbackChange)]
pub struct FeedbackRequest {
    #[schema(value_type = Option<FeedbackType>)]
    pub feedback_type: Option<String>,
    /// What went wrong, in the client's own words or codes.
    #[schema(example = "inaccurate", max_length = 100)]
    pub issue_type: Option<String>,
    #[schema(max_length = 4000)]
    pub comment: Option<String>,
    /// The anonymous end user giving it (API keys only; a session naming
    /// one answers 422).
    #[schema(min_length = 1, max_length = 200, pattern = "\\S")]
    pub anon_user_id: Option<String>,
}

/// A rating of an assistant message, replacing any it had.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ThenaFeedbackCreate)]
pub struct NewFeedback {
    #[schema(value_type = FeedbackType)]
    pub feedback_type: String,
    /// What went wrong, in the client's own words or codes.
    #[schema(example = "inaccurate", max_length = 100)]
    pub issue_type: Option<String>,
    #[schema(max_length = 4000)]
    pub comment: Option<String>,
    /// The anonymous end user giving it (API keys only; a session naming
    /// one answers 422).
    #[schema(min_length = 1, max_length = 200, pattern = "\\S")]
    pub anon_user_id: Option<String>,
}

impl From<NewFeedback> for FeedbackRequest {
    fn from(body: NewFeedback) -> Self {
        Self {
            feedback_type: Some(body.feedback_type),
            issue_type: body.issue_type,
            comment: body.comment,
            anon_user_id: body.anon_user_id,
        }
    }
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

/// Rate an assistant message; replaces the rating it had (keeping its `id`
/// and `created_at`). A message of another role answers 422 at
/// `["path", "message_id"]`.
#[utoipa::path(post, path = "/api/v1/chat/{agent_id}/threads/{thread_id}/messages/{message_id}/feedback", tag = "thena",
    operation_id = "thena_create_feedback",
    params(("agent_id" = uuid::Uuid, Path, description = "The thread's agent."),
        ("thread_id" = uuid::Uuid, Path, description = "The thread."),
        ("message_id" = uuid::Uuid, Path, description = "An assistant message of the thread."), ScopeParams),
    request_body = NewFeedback, security(("api_key" = []), ("bearer" = [])),
    responses((status = 200, description = "The message's rating.", body = FeedbackBody)))]
pub async fn create(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Thena>,
    PathId(path, _): PathId<Thena, MessagePath>,
    Query(query, _): Query<Thena, ScopeParams>,
    Json(body, _): Json<Thena, NewFeedback>,
) -> Result<axum::Json<FeedbackBody>> {
    let scope = scope(&state, &principal, query.organization_id.as_deref()).await?;
    let (input, anon) = FeedbackRequest::from(body).split();
    let anon = super::end_user(&principal, query.anon_user_id, anon)?;
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
    operation_id = "thena_update_feedback",
    params(("agent_id" = uuid::Uuid, Path, description = "The thread's agent."),
        ("thread_id" = uuid::Uuid, Path, description = "The thread."),
        ("message_id" = uuid::Uuid, Path, description = "An assistant message of the thread."), ScopeParams),
    request_body = FeedbackRequest, security(("api_key" = []), ("bearer" = [])),
    responses((status = 200, description = "The changed rating.", body = FeedbackBody)))]
pub async fn update(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Thena>,
    PathId(path, _): PathId<Thena, MessagePath>,
    Query(query, _): Query<Thena, ScopeParams>,
    Json(body, _): Json<Thena, FeedbackRequest>,
) -> Result<axum::Json<FeedbackBody>> {
    let scope = scope(&state, &principal, query.organization_id.as_deref()).await?;
    let (input, anon) = body.split();
    let anon = super::end_user(&principal, query.anon_user_id, anon)?;
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
