//! Threads: insert and read back, workspace isolation, agent counters,
//! updates, every list filter and sort, offset pages and keyset walks
//! (also while other threads are being inserted).

use crate::agents::agent;
use crate::fixtures::{self, at};
use serde_json::json;
use spool_core::listing::{CursorPage, Listing, Paging};
use spool_core::model::{Message, MessageRole, RunInfo, Thread, ThreadStatus, Visibility};
use spool_core::paging::{Page, PageRequest};
use spool_core::query::{ThreadQuery, ThreadSort};
use spool_core::validate::Metadata;
use spool_core::{AgentId, MessageId, Store, ThreadId, Timestamp, UserId, WorkspaceId};
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

pub fn thread(workspace: WorkspaceId, creator: Option<UserId>, created_at: Timestamp) -> Thread {
    Thread {
        id: ThreadId::new(),
        workspace_id: workspace,
        creator_id: creator,
        anon_user_id: None,
        agent_id: None,
        title: Some(format!("Thread {}", created_at.timestamp())),
        subject: None,
        metadata: Metadata::default(),
        status: ThreadStatus::Idle,
        message_count: 0,
        last_message_at: None,
        last_model_used: None,
        is_pinned: false,
        pinned_at: None,
        visible_in_ui: true,
        input_tokens: 0,
        output_tokens: 0,
        expires_at: None,
        created_at,
        updated_at: created_at,
    }
}

fn message(thread: &Thread, created_at: Timestamp) -> Message {
    Message {
        id: MessageId::new(),
        thread_id: thread.id,
        workspace_id: thread.workspace_id,
        seq: 0,
        role: MessageRole::User,
        content: "hello".into(),
        content_html: "<p>hello</p>".into(),
        metadata: Metadata::default(),
        run: RunInfo::default(),
        tool_calls: Vec::new(),
        user_id: None,
        attachments: Vec::new(),
        token_count: None,
        created_at,
        updated_at: created_at,
    }
}

fn query(
    workspace: WorkspaceId,
    sort: ThreadSort,
    descending: bool,
    paging: Paging,
) -> ThreadQuery {
    ThreadQuery {
        workspace,
        creator: None,
        anon_user_id: None,
        agent: None,
        pinned: None,
        metadata: Vec::new(),
        search: None,
        sort,
        descending,
        paging,
    }
}

fn all() -> Paging {
    Paging::Offset(PageRequest {
        page: 1,
        per_page: 100,
    })
}

fn keyset(
    after: Option<spool_core::listing::Cursor>,
    before: Option<spool_core::listing::Cursor>,
    limit: u32,
) -> Paging {
    Paging::Keyset {
        after,
        before,
        limit,
    }
}

async fn page(store: &Arc<dyn Store>, query: ThreadQuery) -> Page<Thread> {
    match store.list_threads(query).await.expect("list threads") {
        Listing::Page(page) => page,
        Listing::Cursor(_) => panic!("asked for an offset page, got cursors"),
    }
}

async fn cursor(store: &Arc<dyn Store>, query: ThreadQuery) -> CursorPage<Thread> {
    match store.list_threads(query).await.expect("list threads") {
        Listing::Cursor(page) => page,
        Listing::Page(_) => panic!("asked for a keyset page, got an offset page"),
    }
}

fn ids(threads: &[Thread]) -> Vec<ThreadId> {
    threads.iter().map(|t| t.id).collect()
}

async fn threads_count(store: &Arc<dyn Store>, id: AgentId) -> u64 {
    store.agent(id).await.unwrap().expect("agent").threads_count
}

/// The order a list promises: by the sort key, ties broken by id.
fn sorted(mut threads: Vec<Thread>, sort: ThreadSort, descending: bool) -> Vec<ThreadId> {
    let key = |t: &Thread| match sort {
        ThreadSort::LastMessageAt => t.last_message_at.unwrap_or(t.created_at),
        ThreadSort::CreatedAt => t.created_at,
        ThreadSort::UpdatedAt => t.updated_at,
    };
    threads.sort_by_key(|t| (key(t), t.id));
    if descending {
        threads.reverse();
    }
    ids(&threads)
}

pub async fn story_insert_thread(store: Arc<dyn Store>) {
    let ada = fixtures::user(&store, "ada@example.com").await;
    let home = fixtures::insert_workspace(&store, "Home", ada.id).await;
    let other = fixtures::insert_workspace(&store, "Other", ada.id).await;
    let helper = agent(home.id, Some(ada.id), Visibility::Workspace, at(0));
    store.insert_agent(helper.clone()).await.unwrap();

    let mut full = thread(home.id, None, at(10));
    full.anon_user_id = Some("end-user-7".into());
    full.agent_id = Some(helper.id);
    full.title = Some("Résumé ✓".into());
    full.subject = Some("Grace".into());
    full.metadata = fixtures::metadata();
    full.is_pinned = true;
    full.pinned_at = Some(at(11));
    full.visible_in_ui = false;
    full.updated_at = at(12);
    store
        .insert_thread(full.clone())
        .await
        .expect("insert thread");
    let plain = thread(home.id, Some(ada.id), at(20));
    store.insert_thread(plain.clone()).await.unwrap();

    assert_eq!(
        store.thread(home.id, full.id).await.unwrap(),
        Some(full.clone())
    );
    assert_eq!(
        store.thread(home.id, plain.id).await.unwrap(),
        Some(plain.clone())
    );
    assert_eq!(store.thread(home.id, ThreadId::new()).await.unwrap(), None);
    assert_eq!(threads_count(&store, helper.id).await, 1);

    // Another workspace's id is not there, to read, change or delete.
    assert_eq!(store.thread(other.id, full.id).await.unwrap(), None);
    assert!(!store.delete_thread(other.id, full.id).await.unwrap());
    let moved = Thread {
        workspace_id: other.id,
        title: Some("hijacked".into()),
        ..plain.clone()
    };
    assert!(!store.update_thread(&moved).await.unwrap());
    assert_eq!(
        store.thread(home.id, plain.id).await.unwrap(),
        Some(plain.clone())
    );
    let listed = page(&store, query(other.id, ThreadSort::CreatedAt, true, all())).await;
    assert!(listed.items.is_empty());
    assert_eq!(listed.total, 0);

    // A refused insert leaves the counter alone: one transaction.
    let duplicate = Thread {
        title: Some("again".into()),
        ..full.clone()
    };
    assert!(store.insert_thread(duplicate).await.is_err());
    assert_eq!(threads_count(&store, helper.id).await, 1);

    let second = Thread {
        agent_id: Some(helper.id),
        ..thread(home.id, Some(ada.id), at(30))
    };
    store.insert_thread(second.clone()).await.unwrap();
    assert_eq!(threads_count(&store, helper.id).await, 2);
    assert!(store.delete_thread(home.id, full.id).await.unwrap());
    assert!(!store.delete_thread(home.id, full.id).await.unwrap());
    assert_eq!(threads_count(&store, helper.id).await, 1);
    assert_eq!(store.thread(home.id, full.id).await.unwrap(), None);
    assert!(store.delete_thread(home.id, plain.id).await.unwrap());
    assert_eq!(
        threads_count(&store, helper.id).await,
        1,
        "no agent, no change"
    );
}

pub async fn story_update_thread(store: Arc<dyn Store>) {
    let ada = fixtures::user(&store, "ada@example.com").await;
    let home = fixtures::insert_workspace(&store, "Home", ada.id).await;
    let first = agent(home.id, Some(ada.id), Visibility::Workspace, at(0));
    let second = agent(home.id, Some(ada.id), Visibility::Workspace, at(1));
    store.insert_agent(first.clone()).await.unwrap();
    store.insert_agent(second.clone()).await.unwrap();
    let original = Thread {
        agent_id: Some(first.id),
        ..thread(home.id, Some(ada.id), at(10))
    };
    store.insert_thread(original.clone()).await.unwrap();
    store
        .append_message(message(&original, at(15)))
        .await
        .unwrap()
        .expect("thread exists");
    let stored = store.thread(home.id, original.id).await.unwrap().unwrap();

    let mut edit = stored.clone();
    edit.title = Some("Renamed".into());
    edit.subject = Some("Someone".into());
    edit.metadata = fixtures::metadata();
    edit.agent_id = Some(second.id);
    edit.is_pinned = true;
    edit.pinned_at = Some(at(20));
    edit.visible_in_ui = false;
    edit.updated_at = at(21);
    // Not the caller's to change: these stay as stored.
    edit.creator_id = None;
    edit.anon_user_id = Some("sneaky".into());
    edit.status = ThreadStatus::Running;
    edit.message_count = 99;
    edit.last_message_at = Some(at(99));
    edit.input_tokens = 99;
    edit.created_at = at(99);
    assert!(store.update_thread(&edit).await.unwrap());
    let expected = Thread {
        title: edit.title.clone(),
        subject: edit.subject.clone(),
        metadata: edit.metadata.clone(),
        agent_id: edit.agent_id,
        is_pinned: true,
        pinned_at: Some(at(20)),
        visible_in_ui: false,
        updated_at: at(21),
        ..stored.clone()
    };
    assert_eq!(
        store.thread(home.id, stored.id).await.unwrap(),
        Some(expected.clone())
    );
    assert_eq!(threads_count(&store, first.id).await, 0);
    assert_eq!(threads_count(&store, second.id).await, 1);

    // The same agent again: no change; no agent: counted out; back: in.
    assert!(store.update_thread(&expected).await.unwrap());
    assert_eq!(threads_count(&store, second.id).await, 1);
    let unassigned = Thread {
        agent_id: None,
        title: None,
        subject: None,
        pinned_at: None,
        is_pinned: false,
        ..expected.clone()
    };
    assert!(store.update_thread(&unassigned).await.unwrap());
    assert_eq!(
        store.thread(home.id, stored.id).await.unwrap(),
        Some(unassigned.clone())
    );
    assert_eq!(threads_count(&store, second.id).await, 0);
    let back = Thread {
        agent_id: Some(first.id),
        ..unassigned.clone()
    };
    assert!(store.update_thread(&back).await.unwrap());
    assert_eq!(threads_count(&store, first.id).await, 1);
    assert_eq!(threads_count(&store, second.id).await, 0);

    // Two threads swapping agents at once keep both counters right.
    let other = Thread {
        agent_id: Some(second.id),
        ..thread(home.id, Some(ada.id), at(30))
    };
    store.insert_thread(other.clone()).await.unwrap();
    for round in 0..10 {
        let (a, b) = if round % 2 == 0 {
            (second.id, first.id)
        } else {
            (first.id, second.id)
        };
        let one = Thread {
            agent_id: Some(a),
            ..back.clone()
        };
        let two = Thread {
            agent_id: Some(b),
            ..other.clone()
        };
        let (s1, s2) = (store.clone(), store.clone());
        let (r1, r2) = tokio::join!(
            tokio::spawn(async move { s1.update_thread(&one).await }),
            tokio::spawn(async move { s2.update_thread(&two).await }),
        );
        assert!(r1.unwrap().unwrap() && r2.unwrap().unwrap());
        assert_eq!(threads_count(&store, first.id).await, 1);
        assert_eq!(threads_count(&store, second.id).await, 1);
    }

    let ghost = thread(home.id, None, at(0));
    assert!(!store.update_thread(&ghost).await.unwrap());
    assert_eq!(store.thread(home.id, ghost.id).await.unwrap(), None);
}

pub async fn story_list_thread_filters(store: Arc<dyn Store>) {
    let ada = fixtures::user(&store, "ada@example.com").await;
    let grace = fixtures::user(&store, "grace@example.com").await;
    let home = fixtures::insert_workspace(&store, "Home", ada.id).await;
    let other = fixtures::insert_workspace(&store, "Other", ada.id).await;
    let helper = agent(home.id, Some(ada.id), Visibility::Workspace, at(0));
    let rival = agent(home.id, Some(ada.id), Visibility::Workspace, at(0));
    store.insert_agent(helper.clone()).await.unwrap();
    store.insert_agent(rival.clone()).await.unwrap();
    let meta = |value: serde_json::Value| Metadata::from_stored(value.as_object().unwrap().clone());

    let t1 = Thread {
        agent_id: Some(helper.id),
        is_pinned: true,
        pinned_at: Some(at(1)),
        metadata: meta(json!({
            "tier": "gold", "seats": 5, "a.b": "dot", "say \"hi\"": "quoted", "flag": true,
            "$.tier": "path"
        })),
        ..thread(home.id, Some(ada.id), at(1))
    };
    let t2 = Thread {
        agent_id: Some(rival.id),
        metadata: meta(json!({ "tier": "silver", "seats": "5" })),
        ..thread(home.id, Some(grace.id), at(2))
    };
    let t3 = Thread {
        anon_user_id: Some("end-user-1".into()),
        metadata: meta(json!({ "tier": "gold", "seats": 50 })),
        ..thread(home.id, None, at(3))
    };
    let t4 = Thread {
        anon_user_id: Some("end-user-2".into()),
        is_pinned: true,
        pinned_at: Some(at(4)),
        metadata: meta(json!({ "nested": { "x": 1 }, "nothing": null })),
        ..thread(home.id, None, at(4))
    };
    let elsewhere = Thread {
        metadata: meta(json!({ "tier": "gold", "seats": 5 })),
        ..thread(other.id, Some(ada.id), at(5))
    };
    for t in [&t1, &t2, &t3, &t4, &elsewhere] {
        store.insert_thread(t.clone()).await.unwrap();
    }

    let ws = home.id;
    check(&store, ws, "none", |_| {}, &[&t1, &t2, &t3, &t4]).await;
    check(&store, ws, "creator", |q| q.creator = Some(ada.id), &[&t1]).await;
    check(
        &store,
        ws,
        "creator grace",
        |q| q.creator = Some(grace.id),
        &[&t2],
    )
    .await;
    let anon = |id: &str| {
        let id = id.to_owned();
        move |q: &mut ThreadQuery| q.anon_user_id = Some(id)
    };
    check(&store, ws, "anon", anon("end-user-1"), &[&t3]).await;
    check(&store, ws, "anon unknown", anon("nobody"), &[]).await;
    check(&store, ws, "agent", |q| q.agent = Some(helper.id), &[&t1]).await;
    check(
        &store,
        ws,
        "agent rival",
        |q| q.agent = Some(rival.id),
        &[&t2],
    )
    .await;
    check(&store, ws, "pinned", |q| q.pinned = Some(true), &[&t1, &t4]).await;
    check(
        &store,
        ws,
        "unpinned",
        |q| q.pinned = Some(false),
        &[&t2, &t3],
    )
    .await;
    check(
        &store,
        ws,
        "string value",
        meta_is(&[("tier", "gold")]),
        &[&t1, &t3],
    )
    .await;
    check(
        &store,
        ws,
        "number or numeric string",
        meta_is(&[("seats", "5")]),
        &[&t1, &t2],
    )
    .await;
    check(
        &store,
        ws,
        "other number",
        meta_is(&[("seats", "50")]),
        &[&t3],
    )
    .await;
    check(&store, ws, "boolean", meta_is(&[("flag", "true")]), &[&t1]).await;
    check(
        &store,
        ws,
        "object",
        meta_is(&[("nested", "{\"x\":1}")]),
        &[&t4],
    )
    .await;
    check(&store, ws, "null", meta_is(&[("nothing", "null")]), &[&t4]).await;
    check(
        &store,
        ws,
        "quoted string is not the string",
        meta_is(&[("tier", "\"gold\"")]),
        &[],
    )
    .await;
    check(
        &store,
        ws,
        "key with a dot",
        meta_is(&[("a.b", "dot")]),
        &[&t1],
    )
    .await;
    check(
        &store,
        ws,
        "key with quotes",
        meta_is(&[("say \"hi\"", "quoted")]),
        &[&t1],
    )
    .await;
    check(
        &store,
        ws,
        "key like a path",
        meta_is(&[("$.tier", "gold")]),
        &[],
    )
    .await;
    check(
        &store,
        ws,
        "key like a path, literal",
        meta_is(&[("$.tier", "path")]),
        &[&t1],
    )
    .await;
    check(
        &store,
        ws,
        "missing key",
        meta_is(&[("absent", "gold")]),
        &[],
    )
    .await;
    check(
        &store,
        ws,
        "two pairs",
        meta_is(&[("tier", "gold"), ("seats", "50")]),
        &[&t3],
    )
    .await;
    let combined = |q: &mut ThreadQuery| {
        q.creator = Some(ada.id);
        q.metadata = vec![("tier".into(), "silver".into())];
    };
    check(&store, ws, "filters combine", combined, &[]).await;
    let pinned_gold = |q: &mut ThreadQuery| {
        q.pinned = Some(true);
        q.metadata = vec![("tier".into(), "gold".into())];
    };
    check(&store, ws, "pinned with metadata", pinned_gold, &[&t1]).await;
    let blank = |q: &mut ThreadQuery| q.search = Some("   ".into());
    check(
        &store,
        ws,
        "blank search is no search",
        blank,
        &[&t1, &t2, &t3, &t4],
    )
    .await;
}

fn meta_is(pairs: &[(&str, &str)]) -> impl FnOnce(&mut ThreadQuery) + use<> {
    let pairs: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |q| q.metadata = pairs
}

/// Lists `workspace` oldest first with `edit` applied to the query.
async fn check(
    store: &Arc<dyn Store>,
    workspace: WorkspaceId,
    name: &str,
    edit: impl FnOnce(&mut ThreadQuery),
    expected: &[&Thread],
) {
    let mut q = query(workspace, ThreadSort::CreatedAt, false, all());
    edit(&mut q);
    let found = page(store, q).await;
    let expected: Vec<ThreadId> = expected.iter().map(|t| t.id).collect();
    assert_eq!(ids(&found.items), expected, "{name}");
    assert_eq!(found.total, expected.len() as u64, "{name}: total");
}

/// Threads whose three sort keys disagree, listed by each key both ways,
/// in offset pages with the total.
pub async fn story_list_thread_sorts(store: Arc<dyn Store>) {
    let ada = fixtures::user(&store, "ada@example.com").await;
    let home = fixtures::insert_workspace(&store, "Home", ada.id).await;
    let mut inserted = Vec::new();
    for i in 0..12_i64 {
        // Two threads share each creation instant: ties go by id.
        let t = thread(home.id, Some(ada.id), at(i / 2 * 10));
        store.insert_thread(t.clone()).await.unwrap();
        inserted.push(t);
    }
    // Messages make "last message" disagree with creation; some threads
    // have none and sort by creation time there.
    for (i, t) in inserted.iter().enumerate() {
        if i % 3 != 0 {
            let when = at(1_000 - (i as i64) * 37 % 500);
            store
                .append_message(message(t, when))
                .await
                .unwrap()
                .unwrap();
        }
    }
    // And updates make "updated" disagree with both.
    for (i, t) in inserted.iter().enumerate() {
        if i % 4 == 1 {
            let mut current = store.thread(home.id, t.id).await.unwrap().unwrap();
            current.updated_at = at(5_000 - i as i64 * 100);
            assert!(store.update_thread(&current).await.unwrap());
        }
    }
    let mut stored = Vec::new();
    for t in &inserted {
        stored.push(store.thread(home.id, t.id).await.unwrap().unwrap());
    }

    for sort in [
        ThreadSort::LastMessageAt,
        ThreadSort::CreatedAt,
        ThreadSort::UpdatedAt,
    ] {
        for descending in [false, true] {
            let expected = sorted(stored.clone(), sort, descending);
            let whole = page(&store, query(home.id, sort, descending, all())).await;
            assert_eq!(
                ids(&whole.items),
                expected,
                "{sort:?} descending={descending}"
            );
            let mut paged = Vec::new();
            for number in 1..=3 {
                let request = PageRequest {
                    page: number,
                    per_page: 5,
                };
                let part = page(
                    &store,
                    query(home.id, sort, descending, Paging::Offset(request)),
                )
                .await;
                assert_eq!(part.total, 12);
                assert_eq!(part.request, request);
                paged.extend(ids(&part.items));
            }
            assert_eq!(paged, expected, "{sort:?} descending={descending}, paged");
        }
    }
    let distinct: HashSet<_> = [
        sorted(stored.clone(), ThreadSort::LastMessageAt, false),
        sorted(stored.clone(), ThreadSort::CreatedAt, false),
        sorted(stored.clone(), ThreadSort::UpdatedAt, false),
    ]
    .into_iter()
    .collect();
    assert_eq!(distinct.len(), 3, "the story needs three different orders");
}

/// Follows `next` from the start, then `prev` back from the end.
async fn walk(
    store: &Arc<dyn Store>,
    base: &ThreadQuery,
    limit: u32,
) -> (Vec<ThreadId>, Vec<ThreadId>) {
    let with = |paging| ThreadQuery {
        paging,
        ..base.clone()
    };
    let mut forward = Vec::new();
    let mut after = None;
    let mut pages = 0;
    let last = loop {
        let part = cursor(store, with(keyset(after, None, limit))).await;
        assert!(part.items.len() <= limit as usize);
        assert_eq!(
            part.prev.is_some(),
            after.is_some(),
            "prev only after the first page"
        );
        forward.extend(ids(&part.items));
        pages += 1;
        assert!(pages < 1_000, "the walk does not end");
        match part.next {
            Some(next) => after = Some(next),
            None => break part,
        }
    };
    let mut backward: Vec<Vec<ThreadId>> = vec![ids(&last.items)];
    let mut before = last.prev;
    while let Some(cursor_before) = before {
        let part = cursor(store, with(keyset(None, Some(cursor_before), limit))).await;
        assert!(part.next.is_some(), "a page before a cursor has a next");
        backward.push(ids(&part.items));
        before = part.prev;
        pages += 1;
        assert!(pages < 2_000, "the walk back does not end");
    }
    backward.reverse();
    (forward, backward.concat())
}

pub async fn story_keyset_walk(store: Arc<dyn Store>) {
    let ada = fixtures::user(&store, "ada@example.com").await;
    let home = fixtures::insert_workspace(&store, "Home", ada.id).await;
    let other = fixtures::insert_workspace(&store, "Other", ada.id).await;
    let mut inserted = Vec::new();
    for i in 0..250_i64 {
        // About three threads share each creation instant.
        let mut t = thread(home.id, Some(ada.id), at((i * 7919) % 250 / 3));
        t.updated_at = at(10_000 - i % 40);
        store.insert_thread(t.clone()).await.unwrap();
        inserted.push(t);
    }
    for t in inserted.iter().step_by(4) {
        store
            .append_message(message(t, at(500 + (t.created_at.timestamp() % 13))))
            .await
            .unwrap()
            .unwrap();
    }
    store
        .insert_thread(thread(other.id, Some(ada.id), at(1)))
        .await
        .unwrap();
    let mut stored = Vec::new();
    for t in &inserted {
        stored.push(store.thread(home.id, t.id).await.unwrap().unwrap());
    }

    for sort in [
        ThreadSort::LastMessageAt,
        ThreadSort::CreatedAt,
        ThreadSort::UpdatedAt,
    ] {
        for descending in [true, false] {
            let expected = sorted(stored.clone(), sort, descending);
            let base = query(home.id, sort, descending, all());
            let (forward, backward) = walk(&store, &base, 7).await;
            assert_eq!(forward.len(), 250, "{sort:?} descending={descending}");
            assert_eq!(
                forward, expected,
                "{sort:?} descending={descending}: forward"
            );
            assert_eq!(
                backward, expected,
                "{sort:?} descending={descending}: backward"
            );
        }
    }

    // An empty list has no cursors; a full page has a next.
    let mut nobody = query(home.id, ThreadSort::CreatedAt, true, all());
    nobody.creator = Some(UserId(ada.id.0 + 1_000));
    let empty = cursor(
        &store,
        ThreadQuery {
            paging: keyset(None, None, 10),
            ..nobody
        },
    )
    .await;
    assert!(empty.items.is_empty());
    assert_eq!((empty.next, empty.prev), (None, None));
    let whole = cursor(
        &store,
        query(
            home.id,
            ThreadSort::CreatedAt,
            true,
            keyset(None, None, 100),
        ),
    )
    .await;
    assert_eq!(whole.items.len(), 100);
    assert!(whole.next.is_some());
}

/// A keyset walk while another task inserts threads before, between and
/// after the ones being walked: each thread that existed at the start is
/// seen exactly once, in order, and nothing is seen twice.
pub async fn story_keyset_walk_under_inserts(store: Arc<dyn Store>) {
    let ada = fixtures::user(&store, "ada@example.com").await;
    let home = fixtures::insert_workspace(&store, "Home", ada.id).await;
    let mut initial = Vec::new();
    for i in 0..150_i64 {
        let t = thread(home.id, Some(ada.id), at(i * 2));
        store.insert_thread(t.clone()).await.unwrap();
        initial.push(t);
    }
    let expected = sorted(initial.clone(), ThreadSort::CreatedAt, true);

    let done = Arc::new(AtomicBool::new(false));
    // How many threads the inserter has added, for the walk to wait on.
    let (added, mut inserted) = tokio::sync::watch::channel(0_usize);
    let inserter = {
        let (store, done) = (store.clone(), done.clone());
        tokio::spawn(async move {
            let mut j = 0_i64;
            while !done.load(Ordering::SeqCst) {
                // Between existing threads, at the same instant as one, and
                // at both ends of the list.
                let when = match j % 4 {
                    0 => at((j * 37) % 300 + 1),
                    1 => at((j * 53) % 300 / 2 * 2),
                    2 => at(10_000 + j),
                    _ => at(-10_000 - j),
                };
                store
                    .insert_thread(thread(home.id, Some(ada.id), when))
                    .await
                    .unwrap();
                added.send_modify(|n| *n += 1);
                j += 1;
                tokio::task::yield_now().await;
            }
        })
    };
    inserted.wait_for(|&n| n > 0).await.unwrap();

    let mut seen = Vec::new();
    let mut after = None;
    let mut pages = 0;
    loop {
        let part = cursor(
            &store,
            query(home.id, ThreadSort::CreatedAt, true, keyset(after, None, 6)),
        )
        .await;
        seen.extend(ids(&part.items));
        pages += 1;
        // At least one insert lands between any two pages, however fast
        // or slow the backend commits.
        let mark = *inserted.borrow_and_update();
        inserted.wait_for(|&n| n > mark).await.unwrap();
        match part.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    done.store(true, Ordering::SeqCst);
    inserter.await.unwrap();
    assert!(pages >= 25, "150 threads in pages of 6");

    let unique: HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "a thread was repeated");
    let initial_ids: HashSet<_> = expected.iter().collect();
    let walked_initial: Vec<ThreadId> = seen
        .into_iter()
        .filter(|id| initial_ids.contains(id))
        .collect();
    assert_eq!(
        walked_initial, expected,
        "a thread that existed at the start was skipped"
    );
}
