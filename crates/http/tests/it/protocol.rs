//! What every request meets regardless of endpoint: request ids, unknown
//! routes, wrong methods, body limits, health, and the API reference.

use crate::{TestServer, send};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let server = TestServer::start().await;
    let response = server
        .request(Method::GET, "/healthz")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-request-id"].len(), 36);
    let response = server
        .request(Method::GET, "/api/v1/user")
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()["x-request-id"], "trace-me-42");
}

#[tokio::test]
async fn unknown_routes_and_wrong_methods_answer_in_the_dialect_shape() {
    let server = TestServer::start().await;
    let (status, body) = send(server.request(Method::GET, "/api/v1/nothing-here")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body["message"].is_string());

    let response = server
        .request(Method::PATCH, "/api/v1/workspaces")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    let allow = response.headers()["allow"].to_str().unwrap().to_owned();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(body["message"].is_string());
}

#[tokio::test]
async fn bodies_over_the_limit_answer_413() {
    let http = spool_http::HttpConfig {
        body_limit_bytes: 1024,
        ..Default::default()
    };
    let server = TestServer::start_with(http, Default::default()).await;
    let account = server.account("ada@example.com").await;
    let (status, body) = send(server.post(
        "/api/v1/workspaces",
        &account.token,
        json!({ "name": "x".repeat(2000) }),
    ))
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(body["message"].as_str().unwrap().contains("1024"));
}

#[tokio::test]
async fn health_readiness_and_the_api_reference() {
    let server = TestServer::start().await;
    let (status, _) = send(server.request(Method::GET, "/healthz")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = send(server.request(Method::GET, "/readyz")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, doc) = send(server.request(Method::GET, "/openapi.json")).await;
    assert_eq!(status, StatusCode::OK);
    for path in [
        "/api/v1/auth/sign-in",
        "/api/v1/user",
        "/api/v1/workspaces/{uuid}",
        "/api/v1/api-keys",
    ] {
        assert!(
            doc["paths"].get(path).is_some(),
            "{path} missing from the OpenAPI document"
        );
    }
    let page = server.request(Method::GET, "/docs/").send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("swagger-ui"),
        "the reference page is served from the binary"
    );
    assert!(
        !html.contains("https://"),
        "the reference page loads nothing from the internet"
    );
}

#[tokio::test]
async fn each_credential_is_rate_limited_with_retry_after() {
    // One request an hour after the burst: however slow the machine, no
    // budget refills during the test.
    let limit = spool_core::service::RateLimit {
        per_second: 1.0 / 3600.0,
        burst: 3.0,
    };
    let config = spool_core::SpoolConfig {
        rate_limit: Some(limit),
        ..Default::default()
    };
    let server = TestServer::start_with(Default::default(), config).await;
    let ada = server.account("ada@example.com").await;
    let eve = server.account("eve@example.com").await;
    for _ in 0..3 {
        let (status, _) = send(server.get("/api/v1/user", &ada.token)).await;
        assert_eq!(status, StatusCode::OK);
    }
    let response = server.get("/api/v1/user", &ada.token).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3600).contains(&retry_after), "{retry_after}");
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(body["message"].is_string());
    let (status, _) = send(server.get("/api/v1/user", &eve.token)).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "another credential has its own budget"
    );
}

/// The committed `docs/openapi.json` is the document the server serves:
/// a change to the API shows in review. `SPOOL_BLESS=1` rewrites it.
#[test]
fn the_committed_openapi_document_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json");
    let current = spool_http::openapi::document()
        .to_pretty_json()
        .expect("the document serialises")
        + "\n";
    if std::env::var("SPOOL_BLESS").as_deref() == Ok("1") {
        std::fs::write(&path, &current).expect("write docs/openapi.json");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == current,
        "docs/openapi.json is out of date: run `SPOOL_BLESS=1 cargo nextest run -p spool-http the_committed_openapi` and commit it"
    );
}

#[tokio::test]
async fn the_console_is_served_from_the_binary_under_a_strict_policy() {
    let server = TestServer::start().await;
    for (path, kind) in [
        ("/console", "text/html"),
        ("/console/app.js", "text/javascript"),
        ("/console/app.css", "text/css"),
    ] {
        let response = server.request(Method::GET, path).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let headers = response.headers().clone();
        assert!(
            headers["content-type"].to_str().unwrap().starts_with(kind),
            "{path}: {:?}",
            headers["content-type"]
        );
        let policy = headers["content-security-policy"].to_str().unwrap();
        assert!(policy.contains("script-src 'self'"), "{path}: {policy}");
        assert!(!policy.contains("unsafe"), "{path}: {policy}");
        assert!(
            policy.contains("frame-ancestors 'none'"),
            "{path}: {policy}"
        );
        assert_eq!(headers["x-content-type-options"], "nosniff");
        let body = response.text().await.unwrap();
        assert!(
            !body.contains("http://") && !body.contains("https://"),
            "{path} loads nothing from elsewhere"
        );
        if path == "/console" {
            assert!(!body.contains("<script>"), "no inline script");
            assert!(body.contains(r#"<script type="module" src="/console/app.js">"#));
        }
    }
    // The session travels in a header, never in a URL the console builds.
    let script = server
        .request(Method::GET, "/console/app.js")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(script.contains("Authorization = `Bearer ${t}`"));
    assert!(!script.contains("searchParams.set(\"token\""));
}
