//! `POST /api/v1/runs/{uuid}/tool-outputs`: the client's answers to a run
//! waiting in `requires_action`.

use super::runs::{RunResult, settle_after};
use super::{Athena, Result, WorkspaceParam, scope};
use crate::AppState;
use crate::extract::{Auth, Json, Query};
use crate::paths::PathId;
use axum::extract::State;
use axum::response::IntoResponse;
use serde::Deserialize;
use spool_core::RunId;
use spool_core::runs::ToolOutput;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AthenaToolOutputsRequest)]
pub struct ToolOutputsRequest {
    /// One answer for each call of the run's `required_action.tool_calls`,
    /// all at once.
    pub tool_outputs: Vec<ToolOutputBody>,
    /// Server-Sent Events of the run going on from these outputs (also
    /// `Accept: text/event-stream`), instead of one answer at its end.
    pub stream: Option<bool>,
    #[schema(format = Uuid)]
    pub workspace_uuid: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AthenaToolOutput)]
pub struct ToolOutputBody {
    /// The `id` of a pending tool call.
    #[schema(example = "call_abc123")]
    pub tool_call_id: String,
    /// What the tool answered, as text (JSON as text is fine); the model
    /// sees it as the call's result.
    #[schema(example = "{\"temperature\": 21}")]
    pub output: String,
}

/// Submit tool outputs
///
/// Answers every pending tool call of a run in `requires_action`; the same
/// run goes on with its next model step. Answers like a run request, once
/// the run has ended or waits for tool outputs again; with `stream`, the
/// run's events from the ones these outputs caused (`tool_call.completed`…)
/// to the end, with their ids in the run's log. A call id that is unknown,
/// repeated or missing answers 422 and changes nothing; a run that is not
/// waiting answers 409.
#[utoipa::path(post, path = "/api/v1/runs/{uuid}/tool-outputs", tag = "athena: runs", operation_id = "athena_submit_tool_outputs",
    params(("uuid" = String, Path, format = Uuid), WorkspaceParam), request_body = ToolOutputsRequest,
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "The run as it ended or waits again, with its last assistant message; or, with `stream`, its events from these outputs on",
            content((RunResult = "application/json"), (super::openapi::RunEvent = "text/event-stream"))),
        (status = 409, description = "The run is not waiting for tool outputs", body = super::openapi::ErrorBody)))]
pub async fn submit(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    PathId(id, _): PathId<Athena, RunId>,
    Query(query, _): Query<Athena, WorkspaceParam>,
    headers: axum::http::HeaderMap,
    Json(body, _): Json<Athena, ToolOutputsRequest>,
) -> Result<axum::response::Response> {
    let stream = crate::sse::wanted(&headers, body.stream);
    let named = body.workspace_uuid.clone().or(query.workspace_uuid);
    let scope = scope(&state, &principal, named.as_deref()).await?;
    let outputs = body
        .tool_outputs
        .into_iter()
        .map(|o| ToolOutput {
            tool_call_id: o.tool_call_id,
            output: o.output,
        })
        .collect();
    let (events, waits) = state
        .spool
        .submit_tool_outputs(&principal, &scope, id, outputs)
        .await?;
    if stream {
        return Ok(super::runs::sse(events.past_waits(waits).await));
    }
    Ok(settle_after(&state, &principal, events, waits)
        .await?
        .into_response())
}
