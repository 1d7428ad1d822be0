//! Prompts: a workspace's templates (see the SQLite twin).

use super::error::{corrupt, db};
use super::rows;
use spool_core::model::{Prompt, Visibility};
use spool_core::paging::{Page, PageRequest};
use spool_core::store::StoreResult;
use spool_core::{PromptId, UserId, WorkspaceId};
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{PgPool, Row};

macro_rules! prompt_columns {
    () => {
        "id, workspace_id, user_id, name, description, template, model, settings, visibility, \
         created_at, updated_at"
    };
}

fn prompt_row(row: &PgRow) -> sqlx::Result<Prompt> {
    let visibility: String = row.try_get("visibility")?;
    Ok(Prompt {
        id: PromptId(row.try_get("id")?),
        workspace_id: WorkspaceId(row.try_get("workspace_id")?),
        user_id: UserId(row.try_get("user_id")?),
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        template: row.try_get("template")?,
        model: row.try_get("model")?,
        settings: row
            .try_get::<Json<serde_json::Map<String, serde_json::Value>>, _>("settings")?
            .0,
        visibility: Visibility::parse(&visibility).ok_or_else(|| corrupt("prompt visibility"))?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub(super) async fn insert(pool: &PgPool, prompt: Prompt) -> StoreResult<()> {
    let mut tx = super::idempotency::begin_write(pool).await?;
    sqlx::query(concat!(
        "INSERT INTO prompts (",
        prompt_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    ))
    .bind(prompt.id.0)
    .bind(prompt.workspace_id.0)
    .bind(prompt.user_id.0)
    .bind(&prompt.name)
    .bind(&prompt.description)
    .bind(&prompt.template)
    .bind(&prompt.model)
    .bind(Json(&prompt.settings))
    .bind(prompt.visibility.as_str())
    .bind(prompt.created_at)
    .bind(prompt.updated_at)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    tx.commit().await.map_err(db)
}

pub(super) async fn get(pool: &PgPool, id: PromptId) -> StoreResult<Option<Prompt>> {
    let row = sqlx::query(concat!(
        "SELECT ",
        prompt_columns!(),
        " FROM prompts WHERE id = $1"
    ))
    .bind(id.0)
    .fetch_optional(pool)
    .await
    .map_err(db)?;
    row.as_ref().map(prompt_row).transpose().map_err(db)
}

pub(super) async fn list(
    pool: &PgPool,
    workspace: WorkspaceId,
    viewer: UserId,
    page: PageRequest,
) -> StoreResult<Page<Prompt>> {
    let (limit, offset) = rows::limit_offset(page);
    let found = sqlx::query(concat!(
        "SELECT ",
        prompt_columns!(),
        ", count(*) OVER () AS total FROM prompts \
         WHERE workspace_id = $1 AND (visibility <> 'private' OR user_id = $2) \
         ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4"
    ))
    .bind(workspace.0)
    .bind(viewer.0)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    let total = match found.first() {
        Some(row) => row.try_get::<i64, _>("total").map_err(db)?,
        // Past the last page (or none at all): count on its own.
        None => sqlx::query_scalar(
            "SELECT count(*) FROM prompts \
             WHERE workspace_id = $1 AND (visibility <> 'private' OR user_id = $2)",
        )
        .bind(workspace.0)
        .bind(viewer.0)
        .fetch_one(pool)
        .await
        .map_err(db)?,
    };
    let items = found
        .iter()
        .map(prompt_row)
        .collect::<Result<_, _>>()
        .map_err(db)?;
    Ok(Page {
        items,
        total: rows::count(total),
        request: page,
    })
}

pub(super) async fn update(pool: &PgPool, prompt: &Prompt) -> StoreResult<bool> {
    let mut tx = super::idempotency::begin_write(pool).await?;
    let changed = sqlx::query(
        "UPDATE prompts SET name = $2, description = $3, template = $4, model = $5, \
         settings = $6, visibility = $7, updated_at = $8 WHERE id = $1",
    )
    .bind(prompt.id.0)
    .bind(&prompt.name)
    .bind(&prompt.description)
    .bind(&prompt.template)
    .bind(&prompt.model)
    .bind(Json(&prompt.settings))
    .bind(prompt.visibility.as_str())
    .bind(prompt.updated_at)
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
    id: PromptId,
) -> StoreResult<bool> {
    let mut tx = super::idempotency::begin_write(pool).await?;
    let gone = sqlx::query("DELETE FROM prompts WHERE id = $1 AND workspace_id = $2")
        .bind(id.0)
        .bind(workspace.0)
        .execute(&mut *tx)
        .await
        .map_err(db)?
        .rows_affected();
    tx.commit().await.map_err(db)?;
    Ok(gone == 1)
}
