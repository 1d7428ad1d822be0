//! Runs: admission (one in progress per thread, the rest queued in arrival
//! order), their end with the reply in the same transaction, and lists.
//!
//! Admission and promotion take the thread's row lock first, so on one
//! thread they happen one at a time even across nodes; the partial unique
//! index `runs_one_in_progress` is only the backstop.

use super::error::{corrupt, db};
use super::messages::{self, signed};
use super::rows;
use super::thread_list::cursor_instant;
use spool_core::listing::{Cursor, Listing, Paging, cursor_page};
use spool_core::model::{FinishedRun, Message, Run, RunAdmission, RunStatus};
use spool_core::paging::Page;
use spool_core::store::StoreResult;
use spool_core::{AgentId, MessageId, RunId, StoreError, ThreadId, Timestamp, UserId, WorkspaceId};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Row};
use uuid::Uuid;

macro_rules! run_columns {
    () => {
        "id, thread_id, workspace_id, agent_id, user_id, model, status, temperature, max_tokens, \
         input_tokens, output_tokens, error, message_id, created_at, started_at, finished_at"
    };
}

/// `SELECT <run columns> FROM runs WHERE <condition>` as a `&'static str`.
macro_rules! select_runs {
    ($condition:literal) => {
        concat!("SELECT ", run_columns!(), " FROM runs WHERE ", $condition)
    };
}

/// The partial unique index that keeps one run in progress per thread.
const ONE_IN_PROGRESS: &str = "runs_one_in_progress";

fn run_row(row: &PgRow) -> sqlx::Result<Run> {
    let status: String = row.try_get("status")?;
    let tokens = |column: &str| {
        row.try_get::<Option<i64>, _>(column)
            .map(|n| n.map(rows::count))
    };
    Ok(Run {
        id: RunId(row.try_get("id")?),
        thread_id: ThreadId(row.try_get("thread_id")?),
        workspace_id: WorkspaceId(row.try_get("workspace_id")?),
        agent_id: row.try_get::<Option<Uuid>, _>("agent_id")?.map(AgentId),
        user_id: row.try_get::<Option<i64>, _>("user_id")?.map(UserId),
        model: row.try_get("model")?,
        status: RunStatus::parse(&status).ok_or_else(|| corrupt("run status"))?,
        temperature: row.try_get("temperature")?,
        max_tokens: row
            .try_get::<Option<i32>, _>("max_tokens")?
            .and_then(|v| u32::try_from(v).ok()),
        input_tokens: tokens("input_tokens")?,
        output_tokens: tokens("output_tokens")?,
        error: row.try_get("error")?,
        message_id: row.try_get::<Option<Uuid>, _>("message_id")?.map(MessageId),
        created_at: row.try_get("created_at")?,
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
    })
}

fn runs(found: &[PgRow]) -> StoreResult<Vec<Run>> {
    found
        .iter()
        .map(run_row)
        .collect::<Result<_, _>>()
        .map_err(db)
}

/// Takes the thread's row lock until commit; answers the thread's
/// workspace, or `None` when the thread is gone.
async fn lock_thread(conn: &mut PgConnection, thread: ThreadId) -> StoreResult<Option<Uuid>> {
    sqlx::query_scalar("SELECT workspace_id FROM threads WHERE id = $1 FOR UPDATE")
        .bind(thread.0)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)
}

pub(super) async fn create_run(
    pool: &PgPool,
    run: Run,
    message: Option<Message>,
    queue_if_busy: bool,
) -> StoreResult<RunAdmission> {
    // Should a writer ever slip past the thread lock, the unique index
    // refuses a second run in progress; admitting again sees the winner and
    // answers Busy (or Queued, when the caller wants to wait).
    match admit(pool, run.clone(), message.clone(), queue_if_busy).await {
        Err(StoreError::Unique(index)) if index == ONE_IN_PROGRESS => {
            admit(pool, run, message, queue_if_busy).await
        }
        other => other,
    }
}

async fn admit(
    pool: &PgPool,
    mut run: Run,
    message: Option<Message>,
    queue_if_busy: bool,
) -> StoreResult<RunAdmission> {
    let mut tx = super::idempotency::begin_write(pool).await?;
    if lock_thread(&mut tx, run.thread_id).await? != Some(run.workspace_id.0) {
        return Ok(RunAdmission::ThreadGone);
    }
    // What keeps the thread busy: the run in progress, else the oldest queued.
    let active: Option<Uuid> = sqlx::query_scalar(
        "SELECT id FROM runs WHERE thread_id = $1 AND status IN ('queued', 'in_progress') \
         ORDER BY status = 'in_progress' DESC, created_at, id LIMIT 1",
    )
    .bind(run.thread_id.0)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db)?;
    match active.map(RunId) {
        // Dropping the transaction rolls it back: nothing was written.
        Some(active) if !queue_if_busy => return Ok(RunAdmission::Busy { active }),
        Some(_) => {
            run.status = RunStatus::Queued;
            run.started_at = None;
        }
        None => {
            run.status = RunStatus::InProgress;
            // Admission, not creation (as on SQLite): never before created_at.
            run.started_at = Some(spool_core::now().max(run.created_at));
        }
    }
    let message = match message {
        Some(message) => match messages::append(&mut tx, message).await? {
            Some(stored) => Some(stored),
            None => return Ok(RunAdmission::ThreadGone),
        },
        None => None,
    };
    // Stores the run; one started makes its thread running.
    sqlx::query(concat!(
        "WITH stored AS (INSERT INTO runs (",
        run_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)) \
         UPDATE threads SET status = 'running' WHERE id = $2 AND $7 = 'in_progress'"
    ))
    .bind(run.id.0)
    .bind(run.thread_id.0)
    .bind(run.workspace_id.0)
    .bind(run.agent_id.map(|a| a.0))
    .bind(run.user_id.map(|u| u.0))
    .bind(&run.model)
    .bind(run.status.as_str())
    .bind(run.temperature)
    .bind(run.max_tokens.map(|v| i32::try_from(v).unwrap_or(i32::MAX)))
    .bind(signed(run.input_tokens))
    .bind(signed(run.output_tokens))
    .bind(&run.error)
    .bind(run.message_id.map(|m| m.0))
    .bind(run.created_at)
    .bind(run.started_at)
    .bind(run.finished_at)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    let admission = if run.status == RunStatus::InProgress {
        RunAdmission::Started { run, message }
    } else {
        RunAdmission::Queued { run, message }
    };
    tx.commit().await.map_err(db)?;
    Ok(admission)
}

/// Ends `run` if it is still `expected` (a compare-and-set on the status):
/// `None`, with nothing written, when another writer moved it first.
pub(super) async fn finish_run(
    pool: &PgPool,
    run: &Run,
    expected: RunStatus,
    reply: Option<Message>,
) -> StoreResult<Option<FinishedRun>> {
    let mut tx = super::idempotency::begin_write(pool).await?;
    // A thread that is gone took its runs along: the update below finds
    // nothing, as on SQLite.
    lock_thread(&mut tx, run.thread_id).await?;
    // The agent counts a run that started; a NULL id matches no agent.
    let agent = run.agent_id.filter(|_| run.started_at.is_some());
    let ended: i64 = sqlx::query_scalar(
        "WITH done AS (UPDATE runs SET status = $2, input_tokens = $3, output_tokens = $4, \
             error = $5, message_id = $6, finished_at = $7 WHERE id = $1 AND status = $9 \
             RETURNING 1), \
         used AS (UPDATE agents SET usage_count = usage_count + 1, last_used_at = $7 \
             WHERE id = $8 AND EXISTS (SELECT 1 FROM done)) \
         SELECT count(*) FROM done",
    )
    .bind(run.id.0)
    .bind(run.status.as_str())
    .bind(signed(run.input_tokens))
    .bind(signed(run.output_tokens))
    .bind(&run.error)
    .bind(reply.as_ref().map(|m| m.id.0))
    .bind(run.finished_at)
    .bind(agent.map(|a| a.0))
    .bind(expected.as_str())
    .fetch_one(&mut *tx)
    .await
    .map_err(db)?;
    if ended == 0 {
        // Dropping the transaction rolls it back: nothing was written.
        return Ok(None);
    }
    let reply = match reply {
        Some(message) => messages::append(&mut tx, message).await?,
        None => None,
    };
    // Starts the oldest queued run unless one is in progress; a thread with
    // neither (as the statement starts) is idle.
    let at = run.finished_at.unwrap_or_else(spool_core::now);
    let next = sqlx::query(concat!(
        "WITH idle AS (UPDATE threads SET status = 'idle' WHERE id = $1 AND NOT EXISTS (\
             SELECT 1 FROM runs WHERE thread_id = $1 AND status IN ('queued', 'in_progress'))) \
         UPDATE runs SET status = 'in_progress', started_at = $2 WHERE id = (\
             SELECT id FROM runs WHERE thread_id = $1 AND status = 'queued' \
             ORDER BY created_at, id LIMIT 1) \
         AND status = 'queued' \
         AND NOT EXISTS (SELECT 1 FROM runs WHERE thread_id = $1 AND status = 'in_progress') \
         RETURNING ",
        run_columns!()
    ))
    .bind(run.thread_id.0)
    .bind(at)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db)?;
    let next = next.as_ref().map(run_row).transpose().map_err(db)?;
    tx.commit().await.map_err(db)?;
    Ok(Some(FinishedRun { reply, next }))
}

pub(super) async fn run(
    pool: &PgPool,
    workspace: WorkspaceId,
    id: RunId,
) -> StoreResult<Option<Run>> {
    let row = sqlx::query(select_runs!("id = $1 AND workspace_id = $2"))
        .bind(id.0)
        .bind(workspace.0)
        .fetch_optional(pool)
        .await
        .map_err(db)?;
    row.as_ref().map(run_row).transpose().map_err(db)
}

/// Newest first; cursors key on (created_at in microseconds, id).
pub(super) async fn list_runs(
    pool: &PgPool,
    thread: ThreadId,
    paging: Paging,
) -> StoreResult<Listing<Run>> {
    match paging {
        Paging::Offset(page) => {
            let (limit, offset) = rows::limit_offset(page);
            let total: i64 = sqlx::query_scalar("SELECT count(*) FROM runs WHERE thread_id = $1")
                .bind(thread.0)
                .fetch_one(pool)
                .await
                .map_err(db)?;
            let found = sqlx::query(select_runs!(
                "thread_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"
            ))
            .bind(thread.0)
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await
            .map_err(db)?;
            Ok(Listing::Page(Page {
                items: runs(&found)?,
                total: rows::count(total),
                request: page,
            }))
        }
        Paging::Keyset {
            after,
            before,
            limit,
        } => {
            // `before` walks back from the cursor: oldest first, turned
            // round by `cursor_page`.
            let backwards = after.is_none() && before.is_some();
            let cursor = after.or(before);
            let sql = if backwards {
                select_runs!(
                    "thread_id = $1 AND (created_at, id) > ($2, $3) \
                     ORDER BY created_at ASC, id ASC LIMIT $4"
                )
            } else {
                select_runs!(
                    "thread_id = $1 AND (created_at, id) < ($2, $3) \
                     ORDER BY created_at DESC, id DESC LIMIT $4"
                )
            };
            // No cursor: from past the newest possible row.
            let (key, id) = cursor.map_or((i64::MAX, Uuid::max()), |c| (c.key, c.id));
            let found = sqlx::query(sql)
                .bind(thread.0)
                .bind(cursor_instant(key))
                .bind(id)
                .bind(i64::from(limit) + 1)
                .fetch_all(pool)
                .await
                .map_err(db)?;
            let page = cursor_page(runs(&found)?, limit, backwards, cursor.is_some(), |r| {
                Cursor {
                    key: r.created_at.timestamp_micros(),
                    id: r.id.0,
                }
            });
            Ok(Listing::Cursor(page))
        }
    }
}

/// Locks the threads first, in id order, as admission does (thread, then
/// runs): no deadlock with a run being admitted or finished meanwhile.
pub(super) async fn fail_unfinished_runs(
    pool: &PgPool,
    error: &str,
    at: Timestamp,
) -> StoreResult<u64> {
    let mut tx = super::idempotency::begin_write(pool).await?;
    let threads: Vec<Uuid> = sqlx::query_scalar(
        "SELECT id FROM threads WHERE id IN (\
             SELECT thread_id FROM runs WHERE status IN ('queued', 'in_progress')) \
         ORDER BY id FOR UPDATE",
    )
    .fetch_all(&mut *tx)
    .await
    .map_err(db)?;
    let failed: i64 = sqlx::query_scalar(
        "WITH failed AS (UPDATE runs SET status = 'failed', error = $2, finished_at = $3 \
             WHERE thread_id = ANY($1) AND status IN ('queued', 'in_progress') RETURNING 1), \
         idled AS (UPDATE threads SET status = 'idle' WHERE id = ANY($1)) \
         SELECT count(*) FROM failed",
    )
    .bind(&threads)
    .bind(error)
    .bind(at)
    .fetch_one(&mut *tx)
    .await
    .map_err(db)?;
    tx.commit().await.map_err(db)?;
    Ok(rows::count(failed))
}
