//! `Idempotency-Key` on any POST: the same key with the same request within
//! 24 hours replays the first response; with a different request it answers
//! 422; while the first is still running, 409.
//!
//! - Keys belong to the authenticated principal (an API key, or a user's
//!   sessions); a request that does not authenticate stores nothing.
//! - The claim is leased to this process and renewed while the request
//!   runs, so it cannot outlive a crash: once the lease runs out any node
//!   takes it over.
//! - The request runs to completion in its own task even if the client goes
//!   away, and its response is kept, whatever its size.
//! - The request's writes mark the claim in their own transaction (see
//!   `spool_core::idempotency`): a retry after a crash runs the request
//!   afresh only if nothing of it committed; a run it had admitted is
//!   followed again (streamed or not) instead of starting a second one.
//! - Streamed runs keep no body: a retry re-attaches to the same run. A
//!   request that failed with a server error and committed nothing gives
//!   its key up, so it may be retried.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{Authenticated, presented_credential};
use crate::middleware::error_for_path;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt;
use sha2::{Digest, Sha256};
use spool_core::idempotency::{self, Claim, Reference};
use spool_core::query::IdempotencyBegin;
use spool_core::store::Lease;
use spool_core::{CoreError, Principal, Store};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument;

pub const HEADER: &str = "idempotency-key";
const KEY_MAX_CHARS: usize = 255;
/// How long a claim stays ours without renewal: a crashed process's claims
/// are free again after this long.
const LEASE: Duration = Duration::from_secs(30);
/// Renewed well before it runs out, even on a loaded machine.
const RENEW_EVERY: Duration = Duration::from_secs(10);
const WINDOW_HOURS: i64 = 24;

/// Whose key it is: the API key, or the user behind a session.
fn owner(principal: &Principal) -> String {
    match principal {
        Principal::ApiKey { key, .. } => format!("key:{}", key.id),
        Principal::Session { user, .. } => format!("user:{}", user.id.0),
    }
}

/// 1 to [`KEY_MAX_CHARS`] visible ASCII characters, spaces only inside
/// (`^[!-~]([ -~]*[!-~])?$`, as the OpenAPI document states it).
fn well_formed(key: &str) -> bool {
    let visible = |b: &u8| (b'!'..=b'~').contains(b);
    let bytes = key.as_bytes();
    (1..=KEY_MAX_CHARS).contains(&bytes.len())
        && bytes.iter().all(|b| *b == b' ' || visible(b))
        && bytes.first().is_some_and(visible)
        && bytes.last().is_some_and(visible)
}

fn lease_from(at: spool_core::Timestamp) -> Lease<'static> {
    Lease {
        holder: idempotency::node(),
        until: at + chrono::Duration::from_std(LEASE).expect("a small duration"),
    }
}

pub async fn layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    // A key belongs to a credential: a request without one (sign-in) does
    // not keep it, whatever it looks like.
    // An upload is not kept for replay: its body is streamed to storage,
    // never held (a retried upload is a second file; unreferenced files
    // are swept).
    if request.method() != Method::POST
        || request.uri().path().ends_with("/files")
        || !request.headers().contains_key(HEADER)
        || presented_credential(request.headers()).is_none()
    {
        return next.run(request).await;
    }
    let path = request.uri().path().to_owned();
    let fail = |err: ApiError| error_for_path(&path, err);
    let key = match request.headers().get(HEADER).and_then(|v| v.to_str().ok()) {
        Some(key) if well_formed(key) => key.to_owned(),
        _ => {
            return fail(ApiError::invalid(
                "Idempotency-Key",
                format!(
                    "The Idempotency-Key header must be 1 to {KEY_MAX_CHARS} visible ASCII characters."
                ),
            ));
        }
    };
    // Its own task from here on: a client that goes away cannot stop it
    // half-way, between claiming the key and settling it.
    let work = keyed(state, key, request, next).instrument(tracing::Span::current());
    match tokio::spawn(work).await {
        Ok(response) => response,
        Err(err) => fail(ApiError::Core(CoreError::internal(err))),
    }
}

async fn keyed(state: AppState, key: String, mut request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let fail = |err: ApiError| error_for_path(&path, err);
    // Authenticated first: a request that fails to is answered by its
    // handler as usual and leaves no trace under the key.
    let Some(token) = presented_credential(request.headers()).map(str::to_owned) else {
        return next.run(request).await;
    };
    let Ok(principal) = state.spool.authenticate(&token).await else {
        return next.run(request).await;
    };
    let owner = owner(&principal);
    request
        .extensions_mut()
        .insert(Authenticated(principal.clone()));

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
    let since = at - chrono::Duration::hours(WINDOW_HOURS);
    let begun = store
        .idempotency_begin(&owner, &key, &fingerprint, at, since, lease_from(at))
        .await;
    let resume = match begun {
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
        Ok(IdempotencyBegin::Replay { status, body }) => return replay(status, body),
        Ok(IdempotencyBegin::Started) => None,
        Ok(IdempotencyBegin::Resume { reference }) => {
            match reference.as_deref().and_then(Reference::decode) {
                Some(reference) => Some(reference),
                None => {
                    // Its effect is on disk but the server stopped before it
                    // kept the answer: doing it again would do it twice.
                    let _ = store.idempotency_release(&owner, &key).await;
                    return fail(ApiError::Core(CoreError::Conflict(
                        "The request with this Idempotency-Key was carried out, but the server stopped before keeping its response; look the result up instead of retrying.".into(),
                    )));
                }
            }
        }
    };

    let claim = Claim::new(owner, key, resume);
    let request = Request::from_parts(parts, Body::from(bytes));
    carry_out(store, claim, request, next).await
}

fn replay(status: u16, body: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
        .headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}

/// Runs the request under its claim, renewing the lease meanwhile, and
/// settles the claim with what it answered.
async fn carry_out(
    store: Arc<dyn Store>,
    claim: Arc<Claim>,
    request: Request,
    next: Next,
) -> Response {
    let (owner, key) = (claim.owner.clone(), claim.key.clone());
    let work = idempotency::carry(claim, AssertUnwindSafe(next.run(request)).catch_unwind());
    let mut work = std::pin::pin!(work);
    let mut renew =
        tokio::time::interval_at(tokio::time::Instant::now() + RENEW_EVERY, RENEW_EVERY);
    let outcome = loop {
        tokio::select! {
            outcome = &mut work => break outcome,
            _ = renew.tick() => {
                let lease = lease_from(spool_core::now());
                if let Err(err) = store.idempotency_renew(&owner, &key, lease).await {
                    tracing::warn!(error = %err, "could not renew an Idempotency-Key lease");
                }
            }
        }
    };
    let Ok(response) = outcome else {
        release(&*store, &owner, &key).await;
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let streamed = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    if streamed || response.status().is_server_error() {
        // A stream's retry re-attaches to its run; a failure that committed
        // nothing frees the key.
        release(&*store, &owner, &key).await;
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes = match to_bytes(body, usize::MAX).await {
        Ok(bytes) => bytes,
        Err(err) => {
            tracing::warn!(error = %err, "a response body failed while it was kept");
            release(&*store, &owner, &key).await;
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    if let Err(err) = store
        .idempotency_finish(&owner, &key, parts.status.as_u16(), &bytes)
        .await
    {
        // The lease runs out and a retry finds the effect marked.
        tracing::warn!(error = %err, "could not keep the response for its Idempotency-Key");
    }
    Response::from_parts(parts, Body::from(bytes))
}

async fn release(store: &dyn Store, owner: &str, key: &str) {
    if let Err(err) = store.idempotency_release(owner, key).await {
        tracing::warn!(error = %err, "could not give up an Idempotency-Key claim");
    }
}
