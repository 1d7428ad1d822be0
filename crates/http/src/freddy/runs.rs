//! Runs that answer in a thread, streamed or not, and titles written by a
//! model ("Generate AI Name").

use super::openapi::{Multitask, RunStatus};
use super::wire::{MessageObject, ThreadObject, ToolCallObject, time};
use super::{Freddy, OrganizationParam, Result, ThreadPath, ids, named_organization, scope};
use crate::AppState;
use crate::extract::{Auth, Json, Query};
use crate::paths::PathId;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use spool_core::model::Run;
use spool_core::runs::{RunEventKind, RunInput};
use utoipa::ToSchema;

/// A run of the thread, and optionally a user message to start it with.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
#[schema(as = FreddyCreateRun)]
pub struct CreateRun {
    /// A user message appended first, atomically with the run; not blank,
    /// at most `content_max_bytes` (256 KiB by default) of UTF-8.
    #[schema(min_length = 1, pattern = "\\S")]
    pub content: Option<String>,
    /// Metadata of that user message.
    #[schema(schema_with = super::openapi::metadata_input, required = false)]
    pub metadata: Option<Map<String, Value>>,
    /// A model of the catalog (an unknown one answers 422); else the
    /// thread's `metadata.model`, the assistant's `large_language_model`,
    /// or the server default.
    #[schema(example = "echo")]
    pub model: Option<String>,
    #[schema(minimum = 0.0, maximum = 2.0)]
    pub temperature: Option<f64>,
    /// At most the model's `max_output_tokens`.
    #[schema(minimum = 1)]
    #[serde(default, deserialize_with = "crate::paths::whole_number")]
    pub max_tokens: Option<u32>,
    /// Server-Sent Events instead of one JSON answer (also `Accept: text/event-stream`).
    pub stream: Option<bool>,
    #[schema(value_type = Option<Multitask>)]
    pub multitask: Option<String>,
    /// Files attached to the `content` message, by id (`file_…`).
    #[serde(default)]
    #[schema(max_items = 20)]
    pub attachments: Vec<super::wire::AttachmentRef>,
    /// Tool definitions for this run, added to the assistant's; one named
    /// like an assistant's tool replaces it. At most 64 in all.
    #[schema(value_type = Option<Vec<super::ToolSchema>>, max_items = 64)]
    pub tools: Option<Value>,
    /// `auto` (default), `none`, `required` or `{"name": "TOOL"}`.
    #[schema(value_type = Option<super::ToolChoiceSchema>)]
    pub tool_choice: Option<Value>,
    /// `org_…` or a UUID, instead of the query parameter.
    #[schema(
        pattern = "^(org_[0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32})$"
    )]
    pub organization_id: Option<String>,
}

/// Tokens a run used, as the provider reported them.
#[derive(Serialize, ToSchema)]
#[schema(as = FreddyUsage)]
pub struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub total_tokens: u64,
}

/// A run, as the `run.*` events of a stream carry it.
#[derive(Serialize, ToSchema)]
#[schema(as = FreddyRun)]
pub struct RunObject {
    #[schema(
        pattern = "^run_[0-9a-f]{32}$",
        example = "run_0192c1f0a1b27c3d8e9f0a1b2c3d4e5f"
    )]
    pub id: String,
    /// Always `thread.run`.
    #[schema(example = "thread.run")]
    pub object: &'static str,
    #[schema(pattern = "^thrd_[0-9a-f]{32}$")]
    pub thread_id: String,
    #[schema(pattern = "^asst_[0-9a-f]{32}$", required = true)]
    pub assistant_id: Option<String>,
    #[schema(example = "echo")]
    pub model: String,
    #[schema(value_type = RunStatus)]
    pub status: &'static str,
    #[schema(required = true)]
    pub temperature: Option<f64>,
    #[schema(required = true)]
    pub max_tokens: Option<u32>,
    /// Null until the run ends.
    #[schema(required = true)]
    pub usage: Option<Usage>,
    /// Why it failed, in words for the client.
    #[schema(required = true)]
    pub error: Option<String>,
    /// The assistant message it wrote (also a partial one).
    #[schema(pattern = "^msg_[0-9a-f]{32}$", required = true)]
    pub message_id: Option<String>,
    /// While `requires_action`: the calls the client must answer through
    /// `POST …/runs/{run_id}/submit_tool_outputs`; null otherwise.
    #[schema(required = true)]
    pub required_action: Option<RequiredAction>,
    #[schema(format = DateTime, example = "2025-11-17T10:00:00Z")]
    pub created_at: String,
    #[schema(format = DateTime, required = true)]
    pub started_at: Option<String>,
    #[schema(format = DateTime, required = true)]
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
            required_action: run.required_action.as_ref().map(RequiredAction::new),
            created_at: time(run.created_at),
            started_at: run.started_at.map(time),
            finished_at: run.finished_at.map(time),
        }
    }
}

/// What a run waiting in `requires_action` needs, OpenAI-style.
#[derive(Serialize, ToSchema)]
#[schema(as = FreddyRequiredAction)]
pub struct RequiredAction {
    /// Always `submit_tool_outputs`.
    #[schema(example = "submit_tool_outputs")]
    pub r#type: &'static str,
    pub submit_tool_outputs: PendingCalls,
}

#[derive(Serialize, ToSchema)]
#[schema(as = FreddyPendingCalls)]
pub struct PendingCalls {
    pub tool_calls: Vec<PendingCall>,
}

/// A call waiting for its output.
#[derive(Serialize, ToSchema)]
#[schema(as = FreddyPendingCall)]
pub struct PendingCall {
    #[schema(example = "call_abc123")]
    pub id: String,
    /// Always `function`.
    #[schema(example = "function")]
    pub r#type: &'static str,
    pub function: PendingFunction,
}

#[derive(Serialize, ToSchema)]
#[schema(as = FreddyPendingFunction)]
pub struct PendingFunction {
    #[schema(example = "get_weather")]
    pub name: String,
    /// The arguments as JSON text.
    #[schema(example = "{\"city\": \"Oslo\"}")]
    pub arguments: String,
}

impl RequiredAction {
    /// From the run's stored `{"tool_calls": [{id, name, arguments}]}`.
    fn new(required: &Value) -> Self {
        let calls = required["tool_calls"].as_array().into_iter().flatten();
        Self {
            r#type: "submit_tool_outputs",
            submit_tool_outputs: PendingCalls {
                tool_calls: calls
                    .map(|call| PendingCall {
                        id: call["id"].as_str().unwrap_or_default().to_owned(),
                        r#type: "function",
                        function: PendingFunction {
                            name: call["name"].as_str().unwrap_or_default().to_owned(),
                            arguments: super::wire::arguments_text(&call["arguments"]),
                        },
                    })
                    .collect(),
            },
        }
    }
}

/// A finished run with the reply it stored.
#[derive(Serialize, ToSchema)]
#[schema(as = FreddyRunResult)]
pub struct RunResult {
    #[serde(flatten)]
    pub run: RunObject,
    /// The stored reply; null when the run ended before any text arrived.
    #[schema(required = true)]
    pub message: Option<MessageObject>,
}

impl RunResult {
    /// The run as it ends, or waits for tool outputs again after `waits`
    /// waits, with its (step's) reply.
    pub async fn settled(
        events: spool_core::runs::Subscription,
        waits: u64,
    ) -> std::result::Result<Self, spool_core::CoreError> {
        let outcome = events
            .outcome_after_waits(waits)
            .await
            .ok_or(spool_core::CoreError::NotFound("Run"))?;
        Ok(Self {
            run: RunObject::new(outcome.run),
            message: outcome.reply.map(MessageObject::new),
        })
    }
}

/// `message.delta`'s data: the next piece of the reply's text.
#[derive(Serialize, ToSchema)]
#[schema(as = FreddyMessageDelta)]
pub struct MessageDelta {
    #[schema(example = json!({"content": "Hel"}))]
    pub delta: DeltaContent,
}

#[derive(Serialize, ToSchema)]
#[schema(as = FreddyDeltaContent)]
pub struct DeltaContent {
    pub content: String,
}

impl MessageDelta {
    pub fn new(piece: &str) -> Self {
        Self {
            delta: DeltaContent {
                content: piece.to_owned(),
            },
        }
    }
}

/// An event's `data` in freddy's shapes, from the event alone.
pub(super) fn data(kind: &RunEventKind) -> String {
    match kind {
        RunEventKind::RunCreated(run)
        | RunEventKind::RunRequiresAction(run)
        | RunEventKind::RunCompleted(run)
        | RunEventKind::RunFailed(run)
        | RunEventKind::RunCancelled(run) => {
            serde_json::to_string(&RunObject::new(run.clone())).unwrap_or_default()
        }
        RunEventKind::MessageCreated(message) | RunEventKind::MessageCompleted(message) => {
            serde_json::to_string(&MessageObject::new(message.clone())).unwrap_or_default()
        }
        RunEventKind::MessageDelta(piece) => {
            serde_json::to_string(&MessageDelta::new(piece)).unwrap_or_default()
        }
        RunEventKind::ToolCallCreated(call) | RunEventKind::ToolCallCompleted(call) => {
            serde_json::to_string(&ToolCallObject::new(call)).unwrap_or_default()
        }
        RunEventKind::Done => "[DONE]".to_owned(),
    }
}

/// Run the thread: optionally append `content` first; answer with the run
/// and its stored reply (200), or stream Server-Sent Events. A second run
/// while one is active answers 409 unless `multitask` says otherwise. The
/// run belongs to the server: a client that leaves does not stop it.
#[utoipa::path(post, path = "/v1/threads/{thread_id}/runs", tag = "freddy", operation_id = "freddy_create_run",
    params(super::openapi::ThreadIdParam, OrganizationParam), request_body = CreateRun,
    security(("api_key" = []), ("bearer" = [])),
    responses(
        (status = 200, description = super::openapi::RUN_REPLY,
            content((RunResult = "application/json"), (super::openapi::RunEvent = "text/event-stream"))),
        (status = 409, description = super::openapi::RUN_CONFLICT, body = super::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Freddy>,
    PathId(ThreadPath(thread), _): PathId<Freddy, ThreadPath>,
    Query(query, _): Query<Freddy, OrganizationParam>,
    headers: HeaderMap,
    Json(body, _): Json<Freddy, CreateRun>,
) -> Result<Response> {
    let named = named_organization(body.organization_id.clone(), query.organization_id)?;
    let scope = scope(&state, &principal, named.as_deref()).await?;
    let stream = crate::sse::wanted(&headers, body.stream);
    let input = RunInput {
        content: body.content,
        message_metadata: body.metadata,
        model: body.model,
        temperature: body.temperature,
        max_tokens: body.max_tokens,
        multitask: body.multitask,
        tools: body.tools,
        tool_choice: body.tool_choice,
        files: super::wire::refs(body.attachments),
        ..Default::default()
    };
    let started = state
        .spool
        .start_run(&principal, &scope, thread, input, None)
        .await
        .map_err(|err| err.renamed(&[("files", "attachments")]))?;
    if stream {
        return Ok(crate::sse::stream(started.events, data));
    }
    Ok(axum::Json(RunResult::settled(started.events, 0).await?).into_response())
}

/// Generate AI Name: ask the naming model for a short title from the first
/// messages and store it (≤ 200 characters).
#[utoipa::path(post, path = "/v1/threads/{thread_id}/generate-name", tag = "freddy",
    operation_id = "freddy_generate_thread_name",
    params(super::openapi::ThreadIdParam, OrganizationParam),
    security(("api_key" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The thread with its new title.", body = ThreadObject),
        (status = 409, description = "The naming model failed or answered with an empty title, or a request with this Idempotency-Key is still in progress.",
            body = super::error::ErrorBody),
        (status = 422, description = "The thread has no messages to name it from (`param: thread`), or a parameter is invalid.",
            body = super::error::ErrorBody)))]
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
