//! PostgreSQL, for several spool nodes sharing one database. Runtime-checked
//! queries (no sqlx macros), the schema from `migrations/postgres/`.

mod accounts;
mod agents;
mod error;
mod feedback;
mod files;
mod idempotency;
mod keys;
mod memories;
mod messages;
mod metrics;
mod migrate;
mod nesting;
mod prompts;
mod providers;
mod rows;
mod runs;
mod signals;
mod thread_list;
mod threads;
mod webhooks;
mod workspaces;

use crate::migrations::POSTGRES;
use spool_core::listing::{Listing, Paging};
use spool_core::model::WorkspaceProvider;
use spool_core::model::{
    Agent, AgentShare, ApiKey, FinishedRun, Member, Message, NewUser, Role, Run, RunAdmission,
    RunStatus, Session, StoredFile, Thread, User, Workspace, WorkspacePatch,
};
use spool_core::paging::{Page, PageRequest};
use spool_core::query::{AgentQuery, IdempotencyBegin, MetricsPoint, MetricsQuery, ThreadQuery};
use spool_core::sealing::Sealed;
use spool_core::secret::TokenHash;
use spool_core::store::{
    Lease, NewRunEvent, RemoveMember, RunSignals, StoreResult, StoredRunEvent, ThreadNesting,
};
use spool_core::{
    AgentId, ApiKeyId, FileId, MessageId, RunId, Store, StoreError, ThreadId, Timestamp, UserId,
    WorkspaceId,
};
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;
use tracing::instrument;

/// Connections per node; PostgreSQL's own limit is shared by every node.
const MAX_CONNECTIONS: u32 = 16;
/// A pooled connection idle this long is pinged before it is used.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(10);

pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects and applies any migration not yet recorded. The URL holds a
    /// password, so no error or log line repeats it.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|err| StoreError::Backend(format!("invalid PostgreSQL URL: {err}").into()))?
            .application_name("spool");
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(Duration::from_secs(10))
            // sqlx pings every connection it hands out by default: a round
            // trip before every query. Only a connection idle long enough to
            // have been cut (a restarted server, a proxy's timeout) is
            // pinged first.
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= IDLE_BEFORE_PING {
                        sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            })
            // A connection's read buffer grows to the largest answer it took
            // (a page of big messages) and would keep that size for as long
            // as the pool keeps the connection: back to 8 KiB on release.
            .after_release(|conn, _| {
                Box::pin(async move {
                    sqlx::Connection::shrink_buffers(conn);
                    Ok(true)
                })
            })
            .connect_with(options)
            .await
            .map_err(error::db)?;
        migrate::run(&pool, POSTGRES).await?;
        Ok(Self { pool })
    }
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("connections", &self.pool.size())
            .finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl Store for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn pool_use(&self) -> Option<spool_core::store::PoolUse> {
        Some(spool_core::store::PoolUse {
            size: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
        })
    }

    #[instrument(skip_all)]
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(error::db)?;
        Ok(())
    }

    #[instrument(skip_all)]
    async fn count_users(&self) -> StoreResult<u64> {
        accounts::count_users(&self.pool).await
    }

    #[instrument(skip_all)]
    async fn insert_user(&self, user: NewUser) -> StoreResult<User> {
        accounts::insert_user(&self.pool, user).await
    }

    #[instrument(skip_all, fields(user.id = %id))]
    async fn user(&self, id: UserId) -> StoreResult<Option<User>> {
        accounts::user(&self.pool, id).await
    }

    #[instrument(skip_all)]
    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>> {
        accounts::user_by_email(&self.pool, email).await
    }

    #[instrument(skip_all)]
    async fn user_password_hash(&self, email: &str) -> StoreResult<Option<(User, String)>> {
        accounts::user_password_hash(&self.pool, email).await
    }

    #[instrument(skip_all, fields(workspace.id = %workspace.id, user.id = %owner))]
    async fn insert_workspace(
        &self,
        workspace: Workspace,
        owner: UserId,
    ) -> StoreResult<Workspace> {
        workspaces::insert_workspace(&self.pool, workspace, owner).await
    }

    #[instrument(skip_all, fields(workspace.id = %id))]
    async fn workspace(&self, id: WorkspaceId) -> StoreResult<Option<Workspace>> {
        workspaces::workspace(&self.pool, id).await
    }

    #[instrument(skip_all, fields(user.id = %user))]
    async fn list_workspaces_for_user(
        &self,
        user: UserId,
        page: PageRequest,
    ) -> StoreResult<Page<Workspace>> {
        workspaces::list_workspaces_for_user(&self.pool, user, page).await
    }

    #[instrument(skip_all, fields(workspace.id = %id))]
    async fn update_workspace(
        &self,
        id: WorkspaceId,
        patch: WorkspacePatch,
        at: Timestamp,
    ) -> StoreResult<Option<Workspace>> {
        workspaces::update_workspace(&self.pool, id, patch, at).await
    }

    #[instrument(skip_all, fields(workspace.id = %id))]
    async fn delete_workspace(&self, id: WorkspaceId) -> StoreResult<bool> {
        workspaces::delete_workspace(&self.pool, id).await
    }

    #[instrument(skip_all, fields(workspace.id = %workspace, user.id = %user))]
    async fn role(&self, workspace: WorkspaceId, user: UserId) -> StoreResult<Option<Role>> {
        workspaces::role(&self.pool, workspace, user).await
    }

    #[instrument(skip_all, fields(workspace.id = %workspace))]
    async fn list_members(
        &self,
        workspace: WorkspaceId,
        page: PageRequest,
    ) -> StoreResult<Page<Member>> {
        workspaces::list_members(&self.pool, workspace, page).await
    }

    #[instrument(skip_all, fields(workspace.id = %workspace, user.id = %user))]
    async fn put_member(
        &self,
        workspace: WorkspaceId,
        user: UserId,
        role: Role,
        at: Timestamp,
    ) -> StoreResult<()> {
        workspaces::put_member(&self.pool, workspace, user, role, at).await
    }

    #[instrument(skip_all, fields(workspace.id = %workspace, user.id = %user))]
    async fn remove_member(
        &self,
        workspace: WorkspaceId,
        user: UserId,
    ) -> StoreResult<RemoveMember> {
        workspaces::remove_member(&self.pool, workspace, user).await
    }

    #[instrument(skip_all, fields(user.id = %session.user_id))]
    async fn insert_session(&self, session: Session) -> StoreResult<()> {
        accounts::insert_session(&self.pool, session).await
    }

    #[instrument(skip_all)]
    async fn session_by_hash(&self, hash: TokenHash) -> StoreResult<Option<Session>> {
        accounts::session_by_hash(&self.pool, hash).await
    }

    #[instrument(skip_all)]
    async fn revoke_session(&self, hash: TokenHash, at: Timestamp) -> StoreResult<()> {
        accounts::revoke_session(&self.pool, hash, at).await
    }

    #[instrument(skip_all, fields(workspace.id = %key.workspace_id, api_key.id = %key.id))]
    async fn insert_api_key(&self, key: ApiKey) -> StoreResult<()> {
        keys::insert_api_key(&self.pool, key).await
    }

    #[instrument(skip_all)]
    async fn api_key_by_hash(&self, hash: TokenHash) -> StoreResult<Option<ApiKey>> {
        keys::api_key_by_hash(&self.pool, hash).await
    }

    #[instrument(skip_all, fields(workspace.id = %workspace))]
    async fn list_api_keys(
        &self,
        workspace: WorkspaceId,
        page: PageRequest,
    ) -> StoreResult<Page<ApiKey>> {
        keys::list_api_keys(&self.pool, workspace, page).await
    }

    #[instrument(skip_all, fields(workspace.id = %workspace, api_key.id = %id))]
    async fn api_key(&self, workspace: WorkspaceId, id: ApiKeyId) -> StoreResult<Option<ApiKey>> {
        keys::api_key(&self.pool, workspace, id).await
    }

    #[instrument(skip_all, fields(workspace.id = %workspace, api_key.id = %id))]
    async fn revoke_api_key(
        &self,
        workspace: WorkspaceId,
        id: ApiKeyId,
        at: Timestamp,
    ) -> StoreResult<bool> {
        keys::revoke_api_key(&self.pool, workspace, id, at).await
    }

    #[instrument(skip_all, fields(api_key.id = %id))]
    async fn touch_api_key(&self, id: ApiKeyId, at: Timestamp) -> StoreResult<()> {
        keys::touch_api_key(&self.pool, id, at).await
    }

    #[instrument(skip_all)]
    async fn users_after(&self, after: Option<UserId>, limit: u32) -> StoreResult<Vec<User>> {
        accounts::users_after(&self.pool, after, limit).await
    }

    #[instrument(skip_all)]
    async fn workspaces_after(
        &self,
        after: Option<WorkspaceId>,
        limit: u32,
    ) -> StoreResult<Vec<Workspace>> {
        workspaces::workspaces_after(&self.pool, after, limit).await
    }

    #[instrument(skip_all, fields(count = ids.len()))]
    async fn users_by_ids(&self, ids: &[UserId]) -> StoreResult<Vec<User>> {
        accounts::users_by_ids(&self.pool, ids).await
    }

    #[instrument(skip_all, fields(count = ids.len()))]
    async fn workspaces_by_ids(&self, ids: &[WorkspaceId]) -> StoreResult<Vec<Workspace>> {
        workspaces::workspaces_by_ids(&self.pool, ids).await
    }

    #[instrument(skip_all, fields(count = ids.len()))]
    async fn agents_by_ids(&self, ids: &[AgentId]) -> StoreResult<Vec<Agent>> {
        agents::agents_by_ids(&self.pool, ids).await
    }

    #[instrument(skip_all, fields(agents = agents.len(), creators = creators.len()))]
    async fn thread_nesting(
        &self,
        agents: &[AgentId],
        creators: &[UserId],
    ) -> StoreResult<ThreadNesting> {
        nesting::thread_nesting(&self.pool, agents, creators).await
    }

    #[instrument(skip_all, fields(workspace.id = %workspace, thread.id = %id))]
    async fn thread_with_nesting(
        &self,
        workspace: WorkspaceId,
        id: ThreadId,
    ) -> StoreResult<Option<(Thread, ThreadNesting)>> {
        nesting::thread_with_nesting(&self.pool, workspace, id).await
    }

    #[instrument(skip_all, fields(workspace.id = %agent.workspace_id, agent.id = %agent.id))]
    async fn insert_agent(&self, agent: Agent) -> StoreResult<()> {
        agents::insert_agent(&self.pool, agent).await
    }

    #[instrument(skip_all, fields(agent.id = %id))]
    async fn agent(&self, id: AgentId) -> StoreResult<Option<Agent>> {
        agents::agent(&self.pool, id).await
    }

    #[instrument(skip_all, fields(workspace.id = %query.workspace))]
    async fn list_agents(&self, query: AgentQuery, page: PageRequest) -> StoreResult<Page<Agent>> {
        agents::list_agents(&self.pool, query, page).await
    }

    #[instrument(skip_all, fields(agent.id = %agent.id))]
    async fn update_agent(&self, agent: &Agent) -> StoreResult<bool> {
        agents::update_agent(&self.pool, agent).await
    }

    #[instrument(skip_all, fields(agent.id = %id))]
    async fn delete_agent(&self, id: AgentId) -> StoreResult<bool> {
        agents::delete_agent(&self.pool, id).await
    }

    #[instrument(skip_all, fields(agent.id = %id))]
    async fn put_agent_share(&self, id: AgentId, share: AgentShare) -> StoreResult<()> {
        agents::put_agent_share(&self.pool, id, share).await
    }

    #[instrument(skip_all, fields(workspace.id = %thread.workspace_id, thread.id = %thread.id))]
    async fn insert_thread(&self, thread: Thread) -> StoreResult<()> {
        threads::insert_thread(&self.pool, thread).await
    }

    #[instrument(skip_all, fields(workspace.id = %workspace, thread.id = %id))]
    async fn thread(&self, workspace: WorkspaceId, id: ThreadId) -> StoreResult<Option<Thread>> {
        threads::thread(&self.pool, workspace, id).await
    }

    #[instrument(skip_all, fields(workspace.id = %thread.workspace_id, thread.id = %thread.id))]
    async fn update_thread(&self, thread: &Thread) -> StoreResult<bool> {
        threads::update_thread(&self.pool, thread).await
    }

    #[instrument(skip_all, fields(workspace.id = %workspace, thread.id = %id))]
    async fn delete_thread(&self, workspace: WorkspaceId, id: ThreadId) -> StoreResult<bool> {
        threads::delete_thread(&self.pool, workspace, id).await
    }

    #[instrument(skip_all)]
    async fn delete_expired_threads(&self, at: Timestamp, limit: u32) -> StoreResult<u64> {
        threads::delete_expired_threads(&self.pool, at, limit).await
    }

    #[instrument(skip_all, fields(workspace.id = %query.workspace))]
    async fn list_threads(&self, query: ThreadQuery) -> StoreResult<Listing<Thread>> {
        thread_list::list_threads(&self.pool, query).await
    }

    #[instrument(skip_all, fields(workspace.id = %query.workspace))]
    async fn list_threads_nested(
        &self,
        query: ThreadQuery,
    ) -> StoreResult<(Listing<Thread>, ThreadNesting)> {
        let listing = thread_list::list_threads(&self.pool, query).await?;
        let threads = listing.items();
        let agents: Vec<AgentId> = threads.iter().filter_map(|t| t.agent_id).collect();
        let creators: Vec<UserId> = threads.iter().filter_map(|t| t.creator_id).collect();
        let nesting = nesting::thread_nesting(&self.pool, &agents, &creators).await?;
        Ok((listing, nesting))
    }

    #[instrument(skip_all, fields(workspace.id = %workspace, thread.id = %thread))]
    async fn thread_with_messages(
        &self,
        workspace: WorkspaceId,
        thread: ThreadId,
        paging: Paging,
        descending: bool,
        max_bytes: Option<u64>,
    ) -> StoreResult<Option<(Thread, Listing<Message>)>> {
        // Both at once: the messages read is dropped when the thread is
        // not the workspace's.
        let (found, listing) = tokio::try_join!(
            threads::thread(&self.pool, workspace, thread),
            messages::list_messages(&self.pool, thread, paging, descending, max_bytes),
        )?;
        Ok(found.map(|found| (found, listing)))
    }

    #[instrument(skip_all, fields(thread.id = %message.thread_id, message.id = %message.id))]
    async fn append_message(&self, message: Message) -> StoreResult<Option<Message>> {
        messages::append_message(&self.pool, message).await
    }

    #[instrument(skip_all, fields(thread.id = %message.thread_id, message.id = %message.id))]
    async fn append_message_with_thread(
        &self,
        message: Message,
    ) -> StoreResult<Option<(Message, Thread)>> {
        messages::append_message_with_thread(&self.pool, message).await
    }

    #[instrument(skip_all, fields(workspace.id = %workspace, message.id = %id))]
    async fn message(&self, workspace: WorkspaceId, id: MessageId) -> StoreResult<Option<Message>> {
        messages::message(&self.pool, workspace, id).await
    }

    #[instrument(skip_all, fields(message.id = %message.id))]
    async fn update_message(&self, message: &Message) -> StoreResult<bool> {
        messages::update_message(&self.pool, message).await
    }

    #[instrument(skip_all, fields(workspace.id = %workspace, message.id = %id))]
    async fn delete_message(&self, workspace: WorkspaceId, id: MessageId) -> StoreResult<bool> {
        messages::delete_message(&self.pool, workspace, id).await
    }

    #[instrument(skip_all, fields(file.id = %file.id))]
    async fn insert_file(&self, file: StoredFile) -> StoreResult<()> {
        files::insert(&self.pool, &file).await
    }

    #[instrument(skip_all, fields(file.id = %id))]
    async fn file(&self, workspace: WorkspaceId, id: FileId) -> StoreResult<Option<StoredFile>> {
        Ok(files::many(&self.pool, workspace, &[id]).await?.pop())
    }

    #[instrument(skip_all)]
    async fn files(
        &self,
        workspace: WorkspaceId,
        ids: Vec<FileId>,
    ) -> StoreResult<Vec<StoredFile>> {
        files::many(&self.pool, workspace, &ids).await
    }

    #[instrument(skip_all, fields(workspace.id = %workspace))]
    async fn list_files(
        &self,
        workspace: WorkspaceId,
        uploader: Option<UserId>,
        after: Option<spool_core::listing::Cursor>,
        limit: u32,
    ) -> StoreResult<(Vec<StoredFile>, bool)> {
        files::list(&self.pool, workspace, uploader, after, limit).await
    }

    #[instrument(skip_all, fields(file.id = %id))]
    async fn delete_file(&self, workspace: WorkspaceId, id: FileId) -> StoreResult<bool> {
        files::delete(&self.pool, workspace, id).await
    }

    #[instrument(skip_all, fields(workspace.id = %workspace))]
    async fn files_usage(&self, workspace: WorkspaceId) -> StoreResult<u64> {
        files::usage(&self.pool, workspace).await
    }

    #[instrument(skip_all)]
    async fn take_unreferenced_files(
        &self,
        before: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<StoredFile>> {
        files::take_unreferenced(&self.pool, before, limit).await
    }

    #[instrument(skip_all, fields(thread.id = %thread))]
    async fn list_messages(
        &self,
        thread: ThreadId,
        paging: Paging,
        descending: bool,
        max_bytes: Option<u64>,
    ) -> StoreResult<Listing<Message>> {
        messages::list_messages(&self.pool, thread, paging, descending, max_bytes).await
    }

    #[instrument(skip_all, fields(thread.id = %run.thread_id, run.id = %run.id))]
    async fn create_run(
        &self,
        run: Run,
        user_message: Option<Message>,
        queue_if_busy: bool,
    ) -> StoreResult<RunAdmission> {
        runs::create_run(&self.pool, run, user_message, queue_if_busy).await
    }

    #[instrument(skip_all, fields(thread.id = %run.thread_id, run.id = %run.id))]
    async fn finish_run(
        &self,
        run: &Run,
        expected: RunStatus,
        reply: Option<Message>,
    ) -> StoreResult<Option<FinishedRun>> {
        runs::finish_run(&self.pool, run, expected, reply, None).await
    }

    #[instrument(skip_all, fields(thread.id = %run.thread_id, run.id = %run.id))]
    async fn finish_expired_run(
        &self,
        run: &Run,
        reply: Option<Message>,
        at: Timestamp,
        unleased_before: Timestamp,
    ) -> StoreResult<Option<FinishedRun>> {
        let expired = Some((at, unleased_before));
        runs::finish_run(&self.pool, run, RunStatus::InProgress, reply, expired).await
    }

    #[instrument(skip_all, fields(workspace.id = %workspace, run.id = %id))]
    async fn run(&self, workspace: WorkspaceId, id: RunId) -> StoreResult<Option<Run>> {
        runs::run(&self.pool, workspace, id).await
    }

    #[instrument(skip_all, fields(thread.id = %thread))]
    async fn list_runs(
        &self,
        thread: ThreadId,
        paging: Paging,
        descending: bool,
    ) -> StoreResult<Listing<Run>> {
        runs::list_runs(&self.pool, thread, paging, descending).await
    }

    #[instrument(skip_all, fields(run.id = %id))]
    async fn set_run_metadata(
        &self,
        workspace: WorkspaceId,
        id: RunId,
        metadata: serde_json::Map<String, serde_json::Value>,
    ) -> StoreResult<Option<Run>> {
        runs::set_run_metadata(&self.pool, workspace, id, metadata).await
    }

    fn shared(&self) -> bool {
        true
    }

    #[instrument(skip_all, fields(run.id = %run))]
    async fn request_run_cancel(&self, run: RunId) -> StoreResult<bool> {
        runs::request_run_cancel(&self.pool, run).await
    }

    async fn require_run_action(&self, run: RunId, calls: serde_json::Value) -> StoreResult<bool> {
        runs::require_action(&self.pool, run, calls).await
    }

    async fn submit_run_tool_outputs(
        &self,
        run: RunId,
        outputs: serde_json::Value,
    ) -> StoreResult<bool> {
        runs::submit_tool_outputs(&self.pool, run, outputs).await
    }

    async fn take_run_tool_outputs(&self, run: RunId) -> StoreResult<Option<serde_json::Value>> {
        runs::take_tool_outputs(&self.pool, run).await
    }

    #[instrument(skip_all)]
    async fn run_signals(&self) -> StoreResult<Option<RunSignals>> {
        signals::listen(&self.pool).await.map(Some)
    }

    #[instrument(skip_all, fields(count = runs.len()))]
    async fn lease_runs(&self, runs: &[RunId], lease: Lease<'_>) -> StoreResult<Vec<RunId>> {
        runs::lease_runs(&self.pool, runs, lease.holder, lease.until).await
    }

    #[instrument(skip_all)]
    async fn expired_runs(
        &self,
        at: Timestamp,
        unleased_before: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<Run>> {
        runs::expired_runs(&self.pool, at, unleased_before, limit).await
    }

    #[instrument(skip_all, fields(count = events.len()))]
    async fn append_run_events(&self, events: Vec<NewRunEvent>) -> StoreResult<Vec<RunId>> {
        runs::append_run_events(&self.pool, events).await
    }

    #[instrument(skip_all, fields(run.id = %run))]
    async fn run_events(
        &self,
        run: RunId,
        after: u64,
        limit: u32,
    ) -> StoreResult<Vec<StoredRunEvent>> {
        runs::run_events(&self.pool, run, after, limit).await
    }

    #[instrument(skip_all)]
    async fn delete_run_events(&self, before: Timestamp, limit: u32) -> StoreResult<u64> {
        runs::delete_run_events(&self.pool, before, limit).await
    }

    #[instrument(skip_all, fields(message.id = %feedback.message_id))]
    async fn put_feedback(
        &self,
        feedback: spool_core::model::Feedback,
    ) -> StoreResult<Option<spool_core::model::Feedback>> {
        feedback::put_feedback(&self.pool, feedback).await
    }

    #[instrument(skip_all, fields(count = messages.len()))]
    async fn feedback_for_messages(
        &self,
        messages: &[MessageId],
    ) -> StoreResult<Vec<spool_core::model::Feedback>> {
        feedback::feedback_for_messages(&self.pool, messages).await
    }

    #[instrument(skip_all, fields(workspace.id = %query.workspace))]
    async fn metrics(&self, query: MetricsQuery) -> StoreResult<Vec<MetricsPoint>> {
        metrics::metrics(&self.pool, query).await
    }

    #[instrument(skip_all, fields(workspace.id = %workspace))]
    async fn agent_stats(
        &self,
        workspace: WorkspaceId,
        from: spool_core::Timestamp,
        to: spool_core::Timestamp,
    ) -> StoreResult<Vec<spool_core::query::AgentStats>> {
        metrics::agent_stats(&self.pool, workspace, from, to).await
    }

    #[instrument(skip_all)]
    async fn insert_memories(&self, memories: Vec<spool_core::model::Memory>) -> StoreResult<()> {
        memories::insert(&self.pool, memories).await
    }

    #[instrument(skip_all, fields(memory.id = %id))]
    async fn memory(
        &self,
        workspace: WorkspaceId,
        id: spool_core::MemoryId,
    ) -> StoreResult<Option<spool_core::model::Memory>> {
        memories::get(&self.pool, workspace, id).await
    }

    #[instrument(skip_all, fields(workspace.id = %workspace))]
    async fn list_memories(
        &self,
        workspace: WorkspaceId,
        agent: Option<AgentId>,
        user: Option<spool_core::UserId>,
        page: PageRequest,
    ) -> StoreResult<Page<spool_core::model::Memory>> {
        memories::list(&self.pool, workspace, agent, user, page).await
    }

    #[instrument(skip_all, fields(agent.id = %agent))]
    async fn recall_memories(
        &self,
        agent: AgentId,
        user: spool_core::UserId,
        limit: u32,
    ) -> StoreResult<Vec<spool_core::model::Memory>> {
        memories::recall(&self.pool, agent, user, limit).await
    }

    #[instrument(skip_all, fields(memory.id = %memory.id))]
    async fn update_memory(&self, memory: &spool_core::model::Memory) -> StoreResult<bool> {
        memories::update(&self.pool, memory).await
    }

    #[instrument(skip_all, fields(memory.id = %id))]
    async fn delete_memory(
        &self,
        workspace: WorkspaceId,
        id: spool_core::MemoryId,
    ) -> StoreResult<bool> {
        memories::delete(&self.pool, workspace, id).await
    }

    #[instrument(skip_all, fields(prompt.id = %prompt.id))]
    async fn insert_prompt(&self, prompt: spool_core::model::Prompt) -> StoreResult<()> {
        prompts::insert(&self.pool, prompt).await
    }

    #[instrument(skip_all, fields(prompt.id = %id))]
    async fn prompt(
        &self,
        id: spool_core::PromptId,
    ) -> StoreResult<Option<spool_core::model::Prompt>> {
        prompts::get(&self.pool, id).await
    }

    #[instrument(skip_all, fields(workspace.id = %workspace))]
    async fn list_prompts(
        &self,
        workspace: WorkspaceId,
        viewer: spool_core::UserId,
        page: PageRequest,
    ) -> StoreResult<Page<spool_core::model::Prompt>> {
        prompts::list(&self.pool, workspace, viewer, page).await
    }

    #[instrument(skip_all, fields(prompt.id = %prompt.id))]
    async fn update_prompt(&self, prompt: &spool_core::model::Prompt) -> StoreResult<bool> {
        prompts::update(&self.pool, prompt).await
    }

    #[instrument(skip_all, fields(prompt.id = %id))]
    async fn delete_prompt(
        &self,
        workspace: WorkspaceId,
        id: spool_core::PromptId,
    ) -> StoreResult<bool> {
        prompts::delete(&self.pool, workspace, id).await
    }

    async fn insert_provider(&self, provider: WorkspaceProvider) -> StoreResult<()> {
        providers::insert(&self.pool, provider).await
    }

    async fn provider(
        &self,
        workspace: WorkspaceId,
        id: spool_core::ProviderId,
    ) -> StoreResult<Option<WorkspaceProvider>> {
        providers::get(&self.pool, workspace, id).await
    }

    async fn list_providers(
        &self,
        workspace: WorkspaceId,
        page: PageRequest,
    ) -> StoreResult<Page<WorkspaceProvider>> {
        providers::list(&self.pool, workspace, page).await
    }

    async fn workspace_providers(
        &self,
        workspace: WorkspaceId,
    ) -> StoreResult<Vec<WorkspaceProvider>> {
        providers::all(&self.pool, workspace).await
    }

    async fn update_provider(&self, provider: &WorkspaceProvider) -> StoreResult<bool> {
        providers::update(&self.pool, provider).await
    }

    async fn delete_provider(
        &self,
        workspace: WorkspaceId,
        id: spool_core::ProviderId,
    ) -> StoreResult<bool> {
        providers::delete(&self.pool, workspace, id).await
    }

    async fn providers_sealed_with_other_keys(
        &self,
        key_id: &str,
        after: Option<spool_core::ProviderId>,
        limit: u32,
    ) -> StoreResult<Vec<WorkspaceProvider>> {
        providers::sealed_with_other_keys(&self.pool, key_id, after, limit).await
    }

    async fn reseal_provider(
        &self,
        id: spool_core::ProviderId,
        old: &Sealed,
        new: &Sealed,
    ) -> StoreResult<bool> {
        providers::reseal(&self.pool, id, old, new).await
    }

    #[instrument(skip_all, fields(webhook.id = %webhook.id))]
    async fn insert_webhook(&self, webhook: spool_core::webhooks::Webhook) -> StoreResult<()> {
        webhooks::insert(&self.pool, webhook).await
    }

    #[instrument(skip_all, fields(webhook.id = %id))]
    async fn webhook(
        &self,
        workspace: WorkspaceId,
        id: spool_core::WebhookId,
    ) -> StoreResult<Option<spool_core::webhooks::Webhook>> {
        webhooks::get(&self.pool, workspace, id).await
    }

    #[instrument(skip_all, fields(workspace.id = %workspace))]
    async fn list_webhooks(
        &self,
        workspace: WorkspaceId,
        page: PageRequest,
    ) -> StoreResult<Page<spool_core::webhooks::Webhook>> {
        webhooks::list(&self.pool, workspace, page).await
    }

    #[instrument(skip_all, fields(webhook.id = %id))]
    async fn delete_webhook(
        &self,
        workspace: WorkspaceId,
        id: spool_core::WebhookId,
    ) -> StoreResult<bool> {
        webhooks::delete(&self.pool, workspace, id).await
    }

    #[instrument(skip_all, fields(webhook.id = %webhook))]
    async fn list_webhook_deliveries(
        &self,
        webhook: spool_core::WebhookId,
        page: PageRequest,
    ) -> StoreResult<Page<spool_core::webhooks::WebhookDelivery>> {
        webhooks::deliveries(&self.pool, webhook, page).await
    }

    #[instrument(skip_all)]
    async fn claim_webhook_deliveries(
        &self,
        lease: Lease<'_>,
        at: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<spool_core::webhooks::DueDelivery>> {
        webhooks::claim(&self.pool, lease, at, limit).await
    }

    #[instrument(skip_all, fields(delivery.id = %id))]
    async fn record_webhook_attempt(
        &self,
        id: spool_core::DeliveryId,
        holder: &str,
        attempt: spool_core::webhooks::DeliveryAttempt,
    ) -> StoreResult<bool> {
        webhooks::record(&self.pool, id, holder, attempt).await
    }

    #[instrument(skip_all)]
    async fn idempotency_begin(
        &self,
        owner: &str,
        key: &str,
        fingerprint: &[u8; 32],
        at: Timestamp,
        since: Timestamp,
        lease: Lease<'_>,
    ) -> StoreResult<IdempotencyBegin> {
        idempotency::begin(&self.pool, owner, key, fingerprint, at, since, lease).await
    }

    #[instrument(skip_all)]
    async fn idempotency_renew(&self, owner: &str, key: &str, lease: Lease<'_>) -> StoreResult<()> {
        idempotency::renew(&self.pool, owner, key, lease).await
    }

    #[instrument(skip_all)]
    async fn idempotency_finish(
        &self,
        owner: &str,
        key: &str,
        status: u16,
        body: &[u8],
    ) -> StoreResult<()> {
        idempotency::finish(&self.pool, owner, key, status, body).await
    }

    #[instrument(skip_all)]
    async fn idempotency_release(&self, owner: &str, key: &str) -> StoreResult<()> {
        idempotency::release(&self.pool, owner, key).await
    }

    #[instrument(skip_all)]
    async fn idempotency_release_all(&self) -> StoreResult<u64> {
        idempotency::release_all(&self.pool).await
    }
}
