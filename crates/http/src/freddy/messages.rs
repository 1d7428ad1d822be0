//! A thread's messages: listed in thread order, appended.

use super::openapi::Role;
use super::wire::{MessageList, MessageObject};
use super::{
    Freddy, ListParams, Mark, OrganizationParam, Result, ThreadPath, ids, named_organization,
    scope, unknown_mark,
};
use crate::AppState;
use crate::extract::{Auth, Json, Query};
use crate::paths::PathId;
use crate::query::QueryPairs;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Map, Value};
use spool_core::listing::Cursor;
use spool_core::service::{MessageListInput, NewMessageInput, Scope};
use spool_core::{MessageId, Principal, ThreadId};
use utoipa::ToSchema;

/// A message to append (no reply: see the thread's runs).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = FreddyCreateMessage)]
pub struct CreateMessage {
    /// Default `user`.
    #[schema(value_type = Option<Role>)]
    pub role: Option<String>,
    /// The text (markdown), not blank; at most `content_max_bytes` (256 KiB
    /// by default) of UTF-8.
    #[schema(example = "Hello!", min_length = 1, pattern = "\\S")]
    pub content: String,
    #[schema(schema_with = super::openapi::metadata_input, required = false)]
    pub metadata: Option<Map<String, Value>>,
    /// `org_…` or a UUID, instead of the query parameter.
    #[schema(
        pattern = "^(org_[0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32})$"
    )]
    pub organization_id: Option<String>,
    /// Files to attach, by the ids uploads answered (`POST /v1/files`); an
    /// unknown or out-of-reach one answers 422.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub attachments: Vec<super::wire::AttachmentRef>,
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
#[utoipa::path(get, path = "/v1/threads/{thread_id}/messages", tag = "freddy", operation_id = "freddy_list_messages",
    params(super::openapi::ThreadIdParam, OrganizationParam, super::openapi::MessageListParams),
    security(("api_key" = []), ("bearer" = [])),
    responses((status = 200, description = "A list of the thread's messages.", body = MessageList)))]
pub async fn list(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Freddy>,
    PathId(ThreadPath(thread), _): PathId<Freddy, ThreadPath>,
    query: QueryPairs<Freddy>,
) -> Result<axum::Json<MessageList>> {
    let scope = scope(&state, &principal, query.get("organization_id")).await?;
    let params = ListParams::parse(&query, |t| ids::parse(ids::MESSAGE, t))?;
    let after = mark(&state, &principal, &scope, thread, "after", params.after).await?;
    let before = mark(&state, &principal, &scope, thread, "before", params.before).await?;
    let (paging, backwards) = ListParams::paging(params.limit, after, before)?;
    let input = MessageListInput {
        order: query.string("order"),
        paging,
        run: None,
        conversation_only: false,
    };
    let (listing, _) = state
        .spool
        .list_messages(&principal, &scope, thread, input, None)
        .await?;
    let page = listing.into_cursor()?;
    let data = page.items.into_iter().map(MessageObject::new).collect();
    Ok(axum::Json(MessageList::new(
        data, page.next, page.prev, backwards,
    )))
}

/// Append a message to the thread (no reply: see the thread's runs).
#[utoipa::path(post, path = "/v1/threads/{thread_id}/messages", tag = "freddy", operation_id = "freddy_create_message",
    params(super::openapi::ThreadIdParam, OrganizationParam), request_body = CreateMessage,
    security(("api_key" = []), ("bearer" = [])),
    responses((status = 200, description = "The appended message.", body = MessageObject)))]
pub async fn create(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Freddy>,
    PathId(ThreadPath(thread), _): PathId<Freddy, ThreadPath>,
    Query(query, _): Query<Freddy, OrganizationParam>,
    Json(body, _): Json<Freddy, CreateMessage>,
) -> Result<axum::Json<MessageObject>> {
    let named = named_organization(body.organization_id.clone(), query.organization_id)?;
    let scope = scope(&state, &principal, named.as_deref()).await?;
    let input = NewMessageInput {
        content: Some(body.content),
        role: body.role,
        metadata: body.metadata,
        files: super::wire::refs(body.attachments),
    };
    let message = state
        .spool
        .create_message(&principal, &scope, thread, input, None)
        .await
        .map_err(|err| err.renamed(&[("files", "attachments")]))?;
    Ok(axum::Json(MessageObject::new(message)))
}
