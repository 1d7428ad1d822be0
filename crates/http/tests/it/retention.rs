//! Retention through athena: a thread's `expires_at` (create, update,
//! shown), a workspace's `thread_retention_days`, and the sweep that
//! deletes what has expired.

use crate::fixtures::{put, thread, uuid};
use crate::{TestServer, assert_invalid, send};
use reqwest::StatusCode;
use serde_json::json;
use spool_core::{ThreadId, WorkspaceId};

fn in_days(days: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(days))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[tokio::test]
async fn a_thread_expires_when_it_says() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let path = format!("/api/v1/threads?workspace_uuid={}", ada.workspace);
    let expires = in_days(30);
    let (status, body) = send(server.post(
        &path,
        &ada.token,
        json!({ "name": "Short-lived", "expires_at": expires }),
    ))
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let shown = body["data"]["expires_at"].as_str().unwrap().to_owned();
    assert!(shown.starts_with(&expires[..19]), "{shown} vs {expires}");
    let thread = uuid(&body["data"]);
    let at = format!("/api/v1/threads/{thread}");

    for bad in [json!(in_days(-1)), json!("tomorrow"), json!(17)] {
        let (status, body) =
            send(put(&server, &at, &ada.token, json!({ "expires_at": bad }))).await;
        assert_invalid(status, &body, "expires_at");
        let (status, body) =
            send(server.post(&path, &ada.token, json!({ "expires_at": bad }))).await;
        assert_invalid(status, &body, "expires_at");
    }
    let (status, body) = send(put(&server, &at, &ada.token, json!({ "name": "kept" }))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["data"]["expires_at"],
        shown.as_str(),
        "absent keeps it"
    );
    let (status, body) = send(put(&server, &at, &ada.token, json!({ "expires_at": null }))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["data"]["expires_at"].is_null(), "{body}");

    // Once past (written straight to the store: the API refuses the past),
    // the sweep deletes it.
    let id = ThreadId::parse(&thread).unwrap();
    let store = server.spool.store();
    let mut stored = store.thread(ada.workspace, id).await.unwrap().unwrap();
    stored.expires_at = Some(spool_core::now() - chrono::Duration::seconds(1));
    assert!(store.update_thread(&stored).await.unwrap());
    let kept = thread_in(&server, &ada.token, ada.workspace).await;
    let before = spool_core::telemetry::metrics().threads_expired.get();
    assert_eq!(server.spool.expire_threads().await, 1);
    assert_eq!(
        spool_core::telemetry::metrics().threads_expired.get(),
        before + 1
    );
    let (status, _) = send(server.get(&at, &ada.token)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = send(server.get(&format!("/api/v1/threads/{kept}"), &ada.token)).await;
    assert_eq!(status, StatusCode::OK);
}

async fn thread_in(server: &TestServer, token: &str, workspace: WorkspaceId) -> String {
    let path = format!("/api/v1/threads?workspace_uuid={workspace}");
    let (status, body) = send(server.post(&path, token, json!({ "name": "Kept" }))).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    uuid(&body["data"])
}

#[tokio::test]
async fn a_workspace_keeps_threads_for_its_retention_days() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let path = format!("/api/v1/workspaces/{}", ada.workspace);
    let (status, body) = send(server.get(&path, &ada.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["data"]["thread_retention_days"].is_null(), "{body}");
    for bad in [json!(0), json!(36601), json!(-3), json!("ten"), json!(1.5)] {
        let (status, body) = send(put(
            &server,
            &path,
            &ada.token,
            json!({ "thread_retention_days": bad }),
        ))
        .await;
        assert_invalid(status, &body, "thread_retention_days");
    }
    let (status, body) = send(put(
        &server,
        &path,
        &ada.token,
        json!({ "thread_retention_days": 7 }),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["thread_retention_days"], 7);
    let (_, body) = send(put(
        &server,
        &path,
        &ada.token,
        json!({ "name": "Renamed" }),
    ))
    .await;
    assert_eq!(body["data"]["thread_retention_days"], 7, "absent keeps it");

    // A member may not change it.
    let member = server.member(&ada, "bob@example.com", "member").await;
    let (status, _) = send(put(
        &server,
        &path,
        &member,
        json!({ "thread_retention_days": 1 }),
    ))
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // A thread quiet for longer goes at the next sweep; a fresh one stays.
    let quiet = thread(&server, &ada, "Quiet").await;
    let fresh = thread(&server, &ada, "Fresh").await;
    let id = ThreadId::parse(&uuid(&quiet)).unwrap();
    let store = server.spool.store();
    let mut stored = store.thread(ada.workspace, id).await.unwrap().unwrap();
    // Its last activity, as far as the store knows, is its creation: moved
    // back by deleting and inserting it as made eight days ago.
    assert!(store.delete_thread(ada.workspace, id).await.unwrap());
    stored.created_at = spool_core::now() - chrono::Duration::days(8);
    store.insert_thread(stored).await.unwrap();
    assert_eq!(server.spool.expire_threads().await, 1);
    let (status, _) =
        send(server.get(&format!("/api/v1/threads/{}", uuid(&quiet)), &ada.token)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) =
        send(server.get(&format!("/api/v1/threads/{}", uuid(&fresh)), &ada.token)).await;
    assert_eq!(status, StatusCode::OK);

    let (status, body) = send(put(
        &server,
        &path,
        &ada.token,
        json!({ "thread_retention_days": null }),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["data"]["thread_retention_days"].is_null(), "{body}");
}
