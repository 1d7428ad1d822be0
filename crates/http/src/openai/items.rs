//! A conversation's items, as OpenAI's Conversations and Responses APIs
//! show them, from spool's messages: a user, system or assistant text is a
//! `message` item (`msg_…`, the message's id), each function call on an
//! assistant message a `function_call` item (`fc_…_N`, the message's id
//! and the call's place on it), a tool result a `function_call_output`
//! item (`fco_…`). Calls of spool's own tools (`http`, MCP) are the
//! server's business, as OpenAI's hosted tools are: they show no item.

use super::wire::arguments_text;
use super::{OpenAiError, Result, ids};
use serde_json::{Value, json};
use spool_core::MessageId;
use spool_core::model::{Message, MessageRole};
use spool_core::runs::ToolOutput;
use spool_core::service::NewMessageInput;

/// Where an item comes from: its message, and which part of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemId {
    Message(MessageId),
    Call(MessageId, usize),
    Output(MessageId),
}

impl ItemId {
    pub fn parse(text: &str) -> Option<Self> {
        if let Some(rest) = text.strip_prefix(ids::FUNCTION_CALL) {
            let (hex, index) = rest.split_once('_')?;
            let id = ids::parse(ids::FUNCTION_CALL, &format!("{}{hex}", ids::FUNCTION_CALL))?;
            return Some(ItemId::Call(MessageId(id), index.parse().ok()?));
        }
        if let Some(id) = ids::parse(ids::FUNCTION_OUTPUT, text).filter(|_| text.contains('_')) {
            return Some(ItemId::Output(MessageId(id)));
        }
        ids::parse(ids::MESSAGE, text).map(|id| ItemId::Message(MessageId(id)))
    }

    pub fn message(self) -> MessageId {
        match self {
            ItemId::Message(id) | ItemId::Call(id, _) | ItemId::Output(id) => id,
        }
    }

    pub fn render(self) -> String {
        match self {
            ItemId::Message(id) => ids::render(ids::MESSAGE, id.0),
            ItemId::Call(id, i) => format!("{}_{i}", ids::render(ids::FUNCTION_CALL, id.0)),
            ItemId::Output(id) => ids::render(ids::FUNCTION_OUTPUT, id.0),
        }
    }
}

/// Whether a stored tool call is one the client answers (a `function`).
pub fn is_function(call: &Value) -> bool {
    matches!(call["kind"].as_str(), None | Some("function"))
}

/// A `message` item with `text` as its one content part.
pub fn message_item(id: MessageId, role: MessageRole, text: &str, status: &str) -> Value {
    let part = match role {
        MessageRole::Assistant => output_text(text),
        _ => json!({"type": "input_text", "text": text}),
    };
    let content = if text.is_empty() && role == MessageRole::Assistant && status != "completed" {
        Vec::new()
    } else {
        vec![part]
    };
    json!({
        "type": "message",
        "id": ItemId::Message(id).render(),
        "status": status,
        "role": role.as_str(),
        "content": content,
    })
}

pub fn output_text(text: &str) -> Value {
    json!({"type": "output_text", "text": text, "annotations": [], "logprobs": []})
}

/// The `function_call` item of the `index`-th call stored on `message`.
pub fn call_item(message: MessageId, index: usize, call: &Value, status: &str) -> Value {
    json!({
        "type": "function_call",
        "id": ItemId::Call(message, index).render(),
        "call_id": call["id"].as_str().unwrap_or_default(),
        "name": call["tool_name"].as_str().unwrap_or_default(),
        "arguments": arguments_text(&call["arguments"]),
        "status": status,
    })
}

/// The items a message shows, in order.
pub fn items_of(message: &Message) -> Vec<(ItemId, Value)> {
    let mut items = Vec::new();
    match message.role {
        MessageRole::Tool => {
            let call = message.tool_calls.first().cloned().unwrap_or_default();
            if is_function(&call) {
                let id = ItemId::Output(message.id);
                items.push((
                    id,
                    json!({
                        "type": "function_call_output",
                        "id": id.render(),
                        "call_id": call["id"].as_str().unwrap_or_default(),
                        "output": message.content,
                        "status": "completed",
                    }),
                ));
            }
        }
        role => {
            if !message.content.is_empty() || message.tool_calls.is_empty() {
                items.push((
                    ItemId::Message(message.id),
                    message_item(message.id, role, &message.content, "completed"),
                ));
            }
            for (i, call) in message.tool_calls.iter().enumerate() {
                if is_function(call) {
                    items.push((
                        ItemId::Call(message.id, i),
                        call_item(message.id, i, call, "completed"),
                    ));
                }
            }
        }
    }
    items
}

/// One input item as the client sent it, in spool's terms.
pub enum InputItem {
    Message(NewMessageInput),
    Output(ToolOutput),
}

/// A message item's text: a string, or text parts (`input_text`,
/// `output_text`, `text`), joined. Images and files answer 400.
fn content_text(field: &str, content: &Value) -> Result<String> {
    match content {
        Value::String(text) => Ok(text.clone()),
        Value::Array(parts) => {
            let mut text = String::new();
            for (i, part) in parts.iter().enumerate() {
                match (part["type"].as_str(), part["text"].as_str()) {
                    (Some("input_text" | "output_text" | "text"), Some(piece)) => {
                        text.push_str(piece)
                    }
                    _ => {
                        return Err(OpenAiError::invalid(
                            &format!("{field}[{i}]"),
                            "spool supports text content parts only (input_text, output_text).",
                        ));
                    }
                }
            }
            Ok(text)
        }
        _ => Err(OpenAiError::invalid(
            field,
            "The content must be a string or a list of text parts.",
        )),
    }
}

/// Reads a message item (`developer` is spool's `system`).
pub fn message_input(field: &str, item: &Value) -> Result<NewMessageInput> {
    match item["type"].as_str() {
        None | Some("message") => {}
        Some(other) => return Err(unsupported(field, other)),
    }
    let role = match item["role"].as_str() {
        Some(role @ ("user" | "assistant" | "system")) => role,
        Some("developer") => "system",
        other => {
            return Err(OpenAiError::invalid(
                &format!("{field}.role"),
                format!(
                    "Invalid value: {}. Supported values are: 'user', 'assistant', 'system' and 'developer'.",
                    other.map_or("none".to_owned(), |r| format!("'{r}'"))
                ),
            ));
        }
    };
    let content = content_text(&format!("{field}.content"), &item["content"])?;
    Ok(NewMessageInput {
        content: Some(content),
        role: Some(role.to_owned()),
        metadata: None,
        files: Vec::new(),
    })
}

fn unsupported(field: &str, kind: &str) -> OpenAiError {
    let message = match kind {
        "function_call_output" => {
            "A function_call_output answers a response's call: send it to POST /responses.".to_owned()
        }
        "function_call" => "spool keeps the model's function calls itself; answer them with function_call_output items and previous_response_id or conversation.".to_owned(),
        other => format!(
            "spool does not support '{other}' items; it reads message and function_call_output items."
        ),
    };
    OpenAiError::invalid(&format!("{field}.type"), message)
}

/// Reads one input item of a response: a message or a
/// `function_call_output`.
pub fn input_item(field: &str, item: &Value) -> Result<InputItem> {
    match item["type"].as_str() {
        Some("function_call_output") => {
            let Some(call_id) = item["call_id"].as_str() else {
                return Err(OpenAiError::invalid(
                    &format!("{field}.call_id"),
                    "A function_call_output needs the call_id it answers.",
                ));
            };
            let output = match &item["output"] {
                Value::String(text) => text.clone(),
                Value::Null => String::new(),
                other => content_text(&format!("{field}.output"), other)?,
            };
            Ok(InputItem::Output(ToolOutput {
                tool_call_id: call_id.to_owned(),
                output,
            }))
        }
        _ => message_input(field, item).map(InputItem::Message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_ids_read_back() {
        let id = MessageId::new();
        for item in [ItemId::Message(id), ItemId::Call(id, 3), ItemId::Output(id)] {
            assert_eq!(ItemId::parse(&item.render()), Some(item));
        }
        assert_eq!(ItemId::parse("fc_abc_1"), None);
        assert_eq!(ItemId::parse("conv_0"), None);
    }
}
