//! Memories: facts an agent keeps about a user (see the SQLite twin).

use super::error::db;
use super::rows;
use spool_core::model::Memory;
use spool_core::paging::{Page, PageRequest};
use spool_core::store::StoreResult;
use spool_core::{AgentId, MemoryId, MessageId, ThreadId, UserId, WorkspaceId};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};
use uuid::Uuid;

macro_rules! memory_columns {
    () => {
        "id, workspace_id, agent_id, user_id, content, thread_id, message_id, created_at, updated_at"
    };
}

fn memory_row(row: &PgRow) -> sqlx::Result<Memory> {
    Ok(Memory {
        id: MemoryId(row.try_get("id")?),
        workspace_id: WorkspaceId(row.try_get("workspace_id")?),
        agent_id: AgentId(row.try_get("agent_id")?),
        user_id: UserId(row.try_get("user_id")?),
        content: row.try_get("content")?,
        thread_id: row.try_get::<Option<Uuid>, _>("thread_id")?.map(ThreadId),
        message_id: row.try_get::<Option<Uuid>, _>("message_id")?.map(MessageId),
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn memories(found: &[PgRow]) -> StoreResult<Vec<Memory>> {
    found
        .iter()
        .map(memory_row)
        .collect::<Result<_, _>>()
        .map_err(db)
}

pub(super) async fn insert(pool: &PgPool, new: Vec<Memory>) -> StoreResult<()> {
    let mut tx = super::idempotency::begin_write(pool).await?;
    for memory in &new {
        sqlx::query(concat!(
            "INSERT INTO memories (",
            memory_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ))
        .bind(memory.id.0)
        .bind(memory.workspace_id.0)
        .bind(memory.agent_id.0)
        .bind(memory.user_id.0)
        .bind(&memory.content)
        .bind(memory.thread_id.map(|t| t.0))
        .bind(memory.message_id.map(|m| m.0))
        .bind(memory.created_at)
        .bind(memory.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    }
    tx.commit().await.map_err(db)
}

pub(super) async fn get(
    pool: &PgPool,
    workspace: WorkspaceId,
    id: MemoryId,
) -> StoreResult<Option<Memory>> {
    let row = sqlx::query(concat!(
        "SELECT ",
        memory_columns!(),
        " FROM memories WHERE id = $1 AND workspace_id = $2"
    ))
    .bind(id.0)
    .bind(workspace.0)
    .fetch_optional(pool)
    .await
    .map_err(db)?;
    row.as_ref().map(memory_row).transpose().map_err(db)
}

pub(super) async fn list(
    pool: &PgPool,
    workspace: WorkspaceId,
    agent: Option<AgentId>,
    user: Option<UserId>,
    page: PageRequest,
) -> StoreResult<Page<Memory>> {
    let (limit, offset) = rows::limit_offset(page);
    let (agent, user) = (agent.map(|a| a.0), user.map(|u| u.0));
    let total: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM memories WHERE workspace_id = $1 \
         AND ($2::uuid IS NULL OR agent_id = $2) AND ($3::bigint IS NULL OR user_id = $3)",
    )
    .bind(workspace.0)
    .bind(agent)
    .bind(user)
    .fetch_one(pool)
    .await
    .map_err(db)?;
    let found = sqlx::query(concat!(
        "SELECT ",
        memory_columns!(),
        " FROM memories WHERE workspace_id = $1 \
         AND ($2::uuid IS NULL OR agent_id = $2) AND ($3::bigint IS NULL OR user_id = $3) \
         ORDER BY created_at DESC, id DESC LIMIT $4 OFFSET $5"
    ))
    .bind(workspace.0)
    .bind(agent)
    .bind(user)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    Ok(Page {
        items: memories(&found)?,
        total: rows::count(total),
        request: page,
    })
}

pub(super) async fn recall(
    pool: &PgPool,
    agent: AgentId,
    user: UserId,
    limit: u32,
) -> StoreResult<Vec<Memory>> {
    let found = sqlx::query(concat!(
        "SELECT ",
        memory_columns!(),
        " FROM memories WHERE agent_id = $1 AND user_id = $2 \
         ORDER BY created_at DESC, id DESC LIMIT $3"
    ))
    .bind(agent.0)
    .bind(user.0)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(db)?;
    memories(&found)
}

pub(super) async fn update(pool: &PgPool, memory: &Memory) -> StoreResult<bool> {
    let mut tx = super::idempotency::begin_write(pool).await?;
    let changed = sqlx::query("UPDATE memories SET content = $2, updated_at = $3 WHERE id = $1")
        .bind(memory.id.0)
        .bind(&memory.content)
        .bind(memory.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(db)?
        .rows_affected();
    tx.commit().await.map_err(db)?;
    Ok(changed == 1)
}

pub(super) async fn delete(
    pool: &PgPool,
    workspace: WorkspaceId,
    id: MemoryId,
) -> StoreResult<bool> {
    let mut tx = super::idempotency::begin_write(pool).await?;
    let gone = sqlx::query("DELETE FROM memories WHERE id = $1 AND workspace_id = $2")
        .bind(id.0)
        .bind(workspace.0)
        .execute(&mut *tx)
        .await
        .map_err(db)?
        .rows_affected();
    tx.commit().await.map_err(db)?;
    Ok(gone == 1)
}
