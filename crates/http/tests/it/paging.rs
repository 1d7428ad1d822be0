//! Lists: Laravel page mode, keyset cursor mode, and cursor walks that stay
//! exact while other requests keep inserting.

use crate::fixtures::{message, thread, unlimited, uuid, uuids};
use crate::{Account, TestServer, assert_invalid, send};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};

async fn threads(server: &TestServer, account: &Account, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(uuid(&thread(server, account, &format!("t{i}")).await));
    }
    ids
}

async fn page(server: &TestServer, token: &str, path: &str) -> Value {
    let (status, body) = send(server.get(path, token)).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body
}

#[tokio::test]
async fn page_mode_meta_and_links_are_laravels() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let all = threads(&server, &ada, 7).await;
    let base = "/api/v1/threads";

    let first = page(&server, &ada.token, &format!("{base}?per_page=3")).await;
    assert_eq!(
        first["meta"],
        json!({ "current_page": 1, "from": 1, "last_page": 3, "path": base, "per_page": 3, "to": 3, "total": 7 })
    );
    assert_eq!(first["links"]["first"], format!("{base}?page=1&per_page=3"));
    assert_eq!(first["links"]["last"], format!("{base}?page=3&per_page=3"));
    assert_eq!(first["links"]["prev"], Value::Null);
    assert_eq!(first["links"]["next"], format!("{base}?page=2&per_page=3"));

    let second = page(
        &server,
        &ada.token,
        first["links"]["next"].as_str().unwrap(),
    )
    .await;
    assert_eq!(second["meta"]["current_page"], 2);
    assert_eq!(
        (second["meta"]["from"].clone(), second["meta"]["to"].clone()),
        (json!(4), json!(6))
    );
    assert_eq!(second["links"]["prev"], format!("{base}?page=1&per_page=3"));
    let third = page(
        &server,
        &ada.token,
        second["links"]["next"].as_str().unwrap(),
    )
    .await;
    assert_eq!(
        (third["meta"]["from"].clone(), third["meta"]["to"].clone()),
        (json!(7), json!(7))
    );
    assert_eq!(third["links"]["next"], Value::Null);

    let mut seen: Vec<String> = [&first, &second, &third]
        .iter()
        .flat_map(|p| uuids(p))
        .collect();
    assert_eq!(seen.len(), 7);
    seen.sort();
    let mut expected = all.clone();
    expected.sort();
    assert_eq!(seen, expected, "every thread on exactly one page");

    let beyond = page(&server, &ada.token, &format!("{base}?per_page=3&page=9")).await;
    assert_eq!(beyond["data"], json!([]));
    assert_eq!(beyond["meta"]["from"], Value::Null);
    assert_eq!(beyond["meta"]["to"], Value::Null);
    assert_eq!(beyond["meta"]["total"], 7);

    // Links keep the sort, order and filters of the list they continue.
    let sorted = format!("{base}?per_page=3&sort=created_at&order=asc");
    let first = page(&server, &ada.token, &sorted).await;
    assert_eq!(uuids(&first), all[..3]);
    let next = first["links"]["next"].as_str().unwrap();
    assert_eq!(
        uuids(&page(&server, &ada.token, next).await),
        all[3..6],
        "{next}"
    );
    let last = first["links"]["last"].as_str().unwrap();
    assert_eq!(
        uuids(&page(&server, &ada.token, last).await),
        all[6..],
        "{last}"
    );

    let default = page(&server, &ada.token, base).await;
    assert_eq!(default["meta"]["per_page"], 15);
    assert_eq!(default["meta"]["last_page"], 1);
    for (query, field) in [
        ("per_page=0", "per_page"),
        ("per_page=101", "per_page"),
        ("page=0", "page"),
        ("page=x", "page"),
    ] {
        let (status, body) = send(server.get(&format!("{base}?{query}"), &ada.token)).await;
        assert_invalid(status, &body, field);
    }
}

/// Follows `next_cursor` from `start` to the end; answers every page.
async fn walk(server: &TestServer, token: &str, start: &str) -> Vec<Value> {
    let mut pages = Vec::new();
    let mut path = format!("{start}&cursor=");
    loop {
        let body = page(server, token, &path).await;
        let next = body["meta"]["next_cursor"].as_str().map(str::to_owned);
        pages.push(body);
        assert!(pages.len() < 500, "the walk does not end");
        match next {
            Some(cursor) => path = format!("{start}&cursor={cursor}"),
            None => return pages,
        }
    }
}

#[tokio::test]
async fn cursor_mode_walks_every_thread_once_and_prev_leads_back() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let all = threads(&server, &ada, 12).await;
    let base = "/api/v1/threads?per_page=5&sort=created_at&order=asc";

    let first = page(&server, &ada.token, &format!("{base}&cursor=")).await;
    assert_eq!(first["meta"]["per_page"], 5);
    assert_eq!(first["meta"]["path"], "/api/v1/threads");
    assert_eq!(first["meta"]["prev_cursor"], Value::Null);
    assert!(
        first["meta"].get("total").is_none(),
        "keyset pages do not count: {first}"
    );
    assert_eq!(uuids(&first), all[..5]);

    let pages = walk(&server, &ada.token, base).await;
    assert_eq!(pages.len(), 3);
    let walked: Vec<String> = pages.iter().flat_map(uuids).collect();
    assert_eq!(walked, all, "every thread once, in order");
    assert_eq!(pages[2]["meta"]["next_cursor"], Value::Null);

    // prev_cursor of the second page leads back to the first page.
    let second = page(
        &server,
        &ada.token,
        &format!(
            "{base}&cursor={}",
            first["meta"]["next_cursor"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(uuids(&second), all[5..10]);
    let prev = second["meta"]["prev_cursor"]
        .as_str()
        .expect("a prev_cursor");
    let back = page(&server, &ada.token, &format!("{base}&cursor={prev}")).await;
    assert_eq!(uuids(&back), all[..5]);
    assert_eq!(
        back["meta"]["prev_cursor"],
        Value::Null,
        "the first page has nothing before it"
    );
    assert_eq!(back["meta"]["next_cursor"], first["meta"]["next_cursor"]);
    // Following the links continues the same list (same sort and order).
    let next_link = second["links"]["next"].as_str().unwrap();
    let third = page(&server, &ada.token, next_link).await;
    assert_eq!(uuids(&third), all[10..], "{next_link}");
    let prev_link = second["links"]["prev"].as_str().unwrap();
    let back = page(&server, &ada.token, prev_link).await;
    assert_eq!(uuids(&back), all[..5], "{prev_link}");
    let prev = third["meta"]["prev_cursor"].as_str().unwrap();
    let back = page(&server, &ada.token, &format!("{base}&cursor={prev}")).await;
    assert_eq!(uuids(&back), all[5..10]);

    let (status, body) = send(server.get("/api/v1/threads?cursor=not-ours", &ada.token)).await;
    assert_invalid(status, &body, "cursor");
}

#[tokio::test]
async fn message_cursors_walk_the_thread_in_order() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let id = uuid(&thread(&server, &ada, "t").await);
    let mut created = Vec::new();
    for n in 0..11 {
        created.push(uuid(
            &message(
                &server,
                &ada.token,
                &id,
                json!({ "content": format!("m{n}") }),
            )
            .await,
        ));
    }
    let base = format!("/api/v1/messages?thread_uuid={id}&per_page=4");
    let walked: Vec<String> = walk(&server, &ada.token, &base)
        .await
        .iter()
        .flat_map(uuids)
        .collect();
    assert_eq!(walked, created);
    let desc = format!("{base}&order=desc");
    let walked: Vec<String> = walk(&server, &ada.token, &desc)
        .await
        .iter()
        .flat_map(uuids)
        .collect();
    let mut reversed = created.clone();
    reversed.reverse();
    assert_eq!(walked, reversed);

    // A message list's links keep the thread they list.
    let first = page(&server, &ada.token, &format!("{base}&cursor=")).await;
    let next = first["links"]["next"].as_str().unwrap();
    assert_eq!(
        uuids(&page(&server, &ada.token, next).await),
        created[4..8],
        "{next}"
    );
    let first = page(&server, &ada.token, &base).await;
    let next = first["links"]["next"].as_str().unwrap();
    assert_eq!(
        uuids(&page(&server, &ada.token, next).await),
        created[4..8],
        "{next}"
    );
}

/// Walks `base` in cursor mode while another task keeps creating threads,
/// at least one between any two pages.
async fn walk_during_inserts(
    server: &TestServer,
    account: &Account,
    base: &str,
) -> (Vec<String>, usize) {
    let (created_tx, mut created_rx) = tokio::sync::mpsc::channel::<String>(1);
    let writer = {
        let client = server.client.clone();
        let url = format!("{}/api/v1/threads", server.base);
        let token = account.token.clone();
        tokio::spawn(async move {
            let mut n = 0;
            loop {
                let response = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&json!({ "name": format!("concurrent {n}") }))
                    .send()
                    .await
                    .expect("create");
                assert_eq!(response.status(), StatusCode::CREATED);
                let body: Value = response.json().await.expect("json");
                n += 1;
                if created_tx.send(uuid(&body["data"])).await.is_err() {
                    return n;
                }
            }
        })
    };
    let mut seen = Vec::new();
    let mut path = format!("{base}&cursor=");
    loop {
        let body = page(server, &account.token, &path).await;
        seen.extend(uuids(&body));
        // Let the writer insert before the next page is read.
        created_rx.recv().await.expect("the writer is running");
        assert!(seen.len() < 5_000, "the walk does not end");
        match body["meta"]["next_cursor"].as_str() {
            Some(cursor) => path = format!("{base}&cursor={cursor}"),
            None => break,
        }
    }
    drop(created_rx);
    let inserted = writer.await.expect("writer");
    (seen, inserted)
}

#[tokio::test]
async fn cursor_walks_are_exact_while_threads_are_inserted() {
    let server = unlimited().await;
    let ada = server.account("ada@example.com").await;
    let before: HashSet<String> = threads(&server, &ada, 40).await.into_iter().collect();
    for base in [
        "/api/v1/threads?per_page=6",
        "/api/v1/threads?per_page=6&sort=created_at&order=desc",
        "/api/v1/threads?per_page=6&sort=created_at&order=asc",
    ] {
        let (seen, inserted) = walk_during_inserts(&server, &ada, base).await;
        assert!(
            inserted >= 7,
            "{base}: the writer ran between pages ({inserted})"
        );
        let mut times: HashMap<&String, usize> = HashMap::new();
        for id in &seen {
            *times.entry(id).or_default() += 1;
        }
        let repeated: Vec<_> = times.iter().filter(|(_, n)| **n > 1).collect();
        assert!(repeated.is_empty(), "{base}: seen twice: {repeated:?}");
        let missed: Vec<_> = before.iter().filter(|id| !times.contains_key(id)).collect();
        assert!(missed.is_empty(), "{base}: skipped: {missed:?}");
    }
}

#[tokio::test]
async fn links_keep_the_workspace_they_list() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let (status, second) = send(server.post(
        "/api/v1/workspaces",
        &ada.token,
        json!({ "name": "Second" }),
    ))
    .await;
    assert_eq!(status, StatusCode::CREATED, "{second}");
    let second = uuid(&second["data"]);
    crate::fixtures::agent(&server, &ada, json!({ "name": "in the primary" })).await;
    let mut agents = Vec::new();
    let mut threads = Vec::new();
    for n in 0..3 {
        let body = json!({ "name": format!("second {n}") });
        agents.push(uuid(
            &crate::fixtures::agent_in(&server, &ada.token, &second, body.clone()).await,
        ));
        threads.push(uuid(
            &crate::fixtures::thread_in(&server, &ada.token, &second, body).await,
        ));
    }
    for (list, expected) in [("agents", &agents), ("threads", &threads)] {
        let path = format!("/api/v1/{list}?workspace_uuid={second}&per_page=2");
        let first = page(&server, &ada.token, &path).await;
        assert_eq!(first["meta"]["total"], 3, "{first}");
        let next = first["links"]["next"].as_str().unwrap();
        let rest = page(&server, &ada.token, next).await;
        assert_eq!(rest["meta"]["total"], 3, "{next}: {rest}");
        let mut seen: Vec<String> = uuids(&first).into_iter().chain(uuids(&rest)).collect();
        seen.sort();
        let mut expected = expected.clone();
        expected.sort();
        assert_eq!(seen, expected, "{list}");
    }
}
