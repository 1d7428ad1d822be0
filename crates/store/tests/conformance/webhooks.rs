//! Webhooks: a run's end writes its deliveries in the same transaction,
//! for the webhooks that asked for the event; claims are exclusive while
//! their lease lasts; attempts are recorded only by the claim's holder.

use crate::builders::{insert_thread, thread};
use crate::fixtures::{at, insert_workspace, user};
use crate::runs::new_run;
use spool_core::model::{RunAdmission, RunStatus};
use spool_core::paging::PageRequest;
use spool_core::store::Lease;
use spool_core::webhooks::{DeliveryAttempt, DeliveryStatus, Webhook, WebhookEvent};
use spool_core::{Store, Timestamp, WebhookId, WorkspaceId};
use std::collections::HashSet;
use std::sync::Arc;

fn webhook(workspace: WorkspaceId, events: &[WebhookEvent], seconds: i64) -> Webhook {
    Webhook {
        id: WebhookId::new(),
        workspace_id: workspace,
        url: "https://hooks.example.com/spool".into(),
        events: events.to_vec(),
        secret: "whsec_c2VjcmV0".into(),
        created_at: at(seconds),
        updated_at: at(seconds),
    }
}

fn lease(holder: &str, until: Timestamp) -> Lease<'_> {
    Lease { holder, until }
}

pub async fn story_webhook_outbox(store: Arc<dyn Store>) {
    let owner = user(&store, "hooks@example.com").await;
    let workspace = insert_workspace(&store, "Hooks", owner.id).await;
    let other = insert_workspace(&store, "Elsewhere", owner.id).await;
    let completed = webhook(workspace.id, &[WebhookEvent::RunCompleted], 1);
    let everything = webhook(workspace.id, &WebhookEvent::ALL, 2);
    let elsewhere = webhook(other.id, &WebhookEvent::ALL, 3);
    for hook in [&completed, &everything, &elsewhere] {
        store.insert_webhook(hook.clone()).await.unwrap();
    }
    assert_eq!(
        store.webhook(workspace.id, completed.id).await.unwrap(),
        Some(completed.clone())
    );
    assert_eq!(store.webhook(other.id, completed.id).await.unwrap(), None);
    let listed = store
        .list_webhooks(workspace.id, PageRequest::default())
        .await
        .unwrap();
    assert_eq!(listed.total, 2);
    assert_eq!(listed.items[0].id, everything.id, "newest first");

    // A run that ends completed owes both of its workspace's webhooks.
    let t = insert_thread(&store, thread(workspace.id, Some(owner.id), at(5))).await;
    let RunAdmission::Started { run, .. } = store
        .create_run(new_run(&t, 10), None, false)
        .await
        .unwrap()
    else {
        panic!("the run should start")
    };
    let mut done = run.clone();
    done.status = RunStatus::Completed;
    done.finished_at = Some(at(20));
    store
        .finish_run(&done, RunStatus::InProgress, None)
        .await
        .unwrap()
        .expect("ended");
    let log = |hook: WebhookId| {
        let store = store.clone();
        async move {
            store
                .list_webhook_deliveries(hook, PageRequest::default())
                .await
                .unwrap()
        }
    };
    for hook in [completed.id, everything.id] {
        let page = log(hook).await;
        assert_eq!(page.total, 1);
        let delivery = &page.items[0];
        assert_eq!(delivery.event, "run.completed");
        assert_eq!(delivery.run_id, Some(run.id));
        assert_eq!(delivery.status, DeliveryStatus::Pending);
        assert_eq!(delivery.attempts, 0);
        assert_eq!(delivery.next_attempt_at, Some(at(20)));
    }
    assert_eq!(log(elsewhere.id).await.total, 0);

    // Claimed once while the lease lasts.
    let claimed = store
        .claim_webhook_deliveries(lease("a", at(100)), at(30), 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 2);
    let body: serde_json::Value = serde_json::from_str(&claimed[0].payload).unwrap();
    assert_eq!(body["type"], "run.completed");
    assert_eq!(body["data"]["uuid"], run.id.to_string().as_str());
    assert_eq!(claimed[0].url, "https://hooks.example.com/spool");
    assert_eq!(claimed[0].secret, "whsec_c2VjcmV0");
    let again = store
        .claim_webhook_deliveries(lease("b", at(100)), at(31), 10)
        .await
        .unwrap();
    assert!(again.is_empty(), "{again:?}");

    // Only the holder records an attempt; a retry waits for its time.
    let (first, second) = (&claimed[0], &claimed[1]);
    let retry = DeliveryAttempt::Retry {
        status: Some(500),
        error: "The receiver answered 500.".into(),
        at: at(32),
        next_at: at(60),
    };
    assert!(
        !store
            .record_webhook_attempt(first.id, "b", retry.clone())
            .await
            .unwrap()
    );
    assert!(
        store
            .record_webhook_attempt(first.id, "a", retry)
            .await
            .unwrap()
    );
    let early = store
        .claim_webhook_deliveries(lease("b", at(200)), at(50), 10)
        .await
        .unwrap();
    assert!(early.is_empty(), "not due, or leased: {early:?}");
    // Past its time, and past the other one's lease: both are b's now.
    let late = store
        .claim_webhook_deliveries(lease("b", at(300)), at(150), 10)
        .await
        .unwrap();
    let ids: HashSet<_> = late.iter().map(|d| d.id).collect();
    assert_eq!(ids, HashSet::from([first.id, second.id]));
    assert_eq!(late.iter().find(|d| d.id == first.id).unwrap().attempts, 1);
    // The lease a lost to b: a's late answer changes nothing.
    let delivered = DeliveryAttempt::Delivered {
        status: 204,
        at: at(151),
    };
    assert!(
        !store
            .record_webhook_attempt(second.id, "a", delivered.clone())
            .await
            .unwrap()
    );
    assert!(
        store
            .record_webhook_attempt(second.id, "b", delivered.clone())
            .await
            .unwrap()
    );
    assert!(
        !store
            .record_webhook_attempt(second.id, "b", delivered)
            .await
            .unwrap(),
        "a delivered one is done"
    );
    let gave_up = DeliveryAttempt::GaveUp {
        status: None,
        error: "The receiver could not be reached.".into(),
        at: at(152),
    };
    assert!(
        store
            .record_webhook_attempt(first.id, "b", gave_up)
            .await
            .unwrap()
    );
    let statuses: Vec<_> = [completed.id, everything.id]
        .into_iter()
        .map(|hook| (hook, first.id, second.id))
        .collect();
    for (hook, first_id, _) in statuses {
        let page = log(hook).await;
        let d = &page.items[0];
        if d.id == first_id {
            assert_eq!(d.status, DeliveryStatus::Failed);
            assert_eq!(d.attempts, 2);
            assert_eq!(d.response_status, None);
            assert_eq!(d.next_attempt_at, None);
        } else {
            assert_eq!(d.status, DeliveryStatus::Delivered);
            assert_eq!(d.attempts, 1);
            assert_eq!(d.response_status, Some(204));
            assert_eq!(d.delivered_at, Some(at(151)));
        }
    }
    assert!(
        store
            .claim_webhook_deliveries(lease("c", at(900)), at(800), 10)
            .await
            .unwrap()
            .is_empty(),
        "nothing is pending"
    );

    // A run waiting for tool outputs is an event too, for those who ask.
    let RunAdmission::Started { run: waiting, .. } = store
        .create_run(new_run(&t, 30), None, false)
        .await
        .unwrap()
    else {
        panic!("the run should start")
    };
    let calls = serde_json::json!([{ "id": "call_1", "name": "lookup", "arguments": "{}" }]);
    assert!(store.require_run_action(waiting.id, calls).await.unwrap());
    let page = log(everything.id).await;
    assert_eq!(page.total, 2);
    assert_eq!(page.items[0].event, "run.requires_action");
    assert_eq!(log(completed.id).await.total, 1);

    // Deleting a webhook takes its log along; another workspace cannot.
    assert!(!store.delete_webhook(other.id, everything.id).await.unwrap());
    assert!(
        store
            .delete_webhook(workspace.id, everything.id)
            .await
            .unwrap()
    );
    assert_eq!(log(everything.id).await.total, 0);
    assert_eq!(
        store.webhook(workspace.id, everything.id).await.unwrap(),
        None
    );
}

/// Nodes claiming at once never claim the same delivery.
pub async fn story_concurrent_claims(store: Arc<dyn Store>) {
    let owner = user(&store, "claims@example.com").await;
    let workspace = insert_workspace(&store, "Claims", owner.id).await;
    store
        .insert_webhook(webhook(workspace.id, &WebhookEvent::ALL, 1))
        .await
        .unwrap();
    let mut expected = 0;
    for k in 0..12 {
        let t = insert_thread(&store, thread(workspace.id, Some(owner.id), at(k))).await;
        let RunAdmission::Started { run, .. } = store
            .create_run(new_run(&t, k + 1), None, false)
            .await
            .unwrap()
        else {
            panic!("the run should start")
        };
        let mut done = run;
        done.status = RunStatus::Failed;
        done.finished_at = Some(at(k + 2));
        store
            .finish_run(&done, RunStatus::InProgress, None)
            .await
            .unwrap();
        expected += 1;
    }
    let holders: Vec<String> = (0..6).map(|n| format!("node-{n}")).collect();
    let mut claims = tokio::task::JoinSet::new();
    for holder in holders {
        let store = store.clone();
        claims.spawn(async move {
            store
                .claim_webhook_deliveries(lease(&holder, at(1000)), at(100), 3)
                .await
                .unwrap()
                .into_iter()
                .map(|d| d.id)
                .collect::<Vec<_>>()
        });
    }
    let mut seen = HashSet::new();
    while let Some(claimed) = claims.join_next().await {
        for id in claimed.unwrap() {
            assert!(seen.insert(id), "claimed twice: {id}");
        }
    }
    assert!(seen.len() <= expected);
    let rest = store
        .claim_webhook_deliveries(lease("late", at(1000)), at(100), 100)
        .await
        .unwrap();
    for d in &rest {
        assert!(seen.insert(d.id), "claimed twice: {}", d.id);
    }
    assert_eq!(seen.len(), expected);
}

/// What a node that stopped right after a run's end left: its delivery,
/// written with the end.
pub async fn end_a_run_owing_a_delivery(store: Arc<dyn Store>) -> WebhookId {
    let owner = user(&store, "restart@example.com").await;
    let workspace = insert_workspace(&store, "Restart", owner.id).await;
    let hook = webhook(workspace.id, &WebhookEvent::ALL, 1);
    store.insert_webhook(hook.clone()).await.unwrap();
    let t = insert_thread(&store, thread(workspace.id, Some(owner.id), at(5))).await;
    let RunAdmission::Started { run, .. } = store
        .create_run(new_run(&t, 10), None, false)
        .await
        .unwrap()
    else {
        panic!("the run should start")
    };
    let mut done = run;
    done.status = RunStatus::Cancelled;
    done.finished_at = Some(at(20));
    store
        .finish_run(&done, RunStatus::InProgress, None)
        .await
        .unwrap();
    hook.id
}

/// The next process finds the delivery and may send it.
pub async fn the_delivery_is_still_owed(store: Arc<dyn Store>, hook: WebhookId) {
    let due = store
        .claim_webhook_deliveries(lease("next", at(100)), at(30), 10)
        .await
        .unwrap();
    assert_eq!(due.len(), 1, "{due:?}");
    let body: serde_json::Value = serde_json::from_str(&due[0].payload).unwrap();
    assert_eq!(body["type"], "run.cancelled");
    let page = store
        .list_webhook_deliveries(hook, PageRequest::default())
        .await
        .unwrap();
    assert_eq!(page.items[0].id, due[0].id);
}
