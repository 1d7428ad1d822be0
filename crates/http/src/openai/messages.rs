//! A thread's messages: create, list (OpenAI paging, newest first by
//! default), retrieve, modify metadata, delete.

use super::wire::{Deleted, List, MessageObject};
use super::{
    ListQuery, MessagePath, OpenAi, OpenAiError, Result, ThreadPath, attachment_refs, content_text,
    ids, scope,
};
use crate::AppState;
use crate::extract::{Auth, Json};
use crate::paths::PathId;
use crate::query::QueryPairs;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Map, Value};
use spool_core::listing::Paging;
use spool_core::service::{MessageListInput, MessageUpdateInput, NewMessageInput};
use spool_core::{MessageId, RunId};

#[derive(Deserialize)]
pub struct NewMessage {
    pub role: String,
    pub content: Value,
    pub attachments: Option<Vec<Value>>,
    pub metadata: Option<Map<String, Value>>,
}

/// A message of the Assistants API as spool's: `user` or `assistant`.
pub fn message_input(field: &str, message: NewMessage) -> Result<NewMessageInput> {
    let sep = if field.is_empty() { "" } else { "." };
    if !matches!(message.role.as_str(), "user" | "assistant") {
        return Err(OpenAiError::invalid(
            &format!("{field}{sep}role"),
            format!(
                "Invalid value: '{}'. Supported values are: 'user' and 'assistant'.",
                message.role
            ),
        ));
    }
    let files = attachment_refs(
        &format!("{field}{sep}attachments"),
        message.attachments.as_ref(),
    )?;
    let content = content_text(&format!("{field}{sep}content"), &message.content)?;
    Ok(NewMessageInput {
        content: Some(content),
        role: Some(message.role),
        metadata: message.metadata,
        files,
    })
}

pub async fn create(
    State(state): State<AppState>,
    Auth(principal, _): Auth<OpenAi>,
    PathId(ThreadPath(thread), _): PathId<OpenAi, ThreadPath>,
    Json(body, _): Json<OpenAi, NewMessage>,
) -> Result<axum::Json<MessageObject>> {
    let scope = scope(&state, &principal).await?;
    let input = message_input("", body)?;
    let message = state
        .spool
        .create_message(&principal, &scope, thread, input, None)
        .await
        .map_err(super::attachments_named)?;
    Ok(axum::Json(MessageObject::new(message)))
}

pub async fn list(
    State(state): State<AppState>,
    Auth(principal, _): Auth<OpenAi>,
    PathId(ThreadPath(thread), _): PathId<OpenAi, ThreadPath>,
    query: QueryPairs<OpenAi>,
) -> Result<axum::Json<List<MessageObject>>> {
    let scope = scope(&state, &principal).await?;
    let params = ListQuery::parse(&query, ids::MESSAGE)?;
    let run = query
        .get("run_id")
        .map(|text| {
            ids::parse(ids::RUN, text).map(RunId).ok_or_else(|| {
                OpenAiError::invalid("run_id", "The run_id must be an id like run_….")
            })
        })
        .transpose()?;
    let mark = |field: &'static str, id: Option<uuid::Uuid>| {
        let (state, principal, scope) = (&state, &principal, &scope);
        async move {
            match id {
                None => Ok(None),
                Some(id) => state
                    .spool
                    .message_cursor(principal, scope, thread, MessageId(id), None)
                    .await
                    .map(Some)
                    .map_err(crate::keyset::unknown_mark(field)),
            }
        }
    };
    let after = mark("after", params.after).await?;
    let before = mark("before", params.before).await?;
    let input = MessageListInput {
        order: Some(if params.descending { "desc" } else { "asc" }.to_owned()),
        paging: Paging::keyset(after, before, Some(params.limit), 20)?,
        run,
        conversation_only: true,
    };
    let (listing, _) = state
        .spool
        .list_messages(&principal, &scope, thread, input, None)
        .await?;
    Ok(axum::Json(List::page(
        listing.into_cursor()?,
        params.before.is_some(),
        MessageObject::new,
        |m: &MessageObject| &m.id,
    )))
}

pub async fn show(
    State(state): State<AppState>,
    Auth(principal, _): Auth<OpenAi>,
    PathId(MessagePath(thread, id), _): PathId<OpenAi, MessagePath>,
) -> Result<axum::Json<MessageObject>> {
    let scope = scope(&state, &principal).await?;
    let message = state
        .spool
        .message_in_thread(&principal, &scope, thread, id)
        .await?;
    Ok(axum::Json(MessageObject::new(message)))
}

#[derive(Deserialize)]
pub struct UpdateMessage {
    pub metadata: Option<Map<String, Value>>,
}

pub async fn update(
    State(state): State<AppState>,
    Auth(principal, _): Auth<OpenAi>,
    PathId(MessagePath(thread, id), _): PathId<OpenAi, MessagePath>,
    Json(body, _): Json<OpenAi, UpdateMessage>,
) -> Result<axum::Json<MessageObject>> {
    let scope = scope(&state, &principal).await?;
    state
        .spool
        .message_in_thread(&principal, &scope, thread, id)
        .await?;
    let input = MessageUpdateInput {
        content: None,
        metadata: body.metadata,
    };
    let (message, _) = state
        .spool
        .update_message(&principal, &scope, id, input)
        .await?;
    Ok(axum::Json(MessageObject::new(message)))
}

pub async fn delete(
    State(state): State<AppState>,
    Auth(principal, _): Auth<OpenAi>,
    PathId(MessagePath(thread, id), _): PathId<OpenAi, MessagePath>,
) -> Result<axum::Json<Deleted>> {
    let scope = scope(&state, &principal).await?;
    state
        .spool
        .message_in_thread(&principal, &scope, thread, id)
        .await?;
    state.spool.delete_message(&principal, &scope, id).await?;
    Ok(axum::Json(Deleted {
        id: ids::render(ids::MESSAGE, id.0),
        object: "thread.message.deleted",
        deleted: true,
    }))
}
