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
    .execute(pool)
    .await
    .map_err(db)?;
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

#[cfg(test)]
mod tests {
    use crate::PostgresStore;
    use crate::test_db::fresh_postgres;
    use chrono::{Duration, TimeZone, Utc};
    use spool_core::model::{NewUser, Workspace};
    use spool_core::secret::{API_KEY_PREFIX, PlainToken};
    use spool_core::validate::Metadata;
    use spool_core::{ApiKeyId, Store, WorkspaceId};

    #[tokio::test]
    async fn a_late_touch_never_moves_last_used_at_back() {
        let database = fresh_postgres().await;
        let store = PostgresStore::connect(&database.url).await.unwrap();
        let t0 = Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap();
        let user = store
            .insert_user(NewUser {
                uuid: uuid::Uuid::now_v7(),
                name: "Ada".into(),
                first_name: None,
                last_name: None,
                email: "ada@example.com".into(),
                password_hash: "$argon2id$x".into(),
                created_at: t0,
            })
            .await
            .unwrap();
        let workspace = Workspace {
            id: WorkspaceId::new(),
            slug: "home".into(),
            name: "Home".into(),
            profile_photo_url: None,
            is_onboarded: false,
            metadata: Metadata::default(),
            owner_id: Some(user.id),
            created_at: t0,
            updated_at: t0,
        };
        store
            .insert_workspace(workspace.clone(), user.id)
            .await
            .unwrap();
        let token = PlainToken::generate(API_KEY_PREFIX);
        let key = spool_core::model::ApiKey {
            id: ApiKeyId::new(),
            workspace_id: workspace.id,
            user_id: user.id,
            name: "ci".into(),
            prefix: token.display_prefix(),
            hash: token.hash(),
            created_at: t0,
            last_used_at: None,
            expires_at: None,
            revoked_at: None,
        };
        store.insert_api_key(key.clone()).await.unwrap();
        let last_used = || async {
            let found = store.api_key(workspace.id, key.id).await.unwrap();
            found.unwrap().last_used_at
        };

        store
            .touch_api_key(key.id, t0 + Duration::seconds(10))
            .await
            .unwrap();
        assert_eq!(last_used().await, Some(t0 + Duration::seconds(10)));
        store
            .touch_api_key(key.id, t0 + Duration::seconds(5))
            .await
            .unwrap();
        assert_eq!(
            last_used().await,
            Some(t0 + Duration::seconds(10)),
            "moved back"
        );
        store
            .touch_api_key(key.id, t0 + Duration::seconds(20))
            .await
            .unwrap();
        assert_eq!(last_used().await, Some(t0 + Duration::seconds(20)));
    }
}
