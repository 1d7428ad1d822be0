//! What `ScriptedUpstream` sends: each script as the protocol's real bytes.

use super::{Protocol, Script};
use axum::body::{Body, Bytes};
use axum::response::Response;
use serde_json::{Value, json};
use spool_core::provider::{FinishReason, Usage};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// One step of a response body.
enum Frame {
    Data(String),
    Wait(Duration),
    /// Wait for a permit from `ScriptedUpstream::release`.
    Hold(Arc<Semaphore>),
    /// Pause once, so that hyper writes out what it holds: an abort right
    /// after a chunk would otherwise drop that chunk unsent.
    Flush,
    /// Break the connection off without ending the body.
    Abort,
}

pub(super) async fn respond(
    protocol: Protocol,
    request: &Value,
    script: Script,
    released: &Arc<Semaphore>,
) -> Response {
    let model = request["model"]
        .as_str()
        .unwrap_or("scripted-model")
        .to_owned();
    let wants_usage = request["stream_options"]["include_usage"] == json!(true);
    let wire = Wire {
        protocol,
        model,
        wants_usage,
    };
    let default_usage = |chunks: &[String]| {
        Some(Usage {
            input_tokens: 10,
            output_tokens: chunks.len() as u32,
        })
    };
    let frames = match script {
        Script::Status {
            status,
            retry_after,
            message,
        } => return wire.error(status, retry_after, &message),
        Script::Reply {
            chunks,
            delay,
            usage,
            finish,
        } => wire.reply(&chunks, delay, usage, finish),
        Script::ToolCalls { calls } => wire.tool_calls(&calls),
        Script::StallBeforeFirstByte(stall) => {
            tokio::time::sleep(stall).await;
            let chunks = vec!["late".to_owned()];
            wire.reply(
                &chunks,
                Duration::ZERO,
                default_usage(&chunks),
                FinishReason::Stop,
            )
        }
        Script::StallMidStream { chunks, stall } => {
            let mut frames = wire.start();
            frames.extend(chunks.iter().map(|c| wire.delta(c)));
            frames.push(Frame::Wait(stall));
            frames.extend(wire.end(default_usage(&chunks), FinishReason::Stop));
            frames
        }
        Script::HeldMidStream { before, after } => {
            let mut frames = wire.start();
            frames.extend(before.iter().map(|c| wire.delta(c)));
            frames.push(Frame::Hold(released.clone()));
            frames.extend(after.iter().map(|c| wire.delta(c)));
            let chunks = [before, after].concat();
            frames.extend(wire.end(default_usage(&chunks), FinishReason::Stop));
            frames
        }
        Script::DropMidStream { chunks } => {
            let mut frames = wire.start();
            frames.extend(chunks.iter().map(|c| wire.delta(c)));
            // The chunks go out before the connection does.
            frames.extend([Frame::Flush, Frame::Abort]);
            frames
        }
        Script::MalformedChunk { chunks } => {
            let mut frames = wire.start();
            frames.extend(chunks.iter().map(|c| wire.delta(c)));
            frames.push(wire.malformed());
            frames
        }
    };
    Response::builder()
        .status(200)
        .header("content-type", "text/event-stream")
        .header("cache-control", "no-cache")
        .body(body(frames))
        .expect("a valid response")
}

fn body(frames: Vec<Frame>) -> Body {
    let stream = futures_util::stream::unfold(frames.into_iter(), |mut frames| async move {
        loop {
            match frames.next()? {
                Frame::Data(data) => return Some((Ok(Bytes::from(data)), frames)),
                Frame::Wait(wait) => tokio::time::sleep(wait).await,
                Frame::Hold(released) => {
                    if let Ok(permit) = released.acquire().await {
                        permit.forget();
                    }
                }
                Frame::Flush => tokio::task::yield_now().await,
                Frame::Abort => {
                    let err =
                        std::io::Error::new(std::io::ErrorKind::ConnectionReset, "scripted drop");
                    return Some((Err(err), frames));
                }
            }
        }
    });
    Body::from_stream(stream)
}

struct Wire {
    protocol: Protocol,
    model: String,
    wants_usage: bool,
}

impl Wire {
    fn reply(
        &self,
        chunks: &[String],
        delay: Duration,
        usage: Option<Usage>,
        finish: FinishReason,
    ) -> Vec<Frame> {
        let mut frames = self.start();
        for (i, chunk) in chunks.iter().enumerate() {
            if i > 0 && !delay.is_zero() {
                frames.push(Frame::Wait(delay));
            }
            frames.push(self.delta(chunk));
        }
        frames.extend(self.end(usage, finish));
        frames
    }

    /// OpenAI's streamed tool calls: the first piece names a call, the
    /// arguments follow in two fragments, the calls interleaved.
    fn tool_calls(&self, calls: &[spool_core::provider::ToolCall]) -> Vec<Frame> {
        if self.protocol == Protocol::Anthropic {
            return self.anthropic_tool_calls(calls);
        }
        let mut frames = self.start();
        for (index, call) in calls.iter().enumerate() {
            frames.push(self.openai_chunk(
                json!({"tool_calls": [{"index": index, "id": call.id, "type": "function",
                    "function": {"name": call.name, "arguments": ""}}]}),
                None,
            ));
        }
        for half in 0..2 {
            for (index, call) in calls.iter().enumerate() {
                let cut = call
                    .arguments
                    .char_indices()
                    .nth(call.arguments.chars().count() / 2)
                    .map_or(call.arguments.len(), |(at, _)| at);
                let piece = if half == 0 {
                    &call.arguments[..cut]
                } else {
                    &call.arguments[cut..]
                };
                frames.push(self.openai_chunk(
                    json!({"tool_calls": [{"index": index, "function": {"arguments": piece}}]}),
                    None,
                ));
            }
        }
        let usage = Usage {
            input_tokens: 10,
            output_tokens: calls.len() as u32,
        };
        frames.extend(self.end(Some(usage), FinishReason::ToolCalls));
        frames
    }

    /// Anthropic's `tool_use` blocks after the (empty) text block 0, each
    /// input in two `input_json_delta` pieces.
    fn anthropic_tool_calls(&self, calls: &[spool_core::provider::ToolCall]) -> Vec<Frame> {
        let mut frames = self.start();
        frames.push(self.event(
            "content_block_stop",
            json!({"type": "content_block_stop", "index": 0}),
        ));
        for (i, call) in calls.iter().enumerate() {
            let index = i + 1;
            frames.push(self.event(
                "content_block_start",
                json!({"type": "content_block_start", "index": index, "content_block":
                    {"type": "tool_use", "id": call.id, "name": call.name, "input": {}}}),
            ));
            let cut = call
                .arguments
                .char_indices()
                .nth(call.arguments.chars().count() / 2)
                .map_or(call.arguments.len(), |(at, _)| at);
            for piece in [&call.arguments[..cut], &call.arguments[cut..]] {
                frames.push(self.event(
                    "content_block_delta",
                    json!({"type": "content_block_delta", "index": index, "delta":
                        {"type": "input_json_delta", "partial_json": piece}}),
                ));
            }
            frames.push(self.event(
                "content_block_stop",
                json!({"type": "content_block_stop", "index": index}),
            ));
        }
        frames.push(self.event(
            "message_delta",
            json!({"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": null},
                "usage": {"input_tokens": 10, "output_tokens": calls.len()}}),
        ));
        frames.push(self.event("message_stop", json!({"type": "message_stop"})));
        frames
    }

    fn event(&self, name: &str, data: Value) -> Frame {
        match self.protocol {
            Protocol::OpenAi => Frame::Data(format!("data: {data}\n\n")),
            Protocol::Anthropic => Frame::Data(format!("event: {name}\ndata: {data}\n\n")),
        }
    }

    fn openai_chunk(&self, delta: Value, finish: Option<&str>) -> Frame {
        self.event(
            "",
            json!({
                "id": "chatcmpl-scripted", "object": "chat.completion.chunk", "created": 0,
                "model": self.model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }),
        )
    }

    fn start(&self) -> Vec<Frame> {
        match self.protocol {
            Protocol::OpenAi => vec![self.openai_chunk(json!({"role": "assistant", "content": ""}), None)],
            Protocol::Anthropic => vec![
                self.event(
                    "message_start",
                    json!({"type": "message_start", "message": {
                        "id": "msg_scripted", "type": "message", "role": "assistant", "content": [],
                        "model": self.model, "stop_reason": null, "stop_sequence": null,
                        "usage": {"input_tokens": 0, "output_tokens": 1},
                    }}),
                ),
                self.event(
                    "content_block_start",
                    json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
                ),
                self.event("ping", json!({"type": "ping"})),
            ],
        }
    }

    fn delta(&self, text: &str) -> Frame {
        match self.protocol {
            Protocol::OpenAi => self.openai_chunk(json!({"content": text}), None),
            Protocol::Anthropic => self.event(
                "content_block_delta",
                json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}}),
            ),
        }
    }

    fn end(&self, usage: Option<Usage>, finish: FinishReason) -> Vec<Frame> {
        match self.protocol {
            Protocol::OpenAi => {
                let mut frames = vec![self.openai_chunk(json!({}), Some(finish.as_str()))];
                if let Some(usage) = usage.filter(|_| self.wants_usage) {
                    frames.push(self.event(
                        "",
                        json!({
                            "id": "chatcmpl-scripted", "object": "chat.completion.chunk", "created": 0,
                            "model": self.model, "choices": [],
                            "usage": {
                                "prompt_tokens": usage.input_tokens,
                                "completion_tokens": usage.output_tokens,
                                "total_tokens": usage.input_tokens + usage.output_tokens,
                            },
                        }),
                    ));
                }
                frames.push(Frame::Data("data: [DONE]\n\n".to_owned()));
                frames
            }
            Protocol::Anthropic => {
                let stop_reason = match finish {
                    FinishReason::Stop => "end_turn",
                    FinishReason::Length => "max_tokens",
                    FinishReason::ContentFilter => "refusal",
                    FinishReason::ToolCalls => "tool_use",
                };
                // Anthropic reports input tokens at the start; the scripted
                // usage arrives whole here, where output tokens are final.
                let usage = usage.map(
                    |u| json!({"input_tokens": u.input_tokens, "output_tokens": u.output_tokens}),
                );
                vec![
                    self.event("content_block_stop", json!({"type": "content_block_stop", "index": 0})),
                    self.event(
                        "message_delta",
                        json!({"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": null}, "usage": usage}),
                    ),
                    self.event("message_stop", json!({"type": "message_stop"})),
                ]
            }
        }
    }

    fn malformed(&self) -> Frame {
        match self.protocol {
            Protocol::OpenAi => Frame::Data("data: {\"choices\": [{\"index\": 0, \"delta\": {\"content\": \n\n".to_owned()),
            Protocol::Anthropic => {
                Frame::Data("event: content_block_delta\ndata: {\"type\": \"content_block_delta\", \"delta\": \n\n".to_owned())
            }
        }
    }

    fn error(&self, status: u16, retry_after: Option<String>, message: &str) -> Response {
        let body = match self.protocol {
            Protocol::OpenAi => {
                json!({"error": {"message": message, "type": "scripted_error", "param": null, "code": null}})
            }
            Protocol::Anthropic => {
                let kind = match status {
                    429 => "rate_limit_error",
                    529 => "overloaded_error",
                    500..=599 => "api_error",
                    _ => "invalid_request_error",
                };
                json!({"type": "error", "error": {"type": kind, "message": message}})
            }
        };
        let mut response = Response::builder()
            .status(status)
            .header("content-type", "application/json");
        if let Some(retry_after) = retry_after {
            response = response.header("retry-after", retry_after);
        }
        response
            .body(Body::from(body.to_string()))
            .expect("a valid response")
    }
}
