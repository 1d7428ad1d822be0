//! Runs: create (on a thread, or with a new thread), retrieve, list,
//! cancel, answer tool calls; streamed or not. A run answers at once, as
//! OpenAI's does: clients poll it or stream it.

use super::messages::{NewMessage, message_input};
use super::threads::{CreateThread, create_thread};
use super::wire::{List, RunObject};
use super::{OpenAi, OpenAiError, Result, RunPath, ThreadPath, ids, scope, tools_in};
use crate::AppState;
use crate::extract::{Auth, Json};
use crate::paths::PathId;
use crate::query::QueryPairs;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value};
use spool_core::listing::Paging;
use spool_core::runs::{RunInput, ToolOutput};
use spool_core::service::Scope;
use spool_core::{AgentId, CoreError, Principal, RunId, ThreadId};

/// The parts of a run request that OpenAI's create and create-and-run share.
#[derive(Deserialize)]
pub struct RunOptions {
    pub assistant_id: String,
    pub model: Option<String>,
    pub instructions: Option<String>,
    pub additional_instructions: Option<String>,
    pub tools: Option<Vec<Value>>,
    pub tool_choice: Option<Value>,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    #[serde(default, deserialize_with = "crate::paths::whole_number")]
    pub max_completion_tokens: Option<u32>,
    #[serde(default, deserialize_with = "crate::paths::whole_number")]
    pub max_prompt_tokens: Option<u32>,
    pub truncation_strategy: Option<Value>,
    pub response_format: Option<Value>,
    pub parallel_tool_calls: Option<bool>,
    pub metadata: Option<Map<String, Value>>,
    pub stream: Option<bool>,
}

#[derive(Deserialize)]
pub struct CreateRun {
    #[serde(flatten)]
    pub options: RunOptions,
    pub additional_messages: Option<Vec<NewMessage>>,
}

#[derive(Deserialize)]
pub struct CreateThreadAndRun {
    #[serde(flatten)]
    pub options: RunOptions,
    pub thread: Option<CreateThread>,
    pub tool_resources: Option<Value>,
}

impl RunOptions {
    fn input(self) -> Result<(RunInput, bool)> {
        let agent = ids::parse(ids::ASSISTANT, &self.assistant_id).ok_or_else(|| {
            OpenAiError::invalid("assistant_id", "No such assistant; ids look like asst_….")
        })?;
        super::check_response_format(self.response_format.as_ref())?;
        let history_limit = match &self.truncation_strategy {
            None => None,
            Some(strategy) => match strategy["type"].as_str() {
                Some("auto") => None,
                Some("last_messages") => match strategy["last_messages"].as_u64() {
                    Some(n @ 1..) => Some(u32::try_from(n).unwrap_or(u32::MAX)),
                    _ => {
                        return Err(OpenAiError::invalid(
                            "truncation_strategy.last_messages",
                            "last_messages must be a whole number of at least 1.",
                        ));
                    }
                },
                _ => {
                    return Err(OpenAiError::invalid(
                        "truncation_strategy.type",
                        "The truncation_strategy type must be 'auto' or 'last_messages'.",
                    ));
                }
            },
        };
        // Accepted, as OpenAI's own runs accepted them: spool trims the
        // prompt to the model's window itself and runs calls in order.
        let _ = (self.max_prompt_tokens, self.parallel_tool_calls);
        let tools = self
            .tools
            .as_deref()
            .map(|t| tools_in("tools", t))
            .transpose()?;
        let input = RunInput {
            model: self.model,
            temperature: self.temperature,
            top_p: self.top_p,
            max_tokens: self.max_completion_tokens,
            metadata: self.metadata,
            history_limit,
            tools,
            tool_choice: self.tool_choice,
            agent: Some(AgentId(agent)),
            instructions: self.instructions,
            additional_instructions: self.additional_instructions,
            ..Default::default()
        };
        Ok((input, self.stream.unwrap_or(false)))
    }
}

/// Starts the run and answers it: the run as it is now, or its stream.
async fn start(
    state: &AppState,
    principal: &Principal,
    scope: &Scope,
    thread: ThreadId,
    input: RunInput,
    stream: bool,
) -> Result<Response> {
    let started = match state
        .spool
        .start_run(principal, scope, thread, input, None)
        .await
    {
        Ok(started) => started,
        Err(CoreError::Conflict(message)) => {
            return Err(busy(state, principal, scope, thread, message).await);
        }
        Err(other) => return Err(other.into()),
    };
    if stream {
        return Ok(super::stream::stream(started.events, 0));
    }
    Ok(axum::Json(RunObject::new(&started.run)).into_response())
}

/// A thread with an active run answers 400 naming both, as OpenAI does.
async fn busy(
    state: &AppState,
    principal: &Principal,
    scope: &Scope,
    thread: ThreadId,
    fallback: String,
) -> OpenAiError {
    let paging = match Paging::keyset(None, None, Some(20), 20) {
        Ok(paging) => paging,
        Err(err) => return err.into(),
    };
    let active = match state
        .spool
        .list_runs(principal, scope, thread, paging, true)
        .await
    {
        Ok(listing) => listing
            .items()
            .iter()
            .find(|run| !run.status.is_terminal())
            .map(|run| run.id),
        Err(err) => return err.into(),
    };
    let message = match active {
        Some(run) => format!(
            "Thread {} already has an active run {}.",
            ids::render(ids::THREAD, thread.0),
            ids::render(ids::RUN, run.0)
        ),
        None => fallback,
    };
    OpenAiError::Invalid {
        param: None,
        message,
    }
}

pub async fn create(
    State(state): State<AppState>,
    Auth(principal, _): Auth<OpenAi>,
    PathId(ThreadPath(thread), _): PathId<OpenAi, ThreadPath>,
    Json(body, _): Json<OpenAi, CreateRun>,
) -> Result<Response> {
    let scope = scope(&state, &principal).await?;
    let (input, stream) = body.options.input()?;
    let extra = body
        .additional_messages
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(i, m)| message_input(&format!("additional_messages[{i}]"), m))
        .collect::<Result<Vec<_>>>()?;
    state.spool.thread(&principal, &scope, thread, None).await?;
    for message in extra {
        state
            .spool
            .create_message(&principal, &scope, thread, message, None)
            .await
            .map_err(super::attachments_named)?;
    }
    start(&state, &principal, &scope, thread, input, stream).await
}

pub async fn create_thread_and_run(
    State(state): State<AppState>,
    Auth(principal, _): Auth<OpenAi>,
    Json(body, _): Json<OpenAi, CreateThreadAndRun>,
) -> Result<Response> {
    let scope = scope(&state, &principal).await?;
    let (input, stream) = body.options.input()?;
    if body
        .tool_resources
        .as_ref()
        .is_some_and(|v| v.as_object().is_some_and(|m| !m.is_empty()))
    {
        return Err(OpenAiError::invalid(
            "tool_resources",
            "spool has no code interpreter or file search, so no tool_resources.",
        ));
    }
    if let Some(agent) = input.agent {
        state
            .spool
            .usable_agent(&principal, &scope, agent)
            .await
            .map_err(|_| OpenAiError::invalid("assistant_id", "No such assistant."))?;
    }
    // The new thread is the assistant's, as athena's agent runs make theirs
    // (so it also reads back under the agent in thena).
    let thread = create_thread(
        &state,
        &principal,
        &scope,
        body.thread.unwrap_or_default(),
        input.agent,
    )
    .await?;
    start(&state, &principal, &scope, thread.id, input, stream).await
}

pub async fn show(
    State(state): State<AppState>,
    Auth(principal, _): Auth<OpenAi>,
    PathId(RunPath(thread, run), _): PathId<OpenAi, RunPath>,
) -> Result<axum::Json<RunObject>> {
    let scope = scope(&state, &principal).await?;
    let run = state
        .spool
        .run_in_thread(&principal, &scope, thread, run, None)
        .await?;
    Ok(axum::Json(RunObject::new(&run)))
}

/// The thread's runs, newest first unless `order=asc`.
pub async fn list(
    State(state): State<AppState>,
    Auth(principal, _): Auth<OpenAi>,
    PathId(ThreadPath(thread), _): PathId<OpenAi, ThreadPath>,
    query: QueryPairs<OpenAi>,
) -> Result<axum::Json<List<RunObject>>> {
    let scope = scope(&state, &principal).await?;
    let params = super::ListQuery::parse(&query, ids::RUN)?;
    let mark = |field: &'static str, id: Option<uuid::Uuid>| {
        let (state, principal, scope) = (&state, &principal, &scope);
        async move {
            match id {
                None => Ok(None),
                Some(id) => state
                    .spool
                    .run_cursor(principal, scope, thread, RunId(id))
                    .await
                    .map(Some)
                    .map_err(crate::keyset::unknown_mark(field)),
            }
        }
    };
    let after = mark("after", params.after).await?;
    let before = mark("before", params.before).await?;
    let paging = Paging::keyset(after, before, Some(params.limit), 20)?;
    let listing = state
        .spool
        .list_runs(&principal, &scope, thread, paging, params.descending)
        .await?;
    Ok(axum::Json(List::page(
        listing.into_cursor()?,
        params.before.is_some(),
        |run| RunObject::new(&run),
        |r: &RunObject| &r.id,
    )))
}

pub async fn cancel(
    State(state): State<AppState>,
    Auth(principal, _): Auth<OpenAi>,
    PathId(RunPath(thread, run), _): PathId<OpenAi, RunPath>,
) -> Result<axum::Json<RunObject>> {
    let scope = scope(&state, &principal).await?;
    state
        .spool
        .run_in_thread(&principal, &scope, thread, run, None)
        .await?;
    let run = state.spool.cancel_run(&principal, &scope, run).await?;
    // Asked to stop but not stopped yet (its node has not answered within
    // the wait): OpenAI's `cancelling`, until it ends.
    if !run.status.is_terminal() {
        return Ok(axum::Json(RunObject::with_status(&run, "cancelling")));
    }
    Ok(axum::Json(RunObject::new(&run)))
}

#[derive(Deserialize)]
pub struct UpdateRun {
    pub metadata: Option<Map<String, Value>>,
}

/// Modify: a run's own fields are its history; only its metadata changes.
pub async fn update(
    State(state): State<AppState>,
    Auth(principal, _): Auth<OpenAi>,
    PathId(RunPath(thread, run), _): PathId<OpenAi, RunPath>,
    Json(body, _): Json<OpenAi, UpdateRun>,
) -> Result<axum::Json<RunObject>> {
    let scope = scope(&state, &principal).await?;
    let run = match body.metadata {
        Some(metadata) => {
            state
                .spool
                .update_run_metadata(&principal, &scope, thread, run, metadata)
                .await?
        }
        None => {
            state
                .spool
                .run_in_thread(&principal, &scope, thread, run, None)
                .await?
        }
    };
    Ok(axum::Json(RunObject::new(&run)))
}

#[derive(Deserialize)]
pub struct SubmitToolOutputs {
    pub tool_outputs: Vec<ToolOutputBody>,
    pub stream: Option<bool>,
}

#[derive(Deserialize)]
pub struct ToolOutputBody {
    pub tool_call_id: String,
    #[serde(default)]
    pub output: String,
}

/// Answers the run's pending calls; the run goes on. Answers the run as it
/// is then (`in_progress`), or streams from where the wait was.
pub async fn submit_tool_outputs(
    State(state): State<AppState>,
    Auth(principal, _): Auth<OpenAi>,
    PathId(RunPath(thread, run), _): PathId<OpenAi, RunPath>,
    Json(body, _): Json<OpenAi, SubmitToolOutputs>,
) -> Result<Response> {
    let scope = scope(&state, &principal).await?;
    state
        .spool
        .run_in_thread(&principal, &scope, thread, run, None)
        .await?;
    let outputs = body
        .tool_outputs
        .into_iter()
        .map(|o| ToolOutput {
            tool_call_id: o.tool_call_id,
            output: o.output,
        })
        .collect();
    let (events, waits) = match state
        .spool
        .submit_tool_outputs(&principal, &scope, run, outputs)
        .await
    {
        Ok(answer) => answer,
        // OpenAI answers a run that is not waiting with a 400.
        Err(CoreError::Conflict(message)) => {
            return Err(OpenAiError::Invalid {
                param: None,
                message,
            });
        }
        Err(other) => return Err(other.into()),
    };
    if body.stream.unwrap_or(false) {
        return Ok(super::stream::stream(events, waits));
    }
    drop(events);
    let run = state
        .spool
        .run_in_thread(&principal, &scope, thread, run, None)
        .await?;
    Ok(axum::Json(RunObject::new(&run)).into_response())
}
