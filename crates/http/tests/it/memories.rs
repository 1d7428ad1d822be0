//! Memories: an agent with `metadata.memory` remembers a fact from one
//! thread in another (scripted upstream: the reply, the memory model's
//! answer, the next reply), and the memories API with its rules.

use crate::fixtures::{agent, eventually, uuid};
use crate::{TestServer, assert_invalid, send};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use spool_providers::testing::{Script, ScriptedUpstream};

async fn run_agent(server: &TestServer, token: &str, agent: &str, content: &str) -> Value {
    let (status, body) = send(server.post(
        &format!("/api/v1/agents/{agent}/run"),
        token,
        json!({ "content": content }),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["run"]["status"], "completed", "{body}");
    body
}

fn system_of(body: &Value) -> String {
    let first = &body["messages"][0];
    assert_eq!(first["role"], "system", "{body}");
    first["content"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn an_agent_with_memory_remembers_a_fact_in_another_thread() {
    let upstream = ScriptedUpstream::start([
        Script::reply(["Nice to meet you, Ada."]),
        Script::reply(["```json\n[\"The user's name is Ada.\", \"Ada lives in Oslo.\"]\n```"]),
        Script::reply(["You are Ada."]),
        Script::reply(["[]"]),
    ])
    .await;
    let server = TestServer::start_with_models(crate::runs::patient_models(&upstream)).await;
    let ada = server.account("ada@example.com").await;
    let bob = server.member(&ada, "bob@example.com", "member").await;
    let helper = uuid(
        &agent(
            &server,
            &ada,
            json!({"name": "Helper", "instruction": "Be kind.",
                   "metadata": {"memory": true, "large_language_model": "scripted"}}),
        )
        .await,
    );
    run_agent(
        &server,
        &ada.token,
        &helper,
        "Hi, my name is Ada and I live in Oslo.",
    )
    .await;
    let listed = eventually("the memories are written", || async {
        let (_, body) =
            send(server.get(&format!("/api/v1/memories?agent_uuid={helper}"), &ada.token)).await;
        (body["meta"]["total"] == 2).then_some(body)
    })
    .await;
    let contents: Vec<&str> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert!(contents.contains(&"The user's name is Ada."), "{listed}");
    let memory = &listed["data"][0];
    assert_eq!(memory["agent_uuid"], helper.as_str());
    assert_eq!(memory["user_uuid"], ada.user.uuid.to_string());
    assert!(memory["thread_uuid"].is_string() && memory["message_uuid"].is_string());
    let extraction = &upstream.requests()[1].body;
    assert!(
        system_of(extraction).contains("long-term memory"),
        "{extraction}"
    );
    assert!(
        extraction["messages"][1]["content"]
            .as_str()
            .unwrap()
            .contains("my name is Ada"),
        "{extraction}"
    );

    // Another thread: the memory is in the system prompt.
    run_agent(&server, &ada.token, &helper, "What is my name?").await;
    let next = &upstream.requests()[2].body;
    let system = system_of(next);
    assert!(system.starts_with("Be kind."), "{system}");
    assert!(
        system.contains("What you remember about this user:"),
        "{system}"
    );
    assert!(system.contains("- The user's name is Ada."), "{system}");
    eventually("the second exchange is read", || async {
        (upstream.request_count() == 4).then_some(())
    })
    .await;

    // Another member neither sees nor recalls Ada's memories.
    let (_, mine) = send(server.get("/api/v1/memories", &bob)).await;
    assert_eq!(mine["meta"]["total"], 0, "{mine}");
    let path = format!("/api/v1/memories/{}", memory["uuid"].as_str().unwrap());
    let (status, _) = send(server.get(&path, &bob)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let eve = server.account("eve@example.com").await;
    let (status, _) = send(server.get(&path, &eve.token)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = send(server.get(&path, "wrong")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = send(server.get("/api/v1/memories/not-a-uuid", &ada.token)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = send(server.get("/api/v1/memories?agent_uuid=nope", &ada.token)).await;
    assert_invalid(status, &body, "agent_uuid");
    let key = server.api_key(&ada).await;
    let (_, all) = send(server.get("/api/v1/memories", &key)).await;
    assert_eq!(all["meta"]["total"], 2, "an API key sees the workspace's");

    // Edit and delete.
    let edit = |token: &str, body: Value| {
        server
            .request(Method::PUT, &path)
            .bearer_auth(token)
            .json(&body)
    };
    let (status, body) = send(edit(&ada.token, json!({"content": "  "}))).await;
    assert_invalid(status, &body, "content");
    let (status, body) = send(edit(&ada.token, json!({"content": "x".repeat(501)}))).await;
    assert_invalid(status, &body, "content");
    let (status, _) = send(edit(&bob, json!({"content": "Mine now"}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = send(edit(&ada.token, json!({"content": "Goes by Ada L."}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["content"], "Goes by Ada L.");
    let (status, _) = send(
        server
            .request(Method::DELETE, &path)
            .bearer_auth(&ada.token),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = send(server.get(&path, &ada.token)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_agent_without_memory_writes_none_and_a_failing_memory_model_is_not_shown() {
    let upstream = ScriptedUpstream::start([
        Script::reply(["Hello."]),
        Script::reply(["Hi there."]),
        Script::status(500),
    ])
    .await;
    let server = TestServer::start_with_models(crate::runs::patient_models(&upstream)).await;
    let ada = server.account("ada@example.com").await;
    let plain = uuid(
        &agent(
            &server,
            &ada,
            json!({"name": "Plain", "metadata": {"large_language_model": "scripted"}}),
        )
        .await,
    );
    run_agent(&server, &ada.token, &plain, "My name is Ada.").await;
    let remembering = uuid(
        &agent(
            &server,
            &ada,
            json!({"name": "Remembers", "metadata": {"memory": true, "large_language_model": "scripted"}}),
        )
        .await,
    );
    // The reply arrives although the memory model then fails.
    let body = run_agent(&server, &ada.token, &remembering, "My name is Ada.").await;
    assert_eq!(body["data"]["content"], "Hi there.");
    eventually("the memory model was asked", || async {
        (upstream.request_count() == 3).then_some(())
    })
    .await;
    let (_, listed) = send(server.get("/api/v1/memories", &ada.token)).await;
    assert_eq!(listed["meta"]["total"], 0, "{listed}");
}
