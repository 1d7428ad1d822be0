//! Files' metadata; their bytes are in the object store.

use super::error::db;
use super::rows;
use spool_core::listing::Cursor;
use spool_core::model::StoredFile;
use spool_core::store::StoreResult;
use spool_core::{FileId, Timestamp, UserId, WorkspaceId};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};
use uuid::Uuid;

const FILE_COLUMNS: &str = "id, workspace_id, user_id, name, mime_type, size, sha256, created_at";

fn file_row(row: &PgRow) -> sqlx::Result<StoredFile> {
    Ok(StoredFile {
        id: FileId(row.try_get("id")?),
        workspace_id: WorkspaceId(row.try_get("workspace_id")?),
        user_id: row.try_get::<Option<i64>, _>("user_id")?.map(UserId),
        name: row.try_get("name")?,
        mime_type: row.try_get("mime_type")?,
        size: rows::count(row.try_get("size")?),
        sha256: row.try_get("sha256")?,
        created_at: row.try_get("created_at")?,
    })
}

fn all(found: Vec<PgRow>) -> StoreResult<Vec<StoredFile>> {
    found
        .iter()
        .map(file_row)
        .collect::<sqlx::Result<_>>()
        .map_err(db)
}

pub(super) async fn insert(pool: &PgPool, file: &StoredFile) -> StoreResult<()> {
    let mut tx = super::idempotency::begin_write(pool).await?;
    sqlx::query(
        "INSERT INTO files (id, workspace_id, user_id, name, mime_type, size, sha256, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(file.id.0)
    .bind(file.workspace_id.0)
    .bind(file.user_id.map(|u| u.0))
    .bind(&file.name)
    .bind(&file.mime_type)
    .bind(i64::try_from(file.size).unwrap_or(i64::MAX))
    .bind(&file.sha256)
    .bind(file.created_at)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    tx.commit().await.map_err(db)
}

pub(super) async fn many(
    pool: &PgPool,
    ws: WorkspaceId,
    ids: &[FileId],
) -> StoreResult<Vec<StoredFile>> {
    let ids: Vec<Uuid> = ids.iter().map(|id| id.0).collect();
    let found = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {FILE_COLUMNS} FROM files WHERE workspace_id = $1 AND id = ANY($2)"
    )))
    .bind(ws.0)
    .bind(ids)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    all(found)
}

pub(super) async fn list(
    pool: &PgPool,
    ws: WorkspaceId,
    uploader: Option<UserId>,
    after: Option<Cursor>,
    limit: u32,
) -> StoreResult<(Vec<StoredFile>, bool)> {
    let (at, id) = match after {
        Some(c) => (
            chrono::DateTime::from_timestamp_micros(c.key).unwrap_or_default(),
            c.id,
        ),
        None => (chrono::DateTime::<chrono::Utc>::MAX_UTC, Uuid::max()),
    };
    let found = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {FILE_COLUMNS} FROM files \
         WHERE workspace_id = $1 AND ($2::bigint IS NULL OR user_id = $2) \
           AND (created_at, id) < ($3, $4) \
         ORDER BY created_at DESC, id DESC LIMIT $5"
    )))
    .bind(ws.0)
    .bind(uploader.map(|u| u.0))
    .bind(at)
    .bind(id)
    .bind(i64::from(limit) + 1)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    let mut files = all(found)?;
    let more = files.len() > limit as usize;
    files.truncate(limit as usize);
    Ok((files, more))
}

pub(super) async fn delete(pool: &PgPool, ws: WorkspaceId, id: FileId) -> StoreResult<bool> {
    let mut tx = super::idempotency::begin_write(pool).await?;
    let done = sqlx::query("DELETE FROM files WHERE workspace_id = $1 AND id = $2")
        .bind(ws.0)
        .bind(id.0)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    tx.commit().await.map_err(db)?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn usage(pool: &PgPool, ws: WorkspaceId) -> StoreResult<u64> {
    let used: i64 = sqlx::query_scalar(
        "SELECT coalesce(sum(size), 0)::bigint FROM files WHERE workspace_id = $1",
    )
    .bind(ws.0)
    .fetch_one(pool)
    .await
    .map_err(db)?;
    Ok(rows::count(used))
}

pub(super) async fn take_unreferenced(
    pool: &PgPool,
    before: Timestamp,
    limit: u32,
) -> StoreResult<Vec<StoredFile>> {
    // SKIP LOCKED: two nodes sweeping at once take different files.
    let found = sqlx::query(sqlx::AssertSqlSafe(format!(
        "DELETE FROM files WHERE id IN ( \
             SELECT f.id FROM files f \
             WHERE f.created_at < $1 \
               AND NOT EXISTS (SELECT 1 FROM message_files mf WHERE mf.file_id = f.id) \
             ORDER BY f.created_at LIMIT $2 FOR UPDATE SKIP LOCKED) \
         RETURNING {FILE_COLUMNS}"
    )))
    .bind(before)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(db)?;
    all(found)
}
