//! Workspace providers (see the SQLite twin).

use super::error::{corrupt, db};
use super::rows;
use spool_core::model::{
    ProviderKind, WorkspaceProvider, authentication_from_json, authentication_json,
    models_from_json, models_json,
};
use spool_core::paging::{Page, PageRequest};
use spool_core::sealing::Sealed;
use spool_core::store::StoreResult;
use spool_core::{ProviderId, UserId, WorkspaceId};
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{PgPool, Row};

macro_rules! provider_columns {
    () => {
        "id, workspace_id, user_id, name, description, kind, base_url, authentication, \
         secret_key_id, secret, models, created_at, updated_at"
    };
}

fn provider_row(row: &PgRow) -> sqlx::Result<WorkspaceProvider> {
    let kind: String = row.try_get("kind")?;
    let authentication: Json<serde_json::Value> = row.try_get("authentication")?;
    let models: Json<serde_json::Value> = row.try_get("models")?;
    Ok(WorkspaceProvider {
        id: ProviderId(row.try_get("id")?),
        workspace_id: WorkspaceId(row.try_get("workspace_id")?),
        user_id: row.try_get::<Option<i64>, _>("user_id")?.map(UserId),
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        kind: ProviderKind::parse(&kind).ok_or_else(|| corrupt("provider kind"))?,
        base_url: row.try_get("base_url")?,
        authentication: authentication_from_json(&authentication.0)
            .ok_or_else(|| corrupt("provider authentication"))?,
        secret: Sealed::from_columns(row.try_get("secret_key_id")?, row.try_get("secret")?),
        models: models_from_json(&models.0).ok_or_else(|| corrupt("provider models"))?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub(super) async fn insert(pool: &PgPool, provider: WorkspaceProvider) -> StoreResult<()> {
    let mut tx = super::idempotency::begin_write(pool).await?;
    sqlx::query(concat!(
        "INSERT INTO providers (",
        provider_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
    ))
    .bind(provider.id.0)
    .bind(provider.workspace_id.0)
    .bind(provider.user_id.map(|u| u.0))
    .bind(&provider.name)
    .bind(&provider.description)
    .bind(provider.kind.as_str())
    .bind(&provider.base_url)
    .bind(Json(authentication_json(&provider.authentication)))
    .bind(provider.secret.as_ref().map(|s| s.key_id.clone()))
    .bind(provider.secret.as_ref().map(|s| s.ciphertext.clone()))
    .bind(Json(models_json(&provider.models)))
    .bind(provider.created_at)
    .bind(provider.updated_at)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    tx.commit().await.map_err(db)
}

pub(super) async fn get(
    pool: &PgPool,
    workspace: WorkspaceId,
    id: ProviderId,
) -> StoreResult<Option<WorkspaceProvider>> {
    let row = sqlx::query(concat!(
        "SELECT ",
        provider_columns!(),
        " FROM providers WHERE id = $1 AND workspace_id = $2"
    ))
    .bind(id.0)
    .bind(workspace.0)
    .fetch_optional(pool)
    .await
    .map_err(db)?;
    row.as_ref().map(provider_row).transpose().map_err(db)
}

pub(super) async fn list(
    pool: &PgPool,
    workspace: WorkspaceId,
    page: PageRequest,
) -> StoreResult<Page<WorkspaceProvider>> {
    let (limit, offset) = rows::limit_offset(page);
    let found = sqlx::query(concat!(
        "SELECT ",
        provider_columns!(),
        ", count(*) OVER () AS total FROM providers WHERE workspace_id = $1 \
         ORDER BY created_at, name LIMIT $2 OFFSET $3"
    ))
    .bind(workspace.0)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    let total = match found.first() {
        Some(row) => row.try_get::<i64, _>("total").map_err(db)?,
        // Past the last page (or none at all): count on its own.
        None => sqlx::query_scalar("SELECT count(*) FROM providers WHERE workspace_id = $1")
            .bind(workspace.0)
            .fetch_one(pool)
            .await
            .map_err(db)?,
    };
    let items = found
        .iter()
        .map(provider_row)
        .collect::<Result<_, _>>()
        .map_err(db)?;
    Ok(Page {
        items,
        total: rows::count(total),
        request: page,
    })
}

pub(super) async fn all(
    pool: &PgPool,
    workspace: WorkspaceId,
) -> StoreResult<Vec<WorkspaceProvider>> {
    let found = sqlx::query(concat!(
        "SELECT ",
        provider_columns!(),
        " FROM providers WHERE workspace_id = $1 ORDER BY created_at, name"
    ))
    .bind(workspace.0)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    found
        .iter()
        .map(provider_row)
        .collect::<Result<_, _>>()
        .map_err(db)
}

pub(super) async fn update(pool: &PgPool, provider: &WorkspaceProvider) -> StoreResult<bool> {
    let mut tx = super::idempotency::begin_write(pool).await?;
    let changed = sqlx::query(
        "UPDATE providers SET name = $3, description = $4, kind = $5, base_url = $6, \
         authentication = $7, secret_key_id = $8, secret = $9, models = $10, updated_at = $11 \
         WHERE id = $1 AND workspace_id = $2",
    )
    .bind(provider.id.0)
    .bind(provider.workspace_id.0)
    .bind(&provider.name)
    .bind(&provider.description)
    .bind(provider.kind.as_str())
    .bind(&provider.base_url)
    .bind(Json(authentication_json(&provider.authentication)))
    .bind(provider.secret.as_ref().map(|s| s.key_id.clone()))
    .bind(provider.secret.as_ref().map(|s| s.ciphertext.clone()))
    .bind(Json(models_json(&provider.models)))
    .bind(provider.updated_at)
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
    id: ProviderId,
) -> StoreResult<bool> {
    let mut tx = super::idempotency::begin_write(pool).await?;
    let gone = sqlx::query("DELETE FROM providers WHERE id = $1 AND workspace_id = $2")
        .bind(id.0)
        .bind(workspace.0)
        .execute(&mut *tx)
        .await
        .map_err(db)?
        .rows_affected();
    tx.commit().await.map_err(db)?;
    Ok(gone == 1)
}

pub(super) async fn sealed_with_other_keys(
    pool: &PgPool,
    key_id: &str,
    after: Option<ProviderId>,
    limit: u32,
) -> StoreResult<Vec<WorkspaceProvider>> {
    let found = sqlx::query(concat!(
        "SELECT ",
        provider_columns!(),
        " FROM providers WHERE secret_key_id IS NOT NULL AND secret_key_id <> $1 \
         AND ($2::uuid IS NULL OR id > $2) ORDER BY id LIMIT $3"
    ))
    .bind(key_id)
    .bind(after.map(|id| id.0))
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(db)?;
    found
        .iter()
        .map(provider_row)
        .collect::<Result<_, _>>()
        .map_err(db)
}

pub(super) async fn reseal(
    pool: &PgPool,
    id: ProviderId,
    old: &Sealed,
    new: &Sealed,
) -> StoreResult<bool> {
    let changed = sqlx::query(
        "UPDATE providers SET secret_key_id = $4, secret = $5 \
         WHERE id = $1 AND secret_key_id = $2 AND secret = $3",
    )
    .bind(id.0)
    .bind(&old.key_id)
    .bind(&old.ciphertext)
    .bind(&new.key_id)
    .bind(&new.ciphertext)
    .execute(pool)
    .await
    .map_err(db)?
    .rows_affected();
    Ok(changed == 1)
}
