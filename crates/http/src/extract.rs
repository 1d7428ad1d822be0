//! Extractors run before a handler: they authenticate, parse JSON and query
//! strings, and reject in the caller's dialect, so handler bodies only call
//! the core and render.

use crate::AppState;
use crate::error::{ApiError, Dialect};
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use spool_core::{CoreError, Principal, ValidationErrors};
use std::marker::PhantomData;

/// The authenticated caller. Accepts `Authorization: Bearer <token or key>`
/// and `X-API-Key: <key>`; header names are case-insensitive.
pub struct Auth<D>(pub Principal, pub PhantomData<D>);

/// A principal already authenticated for this request (by the
/// idempotency layer), so the extractor does not do it twice.
#[derive(Clone)]
pub(crate) struct Authenticated(pub Principal);

pub(crate) fn presented_credential(headers: &HeaderMap) -> Option<&str> {
    if let Some(value) = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let (scheme, token) = value.trim().split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim())
            .filter(|t| !t.is_empty());
    }
    headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

impl<D: Dialect> FromRequestParts<AppState> for Auth<D> {
    type Rejection = D::Error;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let principal = match parts.extensions.get::<Authenticated>() {
            Some(Authenticated(principal)) => principal.clone(),
            None => {
                let token =
                    presented_credential(&parts.headers).ok_or(CoreError::Unauthenticated)?;
                state.spool.authenticate(token).await?
            }
        };
        let span = tracing::Span::current();
        span.record("user.id", principal.user_id().0);
        Ok(Auth(principal, PhantomData))
    }
}

/// A JSON body: `application/json` required (415), within the body limit
/// (413), syntactically JSON (400), and of the right shape (422 naming the
/// field).
pub struct Json<D, T>(pub T, pub PhantomData<D>);

impl<D: Dialect, T: DeserializeOwned> FromRequest<AppState> for Json<D, T> {
    type Rejection = D::Error;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json" || mime.ends_with("+json")
            })
            .unwrap_or(false);
        if !is_json {
            return Err(ApiError::UnsupportedMediaType.into());
        }
        let limit = state.config.body_limit_bytes;
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge { limit }
            } else {
                ApiError::BadRequest(rejection.body_text())
            }
        })?;
        parse_json(&bytes)
            .map(|value| Json(value, PhantomData))
            .map_err(D::Error::from)
    }
}

pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // Syntax first: read while streaming, `[1,` would fail on the type of
    // its first element (422) before reaching the missing end (400).
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|err| {
        ApiError::BadRequest(format!("The request body is not valid JSON: {err}."))
    })?;
    if let Some(field) = nul_field(&value, String::new()) {
        let field = if field.is_empty() {
            "body".to_owned()
        } else {
            field
        };
        return Err(ApiError::invalid(
            &field,
            format!("The {field} field may not contain NUL characters."),
        ));
    }
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        let message = err.into_inner().to_string();
        ApiError::Core(CoreError::Validation(field_error(&path, &message)))
    })
}

/// The path of the first string (or key) holding a NUL character, which no
/// text field accepts (PostgreSQL cannot store it).
fn nul_field(value: &serde_json::Value, path: String) -> Option<String> {
    use serde_json::Value;
    let join = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    match value {
        Value::String(s) => s.contains('\0').then_some(path),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| nul_field(v, join(&i.to_string()))),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            if k.contains('\0') {
                Some(join("key"))
            } else {
                nul_field(v, join(k))
            }
        }),
        _ => None,
    }
}

/// Turns serde's wording into a field name and a sentence.
fn field_error(path: &str, message: &str) -> ValidationErrors {
    let quoted = |prefix: &str| {
        message
            .strip_prefix(prefix)
            .and_then(|rest| rest.split('`').next())
            .map(str::to_owned)
    };
    let join = |name: &str| {
        if path == "." || path.is_empty() {
            name.to_owned()
        } else {
            format!("{path}.{name}")
        }
    };
    if let Some(name) = quoted("missing field `") {
        let field = join(&name);
        return ValidationErrors::single(&field, format!("The {field} field is required."));
    }
    if let Some(name) = quoted("unknown field `") {
        // The path already ends at the unknown key.
        let field = if path == "." || path.is_empty() {
            name
        } else {
            path.to_owned()
        };
        return ValidationErrors::single(&field, format!("The {field} field is not recognised."));
    }
    let field = if path == "." {
        "body".to_owned()
    } else {
        path.to_owned()
    };
    ValidationErrors::single(&field, format!("The {field} field is invalid: {message}."))
}

/// A query string; problems answer 422 naming the parameter.
pub struct Query<D, T>(pub T, pub PhantomData<D>);

impl<D: Dialect, T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<D, T> {
    type Rejection = D::Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        // No text field accepts NUL (PostgreSQL cannot store it).
        if let Some((name, _)) = form_urlencoded::parse(query.as_bytes())
            .find(|(k, v)| k.contains('\0') || v.contains('\0'))
        {
            let name = name.replace('\0', "");
            let message = format!("The {name} may not contain NUL characters.");
            return Err(D::Error::from(ApiError::invalid(&name, message)));
        }
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer)
            .map(|v| Query(v, PhantomData))
            .map_err(|err| {
                let path = err.path().to_string();
                let message = err.into_inner().to_string();
                D::Error::from(ApiError::Core(CoreError::Validation(field_error(
                    &path, &message,
                ))))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "only deserialisation is under test")]
    struct Body {
        name: String,
        count: Option<u32>,
    }

    fn problem(json: &str) -> (String, String) {
        match parse_json::<Body>(json.as_bytes()) {
            Err(ApiError::Core(CoreError::Validation(errors))) => {
                let (field, messages) = errors.0.into_iter().next().unwrap();
                (field, messages[0].clone())
            }
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn body_errors_name_the_field() {
        assert_eq!(problem("{}").0, "name");
        assert_eq!(problem(r#"{"name": 1}"#).0, "name");
        assert_eq!(problem(r#"{"name": "a", "count": "x"}"#).0, "count");
        assert_eq!(problem(r#"{"name": "a", "extra": 1}"#).0, "extra");
        assert!(matches!(
            parse_json::<Body>(b"{not json"),
            Err(ApiError::BadRequest(_))
        ));
        assert!(matches!(
            parse_json::<Body>(b""),
            Err(ApiError::BadRequest(_))
        ));
        assert!(
            matches!(parse_json::<Body>(b"[1,"), Err(ApiError::BadRequest(_))),
            "malformed JSON is a 400 even when its start has the wrong type"
        );
        assert!(matches!(
            parse_json::<Body>(br#"{"name": 1"#),
            Err(ApiError::BadRequest(_))
        ));
    }

    #[test]
    fn nul_characters_are_refused_where_they_stand() {
        assert_eq!(problem(r#"{"name": "a\u0000b"}"#).0, "name");
        assert_eq!(
            problem(r#"{"name": "a", "count": 1, "x": {"y": ["\u0000"]}}"#).0,
            "x.y.0"
        );
    }
}
