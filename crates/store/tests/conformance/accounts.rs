//! Users, and what every table relies on: timestamps and concurrent writers.

use crate::fixtures::{self, at, new_user, t0};
use chrono::{Duration, TimeZone, Utc};
use spool_core::{Store, StoreError, UserId};
use std::collections::HashSet;
use std::sync::Arc;

pub async fn story_users(store: Arc<dyn Store>) {
    store.ping().await.expect("ping");
    assert_eq!(store.count_users().await.unwrap(), 0);

    let new = new_user("ada@example.com");
    let ada = store.insert_user(new.clone()).await.expect("insert user");
    assert_eq!(ada.uuid, new.uuid);
    assert_eq!(ada.name, new.name);
    assert_eq!(ada.first_name.as_deref(), Some("Ada"));
    assert_eq!(ada.last_name, None);
    assert_eq!(ada.email, "ada@example.com");
    assert_eq!(ada.profile_photo_url, None);
    assert_eq!(ada.primary_workspace_id, None);
    assert_eq!((ada.created_at, ada.updated_at), (t0(), t0()));

    let grace = fixtures::user(&store, "grace@example.com").await;
    assert_ne!(ada.id, grace.id);
    assert_eq!(store.count_users().await.unwrap(), 2);

    let taken = store.insert_user(new_user("ada@example.com")).await;
    assert!(
        matches!(taken, Err(StoreError::Unique(_))),
        "duplicate email: {taken:?}"
    );
    assert_eq!(
        store.count_users().await.unwrap(),
        2,
        "a refused insert leaves nothing behind"
    );

    assert_eq!(store.user(ada.id).await.unwrap().as_ref(), Some(&ada));
    assert_eq!(
        store.user(UserId(ada.id.0 + 1_000_000)).await.unwrap(),
        None
    );
    // The operator's listing walks every user in id order.
    assert_eq!(
        store.users_after(None, 10).await.unwrap(),
        [ada.clone(), grace.clone()]
    );
    assert_eq!(store.users_after(None, 1).await.unwrap(), vec![ada.clone()]);
    assert_eq!(
        store.users_after(Some(ada.id), 10).await.unwrap(),
        vec![grace.clone()]
    );
    assert_eq!(store.users_after(Some(grace.id), 10).await.unwrap(), []);
    assert_eq!(
        store
            .user_by_email("grace@example.com")
            .await
            .unwrap()
            .as_ref(),
        Some(&grace)
    );
    assert_eq!(
        store.user_by_email("nobody@example.com").await.unwrap(),
        None
    );

    let (user, phc) = store
        .user_password_hash("ada@example.com")
        .await
        .unwrap()
        .expect("ada's hash");
    assert_eq!(user, ada);
    assert_eq!(phc, new.password_hash);
    assert_eq!(
        store
            .user_password_hash("nobody@example.com")
            .await
            .unwrap(),
        None
    );
}

/// Sign-ups arrive together; each gets its own id and none is lost.
pub async fn story_concurrent_sign_ups(store: Arc<dyn Store>) {
    let inserts = (0..200).map(|i| {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .insert_user(new_user(&format!("user{i}@example.com")))
                .await
        })
    });
    let mut ids = HashSet::new();
    for insert in inserts.collect::<Vec<_>>() {
        let user = insert.await.expect("task").expect("insert user");
        assert!(ids.insert(user.id), "id {} handed out twice", user.id);
    }
    assert_eq!(ids.len(), 200);
    assert_eq!(store.count_users().await.unwrap(), 200);
}

/// Instants come back exactly as written, to the microsecond, wherever they
/// fall: before the epoch, on a leap day, far ahead.
pub async fn story_timestamps_round_trip(store: Arc<dyn Store>) {
    let instants = [
        t0(),
        Utc.with_ymd_and_hms(1969, 12, 31, 23, 59, 59).unwrap() + Duration::microseconds(999_999),
        Utc.with_ymd_and_hms(2199, 1, 1, 0, 0, 0).unwrap() + Duration::microseconds(1),
        spool_core::now(),
    ];
    for (i, instant) in instants.into_iter().enumerate() {
        let mut new = new_user(&format!("time{i}@example.com"));
        new.created_at = instant;
        let user = store.insert_user(new).await.unwrap();
        let read = store.user(user.id).await.unwrap().unwrap();
        assert_eq!(
            (read.created_at, read.updated_at),
            (instant, instant),
            "user instant {i}"
        );

        let mut session = fixtures::session(user.id, instant);
        session.expires_at = instant + Duration::microseconds(1);
        store.insert_session(session.clone()).await.unwrap();
        let read = store.session_by_hash(session.hash).await.unwrap().unwrap();
        assert_eq!(read, session, "session instants {i}");
    }

    let owner = fixtures::user(&store, "owner@example.com").await;
    let workspace = fixtures::insert_workspace(&store, "Times", owner.id).await;
    let mut key = fixtures::api_key(workspace.id, owner.id, at(1));
    key.expires_at = Some(at(86_400) + Duration::microseconds(7));
    store.insert_api_key(key.clone()).await.unwrap();
    assert_eq!(
        store.api_key(workspace.id, key.id).await.unwrap(),
        Some(key)
    );
}
