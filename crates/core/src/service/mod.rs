//! The use cases. Every dialect calls these and nothing else: access rules,
//! validation and storage decisions live here, once.

mod accounts;
mod agent_generation;
mod agents;
mod conversations;
mod credentials;
mod feedback;
mod files;
mod keys;
mod limiter;
mod members;
mod memories;
mod messages;
mod metrics;
mod prompts;
mod providers;
mod threads;
mod throttle;
mod views;
mod webhooks;
mod workspaces;

pub use accounts::{NewUserInput, SignIn};
pub use agent_generation::{GenerateAgentInput, GeneratedAgent};
pub use agents::{AgentInput, AgentWindow, INSTRUCTION_MAX_CHARS, ShareInput};
pub use feedback::{FeedbackInput, FeedbackView};
pub use files::{FileContent, file_cursor};
pub use keys::{CreatedApiKey, NewApiKeyInput};
pub use limiter::RateLimit;
pub use members::NewMemberInput;
pub use messages::{MessageListInput, MessageUpdateInput, NewMessageInput};
pub use metrics::{
    Leaderboard, LeaderboardInput, LeaderboardSort, MetricsInput, MetricsSeries, WorkspaceMetrics,
};
pub use prompts::{PromptInput, PromptRun, RunPromptInput};
pub use providers::{AuthenticationInput, ProviderInput, Rotation, model_entries};
pub use threads::{NewThreadInput, ThreadListInput, ThreadUpdateInput, check_end_user};
pub use throttle::{FailureBudget, SignInThrottle};
pub use views::{AgentView, MessageView, ThreadView, UserView};
pub use webhooks::NewWebhookInput;
pub use workspaces::{NewWorkspaceInput, WorkspaceUpdateInput};

use crate::error::CoreError;
use crate::ids::{UserId, WorkspaceId};
use crate::model::{ApiKey, Role, Session, User, Workspace};
use crate::store::Store;
use std::sync::Arc;

/// 4 MiB: a page of eight messages at the 256 KiB content limit (content and
/// its HTML), or of a hundred ordinary ones; 16 such pages at once stay
/// within tens of megabytes.
pub const DEFAULT_LIST_PAGE_MAX_BYTES: usize = 4 * 1024 * 1024;

#[derive(Clone, Debug)]
pub struct SpoolConfig {
    /// How long a sign-in session lasts.
    pub session_ttl: chrono::Duration,
    /// `last_used_at` of an API key is refreshed at most this often, so that
    /// authenticating a request is not a durable write.
    pub api_key_touch_interval: chrono::Duration,
    /// Per-credential request rate; `None` turns limiting off.
    pub rate_limit: Option<RateLimit>,
    /// Failed sign-ins allowed per email and per client address.
    pub sign_in_throttle: SignInThrottle,
    /// How long this process remembers who presented a credential (zero: not at all).
    pub credential_cache_ttl: std::time::Duration,
    /// Largest message content, in bytes of UTF-8.
    pub content_max_bytes: usize,
    /// Most bytes of messages (content, content_html, metadata, tool_calls)
    /// one list page holds; a page that would pass it stops early, with at
    /// least one row and a cursor to continue from.
    pub list_page_max_bytes: usize,
    pub catalog: crate::catalog::ModelCatalog,
    /// How long a node's lease on a run it executes lasts without renewal:
    /// after that any node ends the run (its node stopped).
    pub run_lease: std::time::Duration,
    /// How often a node renews the leases of all its runs (one statement).
    pub run_lease_renew: std::time::Duration,
    /// How long a run's events are kept for re-attaching; the run and its
    /// messages are kept regardless.
    pub run_events_retention: chrono::Duration,
    /// Most model steps (model call, then its tool calls) one run takes;
    /// then it ends with finish reason `max_steps`.
    pub run_max_steps: u32,
    /// How long a run waits in `requires_action` for the client's tool
    /// outputs before it ends `failed`.
    pub tool_outputs_timeout: std::time::Duration,
    /// When webhook deliveries are looked for and retried.
    pub webhooks: crate::webhooks::DeliveryPlan,
    /// Upload limits, the unreferenced-file sweep, files in prompts.
    pub files: crate::files::FileSettings,
}

impl Default for SpoolConfig {
    fn default() -> Self {
        Self {
            session_ttl: chrono::Duration::days(30),
            api_key_touch_interval: chrono::Duration::seconds(60),
            rate_limit: Some(RateLimit {
                per_second: 100.0,
                burst: 400.0,
            }),
            sign_in_throttle: SignInThrottle::default(),
            credential_cache_ttl: std::time::Duration::from_secs(2),
            content_max_bytes: 256 * 1024,
            list_page_max_bytes: DEFAULT_LIST_PAGE_MAX_BYTES,
            catalog: crate::catalog::ModelCatalog::default(),
            run_lease: std::time::Duration::from_secs(30),
            run_lease_renew: std::time::Duration::from_secs(5),
            run_events_retention: chrono::Duration::days(30),
            run_max_steps: 8,
            tool_outputs_timeout: std::time::Duration::from_secs(600),
            webhooks: Default::default(),
            files: Default::default(),
        }
    }
}

/// The application: a store, the configuration, and the use cases as methods.
#[derive(Clone)]
pub struct Spool {
    store: Arc<dyn Store>,
    config: Arc<SpoolConfig>,
    limiter: Option<Arc<limiter::Limiter>>,
    throttle: Arc<throttle::Throttle>,
    runtime: Arc<crate::runs::Runtime>,
    credentials: Arc<credentials::CredentialCache>,
    webhook_sender: Option<Arc<dyn crate::webhooks::WebhookSender>>,
    /// Where files' bytes go; without one, uploads fail.
    blobs: Option<Arc<dyn crate::files::Blobs>>,
}

impl Spool {
    pub fn new(store: Arc<dyn Store>, config: SpoolConfig) -> Self {
        let limiter = config
            .rate_limit
            .map(|limit| Arc::new(limiter::Limiter::new(limit)));
        let credentials = Arc::new(credentials::CredentialCache::new(
            config.credential_cache_ttl,
        ));
        let throttle = Arc::new(throttle::Throttle::new(config.sign_in_throttle));
        Self {
            store,
            config: Arc::new(config),
            limiter,
            throttle,
            credentials,
            runtime: Arc::default(),
            webhook_sender: None,
            blobs: None,
        }
    }

    /// Keeps uploaded files' bytes in `blobs`.
    pub fn with_blobs(mut self, blobs: Arc<dyn crate::files::Blobs>) -> Self {
        self.blobs = Some(blobs);
        self
    }

    /// Lets webhooks be saved (their URLs checked) and delivered through `sender`.
    pub fn with_webhook_sender(mut self, sender: Arc<dyn crate::webhooks::WebhookSender>) -> Self {
        self.webhook_sender = Some(sender);
        self
    }

    pub(crate) fn webhook_sender(&self) -> Option<&Arc<dyn crate::webhooks::WebhookSender>> {
        self.webhook_sender.as_ref()
    }

    /// The model providers and tokenizer runs use.
    pub fn with_runtime(mut self, runtime: crate::runs::Runtime) -> Self {
        self.runtime = Arc::new(runtime);
        self
    }

    pub(crate) fn runtime(&self) -> &crate::runs::Runtime {
        &self.runtime
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn config(&self) -> &SpoolConfig {
        &self.config
    }

    /// The byte bound of a list page of messages, as the store takes it.
    pub(crate) fn list_page_max_bytes(&self) -> Option<u64> {
        Some(u64::try_from(self.config.list_page_max_bytes).unwrap_or(u64::MAX))
    }

    /// The caller's standing in a workspace they name, or `NotFound` when the
    /// workspace is absent or out of their reach (the two look the same).
    pub async fn scope(
        &self,
        principal: &Principal,
        workspace: WorkspaceId,
    ) -> Result<Scope, CoreError> {
        let credential = principal.credential_id();
        if let Some(scope) = self.credentials.scope(credential, workspace) {
            return Ok(scope);
        }
        let scope = self.scope_from_store(principal, workspace).await?;
        self.credentials.put_scope(credential, scope.clone());
        Ok(scope)
    }

    async fn scope_from_store(
        &self,
        principal: &Principal,
        workspace: WorkspaceId,
    ) -> Result<Scope, CoreError> {
        let access = match principal {
            Principal::ApiKey { key, .. } if key.workspace_id == workspace => Access::ApiKey,
            Principal::ApiKey { .. } => return Err(CoreError::NotFound("Workspace")),
            Principal::Session { user, .. } => match self.store.role(workspace, user.id).await? {
                Some(role) => Access::Member(role),
                None => return Err(CoreError::NotFound("Workspace")),
            },
        };
        let workspace = self
            .store
            .workspace(workspace)
            .await?
            .ok_or(CoreError::NotFound("Workspace"))?;
        Ok(Scope { workspace, access })
    }

    /// The workspace a request acts in: the one it names, else the API key's,
    /// else the user's primary workspace.
    pub async fn resolve_scope(
        &self,
        principal: &Principal,
        named: Option<WorkspaceId>,
    ) -> Result<Scope, CoreError> {
        let id = match (named, principal) {
            (Some(id), _) => id,
            (None, Principal::ApiKey { key, .. }) => key.workspace_id,
            (None, Principal::Session { user, .. }) => {
                user.primary_workspace_id.ok_or_else(|| {
                    CoreError::invalid("workspace_uuid", "The workspace_uuid field is required.")
                })?
            }
        };
        self.scope(principal, id).await
    }
}

/// Who is calling: a signed-in user, or an API key acting for its workspace.
#[derive(Clone, Debug)]
pub enum Principal {
    Session { user: User, session: Session },
    ApiKey { user: User, key: ApiKey },
}

impl Principal {
    /// The user behind the credential (for an API key, the one who made it).
    pub fn user(&self) -> &User {
        match self {
            Principal::Session { user, .. } | Principal::ApiKey { user, .. } => user,
        }
    }

    pub fn user_id(&self) -> UserId {
        self.user().id
    }

    /// The id of the session or API key itself.
    fn credential_id(&self) -> uuid::Uuid {
        match self {
            Principal::Session { session, .. } => session.id.0,
            Principal::ApiKey { key, .. } => key.id.0,
        }
    }

    /// Workspace administration (settings, members, keys) needs a person;
    /// an API key acts on data only, so a leaked key cannot mint more keys.
    fn require_session(&self) -> Result<&User, CoreError> {
        match self {
            Principal::Session { user, .. } => Ok(user),
            Principal::ApiKey { .. } => Err(CoreError::Forbidden(
                "This action requires a signed-in user, not an API key.".into(),
            )),
        }
    }
}

/// A principal's standing inside one workspace.
#[derive(Clone, Debug, PartialEq)]
pub struct Scope {
    pub workspace: Workspace,
    pub access: Access,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Member(Role),
    /// API keys read and write all data of their workspace.
    ApiKey,
}

impl Scope {
    pub fn id(&self) -> WorkspaceId {
        self.workspace.id
    }

    /// Owners, admins and API keys see every thread of the workspace;
    /// members see their own.
    pub fn sees_all(&self) -> bool {
        matches!(
            self.access,
            Access::ApiKey | Access::Member(Role::Admin | Role::Owner)
        )
    }

    fn require_role(&self, at_least: Role, action: &str) -> Result<Role, CoreError> {
        match self.access {
            Access::Member(role) if role >= at_least => Ok(role),
            Access::Member(_) => Err(CoreError::Forbidden(format!(
                "Only a workspace {} or above may {action}.",
                at_least.as_str()
            ))),
            Access::ApiKey => Err(CoreError::Forbidden(
                "This action requires a signed-in user, not an API key.".into(),
            )),
        }
    }
}
