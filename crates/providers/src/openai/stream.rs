//! Decoding the chat-completions event stream.

use crate::sse::{Decode, Step, parse_json};
use eventsource_stream::Event;
use serde::Deserialize;
use spool_core::provider::{ChatEvent, FinishReason, ProviderError, ToolCall, Usage};
use std::collections::{BTreeMap, VecDeque};

#[derive(Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Vec<Choice>,
    usage: Option<ChunkUsage>,
    error: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Choice {
    #[serde(default)]
    index: u32,
    delta: Option<ChoiceDelta>,
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct ChoiceDelta {
    content: Option<String>,
    tool_calls: Option<Vec<ToolCallDelta>>,
}

/// A piece of a tool call: the first names it (`id`, `function.name`),
/// later ones add `function.arguments` text; `index` tells parallel calls
/// apart.
#[derive(Deserialize)]
struct ToolCallDelta {
    #[serde(default)]
    index: u32,
    id: Option<String>,
    function: Option<FunctionDelta>,
}

#[derive(Deserialize)]
struct FunctionDelta {
    name: Option<String>,
    arguments: Option<String>,
}

#[derive(Deserialize)]
struct ChunkUsage {
    #[serde(default)]
    prompt_tokens: u32,
    #[serde(default)]
    completion_tokens: u32,
}

/// Holds the finish reason back until the stream ends, so that the usage
/// chunk (which OpenAI sends after it) comes first and `Finished` is last.
#[derive(Default)]
pub(super) struct Chunks {
    finish: Option<FinishReason>,
    /// Tool calls being streamed, by index: whole once the reply finishes.
    calls: BTreeMap<u32, ToolCall>,
}

impl Chunks {
    fn tool_call(&mut self, delta: ToolCallDelta) {
        let call = self.calls.entry(delta.index).or_insert_with(|| ToolCall {
            id: String::new(),
            name: String::new(),
            arguments: String::new(),
        });
        if let Some(id) = delta.id.filter(|id| !id.is_empty()) {
            call.id = id;
        }
        if let Some(function) = delta.function {
            if let Some(name) = function.name {
                call.name.push_str(&name);
            }
            if let Some(arguments) = function.arguments {
                call.arguments.push_str(&arguments);
            }
        }
    }

    fn finish(&mut self, out: &mut VecDeque<ChatEvent>) -> Result<(), ProviderError> {
        for (index, mut call) in std::mem::take(&mut self.calls) {
            if call.id.is_empty() {
                call.id = format!("call_{index}");
            }
            out.push_back(ChatEvent::ToolCall(call));
        }
        match self.finish.take() {
            Some(reason) => {
                out.push_back(ChatEvent::Finished(reason));
                Ok(())
            }
            None => Err(ProviderError::Disconnected(
                "the stream ended before the reply was finished".to_owned(),
            )),
        }
    }
}

impl Decode for Chunks {
    fn event(
        &mut self,
        event: &Event,
        out: &mut VecDeque<ChatEvent>,
    ) -> Result<Step, ProviderError> {
        let data = event.data.trim();
        if data == "[DONE]" {
            self.finish(out)?;
            return Ok(Step::Done);
        }
        if data.is_empty() {
            return Ok(Step::More);
        }
        let chunk: Chunk = parse_json(data)?;
        if let Some(error) = chunk.error {
            return Err(stream_error(&error));
        }
        for choice in chunk.choices.into_iter().filter(|c| c.index == 0) {
            let delta = choice.delta.unwrap_or(ChoiceDelta {
                content: None,
                tool_calls: None,
            });
            if let Some(text) = delta.content.filter(|t| !t.is_empty()) {
                out.push_back(ChatEvent::Delta(text));
            }
            for call in delta.tool_calls.into_iter().flatten() {
                self.tool_call(call);
            }
            if let Some(reason) = choice.finish_reason {
                self.finish = Some(finish_reason(&reason));
            }
        }
        if let Some(usage) = chunk.usage {
            out.push_back(ChatEvent::Usage(Usage {
                input_tokens: usage.prompt_tokens,
                output_tokens: usage.completion_tokens,
            }));
        }
        Ok(Step::More)
    }

    /// Some servers close without `[DONE]`; a finish reason is enough.
    fn end(&mut self, out: &mut VecDeque<ChatEvent>) -> Result<(), ProviderError> {
        self.finish(out)
    }
}

fn finish_reason(reason: &str) -> FinishReason {
    match reason {
        "length" => FinishReason::Length,
        "content_filter" => FinishReason::ContentFilter,
        "tool_calls" | "function_call" => FinishReason::ToolCalls,
        // `stop`, or anything newer.
        _ => FinishReason::Stop,
    }
}

/// An error sent inside the stream (OpenRouter, vLLM, LiteLLM do this).
fn stream_error(error: &serde_json::Value) -> ProviderError {
    let status = error
        .get("code")
        .and_then(|c| c.as_u64().or_else(|| c.as_str()?.parse().ok()))
        .filter(|c| (400..600).contains(c))
        .unwrap_or(500) as u16;
    let message = error
        .get("message")
        .and_then(|m| m.as_str())
        .map(str::to_owned)
        .or_else(|| error.as_str().map(str::to_owned))
        .unwrap_or_else(|| error.to_string());
    ProviderError::Status {
        status,
        retry_after: None,
        message,
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_finish_reasons_are_stop() {
        assert_eq!(finish_reason("length"), FinishReason::Length);
        assert_eq!(finish_reason("content_filter"), FinishReason::ContentFilter);
        assert_eq!(finish_reason("tool_calls"), FinishReason::ToolCalls);
        assert_eq!(finish_reason("eos"), FinishReason::Stop);
    }

    #[test]
    fn in_stream_errors_keep_their_code() {
        let err = stream_error(&json!({"code": 429, "message": "slow down"}));
        assert!(
            matches!(err, ProviderError::Status { status: 429, ref message, .. } if message == "slow down")
        );
        let err = stream_error(&json!({"code": "context_length_exceeded", "message": "too long"}));
        assert!(matches!(err, ProviderError::Status { status: 500, .. }));
    }

    fn feed(chunks: &mut Chunks, data: &str, out: &mut VecDeque<ChatEvent>) {
        let event = Event {
            data: data.to_owned(),
            ..Event::default()
        };
        chunks.event(&event, out).unwrap();
    }

    #[test]
    fn streamed_tool_calls_are_assembled_parallel_calls_apart() {
        let mut chunks = Chunks::default();
        let mut out = VecDeque::new();
        for data in [
            r#"{"choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"get_weather","arguments":""}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\": "}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_b","function":{"name":"get_time","arguments":"{}"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Oslo\"}"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
            r#"{"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":3}}"#,
            "[DONE]",
        ] {
            feed(&mut chunks, data, &mut out);
        }
        let events: Vec<ChatEvent> = out.into_iter().collect();
        assert_eq!(
            events,
            [
                ChatEvent::Usage(Usage {
                    input_tokens: 7,
                    output_tokens: 3
                }),
                ChatEvent::ToolCall(ToolCall {
                    id: "call_a".into(),
                    name: "get_weather".into(),
                    arguments: "{\"city\": \"Oslo\"}".into(),
                }),
                ChatEvent::ToolCall(ToolCall {
                    id: "call_b".into(),
                    name: "get_time".into(),
                    arguments: "{}".into(),
                }),
                ChatEvent::Finished(FinishReason::ToolCalls),
            ]
        );
    }
}
