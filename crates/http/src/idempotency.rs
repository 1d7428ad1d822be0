//! `Idempotency-Key` on any POST: the same key with the same request within
//! 24 hours replays the first response; with a different request it answers
//! 422; while the first is still running, 409. Keys belong to the credential
//! that sent them. Streamed (SSE) responses and server errors are not kept,
//! so such a request may be retried with the same key.

use crate::AppState;
use crate::error::ApiError;
use crate::middleware::error_for_path;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use sha2::{Digest, Sha256};
use spool_core::query::IdempotencyBegin;
use spool_core::{CoreError, Store};
use std::sync::Arc;

pub const HEADER: &str = "idempotency-key";
const KEY_MAX_CHARS: usize = 255;
/// Largest response kept for replay; bigger ones are answered but not kept.
const MAX_KEPT_BODY: usize = 4 * 1024 * 1024;

fn owner(request: &Request) -> Option<String> {
    let credential = request
        .headers()
        .get(AUTHORIZATION)
        .or_else(|| request.headers().get("x-api-key"))
        .and_then(|v| v.to_str().ok())?;
    Some(hex::encode(Sha256::digest(credential.trim().as_bytes())))
}

/// Drops the claim if the request never finishes (client gone, panic).
struct Claim {
    store: Arc<dyn Store>,
    owner: String,
    key: String,
    settled: bool,
}

impl Drop for Claim {
    fn drop(&mut self) {
        if !self.settled {
            let (store, owner, key) = (
                self.store.clone(),
                std::mem::take(&mut self.owner),
                std::mem::take(&mut self.key),
            );
            tokio::spawn(async move {
                let _ = store.idempotency_abandon(&owner, &key).await;
            });
        }
    }
}

pub async fn layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.method() != Method::POST || !request.headers().contains_key(HEADER) {
        return next.run(request).await;
    }
    let path = request.uri().path().to_owned();
    let fail = |err: ApiError| error_for_path(&path, err);
    let key = match request.headers().get(HEADER).and_then(|v| v.to_str().ok()) {
        Some(key) if !key.is_empty() && key.chars().count() <= KEY_MAX_CHARS => key.to_owned(),
        _ => {
            return fail(ApiError::invalid(
                "Idempotency-Key",
                format!(
                    "The Idempotency-Key header must be 1 to {KEY_MAX_CHARS} visible ASCII characters."
                ),
            ));
        }
    };
    let Some(owner) = owner(&request) else {
        return next.run(request).await;
    };

    let (parts, body) = request.into_parts();
    let limit = state.config.body_limit_bytes;
    let Ok(bytes) = to_bytes(body, limit).await else {
        return fail(ApiError::PayloadTooLarge { limit });
    };
    let mut hasher = Sha256::new();
    hasher.update(parts.method.as_str());
    hasher.update([0]);
    hasher.update(parts.uri.to_string());
    hasher.update([0]);
    hasher.update(&bytes);
    let fingerprint: [u8; 32] = hasher.finalize().into();

    let store = state.spool.store().clone();
    let at = spool_core::now();
    let since = at - chrono::Duration::hours(24);
    match store
        .idempotency_begin(&owner, &key, &fingerprint, at, since)
        .await
    {
        Err(err) => return fail(ApiError::Core(CoreError::from(err))),
        Ok(IdempotencyBegin::InProgress) => {
            return fail(ApiError::Core(CoreError::Conflict(
                "A request with this Idempotency-Key is still in progress.".into(),
            )));
        }
        Ok(IdempotencyBegin::Mismatch) => {
            return fail(ApiError::invalid(
                "Idempotency-Key",
                "This Idempotency-Key was used with a different request.",
            ));
        }
        Ok(IdempotencyBegin::Replay { status, body }) => {
            let mut response = Response::new(Body::from(body));
            *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            response
                .headers_mut()
                .insert("idempotent-replayed", HeaderValue::from_static("true"));
            return response;
        }
        Ok(IdempotencyBegin::Started) => {}
    }

    let mut claim = Claim {
        store: store.clone(),
        owner,
        key,
        settled: false,
    };
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let streamed = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    if streamed || response.status().is_server_error() {
        return response; // the claim's drop abandons it
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_KEPT_BODY).await else {
        return error_for_path(
            &path,
            ApiError::Core(CoreError::Conflict(
                "The response was too large to keep.".into(),
            )),
        );
    };
    match store
        .idempotency_finish(&claim.owner, &claim.key, parts.status.as_u16(), &bytes)
        .await
    {
        Ok(()) => claim.settled = true,
        Err(err) => {
            tracing::warn!(error = %err, "could not keep the response for its Idempotency-Key")
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}
