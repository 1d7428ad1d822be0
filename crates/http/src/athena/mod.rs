//! The athena dialect (native): `/api/v1/...`, Laravel envelopes and errors.

pub mod agents;
pub mod auth;
pub mod error;
pub mod files;
pub mod keys;
pub mod memories;
pub mod messages;
pub mod metrics;
pub mod models;
pub mod openapi;
pub mod prompts;
pub mod providers;
pub mod resources;
pub mod runs;
pub mod threads;
pub mod tool_outputs;
pub mod webhooks;
pub mod wire;
pub mod workspaces;

pub use error::{Athena, AthenaError};

use serde::Deserialize;
use spool_core::WorkspaceId;
use spool_core::paging::PageRequest;

pub type Result<T> = std::result::Result<T, AthenaError>;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// 1-based page number (default 1).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 4294967295_u64)]
    pub page: Option<u32>,
    /// Items per page, 1–100 (default 15).
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u32>,
}

impl PageParams {
    pub fn request(&self) -> Result<PageRequest> {
        Ok(PageRequest::parse(self.page, self.per_page)?)
    }
}

/// A Laravel page of a workspace's resources: `workspace_uuid`, `page`, `per_page`.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WorkspacePageParams {
    /// The workspace; by default the API key's own or the user's primary one.
    #[param(format = Uuid)]
    pub workspace_uuid: Option<String>,
    /// 1-based page number (default 1).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 4294967295_u64)]
    pub page: Option<u32>,
    /// Items per page, 1–100 (default 15).
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u32>,
}

impl WorkspacePageParams {
    /// The page asked for and the caller's scope in the workspace named.
    pub async fn resolve(
        &self,
        state: &crate::AppState,
        principal: &spool_core::Principal,
    ) -> Result<(PageRequest, spool_core::service::Scope)> {
        let page = PageRequest::parse(self.page, self.per_page)?;
        let scope = scope(state, principal, self.workspace_uuid.as_deref()).await?;
        Ok((page, scope))
    }

    /// What the page's links keep of the query.
    pub fn kept(&self) -> Vec<(String, String)> {
        self.workspace_uuid
            .iter()
            .map(|w| ("workspace_uuid".to_owned(), w.clone()))
            .collect()
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WorkspaceParam {
    /// The workspace to act in; by default the API key's own, or the
    /// signed-in user's primary workspace. One the credential may not use
    /// answers 404.
    #[param(format = Uuid)]
    pub workspace_uuid: Option<String>,
}

/// A UUID from a query or body field: malformed answers 422 naming the field.
pub fn uuid_field(field: &str, value: Option<&str>) -> Result<Option<WorkspaceId>> {
    match value {
        None => Ok(None),
        Some(text) => WorkspaceId::parse(text).map(Some).ok_or_else(|| {
            crate::error::ApiError::invalid(field, format!("The {field} must be a valid UUID."))
                .into()
        }),
    }
}

/// The workspace a write names: `workspace_uuid` of the body, else of the
/// query. Both are checked when both are given (a malformed one answers 422
/// even where the other wins).
pub fn named_workspace(body: Option<String>, query: Option<String>) -> Result<Option<String>> {
    uuid_field("workspace_uuid", query.as_deref())?;
    Ok(body.or(query))
}

/// The workspace a request acts in (`workspace_uuid` from the body, else the
/// query, else the credential's default).
pub async fn scope(
    state: &crate::AppState,
    principal: &spool_core::Principal,
    named: Option<&str>,
) -> Result<spool_core::service::Scope> {
    let named = uuid_field("workspace_uuid", named)?;
    Ok(state.spool.resolve_scope(principal, named).await?)
}

/// Laravel page mode (`page`, `per_page`) unless `cursor` is given (even
/// empty): then keyset mode. A `cursor` starting with `p` pages backwards.
pub fn paging(query: &crate::query::QueryPairs<Athena>) -> Result<spool_core::listing::Paging> {
    use spool_core::listing::{Cursor, Paging};
    let per_page = query.u32("per_page")?;
    match query.get("cursor") {
        None => Ok(Paging::Offset(PageRequest::parse(
            query.u32("page")?,
            per_page,
        )?)),
        Some("") => Ok(Paging::keyset(
            None,
            None,
            per_page,
            spool_core::paging::DEFAULT_PER_PAGE,
        )?),
        Some(token) => {
            let (before, token) = match token.strip_prefix('p') {
                Some(rest) => (true, rest),
                None => (false, token),
            };
            let cursor = Cursor::decode("cursor", token)?;
            let (after, before) = if before {
                (None, Some(cursor))
            } else {
                (Some(cursor), None)
            };
            Ok(Paging::keyset(
                after,
                before,
                per_page,
                spool_core::paging::DEFAULT_PER_PAGE,
            )?)
        }
    }
}

/// Tool definitions and the tool choice under athena's schema names.
pub type ToolSchema = crate::tool_schema::Tool<Athena>;
pub type ToolChoiceSchema = crate::tool_schema::ToolChoice<Athena>;
pub type ToolCallSchema = crate::tool_schema::ToolCall<Athena>;
