//! Threads: create (seed 004), list, read, change, delete, pin, name.

use super::wire::{DeletedObject, ThreadList, ThreadObject};
use super::{
    Freddy, ListParams, Mark, OrganizationParam, Result, ThreadPath, assistant_field, ids,
    named_organization, scope, unknown_mark,
};
use crate::AppState;
use crate::extract::{Auth, Json, Query};
use crate::paths::{PathId, double_option};
use crate::query::QueryPairs;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Map, Value};
use spool_core::listing::Cursor;
use spool_core::model::Thread;
use spool_core::service::{NewThreadInput, Scope, ThreadListInput, ThreadUpdateInput};
use spool_core::{CoreError, Principal, ThreadId};
use utoipa::ToSchema;

/// A new thread; every field but `organization_id` is optional.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = FreddyCreateThread)]
pub struct CreateThread {
    #[schema(schema_with = super::openapi::metadata_input, required = false)]
    pub metadata: Option<Map<String, Value>>,
    /// `asst_…` or a UUID: an assistant the caller may use (another answers
    /// 422).
    #[schema(
        pattern = "^(asst_[0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32})$"
    )]
    pub assistant_id: Option<String>,
    /// Defaults to true. Only a signed-in user (Bearer session token) may
    /// send it; with an API key it answers 422.
    pub visible_in_ui: Option<bool>,
    #[schema(max_length = 200)]
    pub title: Option<String>,
    /// `org_…` or a UUID; must be a workspace of the caller (else 404).
    #[schema(
        pattern = "^(org_[0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32})$",
        example = "org_0192c1f0a1b27c3d8e9f0a1b2c3d4e5f"
    )]
    pub organization_id: String,
}

/// Changes to a thread: absent fields are kept; `null` clears `title` and
/// `assistant_id`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = FreddyUpdateThread)]
pub struct UpdateThread {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub title: Option<Option<String>>,
    /// Replaces the metadata object.
    #[schema(schema_with = super::openapi::metadata_input, required = false)]
    pub metadata: Option<Map<String, Value>>,
    /// `asst_…` or a UUID: an assistant the caller may use (another answers
    /// 422).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>,
        pattern = "^(asst_[0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32})$")]
    pub assistant_id: Option<Option<String>>,
    /// Only a signed-in user (Bearer session token) may send it; with an API
    /// key it answers 422.
    pub visible_in_ui: Option<bool>,
    pub is_pinned: Option<bool>,
    /// `org_…` or a UUID, instead of the query parameter.
    #[schema(
        pattern = "^(org_[0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32})$"
    )]
    pub organization_id: Option<String>,
}

pub async fn render(state: &AppState, thread: Thread) -> Result<axum::Json<ThreadObject>> {
    let view = state.spool.thread_view(thread).await?;
    Ok(axum::Json(ThreadObject::new(view)))
}

/// Create a thread (seed 004).
#[utoipa::path(post, path = "/v1/threads", tag = "freddy", operation_id = "freddy_create_thread",
    request_body = CreateThread, security(("api_key" = []), ("bearer" = [])),
    responses((status = 200, description = "The new thread.", body = ThreadObject)))]
pub async fn create(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Freddy>,
    Json(body, _): Json<Freddy, CreateThread>,
) -> Result<axum::Json<ThreadObject>> {
    let scope = scope(&state, &principal, Some(&body.organization_id)).await?;
    let input = NewThreadInput {
        title: body.title,
        agent: assistant_field(body.assistant_id.as_deref())?,
        metadata: body.metadata,
        visible_in_ui: body.visible_in_ui,
        ..Default::default()
    };
    let thread = state.spool.create_thread(&principal, &scope, input).await?;
    render(&state, thread).await
}

async fn mark(
    state: &AppState,
    principal: &Principal,
    scope: &Scope,
    sort: Option<&str>,
    field: &'static str,
    mark: Option<Mark>,
) -> Result<Option<Cursor>> {
    Ok(match mark {
        None => None,
        Some(Mark::Cursor(cursor)) => Some(cursor),
        Some(Mark::Id(id)) => Some(
            state
                .spool
                .thread_cursor(principal, scope, ThreadId(id), sort, None)
                .await
                .map_err(unknown_mark(field))?,
        ),
    })
}

/// Threads the caller may see, newest activity first. `limit` (1–100,
/// default 20), `after`/`before` (a `next_cursor`/`prev_cursor` or a thread
/// id); filters `assistant_id`, `pinned`, `metadata[key]=value`; `sort`
/// (`last_message_at`, `created_at`, `updated_at`) and `order`. `search`
/// ranks by relevance, best first, paged by its own cursors.
#[utoipa::path(get, path = "/v1/threads", tag = "freddy", operation_id = "freddy_list_threads",
    params(OrganizationParam, super::openapi::ThreadListParams),
    security(("api_key" = []), ("bearer" = [])),
    responses((status = 200, description = "A list of threads.", body = ThreadList)))]
pub async fn list(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Freddy>,
    query: QueryPairs<Freddy>,
) -> Result<axum::Json<ThreadList>> {
    let scope = scope(&state, &principal, query.get("organization_id")).await?;
    let params = ListParams::parse(&query, |t| ids::parse(ids::THREAD, t))?;
    let sort = query.get("sort");
    let search = query.string("search").filter(|s| !s.trim().is_empty());
    if search.is_some() {
        // Search results are ranked: a thread's place in them is not a key
        // of the thread, so only a cursor of the same search continues them.
        for (field, given) in [("after", &params.after), ("before", &params.before)] {
            if matches!(given, Some(Mark::Id(_))) {
                return Err(CoreError::invalid(
                    field,
                    format!(
                        "With search, {field} takes the next_cursor or prev_cursor of the search, not a thread id."
                    ),
                )
                .into());
            }
        }
    }
    let after = mark(&state, &principal, &scope, sort, "after", params.after).await?;
    let before = mark(&state, &principal, &scope, sort, "before", params.before).await?;
    let (paging, backwards) = ListParams::paging(params.limit, after, before)?;
    let input = ThreadListInput {
        agent: assistant_field(query.get("assistant_id"))?,
        pinned: match query.bool("pinned")? {
            Some(pinned) => Some(pinned),
            None => query.bool("is_pinned")?,
        },
        metadata: query.bracketed("metadata"),
        search,
        sort: query.string("sort"),
        order: query.string("order"),
        anon_user_id: None,
        paging,
    };
    let page = state
        .spool
        .list_thread_views(&principal, &scope, input)
        .await?
        .into_cursor()?;
    let data = page.items.into_iter().map(ThreadObject::new).collect();
    Ok(axum::Json(ThreadList::new(
        data, page.next, page.prev, backwards,
    )))
}

/// A thread.
#[utoipa::path(get, path = "/v1/threads/{thread_id}", tag = "freddy", operation_id = "freddy_get_thread",
    params(super::openapi::ThreadIdParam, OrganizationParam), security(("api_key" = []), ("bearer" = [])),
    responses((status = 200, description = "The thread.", body = ThreadObject)))]
pub async fn show(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Freddy>,
    PathId(ThreadPath(id), _): PathId<Freddy, ThreadPath>,
    Query(query, _): Query<Freddy, OrganizationParam>,
) -> Result<axum::Json<ThreadObject>> {
    let scope = scope(&state, &principal, query.organization_id.as_deref()).await?;
    let view = state
        .spool
        .thread_view_of(&principal, &scope, id, None)
        .await?;
    Ok(axum::Json(ThreadObject::new(view)))
}

/// Change a thread's title, metadata, assistant, visibility or pin.
#[utoipa::path(patch, path = "/v1/threads/{thread_id}", tag = "freddy", operation_id = "freddy_update_thread",
    params(super::openapi::ThreadIdParam, OrganizationParam), request_body = UpdateThread,
    security(("api_key" = []), ("bearer" = [])),
    responses((status = 200, description = "The changed thread.", body = ThreadObject)))]
pub async fn update(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Freddy>,
    PathId(ThreadPath(id), _): PathId<Freddy, ThreadPath>,
    Query(query, _): Query<Freddy, OrganizationParam>,
    Json(body, _): Json<Freddy, UpdateThread>,
) -> Result<axum::Json<ThreadObject>> {
    let named = named_organization(body.organization_id.clone(), query.organization_id)?;
    let scope = scope(&state, &principal, named.as_deref()).await?;
    let agent = match body.assistant_id {
        None => None,
        Some(value) => Some(assistant_field(value.as_deref())?),
    };
    let input = ThreadUpdateInput {
        title: body.title,
        agent,
        metadata: body.metadata,
        is_pinned: body.is_pinned,
        visible_in_ui: body.visible_in_ui,
        ..Default::default()
    };
    let thread = state
        .spool
        .update_thread(&principal, &scope, id, input, None)
        .await?;
    render(&state, thread).await
}

/// Delete a thread with its messages.
#[utoipa::path(delete, path = "/v1/threads/{thread_id}", tag = "freddy", operation_id = "freddy_delete_thread",
    params(super::openapi::ThreadIdParam, OrganizationParam), security(("api_key" = []), ("bearer" = [])),
    responses((status = 200, description = "The thread is gone.", body = DeletedObject)))]
pub async fn delete(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Freddy>,
    PathId(ThreadPath(id), _): PathId<Freddy, ThreadPath>,
    Query(query, _): Query<Freddy, OrganizationParam>,
) -> Result<axum::Json<DeletedObject>> {
    let scope = scope(&state, &principal, query.organization_id.as_deref()).await?;
    state
        .spool
        .delete_thread(&principal, &scope, id, None)
        .await?;
    Ok(axum::Json(DeletedObject {
        id: ids::render(ids::THREAD, id.0),
        object: "thread.deleted",
        deleted: true,
    }))
}

async fn set_pinned(
    state: AppState,
    principal: Principal,
    id: ThreadId,
    organization_id: Option<String>,
    pinned: bool,
) -> Result<axum::Json<ThreadObject>> {
    let scope = scope(&state, &principal, organization_id.as_deref()).await?;
    let input = ThreadUpdateInput {
        is_pinned: Some(pinned),
        ..Default::default()
    };
    let thread = state
        .spool
        .update_thread(&principal, &scope, id, input, None)
        .await?;
    render(&state, thread).await
}

/// Pin a thread.
#[utoipa::path(post, path = "/v1/threads/{thread_id}/pin", tag = "freddy", operation_id = "freddy_pin_thread",
    params(super::openapi::ThreadIdParam, OrganizationParam), security(("api_key" = []), ("bearer" = [])),
    responses((status = 200, description = "The pinned thread.", body = ThreadObject)))]
pub async fn pin(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Freddy>,
    PathId(ThreadPath(id), _): PathId<Freddy, ThreadPath>,
    Query(query, _): Query<Freddy, OrganizationParam>,
) -> Result<axum::Json<ThreadObject>> {
    set_pinned(state, principal, id, query.organization_id, true).await
}

/// Unpin a thread.
#[utoipa::path(post, path = "/v1/threads/{thread_id}/unpin", tag = "freddy", operation_id = "freddy_unpin_thread",
    params(super::openapi::ThreadIdParam, OrganizationParam), security(("api_key" = []), ("bearer" = [])),
    responses((status = 200, description = "The unpinned thread.", body = ThreadObject)))]
pub async fn unpin(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Freddy>,
    PathId(ThreadPath(id), _): PathId<Freddy, ThreadPath>,
    Query(query, _): Query<Freddy, OrganizationParam>,
) -> Result<axum::Json<ThreadObject>> {
    set_pinned(state, principal, id, query.organization_id, false).await
}
