//! Users, sessions, API keys, and the `Store` implementation that routes
//! each method to the writer or a reader.

use super::engine::backend_error;
use super::rows::{self, API_KEY_COLUMNS, Blob, SESSION_COLUMNS, USER_COLUMNS, micros};
use super::{
    SqliteStore, agents, files, idempotency, lookups, memories, messages, metrics, prompts,
    providers, runs, thread_list, threads, webhooks, workspaces,
};
use rusqlite::{OptionalExtension, params};
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
use spool_core::webhooks::{DeliveryAttempt, DueDelivery, Webhook, WebhookDelivery};
use spool_core::{
    AgentId, ApiKeyId, DeliveryId, FileId, MessageId, RunId, Store, ThreadId, Timestamp, UserId,
    WebhookId, WorkspaceId,
};

fn user_where(
    conn: &rusqlite::Connection,
    clause: &str,
    arg: &dyn rusqlite::ToSql,
) -> StoreResult<Option<User>> {
    conn.prepare_cached(&format!(
        "SELECT {USER_COLUMNS} FROM users u WHERE {clause}"
    ))
    .and_then(|mut s| s.query_row([arg], rows::user).optional())
    .map_err(backend_error)
}

/// The agents and creators `threads` name.
fn nested_ids(threads: &[Thread]) -> (Vec<AgentId>, Vec<UserId>) {
    (
        threads.iter().filter_map(|t| t.agent_id).collect(),
        threads.iter().filter_map(|t| t.creator_id).collect(),
    )
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn ping(&self) -> StoreResult<()> {
        self.engine
            .read(|conn| {
                conn.query_row("SELECT 1", [], |_| Ok(()))
                    .map_err(backend_error)
            })
            .await
    }

    async fn count_users(&self) -> StoreResult<u64> {
        self.engine
            .read(|conn| {
                let n: i64 = conn
                    .query_row("SELECT count(*) FROM users", [], |r| r.get(0))
                    .map_err(backend_error)?;
                Ok(n.unsigned_abs())
            })
            .await
    }

    async fn insert_user(&self, new: NewUser) -> StoreResult<User> {
        self.write(move |conn| {
                let at = micros(new.created_at);
                conn.prepare_cached(
                    "INSERT INTO users (uuid, name, first_name, last_name, email, password_hash, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
                )
                .and_then(|mut s| {
                    s.execute(params![
                        Blob(new.uuid),
                        new.name,
                        new.first_name,
                        new.last_name,
                        new.email,
                        new.password_hash,
                        at
                    ])
                })
                .map_err(backend_error)?;
                Ok(User {
                    id: UserId(conn.last_insert_rowid()),
                    uuid: new.uuid,
                    name: new.name,
                    first_name: new.first_name,
                    last_name: new.last_name,
                    email: new.email,
                    profile_photo_url: None,
                    primary_workspace_id: None,
                    created_at: new.created_at,
                    updated_at: new.created_at,
                })
            })
            .await
    }

    async fn user(&self, id: UserId) -> StoreResult<Option<User>> {
        self.engine
            .read_now(move |conn| user_where(conn, "u.id = ?1", &id.0))
            .await
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>> {
        let email = email.to_lowercase();
        self.engine
            .read(move |conn| user_where(conn, "u.email = ?1", &email))
            .await
    }

    async fn user_password_hash(&self, email: &str) -> StoreResult<Option<(User, String)>> {
        let email = email.to_lowercase();
        self.engine
            .read(move |conn| {
                conn.prepare_cached(&format!(
                    "SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.email = ?1"
                ))
                .and_then(|mut s| {
                    s.query_row([email], |row| Ok((rows::user(row)?, row.get(10)?)))
                        .optional()
                })
                .map_err(backend_error)
            })
            .await
    }

    async fn insert_workspace(
        &self,
        workspace: Workspace,
        owner: UserId,
    ) -> StoreResult<Workspace> {
        self.write(move |conn| workspaces::insert(conn, &workspace, owner).map(|()| workspace))
            .await
    }

    async fn workspace(&self, id: WorkspaceId) -> StoreResult<Option<Workspace>> {
        self.engine
            .read_now(move |conn| workspaces::get(conn, id))
            .await
    }

    async fn list_workspaces_for_user(
        &self,
        user: UserId,
        page: PageRequest,
    ) -> StoreResult<Page<Workspace>> {
        self.engine
            .read(move |conn| workspaces::list_for_user(conn, user, page))
            .await
    }

    async fn update_workspace(
        &self,
        id: WorkspaceId,
        patch: WorkspacePatch,
        at: Timestamp,
    ) -> StoreResult<Option<Workspace>> {
        self.write(move |conn| workspaces::update(conn, id, patch, at))
            .await
    }

    async fn delete_workspace(&self, id: WorkspaceId) -> StoreResult<bool> {
        self.write(move |conn| workspaces::delete(conn, id)).await
    }

    async fn role(&self, workspace: WorkspaceId, user: UserId) -> StoreResult<Option<Role>> {
        self.engine
            .read_now(move |conn| workspaces::role(conn, workspace, user))
            .await
    }

    async fn list_members(
        &self,
        workspace: WorkspaceId,
        page: PageRequest,
    ) -> StoreResult<Page<Member>> {
        self.engine
            .read(move |conn| workspaces::list_members(conn, workspace, page))
            .await
    }

    async fn put_member(
        &self,
        workspace: WorkspaceId,
        user: UserId,
        role: Role,
        at: Timestamp,
    ) -> StoreResult<()> {
        self.write(move |conn| workspaces::put_member(conn, workspace, user, role, at))
            .await
    }

    async fn remove_member(
        &self,
        workspace: WorkspaceId,
        user: UserId,
    ) -> StoreResult<RemoveMember> {
        self.write(move |conn| workspaces::remove_member(conn, workspace, user))
            .await
    }

    async fn insert_session(&self, session: Session) -> StoreResult<()> {
        self.write(move |conn| {
            conn.prepare_cached(&format!(
                "INSERT INTO sessions ({SESSION_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
            ))
            .and_then(|mut s| {
                s.execute(params![
                    Blob(session.id.0),
                    session.user_id.0,
                    &session.hash.0[..],
                    micros(session.created_at),
                    micros(session.expires_at),
                    session.revoked_at.map(micros)
                ])
            })
            .map(drop)
            .map_err(backend_error)
        })
        .await
    }

    async fn session_by_hash(&self, hash: TokenHash) -> StoreResult<Option<Session>> {
        self.engine
            .read_now(move |conn| {
                conn.prepare_cached(&format!(
                    "SELECT {SESSION_COLUMNS} FROM sessions WHERE token_hash = ?1"
                ))
                .and_then(|mut s| s.query_row([&hash.0[..]], rows::session).optional())
                .map_err(backend_error)
            })
            .await
    }

    async fn revoke_session(&self, hash: TokenHash, at: Timestamp) -> StoreResult<()> {
        self.write(move |conn| {
            conn.prepare_cached(
                "UPDATE sessions SET revoked_at = ?2 WHERE token_hash = ?1 AND revoked_at IS NULL",
            )
            .and_then(|mut s| s.execute(params![&hash.0[..], micros(at)]))
            .map(drop)
            .map_err(backend_error)
        })
        .await
    }

    async fn insert_api_key(&self, key: ApiKey) -> StoreResult<()> {
        self.write(move |conn| {
                conn.prepare_cached(&format!(
                    "INSERT INTO api_keys ({API_KEY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
                ))
                .and_then(|mut s| {
                    s.execute(params![
                        Blob(key.id.0),
                        Blob(key.workspace_id.0),
                        key.user_id.0,
                        key.name,
                        key.prefix,
                        &key.hash.0[..],
                        micros(key.created_at),
                        key.last_used_at.map(micros),
                        key.expires_at.map(micros),
                        key.revoked_at.map(micros)
                    ])
                })
                .map(drop)
                .map_err(backend_error)
            })
            .await
    }

    async fn api_key_by_hash(&self, hash: TokenHash) -> StoreResult<Option<ApiKey>> {
        self.engine
            .read_now(move |conn| {
                conn.prepare_cached(&format!(
                    "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE key_hash = ?1"
                ))
                .and_then(|mut s| s.query_row([&hash.0[..]], rows::api_key).optional())
                .map_err(backend_error)
            })
            .await
    }

    async fn list_api_keys(
        &self,
        workspace: WorkspaceId,
        page: PageRequest,
    ) -> StoreResult<Page<ApiKey>> {
        self.engine
            .read(move |conn| {
                let total: i64 = conn
                    .prepare_cached("SELECT count(*) FROM api_keys WHERE workspace_id = ?1")
                    .and_then(|mut s| s.query_row([Blob(workspace.0)], |r| r.get(0)))
                    .map_err(backend_error)?;
                let items = conn
                    .prepare_cached(&format!(
                        "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE workspace_id = ?1
                         ORDER BY created_at DESC, id DESC LIMIT ?2 OFFSET ?3"
                    ))
                    .and_then(|mut s| {
                        s.query_map(
                            params![Blob(workspace.0), page.per_page, page.offset()],
                            rows::api_key,
                        )?
                        .collect()
                    })
                    .map_err(backend_error)?;
                Ok(Page {
                    items,
                    total: total.unsigned_abs(),
                    request: page,
                })
            })
            .await
    }

    async fn api_key(&self, workspace: WorkspaceId, id: ApiKeyId) -> StoreResult<Option<ApiKey>> {
        self.engine
            .read(move |conn| {
                conn.prepare_cached(&format!(
                    "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE id = ?1 AND workspace_id = ?2"
                ))
                .and_then(|mut s| {
                    s.query_row(params![Blob(id.0), Blob(workspace.0)], rows::api_key)
                        .optional()
                })
                .map_err(backend_error)
            })
            .await
    }

    async fn revoke_api_key(
        &self,
        workspace: WorkspaceId,
        id: ApiKeyId,
        at: Timestamp,
    ) -> StoreResult<bool> {
        self.write(move |conn| {
                conn.prepare_cached(
                    "UPDATE api_keys SET revoked_at = ?3 WHERE id = ?1 AND workspace_id = ?2 AND revoked_at IS NULL",
                )
                .and_then(|mut s| s.execute(params![Blob(id.0), Blob(workspace.0), micros(at)]))
                .map(|n| n > 0)
                .map_err(backend_error)
            })
            .await
    }

    async fn touch_api_key(&self, id: ApiKeyId, at: Timestamp) -> StoreResult<()> {
        self.write(move |conn| {
            // Requests finish out of order: a late, older touch must
            // not move the time back.
            conn.prepare_cached(
                "UPDATE api_keys SET last_used_at = ?2 \
                     WHERE id = ?1 AND (last_used_at IS NULL OR last_used_at < ?2)",
            )
            .and_then(|mut s| s.execute(params![Blob(id.0), micros(at)]))
            .map(drop)
            .map_err(backend_error)
        })
        .await
    }

    async fn users_after(&self, after: Option<UserId>, limit: u32) -> StoreResult<Vec<User>> {
        self.engine
            .read(move |conn| lookups::users_after(conn, after, limit))
            .await
    }

    async fn workspaces_after(
        &self,
        after: Option<WorkspaceId>,
        limit: u32,
    ) -> StoreResult<Vec<Workspace>> {
        self.engine
            .read(move |conn| lookups::workspaces_after(conn, after, limit))
            .await
    }

    async fn users_by_ids(&self, ids: &[UserId]) -> StoreResult<Vec<User>> {
        let ids = ids.to_vec();
        let seen = self.rows.seen();
        self.engine
            .read_now(move |conn| lookups::users(conn, &seen, &ids))
            .await
    }

    async fn workspaces_by_ids(&self, ids: &[WorkspaceId]) -> StoreResult<Vec<Workspace>> {
        let ids = ids.to_vec();
        let seen = self.rows.seen();
        self.engine
            .read_now(move |conn| lookups::workspaces(conn, &seen, &ids))
            .await
    }

    async fn agents_by_ids(&self, ids: &[AgentId]) -> StoreResult<Vec<Agent>> {
        let ids = ids.to_vec();
        self.engine
            .read_now(move |conn| agents::by_ids(conn, &ids))
            .await
    }

    async fn thread_nesting(
        &self,
        agents: &[AgentId],
        creators: &[UserId],
    ) -> StoreResult<ThreadNesting> {
        if agents.is_empty() && creators.is_empty() {
            return Ok(ThreadNesting::default());
        }
        let (agents, creators) = (agents.to_vec(), creators.to_vec());
        let seen = self.rows.seen();
        self.engine
            .read_now(move |conn| lookups::thread_nesting(conn, &seen, &agents, &creators))
            .await
    }

    async fn thread_with_nesting(
        &self,
        workspace: WorkspaceId,
        id: ThreadId,
    ) -> StoreResult<Option<(Thread, ThreadNesting)>> {
        let seen = self.rows.seen();
        self.engine
            .read_now(move |conn| {
                let Some(thread) = threads::get(conn, workspace, id)? else {
                    return Ok(None);
                };
                let nesting = lookups::thread_nesting(
                    conn,
                    &seen,
                    thread.agent_id.as_slice(),
                    thread.creator_id.as_slice(),
                )?;
                Ok(Some((thread, nesting)))
            })
            .await
    }

    async fn insert_agent(&self, agent: Agent) -> StoreResult<()> {
        self.write(move |conn| agents::insert(conn, &agent)).await
    }

    async fn agent(&self, id: AgentId) -> StoreResult<Option<Agent>> {
        let found = self
            .engine
            .read_now(move |conn| agents::by_ids(conn, &[id]))
            .await?;
        Ok(found.into_iter().next())
    }

    async fn list_agents(&self, query: AgentQuery, page: PageRequest) -> StoreResult<Page<Agent>> {
        self.engine
            .read(move |conn| agents::list(conn, query, page))
            .await
    }

    async fn update_agent(&self, agent: &Agent) -> StoreResult<bool> {
        let agent = agent.clone();
        self.write(move |conn| agents::update(conn, &agent)).await
    }

    async fn delete_agent(&self, id: AgentId) -> StoreResult<bool> {
        self.write(move |conn| agents::delete(conn, id)).await
    }

    async fn put_agent_share(&self, id: AgentId, share: AgentShare) -> StoreResult<()> {
        self.write(move |conn| agents::put_share(conn, id, &share))
            .await
    }

    async fn insert_thread(&self, thread: Thread) -> StoreResult<()> {
        self.write(move |conn| threads::insert(conn, &thread)).await
    }

    async fn thread(&self, workspace: WorkspaceId, id: ThreadId) -> StoreResult<Option<Thread>> {
        self.engine
            .read_now(move |conn| threads::get(conn, workspace, id))
            .await
    }

    async fn update_thread(&self, thread: &Thread) -> StoreResult<bool> {
        let thread = thread.clone();
        self.write(move |conn| threads::update(conn, &thread)).await
    }

    async fn delete_thread(&self, workspace: WorkspaceId, id: ThreadId) -> StoreResult<bool> {
        self.write(move |conn| threads::delete(conn, workspace, id))
            .await
    }

    async fn delete_expired_threads(&self, at: Timestamp, limit: u32) -> StoreResult<u64> {
        self.engine
            .write(move |conn| threads::delete_expired(conn, at, limit))
            .await
    }

    async fn list_threads(&self, query: ThreadQuery) -> StoreResult<Listing<Thread>> {
        self.engine
            .read(move |conn| thread_list::list(conn, query))
            .await
    }

    async fn list_threads_nested(
        &self,
        query: ThreadQuery,
    ) -> StoreResult<(Listing<Thread>, ThreadNesting)> {
        let keyset = matches!(query.paging, Paging::Keyset { .. })
            && query.search.as_deref().is_none_or(|s| s.trim().is_empty());
        let seen = self.rows.seen();
        let read = move |conn: &rusqlite::Connection| {
            let listing = thread_list::list(conn, query)?;
            let (agents, creators) = nested_ids(listing.items());
            let nesting = lookups::thread_nesting(conn, &seen, &agents, &creators)?;
            Ok((listing, nesting))
        };
        // A keyset page is an index range; search ranks and offset pages
        // count, which can take milliseconds: those leave the runtime.
        if keyset {
            self.engine.read_now(read).await
        } else {
            self.engine.read(read).await
        }
    }

    async fn thread_with_messages(
        &self,
        workspace: WorkspaceId,
        thread: ThreadId,
        paging: Paging,
        descending: bool,
        max_bytes: Option<u64>,
    ) -> StoreResult<Option<(Thread, Listing<Message>)>> {
        self.engine
            .read_now(move |conn| {
                let Some(found) = threads::get(conn, workspace, thread)? else {
                    return Ok(None);
                };
                let listing = messages::list(conn, thread, paging, descending, max_bytes)?;
                Ok(Some((found, listing)))
            })
            .await
    }

    async fn append_message(&self, message: Message) -> StoreResult<Option<Message>> {
        self.write(move |conn| messages::append(conn, message))
            .await
    }

    async fn append_message_with_thread(
        &self,
        message: Message,
    ) -> StoreResult<Option<(Message, Thread)>> {
        self.write(move |conn| {
            let Some(message) = messages::append(conn, message)? else {
                return Ok(None);
            };
            let thread = threads::get(conn, message.workspace_id, message.thread_id)?;
            Ok(thread.map(|thread| (message, thread)))
        })
        .await
    }

    async fn message(&self, workspace: WorkspaceId, id: MessageId) -> StoreResult<Option<Message>> {
        self.engine
            .read_now(move |conn| messages::get(conn, workspace, id))
            .await
    }

    async fn update_message(&self, message: &Message) -> StoreResult<bool> {
        let message = message.clone();
        self.write(move |conn| messages::update(conn, &message))
            .await
    }

    async fn delete_message(&self, workspace: WorkspaceId, id: MessageId) -> StoreResult<bool> {
        self.write(move |conn| messages::delete(conn, workspace, id))
            .await
    }

    async fn insert_file(&self, file: StoredFile) -> StoreResult<()> {
        self.write(move |conn| files::insert(conn, &file)).await
    }

    async fn file(&self, workspace: WorkspaceId, id: FileId) -> StoreResult<Option<StoredFile>> {
        self.engine
            .read_now(move |conn| files::get(conn, workspace, id))
            .await
    }

    async fn files(
        &self,
        workspace: WorkspaceId,
        ids: Vec<FileId>,
    ) -> StoreResult<Vec<StoredFile>> {
        self.engine
            .read(move |conn| files::many(conn, workspace, &ids))
            .await
    }

    async fn list_files(
        &self,
        workspace: WorkspaceId,
        uploader: Option<UserId>,
        after: Option<spool_core::listing::Cursor>,
        limit: u32,
    ) -> StoreResult<(Vec<StoredFile>, bool)> {
        self.engine
            .read(move |conn| files::list(conn, workspace, uploader, after, limit))
            .await
    }

    async fn delete_file(&self, workspace: WorkspaceId, id: FileId) -> StoreResult<bool> {
        self.write(move |conn| files::delete(conn, workspace, id))
            .await
    }

    async fn files_usage(&self, workspace: WorkspaceId) -> StoreResult<u64> {
        self.engine
            .read(move |conn| files::usage(conn, workspace))
            .await
    }

    async fn take_unreferenced_files(
        &self,
        before: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<StoredFile>> {
        self.write(move |conn| files::take_unreferenced(conn, before, limit))
            .await
    }

    async fn list_messages(
        &self,
        thread: ThreadId,
        paging: Paging,
        descending: bool,
        max_bytes: Option<u64>,
    ) -> StoreResult<Listing<Message>> {
        self.engine
            .read(move |conn| messages::list(conn, thread, paging, descending, max_bytes))
            .await
    }

    async fn metrics(&self, query: MetricsQuery) -> StoreResult<Vec<MetricsPoint>> {
        self.engine
            .read(move |conn| metrics::metrics(conn, &query))
            .await
    }

    async fn agent_stats(
        &self,
        workspace: WorkspaceId,
        from: Timestamp,
        to: Timestamp,
    ) -> StoreResult<Vec<spool_core::query::AgentStats>> {
        self.engine
            .read(move |conn| metrics::agent_stats(conn, workspace, from, to))
            .await
    }

    async fn insert_memories(&self, memories: Vec<spool_core::model::Memory>) -> StoreResult<()> {
        self.write(move |conn| memories::insert(conn, &memories))
            .await
    }

    async fn memory(
        &self,
        workspace: WorkspaceId,
        id: spool_core::MemoryId,
    ) -> StoreResult<Option<spool_core::model::Memory>> {
        self.engine
            .read(move |conn| memories::get(conn, workspace, id))
            .await
    }

    async fn list_memories(
        &self,
        workspace: WorkspaceId,
        agent: Option<AgentId>,
        user: Option<UserId>,
        page: PageRequest,
    ) -> StoreResult<Page<spool_core::model::Memory>> {
        self.engine
            .read(move |conn| memories::list(conn, workspace, agent, user, page))
            .await
    }

    async fn recall_memories(
        &self,
        agent: AgentId,
        user: UserId,
        limit: u32,
    ) -> StoreResult<Vec<spool_core::model::Memory>> {
        self.engine
            .read(move |conn| memories::recall(conn, agent, user, limit))
            .await
    }

    async fn update_memory(&self, memory: &spool_core::model::Memory) -> StoreResult<bool> {
        let memory = memory.clone();
        self.write(move |conn| memories::update(conn, &memory))
            .await
    }

    async fn delete_memory(
        &self,
        workspace: WorkspaceId,
        id: spool_core::MemoryId,
    ) -> StoreResult<bool> {
        self.write(move |conn| memories::delete(conn, workspace, id))
            .await
    }

    async fn insert_prompt(&self, prompt: spool_core::model::Prompt) -> StoreResult<()> {
        self.write(move |conn| prompts::insert(conn, &prompt)).await
    }

    async fn prompt(
        &self,
        id: spool_core::PromptId,
    ) -> StoreResult<Option<spool_core::model::Prompt>> {
        self.engine.read(move |conn| prompts::get(conn, id)).await
    }

    async fn list_prompts(
        &self,
        workspace: WorkspaceId,
        viewer: UserId,
        page: PageRequest,
    ) -> StoreResult<Page<spool_core::model::Prompt>> {
        self.engine
            .read(move |conn| prompts::list(conn, workspace, viewer, page))
            .await
    }

    async fn update_prompt(&self, prompt: &spool_core::model::Prompt) -> StoreResult<bool> {
        let prompt = prompt.clone();
        self.write(move |conn| prompts::update(conn, &prompt)).await
    }

    async fn delete_prompt(
        &self,
        workspace: WorkspaceId,
        id: spool_core::PromptId,
    ) -> StoreResult<bool> {
        self.write(move |conn| prompts::delete(conn, workspace, id))
            .await
    }

    async fn insert_provider(&self, provider: WorkspaceProvider) -> StoreResult<()> {
        self.write(move |conn| providers::insert(conn, &provider))
            .await
    }

    async fn provider(
        &self,
        workspace: WorkspaceId,
        id: spool_core::ProviderId,
    ) -> StoreResult<Option<WorkspaceProvider>> {
        self.engine
            .read(move |conn| providers::get(conn, workspace, id))
            .await
    }

    async fn list_providers(
        &self,
        workspace: WorkspaceId,
        page: PageRequest,
    ) -> StoreResult<Page<WorkspaceProvider>> {
        self.engine
            .read(move |conn| providers::list(conn, workspace, page))
            .await
    }

    async fn workspace_providers(
        &self,
        workspace: WorkspaceId,
    ) -> StoreResult<Vec<WorkspaceProvider>> {
        self.engine
            .read(move |conn| providers::all(conn, workspace))
            .await
    }

    async fn update_provider(&self, provider: &WorkspaceProvider) -> StoreResult<bool> {
        let provider = provider.clone();
        self.write(move |conn| providers::update(conn, &provider))
            .await
    }

    async fn delete_provider(
        &self,
        workspace: WorkspaceId,
        id: spool_core::ProviderId,
    ) -> StoreResult<bool> {
        self.write(move |conn| providers::delete(conn, workspace, id))
            .await
    }

    async fn providers_sealed_with_other_keys(
        &self,
        key_id: &str,
        after: Option<spool_core::ProviderId>,
        limit: u32,
    ) -> StoreResult<Vec<WorkspaceProvider>> {
        let key_id = key_id.to_owned();
        self.engine
            .read(move |conn| providers::sealed_with_other_keys(conn, &key_id, after, limit))
            .await
    }

    async fn reseal_provider(
        &self,
        id: spool_core::ProviderId,
        old: &Sealed,
        new: &Sealed,
    ) -> StoreResult<bool> {
        let (old, new) = (old.clone(), new.clone());
        self.write(move |conn| providers::reseal(conn, id, &old, &new))
            .await
    }

    async fn insert_webhook(&self, webhook: Webhook) -> StoreResult<()> {
        self.write(move |conn| webhooks::insert(conn, &webhook))
            .await
    }

    async fn webhook(&self, workspace: WorkspaceId, id: WebhookId) -> StoreResult<Option<Webhook>> {
        self.engine
            .read(move |conn| webhooks::get(conn, workspace, id))
            .await
    }

    async fn list_webhooks(
        &self,
        workspace: WorkspaceId,
        page: PageRequest,
    ) -> StoreResult<Page<Webhook>> {
        self.engine
            .read(move |conn| webhooks::list(conn, workspace, page))
            .await
    }

    async fn delete_webhook(&self, workspace: WorkspaceId, id: WebhookId) -> StoreResult<bool> {
        self.write(move |conn| webhooks::delete(conn, workspace, id))
            .await
    }

    async fn list_webhook_deliveries(
        &self,
        webhook: WebhookId,
        page: PageRequest,
    ) -> StoreResult<Page<WebhookDelivery>> {
        self.engine
            .read(move |conn| webhooks::deliveries(conn, webhook, page))
            .await
    }

    async fn claim_webhook_deliveries(
        &self,
        lease: Lease<'_>,
        at: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<DueDelivery>> {
        // Looked for every second: a read first, so that an empty outbox
        // costs the one writer nothing.
        if !self
            .engine
            .read(move |conn| webhooks::any_due(conn, at))
            .await?
        {
            return Ok(Vec::new());
        }
        let (holder, until) = (lease.holder.to_owned(), lease.until);
        self.engine
            .write(move |conn| {
                let lease = Lease {
                    holder: &holder,
                    until,
                };
                webhooks::claim(conn, lease, at, limit)
            })
            .await
    }

    async fn record_webhook_attempt(
        &self,
        id: DeliveryId,
        holder: &str,
        attempt: DeliveryAttempt,
    ) -> StoreResult<bool> {
        let holder = holder.to_owned();
        self.engine
            .write(move |conn| webhooks::record(conn, id, &holder, &attempt))
            .await
    }

    async fn idempotency_begin(
        &self,
        owner: &str,
        key: &str,
        fingerprint: &[u8; 32],
        at: Timestamp,
        since: Timestamp,
        lease: Lease<'_>,
    ) -> StoreResult<IdempotencyBegin> {
        let (owner, key, fingerprint) = (owner.to_owned(), key.to_owned(), *fingerprint);
        let (holder, until) = (lease.holder.to_owned(), lease.until);
        // Bookkeeping of the claim itself goes through the engine directly:
        // it is not the request's effect.
        self.engine
            .write(move |conn| {
                let lease = Lease {
                    holder: &holder,
                    until,
                };
                idempotency::begin(conn, &owner, &key, &fingerprint, at, since, lease)
            })
            .await
    }

    async fn idempotency_renew(&self, owner: &str, key: &str, lease: Lease<'_>) -> StoreResult<()> {
        let (owner, key) = (owner.to_owned(), key.to_owned());
        let (holder, until) = (lease.holder.to_owned(), lease.until);
        self.engine
            .write(move |conn| {
                let lease = Lease {
                    holder: &holder,
                    until,
                };
                idempotency::renew(conn, &owner, &key, lease)
            })
            .await
    }

    async fn idempotency_finish(
        &self,
        owner: &str,
        key: &str,
        status: u16,
        body: &[u8],
    ) -> StoreResult<()> {
        let (owner, key, body) = (owner.to_owned(), key.to_owned(), body.to_vec());
        self.engine
            .write(move |conn| idempotency::finish(conn, &owner, &key, status, &body))
            .await
    }

    async fn idempotency_release(&self, owner: &str, key: &str) -> StoreResult<()> {
        let (owner, key) = (owner.to_owned(), key.to_owned());
        self.engine
            .write(move |conn| idempotency::release(conn, &owner, &key))
            .await
    }

    async fn idempotency_release_all(&self) -> StoreResult<u64> {
        self.engine.write(idempotency::release_all).await
    }

    async fn create_run(
        &self,
        run: Run,
        user_message: Option<Message>,
        queue_if_busy: bool,
    ) -> StoreResult<RunAdmission> {
        self.write(move |conn| runs::create(conn, run, user_message, queue_if_busy))
            .await
    }

    async fn finish_run(
        &self,
        run: &Run,
        expected: RunStatus,
        reply: Option<Message>,
    ) -> StoreResult<Option<FinishedRun>> {
        let run = run.clone();
        self.write(move |conn| runs::finish(conn, &run, expected, reply, None))
            .await
    }

    async fn finish_expired_run(
        &self,
        run: &Run,
        reply: Option<Message>,
        at: Timestamp,
        unleased_before: Timestamp,
    ) -> StoreResult<Option<FinishedRun>> {
        let run = run.clone();
        let expired = Some((at, unleased_before));
        self.write(move |conn| runs::finish(conn, &run, RunStatus::InProgress, reply, expired))
            .await
    }

    async fn run(&self, workspace: WorkspaceId, id: RunId) -> StoreResult<Option<Run>> {
        self.engine
            .read_now(move |conn| runs::get(conn, workspace, id))
            .await
    }

    async fn list_runs(
        &self,
        thread: ThreadId,
        paging: Paging,
        descending: bool,
    ) -> StoreResult<Listing<Run>> {
        self.engine
            .read(move |conn| runs::list(conn, thread, paging, descending))
            .await
    }

    async fn set_run_metadata(
        &self,
        workspace: WorkspaceId,
        id: RunId,
        metadata: serde_json::Map<String, serde_json::Value>,
    ) -> StoreResult<Option<Run>> {
        self.write(move |conn| runs::set_metadata(conn, workspace, id, &metadata))
            .await
    }

    async fn request_run_cancel(&self, run: RunId) -> StoreResult<bool> {
        self.engine
            .write(move |conn| runs::request_cancel(conn, run))
            .await
    }

    async fn run_signals(&self) -> StoreResult<Option<RunSignals>> {
        Ok(None)
    }

    async fn require_run_action(&self, run: RunId, calls: serde_json::Value) -> StoreResult<bool> {
        self.engine
            .write(move |conn| runs::require_action(conn, run, &calls))
            .await
    }

    async fn submit_run_tool_outputs(
        &self,
        run: RunId,
        outputs: serde_json::Value,
    ) -> StoreResult<bool> {
        self.write(move |conn| runs::submit_tool_outputs(conn, run, &outputs))
            .await
    }

    async fn take_run_tool_outputs(&self, run: RunId) -> StoreResult<Option<serde_json::Value>> {
        self.engine
            .write(move |conn| runs::take_tool_outputs(conn, run))
            .await
    }

    async fn lease_runs(&self, runs: &[RunId], lease: Lease<'_>) -> StoreResult<Vec<RunId>> {
        let (runs, holder, until) = (runs.to_vec(), lease.holder.to_owned(), lease.until);
        self.engine
            .write(move |conn| runs::lease(conn, &runs, &holder, until))
            .await
    }

    async fn expired_runs(
        &self,
        at: Timestamp,
        unleased_before: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<Run>> {
        self.engine
            .read(move |conn| runs::expired(conn, at, unleased_before, limit))
            .await
    }

    async fn append_run_events(&self, events: Vec<NewRunEvent>) -> StoreResult<Vec<RunId>> {
        self.engine
            .write(move |conn| runs::append_events(conn, &events))
            .await
    }

    async fn run_events(
        &self,
        run: RunId,
        after: u64,
        limit: u32,
    ) -> StoreResult<Vec<StoredRunEvent>> {
        self.engine
            .read(move |conn| runs::events(conn, run, after, limit))
            .await
    }

    async fn delete_run_events(&self, before: Timestamp, limit: u32) -> StoreResult<u64> {
        self.engine
            .write(move |conn| runs::delete_events(conn, before, limit))
            .await
    }

    async fn put_feedback(
        &self,
        feedback: spool_core::model::Feedback,
    ) -> StoreResult<Option<spool_core::model::Feedback>> {
        self.write(move |conn| super::feedback::put(conn, feedback))
            .await
    }

    async fn feedback_for_messages(
        &self,
        messages: &[MessageId],
    ) -> StoreResult<Vec<spool_core::model::Feedback>> {
        let messages = messages.to_vec();
        self.engine
            .read(move |conn| super::feedback::for_messages(conn, &messages))
            .await
    }
}
