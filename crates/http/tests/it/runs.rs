//! Runs over HTTP: with the offline echo model and with a scripted upstream
//! speaking the OpenAI protocol, including its faults.

use crate::fixtures::eventually;
use crate::{Account, TestServer, assert_invalid, send};
use reqwest::StatusCode;
use serde_json::{Value, json};
use spool_providers::testing::{Script, ScriptedUpstream};
use std::time::Duration;

/// A stall no test outlasts: only a timeout or a cancel can end it.
const FOREVER: Duration = Duration::from_secs(3600);

/// One Server-Sent Event (comments, such as heartbeats, are dropped).
#[derive(Clone, Debug, PartialEq)]
pub struct SseEvent {
    pub id: u64,
    pub event: String,
    pub data: String,
}

pub fn parse_sse(text: &str) -> Vec<SseEvent> {
    let mut events = Vec::new();
    for block in text.split("\n\n") {
        let (mut id, mut event, mut data) = (None, None, Vec::new());
        for line in block.lines() {
            if let Some(v) = line.strip_prefix("id:") {
                id = v.trim().parse().ok();
            } else if let Some(v) = line.strip_prefix("event:") {
                event = Some(v.trim().to_owned());
            } else if let Some(v) = line.strip_prefix("data:") {
                data.push(v.strip_prefix(' ').unwrap_or(v).to_owned());
            }
        }
        if let (Some(id), Some(event)) = (id, event) {
            events.push(SseEvent {
                id,
                event,
                data: data.join("\n"),
            });
        }
    }
    events
}

async fn thread(server: &TestServer, account: &Account, metadata: Value) -> String {
    let (status, body) = send(server.post(
        "/api/v1/threads",
        &account.token,
        json!({ "name": "Run me", "metadata": metadata }),
    ))
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["data"]["uuid"].as_str().unwrap().to_owned()
}

async fn run(server: &TestServer, token: &str, thread: &str, body: Value) -> (StatusCode, Value) {
    send(server.post(&format!("/api/v1/threads/{thread}/run"), token, body)).await
}

async fn stream(server: &TestServer, token: &str, thread: &str, body: Value) -> Vec<SseEvent> {
    let response = server
        .post(&format!("/api/v1/threads/{thread}/run"), token, body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    parse_sse(&response.text().await.unwrap())
}

/// Reads `response` into `seen` until `seen` holds `marker`.
async fn read_until(response: &mut reqwest::Response, seen: &mut String, marker: &str) {
    while !seen.contains(marker) {
        let chunk = response.chunk().await.unwrap();
        let chunk = chunk.unwrap_or_else(|| panic!("the stream ended before {marker}: {seen}"));
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
}

/// Follows the run's events to their end, then answers the run: its last
/// events go out only once its end is stored.
async fn wait_for_run(server: &TestServer, token: &str, run: &str) -> Value {
    let response = server
        .get(&format!("/api/v1/runs/{run}/events"), token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let events = parse_sse(&response.text().await.unwrap());
    assert_eq!(
        events.last().map(|e| e.event.as_str()),
        Some("done"),
        "{events:?}"
    );
    let (status, body) = send(server.get(&format!("/api/v1/runs/{run}"), token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"].clone()
}

fn upstream_models(upstream: &ScriptedUpstream, max_retries: u32, context_window: u32) -> Value {
    json!({
        "providers": [
            { "kind": "echo", "name": "echo", "piece_delay_ms": 0 },
            { "kind": "openai", "name": "scripted", "base_url": upstream.openai_base_url(), "max_retries": max_retries,
              "max_retry_wait_secs": 2,
              "timeouts": { "connect_secs": 1, "first_token_secs": 1, "between_chunks_secs": 1 } }
        ],
        "models": [
            { "name": "echo", "provider": "echo", "context_window": 128000 },
            { "name": "scripted", "provider": "scripted", "upstream_model": "gpt-test", "context_window": context_window,
              "max_output_tokens": 64 }
        ]
    })
}

/// `upstream_models` with timeouts no test reaches: for runs that must stay
/// in progress until the test acts, however slow the machine.
pub fn patient_models(upstream: &ScriptedUpstream) -> Value {
    let mut models = upstream_models(upstream, 0, 8000);
    models["providers"][1]["timeouts"] =
        json!({ "first_token_secs": 3600, "between_chunks_secs": 3600 });
    models
}

#[tokio::test]
async fn a_run_without_streaming_answers_the_stored_reply() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let thread = thread(&server, &ada, json!({})).await;
    let (status, body) = run(
        &server,
        &ada.token,
        &thread,
        json!({ "content": "hello there", "temperature": 0.3 }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let reply = &body["data"];
    assert_eq!(reply["role"], "assistant");
    assert_eq!(reply["content"], "Echo: hello there");
    let metadata = &reply["metadata"];
    assert_eq!(metadata["model"], "echo");
    assert_eq!(metadata["temperature"], 0.3);
    assert_eq!(metadata["finish_reason"], "stop");
    assert_eq!(metadata["run_uuid"], body["run"]["uuid"]);
    let tokens = &metadata["tokens"];
    assert!(tokens["input"].as_u64().unwrap() > 0 && tokens["output"].as_u64().unwrap() > 0);
    assert_eq!(
        tokens["total"].as_u64(),
        Some(tokens["input"].as_u64().unwrap() + tokens["output"].as_u64().unwrap())
    );
    assert_eq!(body["run"]["status"], "completed");
    assert_eq!(body["run"]["message_uuid"], reply["uuid"]);

    let (_, thread_now) = send(server.get(&format!("/api/v1/threads/{thread}"), &ada.token)).await;
    let t = &thread_now["data"];
    assert_eq!(
        (t["message_count"].as_u64(), t["status"].as_str()),
        (Some(2), Some("idle"))
    );
    assert_eq!(t["last_model_used"], "echo");
    assert_eq!(t["usage"]["output_tokens"], tokens["output"]);
    let (_, messages) = send(server.get(
        &format!("/api/v1/messages?thread_uuid={thread}"),
        &ada.token,
    ))
    .await;
    let roles: Vec<_> = messages["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].clone())
        .collect();
    assert_eq!(roles, [json!("user"), json!("assistant")]);
    let (_, runs) = send(server.get(&format!("/api/v1/threads/{thread}/runs"), &ada.token)).await;
    assert_eq!(runs["meta"]["total"], 1);
}

#[tokio::test]
async fn a_streamed_run_sends_every_event_in_order_and_resumes_without_gaps() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let thread = thread(&server, &ada, json!({})).await;
    let events = stream(
        &server,
        &ada.token,
        &thread,
        json!({ "content": "one two three four", "stream": true }),
    )
    .await;
    let names: Vec<&str> = events.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(names.first(), Some(&"run.created"));
    assert_eq!(names[1], "message.created");
    // Pieces that arrive together are stored (and sent) as one delta.
    assert!(names.contains(&"message.delta"), "{names:?}");
    assert_eq!(
        &names[names.len() - 3..],
        ["message.completed", "run.completed", "done"]
    );
    assert_eq!(
        events.iter().map(|e| e.id).collect::<Vec<_>>(),
        (1..=events.len() as u64).collect::<Vec<_>>()
    );
    let text: String = events
        .iter()
        .filter(|e| e.event == "message.delta")
        .map(|e| {
            serde_json::from_str::<Value>(&e.data).unwrap()["delta"]["content"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(text, "Echo: one two three four");
    let run_id = serde_json::from_str::<Value>(&events[0].data).unwrap()["uuid"]
        .as_str()
        .unwrap()
        .to_owned();

    // Re-attaching from every position gives exactly the rest, byte for byte.
    for last in 0..events.len() as u64 {
        let response = server
            .get(&format!("/api/v1/runs/{run_id}/events"), &ada.token)
            .header("Last-Event-ID", last.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let resumed = parse_sse(&response.text().await.unwrap());
        assert_eq!(resumed, events[last as usize..], "resumed after {last}");
    }
    let (status, body) = send(
        server
            .get(&format!("/api/v1/runs/{run_id}/events"), &ada.token)
            .header("Last-Event-ID", "abc"),
    )
    .await;
    assert_invalid(status, &body, "Last-Event-ID");
    // Ids are the store's (signed 64-bit), and the query form is checked
    // even when the header, which wins, is fine.
    let (status, body) = send(
        server
            .get(&format!("/api/v1/runs/{run_id}/events"), &ada.token)
            .header("Last-Event-ID", (1_u64 << 63).to_string()),
    )
    .await;
    assert_invalid(status, &body, "Last-Event-ID");
    let (status, body) = send(
        server
            .get(
                &format!("/api/v1/runs/{run_id}/events?last_event_id=x"),
                &ada.token,
            )
            .header("Last-Event-ID", "1"),
    )
    .await;
    assert_invalid(status, &body, "last_event_id");
    // An empty header is no header: the query's id counts.
    let (status, _) = send(
        server
            .get(
                &format!("/api/v1/runs/{run_id}/events?last_event_id=1"),
                &ada.token,
            )
            .header("Last-Event-ID", ""),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn accept_event_stream_also_streams() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let thread = thread(&server, &ada, json!({})).await;
    let response = server
        .post(
            &format!("/api/v1/threads/{thread}/run"),
            &ada.token,
            json!({ "content": "hi" }),
        )
        .header("Accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    let events = parse_sse(&response.text().await.unwrap());
    assert_eq!(events.last().map(|e| e.event.as_str()), Some("done"));
}

#[tokio::test]
async fn a_client_that_disconnects_does_not_stop_the_run() {
    // The reply waits after its first piece until the client has gone.
    let upstream =
        ScriptedUpstream::start([Script::held(["slow "], ["but ", "sure ", "reply"])]).await;
    let server = TestServer::start_with_models(patient_models(&upstream)).await;
    let ada = server.account("ada@example.com").await;
    let thread = thread(&server, &ada, json!({})).await;
    let mut response = server
        .post(
            &format!("/api/v1/threads/{thread}/run"),
            &ada.token,
            json!({ "content": "go", "model": "scripted", "stream": true }),
        )
        .send()
        .await
        .unwrap();
    let mut seen = String::new();
    read_until(&mut response, &mut seen, "message.delta").await;
    let run_id = serde_json::from_str::<Value>(&parse_sse(&seen)[0].data).unwrap()["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    drop(response);
    upstream.release();
    let run = wait_for_run(&server, &ada.token, &run_id).await;
    assert_eq!(run["status"], "completed");
    let (_, reply) = send(server.get(
        &format!("/api/v1/messages/{}", run["message_uuid"].as_str().unwrap()),
        &ada.token,
    ))
    .await;
    assert_eq!(reply["data"]["content"], "slow but sure reply");
}

#[tokio::test]
async fn one_active_run_per_thread_reject_interrupt_enqueue() {
    // Every scripted run stays in progress after its first piece until it
    // is stopped; the interrupting run uses the echo model and completes.
    let upstream = ScriptedUpstream::start([Script::stall_mid_stream(["a "], FOREVER)]).await;
    let server = TestServer::start_with_models(patient_models(&upstream)).await;
    let ada = server.account("ada@example.com").await;
    let thread = thread(&server, &ada, json!({ "model": "scripted" })).await;
    let start = |body: Value| {
        let client = server.client.clone();
        let url = format!("{}/api/v1/threads/{thread}/run", server.base);
        let token = ada.token.clone();
        tokio::spawn(async move {
            client
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        })
    };
    let runs_path = format!("/api/v1/threads/{thread}/runs?per_page=100");
    let first = start(json!({ "content": "first" }));
    // Admitted (and so listed) before it asks the upstream.
    upstream.wait_for_requests(1).await;
    let (_, runs) = send(server.get(&runs_path, &ada.token)).await;
    assert_eq!(runs["meta"]["total"], 1, "{runs}");
    let active = runs["data"][0]["uuid"].as_str().unwrap().to_owned();
    // Its reply has begun, so a partial reply is kept when it is stopped.
    let mut events = server
        .get(&format!("/api/v1/runs/{active}/events"), &ada.token)
        .send()
        .await
        .unwrap();
    read_until(&mut events, &mut String::new(), "message.delta").await;
    let (status, body) = run(&server, &ada.token, &thread, json!({ "content": "second" })).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body["message"].as_str().unwrap().contains("active run"));

    let queued = start(json!({ "content": "third", "multitask": "enqueue" }));
    // Nothing announces a queued run but the list.
    eventually("the third run is queued", || async {
        let (_, runs) = send(server.get(&runs_path, &ada.token)).await;
        (runs["meta"]["total"] == 2).then_some(())
    })
    .await;
    let (status, interrupted) = run(
        &server,
        &ada.token,
        &thread,
        json!({ "content": "fourth", "multitask": "interrupt", "model": "echo" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{interrupted}");
    assert_eq!(interrupted["run"]["status"], "completed");
    assert_eq!(interrupted["data"]["content"], "Echo: fourth");

    let first = first.await.unwrap();
    assert_eq!(first["run"]["uuid"], active.as_str());
    assert_eq!(first["run"]["status"], "cancelled");
    let partial = &first["data"];
    assert_eq!(partial["content"], "a ", "the partial reply: {first}");
    assert_eq!(partial["metadata"]["finish_reason"], "cancelled");
    let queued = queued.await.unwrap();
    assert_eq!(
        queued["run"]["status"], "cancelled",
        "interrupt also stops what was waiting"
    );
    let (status, body) = run(
        &server,
        &ada.token,
        &thread,
        json!({ "multitask": "sometimes" }),
    )
    .await;
    assert_invalid(status, &body, "multitask");

    // Never two runs in progress at once: the history shows them one after another.
    let (_, runs) = send(server.get(
        &format!("/api/v1/threads/{thread}/runs?per_page=100"),
        &ada.token,
    ))
    .await;
    let mut spans: Vec<(String, String)> = runs["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["started_at"].is_string())
        .map(|r| {
            (
                r["started_at"].as_str().unwrap().to_owned(),
                r["finished_at"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    spans.sort();
    for pair in spans.windows(2) {
        assert!(pair[0].1 <= pair[1].0, "overlapping runs: {pair:?}");
    }
}

#[tokio::test]
async fn enqueued_runs_run_in_arrival_order() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let thread = thread(&server, &ada, json!({})).await;
    // Each run is admitted (its run.created has arrived) before the next is sent.
    let mut streams = Vec::new();
    for i in 0..5 {
        let body =
            json!({ "content": format!("message {i}"), "multitask": "enqueue", "stream": true });
        let mut response = server
            .post(&format!("/api/v1/threads/{thread}/run"), &ada.token, body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let mut seen = String::new();
        while !seen.contains("run.created") {
            seen.push_str(&String::from_utf8_lossy(
                &response.chunk().await.unwrap().unwrap(),
            ));
        }
        streams.push((response, seen));
    }
    for (mut response, mut seen) in streams {
        while let Some(chunk) = response.chunk().await.unwrap() {
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
        let events = parse_sse(&seen);
        assert_eq!(
            events.iter().rev().nth(1).map(|e| e.event.as_str()),
            Some("run.completed")
        );
    }
    let (_, messages) = send(server.get(
        &format!("/api/v1/messages?thread_uuid={thread}&per_page=100"),
        &ada.token,
    ))
    .await;
    let messages = messages["data"].as_array().unwrap();
    assert_eq!(messages.len(), 10);
    // Questions are appended as their runs are admitted, in arrival order.
    let questions: Vec<&str> = messages
        .iter()
        .filter(|m| m["role"] == "user")
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = (0..5).map(|i| format!("message {i}")).collect();
    assert_eq!(questions, expected);
    // The runs ran one after another, in the order they arrived.
    let (_, runs) = send(server.get(
        &format!("/api/v1/threads/{thread}/runs?per_page=100"),
        &ada.token,
    ))
    .await;
    let mut runs: Vec<Value> = runs["data"].as_array().unwrap().clone();
    runs.sort_by_key(|r| r["created_at"].as_str().unwrap().to_owned());
    assert_eq!(runs.len(), 5);
    for pair in runs.windows(2) {
        let (earlier, later) = (&pair[0], &pair[1]);
        let finished = earlier["finished_at"].as_str().expect("each run finished");
        let started = later["started_at"].as_str().expect("each run started");
        assert!(finished <= started, "{earlier} then {later}");
    }
}

#[tokio::test]
async fn cancel_keeps_the_partial_reply() {
    // The reply stalls after two pieces: the run is in progress until cancelled.
    let upstream =
        ScriptedUpstream::start([Script::stall_mid_stream(["part ", "one "], FOREVER)]).await;
    let server = TestServer::start_with_models(patient_models(&upstream)).await;
    let ada = server.account("ada@example.com").await;
    let thread = thread(&server, &ada, json!({})).await;
    let mut response = server
        .post(
            &format!("/api/v1/threads/{thread}/run"),
            &ada.token,
            json!({ "content": "go", "model": "scripted", "stream": true }),
        )
        .send()
        .await
        .unwrap();
    let mut seen = String::new();
    read_until(&mut response, &mut seen, "message.delta").await;
    let run_id = serde_json::from_str::<Value>(&parse_sse(&seen)[0].data).unwrap()["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = send(server.post(
        &format!("/api/v1/runs/{run_id}/cancel"),
        &ada.token,
        json!({}),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["status"], "cancelled");
    while let Some(chunk) = response.chunk().await.unwrap() {
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    let events = parse_sse(&seen);
    assert_eq!(
        events.iter().rev().nth(1).map(|e| e.event.as_str()),
        Some("run.cancelled")
    );
    let reply_id = body["data"]["message_uuid"]
        .as_str()
        .expect("the partial reply is kept")
        .to_owned();
    let (_, reply) = send(server.get(&format!("/api/v1/messages/{reply_id}"), &ada.token)).await;
    assert!(
        reply["data"]["content"]
            .as_str()
            .unwrap()
            .starts_with("part")
    );
    assert_eq!(reply["data"]["metadata"]["finish_reason"], "cancelled");
    // Cancelling a finished run changes nothing.
    let (status, again) = send(server.post(
        &format!("/api/v1/runs/{run_id}/cancel"),
        &ada.token,
        json!({}),
    ))
    .await;
    assert_eq!(
        (status, again["data"]["status"].as_str()),
        (StatusCode::OK, Some("cancelled"))
    );
}

/// Runs against each upstream fault end in the documented state, store what
/// arrived and why it ended, retry only before the first token and never
/// answer 5xx. (Stalls last longer than any test: only the 1 s timeouts end
/// them.)
#[tokio::test]
async fn upstream_faults_end_runs_cleanly() {
    struct Case {
        name: &'static str,
        script: Vec<Script>,
        status: &'static str,
        partial: Option<&'static str>,
        /// Part of the stored error; `None`: no error.
        error: Option<&'static str>,
        requests: usize,
    }
    let cases = vec![
        Case {
            name: "500 every time",
            script: vec![Script::status(500)],
            status: "failed",
            partial: None,
            error: Some("answered 500"),
            requests: 3,
        },
        Case {
            name: "429 then success",
            script: vec![Script::rate_limited(1), Script::reply(["fine"])],
            status: "completed",
            partial: Some("fine"),
            error: None,
            requests: 2,
        },
        Case {
            name: "stall before the first byte",
            script: vec![Script::stall_before_first_byte(FOREVER)],
            status: "failed",
            partial: None,
            error: Some("did not answer in time (FirstToken)"),
            requests: 3,
        },
        Case {
            name: "stall mid-stream",
            script: vec![Script::stall_mid_stream(["half ", "way"], FOREVER)],
            status: "failed",
            partial: Some("half way"),
            error: Some("did not answer in time (BetweenChunks)"),
            requests: 1,
        },
        Case {
            name: "dropped mid-stream",
            script: vec![Script::drop_mid_stream(["cut ", "off"])],
            status: "failed",
            partial: Some("cut off"),
            error: Some("broke off"),
            requests: 1,
        },
        Case {
            name: "malformed chunk",
            script: vec![Script::malformed_chunk(["bad "])],
            status: "failed",
            partial: Some("bad "),
            error: Some("unreadable"),
            requests: 1,
        },
    ];
    for case in cases {
        let upstream = ScriptedUpstream::start(case.script).await;
        let server = TestServer::start_with_models(upstream_models(&upstream, 2, 8000)).await;
        let ada = server.account("ada@example.com").await;
        let thread = thread(&server, &ada, json!({})).await;
        let (status, body) = run(
            &server,
            &ada.token,
            &thread,
            json!({ "content": "go", "model": "scripted" }),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{}: {body}", case.name);
        assert_eq!(body["run"]["status"], case.status, "{}: {body}", case.name);
        match case.partial {
            Some(text) => {
                assert_eq!(body["data"]["content"], text, "{}", case.name);
                let reason = if case.status == "completed" {
                    "stop"
                } else {
                    "error"
                };
                assert_eq!(
                    body["data"]["metadata"]["finish_reason"], reason,
                    "{}",
                    case.name
                );
            }
            None => assert!(body["data"].is_null(), "{}: {body}", case.name),
        }
        match case.error {
            Some(part) => assert!(
                body["run"]["error"]
                    .as_str()
                    .is_some_and(|e| e.contains(part)),
                "{}: the error is stored: {body}",
                case.name
            ),
            None => assert!(body["run"]["error"].is_null(), "{}: {body}", case.name),
        }
        assert_eq!(
            upstream.request_count(),
            case.requests,
            "{}: attempts",
            case.name
        );
        let (_, thread_now) =
            send(server.get(&format!("/api/v1/threads/{thread}"), &ada.token)).await;
        assert_eq!(thread_now["data"]["status"], "idle", "{}", case.name);
    }
}

#[tokio::test]
async fn the_prompt_keeps_the_newest_messages_within_the_window() {
    let upstream = ScriptedUpstream::start([Script::reply(["ok"])]).await;
    let server = TestServer::start_with_models(upstream_models(&upstream, 0, 300)).await;
    let ada = server.account("ada@example.com").await;
    let thread = thread(&server, &ada, json!({ "system_prompt": "You are terse." })).await;
    for i in 0..30 {
        let body = json!({ "thread_uuid": thread, "content": format!("message number {i} with some words in it") });
        let (status, _) = send(server.post("/api/v1/messages", &ada.token, body)).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let (status, body) = run(
        &server,
        &ada.token,
        &thread,
        // A whole number may be written as a float (JSON has one number type).
        json!({ "content": "the newest question", "model": "scripted", "max_tokens": 64.0 }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let request: Value = upstream.requests()[0].body.clone();
    assert_eq!(request["max_tokens"], 64, "{request}");
    let messages = request["messages"].as_array().unwrap();
    assert_eq!(messages[0]["role"], "system");
    assert!(
        messages[0]["content"]
            .as_str()
            .unwrap()
            .contains("You are terse.")
    );
    assert_eq!(messages.last().unwrap()["content"], "the newest question");
    assert!(
        messages.len() < 31,
        "older messages were cut: {}",
        messages.len()
    );
    assert!(
        messages.len() > 3,
        "as many as fit were kept: {}",
        messages.len()
    );
    let kept: Vec<&str> = messages[1..]
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert!(
        kept.iter().all(|c| !c.contains("number 0 ")),
        "the oldest went first"
    );
    assert!(kept.contains(&"message number 29 with some words in it"));
    assert_eq!(request["model"], "gpt-test");
}

#[tokio::test]
async fn a_hundred_concurrent_runs_on_a_hundred_threads_complete() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let key = server.api_key(&ada).await;
    let mut threads = Vec::new();
    for _ in 0..100 {
        threads.push(thread(&server, &ada, json!({})).await);
    }
    let mut handles = Vec::new();
    for (i, thread) in threads.iter().enumerate() {
        let (client, base, key, thread) = (
            server.client.clone(),
            server.base.clone(),
            key.clone(),
            thread.clone(),
        );
        handles.push(tokio::spawn(async move {
            let body = json!({ "content": format!("question {i}") });
            let r = client
                .post(format!("{base}/api/v1/threads/{thread}/run"))
                .bearer_auth(key)
                .json(&body)
                .send()
                .await
                .unwrap();
            (r.status(), r.json::<Value>().await.unwrap(), i)
        }));
    }
    for handle in handles {
        let (status, body, i) = handle.await.unwrap();
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["content"], format!("Echo: question {i}"));
    }
}

#[tokio::test]
async fn generate_name_stores_a_title() {
    let upstream =
        ScriptedUpstream::start([Script::reply(["\"Pricing ", "for ", "teams\""])]).await;
    let server = TestServer::start_with_models(upstream_models(&upstream, 0, 8000)).await;
    let ada = server.account("ada@example.com").await;
    let thread = thread(&server, &ada, json!({ "model": "scripted" })).await;
    let path = format!("/api/v1/threads/{thread}/generate-name");
    let (status, body) = send(server.post(&path, &ada.token, json!({}))).await;
    assert_invalid(status, &body, "thread");
    let body = json!({ "thread_uuid": thread, "content": "How much is the team plan?" });
    send(server.post("/api/v1/messages", &ada.token, body)).await;
    let (status, body) = send(server.post(&path, &ada.token, json!({}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["name"], "Pricing for teams");
    let request: Value = upstream.requests().last().unwrap().body.clone();
    assert!(
        request["messages"][1]["content"]
            .as_str()
            .unwrap()
            .contains("team plan")
    );
}

#[tokio::test]
async fn run_requests_are_checked_and_scoped() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let eve = server.account("eve@example.com").await;
    let thread = thread(&server, &ada, json!({})).await;
    let (status, body) = run(&server, &ada.token, &thread, json!({ "model": "gpt-17" })).await;
    assert_invalid(status, &body, "model");
    let (status, body) = run(&server, &ada.token, &thread, json!({ "temperature": 7 })).await;
    assert_invalid(status, &body, "temperature");
    let (status, body) = run(&server, &ada.token, &thread, json!({ "max_tokens": 0 })).await;
    assert_invalid(status, &body, "max_tokens");
    let (status, body) = run(&server, &ada.token, &thread, json!({ "max_tokens": 8.5 })).await;
    assert_invalid(status, &body, "max_tokens");
    let (status, body) = run(&server, &ada.token, &thread, json!({ "max_tokens": 1e12 })).await;
    assert_invalid(status, &body, "max_tokens");
    let (status, body) = run(
        &server,
        &ada.token,
        &thread,
        json!({ "content": "x", "surprise": 1 }),
    )
    .await;
    assert_invalid(status, &body, "surprise");
    let (status, body) = run(
        &server,
        &eve.token,
        &thread,
        json!({ "content": "mine now" }),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, _) = send(
        server
            .request(
                reqwest::Method::POST,
                &format!("/api/v1/threads/{thread}/run"),
            )
            .json(&json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, ok) = run(&server, &ada.token, &thread, json!({ "content": "hi" })).await;
    let run_id = ok["run"]["uuid"].as_str().unwrap();
    for path in [
        format!("/api/v1/runs/{run_id}"),
        format!("/api/v1/runs/{run_id}/events"),
        format!("/api/v1/threads/{thread}/runs"),
    ] {
        let (status, _) = send(server.get(&path, &eve.token)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let (status, _) = send(server.post(
        &format!("/api/v1/runs/{run_id}/cancel"),
        &eve.token,
        json!({}),
    ))
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, messages) = send(server.get(
        &format!("/api/v1/messages?thread_uuid={thread}"),
        &ada.token,
    ))
    .await;
    assert_eq!(
        messages["meta"]["total"], 2,
        "rejected runs appended nothing"
    );
}

#[tokio::test]
async fn an_agent_run_makes_its_thread() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let (_, agent) = send(server.post(
        "/api/v1/agents",
        &ada.token,
        json!({ "name": "Helper", "instruction": "Help." }),
    ))
    .await;
    let agent = agent["data"]["uuid"].as_str().unwrap();
    let (status, body) = send(server.post(
        &format!("/api/v1/agents/{agent}/run"),
        &ada.token,
        json!({ "content": "hi agent" }),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["content"], "Echo: hi agent");
    assert_eq!(body["data"]["thread"]["agent"]["uuid"], agent);
    let (_, agent_now) = send(server.get(&format!("/api/v1/agents/{agent}"), &ada.token)).await;
    assert_eq!(
        (
            agent_now["data"]["threads_count"].as_u64(),
            agent_now["data"]["usage_count"].as_u64()
        ),
        (Some(1), Some(1))
    );
}

/// Without retries, a stalled upstream ends the run by its timeout (1 s
/// here; the stalls outlast any test), and the run says which one.
#[tokio::test]
async fn stalls_end_the_run_by_its_timeout() {
    for (name, script, error) in [
        (
            "before the first byte",
            Script::stall_before_first_byte(FOREVER),
            "the provider did not answer in time (FirstToken)",
        ),
        (
            "mid-stream",
            Script::stall_mid_stream(["half"], FOREVER),
            "the provider did not answer in time (BetweenChunks)",
        ),
    ] {
        let upstream = ScriptedUpstream::start([script]).await;
        let server = TestServer::start_with_models(upstream_models(&upstream, 0, 8000)).await;
        let ada = server.account("ada@example.com").await;
        let thread = thread(&server, &ada, json!({})).await;
        let (status, body) = run(
            &server,
            &ada.token,
            &thread,
            json!({ "content": "go", "model": "scripted" }),
        )
        .await;
        assert_eq!(
            (status, body["run"]["status"].as_str()),
            (StatusCode::OK, Some("failed")),
            "{name}: {body}"
        );
        assert_eq!(body["run"]["error"], error, "{name}: {body}");
        assert_eq!(
            upstream.request_count(),
            1,
            "{name}: no retries were configured"
        );
    }
}

/// Reads the whole of a stream that was read up to some point into `seen`.
async fn read_to_end(mut response: reqwest::Response, mut seen: String) -> Vec<SseEvent> {
    while let Some(chunk) = response.chunk().await.unwrap() {
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    parse_sse(&seen)
}

#[tokio::test]
async fn each_queued_run_answers_its_own_question() {
    // q0's reply is held until q1–q3 have been queued behind it.
    let upstream = ScriptedUpstream::start([
        Script::held(["a0 "], ["done"]),
        Script::reply(["a1"]),
        Script::reply(["a2"]),
        Script::reply(["a3"]),
    ])
    .await;
    let server = TestServer::start_with_models(patient_models(&upstream)).await;
    let ada = server.account("ada@example.com").await;
    let thread = thread(&server, &ada, json!({})).await;
    let mut streams = Vec::new();
    for k in 0..4 {
        let body = json!({ "content": format!("q{k}"), "model": "scripted",
            "multitask": "enqueue", "stream": true });
        let mut response = server
            .post(&format!("/api/v1/threads/{thread}/run"), &ada.token, body)
            .send()
            .await
            .unwrap();
        let mut seen = String::new();
        let marker = if k == 0 {
            "message.delta"
        } else {
            "run.created"
        };
        read_until(&mut response, &mut seen, marker).await;
        streams.push((response, seen));
    }
    upstream.release();
    for (response, seen) in streams {
        let events = read_to_end(response, seen).await;
        assert_eq!(events.last().map(|e| e.event.as_str()), Some("done"));
    }

    // Each prompt ends with its own question and holds no later one.
    let requests = upstream.requests();
    assert_eq!(requests.len(), 4);
    for (k, request) in requests.iter().enumerate() {
        let prompt: Vec<&str> = request.body["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["content"].as_str().unwrap())
            .collect();
        assert_eq!(prompt.last(), Some(&format!("q{k}").as_str()), "{prompt:?}");
        for later in k + 1..4 {
            assert!(
                !prompt.contains(&format!("q{later}").as_str()),
                "{prompt:?}"
            );
        }
    }
    // The thread reads each answer after its question.
    let (_, messages) = send(server.get(
        &format!("/api/v1/messages?thread_uuid={thread}&per_page=100"),
        &ada.token,
    ))
    .await;
    let contents: Vec<&str> = messages["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(
        contents,
        ["q0", "a0 done", "q1", "a1", "q2", "a2", "q3", "a3"]
    );
}

#[tokio::test]
async fn a_run_whose_events_are_past_retention_is_not_found() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let thread = thread(&server, &ada, json!({})).await;
    let (status, body) = run(&server, &ada.token, &thread, json!({ "content": "hi" })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let run_id = body["run"]["uuid"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/runs/{run_id}/events");
    // Resuming after the last event answers nothing more, at once.
    let all = parse_sse(
        &server
            .get(&path, &ada.token)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    let last = all.last().unwrap().id;
    let rest = server
        .get(&path, &ada.token)
        .header("Last-Event-ID", last.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.status(), StatusCode::OK);
    assert_eq!(parse_sse(&rest.text().await.unwrap()), []);

    let later = spool_core::now() + chrono::Duration::days(31);
    server
        .spool
        .store()
        .delete_run_events(later, 1000)
        .await
        .unwrap();
    let (status, body) = send(server.get(&path, &ada.token)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    // The run and its reply stay.
    let (status, _) = send(server.get(&format!("/api/v1/runs/{run_id}"), &ada.token)).await;
    assert_eq!(status, StatusCode::OK);
}
