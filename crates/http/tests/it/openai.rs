//! The openai dialect (OpenAI's Assistants API under `/openai/v1`): its
//! error shape and statuses, assistants, threads, messages, runs with the
//! echo model (tool calls included), run steps, streaming, and what the
//! same data looks like through athena.

use crate::fixtures::eventually;
use crate::{TestServer, send};
use reqwest::StatusCode;
use serde_json::{Value, json};

const BASE: &str = "/openai/v1";

fn path(rest: &str) -> String {
    format!("{BASE}{rest}")
}

async fn post(server: &TestServer, key: &str, rest: &str, body: Value) -> (StatusCode, Value) {
    send(
        server
            .post(&path(rest), key, body)
            .header("OpenAI-Beta", "assistants=v2"),
    )
    .await
}

async fn get(server: &TestServer, key: &str, rest: &str) -> (StatusCode, Value) {
    send(
        server
            .get(&path(rest), key)
            .header("OpenAI-Beta", "assistants=v2"),
    )
    .await
}

fn assert_openai_error(status: StatusCode, body: &Value, expected: StatusCode) {
    assert_eq!(status, expected, "{body}");
    let error = &body["error"];
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert!(error["type"].is_string(), "{body}");
    assert!(
        error.get("param").is_some() && error.get("code").is_some(),
        "{body}"
    );
}

fn thread_hex(id: &str) -> String {
    id["thread_".len()..].to_owned()
}

fn id(body: &Value) -> String {
    body["id"].as_str().expect("an id").to_owned()
}

async fn assistant(server: &TestServer, key: &str) -> String {
    let (status, body) = post(
        server,
        key,
        "/assistants",
        json!({
            "model": "echo", "name": "Weather", "instructions": "Be brief.",
            "metadata": {"team": "a"}, "temperature": 0.5,
            "tools": [{"type": "function", "function": {
                "name": "get_weather", "description": "The weather",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}],
        }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    id(&body)
}

/// Polls the run until it is no longer queued or in progress.
async fn settled(server: &TestServer, key: &str, thread: &str, run: &str) -> Value {
    eventually("the run settles", || async {
        let (status, body) = get(server, key, &format!("/threads/{thread}/runs/{run}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let open = matches!(body["status"].as_str(), Some("queued" | "in_progress"));
        (!open).then_some(body)
    })
    .await
}

#[tokio::test]
async fn assistants_are_agents_with_openai_paging_and_errors() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let key = server.api_key(&ada).await;
    let first = assistant(&server, &key).await;
    assert!(first.starts_with("asst_") && first.len() == 5 + 32);
    let (_, shown) = get(&server, &key, &format!("/assistants/{first}")).await;
    assert_eq!(shown["object"], "assistant");
    assert_eq!(shown["model"], "echo");
    assert_eq!(shown["temperature"], 0.5);
    assert_eq!(shown["metadata"], json!({"team": "a"}));
    assert_eq!(shown["tools"][0]["function"]["name"], "get_weather");
    assert!(shown["created_at"].is_i64());

    // The same agent through athena.
    let uuid = uuid::Uuid::parse_str(&first["asst_".len()..]).unwrap();
    let (status, agent) = send(server.get(&format!("/api/v1/agents/{uuid}"), &key)).await;
    assert_eq!(status, StatusCode::OK, "{agent}");
    assert_eq!(agent["data"]["name"], "Weather");
    assert_eq!(agent["data"]["instruction"], "Be brief.");

    let (status, changed) = post(
        &server,
        &key,
        &format!("/assistants/{first}"),
        json!({"metadata": {"team": "b"}, "name": "Weather 2"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["metadata"], json!({"team": "b"}));
    assert_eq!(
        changed["model"], "echo",
        "the model survives a metadata change"
    );

    let second = assistant(&server, &key).await;
    let third = assistant(&server, &key).await;
    let (_, page) = get(&server, &key, "/assistants?limit=2").await;
    assert_eq!(page["object"], "list");
    let ids: Vec<&str> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [third.as_str(), second.as_str()], "newest first");
    assert_eq!(page["has_more"], true);
    assert_eq!(page["last_id"], second.as_str());
    let (_, rest) = get(
        &server,
        &key,
        &format!("/assistants?limit=2&after={second}"),
    )
    .await;
    assert_eq!(rest["data"][0]["id"], first.as_str());
    assert_eq!(rest["has_more"], false);
    let (_, asc) = get(&server, &key, "/assistants?order=asc&limit=1").await;
    assert_eq!(asc["first_id"], first.as_str());

    // Hosted tools, bad JSON, wrong types: 400 in OpenAI's shape.
    let (status, body) = post(
        &server,
        &key,
        "/assistants",
        json!({"model": "echo", "tools": [{"type": "code_interpreter"}]}),
    )
    .await;
    assert_openai_error(status, &body, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("code_interpreter")
    );
    assert_eq!(body["error"]["param"], "tools[0].type");
    let (status, body) = post(&server, &key, "/assistants", json!({"model": 5})).await;
    assert_openai_error(status, &body, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["param"], "model");
    let (status, body) = send(
        server
            .request(reqwest::Method::POST, &path("/assistants"))
            .bearer_auth(&key)
            .header("content-type", "application/json")
            .body("{not json"),
    )
    .await;
    assert_openai_error(status, &body, StatusCode::BAD_REQUEST);
    let (status, body) = post(
        &server,
        &key,
        "/assistants",
        json!({"model": "echo", "response_format": {"type": "json_object"}}),
    )
    .await;
    assert_openai_error(status, &body, StatusCode::BAD_REQUEST);

    // A wrong key is a 401; another workspace's assistant a 404.
    let (status, body) = get(&server, "spk_wrong", "/assistants").await;
    assert_openai_error(status, &body, StatusCode::UNAUTHORIZED);
    let bob = server.account("bob@example.com").await;
    let bob_key = server.api_key(&bob).await;
    let (status, body) = get(&server, &bob_key, &format!("/assistants/{first}")).await;
    assert_openai_error(status, &body, StatusCode::NOT_FOUND);
    let (status, body) = get(&server, &key, "/assistants/asst_nope").await;
    assert_openai_error(status, &body, StatusCode::NOT_FOUND);
    // A session token works as well as an API key.
    let (status, _) = get(&server, &ada.token, &format!("/assistants/{first}")).await;
    assert_eq!(status, StatusCode::OK);

    let (status, deleted) = send(
        server
            .request(
                reqwest::Method::DELETE,
                &path(&format!("/assistants/{third}")),
            )
            .bearer_auth(&key),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{deleted}");
    assert_eq!(
        deleted,
        json!({"id": third, "object": "assistant.deleted", "deleted": true})
    );
}

#[tokio::test]
async fn a_thread_runs_with_an_assistant_and_reads_back_through_athena() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let key = server.api_key(&ada).await;
    let asst = assistant(&server, &key).await;
    let (status, thread) = post(
        &server,
        &key,
        "/threads",
        json!({"messages": [{"role": "user", "content": "Hello there"}], "metadata": {"k": "v"}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{thread}");
    let thread = id(&thread);
    assert!(thread.starts_with("thread_"));

    let (status, body) = post(
        &server,
        &key,
        &format!("/threads/{thread}/messages"),
        json!({"role": "user", "content": "x", "attachments": [{"file_id": "file_1"}]}),
    )
    .await;
    assert_openai_error(status, &body, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]["param"]
            .as_str()
            .unwrap()
            .starts_with("attachments"),
        "an unknown file: {body}"
    );

    let (status, run) = post(
        &server,
        &key,
        &format!("/threads/{thread}/runs"),
        json!({"assistant_id": asst}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{run}");
    assert_eq!(run["object"], "thread.run");
    assert_eq!(run["assistant_id"], asst.as_str());
    let run_id = id(&run);
    let done = settled(&server, &key, &thread, &run_id).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert!(done["usage"]["total_tokens"].as_u64().unwrap() > 0);

    let (_, messages) = get(&server, &key, &format!("/threads/{thread}/messages")).await;
    let data = messages["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    assert_eq!(data[0]["role"], "assistant", "newest first");
    assert_eq!(data[0]["run_id"], run_id.as_str());
    let reply = data[0]["content"][0]["text"]["value"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(reply.contains("Hello there"), "{reply}");
    assert_eq!(
        data[1]["content"][0],
        json!({"type": "text", "text": {"value": "Hello there", "annotations": []}})
    );
    let (_, by_run) = get(
        &server,
        &key,
        &format!("/threads/{thread}/messages?run_id={run_id}"),
    )
    .await;
    assert_eq!(by_run["data"].as_array().unwrap().len(), 1);
    let (_, paged) = get(
        &server,
        &key,
        &format!("/threads/{thread}/messages?limit=1&order=asc"),
    )
    .await;
    assert_eq!(paged["has_more"], true);
    let (_, next) = get(
        &server,
        &key,
        &format!(
            "/threads/{thread}/messages?limit=1&order=asc&after={}",
            paged["last_id"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(next["data"][0]["role"], "assistant");
    assert_eq!(next["has_more"], false);

    let (_, steps) = get(
        &server,
        &key,
        &format!("/threads/{thread}/runs/{run_id}/steps"),
    )
    .await;
    assert_eq!(steps["data"].as_array().unwrap().len(), 1, "{steps}");
    let step = &steps["data"][0];
    assert_eq!(step["type"], "message_creation");
    assert_eq!(step["status"], "completed");
    assert_eq!(
        step["step_details"]["message_creation"]["message_id"],
        data[0]["id"]
    );
    let (status, one) = get(
        &server,
        &key,
        &format!("/threads/{thread}/runs/{run_id}/steps/{}", id(step)),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{one}");
    let (_, runs) = get(&server, &key, &format!("/threads/{thread}/runs")).await;
    assert_eq!(runs["first_id"], run_id.as_str());

    // athena reads the same thread.
    let uuid = uuid::Uuid::parse_str(&thread["thread_".len()..]).unwrap();
    let (status, athena) =
        send(server.get(&format!("/api/v1/messages?thread_uuid={uuid}"), &key)).await;
    assert_eq!(status, StatusCode::OK, "{athena}");
    let contents: Vec<&str> = athena["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(contents, ["Hello there", reply.as_str()]);

    // Another workspace sees none of it.
    let bob = server.account("bob@example.com").await;
    let bob_key = server.api_key(&bob).await;
    for rest in [
        format!("/threads/{thread}"),
        format!("/threads/{thread}/messages"),
        format!("/threads/{thread}/runs/{run_id}"),
        format!("/threads/{thread}/runs/{run_id}/steps"),
    ] {
        let (status, body) = get(&server, &bob_key, &rest).await;
        assert_openai_error(status, &body, StatusCode::NOT_FOUND);
    }
    let (status, body) = post(
        &server,
        &bob_key,
        &format!("/threads/{thread}/runs"),
        json!({"assistant_id": asst}),
    )
    .await;
    assert_openai_error(status, &body, StatusCode::NOT_FOUND);

    let (status, deleted) = send(
        server
            .request(
                reqwest::Method::DELETE,
                &path(&format!("/threads/{thread}")),
            )
            .bearer_auth(&key),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(deleted["object"], "thread.deleted");
}

#[tokio::test]
async fn a_function_call_waits_for_outputs_and_a_busy_thread_answers_400() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let key = server.api_key(&ada).await;
    let asst = assistant(&server, &key).await;
    let (status, run) = post(
        &server,
        &key,
        "/threads/runs",
        json!({"assistant_id": asst, "thread": {"messages": [
            {"role": "user", "content": "/tool get_weather {\"city\": \"Oslo\"}"}]}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{run}");
    let (thread, run_id) = (run["thread_id"].as_str().unwrap().to_owned(), id(&run));
    // create_and_run's thread is the assistant's: it reads back in freddy and
    // under the agent in thena.
    let hex = &thread_hex(run["thread_id"].as_str().unwrap());
    let (status, freddy) =
        send(server.get(&format!("/v1/threads/thrd_{hex}/messages"), &key)).await;
    assert_eq!(status, StatusCode::OK, "{freddy}");
    assert!(
        freddy["data"][0]["content"]
            .as_str()
            .unwrap()
            .starts_with("/tool get_weather")
    );
    let agent = uuid::Uuid::parse_str(&asst["asst_".len()..]).unwrap();
    let thread_uuid = uuid::Uuid::parse_str(hex).unwrap();
    let (status, thena) = send(
        server
            .request(
                reqwest::Method::GET,
                &format!("/api/v1/chat/{agent}/threads/{thread_uuid}"),
            )
            .header("x-api-key", &key),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{thena}");
    let waiting = settled(&server, &key, &thread, &run_id).await;
    assert_eq!(waiting["status"], "requires_action", "{waiting}");
    let call = &waiting["required_action"]["submit_tool_outputs"]["tool_calls"][0];
    assert_eq!(call["type"], "function");
    assert_eq!(call["function"]["name"], "get_weather");
    let call_id = call["id"].as_str().unwrap().to_owned();

    let (status, body) = post(
        &server,
        &key,
        &format!("/threads/{thread}/runs"),
        json!({"assistant_id": asst}),
    )
    .await;
    assert_openai_error(status, &body, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["error"]["message"],
        format!("Thread {thread} already has an active run {run_id}.")
    );

    let (_, steps) = get(
        &server,
        &key,
        &format!("/threads/{thread}/runs/{run_id}/steps"),
    )
    .await;
    assert_eq!(steps["data"][0]["type"], "tool_calls", "{steps}");
    assert_eq!(steps["data"][0]["status"], "in_progress");

    let (status, body) = post(
        &server,
        &key,
        &format!("/threads/{thread}/runs/{run_id}/submit_tool_outputs"),
        json!({"tool_outputs": [{"tool_call_id": "call_unknown", "output": "x"}]}),
    )
    .await;
    assert_openai_error(status, &body, StatusCode::BAD_REQUEST);
    let (status, resumed) = post(
        &server,
        &key,
        &format!("/threads/{thread}/runs/{run_id}/submit_tool_outputs"),
        json!({"tool_outputs": [{"tool_call_id": call_id, "output": "sunny"}]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{resumed}");
    assert_ne!(resumed["status"], "requires_action");
    let done = settled(&server, &key, &thread, &run_id).await;
    assert_eq!(done["status"], "completed", "{done}");
    // The conversation lists the question and the reply: not the step that
    // only called the tool, nor the tool's result (athena shows all four).
    let (_, listed) = get(
        &server,
        &key,
        &format!("/threads/{thread}/messages?order=asc&limit=1"),
    )
    .await;
    assert_eq!(listed["data"][0]["role"], "user");
    assert_eq!(listed["has_more"], true);
    let after = listed["last_id"].as_str().unwrap();
    let (_, rest) = get(
        &server,
        &key,
        &format!("/threads/{thread}/messages?order=asc&after={after}"),
    )
    .await;
    assert_eq!(rest["data"].as_array().unwrap().len(), 1, "{rest}");
    assert_eq!(rest["data"][0]["role"], "assistant");
    assert!(
        rest["data"][0]["content"][0]["text"]["value"]
            .as_str()
            .unwrap()
            .contains("sunny")
    );
    assert_eq!(rest["has_more"], false);
    let (_, newest) = get(
        &server,
        &key,
        &format!("/threads/{thread}/messages?limit=1"),
    )
    .await;
    let newest_id = newest["first_id"].as_str().unwrap();
    let (_, newer) = get(
        &server,
        &key,
        &format!("/threads/{thread}/messages?before={newest_id}"),
    )
    .await;
    assert_eq!(newer["data"].as_array().unwrap().len(), 0, "{newer}");
    let (_, older) = get(
        &server,
        &key,
        &format!("/threads/{thread}/messages?after={newest_id}"),
    )
    .await;
    assert_eq!(older["data"][0]["role"], "user", "{older}");
    assert_eq!(older["has_more"], false);
    let uuid = uuid::Uuid::parse_str(&thread["thread_".len()..]).unwrap();
    let (_, athena) = send(server.get(&format!("/api/v1/messages?thread_uuid={uuid}"), &key)).await;
    assert_eq!(athena["data"].as_array().unwrap().len(), 4, "{athena}");

    let (_, steps) = get(
        &server,
        &key,
        &format!("/threads/{thread}/runs/{run_id}/steps?order=asc"),
    )
    .await;
    let kinds: Vec<&str> = steps["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["tool_calls", "message_creation"]);
    assert_eq!(
        steps["data"][0]["step_details"]["tool_calls"][0]["function"]["output"],
        "sunny"
    );
    let (status, body) = post(
        &server,
        &key,
        &format!("/threads/{thread}/runs/{run_id}/submit_tool_outputs"),
        json!({"tool_outputs": [{"tool_call_id": call_id, "output": "sunny"}]}),
    )
    .await;
    assert_openai_error(status, &body, StatusCode::BAD_REQUEST);
}

/// Event names and data of an SSE body.
fn events(text: &str) -> Vec<(String, String)> {
    text.split("\n\n")
        .filter_map(|block| {
            let mut name = None;
            let mut data = String::new();
            for line in block.lines() {
                if let Some(n) = line.strip_prefix("event: ") {
                    name = Some(n.to_owned());
                } else if let Some(d) = line.strip_prefix("data: ") {
                    data.push_str(d);
                }
            }
            Some((name?, data))
        })
        .collect()
}

#[tokio::test]
async fn a_streamed_run_sends_openai_events_and_replays_them_alike() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let key = server.api_key(&ada).await;
    let asst = assistant(&server, &key).await;
    let (_, thread) = post(
        &server,
        &key,
        "/threads",
        json!({"messages": [{"role": "user", "content": "Hi"}]}),
    )
    .await;
    let thread = id(&thread);
    let response = server
        .post(
            &path(&format!("/threads/{thread}/runs")),
            &key,
            json!({"assistant_id": asst, "stream": true}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    let got = events(&text);
    let names: Vec<&str> = got
        .iter()
        .map(|(n, _)| n.as_str())
        .filter(|n| *n != "thread.message.delta")
        .collect();
    assert_eq!(
        names,
        [
            "thread.run.created",
            "thread.run.queued",
            "thread.run.in_progress",
            "thread.run.step.created",
            "thread.run.step.in_progress",
            "thread.message.created",
            "thread.message.in_progress",
            "thread.message.completed",
            "thread.run.step.completed",
            "thread.run.completed",
            "done",
        ],
        "{text}"
    );
    let deltas: Vec<Value> = got
        .iter()
        .filter(|(n, _)| n == "thread.message.delta")
        .map(|(_, d)| serde_json::from_str(d).unwrap())
        .collect();
    assert!(!deltas.is_empty());
    let created: Value = serde_json::from_str(&got[5].1).unwrap();
    assert_eq!(deltas[0]["id"], created["id"]);
    assert_eq!(deltas[0]["delta"]["content"][0]["index"], 0);
    let streamed: String = deltas
        .iter()
        .map(|d| d["delta"]["content"][0]["text"]["value"].as_str().unwrap())
        .collect();
    let completed: Value = serde_json::from_str(&got[got.len() - 4].1).unwrap();
    assert_eq!(completed["content"][0]["text"]["value"], streamed.as_str());
    assert_eq!(got.last().unwrap().1, "[DONE]");

    // The run's stored log renders the same stream again, byte for byte.
    let run: Value = serde_json::from_str(&got[0].1).unwrap();
    let run_id = id(&run);
    let uuid = uuid::Uuid::parse_str(&run_id["run_".len()..]).unwrap();
    let (status, _) = send(server.get(&format!("/api/v1/runs/{uuid}"), &key)).await;
    assert_eq!(status, StatusCode::OK);
    let mut renderer = spool_http::openai::stream::Renderer::default();
    let spool = &server.spool;
    let scope = spool
        .resolve_scope(&spool.authenticate(&key).await.unwrap(), None)
        .await
        .unwrap();
    let principal = spool.authenticate(&key).await.unwrap();
    let mut log = spool
        .run_events(&principal, &scope, spool_core::RunId(uuid), 0)
        .await
        .unwrap();
    let mut replayed = Vec::new();
    while let Some(event) = log.next().await {
        for (name, data) in renderer.render(&event.kind) {
            replayed.push((name.to_owned(), data));
        }
    }
    assert_eq!(replayed, got);
}

#[tokio::test]
async fn a_streamed_tool_call_ends_at_requires_action_and_submit_streams_the_rest() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let key = server.api_key(&ada).await;
    let asst = assistant(&server, &key).await;
    let (_, thread) = post(
        &server,
        &key,
        "/threads",
        json!({"messages": [{"role": "user", "content": "/tool get_weather {\"city\": \"Oslo\"}"}]}),
    )
    .await;
    let thread = id(&thread);
    let text = server
        .post(
            &path(&format!("/threads/{thread}/runs")),
            &key,
            json!({"assistant_id": asst, "stream": true}),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let got = events(&text);
    let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        &names[names.len() - 5..],
        [
            "thread.run.step.created",
            "thread.run.step.in_progress",
            "thread.run.step.delta",
            "thread.run.requires_action",
            "done"
        ],
        "{text}"
    );
    let waiting: Value = serde_json::from_str(&got[got.len() - 2].1).unwrap();
    let call = waiting["required_action"]["submit_tool_outputs"]["tool_calls"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let text = server
        .post(
            &path(&format!(
                "/threads/{thread}/runs/{}/submit_tool_outputs",
                id(&waiting)
            )),
            &key,
            json!({"tool_outputs": [{"tool_call_id": call, "output": "sunny"}], "stream": true}),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let names: Vec<String> = events(&text)
        .into_iter()
        .map(|(n, _)| n)
        .filter(|n| n != "thread.message.delta")
        .collect();
    assert_eq!(
        names,
        [
            "thread.run.step.completed",
            "thread.run.step.created",
            "thread.run.step.in_progress",
            "thread.message.created",
            "thread.message.in_progress",
            "thread.message.completed",
            "thread.run.step.completed",
            "thread.run.completed",
            "done",
        ],
        "{text}"
    );
}

#[tokio::test]
async fn a_run_s_instructions_replace_the_assistant_s_and_additional_ones_come_last() {
    use spool_providers::testing::{Script, ScriptedUpstream};
    let upstream = ScriptedUpstream::start([Script::reply(["Bonjour."])]).await;
    let server = TestServer::start_with_models(crate::runs::patient_models(&upstream)).await;
    let ada = server.account("ada@example.com").await;
    let key = server.api_key(&ada).await;
    let asst = assistant(&server, &key).await;
    let (_, thread) = post(
        &server,
        &key,
        "/threads",
        json!({"messages": [{"role": "user", "content": "Hi"}]}),
    )
    .await;
    let thread = id(&thread);
    let (status, run) = post(
        &server,
        &key,
        &format!("/threads/{thread}/runs"),
        json!({"assistant_id": asst, "model": "scripted", "instructions": "Answer in French.",
               "additional_instructions": "Sign with S."}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{run}");
    assert_eq!(run["instructions"], "Answer in French.");
    let done = settled(&server, &key, &thread, &id(&run)).await;
    assert_eq!(done["status"], "completed", "{done}");
    let sent = &upstream.requests()[0].body;
    let system = sent["messages"][0]["content"].as_str().unwrap();
    assert!(system.starts_with("Answer in French."), "{system}");
    assert!(system.ends_with("Sign with S."), "{system}");
    assert!(
        !system.contains("Be brief."),
        "the assistant's instructions are replaced: {system}"
    );

    let (status, body) = post(
        &server,
        &key,
        &format!("/threads/{thread}/runs"),
        json!({"assistant_id": asst, "additional_instructions": "x".repeat(32_001)}),
    )
    .await;
    assert_openai_error(status, &body, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["param"], "additional_instructions");
}

#[tokio::test]
async fn an_idempotency_key_replays_a_create_and_a_run() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let key = server.api_key(&ada).await;
    let asst = assistant(&server, &key).await;
    let create = || {
        server
            .post(
                &path("/threads"),
                &key,
                json!({"messages": [{"role": "user", "content": "Once"}]}),
            )
            .header("Idempotency-Key", "openai-thread-1")
    };
    let (status, first) = send(create()).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let (_, again) = send(create()).await;
    assert_eq!(
        again["id"], first["id"],
        "the retry answers the same thread"
    );
    let thread = id(&first);
    let run = || {
        server
            .post(
                &path(&format!("/threads/{thread}/runs")),
                &key,
                json!({"assistant_id": asst}),
            )
            .header("Idempotency-Key", "openai-run-1")
    };
    let (_, first_run) = send(run()).await;
    let (status, again_run) = send(run()).await;
    assert_eq!(status, StatusCode::OK, "{again_run}");
    assert_eq!(
        again_run["id"], first_run["id"],
        "the retry starts no second run"
    );
    settled(&server, &key, &thread, &id(&first_run)).await;
    let (_, runs) = get(&server, &key, &format!("/threads/{thread}/runs")).await;
    assert_eq!(runs["data"].as_array().unwrap().len(), 1);
    let (_, messages) = get(&server, &key, &format!("/threads/{thread}/messages")).await;
    assert_eq!(
        messages["data"].as_array().unwrap().len(),
        2,
        "one question, one reply"
    );
    let (status, body) = send(
        server
            .post(
                &path("/threads"),
                &key,
                json!({"metadata": {"other": "body"}}),
            )
            .header("Idempotency-Key", "openai-thread-1"),
    )
    .await;
    assert!(status.is_client_error(), "{body}");
    assert!(
        body["error"]["message"].is_string(),
        "the openai error shape: {body}"
    );
}

#[tokio::test]
async fn a_run_keeps_metadata_lists_both_ways_and_uses_the_assistant_s_sampling() {
    use spool_core::provider::FinishReason;
    use spool_providers::testing::{Script, ScriptedUpstream};
    let upstream = ScriptedUpstream::start([
        Script::reply(["One."]),
        Script::reply(["Two, cut"]).with_finish(FinishReason::Length),
    ])
    .await;
    let server = TestServer::start_with_models(crate::runs::patient_models(&upstream)).await;
    let ada = server.account("ada@example.com").await;
    let key = server.api_key(&ada).await;
    let (_, asst) = post(
        &server,
        &key,
        "/assistants",
        json!({"model": "scripted", "temperature": 0.4, "top_p": 0.9}),
    )
    .await;
    let asst = id(&asst);
    let (_, thread) = post(
        &server,
        &key,
        "/threads",
        json!({"messages": [{"role": "user", "content": "Hi"}]}),
    )
    .await;
    let thread = id(&thread);
    let runs = format!("/threads/{thread}/runs");

    // Metadata within OpenAI's limits is kept; over them, 400 naming it.
    let (status, body) = post(
        &server,
        &key,
        &runs,
        json!({"assistant_id": asst, "metadata": {"k".repeat(65): "v"}}),
    )
    .await;
    assert_openai_error(status, &body, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]["param"]
            .as_str()
            .unwrap()
            .starts_with("metadata"),
        "{body}"
    );
    let (status, first) = post(
        &server,
        &key,
        &runs,
        json!({"assistant_id": asst, "metadata": {"ticket": "T-1"}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["metadata"], json!({"ticket": "T-1"}));
    assert_eq!(
        (first["temperature"].as_f64(), first["top_p"].as_f64()),
        (Some(0.4), Some(0.9))
    );
    let first_id = id(&first);
    let done = settled(&server, &key, &thread, &first_id).await;
    assert_eq!(done["status"], "completed", "{done}");
    let sent = &upstream.requests()[0].body;
    assert_eq!(
        (sent["temperature"].as_f64(), sent["top_p"].as_f64()),
        (Some(0.4), Some(0.9))
    );

    // A reply cut at its token limit leaves the run incomplete.
    let (_, second) = post(
        &server,
        &key,
        &runs,
        json!({"assistant_id": asst, "temperature": 1.0, "max_completion_tokens": 3}),
    )
    .await;
    let second_id = id(&second);
    let cut = settled(&server, &key, &thread, &second_id).await;
    assert_eq!(cut["status"], "incomplete", "{cut}");
    assert_eq!(cut["incomplete_details"]["reason"], "max_completion_tokens");
    assert_eq!(
        upstream.requests()[1].body["temperature"].as_f64(),
        Some(1.0)
    );
    let (_, listed) = get(
        &server,
        &key,
        &format!("/threads/{thread}/messages?run_id={second_id}"),
    )
    .await;
    let reply = &listed["data"][0];
    assert_eq!(reply["status"], "incomplete", "{listed}");
    assert_eq!(reply["incomplete_details"]["reason"], "max_tokens");

    // runs.update changes the metadata only.
    let one = format!("{runs}/{first_id}");
    let (status, updated) = post(&server, &key, &one, json!({"metadata": {"ticket": "T-2"}})).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["metadata"], json!({"ticket": "T-2"}));
    assert_eq!(updated["status"], "completed");
    let (_, reread) = get(&server, &key, &one).await;
    assert_eq!(reread["metadata"], json!({"ticket": "T-2"}));
    let (status, body) = post(&server, &key, &one, json!({"metadata": "no"})).await;
    assert_openai_error(status, &body, StatusCode::BAD_REQUEST);
    let bob = server.account("bob@example.com").await;
    let bob_key = server.api_key(&bob).await;
    let (status, body) = post(&server, &bob_key, &one, json!({"metadata": {"x": "y"}})).await;
    assert_openai_error(status, &body, StatusCode::NOT_FOUND);
    let (status, body) = post(&server, "spk_wrong", &one, json!({"metadata": {}})).await;
    assert_openai_error(status, &body, StatusCode::UNAUTHORIZED);
    let (_, reread) = get(&server, &key, &one).await;
    assert_eq!(
        reread["metadata"],
        json!({"ticket": "T-2"}),
        "nothing changed"
    );

    // Newest first by default, oldest first with order=asc, paged both ways.
    let (_, desc) = get(&server, &key, &runs).await;
    let order =
        |list: &Value| -> Vec<String> { list["data"].as_array().unwrap().iter().map(id).collect() };
    assert_eq!(order(&desc), [second_id.clone(), first_id.clone()]);
    let (status, asc) = get(&server, &key, &format!("{runs}?order=asc&limit=1")).await;
    assert_eq!(status, StatusCode::OK, "{asc}");
    assert_eq!(order(&asc), [first_id.as_str()]);
    assert_eq!(asc["has_more"], true);
    let (_, rest) = get(&server, &key, &format!("{runs}?order=asc&after={first_id}")).await;
    assert_eq!(order(&rest), [second_id.as_str()]);
    assert_eq!(rest["has_more"], false);
    let (_, back) = get(
        &server,
        &key,
        &format!("{runs}?order=asc&before={second_id}"),
    )
    .await;
    assert_eq!(order(&back), [first_id]);
}

#[tokio::test]
async fn a_run_waiting_for_outputs_in_vain_expires() {
    let core = spool_core::SpoolConfig {
        tool_outputs_timeout: std::time::Duration::ZERO,
        ..Default::default()
    };
    let server = TestServer::start_with(Default::default(), core).await;
    let ada = server.account("ada@example.com").await;
    let key = server.api_key(&ada).await;
    let asst = assistant(&server, &key).await;
    let (status, run) = post(
        &server,
        &key,
        "/threads/runs",
        json!({"assistant_id": asst, "thread": {"messages": [
            {"role": "user", "content": "/tool get_weather {}"}]}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{run}");
    let one = format!(
        "/threads/{}/runs/{}",
        run["thread_id"].as_str().unwrap(),
        id(&run)
    );
    let expired = eventually("the run expires", || async {
        let (_, body) = get(&server, &key, &one).await;
        (body["status"] == "expired").then_some(body)
    })
    .await;
    assert_eq!(expired["last_error"], Value::Null, "{expired}");
    assert_eq!(expired["required_action"], Value::Null, "{expired}");
    let (_, steps) = get(&server, &key, &format!("{one}/steps")).await;
    let step = &steps["data"][0];
    assert_eq!(step["status"], "expired", "{steps}");
    assert!(step["expired_at"].is_i64(), "{step}");

    // Its log renders in OpenAI's words too: thread.run.expired.
    let uuid = uuid::Uuid::parse_str(&id(&run)["run_".len()..]).unwrap();
    let spool = &server.spool;
    let principal = spool.authenticate(&key).await.unwrap();
    let scope = spool.resolve_scope(&principal, None).await.unwrap();
    let mut log = spool
        .run_events(&principal, &scope, spool_core::RunId(uuid), 0)
        .await
        .unwrap();
    let mut renderer = spool_http::openai::stream::Renderer::default();
    let mut names = Vec::new();
    while let Some(event) = log.next().await {
        for (name, data) in renderer.render(&event.kind) {
            if name == "thread.run.expired" {
                let shown: Value = serde_json::from_str(&data).unwrap();
                assert_eq!(shown["status"], "expired", "{shown}");
            }
            names.push(name.to_owned());
        }
    }
    assert!(names.iter().any(|n| n == "thread.run.expired"), "{names:?}");
}

#[tokio::test]
async fn truncation_to_the_last_messages_limits_what_the_model_sees() {
    use spool_providers::testing::{Script, ScriptedUpstream};
    let upstream = ScriptedUpstream::start([Script::reply(["Seen."])]).await;
    let server = TestServer::start_with_models(crate::runs::patient_models(&upstream)).await;
    let ada = server.account("ada@example.com").await;
    let key = server.api_key(&ada).await;
    let asst = assistant(&server, &key).await;
    let (_, thread) = post(
        &server,
        &key,
        "/threads",
        json!({"messages": [{"role": "user", "content": "First"},
                            {"role": "user", "content": "Second"},
                            {"role": "user", "content": "Third"}]}),
    )
    .await;
    let thread = id(&thread);
    let runs = format!("/threads/{thread}/runs");
    for bad in [
        json!({"type": "last_messages"}),
        json!({"type": "last_messages", "last_messages": 0}),
        json!({"type": "newest"}),
    ] {
        let (status, body) = post(
            &server,
            &key,
            &runs,
            json!({"assistant_id": asst, "model": "scripted", "truncation_strategy": bad}),
        )
        .await;
        assert_openai_error(status, &body, StatusCode::BAD_REQUEST);
    }
    let (status, run) = post(
        &server,
        &key,
        &runs,
        json!({"assistant_id": asst, "model": "scripted",
               "truncation_strategy": {"type": "last_messages", "last_messages": 2}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{run}");
    assert_eq!(
        run["truncation_strategy"],
        json!({"type": "last_messages", "last_messages": 2})
    );
    let done = settled(&server, &key, &thread, &id(&run)).await;
    assert_eq!(done["status"], "completed", "{done}");
    let sent = &upstream.requests()[0].body;
    let contents: Vec<&str> = sent["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "user")
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(contents, ["Second", "Third"], "{sent}");
}

/// An OpenAI `files.create` body: a file part and the `purpose` field.
fn openai_upload(name: &str, bytes: &[u8], purpose: Option<&str>) -> Vec<u8> {
    let mut body = Vec::new();
    if let Some(purpose) = purpose {
        body.extend_from_slice(
            format!(
                "--b0\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\n{purpose}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--b0\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(b"\r\n--b0--\r\n");
    body
}

#[tokio::test]
async fn files_upload_and_attach_to_messages_the_model_reads() {
    use spool_providers::testing::{Script, ScriptedUpstream};
    let upstream = ScriptedUpstream::start([Script::reply(["Read it."])]).await;
    let server = TestServer::start_with_models(crate::runs::patient_models(&upstream)).await;
    let ada = server.account("ada@example.com").await;
    let key = server.api_key(&ada).await;
    let upload = |body: Vec<u8>, key: &str| {
        server
            .request(reqwest::Method::POST, &path("/files"))
            .bearer_auth(key)
            .header("content-type", "multipart/form-data; boundary=b0")
            .body(body)
    };
    let (status, file) = send(upload(
        openai_upload("notes.txt", b"The launch is on Friday.", Some("assistants")),
        &key,
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{file}");
    assert_eq!(file["object"], "file");
    assert_eq!(file["bytes"], 24);
    assert_eq!(file["filename"], "notes.txt");
    let file_id = file["id"].as_str().unwrap().to_owned();
    assert!(file_id.starts_with("file-"), "{file}");
    for (body, param) in [
        (openai_upload("a.txt", b"x", None), "purpose"),
        (openai_upload("a.txt", b"x", Some("pets")), "purpose"),
    ] {
        let (status, refused) = send(upload(body, &key)).await;
        assert_openai_error(status, &refused, StatusCode::BAD_REQUEST);
        assert_eq!(refused["error"]["param"], param, "{refused}");
    }
    let (_, listed) = get(&server, &key, "/files").await;
    assert_eq!(
        listed["data"].as_array().unwrap().len(),
        1,
        "refused uploads keep nothing: {listed}"
    );
    let (status, shown) = get(&server, &key, &format!("/files/{file_id}")).await;
    assert_eq!((status, &shown["id"]), (StatusCode::OK, &file["id"]));
    let bytes = server
        .get(&path(&format!("/files/{file_id}/content")), &key)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(&bytes[..], b"The launch is on Friday.");

    // Attached to a message, the model reads it.
    let asst = assistant(&server, &key).await;
    let (status, thread) = post(
        &server,
        &key,
        "/threads",
        json!({"messages": [{"role": "user", "content": "When is the launch?",
            "attachments": [{"file_id": file_id, "tools": [{"type": "file_search"}]}]}]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{thread}");
    let thread = id(&thread);
    let (_, messages) = get(&server, &key, &format!("/threads/{thread}/messages")).await;
    assert_eq!(
        messages["data"][0]["attachments"],
        json!([{"file_id": file_id, "tools": []}])
    );
    let (_, run) = post(
        &server,
        &key,
        &format!("/threads/{thread}/runs"),
        json!({"assistant_id": asst, "model": "scripted"}),
    )
    .await;
    let done = settled(&server, &key, &thread, &id(&run)).await;
    assert_eq!(done["status"], "completed", "{done}");
    let sent = upstream.requests()[0].body.to_string();
    assert!(sent.contains("The launch is on Friday."), "{sent}");

    // Unknown and foreign files are refused and attach nothing.
    let eve = server.account("eve@example.com").await;
    let eve_key = server.api_key(&eve).await;
    let (status, body) = post(
        &server,
        &eve_key,
        "/threads",
        json!({"messages": [{"role": "user", "content": "Mine?", "attachments": [{"file_id": file_id}]}]}),
    )
    .await;
    assert_openai_error(status, &body, StatusCode::BAD_REQUEST);
    let (status, _) = get(&server, &eve_key, &format!("/files/{file_id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = post(
        &server,
        &key,
        &format!("/threads/{thread}/messages"),
        json!({"role": "user", "content": "x", "attachments": [{"file_id": format!("file-{}", "0".repeat(32))}]}),
    )
    .await;
    assert_openai_error(status, &body, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]["param"]
            .as_str()
            .unwrap()
            .starts_with("attachments"),
        "{body}"
    );
    let (status, body) = post(
        &server,
        &key,
        &format!("/threads/{thread}/messages"),
        json!({"role": "user", "content": "x", "attachments": [{"tools": []}]}),
    )
    .await;
    assert_openai_error(status, &body, StatusCode::BAD_REQUEST);

    let response = server
        .request(reqwest::Method::DELETE, &path(&format!("/files/{file_id}")))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let deleted: Value = response.json().await.unwrap();
    assert_eq!(deleted["deleted"], true);
    let (status, _) = get(&server, &key, &format!("/files/{file_id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
