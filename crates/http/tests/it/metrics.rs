//! Metrics: counts per day, week and month of what was created.

use crate::fixtures::{agent, message, thread_in, uuid};
use crate::{TestServer, assert_invalid, send};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The period's first instant as athena renders it.
fn period_start(period: &str, created_at: &Value) -> String {
    let at: DateTime<Utc> = created_at
        .as_str()
        .expect("created_at")
        .parse()
        .expect("RFC 3339");
    let date = at.date_naive();
    let first = match period {
        "day" => date,
        "week" => date - Duration::days(i64::from(date.weekday().num_days_from_monday())),
        "month" => NaiveDate::from_ymd_opt(date.year(), date.month(), 1).unwrap(),
        other => panic!("{other}"),
    };
    format!("{}T00:00:00.000000Z", first.format("%Y-%m-%d"))
}

/// Counts per period of the given creation times.
fn expected(period: &str, created: &[Value]) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for at in created {
        *counts.entry(period_start(period, at)).or_default() += 1;
    }
    counts
}

/// The non-zero points of a series, after checking its form.
fn points(body: &Value, period: &str) -> BTreeMap<String, u64> {
    assert_eq!(body["meta"]["period"], period, "{body}");
    let data = body["data"].as_array().expect("data");
    assert!(
        !data.is_empty(),
        "every period of the range is listed: {body}"
    );
    let mut starts: Vec<&str> = data
        .iter()
        .map(|p| p["period_start"].as_str().unwrap())
        .collect();
    let sorted = {
        let mut s = starts.clone();
        s.sort();
        s
    };
    assert_eq!(starts, sorted, "in order");
    starts.dedup();
    assert_eq!(starts.len(), data.len(), "each period once");
    let total: u64 = data.iter().map(|p| p["count"].as_u64().unwrap()).sum();
    assert_eq!(body["meta"]["total"], total);
    data.iter()
        .filter(|p| p["count"] != 0)
        .map(|p| {
            (
                p["period_start"].as_str().unwrap().to_owned(),
                p["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn series_count_what_was_created_per_period() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let eve = server.account("eve@example.com").await;
    let workspace = ada.workspace.to_string();
    // Eve's activity is in another workspace and must not be counted.
    let eves = thread_in(
        &server,
        &eve.token,
        &eve.workspace.to_string(),
        json!({ "name": "e" }),
    )
    .await;
    message(&server, &eve.token, &uuid(&eves), json!({ "content": "e" })).await;
    agent(&server, &eve, json!({ "name": "e" })).await;

    let agents = vec![
        agent(&server, &ada, json!({ "name": "A" })).await,
        agent(&server, &ada, json!({ "name": "B" })).await,
    ];
    let with_agent = uuid(&agents[0]);
    let mut threads = Vec::new();
    for n in 0..3 {
        let body = if n < 2 {
            json!({ "name": format!("t{n}"), "agent_uuid": with_agent })
        } else {
            json!({ "name": "no agent" })
        };
        threads.push(thread_in(&server, &ada.token, &workspace, body).await);
    }
    let mut messages = Vec::new();
    for n in 0..4 {
        let thread = uuid(&threads[n % 3]);
        messages.push(
            message(
                &server,
                &ada.token,
                &thread,
                json!({ "content": format!("m{n}") }),
            )
            .await,
        );
    }
    let times = |items: &[Value]| {
        items
            .iter()
            .map(|i| i["created_at"].clone())
            .collect::<Vec<_>>()
    };

    for (subject, created) in [
        ("threads", times(&threads)),
        ("messages", times(&messages)),
        ("agents", times(&agents)),
    ] {
        for period in ["day", "week", "month"] {
            let path = format!("/api/v1/metrics/{subject}?period={period}");
            let (status, body) = send(server.get(&path, &ada.token)).await;
            assert_eq!(status, StatusCode::OK, "{path}: {body}");
            assert_eq!(
                points(&body, period),
                expected(period, &created),
                "{path}: {body}"
            );
            assert_eq!(body["meta"]["total"], created.len(), "{path}");
            let tokens = body["data"][0].get("total_tokens");
            assert_eq!(
                tokens.is_some(),
                subject == "messages",
                "{path}: token sums for messages only"
            );
        }
    }
    let (_, body) = send(server.get("/api/v1/metrics/threads", &ada.token)).await;
    assert_eq!(body["meta"]["period"], "day", "day by default");

    // Per agent: only the threads made with it.
    let path = format!("/api/v1/metrics/threads?agent_uuid={with_agent}");
    let (status, body) = send(server.get(&path, &ada.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(points(&body, "day"), expected("day", &times(&threads[..2])));

    // An API key of the workspace sees the same counts.
    let key = server.api_key(&ada).await;
    let (_, body) = send(server.get("/api/v1/metrics/messages?period=month", &key)).await;
    assert_eq!(body["meta"]["total"], 4);
}

#[tokio::test]
async fn bad_periods_and_ranges_answer_422() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    for subject in ["threads", "messages", "agents"] {
        for (query, field) in [
            ("period=year", "period"),
            ("period=", "period"),
            ("from=2026-02-02&to=2026-02-01", "from"),
            ("from=2026-02-01&to=2026-02-01", "from"),
            ("from=yesterday", "from"),
            ("to=2026-13-01", "to"),
            ("period=day&from=2000-01-01&to=2026-01-01", "from"),
        ] {
            let path = format!("/api/v1/metrics/{subject}?{query}");
            let (status, body) = send(server.get(&path, &ada.token)).await;
            assert_invalid(status, &body, field);
        }
        let path = format!("/api/v1/metrics/{subject}?period=week&from=2026-01-01&to=2026-03-01");
        let (status, body) = send(server.get(&path, &ada.token)).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        assert_eq!(
            body["data"][0]["period_start"], "2025-12-29T00:00:00.000000Z",
            "weeks start on Monday"
        );
        assert_eq!(body["meta"]["from"], "2026-01-01T00:00:00.000000Z");
        assert_eq!(body["meta"]["to"], "2026-03-01T00:00:00.000000Z");
        assert_eq!(body["meta"]["total"], 0);
    }
}

/// Runs the agent on a new thread (echo model); answers the reply's uuid
/// and the thread's.
async fn run_agent(server: &TestServer, token: &str, agent: &str) -> (String, String) {
    let (status, body) = send(server.post(
        &format!("/api/v1/agents/{agent}/run"),
        token,
        json!({"content": "Hello"}),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (
        body["data"]["uuid"].as_str().unwrap().to_owned(),
        body["run"]["thread_uuid"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn the_leaderboard_ranks_the_workspace_s_agents_and_workspace_metrics_count_runs() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let key = server.api_key(&ada).await;
    let busy = uuid(&agent(&server, &ada, json!({"name": "Busy"})).await);
    let liked = uuid(&agent(&server, &ada, json!({"name": "Liked"})).await);
    let idle = uuid(&agent(&server, &ada, json!({"name": "Idle"})).await);
    for _ in 0..3 {
        run_agent(&server, &ada.token, &busy).await;
    }
    let (reply, thread) = run_agent(&server, &ada.token, &liked).await;
    let (status, body) = send(
        server
            .request(
                reqwest::Method::POST,
                &format!("/api/v1/chat/{liked}/threads/{thread}/messages/{reply}/feedback"),
            )
            .header("x-api-key", &key)
            .json(&json!({"feedback_type": "positive"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let eve = server.account("eve@example.com").await;
    let elsewhere = uuid(&agent(&server, &eve, json!({"name": "Elsewhere"})).await);
    run_agent(&server, &eve.token, &elsewhere).await;

    let (status, board) = send(server.get("/api/v1/agents/leaderboard", &ada.token)).await;
    assert_eq!(status, StatusCode::OK, "{board}");
    assert_eq!(board["meta"]["sort"], "runs");
    let names: Vec<&str> = board["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Busy", "Liked", "Idle"], "{board}");
    let first = &board["data"][0];
    assert_eq!(
        (
            first["rank"].as_u64(),
            first["runs"].as_u64(),
            first["threads"].as_u64()
        ),
        (Some(1), Some(3), Some(3))
    );
    assert_eq!(first["agent_uuid"], busy.as_str());
    assert!(first["total_tokens"].as_u64().unwrap() > 0, "{first}");
    assert_eq!(board["data"][2]["agent_uuid"], idle.as_str());
    let (_, liked_first) = send(server.get(
        "/api/v1/agents/leaderboard?sort=positive_feedback&limit=1",
        &key,
    ))
    .await;
    assert_eq!(liked_first["data"].as_array().unwrap().len(), 1);
    assert_eq!(liked_first["data"][0]["name"], "Liked", "{liked_first}");
    assert_eq!(liked_first["data"][0]["positive_feedback"], 1);
    // A range that ended before anything happened counts nothing.
    let (_, past) = send(server.get(
        "/api/v1/agents/leaderboard?from=2020-01-01&to=2020-02-01",
        &ada.token,
    ))
    .await;
    assert!(
        past["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["runs"] == 0),
        "{past}"
    );

    for bad in [
        "sort=likes",
        "limit=0",
        "limit=101",
        "from=2021-01-02&to=2021-01-01",
        "from=yesterday",
    ] {
        let (status, body) =
            send(server.get(&format!("/api/v1/agents/leaderboard?{bad}"), &ada.token)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
    }
    let (status, _) = send(server.get("/api/v1/agents/leaderboard", "wrong")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = send(server.get(
        &format!(
            "/api/v1/agents/leaderboard?workspace_uuid={}",
            eve.workspace
        ),
        &ada.token,
    ))
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Workspace metrics: each of the caller's workspaces, with runs.
    let (status, metrics) =
        send(server.get("/api/v1/workspaces/metrics?period=week", &ada.token)).await;
    assert_eq!(status, StatusCode::OK, "{metrics}");
    assert_eq!(metrics["meta"]["period"], "week");
    let mine = metrics["data"].as_array().unwrap();
    assert_eq!(mine.len(), 1, "{metrics}");
    assert_eq!(mine[0]["workspace_uuid"], ada.workspace.to_string());
    let totals = &mine[0]["totals"];
    assert_eq!(
        (
            totals["threads"].as_u64(),
            totals["runs"].as_u64(),
            totals["messages"].as_u64()
        ),
        (Some(4), Some(4), Some(8)),
        "{totals}"
    );
    assert!(totals["total_tokens"].as_u64().unwrap() > 0);
    let runs: u64 = mine[0]["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["count"].as_u64().unwrap())
        .sum();
    assert_eq!(runs, 4);
    let (status, body) = send(server.get("/api/v1/workspaces/metrics?period=hour", &key)).await;
    assert_invalid(status, &body, "period");
    let (status, _) = send(server.get("/api/v1/workspaces/metrics", "wrong")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, keyed) = send(server.get("/api/v1/workspaces/metrics", &key)).await;
    assert_eq!(
        keyed["data"].as_array().unwrap().len(),
        1,
        "an API key sees its own workspace"
    );
}
