//! Idempotency-Key on POST: replay, mismatch, and per-credential keys.

use crate::{TestServer, assert_invalid, send};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn the_same_key_and_body_replays_the_first_response() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let create = |name: &str| {
        server
            .post("/api/v1/workspaces", &ada.token, json!({ "name": name }))
            .header("Idempotency-Key", "create-lab-1")
    };
    let first = create("Lab").send().await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: serde_json::Value = first.json().await.unwrap();

    let again = create("Lab").send().await.unwrap();
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: serde_json::Value = again.json().await.unwrap();
    assert_eq!(
        first, again,
        "the very same response, not a second workspace"
    );

    let (_, page) = send(server.get("/api/v1/workspaces", &ada.token)).await;
    assert_eq!(
        page["meta"]["total"], 2,
        "one workspace of the account, one made once"
    );

    let (status, body) = send(create("Other")).await;
    assert_invalid(status, &body, "Idempotency-Key");

    // Keys belong to the credential that sent them.
    let eve = server.account("eve@example.com").await;
    let (status, body) = send(
        server
            .post("/api/v1/workspaces", &eve.token, json!({ "name": "Lab" }))
            .header("Idempotency-Key", "create-lab-1"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_ne!(body["data"]["uuid"], first["data"]["uuid"]);
}

#[tokio::test]
async fn rejected_requests_are_replayed_too_and_bad_keys_are_refused() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let invalid = || {
        server
            .post("/api/v1/workspaces", &ada.token, json!({ "name": "" }))
            .header("Idempotency-Key", "k2")
    };
    let (status, first) = send(invalid()).await;
    assert_invalid(status, &first, "name");
    let (status, again) = send(invalid()).await;
    assert_eq!((status, again), (StatusCode::UNPROCESSABLE_ENTITY, first));

    let (status, body) = send(
        server
            .post("/api/v1/workspaces", &ada.token, json!({ "name": "x" }))
            .header("Idempotency-Key", "k".repeat(256)),
    )
    .await;
    assert_invalid(status, &body, "Idempotency-Key");
}
