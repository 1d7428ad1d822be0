//! Threads: the row, and the writes that keep the agent's `threads_count`
//! in step in the same transaction. Listing and search are in `thread_list`.

use super::agents::add_threads;
use super::error::{corrupt, db};
use super::rows;
use spool_core::model::{Thread, ThreadStatus};
use spool_core::store::StoreResult;
use spool_core::validate::Metadata;
use spool_core::{AgentId, ThreadId, UserId, WorkspaceId};
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{PgPool, Row};
use std::borrow::Cow;
use uuid::Uuid;

macro_rules! thread_columns {
    () => {
        "t.id, t.workspace_id, t.creator_id, t.anon_user_id, t.agent_id, t.title, t.subject, \
         t.metadata, t.status, t.message_count, t.last_message_at, t.last_model_used, t.is_pinned, \
         t.pinned_at, t.visible_in_ui, t.input_tokens, t.output_tokens, t.created_at, t.updated_at, \
         t.expires_at"
    };
}
pub(super) use thread_columns;

/// [`thread_columns`] named `t_…`, for a row that holds another resource's
/// columns too (read with [`prefixed_thread_row`]).
macro_rules! prefixed_thread_columns {
    () => {
        "t.id AS t_id, t.workspace_id AS t_workspace_id, t.creator_id AS t_creator_id, \
         t.anon_user_id AS t_anon_user_id, t.agent_id AS t_agent_id, t.title AS t_title, \
         t.subject AS t_subject, t.metadata AS t_metadata, t.status AS t_status, \
         t.message_count AS t_message_count, t.last_message_at AS t_last_message_at, \
         t.last_model_used AS t_last_model_used, t.is_pinned AS t_is_pinned, \
         t.pinned_at AS t_pinned_at, t.visible_in_ui AS t_visible_in_ui, \
         t.input_tokens AS t_input_tokens, t.output_tokens AS t_output_tokens, \
         t.created_at AS t_created_at, t.updated_at AS t_updated_at, t.expires_at AS t_expires_at"
    };
}
pub(super) use prefixed_thread_columns;

pub(super) fn thread_row(row: &PgRow) -> sqlx::Result<Thread> {
    thread_row_named(row, "")
}

/// The thread of a row selected with [`prefixed_thread_columns`].
pub(super) fn prefixed_thread_row(row: &PgRow) -> sqlx::Result<Thread> {
    thread_row_named(row, "t_")
}

fn thread_row_named(row: &PgRow, prefix: &str) -> sqlx::Result<Thread> {
    let name = |column: &'static str| -> Cow<'static, str> {
        if prefix.is_empty() {
            Cow::Borrowed(column)
        } else {
            Cow::Owned(format!("{prefix}{column}"))
        }
    };
    let Json(metadata) = row.try_get(&*name("metadata"))?;
    let status: String = row.try_get(&*name("status"))?;
    Ok(Thread {
        id: ThreadId(row.try_get(&*name("id"))?),
        workspace_id: WorkspaceId(row.try_get(&*name("workspace_id"))?),
        creator_id: row
            .try_get::<Option<i64>, _>(&*name("creator_id"))?
            .map(UserId),
        anon_user_id: row.try_get(&*name("anon_user_id"))?,
        agent_id: row
            .try_get::<Option<Uuid>, _>(&*name("agent_id"))?
            .map(AgentId),
        title: row.try_get(&*name("title"))?,
        subject: row.try_get(&*name("subject"))?,
        metadata: Metadata::from_stored(metadata),
        status: ThreadStatus::parse(&status).ok_or_else(|| corrupt("thread status"))?,
        message_count: rows::count(row.try_get(&*name("message_count"))?),
        last_message_at: row.try_get(&*name("last_message_at"))?,
        last_model_used: row.try_get(&*name("last_model_used"))?,
        is_pinned: row.try_get(&*name("is_pinned"))?,
        pinned_at: row.try_get(&*name("pinned_at"))?,
        visible_in_ui: row.try_get(&*name("visible_in_ui"))?,
        input_tokens: rows::count(row.try_get(&*name("input_tokens"))?),
        output_tokens: rows::count(row.try_get(&*name("output_tokens"))?),
        created_at: row.try_get(&*name("created_at"))?,
        updated_at: row.try_get(&*name("updated_at"))?,
        expires_at: row.try_get(&*name("expires_at"))?,
    })
}

fn signed(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// One statement, so one round trip: the insert, the agent's thread count
/// and the request's idempotency claim commit together or not at all.
pub(super) async fn insert_thread(pool: &PgPool, thread: Thread) -> StoreResult<()> {
    let insert = sqlx::query(concat!(
        "WITH ",
        super::idempotency::mark_claim!(),
        ", counted AS (UPDATE agents SET threads_count = threads_count + 1 WHERE id = $8) \
         INSERT INTO threads (id, workspace_id, creator_id, anon_user_id, agent_id, title, subject, \
             metadata, status, message_count, last_message_at, activity_at, last_model_used, \
             is_pinned, pinned_at, visible_in_ui, input_tokens, output_tokens, created_at, updated_at, \
             expires_at) \
         VALUES ($4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, COALESCE($14, $21), $15, $16, $17, \
             $18, $19, $20, $21, $22, $23)"
    ));
    super::idempotency::bind_claim(insert)
        .bind(thread.id.0)
        .bind(thread.workspace_id.0)
        .bind(thread.creator_id.map(|id| id.0))
        .bind(&thread.anon_user_id)
        .bind(thread.agent_id.map(|id| id.0))
        .bind(&thread.title)
        .bind(&thread.subject)
        .bind(Json(thread.metadata.as_map()))
        .bind(thread.status.as_str())
        .bind(signed(thread.message_count))
        .bind(thread.last_message_at)
        .bind(&thread.last_model_used)
        .bind(thread.is_pinned)
        .bind(thread.pinned_at)
        .bind(thread.visible_in_ui)
        .bind(signed(thread.input_tokens))
        .bind(signed(thread.output_tokens))
        .bind(thread.created_at)
        .bind(thread.updated_at)
        .bind(thread.expires_at)
        .execute(pool)
        .await
        .map_err(db)?;
    Ok(())
}

pub(super) async fn thread(
    pool: &PgPool,
    workspace: WorkspaceId,
    id: ThreadId,
) -> StoreResult<Option<Thread>> {
    let row = sqlx::query(concat!(
        "SELECT ",
        thread_columns!(),
        " FROM threads t WHERE t.workspace_id = $1 AND t.id = $2"
    ))
    .bind(workspace.0)
    .bind(id.0)
    .fetch_optional(pool)
    .await
    .map_err(db)?;
    row.as_ref().map(thread_row).transpose().map_err(db)
}

pub(super) async fn update_thread(pool: &PgPool, thread: &Thread) -> StoreResult<bool> {
    let mut tx = super::idempotency::begin_write(pool).await?;
    // The row lock makes two moves of one thread count once each.
    let old_agent: Option<Option<Uuid>> = sqlx::query_scalar(
        "SELECT agent_id FROM threads WHERE workspace_id = $1 AND id = $2 FOR NO KEY UPDATE",
    )
    .bind(thread.workspace_id.0)
    .bind(thread.id.0)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db)?;
    let Some(old_agent) = old_agent.map(|agent| agent.map(AgentId)) else {
        return Ok(false);
    };
    sqlx::query(
        "UPDATE threads SET title = $3, subject = $4, metadata = $5, agent_id = $6, \
             is_pinned = $7, pinned_at = $8, visible_in_ui = $9, updated_at = $10, \
             expires_at = $11 \
         WHERE workspace_id = $1 AND id = $2",
    )
    .bind(thread.workspace_id.0)
    .bind(thread.id.0)
    .bind(&thread.title)
    .bind(&thread.subject)
    .bind(Json(thread.metadata.as_map()))
    .bind(thread.agent_id.map(|id| id.0))
    .bind(thread.is_pinned)
    .bind(thread.pinned_at)
    .bind(thread.visible_in_ui)
    .bind(thread.updated_at)
    .bind(thread.expires_at)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    if old_agent != thread.agent_id {
        // In id order, so that two threads swapping agents cannot deadlock.
        let mut moves: Vec<(AgentId, i64)> = old_agent
            .map(|old| (old, -1))
            .into_iter()
            .chain(thread.agent_id.map(|new| (new, 1)))
            .collect();
        moves.sort_by_key(|(agent, _)| *agent);
        for (agent, delta) in moves {
            add_threads(&mut *tx, agent, delta).await?;
        }
    }
    tx.commit().await.map_err(db)?;
    Ok(true)
}

/// Messages go with it through `ON DELETE CASCADE`, and their search
/// vectors with them (they live in the rows).
pub(super) async fn delete_thread(
    pool: &PgPool,
    workspace: WorkspaceId,
    id: ThreadId,
) -> StoreResult<bool> {
    let mut tx = super::idempotency::begin_write(pool).await?;
    let deleted: Option<Option<Uuid>> = sqlx::query_scalar(
        "DELETE FROM threads WHERE workspace_id = $1 AND id = $2 RETURNING agent_id",
    )
    .bind(workspace.0)
    .bind(id.0)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db)?;
    let Some(agent) = deleted else {
        return Ok(false);
    };
    if let Some(agent) = agent {
        add_threads(&mut *tx, AgentId(agent), -1).await?;
    }
    tx.commit().await.map_err(db)?;
    Ok(true)
}

/// See [`spool_core::Store::delete_expired_threads`]. Rows another
/// transaction holds (a run starting, another node's sweep) are skipped;
/// the agents' `threads_count` moves in the same statement.
pub(super) async fn delete_expired_threads(
    pool: &PgPool,
    at: spool_core::Timestamp,
    limit: u32,
) -> StoreResult<u64> {
    let deleted: i64 = sqlx::query_scalar(
        "WITH own AS (SELECT id FROM threads WHERE expires_at <= $1 AND status = 'idle' \
             ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED), \
         stale AS (SELECT t.id FROM threads t JOIN workspaces w ON w.id = t.workspace_id \
             WHERE w.thread_retention_days IS NOT NULL AND t.expires_at IS NULL \
               AND t.status = 'idle' \
               AND t.activity_at <= $1 - make_interval(days => w.thread_retention_days) \
             LIMIT $2 FOR UPDATE OF t SKIP LOCKED), \
         doomed AS (SELECT id FROM own UNION SELECT id FROM stale LIMIT $2), \
         gone AS (DELETE FROM threads WHERE id IN (SELECT id FROM doomed) RETURNING agent_id), \
         counted AS (SELECT agent_id, count(*) AS n FROM gone WHERE agent_id IS NOT NULL \
             GROUP BY agent_id), \
         moved AS (UPDATE agents a SET threads_count = a.threads_count - c.n \
             FROM counted c WHERE a.id = c.agent_id RETURNING 1) \
         SELECT count(*) FROM gone",
    )
    .bind(at)
    .bind(i64::from(limit))
    .fetch_one(pool)
    .await
    .map_err(db)?;
    Ok(deleted.unsigned_abs())
}
