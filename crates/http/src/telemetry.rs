//! `GET /metrics` and the layer that counts every request by its route
//! template, method and status.

use crate::AppState;
use crate::athena::AthenaError;
use crate::error::ApiError;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use spool_core::CoreError;
use spool_core::secret::PlainToken;
use spool_core::telemetry::{RequestLabels, RouteLabels, metrics, seconds};
use std::time::Instant;

/// The content type of the OpenMetrics text format, which Prometheus reads.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Counts the request and times it to its response head. The route is the
/// template (`/api/v1/threads/:uuid`), never the path, so ids do not make
/// series; a path no route matches is `unmatched`.
pub async fn record(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| route_label(p.as_str()));
    let method = method_label(request.method());
    let response = next.run(request).await;
    let telemetry = metrics();
    telemetry
        .http_duration
        .get_or_create(&RouteLabels {
            route: route.clone(),
            method,
        })
        .observe(seconds(started.elapsed()));
    telemetry
        .http_requests
        .get_or_create(&RequestLabels {
            route,
            method,
            status: response.status().as_u16(),
        })
        .inc();
    response
}

/// A route template with its parameters written `:name`: some readers of
/// the text format end a label set at the first `}`, even inside quotes.
fn route_label(template: &str) -> String {
    template
        .chars()
        .filter_map(|c| match c {
            '{' => Some(':'),
            '}' => None,
            c => Some(c),
        })
        .collect()
}

/// Methods as labels; any other method a client invents is `other`, so it
/// cannot add series.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// The metrics, for a scraper presenting `metrics_token` as a bearer token.
/// Without a configured token the endpoint does not exist (404).
pub async fn scrape(State(state): State<AppState>, request: Request) -> Response {
    let Some(expected) = &state.config.metrics_token else {
        return AthenaError(ApiError::RouteNotFound).into_response();
    };
    let presented = crate::extract::presented_credential(request.headers())
        .map(|token| PlainToken::from_presented(token).hash());
    if presented.as_ref() != Some(expected) {
        let mut response = AthenaError(CoreError::Unauthenticated.into()).into_response();
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return response;
    }
    let telemetry = metrics();
    if let Some(pool) = state.spool.store().pool_use() {
        telemetry.postgres_pool_size.set(i64::from(pool.size));
        telemetry.postgres_pool_idle.set(i64::from(pool.idle));
    }
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(OPENMETRICS))],
        telemetry.render(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    #[test]
    fn route_parameters_are_written_with_a_colon() {
        assert_eq!(
            super::route_label("/api/v1/runs/{uuid}/events"),
            "/api/v1/runs/:uuid/events"
        );
        assert_eq!(super::route_label("/healthz"), "/healthz");
    }
}
