//! The process's Prometheus metrics: one registry, filled from every layer
//! (HTTP, runs, providers, store) and rendered by `GET /metrics`.
//!
//! Recording is an atomic add after a family lookup (a shared read lock and
//! a hash of the labels); nothing on a request's path waits for a scrape
//! longer than that lookup.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::LazyLock;
use std::time::Duration;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// The route template (`/api/v1/threads/{uuid}`), or `unmatched`.
    pub route: String,
    pub method: &'static str,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
    pub method: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ModelLabels {
    pub model: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub model: String,
    /// `completed`, `failed` or `cancelled`.
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TokenLabels {
    pub model: String,
    /// `input` or `output`.
    pub direction: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct UpstreamLabels {
    /// The provider's configured name.
    pub provider: String,
    /// `connect`, `timeout`, `status_429`, `status_4xx`, `status_5xx`,
    /// `disconnected` or `protocol`.
    pub kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StoreLabels {
    pub backend: &'static str,
    /// The store method (`append_message`, `thread`, …).
    pub operation: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DeliveryLabels {
    /// `delivered`, `retrying` (failed, tried again later) or `failed`
    /// (failed for the last time).
    pub outcome: &'static str,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// Every metric spool exports.
pub struct Telemetry {
    registry: Registry,
    pub http_requests: Family<RequestLabels, Counter>,
    pub http_duration: Histograms<RouteLabels>,
    pub runs_started: Family<ModelLabels, Counter>,
    pub runs_finished: Family<OutcomeLabels, Counter>,
    pub time_to_first_token: Histograms<ModelLabels>,
    pub run_duration: Histograms<ModelLabels>,
    pub tokens: Family<TokenLabels, Counter>,
    pub upstream_errors: Family<UpstreamLabels, Counter>,
    pub open_streams: Gauge,
    pub store_duration: Histograms<StoreLabels>,
    pub sqlite_batch_size: Histogram,
    pub postgres_pool_size: Gauge,
    pub postgres_pool_idle: Gauge,
    pub webhook_deliveries: Family<DeliveryLabels, Counter>,
    pub threads_expired: Counter,
}

/// 1 ms to about 65 s: requests, store operations, first tokens.
fn latency() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 17))
}

/// 100 ms to about 27 minutes (a run's deadline is 30).
fn long() -> Histogram {
    Histogram::new(exponential_buckets(0.1, 2.0, 15))
}

impl Telemetry {
    fn new() -> Self {
        let mut registry = Registry::with_prefix("spool");
        let http_requests = Family::default();
        let http_duration = Histograms::new_with_constructor(latency as fn() -> Histogram);
        let runs_started = Family::default();
        let runs_finished = Family::default();
        let time_to_first_token = Histograms::new_with_constructor(latency as fn() -> Histogram);
        let run_duration = Histograms::new_with_constructor(long as fn() -> Histogram);
        let tokens = Family::default();
        let upstream_errors = Family::default();
        let open_streams = Gauge::default();
        let store_duration = Histograms::new_with_constructor(latency as fn() -> Histogram);
        // 1, 2, 4, … 256: the writer commits at most 256 writes at once.
        let sqlite_batch_size = Histogram::new(exponential_buckets(1.0, 2.0, 9));
        let postgres_pool_size = Gauge::default();
        let postgres_pool_idle = Gauge::default();
        let webhook_deliveries = Family::default();
        let threads_expired = Counter::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route template, method and status",
            http_requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time from a request's arrival to its response head (a stream's body is not counted)",
            http_duration.clone(),
        );
        registry.register(
            "runs_started",
            "Runs this node started executing, by model",
            runs_started.clone(),
        );
        registry.register(
            "runs_finished",
            "Runs this node executed to their end, by model and outcome",
            runs_finished.clone(),
        );
        registry.register(
            "run_time_to_first_token_seconds",
            "Time from a run's start to the first piece of its reply",
            time_to_first_token.clone(),
        );
        registry.register(
            "run_duration_seconds",
            "Time from a run's start to its end, by model",
            run_duration.clone(),
        );
        registry.register(
            "tokens",
            "Tokens of finished runs, by model and direction (input, output)",
            tokens.clone(),
        );
        registry.register(
            "upstream_errors",
            "Failed attempts at a model provider (each retry counts), by provider and kind",
            upstream_errors.clone(),
        );
        registry.register(
            "open_streams",
            "Server-Sent Event streams open now",
            open_streams.clone(),
        );
        registry.register(
            "store_operation_duration_seconds",
            "Time a store operation took, by backend and operation",
            store_duration.clone(),
        );
        registry.register(
            "sqlite_commit_batch_size",
            "Writes committed together in one SQLite group commit",
            sqlite_batch_size.clone(),
        );
        registry.register(
            "postgres_pool_size",
            "Connections the PostgreSQL pool holds now",
            postgres_pool_size.clone(),
        );
        registry.register(
            "postgres_pool_idle",
            "Connections of the PostgreSQL pool that are idle now",
            postgres_pool_idle.clone(),
        );
        registry.register(
            "webhook_deliveries",
            "Webhook delivery attempts, by outcome",
            webhook_deliveries.clone(),
        );
        registry.register(
            "threads_expired",
            "Threads the retention sweep deleted",
            threads_expired.clone(),
        );
        Self {
            registry,
            http_requests,
            http_duration,
            runs_started,
            runs_finished,
            time_to_first_token,
            run_duration,
            tokens,
            upstream_errors,
            open_streams,
            store_duration,
            sqlite_batch_size,
            postgres_pool_size,
            postgres_pool_idle,
            webhook_deliveries,
            threads_expired,
        }
    }

    /// The OpenMetrics text exposition (which Prometheus reads), ending in `# EOF`.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

static METRICS: LazyLock<Telemetry> = LazyLock::new(Telemetry::new);

/// The process's metrics.
pub fn metrics() -> &'static Telemetry {
    &METRICS
}

/// Seconds, as histograms take them.
pub fn seconds(elapsed: Duration) -> f64 {
    elapsed.as_secs_f64()
}

/// Counts an open stream until dropped.
pub struct OpenStream(());

impl OpenStream {
    pub fn start() -> Self {
        metrics().open_streams.inc();
        Self(())
    }
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        metrics().open_streams.dec();
    }
}

/// The label of a provider error's kind.
pub fn upstream_error_kind(err: &crate::provider::ProviderError) -> &'static str {
    use crate::provider::ProviderError;
    match err {
        ProviderError::Connect(_) => "connect",
        ProviderError::Timeout(_) => "timeout",
        ProviderError::Status { status: 429, .. } => "status_429",
        ProviderError::Status { status, .. } if *status >= 500 => "status_5xx",
        ProviderError::Status { .. } => "status_4xx",
        ProviderError::Disconnected(_) => "disconnected",
        ProviderError::Protocol(_) => "protocol",
    }
}

/// Counts a failed attempt at `provider`.
pub fn upstream_error(provider: &str, err: &crate::provider::ProviderError) {
    metrics()
        .upstream_errors
        .get_or_create(&UpstreamLabels {
            provider: provider.to_owned(),
            kind: upstream_error_kind(err),
        })
        .inc();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recorded_counter_is_rendered_with_its_labels() {
        metrics()
            .runs_started
            .get_or_create(&ModelLabels {
                model: "unit-test-model".into(),
            })
            .inc();
        let text = metrics().render();
        assert!(
            text.contains("spool_runs_started_total{model=\"unit-test-model\"} 1"),
            "{text}"
        );
        assert!(text.trim_end().ends_with("# EOF"), "{text}");
    }
}
