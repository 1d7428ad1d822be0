//! Workspaces: creation with its owner, listing, patching, deleting.

use crate::fixtures::{self, at, metadata, t0, workspace};
use spool_core::model::{Role, WorkspacePatch};
use spool_core::paging::PageRequest;
use spool_core::store::RemoveMember;
use spool_core::validate::Metadata;
use spool_core::{Store, UserId, WorkspaceId};
use std::sync::Arc;

fn page(page: u32, per_page: u32) -> PageRequest {
    PageRequest { page, per_page }
}

pub async fn story_insert_workspace(store: Arc<dyn Store>) {
    let ada = fixtures::user(&store, "ada@example.com").await;
    let mut first = workspace("Analytical Engines", t0(), ada.id);
    first.profile_photo_url = Some("https://example.com/a.png".into());
    first.is_onboarded = true;
    first.metadata = metadata();
    let inserted = store
        .insert_workspace(first.clone(), ada.id)
        .await
        .expect("insert workspace");
    assert_eq!(inserted, first);
    assert_eq!(
        store.workspace(first.id).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(store.workspace(WorkspaceId::new()).await.unwrap(), None);

    assert_eq!(
        store.role(first.id, ada.id).await.unwrap(),
        Some(Role::Owner)
    );
    let members = store
        .list_members(first.id, PageRequest::default())
        .await
        .unwrap();
    assert_eq!(members.total, 1);
    assert_eq!(members.items[0].user.id, ada.id);
    assert_eq!(members.items[0].role, Role::Owner);
    assert_eq!(members.items[0].joined_at, t0());
    let ada_now = store.user(ada.id).await.unwrap().unwrap();
    assert_eq!(
        ada_now.primary_workspace_id,
        Some(first.id),
        "first workspace becomes primary"
    );

    let second = fixtures::insert_workspace(&store, "Second", ada.id).await;
    assert_eq!(
        store.role(second.id, ada.id).await.unwrap(),
        Some(Role::Owner)
    );
    let ada_now = store.user(ada.id).await.unwrap().unwrap();
    assert_eq!(
        ada_now.primary_workspace_id,
        Some(first.id),
        "an existing primary workspace stays"
    );

    // A workspace whose owner does not exist is refused whole.
    let orphan = workspace("Orphan", t0(), UserId(ada.id.0 + 1_000_000));
    assert!(
        store
            .insert_workspace(orphan.clone(), orphan.owner_id.unwrap())
            .await
            .is_err()
    );
    assert_eq!(store.workspace(orphan.id).await.unwrap(), None);
}

/// A user's workspaces, oldest first (ties broken by id), in offset pages
/// with the total.
pub async fn story_list_workspaces(store: Arc<dyn Store>) {
    let ada = fixtures::user(&store, "ada@example.com").await;
    let grace = fixtures::user(&store, "grace@example.com").await;
    // Inserted newest first, so that insertion order cannot pass for age.
    let mut expected = Vec::new();
    for (i, seconds) in [40, 30, 20, 10, 10].into_iter().enumerate() {
        let w = workspace(&format!("W{i}"), at(seconds), ada.id);
        expected.push(store.insert_workspace(w, ada.id).await.unwrap());
    }
    let theirs = store
        .insert_workspace(workspace("Grace's", at(0), grace.id), grace.id)
        .await
        .unwrap();
    expected.sort_by_key(|w| (w.created_at, w.id));

    // The operator's listing: every workspace, in id order, page by page.
    let mut every: Vec<_> = expected.iter().chain([&theirs]).cloned().collect();
    every.sort_by_key(|w| w.id);
    let mut walked = Vec::new();
    let mut after = None;
    loop {
        let page = store.workspaces_after(after, 2).await.unwrap();
        assert!(page.len() <= 2);
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        walked.extend(page);
    }
    assert_eq!(walked, every);

    let first = store
        .list_workspaces_for_user(ada.id, page(1, 2))
        .await
        .unwrap();
    assert_eq!(first.total, 5);
    assert_eq!(first.request, page(1, 2));
    assert_eq!(first.items, expected[0..2]);
    let second = store
        .list_workspaces_for_user(ada.id, page(2, 2))
        .await
        .unwrap();
    assert_eq!(second.items, expected[2..4]);
    let third = store
        .list_workspaces_for_user(ada.id, page(3, 2))
        .await
        .unwrap();
    assert_eq!(third.items, expected[4..5]);
    assert_eq!(third.last_page(), 3);
    let beyond = store
        .list_workspaces_for_user(ada.id, page(4, 2))
        .await
        .unwrap();
    assert!(beyond.items.is_empty());
    assert_eq!(beyond.total, 5, "the total holds past the last page");

    let all = store
        .list_workspaces_for_user(ada.id, page(1, 100))
        .await
        .unwrap();
    assert_eq!(all.items, expected);

    // Membership, not creation, decides: grace joins one of ada's.
    store
        .put_member(expected[2].id, grace.id, Role::Member, at(50))
        .await
        .unwrap();
    let graces = store
        .list_workspaces_for_user(grace.id, page(1, 10))
        .await
        .unwrap();
    assert_eq!(graces.total, 2);
    assert_eq!(graces.items, vec![theirs, expected[2].clone()]);

    let nobody = store
        .list_workspaces_for_user(UserId(ada.id.0 + 1_000_000), page(1, 10))
        .await
        .unwrap();
    assert_eq!((nobody.total, nobody.items.len()), (0, 0));
}

/// `None` leaves a field alone; `profile_photo_url: Some(None)` clears it.
pub async fn story_update_workspace(store: Arc<dyn Store>) {
    let ada = fixtures::user(&store, "ada@example.com").await;
    let mut original = workspace("Before", t0(), ada.id);
    original.profile_photo_url = Some("https://example.com/before.png".into());
    original.metadata = metadata();
    let original = store.insert_workspace(original, ada.id).await.unwrap();

    let renamed = store
        .update_workspace(
            original.id,
            WorkspacePatch {
                name: Some("After".into()),
                ..Default::default()
            },
            at(1),
        )
        .await
        .unwrap()
        .expect("workspace exists");
    let mut expected = original.clone();
    expected.name = "After".into();
    expected.updated_at = at(1);
    assert_eq!(renamed, expected);
    assert_eq!(
        store.workspace(original.id).await.unwrap(),
        Some(expected.clone())
    );

    let untouched = store
        .update_workspace(original.id, WorkspacePatch::default(), at(2))
        .await
        .unwrap()
        .unwrap();
    expected.updated_at = at(2);
    assert_eq!(
        untouched, expected,
        "an empty patch changes only updated_at"
    );

    let patch = WorkspacePatch {
        name: None,
        slug: Some("after".into()),
        profile_photo_url: Some(None),
        is_onboarded: Some(true),
        metadata: Some(Metadata::default()),
        thread_retention_days: None,
    };
    let cleared = store
        .update_workspace(original.id, patch, at(3))
        .await
        .unwrap()
        .unwrap();
    expected.slug = "after".into();
    expected.profile_photo_url = None;
    expected.is_onboarded = true;
    expected.metadata = Metadata::default();
    expected.updated_at = at(3);
    assert_eq!(cleared, expected);
    assert_eq!(
        store.workspace(original.id).await.unwrap(),
        Some(expected.clone())
    );

    let photo = WorkspacePatch {
        profile_photo_url: Some(Some("https://example.com/new.png".into())),
        ..Default::default()
    };
    let with_photo = store
        .update_workspace(original.id, photo, at(4))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        with_photo.profile_photo_url.as_deref(),
        Some("https://example.com/new.png")
    );
    assert_eq!(with_photo.metadata, Metadata::default());
    assert_eq!(with_photo.created_at, original.created_at);

    let absent = store
        .update_workspace(WorkspaceId::new(), WorkspacePatch::default(), at(5))
        .await
        .unwrap();
    assert_eq!(absent, None);
}

/// Deleting takes members and keys with it and clears primary pointers.
pub async fn story_delete_workspace(store: Arc<dyn Store>) {
    let ada = fixtures::user(&store, "ada@example.com").await;
    let grace = fixtures::user(&store, "grace@example.com").await;
    let doomed = fixtures::insert_workspace(&store, "Doomed", ada.id).await;
    let kept = fixtures::insert_workspace(&store, "Kept", ada.id).await;
    store
        .put_member(doomed.id, grace.id, Role::Admin, at(1))
        .await
        .unwrap();
    store
        .put_member(kept.id, grace.id, Role::Member, at(2))
        .await
        .unwrap();
    let doomed_key = fixtures::insert_api_key(&store, doomed.id, grace.id).await;
    let kept_key = fixtures::insert_api_key(&store, kept.id, grace.id).await;
    assert_eq!(
        store
            .user(grace.id)
            .await
            .unwrap()
            .unwrap()
            .primary_workspace_id,
        Some(doomed.id)
    );

    assert!(store.delete_workspace(doomed.id).await.unwrap());
    assert_eq!(store.workspace(doomed.id).await.unwrap(), None);
    assert_eq!(store.role(doomed.id, ada.id).await.unwrap(), None);
    assert_eq!(store.role(doomed.id, grace.id).await.unwrap(), None);
    assert_eq!(
        store
            .list_members(doomed.id, PageRequest::default())
            .await
            .unwrap()
            .total,
        0
    );
    assert_eq!(store.api_key_by_hash(doomed_key.hash).await.unwrap(), None);
    assert_eq!(
        store
            .list_api_keys(doomed.id, PageRequest::default())
            .await
            .unwrap()
            .total,
        0
    );
    for user in [ada.id, grace.id] {
        let user = store
            .user(user)
            .await
            .unwrap()
            .expect("users outlive their workspaces");
        assert_eq!(user.primary_workspace_id, None);
    }
    assert_eq!(
        store.remove_member(doomed.id, grace.id).await.unwrap(),
        RemoveMember::NotMember
    );

    // The other workspace is untouched.
    assert_eq!(store.workspace(kept.id).await.unwrap(), Some(kept.clone()));
    assert_eq!(
        store.role(kept.id, grace.id).await.unwrap(),
        Some(Role::Member)
    );
    assert_eq!(
        store.api_key_by_hash(kept_key.hash).await.unwrap(),
        Some(kept_key)
    );
    let listed = store
        .list_workspaces_for_user(ada.id, PageRequest::default())
        .await
        .unwrap();
    assert_eq!(listed.items, vec![kept]);

    assert!(
        !store.delete_workspace(doomed.id).await.unwrap(),
        "already gone"
    );
}
