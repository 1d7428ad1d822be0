//! Workspace providers: names unique per workspace, reads scoped to the
//! workspace, credentials stored as sealed and re-sealed by compare-and-set
//! (the key rotation's step), and a workspace's deletion taking them along.

use crate::fixtures::{at, insert_workspace, user};
use spool_core::model::{Authentication, ProviderKind, ProviderModel, WorkspaceProvider};
use spool_core::paging::PageRequest;
use spool_core::sealing::Sealed;
use spool_core::{ProviderId, Store, StoreError, WorkspaceId};
use std::collections::BTreeMap;
use std::sync::Arc;

fn provider(
    workspace: WorkspaceId,
    name: &str,
    key_id: Option<&str>,
    seconds: i64,
) -> WorkspaceProvider {
    WorkspaceProvider {
        id: ProviderId::new(),
        workspace_id: workspace,
        user_id: None,
        name: name.into(),
        description: Some("An endpoint".into()),
        kind: ProviderKind::Anthropic,
        base_url: "https://models.example.com".into(),
        authentication: match key_id {
            Some(_) => Authentication::Headers {
                hints: BTreeMap::from([("x-api-key".into(), "…1234".into())]),
            },
            None => Authentication::None,
        },
        secret: key_id.map(|key_id| Sealed {
            key_id: key_id.into(),
            ciphertext: format!("sealed-{name}"),
        }),
        models: vec![ProviderModel {
            name: format!("{name}-model"),
            upstream_model: Some("claude-x".into()),
            context_window: 200_000,
            max_output_tokens: Some(1_000),
            label: None,
            vision: true,
        }],
        created_at: at(seconds),
        updated_at: at(seconds),
    }
}

pub async fn story_workspace_providers(store: Arc<dyn Store>) {
    let owner = user(&store, "providers@example.com").await;
    let workspace = insert_workspace(&store, "Providers", owner.id).await;
    let other = insert_workspace(&store, "Elsewhere", owner.id).await;
    let mut first = provider(workspace.id, "first", Some("k1"), 1);
    first.user_id = Some(owner.id);
    let second = provider(workspace.id, "second", Some("k2"), 2);
    let open = provider(workspace.id, "open", None, 3);
    let elsewhere = provider(other.id, "first", Some("k1"), 4);
    for p in [&first, &second, &open, &elsewhere] {
        store.insert_provider(p.clone()).await.unwrap();
    }
    assert!(matches!(
        store
            .insert_provider(provider(workspace.id, "first", None, 5))
            .await,
        Err(StoreError::Unique(_))
    ));
    assert_eq!(
        store.provider(workspace.id, first.id).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(store.provider(other.id, first.id).await.unwrap(), None);
    let page = store
        .list_providers(
            workspace.id,
            PageRequest {
                page: 1,
                per_page: 2,
            },
        )
        .await
        .unwrap();
    assert_eq!(page.total, 3);
    assert_eq!(
        page.items.iter().map(|p| p.id).collect::<Vec<_>>(),
        [first.id, second.id],
        "oldest first"
    );
    let all = store.workspace_providers(workspace.id).await.unwrap();
    assert_eq!(all, [first.clone(), second.clone(), open.clone()]);

    // Sealed with another key than k2: `first` here and elsewhere.
    let mut stale = Vec::new();
    let mut after = None;
    loop {
        let batch = store
            .providers_sealed_with_other_keys("k2", after, 1)
            .await
            .unwrap();
        let Some(last) = batch.last() else { break };
        after = Some(last.id);
        stale.extend(batch.into_iter().map(|p| p.id));
    }
    stale.sort();
    let mut expected = vec![first.id, elsewhere.id];
    expected.sort();
    assert_eq!(stale, expected);

    let new = Sealed {
        key_id: "k2".into(),
        ciphertext: "resealed".into(),
    };
    let old = first.secret.clone().unwrap();
    assert!(store.reseal_provider(first.id, &old, &new).await.unwrap());
    // Compare-and-set: the old value no longer matches.
    assert!(!store.reseal_provider(first.id, &old, &new).await.unwrap());
    let now = store
        .provider(workspace.id, first.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(now.secret, Some(new));

    // An update changes the row in its workspace only; a taken name is refused.
    let mut renamed = now.clone();
    renamed.name = "renamed".into();
    renamed.secret = None;
    renamed.authentication = Authentication::None;
    renamed.updated_at = at(10);
    assert!(store.update_provider(&renamed).await.unwrap());
    assert_eq!(
        store.provider(workspace.id, first.id).await.unwrap(),
        Some(renamed.clone())
    );
    let mut clash = renamed.clone();
    clash.name = "second".into();
    assert!(matches!(
        store.update_provider(&clash).await,
        Err(StoreError::Unique(_))
    ));
    let mut foreign = renamed.clone();
    foreign.workspace_id = other.id;
    assert!(!store.update_provider(&foreign).await.unwrap());

    assert!(!store.delete_provider(other.id, second.id).await.unwrap());
    assert!(
        store
            .delete_provider(workspace.id, second.id)
            .await
            .unwrap()
    );
    assert!(
        !store
            .delete_provider(workspace.id, second.id)
            .await
            .unwrap()
    );

    // A workspace's deletion takes its providers along.
    store.delete_workspace(other.id).await.unwrap();
    assert_eq!(store.provider(other.id, elsewhere.id).await.unwrap(), None);
    assert_eq!(
        store.workspace_providers(workspace.id).await.unwrap().len(),
        2
    );
}
