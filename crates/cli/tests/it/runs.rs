//! Runs outlive neither a crash nor a restart silently: a run the killed
//! process left in progress is marked failed when a single (SQLite) node
//! starts again, and the thread takes new runs.

use crate::support::{ADMIN_EMAIL, ADMIN_PASSWORD, Site, client, sign_in};
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
            .env("SPOOL_ADMIN_PASSWORD", ADMIN_PASSWORD);
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
    if std::env::var("SPOOL_TEST_BACKEND").as_deref() == Ok("postgres") {
        // Several nodes share a PostgreSQL database; one starting cannot
        // tell a dead node's runs from a live one's (docs/runs.md).
        assert_eq!(body["data"]["status"], "in_progress", "{body}");
    } else {
        assert_eq!(body["data"]["status"], "failed", "{body}");
        assert!(body["data"]["error"].as_str().unwrap().contains("stopped"));
        assert_eq!(thread_now["data"]["status"], "idle");
        assert!(server.stderr().contains("marked runs left unfinished"));
    }
}
