//! spool's HTTP surface: one route table ([`routes`]), the auth extractors,
//! and one module per wire dialect.

pub mod athena;
pub mod console;
pub mod error;
pub mod extract;
pub mod freddy;
pub mod idempotency;
pub mod keyset;
pub mod middleware;
pub mod openai;
pub mod openapi;
pub mod ops;
pub mod paths;
pub mod prefixed_ids;
pub mod query;
pub mod routes;
pub mod sse;
pub mod telemetry;
pub mod thena;
pub mod timestamps;
pub mod tool_schema;
pub mod uploads;

use spool_core::Spool;

/// HTTP-level settings, validated by the CLI before the server starts.
#[derive(Clone, Debug)]
pub struct HttpConfig {
    /// Largest request body accepted; larger ones answer 413.
    pub body_limit_bytes: usize,
    /// The hash of the bearer token `GET /metrics` asks for; without one,
    /// `/metrics` answers 404.
    pub metrics_token: Option<spool_core::secret::TokenHash>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            body_limit_bytes: 2 * 1024 * 1024,
            metrics_token: None,
        }
    }
}

/// Everything a handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub spool: Spool,
    pub config: std::sync::Arc<HttpConfig>,
}

/// The whole application as an axum router, ready to serve.
pub fn app(spool: Spool, config: HttpConfig) -> axum::Router {
    routes::router(AppState {
        spool,
        config: std::sync::Arc::new(config),
    })
}
