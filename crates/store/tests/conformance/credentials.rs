//! Sign-in sessions and API keys.

use crate::fixtures::{self, at, t0};
use spool_core::paging::PageRequest;
use spool_core::secret::{API_KEY_PREFIX, PlainToken, SESSION_PREFIX};
use spool_core::{ApiKeyId, Store, StoreError, WorkspaceId};
use std::sync::Arc;

pub async fn story_sessions(store: Arc<dyn Store>) {
    let ada = fixtures::user(&store, "ada@example.com").await;
    let session = fixtures::session(ada.id, t0());
    store.insert_session(session.clone()).await.unwrap();
    let other = fixtures::session(ada.id, at(1));
    store.insert_session(other.clone()).await.unwrap();

    assert_eq!(
        store.session_by_hash(session.hash).await.unwrap(),
        Some(session.clone())
    );
    assert_eq!(
        store
            .session_by_hash(PlainToken::generate(SESSION_PREFIX).hash())
            .await
            .unwrap(),
        None
    );
    assert!(
        store
            .session_by_hash(session.hash)
            .await
            .unwrap()
            .unwrap()
            .is_active(at(2))
    );

    store.revoke_session(session.hash, at(10)).await.unwrap();
    let revoked = store
        .session_by_hash(session.hash)
        .await
        .unwrap()
        .expect("revoked sessions are still found");
    assert_eq!(revoked.revoked_at, Some(at(10)));
    assert!(!revoked.is_active(at(11)));
    // A second logout keeps the first instant.
    store.revoke_session(session.hash, at(20)).await.unwrap();
    assert_eq!(
        store
            .session_by_hash(session.hash)
            .await
            .unwrap()
            .unwrap()
            .revoked_at,
        Some(at(10))
    );
    // Only that session.
    assert_eq!(
        store.session_by_hash(other.hash).await.unwrap(),
        Some(other)
    );
    // Revoking an unknown token is not an error.
    store
        .revoke_session(PlainToken::generate(SESSION_PREFIX).hash(), at(30))
        .await
        .unwrap();

    let duplicate = fixtures::session(ada.id, t0());
    let duplicate = spool_core::model::Session {
        hash: session.hash,
        ..duplicate
    };
    assert!(matches!(
        store.insert_session(duplicate).await,
        Err(StoreError::Unique(_))
    ));
}

pub async fn story_api_keys(store: Arc<dyn Store>) {
    let ada = fixtures::user(&store, "ada@example.com").await;
    let workspace = fixtures::insert_workspace(&store, "Keys", ada.id).await;
    let elsewhere = fixtures::insert_workspace(&store, "Elsewhere", ada.id).await;

    let mut keys = Vec::new();
    for seconds in [10, 30, 20, 30] {
        let mut key = fixtures::api_key(workspace.id, ada.id, at(seconds));
        key.name = format!("key at {seconds}");
        key.expires_at = Some(at(seconds + 3600));
        store.insert_api_key(key.clone()).await.unwrap();
        keys.push(key);
    }
    let foreign = fixtures::insert_api_key(&store, elsewhere.id, ada.id).await;
    // Newest first; keys made in the same instant, newest id first.
    keys.sort_by_key(|k| std::cmp::Reverse((k.created_at, k.id)));

    let first = store
        .list_api_keys(
            workspace.id,
            PageRequest {
                page: 1,
                per_page: 3,
            },
        )
        .await
        .unwrap();
    assert_eq!(first.total, 4);
    assert_eq!(first.items, keys[0..3]);
    let second = store
        .list_api_keys(
            workspace.id,
            PageRequest {
                page: 2,
                per_page: 3,
            },
        )
        .await
        .unwrap();
    assert_eq!(second.items, keys[3..4]);
    let foreign_list = store
        .list_api_keys(elsewhere.id, PageRequest::default())
        .await
        .unwrap();
    assert_eq!(foreign_list.items, vec![foreign.clone()]);

    let key = keys[1].clone();
    assert_eq!(
        store.api_key_by_hash(key.hash).await.unwrap(),
        Some(key.clone())
    );
    assert_eq!(
        store
            .api_key_by_hash(PlainToken::generate(API_KEY_PREFIX).hash())
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store.api_key(workspace.id, key.id).await.unwrap(),
        Some(key.clone())
    );
    assert_eq!(
        store.api_key(elsewhere.id, key.id).await.unwrap(),
        None,
        "keys are found only in their workspace"
    );
    assert_eq!(
        store.api_key(workspace.id, ApiKeyId::new()).await.unwrap(),
        None
    );

    // Revoking: only in its own workspace, only once.
    assert!(
        !store
            .revoke_api_key(elsewhere.id, key.id, at(100))
            .await
            .unwrap()
    );
    assert!(
        store
            .revoke_api_key(workspace.id, key.id, at(100))
            .await
            .unwrap()
    );
    assert!(
        !store
            .revoke_api_key(workspace.id, key.id, at(200))
            .await
            .unwrap()
    );
    assert!(
        !store
            .revoke_api_key(workspace.id, ApiKeyId::new(), at(200))
            .await
            .unwrap()
    );
    assert!(
        !store
            .revoke_api_key(WorkspaceId::new(), foreign.id, at(200))
            .await
            .unwrap()
    );
    let revoked = store
        .api_key_by_hash(key.hash)
        .await
        .unwrap()
        .expect("revoked keys are still found by hash");
    assert_eq!(revoked.revoked_at, Some(at(100)));
    assert!(!revoked.is_active(at(101)));
    assert_eq!(
        store.api_key(workspace.id, key.id).await.unwrap(),
        Some(revoked)
    );
    assert_eq!(
        store.api_key_by_hash(keys[0].hash).await.unwrap(),
        Some(keys[0].clone()),
        "others untouched"
    );
    assert_eq!(
        store.api_key_by_hash(foreign.hash).await.unwrap(),
        Some(foreign.clone())
    );

    // Use is recorded per key.
    store.touch_api_key(keys[0].id, at(300)).await.unwrap();
    let touched = store
        .api_key(workspace.id, keys[0].id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(touched.last_used_at, Some(at(300)));
    assert_eq!(
        touched,
        spool_core::model::ApiKey {
            last_used_at: Some(at(300)),
            ..keys[0].clone()
        }
    );
    store.touch_api_key(keys[0].id, at(400)).await.unwrap();
    assert_eq!(
        store
            .api_key_by_hash(keys[0].hash)
            .await
            .unwrap()
            .unwrap()
            .last_used_at,
        Some(at(400))
    );
    assert_eq!(
        store
            .api_key_by_hash(keys[2].hash)
            .await
            .unwrap()
            .unwrap()
            .last_used_at,
        None
    );
    store.touch_api_key(ApiKeyId::new(), at(500)).await.unwrap();

    let mut duplicate = fixtures::api_key(workspace.id, ada.id, at(600));
    duplicate.hash = foreign.hash;
    assert!(matches!(
        store.insert_api_key(duplicate.clone()).await,
        Err(StoreError::Unique(_))
    ));
    assert_eq!(
        store.api_key(workspace.id, duplicate.id).await.unwrap(),
        None
    );
}

/// Requests finish out of order: a late touch with an older instant leaves
/// `last_used_at` where it is.
pub async fn story_api_key_touch_never_moves_back(store: Arc<dyn Store>) {
    let ada = fixtures::user(&store, "ada@example.com").await;
    let workspace = fixtures::insert_workspace(&store, "Touch", ada.id).await;
    let key = fixtures::insert_api_key(&store, workspace.id, ada.id).await;
    let last_used = || async {
        let found = store.api_key(workspace.id, key.id).await.unwrap();
        found.unwrap().last_used_at
    };

    store.touch_api_key(key.id, at(10)).await.unwrap();
    assert_eq!(last_used().await, Some(at(10)));
    store.touch_api_key(key.id, at(5)).await.unwrap();
    assert_eq!(last_used().await, Some(at(10)), "moved back");
    store.touch_api_key(key.id, at(10)).await.unwrap();
    assert_eq!(last_used().await, Some(at(10)));
    store.touch_api_key(key.id, at(20)).await.unwrap();
    assert_eq!(last_used().await, Some(at(20)));
}
