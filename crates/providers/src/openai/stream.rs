//! Decoding the chat-completions event stream.

use crate::sse::{Decode, Step, parse_json};
use eventsource_stream::Event;
use serde::Deserialize;
use spool_core::provider::{ChatEvent, FinishReason, ProviderError, Usage};
use std::collections::VecDeque;

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
}

impl Chunks {
    fn finish(&mut self, out: &mut VecDeque<ChatEvent>) -> Result<(), ProviderError> {
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
            if let Some(text) = choice
                .delta
                .and_then(|d| d.content)
                .filter(|t| !t.is_empty())
            {
                out.push_back(ChatEvent::Delta(text));
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
        // `stop`, and `tool_calls`/`function_call` (the reply ended) or
        // anything newer.
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
        assert_eq!(finish_reason("tool_calls"), FinishReason::Stop);
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
}
