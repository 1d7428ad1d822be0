//! The openai dialect's objects, as OpenAI's Assistants API (v2) shows
//! them: prefixed ids, times in Unix seconds, `object` naming the type.

use super::ids;
use serde::Serialize;
use serde_json::{Map, Value, json};
use spool_core::Timestamp;
use spool_core::model::{Agent, Message, MessageRole, Run, RunStatus, Thread};
use spool_core::tools::{ToolChoice, ToolDefinition};

/// Agent metadata keys the openai dialect shows as fields of the
/// assistant, not in its `metadata`.
pub const MODEL_KEY: &str = "large_language_model";
pub const TEMPERATURE_KEY: &str = "temperature";
pub const TOP_P_KEY: &str = "top_p";
pub const RESERVED_KEYS: [&str; 3] = [MODEL_KEY, TEMPERATURE_KEY, TOP_P_KEY];

pub fn time(at: Timestamp) -> i64 {
    at.timestamp()
}

/// A list page: `data`, `first_id`, `last_id`, `has_more`.
#[derive(Serialize)]
pub struct List<T> {
    pub object: &'static str,
    pub data: Vec<T>,
    pub first_id: Option<String>,
    pub last_id: Option<String>,
    pub has_more: bool,
}

impl<T> List<T> {
    /// A keyset page as OpenAI lists: `has_more` says whether more follow
    /// in the direction read (`backward` for a list asked `before` an id).
    pub fn page<U>(
        page: spool_core::listing::CursorPage<U>,
        backward: bool,
        render: impl FnMut(U) -> T,
        id: impl Fn(&T) -> &str,
    ) -> Self {
        let more = if backward {
            page.prev.is_some()
        } else {
            page.next.is_some()
        };
        Self::new(page.items.into_iter().map(render).collect(), more, id)
    }

    pub fn new(data: Vec<T>, has_more: bool, id: impl Fn(&T) -> &str) -> Self {
        Self {
            object: "list",
            first_id: data.first().map(|item| id(item).to_owned()),
            last_id: data.last().map(|item| id(item).to_owned()),
            has_more,
            data,
        }
    }
}

#[derive(Serialize)]
pub struct Deleted {
    pub id: String,
    pub object: &'static str,
    pub deleted: bool,
}

/// A tool definition in OpenAI's form. spool's `http` and `mcp` tools
/// (set through athena) show as functions too: the model calls them alike.
pub fn tool(definition: &ToolDefinition) -> Value {
    let mut function = Map::new();
    function.insert("name".into(), json!(definition.name));
    if let Some(description) = &definition.description {
        function.insert("description".into(), json!(description));
    }
    function.insert(
        "parameters".into(),
        Value::Object(definition.parameters.clone()),
    );
    json!({"type": "function", "function": function})
}

pub fn tool_choice(choice: &ToolChoice) -> Value {
    match choice {
        ToolChoice::Auto => json!("auto"),
        ToolChoice::None => json!("none"),
        ToolChoice::Required => json!("required"),
        ToolChoice::Named(name) => json!({"type": "function", "function": {"name": name}}),
    }
}

#[derive(Serialize)]
pub struct AssistantObject {
    pub id: String,
    pub object: &'static str,
    pub created_at: i64,
    pub name: String,
    pub description: Option<String>,
    pub model: Option<String>,
    pub instructions: Option<String>,
    pub tools: Vec<Value>,
    pub metadata: Map<String, Value>,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub response_format: &'static str,
    pub tool_resources: Value,
}

impl AssistantObject {
    pub fn new(agent: Agent) -> Self {
        let mut metadata = agent.metadata.into_map();
        let model = metadata
            .remove(MODEL_KEY)
            .and_then(|v| v.as_str().map(str::to_owned));
        let temperature = metadata.remove(TEMPERATURE_KEY).and_then(|v| v.as_f64());
        let top_p = metadata.remove(TOP_P_KEY).and_then(|v| v.as_f64());
        Self {
            id: ids::render(ids::ASSISTANT, agent.id.0),
            object: "assistant",
            created_at: time(agent.created_at),
            name: agent.name,
            description: agent.description,
            model,
            instructions: agent.instruction,
            tools: agent.tools.iter().map(tool).collect(),
            metadata,
            temperature,
            top_p,
            response_format: "auto",
            tool_resources: json!({}),
        }
    }
}

#[derive(Serialize)]
pub struct ThreadObject {
    pub id: String,
    pub object: &'static str,
    pub created_at: i64,
    pub metadata: Map<String, Value>,
    pub tool_resources: Value,
}

impl ThreadObject {
    pub fn new(thread: Thread) -> Self {
        Self {
            id: ids::render(ids::THREAD, thread.id.0),
            object: "thread",
            created_at: time(thread.created_at),
            metadata: thread.metadata.into_map(),
            tool_resources: json!({}),
        }
    }
}

/// A message's text as OpenAI's content parts; none for an empty text.
pub fn text_content(text: &str) -> Vec<Value> {
    if text.is_empty() {
        return Vec::new();
    }
    vec![json!({"type": "text", "text": {"value": text, "annotations": []}})]
}

#[derive(Serialize)]
pub struct MessageObject {
    pub id: String,
    pub object: &'static str,
    pub created_at: i64,
    pub thread_id: String,
    /// `in_progress` while a run streams it, else `completed`.
    pub status: &'static str,
    pub incomplete_details: Option<Value>,
    pub completed_at: Option<i64>,
    pub incomplete_at: Option<i64>,
    /// `user` or `assistant`; spool's `tool` results and `system` messages
    /// keep their role.
    pub role: &'static str,
    pub content: Vec<Value>,
    pub assistant_id: Option<String>,
    pub run_id: Option<String>,
    pub attachments: Vec<Value>,
    pub metadata: Map<String, Value>,
}

impl MessageObject {
    /// A stored message: `incomplete` when its reply hit the token limit.
    pub fn new(message: Message) -> Self {
        let cut = message.run.finish_reason.as_deref() == Some("length");
        Self::with_status(message, if cut { "incomplete" } else { "completed" })
    }

    pub fn with_status(message: Message, status: &'static str) -> Self {
        let completed = status == "completed";
        let incomplete = status == "incomplete";
        Self {
            id: ids::render(ids::MESSAGE, message.id.0),
            object: "thread.message",
            created_at: time(message.created_at),
            thread_id: ids::render(ids::THREAD, message.thread_id.0),
            status,
            incomplete_details: incomplete.then(|| json!({"reason": "max_tokens"})),
            completed_at: completed.then(|| time(message.updated_at)),
            incomplete_at: incomplete.then(|| time(message.updated_at)),
            role: message.role.as_str(),
            content: text_content(&message.content),
            assistant_id: None,
            run_id: message.run.run_id.map(|r| ids::render(ids::RUN, r.0)),
            attachments: message
                .attachments
                .iter()
                .map(|a| json!({"file_id": ids::render(ids::FILE, a.file.id.0), "tools": []}))
                .collect(),
            metadata: message.metadata.into_map(),
        }
    }
}

#[derive(Serialize)]
pub struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub total_tokens: u64,
}

/// A run's status in OpenAI's words: spool's, except that a run whose
/// reply hit its token limit is `incomplete` and one that waited for tool
/// outputs in vain is `expired`. (`cancelling` is only what a cancel
/// answers while the run has not yet stopped.)
pub fn status(run: &Run) -> &'static str {
    match (run.status, run.finish_reason.as_deref()) {
        (RunStatus::Completed, Some("length")) => "incomplete",
        (RunStatus::Failed, Some("expired")) => "expired",
        (status, _) => status.as_str(),
    }
}

#[derive(Serialize)]
pub struct RunObject {
    pub id: String,
    pub object: &'static str,
    pub created_at: i64,
    pub thread_id: String,
    pub assistant_id: Option<String>,
    pub status: &'static str,
    pub required_action: Option<Value>,
    pub last_error: Option<Value>,
    pub expires_at: Option<i64>,
    pub started_at: Option<i64>,
    pub cancelled_at: Option<i64>,
    pub failed_at: Option<i64>,
    pub completed_at: Option<i64>,
    pub incomplete_details: Option<Value>,
    pub model: String,
    pub instructions: String,
    pub tools: Vec<Value>,
    pub metadata: Map<String, Value>,
    pub usage: Option<Usage>,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub max_prompt_tokens: Option<u32>,
    pub max_completion_tokens: Option<u32>,
    pub truncation_strategy: Value,
    pub response_format: &'static str,
    pub tool_choice: Value,
    pub parallel_tool_calls: bool,
}

impl RunObject {
    pub fn new(run: &Run) -> Self {
        Self::with_status(run, status(run))
    }

    /// The run as an event shows it at a given moment of its life.
    pub fn with_status(run: &Run, shown: &'static str) -> Self {
        let usage = run.input_tokens.zip(run.output_tokens).map(|(i, o)| Usage {
            prompt_tokens: i,
            completion_tokens: o,
            total_tokens: i + o,
        });
        let ended = |s: &str| (shown == s).then_some(run.finished_at).flatten();
        let last_error = match (shown, &run.error) {
            ("failed", Some(message)) => Some(json!({"code": "server_error", "message": message})),
            _ => None,
        };
        Self {
            id: ids::render(ids::RUN, run.id.0),
            object: "thread.run",
            created_at: time(run.created_at),
            thread_id: ids::render(ids::THREAD, run.thread_id.0),
            assistant_id: run.agent_id.map(|a| ids::render(ids::ASSISTANT, a.0)),
            status: shown,
            required_action: (shown == "requires_action")
                .then_some(run.required_action.as_ref())
                .flatten()
                .map(required_action),
            last_error,
            expires_at: None,
            started_at: run.started_at.map(time),
            cancelled_at: ended("cancelled").map(time),
            failed_at: ended("failed").map(time),
            completed_at: ended("completed").map(time),
            incomplete_details: (shown == "incomplete")
                .then(|| json!({"reason": "max_completion_tokens"})),
            model: run.model.clone(),
            instructions: run.instructions.clone().unwrap_or_default(),
            tools: run.tools.iter().map(tool).collect(),
            metadata: run.metadata.clone(),
            usage,
            temperature: run.temperature,
            top_p: run.top_p,
            max_prompt_tokens: None,
            max_completion_tokens: run.max_tokens,
            truncation_strategy: match run.history_limit {
                Some(n) => json!({"type": "last_messages", "last_messages": n}),
                None => json!({"type": "auto", "last_messages": null}),
            },
            response_format: "auto",
            tool_choice: tool_choice(&run.tool_choice),
            parallel_tool_calls: true,
        }
    }
}

/// JSON text of stored arguments (an object, or the model's text as is).
pub fn arguments_text(arguments: &Value) -> String {
    match arguments {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// From the run's stored `{"tool_calls": [{id, name, arguments}]}`.
fn required_action(required: &Value) -> Value {
    let calls: Vec<Value> = required["tool_calls"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|call| {
            json!({
                "id": call["id"].as_str().unwrap_or_default(),
                "type": "function",
                "function": {
                    "name": call["name"].as_str().unwrap_or_default(),
                    "arguments": arguments_text(&call["arguments"]),
                },
            })
        })
        .collect();
    json!({"type": "submit_tool_outputs", "submit_tool_outputs": {"tool_calls": calls}})
}

/// A stored tool call (`id`, `tool_name`, `arguments`, `result`) as a run
/// step's function call.
pub fn step_tool_call(call: &Value) -> Value {
    json!({
        "id": call["id"].as_str().unwrap_or_default(),
        "type": "function",
        "function": {
            "name": call["tool_name"].as_str().unwrap_or_default(),
            "arguments": arguments_text(&call["arguments"]),
            "output": call["result"].as_str().or(call["error"].as_str()),
        },
    })
}

/// Whether a stored call still waits for its output.
pub fn pending(call: &Value) -> bool {
    call["result"].is_null() && call["error"].is_null()
}

#[derive(Serialize)]
pub struct StepObject {
    pub id: String,
    pub object: &'static str,
    pub created_at: i64,
    pub run_id: String,
    pub assistant_id: Option<String>,
    pub thread_id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub status: &'static str,
    pub cancelled_at: Option<i64>,
    pub completed_at: Option<i64>,
    pub expired_at: Option<i64>,
    pub failed_at: Option<i64>,
    pub last_error: Option<Value>,
    pub step_details: Value,
    pub usage: Option<Usage>,
    pub metadata: Map<String, Value>,
}

impl StepObject {
    /// One step: an assistant message the run wrote; a `tool_calls` step
    /// when it called tools, else `message_creation`.
    pub fn new(run: &Run, message: &Message, status: &'static str) -> Self {
        let at = |s: &str| (status == s).then(|| time(message.updated_at));
        let (kind, step_details) = if message.tool_calls.is_empty() {
            (
                "message_creation",
                json!({"type": "message_creation",
                       "message_creation": {"message_id": ids::render(ids::MESSAGE, message.id.0)}}),
            )
        } else {
            let calls: Vec<Value> = message.tool_calls.iter().map(step_tool_call).collect();
            (
                "tool_calls",
                json!({"type": "tool_calls", "tool_calls": calls}),
            )
        };
        Self {
            id: ids::render(ids::STEP, message.id.0),
            object: "thread.run.step",
            created_at: time(message.created_at),
            run_id: ids::render(ids::RUN, run.id.0),
            assistant_id: run.agent_id.map(|a| ids::render(ids::ASSISTANT, a.0)),
            thread_id: ids::render(ids::THREAD, run.thread_id.0),
            kind,
            status,
            cancelled_at: at("cancelled"),
            completed_at: at("completed"),
            expired_at: at("expired"),
            failed_at: at("failed"),
            last_error: None,
            step_details,
            usage: None,
            metadata: Map::new(),
        }
    }

    /// A stored step's status: what the run says of work still open.
    pub fn stored_status(run: &Run, message: &Message, last: bool) -> &'static str {
        let open = if message.tool_calls.is_empty() {
            last && !run.status.is_terminal()
        } else {
            message.tool_calls.iter().any(pending)
        };
        match (open, run.status) {
            // Its calls were closed unanswered when the wait ran out.
            _ if last && status(run) == "expired" => "expired",
            (false, _) => "completed",
            (true, RunStatus::Cancelled) => "cancelled",
            (true, RunStatus::Failed) => "failed",
            (true, RunStatus::Completed) => "completed",
            (true, _) => "in_progress",
        }
    }
}

/// Whether a message of a run is one of its steps.
pub fn is_step(message: &Message) -> bool {
    message.role == MessageRole::Assistant
}
