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
use spool_core::runs::{RunEvent, RunEventKind, codec};
use spool_core::store::{NewRunEvent, StoreResult, StoredRunEvent};
use spool_core::tools::{self, ToolChoice};
use spool_core::webhooks::WebhookEvent;
use spool_core::{AgentId, MessageId, RunId, StoreError, ThreadId, Timestamp, UserId, WorkspaceId};
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool, Row};
use uuid::Uuid;

macro_rules! run_columns {
    () => {
        "id, thread_id, workspace_id, agent_id, user_id, model, status, temperature, max_tokens, \
         input_tokens, output_tokens, error, message_id, created_at, started_at, finished_at, \
         tools, tool_choice, required_action, instructions, additional_instructions, metadata, \
         top_p, finish_reason, history_limit"
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
    let required_action = row
        .try_get::<Option<Json<serde_json::Value>>, _>("required_action")?
        .map(|Json(v)| v);
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
        status: match RunStatus::parse(&status).ok_or_else(|| corrupt("run status"))? {
            RunStatus::InProgress if required_action.is_some() => RunStatus::RequiresAction,
            status => status,
        },
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
        tools: tools::tools_from_stored(row.try_get::<Json<_>, _>("tools")?.0),
        tool_choice: ToolChoice::from_stored(
            &row.try_get::<Json<serde_json::Value>, _>("tool_choice")?.0,
        ),
        required_action,
        instructions: row.try_get("instructions")?,
        additional_instructions: row.try_get("additional_instructions")?,
        metadata: row
            .try_get::<Json<serde_json::Map<String, serde_json::Value>>, _>("metadata")?
            .0,
        top_p: row.try_get("top_p")?,
        finish_reason: row.try_get("finish_reason")?,
        history_limit: row
            .try_get::<Option<i32>, _>("history_limit")?
            .and_then(|v| u32::try_from(v).ok()),
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
    // A queued run's message waits with it, to be appended when it starts.
    let (message, queued_message) = match message {
        Some(message) if run.status == RunStatus::Queued => {
            let kept = codec::encode_message(&message);
            (Some(message), Some(kept))
        }
        Some(message) => match messages::append(&mut tx, message).await? {
            Some(stored) => (Some(stored), None),
            None => return Ok(RunAdmission::ThreadGone),
        },
        None => (None, None),
    };
    // Stores the run with its first event; one started makes its thread running.
    let created = RunEventKind::RunCreated(run.clone());
    sqlx::query(concat!(
        "WITH stored AS (INSERT INTO runs (",
        run_columns!(),
        ", queued_message) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26)), \
         created AS (INSERT INTO run_events (run_id, seq, event, data) VALUES ($1, 1, $27, $28)) \
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
    .bind(Json(tools::tools_to_stored(&run.tools)))
    .bind(Json(run.tool_choice.to_stored()))
    .bind(run.required_action.as_ref().map(Json))
    .bind(&run.instructions)
    .bind(&run.additional_instructions)
    .bind(Json(&run.metadata))
    .bind(run.top_p)
    .bind(&run.finish_reason)
    .bind(run.history_limit.map(|v| i32::try_from(v).unwrap_or(i32::MAX)))
    .bind(queued_message)
    .bind(created.name())
    .bind(codec::encode(&created))
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
///
/// With `expired` (`at`, `unleased_before`) it also expects the run's lease
/// to have run out (see [`expired_runs`]).
pub(super) async fn finish_run(
    pool: &PgPool,
    run: &Run,
    expected: RunStatus,
    reply: Option<Message>,
    expired: Option<(Timestamp, Timestamp)>,
) -> StoreResult<Option<FinishedRun>> {
    let mut tx = super::idempotency::begin_write(pool).await?;
    // A thread that is gone took its runs along: the update below finds
    // nothing, as on SQLite.
    lock_thread(&mut tx, run.thread_id).await?;
    // The agent counts a run that started; a NULL id matches no agent. A
    // queued run's waiting message comes back with the update.
    let agent = run.agent_id.filter(|_| run.started_at.is_some());
    let ended: Option<Option<String>> = sqlx::query_scalar(
        "WITH done AS (UPDATE runs r SET status = $2, input_tokens = $3, output_tokens = $4, \
             error = $5, message_id = $6, finished_at = $7, queued_message = NULL, \
             lease_holder = NULL, lease_until = NULL, required_action = NULL, \
             tool_outputs = NULL, finish_reason = $12 \
             FROM (SELECT queued_message AS kept FROM runs WHERE id = $1) old \
             WHERE r.id = $1 AND r.status = $9 AND ($10::timestamptz IS NULL \
                 OR r.lease_until < $10 OR (r.lease_until IS NULL AND r.started_at < $11)) \
             RETURNING old.kept), \
         used AS (UPDATE agents SET usage_count = usage_count + 1, last_used_at = $7 \
             WHERE id = $8 AND EXISTS (SELECT 1 FROM done)) \
         SELECT kept FROM done",
    )
    .bind(run.id.0)
    .bind(run.status.as_str())
    .bind(signed(run.input_tokens))
    .bind(signed(run.output_tokens))
    .bind(&run.error)
    .bind(reply.as_ref().map(|m| m.id.0))
    .bind(run.finished_at)
    .bind(agent.map(|a| a.0))
    .bind(expected.stored_str())
    .bind(expired.map(|(at, _)| at))
    .bind(expired.map(|(_, before)| before))
    .bind(&run.finish_reason)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db)?;
    let Some(kept) = ended else {
        // Dropping the transaction rolls it back: nothing was written.
        return Ok(None);
    };
    let at = run.finished_at.unwrap_or_else(spool_core::now);
    if let Some(event) = WebhookEvent::of_end(run.status) {
        super::webhooks::enqueue(&mut tx, run, event, at).await?;
    }
    // Cancelled before it started: its question is kept all the same.
    append_queued_message(&mut tx, kept, at).await?;
    let reply = match reply {
        Some(message) => messages::append(&mut tx, message).await?,
        None => None,
    };
    let events = append_end_events(&mut tx, run, reply.as_ref()).await?;
    if let Some(last) = events.last() {
        // Followers on every node wake once this commits.
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(super::signals::CHANNEL)
            .bind(super::signals::committed([(run.id, last.id)]).concat())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
    }
    // Starts the oldest queued run unless one is in progress; a thread with
    // neither (as the statement starts) is idle.
    let next = sqlx::query(concat!(
        "WITH idle AS (UPDATE threads SET status = 'idle' WHERE id = $1 AND NOT EXISTS (\
             SELECT 1 FROM runs WHERE thread_id = $1 AND status IN ('queued', 'in_progress'))) \
         UPDATE runs r SET status = 'in_progress', started_at = $2, queued_message = NULL \
         FROM (SELECT id AS queued_id, queued_message AS kept FROM runs \
             WHERE thread_id = $1 AND status = 'queued' ORDER BY created_at, id LIMIT 1) q \
         WHERE r.id = q.queued_id AND r.status = 'queued' \
         AND NOT EXISTS (SELECT 1 FROM runs WHERE thread_id = $1 AND status = 'in_progress') \
         RETURNING q.kept, ",
        run_columns!()
    ))
    .bind(run.thread_id.0)
    .bind(at)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db)?;
    let next = match next {
        Some(row) => {
            let kept: Option<String> = row.try_get("kept").map_err(db)?;
            append_queued_message(&mut tx, kept, at).await?;
            Some(run_row(&row).map_err(db)?)
        }
        None => None,
    };
    tx.commit().await.map_err(db)?;
    Ok(Some(FinishedRun {
        reply,
        next,
        events,
    }))
}

/// Appends a queued run's waiting user message (the core's JSON of it) to
/// its thread, as sent at `at`.
async fn append_queued_message(
    conn: &mut PgConnection,
    kept: Option<String>,
    at: Timestamp,
) -> StoreResult<()> {
    let Some(kept) = kept else { return Ok(()) };
    let mut message =
        codec::decode_message(&kept).ok_or_else(|| db(corrupt("queued run message")))?;
    message.created_at = at;
    message.updated_at = at;
    messages::append(conn, message).await.map(drop)
}

/// The run's last events after its stored ones, in one statement.
async fn append_end_events(
    conn: &mut PgConnection,
    run: &Run,
    reply: Option<&Message>,
) -> StoreResult<Vec<RunEvent>> {
    let kinds = RunEventKind::ending(run, reply);
    let names: Vec<&str> = kinds.iter().map(RunEventKind::name).collect();
    let data: Vec<String> = kinds.iter().map(codec::encode).collect();
    let seqs: Vec<i32> = sqlx::query_scalar(
        "INSERT INTO run_events (run_id, seq, event, data) \
         SELECT $1, m.last + e.n, e.event, e.data \
         FROM (SELECT coalesce(max(seq), 0) AS last FROM run_events WHERE run_id = $1) m, \
             unnest($2::text[], $3::text[]) WITH ORDINALITY AS e(event, data, n) \
         ORDER BY e.n RETURNING seq",
    )
    .bind(run.id.0)
    .bind(&names)
    .bind(&data)
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    let mut seqs = seqs;
    seqs.sort_unstable();
    Ok(seqs
        .into_iter()
        .zip(kinds)
        .map(|(seq, kind)| RunEvent {
            id: u64::try_from(seq).unwrap_or_default(),
            kind,
        })
        .collect())
}

/// See [`spool_core::Store::append_run_events`]: one statement for every
/// run's events. A run's row is share-locked meanwhile, so its end (which
/// updates it) comes wholly before or after, never in between.
pub(super) async fn append_run_events(
    pool: &PgPool,
    events: Vec<NewRunEvent>,
) -> StoreResult<Vec<RunId>> {
    // Every node's followers of these runs wake once this commits.
    let payloads = super::signals::committed(events.iter().map(|e| (e.run, e.seq)));
    let mut runs = Vec::with_capacity(events.len());
    let mut seqs = Vec::with_capacity(events.len());
    let mut names = Vec::with_capacity(events.len());
    let mut data = Vec::with_capacity(events.len());
    for event in events {
        runs.push(event.run.0);
        seqs.push(i32::try_from(event.seq).unwrap_or(i32::MAX));
        names.push(event.event);
        data.push(event.data);
    }
    let refused: Vec<Uuid> = sqlx::query(
        "WITH v AS (SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[]) \
             AS v(run_id, seq, event, data)), \
         open AS (SELECT id FROM runs WHERE id IN (SELECT run_id FROM v) \
             AND status = 'in_progress' FOR SHARE), \
         stored AS (INSERT INTO run_events (run_id, seq, event, data) \
             SELECT v.run_id, v.seq, v.event, v.data FROM v JOIN open ON open.id = v.run_id \
             ON CONFLICT DO NOTHING) \
         SELECT (SELECT count(pg_notify($5, p)) FROM unnest($6::text[]) AS p) AS notified, \
             ARRAY(SELECT DISTINCT run_id FROM v WHERE run_id NOT IN (SELECT id FROM open)) AS refused",
    )
    .bind(&runs)
    .bind(&seqs)
    .bind(&names)
    .bind(&data)
    .bind(super::signals::CHANNEL)
    .bind(&payloads)
    .fetch_one(pool)
    .await
    .map_err(db)?
    .try_get("refused")
    .map_err(db)?;
    Ok(refused.into_iter().map(RunId).collect())
}

pub(super) async fn run_events(
    pool: &PgPool,
    run: RunId,
    after: u64,
    limit: u32,
) -> StoreResult<Vec<StoredRunEvent>> {
    let found = sqlx::query(
        "SELECT seq, event, data FROM run_events WHERE run_id = $1 AND seq > $2 \
         ORDER BY seq LIMIT $3",
    )
    .bind(run.0)
    .bind(i64::try_from(after).unwrap_or(i64::MAX))
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(db)?;
    found
        .iter()
        .map(|row| {
            Ok(StoredRunEvent {
                seq: u64::try_from(row.try_get::<i32, _>("seq")?).unwrap_or_default(),
                event: row.try_get("event")?,
                data: row.try_get("data")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(db)
}

pub(super) async fn delete_run_events(
    pool: &PgPool,
    before: Timestamp,
    limit: u32,
) -> StoreResult<u64> {
    let done = sqlx::query(
        "DELETE FROM run_events WHERE ctid IN (\
             SELECT ctid FROM run_events WHERE created_at < $1 LIMIT $2)",
    )
    .bind(before)
    .bind(i64::from(limit))
    .execute(pool)
    .await
    .map_err(db)?;
    Ok(done.rows_affected())
}

/// See [`spool_core::Store::expired_runs`].
pub(super) async fn expired_runs(
    pool: &PgPool,
    at: Timestamp,
    unleased_before: Timestamp,
    limit: u32,
) -> StoreResult<Vec<Run>> {
    let found = sqlx::query(select_runs!(
        "status = 'in_progress' \
         AND (lease_until < $1 OR (lease_until IS NULL AND started_at < $2)) \
         ORDER BY started_at, id LIMIT $3"
    ))
    .bind(at)
    .bind(unleased_before)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(db)?;
    runs(&found)
}

/// See [`spool_core::Store::lease_runs`]: one statement for all of them.
pub(super) async fn lease_runs(
    pool: &PgPool,
    ids: &[RunId],
    holder: &str,
    until: Timestamp,
) -> StoreResult<Vec<RunId>> {
    let ids: Vec<Uuid> = ids.iter().map(|r| r.0).collect();
    let held: Vec<Uuid> = sqlx::query_scalar(
        "UPDATE runs SET lease_holder = $2, lease_until = $3 \
         WHERE id = ANY($1) AND status = 'in_progress' AND cancel_requested_at IS NULL \
         AND (lease_holder IS NULL OR lease_holder = $2) RETURNING id",
    )
    .bind(&ids)
    .bind(holder)
    .bind(until)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    Ok(held.into_iter().map(RunId).collect())
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

/// See [`spool_core::Store::set_run_metadata`].
pub(super) async fn set_run_metadata(
    pool: &PgPool,
    workspace: WorkspaceId,
    id: RunId,
    metadata: serde_json::Map<String, serde_json::Value>,
) -> StoreResult<Option<Run>> {
    let mut tx = super::idempotency::begin_write(pool).await?;
    let row = sqlx::query(concat!(
        "UPDATE runs SET metadata = $3 WHERE id = $1 AND workspace_id = $2 RETURNING ",
        run_columns!()
    ))
    .bind(id.0)
    .bind(workspace.0)
    .bind(Json(metadata))
    .fetch_optional(&mut *tx)
    .await
    .map_err(db)?;
    let run = row.as_ref().map(run_row).transpose().map_err(db)?;
    tx.commit().await.map_err(db)?;
    Ok(run)
}

/// Newest first (`descending`) or oldest first; cursors key on
/// (created_at in microseconds, id).
pub(super) async fn list_runs(
    pool: &PgPool,
    thread: ThreadId,
    paging: Paging,
    descending: bool,
) -> StoreResult<Listing<Run>> {
    match paging {
        Paging::Offset(page) => {
            let (limit, offset) = rows::limit_offset(page);
            let total: i64 = sqlx::query_scalar("SELECT count(*) FROM runs WHERE thread_id = $1")
                .bind(thread.0)
                .fetch_one(pool)
                .await
                .map_err(db)?;
            let found = sqlx::query(if descending {
                select_runs!("thread_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3")
            } else {
                select_runs!("thread_id = $1 ORDER BY created_at ASC, id ASC LIMIT $2 OFFSET $3")
            })
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
            // Walking toward older rows (newest first, or back from a
            // cursor in oldest-first order) or toward newer ones.
            let older = descending != backwards;
            let sql = if older {
                select_runs!(
                    "thread_id = $1 AND (created_at, id) < ($2, $3) \
                     ORDER BY created_at DESC, id DESC LIMIT $4"
                )
            } else {
                select_runs!(
                    "thread_id = $1 AND (created_at, id) > ($2, $3) \
                     ORDER BY created_at ASC, id ASC LIMIT $4"
                )
            };
            // No cursor: from past the newest (or before the oldest) possible row.
            let (key, id) = match cursor {
                Some(c) => (c.key, c.id),
                None if older => (i64::MAX, Uuid::max()),
                None => (i64::MIN, Uuid::nil()),
            };
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

/// See [`spool_core::Store::request_run_cancel`].
pub(super) async fn request_run_cancel(pool: &PgPool, run: RunId) -> StoreResult<bool> {
    let asked: i64 = sqlx::query_scalar(
        "WITH asked AS (UPDATE runs SET cancel_requested_at = now() \
             WHERE id = $1 AND status = 'in_progress' RETURNING 1) \
         SELECT (SELECT count(*) FROM asked) AS asked, (SELECT count(pg_notify($2, $3))) AS told",
    )
    .bind(run.0)
    .bind(super::signals::CHANNEL)
    .bind(super::signals::cancel(run))
    .fetch_one(pool)
    .await
    .map_err(db)?;
    Ok(asked > 0)
}

/// See [`spool_core::Store::require_run_action`].
pub(super) async fn require_action(
    pool: &PgPool,
    run: RunId,
    calls: serde_json::Value,
) -> StoreResult<bool> {
    let mut tx = pool.begin().await.map_err(db)?;
    let waiting = sqlx::query(concat!(
        "UPDATE runs SET required_action = $2, tool_outputs = NULL \
         WHERE id = $1 AND status = 'in_progress' AND required_action IS NULL RETURNING ",
        run_columns!()
    ))
    .bind(run.0)
    .bind(Json(calls))
    .fetch_optional(&mut *tx)
    .await
    .map_err(db)?;
    let Some(waiting) = waiting else {
        return Ok(false);
    };
    let waiting = run_row(&waiting).map_err(db)?;
    let event = WebhookEvent::RunRequiresAction;
    super::webhooks::enqueue(&mut tx, &waiting, event, spool_core::now()).await?;
    tx.commit().await.map_err(db)?;
    Ok(true)
}

/// See [`spool_core::Store::submit_run_tool_outputs`].
pub(super) async fn submit_tool_outputs(
    pool: &PgPool,
    run: RunId,
    outputs: serde_json::Value,
) -> StoreResult<bool> {
    let mut tx = super::idempotency::begin_write(pool).await?;
    let done = sqlx::query(
        "UPDATE runs SET required_action = NULL, tool_outputs = $2 \
         WHERE id = $1 AND status = 'in_progress' AND required_action IS NOT NULL",
    )
    .bind(run.0)
    .bind(Json(outputs))
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    tx.commit().await.map_err(db)?;
    Ok(done.rows_affected() == 1)
}

/// See [`spool_core::Store::take_run_tool_outputs`]: the old value, read in
/// the same statement that clears it.
pub(super) async fn take_tool_outputs(
    pool: &PgPool,
    run: RunId,
) -> StoreResult<Option<serde_json::Value>> {
    let taken: Option<Json<serde_json::Value>> = sqlx::query_scalar(
        "UPDATE runs r SET tool_outputs = NULL FROM runs old \
         WHERE r.id = $1 AND old.id = r.id AND old.tool_outputs IS NOT NULL \
         RETURNING old.tool_outputs",
    )
    .bind(run.0)
    .fetch_optional(pool)
    .await
    .map_err(db)?;
    Ok(taken.map(|Json(v)| v))
}
