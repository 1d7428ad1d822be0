//! Sign-in, logout, the current user and the credential forms.

use crate::{PASSWORD, TestServer, assert_invalid, send};
use chrono::Duration;
use reqwest::{Method, StatusCode};
use serde_json::json;
use spool_core::SessionId;
use spool_core::model::Session;
use spool_core::secret::{PlainToken, SESSION_PREFIX};

#[tokio::test]
async fn sign_in_answers_a_token_and_the_user_without_secrets() {
    let server = TestServer::start().await;
    let account = server.account("ada@example.com").await;
    let (status, body) = send(
        server
            .request(Method::POST, "/api/v1/auth/sign-in")
            .json(&json!({ "email": "ADA@example.com", "password": PASSWORD })),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let data = &body["data"];
    assert_eq!(data["token_type"], "Bearer");
    assert!(data["token"].as_str().unwrap().starts_with("sps_"));
    assert!(data["expires_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(data["user"]["id"], account.user.id.0);
    assert_eq!(
        data["user"]["primary_workspace"]["uuid"],
        account.workspace.to_string()
    );
    let text = body.to_string();
    assert!(
        !text.contains(PASSWORD) && !text.contains("argon2"),
        "{text}"
    );
}

#[tokio::test]
async fn wrong_password_and_unknown_email_look_the_same() {
    let server = TestServer::start().await;
    server.user("ada@example.com").await;
    let attempt = |email: &'static str, password: &'static str| {
        send(
            server
                .request(Method::POST, "/api/v1/auth/sign-in")
                .json(&json!({ "email": email, "password": password })),
        )
    };
    let (status, wrong) = attempt("ada@example.com", "not the password").await;
    assert_invalid(status, &wrong, "email");
    let (status, unknown) = attempt("nobody@example.com", "not the password").await;
    assert_invalid(status, &unknown, "email");
    assert_eq!(wrong, unknown);
}

#[tokio::test]
async fn sign_in_rejects_malformed_bodies() {
    let server = TestServer::start().await;
    let sign_in = || server.request(Method::POST, "/api/v1/auth/sign-in");
    let (status, body) = send(
        sign_in()
            .header("content-type", "application/json")
            .body("{\"email\": "),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = send(sign_in().json(&json!({ "email": 5, "password": "x" }))).await;
    assert_invalid(status, &body, "email");
    let (status, body) = send(sign_in().json(&json!({ "email": "a@b.c" }))).await;
    assert_invalid(status, &body, "password");
    let (status, body) =
        send(sign_in().json(&json!({ "email": "a@b.c", "password": "x", "remember": true }))).await;
    assert_invalid(status, &body, "remember");
    let (status, body) = send(sign_in().body("email=a@b.c")).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{body}");
}

#[tokio::test]
async fn logout_revokes_the_token() {
    let server = TestServer::start().await;
    let account = server.account("ada@example.com").await;
    let (status, _) = send(server.get("/api/v1/user", &account.token)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = send(
        server
            .request(Method::POST, "/api/v1/auth/logout")
            .bearer_auth(&account.token),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = send(server.get("/api/v1/user", &account.token)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, json!({ "message": "Unauthenticated." }));
}

#[tokio::test]
async fn expired_sessions_do_not_authenticate() {
    let server = TestServer::start().await;
    let user = server.user("ada@example.com").await;
    let token = PlainToken::generate(SESSION_PREFIX);
    let past = spool_core::now() - Duration::hours(2);
    let session = Session {
        id: SessionId::new(),
        user_id: user.id,
        hash: token.hash(),
        created_at: past - Duration::hours(1),
        expires_at: past,
        revoked_at: None,
    };
    server.spool.store().insert_session(session).await.unwrap();
    let (status, _) = send(server.get("/api/v1/user", token.expose())).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn current_user_has_the_athena_shape() {
    let server = TestServer::start().await;
    let account = server.account("ada@example.com").await;
    let (status, body) = send(server.get("/api/v1/user", &account.token)).await;
    assert_eq!(status, StatusCode::OK);
    let user = &body["data"];
    for key in [
        "id",
        "name",
        "first_name",
        "last_name",
        "email",
        "profile_photo_url",
        "multiplai_id",
        "created_at",
        "updated_at",
        "primary_workspace",
    ] {
        assert!(user.get(key).is_some(), "missing {key}: {user}");
    }
    assert!(user["id"].is_i64());
    // athena timestamps carry microseconds.
    let created = user["created_at"].as_str().unwrap();
    assert_eq!(
        created.len(),
        "2024-01-15T10:30:00.000000Z".len(),
        "{created}"
    );
    let workspace = &user["primary_workspace"];
    for key in [
        "uuid",
        "slug",
        "name",
        "profile_photo_url",
        "multiplai_id",
        "is_onboarded",
        "metadata",
        "is_owner",
        "created_at",
        "updated_at",
        "user",
    ] {
        assert!(workspace.get(key).is_some(), "missing {key}: {workspace}");
    }
    assert_eq!(workspace["is_owner"], true);
}

#[tokio::test]
async fn every_credential_form_is_accepted_and_bad_ones_are_not() {
    let server = TestServer::start().await;
    let account = server.account("ada@example.com").await;
    let key = server.api_key(&account).await;
    let user = || server.request(Method::GET, "/api/v1/user");
    for request in [
        user().header("Authorization", format!("Bearer {}", account.token)),
        user().header("authorization", format!("bearer {key}")),
        user().header("X-API-Key", &key),
        user().header("x-api-key", &key),
        user().header("X-Api-Key", &key),
    ] {
        let (status, body) = send(request).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    for request in [
        user(),
        user().header("Authorization", "Bearer "),
        user().header("Authorization", format!("Basic {key}")),
        user().header("Authorization", "Bearer spk_0000"),
        user().header("X-API-Key", "sps_nonsense"),
    ] {
        let (status, body) = send(request).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(body["message"], "Unauthenticated.");
    }
}

#[tokio::test]
async fn api_keys_cannot_log_out() {
    let server = TestServer::start().await;
    let account = server.account("ada@example.com").await;
    let key = server.api_key(&account).await;
    let (status, _) = send(
        server
            .request(Method::POST, "/api/v1/auth/logout")
            .bearer_auth(&key),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
