//! Workspaces and their members.

use super::error::db;
use super::rows::{self, user_columns, workspace_columns};
use spool_core::model::{Member, Role, Workspace, WorkspacePatch};
use spool_core::paging::{Page, PageRequest};
use spool_core::store::{RemoveMember, StoreResult};
use spool_core::{Timestamp, UserId, WorkspaceId};
use sqlx::PgPool;
use sqlx::types::Json;

pub(super) async fn insert_workspace(
    pool: &PgPool,
    workspace: Workspace,
    owner: UserId,
) -> StoreResult<Workspace> {
    let mut tx = super::idempotency::begin_write(pool).await?;
    let row = sqlx::query(concat!(
        "INSERT INTO workspaces AS w \
         (id, slug, name, profile_photo_url, is_onboarded, metadata, owner_id, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ",
        workspace_columns!()
    ))
    .bind(workspace.id.0)
    .bind(workspace.slug)
    .bind(workspace.name)
    .bind(workspace.profile_photo_url)
    .bind(workspace.is_onboarded)
    .bind(Json(workspace.metadata.into_map()))
    .bind(workspace.owner_id.map(|id| id.0))
    .bind(workspace.created_at)
    .bind(workspace.updated_at)
    .fetch_one(&mut *tx)
    .await
    .map_err(db)?;
    let inserted = rows::workspace(&row).map_err(db)?;
    sqlx::query(
        "WITH m AS (INSERT INTO workspace_members (workspace_id, user_id, role, created_at) \
                    VALUES ($1, $2, 'owner', $3)) \
         UPDATE users SET primary_workspace_id = $1 WHERE id = $2 AND primary_workspace_id IS NULL",
    )
    .bind(inserted.id.0)
    .bind(owner.0)
    .bind(inserted.created_at)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    tx.commit().await.map_err(db)?;
    Ok(inserted)
}

pub(super) async fn workspace(pool: &PgPool, id: WorkspaceId) -> StoreResult<Option<Workspace>> {
    let row = sqlx::query(concat!(
        "SELECT ",
        workspace_columns!(),
        " FROM workspaces w WHERE w.id = $1"
    ))
    .bind(id.0)
    .fetch_optional(pool)
    .await
    .map_err(db)?;
    row.as_ref().map(rows::workspace).transpose().map_err(db)
}

pub(super) async fn list_workspaces_for_user(
    pool: &PgPool,
    user: UserId,
    page: PageRequest,
) -> StoreResult<Page<Workspace>> {
    let (limit, offset) = rows::limit_offset(page);
    let total: i64 =
        sqlx::query_scalar("SELECT count(*) FROM workspace_members WHERE user_id = $1")
            .bind(user.0)
            .fetch_one(pool)
            .await
            .map_err(db)?;
    let found = sqlx::query(concat!(
        "SELECT ",
        workspace_columns!(),
        " FROM workspaces w JOIN workspace_members m ON m.workspace_id = w.id \
         WHERE m.user_id = $1 ORDER BY w.created_at, w.id LIMIT $2 OFFSET $3"
    ))
    .bind(user.0)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    let items = found
        .iter()
        .map(rows::workspace)
        .collect::<Result<_, _>>()
        .map_err(db)?;
    Ok(Page {
        items,
        total: rows::count(total),
        request: page,
    })
}

pub(super) async fn update_workspace(
    pool: &PgPool,
    id: WorkspaceId,
    patch: WorkspacePatch,
    at: Timestamp,
) -> StoreResult<Option<Workspace>> {
    let (set_photo, photo) = match patch.profile_photo_url {
        Some(photo) => (true, photo),
        None => (false, None),
    };
    let row = sqlx::query(concat!(
        "UPDATE workspaces AS w SET \
             name = COALESCE($2, w.name), \
             slug = COALESCE($3, w.slug), \
             profile_photo_url = CASE WHEN $4 THEN $5 ELSE w.profile_photo_url END, \
             is_onboarded = COALESCE($6, w.is_onboarded), \
             metadata = COALESCE($7, w.metadata), \
             updated_at = $8, \
             thread_retention_days = CASE WHEN $9 THEN $10 ELSE w.thread_retention_days END \
         WHERE w.id = $1 RETURNING ",
        workspace_columns!()
    ))
    .bind(id.0)
    .bind(patch.name)
    .bind(patch.slug)
    .bind(set_photo)
    .bind(photo)
    .bind(patch.is_onboarded)
    .bind(patch.metadata.map(|m| Json(m.into_map())))
    .bind(at)
    .bind(patch.thread_retention_days.is_some())
    .bind(
        patch
            .thread_retention_days
            .flatten()
            .map(|d| i32::try_from(d).unwrap_or(i32::MAX)),
    )
    .fetch_optional(pool)
    .await
    .map_err(db)?;
    row.as_ref().map(rows::workspace).transpose().map_err(db)
}

/// Members, keys and primary-workspace pointers go with it through the
/// schema's foreign keys.
pub(super) async fn delete_workspace(pool: &PgPool, id: WorkspaceId) -> StoreResult<bool> {
    let done = sqlx::query("DELETE FROM workspaces WHERE id = $1")
        .bind(id.0)
        .execute(pool)
        .await
        .map_err(db)?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn role(
    pool: &PgPool,
    workspace: WorkspaceId,
    user: UserId,
) -> StoreResult<Option<Role>> {
    let role: Option<String> = sqlx::query_scalar(
        "SELECT role FROM workspace_members WHERE workspace_id = $1 AND user_id = $2",
    )
    .bind(workspace.0)
    .bind(user.0)
    .fetch_optional(pool)
    .await
    .map_err(db)?;
    role.map(|r| Role::parse(&r).ok_or_else(|| db(super::error::corrupt("role"))))
        .transpose()
}

pub(super) async fn list_members(
    pool: &PgPool,
    workspace: WorkspaceId,
    page: PageRequest,
) -> StoreResult<Page<Member>> {
    let (limit, offset) = rows::limit_offset(page);
    let total: i64 =
        sqlx::query_scalar("SELECT count(*) FROM workspace_members WHERE workspace_id = $1")
            .bind(workspace.0)
            .fetch_one(pool)
            .await
            .map_err(db)?;
    let found = sqlx::query(concat!(
        "SELECT ",
        user_columns!(),
        ", m.role, m.created_at AS joined_at \
         FROM workspace_members m JOIN users u ON u.id = m.user_id \
         WHERE m.workspace_id = $1 ORDER BY m.created_at, m.user_id LIMIT $2 OFFSET $3"
    ))
    .bind(workspace.0)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    let items = found
        .iter()
        .map(rows::member)
        .collect::<Result<_, _>>()
        .map_err(db)?;
    Ok(Page {
        items,
        total: rows::count(total),
        request: page,
    })
}

pub(super) async fn put_member(
    pool: &PgPool,
    workspace: WorkspaceId,
    user: UserId,
    role: Role,
    at: Timestamp,
) -> StoreResult<()> {
    // One statement: the membership and the primary workspace change
    // together (in a transaction for the request's idempotency mark).
    let mut tx = super::idempotency::begin_write(pool).await?;
    sqlx::query(
        "WITH m AS (INSERT INTO workspace_members (workspace_id, user_id, role, created_at) \
                    VALUES ($1, $2, $3, $4) \
                    ON CONFLICT (workspace_id, user_id) DO UPDATE SET role = EXCLUDED.role) \
         UPDATE users SET primary_workspace_id = $1 WHERE id = $2 AND primary_workspace_id IS NULL",
    )
    .bind(workspace.0)
    .bind(user.0)
    .bind(role.as_str())
    .bind(at)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    tx.commit().await.map_err(db)?;
    Ok(())
}

pub(super) async fn remove_member(
    pool: &PgPool,
    workspace: WorkspaceId,
    user: UserId,
) -> StoreResult<RemoveMember> {
    let mut tx = super::idempotency::begin_write(pool).await?;
    // Removals in one workspace queue behind this row lock, so two owners
    // removing each other cannot both see the other one still there.
    let exists: Option<i32> =
        sqlx::query_scalar("SELECT 1 FROM workspaces WHERE id = $1 FOR NO KEY UPDATE")
            .bind(workspace.0)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?;
    if exists.is_none() {
        return Ok(RemoveMember::NotMember);
    }
    let role: Option<String> = sqlx::query_scalar(
        "SELECT role FROM workspace_members WHERE workspace_id = $1 AND user_id = $2",
    )
    .bind(workspace.0)
    .bind(user.0)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db)?;
    match role.as_deref() {
        None => return Ok(RemoveMember::NotMember),
        Some("owner") => {
            let owners: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM workspace_members WHERE workspace_id = $1 AND role = 'owner'",
            )
            .bind(workspace.0)
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
            if owners <= 1 {
                return Ok(RemoveMember::LastOwner);
            }
        }
        Some(_) => {}
    }
    sqlx::query(
        "WITH k AS (DELETE FROM api_keys WHERE workspace_id = $1 AND user_id = $2), \
              m AS (DELETE FROM workspace_members WHERE workspace_id = $1 AND user_id = $2) \
         UPDATE users SET primary_workspace_id = NULL WHERE id = $2 AND primary_workspace_id = $1",
    )
    .bind(workspace.0)
    .bind(user.0)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    tx.commit().await.map_err(db)?;
    Ok(RemoveMember::Removed)
}

/// In id order; ids that name no workspace are left out.
pub(super) async fn workspaces_by_ids(
    pool: &PgPool,
    ids: &[WorkspaceId],
) -> StoreResult<Vec<Workspace>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<uuid::Uuid> = ids.iter().map(|id| id.0).collect();
    let found = sqlx::query(concat!(
        "SELECT ",
        workspace_columns!(),
        " FROM workspaces w WHERE w.id = ANY($1) ORDER BY w.id"
    ))
    .bind(ids)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    found
        .iter()
        .map(rows::workspace)
        .collect::<Result<_, _>>()
        .map_err(db)
}

/// Every workspace in id order after `after`, at most `limit`.
pub(super) async fn workspaces_after(
    pool: &PgPool,
    after: Option<WorkspaceId>,
    limit: u32,
) -> StoreResult<Vec<Workspace>> {
    let found = sqlx::query(concat!(
        "SELECT ",
        workspace_columns!(),
        " FROM workspaces w WHERE w.id > $1 ORDER BY w.id LIMIT $2"
    ))
    .bind(after.map_or(uuid::Uuid::nil(), |id| id.0))
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(db)?;
    found
        .iter()
        .map(rows::workspace)
        .collect::<Result<_, _>>()
        .map_err(db)
}
