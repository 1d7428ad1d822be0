//! The tool side of a run's steps: the calls a model made, recorded in
//! thena's shape (`tool_name`, `arguments`, `result`, `error`, `start_time`,
//! `end_time`, plus `id` and `kind`), the specs a model is offered, and the
//! wait for a client's outputs in `requires_action`.

use super::event::RunEventKind;
use super::hub::LiveRef;
use super::log::EventWriter;
use crate::model::{Run, RunStatus};
use crate::provider::{ToolCall, ToolSpec};
use crate::tools::{ToolCaller, ToolDefinition, ToolKind};
use crate::{Spool, Timestamp, now};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

/// A node that may not hear of outputs stored by another node looks at the
/// store this often while it waits.
const OUTPUTS_LOOK_AGAIN: Duration = Duration::from_secs(1);

fn time(at: Timestamp) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// A tool the model is offered in this run: a `function` tool, an `http`
/// tool, or one tool of an MCP server, named `{server}__{tool}`.
#[derive(Clone, Debug)]
pub(super) struct Offered {
    pub spec: ToolSpec,
    pub kind: &'static str,
    /// The run's tool definition it comes from.
    pub definition: usize,
    /// The MCP server's own name for it.
    pub remote: Option<String>,
}

/// The name an MCP server's tool is offered under: `{server}__{tool}`,
/// with what model APIs refuse in a tool name replaced by `_`, at most 64
/// characters.
pub(super) fn mcp_tool_name(server: &str, tool: &str) -> String {
    format!("{server}__{tool}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(crate::tools::TOOL_NAME_MAX_CHARS)
        .collect()
}

/// What the model is offered: `function` tools always; `http` tools when
/// the server can call them (`http`); the tools of the MCP servers, listed
/// now (at once) through `listing`. A server that cannot be listed fails
/// the run: its tools are what the agent was made with.
pub(super) async fn offer(
    tools: &[ToolDefinition],
    http: bool,
    listing: Option<&dyn ToolCaller>,
) -> Result<Vec<Offered>, String> {
    let listed = futures_util::future::join_all(tools.iter().map(|tool| async move {
        match (&tool.kind, listing) {
            (ToolKind::Mcp { .. }, Some(caller)) => Some(caller.list_mcp(tool).await),
            _ => None,
        }
    }))
    .await;
    let mut offered: Vec<Offered> = Vec::new();
    for (definition, (tool, listed)) in tools.iter().zip(listed).enumerate() {
        let spec = |name: String, description: Option<String>, parameters| ToolSpec {
            name,
            description,
            parameters,
        };
        match (&tool.kind, listed) {
            (ToolKind::Function, _) => offered.push(Offered {
                spec: spec(
                    tool.name.clone(),
                    tool.description.clone(),
                    tool.parameters.clone(),
                ),
                kind: "function",
                definition,
                remote: None,
            }),
            (ToolKind::Http { .. }, _) if http => offered.push(Offered {
                spec: spec(
                    tool.name.clone(),
                    tool.description.clone(),
                    tool.parameters.clone(),
                ),
                kind: "http",
                definition,
                remote: None,
            }),
            (ToolKind::Mcp { .. }, Some(Err(why))) => {
                return Err(format!(
                    "The tools of the MCP server '{}' could not be listed: {why}",
                    tool.name
                ));
            }
            (ToolKind::Mcp { .. }, Some(Ok(remote_tools))) => {
                for remote in remote_tools {
                    let name = mcp_tool_name(&tool.name, &remote.name);
                    if offered.iter().any(|o| o.spec.name == name)
                        || tools.iter().any(|t| t.name == name)
                    {
                        tracing::warn!(
                            server = %tool.name, tool = %remote.name,
                            "an MCP tool's name is taken in this run; it is not offered"
                        );
                        continue;
                    }
                    offered.push(Offered {
                        spec: spec(
                            name,
                            remote.description.or_else(|| tool.description.clone()),
                            remote.parameters,
                        ),
                        kind: "mcp",
                        definition,
                        remote: Some(remote.name),
                    });
                }
            }
            _ => {}
        }
    }
    Ok(offered)
}

/// One recorded call. Calls the client must answer have neither `result`
/// nor `error`; a call spool cannot make (an unknown tool, arguments that
/// are not a JSON object) gets its `error` at once, which the model sees as
/// the call's result.
pub(super) fn record(call: &ToolCall, offered: &[Offered]) -> Value {
    let at = time(now());
    let tool = offered.iter().find(|t| t.spec.name == call.name);
    let parsed = serde_json::from_str::<Value>(&call.arguments);
    let (arguments, error) = match (&parsed, tool) {
        (_, None) => (
            parsed
                .as_ref()
                .map_or_else(|_| json!(call.arguments), Value::clone),
            Some(format!(
                "There is no tool named '{}' in this run.",
                call.name
            )),
        ),
        (Ok(Value::Object(map)), Some(_)) => (Value::Object(map.clone()), None),
        (Ok(other), Some(_)) => (
            other.clone(),
            Some("The arguments must be a JSON object.".to_owned()),
        ),
        (Err(err), Some(_)) => (
            json!(call.arguments),
            Some(format!("The arguments are not valid JSON: {err}.")),
        ),
    };
    let done = error.is_some();
    json!({
        "id": call.id,
        "kind": tool.map(|t| t.kind),
        "tool_name": call.name,
        "arguments": arguments,
        "result": null,
        "error": error,
        "start_time": at,
        "end_time": if done { json!(at) } else { Value::Null },
    })
}

/// Whether the recorded call has no result or error yet.
fn open(record: &Value) -> bool {
    record["error"].is_null() && record["result"].is_null()
}

/// Whether the client must answer the recorded call.
pub(super) fn pending(record: &Value) -> bool {
    open(record) && record["kind"] == "function"
}

/// Makes the open `http` and `mcp` calls of `records` at once, filling in
/// each result or error.
pub(super) async fn call_server_tools(
    caller: &Arc<dyn ToolCaller>,
    tools: &[ToolDefinition],
    offered: &[Offered],
    records: &mut [Value],
) {
    let mut calls = tokio::task::JoinSet::new();
    for (i, record) in records.iter().enumerate() {
        if !open(record) || record["kind"] == "function" {
            continue;
        }
        let Some(tool) = offered
            .iter()
            .find(|t| record["tool_name"] == t.spec.name.as_str())
        else {
            continue;
        };
        let caller = caller.clone();
        let (definition, remote) = (tools[tool.definition].clone(), tool.remote.clone());
        let arguments = record["arguments"].clone();
        calls.spawn(async move {
            let answer = match remote {
                Some(name) => caller.call_mcp(&definition, &name, &arguments).await,
                None => caller.call_http(&definition, &arguments).await,
            };
            (i, answer)
        });
    }
    while let Some(done) = calls.join_next().await {
        let Ok((i, answer)) = done else { continue };
        let record = &mut records[i];
        match answer {
            Ok(body) => record["result"] = json!(body),
            Err(error) => record["error"] = json!(error),
        }
        record["end_time"] = json!(time(now()));
    }
}

/// Ends calls that will not run: the run ended first.
pub(super) fn abandon(records: &mut [Value], why: &str) {
    let at = time(now());
    for record in records.iter_mut().filter(|r| open(r)) {
        record["error"] = json!(why);
        record["end_time"] = json!(at);
    }
}

/// The text a model is given as the call's result.
pub(super) fn result_text(record: &Value) -> String {
    match (&record["error"], &record["result"]) {
        (Value::String(error), _) => format!("Error: {error}"),
        (_, Value::String(result)) => result.clone(),
        (_, Value::Null) => String::new(),
        (_, other) => other.to_string(),
    }
}

/// How the wait for the client's outputs ended, when not with outputs.
pub(super) enum Stopped {
    Cancelled,
    Failed(String),
    /// No outputs arrived within `tool_outputs_timeout`.
    Expired(String),
}

/// Moves the run to `requires_action` (a compare-and-set), stores
/// `run.requires_action`, and waits for the outputs of the pending calls
/// in `records`, which it fills in. `wait` counts the run's waits from 1.
pub(super) async fn wait_for_outputs(
    spool: &Spool,
    run: &mut Run,
    live: &LiveRef,
    writer: &EventWriter,
    records: &mut [Value],
    wait: u64,
) -> Result<(), Stopped> {
    let calls: Vec<Value> = records
        .iter()
        .filter(|r| pending(r))
        .map(|r| json!({ "id": r["id"], "name": r["tool_name"], "arguments": r["arguments"] }))
        .collect();
    let required = json!({ "wait": wait, "tool_calls": calls });
    writer.flush(run.id).await;
    match spool
        .store()
        .require_run_action(run.id, required.clone())
        .await
    {
        Ok(true) => {}
        Ok(false) => {
            return Err(Stopped::Failed(
                "The run was ended while it called tools.".into(),
            ));
        }
        Err(err) => {
            tracing::error!(error = %err, "could not store that a run waits for tool outputs");
            return Err(Stopped::Failed(
                "The run could not wait for tool outputs.".into(),
            ));
        }
    }
    run.status = RunStatus::RequiresAction;
    run.required_action = Some(required);
    writer.push(run.id, RunEventKind::RunRequiresAction(run.clone()));
    writer.flush(run.id).await;

    let limit = spool.config().tool_outputs_timeout;
    let deadline = tokio::time::Instant::now() + limit;
    let shared = spool.store().shared();
    let mut cancel = live.cancel_signal();
    let outputs = loop {
        match spool.store().take_run_tool_outputs(run.id).await {
            Ok(Some(outputs)) => break Ok(outputs),
            Ok(None) => {}
            Err(err) => tracing::warn!(error = %err, "could not read a run's tool outputs"),
        }
        if *cancel.borrow() {
            break Err(Stopped::Cancelled);
        }
        tokio::select! {
            biased;
            _ = cancel.changed() => break Err(Stopped::Cancelled),
            _ = tokio::time::sleep_until(deadline) => break Err(Stopped::Expired(format!(
                "No tool outputs arrived within {} seconds of run.requires_action; the run stopped waiting.",
                limit.as_secs()
            ))),
            _ = live.tool_outputs_arrived() => {}
            _ = tokio::time::sleep(OUTPUTS_LOOK_AGAIN), if shared => {}
        }
    };
    run.status = RunStatus::InProgress;
    run.required_action = None;
    let outputs = outputs?;
    let at = time(now());
    for output in outputs.as_array().into_iter().flatten() {
        let id = &output["tool_call_id"];
        if let Some(record) = records.iter_mut().find(|r| &r["id"] == id && pending(r)) {
            record["result"] = output["output"].clone();
            record["end_time"] = json!(at);
        }
    }
    abandon(records, "The client sent no output for this call.");
    Ok(())
}

/// A client's answer to one pending tool call.
#[derive(Clone, Debug)]
pub struct ToolOutput {
    pub tool_call_id: String,
    pub output: String,
}

impl Spool {
    /// Answers every pending tool call of a run in `requires_action` and
    /// lets it go on. Answers the run's events from the first, with how
    /// many waits came before this answer (see
    /// [`super::Subscription::outcome_after_waits`]). A run not waiting
    /// answers 409; an unknown, repeated or missing call id changes nothing.
    pub async fn submit_tool_outputs(
        &self,
        principal: &crate::Principal,
        scope: &crate::service::Scope,
        id: crate::RunId,
        outputs: Vec<ToolOutput>,
    ) -> Result<(super::Subscription, u64), crate::CoreError> {
        let run = self.run(principal, scope, id).await?;
        let required = match (&run.status, &run.required_action) {
            (RunStatus::RequiresAction, Some(required)) => required.clone(),
            _ => {
                return Err(crate::CoreError::Conflict(format!(
                    "The run is {}, not waiting for tool outputs.",
                    run.status.as_str()
                )));
            }
        };
        let waiting: Vec<&str> = required["tool_calls"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["id"].as_str())
            .collect();
        let mut errors = crate::ValidationErrors::new();
        let mut answered: Vec<&str> = Vec::new();
        let max = self.config().content_max_bytes;
        for (i, output) in outputs.iter().enumerate() {
            let field = format!("tool_outputs[{i}].tool_call_id");
            if !waiting.contains(&output.tool_call_id.as_str()) {
                errors.add(
                    field,
                    format!(
                        "The run is not waiting for a tool call '{}'.",
                        output.tool_call_id
                    ),
                );
            } else if answered.contains(&output.tool_call_id.as_str()) {
                errors.add(
                    field,
                    format!("The tool call '{}' is answered twice.", output.tool_call_id),
                );
            } else {
                answered.push(&output.tool_call_id);
            }
            if output.output.len() > max {
                errors.add(
                    format!("tool_outputs[{i}].output"),
                    format!("The output may not be greater than {max} bytes."),
                );
            }
        }
        let missing: Vec<&str> = waiting
            .iter()
            .filter(|id| !answered.contains(id))
            .copied()
            .collect();
        if !missing.is_empty() && errors.is_empty() {
            errors.add(
                "tool_outputs",
                format!(
                    "Every pending tool call must be answered at once; missing: {}.",
                    missing.join(", ")
                ),
            );
        }
        errors.into_result()?;
        let stored = json!(
            outputs
                .iter()
                .map(|o| json!({ "tool_call_id": o.tool_call_id, "output": o.output }))
                .collect::<Vec<_>>()
        );
        if !self.store().submit_run_tool_outputs(id, stored).await? {
            return Err(crate::CoreError::Conflict(
                "The run is no longer waiting for tool outputs.".into(),
            ));
        }
        // Its executor, when on this node; another node looks at the store.
        if let Some(live) = self.runtime().hub.get(id) {
            live.tool_outputs_stored();
        }
        let waits = required["wait"].as_u64().unwrap_or(1);
        Ok((self.run_events(principal, scope, id, 0).await?, waits))
    }
}
