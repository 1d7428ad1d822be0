//! The task that executes one run: build the prompt, stream the provider's
//! reply into the run's stored log (through the node's event writer), store
//! the reply and the run's end, then start the thread's next queued run.
//! Nothing here waits on a client.

use super::event::RunEventKind;
use super::hub::LiveRef;
use super::log::EventWriter;
use super::prompt;
use super::tool_calls;
use crate::listing::{Listing, Paging};
use crate::model::{Message, MessageRole, Run, RunInfo, RunStatus};
use crate::provider::{
    ChatEvent, ChatMessage, ChatRequest, ChatRole, FinishReason, ProviderError, ToolCall,
};
use crate::telemetry::{ModelLabels, OutcomeLabels, TokenLabels, metrics, seconds};
use crate::{CoreError, MessageId, Spool, markdown, now};
use serde_json::Value;
use std::future::poll_fn;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tracing::Instrument;

/// A last line of defence: providers enforce their own timeouts, but no run
/// may outlive this.
const RUN_DEADLINE: Duration = Duration::from_secs(30 * 60);
/// Messages read per page while filling the context window.
const HISTORY_PAGE: u32 = 100;

/// Executes `run` (in progress, its `run.created` stored) and then each run
/// its end starts. The run counts as executing here from this call on, so
/// that a cancel arriving before the task runs still reaches it.
pub(super) fn spawn(spool: Spool, run: Run) {
    let live = spool.runtime().hub.live(run.id);
    live.set_executing(true);
    tokio::spawn(async move {
        let mut next = Some((run, live));
        while let Some((run, live)) = next.take() {
            let span = tracing::info_span!("run", run.id = %run.id, thread.id = %run.thread_id, model = %run.model);
            let following = execute(&spool, run, &live).instrument(span).await;
            live.set_executing(false);
            drop(live);
            next = following.map(|run| {
                let live = spool.runtime().hub.live(run.id);
                live.set_executing(true);
                (run, live)
            });
        }
    });
}

enum Outcome {
    Completed(FinishReason),
    /// The model still called tools at the last step `run_max_steps` allows.
    MaxSteps,
    Failed(String),
    /// The client sent no tool outputs in time.
    Expired(String),
    Cancelled,
}

/// The reply being written: the current step's assistant message.
struct Reply {
    id: MessageId,
    content: String,
    /// Tool calls recorded on it (only when it is the run's last message).
    tool_calls: Vec<Value>,
    /// Stored already, as a step that called tools.
    stored: bool,
}

/// Runs one run to its end; returns the thread's next run, now started.
async fn execute(spool: &Spool, mut run: Run, live: &LiveRef) -> Option<Run> {
    let started = std::time::Instant::now();
    let model = ModelLabels {
        model: run.model.clone(),
    };
    metrics().runs_started.get_or_create(&model).inc();
    let writer = spool.runtime().writer(spool.store());
    // `run.created` (1) was stored with the run's admission.
    writer.open(run.id, 2, spool.runtime().hub.live(run.id));
    let mut reply = Reply {
        id: MessageId::new(),
        content: String::new(),
        tool_calls: Vec::new(),
        stored: false,
    };
    let mut usage: Option<(u64, u64)> = None;
    let outcome = match prepare(spool, &run).await {
        Err(message) => Outcome::Failed(message),
        Ok((request, prompt_tokens, provider)) => {
            let steps = steps(
                spool,
                &mut run,
                live,
                writer,
                request,
                prompt_tokens,
                provider.as_ref(),
                &mut reply,
                &mut usage,
            );
            tokio::time::timeout(RUN_DEADLINE, steps)
                .await
                .unwrap_or_else(|_| {
                    Outcome::Failed("The run took longer than the server allows.".into())
                })
        }
    };
    // Every event so far is stored before the end is.
    writer.flush(run.id).await;
    writer.close(run.id);

    let at = now();
    let (status, finish_reason, error) = match &outcome {
        Outcome::Completed(reason) => (RunStatus::Completed, reason.as_str().to_owned(), None),
        Outcome::MaxSteps => (RunStatus::Completed, "max_steps".to_owned(), None),
        Outcome::Cancelled => (RunStatus::Cancelled, "cancelled".to_owned(), None),
        Outcome::Failed(message) => (RunStatus::Failed, "error".to_owned(), Some(message.clone())),
        Outcome::Expired(message) => (
            RunStatus::Failed,
            "expired".to_owned(),
            Some(message.clone()),
        ),
    };
    run.finish_reason = Some(finish_reason.clone());
    run.status = status;
    run.required_action = None;
    run.error = error;
    run.finished_at = Some(at);
    run.input_tokens = usage.map(|u| u.0);
    run.output_tokens = usage.map(|u| u.1);
    // A failed or cancelled run keeps what arrived; an empty reply is kept
    // only when the model really answered with nothing. A step that called
    // tools is stored already.
    let keep = !reply.stored
        && (!reply.content.is_empty()
            || !reply.tool_calls.is_empty()
            || matches!(outcome, Outcome::Completed(_) | Outcome::MaxSteps));
    let tokenizer = spool.runtime().tokenizer.clone();
    let message = keep
        .then(|| Message {
            id: reply.id,
            thread_id: run.thread_id,
            workspace_id: run.workspace_id,
            seq: 0,
            role: MessageRole::Assistant,
            content_html: markdown::render(&reply.content),
            content: reply.content.clone(),
            metadata: Default::default(),
            run: RunInfo {
                run_id: Some(run.id),
                model: Some(run.model.clone()),
                temperature: run.temperature,
                input_tokens: run.input_tokens,
                output_tokens: run.output_tokens,
                finish_reason: Some(finish_reason),
            },
            tool_calls: reply.tool_calls.clone(),
            user_id: None,
            attachments: Vec::new(),
            token_count: None,
            created_at: at,
            updated_at: at,
        })
        .map(|message| prompt::counted(message, tokenizer.as_ref()));
    run.message_id = message
        .as_ref()
        .map(|m| m.id)
        .or(reply.stored.then_some(reply.id));

    let finished = finish_with_retries(spool, &run, message).await;
    let next = match finished {
        Ok(Some(finished)) => {
            if run.status == RunStatus::Completed {
                spool.remember_after(&run, finished.reply.as_ref());
            }
            live.publish(finished.events);
            finished.next
        }
        Ok(None) => {
            // Another writer ended the run first (a cancel that found no
            // task for it): its stored end is the run's outcome.
            tracing::warn!("the run had already been ended elsewhere");
            None
        }
        Err(err) => {
            // Its followers wait; the run stays in progress until it is
            // recovered (at the next start on SQLite).
            tracing::error!(error = %err, "could not store the end of a run");
            None
        }
    };
    record_end(&run, model, started.elapsed());
    tracing::info!(status = run.status.as_str(), "run finished");
    next
}

/// The run's outcome, duration and tokens, as this node executed it.
fn record_end(run: &Run, model: ModelLabels, took: Duration) {
    let telemetry = metrics();
    telemetry
        .run_duration
        .get_or_create(&model)
        .observe(seconds(took));
    telemetry
        .runs_finished
        .get_or_create(&OutcomeLabels {
            model: model.model.clone(),
            outcome: run.status.as_str(),
        })
        .inc();
    for (direction, count) in [("input", run.input_tokens), ("output", run.output_tokens)] {
        if let Some(count) = count.filter(|c| *c > 0) {
            telemetry
                .tokens
                .get_or_create(&TokenLabels {
                    model: model.model.clone(),
                    direction,
                })
                .inc_by(count);
        }
    }
}

/// Storage hiccups must not lose a finished reply: try a few times. The
/// end is a compare-and-set on `in_progress`, so a retry of an end that did
/// commit answers `None` rather than ending the run twice.
async fn finish_with_retries(
    spool: &Spool,
    run: &Run,
    reply: Option<Message>,
) -> Result<Option<crate::model::FinishedRun>, crate::StoreError> {
    let mut attempt = 0;
    loop {
        match spool
            .store()
            .finish_run(run, RunStatus::InProgress, reply.clone())
            .await
        {
            Ok(finished) => return Ok(finished),
            Err(err) if attempt < 3 => {
                attempt += 1;
                tracing::warn!(error = %err, attempt, "retrying to store the end of a run");
                tokio::time::sleep(Duration::from_millis(100 * attempt)).await;
            }
            Err(err) => return Err(err),
        }
    }
}

fn placeholder(run: &Run, id: MessageId, at: crate::Timestamp) -> Message {
    Message {
        id,
        thread_id: run.thread_id,
        workspace_id: run.workspace_id,
        seq: 0,
        role: MessageRole::Assistant,
        content: String::new(),
        content_html: String::new(),
        metadata: Default::default(),
        run: RunInfo {
            run_id: Some(run.id),
            model: Some(run.model.clone()),
            temperature: run.temperature,
            ..Default::default()
        },
        tool_calls: Vec::new(),
        user_id: None,
        attachments: Vec::new(),
        token_count: None,
        created_at: at,
        updated_at: at,
    }
}

/// The provider request for the run, with the prompt's token count.
async fn prepare(
    spool: &Spool,
    run: &Run,
) -> Result<(ChatRequest, usize, Arc<dyn crate::provider::Provider>), String> {
    let internal = |err: crate::StoreError| {
        tracing::error!(error = %err, "could not read the thread for a run");
        "The thread could not be read.".to_owned()
    };
    let thread = spool
        .store()
        .thread(run.workspace_id, run.thread_id)
        .await
        .map_err(internal)?;
    let thread = thread.ok_or("The thread was deleted.")?;
    // The run's agent: the thread's, or the one the run was started with.
    let agent = match run.agent_id.or(thread.agent_id) {
        Some(id) => spool.store().agent(id).await.map_err(internal)?,
        None => None,
    };
    // A store failure is logged, not shown; anything else says what is wrong.
    let unusable = |err: CoreError| match err {
        CoreError::Internal(err) => {
            tracing::error!(error = %err, "could not look up a run's model");
            "The model could not be looked up.".to_owned()
        }
        CoreError::Validation(errors) => errors.first_message().to_owned(),
        other => other.to_string(),
    };
    let (model, provider) = spool
        .model_with_provider(run.workspace_id, &run.model)
        .await
        .map_err(unusable)?
        .ok_or_else(|| format!("The model '{}' is no longer configured.", run.model))?;
    let max_tokens = run.max_tokens.unwrap_or(model.max_output_tokens);
    let budget = (model.context_window as usize).saturating_sub(max_tokens as usize);

    // Newest first, page by page, until the stored counts fill the window.
    let mut history = Vec::new();
    let mut used = 0;
    let mut after = None;
    loop {
        let paging = Paging::Keyset {
            after,
            before: None,
            limit: HISTORY_PAGE,
        };
        let page = spool
            .store()
            .list_messages(thread.id, paging, true, spool.list_page_max_bytes())
            .await
            .map_err(internal)?;
        let Listing::Cursor(page) = page else { break };
        used += page.items.iter().map(prompt::history_cost).sum::<usize>();
        history.extend(page.items);
        match page.next {
            Some(cursor) if used < budget => after = Some(cursor),
            _ => break,
        }
    }
    if let Some(limit) = run.history_limit {
        prompt::keep_latest(&mut history, run.id, limit);
    }
    let mut system = prompt::system_prompt(agent.as_ref(), &thread, run);
    if let Some(agent) = &agent {
        let newest_question = history
            .iter()
            .find(|m| m.role == MessageRole::User)
            .map(|m| m.content.as_str());
        let recalled = spool.recall(agent, run, newest_question).await;
        if !recalled.is_empty() {
            let lines: Vec<String> = recalled.iter().map(|m| format!("- {m}")).collect();
            let memory = format!("What you remember about this user:\n{}", lines.join("\n"));
            system = Some(match system {
                Some(text) => format!("{text}\n\n{memory}"),
                None => memory,
            });
        }
    }
    let files = spool.prompt_files(&history, model.vision).await;
    let tokenizer = spool.runtime().tokenizer.clone();
    let (messages, prompt_tokens) = tokio::task::spawn_blocking(move || {
        prompt::assemble(system, history, &files, budget, tokenizer.as_ref())
    })
    .await
    .map_err(|_| "The prompt could not be assembled.".to_owned())?;
    let request = ChatRequest {
        model: model.upstream_name.clone(),
        messages,
        temperature: run.temperature,
        top_p: run.top_p,
        max_tokens: Some(max_tokens),
        tools: Vec::new(),
        tool_choice: Default::default(),
    };
    Ok((request, prompt_tokens, provider))
}

/// The run's steps: a model call; when it calls tools, their results (the
/// client's, through `requires_action`) and the next call; until the model
/// answers without tools or `run_max_steps` is reached. Usage sums all steps.
#[expect(
    clippy::too_many_arguments,
    reason = "one run's state, lent by execute"
)]
async fn steps(
    spool: &Spool,
    run: &mut Run,
    live: &LiveRef,
    writer: &EventWriter,
    mut request: ChatRequest,
    prompt_tokens: usize,
    provider: &dyn crate::provider::Provider,
    reply: &mut Reply,
    usage: &mut Option<(u64, u64)>,
) -> Outcome {
    let caller = spool.runtime().tool_caller.clone();
    // With tool_choice none no tool is called: MCP servers are not asked.
    let listing = (run.tool_choice != crate::tools::ToolChoice::None)
        .then_some(caller.as_deref())
        .flatten();
    let offered = match tool_calls::offer(&run.tools, caller.is_some(), listing).await {
        Ok(offered) => offered,
        Err(why) => return Outcome::Failed(why),
    };
    request.tools = offered.iter().map(|o| o.spec.clone()).collect();
    request.tool_choice = run.tool_choice.clone();
    let max_steps = spool.config().run_max_steps.max(1);
    let tokenizer = spool.runtime().tokenizer.clone();
    let sink = Sink {
        writer,
        run: run.id,
        started_at: run.started_at.unwrap_or(run.created_at),
        model: run.model.clone(),
        first_token: AtomicBool::new(false),
    };
    let mut waits = 0;
    for step in 1..=max_steps {
        if step > 1 {
            *reply = Reply {
                id: MessageId::new(),
                content: String::new(),
                tool_calls: Vec::new(),
                stored: false,
            };
        }
        writer.push(
            run.id,
            RunEventKind::MessageCreated(placeholder(run, reply.id, now())),
        );
        let mut calls = Vec::new();
        let mut reported = None;
        let streamed = stream(
            provider,
            request.clone(),
            live,
            &sink,
            &mut reply.content,
            &mut calls,
            &mut reported,
        )
        .await;
        let (input, output) = reported.unwrap_or_else(|| {
            let input = if step == 1 {
                prompt_tokens
            } else {
                request
                    .messages
                    .iter()
                    .map(|m| tokenizer.count(&m.content))
                    .sum()
            };
            let output = tokenizer.count(&reply.content)
                + calls
                    .iter()
                    .map(|c| tokenizer.count(&c.arguments))
                    .sum::<usize>();
            (input as u64, output as u64)
        });
        let total = usage.get_or_insert((0, 0));
        total.0 += input;
        total.1 += output;
        if calls.is_empty() || !matches!(streamed, Outcome::Completed(_)) {
            return streamed;
        }
        let mut records: Vec<Value> = calls
            .iter()
            .map(|c| tool_calls::record(c, &offered))
            .collect();
        if step == max_steps {
            tool_calls::abandon(&mut records, "Not run: the run reached its max_steps.");
            reply.tool_calls = records;
            return Outcome::MaxSteps;
        }
        for record in &records {
            writer.push(run.id, RunEventKind::ToolCallCreated(record.clone()));
        }
        // spool's own calls first, so that the stored step (and a client
        // that reads it at run.requires_action) has their results.
        if let Some(caller) = &caller {
            let mut cancel = live.cancel_signal();
            let cancelled = tokio::select! {
                biased;
                _ = cancelled(&mut cancel) => true,
                _ = tool_calls::call_server_tools(caller, &run.tools, &offered, &mut records) => false,
            };
            if cancelled {
                // The calls still running were dropped with their futures.
                tool_calls::abandon(&mut records, "Not run: the run ended first.");
                reply.tool_calls = records;
                return Outcome::Cancelled;
            }
        }
        let mut message = prompt::counted(
            step_message(run, reply, records.clone()),
            tokenizer.as_ref(),
        );
        match spool.store().append_message(message.clone()).await {
            Ok(Some(stored)) => {
                reply.stored = true;
                message = stored.clone();
                writer.push(run.id, RunEventKind::MessageCompleted(stored));
            }
            Ok(None) => return Outcome::Failed("The thread was deleted.".into()),
            Err(err) => {
                tracing::error!(error = %err, "could not store a run's step");
                return Outcome::Failed("The run's tool calls could not be stored.".into());
            }
        }
        if records.iter().any(tool_calls::pending) {
            waits += 1;
            let waited =
                tool_calls::wait_for_outputs(spool, run, live, writer, &mut records, waits).await;
            if let Err(stopped) = waited {
                tool_calls::abandon(&mut records, "Not run: the run ended first.");
                message.tool_calls = records;
                let message = prompt::counted(message, tokenizer.as_ref());
                if let Err(err) = spool.store().update_message(&message).await {
                    tracing::warn!(error = %err, "could not store a run's abandoned tool calls");
                }
                return match stopped {
                    tool_calls::Stopped::Cancelled => Outcome::Cancelled,
                    tool_calls::Stopped::Failed(why) => Outcome::Failed(why),
                    tool_calls::Stopped::Expired(why) => Outcome::Expired(why),
                };
            }
        }
        for record in &records {
            writer.push(run.id, RunEventKind::ToolCallCompleted(record.clone()));
        }
        message.tool_calls = records.clone();
        message.updated_at = now();
        let message = prompt::counted(message, tokenizer.as_ref());
        let stored = async {
            spool.store().update_message(&message).await?;
            for record in &records {
                spool
                    .store()
                    .append_message(prompt::counted(
                        tool_message(run, record),
                        tokenizer.as_ref(),
                    ))
                    .await?;
            }
            Ok::<_, crate::StoreError>(())
        };
        if let Err(err) = stored.await {
            tracing::error!(error = %err, "could not store a run's tool results");
            return Outcome::Failed("The run's tool results could not be stored.".into());
        }
        request.messages.push(ChatMessage {
            role: ChatRole::Assistant,
            content: reply.content.clone(),
            tool_calls: calls,
            tool_call_id: None,
            images: Vec::new(),
        });
        for record in &records {
            request.messages.push(ChatMessage {
                role: ChatRole::Tool,
                content: tool_calls::result_text(record),
                tool_call_id: record["id"].as_str().map(str::to_owned),
                tool_calls: Vec::new(),
                images: Vec::new(),
            });
        }
    }
    unreachable!("the last step returns")
}

/// Resolves once `cancel` says the run is cancelled.
async fn cancelled(cancel: &mut tokio::sync::watch::Receiver<bool>) {
    while !*cancel.borrow_and_update() {
        if cancel.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// A step's assistant message, which called tools.
fn step_message(run: &Run, reply: &Reply, records: Vec<Value>) -> Message {
    let at = now();
    Message {
        id: reply.id,
        thread_id: run.thread_id,
        workspace_id: run.workspace_id,
        seq: 0,
        role: MessageRole::Assistant,
        content_html: markdown::render(&reply.content),
        content: reply.content.clone(),
        metadata: Default::default(),
        run: RunInfo {
            run_id: Some(run.id),
            model: Some(run.model.clone()),
            temperature: run.temperature,
            // The run's usage goes on its last message, summed.
            input_tokens: None,
            output_tokens: None,
            finish_reason: Some(FinishReason::ToolCalls.as_str().to_owned()),
        },
        tool_calls: records,
        user_id: None,
        attachments: Vec::new(),
        token_count: None,
        created_at: at,
        updated_at: at,
    }
}

/// A call's result as a `tool` message of the thread.
fn tool_message(run: &Run, record: &Value) -> Message {
    let at = now();
    let content = tool_calls::result_text(record);
    Message {
        id: MessageId::new(),
        thread_id: run.thread_id,
        workspace_id: run.workspace_id,
        seq: 0,
        role: MessageRole::Tool,
        content_html: markdown::render(&content),
        content,
        metadata: Default::default(),
        run: RunInfo {
            run_id: Some(run.id),
            ..Default::default()
        },
        tool_calls: vec![record.clone()],
        user_id: None,
        attachments: Vec::new(),
        token_count: None,
        created_at: at,
        updated_at: at,
    }
}

/// Where a run's deltas go: the node's event writer, which coalesces them.
struct Sink<'a> {
    writer: &'a EventWriter,
    run: crate::RunId,
    /// For the time to the run's first token.
    started_at: crate::Timestamp,
    model: String,
    first_token: AtomicBool,
}

impl Sink<'_> {
    fn push_delta(&self, piece: String) {
        if !self.first_token.swap(true, Ordering::Relaxed) {
            let waited = (now() - self.started_at).to_std().unwrap_or_default();
            metrics()
                .time_to_first_token
                .get_or_create(&ModelLabels {
                    model: self.model.clone(),
                })
                .observe(seconds(waited));
        }
        self.writer
            .push(self.run, RunEventKind::MessageDelta(piece));
    }
}

/// Streams the reply into `content`, pushing a delta event per piece, until
/// the provider finishes, fails, or the run is cancelled.
async fn stream(
    provider: &dyn crate::provider::Provider,
    request: ChatRequest,
    live: &LiveRef,
    sink: &Sink<'_>,
    content: &mut String,
    calls: &mut Vec<ToolCall>,
    usage: &mut Option<(u64, u64)>,
) -> Outcome {
    let mut cancel = live.cancel_signal();
    if *cancel.borrow() {
        return Outcome::Cancelled;
    }
    let mut events = tokio::select! {
        biased;
        _ = cancel.changed() => return Outcome::Cancelled,
        started = provider.stream_chat(request) => match started {
            Ok(events) => events,
            Err(err) => return Outcome::Failed(describe(&err)),
        },
    };
    let mut finish = None;
    loop {
        let item = tokio::select! {
            biased;
            _ = cancel.changed() => return Outcome::Cancelled,
            item = poll_fn(|cx| events.as_mut().poll_next(cx)) => item,
        };
        match item {
            Some(Ok(ChatEvent::Delta(piece))) => {
                if !piece.is_empty() {
                    content.push_str(&piece);
                    sink.push_delta(piece);
                }
            }
            Some(Ok(ChatEvent::Usage(reported))) => {
                *usage = Some((
                    u64::from(reported.input_tokens),
                    u64::from(reported.output_tokens),
                ));
            }
            Some(Ok(ChatEvent::ToolCall(call))) => calls.push(call),
            Some(Ok(ChatEvent::Finished(reason))) => finish = Some(reason),
            Some(Err(err)) => return Outcome::Failed(describe(&err)),
            None => {
                return match finish {
                    Some(reason) => Outcome::Completed(reason),
                    None if !calls.is_empty() => Outcome::Completed(FinishReason::ToolCalls),
                    None if !content.is_empty() => Outcome::Completed(FinishReason::Stop),
                    None => {
                        Outcome::Failed("The provider ended the reply without an answer.".into())
                    }
                };
            }
        }
    }
}

fn describe(err: &ProviderError) -> String {
    tracing::warn!(error = %err, "provider failed");
    err.to_string()
}
