//! Agents, threads and messages the message, search and metrics stories
//! insert.

use serde_json::json;
use spool_core::listing::{Listing, Paging};
use spool_core::model::{Agent, Message, MessageRole, RunInfo, Thread, ThreadStatus, Visibility};
use spool_core::paging::PageRequest;
use spool_core::query::{ThreadQuery, ThreadSort};
use spool_core::validate::Metadata;
use spool_core::{AgentId, MessageId, Store, ThreadId, Timestamp, UserId, WorkspaceId};
use std::sync::Arc;

pub fn agent(workspace: WorkspaceId, user: UserId, name: &str, created_at: Timestamp) -> Agent {
    Agent {
        id: AgentId::new(),
        workspace_id: workspace,
        user_id: Some(user),
        name: name.into(),
        description: None,
        instruction: Some("Be brief.".into()),
        profile_photo_url: None,
        profile_photo_config: None,
        visibility: Visibility::Workspace,
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

pub async fn insert_agent(
    store: &Arc<dyn Store>,
    workspace: WorkspaceId,
    user: UserId,
    created_at: Timestamp,
) -> Agent {
    let agent = agent(workspace, user, "Helper", created_at);
    store
        .insert_agent(agent.clone())
        .await
        .expect("insert agent");
    agent
}

pub fn thread(workspace: WorkspaceId, creator: Option<UserId>, created_at: Timestamp) -> Thread {
    Thread {
        id: ThreadId::new(),
        workspace_id: workspace,
        creator_id: creator,
        anon_user_id: None,
        agent_id: None,
        title: None,
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

pub async fn insert_thread(store: &Arc<dyn Store>, thread: Thread) -> Thread {
    store
        .insert_thread(thread.clone())
        .await
        .expect("insert thread");
    thread
}

pub fn message(thread: &Thread, content: &str, created_at: Timestamp) -> Message {
    Message {
        id: MessageId::new(),
        thread_id: thread.id,
        workspace_id: thread.workspace_id,
        seq: 0,
        role: MessageRole::User,
        content: content.into(),
        content_html: format!("<p>{content}</p>"),
        metadata: Metadata::default(),
        run: RunInfo::default(),
        tool_calls: Vec::new(),
        user_id: thread.creator_id,
        attachments: Vec::new(),
        token_count: None,
        created_at,
        updated_at: created_at,
    }
}

/// An assistant message with what its run recorded.
pub fn reply(
    thread: &Thread,
    content: &str,
    created_at: Timestamp,
    model: Option<&str>,
    tokens: (u64, u64),
) -> Message {
    let mut message = message(thread, content, created_at);
    message.role = MessageRole::Assistant;
    message.user_id = None;
    message.run = RunInfo {
        run_id: Some(spool_core::RunId::new()),
        model: model.map(Into::into),
        temperature: Some(0.25),
        input_tokens: Some(tokens.0),
        output_tokens: Some(tokens.1),
        finish_reason: Some("stop".into()),
    };
    message.tool_calls = vec![json!({ "tool_name": "clock", "arguments": {}, "result": "noon" })];
    message
}

pub async fn append(store: &Arc<dyn Store>, message: Message) -> Message {
    store
        .append_message(message)
        .await
        .expect("append message")
        .expect("the thread exists")
}

/// Every thread of `workspace`, newest activity first, one offset page.
pub fn all_threads(workspace: WorkspaceId) -> ThreadQuery {
    ThreadQuery {
        workspace,
        creator: None,
        anon_user_id: None,
        agent: None,
        pinned: None,
        metadata: Vec::new(),
        search: None,
        sort: ThreadSort::LastMessageAt,
        descending: true,
        paging: Paging::Offset(PageRequest {
            page: 1,
            per_page: 100,
        }),
    }
}

pub fn ids<T, I: PartialEq>(listing: &Listing<T>, id: impl Fn(&T) -> I) -> Vec<I> {
    listing.items().iter().map(id).collect()
}

pub fn total<T>(listing: &Listing<T>) -> u64 {
    match listing {
        Listing::Page(page) => page.total,
        Listing::Cursor(_) => panic!("expected an offset page"),
    }
}
