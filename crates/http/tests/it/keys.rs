//! API keys: shown once, stored hashed, scoped to one workspace, revocable.

use crate::fixtures::eventually;
use crate::{TestServer, assert_invalid, send};
use reqwest::{Method, StatusCode};
use serde_json::json;
use spool_core::ApiKeyId;
use spool_core::model::ApiKey;
use spool_core::secret::{API_KEY_PREFIX, PlainToken};

#[tokio::test]
async fn a_key_is_shown_once_and_then_authenticates() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let (status, body) =
        send(server.post("/api/v1/api-keys", &ada.token, json!({ "name": "CI" }))).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let key = body["data"]["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("spk_") && key.len() == 68, "{key}");
    assert_eq!(
        body["data"]["workspace_uuid"],
        ada.workspace.to_string(),
        "defaults to the primary workspace"
    );
    assert_eq!(body["data"]["last_used_at"], serde_json::Value::Null);

    let (status, page) = send(server.get("/api/v1/api-keys", &ada.token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["meta"]["total"], 1);
    assert!(page["data"][0].get("key").is_none());
    assert!(
        !page.to_string().contains(&key[4..]),
        "the key is never shown again"
    );
    assert!(key.starts_with(page["data"][0]["prefix"].as_str().unwrap()));

    let (status, _) = send(server.get("/api/v1/user", &key)).await;
    assert_eq!(status, StatusCode::OK);
    // last_used_at is recorded in the background, after the request.
    let used = eventually("last_used_at is kept", || async {
        let (_, page) = send(server.get("/api/v1/api-keys", &ada.token)).await;
        page["data"][0]["last_used_at"].as_str().map(str::to_owned)
    })
    .await;
    assert!(
        chrono::DateTime::parse_from_rfc3339(&used).is_ok(),
        "{used}"
    );
}

#[tokio::test]
async fn revoked_and_expired_keys_stop_working() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let (_, body) =
        send(server.post("/api/v1/api-keys", &ada.token, json!({ "name": "CI" }))).await;
    let key = body["data"]["key"].as_str().unwrap().to_owned();
    let uuid = body["data"]["uuid"].as_str().unwrap().to_owned();
    let (status, _) = send(
        server
            .request(Method::DELETE, &format!("/api/v1/api-keys/{uuid}"))
            .bearer_auth(&ada.token),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = send(server.get("/api/v1/user", &key)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = send(
        server
            .request(Method::DELETE, &format!("/api/v1/api-keys/{uuid}"))
            .bearer_auth(&ada.token),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "already revoked");

    let (status, body) = send(server.post(
        "/api/v1/api-keys",
        &ada.token,
        json!({ "name": "old", "expires_at": "2020-01-01T00:00:00Z" }),
    ))
    .await;
    assert_invalid(status, &body, "expires_at");
    let (status, body) = send(server.post(
        "/api/v1/api-keys",
        &ada.token,
        json!({ "name": "x", "expires_at": "soon" }),
    ))
    .await;
    assert_invalid(status, &body, "expires_at");

    // A key with an end works until then...
    let later = spool_core::now() + chrono::Duration::hours(1);
    let (status, body) = send(server.post(
        "/api/v1/api-keys",
        &ada.token,
        json!({ "name": "brief", "expires_at": later.to_rfc3339() }),
    ))
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let ends = body["data"]["expires_at"].as_str().expect("expires_at");
    let ends = chrono::DateTime::parse_from_rfc3339(ends).expect("RFC 3339");
    assert_eq!(ends.timestamp(), later.timestamp(), "{body}");
    let brief = body["data"]["key"].as_str().unwrap().to_owned();
    let (status, _) = send(server.get("/api/v1/user", &brief)).await;
    assert_eq!(status, StatusCode::OK);
    // ...and not after. The API takes only future ends and the test waits
    // for no clock, so this key is stored already past its end.
    let token = PlainToken::generate(API_KEY_PREFIX);
    let past = spool_core::now() - chrono::Duration::hours(1);
    let expired = ApiKey {
        id: ApiKeyId::new(),
        workspace_id: ada.workspace,
        user_id: ada.user.id,
        name: "expired".into(),
        prefix: token.display_prefix(),
        hash: token.hash(),
        created_at: past - chrono::Duration::hours(1),
        last_used_at: None,
        expires_at: Some(past),
        revoked_at: None,
    };
    server.spool.store().insert_api_key(expired).await.unwrap();
    let (status, _) = send(server.get("/api/v1/user", token.expose())).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn keys_are_managed_by_signed_in_admins_of_their_workspace() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let eve = server.account("eve@example.com").await;
    let member = server.member(&ada, "bob@example.com", "member").await;
    let key = server.api_key(&ada).await;
    let in_ada = format!("/api/v1/api-keys?workspace_uuid={}", ada.workspace);

    let (status, _) = send(server.post(&in_ada, &member, json!({ "name": "mine" }))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) =
        send(server.post("/api/v1/api-keys", &key, json!({ "name": "minted" }))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a key cannot mint keys");
    let (status, _) = send(server.post(&in_ada, &eve.token, json!({ "name": "intruder" }))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = send(server.get(&in_ada, &eve.token)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = send(server.get("/api/v1/api-keys?workspace_uuid=nope", &ada.token)).await;
    assert_invalid(status, &body, "workspace_uuid");

    let (_, page) = send(server.get(&in_ada, &ada.token)).await;
    let uuid = page["data"][0]["uuid"].as_str().unwrap().to_owned();
    let (status, _) = send(
        server
            .request(Method::DELETE, &format!("/api/v1/api-keys/{uuid}"))
            .bearer_auth(&eve.token),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "another workspace's key is not found"
    );
    let (status, _) = send(server.get("/api/v1/user", &key)).await;
    assert_eq!(status, StatusCode::OK, "and it still works");
    let (status, body) =
        send(server.post("/api/v1/api-keys", &ada.token, json!({ "name": "" }))).await;
    assert_invalid(status, &body, "name");
    let (status, body) =
        send(server.post("/api/v1/api-keys", &ada.token, json!({ "label": "x" }))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
}

#[tokio::test]
async fn key_list_links_keep_the_workspace() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let (_, second) = send(server.post(
        "/api/v1/workspaces",
        &ada.token,
        json!({ "name": "Second" }),
    ))
    .await;
    let second = second["data"]["uuid"].as_str().unwrap().to_owned();
    for i in 0..3 {
        let body = json!({ "name": format!("k{i}"), "workspace_uuid": second });
        let (status, _) = send(server.post("/api/v1/api-keys", &ada.token, body)).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let (_, page) = send(server.get(
        &format!("/api/v1/api-keys?workspace_uuid={second}&per_page=2"),
        &ada.token,
    ))
    .await;
    let next = page["links"]["next"].as_str().unwrap().to_owned();
    assert!(next.contains(&second), "{next}");
    let (_, rest) = send(server.get(&next, &ada.token)).await;
    assert_eq!(rest["data"].as_array().unwrap().len(), 1);
    assert_eq!(rest["data"][0]["workspace_uuid"], second.as_str());
}
