//! Runs: admission (one in progress per thread, the rest queued in arrival
//! order), their end with the reply in the same transaction, and lists.

use super::engine::backend_error;
use super::keyset;
use super::messages;
use super::rows::{Blob, count, instant, int, micros, opt_instant, parse_text};
use rusqlite::{Connection, OptionalExtension, Row, params};
use spool_core::listing::{Cursor, Listing, Paging, cursor_page};
use spool_core::model::{FinishedRun, Message, Run, RunAdmission, RunStatus};
use spool_core::paging::Page;
use spool_core::{AgentId, MessageId, RunId, StoreError, ThreadId, Timestamp, UserId, WorkspaceId};

type Result<T> = std::result::Result<T, StoreError>;

const RUN_COLUMNS: &str = "id, thread_id, workspace_id, agent_id, user_id, model, status, temperature, max_tokens, \
     input_tokens, output_tokens, error, message_id, created_at, started_at, finished_at";

fn run_row(row: &Row<'_>) -> rusqlite::Result<Run> {
    let status: String = row.get(6)?;
    Ok(Run {
        id: RunId(row.get::<_, Blob>(0)?.0),
        thread_id: ThreadId(row.get::<_, Blob>(1)?.0),
        workspace_id: WorkspaceId(row.get::<_, Blob>(2)?.0),
        agent_id: row.get::<_, Option<Blob>>(3)?.map(|b| AgentId(b.0)),
        user_id: row.get::<_, Option<i64>>(4)?.map(UserId),
        model: row.get(5)?,
        status: parse_text(6, &status, RunStatus::parse)?,
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
    })
}

fn insert(conn: &Connection, run: &Run) -> Result<()> {
    conn.prepare_cached(&format!(
        "INSERT INTO runs ({RUN_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"
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
        ])
    })
    .map(drop)
    .map_err(backend_error)
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
    let message = match message {
        Some(message) => match messages::append(conn, message)? {
            Some(stored) => Some(stored),
            None => return Ok(RunAdmission::ThreadGone),
        },
        None => None,
    };
    insert(conn, &run)?;
    if run.status == RunStatus::InProgress {
        set_thread_status(conn, run.thread_id, "running")?;
        Ok(RunAdmission::Started { run, message })
    } else {
        Ok(RunAdmission::Queued { run, message })
    }
}

/// Ends `run` if it is still `expected` (a compare-and-set on the status):
/// `None`, with nothing written, when another writer moved it first.
pub(super) fn finish(
    conn: &Connection,
    run: &Run,
    expected: RunStatus,
    reply: Option<Message>,
) -> Result<Option<FinishedRun>> {
    let changed = conn
        .prepare_cached(
            "UPDATE runs SET status = ?2, input_tokens = ?3, output_tokens = ?4, error = ?5, message_id = ?6,
                    finished_at = ?7
             WHERE id = ?1 AND status = ?8",
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
                expected.as_str(),
            ])
        })
        .map_err(backend_error)?;
    if changed == 0 {
        return Ok(None);
    }
    let reply = match reply {
        Some(message) => messages::append(conn, message)?,
        None => None,
    };
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
        return Ok(Some(FinishedRun { reply, next: None }));
    }
    let next = conn
        .prepare_cached(&format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE thread_id = ?1 AND status = 'queued' ORDER BY created_at, id LIMIT 1"
        ))
        .and_then(|mut s| s.query_row([Blob(run.thread_id.0)], run_row).optional())
        .map_err(backend_error)?;
    match next {
        Some(mut next) => {
            let at = run.finished_at.unwrap_or_else(spool_core::now);
            // queued → in_progress, on the status it expects like every change.
            conn.prepare_cached(
                "UPDATE runs SET status = 'in_progress', started_at = ?2 WHERE id = ?1 AND status = 'queued'",
            )
            .and_then(|mut s| s.execute(params![Blob(next.id.0), micros(at)]))
            .map_err(backend_error)?;
            next.status = RunStatus::InProgress;
            next.started_at = Some(at);
            Ok(Some(FinishedRun {
                reply,
                next: Some(next),
            }))
        }
        None => {
            set_thread_status(conn, run.thread_id, "idle")?;
            Ok(Some(FinishedRun { reply, next: None }))
        }
    }
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

/// Newest first.
pub(super) fn list(conn: &Connection, thread: ThreadId, paging: Paging) -> Result<Listing<Run>> {
    let thread = Blob(thread.0);
    match paging {
        Paging::Offset(page) => {
            let total: i64 = conn
                .prepare_cached("SELECT count(*) FROM runs WHERE thread_id = ?1")
                .and_then(|mut s| s.query_row([&thread], |r| r.get(0)))
                .map_err(backend_error)?;
            let items = conn
                .prepare_cached(&format!(
                    "SELECT {RUN_COLUMNS} FROM runs WHERE thread_id = ?1 ORDER BY created_at DESC, id DESC LIMIT ?2 OFFSET ?3"
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
            let plan = keyset::plan(true, after, before);
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

pub(super) fn fail_unfinished(conn: &Connection, error: &str, at: Timestamp) -> Result<u64> {
    let threads: Vec<Blob> = conn
        .prepare_cached(
            "SELECT DISTINCT thread_id FROM runs WHERE status IN ('queued', 'in_progress')",
        )
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .map_err(backend_error)?;
    let failed = conn
        .prepare_cached(
            "UPDATE runs SET status = 'failed', error = ?1, finished_at = ?2 WHERE status IN ('queued', 'in_progress')",
        )
        .and_then(|mut s| s.execute(params![error, micros(at)]))
        .map_err(backend_error)?;
    for thread in threads {
        set_thread_status(conn, ThreadId(thread.0), "idle")?;
    }
    Ok(failed as u64)
}
