//! Tools on agents: stored, rendered without header secrets, validated.

use crate::fixtures::{agent, put, thread_in, uuid};
use crate::{TestServer, assert_invalid, send};
use reqwest::StatusCode;
use serde_json::{Value, json};

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

/// A thread whose agent has the client function `get_weather`.
async fn weather_thread(server: &TestServer, ada: &crate::Account) -> String {
    let agent = agent(
        server,
        ada,
        json!({ "name": "Weather", "tools": [{ "type": "function", "name": "get_weather",
            "parameters": { "type": "object", "properties": { "city": { "type": "string" } } } }] }),
    )
    .await;
    let thread = thread_in(
        server,
        &ada.token,
        &ada.workspace.to_string(),
        json!({ "name": "t", "agent_uuid": uuid(&agent) }),
    )
    .await;
    uuid(&thread).to_owned()
}

async fn run_thread(server: &TestServer, token: &str, thread: &str, body: Value) -> Value {
    let (status, response) =
        send(server.post(&format!("/api/v1/threads/{thread}/run"), token, body)).await;
    assert_eq!(status, StatusCode::OK, "{response}");
    response
}

async fn submit(
    server: &TestServer,
    token: &str,
    run: &str,
    outputs: Value,
) -> (StatusCode, Value) {
    send(server.post(
        &format!("/api/v1/runs/{run}/tool-outputs"),
        token,
        json!({ "tool_outputs": outputs }),
    ))
    .await
}

async fn messages(server: &TestServer, token: &str, thread: &str) -> Vec<Value> {
    let (status, body) = send(server.get(
        &format!("/api/v1/messages?thread_uuid={thread}&per_page=100"),
        token,
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_client_function_round_trip_goes_through_requires_action() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let thread = weather_thread(&server, &ada).await;

    let waiting = run_thread(
        &server,
        &ada.token,
        &thread,
        json!({ "content": "/tool get_weather {\"city\": \"Oslo\"}" }),
    )
    .await;
    let run = &waiting["run"];
    assert_eq!(run["status"], "requires_action", "{waiting}");
    let calls = run["required_action"]["tool_calls"].as_array().unwrap();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0]["name"], "get_weather");
    assert_eq!(calls[0]["arguments"], json!({ "city": "Oslo" }));
    let call_id = calls[0]["id"].as_str().unwrap().to_owned();
    let step = &waiting["data"];
    assert_eq!(step["tool_calls"][0]["id"], call_id.as_str(), "{step}");
    assert_eq!(step["tool_calls"][0]["kind"], "function");
    assert_eq!(step["tool_calls"][0]["tool_name"], "get_weather");
    let run_id = run["uuid"].as_str().unwrap().to_owned();

    // Wrong, repeated and missing ids change nothing.
    for (outputs, field) in [
        (
            json!([{ "tool_call_id": "call_nope", "output": "x" }]),
            "tool_outputs[0].tool_call_id",
        ),
        (
            json!([{ "tool_call_id": call_id, "output": "x" }, { "tool_call_id": call_id, "output": "y" }]),
            "tool_outputs[1].tool_call_id",
        ),
        (json!([]), "tool_outputs"),
    ] {
        let (status, body) = submit(&server, &ada.token, &run_id, outputs).await;
        assert_invalid(status, &body, field);
    }
    let (_, still) = send(server.get(&format!("/api/v1/runs/{run_id}"), &ada.token)).await;
    assert_eq!(still["data"]["status"], "requires_action", "{still}");

    let (status, done) = submit(
        &server,
        &ada.token,
        &run_id,
        json!([{ "tool_call_id": call_id, "output": "sunny, 21°C" }]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["run"]["status"], "completed", "{done}");
    assert_eq!(done["run"]["uuid"], run_id.as_str(), "the same run went on");
    assert_eq!(done["run"]["required_action"], Value::Null);
    assert_eq!(
        done["data"]["content"],
        "Echo: get_weather answered: sunny, 21°C"
    );
    let usage = &done["run"]["usage"];
    assert!(usage["input_tokens"].as_u64().unwrap() > 0, "{usage}");

    // A second answer finds nothing waiting.
    let (status, _) = submit(
        &server,
        &ada.token,
        &run_id,
        json!([{ "tool_call_id": call_id, "output": "again" }]),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);

    // The thread: the question, the step with its call and result, the
    // tool message, the answer.
    let stored = messages(&server, &ada.token, &thread).await;
    let roles: Vec<&str> = stored.iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(
        roles,
        ["user", "assistant", "tool", "assistant"],
        "{stored:?}"
    );
    let call = &stored[1]["tool_calls"][0];
    assert_eq!(call["result"], "sunny, 21°C");
    assert_eq!(call["error"], Value::Null);
    assert!(
        call["start_time"].is_string() && call["end_time"].is_string(),
        "{call}"
    );
    assert_eq!(stored[1]["metadata"]["finish_reason"], "tool_calls");
    assert_eq!(stored[2]["content"], "sunny, 21°C");
    assert_eq!(stored[3]["metadata"]["finish_reason"], "stop");

    // The run log holds the tool events; a resume after run.requires_action
    // sends exactly what followed it.
    let response = server
        .get(&format!("/api/v1/runs/{run_id}/events"), &ada.token)
        .send()
        .await
        .unwrap();
    let events = crate::runs::parse_sse(&response.text().await.unwrap());
    let names: Vec<&str> = events.iter().map(|e| e.event.as_str()).collect();
    for expected in [
        "tool_call.created",
        "run.requires_action",
        "tool_call.completed",
        "run.completed",
    ] {
        assert!(names.contains(&expected), "{expected} in {names:?}");
    }
    let waited = events
        .iter()
        .find(|e| e.event == "run.requires_action")
        .unwrap();
    let required: Value = serde_json::from_str(&waited.data).unwrap();
    assert_eq!(required["status"], "requires_action");
    let completed = events
        .iter()
        .find(|e| e.event == "tool_call.completed")
        .unwrap();
    let completed: Value = serde_json::from_str(&completed.data).unwrap();
    assert_eq!(completed["result"], "sunny, 21°C");
    let resumed = server
        .get(&format!("/api/v1/runs/{run_id}/events"), &ada.token)
        .header("Last-Event-ID", waited.id.to_string())
        .send()
        .await
        .unwrap();
    let rest = crate::runs::parse_sse(&resumed.text().await.unwrap());
    let after: Vec<_> = events
        .iter()
        .filter(|e| e.id > waited.id)
        .cloned()
        .collect();
    assert_eq!(rest, after);
}

#[tokio::test]
async fn parallel_calls_are_answered_together() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let thread = weather_thread(&server, &ada).await;
    let waiting = run_thread(
        &server,
        &ada.token,
        &thread,
        json!({ "content": "/tool get_weather {\"city\": \"Oslo\"}\n/tool get_weather {\"city\": \"Rome\"}" }),
    )
    .await;
    let calls = waiting["run"]["required_action"]["tool_calls"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(calls.len(), 2, "{waiting}");
    let run_id = waiting["run"]["uuid"].as_str().unwrap();
    let (status, body) = submit(
        &server,
        &ada.token,
        run_id,
        json!([{ "tool_call_id": calls[0]["id"], "output": "cold" }]),
    )
    .await;
    assert_invalid(status, &body, "tool_outputs");
    let (status, done) = submit(
        &server,
        &ada.token,
        run_id,
        json!([
            { "tool_call_id": calls[1]["id"], "output": "warm" },
            { "tool_call_id": calls[0]["id"], "output": "cold" },
        ]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(
        done["data"]["content"],
        "Echo: get_weather answered: cold; get_weather answered: warm"
    );
}

#[tokio::test]
async fn a_call_spool_cannot_make_gives_the_model_an_error_result() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let thread = weather_thread(&server, &ada).await;
    for (content, error) in [
        (
            "/tool get_weather {oops",
            "The arguments are not valid JSON",
        ),
        (
            "/tool launch_rockets {}",
            "There is no tool named 'launch_rockets'",
        ),
    ] {
        let done = run_thread(&server, &ada.token, &thread, json!({ "content": content })).await;
        assert_eq!(done["run"]["status"], "completed", "{done}");
        let reply = done["data"]["content"].as_str().unwrap();
        assert!(reply.contains(error), "{reply}");
    }
    let stored = messages(&server, &ada.token, &thread).await;
    let call = &stored[1]["tool_calls"][0];
    assert_eq!(call["arguments"], "{oops", "kept as the model wrote it");
    assert!(call["error"].as_str().unwrap().contains("not valid JSON"));
}

#[tokio::test]
async fn a_run_ends_at_max_steps() {
    let core = spool_core::SpoolConfig {
        run_max_steps: 1,
        ..Default::default()
    };
    let server = TestServer::start_with(Default::default(), core).await;
    let ada = server.account("ada@example.com").await;
    let thread = weather_thread(&server, &ada).await;
    let done = run_thread(
        &server,
        &ada.token,
        &thread,
        json!({ "content": "/tool get_weather {}" }),
    )
    .await;
    assert_eq!(done["run"]["status"], "completed", "{done}");
    assert_eq!(done["data"]["metadata"]["finish_reason"], "max_steps");
    let call = &done["data"]["tool_calls"][0];
    assert!(
        call["error"].as_str().unwrap().contains("max_steps"),
        "{call}"
    );
}

#[tokio::test]
async fn a_run_waiting_too_long_fails_and_one_waiting_can_be_cancelled() {
    let core = spool_core::SpoolConfig {
        tool_outputs_timeout: std::time::Duration::ZERO,
        ..Default::default()
    };
    let server = TestServer::start_with(Default::default(), core).await;
    let ada = server.account("ada@example.com").await;
    let thread = weather_thread(&server, &ada).await;
    // The non-streaming answer comes at run.requires_action; the run then
    // ends failed on its own.
    let response = server
        .post(
            &format!("/api/v1/threads/{thread}/run"),
            &ada.token,
            json!({ "content": "/tool get_weather {}", "stream": true }),
        )
        .send()
        .await
        .unwrap();
    let events = crate::runs::parse_sse(&response.text().await.unwrap());
    let last_run = events
        .iter()
        .rev()
        .find(|e| e.event == "run.failed")
        .expect("the run failed");
    let run: Value = serde_json::from_str(&last_run.data).unwrap();
    assert!(
        run["error"]
            .as_str()
            .unwrap()
            .contains("No tool outputs arrived"),
        "{run}"
    );

    // Cancel while waiting (a server that waits ten minutes).
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let thread = weather_thread(&server, &ada).await;
    let waiting = run_thread(
        &server,
        &ada.token,
        &thread,
        json!({ "content": "/tool get_weather {}" }),
    )
    .await;
    let run_id = waiting["run"]["uuid"].as_str().unwrap();
    let (status, cancelled) = send(server.post(
        &format!("/api/v1/runs/{run_id}/cancel"),
        &ada.token,
        json!({}),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert_eq!(cancelled["data"]["status"], "cancelled", "{cancelled}");
    let stored = messages(&server, &ada.token, &thread).await;
    let call = &stored[1]["tool_calls"][0];
    assert!(
        call["error"].as_str().unwrap().contains("ended first"),
        "{call}"
    );
    let (status, _) = submit(
        &server,
        &ada.token,
        run_id,
        json!([{ "tool_call_id": call["id"], "output": "late" }]),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn an_openai_model_calls_tools_in_parallel_through_the_protocol() {
    tools_through_the_protocol(spool_providers::testing::Protocol::OpenAi).await;
}

#[tokio::test]
async fn an_anthropic_model_calls_tools_in_parallel_through_the_protocol() {
    tools_through_the_protocol(spool_providers::testing::Protocol::Anthropic).await;
}

/// A multi-step run with a scripted model of `protocol`: two parallel
/// calls (one with malformed arguments), the client's answer, the reply;
/// then a later run that sends the stored calls back.
async fn tools_through_the_protocol(protocol: spool_providers::testing::Protocol) {
    use spool_providers::testing::{Protocol, Script, ScriptedUpstream};
    let upstream = ScriptedUpstream::start([
        Script::tool_calls([
            ("call_a", "get_weather", "{\"city\": \"Oslo\"}"),
            ("call_b", "get_weather", "{\"city\": oops"),
        ]),
        Script::reply(["Sunny ", "in Oslo."]),
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
    let thread = weather_thread(&server, &ada).await;
    let waiting = run_thread(
        &server,
        &ada.token,
        &thread,
        json!({ "content": "Weather in Oslo?", "model": "scripted" }),
    )
    .await;
    assert_eq!(waiting["run"]["status"], "requires_action", "{waiting}");
    // The malformed call got its error at once: only call_a waits.
    let pending = &waiting["run"]["required_action"]["tool_calls"];
    assert_eq!(
        pending,
        &json!([{ "id": "call_a", "name": "get_weather", "arguments": { "city": "Oslo" } }])
    );
    let calls = &waiting["data"]["tool_calls"];
    assert_eq!(calls[1]["id"], "call_b");
    assert_eq!(calls[1]["arguments"], "{\"city\": oops");
    assert!(
        calls[1]["error"]
            .as_str()
            .unwrap()
            .contains("not valid JSON")
    );

    let run_id = waiting["run"]["uuid"].as_str().unwrap();
    let (status, done) = submit(
        &server,
        &ada.token,
        run_id,
        json!([{ "tool_call_id": "call_a", "output": "sunny" }]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["run"]["status"], "completed", "{done}");
    assert_eq!(done["data"]["content"], "Sunny in Oslo.");
    assert_eq!(done["run"]["usage"]["input_tokens"], 20, "two steps of 10");

    let requests = upstream.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].protocol, Some(protocol));
    match protocol {
        Protocol::OpenAi => check_openai_requests(&requests[0].body, &requests[1].body),
        Protocol::Anthropic => check_anthropic_requests(&requests[0].body, &requests[1].body),
    }

    // A later run of the thread sends the calls and results in the
    // protocol's form again, from the stored messages.
    upstream.push(Script::reply(["Still sunny."]));
    run_thread(
        &server,
        &ada.token,
        &thread,
        json!({ "content": "And now?", "model": "scripted" }),
    )
    .await;
    let later = upstream.requests()[2].body["messages"].clone();
    if protocol == Protocol::Anthropic {
        // user, assistant (tool_use), user (both tool_results), assistant, user
        let roles: Vec<&str> = later
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["role"].as_str().unwrap())
            .collect();
        assert_eq!(
            roles,
            ["user", "assistant", "user", "assistant", "user"],
            "{later}"
        );
        assert_eq!(later[1]["content"][0]["type"], "tool_use");
        assert_eq!(later[2]["content"][0]["tool_use_id"], "call_a");
        return;
    }
    let roles: Vec<&str> = later
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(
        roles,
        ["user", "assistant", "tool", "tool", "assistant", "user"],
        "{later}"
    );
    assert_eq!(later[1]["tool_calls"][0]["id"], "call_a");
    assert_eq!(
        later[2],
        json!({ "role": "tool", "tool_call_id": "call_a", "content": "sunny" })
    );
    assert_eq!(later[3]["tool_call_id"], "call_b");
}

fn check_openai_requests(first: &Value, second: &Value) {
    assert_eq!(first["tools"][0]["type"], "function");
    assert_eq!(first["tools"][0]["function"]["name"], "get_weather");
    assert_eq!(
        first["tools"][0]["function"]["parameters"]["properties"]["city"]["type"],
        "string"
    );
    assert_eq!(first["tool_choice"], "auto");
    let messages = second["messages"].as_array().unwrap();
    let n = messages.len();
    assert_eq!(messages[n - 3]["role"], "assistant");
    assert_eq!(messages[n - 3]["tool_calls"][0]["id"], "call_a");
    assert_eq!(
        messages[n - 3]["tool_calls"][0]["function"]["arguments"],
        "{\"city\": \"Oslo\"}"
    );
    assert_eq!(
        messages[n - 3]["tool_calls"][1]["function"]["arguments"],
        "{\"city\": oops"
    );
    assert_eq!(
        messages[n - 2],
        json!({ "role": "tool", "tool_call_id": "call_a", "content": "sunny" })
    );
    assert_eq!(messages[n - 1]["tool_call_id"], "call_b");
    let error = messages[n - 1]["content"].as_str().unwrap();
    assert!(
        error.starts_with("Error: The arguments are not valid JSON"),
        "{error}"
    );
}

fn check_anthropic_requests(first: &Value, second: &Value) {
    assert_eq!(first["tools"][0]["name"], "get_weather");
    assert_eq!(
        first["tools"][0]["input_schema"]["properties"]["city"]["type"],
        "string"
    );
    assert_eq!(first["tool_choice"], json!({ "type": "auto" }));
    let messages = second["messages"].as_array().unwrap();
    let n = messages.len();
    let asked = &messages[n - 2];
    assert_eq!(asked["role"], "assistant");
    assert_eq!(
        asked["content"][0],
        json!({ "type": "tool_use", "id": "call_a", "name": "get_weather", "input": { "city": "Oslo" } })
    );
    assert_eq!(
        asked["content"][1]["input"],
        json!({}),
        "malformed: no input"
    );
    let results = &messages[n - 1];
    assert_eq!(results["role"], "user");
    assert_eq!(
        results["content"][0],
        json!({ "type": "tool_result", "tool_use_id": "call_a", "content": "sunny" })
    );
    assert_eq!(results["content"][1]["tool_use_id"], "call_b");
    assert_eq!(results["content"][1]["is_error"], true);
}
