//! Decoding the Messages API event stream.

use crate::sse::{Decode, Step, parse_json};
use eventsource_stream::Event;
use serde::Deserialize;
use spool_core::provider::{ChatEvent, FinishReason, ProviderError, ToolCall, Usage};
use std::collections::{BTreeMap, VecDeque};

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Wire {
    MessageStart {
        message: WireMessage,
    },
    ContentBlockStart {
        #[serde(default)]
        index: u32,
        content_block: WireBlock,
    },
    ContentBlockDelta {
        #[serde(default)]
        index: u32,
        delta: WireBlock,
    },
    MessageDelta {
        delta: WireStop,
        usage: Option<WireUsage>,
    },
    MessageStop,
    Error {
        error: WireError,
    },
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct WireMessage {
    usage: Option<WireUsage>,
}

/// A content block or a delta of one: text is the reply, `tool_use` (and
/// its `input_json_delta` pieces) a tool call.
#[derive(Deserialize)]
struct WireBlock {
    #[serde(rename = "type")]
    kind: String,
    text: Option<String>,
    id: Option<String>,
    name: Option<String>,
    partial_json: Option<String>,
}

#[derive(Deserialize)]
struct WireStop {
    stop_reason: Option<String>,
}

#[derive(Deserialize)]
struct WireUsage {
    input_tokens: Option<u32>,
    output_tokens: Option<u32>,
    cache_creation_input_tokens: Option<u32>,
    cache_read_input_tokens: Option<u32>,
}

#[derive(Deserialize)]
struct WireError {
    #[serde(rename = "type")]
    kind: String,
    message: String,
}

#[derive(Default)]
pub(super) struct Events {
    usage: Usage,
    finish: Option<FinishReason>,
    /// `tool_use` blocks by index, whole at `message_stop`.
    calls: BTreeMap<u32, ToolCall>,
}

impl Events {
    fn count(&mut self, usage: &WireUsage) {
        if let Some(input) = usage.input_tokens {
            // Cached prompt tokens are reported apart; they are input all the same.
            self.usage.input_tokens = input
                + usage.cache_creation_input_tokens.unwrap_or(0)
                + usage.cache_read_input_tokens.unwrap_or(0);
        }
        if let Some(output) = usage.output_tokens {
            self.usage.output_tokens = output;
        }
    }
}

impl Decode for Events {
    fn event(
        &mut self,
        event: &Event,
        out: &mut VecDeque<ChatEvent>,
    ) -> Result<Step, ProviderError> {
        match parse_json::<Wire>(&event.data)? {
            Wire::MessageStart { message } => {
                if let Some(usage) = message.usage {
                    self.count(&usage);
                }
            }
            Wire::ContentBlockStart {
                index,
                content_block: block,
            } if block.kind == "tool_use" => {
                self.calls.insert(
                    index,
                    ToolCall {
                        id: block.id.unwrap_or_default(),
                        name: block.name.unwrap_or_default(),
                        arguments: String::new(),
                    },
                );
            }
            Wire::ContentBlockDelta { index, delta } if delta.kind == "input_json_delta" => {
                if let (Some(call), Some(piece)) = (self.calls.get_mut(&index), delta.partial_json)
                {
                    call.arguments.push_str(&piece);
                }
            }
            Wire::ContentBlockStart {
                content_block: block,
                ..
            }
            | Wire::ContentBlockDelta { delta: block, .. } => {
                if let Some(text) = block
                    .text
                    .filter(|t| !t.is_empty() && block.kind.starts_with("text"))
                {
                    out.push_back(ChatEvent::Delta(text));
                }
            }
            Wire::MessageDelta { delta, usage } => {
                if let Some(usage) = usage {
                    self.count(&usage);
                }
                if let Some(reason) = delta.stop_reason {
                    self.finish = Some(finish_reason(&reason));
                }
            }
            Wire::MessageStop => {
                for (_, mut call) in std::mem::take(&mut self.calls) {
                    // A tool without parameters streams no input at all.
                    if call.arguments.trim().is_empty() {
                        call.arguments = "{}".to_owned();
                    }
                    out.push_back(ChatEvent::ToolCall(call));
                }
                out.push_back(ChatEvent::Usage(self.usage));
                out.push_back(ChatEvent::Finished(
                    self.finish.unwrap_or(FinishReason::Stop),
                ));
                return Ok(Step::Done);
            }
            Wire::Error { error } => return Err(stream_error(error)),
            // `ping`, `content_block_stop`, and event types added later.
            Wire::Other => {}
        }
        Ok(Step::More)
    }

    fn end(&mut self, _out: &mut VecDeque<ChatEvent>) -> Result<(), ProviderError> {
        Err(ProviderError::Disconnected(
            "the stream ended before message_stop".to_owned(),
        ))
    }
}

fn finish_reason(reason: &str) -> FinishReason {
    match reason {
        "max_tokens" | "model_context_window_exceeded" => FinishReason::Length,
        "refusal" => FinishReason::ContentFilter,
        "tool_use" => FinishReason::ToolCalls,
        // end_turn, stop_sequence, pause_turn, anything newer.
        _ => FinishReason::Stop,
    }
}

/// An `error` event, with the status the same error would have had as a
/// response (Anthropic's documented error types).
fn stream_error(error: WireError) -> ProviderError {
    let status = match error.kind.as_str() {
        "invalid_request_error" => 400,
        "authentication_error" => 401,
        "permission_error" => 403,
        "not_found_error" => 404,
        "request_too_large" => 413,
        "rate_limit_error" => 429,
        "api_error" => 500,
        "overloaded_error" => 529,
        other => {
            return ProviderError::Protocol(format!(
                "error event of unknown type {other}: {}",
                error.message
            ));
        }
    };
    ProviderError::Status {
        status,
        retry_after: None,
        message: error.message,
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_events_map_to_statuses() {
        let overloaded = WireError {
            kind: "overloaded_error".into(),
            message: "Overloaded".into(),
        };
        assert!(matches!(
            stream_error(overloaded),
            ProviderError::Status { status: 529, .. }
        ));
        let odd = WireError {
            kind: "strange_error".into(),
            message: "?".into(),
        };
        assert!(matches!(stream_error(odd), ProviderError::Protocol(_)));
    }
}
