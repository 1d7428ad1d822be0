//! A run's stored log: `run.created` with the admission, events appended
//! only while the run is in progress, its end appended with the end, reads
//! after any position, retention; and a queued run's message that joins the
//! thread when its run starts.

use crate::builders::{insert_thread, message, reply, thread};
use crate::fixtures::{at, insert_workspace, user};
use crate::runs::{ended, new_run};
use spool_core::listing::{Listing, Paging};
use spool_core::model::{Message, RunAdmission, RunStatus};
use spool_core::runs::{RunEventKind, codec};
use spool_core::store::{NewRunEvent, StoredRunEvent};
use spool_core::{RunId, Store, ThreadId};
use std::sync::Arc;

fn delta(run: RunId, seq: u64, text: &str) -> NewRunEvent {
    let kind = RunEventKind::MessageDelta(text.into());
    NewRunEvent {
        run,
        seq,
        event: kind.name(),
        data: codec::encode(&kind),
    }
}

fn names(events: &[StoredRunEvent]) -> Vec<(u64, &str)> {
    events.iter().map(|e| (e.seq, e.event.as_str())).collect()
}

pub async fn story_run_log(store: Arc<dyn Store>) {
    let owner = user(&store, "log@example.com").await;
    let workspace = insert_workspace(&store, "Log", owner.id).await;
    let t = insert_thread(&store, thread(workspace.id, Some(owner.id), at(1))).await;
    let other = insert_thread(&store, thread(workspace.id, Some(owner.id), at(1))).await;
    let RunAdmission::Started { run: a, .. } =
        store.create_run(new_run(&t, 2), None, false).await.unwrap()
    else {
        panic!("started")
    };
    let RunAdmission::Queued { run: queued, .. } =
        store.create_run(new_run(&t, 3), None, true).await.unwrap()
    else {
        panic!("queued")
    };
    let RunAdmission::Started { run: b, .. } = store
        .create_run(new_run(&other, 2), None, false)
        .await
        .unwrap()
    else {
        panic!("started")
    };

    // Admission stored `run.created` as event 1, the run as admitted.
    for run in [&a, &queued] {
        let stored = store.run_events(run.id, 0, 10).await.unwrap();
        assert_eq!(names(&stored), [(1, "run.created")]);
        assert_eq!(
            codec::decode(&stored[0].event, &stored[0].data),
            Some(RunEventKind::RunCreated(run.clone()))
        );
    }

    // One write for two runs; a queued run's events are refused.
    let refused = store
        .append_run_events(vec![
            delta(a.id, 2, "Hel"),
            delta(b.id, 2, "Hi"),
            delta(a.id, 3, "lo"),
            delta(queued.id, 2, "not yet"),
        ])
        .await
        .unwrap();
    assert_eq!(refused, [queued.id]);
    let stored = store.run_events(a.id, 0, 10).await.unwrap();
    assert_eq!(
        names(&stored),
        [
            (1, "run.created"),
            (2, "message.delta"),
            (3, "message.delta")
        ]
    );
    assert_eq!(
        names(&store.run_events(a.id, 2, 10).await.unwrap()),
        [(3, "message.delta")]
    );
    assert_eq!(names(&store.run_events(a.id, 0, 2).await.unwrap()).len(), 2);
    assert!(store.run_events(a.id, 3, 10).await.unwrap().is_empty());
    assert_eq!(
        names(&store.run_events(queued.id, 0, 10).await.unwrap()),
        [(1, "run.created")]
    );

    // The end goes after the stored events, with the reply and `done`.
    let answer = reply(&t, "Hello", at(5), Some("echo"), (1, 2));
    let finished = store
        .finish_run(
            &ended(&a, RunStatus::Completed, 5),
            RunStatus::InProgress,
            Some(answer),
        )
        .await
        .unwrap()
        .expect("in progress");
    let ids: Vec<_> = finished
        .events
        .iter()
        .map(|e| (e.id, e.kind.name()))
        .collect();
    assert_eq!(
        ids,
        [(4, "message.completed"), (5, "run.completed"), (6, "done")]
    );
    let RunEventKind::MessageCompleted(stored_reply) = &finished.events[0].kind else {
        panic!("the reply first")
    };
    assert_eq!(Some(stored_reply), finished.reply.as_ref());
    let stored = store.run_events(a.id, 3, 10).await.unwrap();
    for (row, event) in stored.iter().zip(&finished.events) {
        assert_eq!(row.seq, event.id);
        assert_eq!(
            codec::decode(&row.event, &row.data).as_ref(),
            Some(&event.kind)
        );
    }
    // A finished run takes no more events.
    assert_eq!(
        store
            .append_run_events(vec![delta(a.id, 7, "late")])
            .await
            .unwrap(),
        [a.id]
    );
    assert_eq!(store.run_events(a.id, 6, 10).await.unwrap(), []);

    // Retention removes by age, a bounded number at a time.
    assert_eq!(store.delete_run_events(at(-100), 100).await.unwrap(), 0);
    let far = spool_core::now() + chrono::Duration::days(1);
    assert_eq!(store.delete_run_events(far, 3).await.unwrap(), 3);
    let mut left = 0;
    for run in [a.id, b.id, queued.id, finished.next.as_ref().unwrap().id] {
        left += store.run_events(run, 0, 100).await.unwrap().len();
    }
    assert_eq!(left, 6 + 2 + 1 - 3);
    assert!(store.delete_run_events(far, 100).await.unwrap() >= 6);

    // A deleted thread takes its runs' events along.
    store
        .append_run_events(vec![delta(b.id, 3, "more")])
        .await
        .unwrap();
    assert!(store.delete_thread(workspace.id, other.id).await.unwrap());
    assert_eq!(store.run_events(b.id, 0, 10).await.unwrap(), []);
}

async fn contents(store: &Arc<dyn Store>, thread: ThreadId) -> Vec<String> {
    let paging = Paging::Keyset {
        after: None,
        before: None,
        limit: 100,
    };
    let Listing::Cursor(page) = store
        .list_messages(thread, paging, false, None)
        .await
        .unwrap()
    else {
        panic!("keyset")
    };
    page.items.into_iter().map(|m: Message| m.content).collect()
}

/// A queued run's user message is kept with the run and appended when the
/// run starts (after the reply before it), or when it is cancelled.
pub async fn story_queued_messages_wait_for_their_run(store: Arc<dyn Store>) {
    let owner = user(&store, "queue@example.com").await;
    let workspace = insert_workspace(&store, "Queue", owner.id).await;
    let t = insert_thread(&store, thread(workspace.id, Some(owner.id), at(1))).await;
    let admit = |k: i64, queue: bool| {
        let store = store.clone();
        let t = t.clone();
        async move {
            store
                .create_run(
                    new_run(&t, 10 + k),
                    Some(message(&t, &format!("q{k}"), at(10 + k))),
                    queue,
                )
                .await
                .unwrap()
        }
    };
    let RunAdmission::Started {
        run: r0,
        message: Some(q0),
    } = admit(0, false).await
    else {
        panic!("started")
    };
    assert_eq!(q0.seq, 1);
    let mut queued = Vec::new();
    for k in 1..=3 {
        let RunAdmission::Queued {
            run,
            message: Some(kept),
        } = admit(k, true).await
        else {
            panic!("queued")
        };
        assert_eq!(kept.content, format!("q{k}"));
        queued.push(run);
    }
    assert_eq!(contents(&store, t.id).await, ["q0"]);

    // q2's run is cancelled while it waits: its question is kept.
    store
        .finish_run(
            &ended(&queued[1], RunStatus::Cancelled, 20),
            RunStatus::Queued,
            None,
        )
        .await
        .unwrap()
        .expect("queued");
    assert_eq!(contents(&store, t.id).await, ["q0", "q2"]);

    // Each run that starts brings its question after the answer before it.
    let mut current = r0;
    for (k, expected) in [(1, &queued[0]), (3, &queued[2])] {
        let answer = reply(
            &t,
            &format!("a{}", if k == 1 { 0 } else { 1 }),
            at(30 + k),
            Some("echo"),
            (1, 1),
        );
        let next = store
            .finish_run(
                &ended(&current, RunStatus::Completed, 30 + k),
                RunStatus::InProgress,
                Some(answer),
            )
            .await
            .unwrap()
            .expect("in progress")
            .next
            .expect("the next starts");
        assert_eq!(next.id, expected.id);
        current = next;
    }
    assert_eq!(
        contents(&store, t.id).await,
        ["q0", "q2", "a0", "q1", "a1", "q3"]
    );
    let thread_now = store.thread(workspace.id, t.id).await.unwrap().unwrap();
    assert_eq!(thread_now.message_count, 6);
}
