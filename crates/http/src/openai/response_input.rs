//! A response request's input in spool's terms: its items (messages, or
//! function outputs), the conversation it names, its tools and tool choice.

use super::items::{InputItem, input_item};
use super::{OpenAiError, Result, ids};
use serde_json::{Value, json};
use spool_core::ThreadId;
use spool_core::runs::ToolOutput;
use spool_core::service::NewMessageInput;

/// The tool definitions of the Responses API (`{"type": "function",
/// "name", …}`, flat) in spool's form; hosted tools answer 400.
pub fn tools_in(tools: &[Value]) -> Result<Value> {
    let nested: Vec<Value> = tools
        .iter()
        .map(|tool| match tool["type"].as_str() {
            Some("function") if tool.get("function").is_none() => {
                json!({"type": "function", "function": {
                    "name": tool["name"], "description": tool["description"],
                    "parameters": tool["parameters"]}})
            }
            _ => tool.clone(),
        })
        .collect();
    super::tools_in("tools", &nested)
}

/// `tool_choice` in spool's form: `{"type": "function", "name"}` names one.
pub fn tool_choice_in(choice: Option<Value>) -> Option<Value> {
    choice.map(|choice| match choice["name"].as_str() {
        Some(name) => json!({ "name": name }),
        None => choice,
    })
}

/// The input: a string is one user message; a list holds message items
/// or `function_call_output` items (not both).
pub fn read_input(input: Option<&Value>) -> Result<(Vec<NewMessageInput>, Vec<ToolOutput>)> {
    let (mut messages, mut outputs) = (Vec::new(), Vec::new());
    match input {
        None | Some(Value::Null) => {}
        Some(Value::String(text)) => messages.push(NewMessageInput {
            content: Some(text.clone()),
            role: Some("user".into()),
            ..Default::default()
        }),
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                match input_item(&format!("input[{i}]"), item)? {
                    InputItem::Message(message) => messages.push(message),
                    InputItem::Output(output) => outputs.push(output),
                }
            }
        }
        Some(_) => {
            return Err(OpenAiError::invalid(
                "input",
                "The input must be a string or a list of items.",
            ));
        }
    }
    if !messages.is_empty() && !outputs.is_empty() {
        return Err(OpenAiError::invalid(
            "input",
            "Send function_call_output items on their own; messages follow in the next response.",
        ));
    }
    Ok((messages, outputs))
}

/// The conversation named: an id, or an object with one.
pub fn conversation_in(value: Option<&Value>) -> Result<Option<ThreadId>> {
    let text = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(text)) => text.as_str(),
        Some(other) => other["id"].as_str().unwrap_or_default(),
    };
    ids::parse(ids::CONVERSATION, text)
        .map(|id| Some(ThreadId(id)))
        .ok_or_else(|| {
            OpenAiError::invalid(
                "conversation",
                "The conversation must be an id like conv_….",
            )
        })
}
