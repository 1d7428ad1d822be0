//! The domain of spool: identifiers, resources, validation, access rules and
//! the use cases every wire dialect calls. Nothing here knows about HTTP or a
//! particular database; storage is reached through the [`Store`] trait.

pub mod catalog;
pub mod error;
pub mod files;
pub mod idempotency;
pub mod ids;
pub mod listing;
pub mod markdown;
pub mod model;
pub mod paging;
pub mod provider;
pub mod query;
pub mod runs;
pub mod sealing;
pub mod secret;
pub mod service;
pub mod store;
pub mod telemetry;
pub mod tools;
pub mod validate;
pub mod webhooks;

pub use error::{CoreError, StoreError, ValidationErrors};
pub use ids::{
    AgentId, ApiKeyId, AttachmentId, DeliveryId, FeedbackId, FileId, MemoryId, MessageId, PromptId,
    ProviderId, RunId, SessionId, ThreadId, UserId, WebhookId, WorkspaceId,
};
pub use service::{Principal, Spool, SpoolConfig};
pub use store::Store;

/// Every stored instant. Rendered by each dialect with its own precision.
pub type Timestamp = chrono::DateTime<chrono::Utc>;

/// The current instant truncated to microseconds, the finest precision both
/// backends store, so that a value read back equals the value written.
pub fn now() -> Timestamp {
    use chrono::{SubsecRound, Utc};
    Utc::now().trunc_subsecs(6)
}
