//! Streaming a response in the Responses API's event sequence, every event
//! with its `sequence_number`. As for the Assistants stream (stream.rs),
//! the events are rendered from the run's stored log read from its first
//! event, so the numbers are the same on every replay, on any node: a
//! client's `starting_after=N` is the events numbered above N.
//!
//! A run that waits for function outputs ends its response there
//! (`response.completed`, output ending in `function_call` items). The
//! outputs go on with the same run, so the same response: its stream then
//! starts again with `response.created`, showing the output so far.

use super::items::{call_item, is_function, message_item, output_text};
use super::response_object::{Extras, object, status};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use spool_core::MessageId;
use spool_core::model::{Message, MessageRole, Run};
use spool_core::runs::{RunEventKind, Subscription};
use std::collections::VecDeque;
use std::convert::Infallible;

/// The assistant text being streamed: its message, place and text so far.
struct OpenText {
    message: MessageId,
    index: usize,
    text: String,
}

/// What the events so far said, that the next one's rendering needs.
pub struct Renderer {
    extras: Extras,
    next: u64,
    run: Option<Run>,
    in_progress_sent: bool,
    /// Waiting for function outputs: the next event resumes the response.
    waiting: bool,
    /// The message the model is writing, and how many calls it made so far.
    message: Option<(MessageId, usize)>,
    open: Option<OpenText>,
    reply: Option<Message>,
    output: Vec<Value>,
}

/// Rendered events: the `type` and the event.
pub type Rendered = Vec<(String, Value)>;

impl Renderer {
    pub fn new(extras: Extras) -> Self {
        Self {
            extras,
            next: 0,
            run: None,
            in_progress_sent: false,
            waiting: false,
            message: None,
            open: None,
            reply: None,
            output: Vec::new(),
        }
    }

    fn push(&mut self, out: &mut Rendered, kind: &str, mut event: Value) {
        event["type"] = json!(kind);
        event["sequence_number"] = json!(self.next);
        self.next += 1;
        out.push((kind.to_owned(), event));
    }

    fn response(&self, shown: &str) -> Value {
        match &self.run {
            Some(run) => object(run, shown, self.output.clone(), &self.extras),
            None => Value::Null,
        }
    }

    /// The Responses events for one stored event, in order.
    pub fn render(&mut self, kind: &RunEventKind) -> Rendered {
        let mut out = Vec::new();
        // A run's tools are not in its stored events (header values are
        // secrets): a streamed response shows none, live or replayed.
        let stored = |run: &Run| Run {
            tools: Vec::new(),
            ..run.clone()
        };
        if self.waiting && !matches!(kind, RunEventKind::Done) {
            self.waiting = false;
            let created = json!({"response": self.response("in_progress")});
            self.push(&mut out, "response.created", created.clone());
            self.push(&mut out, "response.in_progress", created);
        }
        match kind {
            RunEventKind::RunCreated(run) => {
                let run = stored(run);
                let queued = run.status == spool_core::model::RunStatus::Queued;
                self.run = Some(run);
                let shown = if queued { "queued" } else { "in_progress" };
                let created = json!({"response": self.response(shown)});
                self.push(&mut out, "response.created", created);
                if !queued {
                    self.in_progress(&mut out);
                }
            }
            RunEventKind::MessageCreated(message) => {
                self.in_progress(&mut out);
                self.message = Some((message.id, 0));
            }
            RunEventKind::MessageDelta(piece) => {
                self.open_text(&mut out);
                self.delta(&mut out, piece);
            }
            RunEventKind::ToolCallCreated(call) => {
                self.close_text(&mut out, None);
                self.call(&mut out, call);
            }
            RunEventKind::ToolCallCompleted(_) => {}
            RunEventKind::MessageCompleted(message) if message.role == MessageRole::Assistant => {
                if message.tool_calls.is_empty() {
                    self.open_text(&mut out);
                    let sent = self
                        .open
                        .as_ref()
                        .map(|o| o.text.clone())
                        .unwrap_or_default();
                    if let Some(rest) = message.content.strip_prefix(sent.as_str())
                        && !rest.is_empty()
                    {
                        self.delta(&mut out, rest);
                    }
                    self.close_text(&mut out, Some(&message.content));
                    self.reply = Some(message.clone());
                } else {
                    self.close_text(&mut out, Some(&message.content));
                }
                self.message = None;
            }
            RunEventKind::MessageCompleted(_) => {}
            RunEventKind::RunRequiresAction(run) => {
                self.close_text(&mut out, None);
                self.run = Some(stored(run));
                let done = json!({"response": self.response("completed")});
                self.push(&mut out, "response.completed", done);
                self.waiting = true;
            }
            RunEventKind::RunCompleted(run)
            | RunEventKind::RunFailed(run)
            | RunEventKind::RunCancelled(run) => {
                self.close_text(&mut out, None);
                let run = stored(run);
                let shown = status(&run, self.reply.as_ref());
                self.run = Some(run);
                let kind = match shown {
                    "completed" => "response.completed",
                    "incomplete" => "response.incomplete",
                    // Cancelled has no event of its own: a failed one
                    // whose response says `cancelled`.
                    _ => "response.failed",
                };
                let end = json!({"response": self.response(shown)});
                self.push(&mut out, kind, end);
            }
            RunEventKind::Done => {}
        }
        out
    }

    fn in_progress(&mut self, out: &mut Rendered) {
        if self.in_progress_sent || self.run.is_none() {
            return;
        }
        self.in_progress_sent = true;
        let event = json!({"response": self.response("in_progress")});
        self.push(out, "response.in_progress", event);
    }

    fn open_text(&mut self, out: &mut Rendered) {
        let Some((message, _)) = self.message else {
            return;
        };
        if self.open.as_ref().is_some_and(|o| o.message == message) {
            return;
        }
        let index = self.output.len();
        let item = message_item(message, MessageRole::Assistant, "", "in_progress");
        let item_id = item["id"].clone();
        self.push(
            out,
            "response.output_item.added",
            json!({"output_index": index, "item": item}),
        );
        self.push(
            out,
            "response.content_part.added",
            json!({"item_id": item_id, "output_index": index, "content_index": 0,
                   "part": output_text("")}),
        );
        self.open = Some(OpenText {
            message,
            index,
            text: String::new(),
        });
    }

    fn delta(&mut self, out: &mut Rendered, piece: &str) {
        let Some(open) = self.open.as_mut() else {
            return;
        };
        open.text.push_str(piece);
        let event = json!({
            "item_id": super::items::ItemId::Message(open.message).render(),
            "output_index": open.index, "content_index": 0,
            "delta": piece, "logprobs": [],
        });
        self.push(out, "response.output_text.delta", event);
    }

    /// Ends the open text, with `text` as stored when it is known.
    fn close_text(&mut self, out: &mut Rendered, text: Option<&str>) {
        let Some(open) = self.open.take() else {
            return;
        };
        let text = text.map_or(open.text, str::to_owned);
        let item = message_item(open.message, MessageRole::Assistant, &text, "completed");
        let base = json!({"item_id": item["id"], "output_index": open.index, "content_index": 0});
        let mut done = base.clone();
        done["text"] = json!(text);
        done["logprobs"] = json!([]);
        self.push(out, "response.output_text.done", done);
        let mut part = base;
        part["part"] = output_text(&text);
        self.push(out, "response.content_part.done", part);
        self.push(
            out,
            "response.output_item.done",
            json!({"output_index": open.index, "item": item.clone()}),
        );
        self.output.push(item);
    }

    /// A call the model made; a `function` one is an item the client answers.
    fn call(&mut self, out: &mut Rendered, call: &Value) {
        let Some((message, calls)) = self.message.as_mut() else {
            return;
        };
        let (message, place) = (*message, *calls);
        *calls += 1;
        if !is_function(call) {
            return;
        }
        let index = self.output.len();
        let done = call_item(message, place, call, "completed");
        let mut added = call_item(message, place, call, "in_progress");
        added["arguments"] = json!("");
        let item_id = done["id"].clone();
        self.push(
            out,
            "response.output_item.added",
            json!({"output_index": index, "item": added}),
        );
        self.push(
            out,
            "response.function_call_arguments.delta",
            json!({"item_id": item_id, "output_index": index, "delta": done["arguments"]}),
        );
        self.push(
            out,
            "response.function_call_arguments.done",
            json!({"item_id": item_id, "output_index": index,
                   "arguments": done["arguments"], "name": done["name"]}),
        );
        self.push(
            out,
            "response.output_item.done",
            json!({"output_index": index, "item": done.clone()}),
        );
        self.output.push(done);
    }
}

/// Where a stream ends, besides the run's end.
#[derive(Clone, Copy)]
pub enum Ending {
    /// At the run's `n`-th wait for function outputs (counted from 1).
    Wait(u64),
    /// At the first wait whose events the stream sent: a wait the client
    /// saw already (`starting_after` past it) is followed by the rest.
    SentWait,
    /// Only at the run's end: every wait was answered.
    Done,
}

/// Streams a response from its run's first stored event: nothing up to
/// and including the run's `skip_waits`-th wait for function outputs (an
/// earlier response's part), nothing numbered `starting_after` or below,
/// to `ending`.
pub fn stream(
    events: Subscription,
    skip_waits: u64,
    starting_after: Option<u64>,
    ending: Ending,
    extras: Extras,
) -> Response {
    struct State {
        events: Subscription,
        renderer: Renderer,
        queue: VecDeque<Event>,
        waits: u64,
        finished: bool,
    }
    let state = State {
        events,
        renderer: Renderer::new(extras),
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
            if waiting {
                state.waits += 1;
            }
            if state.waits < skip_waits || (waiting && state.waits <= skip_waits) {
                continue;
            }
            let mut sent = false;
            for (kind, data) in rendered {
                let number = data["sequence_number"].as_u64().unwrap_or_default();
                if starting_after.is_some_and(|after| number <= after) {
                    continue;
                }
                sent = true;
                state.queue.push_back(
                    Event::default()
                        .id(number.to_string())
                        .event(kind)
                        .data(data.to_string()),
                );
            }
            let ends = match ending {
                Ending::Wait(n) => waiting && state.waits >= n,
                Ending::SentWait => waiting && sent,
                Ending::Done => false,
            };
            if ends || matches!(event.kind, RunEventKind::Done) {
                state.finished = true;
            }
        }
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(crate::sse::HEARTBEAT))
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openai::response_object::output;
    use spool_core::model::RunStatus;
    use spool_core::{RunId, ThreadId, WorkspaceId};

    fn run(status: RunStatus) -> Run {
        Run {
            id: RunId(uuid::Uuid::nil()),
            thread_id: ThreadId(uuid::Uuid::nil()),
            workspace_id: WorkspaceId(uuid::Uuid::nil()),
            agent_id: None,
            user_id: None,
            model: "echo".into(),
            status,
            temperature: None,
            max_tokens: None,
            input_tokens: Some(3),
            output_tokens: Some(4),
            error: None,
            message_id: None,
            created_at: spool_core::now(),
            started_at: None,
            finished_at: None,
            tools: Vec::new(),
            tool_choice: Default::default(),
            required_action: None,
            instructions: None,
            additional_instructions: None,
            metadata: Default::default(),
            top_p: None,
            finish_reason: None,
            history_limit: None,
        }
    }

    fn message(content: &str, tool_calls: Vec<Value>) -> Message {
        let at = spool_core::now();
        Message {
            id: MessageId::new(),
            thread_id: ThreadId(uuid::Uuid::nil()),
            workspace_id: WorkspaceId(uuid::Uuid::nil()),
            seq: 0,
            role: MessageRole::Assistant,
            content: content.into(),
            content_html: String::new(),
            metadata: Default::default(),
            run: Default::default(),
            tool_calls,
            attachments: Vec::new(),
            user_id: None,
            token_count: None,
            created_at: at,
            updated_at: at,
        }
    }

    /// Text, then a function call on the same message, the wait, and the
    /// reply after it: the items the stream builds are the stored ones.
    #[test]
    fn a_call_after_text_and_the_reply_after_the_wait_stream_as_stored() {
        let call =
            json!({"id": "call_1", "kind": "function", "tool_name": "f", "arguments": {"a": 1}});
        let asking = message("Let me look.", vec![call.clone()]);
        let reply = message("Sunny.", Vec::new());
        let log = [
            RunEventKind::RunCreated(run(RunStatus::InProgress)),
            RunEventKind::MessageCreated(message("", Vec::new())),
            RunEventKind::MessageDelta("Let me look.".into()),
            RunEventKind::ToolCallCreated(call),
            RunEventKind::MessageCompleted(asking.clone()),
            RunEventKind::RunRequiresAction(run(RunStatus::RequiresAction)),
            RunEventKind::MessageCreated(reply.clone()),
            RunEventKind::MessageDelta("Sun".into()),
            RunEventKind::MessageCompleted(reply.clone()),
            RunEventKind::RunCompleted(run(RunStatus::Completed)),
            RunEventKind::Done,
        ];
        // The first message's id is the one its deltas were streamed under.
        let mut log = log.to_vec();
        if let RunEventKind::MessageCreated(m) = &mut log[1] {
            m.id = asking.id;
        }
        let mut renderer = Renderer::new(Extras::default());
        let events: Vec<Value> = log
            .iter()
            .flat_map(|kind| renderer.render(kind))
            .map(|(_, event)| event)
            .collect();
        let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(
            kinds,
            [
                "response.created",
                "response.in_progress",
                "response.output_item.added",
                "response.content_part.added",
                "response.output_text.delta",
                "response.output_text.done",
                "response.content_part.done",
                "response.output_item.done",
                "response.output_item.added",
                "response.function_call_arguments.delta",
                "response.function_call_arguments.done",
                "response.output_item.done",
                "response.completed",
                "response.created",
                "response.in_progress",
                "response.output_item.added",
                "response.content_part.added",
                "response.output_text.delta",
                "response.output_text.delta",
                "response.output_text.done",
                "response.content_part.done",
                "response.output_item.done",
                "response.completed",
            ]
        );
        let numbers: Vec<u64> = events
            .iter()
            .map(|e| e["sequence_number"].as_u64().unwrap())
            .collect();
        assert_eq!(numbers, (0..events.len() as u64).collect::<Vec<_>>());
        let last = events.last().unwrap();
        assert_eq!(last["response"]["output"], json!(output(&[asking, reply])));
        assert_eq!(last["response"]["usage"]["total_tokens"], 7);
        // The continuation shows what the first part wrote.
        assert_eq!(
            events[13]["response"]["output"].as_array().unwrap().len(),
            2
        );
    }
}
