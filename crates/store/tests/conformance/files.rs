//! Files' rows: stored and read back within their workspace, listed newest
//! first, counted for the quota; attachments kept on their message, whose
//! references go with it; only unreferenced, old files are swept.

use crate::builders::{append, insert_thread, message, thread};
use crate::fixtures::{self, at, t0};
use spool_core::model::{Attachment, StoredFile};
use spool_core::{AttachmentId, FileId, Store, WorkspaceId};
use std::sync::Arc;

fn file(workspace: WorkspaceId, name: &str, size: u64, seconds: i64) -> StoredFile {
    StoredFile {
        id: FileId::new(),
        workspace_id: workspace,
        user_id: None,
        name: name.into(),
        mime_type: "text/plain".into(),
        size,
        sha256: "ab".repeat(32),
        created_at: at(seconds),
    }
}

pub async fn story_files(store: Arc<dyn Store>) {
    let ada = fixtures::user(&store, "ada@example.com").await;
    let ws = fixtures::insert_workspace(&store, "Engines", ada.id).await;
    let other = fixtures::insert_workspace(&store, "Elsewhere", ada.id).await;
    let mut a = file(ws.id, "a.txt", 10, 1);
    a.user_id = Some(ada.id);
    let b = file(ws.id, "b — ✓.txt", 20, 2);
    let c = file(other.id, "c.txt", 40, 3);
    for f in [&a, &b, &c] {
        store.insert_file(f.clone()).await.unwrap();
    }
    assert_eq!(store.file(ws.id, a.id).await.unwrap(), Some(a.clone()));
    assert_eq!(store.file(other.id, a.id).await.unwrap(), None);
    let mut found = store.files(ws.id, vec![a.id, c.id, b.id]).await.unwrap();
    found.sort_by_key(|f| f.created_at);
    assert_eq!(found, [a.clone(), b.clone()]);
    assert_eq!(store.files_usage(ws.id).await.unwrap(), 30);

    // Newest first, in keyset pages; by uploader.
    let (page, more) = store.list_files(ws.id, None, None, 1).await.unwrap();
    assert_eq!((page.clone(), more), (vec![b.clone()], true));
    let cursor = spool_core::service::file_cursor(&page[0]);
    let (page, more) = store
        .list_files(ws.id, None, Some(cursor), 1)
        .await
        .unwrap();
    assert_eq!((page, more), (vec![a.clone()], false));
    let (page, _) = store
        .list_files(ws.id, Some(ada.id), None, 10)
        .await
        .unwrap();
    assert_eq!(page, [a.clone()]);

    // Attached: kept on the message, and not swept while it exists.
    let chat = insert_thread(&store, thread(ws.id, Some(ada.id), t0())).await;
    let mut with_file = message(&chat, "see attached", at(10));
    with_file.attachments = vec![Attachment {
        id: AttachmentId::new(),
        name: "shown.txt".into(),
        file: a.clone(),
        created_at: at(10),
    }];
    let stored = append(&store, with_file.clone()).await;
    assert_eq!(stored.attachments, with_file.attachments);
    assert_eq!(
        store
            .message(ws.id, stored.id)
            .await
            .unwrap()
            .unwrap()
            .attachments,
        with_file.attachments
    );
    // Only files created before the bound are taken.
    assert_eq!(store.take_unreferenced_files(at(2), 10).await.unwrap(), []);
    let mut swept = store.take_unreferenced_files(at(100), 10).await.unwrap();
    swept.sort_by_key(|f| f.created_at);
    assert_eq!(swept, [b.clone(), c.clone()]);
    assert_eq!(store.file(ws.id, b.id).await.unwrap(), None);

    // Deleting the message drops its reference.
    assert!(store.delete_message(ws.id, stored.id).await.unwrap());
    assert_eq!(
        store.take_unreferenced_files(at(100), 10).await.unwrap(),
        [a.clone()]
    );

    // Deleting a row: in its own workspace only.
    let d = file(ws.id, "d.txt", 1, 5);
    store.insert_file(d.clone()).await.unwrap();
    assert!(!store.delete_file(other.id, d.id).await.unwrap());
    assert!(store.delete_file(ws.id, d.id).await.unwrap());
    assert!(!store.delete_file(ws.id, d.id).await.unwrap());
    assert_eq!(store.files_usage(ws.id).await.unwrap(), 0);
}
