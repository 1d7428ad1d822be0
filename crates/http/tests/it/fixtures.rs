//! Small helpers for the athena agent, thread and message tests: create
//! through the API, count through the API.

use crate::{Account, TestServer, send};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

/// Looks at most this often before [`eventually`] gives up.
const LOOKS: u32 = 1000;

/// Polls `look` until it answers `Some`: for state the server writes in the
/// background with no event to wait on. Bounded by a count of looks, not a
/// clock; the pause between looks only keeps it from spinning.
pub async fn eventually<T, F, Fut>(what: &str, mut look: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    for _ in 0..LOOKS {
        if let Some(found) = look().await {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("{what}: still not so after {LOOKS} looks");
}

/// A server without the per-credential rate limit, for tests that send
/// hundreds of requests.
pub async fn unlimited() -> TestServer {
    let core = spool_core::SpoolConfig {
        rate_limit: None,
        ..Default::default()
    };
    TestServer::start_with(Default::default(), core).await
}

pub fn put(server: &TestServer, path: &str, token: &str, body: Value) -> RequestBuilder {
    server
        .request(Method::PUT, path)
        .bearer_auth(token)
        .json(&body)
}

pub fn delete(server: &TestServer, path: &str, token: &str) -> RequestBuilder {
    server.request(Method::DELETE, path).bearer_auth(token)
}

/// A new agent of `account`'s workspace; answers its `data`.
pub async fn agent(server: &TestServer, account: &Account, body: Value) -> Value {
    agent_in(server, &account.token, &account.workspace.to_string(), body).await
}

pub async fn agent_in(server: &TestServer, token: &str, workspace: &str, body: Value) -> Value {
    let path = format!("/api/v1/agents?workspace_uuid={workspace}");
    let (status, body) = send(server.post(&path, token, body)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["data"].clone()
}

/// A new thread in `workspace` made with `token`; answers its `data`.
pub async fn thread_in(server: &TestServer, token: &str, workspace: &str, body: Value) -> Value {
    let path = format!("/api/v1/threads?workspace_uuid={workspace}");
    let (status, body) = send(server.post(&path, token, body)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["data"].clone()
}

pub async fn thread(server: &TestServer, account: &Account, name: &str) -> Value {
    thread_in(
        server,
        &account.token,
        &account.workspace.to_string(),
        json!({ "name": name }),
    )
    .await
}

/// A new message in `thread`; answers its `data`.
pub async fn message(server: &TestServer, token: &str, thread: &str, body: Value) -> Value {
    let path = format!("/api/v1/messages?thread_uuid={thread}");
    let (status, body) = send(server.post(&path, token, body)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["data"].clone()
}

pub fn uuid(data: &Value) -> String {
    data["uuid"].as_str().expect("a uuid").to_owned()
}

/// `meta.total` of a page-mode list at `path` (a query string may follow).
pub async fn total(server: &TestServer, token: &str, path: &str) -> u64 {
    let (status, body) = send(server.get(path, token)).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body["meta"]["total"].as_u64().expect("meta.total")
}

/// The uuids of a list's `data`, in order.
pub fn uuids(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .expect("a data array")
        .iter()
        .map(uuid)
        .collect()
}

/// Asserts athena's 404 body: `{"message": "..."}` and nothing that names the resource's owner.
pub fn assert_not_found(status: StatusCode, body: &Value, what: &str) {
    assert_eq!(status, StatusCode::NOT_FOUND, "{what}: {body}");
    assert!(body["message"].is_string(), "{what}: {body}");
    assert_eq!(
        body.as_object().map(|o| o.len()),
        Some(1),
        "{what}: only a message: {body}"
    );
}
