//! The openai dialect's error body, OpenAI's own:
//! `{"error": {"message", "type", "param", "code"}}`, with the statuses the
//! official SDK turns into its exception classes. Bad input is a 400
//! (`invalid_request_error`), as OpenAI answers it, never a 422.

use crate::error::{ApiError, Dialect, log_internal};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use spool_core::CoreError;

pub struct OpenAi;

impl Dialect for OpenAi {
    type Error = OpenAiError;
}

#[derive(Debug)]
pub enum OpenAiError {
    Api(ApiError),
    /// A request spool reads but refuses as OpenAI would: 400 naming `param`.
    Invalid {
        param: Option<String>,
        message: String,
    },
    /// A refusal with its own status and `code`: a busy conversation
    /// (`conversation_locked`, 400), or input that reads well but names
    /// nothing to act on (422, docs/openai.md).
    Coded {
        status: StatusCode,
        code: &'static str,
        param: Option<String>,
        message: String,
    },
}

impl OpenAiError {
    pub fn invalid(param: &str, message: impl Into<String>) -> Self {
        OpenAiError::Invalid {
            param: Some(param.to_owned()),
            message: message.into(),
        }
    }
}

impl From<ApiError> for OpenAiError {
    fn from(err: ApiError) -> Self {
        OpenAiError::Api(err)
    }
}

impl From<CoreError> for OpenAiError {
    fn from(err: CoreError) -> Self {
        // The core names an assistant's instructions `instruction`, a run's
        // output limit `max_tokens`.
        OpenAiError::Api(ApiError::Core(err.renamed(&[
            ("instruction", "instructions"),
            ("max_tokens", "max_completion_tokens"),
            ("agent_uuid", "assistant_id"),
        ])))
    }
}

#[derive(Serialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Serialize)]
struct ErrorDetail {
    message: String,
    #[serde(rename = "type")]
    kind: &'static str,
    param: Option<String>,
    code: Option<&'static str>,
}

struct Described {
    status: StatusCode,
    kind: &'static str,
    code: Option<&'static str>,
    message: String,
    param: Option<String>,
}

fn described(
    status: StatusCode,
    kind: &'static str,
    code: Option<&'static str>,
    message: impl Into<String>,
) -> Described {
    Described {
        status,
        kind,
        code,
        message: message.into(),
        param: None,
    }
}

fn describe(err: OpenAiError) -> Described {
    use StatusCode as S;
    let err = match err {
        OpenAiError::Invalid { param, message } => {
            return Described {
                param,
                ..described(S::BAD_REQUEST, "invalid_request_error", None, message)
            };
        }
        OpenAiError::Coded {
            status,
            code,
            param,
            message,
        } => {
            return Described {
                param,
                ..described(status, "invalid_request_error", Some(code), message)
            };
        }
        OpenAiError::Api(err) => err,
    };
    match err {
        ApiError::Core(err) => {
            log_internal(&err);
            match err {
                CoreError::Unauthenticated => described(
                    S::UNAUTHORIZED,
                    "invalid_request_error",
                    Some("invalid_api_key"),
                    "Incorrect API key provided: send a spool API key as Authorization: Bearer.",
                ),
                CoreError::Forbidden(message) => {
                    described(S::FORBIDDEN, "invalid_request_error", None, message)
                }
                CoreError::NotFound(what) => described(
                    S::NOT_FOUND,
                    "invalid_request_error",
                    None,
                    format!("No such {}.", what.to_lowercase()),
                ),
                CoreError::Validation(errors) => {
                    let (param, message) = errors
                        .0
                        .iter()
                        .find_map(|(field, messages)| {
                            Some((field.clone(), messages.first()?.clone()))
                        })
                        .unwrap_or_else(|| ("body".into(), "The request is invalid.".into()));
                    Described {
                        param: Some(param),
                        ..described(S::BAD_REQUEST, "invalid_request_error", None, message)
                    }
                }
                CoreError::Conflict(message) => {
                    described(S::CONFLICT, "invalid_request_error", None, message)
                }
                CoreError::TooLarge(message) => {
                    described(S::PAYLOAD_TOO_LARGE, "invalid_request_error", None, message)
                }
                CoreError::RateLimited { .. } => described(
                    S::TOO_MANY_REQUESTS,
                    "requests",
                    Some("rate_limit_exceeded"),
                    "Too many requests; retry after the Retry-After seconds.",
                ),
                CoreError::Internal(_) => described(
                    S::INTERNAL_SERVER_ERROR,
                    "server_error",
                    None,
                    "The server failed to answer; the request id is in X-Request-Id.",
                ),
            }
        }
        ApiError::BadRequest(message) => {
            described(S::BAD_REQUEST, "invalid_request_error", None, message)
        }
        ApiError::PayloadTooLarge { limit } => described(
            S::PAYLOAD_TOO_LARGE,
            "invalid_request_error",
            None,
            format!("The request body is larger than the limit of {limit} bytes."),
        ),
        ApiError::UnsupportedMediaType => described(
            S::UNSUPPORTED_MEDIA_TYPE,
            "invalid_request_error",
            None,
            "The request body must be JSON, sent with Content-Type: application/json.",
        ),
        ApiError::MethodNotAllowed => described(
            S::METHOD_NOT_ALLOWED,
            "invalid_request_error",
            None,
            "The method is not supported for this route; see the Allow header.",
        ),
        ApiError::RouteNotFound => described(
            S::NOT_FOUND,
            "invalid_request_error",
            Some("unknown_url"),
            "Unrecognized request URL; spool serves OpenAI's API under /openai/v1.",
        ),
    }
}

impl IntoResponse for OpenAiError {
    fn into_response(self) -> Response {
        let retry_after = match &self {
            OpenAiError::Api(ApiError::Core(CoreError::RateLimited { retry_after_secs })) => {
                Some(*retry_after_secs)
            }
            _ => None,
        };
        let Described {
            status,
            kind,
            code,
            message,
            param,
        } = describe(self);
        let body = ErrorBody {
            error: ErrorDetail {
                message,
                kind,
                param,
                code,
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
    fn validation_is_a_400_naming_the_openai_field() {
        let described = describe(CoreError::invalid("instruction", "too long").into());
        assert_eq!(described.status, StatusCode::BAD_REQUEST);
        assert_eq!(described.param.as_deref(), Some("instructions"));
        assert_eq!(described.kind, "invalid_request_error");
    }

    #[test]
    fn unknown_credentials_are_a_401() {
        let described = describe(CoreError::Unauthenticated.into());
        assert_eq!(described.status, StatusCode::UNAUTHORIZED);
        assert_eq!(described.code, Some("invalid_api_key"));
    }
}
