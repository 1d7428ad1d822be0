//! Prompts: CRUD with athena's envelope, paging and errors, who sees and
//! changes them, and running one with variables (direct, streamed, and
//! into a thread) on the echo model and a scripted upstream.

use crate::{TestServer, assert_invalid, send};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn create(server: &TestServer, token: &str, body: Value) -> (StatusCode, Value) {
    send(server.post("/api/v1/prompts", token, body)).await
}

fn put(server: &TestServer, path: &str, token: &str, body: Value) -> reqwest::RequestBuilder {
    server
        .request(Method::PUT, path)
        .bearer_auth(token)
        .json(&body)
}

fn delete(server: &TestServer, path: &str, token: &str) -> reqwest::RequestBuilder {
    server.request(Method::DELETE, path).bearer_auth(token)
}

/// `(event, data)` of each event of a stream without ids.
fn sse_events(text: &str) -> Vec<(String, String)> {
    text.split("\n\n")
        .filter_map(|block| {
            let mut event = None;
            let mut data = Vec::new();
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    event = Some(v.trim().to_owned());
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push(v.strip_prefix(' ').unwrap_or(v).to_owned());
                }
            }
            Some((event?, data.join("\n")))
        })
        .collect()
}

#[tokio::test]
async fn prompts_are_made_listed_changed_and_deleted_by_who_may() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let bob = server.member(&ada, "bob@example.com", "member").await;
    let (status, made) = create(
        &server,
        &ada.token,
        json!({"name": "Reply", "description": "An email reply",
               "template": "Reply to {{ sender }} about {{topic}}, {{sender}}.",
               "model": "echo", "settings": {"temperature": 0.3, "max_tokens": 200}}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let prompt = &made["data"];
    assert_eq!(prompt["variables"], json!(["sender", "topic"]));
    assert_eq!(prompt["visibility"], "workspace");
    assert_eq!(
        prompt["settings"],
        json!({"temperature": 0.3, "max_tokens": 200})
    );
    assert_eq!(prompt["user_uuid"], ada.user.uuid.to_string());
    let path = format!("/api/v1/prompts/{}", prompt["uuid"].as_str().unwrap());

    // Refused input names the field and stores nothing.
    for (body, field) in [
        (json!({"template": "x"}), "name"),
        (json!({"name": "x"}), "template"),
        (json!({"name": "x", "template": "  "}), "template"),
        (
            json!({"name": "x", "template": "t", "model": "nope"}),
            "model",
        ),
        (
            json!({"name": "x", "template": "t", "visibility": "everyone"}),
            "visibility",
        ),
        (
            json!({"name": "x", "template": "t", "settings": {"temperature": 3}}),
            "settings.temperature",
        ),
        (
            json!({"name": "x", "template": "t", "settings": {"seed": 1}}),
            "settings.seed",
        ),
    ] {
        let (status, body) = create(&server, &ada.token, body).await;
        assert_invalid(status, &body, field);
    }
    let (status, body) = create(&server, &ada.token, json!({"name": 5, "template": "t"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = send(
        server
            .request(Method::POST, "/api/v1/prompts")
            .bearer_auth(&ada.token)
            .header("content-type", "application/json")
            .body("{not json"),
    )
    .await;
    assert!(status.is_client_error(), "{status} {body}");

    // A private prompt is its creator's alone; a workspace one everyone's.
    let (_, private) = create(
        &server,
        &bob,
        json!({"name": "Mine", "template": "Hi", "visibility": "private"}),
    )
    .await;
    let private_path = format!(
        "/api/v1/prompts/{}",
        private["data"]["uuid"].as_str().unwrap()
    );
    let (status, listed) = send(server.get("/api/v1/prompts?per_page=1", &bob)).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    assert_eq!(listed["meta"]["total"], 2);
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    let (_, listed) = send(server.get("/api/v1/prompts", &ada.token)).await;
    assert_eq!(listed["meta"]["total"], 1, "{listed}");
    let (status, body) = send(server.get(&private_path, &ada.token)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

    // A member may not change another's prompt; its creator may.
    let (status, body) = send(put(&server, &path, &bob, json!({"name": "Taken"}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = send(put(
        &server,
        &path,
        &ada.token,
        json!({"description": null, "template": "Hello {{who}}"}),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["description"], Value::Null);
    assert_eq!(body["data"]["variables"], json!(["who"]));
    assert_eq!(body["data"]["name"], "Reply");
    let (status, body) = send(put(
        &server,
        &path,
        &ada.token,
        json!({"settings": {"top_p": 2}}),
    ))
    .await;
    assert_invalid(status, &body, "settings.top_p");
    let (status, body) = send(put(
        &server,
        &path,
        &ada.token,
        json!({"settings": {"temperature": null, "max_tokens": 10.0}}),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["data"]["settings"],
        json!({"max_tokens": 10}),
        "a null setting is unset"
    );

    // Another workspace, a wrong credential, a malformed id.
    let eve = server.account("eve@example.com").await;
    let (status, _) = send(server.get(&path, &eve.token)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = send(put(&server, &path, &eve.token, json!({"name": "x"}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = send(delete(&server, &path, &eve.token)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = send(server.get(&path, "wrong-token")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = send(server.get("/api/v1/prompts/not-a-uuid", &ada.token)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = send(server.get(
        &format!("/api/v1/prompts?workspace_uuid={}", eve.workspace),
        &ada.token,
    ))
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, _) = send(delete(&server, &path, &bob)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = send(delete(&server, &path, &ada.token)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = send(server.get(&path, &ada.token)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_prompt_runs_with_its_variables_streamed_or_not_or_into_a_thread() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let key = server.api_key(&ada).await;
    let (_, made) = create(
        &server,
        &key,
        json!({"name": "Greet", "template": "Say hello to {{name}} from {{ city }}."}),
    )
    .await;
    let run = format!(
        "/api/v1/prompts/{}/run",
        made["data"]["uuid"].as_str().unwrap()
    );

    let (status, body) = send(server.post(&run, &key, json!({"variables": {"name": "Ada"}}))).await;
    assert_invalid(status, &body, "variables.city");
    let (status, body) = send(server.post(
        &run,
        &key,
        json!({"variables": {"name": "Ada", "city": "Oslo", "mood": "glad"}}),
    ))
    .await;
    assert_invalid(status, &body, "variables.mood");
    let (status, body) = send(server.post(
        &run,
        &key,
        json!({"variables": {"name": ["x"], "city": "Oslo"}}),
    ))
    .await;
    assert_invalid(status, &body, "variables.name");

    let before = send(server.get("/api/v1/threads", &key)).await.1["meta"]["total"].clone();
    let (status, body) = send(server.post(
        &run,
        &key,
        json!({"variables": {"name": "Ada", "city": "Oslo"}}),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["prompt"], "Say hello to Ada from Oslo.");
    assert_eq!(body["data"]["content"], "Echo: Say hello to Ada from Oslo.");
    assert_eq!(body["data"]["model"], "echo");
    let after = send(server.get("/api/v1/threads", &key)).await.1["meta"]["total"].clone();
    assert_eq!(before, after, "no thread was made");

    // Streamed: deltas, the reply, done.
    let response = server
        .post(
            &run,
            &key,
            json!({"variables": {"name": "Bo", "city": 7}, "stream": true}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let events = sse_events(&response.text().await.unwrap());
    let names: Vec<&str> = events.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(names.last(), Some(&"done"), "{names:?}");
    assert!(names.contains(&"prompt.delta"), "{names:?}");
    let text: String = events
        .iter()
        .filter(|e| e.0 == "prompt.delta")
        .map(|e| {
            serde_json::from_str::<Value>(&e.1).unwrap()["content"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(text, "Echo: Say hello to Bo from 7.");
    let completed = events.iter().find(|e| e.0 == "prompt.completed").unwrap();
    let completed: Value = serde_json::from_str(&completed.1).unwrap();
    assert_eq!(completed["content"], text.as_str());

    // Into a thread: the filled text is its first message and it is run.
    let (status, body) = send(server.post(
        &run,
        &key,
        json!({"variables": {"name": "Cy", "city": "Rome"}, "thread": true}),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["run"]["status"], "completed", "{body}");
    assert_eq!(body["data"]["content"], "Echo: Say hello to Cy from Rome.");
    let thread = body["run"]["thread_uuid"].as_str().unwrap();
    let (_, messages) =
        send(server.get(&format!("/api/v1/messages?thread_uuid={thread}"), &key)).await;
    assert_eq!(
        messages["data"][0]["content"], "Say hello to Cy from Rome.",
        "{messages}"
    );

    // Another workspace's prompt is not found.
    let eve = server.account("eve@example.com").await;
    let (status, _) = send(server.post(&run, &eve.token, json!({"variables": {}}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_prompt_s_settings_go_to_the_model_with_the_filled_text() {
    use spool_providers::testing::{Script, ScriptedUpstream};
    let upstream = ScriptedUpstream::start([Script::reply(["Bonjour", " Ada."])]).await;
    let server = TestServer::start_with_models(crate::runs::patient_models(&upstream)).await;
    let ada = server.account("ada@example.com").await;
    let (_, made) = create(
        &server,
        &ada.token,
        json!({"name": "French", "template": "Greet {{name}} in French.", "model": "scripted",
               "settings": {"temperature": 0.2, "top_p": 0.5, "max_tokens": 50}}),
    )
    .await;
    let run = format!(
        "/api/v1/prompts/{}/run",
        made["data"]["uuid"].as_str().unwrap()
    );
    let (status, body) =
        send(server.post(&run, &ada.token, json!({"variables": {"name": "Ada"}}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["content"], "Bonjour Ada.");
    let sent = &upstream.requests()[0].body;
    assert_eq!(
        sent["messages"][0]["content"], "Greet Ada in French.",
        "{sent}"
    );
    assert_eq!(sent["temperature"].as_f64(), Some(0.2));
    assert_eq!(sent["top_p"].as_f64(), Some(0.5));
    assert_eq!(
        sent["max_tokens"]
            .as_u64()
            .or(sent["max_completion_tokens"].as_u64()),
        Some(50)
    );
}
