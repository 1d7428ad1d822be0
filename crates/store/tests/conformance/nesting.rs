//! What a request reads or writes in one trip: a thread with what it nests,
//! an append that answers the thread as it left it, a listing with what its
//! threads nest, a thread with a page of its messages.

use crate::builders::{append, insert_thread, message, thread};
use crate::fixtures::{self, at};
use crate::totals::first_page;
use spool_core::listing::Paging;
use spool_core::model::{ShareEntity, SharePermission, Visibility};
use spool_core::store::ThreadNesting;
use spool_core::{Store, ThreadId, UserId, WorkspaceId};
use std::sync::Arc;

/// A thread of Ada's in her workspace, on Grace's agent of Grace's workspace
/// (shared with Ada's): it nests both users, both their primary workspaces,
/// and the agent with its share.
pub async fn story_thread_nesting(store: Arc<dyn Store>) {
    let ada = fixtures::user(&store, "ada@example.com").await;
    let grace = fixtures::user(&store, "grace@example.com").await;
    let first = fixtures::insert_workspace(&store, "First", ada.id).await;
    let second = fixtures::insert_workspace(&store, "Second", grace.id).await;
    let mut agent = crate::agents::agent(second.id, Some(grace.id), Visibility::Private, at(1));
    agent.shares = vec![crate::agents::share(
        ShareEntity::Workspace(first.id),
        SharePermission::Read,
        at(2),
    )];
    store.insert_agent(agent.clone()).await.unwrap();
    let mut on_agent = thread(first.id, Some(ada.id), at(3));
    on_agent.agent_id = Some(agent.id);
    let on_agent = insert_thread(&store, on_agent).await;
    let anonymous = insert_thread(&store, thread(first.id, None, at(4))).await;

    let ada = store.user(ada.id).await.unwrap().unwrap();
    let grace = store.user(grace.id).await.unwrap().unwrap();
    let agent = store.agent(agent.id).await.unwrap().unwrap();
    assert_eq!(agent.shares.len(), 1);
    let mut users = vec![ada.clone(), grace];
    users.sort_by_key(|u| u.id);
    let mut workspaces = vec![
        store.workspace(first.id).await.unwrap().unwrap(),
        store.workspace(second.id).await.unwrap().unwrap(),
    ];
    workspaces.sort_by_key(|w| w.id);
    let expected = ThreadNesting {
        agents: vec![agent.clone()],
        users,
        workspaces: workspaces.clone(),
    };

    // Repeated and unknown ids change nothing.
    let nesting = store
        .thread_nesting(
            &[agent.id, agent.id, spool_core::AgentId::new()],
            &[ada.id, UserId(ada.id.0 + 1_000), ada.id],
        )
        .await
        .unwrap();
    assert_eq!(nesting, expected);
    assert_eq!(
        store.thread_nesting(&[], &[]).await.unwrap(),
        ThreadNesting::default()
    );
    let only_ada = store.thread_nesting(&[], &[ada.id]).await.unwrap();
    assert_eq!(only_ada.users, std::slice::from_ref(&ada));
    assert_eq!(
        only_ada.workspaces,
        [store.workspace(first.id).await.unwrap().unwrap()]
    );
    assert!(only_ada.agents.is_empty());

    let stored = store.thread(first.id, on_agent.id).await.unwrap().unwrap();
    assert_eq!(
        store
            .thread_with_nesting(first.id, on_agent.id)
            .await
            .unwrap(),
        Some((stored, expected))
    );
    // Another workspace's thread, or none, is absent: nothing nested leaks.
    assert_eq!(
        store
            .thread_with_nesting(second.id, on_agent.id)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .thread_with_nesting(first.id, ThreadId::new())
            .await
            .unwrap(),
        None
    );
    let (found, nesting) = store
        .thread_with_nesting(first.id, anonymous.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, anonymous.id);
    assert_eq!(nesting, ThreadNesting::default());
}

/// The append answers the thread as it left it: what a read after it shows.
pub async fn story_append_answers_the_thread(store: Arc<dyn Store>) {
    let ada = fixtures::user(&store, "ada@example.com").await;
    let ws = fixtures::insert_workspace(&store, "Main", ada.id).await;
    let other = fixtures::insert_workspace(&store, "Other", ada.id).await;
    let t = insert_thread(&store, thread(ws.id, Some(ada.id), at(1))).await;
    append(&store, message(&t, "first", at(2))).await;

    let (stored, thread_after) = store
        .append_message_with_thread(message(&t, "second", at(3)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.seq, 2);
    assert_eq!(thread_after.message_count, 2);
    assert_eq!(thread_after.last_message_at, Some(at(3)));
    assert_eq!(Some(thread_after), store.thread(ws.id, t.id).await.unwrap());
    assert_eq!(
        Some(stored.clone()),
        store.message(ws.id, stored.id).await.unwrap()
    );

    // A thread of another workspace, or none: nothing is written.
    let mut elsewhere = message(&t, "lost", at(4));
    elsewhere.workspace_id = other.id;
    assert!(
        store
            .append_message_with_thread(elsewhere)
            .await
            .unwrap()
            .is_none()
    );
    let mut nowhere = message(&t, "lost", at(5));
    nowhere.thread_id = ThreadId::new();
    assert!(
        store
            .append_message_with_thread(nowhere)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        store
            .thread(ws.id, t.id)
            .await
            .unwrap()
            .unwrap()
            .message_count,
        2
    );
}

/// A listing with what its threads nest, and a thread with a page of its
/// messages, each in one trip: the same as the calls they replace.
pub async fn story_listings_in_one_trip(store: Arc<dyn Store>) {
    let ada = fixtures::user(&store, "ada@example.com").await;
    let ws = fixtures::insert_workspace(&store, "Main", ada.id).await;
    let other = fixtures::insert_workspace(&store, "Other", ada.id).await;
    let agent = crate::builders::insert_agent(&store, ws.id, ada.id, at(1)).await;
    let mut on_agent = thread(ws.id, Some(ada.id), at(2));
    on_agent.agent_id = Some(agent.id);
    let on_agent = insert_thread(&store, on_agent).await;
    insert_thread(&store, thread(ws.id, None, at(3))).await;

    let (listing, nesting) = store.list_threads_nested(first_page(ws.id)).await.unwrap();
    assert_eq!(
        listing,
        store.list_threads(first_page(ws.id)).await.unwrap()
    );
    assert_eq!(
        nesting,
        store.thread_nesting(&[agent.id], &[ada.id]).await.unwrap()
    );
    assert_eq!(nesting.agents.len(), 1);
    let (empty, nesting) = store
        .list_threads_nested(first_page(WorkspaceId::new()))
        .await
        .unwrap();
    assert!(empty.items().is_empty());
    assert_eq!(nesting, ThreadNesting::default());

    for i in 0..3 {
        append(&store, message(&on_agent, &format!("m{i}"), at(10 + i))).await;
    }
    let paging = Paging::keyset(None, None, Some(2), 20).unwrap();
    let (found, page) = store
        .thread_with_messages(ws.id, on_agent.id, paging, false, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(Some(found), store.thread(ws.id, on_agent.id).await.unwrap());
    assert_eq!(
        page,
        store
            .list_messages(on_agent.id, paging, false, None)
            .await
            .unwrap()
    );
    assert_eq!(page.items().len(), 2);
    // Another workspace's thread: no page either.
    assert_eq!(
        store
            .thread_with_messages(other.id, on_agent.id, paging, false, None)
            .await
            .unwrap(),
        None
    );
}

/// What a thread nests follows changes to its users and workspaces at once
/// (SQLite keeps them in a row cache), a foreign key's `SET NULL` included.
pub async fn story_nested_rows_follow_their_changes(store: Arc<dyn Store>) {
    let ada = fixtures::user(&store, "ada@example.com").await;
    let grace = fixtures::user(&store, "grace@example.com").await;
    let first = fixtures::insert_workspace(&store, "First", ada.id).await;
    let home = fixtures::insert_workspace(&store, "Home", grace.id).await;
    let agent = crate::agents::agent(first.id, Some(grace.id), Visibility::Private, at(1));
    store.insert_agent(agent.clone()).await.unwrap();
    let mut chat = thread(first.id, Some(ada.id), at(2));
    chat.agent_id = Some(agent.id);
    let chat = insert_thread(&store, chat).await;
    let nested = |store: Arc<dyn Store>| async move {
        let (_, nesting) = store
            .thread_with_nesting(first.id, chat.id)
            .await
            .unwrap()
            .unwrap();
        nesting
    };
    // Read twice: the second read may come from the cache.
    for _ in 0..2 {
        let nesting = nested(store.clone()).await;
        let names: Vec<&str> = nesting.workspaces.iter().map(|w| w.name.as_str()).collect();
        assert!(
            names.contains(&"First") && names.contains(&"Home"),
            "{names:?}"
        );
    }

    // The agent: renamed, then shared, then counting a new thread.
    let mut changed = store.agent(agent.id).await.unwrap().unwrap();
    changed.name = "Renamed agent".into();
    assert!(store.update_agent(&changed).await.unwrap());
    assert_eq!(nested(store.clone()).await.agents[0].name, "Renamed agent");
    let share = crate::agents::share(
        spool_core::model::ShareEntity::Workspace(home.id),
        SharePermission::Read,
        at(3),
    );
    store.put_agent_share(agent.id, share).await.unwrap();
    assert_eq!(nested(store.clone()).await.agents[0].shares.len(), 1);
    let mut another = thread(first.id, Some(ada.id), at(3));
    another.agent_id = Some(agent.id);
    insert_thread(&store, another).await;
    assert_eq!(nested(store.clone()).await.agents[0].threads_count, 2);

    let renamed = spool_core::model::WorkspacePatch {
        name: Some("Renamed".into()),
        ..Default::default()
    };
    store
        .update_workspace(first.id, renamed, at(3))
        .await
        .unwrap();
    let nesting = nested(store.clone()).await;
    assert!(
        nesting.workspaces.iter().any(|w| w.name == "Renamed"),
        "{:?}",
        nesting.workspaces
    );
    assert_eq!(
        store.workspaces_by_ids(&[first.id]).await.unwrap()[0].name,
        "Renamed"
    );

    // Grace's home goes: her primary workspace becomes NULL by the foreign key.
    assert!(store.delete_workspace(home.id).await.unwrap());
    let nesting = nested(store.clone()).await;
    let grace_now = nesting.users.iter().find(|u| u.id == grace.id).unwrap();
    assert_eq!(grace_now.primary_workspace_id, None);
    assert!(nesting.workspaces.iter().all(|w| w.id != home.id));
    assert_eq!(
        store.users_by_ids(&[grace.id]).await.unwrap()[0].primary_workspace_id,
        None
    );
}
