//! Runs: admission with one in progress per thread, queueing in arrival
//! order, the end stored with its reply, and recovery after a crash.

use crate::builders::{insert_agent, insert_thread, message, reply, thread};
use crate::fixtures::{at, insert_workspace, user};
use spool_core::listing::{Listing, Paging};
use spool_core::model::{Run, RunAdmission, RunStatus, Thread, ThreadStatus};
use spool_core::paging::PageRequest;
use spool_core::store::Lease;
use spool_core::tools::ToolChoice;
use spool_core::{RunId, Store};
use std::sync::Arc;

pub fn new_run(thread: &spool_core::model::Thread, seconds: i64) -> Run {
    Run {
        id: RunId::new(),
        thread_id: thread.id,
        workspace_id: thread.workspace_id,
        agent_id: thread.agent_id,
        user_id: thread.creator_id,
        model: "echo".into(),
        status: RunStatus::InProgress,
        temperature: Some(0.5),
        max_tokens: Some(256),
        input_tokens: None,
        output_tokens: None,
        error: None,
        message_id: None,
        created_at: at(seconds),
        started_at: None,
        finished_at: None,
        tools: Vec::new(),
        tool_choice: Default::default(),
        required_action: None,
        instructions: Some("Answer in French.".into()),
        additional_instructions: Some("Mention the date.".into()),
        metadata: Default::default(),
        top_p: None,
        finish_reason: None,
        history_limit: Some(4),
    }
}

pub async fn story_runs(store: Arc<dyn Store>) {
    let owner = user(&store, "runs@example.com").await;
    let workspace = insert_workspace(&store, "Runs", owner.id).await;
    let agent = insert_agent(&store, workspace.id, owner.id, at(0)).await;
    let mut first_thread = thread(workspace.id, Some(owner.id), at(1));
    first_thread.agent_id = Some(agent.id);
    let t = insert_thread(&store, first_thread).await;

    // The first run starts, with its user message appended in the same write.
    let question = message(&t, "What is spool?", at(10));
    let admitted = store
        .create_run(new_run(&t, 10), Some(question.clone()), false)
        .await
        .unwrap();
    let RunAdmission::Started {
        run: first,
        message: Some(stored),
    } = admitted
    else {
        panic!("expected a started run with its message: {admitted:?}")
    };
    assert_eq!(first.status, RunStatus::InProgress);
    assert!(first.started_at.is_some_and(|at| at >= first.created_at));
    assert_eq!(stored.seq, 1);
    let now_running = store.thread(workspace.id, t.id).await.unwrap().unwrap();
    assert_eq!(now_running.status, ThreadStatus::Running);
    assert_eq!(now_running.message_count, 1);

    // A second one is refused, and its message is not appended either.
    let refused = store
        .create_run(new_run(&t, 11), Some(message(&t, "again?", at(11))), false)
        .await
        .unwrap();
    assert_eq!(refused, RunAdmission::Busy { active: first.id });
    assert_eq!(
        store
            .thread(workspace.id, t.id)
            .await
            .unwrap()
            .unwrap()
            .message_count,
        1
    );

    // Enqueued ones wait in arrival order; a run keeps its tools and
    // tool_choice for whichever node starts it.
    let mut with_tools = new_run(&t, 12);
    with_tools.tools = crate::agents::sample_tools();
    with_tools.tool_choice = ToolChoice::Named("get_weather".into());
    let RunAdmission::Queued { run: second, .. } = store
        .create_run(with_tools.clone(), None, true)
        .await
        .unwrap()
    else {
        panic!("expected queued")
    };
    let RunAdmission::Queued { run: third, .. } =
        store.create_run(new_run(&t, 13), None, true).await.unwrap()
    else {
        panic!("expected queued")
    };
    assert_eq!(second.status, RunStatus::Queued);

    // Finishing the first stores its reply and starts the second.
    let mut done = first.clone();
    done.status = RunStatus::Completed;
    done.input_tokens = Some(12);
    done.output_tokens = Some(5);
    done.finished_at = Some(at(20));
    done.finish_reason = Some("length".into());
    let answer = reply(&t, "A thread server.", at(20), Some("echo"), (12, 5));
    let finished = store
        .finish_run(&done, RunStatus::InProgress, Some(answer.clone()))
        .await
        .unwrap()
        .expect("the run was in progress");
    let stored_reply = finished.reply.expect("reply stored");
    assert_eq!(stored_reply.seq, 2);
    let next = finished.next.expect("the second run starts");
    assert_eq!((next.id, next.status), (second.id, RunStatus::InProgress));
    assert_eq!(next.tools, with_tools.tools);
    assert_eq!(next.tool_choice, with_tools.tool_choice);
    let reread = store.run(workspace.id, first.id).await.unwrap().unwrap();
    assert_eq!(reread.status, RunStatus::Completed);
    assert_eq!(reread.message_id, Some(stored_reply.id));
    assert_eq!(reread.finish_reason.as_deref(), Some("length"));
    assert_eq!(reread.history_limit, Some(4));
    assert_eq!(
        (reread.input_tokens, reread.output_tokens),
        (Some(12), Some(5))
    );
    assert_eq!(reread.finished_at, Some(at(20)));
    let thread_now = store.thread(workspace.id, t.id).await.unwrap().unwrap();
    assert_eq!(thread_now.status, ThreadStatus::Running);
    assert_eq!((thread_now.input_tokens, thread_now.output_tokens), (12, 5));
    assert_eq!(thread_now.last_model_used.as_deref(), Some("echo"));
    let agent_now = store.agent(agent.id).await.unwrap().unwrap();
    assert_eq!(agent_now.usage_count, 1);
    assert_eq!(agent_now.last_used_at, Some(at(20)));

    // Cancelling the queued third before it starts leaves the second running.
    let mut cancelled = third.clone();
    cancelled.status = RunStatus::Cancelled;
    cancelled.finished_at = Some(at(21));
    let after_cancel = store
        .finish_run(&cancelled, RunStatus::Queued, None)
        .await
        .unwrap();
    let after_cancel = after_cancel.expect("it was queued");
    assert_eq!((after_cancel.reply, after_cancel.next), (None, None));
    assert_eq!(
        after_cancel
            .events
            .iter()
            .map(|e| (e.id, e.kind.name()))
            .collect::<Vec<_>>(),
        [(2, "run.cancelled"), (3, "done")]
    );
    assert_eq!(
        store.agent(agent.id).await.unwrap().unwrap().usage_count,
        1,
        "a run that never started is no use"
    );

    // The second ends with nothing queued: the thread is idle.
    let mut second_done = next.clone();
    second_done.status = RunStatus::Failed;
    second_done.error = Some("upstream said no".into());
    second_done.finished_at = Some(at(30));
    let last = store
        .finish_run(&second_done, RunStatus::InProgress, None)
        .await
        .unwrap()
        .expect("the second was in progress");
    assert_eq!(last.next, None);
    assert_eq!(
        store
            .thread(workspace.id, t.id)
            .await
            .unwrap()
            .unwrap()
            .status,
        ThreadStatus::Idle
    );

    // Lists, newest first, in both modes; other workspaces see nothing.
    let Listing::Page(page) = store
        .list_runs(
            t.id,
            Paging::Offset(PageRequest {
                page: 1,
                per_page: 2,
            }),
            true,
        )
        .await
        .unwrap()
    else {
        panic!("offset page")
    };
    assert_eq!(page.total, 3);
    assert_eq!(
        page.items.iter().map(|r| r.id).collect::<Vec<_>>(),
        [third.id, second.id]
    );
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let paging = Paging::Keyset {
            after,
            before: None,
            limit: 2,
        };
        let Listing::Cursor(page) = store.list_runs(t.id, paging, true).await.unwrap() else {
            panic!("keyset")
        };
        seen.extend(page.items.iter().map(|r| r.id));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, [third.id, second.id, first.id]);
    // Oldest first, and back from the last one.
    let paging = Paging::Keyset {
        after: None,
        before: None,
        limit: 2,
    };
    let Listing::Cursor(page) = store.list_runs(t.id, paging, false).await.unwrap() else {
        panic!("keyset")
    };
    assert_eq!(
        page.items.iter().map(|r| r.id).collect::<Vec<_>>(),
        [first.id, second.id]
    );
    let rest = Paging::Keyset {
        after: page.next,
        before: None,
        limit: 2,
    };
    let Listing::Cursor(rest) = store.list_runs(t.id, rest, false).await.unwrap() else {
        panic!("keyset")
    };
    assert_eq!(
        rest.items.iter().map(|r| r.id).collect::<Vec<_>>(),
        [third.id]
    );
    let back = Paging::Keyset {
        after: None,
        before: rest.prev,
        limit: 2,
    };
    let Listing::Cursor(back) = store.list_runs(t.id, back, false).await.unwrap() else {
        panic!("keyset")
    };
    assert_eq!(
        back.items.iter().map(|r| r.id).collect::<Vec<_>>(),
        [first.id, second.id]
    );
    let other = insert_workspace(&store, "Elsewhere", owner.id).await;
    assert_eq!(store.run(other.id, first.id).await.unwrap(), None);

    // A run's metadata is replaced, in its own workspace only.
    let mut metadata = serde_json::Map::new();
    metadata.insert("ticket".into(), serde_json::json!("T-7"));
    assert_eq!(
        store
            .set_run_metadata(other.id, first.id, metadata.clone())
            .await
            .unwrap(),
        None
    );
    let tagged = store
        .set_run_metadata(workspace.id, first.id, metadata.clone())
        .await
        .unwrap()
        .expect("the run is there");
    assert_eq!(tagged.metadata, metadata);
    assert_eq!(tagged.status, RunStatus::Completed);
    assert_eq!(
        store
            .run(workspace.id, first.id)
            .await
            .unwrap()
            .unwrap()
            .metadata,
        metadata
    );

    // A run for a thread that is gone.
    let mut ghost = new_run(&t, 40);
    ghost.thread_id = spool_core::ThreadId::new();
    assert_eq!(
        store.create_run(ghost, None, false).await.unwrap(),
        RunAdmission::ThreadGone
    );
}

/// Leases: a node takes and renews them for the runs it executes; a run
/// whose lease ran out (or that was never leased for as long) is expired,
/// and ending it as such is a compare-and-set on the lease being expired.
pub async fn story_run_leases(store: Arc<dyn Store>) {
    let owner = user(&store, "lease@example.com").await;
    let workspace = insert_workspace(&store, "Lease", owner.id).await;
    let mut running = Vec::new();
    let mut threads = Vec::new();
    for k in 0..3 {
        let t = insert_thread(&store, thread(workspace.id, Some(owner.id), at(k))).await;
        let RunAdmission::Started { run, .. } =
            store.create_run(new_run(&t, 2), None, false).await.unwrap()
        else {
            panic!("started")
        };
        running.push(run);
        threads.push(t);
    }
    let RunAdmission::Queued { run: waiting, .. } = store
        .create_run(new_run(&threads[2], 3), None, true)
        .await
        .unwrap()
    else {
        panic!("queued")
    };
    let ids = |runs: Vec<Run>| {
        let mut ids: Vec<_> = runs.into_iter().map(|r| r.id).collect();
        ids.sort();
        ids
    };
    let sorted = |mut v: Vec<RunId>| {
        v.sort();
        v
    };
    let now = spool_core::now();
    let secs = chrono::Duration::seconds;
    let [a0, a1, a2] = [running[0].clone(), running[1].clone(), running[2].clone()];

    // Just started, never leased: not expired until a lease's time passed.
    assert_eq!(
        store.expired_runs(now, now - secs(30), 10).await.unwrap(),
        []
    );
    assert_eq!(
        ids(store.expired_runs(now, now + secs(1), 10).await.unwrap()),
        sorted(vec![a0.id, a1.id, a2.id])
    );

    // One statement leases several; a run another node holds is not taken.
    let n1 = Lease {
        holder: "node-1",
        until: now + secs(30),
    };
    let n2 = Lease {
        holder: "node-2",
        until: now + secs(30),
    };
    assert_eq!(
        sorted(
            store
                .lease_runs(&[a0.id, a1.id, waiting.id], n1)
                .await
                .unwrap()
        ),
        sorted(vec![a0.id, a1.id]),
        "a queued run is not leased"
    );
    assert_eq!(store.lease_runs(&[a0.id], n2).await.unwrap(), []);
    assert_eq!(
        ids(store.expired_runs(now, now + secs(1), 10).await.unwrap()),
        [a2.id]
    );
    assert_eq!(
        ids(store
            .expired_runs(now + secs(31), now + secs(1), 10)
            .await
            .unwrap()),
        sorted(vec![a0.id, a1.id, a2.id])
    );

    // A live lease is not ended as expired; an expired one is, once.
    let failed = |run: &Run| ended(run, RunStatus::Failed, 40);
    assert_eq!(
        store
            .finish_expired_run(&failed(&a0), None, now, now + secs(1))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .run(workspace.id, a0.id)
            .await
            .unwrap()
            .unwrap()
            .status,
        RunStatus::InProgress
    );
    let swept = store
        .finish_expired_run(&failed(&a2), None, now, now + secs(1))
        .await
        .unwrap()
        .expect("a2 was never leased");
    assert_eq!(
        swept.next.map(|r| r.id),
        Some(waiting.id),
        "the queued run starts"
    );
    assert_eq!(
        swept
            .events
            .iter()
            .map(|e| e.kind.name())
            .collect::<Vec<_>>(),
        ["run.failed", "done"]
    );
    assert_eq!(
        store
            .finish_expired_run(&failed(&a2), None, now, now + secs(1))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store.lease_runs(&[a2.id], n1).await.unwrap(),
        [],
        "a2 ended"
    );
    // A cancel asked for from another node: the run is no longer renewed,
    // so its node (seeing it missing) stops it.
    assert!(store.request_run_cancel(a0.id).await.unwrap());
    assert_eq!(store.lease_runs(&[a0.id], n1).await.unwrap(), []);
    assert!(!store.request_run_cancel(a2.id).await.unwrap(), "a2 ended");
    // Renewed, a lease lasts; run out, any node ends the run.
    let later = Lease {
        holder: "node-1",
        until: now + secs(60),
    };
    assert_eq!(store.lease_runs(&[a1.id], later).await.unwrap(), [a1.id]);
    assert_eq!(
        store
            .finish_expired_run(&failed(&a1), None, now + secs(31), now)
            .await
            .unwrap(),
        None
    );
    assert!(
        store
            .finish_expired_run(&failed(&a1), None, now + secs(61), now)
            .await
            .unwrap()
            .is_some()
    );
}

/// How many admissions arrive at once in `story_concurrent_admission`.
const RUSH: i64 = 20;

/// `RUSH` admissions on `t`, each with its user message, released together.
async fn admit_at_once(
    store: &Arc<dyn Store>,
    t: &Thread,
    queue_if_busy: bool,
) -> Vec<RunAdmission> {
    let gate = Arc::new(tokio::sync::Barrier::new(RUSH as usize));
    let tasks: Vec<_> = (0..RUSH)
        .map(|i| {
            let (store, gate) = (store.clone(), gate.clone());
            let run = new_run(t, 100 + i);
            let question = message(t, &format!("question {i}"), at(100 + i));
            tokio::spawn(async move {
                gate.wait().await;
                store.create_run(run, Some(question), queue_if_busy).await
            })
        })
        .collect();
    let mut admissions = Vec::new();
    for task in tasks {
        admissions.push(task.await.expect("task").expect("create_run"));
    }
    admissions
}

/// Admissions racing on one idle thread: exactly one starts; the others are
/// refused (their messages with them), or wait and then start one at a
/// time, oldest first.
pub async fn story_concurrent_admission(store: Arc<dyn Store>) {
    let owner = user(&store, "rush@example.com").await;
    let workspace = insert_workspace(&store, "Rush", owner.id).await;

    let refusing = insert_thread(&store, thread(workspace.id, Some(owner.id), at(1))).await;
    let admissions = admit_at_once(&store, &refusing, false).await;
    let started: Vec<&Run> = admissions
        .iter()
        .filter_map(|a| match a {
            RunAdmission::Started { run, .. } => Some(run),
            _ => None,
        })
        .collect();
    let [winner] = started[..] else {
        panic!("expected exactly one started run: {admissions:?}")
    };
    let busy = admissions
        .iter()
        .filter(|a| **a == RunAdmission::Busy { active: winner.id })
        .count();
    assert_eq!(busy, RUSH as usize - 1, "{admissions:?}");
    let after = store
        .thread(workspace.id, refusing.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (after.status, after.message_count),
        (ThreadStatus::Running, 1)
    );

    let waiting = insert_thread(&store, thread(workspace.id, Some(owner.id), at(2))).await;
    let admissions = admit_at_once(&store, &waiting, true).await;
    let mut started = Vec::new();
    let mut queued = Vec::new();
    for admission in admissions {
        match admission {
            RunAdmission::Started { run, message } => {
                assert!(message.is_some());
                started.push(run);
            }
            RunAdmission::Queued { run, message } => {
                assert!(message.is_some());
                assert_eq!((run.status, run.started_at), (RunStatus::Queued, None));
                queued.push(run);
            }
            other => panic!("expected started or queued: {other:?}"),
        }
    }
    assert_eq!((started.len(), queued.len()), (1, RUSH as usize - 1));
    let after = store
        .thread(workspace.id, waiting.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        after.message_count, 1,
        "a queued run's message waits for its run"
    );

    // Finishing them one by one starts the queued ones in created_at order.
    queued.sort_by_key(|r| (r.created_at, r.id));
    let mut current = started.remove(0);
    for (k, expected) in queued.iter().enumerate() {
        let mut done = current.clone();
        done.status = RunStatus::Completed;
        done.finished_at = Some(at(200 + k as i64));
        let next = store
            .finish_run(&done, RunStatus::InProgress, None)
            .await
            .unwrap()
            .expect("in progress")
            .next
            .expect("the next queued run starts");
        assert_eq!(
            (next.id, next.status, next.started_at),
            (expected.id, RunStatus::InProgress, done.finished_at)
        );
        current = next;
    }
    let mut done = current;
    done.status = RunStatus::Completed;
    done.finished_at = Some(at(300));
    let last = store
        .finish_run(&done, RunStatus::InProgress, None)
        .await
        .unwrap();
    assert_eq!(last.map(|f| f.next), Some(None));
    let after = store
        .thread(workspace.id, waiting.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.status, ThreadStatus::Idle);
    let Listing::Page(all) = store
        .list_runs(
            waiting.id,
            Paging::Offset(PageRequest {
                page: 1,
                per_page: 50,
            }),
            true,
        )
        .await
        .unwrap()
    else {
        panic!("offset page")
    };
    assert_eq!(all.total, RUSH as u64);
    assert_eq!(
        store
            .thread(workspace.id, waiting.id)
            .await
            .unwrap()
            .unwrap()
            .message_count,
        RUSH as u64,
        "each queued message joined the thread as its run started"
    );
    assert!(all.items.iter().all(|r| r.status == RunStatus::Completed));
}

/// The run as `finish_run` would be given it: ended with `status` at `at`.
pub fn ended(run: &Run, status: RunStatus, seconds: i64) -> Run {
    let mut run = run.clone();
    run.status = status;
    run.finished_at = Some(at(seconds));
    run
}

/// Every change of a run's status is a compare-and-set on the status it
/// expects: a writer that comes second changes nothing, so a finished run
/// never changes its outcome and a promoted run is not cancelled as if it
/// were still queued.
pub async fn story_run_transitions_are_compare_and_set(store: Arc<dyn Store>) {
    let owner = user(&store, "cas@example.com").await;
    let workspace = insert_workspace(&store, "CAS", owner.id).await;
    let t = insert_thread(&store, thread(workspace.id, Some(owner.id), at(1))).await;
    let RunAdmission::Started { run: a, .. } =
        store.create_run(new_run(&t, 2), None, false).await.unwrap()
    else {
        panic!("started")
    };
    let RunAdmission::Queued { run: b, .. } =
        store.create_run(new_run(&t, 3), None, true).await.unwrap()
    else {
        panic!("queued")
    };
    let RunAdmission::Queued { run: c, .. } =
        store.create_run(new_run(&t, 4), None, true).await.unwrap()
    else {
        panic!("queued")
    };
    let status = |id| {
        let store = store.clone();
        async move { store.run(workspace.id, id).await.unwrap().unwrap().status }
    };
    let count = || {
        let store = store.clone();
        async move {
            store
                .thread(workspace.id, t.id)
                .await
                .unwrap()
                .unwrap()
                .message_count
        }
    };

    // In progress is not queued: "cancel before it started" changes nothing.
    let wrong = store
        .finish_run(&ended(&a, RunStatus::Cancelled, 5), RunStatus::Queued, None)
        .await
        .unwrap();
    assert_eq!(wrong, None);
    assert_eq!(status(a.id).await, RunStatus::InProgress);

    // queued → cancelled, once.
    let cancelled = store
        .finish_run(&ended(&b, RunStatus::Cancelled, 6), RunStatus::Queued, None)
        .await
        .unwrap();
    assert_eq!(
        cancelled.map(|f| f.next),
        Some(None),
        "a is still in progress"
    );
    for (expected, outcome) in [
        (RunStatus::Queued, RunStatus::Cancelled),
        (RunStatus::InProgress, RunStatus::Completed),
    ] {
        let again = store
            .finish_run(&ended(&b, outcome, 7), expected, None)
            .await
            .unwrap();
        assert_eq!(again, None, "a cancelled run stays cancelled");
    }
    assert_eq!(status(b.id).await, RunStatus::Cancelled);

    // in_progress → completed with its reply; c (b is cancelled) starts.
    let answer = reply(&t, "done", at(8), Some("echo"), (1, 1));
    let finished = store
        .finish_run(
            &ended(&a, RunStatus::Completed, 8),
            RunStatus::InProgress,
            Some(answer.clone()),
        )
        .await
        .unwrap()
        .expect("a was in progress");
    assert!(finished.reply.is_some());
    let next = finished.next.expect("c starts");
    assert_eq!((next.id, next.status), (c.id, RunStatus::InProgress));
    assert_eq!(count().await, 1);

    // Ending a again (a retry, a cancel that came late, a sweep) changes
    // nothing: no second reply, no second promotion, the outcome stays.
    for outcome in [
        RunStatus::Completed,
        RunStatus::Cancelled,
        RunStatus::Failed,
    ] {
        let again = store
            .finish_run(
                &ended(&a, outcome, 9),
                RunStatus::InProgress,
                Some(reply(&t, "twice", at(9), Some("echo"), (1, 1))),
            )
            .await
            .unwrap();
        assert_eq!(again, None);
    }
    assert_eq!(status(a.id).await, RunStatus::Completed);
    assert_eq!(count().await, 1);

    // A cancel of c as queued crosses its promotion: it changes nothing, and
    // c is ended as the run in progress it now is.
    let late = store
        .finish_run(
            &ended(&c, RunStatus::Cancelled, 10),
            RunStatus::Queued,
            None,
        )
        .await
        .unwrap();
    assert_eq!(late, None);
    assert_eq!(status(c.id).await, RunStatus::InProgress);

    // Two writers ending c at once: exactly one of them does.
    let outcomes = [RunStatus::Completed, RunStatus::Cancelled];
    let racing: Vec<_> = outcomes
        .iter()
        .map(|&outcome| {
            let (store, run) = (store.clone(), ended(&c, outcome, 11));
            tokio::spawn(async move {
                store
                    .finish_run(&run, RunStatus::InProgress, None)
                    .await
                    .unwrap()
                    .map(|_| outcome)
            })
        })
        .collect();
    let mut winners = Vec::new();
    for task in racing {
        winners.extend(task.await.unwrap());
    }
    let [winner] = winners[..] else {
        panic!("exactly one end wins: {winners:?}")
    };
    assert_eq!(status(c.id).await, winner);
    assert_eq!(
        store
            .thread(workspace.id, t.id)
            .await
            .unwrap()
            .unwrap()
            .status,
        ThreadStatus::Idle
    );
}

/// `in_progress → requires_action → in_progress`, each a compare-and-set;
/// the outputs wait for the executor, who takes them once; the end clears
/// whatever is left.
pub async fn story_runs_wait_for_tool_outputs(store: Arc<dyn Store>) {
    let owner = user(&store, "tools@example.com").await;
    let workspace = insert_workspace(&store, "Tools", owner.id).await;
    let t = insert_thread(&store, thread(workspace.id, Some(owner.id), at(1))).await;
    let RunAdmission::Started { run, .. } =
        store.create_run(new_run(&t, 2), None, false).await.unwrap()
    else {
        panic!("started")
    };
    let read = || {
        let store = store.clone();
        async move { store.run(workspace.id, run.id).await.unwrap().unwrap() }
    };
    let calls = serde_json::json!([{ "id": "call_1", "name": "f", "arguments": { "x": 1 } }]);
    let outputs = serde_json::json!([{ "tool_call_id": "call_1", "output": "42" }]);

    // Nothing to submit or take before the run asks.
    assert!(
        !store
            .submit_run_tool_outputs(run.id, outputs.clone())
            .await
            .unwrap()
    );
    assert_eq!(store.take_run_tool_outputs(run.id).await.unwrap(), None);

    assert!(
        store
            .require_run_action(run.id, calls.clone())
            .await
            .unwrap()
    );
    let waiting = read().await;
    assert_eq!(waiting.status, RunStatus::RequiresAction);
    assert_eq!(waiting.required_action, Some(calls.clone()));
    // It still holds its thread: a second run is refused.
    assert!(matches!(
        store.create_run(new_run(&t, 3), None, false).await.unwrap(),
        RunAdmission::Busy { active } if active == run.id
    ));
    // Asking twice changes nothing.
    assert!(
        !store
            .require_run_action(run.id, serde_json::json!([]))
            .await
            .unwrap()
    );
    assert_eq!(read().await.required_action, Some(calls.clone()));

    // The first answer wins; a second finds nothing waiting.
    assert!(
        store
            .submit_run_tool_outputs(run.id, outputs.clone())
            .await
            .unwrap()
    );
    assert!(
        !store
            .submit_run_tool_outputs(run.id, serde_json::json!([]))
            .await
            .unwrap()
    );
    let resumed = read().await;
    assert_eq!(
        (resumed.status, resumed.required_action),
        (RunStatus::InProgress, None)
    );
    assert_eq!(
        store.take_run_tool_outputs(run.id).await.unwrap(),
        Some(outputs)
    );
    assert_eq!(store.take_run_tool_outputs(run.id).await.unwrap(), None);

    // A run that waits can be ended (cancelled) as the run in progress it is.
    assert!(store.require_run_action(run.id, calls).await.unwrap());
    let mut cancelled = read().await;
    cancelled.status = RunStatus::Cancelled;
    cancelled.finished_at = Some(at(5));
    let finished = store
        .finish_run(&cancelled, RunStatus::RequiresAction, None)
        .await
        .unwrap();
    assert!(finished.is_some(), "the waiting run ends");
    let ended = read().await;
    assert_eq!(
        (ended.status, ended.required_action),
        (RunStatus::Cancelled, None)
    );
    assert!(
        !store
            .submit_run_tool_outputs(run.id, serde_json::json!([]))
            .await
            .unwrap()
    );
}
