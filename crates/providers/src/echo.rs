//! `echo`: the offline development model. It answers "Echo: " and the last
//! user message, in pieces, with no network, so that the server can be tried
//! and tested without an upstream.
//!
//! Its tool mode: a last user message of lines `/tool NAME {json}` makes it
//! call tool NAME with that text as the arguments (one call per line, all at
//! once; the text is passed on as written, valid JSON or not). When the
//! prompt ends with tool results it echoes them: "Echo: NAME answered: …".

use spool_core::provider::{
    ChatEvent, ChatRequest, ChatRole, ChatStream, FinishReason, Provider, ProviderError, Tokenizer,
    ToolCall, Usage,
};
use spool_core::tools::ToolChoice;
use std::sync::Arc;
use std::time::Duration;

/// How the echo model is shown wherever models are listed.
pub const ECHO_LABEL: &str = "echo (offline development model — replies by echoing the thread)";

/// The reply when the thread has no user message yet.
const NOTHING_TO_ECHO: &str = "Echo: there is no user message to echo yet.";

pub struct Echo {
    tokenizer: Arc<dyn Tokenizer>,
    piece_delay: Duration,
}

impl Echo {
    pub fn new(tokenizer: Arc<dyn Tokenizer>, piece_delay: Duration) -> Self {
        Echo {
            tokenizer,
            piece_delay,
        }
    }

    /// The tool calls a `/tool` message asks for (none when tools are
    /// switched off with `tool_choice: none`, or results already came).
    pub fn tool_calls_for(request: &ChatRequest) -> Vec<ToolCall> {
        if request.tool_choice == ToolChoice::None {
            return Vec::new();
        }
        let Some(last) = request.messages.last().filter(|m| m.role == ChatRole::User) else {
            return Vec::new();
        };
        let step = request.messages.len();
        last.content
            .lines()
            .filter_map(|line| line.trim().strip_prefix("/tool "))
            .enumerate()
            .map(|(i, rest)| {
                let rest = rest.trim();
                let (name, arguments) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
                let arguments = arguments.trim();
                ToolCall {
                    id: format!("call_echo_{step}_{i}"),
                    name: name.to_owned(),
                    arguments: if arguments.is_empty() {
                        "{}".to_owned()
                    } else {
                        arguments.to_owned()
                    },
                }
            })
            .collect()
    }

    /// The whole reply, before any `max_tokens` cut.
    pub fn reply_for(request: &ChatRequest) -> String {
        // Tool results at the end of the prompt: echo them, naming each tool.
        let results: Vec<String> = request
            .messages
            .iter()
            .rev()
            .take_while(|m| m.role == ChatRole::Tool)
            .map(|m| {
                let name = m
                    .tool_call_id
                    .as_deref()
                    .and_then(|id| {
                        request
                            .messages
                            .iter()
                            .flat_map(|m| &m.tool_calls)
                            .find(|call| call.id == id)
                    })
                    .map_or("a tool", |call| call.name.as_str());
                format!("{name} answered: {}", m.content)
            })
            .collect();
        if !results.is_empty() {
            let mut results = results;
            results.reverse();
            return format!("Echo: {}", results.join("; "));
        }
        request
            .messages
            .iter()
            .rev()
            .find(|m| m.role == ChatRole::User)
            .map(|m| format!("Echo: {}", m.content))
            .unwrap_or_else(|| NOTHING_TO_ECHO.to_owned())
    }

    /// The reply split after each run of whitespace: the pieces join back to
    /// the reply exactly.
    pub fn pieces(reply: &str) -> Vec<&str> {
        let mut pieces = Vec::new();
        let mut start = 0;
        let mut in_space = false;
        for (at, ch) in reply.char_indices() {
            if in_space && !ch.is_whitespace() {
                pieces.push(&reply[start..at]);
                start = at;
            }
            in_space = ch.is_whitespace();
        }
        if start < reply.len() {
            pieces.push(&reply[start..]);
        }
        pieces
    }

    /// The longest run of whole pieces within `max_tokens`, and whether the
    /// reply had to be cut.
    fn fit<'a>(&self, pieces: &[&'a str], max_tokens: Option<u32>) -> (Vec<&'a str>, bool) {
        let Some(max) = max_tokens.map(|m| m as usize) else {
            return (pieces.to_vec(), false);
        };
        let tokens = |n: usize| self.tokenizer.count(&pieces[..n].concat());
        if tokens(pieces.len()) <= max {
            return (pieces.to_vec(), false);
        }
        // Binary search on the number of pieces: a prefix never has more
        // tokens than a longer prefix.
        let (mut fits, mut too_many) = (0, pieces.len());
        while too_many - fits > 1 {
            let mid = (fits + too_many) / 2;
            if tokens(mid) <= max {
                fits = mid;
            } else {
                too_many = mid;
            }
        }
        (pieces[..fits].to_vec(), true)
    }
}

#[async_trait::async_trait]
impl Provider for Echo {
    async fn stream_chat(&self, request: ChatRequest) -> Result<ChatStream, ProviderError> {
        let calls = Echo::tool_calls_for(&request);
        if !calls.is_empty() {
            let usage = Usage {
                input_tokens: count(
                    &*self.tokenizer,
                    request.messages.iter().map(|m| m.content.as_str()),
                ),
                output_tokens: count(&*self.tokenizer, calls.iter().map(|c| c.arguments.as_str())),
            };
            let events: Vec<Result<ChatEvent, ProviderError>> = calls
                .into_iter()
                .map(ChatEvent::ToolCall)
                .chain([
                    ChatEvent::Usage(usage),
                    ChatEvent::Finished(FinishReason::ToolCalls),
                ])
                .map(Ok)
                .collect();
            return Ok(Box::pin(futures_util::stream::iter(events)));
        }
        let reply = Echo::reply_for(&request);
        let (pieces, cut) = self.fit(&Echo::pieces(&reply), request.max_tokens);
        let text = pieces.concat();
        let usage = Usage {
            input_tokens: count(
                &*self.tokenizer,
                request.messages.iter().map(|m| m.content.as_str()),
            ),
            output_tokens: count(&*self.tokenizer, [text.as_str()]),
        };
        let finish = if cut {
            FinishReason::Length
        } else {
            FinishReason::Stop
        };
        let delay = self.piece_delay;
        let mut events: Vec<(Duration, ChatEvent)> = pieces
            .into_iter()
            .enumerate()
            .map(|(i, piece)| {
                (
                    if i == 0 { Duration::ZERO } else { delay },
                    ChatEvent::Delta(piece.to_owned()),
                )
            })
            .collect();
        events.push((Duration::ZERO, ChatEvent::Usage(usage)));
        events.push((Duration::ZERO, ChatEvent::Finished(finish)));
        Ok(Box::pin(futures_util::stream::unfold(
            events.into_iter(),
            |mut events| async move {
                let (wait, event) = events.next()?;
                if !wait.is_zero() {
                    tokio::time::sleep(wait).await;
                }
                Some((Ok(event), events))
            },
        )))
    }
}

fn count<'a>(tokenizer: &dyn Tokenizer, texts: impl IntoIterator<Item = &'a str>) -> u32 {
    let total: usize = texts.into_iter().map(|t| tokenizer.count(t)).sum();
    u32::try_from(total).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_join_back_to_the_reply() {
        for reply in ["Echo: hello  big\nworld ", "", "one", "  lead"] {
            assert_eq!(Echo::pieces(reply).concat(), reply);
        }
        assert_eq!(Echo::pieces("Echo: a  b"), ["Echo: ", "a  ", "b"]);
    }

    #[test]
    fn a_tool_line_calls_the_tool_and_results_are_echoed() {
        use spool_core::provider::ChatMessage;
        let mut request = ChatRequest {
            model: "echo".into(),
            messages: vec![ChatMessage::text(
                ChatRole::User,
                "/tool get_weather {\"city\": \"Oslo\"}\n/tool other",
            )],
            temperature: None,
            top_p: None,
            max_tokens: None,
            tools: Vec::new(),
            tool_choice: ToolChoice::Auto,
        };
        let calls = Echo::tool_calls_for(&request);
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].name, "get_weather");
        assert_eq!(calls[0].arguments, "{\"city\": \"Oslo\"}");
        assert_eq!(calls[1].arguments, "{}");
        assert_ne!(calls[0].id, calls[1].id);

        request.messages.push(ChatMessage {
            role: ChatRole::Assistant,
            tool_calls: calls.clone(),
            ..ChatMessage::default()
        });
        for (call, result) in calls.iter().zip(["sunny", "done"]) {
            request.messages.push(ChatMessage {
                role: ChatRole::Tool,
                content: result.into(),
                tool_call_id: Some(call.id.clone()),
                ..ChatMessage::default()
            });
        }
        assert!(Echo::tool_calls_for(&request).is_empty());
        assert_eq!(
            Echo::reply_for(&request),
            "Echo: get_weather answered: sunny; other answered: done"
        );

        let off = ChatRequest {
            tool_choice: ToolChoice::None,
            messages: vec![ChatMessage::text(ChatRole::User, "/tool x {}")],
            ..request
        };
        assert!(Echo::tool_calls_for(&off).is_empty());
    }
}
