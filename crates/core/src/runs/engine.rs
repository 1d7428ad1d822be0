//! The task that executes one run: build the prompt, stream the provider's
//! reply into the run's stored log (through the node's event writer), store
//! the reply and the run's end, then start the thread's next queued run.
//! Nothing here waits on a client.

use super::event::RunEventKind;
use super::hub::LiveRef;
use super::log::EventWriter;
use super::prompt;
use crate::listing::{Listing, Paging};
use crate::model::{Message, MessageRole, Run, RunInfo, RunStatus};
use crate::provider::{ChatEvent, ChatRequest, FinishReason, ProviderError};
use crate::{MessageId, Spool, markdown, now};
use std::future::poll_fn;
use std::sync::Arc;
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
    Failed(String),
    Cancelled,
}

/// Runs one run to its end; returns the thread's next run, now started.
async fn execute(spool: &Spool, mut run: Run, live: &LiveRef) -> Option<Run> {
    let writer = spool.runtime().writer(spool.store());
    // `run.created` (1) was stored with the run's admission.
    writer.open(run.id, 2, spool.runtime().hub.live(run.id));
    let reply_id = MessageId::new();
    let mut content = String::new();
    let mut usage = None;
    let outcome = match prepare(spool, &run).await {
        Err(message) => Outcome::Failed(message),
        Ok((request, prompt_tokens, provider)) => {
            let at = now();
            writer.push(
                run.id,
                RunEventKind::MessageCreated(placeholder(&run, reply_id, at)),
            );
            let sink = Sink {
                writer,
                run: run.id,
            };
            let streamed = tokio::time::timeout(
                RUN_DEADLINE,
                stream(
                    provider.as_ref(),
                    request,
                    live,
                    &sink,
                    &mut content,
                    &mut usage,
                ),
            )
            .await
            .unwrap_or_else(|_| {
                Outcome::Failed("The run took longer than the server allows.".into())
            });
            if usage.is_none() {
                let tokenizer = &spool.runtime().tokenizer;
                usage = Some((prompt_tokens as u64, tokenizer.count(&content) as u64));
            }
            streamed
        }
    };
    // Every event so far is stored before the end is.
    writer.flush(run.id).await;
    writer.close(run.id);

    let at = now();
    let (status, finish_reason, error) = match &outcome {
        Outcome::Completed(reason) => (RunStatus::Completed, reason.as_str().to_owned(), None),
        Outcome::Cancelled => (RunStatus::Cancelled, "cancelled".to_owned(), None),
        Outcome::Failed(message) => (RunStatus::Failed, "error".to_owned(), Some(message.clone())),
    };
    run.status = status;
    run.error = error;
    run.finished_at = Some(at);
    run.input_tokens = usage.map(|u| u.0);
    run.output_tokens = usage.map(|u| u.1);
    // A failed or cancelled run keeps what arrived; an empty reply is kept
    // only when the model really answered with nothing.
    let keep = !content.is_empty() || matches!(outcome, Outcome::Completed(_));
    let reply = keep.then(|| Message {
        id: reply_id,
        thread_id: run.thread_id,
        workspace_id: run.workspace_id,
        seq: 0,
        role: MessageRole::Assistant,
        content_html: markdown::render(&content),
        content: content.clone(),
        metadata: Default::default(),
        run: RunInfo {
            run_id: Some(run.id),
            model: Some(run.model.clone()),
            temperature: run.temperature,
            input_tokens: run.input_tokens,
            output_tokens: run.output_tokens,
            finish_reason: Some(finish_reason),
        },
        tool_calls: Vec::new(),
        user_id: None,
        created_at: at,
        updated_at: at,
    });
    run.message_id = reply.as_ref().map(|m| m.id);

    let finished = finish_with_retries(spool, &run, reply).await;
    let next = match finished {
        Ok(Some(finished)) => {
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
    tracing::info!(status = run.status.as_str(), "run finished");
    next
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
    let agent = match thread.agent_id {
        Some(id) => spool.store().agent(id).await.map_err(internal)?,
        None => None,
    };
    let catalog = &spool.config().catalog;
    let model = catalog
        .get(&run.model)
        .ok_or_else(|| format!("The model '{}' is no longer configured.", run.model))?;
    let provider = spool
        .runtime()
        .providers
        .get(&model.provider)
        .cloned()
        .ok_or_else(|| format!("The model '{}' has no provider configured.", run.model))?;
    let max_tokens = run.max_tokens.unwrap_or(model.max_output_tokens);
    let budget = (model.context_window as usize).saturating_sub(max_tokens as usize);

    // Newest first, page by page, until the window is full.
    let mut history = Vec::new();
    let mut used_estimate = 0;
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
        for message in &page.items {
            used_estimate += message.content.len() / 4;
        }
        history.extend(page.items);
        match page.next {
            Some(cursor) if used_estimate < budget * 2 => after = Some(cursor),
            _ => break,
        }
    }
    let system = prompt::system_prompt(agent.as_ref(), &thread);
    let tokenizer = spool.runtime().tokenizer.clone();
    let (messages, prompt_tokens) = tokio::task::spawn_blocking(move || {
        prompt::assemble(system, history, budget, tokenizer.as_ref())
    })
    .await
    .map_err(|_| "The prompt could not be assembled.".to_owned())?;
    let request = ChatRequest {
        model: model.upstream_name.clone(),
        messages,
        temperature: run.temperature,
        max_tokens: Some(max_tokens),
    };
    Ok((request, prompt_tokens, provider))
}

/// Where a run's deltas go: the node's event writer, which coalesces them.
struct Sink<'a> {
    writer: &'a EventWriter,
    run: crate::RunId,
}

/// Streams the reply into `content`, pushing a delta event per piece, until
/// the provider finishes, fails, or the run is cancelled.
async fn stream(
    provider: &dyn crate::provider::Provider,
    request: ChatRequest,
    live: &LiveRef,
    sink: &Sink<'_>,
    content: &mut String,
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
                    sink.writer
                        .push(sink.run, RunEventKind::MessageDelta(piece));
                }
            }
            Some(Ok(ChatEvent::Usage(reported))) => {
                *usage = Some((
                    u64::from(reported.input_tokens),
                    u64::from(reported.output_tokens),
                ));
            }
            Some(Ok(ChatEvent::Finished(reason))) => finish = Some(reason),
            Some(Err(err)) => return Outcome::Failed(describe(&err)),
            None => {
                return match finish {
                    Some(reason) => Outcome::Completed(reason),
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
