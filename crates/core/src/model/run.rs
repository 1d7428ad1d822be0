//! Runs: one execution of a thread against a model.

use crate::Timestamp;
use crate::ids::{AgentId, MessageId, RunId, ThreadId, UserId, WorkspaceId};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunStatus {
    /// Waiting for the thread's active run to finish (`multitask: enqueue`).
    Queued,
    InProgress,
    /// Waiting for the client's tool outputs. Stored as `in_progress` with
    /// the run's `required_action` set: the run keeps its thread's active
    /// slot and its lease (its node still executes it).
    RequiresAction,
    Completed,
    Failed,
    Cancelled,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Queued => "queued",
            RunStatus::InProgress => "in_progress",
            RunStatus::RequiresAction => "requires_action",
            RunStatus::Completed => "completed",
            RunStatus::Failed => "failed",
            RunStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "queued" => Some(RunStatus::Queued),
            "in_progress" => Some(RunStatus::InProgress),
            "requires_action" => Some(RunStatus::RequiresAction),
            "completed" => Some(RunStatus::Completed),
            "failed" => Some(RunStatus::Failed),
            "cancelled" => Some(RunStatus::Cancelled),
            _ => None,
        }
    }

    /// What the `status` column holds for it (see [`RunStatus::RequiresAction`]).
    pub fn stored_str(self) -> &'static str {
        match self {
            RunStatus::RequiresAction => "in_progress",
            other => other.as_str(),
        }
    }

    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            RunStatus::Completed | RunStatus::Failed | RunStatus::Cancelled
        )
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Run {
    pub id: RunId,
    pub thread_id: ThreadId,
    pub workspace_id: WorkspaceId,
    pub agent_id: Option<AgentId>,
    /// Who started it.
    pub user_id: Option<UserId>,
    /// The catalog name of the model.
    pub model: String,
    pub status: RunStatus,
    pub temperature: Option<f64>,
    pub max_tokens: Option<u32>,
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    /// Why it failed, in words for the client.
    pub error: Option<String>,
    /// The assistant message it produced (also for a partial reply).
    pub message_id: Option<MessageId>,
    pub created_at: Timestamp,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    /// What its model may call: the agent's tools with the request's.
    pub tools: Vec<crate::tools::ToolDefinition>,
    pub tool_choice: crate::tools::ToolChoice,
    /// While `requires_action`: the tool calls waiting for the client's
    /// outputs, `[{id, name, arguments}]`.
    pub required_action: Option<serde_json::Value>,
    /// Instead of the agent's instruction in this run's system prompt.
    pub instructions: Option<String>,
    /// Added at the end of this run's system prompt.
    pub additional_instructions: Option<String>,
    /// The client's own keys on the run (OpenAI's run `metadata`).
    pub metadata: serde_json::Map<String, serde_json::Value>,
    /// Nucleus sampling, sent to the model when set.
    pub top_p: Option<f64>,
    /// Why it ended, written with its end: the model's `stop`, `length`,
    /// `tool_calls` or `content_filter`, or `max_steps`, `cancelled`,
    /// `error`, `expired` (no tool outputs arrived in time).
    pub finish_reason: Option<String>,
    /// At most this many of the thread's latest messages go into the
    /// prompt (the run's own steps always do).
    pub history_limit: Option<u32>,
}

/// What the store did with a new run.
#[derive(Clone, Debug, PartialEq)]
pub enum RunAdmission {
    /// No other run was active: this one is in progress.
    Started {
        run: Run,
        message: Option<crate::model::Message>,
    },
    /// Another run is active; this one waits its turn.
    Queued {
        run: Run,
        message: Option<crate::model::Message>,
    },
    /// Another run is active and the caller did not want to wait.
    Busy {
        active: RunId,
    },
    ThreadGone,
}

/// What finishing a run led to.
#[derive(Clone, Debug, PartialEq)]
pub struct FinishedRun {
    pub reply: Option<crate::model::Message>,
    /// The thread's next queued run, now in progress.
    pub next: Option<Run>,
    /// The run's last events, as stored with its end.
    pub events: Vec<crate::runs::RunEvent>,
}
