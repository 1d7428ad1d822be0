//! The whole tool loop with a scripted model in both protocols: an agent
//! with an `http` tool, an `mcp` server and a client function; a run
//! started through freddy that calls the first two at once, then the
//! client's, which freddy's `submit_tool_outputs` answers; the calls as
//! each dialect renders them.

use crate::fixtures::{agent, thread_in, uuid};
use crate::openapi::answer_fits;
use crate::openapi_thena_freddy::stream_fits;
use crate::{Account, TestServer, send};
use reqwest::StatusCode;
use serde_json::{Value, json};
use spool_providers::testing::{McpTestServer, Protocol, Script, ScriptedUpstream};

#[tokio::test]
async fn an_openai_model_uses_all_three_kinds_of_tool() {
    all_three_kinds(Protocol::OpenAi).await;
}

#[tokio::test]
async fn an_anthropic_model_uses_all_three_kinds_of_tool() {
    all_three_kinds(Protocol::Anthropic).await;
}

fn org(account: &Account) -> String {
    format!("org_{}", account.workspace.to_string().replace('-', ""))
}

async fn all_three_kinds(protocol: Protocol) {
    let tools = crate::tools_http::tool_server().await;
    let mcp = McpTestServer::start().await;
    let upstream = ScriptedUpstream::start([
        Script::tool_calls([
            ("call_h", "lookup", "{\"city\": \"Oslo\"}"),
            ("call_m", "docs__add", "{\"a\": 1, \"b\": 2}"),
        ]),
        Script::tool_calls([("call_f", "get_weather", "{\"city\": \"Oslo\"}")]),
        Script::reply(["All ", "done."]),
    ])
    .await;
    let mut models = crate::runs::patient_models(&upstream);
    if protocol == Protocol::Anthropic {
        models["providers"][1]["kind"] = json!("anthropic");
        models["providers"][1]["base_url"] = json!(upstream.url());
        models["providers"][1]["api_key"] = json!("sk-test");
    }
    let server = TestServer::start_with_models(models).await;
    let ada = server.account("ada@example.com").await;
    let key = server.api_key(&ada).await;
    let assistant = agent(
        &server,
        &ada,
        json!({ "name": "All kinds", "tools": [
            { "type": "http", "name": "lookup", "url": format!("http://{tools}/weather") },
            { "type": "mcp", "name": "docs", "url": mcp.url },
            { "type": "function", "name": "get_weather",
              "parameters": { "type": "object", "properties": { "city": { "type": "string" } } } },
        ] }),
    )
    .await;
    let thread = thread_in(
        &server,
        &ada.token,
        &ada.workspace.to_string(),
        json!({ "name": "t", "agent_uuid": uuid(&assistant) }),
    )
    .await;
    let thread = uuid(&thread).to_owned();
    let thrd = format!("thrd_{}", thread.replace('-', ""));
    let freddy = |path: String, body: Value| {
        server
            .request(
                reqwest::Method::POST,
                &format!("{path}?organization_id={}", org(&ada)),
            )
            .header("X-API-Key", &key)
            .json(&body)
    };

    // Step 1: spool calls the http tool and the MCP tool at once; step 2:
    // the client's function, so the run waits.
    let doc = crate::openapi::document();
    let waiting = answer_fits(
        &doc,
        "post",
        "/v1/threads/{thread_id}/runs",
        freddy(
            format!("/v1/threads/{thrd}/runs"),
            json!({ "content": "Weather in Oslo, and 1 + 2?", "model": "scripted" }),
        ),
    )
    .await;
    assert_eq!(waiting["status"], "requires_action", "{waiting}");
    assert_eq!(
        waiting["required_action"],
        json!({ "type": "submit_tool_outputs", "submit_tool_outputs": { "tool_calls": [
            { "id": "call_f", "type": "function",
              "function": { "name": "get_weather", "arguments": "{\"city\":\"Oslo\"}" } }
        ] } })
    );
    let run = waiting["id"].as_str().unwrap().to_owned();
    let submit = format!("/v1/threads/{thrd}/runs/{run}/submit_tool_outputs");
    // A wrong id is refused and changes nothing.
    let (status, refused) = send(freddy(
        submit.clone(),
        json!({ "tool_outputs": [{ "tool_call_id": "call_x", "output": "?" }] }),
    ))
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["error"]["param"], "tool_outputs[0].tool_call_id");
    let done = answer_fits(
        &doc,
        "post",
        "/v1/threads/{thread_id}/runs/{run_id}/submit_tool_outputs",
        freddy(
            submit.clone(),
            json!({ "tool_outputs": [{ "tool_call_id": "call_f", "output": "sunny" }] }),
        ),
    )
    .await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["required_action"], Value::Null);
    assert_eq!(done["message"]["content"], "All done.");
    assert_eq!(done["usage"]["prompt_tokens"], 30, "three steps of 10");
    let (status, again) = send(freddy(
        submit,
        json!({ "tool_outputs": [{ "tool_call_id": "call_f", "output": "sunny" }] }),
    ))
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");

    // The model was offered all five tools, and got both results.
    let requests = upstream.requests();
    assert_eq!(requests.len(), 3);
    let offered: Vec<String> = requests[0].body["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|tool| {
            let name = match protocol {
                Protocol::OpenAi => &tool["function"]["name"],
                Protocol::Anthropic => &tool["name"],
            };
            name.as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(
        offered,
        [
            "lookup",
            "docs__add",
            "docs__search",
            "docs__broken",
            "get_weather"
        ]
    );
    let second = requests[1].body["messages"].to_string();
    assert!(
        second.contains(r#"{\"got\":{\"city\":\"Oslo\"}}"#),
        "{second}"
    );
    assert_eq!(mcp.calls()[0].arguments, json!({ "a": 1, "b": 2 }));

    // athena: the calls on the steps that made them, results as tool messages.
    let listed = answer_fits(
        &doc,
        "get",
        "/api/v1/messages",
        server.get(
            &format!("/api/v1/messages?thread_uuid={thread}&per_page=100"),
            &ada.token,
        ),
    )
    .await;
    let messages = listed["data"].as_array().unwrap();
    let roles: Vec<&str> = messages
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(
        roles,
        [
            "user",
            "assistant",
            "tool",
            "tool",
            "assistant",
            "tool",
            "assistant"
        ],
        "{listed}"
    );
    let first = &messages[1]["tool_calls"];
    assert_eq!(first[0]["kind"], "http");
    assert_eq!(first[0]["result"], "{\"got\":{\"city\":\"Oslo\"}}");
    assert_eq!(first[1]["kind"], "mcp");
    assert_eq!(first[1]["tool_name"], "docs__add");
    assert_eq!(first[1]["result"], "3");
    assert_eq!(messages[4]["tool_calls"][0]["kind"], "function");
    assert_eq!(messages[4]["tool_calls"][0]["result"], "sunny");
    assert_eq!(messages[6]["content"], "All done.");

    // thena: the same calls in its shape.
    let agent_id = uuid(&assistant);
    let thena_path = format!("/api/v1/chat/{agent_id}/threads/{thread}");
    let thena = answer_fits(
        &doc,
        "get",
        "/api/v1/chat/{agent_id}/threads/{thread_id}/messages",
        server
            .request(
                reqwest::Method::GET,
                &format!("{thena_path}/messages?limit=100"),
            )
            .header("x-api-key", &key),
    )
    .await;
    let step = thena["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["role"] == "assistant" && m["tool_calls"].as_array().unwrap().len() == 2)
        .unwrap_or_else(|| panic!("{thena}"));
    assert_eq!(step["tool_calls"][1]["tool_name"], "docs__add");
    assert_eq!(
        step["tool_calls"][1]["arguments"],
        json!({ "a": 1, "b": 2 })
    );
    assert_eq!(step["tool_calls"][1]["result"], "3");
    assert!(step["tool_calls"][1]["start_time"].is_string());

    // freddy: OpenAI-style calls, and tool messages with their call's id.
    let freddy_listed = answer_fits(
        &doc,
        "get",
        "/v1/threads/{thread_id}/messages",
        server
            .request(
                reqwest::Method::GET,
                &format!(
                    "/v1/threads/{thrd}/messages?organization_id={}&limit=100",
                    org(&ada)
                ),
            )
            .header("X-API-Key", &key),
    )
    .await;
    let items = freddy_listed["data"].as_array().unwrap();
    let step = items
        .iter()
        .find(|m| m["role"] == "assistant" && m["tool_calls"].as_array().unwrap().len() == 2)
        .unwrap_or_else(|| panic!("{freddy_listed}"));
    let call = &step["tool_calls"][1];
    assert_eq!(call["type"], "function");
    assert_eq!(call["kind"], "mcp");
    assert_eq!(call["function"]["name"], "docs__add");
    assert_eq!(call["function"]["arguments"], "{\"a\":1,\"b\":2}");
    assert_eq!(call["function"]["output"], "3");
    let answer = items
        .iter()
        .find(|m| m["role"] == "tool" && m["tool_call_id"] == "call_f")
        .unwrap_or_else(|| panic!("{freddy_listed}"));
    assert_eq!(answer["content"], "sunny");

    // The run's stream, replayed in thena's and freddy's shapes, fits the
    // documents: the tool events and run.requires_action included.
    let run_uuid = uuid::Uuid::parse_str(run.trim_start_matches("run_")).unwrap();
    let thena_events = stream_fits(
        &doc,
        "get",
        "/api/v1/chat/{agent_id}/threads/{thread_id}/runs/{run_id}/events",
        server
            .request(
                reqwest::Method::GET,
                &format!("{thena_path}/runs/{run_uuid}/events"),
            )
            .header("x-api-key", &key),
    )
    .await;
    let freddy_events = stream_fits(
        &doc,
        "get",
        "/v1/threads/{thread_id}/runs/{run_id}/events",
        server
            .request(
                reqwest::Method::GET,
                &format!(
                    "/v1/threads/{thrd}/runs/{run}/events?organization_id={}",
                    org(&ada)
                ),
            )
            .header("X-API-Key", &key),
    )
    .await;
    for names in [&thena_events, &freddy_events] {
        for name in [
            "tool_call.created",
            "run.requires_action",
            "tool_call.completed",
            "run.completed",
        ] {
            assert!(names.iter().any(|n| n == name), "{name} in {names:?}");
        }
    }
}

/// A run of a new thread of Ada's waiting for the output of `get_weather`:
/// (thread uuid, run uuid).
async fn waiting_run(server: &TestServer, ada: &Account) -> (String, String) {
    let made = agent(
        server,
        ada,
        json!({ "name": "W", "tools": [{ "type": "function", "name": "get_weather" }] }),
    )
    .await;
    let thread = thread_in(
        server,
        &ada.token,
        &ada.workspace.to_string(),
        json!({ "name": "t", "agent_uuid": uuid(&made) }),
    )
    .await;
    let thread = uuid(&thread).to_owned();
    let (status, waiting) = send(server.post(
        &format!("/api/v1/threads/{thread}/run"),
        &ada.token,
        json!({ "content": "/tool get_weather {}" }),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{waiting}");
    assert_eq!(waiting["run"]["status"], "requires_action", "{waiting}");
    (thread, waiting["run"]["uuid"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn tool_outputs_refuse_strangers_and_bad_bodies_and_keep_the_run_waiting() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let eve = server.account("eve@example.com").await;
    let eve_key = server.api_key(&eve).await;
    let (thread, run) = waiting_run(&server, &ada).await;
    let thrd = format!("thrd_{}", thread.replace('-', ""));
    let run_id = format!("run_{}", run.replace('-', ""));
    let athena = format!("/api/v1/runs/{run}/tool-outputs");
    let freddy = format!("/v1/threads/{thrd}/runs/{run_id}/submit_tool_outputs");
    let good = json!({ "tool_outputs": [{ "tool_call_id": "call_echo_1_0", "output": "sunny" }] });

    for path in [&athena, &freddy] {
        // No credential, or a wrong one: 401 in the dialect's shape.
        for credential in [None, Some("not-a-token"), Some("spk_not_a_key")] {
            let mut request = server.request(reqwest::Method::POST, path).json(&good);
            if let Some(token) = credential {
                request = request.bearer_auth(token);
            }
            let (status, body) = send(request).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}: {body}");
            let message = if path == &athena {
                &body["message"]
            } else {
                &body["error"]["message"]
            };
            assert!(message.is_string(), "{path}: {body}");
        }
        // Another workspace's run is not found, with its session or key.
        for token in [&eve.token, &eve_key] {
            let (status, body) = send(server.post(path, token, good.clone())).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        }
        // Malformed bodies: a clear 4xx.
        for body in [
            json!({}),
            json!({ "tool_outputs": "sunny" }),
            json!({ "tool_outputs": [{ "tool_call_id": "call_echo_1_0" }] }),
            json!({ "tool_outputs": [{ "tool_call_id": 7, "output": "x" }] }),
            json!({ "tool_outputs": [], "extra": true }),
            json!({ "tool_outputs": [] }),
        ] {
            let (status, answer) = send(server.post(path, &ada.token, body.clone())).await;
            assert!(
                status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::BAD_REQUEST,
                "{path} {body}: {status} {answer}"
            );
        }
        let (status, answer) = send(
            server
                .request(reqwest::Method::POST, path)
                .bearer_auth(&ada.token)
                .header("content-type", "application/json")
                .body("{\"tool_outputs\": ["),
        )
        .await;
        assert!(status.is_client_error(), "{path}: {status} {answer}");
    }
    // freddy's path names the thread too: another thread's id is 404.
    let (other, _) = waiting_run(&server, &ada).await;
    let elsewhere = format!(
        "/v1/threads/thrd_{}/runs/{run_id}/submit_tool_outputs",
        other.replace('-', "")
    );
    let (status, body) = send(server.post(&elsewhere, &ada.token, good.clone())).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

    // Nothing changed: the run still waits. A keyed answer, sent twice,
    // continues it once and answers the same both times.
    let (_, still) = send(server.get(&format!("/api/v1/runs/{run}"), &ada.token)).await;
    assert_eq!(still["data"]["status"], "requires_action", "{still}");
    let keyed = || {
        server
            .post(&freddy, &ada.token, good.clone())
            .header("Idempotency-Key", "outputs-1")
    };
    let (status, first) = send(keyed()).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["status"], "completed", "{first}");
    let (status, again) = send(keyed()).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again, first);
    let (_, listed) = send(server.get(
        &format!("/api/v1/messages?thread_uuid={thread}&per_page=100"),
        &ada.token,
    ))
    .await;
    let tool_messages = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "tool")
        .count();
    assert_eq!(tool_messages, 1, "the output was stored once: {listed}");
    // The run no longer waits: 409.
    let (status, body) = send(server.post(&athena, &ada.token, good.clone())).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
}

#[tokio::test]
async fn tool_outputs_can_answer_with_the_runs_events_from_there_on() {
    let doc = crate::openapi::document();
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let outputs = json!([{ "tool_call_id": "call_echo_1_0", "output": "sunny" }]);

    // athena: `stream: true`.
    let (thread, run) = waiting_run(&server, &ada).await;
    let response = server
        .post(
            &format!("/api/v1/runs/{run}/tool-outputs"),
            &ada.token,
            json!({ "tool_outputs": outputs, "stream": true }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let streamed = crate::runs::parse_sse(&response.text().await.unwrap());
    let names: Vec<&str> = streamed.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(
        names,
        [
            "tool_call.completed",
            "message.created",
            "message.delta",
            "message.completed",
            "run.completed",
            "done"
        ],
        "from the outputs on"
    );
    // The same events, with the same ids, as the run's log holds them.
    let logged = server
        .get(&format!("/api/v1/runs/{run}/events"), &ada.token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let logged = crate::runs::parse_sse(&logged);
    let waited = logged
        .iter()
        .position(|e| e.event == "run.requires_action")
        .unwrap();
    let after: Vec<(u64, &str, &str)> = logged[waited + 1..]
        .iter()
        .map(|e| (e.id, e.event.as_str(), e.data.as_str()))
        .collect();
    let got: Vec<(u64, &str, &str)> = streamed
        .iter()
        .map(|e| (e.id, e.event.as_str(), e.data.as_str()))
        .collect();
    assert_eq!(got, after);
    let (_, read) = send(server.get(&format!("/api/v1/threads/{thread}"), &ada.token)).await;
    assert_eq!(read["data"]["message_count"], 4, "{read}");

    // freddy: `Accept: text/event-stream`, in its shapes and its schema.
    let (thread, run) = waiting_run(&server, &ada).await;
    let names = stream_fits(
        &doc,
        "post",
        "/v1/threads/{thread_id}/runs/{run_id}/submit_tool_outputs",
        server
            .post(
                &format!(
                    "/v1/threads/thrd_{}/runs/run_{}/submit_tool_outputs",
                    thread.replace('-', ""),
                    run.replace('-', "")
                ),
                &ada.token,
                json!({ "tool_outputs": outputs }),
            )
            .header("accept", "text/event-stream"),
    )
    .await;
    assert_eq!(
        names.first().map(String::as_str),
        Some("tool_call.completed")
    );
    assert_eq!(names.last().map(String::as_str), Some("done"));
}
