//! The storage contract. SQLite and PostgreSQL implement it in `spool-store`;
//! the conformance story there runs the same expectations against both.
//! Every method that writes returns only after the write is durable.

use crate::Timestamp;
use crate::error::StoreError;
use crate::ids::{
    AgentId, ApiKeyId, DeliveryId, FileId, MessageId, PromptId, ProviderId, RunId, ThreadId,
    UserId, WebhookId, WorkspaceId,
};
use crate::listing::{Listing, Paging};
use crate::model::{
    Agent, AgentShare, ApiKey, Feedback, FinishedRun, Member, Message, NewUser, Prompt, Role, Run,
    RunAdmission, RunStatus, Session, StoredFile, Thread, User, Workspace, WorkspacePatch,
    WorkspaceProvider,
};
use crate::paging::{Page, PageRequest};
use crate::query::{AgentQuery, IdempotencyBegin, MetricsPoint, MetricsQuery, ThreadQuery};
use crate::sealing::Sealed;
use crate::secret::TokenHash;
use crate::webhooks::{DeliveryAttempt, DueDelivery, Webhook, WebhookDelivery};
use serde_json::Value;

pub type StoreResult<T> = Result<T, StoreError>;

#[async_trait::async_trait]
pub trait Store: Send + Sync + 'static {
    /// Which backend this is (`sqlite` or `postgres`), for logs and metrics.
    fn backend(&self) -> &'static str;

    /// Cheap round trip proving the database answers.
    async fn ping(&self) -> StoreResult<()>;

    /// The connection pool's use now, for backends that pool connections.
    fn pool_use(&self) -> Option<PoolUse> {
        None
    }

    // --- users -----------------------------------------------------------

    async fn count_users(&self) -> StoreResult<u64>;
    /// Every user in id order, at most `limit` after `after`: the
    /// operator's listing (`spool user list`), not any API's.
    async fn users_after(&self, after: Option<UserId>, limit: u32) -> StoreResult<Vec<User>>;
    /// Every workspace in id (creation) order, at most `limit` after `after`
    /// (`spool workspace list`).
    async fn workspaces_after(
        &self,
        after: Option<WorkspaceId>,
        limit: u32,
    ) -> StoreResult<Vec<Workspace>>;
    /// Fails with [`StoreError::Unique`] when the email is taken.
    async fn insert_user(&self, user: NewUser) -> StoreResult<User>;
    async fn user(&self, id: UserId) -> StoreResult<Option<User>>;
    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>>;
    /// The user and the argon2id PHC string of their password.
    async fn user_password_hash(&self, email: &str) -> StoreResult<Option<(User, String)>>;

    // --- workspaces --------------------------------------------------------

    /// Inserts the workspace, makes `owner` its owner and, when the owner has
    /// no primary workspace yet, makes it theirs — in one transaction.
    async fn insert_workspace(&self, workspace: Workspace, owner: UserId)
    -> StoreResult<Workspace>;
    async fn workspace(&self, id: WorkspaceId) -> StoreResult<Option<Workspace>>;
    /// The workspaces `user` is a member of, oldest first.
    async fn list_workspaces_for_user(
        &self,
        user: UserId,
        page: PageRequest,
    ) -> StoreResult<Page<Workspace>>;
    async fn update_workspace(
        &self,
        id: WorkspaceId,
        patch: WorkspacePatch,
        at: Timestamp,
    ) -> StoreResult<Option<Workspace>>;
    /// Deletes the workspace and everything in it. `false` when absent.
    async fn delete_workspace(&self, id: WorkspaceId) -> StoreResult<bool>;

    // --- members -----------------------------------------------------------

    async fn role(&self, workspace: WorkspaceId, user: UserId) -> StoreResult<Option<Role>>;
    async fn list_members(
        &self,
        workspace: WorkspaceId,
        page: PageRequest,
    ) -> StoreResult<Page<Member>>;
    /// Adds the user or changes their role; makes it their primary workspace
    /// when they have none.
    async fn put_member(
        &self,
        workspace: WorkspaceId,
        user: UserId,
        role: Role,
        at: Timestamp,
    ) -> StoreResult<()>;
    /// Removes the membership (and the user's API keys in that workspace).
    /// Refuses, with [`RemoveMember::LastOwner`], to remove the last owner.
    async fn remove_member(
        &self,
        workspace: WorkspaceId,
        user: UserId,
    ) -> StoreResult<RemoveMember>;

    // --- credentials ---------------------------------------------------------

    async fn insert_session(&self, session: Session) -> StoreResult<()>;
    async fn session_by_hash(&self, hash: TokenHash) -> StoreResult<Option<Session>>;
    async fn revoke_session(&self, hash: TokenHash, at: Timestamp) -> StoreResult<()>;

    async fn insert_api_key(&self, key: ApiKey) -> StoreResult<()>;
    async fn api_key_by_hash(&self, hash: TokenHash) -> StoreResult<Option<ApiKey>>;
    async fn list_api_keys(
        &self,
        workspace: WorkspaceId,
        page: PageRequest,
    ) -> StoreResult<Page<ApiKey>>;
    async fn api_key(&self, workspace: WorkspaceId, id: ApiKeyId) -> StoreResult<Option<ApiKey>>;
    /// Marks the key revoked; `false` when it is absent or already revoked.
    async fn revoke_api_key(
        &self,
        workspace: WorkspaceId,
        id: ApiKeyId,
        at: Timestamp,
    ) -> StoreResult<bool>;
    /// Moves `last_used_at` forward to `at` (never backwards).
    async fn touch_api_key(&self, id: ApiKeyId, at: Timestamp) -> StoreResult<()>;

    // --- lookups for nesting (one query for many rows, no N+1) ---------------

    async fn users_by_ids(&self, ids: &[UserId]) -> StoreResult<Vec<User>>;
    async fn workspaces_by_ids(&self, ids: &[WorkspaceId]) -> StoreResult<Vec<Workspace>>;
    async fn agents_by_ids(&self, ids: &[AgentId]) -> StoreResult<Vec<Agent>>;
    /// Everything the wire shapes nest in threads naming `agents` and
    /// `creators`, in one trip to the database: those agents, the users who
    /// made the threads and the agents, and the agents' workspaces and the
    /// users' primary workspaces.
    async fn thread_nesting(
        &self,
        agents: &[AgentId],
        creators: &[UserId],
    ) -> StoreResult<ThreadNesting>;
    /// A thread of `workspace` with its nesting (as [`Store::thread_nesting`]),
    /// in one trip to the database and, on SQLite, one read transaction.
    async fn thread_with_nesting(
        &self,
        workspace: WorkspaceId,
        id: ThreadId,
    ) -> StoreResult<Option<(Thread, ThreadNesting)>>;

    // --- agents --------------------------------------------------------------

    /// Inserts the agent with its shares.
    async fn insert_agent(&self, agent: Agent) -> StoreResult<()>;
    /// Any workspace's agent, with its shares; access is the core's business.
    async fn agent(&self, id: AgentId) -> StoreResult<Option<Agent>>;
    /// Newest first.
    async fn list_agents(
        &self,
        query: AgentQuery,
        page: crate::paging::PageRequest,
    ) -> StoreResult<Page<Agent>>;
    /// Replaces the client-editable fields (name, description, instruction,
    /// photo url and config, visibility, metadata, updated_at); counters and
    /// shares are left alone. `false` when absent.
    async fn update_agent(&self, agent: &Agent) -> StoreResult<bool>;
    /// Threads of a deleted agent stay, with no agent.
    async fn delete_agent(&self, id: AgentId) -> StoreResult<bool>;
    /// Adds the share or changes its permission (one share per entity).
    async fn put_agent_share(&self, id: AgentId, share: AgentShare) -> StoreResult<()>;

    // --- threads -------------------------------------------------------------

    /// Inserts the thread and adds one to its agent's `threads_count`, in one transaction.
    async fn insert_thread(&self, thread: Thread) -> StoreResult<()>;
    async fn thread(&self, workspace: WorkspaceId, id: ThreadId) -> StoreResult<Option<Thread>>;
    /// Replaces title, subject, metadata, agent (moving `threads_count`),
    /// is_pinned, pinned_at, visible_in_ui and updated_at. `false` when absent.
    async fn update_thread(&self, thread: &Thread) -> StoreResult<bool>;
    /// Deletes the thread with its messages (and, later, runs and feedback)
    /// and takes one from its agent's `threads_count`, in one transaction;
    /// its messages leave the search index with it.
    async fn delete_thread(&self, workspace: WorkspaceId, id: ThreadId) -> StoreResult<bool>;
    /// Deletes up to `limit` idle threads whose `expires_at` is at or before
    /// `at`, or that have none and whose last activity is older than their
    /// workspace's `thread_retention_days` — each as `delete_thread` would,
    /// in one transaction. Answers how many.
    async fn delete_expired_threads(&self, at: Timestamp, limit: u32) -> StoreResult<u64>;
    async fn list_threads(&self, query: ThreadQuery) -> StoreResult<Listing<Thread>>;
    /// [`Store::list_threads`] with what the listed threads nest (as
    /// [`Store::thread_nesting`]), in one trip.
    async fn list_threads_nested(
        &self,
        query: ThreadQuery,
    ) -> StoreResult<(Listing<Thread>, ThreadNesting)>;

    // --- messages ------------------------------------------------------------

    /// Appends at the end of the thread: assigns `seq` (one more than the
    /// thread's last), and in the same transaction adds one to the thread's
    /// `message_count`, sets `last_message_at` (to the message's
    /// `created_at`) and `updated_at`, adds the run's tokens to the thread's
    /// totals, sets `last_model_used` when the run names a model, and indexes
    /// the content for search. Returns the stored message, or `None` when
    /// the thread is gone. The message's `seq` as given is ignored.
    async fn append_message(&self, message: Message) -> StoreResult<Option<Message>>;
    /// As [`Store::append_message`], in the same transaction reading back
    /// the thread as the append left it (counters, `last_message_at`), so
    /// that a response showing both needs no second trip.
    async fn append_message_with_thread(
        &self,
        message: Message,
    ) -> StoreResult<Option<(Message, Thread)>>;
    async fn message(&self, workspace: WorkspaceId, id: MessageId) -> StoreResult<Option<Message>>;
    /// Replaces content, content_html, metadata, run info, tool_calls and
    /// updated_at; the place in the thread is kept; the search index follows.
    async fn update_message(&self, message: &Message) -> StoreResult<bool>;
    /// Removes the message, takes one from the thread's `message_count`.
    async fn delete_message(&self, workspace: WorkspaceId, id: MessageId) -> StoreResult<bool>;

    // --- files -------------------------------------------------------------

    async fn insert_file(&self, file: StoredFile) -> StoreResult<()>;
    async fn file(&self, workspace: WorkspaceId, id: FileId) -> StoreResult<Option<StoredFile>>;
    /// Those of `ids` that exist in the workspace, in any order.
    async fn files(&self, workspace: WorkspaceId, ids: Vec<FileId>)
    -> StoreResult<Vec<StoredFile>>;
    /// Newest first, at most `limit` after `after`, only `uploader`'s when
    /// given; and whether more follow.
    async fn list_files(
        &self,
        workspace: WorkspaceId,
        uploader: Option<UserId>,
        after: Option<crate::listing::Cursor>,
        limit: u32,
    ) -> StoreResult<(Vec<StoredFile>, bool)>;
    /// Removes the row; its message references go with it.
    async fn delete_file(&self, workspace: WorkspaceId, id: FileId) -> StoreResult<bool>;
    /// Bytes of the workspace's files.
    async fn files_usage(&self, workspace: WorkspaceId) -> StoreResult<u64>;
    /// Deletes up to `limit` rows of files no message refers to, created
    /// before `before`, and answers them (their bytes are the caller's to
    /// remove).
    async fn take_unreferenced_files(
        &self,
        before: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<StoredFile>>;
    /// In thread order (`seq`), ascending unless `descending`; cursors key on `seq`.
    ///
    /// With `max_bytes`, the page stops before the row that would take its
    /// [`Message::listed_bytes`] (measured in SQL, before any row is loaded)
    /// past the bound, so an oversized page is never materialised; the first
    /// row always comes, however big. A keyset page so cut has `next` (`prev`
    /// when reading backwards) after its last row; an offset page is short
    /// although rows follow ([`Page::is_cut`]).
    async fn list_messages(
        &self,
        thread: ThreadId,
        paging: Paging,
        descending: bool,
        max_bytes: Option<u64>,
    ) -> StoreResult<Listing<Message>>;

    /// A thread of `workspace` and a page of its messages (as
    /// [`Store::list_messages`]), in one trip and, on SQLite, one read
    /// transaction; `None` when the workspace has no such thread.
    async fn thread_with_messages(
        &self,
        workspace: WorkspaceId,
        thread: ThreadId,
        paging: Paging,
        descending: bool,
        max_bytes: Option<u64>,
    ) -> StoreResult<Option<(Thread, Listing<Message>)>>;

    // --- runs ----------------------------------------------------------------

    /// Admits a run, in one transaction with its first event (`run.created`,
    /// id 1) and `user_message`. When no run of the thread is queued or in
    /// progress the run is stored in progress (`started_at` = the moment of
    /// admission, never before `created_at`), the message is appended first
    /// (as by `append_message`) and the thread's status becomes running;
    /// otherwise it is stored queued when `queue_if_busy` — its message kept
    /// with it, to be appended when it starts — or refused with `Busy` (and
    /// the message is not stored either).
    async fn create_run(
        &self,
        run: Run,
        user_message: Option<Message>,
        queue_if_busy: bool,
    ) -> StoreResult<RunAdmission>;
    /// Stores a run's end (status, tokens, error, message_id, finished_at) in
    /// one transaction with its reply (appended as by `append_message`), adds
    /// one to the agent's `usage_count` and sets its `last_used_at`; then
    /// starts the thread's oldest queued run, if any and none is in progress
    /// (returned in `next`), else sets the thread idle.
    ///
    /// In the same transaction it appends the run's last events after its
    /// stored ones: `message.completed` (with the stored reply, if any), the
    /// run's end (`run.completed` | `run.failed` | `run.cancelled`) and
    /// `done`, returned in `events`. A queued run that starts or is cancelled
    /// has its waiting user message appended to the thread first.
    ///
    /// A compare-and-set on `expected` (`queued` or `in_progress`): when the
    /// stored run is no longer in that status (another writer ended or
    /// started it first) nothing is written and the answer is `None`.
    async fn finish_run(
        &self,
        run: &Run,
        expected: RunStatus,
        reply: Option<Message>,
    ) -> StoreResult<Option<FinishedRun>>;
    async fn run(&self, workspace: WorkspaceId, id: RunId) -> StoreResult<Option<Run>>;
    /// Newest first (`descending`) or oldest first; cursors key on created_at.
    async fn list_runs(
        &self,
        thread: ThreadId,
        paging: Paging,
        descending: bool,
    ) -> StoreResult<Listing<Run>>;
    /// Replaces the client's metadata on a run of `workspace`; answers the
    /// run as it is then, `None` when there is no such run.
    async fn set_run_metadata(
        &self,
        workspace: WorkspaceId,
        id: RunId,
        metadata: serde_json::Map<String, serde_json::Value>,
    ) -> StoreResult<Option<Run>>;
    /// Takes or extends the lease on `runs` — those in progress and held by
    /// `lease.holder` or by nobody — until `lease.until`, in one statement;
    /// answers the runs it holds now. A run missing was ended elsewhere or
    /// has a cancel asked for ([`Store::request_run_cancel`]): its node stops it.
    async fn lease_runs(&self, runs: &[RunId], lease: Lease<'_>) -> StoreResult<Vec<RunId>>;
    /// Runs in progress whose lease ran out before `at`, or that were never
    /// leased and started before `unleased_before`: their node stopped.
    /// Oldest first, at most `limit`.
    async fn expired_runs(
        &self,
        at: Timestamp,
        unleased_before: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<Run>>;
    /// [`Store::finish_run`] (expecting `in_progress`) of a run found
    /// expired, compare-and-set on the lease being expired still: a node
    /// that renewed meanwhile keeps its run (`None`).
    async fn finish_expired_run(
        &self,
        run: &Run,
        reply: Option<Message>,
        at: Timestamp,
        unleased_before: Timestamp,
    ) -> StoreResult<Option<FinishedRun>>;

    /// Whether several nodes share this store (PostgreSQL): a run in
    /// progress that this node does not execute may be another node's.
    fn shared(&self) -> bool {
        false
    }
    /// Asks the node that executes `run` to cancel it: marks the run (its
    /// node sees the mark when it next renews its leases) and wakes every
    /// node. `false` when the run is not in progress.
    async fn request_run_cancel(&self, run: RunId) -> StoreResult<bool>;
    /// `in_progress → requires_action`: stores the calls waiting for the
    /// client (`[{id, name, arguments}]`) and forgets earlier outputs.
    /// `false` when the run is not in progress (or already waits).
    async fn require_run_action(&self, run: RunId, calls: Value) -> StoreResult<bool>;
    /// `requires_action → in_progress` with the client's outputs, kept
    /// until the run's executor takes them. `false` when the run was not
    /// waiting (it was answered, ended or never asked).
    async fn submit_run_tool_outputs(&self, run: RunId, outputs: Value) -> StoreResult<bool>;
    /// The outputs submitted for `run`, removed from the store; `None` when
    /// there are none (yet).
    async fn take_run_tool_outputs(&self, run: RunId) -> StoreResult<Option<Value>>;
    /// What other nodes tell this one (events they committed, cancels asked
    /// for), or `None` when no other node uses the store. A lost connection
    /// may lose signals: followers look at the store now and then anyway.
    async fn run_signals(&self) -> StoreResult<Option<RunSignals>>;

    // --- run events ------------------------------------------------------------

    /// Appends events of runs in progress, all in one transaction (one
    /// multi-row insert on PostgreSQL). The events of a run that is no longer
    /// in progress are not written; those runs are returned.
    async fn append_run_events(&self, events: Vec<NewRunEvent>) -> StoreResult<Vec<RunId>>;
    /// The run's events after `after` (an event id), in order, at most `limit`.
    async fn run_events(
        &self,
        run: RunId,
        after: u64,
        limit: u32,
    ) -> StoreResult<Vec<StoredRunEvent>>;
    /// Removes up to `limit` run events stored before `before`; returns how
    /// many it removed.
    async fn delete_run_events(&self, before: Timestamp, limit: u32) -> StoreResult<u64>;

    // --- feedback ------------------------------------------------------------

    /// Stores the rating of `feedback.message_id`, replacing the one it has
    /// (keeping that one's id and created_at). `None` when the message is
    /// gone. Deleting the message or its thread deletes its feedback.
    async fn put_feedback(&self, feedback: Feedback) -> StoreResult<Option<Feedback>>;
    /// The feedback of those of `messages` that have one, in any order.
    async fn feedback_for_messages(&self, messages: &[MessageId]) -> StoreResult<Vec<Feedback>>;

    // --- metrics -------------------------------------------------------------

    /// Non-empty buckets in time order, answered from the created_at indexes.
    async fn metrics(&self, query: MetricsQuery) -> StoreResult<Vec<MetricsPoint>>;
    /// Every agent of the workspace with what it did in `[from, to)`.
    async fn agent_stats(
        &self,
        workspace: WorkspaceId,
        from: Timestamp,
        to: Timestamp,
    ) -> StoreResult<Vec<crate::query::AgentStats>>;

    // --- memories ------------------------------------------------------------

    async fn insert_memories(&self, memories: Vec<crate::model::Memory>) -> StoreResult<()>;
    async fn memory(
        &self,
        workspace: WorkspaceId,
        id: crate::MemoryId,
    ) -> StoreResult<Option<crate::model::Memory>>;
    /// Newest first; `agent` and `user` narrow the list when given.
    async fn list_memories(
        &self,
        workspace: WorkspaceId,
        agent: Option<AgentId>,
        user: Option<UserId>,
        page: PageRequest,
    ) -> StoreResult<Page<crate::model::Memory>>;
    /// The agent's newest memories of `user`, at most `limit`.
    async fn recall_memories(
        &self,
        agent: AgentId,
        user: UserId,
        limit: u32,
    ) -> StoreResult<Vec<crate::model::Memory>>;
    /// `false` when it is gone.
    async fn update_memory(&self, memory: &crate::model::Memory) -> StoreResult<bool>;
    async fn delete_memory(&self, workspace: WorkspaceId, id: crate::MemoryId)
    -> StoreResult<bool>;

    // --- prompts -------------------------------------------------------------

    async fn insert_prompt(&self, prompt: Prompt) -> StoreResult<()>;
    async fn prompt(&self, id: PromptId) -> StoreResult<Option<Prompt>>;
    /// Newest first: the workspace's prompts that are not private, and
    /// `viewer`'s private ones.
    async fn list_prompts(
        &self,
        workspace: WorkspaceId,
        viewer: UserId,
        page: PageRequest,
    ) -> StoreResult<Page<Prompt>>;
    /// `false` when it is gone.
    async fn update_prompt(&self, prompt: &Prompt) -> StoreResult<bool>;
    /// `false` when absent.
    async fn delete_prompt(&self, workspace: WorkspaceId, id: PromptId) -> StoreResult<bool>;

    // --- workspace providers -------------------------------------------------

    /// `StoreError::Unique` when the workspace has a provider of that name.
    async fn insert_provider(&self, provider: WorkspaceProvider) -> StoreResult<()>;
    async fn provider(
        &self,
        workspace: WorkspaceId,
        id: ProviderId,
    ) -> StoreResult<Option<WorkspaceProvider>>;
    /// Oldest first, by name within the same instant.
    async fn list_providers(
        &self,
        workspace: WorkspaceId,
        page: PageRequest,
    ) -> StoreResult<Page<WorkspaceProvider>>;
    /// All of a workspace's providers (a workspace has few): the models its
    /// runs may use.
    async fn workspace_providers(
        &self,
        workspace: WorkspaceId,
    ) -> StoreResult<Vec<WorkspaceProvider>>;
    /// `false` when it is gone; `StoreError::Unique` for a name taken.
    async fn update_provider(&self, provider: &WorkspaceProvider) -> StoreResult<bool>;
    /// `false` when absent.
    async fn delete_provider(&self, workspace: WorkspaceId, id: ProviderId) -> StoreResult<bool>;
    /// Up to `limit` providers, of every workspace, whose credentials are
    /// sealed with a key other than `key_id`, in id order after `after`.
    async fn providers_sealed_with_other_keys(
        &self,
        key_id: &str,
        after: Option<ProviderId>,
        limit: u32,
    ) -> StoreResult<Vec<WorkspaceProvider>>;
    /// Replaces a provider's sealed credentials if they are still `old`
    /// (compare-and-set: a concurrent change wins); `false` otherwise.
    async fn reseal_provider(
        &self,
        id: ProviderId,
        old: &Sealed,
        new: &Sealed,
    ) -> StoreResult<bool>;

    // --- webhooks ------------------------------------------------------------

    async fn insert_webhook(&self, webhook: Webhook) -> StoreResult<()>;
    async fn webhook(&self, workspace: WorkspaceId, id: WebhookId) -> StoreResult<Option<Webhook>>;
    /// Newest first.
    async fn list_webhooks(
        &self,
        workspace: WorkspaceId,
        page: PageRequest,
    ) -> StoreResult<Page<Webhook>>;
    /// Deletes it and its deliveries. `false` when absent.
    async fn delete_webhook(&self, workspace: WorkspaceId, id: WebhookId) -> StoreResult<bool>;
    /// The webhook's deliveries, newest first.
    async fn list_webhook_deliveries(
        &self,
        webhook: WebhookId,
        page: PageRequest,
    ) -> StoreResult<Page<WebhookDelivery>>;
    /// Claims up to `limit` pending deliveries due at `at` whose lease (if
    /// any) has run out, leasing them to `lease.holder`; no two callers
    /// claim the same one while its lease lasts. Oldest due first.
    async fn claim_webhook_deliveries(
        &self,
        lease: Lease<'_>,
        at: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<DueDelivery>>;
    /// Records an attempt at a delivery `holder` has claimed, and ends the
    /// claim; `false` (nothing written) when it no longer holds it.
    async fn record_webhook_attempt(
        &self,
        id: DeliveryId,
        holder: &str,
        attempt: DeliveryAttempt,
    ) -> StoreResult<bool>;

    // --- idempotency ---------------------------------------------------------

    /// Claims `key` for `owner` (an authenticated principal) with the
    /// request's `fingerprint` and `lease`, unless a claim younger than
    /// `since` exists: then says what it holds. A claim whose lease ran out
    /// is taken over by `lease` (its process is gone). Older claims are
    /// replaced.
    async fn idempotency_begin(
        &self,
        owner: &str,
        key: &str,
        fingerprint: &[u8; 32],
        at: Timestamp,
        since: Timestamp,
        lease: Lease<'_>,
    ) -> StoreResult<IdempotencyBegin>;
    /// Extends the lease of a claim `lease.holder` still holds.
    async fn idempotency_renew(&self, owner: &str, key: &str, lease: Lease<'_>) -> StoreResult<()>;
    /// Records the response of a claimed key and ends its lease.
    async fn idempotency_finish(
        &self,
        owner: &str,
        key: &str,
        status: u16,
        body: &[u8],
    ) -> StoreResult<()>;
    /// Gives a claim up without a response: dropped when its request
    /// committed nothing, else its lease ended so that a retry resumes it.
    async fn idempotency_release(&self, owner: &str, key: &str) -> StoreResult<()>;
    /// Ends every lease: for a single node starting, when no request of an
    /// earlier process can still be running. Returns how many it ended.
    async fn idempotency_release_all(&self) -> StoreResult<u64>;
}

/// One event of a run to append: its id within the run, its SSE name and
/// the core's JSON of it ([`crate::runs::codec`]).
#[derive(Clone, Debug, PartialEq)]
pub struct NewRunEvent {
    pub run: RunId,
    pub seq: u64,
    pub event: &'static str,
    pub data: String,
}

/// A node's word to the others about a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunSignal {
    /// The run's events up to `seq` are committed.
    Committed { run: RunId, seq: u64 },
    /// Someone asked for the run to be cancelled.
    Cancel(RunId),
}

pub type RunSignals = std::pin::Pin<Box<dyn futures_core::Stream<Item = RunSignal> + Send>>;

/// One event of a run as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredRunEvent {
    pub seq: u64,
    pub event: String,
    pub data: String,
}

/// Who carries out a keyed request (a process's id) and until when it is
/// presumed alive unless it renews the lease.
/// Connections a pool holds, and how many of them are idle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolUse {
    pub size: u32,
    pub idle: u32,
}

#[derive(Clone, Copy, Debug)]
pub struct Lease<'a> {
    pub holder: &'a str,
    pub until: Timestamp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RemoveMember {
    Removed,
    NotMember,
    LastOwner,
}

/// The rows nested in a set of threads' wire shapes, each kind in id order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ThreadNesting {
    pub agents: Vec<Agent>,
    pub users: Vec<User>,
    pub workspaces: Vec<Workspace>,
}
