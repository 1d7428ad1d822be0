//! Tools on agents: stored, rendered without header secrets, validated.

use crate::fixtures::{agent, put, thread_in, uuid};
use crate::{TestServer, assert_invalid, send};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn an_agent_keeps_its_tools_and_never_shows_header_values() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let tools = json!([
        { "type": "function", "name": "get_weather", "description": "Weather by city",
          "parameters": { "type": "object", "properties": { "city": { "type": "string" } } } },
        { "type": "http", "name": "lookup", "url": "https://tools.example.com/lookup",
          "headers": { "Authorization": "Bearer very-secret", "X-Key": { "env": "LOOKUP_KEY" } } },
        { "type": "mcp", "name": "docs", "url": "http://127.0.0.1:9/mcp" },
    ]);
    let created = agent(&server, &ada, json!({ "name": "Tooled", "tools": tools })).await;
    let path = format!("/api/v1/agents/{}", uuid(&created));
    let (status, read) = send(server.get(&path, &ada.token)).await;
    assert_eq!(status, StatusCode::OK, "{read}");
    for data in [&created, &read["data"]] {
        assert_eq!(data["tools_count"], 3, "{data}");
        let rendered = &data["tools"];
        assert_eq!(rendered[0]["type"], "function");
        assert_eq!(rendered[0]["parameters"], tools[0]["parameters"]);
        assert_eq!(rendered[1]["method"], "POST", "the default method");
        assert_eq!(rendered[1]["headers"]["Authorization"], "[redacted]");
        assert_eq!(
            rendered[1]["headers"]["X-Key"],
            json!({ "env": "LOOKUP_KEY" })
        );
        assert_eq!(rendered[2]["url"], "http://127.0.0.1:9/mcp");
        assert!(!data.to_string().contains("very-secret"), "{data}");
    }

    // An update without `tools` keeps them; `[]` removes them.
    let (status, kept) = send(put(
        &server,
        &path,
        &ada.token,
        json!({ "name": "Renamed" }),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{kept}");
    assert_eq!(kept["data"]["tools_count"], 3);
    let (status, cleared) = send(put(&server, &path, &ada.token, json!({ "tools": [] }))).await;
    assert_eq!(status, StatusCode::OK, "{cleared}");
    assert_eq!(cleared["data"]["tools"], json!([]));
    assert_eq!(cleared["data"]["tools_count"], 0);
}

#[tokio::test]
async fn a_wrong_tool_definition_names_its_field_and_changes_nothing() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let created = agent(
        &server,
        &ada,
        json!({ "name": "A", "tools": [{ "type": "function", "name": "keep" }] }),
    )
    .await;
    let path = format!("/api/v1/agents/{}", uuid(&created));
    for (tools, field) in [
        (json!("all of them"), "tools"),
        (json!([{ "type": "function" }]), "tools[0].name"),
        (json!([{ "type": "spell", "name": "x" }]), "tools[0].type"),
        (
            json!([{ "type": "function", "name": "f" }, { "type": "http", "name": "h", "url": "file:///etc/passwd" }]),
            "tools[1].url",
        ),
        (
            json!([{ "type": "http", "name": "h", "url": "https://x.test", "headers": { "A": 5 } }]),
            "tools[0].headers.A",
        ),
        (
            json!([{ "type": "function", "name": "f" }, { "type": "function", "name": "f" }]),
            "tools[1].name",
        ),
    ] {
        let (status, body) = send(put(&server, &path, &ada.token, json!({ "tools": tools }))).await;
        assert_invalid(status, &body, field);
    }
    let (_, read) = send(server.get(&path, &ada.token)).await;
    assert_eq!(read["data"]["tools"][0]["name"], "keep");
    assert_eq!(read["data"]["tools_count"], 1);
}

#[tokio::test]
async fn a_run_request_checks_its_tools_and_tool_choice() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let agent = agent(
        &server,
        &ada,
        json!({ "name": "A", "tools": [{ "type": "function", "name": "lookup" }] }),
    )
    .await;
    let thread = thread_in(
        &server,
        &ada.token,
        &ada.workspace.to_string(),
        json!({ "name": "t", "agent_uuid": uuid(&agent) }),
    )
    .await;
    let path = format!("/api/v1/threads/{}/run", uuid(&thread));
    for (body, field) in [
        (
            json!({ "tools": [{ "type": "function" }] }),
            "tools[0].name",
        ),
        (json!({ "tool_choice": "often" }), "tool_choice"),
        (
            json!({ "tool_choice": { "name": "missing" } }),
            "tool_choice",
        ),
    ] {
        let (status, response) = send(server.post(&path, &ada.token, body)).await;
        assert_invalid(status, &response, field);
    }
    let (_, runs) = send(server.get(
        &format!("/api/v1/threads/{}/runs", uuid(&thread)),
        &ada.token,
    ))
    .await;
    assert_eq!(runs["data"], json!([]), "no run was made: {runs}");

    // The agent's tool can be chosen by name; the run's own tools count too.
    for body in [
        json!({ "content": "hi", "tool_choice": { "name": "lookup" } }),
        json!({ "content": "hi", "tools": [{ "type": "function", "name": "other" }],
                "tool_choice": { "name": "other" } }),
    ] {
        let (status, response) = send(server.post(&path, &ada.token, body)).await;
        assert_eq!(status, StatusCode::OK, "{response}");
        assert_eq!(response["run"]["status"], "completed", "{response}");
    }
}
