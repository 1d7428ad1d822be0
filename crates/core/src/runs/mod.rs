//! Running a thread: admission (one active run per thread, `multitask`),
//! the run task that streams a model's reply into the thread, its events,
//! cancellation, and titles written by a model.

pub mod codec;
mod engine;
mod event;
mod hub;
mod log;
mod naming;
mod node;
pub mod prompt;
mod recovery;
mod tool_calls;

pub use event::{RunEvent, RunEventKind, RunOutcome};
pub use hub::Subscription;
pub use log::DELTA_WINDOW;
pub use tool_calls::ToolOutput;

use crate::catalog::ModelEntry;
use crate::error::{CoreError, ValidationErrors};
use crate::idempotency::{self, Reference};
use crate::listing::{Listing, Paging};
use crate::model::{Message, MessageRole, Run, RunAdmission, RunStatus, Thread};
use crate::provider::{Provider, Tokenizer};
use crate::service::{Principal, Scope};
use crate::validate::Metadata;
use crate::{MessageId, RunId, Spool, ThreadId, markdown, now};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// A workspace provider as built, with the `updated_at` it was built from.
pub(crate) type BuiltProvider = (crate::Timestamp, Arc<dyn Provider>);

/// Providers by configured name, the tokenizer, the runs this node follows
/// and the writer of their events.
pub struct Runtime {
    pub(crate) providers: HashMap<String, Arc<dyn Provider>>,
    pub(crate) tokenizer: Arc<dyn Tokenizer>,
    pub(crate) hub: Arc<hub::Hub>,
    writer: OnceLock<log::EventWriter>,
    /// Runs `http` tools and calls MCP servers; without it neither is
    /// offered to models.
    pub(crate) tool_caller: Option<Arc<dyn crate::tools::ToolCaller>>,
    /// Builds the providers workspaces add; without it they cannot add any.
    pub(crate) provider_factory: Option<Arc<dyn crate::provider::ProviderFactory>>,
    /// Seals and opens those providers' credentials.
    pub(crate) keyring: Arc<crate::sealing::Keyring>,
    /// Workspace providers built so far, by id, with the `updated_at` they
    /// were built from: a changed provider is built again.
    pub(crate) built_providers: std::sync::Mutex<HashMap<crate::ProviderId, BuiltProvider>>,
}

/// Counts about four characters a token; only for a `Spool` built without a
/// real tokenizer (unit tests). The server always passes a real one.
struct Approximate;

impl Tokenizer for Approximate {
    fn count(&self, text: &str) -> usize {
        text.chars().count().div_ceil(4)
    }
}

impl Default for Runtime {
    fn default() -> Self {
        Self {
            providers: HashMap::new(),
            tokenizer: Arc::new(Approximate),
            hub: Arc::default(),
            writer: OnceLock::new(),
            tool_caller: None,
            provider_factory: None,
            keyring: Arc::default(),
            built_providers: Default::default(),
        }
    }
}

impl Runtime {
    pub fn new(
        providers: HashMap<String, Arc<dyn Provider>>,
        tokenizer: Arc<dyn Tokenizer>,
    ) -> Self {
        Self {
            providers,
            tokenizer,
            hub: Arc::default(),
            writer: OnceLock::new(),
            tool_caller: None,
            provider_factory: None,
            keyring: Arc::default(),
            built_providers: Default::default(),
        }
    }

    /// Lets runs call `http` tools and MCP servers through `caller`.
    pub fn with_tool_caller(mut self, caller: Arc<dyn crate::tools::ToolCaller>) -> Self {
        self.tool_caller = Some(caller);
        self
    }

    /// Lets workspaces add their own providers, built by `factory`, their
    /// credentials sealed with `keyring`.
    pub fn with_workspace_providers(
        mut self,
        factory: Arc<dyn crate::provider::ProviderFactory>,
        keyring: crate::sealing::Keyring,
    ) -> Self {
        self.provider_factory = Some(factory);
        self.keyring = Arc::new(keyring);
        self
    }

    /// The node's event writer, started at its first use (inside the
    /// runtime that executes runs).
    pub(crate) fn writer(&self, store: &Arc<dyn crate::Store>) -> &log::EventWriter {
        self.writer
            .get_or_init(|| log::EventWriter::start(store.clone()))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Multitask {
    /// A second run while one is active answers 409 (the default).
    Reject,
    /// Cancel the active run, then start.
    Interrupt,
    /// Wait for the active run(s) and start in arrival order.
    Enqueue,
}

#[derive(Debug, Default)]
pub struct RunInput {
    /// A user message appended first, atomically with the run.
    pub content: Option<String>,
    /// Files attached to that message, by key.
    pub files: Vec<crate::files::FileRef>,
    pub message_metadata: Option<Map<String, Value>>,
    pub model: Option<String>,
    pub temperature: Option<f64>,
    /// Nucleus sampling, 0 to 1.
    pub top_p: Option<f64>,
    pub max_tokens: Option<u32>,
    /// The client's keys on the run itself (within the metadata limits).
    pub metadata: Option<Map<String, Value>>,
    /// At most this many of the thread's latest messages in the prompt.
    pub history_limit: Option<u32>,
    /// `reject` (default), `interrupt` or `enqueue`.
    pub multitask: Option<String>,
    /// Tool definitions added to the agent's (one named like an agent's
    /// tool replaces it).
    pub tools: Option<Value>,
    /// `auto` (default), `none`, `required` or `{"name": ...}`.
    pub tool_choice: Option<Value>,
    /// The agent to run with instead of the thread's (one the caller may
    /// use): its instruction, tools and model, for this run only.
    pub agent: Option<crate::AgentId>,
    /// Instead of the agent's instruction, for this run only.
    pub instructions: Option<String>,
    /// Added at the end of the system prompt, for this run only.
    pub additional_instructions: Option<String>,
}

/// A run just admitted, and its events from the first.
pub struct StartedRun {
    pub run: Run,
    pub user_message: Option<Message>,
    pub events: Subscription,
}

/// How long `interrupt` waits for the active run to stop.
const INTERRUPT_WAIT: Duration = Duration::from_secs(10);

impl Spool {
    /// Which model a run uses: the request's, else the thread's
    /// `metadata.model`, else the agent's `large_language_model`, else the
    /// default; looked up among the workspace's providers, then the server's.
    pub(crate) async fn resolve_model(
        &self,
        requested: Option<&str>,
        thread: &Thread,
        agent: Option<&crate::model::Agent>,
    ) -> Result<ModelEntry, CoreError> {
        let from_thread = thread
            .metadata
            .as_map()
            .get("model")
            .and_then(Value::as_str);
        let from_agent = agent
            .and_then(|a| a.metadata.as_map().get("large_language_model"))
            .and_then(Value::as_str);
        let catalog = &self.config().catalog;
        let (field, name) = match (requested, from_thread, from_agent) {
            (Some(name), _, _) => ("model", name),
            (None, Some(name), _) => ("metadata.model", name),
            (None, None, Some(name)) => ("agent.metadata.large_language_model", name),
            (None, None, None) => ("model", catalog.default_model.as_str()),
        };
        let Some(model) = self.model_named(thread.workspace_id, name).await? else {
            let known: Vec<String> = self
                .models_for(thread.workspace_id)
                .await?
                .into_iter()
                .map(|m| m.name)
                .collect();
            return Err(CoreError::invalid(
                field,
                format!(
                    "The model '{name}' is not configured here (known: {}).",
                    known.join(", ")
                ),
            ));
        };
        if model.workspace_provider.is_none()
            && !self.runtime().providers.contains_key(&model.provider)
        {
            return Err(CoreError::invalid(
                field,
                format!("The model '{name}' has no provider configured."),
            ));
        }
        Ok(model)
    }

    /// Admits a run of `thread_id` and starts it (or queues it).
    pub async fn start_run(
        &self,
        principal: &Principal,
        scope: &Scope,
        thread_id: ThreadId,
        input: RunInput,
        anon_user_id: Option<&str>,
    ) -> Result<StartedRun, CoreError> {
        let thread = self
            .thread(principal, scope, thread_id, anon_user_id)
            .await?;
        if let Some(id) = idempotency::resumed_run() {
            // A retry of a keyed request whose run was admitted before its
            // process stopped: follow that run rather than start another.
            let run = self.run(principal, scope, id).await?;
            let events = self.run_events(principal, scope, id, 0).await?;
            return Ok(StartedRun {
                run,
                user_message: None,
                events,
            });
        }
        let agent = match (input.agent, thread.agent_id) {
            (Some(id), _) => Some(self.usable_agent(principal, scope, id).await.map_err(
                |err| match err {
                    CoreError::NotFound(_) => CoreError::invalid("agent_uuid", "No such agent."),
                    other => other,
                },
            )?),
            (None, Some(id)) => self.store().agent(id).await?,
            (None, None) => None,
        };
        let mut errors = ValidationErrors::new();
        let multitask = match input.multitask.as_deref() {
            None | Some("reject") => Multitask::Reject,
            Some("interrupt") => Multitask::Interrupt,
            Some("enqueue") => Multitask::Enqueue,
            Some(_) => {
                errors.add(
                    "multitask",
                    "The multitask must be reject, interrupt or enqueue.",
                );
                Multitask::Reject
            }
        };
        let model = match self
            .resolve_model(input.model.as_deref(), &thread, agent.as_ref())
            .await
        {
            Ok(model) => Some(model),
            Err(CoreError::Validation(found)) => {
                for (field, messages) in found.0 {
                    for message in messages {
                        errors.add(field.clone(), message);
                    }
                }
                None
            }
            Err(other) => return Err(other),
        };
        if input.temperature.is_some_and(|t| !(0.0..=2.0).contains(&t)) {
            errors.add("temperature", "The temperature must be between 0 and 2.");
        }
        if input.history_limit == Some(0) {
            errors.add("history_limit", "The history_limit must be at least 1.");
        }
        if input.top_p.is_some_and(|p| !(0.0..=1.0).contains(&p)) {
            errors.add("top_p", "The top_p must be between 0 and 1.");
        }
        if let (Some(max), Some(model)) = (input.max_tokens, &model)
            && (max == 0 || max > model.max_output_tokens)
        {
            errors.add(
                "max_tokens",
                format!(
                    "The max tokens must be between 1 and {}.",
                    model.max_output_tokens
                ),
            );
        }
        let request_tools = match &input.tools {
            Some(value) => crate::tools::parse_tools("tools", value, &mut errors),
            None => Vec::new(),
        };
        if errors.is_empty() {
            let caller = self.runtime().tool_caller.as_deref();
            crate::tools::check_urls(caller, "tools", &request_tools, &mut errors).await;
        }
        let agent_tools = agent.as_ref().map(|a| a.tools.as_slice()).unwrap_or(&[]);
        let tools = crate::tools::merge_tools(agent_tools, request_tools);
        let tool_choice = match &input.tool_choice {
            Some(value) => crate::tools::parse_tool_choice(value, &mut errors),
            None => crate::tools::ToolChoice::Auto,
        };
        crate::tools::check_tool_choice(&tool_choice, &tools, &mut errors);
        if tools.len() > crate::tools::TOOLS_MAX {
            errors.add(
                "tools",
                format!(
                    "A run may not have more than {} tools, the agent's included.",
                    crate::tools::TOOLS_MAX
                ),
            );
        }
        let mut instructions_field = |field: &str, text: Option<String>| {
            let text = text?;
            let max = crate::service::INSTRUCTION_MAX_CHARS;
            if text.chars().count() > max {
                errors.add(
                    field,
                    format!("The {field} may not be greater than {max} characters."),
                );
            }
            Some(text)
        };
        let instructions = instructions_field("instructions", input.instructions);
        let additional_instructions =
            instructions_field("additional_instructions", input.additional_instructions);
        let attachments = self
            .attachments(principal, scope, input.files, "files", &mut errors)
            .await?;
        if !attachments.is_empty() && input.content.is_none() {
            errors.add(
                "content",
                "Files are attached to a message: give its content too.",
            );
        }
        // Checked with or without content, so that the same metadata is
        // refused (or not) whatever else the request carries.
        let metadata = Metadata::client(
            crate::validate::MetadataOf::Message,
            input.message_metadata.unwrap_or_default(),
            &mut errors,
        );
        let run_metadata =
            Metadata::parse("metadata", input.metadata.unwrap_or_default(), &mut errors);
        let user_message = match input.content {
            None => None,
            Some(content) => {
                if content.trim().is_empty() {
                    errors.add("content", "The content may not be blank.");
                } else if content.len() > self.config().content_max_bytes {
                    errors.add(
                        "content",
                        format!(
                            "The content may not be greater than {} bytes.",
                            self.config().content_max_bytes
                        ),
                    );
                }
                let at = now();
                let message = Message {
                    id: MessageId::new(),
                    thread_id: thread.id,
                    workspace_id: thread.workspace_id,
                    seq: 0,
                    role: MessageRole::User,
                    content_html: markdown::render(&content),
                    content,
                    metadata,
                    run: Default::default(),
                    tool_calls: Vec::new(),
                    user_id: anon_user_id.is_none().then(|| principal.user_id()),
                    attachments,
                    token_count: None,
                    created_at: at,
                    updated_at: at,
                };
                Some(prompt::counted(message, self.runtime().tokenizer.as_ref()))
            }
        };
        errors.into_result()?;
        let model = model.expect("no validation errors, so the model resolved");
        // An agent's metadata may carry its runs' sampling settings (the
        // openai dialect's assistants keep theirs there).
        let agent_setting = |key: &str| {
            agent
                .as_ref()
                .and_then(|a| a.metadata.as_map().get(key))
                .and_then(Value::as_f64)
        };
        let temperature = input.temperature.or_else(|| agent_setting("temperature"));
        let top_p = input.top_p.or_else(|| agent_setting("top_p"));
        let max_tokens = input.max_tokens.or(Some(model.max_output_tokens.min(4096)));
        let run = Run {
            id: RunId::new(),
            thread_id: thread.id,
            workspace_id: thread.workspace_id,
            agent_id: agent.as_ref().map(|a| a.id).or(thread.agent_id),
            user_id: Some(principal.user_id()),
            model: model.name.clone(),
            status: RunStatus::InProgress,
            temperature,
            max_tokens,
            input_tokens: None,
            output_tokens: None,
            error: None,
            message_id: None,
            created_at: now(),
            started_at: None,
            finished_at: None,
            tools,
            tool_choice,
            required_action: None,
            instructions,
            additional_instructions,
            metadata: run_metadata.into_map(),
            top_p,
            finish_reason: None,
            history_limit: input.history_limit,
        };
        idempotency::refer(Reference::Run(run.id));
        // Admission and launch belong to the server, not to the request: a
        // client that goes away at any point leaves no run or a run that
        // executes. The request's Idempotency-Key claim goes along, so that
        // the admitting write still marks it.
        let spool = self.clone();
        let scope = scope.clone();
        let admit = async move { spool.admit(run, user_message, multitask, &scope).await };
        let task = match idempotency::current() {
            Some(claim) => tokio::spawn(idempotency::carry(claim, admit)),
            None => tokio::spawn(admit),
        };
        task.await.map_err(CoreError::internal)?
    }

    /// Stores the run (interrupting the active one first when asked to) and
    /// launches it.
    async fn admit(
        &self,
        run: Run,
        user_message: Option<Message>,
        multitask: Multitask,
        scope: &Scope,
    ) -> Result<StartedRun, CoreError> {
        let deadline = tokio::time::Instant::now() + INTERRUPT_WAIT;
        loop {
            let admission = self
                .store()
                .create_run(
                    run.clone(),
                    user_message.clone(),
                    multitask == Multitask::Enqueue,
                )
                .await?;
            match admission {
                RunAdmission::Started { run, message } => {
                    let events = self.launch(run.clone(), true);
                    return Ok(StartedRun {
                        run,
                        user_message: message,
                        events,
                    });
                }
                RunAdmission::Queued { run, message } => {
                    let events = self.launch(run.clone(), false);
                    return Ok(StartedRun {
                        run,
                        user_message: message,
                        events,
                    });
                }
                RunAdmission::ThreadGone => return Err(CoreError::NotFound("Thread")),
                RunAdmission::Busy { active } => {
                    if multitask != Multitask::Interrupt || tokio::time::Instant::now() >= deadline
                    {
                        return Err(CoreError::Conflict(format!(
                            "The thread already has an active run ({active}); wait for it, cancel it, or send multitask: \"interrupt\" or \"enqueue\"."
                        )));
                    }
                    self.stop_run(scope, active).await?;
                }
            }
        }
    }

    /// Follows a run just admitted from its first event, and starts it when
    /// it may run now. Its `run.created` is stored; this node keeps it for
    /// its local followers.
    fn launch(&self, run: Run, start_now: bool) -> Subscription {
        let runtime = self.runtime();
        let events = self.follow(run.id, 0);
        runtime.hub.live(run.id).publish([RunEvent {
            id: 1,
            kind: RunEventKind::RunCreated(run.clone()),
        }]);
        if start_now {
            engine::spawn(self.clone(), run);
        }
        events
    }

    /// Follows the run's stored events after `after`.
    fn follow(&self, run: RunId, after: u64) -> Subscription {
        Subscription::new(self.store().clone(), self.runtime().hub.clone(), run, after)
    }

    /// A run of the caller's workspace whose thread they may see.
    pub async fn run(
        &self,
        principal: &Principal,
        scope: &Scope,
        id: RunId,
    ) -> Result<Run, CoreError> {
        let run = self
            .store()
            .run(scope.id(), id)
            .await?
            .ok_or(CoreError::NotFound("Run"))?;
        self.thread(principal, scope, run.thread_id, None)
            .await
            .map_err(|_| CoreError::NotFound("Run"))?;
        Ok(run)
    }

    /// A run of `thread`, for dialects that name runs under their thread:
    /// a run of another thread is not found, as one out of reach is not.
    pub async fn run_in_thread(
        &self,
        principal: &Principal,
        scope: &Scope,
        thread: ThreadId,
        id: RunId,
        anon_user_id: Option<&str>,
    ) -> Result<Run, CoreError> {
        let thread = self.thread(principal, scope, thread, anon_user_id).await?;
        let run = self
            .store()
            .run(scope.id(), id)
            .await?
            .filter(|run| run.thread_id == thread.id)
            .ok_or(CoreError::NotFound("Run"))?;
        Ok(run)
    }

    /// The thread's runs, newest first or (`descending: false`) oldest first.
    pub async fn list_runs(
        &self,
        principal: &Principal,
        scope: &Scope,
        thread: ThreadId,
        paging: Paging,
        descending: bool,
    ) -> Result<Listing<Run>, CoreError> {
        let thread = self.thread(principal, scope, thread, None).await?;
        Ok(self
            .store()
            .list_runs(thread.id, paging, descending)
            .await?)
    }

    /// Replaces the client's metadata on a run of `thread` (OpenAI's
    /// runs.update); the run's other fields are its own.
    pub async fn update_run_metadata(
        &self,
        principal: &Principal,
        scope: &Scope,
        thread: ThreadId,
        id: RunId,
        metadata: Map<String, Value>,
    ) -> Result<Run, CoreError> {
        let run = self
            .run_in_thread(principal, scope, thread, id, None)
            .await?;
        let mut errors = ValidationErrors::new();
        let metadata = Metadata::parse("metadata", metadata, &mut errors);
        errors.into_result()?;
        self.store()
            .set_run_metadata(scope.id(), run.id, metadata.into_map())
            .await?
            .ok_or(CoreError::NotFound("Run"))
    }

    /// Where a run of `thread` stands in [`Spool::list_runs`]'s keyset
    /// order, for a list that starts after (or before) it.
    pub async fn run_cursor(
        &self,
        principal: &Principal,
        scope: &Scope,
        thread: ThreadId,
        id: RunId,
    ) -> Result<crate::listing::Cursor, CoreError> {
        let run = self
            .run_in_thread(principal, scope, thread, id, None)
            .await?;
        Ok(crate::listing::Cursor {
            key: run.created_at.timestamp_micros(),
            id: run.id.0,
        })
    }

    /// The messages a run of `thread` wrote (its steps' assistant messages
    /// and tool results), in thread order.
    pub async fn run_messages(
        &self,
        principal: &Principal,
        scope: &Scope,
        thread: ThreadId,
        id: RunId,
    ) -> Result<(Run, Vec<Message>), CoreError> {
        let run = self
            .run_in_thread(principal, scope, thread, id, None)
            .await?;
        let mut found = Vec::new();
        let mut after = None;
        loop {
            let paging = Paging::Keyset {
                after,
                before: None,
                limit: crate::paging::MAX_PER_PAGE,
            };
            let page = self
                .store()
                .list_messages(run.thread_id, paging, false, self.list_page_max_bytes())
                .await?;
            let Listing::Cursor(page) = page else { break };
            found.extend(
                page.items
                    .into_iter()
                    .filter(|m| m.run.run_id == Some(run.id)),
            );
            match page.next {
                Some(cursor) => after = Some(cursor),
                None => break,
            }
        }
        Ok((run, found))
    }

    /// Stops a run: an active one ends `cancelled` keeping its partial reply;
    /// a queued one never starts. A finished run is left as it is.
    pub async fn cancel_run(
        &self,
        principal: &Principal,
        scope: &Scope,
        id: RunId,
    ) -> Result<Run, CoreError> {
        self.run(principal, scope, id).await?;
        self.stop_run(scope, id).await?;
        self.store()
            .run(scope.id(), id)
            .await?
            .ok_or(CoreError::NotFound("Run"))
    }

    /// Signals the run and waits (bounded) until it has ended. Every change
    /// is a compare-and-set on the status read just before: when the run
    /// moved meanwhile (a queued run promoted while it was being cancelled)
    /// it is looked at again.
    async fn stop_run(&self, scope: &Scope, id: RunId) -> Result<(), CoreError> {
        let hub = &self.runtime().hub;
        loop {
            let Some(run) = self.store().run(scope.id(), id).await? else {
                return Ok(());
            };
            if run.status.is_terminal() {
                return Ok(());
            }
            if matches!(
                run.status,
                RunStatus::InProgress | RunStatus::RequiresAction
            ) {
                let here = hub.get(id).filter(|live| live.is_executing());
                // Executed here, or (several nodes) perhaps by another node:
                // ask for it to stop, and wait until its end is stored.
                let asked = match &here {
                    Some(live) => {
                        live.cancel();
                        true
                    }
                    None if self.store().shared() => self.store().request_run_cancel(id).await?,
                    None => false,
                };
                if asked {
                    let mut events = self.follow(id, 0);
                    let _ = tokio::time::timeout(INTERRUPT_WAIT, async {
                        while events.next().await.is_some() {}
                    })
                    .await;
                    return Ok(());
                }
            }
            // Queued (or left behind by a stopped process): end it here.
            let expected = run.status;
            let mut run = run;
            run.status = RunStatus::Cancelled;
            run.finish_reason = Some("cancelled".into());
            if expected == RunStatus::Queued {
                run.error = Some("Cancelled before it started.".into());
            }
            run.finished_at = Some(now());
            let Some(finished) = self.store().finish_run(&run, expected, None).await? else {
                continue;
            };
            if let Some(live) = hub.get(id) {
                live.publish(finished.events);
            }
            if let Some(next) = finished.next {
                engine::spawn(self.clone(), next);
            }
            return Ok(());
        }
    }

    /// Follows a run's events after `last_event_id` (0: all of them), from
    /// its stored log and then live. A finished run whose events are no
    /// longer kept (past their retention) is not found.
    pub async fn run_events(
        &self,
        principal: &Principal,
        scope: &Scope,
        id: RunId,
        last_event_id: u64,
    ) -> Result<Subscription, CoreError> {
        let run = self.run(principal, scope, id).await?;
        let mut events = self.follow(id, last_event_id);
        if run.status.is_terminal() && !events.read_stored().await? {
            // The whole log of a finished run is stored: nothing after
            // `last_event_id` means the client has it all, or it is gone.
            let kept = self.store().run_events(id, 0, 1).await?;
            if kept.is_empty() {
                return Err(CoreError::NotFound("Run events"));
            }
            return Ok(events.ended());
        }
        Ok(events)
    }

    /// For a single node starting up: runs left in progress by the
    /// previous process can never finish. Each ends `failed`, keeping the
    /// reply its clients had seen, and the next queued run of its thread
    /// starts. Its `Idempotency-Key` claims end with it too: a retry carries
    /// out a request that committed nothing and resumes one that did.
    pub async fn fail_abandoned_runs(&self) -> Result<u64, CoreError> {
        let released = self.store().idempotency_release_all().await?;
        if released > 0 {
            tracing::info!(
                released,
                "ended the Idempotency-Key claims of the previous process"
            );
        }
        // Every lease of the previous process has run out: the same sweep
        // as on a schedule, with every run in progress counting as expired.
        let end_of_time = now() + chrono::Duration::days(365 * 100);
        self.sweep_runs(
            end_of_time,
            end_of_time,
            "The server stopped before the run finished.",
        )
        .await
    }
}
