//! Values the stories insert.

use chrono::{Duration, TimeZone, Utc};
use serde_json::json;
use spool_core::model::{ApiKey, NewUser, Session, User, Workspace};
use spool_core::secret::{API_KEY_PREFIX, PlainToken, SESSION_PREFIX};
use spool_core::validate::Metadata;
use spool_core::{ApiKeyId, SessionId, Store, Timestamp, UserId, WorkspaceId};
use std::sync::Arc;

/// A fixed instant with all six sub-second digits in use.
pub fn t0() -> Timestamp {
    Utc.with_ymd_and_hms(2024, 2, 29, 23, 59, 58).unwrap() + Duration::microseconds(123_456)
}

pub fn at(seconds: i64) -> Timestamp {
    t0() + Duration::seconds(seconds)
}

pub fn new_user(email: &str) -> NewUser {
    NewUser {
        uuid: uuid::Uuid::now_v7(),
        name: format!("User {email}"),
        first_name: Some("Ada".into()),
        last_name: None,
        email: email.into(),
        password_hash: format!("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA${email}"),
        created_at: t0(),
    }
}

pub async fn user(store: &Arc<dyn Store>, email: &str) -> User {
    store
        .insert_user(new_user(email))
        .await
        .expect("insert user")
}

pub fn metadata() -> Metadata {
    let value =
        json!({ "plan": "team", "seats": 5, "nested": { "a": [1, "two", null] }, "ok": true });
    Metadata::from_stored(value.as_object().unwrap().clone())
}

pub fn workspace(name: &str, created_at: Timestamp, owner: UserId) -> Workspace {
    Workspace {
        id: WorkspaceId::new(),
        slug: name.to_lowercase().replace(' ', "-"),
        name: name.into(),
        profile_photo_url: None,
        is_onboarded: false,
        metadata: Metadata::default(),
        owner_id: Some(owner),
        thread_retention_days: None,
        created_at,
        updated_at: created_at,
    }
}

pub async fn insert_workspace(store: &Arc<dyn Store>, name: &str, owner: UserId) -> Workspace {
    store
        .insert_workspace(workspace(name, t0(), owner), owner)
        .await
        .expect("insert workspace")
}

pub fn session(user: UserId, created_at: Timestamp) -> Session {
    Session {
        id: SessionId::new(),
        user_id: user,
        hash: PlainToken::generate(SESSION_PREFIX).hash(),
        created_at,
        expires_at: created_at + Duration::days(30),
        revoked_at: None,
    }
}

pub fn api_key(workspace: WorkspaceId, user: UserId, created_at: Timestamp) -> ApiKey {
    let token = PlainToken::generate(API_KEY_PREFIX);
    ApiKey {
        id: ApiKeyId::new(),
        workspace_id: workspace,
        user_id: user,
        name: "ci".into(),
        prefix: token.display_prefix(),
        hash: token.hash(),
        created_at,
        last_used_at: None,
        expires_at: None,
        revoked_at: None,
    }
}

pub async fn insert_api_key(
    store: &Arc<dyn Store>,
    workspace: WorkspaceId,
    user: UserId,
) -> ApiKey {
    let key = api_key(workspace, user, t0());
    store
        .insert_api_key(key.clone())
        .await
        .expect("insert API key");
    key
}
