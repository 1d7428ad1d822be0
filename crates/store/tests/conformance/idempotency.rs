//! `Idempotency-Key` claims: start once, report a running or mismatched
//! request, replay a finished one, expire, and be given up; leases that a
//! crashed process cannot keep; effects marked in their own transaction.

use crate::fixtures::{at, user, workspace};
use chrono::Duration;
use spool_core::idempotency::{self, Claim, Reference};
use spool_core::query::IdempotencyBegin::{self, InProgress, Mismatch, Replay, Resume, Started};
use spool_core::store::Lease;
use spool_core::{RunId, Store, Timestamp};
use std::sync::Arc;

const DAY: i64 = 24 * 3600;
const LEASE: i64 = 30;

struct Keys {
    store: Arc<dyn Store>,
}

impl Keys {
    async fn begin(
        &self,
        owner: &str,
        key: &str,
        fingerprint: [u8; 32],
        seconds: i64,
        holder: &str,
    ) -> IdempotencyBegin {
        let now = at(seconds);
        self.store
            .idempotency_begin(
                owner,
                key,
                &fingerprint,
                now,
                now - Duration::seconds(DAY),
                lease(holder, now),
            )
            .await
            .expect("idempotency_begin")
    }
}

fn lease(holder: &str, now: Timestamp) -> Lease<'_> {
    Lease {
        holder,
        until: now + Duration::seconds(LEASE),
    }
}

pub async fn story_idempotency(store: Arc<dyn Store>) {
    let keys = Keys {
        store: store.clone(),
    };
    let (first, second) = ([1u8; 32], [2u8; 32]);

    assert_eq!(keys.begin("key:1", "k", first, 0, "a").await, Started);
    assert_eq!(keys.begin("key:1", "k", first, 1, "b").await, InProgress);
    assert_eq!(keys.begin("key:1", "k", second, 1, "b").await, Mismatch);
    assert_eq!(
        keys.begin("key:2", "k", second, 1, "a").await,
        Started,
        "keys belong to their owner"
    );
    assert_eq!(
        keys.begin("key:1", "K", first, 1, "a").await,
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
    assert_eq!(keys.begin("key:1", "k", first, 2, "b").await, replay);
    assert_eq!(
        keys.begin("key:1", "k", first, DAY - 1, "b").await,
        replay,
        "a kept response outlives any lease"
    );
    assert_eq!(keys.begin("key:1", "k", second, 3, "b").await, Mismatch);

    // Older than the window: claimed afresh, whatever the old one held.
    assert_eq!(
        keys.begin("key:1", "k", second, DAY + 1, "a").await,
        Started
    );
    assert_eq!(
        keys.begin("key:1", "k", second, DAY + 2, "b").await,
        InProgress
    );
    assert_eq!(
        keys.begin("key:1", "k", first, DAY + 2, "b").await,
        Mismatch
    );

    // An empty response replays as empty.
    store
        .idempotency_finish("key:1", "k", 204, &[])
        .await
        .unwrap();
    assert_eq!(
        keys.begin("key:1", "k", second, DAY + 3, "b").await,
        Replay {
            status: 204,
            body: Vec::new()
        }
    );

    // Releasing a claim that committed nothing frees the key at once.
    assert_eq!(keys.begin("key:3", "gone", first, 10, "a").await, Started);
    store.idempotency_release("key:3", "gone").await.unwrap();
    assert_eq!(keys.begin("key:3", "gone", second, 11, "a").await, Started);
    store
        .idempotency_release("key:3", "never-used")
        .await
        .expect("releasing an unknown key is fine");
    store
        .idempotency_finish("key:3", "never-used", 200, b"{}")
        .await
        .expect("finishing an unknown key is fine");
    assert_eq!(
        keys.begin("key:3", "never-used", first, 12, "a").await,
        Started
    );
}

/// A claim whose process stopped renewing it is taken over once its lease
/// has run out; until then it is in progress. Renewing keeps it alive and
/// only its holder can renew it.
pub async fn story_idempotency_leases(store: Arc<dyn Store>) {
    let keys = Keys {
        store: store.clone(),
    };
    let fp = [7u8; 32];
    assert_eq!(keys.begin("key:9", "k", fp, 0, "dead").await, Started);
    assert_eq!(
        keys.begin("key:9", "k", fp, LEASE - 1, "b").await,
        InProgress
    );
    assert_eq!(
        keys.begin("key:9", "k", fp, LEASE + 1, "b").await,
        Started,
        "nothing committed: the request may run afresh"
    );
    // The dead holder cannot extend what is no longer its lease.
    store
        .idempotency_renew("key:9", "k", lease("dead", at(10 * LEASE)))
        .await
        .unwrap();
    assert_eq!(
        keys.begin("key:9", "k", fp, 2 * LEASE + 2, "c").await,
        Started,
        "b's lease ran out too, and the dead holder did not revive it"
    );
    // The live holder renews: still in progress long after.
    store
        .idempotency_renew("key:9", "k", lease("c", at(5 * LEASE)))
        .await
        .unwrap();
    assert_eq!(
        keys.begin("key:9", "k", fp, 5 * LEASE + LEASE - 1, "d")
            .await,
        InProgress
    );
}

/// Writes made while a request carries its claim mark the claim in their
/// own transaction; a write that fails marks nothing; writes of spawned work
/// do not mark it. A marked claim whose lease ends is resumed, not restarted.
pub async fn story_idempotency_effects(store: Arc<dyn Store>) {
    let keys = Keys {
        store: store.clone(),
    };
    let fp = [3u8; 32];
    let owner = user(&store, "effects@example.com").await.id;

    // A failed write: nothing committed, so nothing marked.
    assert_eq!(keys.begin("key:e", "failed", fp, 0, "a").await, Started);
    let taken = workspace("Taken", at(0), owner);
    store.insert_workspace(taken.clone(), owner).await.unwrap();
    let claim = Claim::new("key:e".into(), "failed".into(), None);
    let duplicate = store.clone();
    let failed = idempotency::carry(claim, async move {
        duplicate.insert_workspace(taken, owner).await
    })
    .await;
    assert!(failed.is_err(), "the same workspace twice is refused");
    assert_eq!(
        keys.begin("key:e", "failed", fp, LEASE + 1, "b").await,
        Started
    );

    // Spawned work does not carry the claim.
    assert_eq!(keys.begin("key:e", "spawned", fp, 0, "a").await, Started);
    let claim = Claim::new("key:e".into(), "spawned".into(), None);
    let spawned = store.clone();
    idempotency::carry(claim, async move {
        let ws = workspace("Spawned", at(0), owner);
        tokio::spawn(async move { spawned.insert_workspace(ws, owner).await })
            .await
            .unwrap()
            .unwrap();
    })
    .await;
    assert_eq!(
        keys.begin("key:e", "spawned", fp, LEASE + 1, "b").await,
        Started
    );

    // A committed write marks the claim, with what it referred to.
    assert_eq!(keys.begin("key:e", "done", fp, 0, "a").await, Started);
    let run = RunId::new();
    let claim = Claim::new("key:e".into(), "done".into(), None);
    let writer = store.clone();
    idempotency::carry(claim, async move {
        idempotency::refer(Reference::Run(run));
        let ws = workspace("Made", at(0), owner);
        writer.insert_workspace(ws, owner).await.unwrap();
    })
    .await;
    assert_eq!(
        keys.begin("key:e", "done", fp, 1, "b").await,
        InProgress,
        "its lease is still alive"
    );
    let resumed = Resume {
        reference: Some(Reference::Run(run).encode()),
    };
    assert_eq!(
        keys.begin("key:e", "done", fp, LEASE + 1, "b").await,
        resumed
    );
    assert_eq!(
        keys.begin("key:e", "done", fp, LEASE + 2, "c").await,
        InProgress,
        "b resumed it and holds it now"
    );
    // Released without a response: the next retry resumes at once.
    store.idempotency_release("key:e", "done").await.unwrap();
    assert_eq!(
        keys.begin("key:e", "done", fp, LEASE + 3, "c").await,
        resumed
    );
    store
        .idempotency_finish("key:e", "done", 200, b"{}")
        .await
        .unwrap();
    assert_eq!(
        keys.begin("key:e", "done", fp, LEASE + 4, "d").await,
        Replay {
            status: 200,
            body: b"{}".to_vec()
        }
    );

    // A single node starting ends every lease: claims that committed
    // nothing are gone, the others resumable. Several PostgreSQL nodes
    // share their claims, so there a start ends none.
    assert_eq!(keys.begin("key:s", "idle", fp, 0, "a").await, Started);
    assert_eq!(keys.begin("key:s", "marked", fp, 0, "a").await, Started);
    let claim = Claim::new("key:s".into(), "marked".into(), None);
    let writer = store.clone();
    idempotency::carry(claim, async move {
        let ws = workspace("Marked", at(0), owner);
        writer.insert_workspace(ws, owner).await.unwrap();
    })
    .await;
    let ended = store.idempotency_release_all().await.unwrap();
    if store.backend() == "sqlite" {
        // These two, and the "failed" and "spawned" claims above, which b
        // still holds.
        assert_eq!(ended, 4);
        assert_eq!(
            keys.begin("key:s", "idle", [4u8; 32], 1, "b").await,
            Started
        );
        assert_eq!(
            keys.begin("key:s", "marked", fp, 1, "b").await,
            Resume { reference: None }
        );
    } else {
        assert_eq!(ended, 0);
        assert_eq!(keys.begin("key:s", "idle", fp, 1, "b").await, InProgress);
        assert_eq!(keys.begin("key:s", "marked", fp, 1, "b").await, InProgress);
    }
}
