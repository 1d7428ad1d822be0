//! What list, search and metrics calls ask the store for. Built and checked
//! by the use cases; the store only executes them.

use crate::Timestamp;
use crate::ids::{AgentId, UserId, WorkspaceId};
use crate::listing::Paging;
use crate::model::Thread;

/// Agents a caller may list: those of `workspace` they can see, plus those
/// shared with the workspace or with `viewer`.
#[derive(Clone, Debug, PartialEq)]
pub struct AgentQuery {
    pub workspace: WorkspaceId,
    /// `None`: the caller sees every agent of the workspace (owner, admin,
    /// API key). `Some(user)`: private agents only when `user` made them.
    pub viewer: Option<UserId>,
    /// Also list agents of other workspaces shared with `viewer` (a user).
    pub shared_with_user: Option<UserId>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThreadSort {
    /// Threads without messages sort by their creation time.
    LastMessageAt,
    CreatedAt,
    UpdatedAt,
}

impl ThreadSort {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "last_message_at" => Some(ThreadSort::LastMessageAt),
            "created_at" => Some(ThreadSort::CreatedAt),
            "updated_at" => Some(ThreadSort::UpdatedAt),
            _ => None,
        }
    }

    /// The key a keyset cursor holds for `thread` in this order:
    /// microseconds of the sort column (both backends key on it).
    pub fn key(self, thread: &Thread) -> i64 {
        match self {
            ThreadSort::LastMessageAt => thread.last_message_at.unwrap_or(thread.created_at),
            ThreadSort::CreatedAt => thread.created_at,
            ThreadSort::UpdatedAt => thread.updated_at,
        }
        .timestamp_micros()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ThreadQuery {
    pub workspace: WorkspaceId,
    /// Only threads this user made (members see their own).
    pub creator: Option<UserId>,
    /// Only threads of this anonymous end user.
    pub anon_user_id: Option<String>,
    pub agent: Option<AgentId>,
    pub pinned: Option<bool>,
    /// `metadata[key] = value`: the key's value, as a string or as the JSON
    /// text of a non-string value, equals `value`.
    pub metadata: Vec<(String, String)>,
    /// Full-text search over titles and message content; results are ranked
    /// by relevance (then by `sort`) and paged by offset only.
    pub search: Option<String>,
    pub sort: ThreadSort,
    pub descending: bool,
    pub paging: Paging,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricsSubject {
    Threads,
    Messages,
    Agents,
    /// Runs started, with their token sums.
    Runs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bucket {
    Day,
    Week,
    Month,
}

/// Counts of rows created in `[from, to)`, per bucket (UTC; weeks start on Monday).
#[derive(Clone, Debug, PartialEq)]
pub struct MetricsQuery {
    pub workspace: WorkspaceId,
    pub subject: MetricsSubject,
    pub agent: Option<AgentId>,
    pub bucket: Bucket,
    pub from: Timestamp,
    pub to: Timestamp,
}

/// One bucket with anything in it; empty buckets are filled in by the core.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricsPoint {
    /// The bucket's first instant.
    pub start: Timestamp,
    pub count: u64,
    /// Messages only: token sums of the messages runs produced.
    pub input_tokens: u64,
    pub output_tokens: u64,
}

/// What one agent of a workspace did in `[from, to)`: threads made with it,
/// runs with it and their tokens, and the feedback on its threads' replies.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AgentStats {
    pub agent: AgentId,
    pub threads: u64,
    pub runs: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub positive_feedback: u64,
    pub negative_feedback: u64,
}

/// What an `Idempotency-Key` row says when a request arrives.
#[derive(Clone, Debug, PartialEq)]
pub enum IdempotencyBegin {
    /// First time: the caller goes ahead and records the outcome.
    Started,
    /// The first request with this key is still running.
    InProgress,
    /// The key was used with a different request.
    Mismatch,
    /// The first request finished: answer this again.
    Replay { status: u16, body: Vec<u8> },
    /// The first request's effect committed but its process ended before
    /// keeping a response; the claim is now the caller's. `reference` says
    /// what it made, when it recorded that (`idempotency::Reference`).
    Resume { reference: Option<String> },
}
