//! The Messages API request: turns of content blocks, tools.

use serde_json::{Value, json};
use spool_core::provider::{ChatMessage, ChatRequest, ChatRole};
use spool_core::tools::ToolChoice;

/// The blocks one chat message becomes, and the role of its turn: an
/// assistant's tool calls are `tool_use` blocks after its text, a tool
/// result a `tool_result` block of a user turn.
fn blocks(message: &ChatMessage) -> (&'static str, Vec<Value>) {
    let text = |content: &str| json!({"type": "text", "text": content});
    if let Some(id) = &message.tool_call_id {
        let mut result =
            json!({"type": "tool_result", "tool_use_id": id, "content": message.content});
        if message.content.starts_with("Error: ") {
            result["is_error"] = json!(true);
        }
        return ("user", vec![result]);
    }
    match message.role {
        ChatRole::Assistant => {
            let mut blocks = Vec::new();
            if !message.content.is_empty() || message.tool_calls.is_empty() {
                blocks.push(text(&message.content));
            }
            for call in &message.tool_calls {
                // The API wants an object; arguments the model got wrong
                // (their error went back as the result) are sent as none.
                let input = serde_json::from_str::<Value>(&call.arguments)
                    .ok()
                    .filter(Value::is_object)
                    .unwrap_or_else(|| json!({}));
                blocks.push(
                    json!({"type": "tool_use", "id": call.id, "name": call.name, "input": input}),
                );
            }
            ("assistant", blocks)
        }
        _ => {
            let mut blocks = vec![text(&message.content)];
            blocks.extend(message.images.iter().map(|image| {
                json!({"type": "image", "source": {
                    "type": "base64", "media_type": image.mime_type, "data": image.data_base64,
                }})
            }));
            ("user", blocks)
        }
    }
}

/// The non-system messages as alternating turns; consecutive messages of
/// one role join one turn (text-only turns as one string, as before).
pub(super) fn turns(request: &ChatRequest) -> Vec<Value> {
    let mut turns: Vec<(&str, Vec<Value>)> = Vec::new();
    for message in request
        .messages
        .iter()
        .filter(|m| m.role != ChatRole::System)
    {
        let (role, blocks) = blocks(message);
        match turns.last_mut() {
            Some((last, existing)) if *last == role => existing.extend(blocks),
            _ => turns.push((role, blocks)),
        }
    }
    turns
        .into_iter()
        .map(|(role, blocks)| {
            let all_text = blocks.iter().all(|b| b["type"] == "text");
            if all_text {
                let texts: Vec<&str> = blocks.iter().filter_map(|b| b["text"].as_str()).collect();
                json!({"role": role, "content": texts.join("\n\n")})
            } else {
                json!({"role": role, "content": blocks})
            }
        })
        .collect()
}

/// Adds `tools` and `tool_choice` when the run offers tools.
pub(super) fn add_tools(body: &mut Value, request: &ChatRequest) {
    if request.tools.is_empty() {
        return;
    }
    let tools: Vec<Value> = request
        .tools
        .iter()
        .map(|t| {
            let mut tool = json!({"name": t.name, "input_schema": t.parameters});
            if let Some(description) = &t.description {
                tool["description"] = json!(description);
            }
            tool
        })
        .collect();
    body["tools"] = json!(tools);
    body["tool_choice"] = match &request.tool_choice {
        ToolChoice::Auto => json!({"type": "auto"}),
        ToolChoice::None => json!({"type": "none"}),
        ToolChoice::Required => json!({"type": "any"}),
        ToolChoice::Named(name) => json!({"type": "tool", "name": name}),
    };
}
