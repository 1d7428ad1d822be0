//! Full-text `search=` over thread titles and message content.

use crate::fixtures::{delete, message, thread, unlimited, uuid, uuids};
use crate::{TestServer, assert_invalid, send};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

async fn search(server: &TestServer, token: &str, text: &str) -> Value {
    let response = server
        .get("/api/v1/threads", token)
        .query(&[("search", text)]);
    let (status, body) = send(response).await;
    assert_eq!(status, StatusCode::OK, "search {text:?}: {body}");
    body
}

/// Appends `count` messages through the API, at most 16 in flight; the
/// one numbered `needle_at` (1-based) carries `needle`.
async fn long_thread(
    server: &TestServer,
    token: &str,
    thread: &str,
    count: usize,
    needle_at: usize,
    needle: &str,
) {
    let gate = Arc::new(Semaphore::new(16));
    let mut tasks = JoinSet::new();
    for n in 1..=count {
        let permit = gate.clone().acquire_owned().await.expect("semaphore");
        let client = server.client.clone();
        let url = format!("{}/api/v1/messages?thread_uuid={thread}", server.base);
        let token = token.to_owned();
        let content = if n == needle_at {
            format!("Message {n}: the shipment left for {needle} on Tuesday.")
        } else {
            format!("Message {n}: routine status update about the weekly shipment.")
        };
        tasks.spawn(async move {
            let response = client
                .post(url)
                .bearer_auth(token)
                .json(&json!({ "content": content }))
                .send()
                .await
                .expect("send");
            drop(permit);
            response.status()
        });
    }
    while let Some(status) = tasks.join_next().await {
        assert_eq!(status.expect("task"), StatusCode::CREATED);
    }
}

#[tokio::test]
async fn search_finds_a_word_deep_in_a_long_thread_and_forgets_deleted_threads() {
    let server = unlimited().await;
    let ada = server.account("ada@example.com").await;
    let eve = server.account("eve@example.com").await;
    let long = uuid(&thread(&server, &ada, "Logistics").await);
    long_thread(&server, &ada.token, &long, 300, 150, "Zanzibar").await;
    let (_, body) = send(server.get(&format!("/api/v1/threads/{long}"), &ada.token)).await;
    assert_eq!(
        body["data"]["message_count"], 300,
        "every concurrent append counted"
    );

    let titled = uuid(&thread(&server, &ada, "Quarterly pelican report").await);
    let other = uuid(&thread(&server, &ada, "Unrelated").await);
    message(
        &server,
        &ada.token,
        &other,
        json!({ "content": "nothing to see" }),
    )
    .await;
    let eves = uuid(&thread(&server, &eve, "Eve's Zanzibar trip").await);
    message(
        &server,
        &eve.token,
        &eves,
        json!({ "content": "Zanzibar again" }),
    )
    .await;

    let found = search(&server, &ada.token, "zanzibar").await;
    assert_eq!(uuids(&found), [long.as_str()], "{found}");
    assert_eq!(found["meta"]["total"], 1);
    let found = search(&server, &ada.token, "Pelican").await;
    assert_eq!(uuids(&found), [titled.as_str()], "{found}");
    let found = search(&server, &eve.token, "zanzibar").await;
    assert_eq!(
        uuids(&found),
        [eves.as_str()],
        "other workspaces are not searched"
    );
    let found = search(&server, &ada.token, "weekly shipment").await;
    assert_eq!(uuids(&found), [long.as_str()]);
    let found = search(&server, &ada.token, "absentword").await;
    assert_eq!(uuids(&found), Vec::<String>::new());

    let (status, _) = send(delete(
        &server,
        &format!("/api/v1/threads/{long}"),
        &ada.token,
    ))
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let found = search(&server, &ada.token, "zanzibar").await;
    assert_eq!(
        uuids(&found),
        Vec::<String>::new(),
        "a deleted thread's messages are gone: {found}"
    );
    let found = search(&server, &eve.token, "zanzibar").await;
    assert_eq!(uuids(&found), [eves]);

    // An edited message is found by its new words only.
    let edited = message(
        &server,
        &ada.token,
        &other,
        json!({ "content": "first draft about walruses" }),
    )
    .await;
    let (status, _) = send(crate::fixtures::put(
        &server,
        &format!("/api/v1/messages/{}", uuid(&edited)),
        &ada.token,
        json!({ "content": "final version about narwhals" }),
    ))
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        uuids(&search(&server, &ada.token, "narwhals").await),
        [other.as_str()]
    );
    assert_eq!(
        uuids(&search(&server, &ada.token, "walruses").await),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn hostile_search_text_never_breaks_the_query() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let id = uuid(&thread(&server, &ada, "Plain title").await);
    message(
        &server,
        &ada.token,
        &id,
        json!({ "content": "an ordinary message" }),
    )
    .await;
    for text in [
        "\"",
        "\"unbalanced",
        "*",
        "ordin*",
        "NEAR(",
        "NEAR(a b, 2)",
        "-",
        "-ordinary",
        "'",
        "it's",
        "'; DROP TABLE threads; --",
        "a AND",
        "OR",
        "NOT",
        "()",
        ")(",
        "title:plain",
        "^plain",
        "{a b}",
        "a & b | !c",
        "<->",
        ":*",
        "\\",
        "%_",
        "😀",
    ] {
        let body = search(&server, &ada.token, text).await;
        assert!(body["data"].is_array(), "{text:?}: {body}");
    }
    // Punctuation around a real word still finds it.
    assert_eq!(
        uuids(&search(&server, &ada.token, "\"ordinary\"").await),
        [id.as_str()]
    );
    assert_eq!(uuids(&search(&server, &ada.token, "(plain)").await), [id]);

    let (status, body) = send(server.get("/api/v1/threads?search=x&cursor=abc", &ada.token)).await;
    assert_invalid(status, &body, "cursor");
    let long = "a".repeat(501);
    let (status, body) =
        send(server.get(&format!("/api/v1/threads?search={long}"), &ada.token)).await;
    assert_invalid(status, &body, "search");
}

/// Cursor mode pages a search by keyset: best first, every hit once,
/// `prev_cursor` back to the page before, the same order as page mode's.
#[tokio::test]
async fn search_pages_by_cursor_over_every_hit_once() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    // Scores differ (one to four mentions) and tie (same text twice over).
    let mut made = Vec::new();
    for n in 0..14 {
        let chat = thread(&server, &ada, &format!("Chat {n}")).await;
        let mentions = "walrus ".repeat(1 + n % 4);
        let text = format!("{mentions}in message {}", n % 7);
        message(
            &server,
            &ada.token,
            &uuid(&chat),
            json!({ "content": text }),
        )
        .await;
        made.push(uuid(&chat));
    }
    let unrelated = thread(&server, &ada, "Other").await;
    message(
        &server,
        &ada.token,
        &uuid(&unrelated),
        json!({ "content": "a seal" }),
    )
    .await;

    let mut pages: Vec<Vec<String>> = Vec::new();
    let mut cursors = Vec::new();
    let mut path = "/api/v1/threads?search=walrus&cursor=&per_page=4".to_owned();
    loop {
        let (status, body) = send(server.get(&path, &ada.token)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body["meta"].get("total").is_none(), "{}", body["meta"]);
        pages.push(uuids(&body));
        cursors.push(body["meta"]["prev_cursor"].clone());
        match body["meta"]["next_cursor"].as_str() {
            Some(next) => path = format!("/api/v1/threads?search=walrus&per_page=4&cursor={next}"),
            None => break,
        }
        assert!(pages.len() < 10, "the cursors go round: {pages:?}");
    }
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [4, 4, 4, 2]);
    let flat = pages.concat();
    let mut sorted = flat.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 14, "each hit once: {pages:?}");
    let mut expected = made.clone();
    expected.sort();
    assert_eq!(sorted, expected);

    // The same order as page mode's first page of everything.
    let (_, all) = send(server.get("/api/v1/threads?search=walrus&per_page=20", &ada.token)).await;
    assert_eq!(all["meta"]["total"], 14);
    let ranked = uuids(&all);
    // Page mode breaks ties by activity, cursor mode by id: compare the
    // hits with four mentions, which come first in both.
    let best: Vec<&String> = (0..14).filter(|n| n % 4 == 3).map(|n| &made[n]).collect();
    for page in [&ranked[..best.len()], &flat[..best.len()]] {
        assert!(
            page.iter().all(|id| best.contains(&id)),
            "{page:?} {best:?}"
        );
    }

    // prev_cursor of the third page answers the second page.
    let prev = cursors[2].as_str().expect("a prev cursor on page 3");
    let (status, body) = send(server.get(
        &format!("/api/v1/threads?search=walrus&per_page=4&cursor={prev}"),
        &ada.token,
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(uuids(&body), pages[1]);
    assert!(cursors[0].is_null());
}
