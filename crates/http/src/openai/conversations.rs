//! Conversations (OpenAI's Conversations API): a conversation is a spool
//! thread, its items the thread's messages (items.rs). Create (with up to
//! 20 items), retrieve, update metadata, delete; items: create (up to 20),
//! list, retrieve, delete.

use super::items::{ItemId, items_of, message_input};
use super::wire::{Deleted, List, time};
use super::{OpenAi, OpenAiError, Result, ids, scope};
use crate::AppState;
use crate::extract::{Auth, Json};
use crate::paths::{FromPath, PathId};
use crate::query::QueryPairs;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use spool_core::listing::Paging;
use spool_core::model::{Message, Thread};
use spool_core::service::{
    MessageListInput, NewMessageInput, NewThreadInput, Scope, ThreadUpdateInput,
};
use spool_core::{CoreError, Principal, ThreadId};

/// How many items one request may add, as OpenAI allows.
pub const ITEMS_MAX: usize = 20;

pub struct ConversationPath(pub ThreadId);

impl FromPath for ConversationPath {
    const WHAT: &'static str = "Conversation";
    fn from_path(values: &[&str]) -> Option<Self> {
        ids::parse(ids::CONVERSATION, values.first()?).map(|id| ConversationPath(ThreadId(id)))
    }
}

pub struct ItemPath(pub ThreadId, pub ItemId);

impl FromPath for ItemPath {
    const WHAT: &'static str = "Item";
    fn from_path(values: &[&str]) -> Option<Self> {
        Some(ItemPath(
            ThreadId(ids::parse(ids::CONVERSATION, values.first()?)?),
            ItemId::parse(values.get(1)?)?,
        ))
    }
}

/// The core's absent thread is the client's absent conversation.
pub fn missing(err: CoreError) -> CoreError {
    match err {
        CoreError::NotFound("Thread") => CoreError::NotFound("Conversation"),
        other => other,
    }
}

pub fn conversation_object(thread: Thread) -> Value {
    json!({
        "id": ids::render(ids::CONVERSATION, thread.id.0),
        "object": "conversation",
        "created_at": time(thread.created_at),
        "metadata": thread.metadata.into_map(),
    })
}

/// Reads message items (at most [`ITEMS_MAX`]) before anything is stored.
fn message_items(field: &str, items: &[Value]) -> Result<Vec<NewMessageInput>> {
    if items.len() > ITEMS_MAX {
        return Err(OpenAiError::invalid(
            field,
            format!("At most {ITEMS_MAX} items may be added at once."),
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| message_input(&format!("{field}[{i}]"), item))
        .collect()
}

/// Appends `messages` in order; their items, in order.
async fn append(
    state: &AppState,
    principal: &Principal,
    scope: &Scope,
    thread: ThreadId,
    messages: Vec<NewMessageInput>,
) -> std::result::Result<Vec<Value>, spool_core::CoreError> {
    let mut added = Vec::new();
    for message in messages {
        let message = state
            .spool
            .create_message(principal, scope, thread, message, None)
            .await?;
        added.extend(items_of(&message).into_iter().map(|(_, item)| item));
    }
    Ok(added)
}

#[derive(Deserialize)]
pub struct CreateConversation {
    #[serde(default)]
    pub items: Vec<Value>,
    pub metadata: Option<Map<String, Value>>,
}

pub async fn create(
    State(state): State<AppState>,
    Auth(principal, _): Auth<OpenAi>,
    Json(body, _): Json<OpenAi, CreateConversation>,
) -> Result<axum::Json<Value>> {
    let scope = scope(&state, &principal).await?;
    let messages = message_items("items", &body.items)?;
    let input = NewThreadInput {
        metadata: body.metadata,
        ..Default::default()
    };
    let thread = state.spool.create_thread(&principal, &scope, input).await?;
    if let Err(err) = append(&state, &principal, &scope, thread.id, messages).await {
        // An item refused leaves no conversation behind.
        let _ = state
            .spool
            .delete_thread(&principal, &scope, thread.id, None)
            .await;
        return Err(err.renamed(&[("content", "items")]).into());
    }
    Ok(axum::Json(conversation_object(thread)))
}

pub async fn show(
    State(state): State<AppState>,
    Auth(principal, _): Auth<OpenAi>,
    PathId(ConversationPath(id), _): PathId<OpenAi, ConversationPath>,
) -> Result<axum::Json<Value>> {
    let scope = scope(&state, &principal).await?;
    let thread = state
        .spool
        .thread(&principal, &scope, id, None)
        .await
        .map_err(missing)?;
    Ok(axum::Json(conversation_object(thread)))
}

#[derive(Deserialize)]
pub struct UpdateConversation {
    pub metadata: Map<String, Value>,
}

pub async fn update(
    State(state): State<AppState>,
    Auth(principal, _): Auth<OpenAi>,
    PathId(ConversationPath(id), _): PathId<OpenAi, ConversationPath>,
    Json(body, _): Json<OpenAi, UpdateConversation>,
) -> Result<axum::Json<Value>> {
    let scope = scope(&state, &principal).await?;
    let input = ThreadUpdateInput {
        metadata: Some(body.metadata),
        ..Default::default()
    };
    let thread = state
        .spool
        .update_thread(&principal, &scope, id, input, None)
        .await
        .map_err(missing)?;
    Ok(axum::Json(conversation_object(thread)))
}

pub async fn delete(
    State(state): State<AppState>,
    Auth(principal, _): Auth<OpenAi>,
    PathId(ConversationPath(id), _): PathId<OpenAi, ConversationPath>,
) -> Result<axum::Json<Deleted>> {
    let scope = scope(&state, &principal).await?;
    state
        .spool
        .delete_thread(&principal, &scope, id, None)
        .await
        .map_err(missing)?;
    Ok(axum::Json(Deleted {
        id: ids::render(ids::CONVERSATION, id.0),
        object: "conversation.deleted",
        deleted: true,
    }))
}

#[derive(Deserialize)]
pub struct CreateItems {
    pub items: Vec<Value>,
}

pub async fn create_items(
    State(state): State<AppState>,
    Auth(principal, _): Auth<OpenAi>,
    PathId(ConversationPath(id), _): PathId<OpenAi, ConversationPath>,
    Json(body, _): Json<OpenAi, CreateItems>,
) -> Result<axum::Json<List<Value>>> {
    let scope = scope(&state, &principal).await?;
    if body.items.is_empty() {
        return Err(OpenAiError::invalid("items", "Give at least one item."));
    }
    let messages = message_items("items", &body.items)?;
    state
        .spool
        .thread(&principal, &scope, id, None)
        .await
        .map_err(missing)?;
    let added = append(&state, &principal, &scope, id, messages)
        .await
        .map_err(|err| err.renamed(&[("content", "items")]))?;
    Ok(axum::Json(List::new(added, false, item_id)))
}

fn item_id(item: &Value) -> &str {
    item["id"].as_str().unwrap_or_default()
}

/// The items of `thread` whose messages `keep` accepts, a page as OpenAI
/// lists them: `limit` (1–100, default 20), `order` (default `desc`),
/// `after` an item id. Keyset over the messages, so stable under inserts.
pub async fn page_items(
    state: &AppState,
    principal: &Principal,
    scope: &Scope,
    thread: ThreadId,
    query: &QueryPairs<OpenAi>,
    keep: impl Fn(&Message) -> bool,
) -> Result<List<Value>> {
    let limit = query.u32("limit")?.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(OpenAiError::invalid(
            "limit",
            "The limit must be between 1 and 100.",
        ));
    }
    let limit = limit as usize;
    let descending = match query.get("order") {
        None | Some("desc") => true,
        Some("asc") => false,
        Some(other) => {
            return Err(OpenAiError::invalid(
                "order",
                format!("Invalid value for 'order': '{other}'; expected 'asc' or 'desc'."),
            ));
        }
    };
    let ordered = |message: &Message| {
        let mut items = items_of(message);
        if descending {
            items.reverse();
        }
        items
    };
    let unknown = || OpenAiError::invalid("after", "The after names no item of this list.");
    let mut items: Vec<(ItemId, Value)> = Vec::new();
    let mut cursor = None;
    if let Some(text) = query.get("after").filter(|t| !t.is_empty()) {
        let after = ItemId::parse(text).ok_or_else(unknown)?;
        let message = state
            .spool
            .message_in_thread(principal, scope, thread, after.message())
            .await
            .map_err(|_| unknown())?;
        let of = ordered(&message);
        let place = of
            .iter()
            .position(|(id, _)| *id == after)
            .ok_or_else(unknown)?;
        if keep(&message) {
            items.extend(of.into_iter().skip(place + 1));
        }
        cursor = Some(message.cursor());
    } else {
        state
            .spool
            .thread(principal, scope, thread, None)
            .await
            .map_err(missing)?;
    }
    while items.len() <= limit {
        let input = MessageListInput {
            order: Some(if descending { "desc" } else { "asc" }.to_owned()),
            paging: Paging::keyset(cursor, None, Some(100), 100)?,
            run: None,
            conversation_only: false,
        };
        let (listing, _) = state
            .spool
            .list_messages(principal, scope, thread, input, None)
            .await?;
        let page = listing.into_cursor()?;
        for message in page.items.iter().filter(|m| keep(m)) {
            items.extend(ordered(message));
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let more = items.len() > limit;
    items.truncate(limit);
    Ok(List::new(
        items.into_iter().map(|(_, item)| item).collect(),
        more,
        item_id,
    ))
}

pub async fn list_items(
    State(state): State<AppState>,
    Auth(principal, _): Auth<OpenAi>,
    PathId(ConversationPath(id), _): PathId<OpenAi, ConversationPath>,
    query: QueryPairs<OpenAi>,
) -> Result<axum::Json<List<Value>>> {
    let scope = scope(&state, &principal).await?;
    let list = page_items(&state, &principal, &scope, id, &query, |_| true).await?;
    Ok(axum::Json(list))
}

pub async fn show_item(
    State(state): State<AppState>,
    Auth(principal, _): Auth<OpenAi>,
    PathId(ItemPath(thread, item), _): PathId<OpenAi, ItemPath>,
) -> Result<axum::Json<Value>> {
    let scope = scope(&state, &principal).await?;
    let message = state
        .spool
        .message_in_thread(&principal, &scope, thread, item.message())
        .await
        .map_err(|_| CoreError::NotFound("Item"))?;
    items_of(&message)
        .into_iter()
        .find(|(id, _)| *id == item)
        .map(|(_, value)| axum::Json(value))
        .ok_or(CoreError::NotFound("Item").into())
}

/// Deletes the message the item comes from (with the message's other
/// items: a text and the calls written with it are one spool message);
/// answers the conversation, as OpenAI does.
pub async fn delete_item(
    State(state): State<AppState>,
    Auth(principal, _): Auth<OpenAi>,
    PathId(ItemPath(thread, item), _): PathId<OpenAi, ItemPath>,
) -> Result<axum::Json<Value>> {
    let scope = scope(&state, &principal).await?;
    let message = state
        .spool
        .message_in_thread(&principal, &scope, thread, item.message())
        .await
        .map_err(|_| CoreError::NotFound("Item"))?;
    if !items_of(&message).iter().any(|(id, _)| *id == item) {
        return Err(CoreError::NotFound("Item").into());
    }
    state
        .spool
        .delete_message(&principal, &scope, message.id)
        .await?;
    let thread = state.spool.thread(&principal, &scope, thread, None).await?;
    Ok(axum::Json(conversation_object(thread)))
}
