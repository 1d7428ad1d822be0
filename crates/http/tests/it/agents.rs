//! Agents: the persona in metadata, counters that follow threads, shares.

use crate::fixtures::{agent, delete, put, thread_in, uuid, uuids};
use crate::{TestServer, assert_invalid, send};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn persona() -> Value {
    json!({
        "role": "Support Specialist",
        "goal_statement": "Resolve issues quickly.",
        "backstory": "Five years on the help desk.",
        "guardrails": "Never share customer data.",
        "base_instructions": "Greet warmly.",
        "conversation_starters": ["Hello!", "How can I help?"],
        "greetings": "Welcome!",
        "tone_of_voice": "Friendly",
        "disc_personality": "steady",
        "openai_voice": "nova",
        "large_language_model": "echo",
        "memory": true,
        "knowledge": false,
        "web_search": false
    })
}

#[tokio::test]
async fn every_persona_key_is_kept_and_rendered() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let mut metadata = persona();
    metadata["team"] = json!("north");
    let created = agent(
        &server,
        &ada,
        json!({
            "name": "Persona",
            "description": "Has every persona key",
            "instruction": "Be helpful.",
            "profile_photo_config": { "emoji": "🌽", "background_color": "#0ef1eb", "preference": "emoji" },
            "visibility": "workspace",
            "metadata": metadata,
        }),
    )
    .await;
    let path = format!("/api/v1/agents/{}", uuid(&created));
    let (status, read) = send(server.get(&path, &ada.token)).await;
    assert_eq!(status, StatusCode::OK, "{read}");
    for data in [&created, &read["data"]] {
        let rendered = data["metadata"].as_object().unwrap();
        assert_eq!(
            rendered.len(),
            15,
            "14 persona keys and one client key: {data}"
        );
        assert_eq!(data["metadata"], metadata);
        assert_eq!(data["is_owner"], true);
        assert_eq!(data["profile_photo_config"]["emoji"], "🌽");
        assert_eq!(data["user"]["id"], ada.user.id.0);
        assert_eq!(data["workspace"]["uuid"], ada.workspace.to_string());
    }

    // Unset persona keys are present as null; an update replaces metadata.
    let plain = agent(&server, &ada, json!({ "name": "Plain" })).await;
    let keys = persona();
    for key in keys.as_object().unwrap().keys() {
        assert_eq!(plain["metadata"][key], Value::Null, "{key}: {plain}");
        assert!(plain["metadata"].get(key).is_some(), "{key}: {plain}");
    }
    let (status, body) = send(put(
        &server,
        &path,
        &ada.token,
        json!({ "metadata": { "role": "Changed", "memory": false } }),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["metadata"]["role"], "Changed");
    assert_eq!(body["data"]["metadata"]["memory"], false);
    assert_eq!(body["data"]["metadata"]["backstory"], Value::Null);
    assert_eq!(body["data"]["name"], "Persona", "absent fields are kept");
    assert_eq!(body["data"]["description"], "Has every persona key");
    let (status, body) = send(put(
        &server,
        &path,
        &ada.token,
        json!({ "metadata": { "web_search": "yes" } }),
    ))
    .await;
    assert_invalid(status, &body, "metadata.web_search");
}

#[tokio::test]
async fn threads_count_follows_threads() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let workspace = ada.workspace.to_string();
    let first = uuid(&agent(&server, &ada, json!({ "name": "First" })).await);
    let second = uuid(&agent(&server, &ada, json!({ "name": "Second" })).await);
    let count = |agent: String| {
        let server = &server;
        let token = ada.token.clone();
        async move {
            let (status, body) = send(server.get(&format!("/api/v1/agents/{agent}"), &token)).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            body["data"]["threads_count"].as_u64().unwrap()
        }
    };
    assert_eq!(count(first.clone()).await, 0);

    let mut threads = Vec::new();
    for n in 0..3 {
        let body = json!({ "name": format!("t{n}"), "agent_uuid": first });
        threads.push(uuid(
            &thread_in(&server, &ada.token, &workspace, body).await,
        ));
    }
    thread_in(
        &server,
        &ada.token,
        &workspace,
        json!({ "name": "no agent" }),
    )
    .await;
    assert_eq!(count(first.clone()).await, 3);
    assert_eq!(count(second.clone()).await, 0);

    let (status, body) = send(delete(
        &server,
        &format!("/api/v1/threads/{}", threads[0]),
        &ada.token,
    ))
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(count(first.clone()).await, 2);

    // Moving a thread to another agent moves it in the counts too.
    let (status, body) = send(put(
        &server,
        &format!("/api/v1/threads/{}", threads[1]),
        &ada.token,
        json!({ "agent_uuid": second }),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(count(first.clone()).await, 1);
    assert_eq!(count(second.clone()).await, 1);
    let (status, body) = send(put(
        &server,
        &format!("/api/v1/threads/{}", threads[2]),
        &ada.token,
        json!({ "agent_uuid": null }),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["agent"], Value::Null);
    assert_eq!(count(first.clone()).await, 0);

    // Deleting an agent keeps its threads, without an agent.
    let (status, _) = send(delete(
        &server,
        &format!("/api/v1/agents/{second}"),
        &ada.token,
    ))
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = send(server.get(&format!("/api/v1/agents/{second}"), &ada.token)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) =
        send(server.get(&format!("/api/v1/threads/{}", threads[1]), &ada.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["agent"], Value::Null);
}

#[tokio::test]
async fn sharing_again_replaces_the_permission() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let eve = server.account("eve@example.com").await;
    let shared = uuid(&agent(&server, &ada, json!({ "name": "Shared" })).await);
    let path = format!("/api/v1/agents/{shared}/share");
    let share = |body: Value| send(server.post(&path, &ada.token, body));
    let to_eve = |permission: &str| json!({ "entity_type": "workspace", "entity_id": eve.workspace.to_string(), "permission": permission });

    let (status, body) = share(to_eve("read")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["data"]["shares"],
        json!([{ "entity_type": "workspace", "entity_id": eve.workspace.to_string(), "entity": null, "permission": "read" }])
    );
    let (status, body) = send(rename(&server, &shared, &eve.token)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    let (status, body) = share(to_eve("write")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let shares = body["data"]["shares"].as_array().unwrap();
    assert_eq!(shares.len(), 1, "one share per entity: {body}");
    assert_eq!(shares[0]["permission"], "write");
    let (status, body) = send(rename(&server, &shared, &eve.token)).await;
    assert_eq!(status, StatusCode::OK, "a write share may edit: {body}");
    assert_eq!(body["data"]["name"], "Renamed");

    let (status, body) =
        share(json!({ "entity_type": "user", "entity_id": eve.user.id.0, "permission": "read" }))
            .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["shares"].as_array().unwrap().len(), 2);

    for (body, field) in [
        (to_eve("admin"), "permission"),
        (
            json!({ "entity_type": "team", "entity_id": "x", "permission": "read" }),
            "entity_type",
        ),
        (
            json!({ "entity_type": "workspace", "entity_id": "01890000-0000-7000-8000-000000000000", "permission": "read" }),
            "entity_id",
        ),
        (
            json!({ "entity_type": "user", "entity_id": 999_999, "permission": "read" }),
            "entity_id",
        ),
        (
            json!({ "entity_type": "workspace", "permission": "read" }),
            "entity_id",
        ),
    ] {
        let (status, response) = share(body).await;
        assert_invalid(status, &response, field);
    }
    let (_, body) = send(server.get(&format!("/api/v1/agents/{shared}"), &ada.token)).await;
    assert_eq!(body["data"]["shares"].as_array().unwrap().len(), 2);
    let (_, list) = send(server.get("/api/v1/agents", &eve.token)).await;
    assert_eq!(uuids(&list), [shared]);
}

/// A rename, as the shared-with workspace would try it.
fn rename(server: &TestServer, agent: &str, token: &str) -> reqwest::RequestBuilder {
    put(
        server,
        &format!("/api/v1/agents/{agent}"),
        token,
        json!({ "name": "Renamed" }),
    )
}

#[tokio::test]
async fn a_model_writes_an_agent_proposed_or_created() {
    use spool_providers::testing::{Script, ScriptedUpstream};
    let answer = r#"```json
{"name": "Weekend Planner", "description": "Plans city weekends.",
 "instruction": "You plan weekend trips.", "role": "travel planner",
 "tone_of_voice": "warm", "conversation_starters": ["Where shall we go?"]}
```"#;
    let upstream = ScriptedUpstream::start([
        Script::reply([answer]),
        Script::reply([answer]),
        Script::reply(["I cannot help with that."]),
    ])
    .await;
    let server = crate::TestServer::start_with_models(crate::runs::patient_models(&upstream)).await;
    let ada = server.account("ada@example.com").await;
    let generate = "/api/v1/agents/generate";
    let before = crate::fixtures::total(&server, &ada.token, "/api/v1/agents").await;

    let (status, proposed) = send(server.post(
        generate,
        &ada.token,
        json!({"description": "A travel planner for weekends", "model": "scripted"}),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{proposed}");
    assert_eq!(proposed["data"]["name"], "Weekend Planner");
    assert_eq!(proposed["data"]["instruction"], "You plan weekend trips.");
    assert_eq!(proposed["data"]["metadata"]["role"], "travel planner");
    assert_eq!(
        crate::fixtures::total(&server, &ada.token, "/api/v1/agents").await,
        before
    );
    let sent = &upstream.requests()[0].body;
    assert_eq!(
        sent["messages"][1]["content"], "A travel planner for weekends",
        "{sent}"
    );

    let (status, created) = send(server.post(
        generate,
        &ada.token,
        json!({"description": "A travel planner", "model": "scripted", "create": true}),
    ))
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["data"]["name"], "Weekend Planner");
    assert_eq!(
        created["data"]["metadata"]["conversation_starters"],
        json!(["Where shall we go?"])
    );
    assert_eq!(
        crate::fixtures::total(&server, &ada.token, "/api/v1/agents").await,
        before + 1
    );

    // An answer that is no agent is a 409 and creates nothing.
    let (status, body) = send(server.post(
        generate,
        &ada.token,
        json!({"description": "Anything", "model": "scripted", "create": true}),
    ))
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(
        crate::fixtures::total(&server, &ada.token, "/api/v1/agents").await,
        before + 1
    );

    for body in [
        json!({"description": "  "}),
        json!({}),
        json!({"description": "x", "model": "nope"}),
    ] {
        let (status, answer) = send(server.post(generate, &ada.token, body)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    }
    let (status, _) = send(server.post(generate, "wrong", json!({"description": "x"}))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let eve = server.account("eve@example.com").await;
    let (status, _) = send(server.post(
        &format!("{generate}?workspace_uuid={}", eve.workspace),
        &ada.token,
        json!({"description": "x"}),
    ))
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        upstream.request_count(),
        3,
        "refused requests never reach the model"
    );
}
