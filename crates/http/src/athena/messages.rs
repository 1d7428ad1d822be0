//! Messages (seed 001 create) in thread order.

use super::resources::{MessageBody, ThreadSummary};
use super::wire::{Data, ListBody, data};
use super::{Athena, Result, WorkspaceParam, paging, scope};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::{Auth, Json, Query};
use crate::paths::PathId;
use crate::query::QueryPairs;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Map, Value};
use spool_core::listing::Listing;
use spool_core::model::{Message, Thread};
use spool_core::service::{MessageUpdateInput, MessageView, NewMessageInput};
use spool_core::{MessageId, Principal, ThreadId};
use std::sync::Arc;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AthenaCreateMessage)]
pub struct CreateMessage {
    /// The thread; may also be given as the `thread_uuid` query parameter.
    #[schema(format = Uuid)]
    pub thread_uuid: Option<String>,
    /// Markdown, not blank; at most `content_max_bytes` (256 KiB by default) in UTF-8.
    #[schema(value_type = String, required = true, min_length = 1, example = "Hello! How can I help you today?")]
    pub content: Option<String>,
    /// `user` (default), `assistant`, `system` or `tool`.
    #[schema(value_type = Option<super::openapi::MessageRole>)]
    pub role: Option<String>,
    /// `[{key, name}]` of uploaded files (`POST /api/v1/files`); an unknown
    /// or out-of-reach key answers 422 and nothing is written.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub files: Vec<super::files::FileRefBody>,
    #[schema(schema_with = super::openapi::message_metadata_input)]
    pub metadata: Option<Map<String, Value>>,
    #[schema(format = Uuid)]
    pub workspace_uuid: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AthenaUpdateMessage)]
pub struct UpdateMessage {
    /// Markdown, not blank; at most `content_max_bytes` in UTF-8.
    #[schema(min_length = 1)]
    pub content: Option<String>,
    /// Replaces the client's metadata keys.
    #[schema(schema_with = super::openapi::message_metadata_input)]
    pub metadata: Option<Map<String, Value>>,
    #[schema(format = Uuid)]
    pub workspace_uuid: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CreateParams {
    /// The workspace to act in; by default the API key's own, or the
    /// signed-in user's primary workspace.
    #[param(format = Uuid)]
    pub workspace_uuid: Option<String>,
    /// The thread, when the body does not name it.
    #[param(format = Uuid)]
    pub thread_uuid: Option<String>,
}

async fn render(
    state: &AppState,
    principal: &Principal,
    message: Message,
    thread: Thread,
) -> Result<axum::Json<Data<MessageBody>>> {
    let thread = Arc::new(state.spool.thread_view(thread).await?);
    Ok(data(MessageBody::new(
        MessageView { message, thread },
        principal.user_id(),
    )))
}

fn thread_field(value: Option<&str>) -> Result<ThreadId> {
    let value = value
        .ok_or_else(|| ApiError::invalid("thread_uuid", "The thread uuid field is required."))?;
    ThreadId::parse(value).ok_or_else(|| {
        ApiError::invalid("thread_uuid", "The thread uuid must be a valid UUID.").into()
    })
}

/// List a thread's messages
///
/// In thread order (`order=desc` for newest first); page or
/// cursor mode. A page holds at most `list_page_max_bytes` of messages (at
/// least one): one cut short has fewer than `per_page` items and a `next`
/// link — in page mode a cursor link — after its last item. Each item's
/// `thread` is the compact summary, not the whole nested thread.
#[utoipa::path(get, path = "/api/v1/messages", tag = "athena: messages", operation_id = "athena_list_messages",
    params(super::openapi::MessageFilters, WorkspaceParam, super::PageParams, super::openapi::CursorParam),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "A page of the thread's messages, in page or cursor mode", body = super::openapi::AthenaMessageList),
        (status = 404, description = "No such thread within reach, or the workspace is out of reach", body = super::openapi::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    query: QueryPairs<Athena>,
) -> Result<axum::Json<ListBody<MessageBody>>> {
    let thread_id = thread_field(query.get("thread_uuid"))?;
    let scope = scope(&state, &principal, query.get("workspace_uuid")).await?;
    let (listing, thread) = state
        .spool
        .list_thread_messages(
            &principal,
            &scope,
            thread_id,
            query.get("order"),
            paging(&query)?,
        )
        .await?;
    // A page mode page the byte bound cut goes on with a cursor (docs/api.md).
    let cut = match &listing {
        Listing::Page(page) if page.is_cut() => page.items.last().map(Message::cursor),
        _ => None,
    };
    let thread = Arc::new(ThreadSummary::from(&thread));
    let body = ListBody::new(listing, "/api/v1/messages", |message| {
        MessageBody::listed(message, &thread)
    });
    Ok(axum::Json(body.continuing_after(cut).keeping(&query.0)))
}

/// Create a message
///
/// Appends a message to a thread (seed 001). Allowed while a run is active;
/// the next run sees it.
#[utoipa::path(post, path = "/api/v1/messages", tag = "athena: messages", operation_id = "athena_create_message",
    params(CreateParams), request_body = CreateMessage, security(("bearer" = []), ("api_key" = [])),
    responses((status = 201, description = "Appended", body = super::openapi::AthenaMessageResponse),
        (status = 404, description = "No such thread within reach, or the workspace is out of reach", body = super::openapi::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    Query(query, _): Query<Athena, CreateParams>,
    Json(body, _): Json<Athena, CreateMessage>,
) -> Result<(StatusCode, axum::Json<Data<MessageBody>>)> {
    let thread_id = thread_field(body.thread_uuid.as_deref().or(query.thread_uuid.as_deref()))?;
    let named = super::named_workspace(body.workspace_uuid.clone(), query.workspace_uuid)?;
    let scope = scope(&state, &principal, named.as_deref()).await?;
    let input = NewMessageInput {
        content: body.content,
        role: body.role,
        metadata: body.metadata,
        files: super::files::refs(body.files),
    };
    let view = state
        .spool
        .create_message_view(&principal, &scope, thread_id, input, None)
        .await?;
    Ok((
        StatusCode::CREATED,
        data(MessageBody::new(view, principal.user_id())),
    ))
}

/// Get a message
#[utoipa::path(get, path = "/api/v1/messages/{uuid}", tag = "athena: messages", operation_id = "athena_get_message",
    params(("uuid" = String, Path, format = Uuid), WorkspaceParam), security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "The message with its whole thread", body = super::openapi::AthenaMessageResponse)))]
pub async fn show(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    PathId(id, _): PathId<Athena, MessageId>,
    Query(query, _): Query<Athena, WorkspaceParam>,
) -> Result<axum::Json<Data<MessageBody>>> {
    let scope = scope(&state, &principal, query.workspace_uuid.as_deref()).await?;
    let (message, thread) = state.spool.message(&principal, &scope, id, None).await?;
    render(&state, &principal, message, thread).await
}

/// Update a message
///
/// It keeps its place in the thread.
#[utoipa::path(put, path = "/api/v1/messages/{uuid}", tag = "athena: messages", operation_id = "athena_update_message",
    params(("uuid" = String, Path, format = Uuid), WorkspaceParam), request_body = UpdateMessage,
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "Updated", body = super::openapi::AthenaMessageResponse)))]
pub async fn update(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    PathId(id, _): PathId<Athena, MessageId>,
    Query(query, _): Query<Athena, WorkspaceParam>,
    Json(body, _): Json<Athena, UpdateMessage>,
) -> Result<axum::Json<Data<MessageBody>>> {
    let named = super::named_workspace(body.workspace_uuid.clone(), query.workspace_uuid)?;
    let scope = scope(&state, &principal, named.as_deref()).await?;
    let input = MessageUpdateInput {
        content: body.content,
        metadata: body.metadata,
    };
    let (message, thread) = state
        .spool
        .update_message(&principal, &scope, id, input)
        .await?;
    render(&state, &principal, message, thread).await
}

/// Delete a message
#[utoipa::path(delete, path = "/api/v1/messages/{uuid}", tag = "athena: messages", operation_id = "athena_delete_message",
    params(("uuid" = String, Path, format = Uuid), WorkspaceParam), security(("bearer" = []), ("api_key" = [])),
    responses((status = 204, description = "Deleted")))]
pub async fn delete(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    PathId(id, _): PathId<Athena, MessageId>,
    Query(query, _): Query<Athena, WorkspaceParam>,
) -> Result<StatusCode> {
    let scope = scope(&state, &principal, query.workspace_uuid.as_deref()).await?;
    state.spool.delete_message(&principal, &scope, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
