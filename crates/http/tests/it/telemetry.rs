//! `GET /metrics`: absent without a token, refused with a wrong one, and in
//! a text format a Prometheus parser reads, with counters that move.

use crate::fixtures::{eventually, thread, uuid};
use crate::{TestServer, send};
use prometheus_parse::{Scrape, Value as Sampled};
use reqwest::StatusCode;
use serde_json::json;
use spool_core::secret::PlainToken;

const TOKEN: &str = "scrape-token-0123456789";

async fn with_token() -> TestServer {
    let http = spool_http::HttpConfig {
        metrics_token: Some(PlainToken::from_presented(TOKEN).hash()),
        ..Default::default()
    };
    TestServer::start_with(http, Default::default()).await
}

async fn scrape(server: &TestServer) -> Scrape {
    let response = server.get("/metrics", TOKEN).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let kind = response.headers()["content-type"].to_str().unwrap();
    assert!(kind.starts_with("application/openmetrics-text"), "{kind}");
    let text = response.text().await.unwrap();
    Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).expect("a Prometheus text exposition")
}

/// The value of the sample named `metric` whose labels include `labels`
/// (0 when there is none); a histogram counts its observations.
fn value(scrape: &Scrape, metric: &str, labels: &[(&str, &str)]) -> f64 {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == metric)
        .filter(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match &s.value {
            Sampled::Counter(n) | Sampled::Gauge(n) | Sampled::Untyped(n) => *n,
            Sampled::Histogram(buckets) => buckets.iter().map(|b| b.count).fold(0.0, f64::max),
            Sampled::Summary(_) => 0.0,
        })
        .sum()
}

#[tokio::test]
async fn metrics_do_not_exist_without_a_token() {
    let server = TestServer::start().await;
    let (status, body) = send(server.get("/metrics", TOKEN)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}

#[tokio::test]
async fn metrics_refuse_a_missing_or_wrong_token() {
    let server = with_token().await;
    let (status, _) = send(server.request(reqwest::Method::GET, "/metrics")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = send(server.get("/metrics", "scrape-token-wrong-0000")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body["message"].is_string(), "{body}");
    let response = server.get("/metrics", "nope").send().await.unwrap();
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
}

#[tokio::test]
async fn counters_move_after_requests_and_a_run() {
    let server = with_token().await;
    let ada = server.account("ada@example.com").await;
    let before = scrape(&server).await;
    let thread = thread(&server, &ada, "Counted").await;
    let run_route = "/api/v1/threads/:uuid/run";
    let (status, body) = send(server.post(
        &format!("/api/v1/threads/{}/run", uuid(&thread)),
        &ada.token,
        json!({ "content": "count me", "model": "echo" }),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = send(server.get("/api/v1/threads/not-a-uuid", &ada.token)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The run's end is counted right after it is stored, which the answer
    // may overtake.
    let after = eventually("the run counted as finished", || async {
        let now = scrape(&server).await;
        let done = value(&now, "spool_runs_finished_total", &[("model", "echo")]);
        (done > value(&before, "spool_runs_finished_total", &[("model", "echo")])).then_some(now)
    })
    .await;
    let moved = |metric: &str, labels: &[(&str, &str)]| {
        let (was, is) = (
            value(&before, metric, labels),
            value(&after, metric, labels),
        );
        assert!(
            is > was,
            "{metric} {labels:?}: {was} -> {is} in {:?}",
            after
                .samples
                .iter()
                .filter(|s| s.metric == metric)
                .collect::<Vec<_>>()
        );
    };
    let run_labels = [("route", run_route), ("method", "POST"), ("status", "200")];
    moved("spool_http_requests_total", &run_labels);
    moved(
        "spool_http_requests_total",
        &[("route", "/api/v1/threads/:uuid"), ("status", "404")],
    );
    moved(
        "spool_http_request_duration_seconds_count",
        &[("route", run_route), ("method", "POST")],
    );
    moved("spool_runs_started_total", &[("model", "echo")]);
    moved(
        "spool_runs_finished_total",
        &[("model", "echo"), ("outcome", "completed")],
    );
    moved("spool_run_duration_seconds_count", &[("model", "echo")]);
    moved(
        "spool_run_time_to_first_token_seconds_count",
        &[("model", "echo")],
    );
    moved(
        "spool_tokens_total",
        &[("model", "echo"), ("direction", "output")],
    );
    moved(
        "spool_store_operation_duration_seconds_count",
        &[("operation", "create_run")],
    );
    // A path no route knows is one series, not one per path.
    send(server.get("/no/such/path/123", &ada.token)).await;
    let later = scrape(&server).await;
    assert!(
        value(
            &later,
            "spool_http_requests_total",
            &[("route", "unmatched")]
        ) >= 1.0
    );
    assert!(
        !later
            .samples
            .iter()
            .any(|s| s.labels.values().any(|v| v.contains("not-a-uuid"))),
        "a path's id became a label"
    );
    match server.spool.store().backend() {
        "sqlite" => assert!(value(&later, "spool_sqlite_commit_batch_size_count", &[]) >= 1.0),
        _ => assert!(value(&later, "spool_postgres_pool_size", &[]) >= 1.0),
    }
}

#[tokio::test]
async fn an_open_stream_is_counted_until_it_ends() {
    let server = with_token().await;
    let ada = server.account("ada@example.com").await;
    let thread = thread(&server, &ada, "Streamed").await;
    let response = server
        .post(
            &format!("/api/v1/threads/{}/run", uuid(&thread)),
            &ada.token,
            json!({ "content": "stream me", "model": "echo", "stream": true }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let open = value(&scrape(&server).await, "spool_open_streams", &[]);
    assert!(open >= 1.0, "{open}");
    let text = response.text().await.unwrap();
    assert!(text.contains("event: done"), "{text}");
    eventually("the stream counted as closed", || async {
        (value(&scrape(&server).await, "spool_open_streams", &[]) == 0.0).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_failed_attempt_at_a_provider_is_counted_by_kind() {
    use spool_providers::testing::{Script, ScriptedUpstream};
    let upstream = ScriptedUpstream::start([Script::status(500), Script::reply(["fine"])]).await;
    let models = serde_json::from_value(json!({
        "providers": [{ "kind": "openai", "name": "scripted", "base_url": upstream.openai_base_url(),
            "max_retries": 1, "max_retry_wait_secs": 1 }],
        "models": [{ "name": "scripted", "provider": "scripted", "context_window": 8000,
            "max_output_tokens": 64 }]
    }))
    .unwrap();
    let http = spool_http::HttpConfig {
        metrics_token: Some(PlainToken::from_presented(TOKEN).hash()),
        ..Default::default()
    };
    let server = TestServer::start_full(http, Default::default(), models).await;
    let ada = server.account("ada@example.com").await;
    let thread = thread(&server, &ada, "Retried").await;
    let (status, body) = send(server.post(
        &format!("/api/v1/threads/{}/run", uuid(&thread)),
        &ada.token,
        json!({ "content": "hello", "model": "scripted" }),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["run"]["status"], "completed", "{body}");
    let scraped = scrape(&server).await;
    let labels = [("provider", "scripted"), ("kind", "status_5xx")];
    assert_eq!(value(&scraped, "spool_upstream_errors_total", &labels), 1.0);
}
