//! OpenAI's Conversations and Responses APIs under `/openai/v1`: a
//! conversation is a thread (read back through athena), a response a run
//! with the echo model, streamed in numbered events rendered from the run's
//! log; function calls, busy conversations, errors and other workspaces.

use crate::fixtures::total;
use crate::{TestServer, send};
use reqwest::StatusCode;
use serde_json::{Value, json};

const BASE: &str = "/openai/v1";

async fn post(server: &TestServer, key: &str, rest: &str, body: Value) -> (StatusCode, Value) {
    send(server.post(&format!("{BASE}{rest}"), key, body)).await
}

async fn get(server: &TestServer, key: &str, rest: &str) -> (StatusCode, Value) {
    send(server.get(&format!("{BASE}{rest}"), key)).await
}

async fn delete(server: &TestServer, key: &str, rest: &str) -> (StatusCode, Value) {
    send(crate::fixtures::delete(
        server,
        &format!("{BASE}{rest}"),
        key,
    ))
    .await
}

fn assert_error(status: StatusCode, body: &Value, expected: StatusCode) {
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

fn id(body: &Value) -> String {
    body["id"].as_str().expect("an id").to_owned()
}

fn uuid_of(prefixed: &str) -> uuid::Uuid {
    uuid::Uuid::parse_str(prefixed.split_once('_').unwrap().1).unwrap()
}

/// The Responses events of an SSE body, in order.
fn events(text: &str) -> Vec<Value> {
    text.split("\n\n")
        .filter_map(|block| {
            let data: String = block
                .lines()
                .filter_map(|line| line.strip_prefix("data: "))
                .collect();
            serde_json::from_str(&data).ok()
        })
        .collect()
}

async fn stream(request: reqwest::RequestBuilder) -> Vec<Value> {
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    events(&response.text().await.unwrap())
}

fn types(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["type"].as_str().unwrap()).collect()
}

async fn conversation(server: &TestServer, key: &str, items: Value) -> String {
    let (status, body) = post(server, key, "/conversations", json!({"items": items})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    id(&body)
}

#[tokio::test]
async fn conversations_are_threads_with_items_that_athena_reads_back() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let key = server.api_key(&ada).await;
    let (status, made) = post(
        &server,
        &key,
        "/conversations",
        json!({"metadata": {"topic": "demo"}, "items": [
            {"type": "message", "role": "user", "content": "Hello"},
            {"role": "developer", "content": [{"type": "input_text", "text": "Be kind."}]},
        ]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{made}");
    let conv = id(&made);
    assert!(conv.starts_with("conv_") && conv.len() == 5 + 32);
    assert_eq!(made["object"], "conversation");
    assert_eq!(made["metadata"], json!({"topic": "demo"}));

    let (status, changed) = post(
        &server,
        &key,
        &format!("/conversations/{conv}"),
        json!({"metadata": {"topic": "weather"}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["metadata"], json!({"topic": "weather"}));
    let (status, added) = post(
        &server,
        &key,
        &format!("/conversations/{conv}/items"),
        json!({"items": [{"type": "message", "role": "assistant", "content": "Hi there"}]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{added}");
    assert_eq!(added["data"][0]["content"][0]["type"], "output_text");

    // Paged oldest first, one at a time.
    let (_, first) = get(
        &server,
        &key,
        &format!("/conversations/{conv}/items?limit=1&order=asc"),
    )
    .await;
    assert_eq!(first["data"][0]["content"][0]["text"], "Hello");
    assert_eq!(first["has_more"], true);
    let after = first["last_id"].as_str().unwrap();
    let (_, rest) = get(
        &server,
        &key,
        &format!("/conversations/{conv}/items?order=asc&after={after}"),
    )
    .await;
    let roles: Vec<&str> = rest["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["system", "assistant"], "{rest}");
    assert_eq!(rest["has_more"], false);
    let (_, newest) = get(
        &server,
        &key,
        &format!("/conversations/{conv}/items?limit=1"),
    )
    .await;
    assert_eq!(newest["data"][0]["content"][0]["text"], "Hi there");

    // The same messages through athena.
    let uuid = uuid_of(&conv);
    let (status, listed) =
        send(server.get(&format!("/api/v1/messages?thread_uuid={uuid}"), &key)).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let contents: Vec<&str> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(contents, ["Hello", "Be kind.", "Hi there"]);

    let item = first["first_id"].as_str().unwrap();
    let (status, one) = get(
        &server,
        &key,
        &format!("/conversations/{conv}/items/{item}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{one}");
    assert_eq!(one["id"], item);
    let (status, after_delete) = delete(
        &server,
        &key,
        &format!("/conversations/{conv}/items/{item}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{after_delete}");
    assert_eq!(after_delete["object"], "conversation");
    let (status, body) = get(
        &server,
        &key,
        &format!("/conversations/{conv}/items/{item}"),
    )
    .await;
    assert_error(status, &body, StatusCode::NOT_FOUND);

    let (status, gone) = delete(&server, &key, &format!("/conversations/{conv}")).await;
    assert_eq!(status, StatusCode::OK, "{gone}");
    assert_eq!(
        gone,
        json!({"id": conv, "object": "conversation.deleted", "deleted": true})
    );
    let (status, body) = get(&server, &key, &format!("/conversations/{conv}")).await;
    assert_error(status, &body, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn wrong_credentials_and_other_workspaces_are_401_and_404() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let bob = server.account("bob@example.com").await;
    let (ada_key, bob_key) = (server.api_key(&ada).await, server.api_key(&bob).await);
    let conv = conversation(
        &server,
        &ada_key,
        json!([{"role": "user", "content": "Hi"}]),
    )
    .await;
    let (_, response) = post(
        &server,
        &ada_key,
        "/responses",
        json!({"model": "echo", "conversation": conv, "input": "Again"}),
    )
    .await;
    let resp = id(&response);

    let (status, body) = get(&server, "spk_wrong", &format!("/conversations/{conv}")).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "invalid_api_key");
    for rest in [
        format!("/conversations/{conv}"),
        format!("/conversations/{conv}/items"),
        format!("/responses/{resp}"),
        format!("/responses/{resp}/input_items"),
        "/conversations/conv_123".to_owned(),
        format!("/responses/{}", conv.replace("conv_", "resp_")),
    ] {
        let (status, body) = get(&server, &bob_key, &rest).await;
        assert_error(status, &body, StatusCode::NOT_FOUND);
        let what = if rest.contains("/responses/") {
            "response"
        } else {
            "conversation"
        };
        assert_eq!(
            body["error"]["message"],
            format!("No such {what}."),
            "{rest}"
        );
    }
    let (status, body) = post(
        &server,
        &bob_key,
        "/responses",
        json!({"model": "echo", "conversation": conv, "input": "Mine now"}),
    )
    .await;
    assert_error(status, &body, StatusCode::NOT_FOUND);
    let (status, body) = post(
        &server,
        &bob_key,
        &format!("/responses/{resp}/cancel"),
        json!({}),
    )
    .await;
    assert_error(status, &body, StatusCode::NOT_FOUND);
    let (status, body) = delete(&server, &bob_key, &format!("/conversations/{conv}")).await;
    assert_error(status, &body, StatusCode::NOT_FOUND);
    let (status, _) = get(&server, &ada_key, &format!("/conversations/{conv}")).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn malformed_requests_are_400_and_change_nothing() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let key = server.api_key(&ada).await;
    let threads = || total(&server, &key, "/api/v1/threads");
    let before = threads().await;
    let too_many: Vec<Value> = (0..21)
        .map(|i| json!({"role": "user", "content": format!("{i}")}))
        .collect();
    for (rest, body, param) in [
        ("/conversations", json!({"items": too_many}), "items"),
        (
            "/conversations",
            json!({"items": [{"type": "image", "url": "x"}]}),
            "items[0].type",
        ),
        (
            "/conversations",
            json!({"items": [{"role": "robot", "content": "x"}]}),
            "items[0].role",
        ),
        ("/responses", json!({"model": "echo", "input": 5}), "input"),
        ("/responses", json!({"model": "echo"}), "input"),
        (
            "/responses",
            json!({"model": "nope", "input": "x"}),
            "model",
        ),
        (
            "/responses",
            json!({"model": "echo", "input": "x", "store": false}),
            "store",
        ),
        (
            "/responses",
            json!({"model": "echo", "input": "x", "tools": [{"type": "file_search"}]}),
            "tools[0].type",
        ),
        (
            "/responses",
            json!({"model": "echo", "input": "x", "metadata": (0..17)
                .map(|i| (format!("k{i}"), json!("v")))
                .collect::<serde_json::Map<_, _>>()}),
            "metadata",
        ),
        (
            "/responses",
            json!({"model": "echo", "input": "x", "conversation": "thread_1"}),
            "conversation",
        ),
        (
            "/responses",
            json!({"model": "echo", "input": "x", "max_output_tokens": 0}),
            "max_output_tokens",
        ),
        (
            "/responses",
            json!({"input": "x", "previous_response_id": format!("resp_{}", "0".repeat(32))}),
            "previous_response_id",
        ),
        (
            "/responses",
            json!({"input": "x", "previous_response_id": format!("resp_{}", "0".repeat(32)),
                   "conversation": format!("conv_{}", "0".repeat(32))}),
            "previous_response_id",
        ),
        (
            "/responses",
            json!({"input": [{"type": "function_call", "call_id": "c", "name": "f", "arguments": "{}"}]}),
            "input[0].type",
        ),
    ] {
        let (status, got) = post(&server, &key, rest, body).await;
        assert_error(status, &got, StatusCode::BAD_REQUEST);
        assert_eq!(got["error"]["param"], param, "{got}");
    }
    let (status, got) = send(
        server
            .request(reqwest::Method::POST, &format!("{BASE}/responses"))
            .bearer_auth(&key)
            .header("Content-Type", "application/json")
            .body("{not json"),
    )
    .await;
    assert_error(status, &got, StatusCode::BAD_REQUEST);
    assert_eq!(threads().await, before, "refused requests left no thread");

    let conv = conversation(&server, &key, json!([])).await;
    for query in ["limit=0", "limit=101", "order=up", "after=msg_1"] {
        let (status, got) = get(
            &server,
            &key,
            &format!("/conversations/{conv}/items?{query}"),
        )
        .await;
        assert_error(status, &got, StatusCode::BAD_REQUEST);
    }
}

#[tokio::test]
async fn a_response_streams_numbered_events_that_replay_from_any_number() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let key = server.api_key(&ada).await;
    let (status, plain) = post(
        &server,
        &key,
        "/responses",
        json!({"model": "echo", "input": "Hello there", "instructions": "Be brief.", "temperature": 0.5}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{plain}");
    assert_eq!(plain["object"], "response");
    assert_eq!(plain["status"], "completed");
    assert_eq!(plain["instructions"], "Be brief.");
    assert_eq!(plain["temperature"], 0.5);
    assert!(
        plain["output"][0]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("Hello there")
    );
    assert!(plain["usage"]["total_tokens"].as_u64().unwrap() > 0);
    let conv = plain["conversation"]["id"].as_str().unwrap().to_owned();

    let got = stream(server.post(
        &format!("{BASE}/responses"),
        &key,
        json!({"model": "echo", "conversation": conv, "input": "Stream it", "stream": true}),
    ))
    .await;
    let names: Vec<&str> = types(&got)
        .into_iter()
        .filter(|t| *t != "response.output_text.delta")
        .collect();
    assert_eq!(
        names,
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.content_part.added",
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.completed",
        ]
    );
    let numbers: Vec<u64> = got
        .iter()
        .map(|e| e["sequence_number"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, (0..got.len() as u64).collect::<Vec<_>>());
    let streamed: String = got
        .iter()
        .filter(|e| e["type"] == "response.output_text.delta")
        .map(|e| e["delta"].as_str().unwrap())
        .collect();
    let completed = &got.last().unwrap()["response"];
    assert_eq!(
        completed["output"][0]["content"][0]["text"],
        streamed.as_str()
    );
    let resp = id(completed);

    // The stored response and its log, from the start and from a number.
    let (_, shown) = get(&server, &key, &format!("/responses/{resp}")).await;
    assert_eq!(shown["output"], completed["output"]);
    let replayed = stream(server.get(&format!("{BASE}/responses/{resp}?stream=true"), &key)).await;
    assert_eq!(replayed, got);
    let tail = stream(server.get(
        &format!("{BASE}/responses/{resp}?stream=true&starting_after=3"),
        &key,
    ))
    .await;
    assert_eq!(tail, got[4..]);

    // Its input items: what the model read, newest first.
    let (_, inputs) = get(&server, &key, &format!("/responses/{resp}/input_items")).await;
    let texts: Vec<&str> = inputs["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["content"][0]["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts.len(), 3, "{inputs}");
    assert_eq!(texts[0], "Stream it");

    // A background response answers at once; its stream follows it.
    let (_, started) = post(
        &server,
        &key,
        "/responses",
        json!({"model": "echo", "previous_response_id": resp, "input": "Later", "background": true}),
    )
    .await;
    assert_eq!(started["background"], true);
    assert_eq!(started["conversation"]["id"], conv.as_str());
    let followed = stream(server.get(
        &format!("{BASE}/responses/{}?stream=true", id(&started)),
        &key,
    ))
    .await;
    assert_eq!(followed.last().unwrap()["type"], "response.completed");
}

#[tokio::test]
async fn function_call_outputs_answer_the_waiting_response() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let key = server.api_key(&ada).await;
    let conv = conversation(&server, &key, json!([])).await;
    let tools = json!([{"type": "function", "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}]);
    let (status, waiting) = post(
        &server,
        &key,
        "/responses",
        json!({"model": "echo", "conversation": conv, "tools": tools,
               "input": "/tool get_weather {\"city\": \"Oslo\"}"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{waiting}");
    assert_eq!(waiting["status"], "completed");
    assert_eq!(waiting["tools"][0]["name"], "get_weather");
    let call = waiting["output"]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["type"] == "function_call")
        .expect("a function call")
        .clone();
    assert_eq!(call["name"], "get_weather");
    let call_id = call["call_id"].as_str().unwrap();
    let resp = id(&waiting);

    let (status, body) = post(
        &server,
        &key,
        "/responses",
        json!({"model": "echo", "conversation": conv, "input": "Meanwhile"}),
    )
    .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "conversation_locked");

    let output = |call_id: &str| json!([{"type": "function_call_output", "call_id": call_id, "output": "sunny"}]);
    let (status, body) = post(
        &server,
        &key,
        "/responses",
        json!({"previous_response_id": resp, "input": output("call_unknown")}),
    )
    .await;
    assert_error(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["param"], "input[0].call_id");
    let other = conversation(&server, &key, json!([])).await;
    let (status, body) = post(
        &server,
        &key,
        "/responses",
        json!({"conversation": other, "input": output(call_id)}),
    )
    .await;
    assert_error(status, &body, StatusCode::UNPROCESSABLE_ENTITY);

    let (status, answered) = post(
        &server,
        &key,
        "/responses",
        json!({"conversation": conv, "input": output(call_id)}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answered}");
    assert_eq!(
        answered["id"],
        resp.as_str(),
        "the same response, continued"
    );
    let last = answered["output"].as_array().unwrap().last().unwrap();
    assert!(
        last["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("sunny"),
        "{answered}"
    );

    let (_, items) = get(
        &server,
        &key,
        &format!("/conversations/{conv}/items?order=asc"),
    )
    .await;
    let kinds: Vec<&str> = items["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "message",
            "function_call",
            "function_call_output",
            "message"
        ],
        "{items}"
    );
    assert_eq!(items["data"][2]["call_id"], call_id);
    let (status, one) = get(
        &server,
        &key,
        &format!(
            "/conversations/{conv}/items/{}",
            call["id"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{one}");
    assert_eq!(one, call);

    // Its whole log replays: the part up to the wait, then the rest.
    let replayed = stream(server.get(&format!("{BASE}/responses/{resp}?stream=true"), &key)).await;
    let ends: Vec<&str> = types(&replayed)
        .into_iter()
        .filter(|t| *t == "response.created" || *t == "response.completed")
        .collect();
    assert_eq!(
        ends,
        [
            "response.created",
            "response.completed",
            "response.created",
            "response.completed"
        ]
    );
    assert_eq!(
        replayed.last().unwrap()["response"]["output"],
        answered["output"]
    );

    // Answered twice: nothing waits any more.
    let (status, body) = post(
        &server,
        &key,
        "/responses",
        json!({"previous_response_id": resp, "input": output(call_id)}),
    )
    .await;
    assert_error(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_waiting_background_response_is_cancelled() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let key = server.api_key(&ada).await;
    let (_, started) = post(
        &server,
        &key,
        "/responses",
        json!({"model": "echo", "background": true,
               "tools": [{"type": "function", "name": "f", "parameters": {"type": "object"}}],
               "input": "/tool f {}"}),
    )
    .await;
    let resp = id(&started);
    // Its stream ends when it waits for the call's output.
    let got = stream(server.get(&format!("{BASE}/responses/{resp}?stream=true"), &key)).await;
    let done = got.last().unwrap();
    assert_eq!(done["type"], "response.completed");
    assert_eq!(done["response"]["output"][0]["type"], "function_call");
    let (status, cancelled) = post(
        &server,
        &key,
        &format!("/responses/{resp}/cancel"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert_eq!(cancelled["status"], "cancelled");

    // Answered in the background: the output so far, then the rest.
    let (_, started) = post(
        &server,
        &key,
        "/responses",
        json!({"model": "echo", "background": true,
               "tools": [{"type": "function", "name": "f", "parameters": {"type": "object"}}],
               "input": "/tool f {}"}),
    )
    .await;
    let resp = id(&started);
    let got = stream(server.get(&format!("{BASE}/responses/{resp}?stream=true"), &key)).await;
    let seen = got.last().unwrap()["sequence_number"].as_u64().unwrap();
    let call_id = got.last().unwrap()["response"]["output"][0]["call_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, answered) = post(
        &server,
        &key,
        "/responses",
        json!({"previous_response_id": resp, "background": true,
               "input": [{"type": "function_call_output", "call_id": call_id, "output": "ok"}]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answered}");
    assert_eq!(answered["id"], resp.as_str());
    assert_eq!(answered["output"][0]["type"], "function_call", "{answered}");
    let rest = stream(server.get(
        &format!("{BASE}/responses/{resp}?stream=true&starting_after={seen}"),
        &key,
    ))
    .await;
    assert_eq!(rest[0]["type"], "response.created");
    assert_eq!(rest[0]["sequence_number"], seen + 1);
    let done = &rest.last().unwrap()["response"];
    assert_eq!(done["status"], "completed");
    assert_eq!(done["output"].as_array().unwrap().len(), 2, "{done}");

    let (_, models) = get(&server, &key, "/models").await;
    assert_eq!(models["object"], "list");
    assert!(
        models["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == "echo")
    );
}

#[tokio::test]
async fn an_idempotency_key_replays_a_response() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let key = server.api_key(&ada).await;
    let threads = || total(&server, &key, "/api/v1/threads");
    let create = || {
        server
            .post(
                &format!("{BASE}/responses"),
                &key,
                json!({"model": "echo", "input": "Once"}),
            )
            .header("Idempotency-Key", "response-1")
    };
    let (status, first) = send(create()).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let (status, again) = send(create()).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["id"], first["id"], "the retry starts no second run");
    assert_eq!(threads().await, 1, "nor a second conversation");
    let conv = first["conversation"]["id"].as_str().unwrap();
    let (_, items) = get(&server, &key, &format!("/conversations/{conv}/items")).await;
    assert_eq!(items["data"].as_array().unwrap().len(), 2, "{items}");
}

#[tokio::test]
async fn a_response_keeps_its_metadata_and_sampling() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let key = server.api_key(&ada).await;
    let (status, made) = post(
        &server,
        &key,
        "/responses",
        json!({"model": "echo", "input": "Hello", "metadata": {"ticket": "T-3"},
               "temperature": 0.7, "top_p": 0.8}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{made}");
    assert_eq!(made["metadata"], json!({"ticket": "T-3"}));
    assert_eq!(made["top_p"].as_f64(), Some(0.8));
    let (status, read) = get(&server, &key, &format!("/responses/{}", id(&made))).await;
    assert_eq!(status, StatusCode::OK, "{read}");
    assert_eq!(read["metadata"], json!({"ticket": "T-3"}));
    assert_eq!(read["temperature"].as_f64(), Some(0.7));
}
