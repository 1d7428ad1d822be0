//! A thread's messages: listed in thread order, appended.

use super::wire::{ListObject, MessageObject};
use super::{
    Freddy, ListParams, Mark, OrganizationParam, Result, ThreadPath, ids, scope, unknown_mark,
};
use crate::AppState;
use crate::extract::{Auth, Json, Query};
use crate::paths::PathId;
use crate::query::QueryPairs;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Map, Value};
use spool_core::listing::{Cursor, Listing};
use spool_core::service::{MessageListInput, NewMessageInput, Scope};
use spool_core::{CoreError, MessageId, Principal, ThreadId};
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMessage {
    /// `user` (default), `assistant`, `system` or `tool`.
    #[schema(example = "user")]
    pub role: Option<String>,
    /// The text (≤ 256 KiB).
    #[schema(example = "Hello!")]
    pub content: String,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Map<String, Value>>,
    pub organization_id: Option<String>,
}

async fn mark(
    state: &AppState,
    principal: &Principal,
    scope: &Scope,
    thread: ThreadId,
    field: &'static str,
    mark: Option<Mark>,
) -> Result<Option<Cursor>> {
    Ok(match mark {
        None => None,
        Some(Mark::Cursor(cursor)) => Some(cursor),
        Some(Mark::Id(id)) => Some(
            state
                .spool
                .message_cursor(principal, scope, thread, MessageId(id), None)
                .await
                .map_err(unknown_mark(field))?,
        ),
    })
}

/// The thread's messages in thread order (`order=desc` for newest first).
/// `limit` (1–100, default 20), `after`/`before` (a cursor or a message id).
#[utoipa::path(get, path = "/v1/threads/{thread_id}/messages", tag = "freddy",
    params(("thread_id" = String, Path), OrganizationParam, ("limit" = Option<u32>, Query), ("after" = Option<String>, Query),
        ("before" = Option<String>, Query), ("order" = Option<String>, Query)),
    security(("api_key" = []), ("bearer" = [])),
    responses((status = 200, body = ListObject<MessageObject>), (status = 404), (status = 422)))]
pub async fn list(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Freddy>,
    PathId(ThreadPath(thread), _): PathId<Freddy, ThreadPath>,
    query: QueryPairs<Freddy>,
) -> Result<axum::Json<ListObject<MessageObject>>> {
    let scope = scope(&state, &principal, query.get("organization_id")).await?;
    let params = ListParams::parse(&query, |t| ids::parse(ids::MESSAGE, t))?;
    let after = mark(&state, &principal, &scope, thread, "after", params.after).await?;
    let before = mark(&state, &principal, &scope, thread, "before", params.before).await?;
    let (paging, backwards) = ListParams::paging(params.limit, after, before)?;
    let input = MessageListInput {
        order: query.string("order"),
        paging,
    };
    let (listing, _) = state
        .spool
        .list_messages(&principal, &scope, thread, input, None)
        .await?;
    let Listing::Cursor(page) = listing else {
        return Err(CoreError::Internal("a keyset request answered an offset page".into()).into());
    };
    let data = page.items.into_iter().map(MessageObject::new).collect();
    Ok(axum::Json(ListObject::new(
        data,
        page.next,
        page.prev,
        backwards,
        |m| m.id.clone(),
    )))
}

/// Append a message to the thread (no reply: see the thread's runs).
#[utoipa::path(post, path = "/v1/threads/{thread_id}/messages", tag = "freddy",
    params(("thread_id" = String, Path), OrganizationParam), request_body = CreateMessage,
    security(("api_key" = []), ("bearer" = [])),
    responses((status = 200, body = MessageObject), (status = 404), (status = 422)))]
pub async fn create(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Freddy>,
    PathId(ThreadPath(thread), _): PathId<Freddy, ThreadPath>,
    Query(query, _): Query<Freddy, OrganizationParam>,
    Json(body, _): Json<Freddy, CreateMessage>,
) -> Result<axum::Json<MessageObject>> {
    let named = body.organization_id.clone().or(query.organization_id);
    let scope = scope(&state, &principal, named.as_deref()).await?;
    let input = NewMessageInput {
        content: Some(body.content),
        role: body.role,
        metadata: body.metadata,
        files: Vec::new(),
    };
    let message = state
        .spool
        .create_message(&principal, &scope, thread, input, None)
        .await?;
    Ok(axum::Json(MessageObject::new(message)))
}
