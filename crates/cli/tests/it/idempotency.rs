//! An `Idempotency-Key` survives a SIGKILL: a keyed run cut off by a crash
//! is neither stuck ("still in progress" for a day) nor run a second time
//! when the client retries after the restart.

use crate::support::{ADMIN_EMAIL, ADMIN_PASSWORD, Server, Site, client, sign_in};
use reqwest::StatusCode;
use serde_json::{Value, json};
use spool_providers::testing::{Script, ScriptedUpstream};
use std::time::Duration;

fn postgres() -> bool {
    std::env::var("SPOOL_TEST_BACKEND").as_deref() == Ok("postgres")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_keyed_run_cut_off_by_sigkill_is_resumed_not_repeated() {
    let upstream = ScriptedUpstream::start([Script::stall_mid_stream(
        ["thinking "],
        Duration::from_secs(3600),
    )])
    .await;
    let site = Site::new().await;
    let config = site.dir.path().join("spool.toml");
    std::fs::write(
        &config,
        format!(
            "default_model = \"slow\"\n\n[[providers]]\nkind = \"openai\"\nname = \"scripted\"\nbase_url = \"{}\"\nmax_retries = 0\ntimeouts = {{ first_token_secs = 3600, between_chunks_secs = 3600 }}\n\n[[models]]\nname = \"slow\"\nprovider = \"scripted\"\ncontext_window = 8000\n",
            upstream.openai_base_url()
        ),
    )
    .unwrap();
    let serve = || {
        let mut command = site.spool();
        command
            .env("SPOOL_CONFIG", &config)
            .env("SPOOL_ADMIN_EMAIL", ADMIN_EMAIL)
            .env("SPOOL_ADMIN_PASSWORD", ADMIN_PASSWORD);
        Server::start(command)
    };

    let server = serve();
    let token = sign_in(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let http = client();
    let thread: Value = http
        .post(server.url("/api/v1/threads"))
        .bearer_auth(&token)
        .json(&json!({ "name": "keyed" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let thread = thread["data"]["uuid"].as_str().unwrap().to_owned();
    let run_path = format!("/api/v1/threads/{thread}/run");
    let body = json!({ "content": "only once, please" });
    let keyed = |server: &Server| {
        http.post(server.url(&run_path))
            .bearer_auth(&token)
            .header("Idempotency-Key", "crash-run")
            .json(&body)
    };

    // The first request waits for a reply that never comes.
    let first = tokio::spawn(keyed(&server).send());
    // The model was called, so the run was admitted.
    upstream.wait_for_requests(1).await;
    let (status, _) = answer(keyed(&server)).await;
    assert_eq!(status, StatusCode::CONFLICT, "while the first still runs");
    server.kill();
    let _ = first.await;

    let server = serve();
    let token = sign_in(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let keyed = |server: &Server| {
        http.post(server.url(&run_path))
            .bearer_auth(&token)
            .header("Idempotency-Key", "crash-run")
            .json(&body)
    };
    // A single SQLite node frees its claims at start; PostgreSQL nodes wait
    // for the dead node's lease (30 s) to run out: this loop waits on that
    // event, bounded by a count of looks.
    let mut retried = None;
    for _ in 0..1_200 {
        let (status, answer) = answer(keyed(&server)).await;
        if status != StatusCode::CONFLICT {
            retried = Some((status, answer));
            break;
        }
        assert!(postgres(), "SQLite frees the claim at start: {answer}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, answer) = retried.expect("the claim was freed");
    assert_eq!(status, StatusCode::OK, "{answer}");
    if !postgres() {
        assert_eq!(answer["run"]["status"], "failed", "{answer}");
    }
    assert_eq!(
        upstream.request_count(),
        1,
        "the model was not called again"
    );

    let runs: Value = http
        .get(server.url(&format!("/api/v1/threads/{thread}/runs")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(runs["data"].as_array().unwrap().len(), 1, "{runs}");
    assert_eq!(runs["data"][0]["uuid"], answer["run"]["uuid"]);
    let messages: Value = http
        .get(server.url(&format!("/api/v1/messages?thread_uuid={thread}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let users = messages["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "user")
        .count();
    assert_eq!(users, 1, "the user message was stored once: {messages}");

    // And from now on the key replays that answer.
    let sent = keyed(&server).send().await;
    let Ok(response) = sent else {
        panic!("{sent:?}\n{}", server.stderr());
    };
    let (status, again) = answer_replayed(response).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again, answer);
}

async fn answer(request: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.expect("request");
    let status = response.status();
    assert!(!status.is_server_error(), "a 5xx is a bug: {status}");
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn answer_replayed(response: reqwest::Response) -> (StatusCode, Value) {
    assert_eq!(response.headers()["idempotent-replayed"], "true");
    (response.status(), response.json().await.unwrap())
}
