//! Agents: insert and read back with shares, batch lookups, who may list
//! which agent, updates that leave counters alone, shares, deletion.

use crate::fixtures::{self, at};
use serde_json::json;
use spool_core::ValidationErrors;
use spool_core::listing::Paging;
use spool_core::model::{
    Agent, AgentShare, ShareEntity, SharePermission, Thread, ThreadStatus, Visibility,
};
use spool_core::paging::PageRequest;
use spool_core::query::{AgentQuery, ThreadQuery, ThreadSort};
use spool_core::tools::{self, ToolDefinition};
use spool_core::validate::Metadata;
use spool_core::{AgentId, Store, ThreadId, Timestamp, UserId, WorkspaceId};
use std::sync::Arc;

pub fn agent(
    workspace: WorkspaceId,
    user: Option<UserId>,
    visibility: Visibility,
    created_at: Timestamp,
) -> Agent {
    Agent {
        id: AgentId::new(),
        workspace_id: workspace,
        user_id: user,
        name: format!("Agent {}", created_at.timestamp()),
        description: None,
        instruction: None,
        profile_photo_url: None,
        profile_photo_config: None,
        visibility,
        metadata: Metadata::default(),
        tools: Vec::new(),
        shares: Vec::new(),
        threads_count: 0,
        usage_count: 0,
        last_used_at: None,
        created_at,
        updated_at: created_at,
    }
}

pub fn share(
    entity: ShareEntity,
    permission: SharePermission,
    created_at: Timestamp,
) -> AgentShare {
    AgentShare {
        entity,
        permission,
        created_at,
    }
}

/// One tool of each kind, with a literal and an environment header value.
pub fn sample_tools() -> Vec<ToolDefinition> {
    let mut errors = ValidationErrors::new();
    let tools = tools::parse_tools(
        "tools",
        &json!([
            { "type": "function", "name": "get_weather", "description": "Weather by city",
              "parameters": { "type": "object", "properties": { "city": { "type": "string" } },
                              "required": ["city"] } },
            { "type": "http", "name": "lookup", "url": "https://tools.example.com/lookup",
              "method": "PUT", "headers": { "Authorization": { "env": "LOOKUP_TOKEN" },
                                            "X-Team": "blue" } },
            { "type": "mcp", "name": "docs", "url": "http://127.0.0.1:9/mcp" },
        ]),
        &mut errors,
    );
    assert!(errors.is_empty(), "{errors:?}");
    tools
}

/// The contract does not order shares: compare them as a set.
pub fn normalized(mut agent: Agent) -> Agent {
    agent
        .shares
        .sort_by_key(|s| (s.entity.type_str(), format!("{:?}", s.entity)));
    agent
}

fn thread(workspace: WorkspaceId, agent: Option<AgentId>, created_at: Timestamp) -> Thread {
    Thread {
        id: ThreadId::new(),
        workspace_id: workspace,
        creator_id: None,
        anon_user_id: None,
        agent_id: agent,
        title: Some("t".into()),
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

async fn get(store: &Arc<dyn Store>, id: AgentId) -> Agent {
    normalized(store.agent(id).await.unwrap().expect("agent exists"))
}

pub async fn story_insert_agent(store: Arc<dyn Store>) {
    let ada = fixtures::user(&store, "ada@example.com").await;
    let grace = fixtures::user(&store, "grace@example.com").await;
    let home = fixtures::insert_workspace(&store, "Home", ada.id).await;
    let other = fixtures::insert_workspace(&store, "Other", grace.id).await;

    let persona = json!({
        "role": "tutor", "goal_statement": null, "conversation_starters": ["hi", "hello"],
        "web_search": true, "memory": { "k": 1.5 }
    });
    let mut full = agent(home.id, Some(ada.id), Visibility::Private, at(10));
    full.description = Some("Explains engines".into());
    full.instruction = Some("Be brief.\nAlways.".into());
    full.profile_photo_url = Some("https://example.com/a.png".into());
    full.profile_photo_config = Some(
        json!({ "emoji": "⚙️", "background_color": "#fff" })
            .as_object()
            .unwrap()
            .clone(),
    );
    full.metadata = Metadata::from_stored(persona.as_object().unwrap().clone());
    full.tools = sample_tools();
    full.usage_count = 3;
    full.last_used_at = Some(at(20));
    full.updated_at = at(15);
    full.shares = vec![
        share(
            ShareEntity::Workspace(other.id),
            SharePermission::Read,
            at(11),
        ),
        share(ShareEntity::User(grace.id), SharePermission::Write, at(12)),
    ];
    store
        .insert_agent(full.clone())
        .await
        .expect("insert agent");
    let bare = agent(other.id, None, Visibility::Public, at(30));
    store.insert_agent(bare.clone()).await.unwrap();

    assert_eq!(get(&store, full.id).await, normalized(full.clone()));
    assert_eq!(get(&store, bare.id).await, bare);
    assert_eq!(store.agent(AgentId::new()).await.unwrap(), None);

    // The same id twice is refused, and the first stays as it was.
    let mut again = bare.clone();
    again.name = "Impostor".into();
    assert!(store.insert_agent(again).await.is_err());
    assert_eq!(get(&store, bare.id).await, bare);

    // In one batch, with shares; unknown ids are left out.
    let mut found: Vec<Agent> = store
        .agents_by_ids(&[bare.id, AgentId::new(), full.id])
        .await
        .unwrap()
        .into_iter()
        .map(normalized)
        .collect();
    found.sort_by_key(|a| a.id);
    let mut expected = vec![normalized(full.clone()), bare.clone()];
    expected.sort_by_key(|a| a.id);
    assert_eq!(found, expected);
    assert!(store.agents_by_ids(&[]).await.unwrap().is_empty());
}

pub async fn story_lookups(store: Arc<dyn Store>) {
    let ada = fixtures::user(&store, "ada@example.com").await;
    let grace = fixtures::user(&store, "grace@example.com").await;
    let first = fixtures::insert_workspace(&store, "First", ada.id).await;
    let second = fixtures::insert_workspace(&store, "Second", grace.id).await;
    let ada = store.user(ada.id).await.unwrap().unwrap();
    let grace = store.user(grace.id).await.unwrap().unwrap();

    let mut users = store
        .users_by_ids(&[grace.id, UserId(grace.id.0 + 1_000), ada.id, grace.id])
        .await
        .unwrap();
    users.sort_by_key(|u| u.id);
    users.dedup_by_key(|u| u.id);
    assert_eq!(users, [ada, grace]);
    assert!(store.users_by_ids(&[]).await.unwrap().is_empty());

    let mut workspaces = store
        .workspaces_by_ids(&[second.id, WorkspaceId::new(), first.id])
        .await
        .unwrap();
    workspaces.sort_by_key(|w| w.id);
    let mut expected = vec![first, second];
    expected.sort_by_key(|w| w.id);
    assert_eq!(workspaces, expected);
    assert!(store.workspaces_by_ids(&[]).await.unwrap().is_empty());
}

/// Members see their workspace's agents except other people's private ones;
/// admins (no viewer) see all of them; agents of other workspaces show up
/// when shared with the workspace or (when asked) with the user. Newest
/// first, each once, with the total.
pub async fn story_list_agents(store: Arc<dyn Store>) {
    let ada = fixtures::user(&store, "ada@example.com").await;
    let grace = fixtures::user(&store, "grace@example.com").await;
    let bob = fixtures::user(&store, "bob@example.com").await;
    let home = fixtures::insert_workspace(&store, "Home", ada.id).await;
    store
        .put_member(home.id, grace.id, spool_core::model::Role::Member, at(0))
        .await
        .unwrap();
    let away = fixtures::insert_workspace(&store, "Away", bob.id).await;
    let to_home = |t| {
        share(
            ShareEntity::Workspace(home.id),
            SharePermission::Read,
            at(t),
        )
    };
    let to_grace = |t| share(ShareEntity::User(grace.id), SharePermission::Read, at(t));

    // Inserted in a shuffled order, so that insertion cannot pass for age.
    let mut by_name = std::collections::HashMap::new();
    let plan = [
        (
            "away_shared_with_both",
            away.id,
            &bob,
            Visibility::Private,
            8,
            vec![to_home(80), to_grace(81)],
        ),
        (
            "mine_workspace",
            home.id,
            &ada,
            Visibility::Workspace,
            1,
            vec![],
        ),
        ("ada_private", home.id, &ada, Visibility::Private, 2, vec![]),
        (
            "away_not_shared",
            away.id,
            &bob,
            Visibility::Workspace,
            7,
            vec![],
        ),
        (
            "grace_private",
            home.id,
            &grace,
            Visibility::Private,
            3,
            vec![],
        ),
        (
            "away_shared_with_home",
            away.id,
            &bob,
            Visibility::Private,
            5,
            vec![to_home(50)],
        ),
        ("ada_public", home.id, &ada, Visibility::Public, 4, vec![]),
        (
            "away_shared_with_grace",
            away.id,
            &bob,
            Visibility::Workspace,
            6,
            vec![to_grace(60)],
        ),
        (
            "ada_private_shared_home",
            home.id,
            &ada,
            Visibility::Private,
            9,
            vec![to_home(90)],
        ),
    ];
    for (name, workspace, owner, visibility, t, shares) in plan {
        let mut a = agent(workspace, Some(owner.id), visibility, at(t));
        a.name = name.into();
        a.shares = shares;
        store.insert_agent(a.clone()).await.unwrap();
        by_name.insert(name, a);
    }

    let list = |viewer: Option<UserId>, shared_with_user: Option<UserId>, page: PageRequest| {
        let store = store.clone();
        async move {
            let query = AgentQuery {
                workspace: home.id,
                viewer,
                shared_with_user,
            };
            store.list_agents(query, page).await.unwrap()
        }
    };
    let everything = PageRequest {
        page: 1,
        per_page: 100,
    };
    let names = |page: &spool_core::paging::Page<Agent>| {
        page.items
            .iter()
            .map(|a| a.name.clone())
            .collect::<Vec<_>>()
    };

    let member = list(Some(grace.id), Some(grace.id), everything).await;
    assert_eq!(
        names(&member),
        [
            "ada_private_shared_home",
            "away_shared_with_both",
            "away_shared_with_grace",
            "away_shared_with_home",
            "ada_public",
            "grace_private",
            "mine_workspace",
        ]
    );
    assert_eq!(member.total, 7);
    // Listed agents carry their shares.
    let both = member
        .items
        .iter()
        .find(|a| a.name == "away_shared_with_both");
    assert_eq!(
        both.cloned().map(normalized),
        Some(normalized(by_name["away_shared_with_both"].clone()))
    );

    let member_here = list(Some(grace.id), None, everything).await;
    assert_eq!(
        names(&member_here),
        [
            "ada_private_shared_home",
            "away_shared_with_both",
            "away_shared_with_home",
            "ada_public",
            "grace_private",
            "mine_workspace",
        ]
    );
    assert_eq!(member_here.total, 6);

    let creator = list(Some(ada.id), None, everything).await;
    assert_eq!(
        names(&creator),
        [
            "ada_private_shared_home",
            "away_shared_with_both",
            "away_shared_with_home",
            "ada_public",
            "ada_private",
            "mine_workspace",
        ]
    );

    let admin = list(None, None, everything).await;
    assert_eq!(
        names(&admin),
        [
            "ada_private_shared_home",
            "away_shared_with_both",
            "away_shared_with_home",
            "ada_public",
            "grace_private",
            "ada_private",
            "mine_workspace",
        ]
    );
    assert_eq!(admin.total, 7);

    // Offset pages keep the order and the total.
    let second = list(
        Some(grace.id),
        Some(grace.id),
        PageRequest {
            page: 2,
            per_page: 3,
        },
    )
    .await;
    assert_eq!(
        names(&second),
        ["away_shared_with_home", "ada_public", "grace_private"]
    );
    assert_eq!(second.total, 7);
    let beyond = list(
        Some(grace.id),
        Some(grace.id),
        PageRequest {
            page: 4,
            per_page: 3,
        },
    )
    .await;
    assert!(beyond.items.is_empty());
    assert_eq!(beyond.total, 7);

    // The other workspace sees its own agents, and none of home's.
    let away_admin = store
        .list_agents(
            AgentQuery {
                workspace: away.id,
                viewer: None,
                shared_with_user: None,
            },
            everything,
        )
        .await
        .unwrap();
    assert_eq!(
        names(&away_admin),
        [
            "away_shared_with_both",
            "away_not_shared",
            "away_shared_with_grace",
            "away_shared_with_home",
        ]
    );
}

pub async fn story_update_agent(store: Arc<dyn Store>) {
    let ada = fixtures::user(&store, "ada@example.com").await;
    let grace = fixtures::user(&store, "grace@example.com").await;
    let home = fixtures::insert_workspace(&store, "Home", ada.id).await;
    let mut stored = agent(home.id, Some(ada.id), Visibility::Workspace, at(0));
    stored.usage_count = 4;
    stored.last_used_at = Some(at(5));
    stored.shares = vec![share(
        ShareEntity::User(grace.id),
        SharePermission::Read,
        at(1),
    )];
    store.insert_agent(stored.clone()).await.unwrap();
    for t in 0..2 {
        store
            .insert_thread(thread(home.id, Some(stored.id), at(10 + t)))
            .await
            .unwrap();
    }

    let mut edit = stored.clone();
    edit.name = "Renamed".into();
    edit.description = Some("now described".into());
    edit.instruction = Some("new".into());
    edit.profile_photo_url = Some("https://example.com/b.png".into());
    edit.profile_photo_config = Some(json!({ "emoji": "🦀" }).as_object().unwrap().clone());
    edit.visibility = Visibility::Private;
    edit.metadata = fixtures::metadata();
    edit.tools = sample_tools().split_off(1);
    edit.updated_at = at(100);
    // Counters and shares in the given value are ignored.
    edit.threads_count = 0;
    edit.usage_count = 0;
    edit.last_used_at = None;
    edit.shares = Vec::new();
    assert!(store.update_agent(&edit).await.unwrap());

    let expected = Agent {
        threads_count: 2,
        usage_count: 4,
        last_used_at: Some(at(5)),
        shares: stored.shares.clone(),
        ..edit.clone()
    };
    assert_eq!(get(&store, stored.id).await, expected);

    // Clearing optional fields clears them.
    let mut cleared = expected.clone();
    cleared.description = None;
    cleared.profile_photo_config = None;
    cleared.tools = Vec::new();
    cleared.updated_at = at(200);
    assert!(store.update_agent(&cleared).await.unwrap());
    assert_eq!(get(&store, stored.id).await, cleared);

    let ghost = agent(home.id, None, Visibility::Public, at(0));
    assert!(!store.update_agent(&ghost).await.unwrap());
    assert_eq!(store.agent(ghost.id).await.unwrap(), None);
}

pub async fn story_put_agent_share(store: Arc<dyn Store>) {
    let ada = fixtures::user(&store, "ada@example.com").await;
    let grace = fixtures::user(&store, "grace@example.com").await;
    let home = fixtures::insert_workspace(&store, "Home", ada.id).await;
    let other = fixtures::insert_workspace(&store, "Other", grace.id).await;
    let stored = agent(home.id, Some(ada.id), Visibility::Private, at(0));
    store.insert_agent(stored.clone()).await.unwrap();

    let to_grace = share(ShareEntity::User(grace.id), SharePermission::Read, at(1));
    let to_other = share(
        ShareEntity::Workspace(other.id),
        SharePermission::Write,
        at(2),
    );
    store
        .put_agent_share(stored.id, to_grace.clone())
        .await
        .unwrap();
    store
        .put_agent_share(stored.id, to_other.clone())
        .await
        .unwrap();
    let expected = normalized(Agent {
        shares: vec![to_grace.clone(), to_other.clone()],
        ..stored.clone()
    });
    assert_eq!(get(&store, stored.id).await, expected);

    // One share per entity: a second put changes the permission.
    store
        .put_agent_share(
            stored.id,
            share(ShareEntity::User(grace.id), SharePermission::Write, at(3)),
        )
        .await
        .unwrap();
    let shares = get(&store, stored.id).await.shares;
    assert_eq!(shares.len(), 2);
    let grace_share = shares
        .iter()
        .find(|s| s.entity == ShareEntity::User(grace.id))
        .unwrap();
    assert_eq!(grace_share.permission, SharePermission::Write);
    let other_share = shares
        .iter()
        .find(|s| s.entity == ShareEntity::Workspace(other.id))
        .unwrap();
    assert_eq!(other_share, &to_other);

    // Shared with both the workspace and the user: listed there once, with
    // both shares.
    let mut listed = store
        .list_agents(
            AgentQuery {
                workspace: other.id,
                viewer: Some(grace.id),
                shared_with_user: Some(grace.id),
            },
            PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(listed.total, 1);
    assert_eq!(normalized(listed.items.remove(0)).shares, shares);
}

pub async fn story_delete_agent(store: Arc<dyn Store>) {
    let ada = fixtures::user(&store, "ada@example.com").await;
    let home = fixtures::insert_workspace(&store, "Home", ada.id).await;
    let doomed = agent(home.id, Some(ada.id), Visibility::Workspace, at(0));
    let mut kept = agent(home.id, Some(ada.id), Visibility::Workspace, at(1));
    kept.shares = vec![share(
        ShareEntity::User(ada.id),
        SharePermission::Read,
        at(1),
    )];
    store.insert_agent(doomed.clone()).await.unwrap();
    store.insert_agent(kept.clone()).await.unwrap();
    let orphaned = thread(home.id, Some(doomed.id), at(10));
    let other = thread(home.id, Some(kept.id), at(11));
    store.insert_thread(orphaned.clone()).await.unwrap();
    store.insert_thread(other.clone()).await.unwrap();

    assert!(store.delete_agent(doomed.id).await.unwrap());
    assert!(!store.delete_agent(doomed.id).await.unwrap());
    assert_eq!(store.agent(doomed.id).await.unwrap(), None);
    assert!(store.agents_by_ids(&[doomed.id]).await.unwrap().is_empty());

    // Its thread stays, with no agent; the other agent is untouched.
    let left = store.thread(home.id, orphaned.id).await.unwrap();
    assert_eq!(
        left,
        Some(Thread {
            agent_id: None,
            ..orphaned.clone()
        })
    );
    assert_eq!(get(&store, kept.id).await.threads_count, 1);
    assert_eq!(get(&store, kept.id).await.shares, kept.shares);
    let by_agent = store
        .list_threads(ThreadQuery {
            workspace: home.id,
            creator: None,
            anon_user_id: None,
            agent: Some(doomed.id),
            pinned: None,
            metadata: vec![],
            search: None,
            sort: ThreadSort::CreatedAt,
            descending: true,
            paging: Paging::Offset(PageRequest::default()),
        })
        .await
        .unwrap();
    assert!(by_agent.items().is_empty());

    // The orphan can join another agent, which counts it; deleting it
    // counts it out again.
    let moved = Thread {
        agent_id: Some(kept.id),
        updated_at: at(20),
        ..orphaned.clone()
    };
    assert!(store.update_thread(&moved).await.unwrap());
    assert_eq!(get(&store, kept.id).await.threads_count, 2);
    assert!(store.delete_thread(home.id, moved.id).await.unwrap());
    assert_eq!(get(&store, kept.id).await.threads_count, 1);
}
