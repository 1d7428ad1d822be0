//! Responses (OpenAI's Responses API): a response is a spool run, in the
//! conversation named (a thread), in the thread of `previous_response_id`,
//! or in a new thread. Its input items are appended to the thread, which
//! is the prompt. `function_call_output` items answer the waiting run's
//! function calls, and that run goes on: the answer is the same response,
//! continued (docs/openai.md).

use super::conversations::page_items;
use super::response_input::{conversation_in, read_input, tool_choice_in, tools_in};
use super::response_object::{Extras, object, status, stored};
use super::response_stream::{Ending, stream};
use super::{OpenAi, OpenAiError, Result, ids, scope};
use crate::AppState;
use crate::extract::{Auth, Json};
use crate::paths::{FromPath, PathId};
use crate::query::QueryPairs;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value};
use spool_core::listing::Paging;
use spool_core::model::{Run, RunStatus};
use spool_core::runs::{RunInput, Subscription, ToolOutput};
use spool_core::service::{NewMessageInput, NewThreadInput, Scope};
use spool_core::{CoreError, Principal, RunId, ThreadId};

pub struct ResponsePath(pub RunId);

impl FromPath for ResponsePath {
    const WHAT: &'static str = "Response";
    fn from_path(values: &[&str]) -> Option<Self> {
        ids::parse(ids::RESPONSE, values.first()?).map(|id| ResponsePath(RunId(id)))
    }
}

#[derive(Deserialize)]
pub struct CreateResponse {
    pub model: Option<String>,
    pub input: Option<Value>,
    pub instructions: Option<String>,
    pub conversation: Option<Value>,
    pub previous_response_id: Option<String>,
    pub tools: Option<Vec<Value>>,
    pub tool_choice: Option<Value>,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    #[serde(default, deserialize_with = "crate::paths::whole_number")]
    pub max_output_tokens: Option<u32>,
    pub metadata: Option<Map<String, Value>>,
    pub stream: Option<bool>,
    pub background: Option<bool>,
    pub store: Option<bool>,
    pub text: Option<Value>,
}

/// The core's field names in the Responses API's.
const RENAMES: &[(&str, &str)] = &[
    ("max_tokens", "max_output_tokens"),
    ("content", "input"),
    ("metadata.model", "model"),
];

/// The core's absent run is the client's absent response.
fn missing(err: CoreError) -> CoreError {
    match err {
        CoreError::NotFound("Run") => CoreError::NotFound("Response"),
        other => other,
    }
}

/// OpenAI's `conversation_locked`: the conversation has a response in
/// progress (or waiting for function outputs).
fn locked(thread: ThreadId, run: RunId) -> OpenAiError {
    OpenAiError::Coded {
        status: StatusCode::BAD_REQUEST,
        code: "conversation_locked",
        param: None,
        message: format!(
            "Another response ({}) is in progress in conversation {}; wait for it, answer its function calls, or cancel it.",
            ids::render(ids::RESPONSE, run.0),
            ids::render(ids::CONVERSATION, thread.0),
        ),
    }
}

/// Function outputs that answer nothing waiting: well-formed, but
/// unprocessable (422, docs/openai.md).
fn unanswerable(param: Option<String>, message: String) -> OpenAiError {
    OpenAiError::Coded {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code: "invalid_function_call_output",
        param,
        message,
    }
}

/// The thread's run that is not finished, if any.
async fn active_run(
    state: &AppState,
    principal: &Principal,
    scope: &Scope,
    thread: ThreadId,
) -> Result<Option<Run>> {
    let paging = Paging::keyset(None, None, Some(20), 20)?;
    let listing = state
        .spool
        .list_runs(principal, scope, thread, paging, true)
        .await?;
    Ok(listing
        .items()
        .iter()
        .find(|run| !run.status.is_terminal())
        .cloned())
}

/// What spool does not build answers 400 rather than being ignored.
fn refuse_unsupported(body: &CreateResponse) -> Result<()> {
    if body.store == Some(false) {
        return Err(OpenAiError::invalid(
            "store",
            "spool stores every response (it is a run of a thread); leave store unset or true.",
        ));
    }
    if let Some(format) = body.text.as_ref().map(|t| &t["format"]["type"])
        && !format.is_null()
        && format != "text"
    {
        return Err(OpenAiError::invalid(
            "text.format.type",
            "spool answers text only; JSON output formats are not supported.",
        ));
    }
    Ok(())
}

pub async fn create(
    State(state): State<AppState>,
    Auth(principal, _): Auth<OpenAi>,
    Json(body, _): Json<OpenAi, CreateResponse>,
) -> Result<Response> {
    let scope = scope(&state, &principal).await?;
    refuse_unsupported(&body)?;
    let conversation = conversation_in(body.conversation.as_ref())?;
    let previous = match &body.previous_response_id {
        None => None,
        Some(text) => Some(ids::parse(ids::RESPONSE, text).ok_or_else(|| {
            OpenAiError::invalid("previous_response_id", "Response ids look like resp_….")
        })?),
    };
    if conversation.is_some() && previous.is_some() {
        return Err(OpenAiError::invalid(
            "previous_response_id",
            "Give either conversation or previous_response_id, not both.",
        ));
    }
    let (messages, outputs) = read_input(body.input.as_ref())?;
    let tools = body.tools.as_deref().map(tools_in).transpose()?;
    let extras = Extras {
        previous_response_id: body.previous_response_id.clone(),
        background: body.background.unwrap_or(false),
    };
    let how = Answer {
        stream: body.stream.unwrap_or(false),
        extras,
    };
    let previous = match previous {
        Some(id) => Some(
            state
                .spool
                .run(&principal, &scope, RunId(id))
                .await
                .map_err(|_| {
                    OpenAiError::invalid("previous_response_id", "No such previous response.")
                })?,
        ),
        None => None,
    };
    let thread = conversation.or(previous.as_ref().map(|run| run.thread_id));
    if !outputs.is_empty() {
        let waiting = match (&previous, thread) {
            (Some(run), _) => Some(run.clone()),
            (None, Some(thread)) => active_run(&state, &principal, &scope, thread).await?,
            (None, None) => None,
        };
        return answer_calls(&state, &principal, &scope, waiting, outputs, how).await;
    }
    if messages.is_empty() && thread.is_none() {
        return Err(OpenAiError::invalid(
            "input",
            "Give an input, a conversation or a previous_response_id.",
        ));
    }
    let input = RunInput {
        model: body.model,
        temperature: body.temperature,
        top_p: body.top_p,
        max_tokens: body.max_output_tokens,
        metadata: body.metadata,
        tools,
        tool_choice: tool_choice_in(body.tool_choice),
        instructions: body.instructions,
        ..Default::default()
    };
    let (thread, made) = match thread {
        Some(thread) => {
            state
                .spool
                .thread(&principal, &scope, thread, None)
                .await
                .map_err(super::conversations::missing)?;
            if let Some(run) = active_run(&state, &principal, &scope, thread).await? {
                return Err(locked(thread, run.id));
            }
            (thread, false)
        }
        None => {
            let made = state
                .spool
                .create_thread(&principal, &scope, NewThreadInput::default())
                .await?;
            (made.id, true)
        }
    };
    let started = start(&state, &principal, &scope, thread, messages, input).await;
    let started = match started {
        Ok(started) => started,
        Err(err) => {
            if made {
                // Refused input leaves no thread behind.
                let _ = state
                    .spool
                    .delete_thread(&principal, &scope, thread, None)
                    .await;
            }
            return Err(err);
        }
    };
    answer(&state, &principal, &scope, started.0, started.1, 0, how).await
}

/// Appends the messages (one user message goes with the run, atomically)
/// and starts the run.
async fn start(
    state: &AppState,
    principal: &Principal,
    scope: &Scope,
    thread: ThreadId,
    mut messages: Vec<NewMessageInput>,
    mut input: RunInput,
) -> Result<(Run, Subscription)> {
    let alone = messages.len() == 1 && messages[0].role.as_deref() == Some("user");
    if alone {
        input.content = messages.pop().and_then(|m| m.content);
    }
    for message in messages {
        state
            .spool
            .create_message(principal, scope, thread, message, None)
            .await
            .map_err(|err| err.renamed(RENAMES))?;
    }
    match state
        .spool
        .start_run(principal, scope, thread, input, None)
        .await
    {
        Ok(started) => Ok((started.run, started.events)),
        Err(CoreError::Conflict(_)) => {
            let active = active_run(state, principal, scope, thread).await?;
            Err(match active {
                Some(run) => locked(thread, run.id),
                None => OpenAiError::invalid("conversation", "The conversation is busy."),
            })
        }
        Err(err) => Err(err.renamed(RENAMES).into()),
    }
}

/// How the client wants the response: streamed, in the background, or
/// when it is done.
struct Answer {
    stream: bool,
    extras: Extras,
}

/// Answers the waiting run's function calls; the run goes on.
async fn answer_calls(
    state: &AppState,
    principal: &Principal,
    scope: &Scope,
    waiting: Option<Run>,
    outputs: Vec<ToolOutput>,
    how: Answer,
) -> Result<Response> {
    let first = outputs[0].tool_call_id.clone();
    let Some(run) = waiting else {
        return Err(unanswerable(
            Some("input[0].call_id".into()),
            format!("No response waits for the output of the function call '{first}'."),
        ));
    };
    let answered = state
        .spool
        .submit_tool_outputs(principal, scope, run.id, outputs)
        .await;
    let (events, waits) = match answered {
        Ok(answered) => answered,
        Err(CoreError::Conflict(_)) => {
            return Err(unanswerable(
                Some("input[0].call_id".into()),
                format!(
                    "No response waits for the output of the function call '{first}' ({} is {}).",
                    ids::render(ids::RESPONSE, run.id.0),
                    status(&run, None)
                ),
            ));
        }
        Err(CoreError::Validation(errors)) => {
            let (field, message) = errors
                .0
                .into_iter()
                .find_map(|(field, messages)| Some((field, messages.into_iter().next()?)))
                .unwrap_or_default();
            let param = field
                .replace("tool_outputs", "input")
                .replace("tool_call_id", "call_id");
            return Err(unanswerable(Some(param), message));
        }
        Err(other) => return Err(other.into()),
    };
    answer(state, principal, scope, run, events, waits, how).await
}

/// The response: its stream, or (background) the run as it is now, or the
/// run once it ends or waits for function outputs.
async fn answer(
    state: &AppState,
    principal: &Principal,
    scope: &Scope,
    run: Run,
    events: Subscription,
    waits: u64,
    how: Answer,
) -> Result<Response> {
    if how.stream {
        return Ok(stream(
            events,
            waits,
            None,
            Ending::Wait(waits + 1),
            how.extras,
        ));
    }
    if how.extras.background && waits == 0 {
        drop(events);
        let shown = object(&run, status(&run, None), Vec::new(), &how.extras);
        return Ok(axum::Json(shown).into_response());
    }
    if how.extras.background {
        // Continued: the output so far, the run as it is now.
        drop(events);
        let (run, messages) = state
            .spool
            .run_messages(principal, scope, run.thread_id, run.id)
            .await?;
        return Ok(axum::Json(stored(&run, &messages, &how.extras)).into_response());
    }
    events.outcome_after_waits(waits).await;
    let (run, messages) = state
        .spool
        .run_messages(principal, scope, run.thread_id, run.id)
        .await?;
    Ok(axum::Json(stored(&run, &messages, &how.extras)).into_response())
}

/// A response; with `stream=true`, its events (after `starting_after`).
pub async fn show(
    State(state): State<AppState>,
    Auth(principal, _): Auth<OpenAi>,
    PathId(ResponsePath(id), _): PathId<OpenAi, ResponsePath>,
    query: QueryPairs<OpenAi>,
) -> Result<Response> {
    let scope = scope(&state, &principal).await?;
    let run = state
        .spool
        .run(&principal, &scope, id)
        .await
        .map_err(missing)?;
    if query.bool("stream")?.unwrap_or(false) {
        let after = query.u32("starting_after")?.map(u64::from);
        // A finished run's waits were all answered; a waiting one's stream
        // ends at its current wait.
        let ending = match (run.status, &run.required_action) {
            (status, _) if status.is_terminal() => Ending::Done,
            (RunStatus::RequiresAction, Some(required)) => {
                Ending::Wait(required["wait"].as_u64().unwrap_or(1))
            }
            _ => Ending::SentWait,
        };
        let events = state.spool.run_events(&principal, &scope, id, 0).await?;
        return Ok(stream(events, 0, after, ending, Extras::default()));
    }
    let (run, messages) = state
        .spool
        .run_messages(&principal, &scope, run.thread_id, run.id)
        .await?;
    Ok(axum::Json(stored(&run, &messages, &Extras::default())).into_response())
}

/// Cancels the run; a finished one is left as it is.
pub async fn cancel(
    State(state): State<AppState>,
    Auth(principal, _): Auth<OpenAi>,
    PathId(ResponsePath(id), _): PathId<OpenAi, ResponsePath>,
) -> Result<axum::Json<Value>> {
    let scope = scope(&state, &principal).await?;
    let run = state
        .spool
        .cancel_run(&principal, &scope, id)
        .await
        .map_err(missing)?;
    let (run, messages) = state
        .spool
        .run_messages(&principal, &scope, run.thread_id, run.id)
        .await?;
    Ok(axum::Json(stored(&run, &messages, &Extras::default())))
}

/// The items the response's model read: the conversation's items from
/// before the response began.
pub async fn input_items(
    State(state): State<AppState>,
    Auth(principal, _): Auth<OpenAi>,
    PathId(ResponsePath(id), _): PathId<OpenAi, ResponsePath>,
    query: QueryPairs<OpenAi>,
) -> Result<axum::Json<super::wire::List<Value>>> {
    let scope = scope(&state, &principal).await?;
    let run = state
        .spool
        .run(&principal, &scope, id)
        .await
        .map_err(missing)?;
    let before = |m: &spool_core::model::Message| {
        m.created_at <= run.created_at && m.run.run_id != Some(run.id)
    };
    let list = page_items(&state, &principal, &scope, run.thread_id, &query, before).await?;
    Ok(axum::Json(list))
}
