//! Idempotency-Key on POST: replay, mismatch, and per-credential keys.

use crate::fixtures::{self, uuid};
use crate::{TestServer, assert_invalid, send};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

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
    // Visible ASCII, spaces only inside: a tab or a non-ASCII letter is refused.
    for key in ["a\tb", "clé"] {
        let (status, body) = send(
            server
                .post("/api/v1/workspaces", &ada.token, json!({ "name": "x" }))
                .header("Idempotency-Key", key),
        )
        .await;
        assert_invalid(status, &body, "Idempotency-Key");
    }
    let (status, body) = send(
        server
            .post("/api/v1/workspaces", &ada.token, json!({ "name": "x" }))
            .header("Idempotency-Key", "order 17: retry"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// Sends a keyed `POST` over a raw connection and resets it at once, before
/// any answer: a client that gives up the moment it has sent.
async fn send_and_reset(server: &TestServer, path: &str, token: &str, key: &str, body: &Value) {
    let body = body.to_string();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: spool\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nIdempotency-Key: {key}\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    let address = server.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body.as_bytes()).await.unwrap();
    stream.flush().await.unwrap();
    stream.set_zero_linger().unwrap();
    drop(stream);
}

/// Retries a keyed request until the first one is no longer in progress
/// (409) and answers what the retry got. Bounded: a claim that never
/// settles fails the test.
async fn retry_until_settled(request: impl Fn() -> reqwest::RequestBuilder) -> reqwest::Response {
    for _ in 0..2_000 {
        let response = request().send().await.unwrap();
        if response.status() != StatusCode::CONFLICT {
            return response;
        }
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    panic!("the key stayed in progress");
}

#[tokio::test]
async fn a_request_that_fails_to_authenticate_leaves_no_trace_under_its_key() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let thread = uuid(&fixtures::thread(&server, &ada, "t").await);
    let path = format!("/api/v1/messages?thread_uuid={thread}");
    let body = json!({ "content": "hello" });
    for token in ["garbage", &format!("{}x", ada.token)] {
        let response = server
            .post(&path, token, body.clone())
            .header("Idempotency-Key", "same-key")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert!(response.headers().get("idempotent-replayed").is_none());
    }
    let response = server
        .post(&path, &ada.token, body.clone())
        .header("Idempotency-Key", "same-key")
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::CREATED,
        "carried out, not a replayed 401"
    );
    assert!(response.headers().get("idempotent-replayed").is_none());
    let (_, page) = send(server.get(&path, &ada.token)).await;
    assert_eq!(page["meta"]["total"], 1);
}

#[tokio::test]
async fn keys_belong_to_the_principal_not_to_the_header_text() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let key = server.api_key(&ada).await;
    let thread = uuid(&fixtures::thread(&server, &ada, "t").await);
    let path = format!("/api/v1/messages?thread_uuid={thread}");
    let body = json!({ "content": "once" });
    let first = server
        .post(&path, &key, body.clone())
        .header("Idempotency-Key", "k");
    let (status, first) = send(first).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    // The same API key presented another way is the same principal.
    let again = server
        .request(reqwest::Method::POST, &path)
        .header("X-API-Key", &key)
        .json(&body)
        .header("Idempotency-Key", "k")
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap(), first);
}

#[tokio::test]
async fn a_large_response_is_kept_and_replayed_whole() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let thread = uuid(&fixtures::thread(&server, &ada, "t").await);
    let path = format!("/api/v1/messages?thread_uuid={thread}");
    // Near the content limit: content and its HTML make a large answer.
    let body = json!({ "content": "<b>&</b> ".repeat(250 * 1024 / 9) });
    let post = || {
        server
            .post(&path, &ada.token, body.clone())
            .header("Idempotency-Key", "big")
    };
    let first = post().send().await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first = first.bytes().await.unwrap();
    assert!(first.len() > 500 * 1024, "{} bytes", first.len());
    let again = post().send().await.unwrap();
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.bytes().await.unwrap(), first);
    let (_, page) = send(server.get(&path, &ada.token)).await;
    assert_eq!(page["meta"]["total"], 1);
}

/// Clients that reset right after sending: every request is carried out
/// once, every key settles, and each retry replays the first response.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn clients_that_reset_after_sending_neither_stick_nor_duplicate() {
    let server = fixtures::unlimited().await;
    let ada = server.account("ada@example.com").await;
    let key = server.api_key(&ada).await;
    let thread = uuid(&fixtures::thread(&server, &ada, "t").await);
    let path = format!("/api/v1/messages?thread_uuid={thread}");
    const N: usize = 60;
    let bodies: Vec<Value> = (0..N)
        .map(|n| json!({ "content": format!("m{n}") }))
        .collect();
    let resets = bodies.iter().enumerate().map(|(n, body)| {
        let (server, path, key) = (&server, &path, &key);
        async move { send_and_reset(server, path, key, &format!("reset-{n}"), body).await }
    });
    futures_util::future::join_all(resets).await;

    let mut contents = Vec::new();
    for (n, body) in bodies.iter().enumerate() {
        let response = retry_until_settled(|| {
            server
                .post(&path, &key, body.clone())
                .header("Idempotency-Key", format!("reset-{n}"))
        })
        .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let data: Value = response.json().await.unwrap();
        contents.push(data["data"]["content"].as_str().unwrap().to_owned());
    }
    let expected: Vec<String> = (0..N).map(|n| format!("m{n}")).collect();
    assert_eq!(contents, expected);
    let (_, page) = send(server.get(&format!("{path}&per_page=100"), &key)).await;
    assert_eq!(page["meta"]["total"], N, "each message stored once");
}

/// A client that disconnects from a keyed run: the run is not started a
/// second time by the retry, which gets the first run's answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_keyed_run_whose_client_left_is_not_run_twice() {
    // Retries come in a loop: no per-credential rate limit.
    let server = fixtures::unlimited().await;
    let ada = server.account("ada@example.com").await;
    let thread = uuid(&fixtures::thread(&server, &ada, "t").await);
    let path = format!("/api/v1/threads/{thread}/run");
    let body = json!({ "content": "say it once", "model": "echo" });
    send_and_reset(&server, &path, &ada.token, "run-once", &body).await;
    let response = retry_until_settled(|| {
        server
            .post(&path, &ada.token, body.clone())
            .header("Idempotency-Key", "run-once")
    })
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["run"]["status"], "completed", "{answer}");
    let (_, runs) = send(server.get(&format!("/api/v1/threads/{thread}/runs"), &ada.token)).await;
    assert_eq!(runs["data"].as_array().unwrap().len(), 1, "{runs}");
    let (_, messages) = send(server.get(
        &format!("/api/v1/messages?thread_uuid={thread}"),
        &ada.token,
    ))
    .await;
    let roles: Vec<&str> = messages["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["user", "assistant"], "one user message, one reply");
}
