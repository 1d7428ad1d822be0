//! Page totals: from the counter the database keeps beside a workspace's
//! threads, and from the statement that ranks a search's hits.

use crate::builders::{all_threads, append, insert_thread, message, thread, total};
use crate::fixtures::{self, at};
use spool_core::listing::Paging;
use spool_core::paging::PageRequest;
use spool_core::query::ThreadQuery;
use spool_core::{Store, WorkspaceId};
use std::sync::Arc;

pub fn first_page(workspace: WorkspaceId) -> ThreadQuery {
    ThreadQuery {
        paging: Paging::Offset(PageRequest {
            page: 1,
            per_page: 2,
        }),
        ..all_threads(workspace)
    }
}

async fn page_total(store: &Arc<dyn Store>, query: ThreadQuery) -> u64 {
    total(&store.list_threads(query).await.unwrap())
}

/// A page of all the workspace's threads takes its total from the counter
/// kept beside them; it follows inserts, deletes, the retention sweep and
/// the workspace's own deletion, and agrees with a filtered count.
pub async fn story_page_totals(store: Arc<dyn Store>) {
    let ada = fixtures::user(&store, "ada@example.com").await;
    let grace = fixtures::user(&store, "grace@example.com").await;
    let ws = fixtures::insert_workspace(&store, "Main", ada.id).await;
    let other = fixtures::insert_workspace(&store, "Other", ada.id).await;
    assert_eq!(page_total(&store, first_page(ws.id)).await, 0);
    let mut threads = Vec::new();
    for i in 0..5 {
        let creator = if i % 2 == 0 { ada.id } else { grace.id };
        threads.push(insert_thread(&store, thread(ws.id, Some(creator), at(i))).await);
    }
    insert_thread(&store, thread(other.id, Some(ada.id), at(9))).await;
    assert_eq!(page_total(&store, first_page(ws.id)).await, 5);
    assert_eq!(page_total(&store, first_page(other.id)).await, 1);
    let graces = ThreadQuery {
        creator: Some(grace.id),
        ..first_page(ws.id)
    };
    assert_eq!(page_total(&store, graces).await, 2);

    assert!(store.delete_thread(ws.id, threads[0].id).await.unwrap());
    assert!(!store.delete_thread(ws.id, threads[0].id).await.unwrap());
    assert_eq!(page_total(&store, first_page(ws.id)).await, 4);

    // The sweep deletes an expired thread as delete_thread would.
    let mut expiring = thread(ws.id, Some(ada.id), at(10));
    expiring.expires_at = Some(at(20));
    insert_thread(&store, expiring).await;
    assert_eq!(page_total(&store, first_page(ws.id)).await, 5);
    assert_eq!(store.delete_expired_threads(at(21), 10).await.unwrap(), 1);
    assert_eq!(page_total(&store, first_page(ws.id)).await, 4);

    assert!(store.delete_workspace(other.id).await.unwrap());
    assert_eq!(page_total(&store, first_page(other.id)).await, 0);
    assert_eq!(page_total(&store, first_page(ws.id)).await, 4);
}

/// Search counts its hits in the statement that ranks them; a page past the
/// last hit still says how many there are.
pub async fn story_search_totals(store: Arc<dyn Store>) {
    let ada = fixtures::user(&store, "ada@example.com").await;
    let ws = fixtures::insert_workspace(&store, "Main", ada.id).await;
    for i in 0..3 {
        let t = insert_thread(&store, thread(ws.id, Some(ada.id), at(i))).await;
        append(&store, message(&t, "a nebula appears", at(10 + i))).await;
    }
    let unrelated = insert_thread(&store, thread(ws.id, Some(ada.id), at(5))).await;
    append(&store, message(&unrelated, "nothing here", at(20))).await;
    let page = |page| ThreadQuery {
        search: Some("nebula".into()),
        paging: Paging::Offset(PageRequest { page, per_page: 2 }),
        ..all_threads(ws.id)
    };
    let first = store.list_threads(page(1)).await.unwrap();
    assert_eq!((first.items().len(), total(&first)), (2, 3));
    let second = store.list_threads(page(2)).await.unwrap();
    assert_eq!((second.items().len(), total(&second)), (1, 3));
    let past = store.list_threads(page(5)).await.unwrap();
    assert_eq!((past.items().len(), total(&past)), (0, 3));
    let none = ThreadQuery {
        search: Some("quasar".into()),
        ..page(1)
    };
    let none = store.list_threads(none).await.unwrap();
    assert_eq!((none.items().len(), total(&none)), (0, 0));
}
