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
    let server = TestServer::start_with(spool_http::HttpConfig {
        body_limit_bytes: 1024,
    })
    .await;
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
