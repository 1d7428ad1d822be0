//! Users and sign-in sessions.

use super::error::db;
use super::rows::{self, session_columns, user_columns};
use spool_core::model::{NewUser, Session, User};
use spool_core::secret::TokenHash;
use spool_core::store::StoreResult;
use spool_core::{Timestamp, UserId};
use sqlx::PgPool;

pub(super) async fn count_users(pool: &PgPool) -> StoreResult<u64> {
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(pool)
        .await
        .map_err(db)?;
    Ok(rows::count(n))
}

pub(super) async fn insert_user(pool: &PgPool, user: NewUser) -> StoreResult<User> {
    let row = sqlx::query(concat!(
        "INSERT INTO users AS u (uuid, name, first_name, last_name, email, password_hash, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING ",
        user_columns!()
    ))
    .bind(user.uuid)
    .bind(user.name)
    .bind(user.first_name)
    .bind(user.last_name)
    .bind(user.email)
    .bind(user.password_hash)
    .bind(user.created_at)
    .fetch_one(pool)
    .await
    .map_err(db)?;
    rows::user(&row).map_err(db)
}

pub(super) async fn user(pool: &PgPool, id: UserId) -> StoreResult<Option<User>> {
    let row = sqlx::query(concat!(
        "SELECT ",
        user_columns!(),
        " FROM users u WHERE u.id = $1"
    ))
    .bind(id.0)
    .fetch_optional(pool)
    .await
    .map_err(db)?;
    row.as_ref().map(rows::user).transpose().map_err(db)
}

pub(super) async fn user_by_email(pool: &PgPool, email: &str) -> StoreResult<Option<User>> {
    let row = sqlx::query(concat!(
        "SELECT ",
        user_columns!(),
        " FROM users u WHERE u.email = $1"
    ))
    .bind(email)
    .fetch_optional(pool)
    .await
    .map_err(db)?;
    row.as_ref().map(rows::user).transpose().map_err(db)
}

pub(super) async fn user_password_hash(
    pool: &PgPool,
    email: &str,
) -> StoreResult<Option<(User, String)>> {
    let row = sqlx::query(concat!(
        "SELECT ",
        user_columns!(),
        ", u.password_hash FROM users u WHERE u.email = $1"
    ))
    .bind(email)
    .fetch_optional(pool)
    .await
    .map_err(db)?;
    let decode = |row: &sqlx::postgres::PgRow| -> sqlx::Result<(User, String)> {
        Ok((rows::user(row)?, sqlx::Row::try_get(row, "password_hash")?))
    };
    row.as_ref().map(decode).transpose().map_err(db)
}

pub(super) async fn insert_session(pool: &PgPool, session: Session) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO sessions (id, user_id, token_hash, created_at, expires_at, revoked_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(session.id.0)
    .bind(session.user_id.0)
    .bind(session.hash.0.to_vec())
    .bind(session.created_at)
    .bind(session.expires_at)
    .bind(session.revoked_at)
    .execute(pool)
    .await
    .map_err(db)?;
    Ok(())
}

pub(super) async fn session_by_hash(
    pool: &PgPool,
    hash: TokenHash,
) -> StoreResult<Option<Session>> {
    let row = sqlx::query(concat!(
        "SELECT ",
        session_columns!(),
        " FROM sessions s WHERE s.token_hash = $1"
    ))
    .bind(hash.0.to_vec())
    .fetch_optional(pool)
    .await
    .map_err(db)?;
    row.as_ref().map(rows::session).transpose().map_err(db)
}

/// Keeps the first revocation instant when a session is revoked twice.
pub(super) async fn revoke_session(
    pool: &PgPool,
    hash: TokenHash,
    at: Timestamp,
) -> StoreResult<()> {
    let mut tx = super::idempotency::begin_write(pool).await?;
    sqlx::query("UPDATE sessions SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL")
        .bind(hash.0.to_vec())
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    tx.commit().await.map_err(db)?;
    Ok(())
}

/// In id order; ids that name no user are left out.
pub(super) async fn users_by_ids(pool: &PgPool, ids: &[UserId]) -> StoreResult<Vec<User>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = ids.iter().map(|id| id.0).collect();
    let found = sqlx::query(concat!(
        "SELECT ",
        user_columns!(),
        " FROM users u WHERE u.id = ANY($1) ORDER BY u.id"
    ))
    .bind(ids)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    found
        .iter()
        .map(rows::user)
        .collect::<Result<_, _>>()
        .map_err(db)
}

/// Every user in id order after `after`, at most `limit`.
pub(super) async fn users_after(
    pool: &PgPool,
    after: Option<UserId>,
    limit: u32,
) -> StoreResult<Vec<User>> {
    let found = sqlx::query(concat!(
        "SELECT ",
        user_columns!(),
        " FROM users u WHERE u.id > $1 ORDER BY u.id LIMIT $2"
    ))
    .bind(after.map_or(0, |id| id.0))
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(db)?;
    found
        .iter()
        .map(rows::user)
        .collect::<Result<_, _>>()
        .map_err(db)
}
