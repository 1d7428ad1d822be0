//! `http` tools against a tool server on 127.0.0.1 started by the test, and
//! the outbound address rules: loopback refused without the allow-list
//! when the tool is saved, by address and by a name resolving to it, and a
//! redirect to a private address refused at the call even when the first
//! host is allowed.

use crate::fixtures::{agent, thread_in, uuid};
use crate::{Account, TestServer, send};
use axum::Router;
use axum::http::StatusCode as AxumStatus;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A tool server: `/weather` answers the JSON it got, `/fail` 500,
/// `/big` 100 kB, `/redirect` points at a private address, `/hang` never
/// answers.
pub(crate) async fn tool_server() -> String {
    let app = Router::new()
        .route(
            "/weather",
            post(|axum::Json(body): axum::Json<Value>| async move {
                axum::Json(json!({ "got": body }))
            }),
        )
        .route(
            "/fail",
            post(|| async { (AxumStatus::INTERNAL_SERVER_ERROR, "boom").into_response() }),
        )
        .route("/big", post(|| async { "x".repeat(100_000) }))
        .route(
            "/redirect",
            post(|| async { Redirect::temporary("http://10.255.255.1/weather") }),
        )
        .route("/get", get(|| async { "fetched" }))
        .route("/hang", post(std::future::pending::<String>));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("127.0.0.1:{}", addr.port())
}

/// A thread of Ada's whose agent has `tools`.
pub(crate) async fn thread_with_tools(server: &TestServer, ada: &Account, tools: Value) -> String {
    let agent = agent(server, ada, json!({ "name": "Tools", "tools": tools })).await;
    let thread = thread_in(
        server,
        &ada.token,
        &ada.workspace.to_string(),
        json!({ "name": "t", "agent_uuid": uuid(&agent) }),
    )
    .await;
    uuid(&thread).to_owned()
}

/// A thread whose agent has the http tool `lookup` at `url`, and the
/// client function `get_weather`.
async fn thread_with(server: &TestServer, ada: &Account, url: &str) -> String {
    let tools = json!([
        { "type": "http", "name": "lookup", "url": url },
        { "type": "function", "name": "get_weather" },
    ]);
    thread_with_tools(server, ada, tools).await
}

/// Runs the thread with `content`, without streaming: the answer.
pub(crate) async fn run(server: &TestServer, ada: &Account, thread: &str, content: &str) -> Value {
    let (status, body) = send(server.post(
        &format!("/api/v1/threads/{thread}/run"),
        &ada.token,
        json!({ "content": content }),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test]
async fn spool_calls_an_http_tool_and_the_model_sees_its_answer() {
    let tools = tool_server().await;
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let thread = thread_with(&server, &ada, &format!("http://{tools}/weather")).await;
    let done = run(&server, &ada, &thread, "/tool lookup {\"city\": \"Oslo\"}").await;
    assert_eq!(done["run"]["status"], "completed", "{done}");
    assert_eq!(
        done["data"]["content"],
        "Echo: lookup answered: {\"got\":{\"city\":\"Oslo\"}}"
    );

    // With a client function in the same step, spool answers its own call
    // first and waits only for the client's.
    let waiting = run(
        &server,
        &ada,
        &thread,
        "/tool lookup {\"city\": \"Rome\"}\n/tool get_weather {}",
    )
    .await;
    assert_eq!(waiting["run"]["status"], "requires_action", "{waiting}");
    let pending = waiting["run"]["required_action"]["tool_calls"]
        .as_array()
        .unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0]["name"], "get_weather");
    let calls = &waiting["data"]["tool_calls"];
    assert_eq!(calls[0]["kind"], "http");
    assert_eq!(calls[0]["result"], "{\"got\":{\"city\":\"Rome\"}}");
}

#[tokio::test]
async fn non_2xx_answers_are_errors_and_bodies_are_capped() {
    let tools = tool_server().await;
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let failing = thread_with(&server, &ada, &format!("http://{tools}/fail")).await;
    let done = run(&server, &ada, &failing, "/tool lookup {}").await;
    assert_eq!(done["run"]["status"], "completed", "{done}");
    let reply = done["data"]["content"].as_str().unwrap();
    assert!(reply.contains("Error: The tool answered 500"), "{reply}");
    assert!(reply.contains("boom"), "{reply}");

    let big = thread_with(&server, &ada, &format!("http://{tools}/big")).await;
    let done = run(&server, &ada, &big, "/tool lookup {}").await;
    let (_, listed) = send(server.get(
        &format!("/api/v1/messages?thread_uuid={big}&per_page=10"),
        &ada.token,
    ))
    .await;
    let result = listed["data"][1]["tool_calls"][0]["result"]
        .as_str()
        .unwrap();
    assert!(
        result.len() < 70_000 && result.ends_with("bytes]"),
        "{} bytes",
        result.len()
    );
    assert_eq!(done["run"]["status"], "completed");
}

#[tokio::test]
async fn non_public_addresses_are_refused_unless_allowed() {
    let tools = tool_server().await;
    let port = tools.rsplit(':').next().unwrap().to_owned();
    let server = TestServer::start_with_tool_hosts(&[]).await;
    let ada = server.account("ada@example.com").await;
    for url in [
        format!("http://{tools}/weather"),
        // A name that resolves to 127.0.0.1.
        format!("http://localhost:{port}/weather"),
    ] {
        // Refused when the tool is saved, naming the field.
        let (status, body) = send(server.post(
            "/api/v1/agents",
            &ada.token,
            json!({ "name": "Http", "tools": [{ "type": "http", "name": "lookup", "url": url }] }),
        ))
        .await;
        crate::assert_invalid(status, &body, "tools[0].url");
        assert!(body.to_string().contains("is not public"), "{url}: {body}");
    }

    // Allowed first host, private redirect target: refused.
    let allowed = TestServer::start().await;
    let ada = allowed.account("ada@example.com").await;
    let thread = thread_with(&allowed, &ada, &format!("http://{tools}/redirect")).await;
    let done = run(&allowed, &ada, &thread, "/tool lookup {}").await;
    let reply = done["data"]["content"].as_str().unwrap();
    assert!(reply.contains("redirect was refused"), "{reply}");
    assert!(reply.contains("10.255.255.1 is not public"), "{reply}");
}

#[tokio::test]
async fn a_cancel_stops_a_run_while_spool_calls_its_tools() {
    let tools = tool_server().await;
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let thread = thread_with(&server, &ada, &format!("http://{tools}/hang")).await;
    let mut response = server
        .post(
            &format!("/api/v1/threads/{thread}/run"),
            &ada.token,
            json!({ "content": "/tool lookup {}", "stream": true }),
        )
        .send()
        .await
        .unwrap();
    let mut seen = String::new();
    while !seen.contains("event: tool_call.created") {
        let chunk = response.chunk().await.unwrap().expect("the stream goes on");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    let created: Value = serde_json::from_str(&crate::runs::parse_sse(&seen)[0].data).unwrap();
    let run = created["uuid"].as_str().unwrap().to_owned();
    let (status, cancelled) =
        send(server.post(&format!("/api/v1/runs/{run}/cancel"), &ada.token, json!({}))).await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    while let Some(chunk) = response.chunk().await.unwrap() {
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(seen.contains("event: run.cancelled"), "{seen}");
    let (_, listed) = send(server.get(
        &format!("/api/v1/messages?thread_uuid={thread}&per_page=10"),
        &ada.token,
    ))
    .await;
    let call = &listed["data"][1]["tool_calls"][0];
    assert_eq!(call["kind"], "http", "{listed}");
    assert_eq!(call["error"], "Not run: the run ended first.", "{listed}");
    let (_, read) = send(server.get(&format!("/api/v1/runs/{run}"), &ada.token)).await;
    assert_eq!(read["data"]["status"], "cancelled", "{read}");
}
