//! The athena dialect (native): `/api/v1/...`, Laravel envelopes and errors.

pub mod auth;
pub mod error;
pub mod keys;
pub mod wire;
pub mod workspaces;

pub use error::{Athena, AthenaError};

use serde::Deserialize;
use spool_core::WorkspaceId;
use spool_core::paging::PageRequest;

pub type Result<T> = std::result::Result<T, AthenaError>;

#[derive(Deserialize, utoipa::IntoParams)]
pub struct PageParams {
    /// 1-based page number.
    pub page: Option<u32>,
    /// Items per page, 1–100 (default 15).
    pub per_page: Option<u32>,
}

impl PageParams {
    pub fn request(&self) -> Result<PageRequest> {
        Ok(PageRequest::parse(self.page, self.per_page)?)
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct WorkspaceParam {
    /// The workspace to act in; defaults to the API key's or the user's primary workspace.
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
