//! The store every node uses: the backend, with each operation's latency
//! recorded (`spool_store_operation_duration_seconds`, by backend and
//! operation). A method added to [`Store`] is added here too; the compiler
//! says so.

use serde_json::Value;
use spool_core::listing::{Listing, Paging};
use spool_core::model::WorkspaceProvider;
use spool_core::model::{
    Agent, AgentShare, ApiKey, Feedback, FinishedRun, Member, Message, NewUser, Role, Run,
    RunAdmission, RunStatus, Session, StoredFile, Thread, User, Workspace, WorkspacePatch,
};
use spool_core::paging::{Page, PageRequest};
use spool_core::query::{AgentQuery, IdempotencyBegin, MetricsPoint, MetricsQuery, ThreadQuery};
use spool_core::sealing::Sealed;
use spool_core::secret::TokenHash;
use spool_core::store::{
    Lease, NewRunEvent, PoolUse, RemoveMember, RunSignals, StoreResult, StoredRunEvent,
    ThreadNesting,
};
use spool_core::telemetry::{StoreLabels, metrics, seconds};
use spool_core::webhooks::{DeliveryAttempt, DueDelivery, Webhook, WebhookDelivery};
use spool_core::{
    AgentId, ApiKeyId, DeliveryId, FileId, MessageId, RunId, Store, ThreadId, Timestamp, UserId,
    WebhookId, WorkspaceId,
};
use std::time::Instant;

pub struct Metered<S> {
    inner: S,
}

impl<S: Store> Metered<S> {
    pub fn new(inner: S) -> Self {
        Self { inner }
    }

    async fn timed<T>(&self, operation: &'static str, work: impl Future<Output = T>) -> T {
        let started = Instant::now();
        let result = work.await;
        metrics()
            .store_duration
            .get_or_create(&StoreLabels {
                backend: self.inner.backend(),
                operation,
            })
            .observe(seconds(started.elapsed()));
        result
    }
}

#[async_trait::async_trait]
impl<S: Store> Store for Metered<S> {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }

    fn shared(&self) -> bool {
        self.inner.shared()
    }

    fn pool_use(&self) -> Option<PoolUse> {
        self.inner.pool_use()
    }

    async fn ping(&self) -> StoreResult<()> {
        self.timed("ping", self.inner.ping()).await
    }

    async fn count_users(&self) -> StoreResult<u64> {
        self.timed("count_users", self.inner.count_users()).await
    }

    async fn users_after(&self, after: Option<UserId>, limit: u32) -> StoreResult<Vec<User>> {
        self.timed("users_after", self.inner.users_after(after, limit))
            .await
    }

    async fn workspaces_after(
        &self,
        after: Option<WorkspaceId>,
        limit: u32,
    ) -> StoreResult<Vec<Workspace>> {
        self.timed(
            "workspaces_after",
            self.inner.workspaces_after(after, limit),
        )
        .await
    }

    async fn insert_user(&self, user: NewUser) -> StoreResult<User> {
        self.timed("insert_user", self.inner.insert_user(user))
            .await
    }

    async fn user(&self, id: UserId) -> StoreResult<Option<User>> {
        self.timed("user", self.inner.user(id)).await
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>> {
        self.timed("user_by_email", self.inner.user_by_email(email))
            .await
    }

    async fn user_password_hash(&self, email: &str) -> StoreResult<Option<(User, String)>> {
        self.timed("user_password_hash", self.inner.user_password_hash(email))
            .await
    }

    async fn insert_workspace(
        &self,
        workspace: Workspace,
        owner: UserId,
    ) -> StoreResult<Workspace> {
        self.timed(
            "insert_workspace",
            self.inner.insert_workspace(workspace, owner),
        )
        .await
    }

    async fn workspace(&self, id: WorkspaceId) -> StoreResult<Option<Workspace>> {
        self.timed("workspace", self.inner.workspace(id)).await
    }

    async fn list_workspaces_for_user(
        &self,
        user: UserId,
        page: PageRequest,
    ) -> StoreResult<Page<Workspace>> {
        self.timed(
            "list_workspaces_for_user",
            self.inner.list_workspaces_for_user(user, page),
        )
        .await
    }

    async fn update_workspace(
        &self,
        id: WorkspaceId,
        patch: WorkspacePatch,
        at: Timestamp,
    ) -> StoreResult<Option<Workspace>> {
        self.timed(
            "update_workspace",
            self.inner.update_workspace(id, patch, at),
        )
        .await
    }

    async fn delete_workspace(&self, id: WorkspaceId) -> StoreResult<bool> {
        self.timed("delete_workspace", self.inner.delete_workspace(id))
            .await
    }

    async fn role(&self, workspace: WorkspaceId, user: UserId) -> StoreResult<Option<Role>> {
        self.timed("role", self.inner.role(workspace, user)).await
    }

    async fn list_members(
        &self,
        workspace: WorkspaceId,
        page: PageRequest,
    ) -> StoreResult<Page<Member>> {
        self.timed("list_members", self.inner.list_members(workspace, page))
            .await
    }

    async fn put_member(
        &self,
        workspace: WorkspaceId,
        user: UserId,
        role: Role,
        at: Timestamp,
    ) -> StoreResult<()> {
        self.timed(
            "put_member",
            self.inner.put_member(workspace, user, role, at),
        )
        .await
    }

    async fn remove_member(
        &self,
        workspace: WorkspaceId,
        user: UserId,
    ) -> StoreResult<RemoveMember> {
        self.timed("remove_member", self.inner.remove_member(workspace, user))
            .await
    }

    async fn insert_session(&self, session: Session) -> StoreResult<()> {
        self.timed("insert_session", self.inner.insert_session(session))
            .await
    }

    async fn session_by_hash(&self, hash: TokenHash) -> StoreResult<Option<Session>> {
        self.timed("session_by_hash", self.inner.session_by_hash(hash))
            .await
    }

    async fn revoke_session(&self, hash: TokenHash, at: Timestamp) -> StoreResult<()> {
        self.timed("revoke_session", self.inner.revoke_session(hash, at))
            .await
    }

    async fn insert_api_key(&self, key: ApiKey) -> StoreResult<()> {
        self.timed("insert_api_key", self.inner.insert_api_key(key))
            .await
    }

    async fn api_key_by_hash(&self, hash: TokenHash) -> StoreResult<Option<ApiKey>> {
        self.timed("api_key_by_hash", self.inner.api_key_by_hash(hash))
            .await
    }

    async fn list_api_keys(
        &self,
        workspace: WorkspaceId,
        page: PageRequest,
    ) -> StoreResult<Page<ApiKey>> {
        self.timed("list_api_keys", self.inner.list_api_keys(workspace, page))
            .await
    }

    async fn api_key(&self, workspace: WorkspaceId, id: ApiKeyId) -> StoreResult<Option<ApiKey>> {
        self.timed("api_key", self.inner.api_key(workspace, id))
            .await
    }

    async fn revoke_api_key(
        &self,
        workspace: WorkspaceId,
        id: ApiKeyId,
        at: Timestamp,
    ) -> StoreResult<bool> {
        self.timed(
            "revoke_api_key",
            self.inner.revoke_api_key(workspace, id, at),
        )
        .await
    }

    async fn touch_api_key(&self, id: ApiKeyId, at: Timestamp) -> StoreResult<()> {
        self.timed("touch_api_key", self.inner.touch_api_key(id, at))
            .await
    }

    async fn users_by_ids(&self, ids: &[UserId]) -> StoreResult<Vec<User>> {
        self.timed("users_by_ids", self.inner.users_by_ids(ids))
            .await
    }

    async fn workspaces_by_ids(&self, ids: &[WorkspaceId]) -> StoreResult<Vec<Workspace>> {
        self.timed("workspaces_by_ids", self.inner.workspaces_by_ids(ids))
            .await
    }

    async fn agents_by_ids(&self, ids: &[AgentId]) -> StoreResult<Vec<Agent>> {
        self.timed("agents_by_ids", self.inner.agents_by_ids(ids))
            .await
    }

    async fn thread_nesting(
        &self,
        agents: &[AgentId],
        creators: &[UserId],
    ) -> StoreResult<ThreadNesting> {
        self.timed(
            "thread_nesting",
            self.inner.thread_nesting(agents, creators),
        )
        .await
    }

    async fn thread_with_nesting(
        &self,
        workspace: WorkspaceId,
        id: ThreadId,
    ) -> StoreResult<Option<(Thread, ThreadNesting)>> {
        self.timed(
            "thread_with_nesting",
            self.inner.thread_with_nesting(workspace, id),
        )
        .await
    }

    async fn insert_agent(&self, agent: Agent) -> StoreResult<()> {
        self.timed("insert_agent", self.inner.insert_agent(agent))
            .await
    }

    async fn agent(&self, id: AgentId) -> StoreResult<Option<Agent>> {
        self.timed("agent", self.inner.agent(id)).await
    }

    async fn list_agents(&self, query: AgentQuery, page: PageRequest) -> StoreResult<Page<Agent>> {
        self.timed("list_agents", self.inner.list_agents(query, page))
            .await
    }

    async fn update_agent(&self, agent: &Agent) -> StoreResult<bool> {
        self.timed("update_agent", self.inner.update_agent(agent))
            .await
    }

    async fn delete_agent(&self, id: AgentId) -> StoreResult<bool> {
        self.timed("delete_agent", self.inner.delete_agent(id))
            .await
    }

    async fn put_agent_share(&self, id: AgentId, share: AgentShare) -> StoreResult<()> {
        self.timed("put_agent_share", self.inner.put_agent_share(id, share))
            .await
    }

    async fn insert_thread(&self, thread: Thread) -> StoreResult<()> {
        self.timed("insert_thread", self.inner.insert_thread(thread))
            .await
    }

    async fn thread(&self, workspace: WorkspaceId, id: ThreadId) -> StoreResult<Option<Thread>> {
        self.timed("thread", self.inner.thread(workspace, id)).await
    }

    async fn update_thread(&self, thread: &Thread) -> StoreResult<bool> {
        self.timed("update_thread", self.inner.update_thread(thread))
            .await
    }

    async fn delete_thread(&self, workspace: WorkspaceId, id: ThreadId) -> StoreResult<bool> {
        self.timed("delete_thread", self.inner.delete_thread(workspace, id))
            .await
    }

    async fn delete_expired_threads(&self, at: Timestamp, limit: u32) -> StoreResult<u64> {
        self.timed(
            "delete_expired_threads",
            self.inner.delete_expired_threads(at, limit),
        )
        .await
    }

    async fn list_threads(&self, query: ThreadQuery) -> StoreResult<Listing<Thread>> {
        self.timed("list_threads", self.inner.list_threads(query))
            .await
    }

    async fn list_threads_nested(
        &self,
        query: ThreadQuery,
    ) -> StoreResult<(Listing<Thread>, ThreadNesting)> {
        self.timed("list_threads_nested", self.inner.list_threads_nested(query))
            .await
    }

    async fn thread_with_messages(
        &self,
        workspace: WorkspaceId,
        thread: ThreadId,
        paging: Paging,
        descending: bool,
        max_bytes: Option<u64>,
    ) -> StoreResult<Option<(Thread, Listing<Message>)>> {
        self.timed(
            "thread_with_messages",
            self.inner
                .thread_with_messages(workspace, thread, paging, descending, max_bytes),
        )
        .await
    }

    async fn append_message(&self, message: Message) -> StoreResult<Option<Message>> {
        self.timed("append_message", self.inner.append_message(message))
            .await
    }

    async fn append_message_with_thread(
        &self,
        message: Message,
    ) -> StoreResult<Option<(Message, Thread)>> {
        self.timed(
            "append_message_with_thread",
            self.inner.append_message_with_thread(message),
        )
        .await
    }

    async fn message(&self, workspace: WorkspaceId, id: MessageId) -> StoreResult<Option<Message>> {
        self.timed("message", self.inner.message(workspace, id))
            .await
    }

    async fn update_message(&self, message: &Message) -> StoreResult<bool> {
        self.timed("update_message", self.inner.update_message(message))
            .await
    }

    async fn delete_message(&self, workspace: WorkspaceId, id: MessageId) -> StoreResult<bool> {
        self.timed("delete_message", self.inner.delete_message(workspace, id))
            .await
    }

    async fn insert_file(&self, file: StoredFile) -> StoreResult<()> {
        self.timed("insert_file", self.inner.insert_file(file))
            .await
    }

    async fn file(&self, workspace: WorkspaceId, id: FileId) -> StoreResult<Option<StoredFile>> {
        self.timed("file", self.inner.file(workspace, id)).await
    }

    async fn files(
        &self,
        workspace: WorkspaceId,
        ids: Vec<FileId>,
    ) -> StoreResult<Vec<StoredFile>> {
        self.timed("files", self.inner.files(workspace, ids)).await
    }

    async fn list_files(
        &self,
        workspace: WorkspaceId,
        uploader: Option<UserId>,
        after: Option<spool_core::listing::Cursor>,
        limit: u32,
    ) -> StoreResult<(Vec<StoredFile>, bool)> {
        self.timed(
            "list_files",
            self.inner.list_files(workspace, uploader, after, limit),
        )
        .await
    }

    async fn delete_file(&self, workspace: WorkspaceId, id: FileId) -> StoreResult<bool> {
        self.timed("delete_file", self.inner.delete_file(workspace, id))
            .await
    }

    async fn files_usage(&self, workspace: WorkspaceId) -> StoreResult<u64> {
        self.timed("files_usage", self.inner.files_usage(workspace))
            .await
    }

    async fn take_unreferenced_files(
        &self,
        before: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<StoredFile>> {
        self.timed(
            "take_unreferenced_files",
            self.inner.take_unreferenced_files(before, limit),
        )
        .await
    }

    async fn list_messages(
        &self,
        thread: ThreadId,
        paging: Paging,
        descending: bool,
        max_bytes: Option<u64>,
    ) -> StoreResult<Listing<Message>> {
        self.timed(
            "list_messages",
            self.inner
                .list_messages(thread, paging, descending, max_bytes),
        )
        .await
    }

    async fn create_run(
        &self,
        run: Run,
        user_message: Option<Message>,
        queue_if_busy: bool,
    ) -> StoreResult<RunAdmission> {
        self.timed(
            "create_run",
            self.inner.create_run(run, user_message, queue_if_busy),
        )
        .await
    }

    async fn finish_run(
        &self,
        run: &Run,
        expected: RunStatus,
        reply: Option<Message>,
    ) -> StoreResult<Option<FinishedRun>> {
        self.timed("finish_run", self.inner.finish_run(run, expected, reply))
            .await
    }

    async fn run(&self, workspace: WorkspaceId, id: RunId) -> StoreResult<Option<Run>> {
        self.timed("run", self.inner.run(workspace, id)).await
    }

    async fn list_runs(
        &self,
        thread: ThreadId,
        paging: Paging,
        descending: bool,
    ) -> StoreResult<Listing<Run>> {
        self.timed(
            "list_runs",
            self.inner.list_runs(thread, paging, descending),
        )
        .await
    }

    async fn set_run_metadata(
        &self,
        workspace: WorkspaceId,
        id: RunId,
        metadata: serde_json::Map<String, serde_json::Value>,
    ) -> StoreResult<Option<Run>> {
        self.timed(
            "set_run_metadata",
            self.inner.set_run_metadata(workspace, id, metadata),
        )
        .await
    }

    async fn lease_runs(&self, runs: &[RunId], lease: Lease<'_>) -> StoreResult<Vec<RunId>> {
        self.timed("lease_runs", self.inner.lease_runs(runs, lease))
            .await
    }

    async fn expired_runs(
        &self,
        at: Timestamp,
        unleased_before: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<Run>> {
        self.timed(
            "expired_runs",
            self.inner.expired_runs(at, unleased_before, limit),
        )
        .await
    }

    async fn finish_expired_run(
        &self,
        run: &Run,
        reply: Option<Message>,
        at: Timestamp,
        unleased_before: Timestamp,
    ) -> StoreResult<Option<FinishedRun>> {
        self.timed(
            "finish_expired_run",
            self.inner
                .finish_expired_run(run, reply, at, unleased_before),
        )
        .await
    }

    async fn request_run_cancel(&self, run: RunId) -> StoreResult<bool> {
        self.timed("request_run_cancel", self.inner.request_run_cancel(run))
            .await
    }

    async fn require_run_action(&self, run: RunId, calls: Value) -> StoreResult<bool> {
        self.timed(
            "require_run_action",
            self.inner.require_run_action(run, calls),
        )
        .await
    }

    async fn submit_run_tool_outputs(&self, run: RunId, outputs: Value) -> StoreResult<bool> {
        self.timed(
            "submit_run_tool_outputs",
            self.inner.submit_run_tool_outputs(run, outputs),
        )
        .await
    }

    async fn take_run_tool_outputs(&self, run: RunId) -> StoreResult<Option<Value>> {
        self.timed(
            "take_run_tool_outputs",
            self.inner.take_run_tool_outputs(run),
        )
        .await
    }

    async fn run_signals(&self) -> StoreResult<Option<RunSignals>> {
        self.timed("run_signals", self.inner.run_signals()).await
    }

    async fn append_run_events(&self, events: Vec<NewRunEvent>) -> StoreResult<Vec<RunId>> {
        self.timed("append_run_events", self.inner.append_run_events(events))
            .await
    }

    async fn run_events(
        &self,
        run: RunId,
        after: u64,
        limit: u32,
    ) -> StoreResult<Vec<StoredRunEvent>> {
        self.timed("run_events", self.inner.run_events(run, after, limit))
            .await
    }

    async fn delete_run_events(&self, before: Timestamp, limit: u32) -> StoreResult<u64> {
        self.timed(
            "delete_run_events",
            self.inner.delete_run_events(before, limit),
        )
        .await
    }

    async fn put_feedback(&self, feedback: Feedback) -> StoreResult<Option<Feedback>> {
        self.timed("put_feedback", self.inner.put_feedback(feedback))
            .await
    }

    async fn feedback_for_messages(&self, messages: &[MessageId]) -> StoreResult<Vec<Feedback>> {
        self.timed(
            "feedback_for_messages",
            self.inner.feedback_for_messages(messages),
        )
        .await
    }

    async fn metrics(&self, query: MetricsQuery) -> StoreResult<Vec<MetricsPoint>> {
        self.timed("metrics", self.inner.metrics(query)).await
    }

    async fn agent_stats(
        &self,
        workspace: WorkspaceId,
        from: spool_core::Timestamp,
        to: spool_core::Timestamp,
    ) -> StoreResult<Vec<spool_core::query::AgentStats>> {
        self.timed("agent_stats", self.inner.agent_stats(workspace, from, to))
            .await
    }

    async fn insert_memories(&self, memories: Vec<spool_core::model::Memory>) -> StoreResult<()> {
        self.timed("insert_memories", self.inner.insert_memories(memories))
            .await
    }

    async fn memory(
        &self,
        workspace: WorkspaceId,
        id: spool_core::MemoryId,
    ) -> StoreResult<Option<spool_core::model::Memory>> {
        self.timed("memory", self.inner.memory(workspace, id)).await
    }

    async fn list_memories(
        &self,
        workspace: WorkspaceId,
        agent: Option<AgentId>,
        user: Option<UserId>,
        page: PageRequest,
    ) -> StoreResult<Page<spool_core::model::Memory>> {
        self.timed(
            "list_memories",
            self.inner.list_memories(workspace, agent, user, page),
        )
        .await
    }

    async fn recall_memories(
        &self,
        agent: AgentId,
        user: UserId,
        limit: u32,
    ) -> StoreResult<Vec<spool_core::model::Memory>> {
        self.timed(
            "recall_memories",
            self.inner.recall_memories(agent, user, limit),
        )
        .await
    }

    async fn update_memory(&self, memory: &spool_core::model::Memory) -> StoreResult<bool> {
        self.timed("update_memory", self.inner.update_memory(memory))
            .await
    }

    async fn delete_memory(
        &self,
        workspace: WorkspaceId,
        id: spool_core::MemoryId,
    ) -> StoreResult<bool> {
        self.timed("delete_memory", self.inner.delete_memory(workspace, id))
            .await
    }

    async fn insert_prompt(&self, prompt: spool_core::model::Prompt) -> StoreResult<()> {
        self.timed("insert_prompt", self.inner.insert_prompt(prompt))
            .await
    }

    async fn prompt(
        &self,
        id: spool_core::PromptId,
    ) -> StoreResult<Option<spool_core::model::Prompt>> {
        self.timed("prompt", self.inner.prompt(id)).await
    }

    async fn list_prompts(
        &self,
        workspace: WorkspaceId,
        viewer: UserId,
        page: PageRequest,
    ) -> StoreResult<Page<spool_core::model::Prompt>> {
        self.timed(
            "list_prompts",
            self.inner.list_prompts(workspace, viewer, page),
        )
        .await
    }

    async fn update_prompt(&self, prompt: &spool_core::model::Prompt) -> StoreResult<bool> {
        self.timed("update_prompt", self.inner.update_prompt(prompt))
            .await
    }

    async fn delete_prompt(
        &self,
        workspace: WorkspaceId,
        id: spool_core::PromptId,
    ) -> StoreResult<bool> {
        self.timed("delete_prompt", self.inner.delete_prompt(workspace, id))
            .await
    }

    async fn insert_provider(&self, provider: WorkspaceProvider) -> StoreResult<()> {
        self.timed("insert_provider", self.inner.insert_provider(provider))
            .await
    }

    async fn provider(
        &self,
        workspace: WorkspaceId,
        id: spool_core::ProviderId,
    ) -> StoreResult<Option<WorkspaceProvider>> {
        self.timed("provider", self.inner.provider(workspace, id))
            .await
    }

    async fn list_providers(
        &self,
        workspace: WorkspaceId,
        page: PageRequest,
    ) -> StoreResult<Page<WorkspaceProvider>> {
        self.timed("list_providers", self.inner.list_providers(workspace, page))
            .await
    }

    async fn workspace_providers(
        &self,
        workspace: WorkspaceId,
    ) -> StoreResult<Vec<WorkspaceProvider>> {
        self.timed(
            "workspace_providers",
            self.inner.workspace_providers(workspace),
        )
        .await
    }

    async fn update_provider(&self, provider: &WorkspaceProvider) -> StoreResult<bool> {
        self.timed("update_provider", self.inner.update_provider(provider))
            .await
    }

    async fn delete_provider(
        &self,
        workspace: WorkspaceId,
        id: spool_core::ProviderId,
    ) -> StoreResult<bool> {
        self.timed("delete_provider", self.inner.delete_provider(workspace, id))
            .await
    }

    async fn providers_sealed_with_other_keys(
        &self,
        key_id: &str,
        after: Option<spool_core::ProviderId>,
        limit: u32,
    ) -> StoreResult<Vec<WorkspaceProvider>> {
        self.timed(
            "providers_sealed_with_other_keys",
            self.inner
                .providers_sealed_with_other_keys(key_id, after, limit),
        )
        .await
    }

    async fn reseal_provider(
        &self,
        id: spool_core::ProviderId,
        old: &Sealed,
        new: &Sealed,
    ) -> StoreResult<bool> {
        self.timed("reseal_provider", self.inner.reseal_provider(id, old, new))
            .await
    }

    async fn insert_webhook(&self, webhook: Webhook) -> StoreResult<()> {
        self.timed("insert_webhook", self.inner.insert_webhook(webhook))
            .await
    }

    async fn webhook(&self, workspace: WorkspaceId, id: WebhookId) -> StoreResult<Option<Webhook>> {
        self.timed("webhook", self.inner.webhook(workspace, id))
            .await
    }

    async fn list_webhooks(
        &self,
        workspace: WorkspaceId,
        page: PageRequest,
    ) -> StoreResult<Page<Webhook>> {
        self.timed("list_webhooks", self.inner.list_webhooks(workspace, page))
            .await
    }

    async fn delete_webhook(&self, workspace: WorkspaceId, id: WebhookId) -> StoreResult<bool> {
        self.timed("delete_webhook", self.inner.delete_webhook(workspace, id))
            .await
    }

    async fn list_webhook_deliveries(
        &self,
        webhook: WebhookId,
        page: PageRequest,
    ) -> StoreResult<Page<WebhookDelivery>> {
        self.timed(
            "list_webhook_deliveries",
            self.inner.list_webhook_deliveries(webhook, page),
        )
        .await
    }

    async fn claim_webhook_deliveries(
        &self,
        lease: Lease<'_>,
        at: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<DueDelivery>> {
        self.timed(
            "claim_webhook_deliveries",
            self.inner.claim_webhook_deliveries(lease, at, limit),
        )
        .await
    }

    async fn record_webhook_attempt(
        &self,
        id: DeliveryId,
        holder: &str,
        attempt: DeliveryAttempt,
    ) -> StoreResult<bool> {
        self.timed(
            "record_webhook_attempt",
            self.inner.record_webhook_attempt(id, holder, attempt),
        )
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
        self.timed(
            "idempotency_begin",
            self.inner
                .idempotency_begin(owner, key, fingerprint, at, since, lease),
        )
        .await
    }

    async fn idempotency_renew(&self, owner: &str, key: &str, lease: Lease<'_>) -> StoreResult<()> {
        self.timed(
            "idempotency_renew",
            self.inner.idempotency_renew(owner, key, lease),
        )
        .await
    }

    async fn idempotency_finish(
        &self,
        owner: &str,
        key: &str,
        status: u16,
        body: &[u8],
    ) -> StoreResult<()> {
        self.timed(
            "idempotency_finish",
            self.inner.idempotency_finish(owner, key, status, body),
        )
        .await
    }

    async fn idempotency_release(&self, owner: &str, key: &str) -> StoreResult<()> {
        self.timed(
            "idempotency_release",
            self.inner.idempotency_release(owner, key),
        )
        .await
    }

    async fn idempotency_release_all(&self) -> StoreResult<u64> {
        self.timed(
            "idempotency_release_all",
            self.inner.idempotency_release_all(),
        )
        .await
    }
}
