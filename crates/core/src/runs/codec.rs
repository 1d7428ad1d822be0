//! How a run's events are stored: the core's event (not a dialect's bytes)
//! as JSON, so that every dialect renders a replayed event from exactly the
//! value the live stream rendered — the same bytes after a restart, on
//! another node, a week later.

use super::event::RunEventKind;
use crate::model::{Message, MessageRole, Run, RunInfo, RunStatus};
use crate::validate::Metadata;
use crate::{AgentId, MessageId, RunId, ThreadId, Timestamp, UserId, WorkspaceId};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Serialize, Deserialize)]
struct RunData {
    id: RunId,
    thread_id: ThreadId,
    workspace_id: WorkspaceId,
    agent_id: Option<AgentId>,
    user_id: Option<UserId>,
    model: String,
    status: String,
    temperature: Option<f64>,
    max_tokens: Option<u32>,
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    error: Option<String>,
    message_id: Option<MessageId>,
    created_at: Timestamp,
    started_at: Option<Timestamp>,
    finished_at: Option<Timestamp>,
    /// The calls a `requires_action` run waits for (absent before tools).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    required_action: Option<Value>,
    /// The run's own instructions (absent before they existed, or unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    instructions: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    additional_instructions: Option<String>,
    /// The client's keys on the run (absent before they existed, or empty).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    metadata: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    top_p: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    finish_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    history_limit: Option<u32>,
}

impl From<&Run> for RunData {
    fn from(run: &Run) -> Self {
        Self {
            id: run.id,
            thread_id: run.thread_id,
            workspace_id: run.workspace_id,
            agent_id: run.agent_id,
            user_id: run.user_id,
            model: run.model.clone(),
            status: run.status.as_str().to_owned(),
            temperature: run.temperature,
            max_tokens: run.max_tokens,
            input_tokens: run.input_tokens,
            output_tokens: run.output_tokens,
            error: run.error.clone(),
            message_id: run.message_id,
            created_at: run.created_at,
            started_at: run.started_at,
            finished_at: run.finished_at,
            required_action: run.required_action.clone(),
            instructions: run.instructions.clone(),
            additional_instructions: run.additional_instructions.clone(),
            metadata: run.metadata.clone(),
            top_p: run.top_p,
            finish_reason: run.finish_reason.clone(),
            history_limit: run.history_limit,
        }
    }
}

impl RunData {
    fn into_run(self) -> Option<Run> {
        Some(Run {
            id: self.id,
            thread_id: self.thread_id,
            workspace_id: self.workspace_id,
            agent_id: self.agent_id,
            user_id: self.user_id,
            model: self.model,
            status: RunStatus::parse(&self.status)?,
            temperature: self.temperature,
            max_tokens: self.max_tokens,
            input_tokens: self.input_tokens,
            output_tokens: self.output_tokens,
            error: self.error,
            message_id: self.message_id,
            created_at: self.created_at,
            started_at: self.started_at,
            finished_at: self.finished_at,
            // Not in the log: a tool's written header values are secrets,
            // and no dialect renders a run's tools from its events.
            tools: Vec::new(),
            tool_choice: Default::default(),
            required_action: self.required_action,
            instructions: self.instructions,
            additional_instructions: self.additional_instructions,
            metadata: self.metadata,
            top_p: self.top_p,
            finish_reason: self.finish_reason,
            history_limit: self.history_limit,
        })
    }
}

#[derive(Serialize, Deserialize)]
struct MessageData {
    id: MessageId,
    thread_id: ThreadId,
    workspace_id: WorkspaceId,
    seq: i64,
    role: String,
    content: String,
    content_html: String,
    metadata: Map<String, Value>,
    run_id: Option<RunId>,
    model: Option<String>,
    temperature: Option<f64>,
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    finish_reason: Option<String>,
    tool_calls: Vec<Value>,
    user_id: Option<UserId>,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl From<&Message> for MessageData {
    fn from(message: &Message) -> Self {
        Self {
            id: message.id,
            thread_id: message.thread_id,
            workspace_id: message.workspace_id,
            seq: message.seq,
            role: message.role.as_str().to_owned(),
            content: message.content.clone(),
            content_html: message.content_html.clone(),
            metadata: message.metadata.as_map().clone(),
            run_id: message.run.run_id,
            model: message.run.model.clone(),
            temperature: message.run.temperature,
            input_tokens: message.run.input_tokens,
            output_tokens: message.run.output_tokens,
            finish_reason: message.run.finish_reason.clone(),
            tool_calls: message.tool_calls.clone(),
            user_id: message.user_id,
            created_at: message.created_at,
            updated_at: message.updated_at,
        }
    }
}

impl MessageData {
    fn into_message(self) -> Option<Message> {
        Some(Message {
            id: self.id,
            thread_id: self.thread_id,
            workspace_id: self.workspace_id,
            seq: self.seq,
            role: MessageRole::parse(&self.role)?,
            content: self.content,
            content_html: self.content_html,
            metadata: Metadata::from_stored(self.metadata),
            run: RunInfo {
                run_id: self.run_id,
                model: self.model,
                temperature: self.temperature,
                input_tokens: self.input_tokens,
                output_tokens: self.output_tokens,
                finish_reason: self.finish_reason,
            },
            tool_calls: self.tool_calls,
            user_id: self.user_id,
            attachments: Vec::new(),
            token_count: None,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

#[derive(Serialize, Deserialize)]
struct DeltaData {
    content: String,
}

/// The event's `data` as stored (its name is [`RunEventKind::name`]).
pub fn encode(kind: &RunEventKind) -> String {
    let value = match kind {
        RunEventKind::RunCreated(run)
        | RunEventKind::RunRequiresAction(run)
        | RunEventKind::RunCompleted(run)
        | RunEventKind::RunFailed(run)
        | RunEventKind::RunCancelled(run) => serde_json::to_string(&RunData::from(run)),
        RunEventKind::ToolCallCreated(call) | RunEventKind::ToolCallCompleted(call) => {
            serde_json::to_string(call)
        }
        RunEventKind::MessageCreated(message) | RunEventKind::MessageCompleted(message) => {
            serde_json::to_string(&MessageData::from(message))
        }
        RunEventKind::MessageDelta(piece) => serde_json::to_string(&DeltaData {
            content: piece.clone(),
        }),
        RunEventKind::Done => Ok("{}".to_owned()),
    };
    value.expect("an event's fields are all JSON")
}

/// The event stored as `name` with `data`; `None` when it is not one.
pub fn decode(name: &str, data: &str) -> Option<RunEventKind> {
    let run = || {
        serde_json::from_str::<RunData>(data)
            .ok()
            .and_then(RunData::into_run)
    };
    let message = || {
        serde_json::from_str::<MessageData>(data)
            .ok()
            .and_then(MessageData::into_message)
    };
    Some(match name {
        "run.created" => RunEventKind::RunCreated(run()?),
        "run.requires_action" => RunEventKind::RunRequiresAction(run()?),
        "tool_call.created" => RunEventKind::ToolCallCreated(serde_json::from_str(data).ok()?),
        "tool_call.completed" => RunEventKind::ToolCallCompleted(serde_json::from_str(data).ok()?),
        "run.completed" => RunEventKind::RunCompleted(run()?),
        "run.failed" => RunEventKind::RunFailed(run()?),
        "run.cancelled" => RunEventKind::RunCancelled(run()?),
        "message.created" => RunEventKind::MessageCreated(message()?),
        "message.completed" => RunEventKind::MessageCompleted(message()?),
        "message.delta" => {
            RunEventKind::MessageDelta(serde_json::from_str::<DeltaData>(data).ok()?.content)
        }
        "done" => RunEventKind::Done,
        _ => return None,
    })
}

/// A message (a queued run's user message, kept until its run starts) as
/// the store keeps it.
pub fn encode_message(message: &Message) -> String {
    serde_json::to_string(&MessageData::from(message)).expect("a message's fields are all JSON")
}

pub fn decode_message(data: &str) -> Option<Message> {
    serde_json::from_str::<MessageData>(data)
        .ok()
        .and_then(MessageData::into_message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run() -> Run {
        Run {
            id: RunId::new(),
            thread_id: ThreadId::new(),
            workspace_id: WorkspaceId::new(),
            agent_id: Some(AgentId::new()),
            user_id: Some(UserId(7)),
            model: "echo".into(),
            status: RunStatus::Failed,
            temperature: Some(0.3),
            max_tokens: Some(256),
            input_tokens: Some(12),
            output_tokens: None,
            error: Some("the node running this run stopped".into()),
            message_id: Some(MessageId::new()),
            created_at: crate::now(),
            started_at: Some(crate::now()),
            finished_at: None,
            tools: Vec::new(),
            tool_choice: Default::default(),
            required_action: None,
            instructions: Some("Be brief.".into()),
            additional_instructions: None,
            metadata: Default::default(),
            top_p: None,
            finish_reason: None,
            history_limit: None,
        }
    }

    fn message() -> Message {
        let at = crate::now();
        Message {
            id: MessageId::new(),
            thread_id: ThreadId::new(),
            workspace_id: WorkspaceId::new(),
            seq: 4,
            role: MessageRole::Assistant,
            content: "**hé** \"quoted\"\n".into(),
            content_html: "<p><strong>hé</strong></p>".into(),
            metadata: Metadata::from_stored(
                json!({ "a": [1, 2.5, null], "b": { "c": true } })
                    .as_object()
                    .unwrap()
                    .clone(),
            ),
            run: RunInfo {
                run_id: Some(RunId::new()),
                model: Some("echo".into()),
                temperature: Some(1.0),
                input_tokens: Some(3),
                output_tokens: Some(4),
                finish_reason: Some("stop".into()),
            },
            tool_calls: vec![json!({ "tool_name": "x" })],
            user_id: None,
            attachments: Vec::new(),
            token_count: None,
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn every_event_round_trips_exactly() {
        let events = [
            RunEventKind::RunCreated(run()),
            RunEventKind::MessageCreated(message()),
            RunEventKind::MessageDelta("piece with ✓ and \u{0}".into()),
            RunEventKind::MessageCompleted(message()),
            RunEventKind::RunCompleted(run()),
            RunEventKind::RunFailed(run()),
            RunEventKind::RunCancelled(run()),
            RunEventKind::Done,
        ];
        for event in events {
            let data = encode(&event);
            assert_eq!(decode(event.name(), &data), Some(event.clone()), "{data}");
            assert_eq!(encode(&decode(event.name(), &data).unwrap()), data);
        }
        assert_eq!(decode("run.unknown", "{}"), None);
        assert_eq!(decode("run.created", "{"), None);
        let kept = message();
        assert_eq!(decode_message(&encode_message(&kept)), Some(kept));
    }
}
