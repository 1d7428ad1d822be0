//! Message lists bounded in bytes (`list_page_max_bytes`): a page that
//! would pass the bound stops early, with at least one message and a way on
//! — athena's cursor and page modes, thena's thread read and message list,
//! freddy's message list — so that following it reads every message once,
//! in order. List items carry the compact thread, not the whole nest.

use crate::fixtures::{agent, message, uuid};
use crate::{Account, TestServer, send};
use reqwest::StatusCode;
use serde_json::{Value, json};

const BOUND: usize = 64 * 1024;

/// A thread of 12 messages: ~20 KiB of text each (about 40 KiB with its
/// HTML: one page holds one), a few short ones, and one bigger than the
/// whole bound. Answers the server, the account, the thread and the
/// messages' uuids in thread order.
async fn long_thread() -> (TestServer, Account, Value, Vec<String>) {
    let core = spool_core::SpoolConfig {
        rate_limit: None,
        list_page_max_bytes: BOUND,
        ..Default::default()
    };
    let server = TestServer::start_with(Default::default(), core).await;
    let ada = server.account("ada@example.com").await;
    let helper = agent(&server, &ada, json!({ "name": "Helper" })).await;
    let chat = crate::fixtures::thread_in(
        &server,
        &ada.token,
        &ada.workspace.to_string(),
        json!({ "name": "Long", "agent_uuid": uuid(&helper), "metadata": { "topic": "bytes" } }),
    )
    .await;
    let mut ids = Vec::new();
    for i in 0..12 {
        let content = match i {
            3 | 4 | 5 | 9 => format!("short {i}"),
            7 => "big ".repeat(50 * 1024),
            _ => format!("{i} ").repeat(10 * 1024),
        };
        let body = json!({ "content": content, "role": "user" });
        ids.push(uuid(
            &message(&server, &ada.token, &uuid(&chat), body).await,
        ));
    }
    (server, ada, chat, ids)
}

/// Follows `next` from `path` until it says the list ended; answers each
/// page's item ids (by `id_key`).
async fn walk(
    server: &TestServer,
    token: &str,
    path: String,
    id_key: &str,
    next: impl Fn(&Value) -> Option<String>,
) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut path = Some(path);
    while let Some(at) = path {
        assert!(pages.len() < 50, "no end in sight at {at}");
        let (status, body) = send(server.get(&at, token)).await;
        assert_eq!(status, StatusCode::OK, "{at}: {body}");
        let items = body["data"].as_array().expect("data");
        assert!(!items.is_empty(), "{at}: a page holds at least one item");
        pages.push(
            items
                .iter()
                .map(|m| m[id_key].as_str().expect("an id").to_owned())
                .collect(),
        );
        path = next(&body);
    }
    pages
}

/// Every message once, in order, over pages of which some were cut short.
fn assert_read_once(pages: &[Vec<String>], ids: &[String]) {
    let flat: Vec<String> = pages.concat();
    assert_eq!(flat, ids, "pages {pages:?}");
    assert!(pages.len() >= 6, "the bound cut the list: {pages:?}");
    assert!(pages.iter().all(|p| p.len() <= 4), "{pages:?}");
}

fn athena_next(body: &Value) -> Option<String> {
    body["links"]["next"].as_str().map(str::to_owned)
}

#[tokio::test]
async fn athena_cursor_pages_stop_at_the_bound_and_carry_the_compact_thread() {
    let (server, ada, chat, ids) = long_thread().await;
    let first = format!(
        "/api/v1/messages?thread_uuid={}&cursor=&per_page=100",
        uuid(&chat)
    );
    let (status, body) = send(server.get(&first, &ada.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["meta"]["next_cursor"].is_string(), "{}", body["meta"]);
    assert_eq!(body["meta"]["per_page"], 100);
    let item = &body["data"][0];
    assert_eq!(item["thread"]["uuid"], chat["uuid"]);
    assert_eq!(item["thread"]["name"], "Long");
    assert_eq!(item["thread"]["message_count"], 12);
    for nested in ["agent", "creator", "metadata", "usage"] {
        assert!(item["thread"].get(nested).is_none(), "{nested}: {item}");
    }

    let pages = walk(&server, &ada.token, first, "uuid", athena_next).await;
    assert_read_once(&pages, &ids);
    // The message over the whole bound has a page of its own.
    assert!(pages.contains(&vec![ids[7].clone()]), "{pages:?}");

    let newest_first = format!(
        "/api/v1/messages?thread_uuid={}&cursor=&per_page=100&order=desc",
        uuid(&chat)
    );
    let pages = walk(&server, &ada.token, newest_first, "uuid", athena_next).await;
    let reversed: Vec<String> = ids.iter().rev().cloned().collect();
    assert_read_once(&pages, &reversed);

    // A single message still nests its whole thread (seed 001).
    let (status, one) = send(server.get(&format!("/api/v1/messages/{}", ids[0]), &ada.token)).await;
    assert_eq!(status, StatusCode::OK, "{one}");
    assert!(one["data"]["thread"]["agent"]["uuid"].is_string(), "{one}");
    assert_eq!(one["data"]["thread"]["metadata"]["topic"], "bytes");
}

#[tokio::test]
async fn athena_page_mode_stays_truthful_and_goes_on_with_a_cursor() {
    let (server, ada, chat, ids) = long_thread().await;
    let first = format!(
        "/api/v1/messages?thread_uuid={}&page=1&per_page=100",
        uuid(&chat)
    );
    let (status, body) = send(server.get(&first, &ada.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let meta = &body["meta"];
    let shown = body["data"].as_array().unwrap().len() as u64;
    assert!(shown < 12, "{meta}");
    assert_eq!(
        (
            &meta["current_page"],
            &meta["per_page"],
            &meta["total"],
            &meta["last_page"]
        ),
        (&json!(1), &json!(100), &json!(12), &json!(1)),
        "{meta}"
    );
    assert_eq!((&meta["from"], &meta["to"]), (&json!(1), &json!(shown)));
    let next = athena_next(&body).expect("a next link although page 1 is the last");
    assert!(
        next.contains("cursor=") && next.contains("thread_uuid="),
        "{next}"
    );
    assert!(body["links"]["first"].as_str().unwrap().contains("page=1"));

    let pages = walk(&server, &ada.token, first, "uuid", athena_next).await;
    assert_read_once(&pages, &ids);

    // A page that fits is an ordinary Laravel page, with a page link next.
    let path = format!(
        "/api/v1/messages?thread_uuid={}&page=2&per_page=3",
        uuid(&chat)
    );
    let (_, fits) = send(server.get(&path, &ada.token)).await;
    assert_eq!(fits["data"].as_array().unwrap().len(), 3, "{fits}");
    assert_eq!(fits["meta"]["to"], 6);
    let next = athena_next(&fits).unwrap();
    assert!(
        next.contains("page=3") && !next.contains("cursor"),
        "{next}"
    );
}

#[tokio::test]
async fn thena_thread_read_stops_at_the_bound_and_its_messages_go_on() {
    let (server, ada, chat, ids) = long_thread().await;
    let agent = chat["agent"]["uuid"].as_str().unwrap().to_owned();
    let thread = format!("/api/v1/chat/{agent}/threads/{}", uuid(&chat));
    let (status, read) = send(server.get(&thread, &ada.token)).await;
    assert_eq!(status, StatusCode::OK, "{read}");
    let shown: Vec<String> = read["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(!shown.is_empty() && shown.len() < ids.len(), "{shown:?}");
    assert_eq!(shown, ids[..shown.len()]);
    let cursor = read["messages_next_cursor"]
        .as_str()
        .expect("where to go on");

    let messages = format!("{thread}/messages");
    let next = |body: &Value| {
        let cursor = body["next_cursor"].as_str()?;
        body["has_more"]
            .as_bool()
            .unwrap()
            .then(|| format!("{messages}?limit=100&after={cursor}"))
    };
    let rest = walk(
        &server,
        &ada.token,
        format!("{messages}?limit=100&after={cursor}"),
        "id",
        next,
    )
    .await;
    assert_eq!([shown.clone(), rest.concat()].concat(), ids);
    let all = walk(
        &server,
        &ada.token,
        format!("{messages}?limit=100"),
        "id",
        next,
    )
    .await;
    assert_read_once(&all, &ids);

    // A thread that fits reads whole, without a cursor.
    let body = json!({ "name": "Small", "agent_uuid": agent });
    let workspace = ada.workspace.to_string();
    let small = crate::fixtures::thread_in(&server, &ada.token, &workspace, body);
    let small = uuid(&small.await);
    message(&server, &ada.token, &small, json!({ "content": "hi" })).await;
    let path = format!("/api/v1/chat/{agent}/threads/{small}");
    let (_, read) = send(server.get(&path, &ada.token)).await;
    assert_eq!(read["messages"].as_array().unwrap().len(), 1, "{read}");
    assert!(read.get("messages_next_cursor").is_none(), "{read}");
}

#[tokio::test]
async fn freddy_message_pages_stop_at_the_bound() {
    let (server, ada, chat, ids) = long_thread().await;
    let path = format!("/v1/threads/{}/messages?limit=100", uuid(&chat));
    let next = |body: &Value| {
        let cursor = body["next_cursor"].as_str()?;
        body["has_more"]
            .as_bool()
            .unwrap()
            .then(|| format!("{path}&after={cursor}"))
    };
    let pages = walk(&server, &ada.token, path.clone(), "id", next).await;
    let expected: Vec<String> = ids
        .iter()
        .map(|id| format!("msg_{}", id.replace('-', "")))
        .collect();
    assert_read_once(&pages, &expected);
}
