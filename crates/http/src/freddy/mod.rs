//! The freddy dialect: `/v1/threads...` (seed 004), OpenAI-style objects
//! and errors, prefixed ids (`thrd_`, `org_`, `usr_`, `asst_`, `msg_`).

pub mod error;
pub mod files;
pub mod ids;
pub mod messages;
pub mod openapi;
pub mod run_events;
pub mod runs;
pub mod threads;
pub mod wire;

pub use error::{Freddy, FreddyError};

/// Tool definitions and the tool choice under freddy's schema names.
pub type ToolSchema = crate::tool_schema::Tool<Freddy>;
pub type ToolChoiceSchema = crate::tool_schema::ToolChoice<Freddy>;

use crate::AppState;
use crate::error::ApiError;
use crate::paths::FromPath;
use axum::Router;
use axum::routing::{get, post};
use serde::Deserialize;
use spool_core::service::Scope;
use spool_core::{AgentId, Principal, ThreadId, WorkspaceId};

pub type Result<T> = std::result::Result<T, FreddyError>;

/// freddy's endpoints, with their full paths; merged into the one route table.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/threads", get(threads::list).post(threads::create))
        .route(
            "/v1/threads/{thread_id}",
            get(threads::show)
                .patch(threads::update)
                .delete(threads::delete),
        )
        .route("/v1/threads/{thread_id}/pin", post(threads::pin))
        .route("/v1/threads/{thread_id}/unpin", post(threads::unpin))
        .route(
            "/v1/threads/{thread_id}/messages",
            get(messages::list).post(messages::create),
        )
        .route("/v1/threads/{thread_id}/runs", post(runs::create))
        .route(
            "/v1/threads/{thread_id}/runs/{run_id}",
            get(run_events::show),
        )
        .route(
            "/v1/threads/{thread_id}/runs/{run_id}/cancel",
            post(run_events::cancel),
        )
        .route(
            "/v1/threads/{thread_id}/runs/{run_id}/events",
            get(run_events::events),
        )
        .route(
            "/v1/threads/{thread_id}/runs/{run_id}/submit_tool_outputs",
            post(run_events::submit_tool_outputs),
        )
        .route(
            "/v1/threads/{thread_id}/generate-name",
            post(runs::generate_name),
        )
        .route(
            "/v1/files",
            get(files::list)
                .post(files::upload)
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route(
            "/v1/files/{file_id}",
            get(files::show).delete(files::delete),
        )
        .route("/v1/files/{file_id}/content", get(files::content))
}

/// `{thread_id}` of the path: `thrd_…` or a raw UUID.
pub struct ThreadPath(pub ThreadId);

impl FromPath for ThreadPath {
    const WHAT: &'static str = "Thread";
    fn from_path(values: &[&str]) -> Option<Self> {
        ids::parse(ids::THREAD, values.first()?).map(|id| ThreadPath(ThreadId(id)))
    }
}

/// A prefixed or raw id from a body or query field; malformed answers 422.
pub fn id_field(prefix: &str, field: &str, value: Option<&str>) -> Result<Option<uuid::Uuid>> {
    value
        .map(|text| {
            ids::parse(prefix, text).ok_or_else(|| {
                ApiError::invalid(
                    field,
                    format!("The {field} must be an id like {prefix}… or a UUID."),
                )
                .into()
            })
        })
        .transpose()
}

pub fn assistant_field(value: Option<&str>) -> Result<Option<AgentId>> {
    Ok(id_field(ids::ASSISTANT, "assistant_id", value)?.map(AgentId))
}

/// `organization_id` as a query parameter (optional except on create).
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrganizationParam {
    /// `org_…` or a UUID: the caller's workspace (another one answers 404).
    /// Default: the API key's workspace, or the signed-in user's primary one.
    #[param(
        pattern = "^(org_[0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32})$"
    )]
    pub organization_id: Option<String>,
}

/// `organization_id` of the body, else of the query; a malformed one in
/// either place answers 422, even when the body's wins.
pub fn named_organization(body: Option<String>, query: Option<String>) -> Result<Option<String>> {
    id_field(ids::ORGANIZATION, "organization_id", query.as_deref())?;
    Ok(body.or(query))
}

/// The workspace a request acts in; one the caller may not use is a 404.
pub async fn scope(
    state: &AppState,
    principal: &Principal,
    organization_id: Option<&str>,
) -> Result<Scope> {
    let named = id_field(ids::ORGANIZATION, "organization_id", organization_id)?.map(WorkspaceId);
    Ok(state.spool.resolve_scope(principal, named).await?)
}

pub use crate::keyset::{DEFAULT_LIMIT, ListParams, Mark, unknown_mark};
