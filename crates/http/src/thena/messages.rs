//! A chat thread's messages: listed in keyset pages, and sent — the user's
//! message and the agent's reply, through the core's run, answered whole or
//! streamed.

use super::openapi::Multitask;
use super::wire::{MessageBody, MessageDelta, MessageList, RunBody};
use super::{ListParams, Mark, Result, ScopeParams, Thena, ThreadPath, scope, unknown_mark};
use crate::AppState;
use crate::extract::{Auth, Json, Query};
use crate::paths::PathId;
use crate::query::QueryPairs;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value};
use spool_core::model::RunStatus;
use spool_core::runs::{RunEventKind, RunInput, RunOutcome, Subscription};
use spool_core::service::MessageListInput;
use spool_core::{CoreError, MessageId};
use utoipa::ToSchema;

/// A user message for the agent, and how to run its reply.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ThenaSendMessage)]
pub struct SendMessage {
    /// The user's message, not blank; at most `content_max_bytes` (256 KiB
    /// by default) of UTF-8.
    #[schema(example = "What can you do?", min_length = 1, pattern = "\\S")]
    pub content: String,
    /// Metadata of the user's message.
    #[schema(schema_with = super::openapi::metadata_input, required = false)]
    pub metadata: Option<Map<String, Value>>,
    /// The anonymous end user writing (API keys only; a session naming one
    /// answers 422).
    #[schema(min_length = 1, max_length = 200, pattern = "\\S")]
    pub anon_user_id: Option<String>,
    /// A model of the catalog (an unknown one answers 422); else the
    /// thread's `metadata.model`, the agent's `large_language_model`, or the
    /// server default.
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
    /// Files attached to the user's message, by the keys uploads answered
    /// (`POST /api/v1/files`); an unknown or out-of-reach key answers 422.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub attachments: Vec<super::wire::AttachmentRef>,
}

/// An event's `data` in thena's shapes, from the event alone.
pub(super) fn data(kind: &RunEventKind) -> String {
    match kind {
        RunEventKind::RunCreated(run)
        | RunEventKind::RunRequiresAction(run)
        | RunEventKind::RunCompleted(run)
        | RunEventKind::RunFailed(run)
        | RunEventKind::RunCancelled(run) => {
            serde_json::to_string(&RunBody::new(run)).unwrap_or_default()
        }
        RunEventKind::MessageCreated(message) | RunEventKind::MessageCompleted(message) => {
            serde_json::to_string(&MessageBody::new(message.clone(), None)).unwrap_or_default()
        }
        RunEventKind::MessageDelta(piece) => {
            serde_json::to_string(&MessageDelta::new(piece)).unwrap_or_default()
        }
        RunEventKind::ToolCallCreated(call) | RunEventKind::ToolCallCompleted(call) => {
            call.to_string()
        }
        RunEventKind::Done => "[DONE]".to_owned(),
    }
}

/// Waits for the run's end: its reply, or why there is none.
async fn settle(events: Subscription) -> Result<MessageBody> {
    match events.outcome().await {
        Some(RunOutcome {
            reply: Some(message),
            ..
        }) => Ok(MessageBody::new(message, None)),
        Some(RunOutcome { run, .. }) if run.status == RunStatus::Cancelled => Err(
            CoreError::Conflict("The agent's reply was cancelled before any text arrived.".into())
                .into(),
        ),
        outcome => Err(CoreError::Conflict(format!(
            "The agent could not reply: {}",
            outcome
                .and_then(|o| o.run.error)
                .unwrap_or_else(|| "the run ended without a reply.".into())
        ))
        .into()),
    }
}

/// Send a user message and get the agent's reply: 200 with the stored
/// reply, or Server-Sent Events (`run.created`, `message.created`,
/// `message.delta`, `message.completed`, `run.completed` | `run.failed` |
/// `run.cancelled`, `done`). The reply is stored even if the client leaves.
/// A run that ends with no text at all answers 409 saying why.
#[utoipa::path(post, path = "/api/v1/chat/{agent_id}/threads/{thread_id}/messages", tag = "thena",
    operation_id = "thena_send_message",
    params(("agent_id" = uuid::Uuid, Path, description = "The thread's agent."),
        ("thread_id" = uuid::Uuid, Path, description = "The thread."), ScopeParams),
    request_body = SendMessage, security(("api_key" = []), ("bearer" = [])),
    responses(
        (status = 200, description = super::openapi::SEND_REPLY,
            content((MessageBody = "application/json"), (super::openapi::RunEvent = "text/event-stream"))),
        (status = 409, description = super::openapi::SEND_CONFLICT,
            body = super::error::DetailBody)))]
pub async fn send(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Thena>,
    PathId(path, _): PathId<Thena, ThreadPath>,
    Query(query, _): Query<Thena, ScopeParams>,
    headers: HeaderMap,
    Json(body, _): Json<Thena, SendMessage>,
) -> Result<Response> {
    let scope = scope(&state, &principal, query.organization_id.as_deref()).await?;
    let anon = super::end_user(&principal, query.anon_user_id, body.anon_user_id)?;
    state
        .spool
        .agent_thread(&principal, &scope, path.agent, path.thread, anon.as_deref())
        .await?;
    let stream = crate::sse::wanted(&headers, body.stream);
    let input = RunInput {
        content: Some(body.content),
        message_metadata: body.metadata,
        model: body.model,
        temperature: body.temperature,
        max_tokens: body.max_tokens,
        multitask: body.multitask,
        files: super::wire::refs(body.attachments),
        ..Default::default()
    };
    let started = state
        .spool
        .start_run(&principal, &scope, path.thread, input, anon.as_deref())
        .await
        .map_err(|err| err.renamed(&[("files", "attachments")]))?;
    if stream {
        Ok(crate::sse::stream(started.events, data))
    } else {
        Ok(axum::Json(settle(started.events).await?).into_response())
    }
}

/// The thread's messages in thread order (`order=desc` for newest first),
/// each with its feedback: `limit` (1–100, default 20), `after`/`before` (a
/// cursor, the thread's `messages_next_cursor`, or a message id). A page
/// holds at most `list_page_max_bytes` of messages, at least one.
#[utoipa::path(get, path = "/api/v1/chat/{agent_id}/threads/{thread_id}/messages", tag = "thena",
    operation_id = "thena_list_messages",
    params(("agent_id" = uuid::Uuid, Path, description = "The thread's agent."),
        ("thread_id" = uuid::Uuid, Path, description = "The thread."), ScopeParams,
        super::openapi::MessageListParams),
    security(("api_key" = []), ("bearer" = [])),
    responses((status = 200, description = "A keyset page of messages.", body = MessageList)))]
pub async fn list(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Thena>,
    PathId(path, _): PathId<Thena, ThreadPath>,
    query: QueryPairs<Thena>,
) -> Result<axum::Json<MessageList>> {
    let scope = scope(&state, &principal, query.get("organization_id")).await?;
    let end_user = super::end_user(&principal, query.string("anon_user_id"), None)?;
    let anon = end_user.as_deref();
    state
        .spool
        .agent_thread(&principal, &scope, path.agent, path.thread, anon)
        .await?;
    let params = ListParams::parse(&query, |t| uuid::Uuid::try_parse(t).ok())?;
    let mut marks = [None, None];
    for ((slot, mark), field) in marks
        .iter_mut()
        .zip([params.after, params.before])
        .zip(["after", "before"])
    {
        *slot = match mark {
            None => None,
            Some(Mark::Cursor(cursor)) => Some(cursor),
            Some(Mark::Id(id)) => Some(
                state
                    .spool
                    .message_cursor(&principal, &scope, path.thread, MessageId(id), anon)
                    .await
                    .map_err(unknown_mark(field))?,
            ),
        };
    }
    let [after, before] = marks;
    let (paging, backwards) = ListParams::paging(params.limit, after, before)?;
    let input = MessageListInput {
        order: query.string("order"),
        paging,
        run: None,
        conversation_only: false,
    };
    let (listing, _) = state
        .spool
        .list_messages(&principal, &scope, path.thread, input, anon)
        .await?;
    let page = listing.into_cursor()?;
    let feedback = state.spool.feedback_views(&page.items).await?;
    Ok(axum::Json(MessageList::new(
        MessageBody::rated(page.items, feedback),
        page.next,
        page.prev,
        backwards,
    )))
}
