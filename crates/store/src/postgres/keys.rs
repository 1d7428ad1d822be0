//! API keys.

use super::error::db;
use super::rows::{self, api_key_columns};
use spool_core::model::ApiKey;
use spool_core::paging::{Page, PageRequest};
use spool_core::secret::TokenHash;
use spool_core::store::StoreResult;
use spool_core::{ApiKeyId, Timestamp, WorkspaceId};
use sqlx::PgPool;

pub(super) async fn insert_api_key(pool: &PgPool, key: ApiKey) -> StoreResult<()> {
    let mut tx = super::idempotency::begin_write(pool).await?;
    sqlx::query(
        "INSERT INTO api_keys \
         (id, workspace_id, user_id, name, prefix, key_hash, created_at, last_used_at, expires_at, revoked_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(key.id.0)
    .bind(key.workspace_id.0)
    .bind(key.user_id.0)
    .bind(key.name)
    .bind(key.prefix)
    .bind(key.hash.0.to_vec())
    .bind(key.created_at)
    .bind(key.last_used_at)
    .bind(key.expires_at)
    .bind(key.revoked_at)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    tx.commit().await.map_err(db)?;
    Ok(())
}

/// Revoked and expired keys are found too: the caller decides what is active.
pub(super) async fn api_key_by_hash(pool: &PgPool, hash: TokenHash) -> StoreResult<Option<ApiKey>> {
    let row = sqlx::query(concat!(
        "SELECT ",
        api_key_columns!(),
        " FROM api_keys k WHERE k.key_hash = $1"
    ))
    .bind(hash.0.to_vec())
    .fetch_optional(pool)
    .await
    .map_err(db)?;
    row.as_ref().map(rows::api_key).transpose().map_err(db)
}

/// Newest first.
pub(super) async fn list_api_keys(
    pool: &PgPool,
    workspace: WorkspaceId,
    page: PageRequest,
) -> StoreResult<Page<ApiKey>> {
    let (limit, offset) = rows::limit_offset(page);
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM api_keys WHERE workspace_id = $1")
        .bind(workspace.0)
        .fetch_one(pool)
        .await
        .map_err(db)?;
    let found = sqlx::query(concat!(
        "SELECT ",
        api_key_columns!(),
        " FROM api_keys k WHERE k.workspace_id = $1 \
         ORDER BY k.created_at DESC, k.id DESC LIMIT $2 OFFSET $3"
    ))
    .bind(workspace.0)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    let items = found
        .iter()
        .map(rows::api_key)
        .collect::<Result<_, _>>()
        .map_err(db)?;
    Ok(Page {
        items,
        total: rows::count(total),
        request: page,
    })
}

pub(super) async fn api_key(
    pool: &PgPool,
    workspace: WorkspaceId,
    id: ApiKeyId,
) -> StoreResult<Option<ApiKey>> {
    let row = sqlx::query(concat!(
        "SELECT ",
        api_key_columns!(),
        " FROM api_keys k WHERE k.workspace_id = $1 AND k.id = $2"
    ))
    .bind(workspace.0)
    .bind(id.0)
    .fetch_optional(pool)
    .await
    .map_err(db)?;
    row.as_ref().map(rows::api_key).transpose().map_err(db)
}

pub(super) async fn revoke_api_key(
    pool: &PgPool,
    workspace: WorkspaceId,
    id: ApiKeyId,
    at: Timestamp,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE api_keys SET revoked_at = $3 WHERE workspace_id = $1 AND id = $2 AND revoked_at IS NULL",
    )
    .bind(workspace.0)
    .bind(id.0)
    .bind(at)
    .execute(pool)
    .await
    .map_err(db)?;
    Ok(done.rows_affected() > 0)
}

/// Requests finish out of order: a late, older touch must not move the
/// time back. Such a touch writes nothing at all (no new row version).
pub(super) async fn touch_api_key(pool: &PgPool, id: ApiKeyId, at: Timestamp) -> StoreResult<()> {
    sqlx::query(
        "UPDATE api_keys SET last_used_at = $2 \
         WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2)",
    )
    .bind(id.0)
    .bind(at)
    .execute(pool)
    .await
    .map_err(db)?;
    Ok(())
}
