//! Failures an HTTP request can meet, before or inside the core. Each dialect
//! renders an [`ApiError`] in its own error shape, in one place.

use spool_core::{CoreError, ValidationErrors};

#[derive(Debug)]
pub enum ApiError {
    Core(CoreError),
    /// The body is not JSON at all, or a query string is unreadable.
    BadRequest(String),
    PayloadTooLarge {
        limit: usize,
    },
    UnsupportedMediaType,
    /// axum already set the `Allow` header; the dialect only writes the body.
    MethodNotAllowed,
    RouteNotFound,
}

impl From<CoreError> for ApiError {
    fn from(err: CoreError) -> Self {
        ApiError::Core(err)
    }
}

impl ApiError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Core(CoreError::Validation(ValidationErrors::single(
            field, message,
        )))
    }

    pub fn not_found(what: &'static str) -> Self {
        ApiError::Core(CoreError::NotFound(what))
    }
}

/// A wire dialect: how it names itself and how it renders errors.
pub trait Dialect: Send + Sync + 'static {
    /// The error type its handlers return.
    type Error: From<ApiError> + From<CoreError> + axum::response::IntoResponse + Send;
}

/// Logs what a client must never see; called by every dialect's renderer.
pub fn log_internal(err: &CoreError) {
    if let CoreError::Internal(source) = err {
        tracing::error!(error = %source, "internal error");
    }
}
