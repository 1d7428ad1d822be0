//! Re-attaching to the run that writes a reply: its events after
//! `Last-Event-ID`, from the stored log and then live, in thena's shapes and
//! by thena's run id (the `id` of `run.created`).

use super::{Result, ScopeParams, Thena, scope};
use crate::AppState;
use crate::extract::{Auth, Query};
use crate::paths::{FromPath, PathId};
use crate::query::QueryPairs;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use spool_core::{AgentId, RunId, ThreadId};

/// `{agent_id}/threads/{thread_id}/runs/{run_id}` of the path.
pub struct RunPath {
    pub agent: AgentId,
    pub thread: ThreadId,
    pub run: RunId,
}

impl FromPath for RunPath {
    const WHAT: &'static str = "Run";
    fn from_path(values: &[&str]) -> Option<Self> {
        Some(RunPath {
            agent: AgentId::parse(values.first()?)?,
            thread: ThreadId::parse(values.get(1)?)?,
            run: RunId::parse(values.get(2)?)?,
        })
    }
}

/// Re-attach to a reply's run: the events after `Last-Event-ID` (header,
/// or `last_event_id` query), exactly as the first stream sent them, then
/// live until `done`. The run keeps going whoever follows it.
#[utoipa::path(get, path = "/api/v1/chat/{agent_id}/threads/{thread_id}/runs/{run_id}/events", tag = "thena",
    operation_id = "thena_follow_run",
    params(("agent_id" = uuid::Uuid, Path, description = "The thread's agent."),
        ("thread_id" = uuid::Uuid, Path, description = "The thread."),
        ("run_id" = uuid::Uuid, Path, description = "The run: the `id` of the stream's `run.created`."),
        ScopeParams,
        ("Last-Event-ID" = Option<i64>, Header, minimum = 0, nullable = false, description = "The `id:` of the last event seen; the stream resumes after it."),
        ("last_event_id" = Option<i64>, Query, minimum = 0, description = "The same, for clients that cannot set the header.")),
    security(("api_key" = []), ("bearer" = [])),
    responses(
        (status = 200, description = super::openapi::FOLLOW_RUN,
            content((super::openapi::RunEvent = "text/event-stream"))),
        (status = 404, description = "No such run of this thread, or its events are past their retention.", body = super::error::DetailBody)))]
pub async fn events(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Thena>,
    PathId(path, _): PathId<Thena, RunPath>,
    Query(params, _): Query<Thena, ScopeParams>,
    headers: HeaderMap,
    query: QueryPairs<Thena>,
) -> Result<Response> {
    let scope = scope(&state, &principal, params.organization_id.as_deref()).await?;
    let anon = super::end_user(&principal, params.anon_user_id, None)?;
    let anon = anon.as_deref();
    let last = crate::sse::last_event_id(&headers, query.get("last_event_id"))?;
    state
        .spool
        .agent_thread(&principal, &scope, path.agent, path.thread, anon)
        .await?;
    state
        .spool
        .run_in_thread(&principal, &scope, path.thread, path.run, anon)
        .await?;
    let events = state
        .spool
        .run_events(&principal, &scope, path.run, last)
        .await?;
    Ok(crate::sse::stream(events, super::messages::data))
}
