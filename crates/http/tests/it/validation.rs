//! Limits at the edge and one past it (DESIGN §3), malformed ids, bodies of
//! the wrong form. Every rejected request leaves the lists as they were.

use crate::fixtures::{agent, put, thread, total, uuid};
use crate::{Account, TestServer, assert_invalid, send};
use reqwest::{Method, StatusCode};
use serde_json::{Map, Value, json};

/// Something clients create with a metadata object.
enum Target {
    Thread,
    Message(String),
    Agent,
}

impl Target {
    fn create_path(&self, account: &Account) -> String {
        let workspace = account.workspace;
        match self {
            Target::Thread => format!("/api/v1/threads?workspace_uuid={workspace}"),
            Target::Message(thread) => format!("/api/v1/messages?thread_uuid={thread}"),
            Target::Agent => format!("/api/v1/agents?workspace_uuid={workspace}"),
        }
    }

    fn list_path(&self, account: &Account) -> String {
        match self {
            Target::Message(thread) => format!("/api/v1/messages?thread_uuid={thread}"),
            _ => self.create_path(account),
        }
    }

    fn body(&self, metadata: Value) -> Value {
        match self {
            Target::Thread => json!({ "name": "t", "metadata": metadata }),
            Target::Message(_) => json!({ "content": "hello", "metadata": metadata }),
            Target::Agent => json!({ "name": "a", "metadata": metadata }),
        }
    }
}

fn keys(n: usize) -> Value {
    Value::Object(
        (0..n)
            .map(|i| (format!("k{i}"), json!(i)))
            .collect::<Map<_, _>>(),
    )
}

/// A JSON array whose JSON text is exactly `chars` characters (multi-byte).
fn array_of_json_chars(chars: usize) -> Value {
    let value = json!(["é".repeat(chars - 4)]);
    assert_eq!(value.to_string().chars().count(), chars);
    value
}

#[tokio::test]
async fn metadata_limits_hold_for_threads_messages_and_agents() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let host = uuid(&thread(&server, &ada, "host").await);
    let long_key = "日".repeat(65);
    let ok_key = "日".repeat(64);
    let cases: Vec<(&str, Value, Option<String>)> = vec![
        ("16 keys", keys(16), None),
        ("17 keys", keys(17), Some("metadata".into())),
        ("64-character key", json!({ &ok_key: 1 }), None),
        (
            "65-character key",
            json!({ &long_key: 1 }),
            Some(format!("metadata.{long_key}")),
        ),
        (
            "512-character string",
            json!({ "s": "ü".repeat(512) }),
            None,
        ),
        (
            "513-character string",
            json!({ "s": "ü".repeat(513) }),
            Some("metadata.s".into()),
        ),
        (
            "512-character array",
            json!({ "a": array_of_json_chars(512) }),
            None,
        ),
        (
            "513-character array",
            json!({ "a": array_of_json_chars(513) }),
            Some("metadata.a".into()),
        ),
    ];
    for target in [Target::Thread, Target::Message(host), Target::Agent] {
        let list = target.list_path(&ada);
        let mut count = total(&server, &ada.token, &list).await;
        for (case, metadata, rejected_field) in &cases {
            let request = server.post(
                &target.create_path(&ada),
                &ada.token,
                target.body(metadata.clone()),
            );
            let (status, body) = send(request).await;
            match rejected_field {
                None => {
                    assert_eq!(status, StatusCode::CREATED, "{list} {case}: {body}");
                    let key = metadata_key(metadata);
                    assert_eq!(
                        body["data"]["metadata"][key], metadata[key],
                        "{list} {case}"
                    );
                    count += 1;
                }
                Some(field) => assert_invalid(status, &body, field),
            }
            assert_eq!(
                total(&server, &ada.token, &list).await,
                count,
                "{list} {case}"
            );
        }
    }
}

fn metadata_key(metadata: &Value) -> &str {
    metadata.as_object().unwrap().keys().next().unwrap()
}

#[tokio::test]
async fn names_count_characters_not_bytes() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let workspace = ada.workspace;
    let at_limit = "日".repeat(200); // 600 bytes, 200 characters
    let past_limit = "日".repeat(201);
    for path in [
        format!("/api/v1/threads?workspace_uuid={workspace}"),
        format!("/api/v1/agents?workspace_uuid={workspace}"),
    ] {
        let (status, body) =
            send(server.post(&path, &ada.token, json!({ "name": at_limit }))).await;
        assert_eq!(status, StatusCode::CREATED, "{path}: {body}");
        assert_eq!(body["data"]["name"], at_limit);
        let created = uuid(&body["data"]);
        let (status, body) =
            send(server.post(&path, &ada.token, json!({ "name": past_limit }))).await;
        assert_invalid(status, &body, "name");
        assert_eq!(total(&server, &ada.token, &path).await, 1, "{path}");

        // The same limits on update, which then changes nothing.
        let item = path.replace('?', &format!("/{created}?"));
        let (status, body) = send(put(
            &server,
            &item,
            &ada.token,
            json!({ "name": past_limit }),
        ))
        .await;
        assert_invalid(status, &body, "name");
        let (_, body) = send(server.get(&item, &ada.token)).await;
        assert_eq!(body["data"]["name"], at_limit, "{item}");
    }
    let path = format!("/api/v1/threads?workspace_uuid={workspace}");
    let (status, body) = send(server.post(&path, &ada.token, json!({ "with": past_limit }))).await;
    assert_invalid(status, &body, "with");
}

#[tokio::test]
async fn messages_reject_unknown_roles_missing_and_oversized_content() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let thread = uuid(&thread(&server, &ada, "t").await);
    let path = format!("/api/v1/messages?thread_uuid={thread}");
    let post = |body: Value| send(server.post(&path, &ada.token, body));

    let (status, body) = post(json!({ "content": "hi", "role": "robot" })).await;
    assert_invalid(status, &body, "role");
    let (status, body) = post(json!({ "content": "hi", "role": "USER" })).await;
    assert_invalid(status, &body, "role");
    let (status, body) = post(json!({ "role": "user" })).await;
    assert_invalid(status, &body, "content");
    let (status, body) = post(json!({ "content": "   " })).await;
    assert_invalid(status, &body, "content");
    let limit = 256 * 1024;
    let (status, body) = post(json!({ "content": "x".repeat(limit + 1) })).await;
    assert_invalid(status, &body, "content");
    // Content is limited in bytes: 87,382 three-byte characters are over.
    let (status, body) = post(json!({ "content": "日".repeat(limit / 3 + 1) })).await;
    assert_invalid(status, &body, "content");
    assert_eq!(total(&server, &ada.token, &path).await, 0);

    let (status, body) = post(json!({ "content": "x".repeat(limit) })).await;
    assert_eq!(status, StatusCode::CREATED, "exactly 256 KiB is allowed");
    let message = uuid(&body["data"]);
    assert_eq!(total(&server, &ada.token, &path).await, 1);

    let item = format!("/api/v1/messages/{message}");
    let (status, body) = send(put(
        &server,
        &item,
        &ada.token,
        json!({ "content": "x".repeat(limit + 1) }),
    ))
    .await;
    assert_invalid(status, &body, "content");
    let (_, body) = send(server.get(&item, &ada.token)).await;
    assert_eq!(body["data"]["content"].as_str().unwrap().len(), limit);
}

#[tokio::test]
async fn agents_reject_unknown_visibility_and_persona_types() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let path = format!("/api/v1/agents?workspace_uuid={}", ada.workspace);
    for (body, field) in [
        (json!({ "name": "a", "visibility": "secret" }), "visibility"),
        (json!({ "name": "a", "visibility": "" }), "visibility"),
        (
            json!({ "name": "a", "metadata": { "memory": "yes" } }),
            "metadata.memory",
        ),
        (
            json!({ "name": "a", "metadata": { "conversation_starters": [1] } }),
            "metadata.conversation_starters",
        ),
        (json!({ "visibility": "private" }), "name"),
    ] {
        let (status, response) = send(server.post(&path, &ada.token, body.clone())).await;
        assert_invalid(status, &response, field);
    }
    assert_eq!(total(&server, &ada.token, &path).await, 0);
}

#[tokio::test]
async fn malformed_uuids_answer_422_naming_the_field() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let workspace = ada.workspace;
    let threads = format!("/api/v1/threads?workspace_uuid={workspace}");
    thread(&server, &ada, "t").await;

    let (status, body) = send(server.post(
        &threads,
        &ada.token,
        json!({ "name": "t", "agent_uuid": "not-a-uuid" }),
    ))
    .await;
    assert_invalid(status, &body, "agent_uuid");
    let (status, body) = send(server.post(
        "/api/v1/threads",
        &ada.token,
        json!({ "name": "t", "workspace_uuid": "123" }),
    ))
    .await;
    assert_invalid(status, &body, "workspace_uuid");
    let (status, body) = send(server.post(
        "/api/v1/threads?workspace_uuid=zzz",
        &ada.token,
        json!({ "name": "t" }),
    ))
    .await;
    assert_invalid(status, &body, "workspace_uuid");
    assert_eq!(total(&server, &ada.token, &threads).await, 1);

    for path in [
        "/api/v1/messages?thread_uuid=550e8400-e29b-41d4-a716",
        "/api/v1/messages",
    ] {
        let (status, body) = send(server.post(path, &ada.token, json!({ "content": "hi" }))).await;
        assert_invalid(status, &body, "thread_uuid");
    }
    let (status, body) = send(server.post(
        "/api/v1/messages",
        &ada.token,
        json!({ "content": "hi", "thread_uuid": "nope" }),
    ))
    .await;
    assert_invalid(status, &body, "thread_uuid");

    for (path, field) in [
        ("/api/v1/messages?thread_uuid=nope", "thread_uuid"),
        ("/api/v1/threads?agent_uuid=nope", "agent_uuid"),
        ("/api/v1/threads?workspace_uuid=nope", "workspace_uuid"),
        ("/api/v1/agents?workspace_uuid=nope", "workspace_uuid"),
        ("/api/v1/metrics/threads?agent_uuid=nope", "agent_uuid"),
    ] {
        let (status, body) = send(server.get(path, &ada.token)).await;
        assert_invalid(status, &body, field);
    }
    // The body's workspace wins over the query's, but a malformed query
    // value is refused all the same, and nothing is created.
    let (status, body) = send(server.post(
        "/api/v1/threads?workspace_uuid=nope",
        &ada.token,
        json!({ "name": "refused", "workspace_uuid": ada.workspace }),
    ))
    .await;
    assert_invalid(status, &body, "workspace_uuid");
    let (_, threads) = send(server.get("/api/v1/threads", &ada.token)).await;
    assert!(
        threads["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["name"] != "refused"),
        "{threads}"
    );
}

#[tokio::test]
async fn an_agent_of_another_workspace_is_invalid() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let eve = server.account("eve@example.com").await;
    let foreign = uuid(&agent(&server, &eve, json!({ "name": "Eve's" })).await);
    let own = thread(&server, &ada, "mine").await;
    let threads = format!("/api/v1/threads?workspace_uuid={}", ada.workspace);

    let (status, body) = send(server.post(
        &threads,
        &ada.token,
        json!({ "name": "t", "agent_uuid": foreign }),
    ))
    .await;
    assert_invalid(status, &body, "agent_uuid");
    let item = format!("/api/v1/threads/{}", uuid(&own));
    let (status, body) = send(put(
        &server,
        &item,
        &ada.token,
        json!({ "agent_uuid": foreign, "name": "changed" }),
    ))
    .await;
    assert_invalid(status, &body, "agent_uuid");
    let (_, body) = send(server.get(&item, &ada.token)).await;
    assert_eq!(body["data"]["agent"], Value::Null);
    assert_eq!(
        body["data"]["name"], "mine",
        "a rejected update changes nothing"
    );
    assert_eq!(total(&server, &ada.token, &threads).await, 1);
    let (_, body) = send(server.get(&format!("/api/v1/agents/{foreign}"), &eve.token)).await;
    assert_eq!(body["data"]["threads_count"], 0);
}

#[tokio::test]
async fn bodies_of_the_wrong_form_are_rejected_and_change_nothing() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let workspace = ada.workspace;
    let host = uuid(&thread(&server, &ada, "host").await);
    let threads = format!("/api/v1/threads?workspace_uuid={workspace}");
    let messages = format!("/api/v1/messages?thread_uuid={host}");
    let agents = format!("/api/v1/agents?workspace_uuid={workspace}");
    let raw = |path: &str, text: &'static str| {
        server
            .request(Method::POST, path)
            .bearer_auth(&ada.token)
            .header("content-type", "application/json")
            .body(text)
    };

    for path in [&threads, &messages, &agents] {
        for text in [r#"{"name": "#, "{content: 'x'}", "", "[1,"] {
            let (status, body) = send(raw(path, text)).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{path} {text:?}: {body}");
            assert!(body["message"].is_string(), "{body}");
        }
    }
    for (path, body, field) in [
        (&threads, json!({ "name": 5 }), "name"),
        (
            &threads,
            json!({ "name": "t", "metadata": "x" }),
            "metadata",
        ),
        (
            &threads,
            json!({ "name": "t", "metadata": [1] }),
            "metadata",
        ),
        (
            &threads,
            json!({ "name": "t", "agent_uuid": 7 }),
            "agent_uuid",
        ),
        (&threads, json!({ "name": "t", "colour": "red" }), "colour"),
        (&messages, json!({ "content": 5 }), "content"),
        (&messages, json!({ "content": "x", "role": 1 }), "role"),
        (&messages, json!({ "content": "x", "files": "a" }), "files"),
        (&messages, json!({ "content": "x", "mood": "ok" }), "mood"),
        (
            &agents,
            json!({ "name": "a", "visibility": true }),
            "visibility",
        ),
        (&agents, json!({ "name": ["a"] }), "name"),
        (&agents, json!({ "name": "a", "tools": {} }), "tools"),
    ] {
        let (status, response) = send(server.post(path, &ada.token, body.clone())).await;
        assert_invalid(status, &response, field);
    }
    let (status, body) = send(server.post(&threads, &ada.token, json!([]))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = send(put(
        &server,
        &format!("/api/v1/threads/{host}"),
        &ada.token,
        json!({ "is_pinned": "yes" }),
    ))
    .await;
    assert_invalid(status, &body, "is_pinned");

    assert_eq!(total(&server, &ada.token, &threads).await, 1);
    assert_eq!(total(&server, &ada.token, &messages).await, 0);
    assert_eq!(total(&server, &ada.token, &agents).await, 0);
    let (_, body) = send(server.get(&format!("/api/v1/threads/{host}"), &ada.token)).await;
    assert_eq!(body["data"]["is_pinned"], false);
}

/// PostgreSQL cannot store U+0000 in text or jsonb; every backend refuses it
/// alike, naming the field, instead of failing with a 5xx.
#[tokio::test]
async fn nul_characters_are_refused_naming_the_field() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let workspace = ada.workspace;
    let host = uuid(&thread(&server, &ada, "host").await);
    let threads = format!("/api/v1/threads?workspace_uuid={workspace}");
    let messages = format!("/api/v1/messages?thread_uuid={host}");
    let agents = format!("/api/v1/agents?workspace_uuid={workspace}");
    for (path, body, field) in [
        (&threads, json!({ "name": "a\u{0}b" }), "name"),
        (&threads, json!({ "name": "t", "with": "\u{0}" }), "with"),
        (
            &threads,
            json!({ "name": "t", "metadata": { "k": "a\u{0}" } }),
            "metadata.k",
        ),
        (&messages, json!({ "content": "a\u{0}b" }), "content"),
        (
            &agents,
            json!({ "name": "a", "instruction": "\u{0}" }),
            "instruction",
        ),
    ] {
        let (status, response) = send(server.post(path, &ada.token, body.clone())).await;
        assert_invalid(status, &response, field);
    }
    let (status, body) = send(
        server
            .get("/api/v1/threads", &ada.token)
            .query(&[("search", "a\u{0}b")]),
    )
    .await;
    assert_invalid(status, &body, "search");
    assert_eq!(total(&server, &ada.token, &threads).await, 1);
    assert_eq!(total(&server, &ada.token, &messages).await, 0);
    assert_eq!(total(&server, &ada.token, &agents).await, 0);
}
