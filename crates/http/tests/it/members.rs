//! Workspace members and roles.

use crate::{TestServer, assert_invalid, send};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn owners_add_list_and_change_members() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    server.user("bob@example.com").await;
    let path = format!("/api/v1/workspaces/{}/members", ada.workspace);
    let (status, body) =
        send(server.post(&path, &ada.token, json!({ "email": "BOB@example.com" }))).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["data"]["role"], "member");
    assert_eq!(body["data"]["email"], "bob@example.com");
    let (status, body) = send(server.post(
        &path,
        &ada.token,
        json!({ "email": "bob@example.com", "role": "admin" }),
    ))
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["data"]["role"], "admin");

    let (status, page) = send(server.get(&path, &ada.token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["meta"]["total"], 2);
    let roles: Vec<_> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(roles, ["owner", "admin"]);
    assert!(!page.to_string().contains("password"));

    let (status, body) =
        send(server.post(&path, &ada.token, json!({ "email": "nobody@example.com" }))).await;
    assert_invalid(status, &body, "email");
    let (status, body) = send(server.post(
        &path,
        &ada.token,
        json!({ "email": "bob@example.com", "role": "king" }),
    ))
    .await;
    assert_invalid(status, &body, "role");
    let (status, body) = send(server.post(
        &path,
        &ada.token,
        json!({ "email": "bob@example.com", "role": 1 }),
    ))
    .await;
    assert_invalid(status, &body, "role");
}

#[tokio::test]
async fn members_cannot_manage_and_admins_cannot_touch_owners() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let member = server.member(&ada, "bob@example.com", "member").await;
    let admin = server.member(&ada, "cy@example.com", "admin").await;
    server.user("dee@example.com").await;
    let path = format!("/api/v1/workspaces/{}/members", ada.workspace);
    let (status, _) =
        send(server.post(&path, &member, json!({ "email": "dee@example.com" }))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = send(server.post(
        &path,
        &admin,
        json!({ "email": "dee@example.com", "role": "owner" }),
    ))
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = send(server.post(
        &path,
        &admin,
        json!({ "email": "ada@example.com", "role": "member" }),
    ))
    .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "an admin cannot demote the owner"
    );
    let (status, _) = send(
        server
            .request(Method::DELETE, &format!("{path}/{}", ada.user.id))
            .bearer_auth(&admin),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) =
        send(server.post(&path, &admin, json!({ "email": "dee@example.com" }))).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, _) = send(server.get(&path, &member)).await;
    assert_eq!(status, StatusCode::OK, "members may see who else is there");
}

#[tokio::test]
async fn the_last_owner_stays_and_anyone_may_leave() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let bob = server.member(&ada, "bob@example.com", "member").await;
    let path = format!("/api/v1/workspaces/{}/members", ada.workspace);
    let (status, body) = send(
        server
            .request(Method::DELETE, &format!("{path}/{}", ada.user.id))
            .bearer_auth(&ada.token),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(
        body["message"],
        "The last owner of a workspace cannot be removed."
    );
    let (status, body) = send(server.post(
        &path,
        &ada.token,
        json!({ "email": "ada@example.com", "role": "admin" }),
    ))
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(
        body["message"],
        "The last owner of a workspace cannot step down."
    );

    let (_, me) = send(server.get("/api/v1/user", &bob)).await;
    let bob_id = me["data"]["id"].as_i64().unwrap();
    let (status, _) = send(
        server
            .request(Method::DELETE, &format!("{path}/{bob_id}"))
            .bearer_auth(&bob),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = send(server.get(&path, &bob)).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "after leaving, the workspace is out of reach"
    );
    let (status, _) = send(
        server
            .request(Method::DELETE, &format!("{path}/{bob_id}"))
            .bearer_auth(&ada.token),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = send(
        server
            .request(Method::DELETE, &format!("{path}/abc"))
            .bearer_auth(&ada.token),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
