//! Messages: seq from the store, counters moved with the rows, pages that
//! walk a thread exactly once.

use crate::builders::{self, all_threads, append, ids, insert_thread, message, reply, thread};
use crate::fixtures::{self, at, t0};
use serde_json::json;
use spool_core::listing::{Cursor, Listing, Paging};
use spool_core::model::Message;
use spool_core::paging::PageRequest;
use spool_core::validate::Metadata;
use spool_core::{MessageId, Store, ThreadId};
use std::sync::Arc;

/// Appending assigns the next seq and, in the same write, moves the
/// thread's count, last_message_at, updated_at, token totals and model.
pub async fn story_append_messages(store: Arc<dyn Store>) {
    let ada = fixtures::user(&store, "ada@example.com").await;
    let ws = fixtures::insert_workspace(&store, "Engines", ada.id).await;
    let other = fixtures::insert_workspace(&store, "Elsewhere", ada.id).await;
    let helper = builders::insert_agent(&store, ws.id, ada.id, t0()).await;
    let mut chat = thread(ws.id, Some(ada.id), t0());
    chat.agent_id = Some(helper.id);
    let chat = insert_thread(&store, chat).await;

    let mut first = message(&chat, "What time is it?", at(10));
    first.seq = 77; // ignored: the store numbers messages
    first.metadata = fixtures::metadata();
    let stored = append(&store, first.clone()).await;
    assert_eq!(stored, Message { seq: 1, ..first });
    assert_eq!(
        store.message(ws.id, stored.id).await.unwrap(),
        Some(stored.clone())
    );
    let after_one = store.thread(ws.id, chat.id).await.unwrap().unwrap();
    assert_eq!(after_one.message_count, 1);
    assert_eq!(after_one.last_message_at, Some(at(10)));
    assert_eq!(after_one.updated_at, at(10));
    assert_eq!((after_one.input_tokens, after_one.output_tokens), (0, 0));
    assert_eq!(after_one.last_model_used, None);

    let answer = append(
        &store,
        reply(&chat, "Noon.", at(20), Some("gpt-test"), (100, 40)),
    )
    .await;
    assert_eq!(answer.seq, 2);
    assert_eq!(
        store.message(ws.id, answer.id).await.unwrap(),
        Some(answer.clone())
    );
    let tool = append(&store, reply(&chat, "Checked.", at(30), None, (7, 3))).await;
    assert_eq!(tool.seq, 3);
    let after_three = store.thread(ws.id, chat.id).await.unwrap().unwrap();
    assert_eq!(after_three.message_count, 3);
    assert_eq!(after_three.last_message_at, Some(at(30)));
    assert_eq!(after_three.updated_at, at(30));
    assert_eq!(
        (after_three.input_tokens, after_three.output_tokens),
        (107, 43)
    );
    assert_eq!(
        after_three.last_model_used.as_deref(),
        Some("gpt-test"),
        "a run without a model leaves the last model"
    );

    // A thread that is gone, or in another workspace, takes no message.
    let mut lost = message(&chat, "anyone?", at(40));
    lost.thread_id = ThreadId::new();
    assert_eq!(store.append_message(lost).await.unwrap(), None);
    let mut astray = message(&chat, "wrong door", at(40));
    astray.workspace_id = other.id;
    assert_eq!(store.append_message(astray).await.unwrap(), None);
    assert_eq!(
        store.thread(ws.id, chat.id).await.unwrap().unwrap(),
        after_three
    );
    assert_eq!(store.message(other.id, answer.id).await.unwrap(), None);
    assert_eq!(store.message(ws.id, MessageId::new()).await.unwrap(), None);

    // Updating replaces the content and run, keeps the place in the thread.
    let mut edited = answer.clone();
    edited.seq = 99;
    edited.content = "It is noon.".into();
    edited.content_html = "<p>It is noon.</p>".into();
    edited.metadata = Metadata::from_stored(json!({"edited": true}).as_object().unwrap().clone());
    edited.run.finish_reason = Some("length".into());
    edited.tool_calls = vec![json!({"tool_name": "clock", "error": "late"})];
    edited.updated_at = at(50);
    assert!(store.update_message(&edited).await.unwrap());
    assert_eq!(
        store.message(ws.id, answer.id).await.unwrap(),
        Some(Message {
            seq: 2,
            ..edited.clone()
        })
    );
    let mut foreign = edited.clone();
    foreign.workspace_id = other.id;
    assert!(!store.update_message(&foreign).await.unwrap());
    let mut ghost = edited.clone();
    ghost.id = MessageId::new();
    assert!(!store.update_message(&ghost).await.unwrap());

    // Deleting takes one from the count and never frees its seq.
    assert!(!store.delete_message(other.id, stored.id).await.unwrap());
    assert!(store.delete_message(ws.id, stored.id).await.unwrap());
    assert!(!store.delete_message(ws.id, stored.id).await.unwrap());
    assert_eq!(store.message(ws.id, stored.id).await.unwrap(), None);
    let after_delete = store.thread(ws.id, chat.id).await.unwrap().unwrap();
    assert_eq!(after_delete.message_count, 2);
    assert_eq!(after_delete.last_message_at, Some(at(30)));
    let next = append(&store, message(&chat, "And now?", at(60))).await;
    assert_eq!(next.seq, 4);

    // The thread that spoke last comes first when sorting by activity.
    let quiet = insert_thread(&store, thread(ws.id, Some(ada.id), at(55))).await;
    let order = store.list_threads(all_threads(ws.id)).await.unwrap();
    assert_eq!(ids(&order, |t| t.id), [chat.id, quiet.id]);
    append(&store, message(&quiet, "Hello?", at(70))).await;
    let order = store.list_threads(all_threads(ws.id)).await.unwrap();
    assert_eq!(ids(&order, |t| t.id), [quiet.id, chat.id]);

    // Deleting the thread takes its messages along.
    assert!(store.delete_thread(ws.id, chat.id).await.unwrap());
    assert_eq!(store.message(ws.id, answer.id).await.unwrap(), None);
    assert_eq!(store.message(ws.id, next.id).await.unwrap(), None);
    assert_eq!(
        store.agent(helper.id).await.unwrap().unwrap().threads_count,
        0
    );
}

/// Appends racing on one thread get seqs 1..=50, each once.
pub async fn story_concurrent_appends(store: Arc<dyn Store>) {
    let ada = fixtures::user(&store, "ada@example.com").await;
    let ws = fixtures::insert_workspace(&store, "Engines", ada.id).await;
    let chat = insert_thread(&store, thread(ws.id, Some(ada.id), t0())).await;
    let appends = (0..50).map(|i| {
        let store = store.clone();
        let message = message(&chat, &format!("message {i}"), at(i));
        tokio::spawn(async move { store.append_message(message).await })
    });
    let mut seqs = Vec::new();
    for append in appends.collect::<Vec<_>>() {
        let message = append
            .await
            .expect("task")
            .expect("append")
            .expect("thread");
        seqs.push(message.seq);
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=50).collect::<Vec<_>>());
    let chat_now = store.thread(ws.id, chat.id).await.unwrap().unwrap();
    assert_eq!(chat_now.message_count, 50);
    let listed = store
        .list_messages(
            chat.id,
            Paging::Offset(PageRequest {
                page: 1,
                per_page: 100,
            }),
            false,
            None,
        )
        .await
        .unwrap();
    assert_eq!(ids(&listed, |m| m.seq), (1..=50).collect::<Vec<_>>());
}

fn keyset(after: Option<Cursor>, before: Option<Cursor>, limit: u32) -> Paging {
    Paging::Keyset {
        after,
        before,
        limit,
    }
}

fn cursor_page(listing: Listing<Message>) -> spool_core::listing::CursorPage<Message> {
    match listing {
        Listing::Cursor(page) => page,
        Listing::Page(_) => panic!("keyset paging answers with cursors"),
    }
}

/// A message's token count is stored as given, NULL stays unknown, pages
/// carry it, and an update writes the new count.
pub async fn story_message_token_counts(store: Arc<dyn Store>) {
    let ada = fixtures::user(&store, "ada@example.com").await;
    let ws = fixtures::insert_workspace(&store, "Counts", ada.id).await;
    let chat = insert_thread(&store, thread(ws.id, Some(ada.id), t0())).await;
    let mut counted = message(&chat, "How many tokens is this?", at(10));
    counted.token_count = Some(6);
    let counted = append(&store, counted).await;
    assert_eq!(counted.token_count, Some(6));
    let unknown = append(&store, message(&chat, "And this?", at(20))).await;
    assert_eq!(unknown.token_count, None);
    let page = cursor_page(
        store
            .list_messages(chat.id, keyset(None, None, 10), false, None)
            .await
            .unwrap(),
    );
    let counts: Vec<_> = page.items.iter().map(|m| m.token_count).collect();
    assert_eq!(counts, [Some(6), None]);

    let mut edited = counted.clone();
    edited.content = "Fewer now.".into();
    edited.token_count = Some(3);
    edited.updated_at = at(30);
    assert!(store.update_message(&edited).await.unwrap());
    let read = store.message(ws.id, counted.id).await.unwrap().unwrap();
    assert_eq!(read.token_count, Some(3), "an edit writes its new count");
}

/// Walks `thread` forwards with `next`, then back from the end with `prev`.
async fn walk(store: &Arc<dyn Store>, thread: ThreadId, descending: bool) -> (Vec<i64>, Vec<i64>) {
    let mut forwards = Vec::new();
    let mut after = None;
    let mut last = None;
    loop {
        let page = cursor_page(
            store
                .list_messages(thread, keyset(after, None, 4), descending, None)
                .await
                .unwrap(),
        );
        assert!(page.items.len() <= 4);
        if after.is_none() {
            assert_eq!(page.prev, None, "the first page has nothing before it");
        }
        forwards.extend(page.items.iter().map(|m| m.seq));
        last = page
            .items
            .last()
            .map(|m| Cursor {
                key: m.seq,
                id: m.id.0,
            })
            .or(last);
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    // From just past the end, backwards with `before`.
    let mut backwards = Vec::new();
    let past_end = last.map(|c| Cursor {
        key: if descending { c.key - 1 } else { c.key + 1 },
        ..c
    });
    let mut before = past_end;
    loop {
        let page = cursor_page(
            store
                .list_messages(thread, keyset(None, before, 4), descending, None)
                .await
                .unwrap(),
        );
        backwards.splice(0..0, page.items.iter().map(|m| m.seq));
        match page.prev {
            Some(prev) => before = Some(prev),
            None => break,
        }
    }
    (forwards, backwards)
}

/// Keyset pages in both directions and both orders visit every message
/// exactly once; offset pages count the thread.
pub async fn story_message_paging(store: Arc<dyn Store>) {
    let ada = fixtures::user(&store, "ada@example.com").await;
    let ws = fixtures::insert_workspace(&store, "Engines", ada.id).await;
    let chat = insert_thread(&store, thread(ws.id, Some(ada.id), t0())).await;
    let other = insert_thread(&store, thread(ws.id, Some(ada.id), t0())).await;
    for i in 0..23 {
        // Clock order opposite to seq order: seq must win.
        append(&store, message(&chat, &format!("m{i}"), at(1000 - i))).await;
        if i % 5 == 0 {
            append(&store, message(&other, "noise", at(i))).await;
        }
    }
    let all: Vec<i64> = (1..=23).collect();
    let reversed: Vec<i64> = all.iter().rev().copied().collect();
    assert_eq!(
        walk(&store, chat.id, false).await,
        (all.clone(), all.clone())
    );
    assert_eq!(
        walk(&store, chat.id, true).await,
        (reversed.clone(), reversed.clone())
    );

    // Rows appended between pages neither repeat nor skip the ones listed.
    let first = cursor_page(
        store
            .list_messages(chat.id, keyset(None, None, 10), false, None)
            .await
            .unwrap(),
    );
    append(&store, message(&chat, "late", at(2000))).await;
    let second = cursor_page(
        store
            .list_messages(chat.id, keyset(first.next, None, 10), false, None)
            .await
            .unwrap(),
    );
    let third = cursor_page(
        store
            .list_messages(chat.id, keyset(second.next, None, 10), false, None)
            .await
            .unwrap(),
    );
    let seen: Vec<i64> = [first, second, third]
        .iter()
        .flat_map(|p| p.items.iter().map(|m| m.seq))
        .collect();
    assert_eq!(seen, (1..=24).collect::<Vec<_>>());

    let page = |page, per_page| Paging::Offset(PageRequest { page, per_page });
    let second_page = store
        .list_messages(chat.id, page(2, 10), false, None)
        .await
        .unwrap();
    assert_eq!(ids(&second_page, |m| m.seq), (11..=20).collect::<Vec<_>>());
    assert_eq!(builders::total(&second_page), 24);
    let tail = store
        .list_messages(chat.id, page(3, 10), true, None)
        .await
        .unwrap();
    assert_eq!(ids(&tail, |m| m.seq), [4, 3, 2, 1]);
    let empty = store
        .list_messages(ThreadId::new(), page(1, 10), false, None)
        .await
        .unwrap();
    assert_eq!((empty.items().len(), builders::total(&empty)), (0, 0));
    let none = cursor_page(
        store
            .list_messages(ThreadId::new(), keyset(None, None, 10), false, None)
            .await
            .unwrap(),
    );
    assert_eq!((none.items.len(), none.next, none.prev), (0, None, None));
}

/// Walks `thread` forwards with `next` under a byte bound of `max_bytes`,
/// asking `limit` rows a page; answers each page's seqs.
async fn walk_bounded(
    store: &Arc<dyn Store>,
    thread: ThreadId,
    descending: bool,
    max_bytes: u64,
) -> Vec<Vec<i64>> {
    let mut pages = Vec::new();
    let mut after = None;
    loop {
        let page = cursor_page(
            store
                .list_messages(thread, keyset(after, None, 10), descending, Some(max_bytes))
                .await
                .unwrap(),
        );
        pages.push(page.items.iter().map(|m| m.seq).collect());
        match page.next {
            Some(next) => after = Some(next),
            None => return pages,
        }
    }
}

/// A page bounded in bytes stops before the row that would pass the bound,
/// always holds one row, and continues exactly where it stopped.
pub async fn story_message_pages_bounded_in_bytes(store: Arc<dyn Store>) {
    let ada = fixtures::user(&store, "ada@example.com").await;
    let ws = fixtures::insert_workspace(&store, "Engines", ada.id).await;
    let chat = insert_thread(&store, thread(ws.id, Some(ada.id), t0())).await;
    // Sizes in KiB: small ones, then two over the whole bound.
    let sizes = [1, 1, 30, 30, 30, 1, 200, 1, 300, 1, 1, 1];
    let mut stored = Vec::new();
    for (i, kib) in sizes.iter().enumerate() {
        let mut m = message(&chat, &"x".repeat(kib * 1024), at(i as i64));
        m.content_html = String::new();
        stored.push(append(&store, m).await);
    }
    let bytes: Vec<u64> = stored.iter().map(|m| m.listed_bytes() as u64).collect();
    let bound = 64 * 1024;
    let pages = walk_bounded(&store, chat.id, false, bound).await;
    assert_eq!(
        pages,
        [
            vec![1, 2, 3, 4],
            vec![5, 6],
            vec![7],
            vec![8],
            vec![9],
            vec![10, 11, 12]
        ],
        "row sizes {bytes:?}"
    );
    let descending = walk_bounded(&store, chat.id, true, bound).await;
    let flat: Vec<i64> = descending.into_iter().flatten().collect();
    assert_eq!(flat, (1..=12).rev().collect::<Vec<_>>());
    // Unbounded, the same request answers a whole page.
    let whole = walk_bounded(&store, chat.id, false, u64::MAX).await;
    assert_eq!(whole, [(1..=10).collect::<Vec<_>>(), vec![11, 12]]);

    // Backwards from the end: the rows nearest the cursor are kept.
    let end = Cursor {
        key: 13,
        id: uuid::Uuid::nil(),
    };
    let back = cursor_page(
        store
            .list_messages(chat.id, keyset(None, Some(end), 10), false, Some(bound))
            .await
            .unwrap(),
    );
    assert_eq!(
        back.items.iter().map(|m| m.seq).collect::<Vec<_>>(),
        [10, 11, 12]
    );
    assert_eq!(back.prev.map(|c| c.key), Some(10));

    // Offset pages: short although rows follow, so cut.
    let first = store
        .list_messages(
            chat.id,
            Paging::Offset(PageRequest {
                page: 1,
                per_page: 10,
            }),
            false,
            Some(bound),
        )
        .await
        .unwrap();
    let Listing::Page(first) = first else {
        panic!("an offset request answers an offset page")
    };
    assert_eq!(
        first.items.iter().map(|m| m.seq).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    assert!(first.is_cut());
    assert_eq!(first.total, 12);
    let second = store
        .list_messages(
            chat.id,
            Paging::Offset(PageRequest {
                page: 2,
                per_page: 10,
            }),
            false,
            Some(bound),
        )
        .await
        .unwrap();
    assert_eq!(ids(&second, |m| m.seq), [11, 12]);
}
