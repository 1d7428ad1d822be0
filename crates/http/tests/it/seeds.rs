//! The documented examples are the acceptance test: seeds 000 (create
//! thread), 001 (create message) and 002 (update thread) are sent as
//! written, ids replaced with real ones, and the responses must have the
//! examples' shape and status.

use crate::fixtures::{agent, put, uuid};
use crate::shape::assert_same_shape_except;
use crate::{Account, TestServer, send};
use reqwest::StatusCode;
use serde_json::{Map, Value, json};

/// A seed's request body (after `--data-raw '`) and response example
/// (after "Response Response Example").
pub struct Seed {
    pub request: Value,
    pub response: Value,
}

/// The first JSON value in `text` after `marker`.
fn json_after(text: &str, marker: &str, file: &str) -> Value {
    let start = text
        .find(marker)
        .unwrap_or_else(|| panic!("{file}: no {marker:?}"))
        + marker.len();
    serde_json::Deserializer::from_str(&text[start..])
        .into_iter::<Value>()
        .next()
        .unwrap_or_else(|| panic!("{file}: nothing after {marker:?}"))
        .unwrap_or_else(|err| panic!("{file}: JSON after {marker:?}: {err}"))
}

/// The path and text of `tests/fixtures/seeds/{number}_*.txt`, the
/// documented examples, kept in the repository so the suite runs anywhere.
pub fn seed_text(number: &str) -> (String, String) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/seeds");
    let entries =
        std::fs::read_dir(&dir).unwrap_or_else(|err| panic!("seeds at {}: {err}", dir.display()));
    let path = entries
        .map(|entry| entry.expect("dir entry").path())
        .find(|path| {
            path.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&format!("{number}_")) && n.ends_with(".txt"))
        })
        .unwrap_or_else(|| panic!("no seed {number}_*.txt in {}", dir.display()));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("seed {}: {err}", path.display()));
    (path.display().to_string(), text)
}

/// Seed `number`'s request and response examples.
pub fn seed(number: &str) -> Seed {
    let (file, text) = seed_text(number);
    Seed {
        request: json_after(&text, "--data-raw '", &file),
        response: json_after(&text, "Response Response Example", &file),
    }
}

/// Client metadata objects: their keys in the examples are example data.
const THREAD_FREE_FORM: &[&str] = &[
    "data.metadata",
    "data.creator.primary_workspace.metadata",
    "data.agent.user.primary_workspace.metadata",
    "data.agent.workspace.metadata",
];

const MESSAGE_FREE_FORM: &[&str] = &[
    "data.thread.metadata",
    "data.thread.creator.primary_workspace.metadata",
    "data.thread.agent.user.primary_workspace.metadata",
    "data.thread.agent.workspace.metadata",
    // A Laravel morph: the seed's example attachable is a workflow
    // execution; spool's attachments are `media`, an uploaded file.
    "data.attachments[0].attachable",
];

/// An agent made from the example agent nested in a seed's response.
async fn agent_like(server: &TestServer, account: &Account, example: &Value) -> Value {
    let mut body = Map::new();
    for key in [
        "name",
        "description",
        "instruction",
        "profile_photo_url",
        "profile_photo_config",
        "visibility",
        "metadata",
    ] {
        body.insert(key.to_owned(), example[key].clone());
    }
    agent(server, account, Value::Object(body)).await
}

/// Shares `agent` so that the response's `shares` is not empty.
async fn share(server: &TestServer, owner: &Account, agent: &Value, body: Value) {
    let path = format!("/api/v1/agents/{}/share", uuid(agent));
    let (status, body) = send(server.post(&path, &owner.token, body)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// athena timestamps: full UTC RFC 3339 with microseconds.
fn assert_athena_time(value: &Value, what: &str) {
    let text = value.as_str().unwrap_or_else(|| panic!("{what}: {value}"));
    let parsed = chrono::DateTime::parse_from_rfc3339(text);
    assert!(parsed.is_ok(), "{what}: {text}");
    let fraction = text
        .split('.')
        .nth(1)
        .unwrap_or_else(|| panic!("{what}: {text}"));
    assert_eq!(fraction.len(), 7, "{what}: six digits and Z: {text}");
    assert!(text.ends_with('Z'), "{what}: {text}");
}

#[tokio::test]
async fn seed_000_create_thread() {
    let seed = seed("000");
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let agent = agent_like(&server, &ada, &seed.response["data"]["agent"]).await;
    let workspace = ada.workspace.to_string();
    let eve = server.account("eve@example.com").await;
    share(&server, &ada, &agent, json!({
        "entity_type": "workspace", "entity_id": eve.workspace.to_string(), "permission": "write",
    }))
    .await;

    let mut request = seed.request.clone();
    request["workspace_uuid"] = json!(workspace);
    request["agent_uuid"] = json!(uuid(&agent));
    let path = format!("/api/v1/threads?workspace_uuid={workspace}");
    let (status, body) = send(server.post(&path, &ada.token, request.clone())).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_same_shape_except(&seed.response, &body, THREAD_FREE_FORM);

    let data = &body["data"];
    assert_eq!(data["name"], request["name"]);
    assert_eq!(data["with"], request["with"]);
    assert_eq!(data["metadata"], request["metadata"]);
    assert_eq!(data["agent"]["uuid"], request["agent_uuid"]);
    assert_eq!(
        data["agent"]["metadata"],
        seed.response["data"]["agent"]["metadata"]
    );
    assert_eq!(data["creator"]["id"], ada.user.id.0);
    assert_eq!(data["creator"]["primary_workspace"]["uuid"], workspace);
    assert_athena_time(&data["created_at"], "created_at");
    assert_athena_time(&data["updated_at"], "updated_at");
}

#[tokio::test]
async fn seed_001_create_message_with_files() {
    let seed = seed("001");
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let workspace = ada.workspace.to_string();
    let agent = agent_like(&server, &ada, &seed.response["data"]["thread"]["agent"]).await;
    let eve = server.account("eve@example.com").await;
    share(
        &server,
        &ada,
        &agent,
        json!({
            "entity_type": "user", "entity_id": eve.user.id.0, "permission": "read",
        }),
    )
    .await;
    let thread = crate::fixtures::thread_in(
        &server,
        &ada.token,
        &workspace,
        json!({
            "name": "Seed 001",
            "agent_uuid": uuid(&agent),
            "metadata": seed.response["data"]["thread"]["metadata"],
        }),
    )
    .await;
    let thread_uuid = uuid(&thread);
    let path = format!("/api/v1/messages?workspace_uuid={workspace}&thread_uuid={thread_uuid}");
    let mut request = seed.request.clone();
    request["thread_uuid"] = json!(thread_uuid);

    // The seed's body names an uploaded file by a placeholder key: no such
    // file, so 422 and nothing written.
    assert!(!request["files"].as_array().unwrap().is_empty());
    let (status, body) = send(server.post(&path, &ada.token, request.clone())).await;
    crate::assert_invalid(status, &body, "files.0.key");
    let listing = format!("/api/v1/messages?thread_uuid={thread_uuid}");
    assert_eq!(
        crate::fixtures::total(&server, &ada.token, &listing).await,
        0
    );

    // With the key of a real upload: the seed's shape, attachments included.
    let key = crate::files::upload_one(&server, &ada.token, "notes.txt", b"notes").await;
    request["files"][0]["key"] = json!(key);
    let (status, body) = send(server.post(&path, &ada.token, request.clone())).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_same_shape_except(&seed.response, &body, MESSAGE_FREE_FORM);
    let attachment = &body["data"]["attachments"][0];
    assert_eq!(attachment["type"], "media");
    assert_eq!(attachment["attachable"]["key"], json!(key));
    assert_eq!(
        attachment["attachable"]["name"],
        request["files"][0]["name"]
    );
    assert_athena_time(&attachment["created_at"], "attachments.created_at");

    let data = &body["data"];
    assert_eq!(data["content"], request["content"]);
    assert_eq!(data["role"], request["role"]);
    assert_eq!(data["thread"]["uuid"], thread_uuid);
    assert_eq!(data["thread"]["message_count"], 1);
    assert_eq!(data["thread"]["agent"]["uuid"], uuid(&agent));
    assert!(data["content_html"].is_string(), "{data}");
    assert_athena_time(&data["created_at"], "created_at");
    assert_eq!(
        crate::fixtures::total(&server, &ada.token, &listing).await,
        1
    );

    // An empty files list is the same as none.
    request["files"] = json!([]);
    let (status, body) = send(server.post(&path, &ada.token, request)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn seed_002_update_thread() {
    let seed = seed("002");
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let workspace = ada.workspace.to_string();
    let agent = agent(&server, &ada, json!({ "name": "Support" })).await;
    let thread = crate::fixtures::thread(&server, &ada, "Before").await;

    let mut request = seed.request.clone();
    request["agent_uuid"] = json!(uuid(&agent));
    let path = format!(
        "/api/v1/threads/{}?workspace_uuid={workspace}",
        uuid(&thread)
    );
    let (status, body) = send(put(&server, &path, &ada.token, request.clone())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_same_shape_except(&seed.response, &body, THREAD_FREE_FORM);

    let data = &body["data"];
    assert_eq!(data["uuid"], thread["uuid"]);
    assert_eq!(data["name"], request["name"]);
    assert_eq!(data["with"], request["with"]);
    assert_eq!(data["metadata"], request["metadata"]);
    assert_eq!(data["agent"]["uuid"], uuid(&agent));
    assert_athena_time(&data["updated_at"], "updated_at");

    let (status, read) = send(server.get(&path, &ada.token)).await;
    assert_eq!(status, StatusCode::OK, "{read}");
    assert_eq!(read["data"]["name"], request["name"]);
    assert_eq!(read["data"]["agent"]["uuid"], uuid(&agent));
}
