//! A run by freddy's run id (`run_…`, or a raw UUID) under its thread:
//! read it, cancel it, re-attach to its events in freddy's shapes.

use super::runs::RunObject;
use super::{Freddy, OrganizationParam, Result, ids, scope};
use crate::AppState;
use crate::extract::{Auth, Query};
use crate::paths::{FromPath, PathId};
use crate::query::QueryPairs;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use spool_core::{RunId, ThreadId};

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
