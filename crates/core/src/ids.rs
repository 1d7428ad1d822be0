//! Typed identifiers: a `WorkspaceId` cannot be passed where a `UserId` is wanted.

use std::fmt;
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh, time-ordered identifier (UUIDv7), so that new rows
            /// land at the end of the primary-key index.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            /// Parses the canonical or simple textual form of a UUID.
            pub fn parse(s: &str) -> Option<Self> {
                Uuid::try_parse(s).ok().map(Self)
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }
    };
}

uuid_id!(
    /// A workspace (athena workspace, thena/freddy organization).
    WorkspaceId
);
uuid_id!(
    /// An API key's public identifier (never the key itself).
    ApiKeyId
);
uuid_id!(
    /// A sign-in session's public identifier (never the token itself).
    SessionId
);

uuid_id!(
    /// An agent (freddy assistant).
    AgentId
);
uuid_id!(
    /// A conversation thread.
    ThreadId
);
uuid_id!(
    /// A message inside a thread.
    MessageId
);
uuid_id!(
    /// One execution of a thread against a model.
    RunId
);
uuid_id!(
    /// A rating of an assistant message.
    FeedbackId
);

uuid_id!(
    /// An uploaded file; its text form is the file's `key` on every dialect.
    FileId
);
uuid_id!(
    /// One file attached to one message.
    AttachmentId
);

uuid_id!(
    /// A workspace's webhook: a URL told when runs end.
    WebhookId
);
uuid_id!(
    /// A reusable prompt template of a workspace.
    PromptId
);
uuid_id!(
    /// A model endpoint a workspace added itself (its own credentials).
    ProviderId
);
uuid_id!(
    /// A fact an agent remembers about a user, across threads.
    MemoryId
);
uuid_id!(
    /// One event sent to one webhook (its `webhook-id` header), kept
    /// through its retries.
    DeliveryId
);

/// Users carry an integer id on the wire (athena `id`) as well as a UUID.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct UserId(pub i64);

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_canonical_and_rejects_garbage() {
        let id = WorkspaceId::new();
        assert_eq!(WorkspaceId::parse(&id.to_string()), Some(id));
        assert_eq!(WorkspaceId::parse("not-a-uuid"), None);
        assert_eq!(WorkspaceId::parse(""), None);
    }

    #[test]
    fn new_ids_are_time_ordered() {
        let a = ApiKeyId::new();
        let b = ApiKeyId::new();
        assert!(a < b);
    }
}
