//! Retention: idle threads past their own `expires_at`, or without one
//! past their workspace's `thread_retention_days` since their last
//! activity, are deleted in bounded batches with everything in them.

use crate::builders::{append, insert_agent, insert_thread, message, thread};
use crate::fixtures::{at, insert_workspace, user};
use crate::runs::new_run;
use spool_core::model::{RunAdmission, WorkspacePatch};
use spool_core::{Store, Timestamp};
use std::sync::Arc;

const DAY: i64 = 24 * 3600;

fn days(n: i64) -> Timestamp {
    at(n * DAY)
}

pub async fn story_thread_retention(store: Arc<dyn Store>) {
    let owner = user(&store, "retention@example.com").await;
    let kept_forever = insert_workspace(&store, "Forever", owner.id).await;
    let ten_days = insert_workspace(&store, "Ten days", owner.id).await;
    let patch = WorkspacePatch {
        thread_retention_days: Some(Some(10)),
        ..Default::default()
    };
    let changed = store
        .update_workspace(ten_days.id, patch, at(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(changed.thread_retention_days, Some(10));
    assert_eq!(
        store
            .workspace(ten_days.id)
            .await
            .unwrap()
            .unwrap()
            .thread_retention_days,
        Some(10)
    );
    let agent = insert_agent(&store, ten_days.id, owner.id, at(0)).await;

    // In the ten-day workspace: one quiet since day 0 (with an agent, a
    // message and a finished run), one active on day 15, one quiet but with
    // its own later expiry, one whose own expiry passed yesterday.
    let mut stale = thread(ten_days.id, Some(owner.id), days(0));
    stale.agent_id = Some(agent.id);
    let stale = insert_thread(&store, stale).await;
    let said = append(&store, message(&stale, "old words", days(0))).await;
    let RunAdmission::Started { run, .. } = store
        .create_run(new_run(&stale, 1), None, false)
        .await
        .unwrap()
    else {
        panic!("the run should start")
    };
    let mut done = run.clone();
    done.status = spool_core::model::RunStatus::Completed;
    done.finished_at = Some(at(2));
    store
        .finish_run(&done, spool_core::model::RunStatus::InProgress, None)
        .await
        .unwrap()
        .expect("ended");
    let active = insert_thread(&store, thread(ten_days.id, Some(owner.id), days(0))).await;
    append(&store, message(&active, "still here", days(15))).await;
    let mut own_later = thread(ten_days.id, Some(owner.id), days(0));
    own_later.expires_at = Some(days(40));
    let own_later = insert_thread(&store, own_later).await;
    let mut own_passed = thread(ten_days.id, Some(owner.id), days(18));
    own_passed.expires_at = Some(days(19));
    let own_passed = insert_thread(&store, own_passed).await;
    // Elsewhere: quiet for ever but no rule; a passed expiry on a thread
    // whose run is in progress (it waits until the run ends).
    let no_rule = insert_thread(&store, thread(kept_forever.id, Some(owner.id), days(0))).await;
    let mut busy = thread(kept_forever.id, Some(owner.id), days(1));
    busy.expires_at = Some(days(2));
    let busy = insert_thread(&store, busy).await;
    let RunAdmission::Started { run: running, .. } = store
        .create_run(new_run(&busy, DAY + 10), None, false)
        .await
        .unwrap()
    else {
        panic!("the run should start")
    };

    let now = days(20);
    assert_eq!(
        store.delete_expired_threads(now, 1).await.unwrap(),
        1,
        "bounded"
    );
    assert_eq!(store.delete_expired_threads(now, 100).await.unwrap(), 1);
    assert_eq!(store.delete_expired_threads(now, 100).await.unwrap(), 0);
    let exists = |w, t| {
        let store = store.clone();
        async move { store.thread(w, t).await.unwrap().is_some() }
    };
    assert!(!exists(ten_days.id, stale.id).await);
    assert!(!exists(ten_days.id, own_passed.id).await);
    assert!(exists(ten_days.id, active.id).await);
    assert!(exists(ten_days.id, own_later.id).await);
    assert!(exists(kept_forever.id, no_rule.id).await);
    assert!(exists(kept_forever.id, busy.id).await);
    // Everything in the stale thread went with it, counters included.
    assert_eq!(store.message(ten_days.id, said.id).await.unwrap(), None);
    assert_eq!(store.run(ten_days.id, run.id).await.unwrap(), None);
    assert!(store.run_events(run.id, 0, 10).await.unwrap().is_empty());
    assert_eq!(
        store.agent(agent.id).await.unwrap().unwrap().threads_count,
        0
    );

    // Once its run ends, the busy thread goes too; later, its own expiry.
    let mut ended = running.clone();
    ended.status = spool_core::model::RunStatus::Cancelled;
    ended.finished_at = Some(days(3));
    store
        .finish_run(&ended, spool_core::model::RunStatus::InProgress, None)
        .await
        .unwrap();
    assert_eq!(store.delete_expired_threads(now, 100).await.unwrap(), 1);
    assert!(!exists(kept_forever.id, busy.id).await);
    // By day 40 the active one has been quiet for 25 days.
    let quiet = insert_thread(&store, thread(ten_days.id, Some(owner.id), days(39))).await;
    assert_eq!(
        store.delete_expired_threads(days(40), 100).await.unwrap(),
        2
    );
    assert!(!exists(ten_days.id, own_later.id).await);
    assert!(!exists(ten_days.id, active.id).await);

    // Turning the rule off keeps quiet threads.
    let off = WorkspacePatch {
        thread_retention_days: Some(None),
        ..Default::default()
    };
    store
        .update_workspace(ten_days.id, off, at(5))
        .await
        .unwrap();
    assert_eq!(
        store.delete_expired_threads(days(1000), 100).await.unwrap(),
        0
    );
    assert!(exists(ten_days.id, quiet.id).await);
    assert!(exists(kept_forever.id, no_rule.id).await);
}
