//! Threads: pinning, filters, sorting, counters kept by messages, and
//! deletion with the messages.

use crate::fixtures::{agent, delete, message, put, thread, thread_in, total, uuid, uuids};
use crate::{TestServer, assert_invalid, send};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn pin_and_unpin_set_is_pinned_and_pinned_at() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let id = uuid(&thread(&server, &ada, "t").await);
    let path = format!("/api/v1/threads/{id}");
    let (_, body) = send(server.get(&path, &ada.token)).await;
    assert_eq!(body["data"]["is_pinned"], false);
    assert_eq!(body["data"]["pinned_at"], Value::Null);

    let (status, pinned) = send(server.post(&format!("{path}/pin"), &ada.token, json!({}))).await;
    assert_eq!(status, StatusCode::OK, "{pinned}");
    assert_eq!(pinned["data"]["is_pinned"], true);
    let pinned_at = pinned["data"]["pinned_at"].as_str().expect("pinned_at");
    assert!(chrono::DateTime::parse_from_rfc3339(pinned_at).is_ok());
    let (_, body) = send(server.get(&path, &ada.token)).await;
    assert_eq!(body["data"]["is_pinned"], true);
    assert_eq!(body["data"]["pinned_at"], pinned_at);

    // Pinning again keeps the first pin time.
    let (_, again) = send(server.post(&format!("{path}/pin"), &ada.token, json!({}))).await;
    assert_eq!(again["data"]["pinned_at"], pinned_at);

    let (status, body) = send(server.post(&format!("{path}/unpin"), &ada.token, json!({}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["is_pinned"], false);
    assert_eq!(body["data"]["pinned_at"], Value::Null);
    let (_, body) = send(server.get(&path, &ada.token)).await;
    assert_eq!(body["data"]["is_pinned"], false);
    assert_eq!(body["data"]["pinned_at"], Value::Null);

    let (status, body) = send(put(
        &server,
        &path,
        &ada.token,
        json!({ "is_pinned": true }),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["is_pinned"], true);
    assert!(body["data"]["pinned_at"].is_string());
}

#[tokio::test]
async fn lists_filter_by_agent_pinned_and_metadata() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let workspace = ada.workspace.to_string();
    let helper = uuid(&agent(&server, &ada, json!({ "name": "Helper" })).await);
    let make = |body: Value| thread_in(&server, &ada.token, &workspace, body);
    let gold = uuid(&make(json!({ "name": "gold", "agent_uuid": helper, "metadata": { "tier": "gold", "seats": 3 } })).await);
    let silver = uuid(
        &make(json!({ "name": "silver", "metadata": { "tier": "silver", "seats": 30 } })).await,
    );
    let plain = uuid(&make(json!({ "name": "plain", "agent_uuid": helper })).await);
    let (status, _) = send(server.post(
        &format!("/api/v1/threads/{silver}/pin"),
        &ada.token,
        json!({}),
    ))
    .await;
    assert_eq!(status, StatusCode::OK);

    let found = |query: String| {
        let server = &server;
        let token = ada.token.clone();
        async move {
            let (status, page) =
                send(server.get(&format!("/api/v1/threads?{query}"), &token)).await;
            assert_eq!(status, StatusCode::OK, "{query}: {page}");
            let mut ids = uuids(&page);
            ids.sort();
            ids
        }
    };
    let sorted = |mut ids: Vec<String>| {
        ids.sort();
        ids
    };
    assert_eq!(
        found(format!("agent_uuid={helper}")).await,
        sorted(vec![gold.clone(), plain.clone()])
    );
    assert_eq!(found("pinned=true".into()).await, [silver.as_str()]);
    assert_eq!(
        found("pinned=false".into()).await,
        sorted(vec![gold.clone(), plain.clone()])
    );
    assert_eq!(found("metadata[tier]=gold".into()).await, [gold.as_str()]);
    assert_eq!(
        found("metadata%5Btier%5D=silver".into()).await,
        [silver.as_str()]
    );
    assert_eq!(
        found("metadata[seats]=3".into()).await,
        [gold.as_str()],
        "non-string values compare by JSON text"
    );
    assert_eq!(
        found("metadata[tier]=bronze".into()).await,
        Vec::<String>::new()
    );
    assert_eq!(
        found(format!(
            "agent_uuid={helper}&pinned=false&metadata[tier]=gold"
        ))
        .await,
        [gold.as_str()]
    );
    assert_eq!(
        found(format!("agent_uuid={helper}&pinned=true")).await,
        Vec::<String>::new()
    );

    let (status, body) = send(server.get("/api/v1/threads?pinned=maybe", &ada.token)).await;
    assert_invalid(status, &body, "pinned");
}

#[tokio::test]
async fn lists_sort_by_created_at_both_ways() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let mut created = Vec::new();
    for n in 0..6 {
        created.push(uuid(&thread(&server, &ada, &format!("t{n}")).await));
    }
    // Activity must not change the created_at order.
    message(
        &server,
        &ada.token,
        &created[0],
        json!({ "content": "bump" }),
    )
    .await;

    let (_, asc) = send(server.get("/api/v1/threads?sort=created_at&order=asc", &ada.token)).await;
    assert_eq!(uuids(&asc), created);
    let (_, desc) =
        send(server.get("/api/v1/threads?sort=created_at&order=desc", &ada.token)).await;
    let mut reversed = created.clone();
    reversed.reverse();
    assert_eq!(uuids(&desc), reversed);
    let (_, default) = send(server.get("/api/v1/threads?sort=created_at", &ada.token)).await;
    assert_eq!(uuids(&default), reversed, "newest first by default");

    // The default sort is by latest activity: the bumped thread comes first.
    let (_, activity) = send(server.get("/api/v1/threads", &ada.token)).await;
    assert_eq!(uuids(&activity)[0], created[0]);

    for (query, field) in [("sort=name", "sort"), ("order=sideways", "order")] {
        let (status, body) =
            send(server.get(&format!("/api/v1/threads?{query}"), &ada.token)).await;
        assert_invalid(status, &body, field);
    }
}

#[tokio::test]
async fn messages_move_message_count_and_last_message_at() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let id = uuid(&thread(&server, &ada, "t").await);
    let path = format!("/api/v1/threads/{id}");
    let (_, body) = send(server.get(&path, &ada.token)).await;
    assert_eq!(body["data"]["message_count"], 0);
    assert_eq!(body["data"]["last_message_at"], Value::Null);

    let mut last = Value::Null;
    let mut ids = Vec::new();
    for n in 1..=3 {
        let created = message(
            &server,
            &ada.token,
            &id,
            json!({ "content": format!("m{n}") }),
        )
        .await;
        assert_eq!(created["thread"]["message_count"], n, "{created}");
        last = created["created_at"].clone();
        ids.push(uuid(&created));
        let (_, body) = send(server.get(&path, &ada.token)).await;
        assert_eq!(body["data"]["message_count"], n);
        assert_eq!(body["data"]["last_message_at"], last);
    }
    let (status, _) = send(delete(
        &server,
        &format!("/api/v1/messages/{}", ids[0]),
        &ada.token,
    ))
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, body) = send(server.get(&path, &ada.token)).await;
    assert_eq!(body["data"]["message_count"], 2);
    assert_eq!(body["data"]["last_message_at"], last);
}

#[tokio::test]
async fn deleting_a_thread_deletes_its_messages() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let doomed = uuid(&thread(&server, &ada, "doomed").await);
    let kept = uuid(&thread(&server, &ada, "kept").await);
    let mut messages = Vec::new();
    for n in 0..3 {
        messages.push(uuid(
            &message(
                &server,
                &ada.token,
                &doomed,
                json!({ "content": format!("m{n}") }),
            )
            .await,
        ));
    }
    let survivor = uuid(&message(&server, &ada.token, &kept, json!({ "content": "stays" })).await);

    let path = format!("/api/v1/threads/{doomed}");
    let (status, body) = send(delete(&server, &path, &ada.token)).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(body, Value::Null);
    let (status, _) = send(server.get(&path, &ada.token)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    for message in &messages {
        let (status, body) =
            send(server.get(&format!("/api/v1/messages/{message}"), &ada.token)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        let (status, _) = send(put(
            &server,
            &format!("/api/v1/messages/{message}"),
            &ada.token,
            json!({ "content": "x" }),
        ))
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    let (status, _) = send(server.get(
        &format!("/api/v1/messages?thread_uuid={doomed}"),
        &ada.token,
    ))
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = send(delete(&server, &path, &ada.token)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "deleting twice");

    let (status, _) = send(server.get(&format!("/api/v1/messages/{survivor}"), &ada.token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(total(&server, &ada.token, "/api/v1/threads").await, 1);
}

#[tokio::test]
async fn updates_keep_absent_fields_and_null_clears() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let created = thread_in(
        &server,
        &ada.token,
        &ada.workspace.to_string(),
        json!({ "name": "Named", "with": "Someone", "metadata": { "a": 1 } }),
    )
    .await;
    let path = format!("/api/v1/threads/{}", uuid(&created));
    let (status, body) = send(put(
        &server,
        &path,
        &ada.token,
        json!({ "with": "Someone else" }),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["name"], "Named");
    assert_eq!(body["data"]["with"], "Someone else");
    assert_eq!(body["data"]["metadata"], json!({ "a": 1 }));
    let (status, body) = send(put(
        &server,
        &path,
        &ada.token,
        json!({ "name": null, "metadata": {} }),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["name"], Value::Null);
    assert_eq!(body["data"]["metadata"], json!({}));
    let (_, body) = send(server.get(&path, &ada.token)).await;
    assert_eq!(body["data"]["name"], Value::Null);
    assert_eq!(body["data"]["with"], "Someone else");
}
