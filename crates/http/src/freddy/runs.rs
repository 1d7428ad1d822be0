//! Runs that answer in a thread, streamed or not, and titles written by a
//! model ("Generate AI Name").

use super::wire::{MessageObject, ThreadObject, time};
use super::{Freddy, OrganizationParam, Result, ThreadPath, ids, scope};
use crate::AppState;
use crate::extract::{Auth, Json, Query};
use crate::paths::PathId;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use spool_core::model::Run;
use spool_core::runs::{RunEventKind, RunInput};
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct CreateRun {
    /// A user message appended first, atomically with the run.
    pub content: Option<String>,
    /// Metadata of that user message.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Map<String, Value>>,
    /// A model of the catalog; else the thread's `metadata.model`, the
    /// assistant's `large_language_model`, or the server default.
    #[schema(example = "echo")]
    pub model: Option<String>,
    pub temperature: Option<f64>,
    pub max_tokens: Option<u32>,
    /// Server-Sent Events instead of one JSON answer (also `Accept: text/event-stream`).
    pub stream: Option<bool>,
    /// `reject` (default: 409 while a run is active), `interrupt` or `enqueue`.
    pub multitask: Option<String>,
    pub organization_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub total_tokens: u64,
}

#[derive(Serialize, ToSchema)]
pub struct RunObject {
    #[schema(example = "run_0192c1f0a1b27c3d8e9f0a1b2c3d4e5f")]
    pub id: String,
    #[schema(example = "thread.run")]
    pub object: &'static str,
    pub thread_id: String,
    pub assistant_id: Option<String>,
    #[schema(example = "echo")]
    pub model: String,
    /// `queued`, `in_progress`, `completed`, `failed` or `cancelled`.
    pub status: &'static str,
    pub temperature: Option<f64>,
    pub max_tokens: Option<u32>,
    /// Null until the run ends.
    pub usage: Option<Usage>,
    /// Why it failed, in words for the client.
    pub error: Option<String>,
    /// The assistant message it wrote (also a partial one).
    pub message_id: Option<String>,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
}

impl RunObject {
    pub fn new(run: Run) -> Self {
        let usage = run.input_tokens.zip(run.output_tokens).map(|(i, o)| Usage {
            prompt_tokens: i,
            completion_tokens: o,
            total_tokens: i + o,
        });
        Self {
            id: ids::render(ids::RUN, run.id.0),
            object: "thread.run",
            thread_id: ids::render(ids::THREAD, run.thread_id.0),
            assistant_id: run.agent_id.map(|a| ids::render(ids::ASSISTANT, a.0)),
            model: run.model,
            status: run.status.as_str(),
            temperature: run.temperature,
            max_tokens: run.max_tokens,
            usage,
            error: run.error,
            message_id: run.message_id.map(|m| ids::render(ids::MESSAGE, m.0)),
            created_at: time(run.created_at),
            started_at: run.started_at.map(time),
            finished_at: run.finished_at.map(time),
        }
    }
}

/// A finished run and the reply it stored (null when it ended before any
/// text arrived).
#[derive(Serialize, ToSchema)]
pub struct RunResult {
    #[serde(flatten)]
    pub run: RunObject,
    pub message: Option<MessageObject>,
}

/// An event's `data` in freddy's shapes, from the event alone.
fn data(kind: &RunEventKind) -> String {
    match kind {
        RunEventKind::RunCreated(run)
        | RunEventKind::RunCompleted(run)
        | RunEventKind::RunFailed(run)
        | RunEventKind::RunCancelled(run) => {
            serde_json::to_string(&RunObject::new(run.clone())).unwrap_or_default()
        }
        RunEventKind::MessageCreated(message) | RunEventKind::MessageCompleted(message) => {
            serde_json::to_string(&MessageObject::new(message.clone())).unwrap_or_default()
        }
        RunEventKind::MessageDelta(piece) => json!({ "delta": { "content": piece } }).to_string(),
        RunEventKind::Done => "[DONE]".to_owned(),
    }
}

/// Run the thread: optionally append `content` first; answer with the run
/// and its stored reply (200), or stream Server-Sent Events. A second run
/// while one is active answers 409 unless `multitask` says otherwise. The
/// run belongs to the server: a client that leaves does not stop it.
#[utoipa::path(post, path = "/v1/threads/{thread_id}/runs", tag = "freddy",
    params(("thread_id" = String, Path), OrganizationParam), request_body = CreateRun,
    security(("api_key" = []), ("bearer" = [])),
    responses((status = 200, body = RunResult, description = "JSON, or text/event-stream when streaming"),
        (status = 404), (status = 409), (status = 422)))]
pub async fn create(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Freddy>,
    PathId(ThreadPath(thread), _): PathId<Freddy, ThreadPath>,
    Query(query, _): Query<Freddy, OrganizationParam>,
    headers: HeaderMap,
    Json(body, _): Json<Freddy, CreateRun>,
) -> Result<Response> {
    let named = body.organization_id.clone().or(query.organization_id);
    let scope = scope(&state, &principal, named.as_deref()).await?;
    let stream = crate::sse::wanted(&headers, body.stream);
    let input = RunInput {
        content: body.content,
        message_metadata: body.metadata,
        model: body.model,
        temperature: body.temperature,
        max_tokens: body.max_tokens,
        multitask: body.multitask,
        ..Default::default()
    };
    let started = state
        .spool
        .start_run(&principal, &scope, thread, input, None)
        .await?;
    if stream {
        return Ok(crate::sse::stream(started.events, data));
    }
    let outcome = started
        .events
        .outcome()
        .await
        .ok_or(spool_core::CoreError::NotFound("Run"))?;
    let result = RunResult {
        run: RunObject::new(outcome.run),
        message: outcome.reply.map(MessageObject::new),
    };
    Ok(axum::Json(result).into_response())
}

/// Generate AI Name: ask the naming model for a short title from the first
/// messages and store it (≤ 200 characters).
#[utoipa::path(post, path = "/v1/threads/{thread_id}/generate-name", tag = "freddy",
    params(("thread_id" = String, Path), OrganizationParam),
    security(("api_key" = []), ("bearer" = [])),
    responses((status = 200, body = ThreadObject), (status = 404), (status = 422)))]
pub async fn generate_name(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Freddy>,
    PathId(ThreadPath(thread), _): PathId<Freddy, ThreadPath>,
    Query(query, _): Query<Freddy, OrganizationParam>,
) -> Result<axum::Json<ThreadObject>> {
    let scope = scope(&state, &principal, query.organization_id.as_deref()).await?;
    let thread = state
        .spool
        .generate_name(&principal, &scope, thread, None)
        .await?;
    super::threads::render(&state, thread).await
}
