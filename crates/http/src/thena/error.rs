//! thena's error bodies, FastAPI style: `{"detail": [{"type", "loc", "msg",
//! "input"}]}` for 422, `{"detail": "..."}` for everything else.

use crate::error::{ApiError, Dialect, log_internal};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};
use spool_core::{CoreError, ValidationErrors};
use utoipa::ToSchema;

pub struct Thena;

impl Dialect for Thena {
    type Error = ThenaError;
}

#[derive(Debug)]
pub struct ThenaError(pub ApiError);

impl From<ApiError> for ThenaError {
    fn from(err: ApiError) -> Self {
        ThenaError(err)
    }
}

impl From<CoreError> for ThenaError {
    fn from(err: CoreError) -> Self {
        // The core names a thread's title `name` and its agent `agent_uuid`.
        ThenaError(ApiError::Core(err.renamed(&[
            ("name", "title"),
            ("agent_uuid", "agent_id"),
            ("workspace_uuid", "organization_id"),
        ])))
    }
}

/// Parameters thena reads from the query string; every other field is the body's.
const QUERY_PARAMS: &[&str] = &[
    "limit",
    "after",
    "before",
    "order",
    "sort",
    "search",
    "organization_id",
    "last_event_id",
];

/// Path parameters a rule can find fault with (malformed ids are 404s).
const PATH_PARAMS: &[&str] = &["message_id"];

/// Headers a rule can find fault with.
const HEADERS: &[&str] = &["Idempotency-Key"];

/// Every error but 422: `{"detail": "Thread not found"}`.
#[derive(Serialize, ToSchema)]
#[schema(as = ThenaError)]
pub struct DetailBody {
    #[schema(example = "Thread not found")]
    pub detail: String,
}

/// 422: `{"detail": [{"type", "loc", "msg", "input"}]}`, one item a problem.
#[derive(Serialize, ToSchema)]
#[schema(as = ThenaValidationError)]
pub struct ValidationBody {
    pub detail: Vec<ValidationIssue>,
}

/// One problem of a request, as pydantic reports it.
#[derive(Serialize, ToSchema)]
#[schema(as = ThenaValidationIssue)]
pub struct ValidationIssue {
    /// `missing`, `extra_forbidden`, `value_error` or `json_invalid`.
    #[serde(rename = "type")]
    #[schema(example = "value_error")]
    pub kind: &'static str,
    /// Where: `["body", "title"]`, `["query", "limit"]`, `["path",
    /// "message_id"]`, `["header", "Idempotency-Key"]`; `["body", 0]` for a
    /// body that is not JSON.
    #[schema(schema_with = loc_schema, example = json!(["body", "title"]))]
    pub loc: Value,
    pub msg: String,
    /// Always null: spool does not echo input back.
    #[schema(value_type = Value, required = true)]
    pub input: Option<Value>,
}

/// `loc`: names, and the index 0 of a body that is not JSON.
fn loc_schema() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, SchemaType, Type};
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new().schema_type(SchemaType::from_iter([Type::String, Type::Integer])),
        )
        .build()
}

/// `metadata.tier` → `["body", "metadata", "tier"]`; a field may name its
/// place itself, `query.anon_user_id` → `["query", "anon_user_id"]`.
fn loc(field: &str) -> Value {
    for place in ["query", "body", "path", "header"] {
        if let Some(name) = field.strip_prefix(place).and_then(|f| f.strip_prefix('.')) {
            return json!([place, name]);
        }
    }
    let place = if QUERY_PARAMS.contains(&field) {
        "query"
    } else if PATH_PARAMS.contains(&field) {
        "path"
    } else if HEADERS.contains(&field) {
        "header"
    } else {
        "body"
    };
    let mut parts = vec![Value::from(place)];
    if field != "body" {
        parts.extend(field.splitn(2, '.').map(Value::from));
    }
    Value::Array(parts)
}

/// pydantic's error types, as near as spool's messages tell them.
fn error_type(message: &str) -> &'static str {
    if message.contains("field is required") {
        "missing"
    } else if message.contains("not recognised") {
        "extra_forbidden"
    } else {
        "value_error"
    }
}

fn details(errors: &ValidationErrors) -> Vec<ValidationIssue> {
    errors
        .0
        .iter()
        .flat_map(|(field, messages)| {
            messages.iter().map(move |msg| ValidationIssue {
                kind: error_type(msg),
                loc: loc(field),
                msg: msg.clone(),
                input: None,
            })
        })
        .collect()
}

/// One of the two bodies thena answers errors with.
#[derive(Serialize)]
#[serde(untagged)]
enum Body {
    Detail(DetailBody),
    Validation(ValidationBody),
}

fn detail(message: impl Into<String>) -> Body {
    Body::Detail(DetailBody {
        detail: message.into(),
    })
}

impl IntoResponse for ThenaError {
    fn into_response(self) -> Response {
        let (status, body) = match self.0 {
            ApiError::Core(err) => {
                log_internal(&err);
                match err {
                    CoreError::Unauthenticated => {
                        (StatusCode::UNAUTHORIZED, detail("Not authenticated"))
                    }
                    CoreError::Forbidden(message) => (StatusCode::FORBIDDEN, detail(message)),
                    CoreError::NotFound(what) => {
                        (StatusCode::NOT_FOUND, detail(format!("{what} not found")))
                    }
                    CoreError::Validation(errors) => (
                        StatusCode::UNPROCESSABLE_ENTITY,
                        Body::Validation(ValidationBody {
                            detail: details(&errors),
                        }),
                    ),
                    CoreError::Conflict(message) => (StatusCode::CONFLICT, detail(message)),
                    CoreError::TooLarge(message) => {
                        (StatusCode::PAYLOAD_TOO_LARGE, detail(message))
                    }
                    CoreError::RateLimited { retry_after_secs } => {
                        let mut response = (
                            StatusCode::TOO_MANY_REQUESTS,
                            axum::Json(detail("Too Many Requests")),
                        )
                            .into_response();
                        response
                            .headers_mut()
                            .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
                        return response;
                    }
                    CoreError::Internal(_) => (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        detail("Internal Server Error"),
                    ),
                }
            }
            // FastAPI answers a body it cannot decode with 422 `json_invalid`.
            ApiError::BadRequest(message) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                Body::Validation(ValidationBody {
                    detail: vec![ValidationIssue {
                        kind: "json_invalid",
                        loc: json!(["body", 0]),
                        msg: message,
                        input: None,
                    }],
                }),
            ),
            ApiError::PayloadTooLarge { limit } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                detail(format!(
                    "The request body is larger than the limit of {limit} bytes."
                )),
            ),
            ApiError::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                detail("The request body must be JSON, sent with Content-Type: application/json."),
            ),
            ApiError::MethodNotAllowed => {
                (StatusCode::METHOD_NOT_ALLOWED, detail("Method Not Allowed"))
            }
            ApiError::RouteNotFound => (StatusCode::NOT_FOUND, detail("Not Found")),
        };
        (status, axum::Json(body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_say_where_the_field_was() {
        assert_eq!(loc("title"), json!(["body", "title"]));
        assert_eq!(loc("metadata.a.b"), json!(["body", "metadata", "a.b"]));
        assert_eq!(loc("limit"), json!(["query", "limit"]));
        assert_eq!(loc("body"), json!(["body"]));
        assert_eq!(loc("query.anon_user_id"), json!(["query", "anon_user_id"]));
        assert_eq!(loc("Idempotency-Key"), json!(["header", "Idempotency-Key"]));
    }

    #[test]
    fn core_field_names_become_thenas() {
        let ThenaError(ApiError::Core(CoreError::Validation(errors))) =
            ThenaError::from(CoreError::invalid("name", "too long"))
        else {
            panic!("a validation error")
        };
        assert_eq!(details(&errors)[0].loc, json!(["body", "title"]));
        assert_eq!(details(&errors)[0].kind, "value_error");
    }
}
