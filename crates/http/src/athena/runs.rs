//! Running a thread: start (streamed or not), follow, list, cancel; an
//! agent run that makes its own thread; titles written by a model.

use super::resources::{MessageBody, ThreadBody, message_metadata};
use super::wire::{Data, ListBody, data, time};
use super::{Athena, Result, WorkspaceParam, paging, scope};
use crate::AppState;
use crate::extract::{Auth, Json, Query};
use crate::paths::PathId;
use crate::query::QueryPairs;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use spool_core::model::{Message, Run};
use spool_core::runs::{RunEventKind, RunInput, Subscription};
use spool_core::service::{MessageView, NewThreadInput};
use spool_core::{AgentId, Principal, RunId, ThreadId};
use std::sync::Arc;
use utoipa::ToSchema;

/// Every field optional; an empty object runs the thread as it is.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
#[schema(as = AthenaRunRequest)]
pub struct RunRequest {
    /// A user message appended first, atomically with the run: markdown, not
    /// blank, at most `content_max_bytes` in UTF-8.
    #[schema(min_length = 1)]
    pub content: Option<String>,
    /// Files attached to that user message (`content` needed), by the keys
    /// uploads answered; an unknown or out-of-reach key answers 422.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub files: Vec<super::files::FileRefBody>,
    /// Metadata of that user message.
    #[schema(schema_with = super::openapi::message_metadata_input)]
    pub metadata: Option<Map<String, Value>>,
    /// A model of the catalog; else the thread's `metadata.model`, the
    /// agent's `large_language_model`, or the server default. Unknown: 422.
    #[schema(example = "echo")]
    pub model: Option<String>,
    #[schema(minimum = 0, maximum = 2)]
    pub temperature: Option<f64>,
    /// At least 1, at most the model's `max_output_tokens`.
    #[schema(minimum = 1)]
    #[serde(default, deserialize_with = "crate::paths::whole_number")]
    pub max_tokens: Option<u32>,
    /// Server-Sent Events instead of one JSON answer (also `Accept: text/event-stream`).
    pub stream: Option<bool>,
    /// `reject` (default: 409 while a run is active), `interrupt` (cancel
    /// the active run) or `enqueue` (run after it).
    #[schema(value_type = Option<super::openapi::Multitask>)]
    pub multitask: Option<String>,
    /// Tool definitions for this run, added to the agent's; one named like
    /// an agent's tool replaces it. At most 64 in all.
    #[schema(value_type = Option<Vec<super::ToolSchema>>, max_items = 64)]
    pub tools: Option<Value>,
    /// `auto` (default), `none`, `required` or `{"name": "TOOL"}`.
    #[schema(value_type = Option<super::ToolChoiceSchema>)]
    pub tool_choice: Option<Value>,
    #[schema(format = Uuid)]
    pub workspace_uuid: Option<String>,
}

impl RunRequest {
    fn input(self) -> RunInput {
        RunInput {
            content: self.content,
            files: super::files::refs(self.files),
            message_metadata: self.metadata,
            model: self.model,
            temperature: self.temperature,
            top_p: None,
            max_tokens: self.max_tokens,
            metadata: None,
            history_limit: None,
            multitask: self.multitask,
            tools: self.tools,
            tool_choice: self.tool_choice,
            agent: None,
            instructions: None,
            additional_instructions: None,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[schema(as = AthenaRunUsage)]
pub struct RunUsage {
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    pub total_tokens: Option<u64>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = AthenaRun)]
pub struct RunBody {
    #[schema(format = Uuid)]
    pub uuid: String,
    #[schema(format = Uuid)]
    pub thread_uuid: String,
    #[schema(format = Uuid)]
    pub agent_uuid: Option<String>,
    #[schema(example = "echo")]
    pub model: String,
    /// `queued`, `in_progress`, `requires_action` (waiting for tool outputs),
    /// `completed`, `failed` or `cancelled`.
    #[schema(value_type = super::openapi::RunStatus)]
    pub status: &'static str,
    pub temperature: Option<f64>,
    pub max_tokens: Option<u32>,
    pub usage: RunUsage,
    /// Why the run failed.
    pub error: Option<String>,
    /// The assistant message it produced (also a partial one).
    #[schema(format = Uuid)]
    pub message_uuid: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub started_at: Option<String>,
    #[schema(format = DateTime)]
    pub finished_at: Option<String>,
    /// While `requires_action`: `{"tool_calls": [{id, name, arguments}]}`,
    /// the calls to answer with `POST /api/v1/runs/{uuid}/tool-outputs`.
    #[schema(value_type = Option<Object>, required = true)]
    pub required_action: Option<Value>,
}

impl From<Run> for RunBody {
    fn from(run: Run) -> Self {
        let total = run.input_tokens.zip(run.output_tokens).map(|(i, o)| i + o);
        Self {
            uuid: run.id.to_string(),
            thread_uuid: run.thread_id.to_string(),
            agent_uuid: run.agent_id.map(|a| a.to_string()),
            model: run.model,
            status: run.status.as_str(),
            temperature: run.temperature,
            max_tokens: run.max_tokens,
            usage: RunUsage {
                input_tokens: run.input_tokens,
                output_tokens: run.output_tokens,
                total_tokens: total,
            },
            error: run.error,
            message_uuid: run.message_id.map(|m| m.to_string()),
            created_at: time(run.created_at),
            started_at: run.started_at.map(time),
            finished_at: run.finished_at.map(time),
            required_action: run
                .required_action
                .map(|required| json!({ "tool_calls": required["tool_calls"] })),
        }
    }
}

/// A non-streamed run's answer: the stored reply (null when the run ended
/// before any text arrived) and the run.
#[derive(Serialize, ToSchema)]
#[schema(as = AthenaRunResult)]
pub struct RunResult {
    pub data: Option<MessageBody>,
    pub run: RunBody,
}

/// A message as it appears in events: from the event alone (no nested
/// thread), so that a replayed stream is byte-for-byte the original.
#[derive(Serialize, ToSchema)]
#[schema(as = AthenaEventMessage)]
pub struct EventMessage {
    #[schema(format = Uuid)]
    pub uuid: String,
    #[schema(format = Uuid)]
    pub thread_uuid: String,
    #[schema(value_type = super::openapi::MessageRole)]
    pub role: &'static str,
    pub content: String,
    pub content_html: String,
    #[schema(schema_with = super::openapi::message_metadata)]
    pub metadata: Map<String, Value>,
    /// The tool calls of a step that called tools.
    #[schema(value_type = Vec<super::ToolCallSchema>)]
    pub tool_calls: Vec<Value>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

fn event_message(message: &Message) -> String {
    let body = EventMessage {
        uuid: message.id.to_string(),
        thread_uuid: message.thread_id.to_string(),
        role: message.role.as_str(),
        content: message.content.clone(),
        content_html: message.content_html.clone(),
        metadata: message_metadata(message),
        tool_calls: message.tool_calls.clone(),
        created_at: time(message.created_at),
        updated_at: time(message.updated_at),
    };
    serde_json::to_string(&body).unwrap_or_default()
}

/// The `data:` of each event in athena's shapes.
fn event_data(kind: &RunEventKind) -> String {
    match kind {
        RunEventKind::RunCreated(run)
        | RunEventKind::RunRequiresAction(run)
        | RunEventKind::RunCompleted(run)
        | RunEventKind::RunFailed(run)
        | RunEventKind::RunCancelled(run) => {
            serde_json::to_string(&RunBody::from(run.clone())).unwrap_or_default()
        }
        RunEventKind::MessageCreated(message) | RunEventKind::MessageCompleted(message) => {
            event_message(message)
        }
        RunEventKind::MessageDelta(piece) => json!({ "delta": { "content": piece } }).to_string(),
        RunEventKind::ToolCallCreated(call) | RunEventKind::ToolCallCompleted(call) => {
            call.to_string()
        }
        RunEventKind::Done => "[DONE]".to_owned(),
    }
}

pub(super) fn sse(events: Subscription) -> Response {
    crate::sse::stream(events, event_data)
}

/// Waits for the run's end and answers with its reply.
pub(super) async fn settle(
    state: &AppState,
    principal: &Principal,
    events: Subscription,
) -> Result<axum::Json<RunResult>> {
    settle_after(state, principal, events, 0).await
}

/// Waits for the run's end, or until it waits for tool outputs again after
/// `waits` waits, and answers with its (step's) reply.
pub(super) async fn settle_after(
    state: &AppState,
    principal: &Principal,
    events: Subscription,
    waits: u64,
) -> Result<axum::Json<RunResult>> {
    let outcome = events
        .outcome_after_waits(waits)
        .await
        .ok_or(crate::error::ApiError::not_found("Run"))?;
    let (run, reply) = (outcome.run, outcome.reply);
    let data = match reply {
        Some(message) => {
            let scope = state.spool.scope(principal, run.workspace_id).await?;
            let thread = state
                .spool
                .thread(principal, &scope, run.thread_id, None)
                .await?;
            let thread = Arc::new(state.spool.thread_view(thread).await?);
            Some(MessageBody::new(
                MessageView { message, thread },
                principal.user_id(),
            ))
        }
        None => None,
    };
    Ok(axum::Json(RunResult {
        data,
        run: RunBody::from(run),
    }))
}

/// Run a thread
///
/// Optionally appends `content` first; answers with the reply (200) or
/// streams Server-Sent Events (`run.created`, `message.created`,
/// `message.delta`, `message.completed`, `run.completed` | `run.failed` |
/// `run.cancelled`, `done`). A second run while one is active answers 409
/// unless `multitask` says otherwise. The run belongs to the server: a client
/// that disconnects does not stop it.
#[utoipa::path(post, path = "/api/v1/threads/{uuid}/run", tag = "athena: threads", operation_id = "athena_run_thread",
    params(("uuid" = String, Path, format = Uuid), WorkspaceParam), request_body = RunRequest,
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = super::openapi::RUN_ANSWER,
            content((RunResult = "application/json"), (super::openapi::RunEvent = "text/event-stream", example = json!(super::openapi::SSE_EXAMPLE)))),
        (status = 409, description = "The thread already has an active run (`multitask` is `reject`), or the Idempotency-Key's request is still in progress", body = super::openapi::ErrorBody)))]
pub async fn run_thread(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    PathId(id, _): PathId<Athena, ThreadId>,
    Query(query, _): Query<Athena, WorkspaceParam>,
    headers: HeaderMap,
    Json(body, _): Json<Athena, RunRequest>,
) -> Result<Response> {
    let named = super::named_workspace(body.workspace_uuid.clone(), query.workspace_uuid)?;
    let scope = scope(&state, &principal, named.as_deref()).await?;
    let stream = crate::sse::wanted(&headers, body.stream);
    let started = state
        .spool
        .start_run(&principal, &scope, id, body.input(), None)
        .await?;
    if stream {
        Ok(sse(started.events))
    } else {
        Ok(settle(&state, &principal, started.events)
            .await?
            .into_response())
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AthenaAgentRunRequest)]
pub struct AgentRunRequest {
    /// The first user message of the new thread: markdown, not blank, at
    /// most `content_max_bytes` in UTF-8.
    #[schema(min_length = 1)]
    pub content: String,
    /// Title of the new thread (at most 200 characters).
    #[schema(max_length = 200)]
    pub name: Option<String>,
    /// Metadata of the new thread.
    #[schema(schema_with = super::openapi::thread_metadata_input)]
    pub metadata: Option<Map<String, Value>>,
    #[schema(example = "echo")]
    pub model: Option<String>,
    #[schema(minimum = 0, maximum = 2)]
    pub temperature: Option<f64>,
    /// At least 1, at most the model's `max_output_tokens`.
    #[schema(minimum = 1)]
    #[serde(default, deserialize_with = "crate::paths::whole_number")]
    pub max_tokens: Option<u32>,
    /// Server-Sent Events instead of one JSON answer (also `Accept: text/event-stream`).
    pub stream: Option<bool>,
    #[schema(format = Uuid)]
    pub workspace_uuid: Option<String>,
}

/// Run an agent
///
/// Creates a thread with `content` and runs it.
#[utoipa::path(post, path = "/api/v1/agents/{uuid}/run", tag = "athena: agents", operation_id = "athena_run_agent",
    params(("uuid" = String, Path, format = Uuid), WorkspaceParam), request_body = AgentRunRequest,
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = super::openapi::RUN_ANSWER,
            content((RunResult = "application/json"), (super::openapi::RunEvent = "text/event-stream", example = json!(super::openapi::SSE_EXAMPLE))))))]
pub async fn run_agent(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    PathId(agent, _): PathId<Athena, AgentId>,
    Query(query, _): Query<Athena, WorkspaceParam>,
    headers: HeaderMap,
    Json(body, _): Json<Athena, AgentRunRequest>,
) -> Result<Response> {
    let named = super::named_workspace(body.workspace_uuid.clone(), query.workspace_uuid)?;
    let scope = scope(&state, &principal, named.as_deref()).await?;
    state.spool.usable_agent(&principal, &scope, agent).await?;
    let thread = NewThreadInput {
        title: body.name,
        agent: Some(agent),
        metadata: body.metadata,
        ..Default::default()
    };
    let thread = state
        .spool
        .create_thread(&principal, &scope, thread)
        .await?;
    let input = RunInput {
        content: Some(body.content),
        model: body.model,
        temperature: body.temperature,
        max_tokens: body.max_tokens,
        ..Default::default()
    };
    let started = state
        .spool
        .start_run(&principal, &scope, thread.id, input, None)
        .await?;
    if crate::sse::wanted(&headers, body.stream) {
        Ok(sse(started.events))
    } else {
        Ok(settle(&state, &principal, started.events)
            .await?
            .into_response())
    }
}

/// Get a run
#[utoipa::path(get, path = "/api/v1/runs/{uuid}", tag = "athena: runs", operation_id = "athena_get_run",
    params(("uuid" = String, Path, format = Uuid), WorkspaceParam), security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "The run", body = super::openapi::AthenaRunResponse)))]
pub async fn show(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    PathId(id, _): PathId<Athena, RunId>,
    Query(query, _): Query<Athena, WorkspaceParam>,
) -> Result<axum::Json<Data<RunBody>>> {
    let scope = scope(&state, &principal, query.workspace_uuid.as_deref()).await?;
    Ok(data(RunBody::from(
        state.spool.run(&principal, &scope, id).await?,
    )))
}

/// List a thread's runs
///
/// Newest first; page or cursor mode.
#[utoipa::path(get, path = "/api/v1/threads/{uuid}/runs", tag = "athena: runs", operation_id = "athena_list_thread_runs",
    params(("uuid" = String, Path, format = Uuid), WorkspaceParam, super::PageParams, super::openapi::CursorParam),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "A page of the thread's runs, in page or cursor mode", body = super::openapi::AthenaRunList)))]
pub async fn list(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    PathId(id, _): PathId<Athena, ThreadId>,
    query: QueryPairs<Athena>,
) -> Result<axum::Json<ListBody<RunBody>>> {
    let scope = scope(&state, &principal, query.get("workspace_uuid")).await?;
    let runs = state
        .spool
        .list_runs(&principal, &scope, id, paging(&query)?, true)
        .await?;
    Ok(axum::Json(ListBody::new(
        runs,
        &format!("/api/v1/threads/{id}/runs"),
        RunBody::from,
    )))
}

/// Cancel a run
///
/// It ends `cancelled` and keeps its partial reply.
#[utoipa::path(post, path = "/api/v1/runs/{uuid}/cancel", tag = "athena: runs", operation_id = "athena_cancel_run",
    params(("uuid" = String, Path, format = Uuid), WorkspaceParam), security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "The run, `cancelled` unless it had ended already", body = super::openapi::AthenaRunResponse)))]
pub async fn cancel(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    PathId(id, _): PathId<Athena, RunId>,
    Query(query, _): Query<Athena, WorkspaceParam>,
) -> Result<axum::Json<Data<RunBody>>> {
    let scope = scope(&state, &principal, query.workspace_uuid.as_deref()).await?;
    Ok(data(RunBody::from(
        state.spool.cancel_run(&principal, &scope, id).await?,
    )))
}

/// Follow a run's events
///
/// Re-attaches to a run's stream. `Last-Event-ID` (header, or `last_event_id`
/// query) resumes after that event with no gap and no repeat; a finished run
/// replays its events.
#[utoipa::path(get, path = "/api/v1/runs/{uuid}/events", tag = "athena: runs", operation_id = "athena_stream_run_events",
    params(("uuid" = String, Path, format = Uuid), WorkspaceParam,
        ("Last-Event-ID" = Option<i64>, Header, minimum = 0, nullable = false,
            description = "Resume after this event id (the `id:` of the last event received)"),
        ("last_event_id" = Option<i64>, Query, minimum = 0,
            description = "The same as the `Last-Event-ID` header, for clients that cannot set it; the header wins")),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = super::openapi::EVENTS_ANSWER,
        content((super::openapi::RunEvent = "text/event-stream", example = json!(super::openapi::SSE_EXAMPLE))))))]
pub async fn events(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    PathId(id, _): PathId<Athena, RunId>,
    headers: HeaderMap,
    query: QueryPairs<Athena>,
) -> Result<Response> {
    let scope = scope(&state, &principal, query.get("workspace_uuid")).await?;
    let last = crate::sse::last_event_id(&headers, query.get("last_event_id"))?;
    let events = state.spool.run_events(&principal, &scope, id, last).await?;
    Ok(sse(events))
}

/// Name a thread
///
/// Asks the naming model for a short title from the first messages and stores it.
#[utoipa::path(post, path = "/api/v1/threads/{uuid}/generate-name", tag = "athena: threads", operation_id = "athena_generate_thread_name",
    params(("uuid" = String, Path, format = Uuid), WorkspaceParam), security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "The thread with its new title", body = super::openapi::AthenaThreadResponse),
        (status = 409, description = "The naming model could not write a title", body = super::openapi::ErrorBody),
        (status = 422, description = "The thread has no messages to name it from", body = super::openapi::ValidationErrorBody)))]
pub async fn generate_name(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    PathId(id, _): PathId<Athena, ThreadId>,
    Query(query, _): Query<Athena, WorkspaceParam>,
) -> Result<axum::Json<Data<ThreadBody>>> {
    let scope = scope(&state, &principal, query.workspace_uuid.as_deref()).await?;
    let thread = state
        .spool
        .generate_name(&principal, &scope, id, None)
        .await?;
    super::threads::render(&state, &principal, thread).await
}
