//! A run by freddy's run id (`run_…`, or a raw UUID) under its thread:
//! read it, cancel it, re-attach to its events in freddy's shapes, answer
//! its tool calls.

use super::runs::{RunObject, RunResult};
use super::{Freddy, OrganizationParam, Result, ids, scope};
use crate::AppState;
use crate::extract::{Auth, Json, Query};
use crate::paths::{FromPath, PathId};
use crate::query::QueryPairs;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use spool_core::runs::ToolOutput;
use spool_core::{RunId, ThreadId};
use utoipa::ToSchema;

/// `{thread_id}/runs/{run_id}` of the path: `thrd_…`/`run_…` or raw UUIDs.
pub struct RunPath {
    pub thread: ThreadId,
    pub run: RunId,
}

impl FromPath for RunPath {
    const WHAT: &'static str = "Run";
    fn from_path(values: &[&str]) -> Option<Self> {
        Some(RunPath {
            thread: ThreadId(ids::parse(ids::THREAD, values.first()?)?),
            run: RunId(ids::parse(ids::RUN, values.get(1)?)?),
        })
    }
}

/// Retrieve a run of the thread.
#[utoipa::path(get, path = "/v1/threads/{thread_id}/runs/{run_id}", tag = "freddy",
    operation_id = "freddy_get_run",
    params(super::openapi::ThreadIdParam, super::openapi::RunIdParam, OrganizationParam),
    security(("api_key" = []), ("bearer" = [])),
    responses((status = 200, description = "The run.", body = RunObject)))]
pub async fn show(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Freddy>,
    PathId(path, _): PathId<Freddy, RunPath>,
    Query(query, _): Query<Freddy, OrganizationParam>,
) -> Result<axum::Json<RunObject>> {
    let scope = scope(&state, &principal, query.organization_id.as_deref()).await?;
    let run = state
        .spool
        .run_in_thread(&principal, &scope, path.thread, path.run, None)
        .await?;
    Ok(axum::Json(RunObject::new(run)))
}

/// Cancel a run: it ends `cancelled` keeping its partial reply; a queued
/// run never starts. Sent to any node, it stops the run where it executes.
#[utoipa::path(post, path = "/v1/threads/{thread_id}/runs/{run_id}/cancel", tag = "freddy",
    operation_id = "freddy_cancel_run",
    params(super::openapi::ThreadIdParam, super::openapi::RunIdParam, OrganizationParam),
    security(("api_key" = []), ("bearer" = [])),
    responses((status = 200, description = "The run as it ended (a run that had already ended, unchanged).", body = RunObject)))]
pub async fn cancel(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Freddy>,
    PathId(path, _): PathId<Freddy, RunPath>,
    Query(query, _): Query<Freddy, OrganizationParam>,
) -> Result<axum::Json<RunObject>> {
    let scope = scope(&state, &principal, query.organization_id.as_deref()).await?;
    state
        .spool
        .run_in_thread(&principal, &scope, path.thread, path.run, None)
        .await?;
    let run = state.spool.cancel_run(&principal, &scope, path.run).await?;
    Ok(axum::Json(RunObject::new(run)))
}

/// Re-attach to a run's events: those after `Last-Event-ID` (header, or
/// `last_event_id` query), exactly as the first stream sent them, then live
/// until `done`.
#[utoipa::path(get, path = "/v1/threads/{thread_id}/runs/{run_id}/events", tag = "freddy",
    operation_id = "freddy_follow_run",
    params(super::openapi::ThreadIdParam, super::openapi::RunIdParam, OrganizationParam,
        ("Last-Event-ID" = Option<i64>, Header, minimum = 0, nullable = false, description = "The `id:` of the last event seen; the stream resumes after it."),
        ("last_event_id" = Option<i64>, Query, minimum = 0, description = "The same, for clients that cannot set the header.")),
    security(("api_key" = []), ("bearer" = [])),
    responses(
        (status = 200, description = super::openapi::FOLLOW_RUN,
            content((super::openapi::RunEvent = "text/event-stream"))),
        (status = 404, description = "No such run of this thread, or its events are past their retention.", body = super::error::ErrorBody)))]
pub async fn events(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Freddy>,
    PathId(path, _): PathId<Freddy, RunPath>,
    headers: HeaderMap,
    query: QueryPairs<Freddy>,
) -> Result<Response> {
    let scope = scope(&state, &principal, query.get("organization_id")).await?;
    let last = crate::sse::last_event_id(&headers, query.get("last_event_id"))?;
    state
        .spool
        .run_in_thread(&principal, &scope, path.thread, path.run, None)
        .await?;
    let events = state
        .spool
        .run_events(&principal, &scope, path.run, last)
        .await?;
    Ok(crate::sse::stream(events, super::runs::data))
}

/// The client's answers to a run waiting in `requires_action`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = FreddySubmitToolOutputs)]
pub struct SubmitToolOutputs {
    /// One answer for each call of the run's
    /// `required_action.submit_tool_outputs.tool_calls`, all at once.
    pub tool_outputs: Vec<ToolOutputBody>,
    /// Server-Sent Events of the run going on from these outputs (also
    /// `Accept: text/event-stream`), instead of one answer at its end.
    pub stream: Option<bool>,
    /// `org_…` or a UUID, instead of the query parameter.
    #[schema(
        pattern = "^(org_[0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32})$"
    )]
    pub organization_id: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = FreddyToolOutput)]
pub struct ToolOutputBody {
    /// The `id` of a pending call.
    #[schema(example = "call_abc123")]
    pub tool_call_id: String,
    /// What the tool answered, as text (JSON as text is fine).
    #[schema(example = "{\"temperature\": 21}")]
    pub output: String,
}

/// Submit tool outputs: answer every pending call of a run in
/// `requires_action`; the same run goes on with its next model step. Answers
/// when the run has ended or waits for outputs again, with its last
/// assistant message; with `stream`, the run's events from the ones these
/// outputs caused to the end, with their ids in the run's log. A call id that is
/// unknown, repeated or missing answers 422 (`param: tool_outputs…`) and
/// changes nothing; a run that is not waiting answers 409.
#[utoipa::path(post, path = "/v1/threads/{thread_id}/runs/{run_id}/submit_tool_outputs", tag = "freddy",
    operation_id = "freddy_submit_tool_outputs",
    params(super::openapi::ThreadIdParam, super::openapi::RunIdParam, OrganizationParam),
    request_body = SubmitToolOutputs,
    security(("api_key" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The run as it ended or waits again, with its last assistant message; or, with `stream`, its events from these outputs on.",
            content((RunResult = "application/json"), (super::openapi::RunEvent = "text/event-stream"))),
        (status = 409, description = "The run is not waiting for tool outputs, or a request with this Idempotency-Key is still in progress.", body = super::error::ErrorBody)))]
pub async fn submit_tool_outputs(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Freddy>,
    PathId(path, _): PathId<Freddy, RunPath>,
    Query(query, _): Query<Freddy, OrganizationParam>,
    headers: HeaderMap,
    Json(body, _): Json<Freddy, SubmitToolOutputs>,
) -> Result<Response> {
    let stream = crate::sse::wanted(&headers, body.stream);
    let named = super::named_organization(body.organization_id, query.organization_id)?;
    let scope = scope(&state, &principal, named.as_deref()).await?;
    state
        .spool
        .run_in_thread(&principal, &scope, path.thread, path.run, None)
        .await?;
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
        .submit_tool_outputs(&principal, &scope, path.run, outputs)
        .await?;
    if stream {
        return Ok(crate::sse::stream(
            events.past_waits(waits).await,
            super::runs::data,
        ));
    }
    Ok(axum::Json(RunResult::settled(events, waits).await?).into_response())
}
