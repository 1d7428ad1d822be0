//! Three spool processes on one PostgreSQL database, as several nodes run:
//! any node follows any run (the streams are byte-equal), a cancel sent to
//! one node stops the run on the node executing it, a node killed mid-run
//! leaves its run failed with its partial reply once its lease runs out and
//! the run queued behind it completes elsewhere, a client cut off at any
//! event resumes on another node with `Last-Event-ID`, and tool outputs sent
//! to one node continue the run another node executes.
//!
//! PostgreSQL only (`SPOOL_TEST_BACKEND=postgres`, as scripts/test runs it):
//! one SQLite database takes one server.

use crate::support::{ADMIN_EMAIL, ADMIN_PASSWORD, Server, Site, client, sign_in};
use rand::Rng;
use serde_json::{Value, json};
use spool_providers::testing::{Script, ScriptedUpstream};
use std::time::Duration;

/// A stall no test outlasts: only a cancel or a crash ends it.
const FOREVER: Duration = Duration::from_secs(3600);

struct Cluster {
    http: reqwest::Client,
    token: String,
    nodes: Vec<Option<Server>>,
}

impl Cluster {
    fn node(&self, k: usize) -> &Server {
        self.nodes[k].as_ref().expect("running")
    }

    async fn post(&self, k: usize, path: &str, body: Value) -> reqwest::Response {
        self.http
            .post(self.node(k).url(path))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    async fn get(&self, k: usize, path: &str) -> Value {
        self.http
            .get(self.node(k).url(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// `GET /api/v1/runs/{run}/events` on node `k` after `last`, to its end.
    async fn events(&self, k: usize, run: &str, last: u64) -> String {
        let text = self
            .http
            .get(self.node(k).url(&format!("/api/v1/runs/{run}/events")))
            .bearer_auth(&self.token)
            .header("Last-Event-ID", last.to_string())
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        without_comments(&text)
    }

    async fn thread(&self) -> String {
        let live = self.nodes.iter().position(Option::is_some).expect("a node");
        let body: Value = self
            .post(live, "/api/v1/threads", json!({ "name": "nodes" }))
            .await
            .json()
            .await
            .unwrap();
        body["data"]["uuid"].as_str().unwrap().to_owned()
    }

    /// Starts a streamed run on node `k` and reads it up to `marker`.
    async fn start(&self, k: usize, thread: &str, body: Value, marker: &str) -> Stream {
        let mut response = self
            .post(k, &format!("/api/v1/threads/{thread}/run"), body)
            .await;
        let mut seen = String::new();
        read_until(&mut response, &mut seen, marker).await;
        let run = first_run_id(&seen);
        Stream {
            response,
            seen,
            run,
        }
    }
}

struct Stream {
    response: reqwest::Response,
    seen: String,
    run: String,
}

impl Stream {
    async fn rest(mut self) -> String {
        while let Some(chunk) = self.response.chunk().await.unwrap() {
            self.seen.push_str(&String::from_utf8_lossy(&chunk));
        }
        without_comments(&self.seen)
    }
}

fn without_comments(text: &str) -> String {
    text.split_inclusive('\n')
        .filter(|line| !line.starts_with(':'))
        .collect()
}

async fn read_until(response: &mut reqwest::Response, seen: &mut String, marker: &str) {
    while !seen.contains(marker) {
        let chunk = response.chunk().await.unwrap();
        let chunk = chunk.unwrap_or_else(|| panic!("the stream ended before {marker}: {seen}"));
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
}

fn first_run_id(seen: &str) -> String {
    seen.lines()
        .find_map(|l| l.strip_prefix("data: "))
        .and_then(|d| serde_json::from_str::<Value>(d).ok())
        .and_then(|v| v["uuid"].as_str().map(str::to_owned))
        .expect("run.created first")
}

/// (id, whole event text) of each complete event in a stream's text.
fn blocks(text: &str) -> Vec<(u64, String)> {
    text.split_inclusive("\n\n")
        .filter(|block| block.ends_with("\n\n"))
        .filter_map(|block| {
            let id = block.lines().find_map(|l| l.strip_prefix("id: "))?;
            Some((id.trim().parse().ok()?, block.to_owned()))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn three_nodes_share_every_run() {
    if std::env::var("SPOOL_TEST_BACKEND").as_deref() != Ok("postgres") {
        return;
    }
    let upstream = ScriptedUpstream::start([
        // 0: a client function answered through another node.
        Script::tool_calls([("call_n", "get_weather", "{}")]),
        Script::reply(["sunny ", "there"]),
        // 1: followed from every node.
        Script::held(["one ", "two "], ["three ", "four"]),
        // 2: cancelled through another node.
        Script::stall_mid_stream(["stalled "], FOREVER),
        // 3: its node is killed; 4: queued behind it, completes elsewhere.
        Script::stall_mid_stream(["thinking "], FOREVER),
        Script::reply(["after ", "the ", "crash"]),
        // 5: cut off and resumed on another node.
        Script::held(["a ", "b ", "c "], ["d ", "e ", "f"]),
    ])
    .await;
    let site = Site::new().await;
    let config = site.dir.path().join("spool.toml");
    std::fs::write(
        &config,
        format!(
            "default_model = \"scripted\"\n\n[[providers]]\nkind = \"openai\"\nname = \"scripted\"\nbase_url = \"{}\"\nmax_retries = 0\ntimeouts = {{ first_token_secs = 3600, between_chunks_secs = 3600 }}\n\n[[models]]\nname = \"scripted\"\nprovider = \"scripted\"\ncontext_window = 8000\n",
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
            .env("SPOOL_RATE_LIMIT_PER_SECOND", "0")
            .env("SPOOL_RUN_LEASE_SECONDS", "3")
            .env("SPOOL_RUN_LEASE_RENEW_SECONDS", "1");
        Server::start(command)
    };
    // The first start creates the owner; the others find it.
    let a = serve();
    let nodes = vec![Some(a), Some(serve()), Some(serve())];
    let token = sign_in(nodes[0].as_ref().unwrap(), ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let cluster = Cluster {
        http: client(),
        token,
        nodes,
    };

    // A run on B waits for a client function; the outputs sent to C reach
    // it (C stores them, B sees them in the store) and B finishes the run.
    let thread = cluster.thread().await;
    let on_b = cluster
        .start(
            1,
            &thread,
            json!({ "content": "weather?", "stream": true,
                    "tools": [{ "type": "function", "name": "get_weather" }] }),
            "event: run.requires_action",
        )
        .await;
    let run = on_b.run.clone();
    let answered: Value = cluster
        .post(
            2,
            &format!("/api/v1/runs/{run}/tool-outputs"),
            json!({ "tool_outputs": [{ "tool_call_id": "call_n", "output": "sunny" }] }),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(answered["run"]["status"], "completed", "{answered}");
    assert_eq!(answered["data"]["content"], "sunny there");
    let on_b = on_b.rest().await;
    assert!(on_b.contains("event: tool_call.completed"), "{on_b}");
    assert!(on_b.contains("event: run.completed"), "{on_b}");

    // A run started through A, followed from B and C: three equal streams.
    let thread = cluster.thread().await;
    let on_a = cluster
        .start(
            0,
            &thread,
            json!({ "content": "count", "stream": true }),
            "message.delta",
        )
        .await;
    let run = on_a.run.clone();
    let followers: Vec<_> = [1, 2]
        .into_iter()
        .map(|k| {
            let (http, token) = (cluster.http.clone(), cluster.token.clone());
            let url = cluster.node(k).url(&format!("/api/v1/runs/{run}/events"));
            tokio::spawn(async move {
                let mut response = http.get(url).bearer_auth(token).send().await.unwrap();
                let mut seen = String::new();
                // Attached (it has the events so far) before the rest comes.
                read_until(&mut response, &mut seen, "message.delta").await;
                Stream {
                    response,
                    seen,
                    run: String::new(),
                }
            })
        })
        .collect();
    let mut attached = Vec::new();
    for follower in followers {
        attached.push(follower.await.unwrap());
    }
    upstream.release();
    let on_a = on_a.rest().await;
    assert!(on_a.contains("event: done"), "{on_a}");
    for follower in attached {
        assert_eq!(follower.rest().await, on_a, "a follower on another node");
    }

    // A cancel sent to C stops the run A executes.
    let thread = cluster.thread().await;
    let on_a = cluster
        .start(
            0,
            &thread,
            json!({ "content": "stall", "stream": true }),
            "message.delta",
        )
        .await;
    let run = on_a.run.clone();
    let cancelled: Value = cluster
        .post(2, &format!("/api/v1/runs/{run}/cancel"), json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(cancelled["data"]["status"], "cancelled", "{cancelled}");
    let on_a = on_a.rest().await;
    assert!(on_a.contains("event: run.cancelled"), "{on_a}");
    let read = cluster.get(1, &format!("/api/v1/runs/{run}")).await;
    assert_eq!(read["data"]["status"], "cancelled");

    // A is killed mid-run: its run fails with the reply it had sent once its
    // lease runs out, and the run queued behind it completes on another node.
    let thread = cluster.thread().await;
    let on_a = cluster
        .start(
            0,
            &thread,
            json!({ "content": "think", "stream": true }),
            "message.delta",
        )
        .await;
    let doomed = on_a.run.clone();
    let queued = cluster
        .start(
            1,
            &thread,
            json!({ "content": "next", "multitask": "enqueue", "stream": true }),
            "run.created",
        )
        .await;
    let mut cluster = cluster;
    cluster.nodes[0].take().expect("A").kill();
    drop(on_a);
    let queued_run = queued.run.clone();
    let rest = queued.rest().await;
    assert!(rest.contains("event: run.completed"), "{rest}");
    let doomed_now = cluster.get(1, &format!("/api/v1/runs/{doomed}")).await;
    assert_eq!(doomed_now["data"]["status"], "failed", "{doomed_now}");
    assert!(
        doomed_now["data"]["error"]
            .as_str()
            .unwrap()
            .contains("stopped"),
        "{doomed_now}"
    );
    let reply = doomed_now["data"]["message_uuid"]
        .as_str()
        .expect("partial reply");
    let message = cluster.get(2, &format!("/api/v1/messages/{reply}")).await;
    assert_eq!(message["data"]["content"], "thinking ", "{message}");
    let next = cluster.get(2, &format!("/api/v1/runs/{queued_run}")).await;
    assert_eq!(next["data"]["status"], "completed", "{next}");
    let messages = cluster
        .get(2, &format!("/api/v1/messages?thread_uuid={thread}"))
        .await;
    let contents: Vec<&str> = messages["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(contents, ["think", "thinking ", "next", "after the crash"]);

    // A client cut off at a random event of a live run resumes on another
    // node; what it read and what it resumed make the uninterrupted stream.
    let thread = cluster.thread().await;
    let on_b = cluster
        .start(
            1,
            &thread,
            json!({ "content": "letters", "stream": true }),
            "message.delta",
        )
        .await;
    let run = on_b.run.clone();
    let read = blocks(&on_b.seen);
    let cut = rand::rng().random_range(0..read.len());
    let last = read[cut].0;
    let before: String = read[..=cut].iter().map(|(_, b)| b.as_str()).collect();
    drop(on_b);
    let resumed = {
        let (http, token) = (cluster.http.clone(), cluster.token.clone());
        let url = cluster.node(2).url(&format!("/api/v1/runs/{run}/events"));
        tokio::spawn(async move {
            let text = http
                .get(url)
                .bearer_auth(token)
                .header("Last-Event-ID", last.to_string())
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            without_comments(&text)
        })
    };
    upstream.release();
    let resumed = resumed.await.unwrap();
    let whole = cluster.events(1, &run, 0).await;
    assert!(whole.contains("event: done"), "{whole}");
    assert_eq!(
        format!("{before}{resumed}"),
        whole,
        "cut after event {last}"
    );
}
