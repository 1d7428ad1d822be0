//! Runs: admission (one in progress per thread, the rest queued in arrival
//! order), their end with the reply in the same transaction, and lists.

use super::engine::backend_error;
use super::keyset;
use super::messages;
use super::rows::{Blob, count, instant, int, micros, opt_instant, parse_text};
use super::webhooks;
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde_json::Value;
use spool_core::listing::{Cursor, Listing, Paging, cursor_page};
use spool_core::model::{FinishedRun, Message, Run, RunAdmission, RunStatus};
use spool_core::paging::Page;
use spool_core::runs::{RunEvent, RunEventKind, codec};
use spool_core::store::{NewRunEvent, StoredRunEvent};
use spool_core::tools::{self, ToolChoice};
use spool_core::webhooks::WebhookEvent;
use spool_core::{AgentId, MessageId, RunId, StoreError, ThreadId, Timestamp, UserId, WorkspaceId};
use std::collections::HashMap;

type Result<T> = std::result::Result<T, StoreError>;

const RUN_COLUMNS: &str = "id, thread_id, workspace_id, agent_id, user_id, model, status, temperature, max_tokens, \
     input_tokens, output_tokens, error, message_id, created_at, started_at, finished_at, tools, tool_choice, required_action, instructions, additional_instructions, metadata, top_p, finish_reason, history_limit";

fn run_row(row: &Row<'_>) -> rusqlite::Result<Run> {
    let status: String = row.get(6)?;
    let required_action = row
        .get::<_, Option<String>>(18)?
        .map(|text| json_column(18, text))
        .transpose()?;
    Ok(Run {
        id: RunId(row.get::<_, Blob>(0)?.0),
        thread_id: ThreadId(row.get::<_, Blob>(1)?.0),
        workspace_id: WorkspaceId(row.get::<_, Blob>(2)?.0),
        agent_id: row.get::<_, Option<Blob>>(3)?.map(|b| AgentId(b.0)),
        user_id: row.get::<_, Option<i64>>(4)?.map(UserId),
        model: row.get(5)?,
        status: match (parse_text(6, &status, RunStatus::parse)?, &required_action) {
            (RunStatus::InProgress, Some(_)) => RunStatus::RequiresAction,
            (status, _) => status,
        },
        temperature: row.get(7)?,
        max_tokens: row
            .get::<_, Option<i64>>(8)?
            .and_then(|v| u32::try_from(v).ok()),
        input_tokens: row.get::<_, Option<i64>>(9)?.map(count),
        output_tokens: row.get::<_, Option<i64>>(10)?.map(count),
        error: row.get(11)?,
        message_id: row.get::<_, Option<Blob>>(12)?.map(|b| MessageId(b.0)),
        created_at: instant(row.get(13)?)?,
        started_at: opt_instant(row.get(14)?)?,
        finished_at: opt_instant(row.get(15)?)?,
        tools: json_column(16, row.get(16)?).map(tools::tools_from_stored)?,
        tool_choice: json_column(17, row.get(17)?).map(|v| ToolChoice::from_stored(&v))?,
        required_action,
        instructions: row.get(19)?,
        additional_instructions: row.get(20)?,
        metadata: match json_column(21, row.get(21)?)? {
            serde_json::Value::Object(map) => map,
            _ => Default::default(),
        },
        top_p: row.get(22)?,
        finish_reason: row.get(23)?,
        history_limit: row
            .get::<_, Option<i64>>(24)?
            .and_then(|v| u32::try_from(v).ok()),
    })
}

fn json_column(column: usize, text: String) -> rusqlite::Result<serde_json::Value> {
    serde_json::from_str(&text)
        .map_err(|_| rusqlite::Error::InvalidColumnType(column, text, rusqlite::types::Type::Text))
}

/// Stores the run; a queued one keeps its user message (the core's JSON).
fn insert(conn: &Connection, run: &Run, queued_message: Option<String>) -> Result<()> {
    conn.prepare_cached(&format!(
        "INSERT INTO runs ({RUN_COLUMNS}, queued_message) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26)"
    ))
    .and_then(|mut s| {
        s.execute(params![
            Blob(run.id.0),
            Blob(run.thread_id.0),
            Blob(run.workspace_id.0),
            run.agent_id.map(|a| Blob(a.0)),
            run.user_id.map(|u| u.0),
            run.model,
            run.status.as_str(),
            run.temperature,
            run.max_tokens,
            run.input_tokens.map(int),
            run.output_tokens.map(int),
            run.error,
            run.message_id.map(|m| Blob(m.0)),
            micros(run.created_at),
            run.started_at.map(micros),
            run.finished_at.map(micros),
            tools::tools_to_stored(&run.tools).to_string(),
            run.tool_choice.to_stored().to_string(),
            run.required_action.as_ref().map(|v| v.to_string()),
            run.instructions,
            run.additional_instructions,
            serde_json::Value::Object(run.metadata.clone()).to_string(),
            run.top_p,
            run.finish_reason,
            run.history_limit,
            queued_message,
        ])
    })
    .map(drop)
    .map_err(backend_error)
}

fn insert_event(conn: &Connection, run: RunId, seq: u64, kind: &RunEventKind) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO run_events (run_id, seq, event, data, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .and_then(|mut s| {
        s.execute(params![
            Blob(run.0),
            int(seq),
            kind.name(),
            codec::encode(kind),
            micros(spool_core::now()),
        ])
    })
    .map(drop)
    .map_err(backend_error)
}

/// Takes a queued run's waiting user message out of the run and appends it
/// to the thread, as sent at `at`.
fn append_queued_message(conn: &Connection, run: RunId, at: Timestamp) -> Result<()> {
    let kept: Option<String> = conn
        .prepare_cached("SELECT queued_message FROM runs WHERE id = ?1")
        .and_then(|mut s| s.query_row([Blob(run.0)], |r| r.get(0)).optional())
        .map_err(backend_error)?
        .flatten();
    let Some(kept) = kept else { return Ok(()) };
    conn.prepare_cached("UPDATE runs SET queued_message = NULL WHERE id = ?1")
        .and_then(|mut s| s.execute([Blob(run.0)]))
        .map_err(backend_error)?;
    let Some(mut message) = codec::decode_message(&kept) else {
        return Err(StoreError::Backend(
            "a queued run's stored message does not decode".into(),
        ));
    };
    message.created_at = at;
    message.updated_at = at;
    messages::append(conn, message).map(drop)
}

fn set_thread_status(conn: &Connection, thread: ThreadId, status: &str) -> Result<()> {
    conn.prepare_cached("UPDATE threads SET status = ?2 WHERE id = ?1")
        .and_then(|mut s| s.execute(params![Blob(thread.0), status]))
        .map(drop)
        .map_err(backend_error)
}

fn active(conn: &Connection, thread: ThreadId) -> Result<Option<RunId>> {
    conn.prepare_cached(
        "SELECT id FROM runs WHERE thread_id = ?1 AND status IN ('queued', 'in_progress')
         ORDER BY status = 'in_progress' DESC, created_at LIMIT 1",
    )
    .and_then(|mut s| {
        s.query_row([Blob(thread.0)], |r| r.get::<_, Blob>(0))
            .optional()
    })
    .map(|id| id.map(|b| RunId(b.0)))
    .map_err(backend_error)
}

pub(super) fn create(
    conn: &Connection,
    mut run: Run,
    message: Option<Message>,
    queue_if_busy: bool,
) -> Result<RunAdmission> {
    let exists: Option<i64> = conn
        .prepare_cached("SELECT 1 FROM threads WHERE id = ?1 AND workspace_id = ?2")
        .and_then(|mut s| {
            s.query_row(
                params![Blob(run.thread_id.0), Blob(run.workspace_id.0)],
                |r| r.get(0),
            )
            .optional()
        })
        .map_err(backend_error)?;
    if exists.is_none() {
        return Ok(RunAdmission::ThreadGone);
    }
    let busy = active(conn, run.thread_id)?;
    match busy {
        Some(active) if !queue_if_busy => return Ok(RunAdmission::Busy { active }),
        Some(_) => {
            run.status = RunStatus::Queued;
            run.started_at = None;
        }
        None => {
            run.status = RunStatus::InProgress;
            // Admission, not creation: an interrupting run was created before
            // it waited for the one it stopped.
            run.started_at = Some(spool_core::now().max(run.created_at));
        }
    }
    if run.status == RunStatus::Queued {
        // The message waits with its run (see `append_queued_message`).
        insert(conn, &run, message.as_ref().map(codec::encode_message))?;
        insert_event(conn, run.id, 1, &RunEventKind::RunCreated(run.clone()))?;
        return Ok(RunAdmission::Queued { run, message });
    }
    let message = match message {
        Some(message) => match messages::append(conn, message)? {
            Some(stored) => Some(stored),
            None => return Ok(RunAdmission::ThreadGone),
        },
        None => None,
    };
    insert(conn, &run, None)?;
    insert_event(conn, run.id, 1, &RunEventKind::RunCreated(run.clone()))?;
    set_thread_status(conn, run.thread_id, "running")?;
    Ok(RunAdmission::Started { run, message })
}

/// Ends `run` if it is still `expected` (a compare-and-set on the status):
/// `None`, with nothing written, when another writer moved it first.
///
/// With `expired` (`at`, `unleased_before`) it also expects the run's lease
/// to have run out (see [`expired`]).
pub(super) fn finish(
    conn: &Connection,
    run: &Run,
    expected: RunStatus,
    reply: Option<Message>,
    expired: Option<(Timestamp, Timestamp)>,
) -> Result<Option<FinishedRun>> {
    let changed = conn
        .prepare_cached(
            "UPDATE runs SET status = ?2, input_tokens = ?3, output_tokens = ?4, error = ?5, message_id = ?6,
                    finished_at = ?7, lease_holder = NULL, lease_until = NULL,
                    required_action = NULL, tool_outputs = NULL, finish_reason = ?11
             WHERE id = ?1 AND status = ?8
               AND (?9 IS NULL OR lease_until < ?9 OR (lease_until IS NULL AND started_at < ?10))",
        )
        .and_then(|mut s| {
            s.execute(params![
                Blob(run.id.0),
                run.status.as_str(),
                run.input_tokens.map(int),
                run.output_tokens.map(int),
                run.error,
                reply.as_ref().map(|m| Blob(m.id.0)),
                run.finished_at.map(micros),
                expected.stored_str(),
                expired.map(|(at, _)| micros(at)),
                expired.map(|(_, before)| micros(before)),
                run.finish_reason,
            ])
        })
        .map_err(backend_error)?;
    if changed == 0 {
        return Ok(None);
    }
    let at = run.finished_at.unwrap_or_else(spool_core::now);
    if let Some(event) = WebhookEvent::of_end(run.status) {
        webhooks::enqueue(conn, run, event, at)?;
    }
    if expected == RunStatus::Queued {
        // Cancelled before it started: its question is kept all the same.
        append_queued_message(conn, run.id, at)?;
    }
    let reply = match reply {
        Some(message) => messages::append(conn, message)?,
        None => None,
    };
    let events = append_end_events(conn, run, reply.as_ref())?;
    if let Some(agent) = run.agent_id
        && run.started_at.is_some()
    {
        conn.prepare_cached(
            "UPDATE agents SET usage_count = usage_count + 1, last_used_at = ?2 WHERE id = ?1",
        )
        .and_then(|mut s| s.execute(params![Blob(agent.0), run.finished_at.map(micros)]))
        .map_err(backend_error)?;
    }
    let in_progress: Option<i64> = conn
        .prepare_cached("SELECT 1 FROM runs WHERE thread_id = ?1 AND status = 'in_progress'")
        .and_then(|mut s| {
            s.query_row([Blob(run.thread_id.0)], |r| r.get(0))
                .optional()
        })
        .map_err(backend_error)?;
    if in_progress.is_some() {
        return Ok(Some(FinishedRun {
            reply,
            next: None,
            events,
        }));
    }
    let next = conn
        .prepare_cached(&format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE thread_id = ?1 AND status = 'queued' ORDER BY created_at, id LIMIT 1"
        ))
        .and_then(|mut s| s.query_row([Blob(run.thread_id.0)], run_row).optional())
        .map_err(backend_error)?;
    match next {
        Some(mut next) => {
            // queued → in_progress, on the status it expects like every change.
            conn.prepare_cached(
                "UPDATE runs SET status = 'in_progress', started_at = ?2 WHERE id = ?1 AND status = 'queued'",
            )
            .and_then(|mut s| s.execute(params![Blob(next.id.0), micros(at)]))
            .map_err(backend_error)?;
            append_queued_message(conn, next.id, at)?;
            next.status = RunStatus::InProgress;
            next.started_at = Some(at);
            Ok(Some(FinishedRun {
                reply,
                next: Some(next),
                events,
            }))
        }
        None => {
            set_thread_status(conn, run.thread_id, "idle")?;
            Ok(Some(FinishedRun {
                reply,
                next: None,
                events,
            }))
        }
    }
}

/// The run's last events after its stored ones: the stored reply, the end
/// the run's status says, `done`.
fn append_end_events(
    conn: &Connection,
    run: &Run,
    reply: Option<&Message>,
) -> Result<Vec<RunEvent>> {
    let last: i64 = conn
        .prepare_cached("SELECT coalesce(max(seq), 0) FROM run_events WHERE run_id = ?1")
        .and_then(|mut s| s.query_row([Blob(run.id.0)], |r| r.get(0)))
        .map_err(backend_error)?;
    let mut events = Vec::with_capacity(3);
    let mut seq = count(last);
    for kind in RunEventKind::ending(run, reply) {
        seq += 1;
        insert_event(conn, run.id, seq, &kind)?;
        events.push(RunEvent { id: seq, kind });
    }
    Ok(events)
}

/// See [`spool_core::Store::append_run_events`].
pub(super) fn append_events(conn: &Connection, events: &[NewRunEvent]) -> Result<Vec<RunId>> {
    let mut open: HashMap<RunId, bool> = HashMap::new();
    for event in events {
        let in_progress = match open.get(&event.run) {
            Some(known) => *known,
            None => {
                let found: Option<i64> = conn
                    .prepare_cached("SELECT 1 FROM runs WHERE id = ?1 AND status = 'in_progress'")
                    .and_then(|mut s| s.query_row([Blob(event.run.0)], |r| r.get(0)).optional())
                    .map_err(backend_error)?;
                *open.entry(event.run).or_insert(found.is_some())
            }
        };
        if in_progress {
            conn.prepare_cached(
                "INSERT INTO run_events (run_id, seq, event, data, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    Blob(event.run.0),
                    int(event.seq),
                    event.event,
                    event.data,
                    micros(spool_core::now()),
                ])
            })
            .map_err(backend_error)?;
        }
    }
    Ok(open
        .into_iter()
        .filter_map(|(run, in_progress)| (!in_progress).then_some(run))
        .collect())
}

pub(super) fn events(
    conn: &Connection,
    run: RunId,
    after: u64,
    limit: u32,
) -> Result<Vec<StoredRunEvent>> {
    conn.prepare_cached(
        "SELECT seq, event, data FROM run_events WHERE run_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
    )
    .and_then(|mut s| {
        s.query_map(params![Blob(run.0), int(after), limit], |r| {
            Ok(StoredRunEvent {
                seq: count(r.get(0)?),
                event: r.get(1)?,
                data: r.get(2)?,
            })
        })?
        .collect()
    })
    .map_err(backend_error)
}

pub(super) fn delete_events(conn: &Connection, before: Timestamp, limit: u32) -> Result<u64> {
    conn.prepare_cached(
        "DELETE FROM run_events WHERE (run_id, seq) IN (
             SELECT run_id, seq FROM run_events WHERE created_at < ?1 LIMIT ?2)",
    )
    .and_then(|mut s| s.execute(params![micros(before), limit]))
    .map(|n| n as u64)
    .map_err(backend_error)
}

pub(super) fn get(conn: &Connection, workspace: WorkspaceId, id: RunId) -> Result<Option<Run>> {
    conn.prepare_cached(&format!(
        "SELECT {RUN_COLUMNS} FROM runs WHERE id = ?1 AND workspace_id = ?2"
    ))
    .and_then(|mut s| {
        s.query_row(params![Blob(id.0), Blob(workspace.0)], run_row)
            .optional()
    })
    .map_err(backend_error)
}

/// Newest first, or oldest first.
pub(super) fn list(
    conn: &Connection,
    thread: ThreadId,
    paging: Paging,
    descending: bool,
) -> Result<Listing<Run>> {
    let thread = Blob(thread.0);
    match paging {
        Paging::Offset(page) => {
            let total: i64 = conn
                .prepare_cached("SELECT count(*) FROM runs WHERE thread_id = ?1")
                .and_then(|mut s| s.query_row([&thread], |r| r.get(0)))
                .map_err(backend_error)?;
            let items = conn
                .prepare_cached(&format!(
                    "SELECT {RUN_COLUMNS} FROM runs WHERE thread_id = ?1 ORDER BY created_at {order}, id {order} LIMIT ?2 OFFSET ?3",
                    order = if descending { "DESC" } else { "ASC" }
                ))
                .and_then(|mut s| s.query_map(params![thread, page.per_page, int(page.offset())], run_row)?.collect())
                .map_err(backend_error)?;
            Ok(Listing::Page(Page {
                items,
                total: count(total),
                request: page,
            }))
        }
        Paging::Keyset {
            after,
            before,
            limit,
        } => {
            let plan = keyset::plan(descending, after, before);
            let (op, key, id) = match plan.bound {
                Some((op, cursor)) => (op, cursor.key, cursor.id),
                None if plan.order == "DESC" => ("<", i64::MAX, uuid::Uuid::max()),
                None => (">", i64::MIN, uuid::Uuid::nil()),
            };
            let order = plan.order;
            let rows: Vec<Run> = conn
                .prepare_cached(&format!(
                    "SELECT {RUN_COLUMNS} FROM runs WHERE thread_id = ?1 AND (created_at, id) {op} (?2, ?3)
                     ORDER BY created_at {order}, id {order} LIMIT ?4"
                ))
                .and_then(|mut s| s.query_map(params![thread, key, Blob(id), limit + 1], run_row)?.collect())
                .map_err(backend_error)?;
            Ok(Listing::Cursor(cursor_page(
                rows,
                limit,
                plan.backwards,
                plan.had_cursor,
                |r: &Run| Cursor {
                    key: micros(r.created_at),
                    id: r.id.0,
                },
            )))
        }
    }
}

/// See [`spool_core::Store::set_run_metadata`].
pub(super) fn set_metadata(
    conn: &Connection,
    workspace: WorkspaceId,
    id: RunId,
    metadata: &serde_json::Map<String, Value>,
) -> Result<Option<Run>> {
    conn.prepare_cached(&format!(
        "UPDATE runs SET metadata = ?3 WHERE id = ?1 AND workspace_id = ?2 RETURNING {RUN_COLUMNS}"
    ))
    .and_then(|mut s| {
        s.query_row(
            params![
                Blob(id.0),
                Blob(workspace.0),
                Value::Object(metadata.clone()).to_string()
            ],
            run_row,
        )
        .optional()
    })
    .map_err(backend_error)
}

/// See [`spool_core::Store::expired_runs`].
pub(super) fn expired(
    conn: &Connection,
    at: Timestamp,
    unleased_before: Timestamp,
    limit: u32,
) -> Result<Vec<Run>> {
    conn.prepare_cached(&format!(
        "SELECT {RUN_COLUMNS} FROM runs WHERE status = 'in_progress'
           AND (lease_until < ?1 OR (lease_until IS NULL AND started_at < ?2))
         ORDER BY started_at, id LIMIT ?3"
    ))
    .and_then(|mut s| {
        s.query_map(params![micros(at), micros(unleased_before), limit], run_row)?
            .collect()
    })
    .map_err(backend_error)
}

/// See [`spool_core::Store::lease_runs`].
pub(super) fn lease(
    conn: &Connection,
    runs: &[RunId],
    holder: &str,
    until: Timestamp,
) -> Result<Vec<RunId>> {
    let mut held = Vec::with_capacity(runs.len());
    let mut renew = conn
        .prepare_cached(
            "UPDATE runs SET lease_holder = ?2, lease_until = ?3
             WHERE id = ?1 AND status = 'in_progress' AND cancel_requested_at IS NULL
               AND (lease_holder IS NULL OR lease_holder = ?2)",
        )
        .map_err(backend_error)?;
    for run in runs {
        if renew
            .execute(params![Blob(run.0), holder, micros(until)])
            .map_err(backend_error)?
            == 1
        {
            held.push(*run);
        }
    }
    Ok(held)
}

/// See [`spool_core::Store::request_run_cancel`].
pub(super) fn request_cancel(conn: &Connection, run: RunId) -> Result<bool> {
    conn.prepare_cached(
        "UPDATE runs SET cancel_requested_at = ?2 WHERE id = ?1 AND status = 'in_progress'",
    )
    .and_then(|mut s| s.execute(params![Blob(run.0), micros(spool_core::now())]))
    .map(|n| n == 1)
    .map_err(backend_error)
}

/// See [`spool_core::Store::require_run_action`].
pub(super) fn require_action(conn: &Connection, run: RunId, calls: &Value) -> Result<bool> {
    let changed = conn
        .prepare_cached(
            "UPDATE runs SET required_action = ?2, tool_outputs = NULL
             WHERE id = ?1 AND status = 'in_progress' AND required_action IS NULL",
        )
        .and_then(|mut s| s.execute(params![Blob(run.0), calls.to_string()]))
        .map_err(backend_error)?;
    if changed == 0 {
        return Ok(false);
    }
    let waiting = conn
        .prepare_cached(&format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = ?1"))
        .and_then(|mut s| s.query_row([Blob(run.0)], run_row))
        .map_err(backend_error)?;
    let event = WebhookEvent::RunRequiresAction;
    webhooks::enqueue(conn, &waiting, event, spool_core::now())?;
    Ok(true)
}

/// See [`spool_core::Store::submit_run_tool_outputs`].
pub(super) fn submit_tool_outputs(conn: &Connection, run: RunId, outputs: &Value) -> Result<bool> {
    conn.prepare_cached(
        "UPDATE runs SET required_action = NULL, tool_outputs = ?2
         WHERE id = ?1 AND status = 'in_progress' AND required_action IS NOT NULL",
    )
    .and_then(|mut s| s.execute(params![Blob(run.0), outputs.to_string()]))
    .map(|n| n == 1)
    .map_err(backend_error)
}

/// See [`spool_core::Store::take_run_tool_outputs`]. The writer is the
/// only one, so reading and clearing in its transaction is one step.
pub(super) fn take_tool_outputs(conn: &Connection, run: RunId) -> Result<Option<Value>> {
    let taken: Option<String> = conn
        .prepare_cached("SELECT tool_outputs FROM runs WHERE id = ?1")
        .and_then(|mut s| s.query_row([Blob(run.0)], |r| r.get(0)).optional())
        .map_err(backend_error)?
        .flatten();
    let Some(text) = taken else { return Ok(None) };
    conn.prepare_cached("UPDATE runs SET tool_outputs = NULL WHERE id = ?1")
        .and_then(|mut s| s.execute([Blob(run.0)]))
        .map_err(backend_error)?;
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| StoreError::Backend(Box::new(e)))
}
