//! Runs outlive neither a crash nor a restart silently: a run the killed
//! process left in progress is marked failed when a single (SQLite) node
//! starts again, keeping the reply its client saw, and the thread takes new
//! runs. A run's events replay byte for byte after a restart.

use crate::support::{ADMIN_EMAIL, ADMIN_PASSWORD, Server, Site, client, sign_in};
use serde_json::{Value, json};
use spool_providers::testing::{Script, ScriptedUpstream};
use std::time::Duration;

#[tokio::test]
async fn a_run_cut_off_by_a_crash_is_failed_at_the_next_start() {
    // The reply stalls, and no timeout ends the run, until the SIGKILL.
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
            .env("SPOOL_ADMIN_PASSWORD", ADMIN_PASSWORD)
            // On PostgreSQL the dead node's lease must run out first.
            .env("SPOOL_RUN_LEASE_SECONDS", "2")
            .env("SPOOL_RUN_LEASE_RENEW_SECONDS", "1");
        crate::support::Server::start(command)
    };

    let server = serve();
    let token = sign_in(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let http = client();
    let thread: Value = http
        .post(server.url("/api/v1/threads"))
        .bearer_auth(&token)
        .json(&json!({ "name": "cut off" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let thread = thread["data"]["uuid"].as_str().unwrap().to_owned();
    let mut stream = http
        .post(server.url(&format!("/api/v1/threads/{thread}/run")))
        .bearer_auth(&token)
        .json(&json!({ "content": "take your time", "stream": true }))
        .send()
        .await
        .unwrap();
    let mut seen = String::new();
    while !seen.contains("message.delta") {
        let chunk = stream
            .chunk()
            .await
            .unwrap()
            .expect("events before the stall");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    let run = seen
        .lines()
        .find_map(|l| {
            l.strip_prefix("data: ")
                .and_then(|d| serde_json::from_str::<Value>(d).ok())
        })
        .and_then(|v| v["uuid"].as_str().map(str::to_owned))
        .expect("run.created first");
    server.kill();

    let server = serve();
    let token = sign_in(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    // A single SQLite node ends its predecessor's runs as it starts; on
    // PostgreSQL any node ends them once their lease has run out. Either
    // way the run's stream ends: following it waits for that.
    let replay = events_text(&http, &server, &token, &run).await;
    let body: Value = http
        .get(server.url(&format!("/api/v1/runs/{run}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let thread_now: Value = http
        .get(server.url(&format!("/api/v1/threads/{thread}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["data"]["status"], "failed", "{body}");
    assert!(body["data"]["error"].as_str().unwrap().contains("stopped"));
    assert_eq!(thread_now["data"]["status"], "idle");
    let logged = if std::env::var("SPOOL_TEST_BACKEND").as_deref() == Ok("postgres") {
        "ended runs whose node stopped"
    } else {
        "marked runs left unfinished"
    };
    assert!(server.stderr().contains(logged), "{}", server.stderr());
    // The reply the client had seen is kept, and the stream it was on
    // replays as it was, then ends.
    let reply = body["data"]["message_uuid"]
        .as_str()
        .expect("a partial reply");
    let message: Value = http
        .get(server.url(&format!("/api/v1/messages/{reply}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(message["data"]["content"], "thinking ", "{message}");
    assert_eq!(message["data"]["metadata"]["finish_reason"], "error");
    let before = without_comments(&seen);
    let cut = before.rfind("\n\n").expect("whole events") + 2;
    assert!(
        replay.starts_with(&before[..cut]),
        "{replay}\n---\n{before}"
    );
    let names: Vec<&str> = replay
        .lines()
        .filter_map(|l| l.strip_prefix("event: "))
        .collect();
    assert_eq!(
        names[names.len() - 3..],
        ["message.completed", "run.failed", "done"]
    );
}

/// A stream's text without comment lines (heartbeats).
fn without_comments(text: &str) -> String {
    text.split_inclusive('\n')
        .filter(|line| !line.starts_with(':'))
        .collect()
}

async fn events_text(http: &reqwest::Client, server: &Server, token: &str, run: &str) -> String {
    let text = http
        .get(server.url(&format!("/api/v1/runs/{run}/events")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    without_comments(&text)
}

#[tokio::test]
async fn a_runs_events_replay_byte_for_byte_after_a_restart() {
    let site = Site::new().await;
    let server = site.serve();
    let token = sign_in(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let http = client();
    let thread: Value = http
        .post(server.url("/api/v1/threads"))
        .bearer_auth(&token)
        .json(&json!({ "name": "replayed" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let thread = thread["data"]["uuid"].as_str().unwrap().to_owned();
    let streamed = http
        .post(server.url(&format!("/api/v1/threads/{thread}/run")))
        .bearer_auth(&token)
        .json(&json!({ "content": "say this back", "stream": true }))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let streamed = without_comments(&streamed);
    let run = streamed
        .lines()
        .find_map(|l| l.strip_prefix("data: "))
        .and_then(|d| serde_json::from_str::<Value>(d).ok())
        .and_then(|v| v["uuid"].as_str().map(str::to_owned))
        .expect("run.created first");
    assert!(streamed.contains("event: done"), "{streamed}");
    server.terminate();

    let server = site.serve();
    let token = sign_in(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(events_text(&http, &server, &token, &run).await, streamed);
}
