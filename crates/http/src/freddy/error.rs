//! freddy's error bodies, OpenAI style:
//! `{"error": {"type", "code", "message", "param"}}`.

use super::openapi::ErrorType;
use crate::error::{ApiError, Dialect, log_internal};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use spool_core::CoreError;
use utoipa::ToSchema;

pub struct Freddy;

impl Dialect for Freddy {
    type Error = FreddyError;
}

#[derive(Debug)]
pub struct FreddyError(pub ApiError);

impl From<ApiError> for FreddyError {
    fn from(err: ApiError) -> Self {
        FreddyError(err)
    }
}

impl From<CoreError> for FreddyError {
    fn from(err: CoreError) -> Self {
        // The core names a thread's title `name` and its assistant `agent_uuid`.
        FreddyError(ApiError::Core(err.renamed(&[
            ("name", "title"),
            ("agent_uuid", "assistant_id"),
            ("workspace_uuid", "organization_id"),
        ])))
    }
}

/// `{"error": {"type", "code", "message", "param"}}`.
#[derive(Serialize, ToSchema)]
#[schema(as = FreddyError)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
#[schema(as = FreddyErrorDetail)]
pub struct ErrorDetail {
    #[serde(rename = "type")]
    #[schema(value_type = ErrorType)]
    pub kind: &'static str,
    /// `invalid_json`, `invalid_api_key`, `forbidden`, `resource_not_found`,
    /// `unknown_route`, `method_not_allowed`, `payload_too_large`,
    /// `unsupported_media_type`, `conflict`, `missing_required_field`,
    /// `invalid_value`, `rate_limit_exceeded` or `internal_error`.
    #[schema(example = "invalid_value")]
    pub code: &'static str,
    pub message: String,
    /// The field at fault (422): `title`, `metadata.<key>`, `organization_id`…
    #[schema(required = true, example = "title")]
    pub param: Option<String>,
}

struct Body {
    status: StatusCode,
    kind: &'static str,
    code: &'static str,
    message: String,
    param: Option<String>,
}

fn body(
    status: StatusCode,
    kind: &'static str,
    code: &'static str,
    message: impl Into<String>,
) -> Body {
    Body {
        status,
        kind,
        code,
        message: message.into(),
        param: None,
    }
}

fn describe(err: ApiError) -> Body {
    use StatusCode as S;
    match err {
        ApiError::Core(err) => {
            log_internal(&err);
            match err {
                CoreError::Unauthenticated => body(
                    S::UNAUTHORIZED,
                    "authentication_error",
                    "invalid_api_key",
                    "Missing or invalid credentials: send X-API-Key or Authorization: Bearer.",
                ),
                CoreError::Forbidden(message) => {
                    body(S::FORBIDDEN, "permission_error", "forbidden", message)
                }
                CoreError::NotFound(what) => body(
                    S::NOT_FOUND,
                    "not_found_error",
                    "resource_not_found",
                    format!("{what} not found."),
                ),
                CoreError::Validation(errors) => {
                    let (param, first) = errors
                        .0
                        .iter()
                        .find_map(|(field, messages)| {
                            Some((field.clone(), messages.first()?.clone()))
                        })
                        .unwrap_or_else(|| ("body".into(), "The request is invalid.".into()));
                    let code = if first.contains("field is required") {
                        "missing_required_field"
                    } else {
                        "invalid_value"
                    };
                    Body {
                        param: Some(param),
                        ..body(
                            S::UNPROCESSABLE_ENTITY,
                            "invalid_request_error",
                            code,
                            first,
                        )
                    }
                }
                CoreError::Conflict(message) => {
                    body(S::CONFLICT, "conflict_error", "conflict", message)
                }
                CoreError::TooLarge(message) => body(
                    S::PAYLOAD_TOO_LARGE,
                    "invalid_request_error",
                    "payload_too_large",
                    message,
                ),
                CoreError::RateLimited { .. } => body(
                    S::TOO_MANY_REQUESTS,
                    "rate_limit_error",
                    "rate_limit_exceeded",
                    "Too many requests; retry after the Retry-After seconds.",
                ),
                CoreError::Internal(_) => body(
                    S::INTERNAL_SERVER_ERROR,
                    "server_error",
                    "internal_error",
                    "The server failed to answer; the request id is in X-Request-Id.",
                ),
            }
        }
        ApiError::BadRequest(message) => body(
            S::BAD_REQUEST,
            "invalid_request_error",
            "invalid_json",
            message,
        ),
        ApiError::PayloadTooLarge { limit } => body(
            S::PAYLOAD_TOO_LARGE,
            "invalid_request_error",
            "payload_too_large",
            format!("The request body is larger than the limit of {limit} bytes."),
        ),
        ApiError::UnsupportedMediaType => body(
            S::UNSUPPORTED_MEDIA_TYPE,
            "invalid_request_error",
            "unsupported_media_type",
            "The request body must be JSON, sent with Content-Type: application/json.",
        ),
        ApiError::MethodNotAllowed => body(
            S::METHOD_NOT_ALLOWED,
            "invalid_request_error",
            "method_not_allowed",
            "The method is not supported for this route; see the Allow header.",
        ),
        ApiError::RouteNotFound => body(
            S::NOT_FOUND,
            "not_found_error",
            "unknown_route",
            "No such endpoint.",
        ),
    }
}

impl IntoResponse for FreddyError {
    fn into_response(self) -> Response {
        let retry_after = match &self.0 {
            ApiError::Core(CoreError::RateLimited { retry_after_secs }) => Some(*retry_after_secs),
            _ => None,
        };
        let Body {
            status,
            kind,
            code,
            message,
            param,
        } = describe(self.0);
        let body = ErrorBody {
            error: ErrorDetail {
                kind,
                code,
                message,
                param,
            },
        };
        let mut response = (status, axum::Json(body)).into_response();
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_the_freddy_field() {
        let described = describe(FreddyError::from(CoreError::invalid("name", "too long")).0);
        assert_eq!(described.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(described.param.as_deref(), Some("title"));
        assert_eq!(described.code, "invalid_value");
    }
}
