//! A response, as OpenAI's Responses API shows it, from the spool run it
//! is: `resp_…` is the run's id, its conversation the run's thread, its
//! output the run's assistant messages as items.

use super::ids;
use super::items::{is_function, items_of};
use super::wire::time;
use serde_json::{Value, json};
use spool_core::model::{Message, MessageRole, Run, RunStatus};
use spool_core::tools::{ToolChoice, ToolDefinition};

/// A tool definition in the Responses form (flat, not nested in `function`).
pub fn tool(definition: &ToolDefinition) -> Value {
    json!({
        "type": "function",
        "name": definition.name,
        "description": definition.description,
        "parameters": Value::Object(definition.parameters.clone()),
        "strict": false,
    })
}

pub fn tool_choice(choice: &ToolChoice) -> Value {
    match choice {
        ToolChoice::Auto => json!("auto"),
        ToolChoice::None => json!("none"),
        ToolChoice::Required => json!("required"),
        ToolChoice::Named(name) => json!({"type": "function", "name": name}),
    }
}

/// What OpenAI calls the run's state. A run waiting for the client's
/// function outputs is a `completed` response whose output ends in
/// `function_call` items, as OpenAI's is.
pub fn status(run: &Run, reply: Option<&Message>) -> &'static str {
    match run.status {
        RunStatus::Queued => "queued",
        RunStatus::InProgress => "in_progress",
        RunStatus::RequiresAction => "completed",
        RunStatus::Completed if cut_short(reply) => "incomplete",
        RunStatus::Completed => "completed",
        RunStatus::Failed => "failed",
        RunStatus::Cancelled => "cancelled",
    }
}

/// Whether the reply stopped at the output token limit.
fn cut_short(reply: Option<&Message>) -> bool {
    reply.and_then(|m| m.run.finish_reason.as_deref()) == Some("length")
}

/// Request fields a run does not keep: shown when the request gave them.
#[derive(Clone, Default)]
pub struct Extras {
    pub previous_response_id: Option<String>,
    pub background: bool,
}

/// The response object of `run` with `output` items and `shown` status.
pub fn object(run: &Run, shown: &str, output: Vec<Value>, extras: &Extras) -> Value {
    let usage = run.input_tokens.zip(run.output_tokens).map(|(i, o)| {
        json!({
            "input_tokens": i,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": o,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": i + o,
        })
    });
    let error = match (run.status, &run.error) {
        (RunStatus::Failed, Some(message)) => {
            json!({"code": "server_error", "message": message})
        }
        _ => Value::Null,
    };
    let incomplete = (shown == "incomplete").then(|| json!({"reason": "max_output_tokens"}));
    let finished = matches!(shown, "completed" | "incomplete")
        .then_some(run.finished_at.or(run.started_at))
        .flatten();
    json!({
        "id": ids::render(ids::RESPONSE, run.id.0),
        "object": "response",
        "created_at": time(run.created_at),
        "completed_at": finished.map(time),
        "status": shown,
        "background": extras.background,
        "error": error,
        "incomplete_details": incomplete,
        "instructions": run.instructions,
        "max_output_tokens": run.max_tokens,
        "model": run.model,
        "output": output,
        "parallel_tool_calls": true,
        "previous_response_id": extras.previous_response_id,
        "conversation": {"id": ids::render(ids::CONVERSATION, run.thread_id.0)},
        "temperature": run.temperature,
        "top_p": run.top_p,
        "tool_choice": tool_choice(&run.tool_choice),
        "tools": run.tools.iter().map(tool).collect::<Vec<_>>(),
        "text": {"format": {"type": "text"}},
        "truncation": "auto",
        "store": true,
        "usage": usage,
        "metadata": run.metadata,
    })
}

/// The output items of a run's messages: its assistant texts and the
/// function calls they made (tool results are inputs, not output).
pub fn output(messages: &[Message]) -> Vec<Value> {
    messages
        .iter()
        .filter(|m| m.role == MessageRole::Assistant)
        .flat_map(items_of)
        .map(|(_, item)| item)
        .collect()
}

/// The response of a stored run and its messages.
pub fn stored(run: &Run, messages: &[Message], extras: &Extras) -> Value {
    let reply = messages
        .iter()
        .rev()
        .find(|m| m.role == MessageRole::Assistant && !m.tool_calls.iter().any(is_function));
    object(run, status(run, reply), output(messages), extras)
}
