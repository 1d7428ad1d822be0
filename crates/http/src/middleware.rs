//! Layers every request passes: a request id (the client's `X-Request-Id`
//! when it is [acceptable](acceptable_request_id), else a generated one), a
//! tracing span carrying it so that every log line names it, and error bodies
//! for what axum answers on its own (unknown route, wrong method).

use crate::athena::AthenaError;
use crate::error::ApiError;
use crate::freddy::FreddyError;
use crate::thena::ThenaError;
use axum::body::Body;
use axum::http::{Request, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

const X_REQUEST_ID: &str = "x-request-id";

/// The longest client request id kept.
pub const REQUEST_ID_MAX_CHARS: usize = 64;

/// Whether a client's request id may be used as is: 1–64 of `A–Z a–z 0–9 . _ : -`.
/// Enough for UUIDs, ULIDs and trace ids; nothing that could end a log field
/// (spaces, `=`, quotes) or that some log readers garble (non-ASCII).
pub fn acceptable_request_id(value: &[u8]) -> bool {
    (1..=REQUEST_ID_MAX_CHARS).contains(&value.len())
        && value
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(b))
}

/// Drops a client request id that is not acceptable (or sent more than
/// once), so that `SetRequestIdLayer` generates one instead.
fn drop_unacceptable_request_id(mut request: Request<Body>) -> Request<Body> {
    let mut sent = request.headers().get_all(X_REQUEST_ID).iter();
    let keep = match (sent.next(), sent.next()) {
        (Some(value), None) => acceptable_request_id(value.as_bytes()),
        _ => false,
    };
    if !keep {
        request.headers_mut().remove(X_REQUEST_ID);
    }
    request
}

pub fn with_observability<S: Clone + Send + Sync + 'static>(
    router: axum::Router<S>,
) -> axum::Router<S> {
    let trace = TraceLayer::new_for_http()
        .make_span_with(|request: &Request<Body>| {
            let request_id = request
                .headers()
                .get(X_REQUEST_ID)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            // The path only: query strings may carry things that do not belong in logs.
            tracing::info_span!(
                "request",
                request_id = %request_id,
                method = %request.method(),
                path = %request.uri().path(),
                user.id = tracing::field::Empty,
            )
        })
        .on_request(())
        .on_response(DefaultOnResponse::new().level(Level::INFO));
    router.layer(
        tower::ServiceBuilder::new()
            .map_request(drop_unacceptable_request_id)
            .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
            .layer(PropagateRequestIdLayer::x_request_id())
            .layer(trace),
    )
}

/// Unknown routes answer in the error shape of the dialect the path belongs to.
pub async fn route_not_found(uri: Uri) -> Response {
    error_for_path(uri.path(), ApiError::RouteNotFound)
}

/// axum answers a known path with a wrong method with 405, an `Allow`
/// header and no body; give it the dialect's body, keeping the headers.
pub async fn method_not_allowed_body(uri: Uri, response: Response) -> Response {
    if response.status() != StatusCode::METHOD_NOT_ALLOWED {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    let rendered = error_for_path(uri.path(), ApiError::MethodNotAllowed);
    let (rendered_parts, body) = rendered.into_parts();
    for (name, value) in rendered_parts.headers.iter() {
        parts.headers.insert(name, value.clone());
    }
    Response::from_parts(parts, body)
}

/// The dialect a path belongs to renders its errors: `/v1/` is freddy's,
/// `/openai/` the openai dialect's, `/api/v1/chat/` thena's, everything
/// else athena's.
pub(crate) fn error_for_path(path: &str, err: ApiError) -> Response {
    if path == "/openai" || path.starts_with("/openai/") {
        crate::openai::OpenAiError::Api(err).into_response()
    } else if path == "/v1" || path.starts_with("/v1/") {
        FreddyError(err).into_response()
    } else if path.starts_with("/api/v1/chat/") {
        ThenaError(err).into_response()
    } else {
        AthenaError(err).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::acceptable_request_id;

    #[test]
    fn request_ids_are_short_and_plain() {
        assert!(acceptable_request_id(
            b"0192c1f0-a1b2-7c3d-8e9f-0a1b2c3d4e5f"
        ));
        assert!(acceptable_request_id(b"trace:01HZX.span_7"));
        assert!(acceptable_request_id("a".repeat(64).as_bytes()));
        assert!(!acceptable_request_id("a".repeat(65).as_bytes()));
        assert!(!acceptable_request_id(b""));
        for hostile in [
            "abc status=500",
            "a\"b",
            "a=b",
            "tab\there",
            "caf\u{e9}",
            "x/y",
        ] {
            assert!(!acceptable_request_id(hostile.as_bytes()), "{hostile}");
        }
    }
}
