//! Memberships: adding, changing roles, listing and removing.

use crate::fixtures::{self, at, t0};
use spool_core::model::Role;
use spool_core::paging::PageRequest;
use spool_core::store::RemoveMember;
use spool_core::{Store, UserId, WorkspaceId};
use std::sync::Arc;

pub async fn story_put_member(store: Arc<dyn Store>) {
    let ada = fixtures::user(&store, "ada@example.com").await;
    let grace = fixtures::user(&store, "grace@example.com").await;
    let first = fixtures::insert_workspace(&store, "First", ada.id).await;
    let second = fixtures::insert_workspace(&store, "Second", ada.id).await;

    assert_eq!(store.role(first.id, grace.id).await.unwrap(), None);
    store
        .put_member(first.id, grace.id, Role::Member, at(1))
        .await
        .unwrap();
    assert_eq!(
        store.role(first.id, grace.id).await.unwrap(),
        Some(Role::Member)
    );
    let grace_now = store.user(grace.id).await.unwrap().unwrap();
    assert_eq!(
        grace_now.primary_workspace_id,
        Some(first.id),
        "her first workspace becomes primary"
    );

    // Upsert: the role changes, the membership (and its join time) stays.
    store
        .put_member(first.id, grace.id, Role::Admin, at(2))
        .await
        .unwrap();
    assert_eq!(
        store.role(first.id, grace.id).await.unwrap(),
        Some(Role::Admin)
    );
    let members = store
        .list_members(first.id, PageRequest::default())
        .await
        .unwrap();
    assert_eq!(members.total, 2);
    let grace_member = members
        .items
        .iter()
        .find(|m| m.user.id == grace.id)
        .expect("grace listed");
    assert_eq!(
        (grace_member.role, grace_member.joined_at),
        (Role::Admin, at(1))
    );

    store
        .put_member(second.id, grace.id, Role::Owner, at(3))
        .await
        .unwrap();
    assert_eq!(
        store.role(second.id, grace.id).await.unwrap(),
        Some(Role::Owner)
    );
    let grace_now = store.user(grace.id).await.unwrap().unwrap();
    assert_eq!(
        grace_now.primary_workspace_id,
        Some(first.id),
        "an existing primary workspace stays"
    );

    // Roles are per workspace.
    assert_eq!(
        store.role(first.id, grace.id).await.unwrap(),
        Some(Role::Admin)
    );
    assert_eq!(
        store.role(WorkspaceId::new(), grace.id).await.unwrap(),
        None
    );
}

/// Oldest membership first, in offset pages with the total.
pub async fn story_list_members(store: Arc<dyn Store>) {
    let owner = fixtures::user(&store, "owner@example.com").await;
    let workspace = fixtures::insert_workspace(&store, "Crowd", owner.id).await;
    let mut joined = vec![(owner.id, Role::Owner, t0())];
    // Joined in an order unlike the order of their ids.
    for (i, seconds) in [50, 20, 40, 10].into_iter().enumerate() {
        let user = fixtures::user(&store, &format!("m{i}@example.com")).await;
        let role = if i % 2 == 0 {
            Role::Member
        } else {
            Role::Admin
        };
        store
            .put_member(workspace.id, user.id, role, at(seconds))
            .await
            .unwrap();
        joined.push((user.id, role, at(seconds)));
    }
    joined.sort_by_key(|&(user, _, at)| (at, user));

    let mut seen = Vec::new();
    for number in 1..=3 {
        let page = store
            .list_members(
                workspace.id,
                PageRequest {
                    page: number,
                    per_page: 2,
                },
            )
            .await
            .unwrap();
        assert_eq!(page.total, 5);
        assert_eq!(page.items.len(), if number == 3 { 1 } else { 2 });
        for member in page.items {
            let stored = store.user(member.user.id).await.unwrap().unwrap();
            assert_eq!(member.user, stored, "members carry the whole user");
            seen.push((member.user.id, member.role, member.joined_at));
        }
    }
    assert_eq!(seen, joined);

    let empty = store
        .list_members(WorkspaceId::new(), PageRequest::default())
        .await
        .unwrap();
    assert_eq!((empty.total, empty.items.len()), (0, 0));
}

pub async fn story_remove_member(store: Arc<dyn Store>) {
    let ada = fixtures::user(&store, "ada@example.com").await;
    let grace = fixtures::user(&store, "grace@example.com").await;
    let linus = fixtures::user(&store, "linus@example.com").await;
    let shared = fixtures::insert_workspace(&store, "Shared", ada.id).await;
    let other = fixtures::insert_workspace(&store, "Other", ada.id).await;
    store
        .put_member(shared.id, grace.id, Role::Member, at(1))
        .await
        .unwrap();
    store
        .put_member(other.id, grace.id, Role::Member, at(2))
        .await
        .unwrap();
    store
        .put_member(other.id, linus.id, Role::Member, at(3))
        .await
        .unwrap();
    store
        .put_member(shared.id, linus.id, Role::Admin, at(4))
        .await
        .unwrap();
    let grace_shared_key = fixtures::insert_api_key(&store, shared.id, grace.id).await;
    let grace_other_key = fixtures::insert_api_key(&store, other.id, grace.id).await;
    let ada_shared_key = fixtures::insert_api_key(&store, shared.id, ada.id).await;

    assert_eq!(
        store
            .remove_member(shared.id, UserId(ada.id.0 + 1_000_000))
            .await
            .unwrap(),
        RemoveMember::NotMember
    );
    assert_eq!(
        store
            .remove_member(WorkspaceId::new(), grace.id)
            .await
            .unwrap(),
        RemoveMember::NotMember
    );

    // Grace leaves: her key there goes, her key elsewhere stays, and her
    // primary workspace (it was this one) is cleared.
    assert_eq!(
        store.remove_member(shared.id, grace.id).await.unwrap(),
        RemoveMember::Removed
    );
    assert_eq!(store.role(shared.id, grace.id).await.unwrap(), None);
    assert_eq!(
        store.api_key_by_hash(grace_shared_key.hash).await.unwrap(),
        None
    );
    assert_eq!(
        store.api_key_by_hash(grace_other_key.hash).await.unwrap(),
        Some(grace_other_key)
    );
    assert_eq!(
        store.api_key_by_hash(ada_shared_key.hash).await.unwrap(),
        Some(ada_shared_key.clone())
    );
    assert_eq!(
        store
            .user(grace.id)
            .await
            .unwrap()
            .unwrap()
            .primary_workspace_id,
        None
    );
    assert_eq!(
        store.remove_member(shared.id, grace.id).await.unwrap(),
        RemoveMember::NotMember
    );

    // Linus's primary workspace is another one: it stays.
    assert_eq!(
        store.remove_member(shared.id, linus.id).await.unwrap(),
        RemoveMember::Removed
    );
    assert_eq!(
        store
            .user(linus.id)
            .await
            .unwrap()
            .unwrap()
            .primary_workspace_id,
        Some(other.id)
    );

    // The last owner cannot be removed, and nothing changes when refused.
    assert_eq!(
        store.remove_member(shared.id, ada.id).await.unwrap(),
        RemoveMember::LastOwner
    );
    assert_eq!(
        store.role(shared.id, ada.id).await.unwrap(),
        Some(Role::Owner)
    );
    assert_eq!(
        store.api_key_by_hash(ada_shared_key.hash).await.unwrap(),
        Some(ada_shared_key.clone())
    );

    // With a second owner, the first may go.
    store
        .put_member(shared.id, grace.id, Role::Owner, at(5))
        .await
        .unwrap();
    assert_eq!(
        store.remove_member(shared.id, ada.id).await.unwrap(),
        RemoveMember::Removed
    );
    assert_eq!(
        store.api_key_by_hash(ada_shared_key.hash).await.unwrap(),
        None
    );
    assert_eq!(
        store
            .user(ada.id)
            .await
            .unwrap()
            .unwrap()
            .primary_workspace_id,
        None
    );
    assert_eq!(
        store.remove_member(shared.id, grace.id).await.unwrap(),
        RemoveMember::LastOwner
    );
    let members = store
        .list_members(shared.id, PageRequest::default())
        .await
        .unwrap();
    assert_eq!(members.total, 1);
    assert_eq!(
        (members.items[0].user.id, members.items[0].role),
        (grace.id, Role::Owner)
    );

    // Two owners removing each other at once: one goes, one stays.
    for round in 0..5 {
        let w = fixtures::insert_workspace(&store, &format!("Race {round}"), ada.id).await;
        store
            .put_member(w.id, grace.id, Role::Owner, at(6))
            .await
            .unwrap();
        let (a, b) = tokio::join!(
            store.remove_member(w.id, ada.id),
            store.remove_member(w.id, grace.id)
        );
        let mut outcomes = [a.unwrap(), b.unwrap()];
        outcomes.sort_by_key(|o| *o == RemoveMember::LastOwner);
        assert_eq!(
            outcomes,
            [RemoveMember::Removed, RemoveMember::LastOwner],
            "round {round}"
        );
        let members = store
            .list_members(w.id, PageRequest::default())
            .await
            .unwrap();
        assert_eq!((members.total, members.items[0].role), (1, Role::Owner));
    }
}
