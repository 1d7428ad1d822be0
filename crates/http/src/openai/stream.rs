//! Streaming in OpenAI's event sequence. spool's run log holds one event
//! where OpenAI sends several (`run.created` is OpenAI's `created`, `queued`
//! and `in_progress`), and OpenAI's events name things the stored one does
//! not carry (a delta names its message). So a stream is rendered from the
//! run's log read from its first event, with what the earlier events said:
//! a replay renders the same bytes, on any node, after any restart.
//!
//! As OpenAI's, a stream ends (`done`) when the run ends or waits for tool
//! outputs; the stream of `submit_tool_outputs` goes on from that wait.

use super::ids;
use super::wire::{MessageObject, RunObject, StepObject, step_tool_call};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use spool_core::model::{Message, Run, RunStatus};
use spool_core::runs::{RunEventKind, Subscription};
use std::collections::VecDeque;
use std::convert::Infallible;

/// What the events so far said, that the next one's rendering needs.
#[derive(Default)]
pub struct Renderer {
    run: Option<Run>,
    in_progress_sent: bool,
    /// The step's assistant message, once created.
    message: Option<Message>,
    /// Whether its `message_creation` step and message were announced.
    opened: bool,
    /// The text streamed so far.
    text: String,
    /// The tool calls of the open `tool_calls` step.
    calls: Option<Vec<Value>>,
}

type Rendered = Vec<(&'static str, String)>;

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

impl Renderer {
    /// OpenAI's events for one stored event, in order.
    pub fn render(&mut self, kind: &RunEventKind) -> Rendered {
        let mut out = Vec::new();
        // A run's tools are not in its stored events (their header values
        // are secrets): a run object in a stream shows none, live or replayed.
        let stored = |run: &Run| Run {
            tools: Vec::new(),
            ..run.clone()
        };
        match kind {
            RunEventKind::RunCreated(run) => {
                let run = &stored(run);
                self.run = Some(run.clone());
                let queued = json(&RunObject::with_status(run, "queued"));
                out.push(("thread.run.created", queued.clone()));
                out.push(("thread.run.queued", queued));
                if run.status != RunStatus::Queued {
                    self.in_progress(&mut out);
                }
            }
            RunEventKind::MessageCreated(message) => {
                self.in_progress(&mut out);
                self.close_tool_step(&mut out, "completed");
                self.message = Some(message.clone());
                self.opened = false;
                self.text.clear();
            }
            RunEventKind::MessageDelta(piece) => {
                self.open_message(&mut out);
                self.text.push_str(piece);
                if let Some(message) = &self.message {
                    let delta = json!({
                        "id": ids::render(ids::MESSAGE, message.id.0),
                        "object": "thread.message.delta",
                        "delta": {"content": [{"index": 0, "type": "text", "text": {"value": piece}}]},
                    });
                    out.push(("thread.message.delta", delta.to_string()));
                }
            }
            RunEventKind::ToolCallCreated(call) => self.tool_call(&mut out, call),
            RunEventKind::ToolCallCompleted(call) => {
                let id = &call["id"];
                if let Some(known) = self
                    .calls
                    .as_mut()
                    .and_then(|calls| calls.iter_mut().find(|c| c["id"] == *id))
                {
                    *known = call.clone();
                }
            }
            RunEventKind::MessageCompleted(message) => {
                if message.tool_calls.is_empty() {
                    self.message = Some(message.clone());
                    self.open_message(&mut out);
                    let shown = MessageObject::new(message.clone());
                    let event = match shown.status {
                        "incomplete" => "thread.message.incomplete",
                        _ => "thread.message.completed",
                    };
                    out.push((event, json(&shown)));
                    if let Some(run) = &self.run {
                        out.push((
                            "thread.run.step.completed",
                            json(&StepObject::new(run, message, "completed")),
                        ));
                    }
                    self.message = None;
                    self.opened = false;
                } else if let Some(calls) = &mut self.calls {
                    // The stored step, with the results of spool's own tools.
                    self.message = Some(message.clone());
                    *calls = message.tool_calls.clone();
                }
            }
            RunEventKind::RunRequiresAction(run) => {
                let run = &stored(run);
                self.run = Some(run.clone());
                out.push((
                    "thread.run.requires_action",
                    json(&RunObject::with_status(run, "requires_action")),
                ));
            }
            RunEventKind::RunCompleted(run)
            | RunEventKind::RunFailed(run)
            | RunEventKind::RunCancelled(run) => {
                let run = &stored(run);
                self.run = Some(run.clone());
                let (event, step) = match super::wire::status(run) {
                    "completed" => ("thread.run.completed", "completed"),
                    "incomplete" => ("thread.run.incomplete", "completed"),
                    "cancelled" => ("thread.run.cancelled", "cancelled"),
                    "expired" => ("thread.run.expired", "expired"),
                    _ => ("thread.run.failed", "failed"),
                };
                self.close_tool_step(&mut out, step);
                out.push((event, json(&RunObject::new(run))));
            }
            RunEventKind::Done => out.push(("done", "[DONE]".to_owned())),
        }
        out
    }

    fn in_progress(&mut self, out: &mut Rendered) {
        if self.in_progress_sent {
            return;
        }
        if let Some(run) = &self.run {
            self.in_progress_sent = true;
            out.push((
                "thread.run.in_progress",
                json(&RunObject::with_status(run, "in_progress")),
            ));
        }
    }

    /// Announces the step's message: its `message_creation` step, then the
    /// message itself, both in progress.
    fn open_message(&mut self, out: &mut Rendered) {
        if self.opened {
            return;
        }
        let (Some(run), Some(message)) = (&self.run, &self.message) else {
            return;
        };
        self.opened = true;
        let mut placeholder = message.clone();
        placeholder.content.clear();
        placeholder.tool_calls.clear();
        let step = json(&StepObject::new(run, &placeholder, "in_progress"));
        out.push(("thread.run.step.created", step.clone()));
        out.push(("thread.run.step.in_progress", step));
        let shown = json(&MessageObject::with_status(placeholder, "in_progress"));
        out.push(("thread.message.created", shown.clone()));
        out.push(("thread.message.in_progress", shown));
    }

    /// A call the model made: the step becomes a `tool_calls` step (text
    /// the model wrote before it is completed as its message), and the call
    /// is sent as the step's delta.
    fn tool_call(&mut self, out: &mut Rendered, call: &Value) {
        let (Some(run), Some(message)) = (self.run.clone(), self.message.clone()) else {
            return;
        };
        if self.calls.is_none() {
            if self.opened {
                let mut written = message.clone();
                written.content = self.text.clone();
                written.tool_calls.clear();
                out.push((
                    "thread.message.completed",
                    json(&MessageObject::new(written)),
                ));
                self.opened = false;
            }
            let mut step = message.clone();
            step.tool_calls = vec![json!({})];
            let mut shown = StepObject::new(&run, &step, "in_progress");
            shown.step_details = json!({"type": "tool_calls", "tool_calls": []});
            let shown = json(&shown);
            out.push(("thread.run.step.created", shown.clone()));
            out.push(("thread.run.step.in_progress", shown));
            self.calls = Some(Vec::new());
        }
        let calls = self.calls.get_or_insert_with(Vec::new);
        let mut rendered = step_tool_call(call);
        rendered["index"] = json!(calls.len());
        calls.push(call.clone());
        let delta = json!({
            "id": ids::render(ids::STEP, message.id.0),
            "object": "thread.run.step.delta",
            "delta": {"step_details": {"type": "tool_calls", "tool_calls": [rendered]}},
        });
        out.push(("thread.run.step.delta", delta.to_string()));
    }

    fn close_tool_step(&mut self, out: &mut Rendered, status: &'static str) {
        let Some(calls) = self.calls.take() else {
            return;
        };
        let (Some(run), Some(message)) = (&self.run, &self.message) else {
            return;
        };
        let mut step = message.clone();
        step.tool_calls = calls;
        let event = match status {
            "cancelled" => "thread.run.step.cancelled",
            "failed" => "thread.run.step.failed",
            "expired" => "thread.run.step.expired",
            _ => "thread.run.step.completed",
        };
        out.push((event, json(&StepObject::new(run, &step, status))));
    }
}

/// Streams a run in OpenAI's events: from its first stored event, sending
/// nothing up to and including its `skip_waits`-th `requires_action` (the
/// part an earlier stream sent), and ending after the next wait or the end.
pub fn stream(events: Subscription, skip_waits: u64) -> Response {
    struct State {
        events: Subscription,
        renderer: Renderer,
        queue: VecDeque<Event>,
        waits: u64,
        finished: bool,
    }
    let state = State {
        events,
        renderer: Renderer::default(),
        queue: VecDeque::new(),
        waits: 0,
        finished: false,
    };
    let stream = futures_util::stream::unfold(state, move |mut state| async move {
        loop {
            if let Some(event) = state.queue.pop_front() {
                return Some((Ok::<_, Infallible>(event), state));
            }
            if state.finished {
                return None;
            }
            let Some(event) = state.events.next().await else {
                state.finished = true;
                continue;
            };
            let rendered = state.renderer.render(&event.kind);
            let waiting = matches!(event.kind, RunEventKind::RunRequiresAction(_));
            if state.waits < skip_waits {
                if waiting {
                    state.waits += 1;
                }
                continue;
            }
            let id = event.id.to_string();
            for (name, data) in rendered {
                state
                    .queue
                    .push_back(Event::default().id(id.clone()).event(name).data(data));
                if name == "done" {
                    state.finished = true;
                }
            }
            if waiting {
                state
                    .queue
                    .push_back(Event::default().id(id).event("done").data("[DONE]"));
                state.finished = true;
            }
        }
    });
    Sse::new(stream)
        .keep_alive(
            KeepAlive::new()
                .interval(crate::sse::HEARTBEAT)
                .text("heartbeat"),
        )
        .into_response()
}
