//! `Idempotency-Key` claims: start once, report a running or mismatched
//! request, replay a finished one, expire, and be given up.

use crate::fixtures::at;
use chrono::Duration;
use spool_core::Store;
use spool_core::query::IdempotencyBegin::{InProgress, Mismatch, Replay, Started};
use std::sync::Arc;

const DAY: i64 = 24 * 3600;

pub async fn story_idempotency(store: Arc<dyn Store>) {
    let (first, second) = ([1u8; 32], [2u8; 32]);
    let window = Duration::seconds(DAY);
    let begin = |owner: &'static str, key: &'static str, fingerprint: [u8; 32], seconds: i64| {
        let store = store.clone();
        async move {
            let now = at(seconds);
            store
                .idempotency_begin(owner, key, &fingerprint, now, now - window)
                .await
                .expect("idempotency_begin")
        }
    };

    assert_eq!(begin("key:1", "k", first, 0).await, Started);
    assert_eq!(begin("key:1", "k", first, 1).await, InProgress);
    assert_eq!(begin("key:1", "k", second, 1).await, Mismatch);
    assert_eq!(
        begin("key:2", "k", second, 1).await,
        Started,
        "keys belong to their owner"
    );
    assert_eq!(
        begin("key:1", "K", first, 1).await,
        Started,
        "keys are exact"
    );

    let body = vec![0u8, 159, 146, 150, b'{', b'}'];
    store
        .idempotency_finish("key:1", "k", 201, &body)
        .await
        .unwrap();
    let replay = Replay {
        status: 201,
        body: body.clone(),
    };
    assert_eq!(begin("key:1", "k", first, 2).await, replay);
    assert_eq!(begin("key:1", "k", first, DAY - 1).await, replay);
    assert_eq!(begin("key:1", "k", second, 3).await, Mismatch);
    assert_eq!(begin("key:2", "k", second, 3).await, InProgress);

    // Older than the window: claimed afresh, whatever the old one held.
    assert_eq!(begin("key:1", "k", second, DAY + 1).await, Started);
    assert_eq!(begin("key:1", "k", second, DAY + 2).await, InProgress);
    assert_eq!(begin("key:1", "k", first, DAY + 2).await, Mismatch);

    // An empty response replays as empty.
    store
        .idempotency_finish("key:1", "k", 204, &[])
        .await
        .unwrap();
    assert_eq!(
        begin("key:1", "k", second, DAY + 3).await,
        Replay {
            status: 204,
            body: Vec::new()
        }
    );

    // Abandoning frees the key at once.
    assert_eq!(begin("key:3", "gone", first, 10).await, Started);
    store.idempotency_abandon("key:3", "gone").await.unwrap();
    assert_eq!(begin("key:3", "gone", second, 11).await, Started);
    store
        .idempotency_abandon("key:3", "never-used")
        .await
        .expect("abandoning an unknown key is fine");
    store
        .idempotency_finish("key:3", "never-used", 200, b"{}")
        .await
        .expect("finishing an unknown key is fine");
    assert_eq!(begin("key:3", "never-used", first, 12).await, Started);
}
