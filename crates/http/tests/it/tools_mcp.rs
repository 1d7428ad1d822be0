//! `mcp` tools against an MCP server on 127.0.0.1 (rmcp's streamable HTTP
//! server, started by the test): its tools offered as `{server}__{tool}`,
//! called through the protocol with the tool's headers, listed once per
//! minute; a server that cannot be listed fails the run; non-public
//! addresses are refused when the tool is saved.

use crate::fixtures::{thread_in, uuid};
use crate::tools_http::{run, thread_with_tools};
use crate::{Account, TestServer, assert_invalid, send};
use reqwest::StatusCode;
use serde_json::{Value, json};
use spool_providers::testing::McpTestServer;

async fn messages(server: &TestServer, ada: &Account, thread: &str) -> Vec<Value> {
    let (status, body) = send(server.get(
        &format!("/api/v1/messages?thread_uuid={thread}&per_page=100"),
        &ada.token,
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"].as_array().unwrap().clone()
}

#[tokio::test]
async fn spool_calls_an_mcp_servers_tools_through_the_protocol() {
    let mcp = McpTestServer::start().await;
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let thread = thread_with_tools(
        &server,
        &ada,
        json!([{ "type": "mcp", "name": "docs", "url": mcp.url,
                 "headers": { "Authorization": "Bearer docs-secret" } }]),
    )
    .await;

    let done = run(
        &server,
        &ada,
        &thread,
        "/tool docs__add {\"a\": 2, \"b\": 3}",
    )
    .await;
    assert_eq!(done["run"]["status"], "completed", "{done}");
    assert_eq!(done["data"]["content"], "Echo: docs__add answered: 5");
    let calls = mcp.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].tool, "add");
    assert_eq!(calls[0].arguments, json!({ "a": 2, "b": 3 }));
    assert_eq!(
        calls[0].authorization.as_deref(),
        Some("Bearer docs-secret")
    );

    let stored = messages(&server, &ada, &thread).await;
    let step = stored
        .iter()
        .find(|m| !m["tool_calls"].as_array().unwrap().is_empty() && m["role"] == "assistant")
        .expect("the step that called the tool");
    let call = &step["tool_calls"][0];
    assert_eq!(call["kind"], "mcp");
    assert_eq!(call["tool_name"], "docs__add");
    assert_eq!(call["result"], "5");
    assert!(call["end_time"].is_string(), "{call}");
    assert!(!json!(stored).to_string().contains("docs-secret"));

    // Two calls in one step run at once; an error result reaches the model
    // and the run goes on.
    let done = run(
        &server,
        &ada,
        &thread,
        "/tool docs__search {\"query\": \"runs\"}\n/tool docs__broken {}",
    )
    .await;
    assert_eq!(done["run"]["status"], "completed", "{done}");
    let reply = done["data"]["content"].as_str().unwrap();
    assert!(
        reply.contains("docs__search answered: found: runs"),
        "{reply}"
    );
    assert!(
        reply.contains("docs__broken answered: Error: The MCP tool answered with an error: the index is offline"),
        "{reply}"
    );
    // A tool the server does not offer is the model's error, not a call.
    let done = run(&server, &ada, &thread, "/tool docs__drop {}").await;
    let reply = done["data"]["content"].as_str().unwrap();
    assert!(
        reply.contains("There is no tool named 'docs__drop'"),
        "{reply}"
    );
    assert_eq!(mcp.calls().len(), 3);
    // Four runs within a minute: the server's tools were listed once.
    assert_eq!(mcp.lists(), 1);
}

#[tokio::test]
async fn a_server_that_cannot_be_listed_fails_the_run() {
    // A port nothing listens on: bound, then released.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let thread = thread_with_tools(
        &server,
        &ada,
        json!([{ "type": "mcp", "name": "gone", "url": format!("http://127.0.0.1:{port}/mcp") }]),
    )
    .await;
    let done = run(&server, &ada, &thread, "hello").await;
    assert_eq!(done["run"]["status"], "failed", "{done}");
    let error = done["run"]["error"].to_string();
    assert!(
        error.contains("The tools of the MCP server 'gone' could not be listed"),
        "{done}"
    );
    // With tool_choice none the server is not asked, and the run answers.
    let (status, done) = send(server.post(
        &format!("/api/v1/threads/{thread}/run"),
        &ada.token,
        json!({ "content": "hello", "tool_choice": "none" }),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["run"]["status"], "completed", "{done}");
}

#[tokio::test]
async fn non_public_server_addresses_are_refused_when_saved() {
    let mcp = McpTestServer::start().await;
    let server = TestServer::start_with_tool_hosts(&[]).await;
    let ada = server.account("ada@example.com").await;
    for url in [
        mcp.url.clone(),
        // A name that resolves to 127.0.0.1.
        format!("http://localhost:{}/mcp", mcp.port()),
        "http://169.254.169.254/latest".to_owned(),
        "http://[::1]:9/mcp".to_owned(),
    ] {
        let (status, body) = send(server.post(
            "/api/v1/agents",
            &ada.token,
            json!({ "name": "A", "tools": [
                { "type": "function", "name": "f" },
                { "type": "mcp", "name": "docs", "url": url },
            ] }),
        ))
        .await;
        assert_invalid(status, &body, "tools[1].url");
        assert!(body.to_string().contains("is not public"), "{url}: {body}");
    }
    // The same check for a run's own tools, and nothing was stored.
    let thread = thread_in(
        &server,
        &ada.token,
        &ada.workspace.to_string(),
        json!({ "name": "t" }),
    )
    .await;
    let (status, body) = send(server.post(
        &format!("/api/v1/threads/{}/run", uuid(&thread)),
        &ada.token,
        json!({ "content": "hi", "tools": [{ "type": "http", "name": "h", "url": mcp.url }] }),
    ))
    .await;
    assert_invalid(status, &body, "tools[0].url");
    let (_, agents) = send(server.get("/api/v1/agents", &ada.token)).await;
    assert_eq!(agents["data"], json!([]), "{agents}");
    assert_eq!(mcp.lists(), 0, "the server was never reached");
}
