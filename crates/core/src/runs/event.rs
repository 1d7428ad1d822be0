//! A run's events: what a stream sends and the run log stores.

use crate::model::{Message, Run, RunStatus};

#[derive(Clone, Debug, PartialEq)]
pub enum RunEventKind {
    RunCreated(Run),
    MessageCreated(Message),
    MessageDelta(String),
    MessageCompleted(Message),
    /// A tool call the model made, in the shape stored on its message
    /// (`id`, `kind`, `tool_name`, `arguments`, `result`, `error`,
    /// `start_time`, `end_time`).
    ToolCallCreated(serde_json::Value),
    /// The same call with its `result` or `error`.
    ToolCallCompleted(serde_json::Value),
    /// The run waits for the client's tool outputs (`run.required_action`).
    RunRequiresAction(Run),
    RunCompleted(Run),
    RunFailed(Run),
    RunCancelled(Run),
    Done,
}

impl RunEventKind {
    /// The SSE `event:` name.
    pub fn name(&self) -> &'static str {
        match self {
            RunEventKind::RunCreated(_) => "run.created",
            RunEventKind::MessageCreated(_) => "message.created",
            RunEventKind::MessageDelta(_) => "message.delta",
            RunEventKind::MessageCompleted(_) => "message.completed",
            RunEventKind::ToolCallCreated(_) => "tool_call.created",
            RunEventKind::ToolCallCompleted(_) => "tool_call.completed",
            RunEventKind::RunRequiresAction(_) => "run.requires_action",
            RunEventKind::RunCompleted(_) => "run.completed",
            RunEventKind::RunFailed(_) => "run.failed",
            RunEventKind::RunCancelled(_) => "run.cancelled",
            RunEventKind::Done => "done",
        }
    }

    /// A run's last events, stored with its end: the stored reply (if any),
    /// the end its status says, `done`.
    pub fn ending(run: &Run, reply: Option<&Message>) -> Vec<RunEventKind> {
        let mut events = Vec::with_capacity(3);
        if let Some(reply) = reply {
            events.push(RunEventKind::MessageCompleted(reply.clone()));
        }
        events.push(match run.status {
            RunStatus::Completed => RunEventKind::RunCompleted(run.clone()),
            RunStatus::Cancelled => RunEventKind::RunCancelled(run.clone()),
            _ => RunEventKind::RunFailed(run.clone()),
        });
        events.push(RunEventKind::Done);
        events
    }
}

/// One event; `id` counts from 1 within its run.
#[derive(Clone, Debug, PartialEq)]
pub struct RunEvent {
    pub id: u64,
    pub kind: RunEventKind,
}

/// How a run ended, as its events tell it.
#[derive(Clone, Debug, PartialEq)]
pub struct RunOutcome {
    /// The run as its last event showed it.
    pub run: Run,
    /// The stored reply, when there is one.
    pub reply: Option<Message>,
}
