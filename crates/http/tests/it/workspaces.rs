//! Workspaces: listing, creating, reading, changing, deleting, and isolation.

use crate::{TestServer, assert_invalid, send};
use reqwest::{Method, StatusCode};
use serde_json::{Map, Value, json};

#[tokio::test]
async fn create_then_list_pages_like_laravel() {
    let server = TestServer::start().await;
    let account = server.account("ada@example.com").await;
    let (status, body) = send(server.post(
        "/api/v1/workspaces",
        &account.token,
        json!({ "name": "Research Lab", "metadata": { "industry": "science" } }),
    ))
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["data"]["slug"], "research-lab");
    assert_eq!(body["data"]["is_owner"], true);
    assert_eq!(body["data"]["metadata"]["industry"], "science");

    let (status, page) =
        send(server.get("/api/v1/workspaces?per_page=1&page=2", &account.token)).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["data"].as_array().unwrap().len(), 1);
    assert_eq!(page["data"][0]["name"], "Research Lab");
    assert_eq!(page["meta"]["total"], 2);
    assert_eq!(page["meta"]["last_page"], 2);
    assert_eq!(page["meta"]["current_page"], 2);
    assert_eq!(page["meta"]["from"], 2);
    assert_eq!(page["meta"]["to"], 2);
    assert_eq!(page["links"]["next"], Value::Null);
    assert!(page["links"]["prev"].as_str().unwrap().contains("page=1"));

    let (status, body) = send(server.get("/api/v1/workspaces?per_page=101", &account.token)).await;
    assert_invalid(status, &body, "per_page");
    let (status, body) = send(server.get("/api/v1/workspaces?page=abc", &account.token)).await;
    assert_invalid(status, &body, "page");
}

#[tokio::test]
async fn create_validates_every_field() {
    let server = TestServer::start().await;
    let account = server.account("ada@example.com").await;
    let create = |body: Value| send(server.post("/api/v1/workspaces", &account.token, body));
    let (status, body) = create(json!({ "name": "x".repeat(201) })).await;
    assert_invalid(status, &body, "name");
    let (status, body) = create(json!({ "name": "é".repeat(200) })).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "200 characters is within the limit: {body}"
    );
    let (status, body) = create(json!({ "name": "  " })).await;
    assert_invalid(status, &body, "name");
    let (status, body) = create(json!({})).await;
    assert_invalid(status, &body, "name");
    let (status, body) = create(json!({ "name": ["a"] })).await;
    assert_invalid(status, &body, "name");
    let (status, body) = create(json!({ "name": "ok", "slug": "Not A Slug" })).await;
    assert_invalid(status, &body, "slug");
    let too_many: Map<String, Value> = (0..17).map(|i| (format!("k{i}"), json!(i))).collect();
    let (status, body) = create(json!({ "name": "ok", "metadata": too_many })).await;
    assert_invalid(status, &body, "metadata");
    let (status, body) =
        create(json!({ "name": "ok", "metadata": { "k": "v".repeat(513) } })).await;
    assert_invalid(status, &body, "metadata.k");
    let (status, body) = create(json!({ "name": "ok", "metadata": "not an object" })).await;
    assert_invalid(status, &body, "metadata");
    let (status, body) = create(json!({ "name": "ok", "owner_id": 1 })).await;
    assert_invalid(status, &body, "owner_id");

    let (_, page) = send(server.get("/api/v1/workspaces", &account.token)).await;
    assert_eq!(
        page["meta"]["total"], 2,
        "rejected requests changed nothing"
    );
}

#[tokio::test]
async fn another_workspace_answers_404_everywhere() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let eve = server.account("eve@example.com").await;
    let eve_key = server.api_key(&eve).await;
    let path = format!("/api/v1/workspaces/{}", ada.workspace);
    for credential in [&eve.token, &eve_key] {
        let (status, body) = send(server.get(&path, credential)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        assert_eq!(body["message"], "Workspace not found.");
        let (status, _) = send(
            server
                .request(Method::PUT, &path)
                .bearer_auth(credential)
                .json(&json!({ "name": "x" })),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = send(
            server
                .request(Method::DELETE, &path)
                .bearer_auth(credential),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = send(server.get(&format!("{path}/members"), credential)).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    let (status, _) = send(server.get("/api/v1/workspaces/not-a-uuid", &ada.token)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = send(server.get(
        &format!("/api/v1/workspaces/{}", uuid::Uuid::new_v4()),
        &ada.token,
    ))
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = send(server.request(Method::GET, &path)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, body) = send(server.get(&path, &ada.token)).await;
    assert_eq!(
        body["data"]["name"], "ada@example.com's space",
        "nothing changed"
    );
}

#[tokio::test]
async fn api_keys_see_only_their_workspace_and_cannot_administer_it() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let key = server.api_key(&ada).await;
    let (status, page) = send(server.get("/api/v1/workspaces", &key)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["meta"]["total"], 1);
    assert_eq!(page["data"][0]["uuid"], ada.workspace.to_string());
    let (status, _) =
        send(server.get(&format!("/api/v1/workspaces/{}", ada.workspace), &key)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = send(server.post("/api/v1/workspaces", &key, json!({ "name": "x" }))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let path = format!("/api/v1/workspaces/{}", ada.workspace);
    let (status, _) = send(
        server
            .request(Method::PUT, &path)
            .bearer_auth(&key)
            .json(&json!({ "name": "x" })),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = send(server.request(Method::DELETE, &path).bearer_auth(&key)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn update_needs_an_admin_and_patches_only_given_fields() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let member = server.member(&ada, "bob@example.com", "member").await;
    let admin = server.member(&ada, "cy@example.com", "admin").await;
    let path = format!("/api/v1/workspaces/{}", ada.workspace);
    let put = |token: &str, body: Value| {
        send(
            server
                .request(Method::PUT, &path)
                .bearer_auth(token)
                .json(&body),
        )
    };

    let (status, body) = put(&member, json!({ "name": "Renamed" })).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = put(
        &admin,
        json!({ "profile_photo_url": "https://example.com/p.png", "is_onboarded": true }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["name"], "ada@example.com's space");
    assert_eq!(body["data"]["is_onboarded"], true);
    assert_eq!(
        body["data"]["is_owner"], false,
        "the admin is not the owner"
    );
    let (status, body) = put(
        &ada.token,
        json!({ "name": "Renamed", "profile_photo_url": null }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["name"], "Renamed");
    assert_eq!(body["data"]["profile_photo_url"], Value::Null);
    assert_eq!(body["data"]["is_onboarded"], true);
    let (status, body) = put(&ada.token, json!({ "name": 7 })).await;
    assert_invalid(status, &body, "name");
    let (status, body) = send(
        server
            .request(Method::PUT, &path)
            .bearer_auth(&ada.token)
            .body("{"),
    )
    .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{body}");
}

#[tokio::test]
async fn only_owners_delete_and_deletion_removes_access() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let admin = server.member(&ada, "cy@example.com", "admin").await;
    let key = server.api_key(&ada).await;
    let path = format!("/api/v1/workspaces/{}", ada.workspace);
    let (status, _) = send(server.request(Method::DELETE, &path).bearer_auth(&admin)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = send(
        server
            .request(Method::DELETE, &path)
            .bearer_auth(&ada.token),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = send(server.get(&path, &ada.token)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = send(server.get("/api/v1/user", &key)).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the workspace's keys went with it"
    );
    let (_, user) = send(server.get("/api/v1/user", &ada.token)).await;
    assert_eq!(user["data"]["primary_workspace"], Value::Null);
}
