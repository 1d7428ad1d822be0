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

/// Tokens of what a prompt gives of `message` itself: its content and its
/// tool calls (as JSON), not its files, which depend on the model and are
/// counted when a prompt adds them.
pub fn message_tokens(message: &Message, tokenizer: &dyn Tokenizer) -> u64 {
    (tokenizer.count(&message.content) + tool_call_tokens(message, tokenizer)) as u64
}

fn tool_call_tokens(message: &Message, tokenizer: &dyn Tokenizer) -> usize {
    if message.tool_calls.is_empty() {
        0
    } else {
        tokenizer.count(&serde_json::Value::from(message.tool_calls.clone()).to_string())
    }
}

/// `message` with its [`message_tokens`] set, as it is to be stored: a
/// message is counted once, when written (and again when edited), not by
/// every run that reads it.
pub fn counted(mut message: Message, tokenizer: &dyn Tokenizer) -> Message {
    message.token_count = Some(message_tokens(&message, tokenizer));
    message
}

/// What `message` costs in a prompt without its files: the stored count,
/// or a count now for a message stored before counts were.
pub fn stored_tokens(message: &Message, tokenizer: &dyn Tokenizer) -> usize {
    let tokens = message
        .token_count
        .unwrap_or_else(|| message_tokens(message, tokenizer));
    usize::try_from(tokens).unwrap_or(usize::MAX) + PER_MESSAGE_OVERHEAD
}

/// What reading `message` adds towards filling a prompt, before anything is
/// tokenized: its stored count; for one stored without a count, a byte
/// estimate that errs low (8 bytes a token), so that no message that would
/// fit goes unread. A run's tool results cost nothing here, as in
/// [`assemble`].
pub fn history_cost(message: &Message) -> usize {
    if message.role == MessageRole::Tool && message.run.run_id.is_some() {
        return 0;
    }
    let tokens = message.token_count.map_or(message.content.len() / 8, |n| {
        usize::try_from(n).unwrap_or(usize::MAX)
    });
    tokens.saturating_add(PER_MESSAGE_OVERHEAD)
}

/// Whether the prompt adds text or images of `message`'s files to it.
fn has_prompt_files(message: &Message, files: &PromptFiles) -> bool {
    message
        .attachments
        .iter()
        .any(|attachment| files.files.contains_key(&attachment.id))
}

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

/// Assembles the prompt from the system text and the thread's messages,
/// newest first as given, keeping as many as fit in `budget` tokens; each
/// message's attached `files` go with it (see [`crate::files::prompt`]).
/// A message's stored count stands for its content and tool calls; only one
/// stored without a count, or whose files the prompt adds, is tokenized.
/// Returns the chat messages in order and their token count.
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
        let (content, images, cost) = if has_prompt_files(&message, files) {
            let (content, images) = message_with_files(&message, files, tokenizer);
            let cost = tokenizer.count(&content)
                + tool_call_tokens(&message, tokenizer)
                + images.len() * IMAGE_TOKENS
                + PER_MESSAGE_OVERHEAD;
            (content, images, cost)
        } else {
            let cost = stored_tokens(&message, tokenizer);
            (message.content.clone(), Vec::new(), cost)
        };
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
            token_count: None,
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

    /// Counts words, and how often it was asked.
    #[derive(Default)]
    struct CountedWords(std::sync::atomic::AtomicUsize);
    impl Tokenizer for CountedWords {
        fn count(&self, text: &str) -> usize {
            self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Words.count(text)
        }
    }

    #[test]
    fn a_stored_count_stands_for_the_message_and_only_unknown_ones_are_tokenized() {
        // Each stored count says 20 tokens though the text is one word: the
        // prompt goes by the count, and the tokenizer never sees the text.
        let mut history: Vec<_> = (2..=5)
            .rev()
            .map(|i| Message {
                token_count: Some(20),
                ..message(i, "w")
            })
            .collect();
        history.push(message(1, &"w ".repeat(3)));
        let tokenizer = CountedWords::default();
        // 20 + 4 each: the newest two fit in 50, the third does not.
        let (prompt, used) = assemble(None, history.clone(), &Default::default(), 50, &tokenizer);
        assert_eq!((prompt.len(), used), (2, 48));
        assert_eq!(tokenizer.0.load(std::sync::atomic::Ordering::Relaxed), 0);

        // A message stored before counts were is counted when used.
        let (prompt, used) = assemble(None, history, &Default::default(), 1000, &tokenizer);
        assert_eq!((prompt.len(), used), (5, 4 * 24 + 3 + 4));
        assert_eq!(tokenizer.0.load(std::sync::atomic::Ordering::Relaxed), 1);
    }

    #[test]
    fn a_message_is_counted_with_its_tool_calls_and_recounted_when_edited() {
        let mut reply = counted(message(2, "let me check"), &Words);
        assert_eq!(reply.token_count, Some(3));
        reply.tool_calls = vec![serde_json::json!({"tool_name": "clock", "arguments": "{}"})];
        let with_calls = counted(reply.clone(), &Words);
        assert_eq!(
            with_calls.token_count,
            Some(3 + Words.count(&serde_json::Value::from(reply.tool_calls).to_string()) as u64)
        );
        let edited = counted(
            Message {
                content: "it is noon, or near it".into(),
                tool_calls: vec![],
                ..with_calls
            },
            &Words,
        );
        assert_eq!(edited.token_count, Some(6));
    }

    #[test]
    fn the_history_read_stops_on_stored_counts_and_errs_low_on_unknown_ones() {
        let known = Message {
            token_count: Some(100),
            ..message(2, "w")
        };
        assert_eq!(history_cost(&known), 104);
        assert_eq!(history_cost(&message(1, &"w".repeat(80))), 10 + 4);
        let mut result = message(3, "sunny");
        result.role = MessageRole::Tool;
        result.run.run_id = Some(crate::RunId::new());
        assert_eq!(history_cost(&result), 0, "a run's results go with its call");
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
