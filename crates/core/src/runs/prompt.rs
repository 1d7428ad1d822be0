//! The prompt of a run: a system message from the agent's instruction and
//! persona and the thread's `metadata.system_prompt`, then the thread's
//! messages in order, cut from the oldest so that prompt plus `max_tokens`
//! fits the model's context window. The system message and the newest
//! message are never cut.

use crate::files::prompt::{IMAGE_TOKENS, PromptFiles, message_with_files};
use crate::model::{Agent, Message, MessageRole, Run, Thread};
use crate::provider::{ChatMessage, ChatRole, Tokenizer, ToolCall};

/// Tokens a chat format spends around each message (role markers).
const PER_MESSAGE_OVERHEAD: usize = 4;

fn persona_line(agent: &Agent, key: &str, label: &str) -> Option<String> {
    let value = agent.metadata.as_map().get(key)?;
    let text = match value {
        serde_json::Value::String(s) if !s.trim().is_empty() => s.trim().to_owned(),
        serde_json::Value::Array(items) if !items.is_empty() => items
            .iter()
            .filter_map(|v| v.as_str())
            .collect::<Vec<_>>()
            .join("; "),
        _ => return None,
    };
    Some(format!("{label}: {text}"))
}

/// The system message's text, or `None` when there is nothing to say. A
/// run's own `instructions` stand instead of the agent's instruction; its
/// `additional_instructions` come last.
pub fn system_prompt(agent: Option<&Agent>, thread: &Thread, run: &Run) -> Option<String> {
    let mut parts = Vec::new();
    let instruction = run
        .instructions
        .as_deref()
        .or(agent.and_then(|a| a.instruction.as_deref()));
    if let Some(instruction) = instruction.filter(|s| !s.trim().is_empty()) {
        parts.push(instruction.trim().to_owned());
    }
    if let Some(agent) = agent {
        for (key, label) in [
            ("role", "Role"),
            ("goal_statement", "Goal"),
            ("backstory", "Backstory"),
            ("base_instructions", "Instructions"),
            ("guardrails", "Guardrails"),
            ("tone_of_voice", "Tone of voice"),
            ("disc_personality", "Personality (DISC)"),
        ] {
            parts.extend(persona_line(agent, key, label));
        }
    }
    if let Some(extra) = thread
        .metadata
        .as_map()
        .get("system_prompt")
        .and_then(|v| v.as_str())
        && !extra.trim().is_empty()
    {
        parts.push(extra.trim().to_owned());
    }
    if let Some(extra) = run
        .additional_instructions
        .as_deref()
        .filter(|s| !s.trim().is_empty())
    {
        parts.push(extra.trim().to_owned());
    }
    (!parts.is_empty()).then(|| parts.join("\n\n"))
}

fn chat_role(role: MessageRole) -> ChatRole {
    match role {
        MessageRole::User => ChatRole::User,
        MessageRole::Assistant => ChatRole::Assistant,
        MessageRole::System => ChatRole::System,
        MessageRole::Tool => ChatRole::Tool,
    }
}

/// The tool calls a run recorded on an assistant message, each with the
/// text the model was given as its result (its error, when it failed).
/// Calls without an id (written by a client) are left out.
pub fn message_tool_calls(message: &Message) -> Vec<(ToolCall, String)> {
    if message.role != MessageRole::Assistant {
        return Vec::new();
    }
    message
        .tool_calls
        .iter()
        .filter_map(|call| {
            let id = call.get("id")?.as_str()?.to_owned();
            let name = call.get("tool_name")?.as_str()?.to_owned();
            let arguments = match call.get("arguments") {
                Some(serde_json::Value::String(text)) => text.clone(),
                Some(value) => value.to_string(),
                None => "{}".to_owned(),
            };
            let result = match (call.get("error"), call.get("result")) {
                (Some(serde_json::Value::String(error)), _) => format!("Error: {error}"),
                (_, Some(serde_json::Value::String(result))) => result.clone(),
                (_, Some(result)) if !result.is_null() => result.to_string(),
                _ => String::new(),
            };
            Some((
                ToolCall {
                    id,
                    name,
                    arguments,
                },
                result,
            ))
        })
        .collect()
}

/// Assembles the prompt from the system text and the thread's messages,
/// newest first as given, keeping as many as fit in `budget` tokens; each
/// message's attached `files` go with it (see [`crate::files::prompt`]).
/// Returns the chat messages in order and their token count.
/// Keeps, of a newest-first history, the run's own messages and at most
/// `limit` others: the latest user and assistant messages (and what lies
/// between them).
pub fn keep_latest(newest_first: &mut Vec<Message>, run: crate::RunId, limit: u32) {
    let mut counted = 0;
    let end = newest_first.iter().position(|message| {
        let own = message.run.run_id == Some(run);
        if own || message.role == MessageRole::Tool {
            return false;
        }
        counted += 1;
        counted > limit
    });
    if let Some(end) = end {
        newest_first.truncate(end);
    }
}

pub fn assemble(
    system: Option<String>,
    newest_first: impl IntoIterator<Item = Message>,
    files: &PromptFiles,
    budget: usize,
    tokenizer: &dyn Tokenizer,
) -> (Vec<ChatMessage>, usize) {
    let mut used = 0;
    let system = system.map(|content| {
        used += tokenizer.count(&content) + PER_MESSAGE_OVERHEAD;
        ChatMessage::text(ChatRole::System, content)
    });
    let mut kept = Vec::new();
    for message in newest_first {
        // A run's tool results are in its assistant message's tool calls
        // (below), where the model's protocol wants them.
        if message.role == MessageRole::Tool && message.run.run_id.is_some() {
            continue;
        }
        let calls_cost = if message.tool_calls.is_empty() {
            0
        } else {
            tokenizer.count(&serde_json::Value::from(message.tool_calls.clone()).to_string())
        };
        let (content, images) = message_with_files(&message, files, tokenizer);
        let cost = tokenizer.count(&content)
            + calls_cost
            + images.len() * IMAGE_TOKENS
            + PER_MESSAGE_OVERHEAD;
        if !kept.is_empty() && used + cost > budget {
            break;
        }
        used += cost;
        let calls = message_tool_calls(&message);
        // Newest first: the results go in before the call that asked.
        for (call, result) in calls.iter().rev() {
            kept.push(ChatMessage {
                role: ChatRole::Tool,
                content: result.clone(),
                tool_call_id: Some(call.id.clone()),
                ..ChatMessage::default()
            });
        }
        kept.push(ChatMessage {
            role: chat_role(message.role),
            content,
            tool_calls: calls.into_iter().map(|(call, _)| call).collect(),
            tool_call_id: None,
            images,
        });
    }
    kept.reverse();
    (system.into_iter().chain(kept).collect(), used)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One token per word: enough to test the arithmetic.
    struct Words;
    impl Tokenizer for Words {
        fn count(&self, text: &str) -> usize {
            text.split_whitespace().count()
        }
    }

    fn message(seq: i64, content: &str) -> Message {
        let at = crate::now();
        Message {
            id: crate::MessageId::new(),
            thread_id: crate::ThreadId::new(),
            workspace_id: crate::WorkspaceId::new(),
            seq,
            role: if seq % 2 == 1 {
                MessageRole::User
            } else {
                MessageRole::Assistant
            },
            content: content.into(),
            content_html: String::new(),
            metadata: Default::default(),
            run: Default::default(),
            tool_calls: vec![],
            user_id: None,
            attachments: vec![],
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn a_history_limit_keeps_the_run_s_own_steps_and_the_latest_others() {
        let run = crate::RunId::new();
        let mut own = message(6, "calling");
        own.run.run_id = Some(run);
        let mut result = message(7, "sunny");
        result.role = MessageRole::Tool;
        result.run.run_id = Some(run);
        // Newest first: the run's step and its result, then 5 .. 1.
        let mut history = vec![result, own];
        history.extend((1..=5).rev().map(|i| message(i, "w")));
        keep_latest(&mut history, run, 2);
        let seqs: Vec<i64> = history.iter().map(|m| m.seq).collect();
        assert_eq!(seqs, [7, 6, 5, 4]);
        keep_latest(&mut history, run, 10);
        assert_eq!(history.len(), 4, "a limit above the history keeps it all");
    }

    #[test]
    fn keeps_the_newest_messages_that_fit() {
        let history: Vec<_> = (1..=5)
            .rev()
            .map(|i| message(i, &"w ".repeat(10)))
            .collect();
        // system: 2 words + 4; each message 10 + 4 = 14; budget 50 → system 6 + 3 messages 42 = 48.
        let (prompt, used) = assemble(
            Some("be nice".into()),
            history,
            &Default::default(),
            50,
            &Words,
        );
        assert_eq!(used, 48);
        assert_eq!(prompt.len(), 4);
        assert_eq!(prompt[0].role, ChatRole::System);
        assert_eq!(
            prompt[3].role,
            ChatRole::User,
            "the newest (5th, a user message) is last"
        );
    }

    #[test]
    fn never_cuts_the_system_prompt_or_the_newest_message() {
        let history = vec![message(3, &"w ".repeat(100)), message(2, "older")];
        let (prompt, _) = assemble(
            Some("system".into()),
            history,
            &Default::default(),
            10,
            &Words,
        );
        assert_eq!(prompt.len(), 2);
        assert_eq!(prompt[1].content.split_whitespace().count(), 100);
    }
}
