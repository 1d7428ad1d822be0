//! Messages: thread order, edits in place, sanitised HTML, roles.

use crate::fixtures::{message, put, thread, uuid, uuids};
use crate::{TestServer, send};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn thread_order_both_ways_and_edits_keep_their_place() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let id = uuid(&thread(&server, &ada, "t").await);
    let mut created = Vec::new();
    for n in 0..5 {
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
    let list = format!("/api/v1/messages?thread_uuid={id}");
    let (status, asc) = send(server.get(&list, &ada.token)).await;
    assert_eq!(status, StatusCode::OK, "{asc}");
    assert_eq!(uuids(&asc), created, "thread order by default");
    let (_, explicit) = send(server.get(&format!("{list}&order=asc"), &ada.token)).await;
    assert_eq!(uuids(&explicit), created);
    let (_, desc) = send(server.get(&format!("{list}&order=desc"), &ada.token)).await;
    let mut reversed = created.clone();
    reversed.reverse();
    assert_eq!(uuids(&desc), reversed);

    // Editing the first message does not move it to the end.
    let path = format!("/api/v1/messages/{}", created[0]);
    let (status, edited) = send(put(
        &server,
        &path,
        &ada.token,
        json!({ "content": "**edited**" }),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(edited["data"]["content"], "**edited**");
    assert_eq!(
        edited["data"]["content_html"],
        "<p><strong>edited</strong></p>\n"
    );
    let (_, after) = send(server.get(&list, &ada.token)).await;
    assert_eq!(uuids(&after), created);
    assert_eq!(after["data"][0]["content"], "**edited**");
    let (_, read) = send(server.get(&path, &ada.token)).await;
    assert_eq!(
        read["data"]["content_html"],
        "<p><strong>edited</strong></p>\n"
    );
    assert_eq!(read["data"]["created_at"], asc["data"][0]["created_at"]);

    // Metadata edits keep the content; the client cannot forge usage.
    let (status, refused) = send(put(
        &server,
        &path,
        &ada.token,
        json!({ "metadata": { "label": "x", "model": "forged" } }),
    ))
    .await;
    crate::assert_invalid(status, &refused, "metadata.model");
    let (status, edited) = send(put(
        &server,
        &path,
        &ada.token,
        json!({ "metadata": { "label": "x" } }),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(edited["data"]["content"], "**edited**");
    assert_eq!(edited["data"]["metadata"]["label"], "x");
    assert_eq!(edited["data"]["metadata"]["model"], Value::Null);

    let (status, body) = send(server.get(&format!("{list}&order=random"), &ada.token)).await;
    crate::assert_invalid(status, &body, "order");
}

#[tokio::test]
async fn content_html_is_rendered_and_sanitised() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let id = uuid(&thread(&server, &ada, "t").await);
    let hostile = "# Title\n\n<script>alert(1)</script>\n\n**bold** \
                   <img src=x onerror=alert(1)> [click](javascript:alert(1)) \
                   <a href=\"javascript:alert(2)\">a</a>";
    let created = message(&server, &ada.token, &id, json!({ "content": hostile })).await;
    let read = {
        let (_, body) =
            send(server.get(&format!("/api/v1/messages/{}", uuid(&created)), &ada.token)).await;
        body["data"].clone()
    };
    for data in [&created, &read] {
        assert_eq!(data["content"], hostile, "the content is kept as written");
        let html = data["content_html"].as_str().unwrap().to_lowercase();
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("<a href=\"javascript"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "shown as text: {html}");
        assert!(html.contains("<strong>bold</strong>"), "{html}");
        assert!(html.contains("<h1>title</h1>"), "{html}");
    }
}

#[tokio::test]
async fn every_role_is_accepted() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let id = uuid(&thread(&server, &ada, "t").await);
    let roles = ["user", "assistant", "system", "tool"];
    for role in roles {
        let created = message(
            &server,
            &ada.token,
            &id,
            json!({ "content": role, "role": role }),
        )
        .await;
        assert_eq!(created["role"], role);
    }
    let defaulted = message(&server, &ada.token, &id, json!({ "content": "no role" })).await;
    assert_eq!(defaulted["role"], "user");
    let (_, list) =
        send(server.get(&format!("/api/v1/messages?thread_uuid={id}"), &ada.token)).await;
    let listed: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ["user", "assistant", "system", "tool", "user"]);
}

/// A message is counted once when stored, with the prompt's tokenizer, and
/// again when its content is edited: runs read the count, not the text.
#[tokio::test]
async fn a_stored_message_carries_its_token_count_and_an_edit_recounts_it() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let thread_id = uuid(&thread(&server, &ada, "t").await);
    let created = message(&server, &ada.token, &thread_id, json!({ "content": "one" })).await;
    let id = spool_core::MessageId(uuid::Uuid::parse_str(&uuid(&created)).unwrap());
    let stored = |server: &TestServer| {
        let store = server.spool.store().clone();
        async move { store.message(ada.workspace, id).await.unwrap().unwrap() }
    };
    let tokenizer = spool_providers::tokenizer();
    let before = stored(&server).await;
    assert_eq!(
        before.token_count,
        Some(spool_core::runs::prompt::message_tokens(
            &before,
            tokenizer.as_ref()
        ))
    );

    let longer = "one two three four five six seven eight nine ten";
    let path = format!("/api/v1/messages/{}", uuid(&created));
    let (status, body) = send(put(
        &server,
        &path,
        &ada.token,
        json!({ "content": longer }),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let after = stored(&server).await;
    assert_eq!(after.content, longer);
    assert_eq!(
        after.token_count,
        Some(spool_core::runs::prompt::message_tokens(
            &after,
            tokenizer.as_ref()
        ))
    );
    assert!(
        after.token_count > before.token_count,
        "the edit was recounted"
    );
}
