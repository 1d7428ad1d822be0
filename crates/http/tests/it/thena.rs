//! The thena dialect over HTTP: seed 003 as documented, the neighbouring
//! endpoints, anonymous end users, FastAPI error bodies, isolation.

use crate::fixtures::{agent, delete, message, uuid};
use crate::shape::assert_same_shape_except;
use crate::{Account, TestServer, send};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};

/// The first JSON value after `marker` in seed `number`, and the byte
/// offset where it ends.
fn seed_json(number: &str, marker: &str, from: usize) -> (Value, usize) {
    let (_, text) = crate::seeds::seed_text(number);
    let start = from + text[from..].find(marker).expect("marker") + marker.len();
    let start = start + text[start..].find('{').expect("a JSON object");
    let mut values = serde_json::Deserializer::from_str(&text[start..]).into_iter::<Value>();
    let value = values.next().expect("a value").expect("valid JSON");
    (value, start + values.byte_offset())
}

/// Seed 003: the request after `--data '`, the response right after it.
fn seed_003() -> (Value, Value) {
    let (request, end) = seed_json("003", "--data '", 0);
    let (response, _) = seed_json("003", "'", end);
    (request, response)
}

const FREE_FORM: &[&str] = &[
    "metadata",
    "messages[0].metadata",
    "messages[0].tool_calls[0].arguments",
    "messages[0].tool_calls[0].result",
    "messages[0].attachments[0]",
];

pub fn key_request(server: &TestServer, method: Method, path: &str, key: &str) -> RequestBuilder {
    server.request(method, path).header("x-api-key", key)
}

pub fn assert_seconds(value: &Value, what: &str) {
    let text = value.as_str().unwrap_or_else(|| panic!("{what}: {value}"));
    assert!(
        chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%SZ").is_ok(),
        "{what}: whole seconds, UTC: {text}"
    );
}

/// A FastAPI `{"detail": "..."}` body with `status`.
pub fn assert_detail(status: StatusCode, body: &Value, expected: StatusCode) {
    assert_eq!(status, expected, "{body}");
    assert!(body["detail"].is_string(), "{body}");
    assert_eq!(body.as_object().map(|o| o.len()), Some(1), "{body}");
}

/// A FastAPI 422 naming `loc`.
pub fn assert_unprocessable(status: StatusCode, body: &Value, loc: Value) {
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let details = body["detail"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"));
    assert!(
        details.iter().any(|d| d["loc"] == loc
            && d["msg"].is_string()
            && d["type"].is_string()
            && d.get("input").is_some()),
        "expected a problem at {loc}: {body}"
    );
}

struct Chat {
    server: TestServer,
    ada: Account,
    key: String,
    agent: String,
}

async fn chat() -> Chat {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let key = server.api_key(&ada).await;
    let agent = uuid(&agent(&server, &ada, json!({ "name": "Helper" })).await);
    Chat {
        server,
        ada,
        key,
        agent,
    }
}

impl Chat {
    fn threads(&self) -> String {
        format!("/api/v1/chat/{}/threads", self.agent)
    }

    async fn create(&self, body: Value) -> Value {
        let (status, body) =
            send(key_request(&self.server, Method::POST, &self.threads(), &self.key).json(&body))
                .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    async fn list(&self, query: String) -> (StatusCode, Value) {
        self.get(&format!("{}?{query}", self.threads())).await
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        send(key_request(&self.server, Method::GET, path, &self.key)).await
    }
}

#[tokio::test]
async fn seed_003_create_chat_thread() {
    let (mut request, response) = seed_003();
    let chat = chat().await;
    request["agent_id"] = json!(chat.agent);
    request["metadata"] = json!({ "channel": "web" });
    let body = chat.create(request.clone()).await;
    assert_same_shape_except(&response, &body, FREE_FORM);
    assert_eq!(body["agent_id"], chat.agent);
    assert_eq!(body["title"], request["title"]);
    assert_eq!(body["metadata"], request["metadata"]);
    assert_eq!(body["user_id"], chat.ada.user.uuid.to_string());
    assert_eq!(body["anon_user_id"], Value::Null);
    assert_eq!(body["organization_id"], chat.ada.workspace.to_string());
    assert_eq!(body["messages"], json!([]));
    assert_seconds(&body["created_at"], "created_at");
    assert_seconds(&body["updated_at"], "updated_at");
    // The body may leave the agent to the path.
    let bare = chat.create(json!({ "title": "no agent in body" })).await;
    assert_eq!(bare["agent_id"], chat.agent);

    // Read back with a message: each message has the documented shape.
    let thread = body["id"].as_str().unwrap();
    let path = format!("{}/{thread}/messages", chat.threads());
    let (status, sent) = send(
        key_request(&chat.server, Method::POST, &path, &chat.key)
            .json(&json!({ "content": "Hello **there**" })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    // The answer is the agent's stored reply (the offline echo model here).
    assert_same_shape_except(&response["messages"][0], &sent, &["metadata"]);
    assert_eq!(sent["role"], "assistant");
    assert_eq!(sent["thread_id"], thread);
    assert!(!sent["content"].as_str().unwrap().is_empty(), "{sent}");
    assert_eq!(sent["metadata"]["model"], "echo");
    assert_eq!(sent["metadata"]["finish_reason"], "stop");
    assert!(sent["metadata"]["tokens"]["total"].is_u64(), "{sent}");
    let (status, read) = chat.get(&format!("{}/{thread}", chat.threads())).await;
    assert_eq!(status, StatusCode::OK, "{read}");
    assert_same_shape_except(&response, &read, FREE_FORM);
    let messages = read["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2, "{read}");
    let first = &messages[0];
    assert_eq!(first["thread_id"], thread);
    assert_eq!(first["role"], "user");
    assert_eq!(first["content"], "Hello **there**");
    assert!(first["content_html"].as_str().unwrap().contains("<strong>"));
    assert_eq!(first["feedback"], Value::Null);
    assert_seconds(&first["created_at"], "message created_at");
    assert_eq!(messages[1], sent);
}

/// `(event, data)` of each Server-Sent Event with an id, in order.
fn events(text: &str) -> Vec<(String, String)> {
    text.split("\n\n")
        .filter_map(|block| {
            let field = |name: &str| {
                block
                    .lines()
                    .filter_map(|line| line.strip_prefix(name))
                    .map(|v| v.strip_prefix(' ').unwrap_or(v).to_owned())
                    .collect::<Vec<_>>()
            };
            let (id, event) = (field("id:"), field("event:"));
            (!id.is_empty() && !event.is_empty())
                .then(|| (event[0].clone(), field("data:").join("\n")))
        })
        .collect()
}

#[tokio::test]
async fn sending_can_stream_the_reply() {
    let chat = chat().await;
    let thread = chat.create(json!({})).await;
    let id = thread["id"].as_str().unwrap();
    let path = format!("{}/{id}/messages", chat.threads());
    for (stream, accept) in [(Some(true), None), (None, Some("text/event-stream"))] {
        let mut body = json!({ "content": "one two three" });
        if let Some(stream) = stream {
            body["stream"] = json!(stream);
        }
        let mut request = key_request(&chat.server, Method::POST, &path, &chat.key).json(&body);
        if let Some(accept) = accept {
            request = request.header("accept", accept);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let kind = response.headers()["content-type"].to_str().unwrap();
        assert!(kind.starts_with("text/event-stream"), "{kind}");
        let events = events(&response.text().await.unwrap());
        let names: Vec<&str> = events.iter().map(|(e, _)| e.as_str()).collect();
        assert_eq!(names.first(), Some(&"run.created"), "{names:?}");
        let n = names.len();
        assert_eq!(
            names[n - 3..],
            ["message.completed", "run.completed", "done"],
            "{names:?}"
        );
        assert!(names.contains(&"message.delta"), "{names:?}");
        let streamed: String = events
            .iter()
            .filter(|(e, _)| e == "message.delta")
            .map(|(_, d)| {
                let delta: Value = serde_json::from_str(d).unwrap();
                delta["delta"]["content"].as_str().unwrap().to_owned()
            })
            .collect();
        let completed: Value = serde_json::from_str(&events[n - 3].1).unwrap();
        assert_eq!(completed["role"], "assistant");
        assert_eq!(completed["content"], streamed);
        assert_eq!(completed["feedback"], Value::Null);
        let run: Value = serde_json::from_str(&events[n - 2].1).unwrap();
        assert_eq!(run["status"], "completed");
        assert_eq!(run["message_id"], completed["id"]);
    }
    let (_, read) = chat.get(&format!("{}/{id}", chat.threads())).await;
    assert_eq!(read["messages"].as_array().unwrap().len(), 4, "{read}");

    let post = |body: Value| key_request(&chat.server, Method::POST, &path, &chat.key).json(&body);
    let (status, body) = send(post(json!({ "content": "hi", "model": "no-such-model" }))).await;
    assert_unprocessable(status, &body, json!(["body", "model"]));
    let (status, body) = send(post(json!({ "content": " " }))).await;
    assert_unprocessable(status, &body, json!(["body", "content"]));
}

#[tokio::test]
async fn lists_page_with_cursors_and_ids() {
    let chat = chat().await;
    let mut ids = Vec::new();
    for n in 0..5 {
        let body = chat.create(json!({ "title": format!("t{n}") })).await;
        ids.push(body["id"].as_str().unwrap().to_owned());
    }
    // A thread of another agent stays out of this agent's list.
    let other = uuid(&agent(&chat.server, &chat.ada, json!({ "name": "Other" })).await);
    let (status, _) = send(
        key_request(
            &chat.server,
            Method::POST,
            &format!("/api/v1/chat/{other}/threads"),
            &chat.key,
        )
        .json(&json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    let (status, first) = chat.list("limit=2&sort=created_at".into()).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let page_ids = |page: &Value| -> Vec<String> {
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(page_ids(&first), [ids[4].clone(), ids[3].clone()]);
    assert_eq!(first["has_more"], true);
    assert!(first["data"][0].get("messages").is_none(), "{first}");
    let cursor = first["next_cursor"].as_str().unwrap();
    let (_, second) = chat
        .list(format!("limit=2&sort=created_at&after={cursor}"))
        .await;
    assert_eq!(page_ids(&second), [ids[2].clone(), ids[1].clone()]);
    let (_, by_id) = chat
        .list(format!("limit=2&sort=created_at&after={}", ids[1]))
        .await;
    assert_eq!(page_ids(&by_id), [ids[0].clone()]);
    assert_eq!(by_id["has_more"], false);
    let (_, back) = chat
        .list(format!("limit=2&sort=created_at&before={}", ids[1]))
        .await;
    assert_eq!(page_ids(&back), [ids[3].clone(), ids[2].clone()]);
    assert_eq!(back["has_more"], true);

    let (status, body) = chat.list("limit=0".into()).await;
    assert_unprocessable(status, &body, json!(["query", "limit"]));
    let (status, body) = chat.list("after=not-a-cursor".into()).await;
    assert_unprocessable(status, &body, json!(["query", "after"]));
}

#[tokio::test]
async fn read_and_delete_under_the_agent_only() {
    let chat = chat().await;
    let thread = chat.create(json!({ "title": "bye" })).await;
    let id = thread["id"].as_str().unwrap();
    let other = uuid(&agent(&chat.server, &chat.ada, json!({ "name": "Other" })).await);
    let (status, body) = chat
        .get(&format!("/api/v1/chat/{other}/threads/{id}"))
        .await;
    assert_detail(status, &body, StatusCode::NOT_FOUND);

    let path = format!("{}/{id}", chat.threads());
    let (status, body) = send(key_request(&chat.server, Method::DELETE, &path, &chat.key)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({ "id": id, "deleted": true }));
    let (status, body) = chat.get(&path).await;
    assert_detail(status, &body, StatusCode::NOT_FOUND);
    assert_eq!(body["detail"], "Thread not found");
}

#[tokio::test]
async fn anonymous_end_users_see_only_their_threads() {
    let chat = chat().await;
    let mine = chat
        .create(json!({ "title": "anon", "anon_user_id": "visitor-1" }))
        .await;
    assert_eq!(mine["anon_user_id"], "visitor-1");
    assert_eq!(mine["user_id"], Value::Null);
    chat.create(json!({ "title": "staff" })).await;
    let id = mine["id"].as_str().unwrap();

    let (_, list) = chat
        .get(&format!("{}?anon_user_id=visitor-1", chat.threads()))
        .await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list["data"][0]["id"], id);
    let (_, list) = chat
        .get(&format!("{}?anon_user_id=visitor-2", chat.threads()))
        .await;
    assert_eq!(list["data"], json!([]));
    let (status, body) = chat
        .get(&format!("{}/{id}?anon_user_id=visitor-2", chat.threads()))
        .await;
    assert_detail(status, &body, StatusCode::NOT_FOUND);
    let (status, read) = chat
        .get(&format!("{}/{id}?anon_user_id=visitor-1", chat.threads()))
        .await;
    assert_eq!(status, StatusCode::OK, "{read}");

    // A person cannot act as an end user.
    let (status, body) = send(
        chat.server
            .request(Method::POST, &chat.threads())
            .bearer_auth(&chat.ada.token)
            .json(&json!({ "anon_user_id": "visitor-1" })),
    )
    .await;
    assert_unprocessable(status, &body, json!(["body", "anon_user_id"]));

    // In the query and the body both, they must agree; each problem is
    // reported where it was given, and nothing is created.
    let post = |query: &str, body: Value| {
        send(
            key_request(
                &chat.server,
                Method::POST,
                &format!("{}{query}", chat.threads()),
                &chat.key,
            )
            .json(&body),
        )
    };
    let (status, body) = post(
        "?anon_user_id=visitor-2",
        json!({ "anon_user_id": "visitor-1" }),
    )
    .await;
    assert_unprocessable(status, &body, json!(["query", "anon_user_id"]));
    let (status, body) = post("?anon_user_id=%20", json!({ "anon_user_id": "visitor-1" })).await;
    assert_unprocessable(status, &body, json!(["query", "anon_user_id"]));
    let (status, body) = chat
        .get(&format!("{}?anon_user_id=%20", chat.threads()))
        .await;
    assert_unprocessable(status, &body, json!(["query", "anon_user_id"]));
    let (status, same) = post(
        "?anon_user_id=visitor-1",
        json!({ "anon_user_id": "visitor-1" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{same}");
    let (_, list) = chat
        .get(&format!("{}?anon_user_id=visitor-1", chat.threads()))
        .await;
    assert_eq!(list["data"].as_array().unwrap().len(), 2, "{list}");
}

#[tokio::test]
async fn every_credential_header_form_works() {
    let chat = chat().await;
    let path = chat.threads();
    let forms = [
        chat.server
            .request(Method::GET, &path)
            .header("x-api-key", &chat.key),
        chat.server
            .request(Method::GET, &path)
            .header("X-API-Key", &chat.key),
        chat.server
            .request(Method::GET, &path)
            .bearer_auth(&chat.key),
        chat.server
            .request(Method::GET, &path)
            .bearer_auth(&chat.ada.token),
    ];
    for request in forms {
        let (status, body) = send(request).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, body) = send(chat.server.request(Method::GET, &path)).await;
    assert_detail(status, &body, StatusCode::UNAUTHORIZED);
    let (status, body) = send(
        chat.server
            .request(Method::GET, &path)
            .header("x-api-key", "spk_wrong"),
    )
    .await;
    assert_detail(status, &body, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn problems_answer_in_fastapi_shape() {
    let chat = chat().await;
    let post = |body: &str| {
        key_request(&chat.server, Method::POST, &chat.threads(), &chat.key)
            .header("content-type", "application/json")
            .body(body.to_owned())
    };
    let (status, body) = send(post(&json!({ "title": "t".repeat(201) }).to_string())).await;
    assert_unprocessable(status, &body, json!(["body", "title"]));
    let (status, body) = send(post(&json!({ "title": "t".repeat(200) }).to_string())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = send(post(r#"{"metadata": {"k": "#)).await;
    assert_unprocessable(status, &body, json!(["body", 0]));
    assert_eq!(body["detail"][0]["type"], "json_invalid");
    let (status, body) = send(post(r#"{"title": 5}"#)).await;
    assert_unprocessable(status, &body, json!(["body", "title"]));
    let (status, body) = send(post(r#"{"agent_id": "not-this-one"}"#)).await;
    assert_unprocessable(status, &body, json!(["body", "agent_id"]));
    let (status, body) = send(post(r#"{"colour": "red"}"#)).await;
    assert_unprocessable(status, &body, json!(["body", "colour"]));
    let many: serde_json::Map<String, Value> =
        (0..17).map(|i| (format!("k{i}"), json!(i))).collect();
    let (status, body) = send(post(&json!({ "metadata": many }).to_string())).await;
    assert_unprocessable(status, &body, json!(["body", "metadata"]));

    let (status, body) = send(key_request(
        &chat.server,
        Method::PUT,
        &chat.threads(),
        &chat.key,
    ))
    .await;
    assert_detail(status, &body, StatusCode::METHOD_NOT_ALLOWED);
    let (status, body) = chat
        .get(&format!("/api/v1/chat/{}/nothing", chat.agent))
        .await;
    assert_detail(status, &body, StatusCode::NOT_FOUND);
    let (status, body) = chat.get("/api/v1/chat/not-a-uuid/threads").await;
    assert_detail(status, &body, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn other_workspaces_are_not_found() {
    let chat = chat().await;
    let thread = chat.create(json!({ "title": "private" })).await;
    let id = thread["id"].as_str().unwrap();
    let eve = chat.server.account("eve@example.com").await;
    let eve_key = chat.server.api_key(&eve).await;
    let threads = chat.threads();
    let requests = [
        (Method::GET, threads.clone(), None),
        (Method::POST, threads.clone(), Some(json!({}))),
        (Method::GET, format!("{threads}/{id}"), None),
        (Method::DELETE, format!("{threads}/{id}"), None),
        (
            Method::POST,
            format!("{threads}/{id}/messages"),
            Some(json!({ "content": "hi" })),
        ),
    ];
    for (method, path, body) in requests {
        for credential in [eve_key.as_str(), eve.token.as_str()] {
            let mut request = chat
                .server
                .request(method.clone(), &path)
                .bearer_auth(credential);
            if let Some(body) = &body {
                request = request.json(body);
            }
            let (status, answer) = send(request).await;
            assert_detail(status, &answer, StatusCode::NOT_FOUND);
        }
    }
    // Still there for its owner.
    let (status, _) = chat.get(&format!("{threads}/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = send(delete(
        &chat.server,
        &format!("{threads}/{id}"),
        &chat.ada.token,
    ))
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn feedback_on_assistant_messages() {
    let (_, seed) = seed_003();
    let chat = chat().await;
    let thread = chat.create(json!({ "title": "rated" })).await;
    let id = thread["id"].as_str().unwrap();
    let threads = chat.threads();
    let (status, reply) = send(
        key_request(
            &chat.server,
            Method::POST,
            &format!("{threads}/{id}/messages"),
            &chat.key,
        )
        .json(&json!({ "content": "What time is it?" })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    let answer = reply["id"].as_str().unwrap().to_owned();
    let (_, before) = chat.get(&format!("{threads}/{id}")).await;
    let question = before["messages"][0].clone();
    assert_eq!(question["role"], "user");
    let path = format!("{threads}/{id}/messages/{answer}/feedback");
    let rate = |method: Method, body: Value| {
        key_request(&chat.server, method, &path, &chat.key).json(&body)
    };

    let (status, body) = send(rate(Method::PUT, json!({ "comment": "none yet" }))).await;
    assert_detail(status, &body, StatusCode::NOT_FOUND);
    let (status, first) = send(rate(
        Method::POST,
        json!({ "feedback_type": "negative", "issue_type": "inaccurate", "comment": "It is evening." }),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_same_shape_except(&seed["messages"][0]["feedback"], &first, &[]);
    assert_eq!(first["ai_message_id"], answer);
    assert_eq!(first["human_message_id"], question["id"]);
    assert_eq!(first["user_id"], chat.ada.user.uuid.to_string());
    assert_eq!(first["organization_id"], chat.ada.workspace.to_string());
    assert_eq!(first["flow_execution_id"], reply["metadata"]["run_uuid"]);
    assert_eq!(first["feedback_type"], "negative");
    assert_seconds(&first["created_at"], "created_at");

    let (status, changed) = send(rate(
        Method::PUT,
        json!({ "comment": "Evening, actually." }),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["id"], first["id"]);
    assert_eq!(changed["feedback_type"], "negative");
    assert_eq!(changed["issue_type"], "inaccurate");
    assert_eq!(changed["comment"], "Evening, actually.");
    let (status, replaced) = send(rate(Method::POST, json!({ "feedback_type": "positive" }))).await;
    assert_eq!(status, StatusCode::OK, "{replaced}");
    assert_eq!(replaced["id"], first["id"]);
    assert_eq!(replaced["issue_type"], Value::Null);

    let (_, read) = chat.get(&format!("{threads}/{id}")).await;
    assert_same_shape_except(&seed, &read, FREE_FORM);
    assert_eq!(read["messages"][0]["feedback"], Value::Null);
    assert_eq!(read["messages"][1]["feedback"], replaced);

    // Only assistant messages, only the documented types, only this thread's.
    let question_path = format!(
        "{threads}/{id}/messages/{}/feedback",
        question["id"].as_str().unwrap()
    );
    let (status, body) = send(
        key_request(&chat.server, Method::POST, &question_path, &chat.key)
            .json(&json!({ "feedback_type": "positive" })),
    )
    .await;
    assert_unprocessable(status, &body, json!(["path", "message_id"]));
    let (status, body) = send(rate(Method::POST, json!({ "feedback_type": "meh" }))).await;
    assert_unprocessable(status, &body, json!(["body", "feedback_type"]));
    let (status, body) = send(rate(Method::POST, json!({}))).await;
    assert_unprocessable(status, &body, json!(["body", "feedback_type"]));
    assert_eq!(body["detail"][0]["type"], "missing");
    let other = chat.create(json!({})).await;
    let elsewhere = format!(
        "{threads}/{}/messages/{answer}/feedback",
        other["id"].as_str().unwrap()
    );
    let (status, body) = send(
        key_request(&chat.server, Method::POST, &elsewhere, &chat.key)
            .json(&json!({ "feedback_type": "positive" })),
    )
    .await;
    assert_detail(status, &body, StatusCode::NOT_FOUND);

    // Another workspace sees nothing to rate.
    let eve = chat.server.account("eve@example.com").await;
    let eve_key = chat.server.api_key(&eve).await;
    for method in [Method::POST, Method::PUT] {
        let (status, body) = send(
            chat.server
                .request(method, &path)
                .header("x-api-key", &eve_key)
                .json(&json!({ "feedback_type": "negative" })),
        )
        .await;
        assert_detail(status, &body, StatusCode::NOT_FOUND);
    }

    // An anonymous end user rates as themselves, on their own threads only.
    let theirs = chat.create(json!({ "anon_user_id": "visitor-1" })).await;
    let theirs = theirs["id"].as_str().unwrap();
    let reply = uuid(
        &message(
            &chat.server,
            &chat.key,
            theirs,
            json!({ "content": "Hi!", "role": "assistant" }),
        )
        .await,
    );
    let anon_path = format!("{threads}/{theirs}/messages/{reply}/feedback");
    let (status, body) = send(
        key_request(&chat.server, Method::POST, &anon_path, &chat.key)
            .json(&json!({ "feedback_type": "positive", "anon_user_id": "visitor-1" })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user_id"], Value::Null);
    assert_eq!(body["human_message_id"], Value::Null);
    let (status, body) = send(
        key_request(
            &chat.server,
            Method::POST,
            &format!("{anon_path}?anon_user_id=visitor-2"),
            &chat.key,
        )
        .json(&json!({ "feedback_type": "positive" })),
    )
    .await;
    assert_detail(status, &body, StatusCode::NOT_FOUND);

    // Deleting the thread takes its feedback along.
    let (status, _) = send(key_request(
        &chat.server,
        Method::DELETE,
        &format!("{threads}/{id}"),
        &chat.key,
    ))
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = send(rate(Method::PUT, json!({ "comment": "gone" }))).await;
    assert_detail(status, &body, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_reply_stream_re_attaches_in_thena_shape() {
    let chat = chat().await;
    let thread = chat.create(json!({})).await;
    let id = thread["id"].as_str().unwrap();
    let path = format!("{}/{id}/messages", chat.threads());
    let sent = key_request(&chat.server, Method::POST, &path, &chat.key)
        .json(&json!({ "content": "one two three", "stream": true }))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let first = crate::runs::parse_sse(&sent);
    let run: Value = serde_json::from_str(&first[0].data).unwrap();
    let run_id = run["id"].as_str().expect("thena's run id");
    let events = format!("{}/{id}/runs/{run_id}/events", chat.threads());
    for last in 0..first.len() as u64 {
        let resumed = key_request(&chat.server, Method::GET, &events, &chat.key)
            .header("Last-Event-ID", last.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(resumed.status(), StatusCode::OK);
        let resumed = crate::runs::parse_sse(&resumed.text().await.unwrap());
        assert_eq!(resumed, first[last as usize..], "after {last}");
    }
    // Under another thread, or another agent, the run is not found.
    let other = chat.create(json!({})).await;
    let elsewhere = format!(
        "{}/{}/runs/{run_id}/events",
        chat.threads(),
        other["id"].as_str().unwrap()
    );
    let (status, body) = chat.get(&elsewhere).await;
    assert_detail(status, &body, StatusCode::NOT_FOUND);
    let (status, body) = chat
        .get(&format!("{}/{id}/runs/not-a-run/events", chat.threads()))
        .await;
    assert_detail(status, &body, StatusCode::NOT_FOUND);
}
