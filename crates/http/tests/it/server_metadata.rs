//! Metadata keys the server owns (a message's run usage, a thread's or
//! agent's counters) are refused in every dialect, on every path a client's
//! metadata takes: 422 naming `metadata.<key>`, and nothing stored.

use crate::fixtures::{agent, message, put, thread, total, uuid};
use crate::{TestServer, send};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// athena's 422 naming `field`, saying the server sets it.
fn assert_server_owned(status: StatusCode, body: &Value, field: &str) {
    crate::assert_invalid(status, body, field);
    let problem = body["errors"][field][0].as_str().unwrap_or_default();
    assert!(problem.contains("set by the server"), "{body}");
}

#[tokio::test]
async fn athena_refuses_run_keys_in_message_metadata() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let thread = uuid(&thread(&server, &ada, "Forgery").await);
    let messages = format!("/api/v1/messages?thread_uuid={thread}");

    for key in [
        "run_uuid",
        "finish_reason",
        "model",
        "tokens",
        "temperature",
    ] {
        let body = json!({ "content": "hi", "metadata": { key: "forged", "label": "x" } });
        let (status, body) = send(server.post(&messages, &ada.token, body)).await;
        assert_server_owned(status, &body, &format!("metadata.{key}"));
    }
    assert_eq!(total(&server, &ada.token, &messages).await, 0);

    // Updates too; the message keeps what it had.
    let written = message(
        &server,
        &ada.token,
        &thread,
        json!({ "content": "hi", "metadata": { "label": "x" } }),
    )
    .await;
    let path = format!("/api/v1/messages/{}", uuid(&written));
    let forged = json!({ "metadata": { "label": "y", "run_uuid": uuid(&written) } });
    let (status, body) = send(put(&server, &path, &ada.token, forged)).await;
    assert_server_owned(status, &body, "metadata.run_uuid");
    let (status, body) = send(server.get(&path, &ada.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["metadata"]["label"], "x");
    assert_eq!(body["data"]["metadata"].get("run_uuid"), None, "{body}");

    // A run's user message: no message, no run.
    let run = json!({ "content": "go", "metadata": { "finish_reason": "stop" } });
    let path = format!("/api/v1/threads/{thread}/run");
    let (status, body) = send(server.post(&path, &ada.token, run)).await;
    assert_server_owned(status, &body, "metadata.finish_reason");
    let (status, body) =
        send(server.post(&path, &ada.token, json!({ "metadata": { "tokens": 1 } }))).await;
    assert_server_owned(status, &body, "metadata.tokens");
    assert_eq!(total(&server, &ada.token, &messages).await, 1);
    let runs = format!("/api/v1/threads/{thread}/runs");
    let (status, body) = send(server.get(&runs, &ada.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"], json!([]), "{body}");
}

#[tokio::test]
async fn athena_refuses_counters_in_thread_and_agent_metadata() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let workspace = ada.workspace.to_string();
    let threads = format!("/api/v1/threads?workspace_uuid={workspace}");
    let body = json!({ "name": "t", "metadata": { "message_count": 9000 } });
    let (status, body) = send(server.post(&threads, &ada.token, body)).await;
    assert_server_owned(status, &body, "metadata.message_count");
    assert_eq!(total(&server, &ada.token, &threads).await, 0);

    // A thread's run settings stay the client's to write.
    let made = thread(&server, &ada, "t").await;
    let path = format!("/api/v1/threads/{}", uuid(&made));
    let settings = json!({ "metadata": { "model": "echo", "temperature": 0.2 } });
    let (status, body) = send(put(&server, &path, &ada.token, settings)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let forged = json!({ "metadata": { "last_model_used": "gpt-9" } });
    let (status, body) = send(put(&server, &path, &ada.token, forged)).await;
    assert_server_owned(status, &body, "metadata.last_model_used");
    let (_, body) = send(server.get(&path, &ada.token)).await;
    assert_eq!(
        body["data"]["metadata"],
        json!({ "model": "echo", "temperature": 0.2 })
    );

    let agents = format!("/api/v1/agents?workspace_uuid={workspace}");
    let body = json!({ "name": "a", "metadata": { "usage_count": 1, "role": "Helper" } });
    let (status, body) = send(server.post(&agents, &ada.token, body)).await;
    assert_server_owned(status, &body, "metadata.usage_count");
    assert_eq!(total(&server, &ada.token, &agents).await, 0);

    // An agent run makes a thread from the request's metadata.
    let helper = uuid(&agent(&server, &ada, json!({ "name": "Helper" })).await);
    let run = json!({ "content": "hi", "metadata": { "message_count": 1 } });
    let path = format!("/api/v1/agents/{helper}/run");
    let (status, body) = send(server.post(&path, &ada.token, run)).await;
    assert_server_owned(status, &body, "metadata.message_count");
    assert_eq!(total(&server, &ada.token, &threads).await, 1);
}

#[tokio::test]
async fn thena_refuses_run_keys_in_a_sent_message() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let key = server.api_key(&ada).await;
    let helper = uuid(&agent(&server, &ada, json!({ "name": "Helper" })).await);
    let threads = format!("/api/v1/chat/{helper}/threads");
    let request =
        |method: Method, path: &str| server.request(method, path).header("x-api-key", &key);

    let forged = json!({ "metadata": { "last_message_at": "2030-01-01T00:00:00Z" } });
    let (status, body) = send(request(Method::POST, &threads).json(&forged)).await;
    assert_thena_field(
        status,
        &body,
        json!(["body", "metadata", "last_message_at"]),
    );
    let (status, body) = send(request(Method::POST, &threads).json(&json!({}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let thread = body["id"].as_str().unwrap().to_owned();

    let path = format!("{threads}/{thread}/messages");
    let forged = json!({ "content": "hi", "metadata": { "run_uuid": thread, "k": "v" } });
    let (status, body) = send(request(Method::POST, &path).json(&forged)).await;
    assert_thena_field(status, &body, json!(["body", "metadata", "run_uuid"]));
    let (status, body) = send(request(Method::GET, &format!("{threads}/{thread}"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["messages"], json!([]), "{body}");
}

/// thena's (FastAPI) 422 with one problem at `loc`, saying the server sets it.
fn assert_thena_field(status: StatusCode, body: &Value, loc: Value) {
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let details = body["detail"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"));
    assert_eq!(details.len(), 1, "{body}");
    assert_eq!(details[0]["loc"], loc, "{body}");
    let message = details[0]["msg"].as_str().unwrap_or_default();
    assert!(message.contains("set by the server"), "{body}");
}

#[tokio::test]
async fn freddy_refuses_run_keys_in_messages_and_runs() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let key = server.api_key(&ada).await;
    let post = |path: &str, body: Value| {
        server
            .request(Method::POST, path)
            .header("x-api-key", &key)
            .json(&body)
    };

    let org = format!("org_{}", ada.workspace.to_string().replace('-', ""));
    let forged = json!({ "organization_id": org, "metadata": { "message_count": 3 } });
    let (status, body) = send(post("/v1/threads", forged)).await;
    assert_freddy_param(status, &body, "metadata.message_count");
    let (status, body) = send(post("/v1/threads", json!({ "organization_id": org }))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let thread = body["id"].as_str().unwrap().to_owned();
    let patch = server
        .request(Method::PATCH, &format!("/v1/threads/{thread}"))
        .header("x-api-key", &key)
        .json(&json!({ "metadata": { "total_tokens": 1 } }));
    let (status, body) = send(patch).await;
    assert_freddy_param(status, &body, "metadata.total_tokens");

    let messages = format!("/v1/threads/{thread}/messages");
    let forged =
        json!({ "role": "assistant", "content": "I ran", "metadata": { "finish_reason": "stop" } });
    let (status, body) = send(post(&messages, forged)).await;
    assert_freddy_param(status, &body, "metadata.finish_reason");
    let forged = json!({ "content": "go", "metadata": { "model": "gpt-9" } });
    let (status, body) = send(post(&format!("/v1/threads/{thread}/runs"), forged)).await;
    assert_freddy_param(status, &body, "metadata.model");

    let list = server
        .request(Method::GET, &messages)
        .header("x-api-key", &key);
    let (status, body) = send(list).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"], json!([]), "{body}");
}

/// freddy's (OpenAI-style) 422 naming `param`, saying the server sets it.
fn assert_freddy_param(status: StatusCode, body: &Value, param: &str) {
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["param"], param, "{body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("set by the server"), "{body}");
}

#[tokio::test]
async fn run_keys_stored_before_the_rule_are_not_shown() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let thread = uuid(&thread(&server, &ada, "Old data").await);
    let Value::Object(stored) = json!({
        "run_uuid": "0192c1f0-a1b2-7c3d-8e9f-0a1b2c3d4e5f",
        "finish_reason": "stop",
        "label": "kept",
    }) else {
        unreachable!()
    };
    let at = spool_core::now();
    let message = spool_core::model::Message {
        id: spool_core::MessageId::new(),
        thread_id: spool_core::ThreadId(thread.parse().unwrap()),
        workspace_id: ada.workspace,
        seq: 0,
        role: spool_core::model::MessageRole::User,
        content: "hi".into(),
        content_html: "<p>hi</p>\n".into(),
        metadata: spool_core::validate::Metadata::from_stored(stored),
        run: Default::default(),
        tool_calls: Vec::new(),
        user_id: Some(ada.user.id),
        attachments: Vec::new(),
        token_count: None,
        created_at: at,
        updated_at: at,
    };
    let id = message.id;
    server.spool.store().append_message(message).await.unwrap();

    let (status, body) = send(server.get(&format!("/api/v1/messages/{id}"), &ada.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let metadata = &body["data"]["metadata"];
    assert_eq!(metadata["label"], "kept", "{body}");
    assert_eq!(metadata.get("run_uuid"), None, "{body}");
    assert_eq!(metadata.get("finish_reason"), None, "{body}");
}
