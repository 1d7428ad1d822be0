//! athena's error bodies, Laravel style: `{"message": "...", "errors": {...}}`.

use crate::error::{ApiError, Dialect, log_internal};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use spool_core::CoreError;

pub struct Athena;

impl Dialect for Athena {
    type Error = AthenaError;
}

#[derive(Debug)]
pub struct AthenaError(pub ApiError);

impl From<ApiError> for AthenaError {
    fn from(err: ApiError) -> Self {
        AthenaError(err)
    }
}

impl From<CoreError> for AthenaError {
    fn from(err: CoreError) -> Self {
        AthenaError(ApiError::Core(err))
    }
}

impl IntoResponse for AthenaError {
    fn into_response(self) -> Response {
        let (status, body) = match self.0 {
            ApiError::Core(err) => {
                log_internal(&err);
                match err {
                    CoreError::Unauthenticated => (
                        StatusCode::UNAUTHORIZED,
                        json!({ "message": "Unauthenticated." }),
                    ),
                    CoreError::Forbidden(message) => {
                        (StatusCode::FORBIDDEN, json!({ "message": message }))
                    }
                    CoreError::NotFound(what) => (
                        StatusCode::NOT_FOUND,
                        json!({ "message": format!("{what} not found.") }),
                    ),
                    CoreError::Validation(errors) => (
                        StatusCode::UNPROCESSABLE_ENTITY,
                        json!({ "message": errors.first_message(), "errors": errors.0 }),
                    ),
                    CoreError::Conflict(message) => {
                        (StatusCode::CONFLICT, json!({ "message": message }))
                    }
                    CoreError::TooLarge(message) => {
                        (StatusCode::PAYLOAD_TOO_LARGE, json!({ "message": message }))
                    }
                    CoreError::RateLimited { retry_after_secs } => {
                        let mut response = (
                            StatusCode::TOO_MANY_REQUESTS,
                            axum::Json(json!({ "message": "Too Many Attempts." })),
                        )
                            .into_response();
                        response
                            .headers_mut()
                            .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
                        return response;
                    }
                    CoreError::Internal(_) => (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        json!({ "message": "Server Error" }),
                    ),
                }
            }
            ApiError::BadRequest(message) => {
                (StatusCode::BAD_REQUEST, json!({ "message": message }))
            }
            ApiError::PayloadTooLarge { limit } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                json!({ "message": format!("The request body is larger than the limit of {limit} bytes.") }),
            ),
            ApiError::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                json!({ "message": "The request body must be JSON, sent with Content-Type: application/json." }),
            ),
            ApiError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                json!({ "message": "The method is not supported for this route; see the Allow header." }),
            ),
            ApiError::RouteNotFound => (
                StatusCode::NOT_FOUND,
                json!({ "message": "No such endpoint." }),
            ),
        };
        (status, axum::Json(body)).into_response()
    }
}
