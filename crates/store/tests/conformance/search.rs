//! Full-text search over thread titles and message content: found wherever
//! the word is, ranked, kept to the workspace, and safe with any input.

use crate::builders::{all_threads, append, ids, insert_thread, message, thread, total};
use crate::fixtures::{self, at, t0};
use spool_core::listing::Paging;
use spool_core::model::Thread;
use spool_core::paging::PageRequest;
use spool_core::query::ThreadQuery;
use spool_core::{Store, ThreadId, WorkspaceId};
use std::sync::Arc;

fn search(workspace: WorkspaceId, text: &str) -> ThreadQuery {
    ThreadQuery {
        search: Some(text.into()),
        ..all_threads(workspace)
    }
}

async fn found(store: &Arc<dyn Store>, query: ThreadQuery) -> Vec<ThreadId> {
    let listing = store.list_threads(query).await.expect("search");
    let found = ids(&listing, |t| t.id);
    assert_eq!(total(&listing), found.len() as u64, "total counts the hits");
    found
}

pub async fn story_search(store: Arc<dyn Store>) {
    let ada = fixtures::user(&store, "ada@example.com").await;
    let grace = fixtures::user(&store, "grace@example.com").await;
    let ws = fixtures::insert_workspace(&store, "Engines", ada.id).await;
    let rival = fixtures::insert_workspace(&store, "Rival", grace.id).await;

    // A long thread whose only mention of the word is in its middle.
    let long = insert_thread(&store, thread(ws.id, Some(ada.id), t0())).await;
    let mut middle = None;
    for i in 1..=300 {
        let text = if i == 150 {
            "the report mentions zephyrine in passing".to_string()
        } else {
            format!("message number {i} about the weather and nothing else")
        };
        let stored = append(&store, message(&long, &text, at(i))).await;
        if i == 150 {
            middle = Some(stored);
        }
    }
    let middle = middle.unwrap();
    let mut titled = thread(ws.id, Some(ada.id), at(1));
    titled.title = Some("Quarterly budget review".into());
    let titled = insert_thread(&store, titled).await;
    let foreign = insert_thread(&store, thread(rival.id, Some(grace.id), t0())).await;
    append(&store, message(&foreign, "zephyrine budget quasar", at(5))).await;

    assert_eq!(found(&store, search(ws.id, "zephyrine")).await, [long.id]);
    assert_eq!(found(&store, search(ws.id, "ZEPHYRINE")).await, [long.id]);
    assert_eq!(
        found(&store, search(ws.id, "report zephyrine")).await,
        [long.id]
    );
    assert_eq!(found(&store, search(ws.id, "budget")).await, [titled.id]);
    assert_eq!(
        found(&store, search(ws.id, "quarterly review")).await,
        [titled.id]
    );
    assert!(
        found(&store, search(ws.id, "zephyrine budget"))
            .await
            .is_empty(),
        "every word must match"
    );
    assert!(
        found(&store, search(ws.id, "quasar")).await.is_empty(),
        "another workspace's words stay there"
    );
    assert_eq!(
        found(&store, search(rival.id, "zephyrine")).await,
        [foreign.id]
    );
    assert_eq!(
        found(&store, search(rival.id, "budget")).await,
        [foreign.id]
    );

    // More matches rank first, whatever the sort order says.
    let mut weak = thread(ws.id, Some(grace.id), at(50));
    weak.title = Some("Observations".into());
    let weak = insert_thread(&store, weak).await;
    let strong = insert_thread(&store, thread(ws.id, Some(ada.id), at(40))).await;
    append(
        &store,
        message(
            &weak,
            "one quasar seen among many other quiet stars tonight",
            at(300),
        ),
    )
    .await;
    append(&store, message(&strong, "quasar quasar quasar", at(200))).await;
    assert_eq!(
        found(&store, search(ws.id, "quasar")).await,
        [strong.id, weak.id]
    );
    let mut ascending = search(ws.id, "quasar");
    ascending.descending = false;
    assert_eq!(found(&store, ascending).await, [strong.id, weak.id]);
    // Filters still apply to search results.
    let graces = ThreadQuery {
        creator: Some(grace.id),
        ..search(ws.id, "quasar")
    };
    assert_eq!(found(&store, graces).await, [weak.id]);
    // Offset pages over ranked results.
    let second = ThreadQuery {
        paging: Paging::Offset(PageRequest {
            page: 2,
            per_page: 1,
        }),
        ..search(ws.id, "quasar")
    };
    let page = store.list_threads(second).await.unwrap();
    assert_eq!((ids(&page, |t| t.id), total(&page)), (vec![weak.id], 2));

    // Hostile input is only ever words.
    let hostile = [
        "\"",
        "\"\"",
        "*",
        "NEAR(",
        "NEAR(zephyrine",
        "-",
        "-zephyrine",
        "zephyrine*",
        "a OR b",
        "AND",
        "OR NOT",
        "(",
        ")",
        "^",
        ":",
        "content:zephyrine",
        "'; DROP TABLE threads; --",
        "\\",
        "%",
        "_",
        "{",
        "}",
        "[",
        "]",
        "日本語",
        "Grüße ζέφυρος 🙂",
        "\t\n",
        "zephyrine\"",
        "\"zephyrine",
        "title : budget",
    ];
    for text in hostile {
        store
            .list_threads(search(ws.id, text))
            .await
            .unwrap_or_else(|e| panic!("search {text:?} failed: {e}"));
    }
    assert_eq!(
        found(&store, search(ws.id, "\"zephyrine\"")).await,
        [long.id]
    );
    let umlaut = insert_thread(&store, thread(ws.id, Some(ada.id), at(60))).await;
    append(
        &store,
        message(&umlaut, "Grüße aus Köln, 東京 too", at(400)),
    )
    .await;
    assert_eq!(found(&store, search(ws.id, "köln")).await, [umlaut.id]);
    assert_eq!(found(&store, search(ws.id, "grüße")).await, [umlaut.id]);

    // A blank search is no search.
    let everything = found(&store, all_threads(ws.id)).await;
    assert_eq!(everything.len(), 5);
    assert_eq!(found(&store, search(ws.id, "  \t ")).await, everything);

    // The index follows edits of messages and titles.
    let mut edited = middle.clone();
    edited.content = "the report mentions aurora instead".into();
    edited.updated_at = at(500);
    assert!(store.update_message(&edited).await.unwrap());
    assert!(found(&store, search(ws.id, "zephyrine")).await.is_empty());
    assert_eq!(found(&store, search(ws.id, "aurora")).await, [long.id]);
    let renamed = Thread {
        title: Some("Annual forecast".into()),
        updated_at: at(600),
        ..titled.clone()
    };
    assert!(store.update_thread(&renamed).await.unwrap());
    assert!(found(&store, search(ws.id, "budget")).await.is_empty());
    assert_eq!(found(&store, search(ws.id, "forecast")).await, [titled.id]);

    // A deleted thread's messages leave the index with it.
    assert!(store.delete_thread(ws.id, long.id).await.unwrap());
    assert!(found(&store, search(ws.id, "aurora")).await.is_empty());
    assert!(found(&store, search(ws.id, "weather")).await.is_empty());
    assert_eq!(
        found(&store, search(rival.id, "zephyrine")).await,
        [foreign.id]
    );
}
