//! `Idempotency-Key` claims: one row per (owner, key), claimed under its
//! row lock so that two requests racing with one key cannot both start.

use super::error::{corrupt, db};
use spool_core::Timestamp;
use spool_core::query::IdempotencyBegin;
use spool_core::store::StoreResult;
use sqlx::{PgPool, Row};

/// Expired claims removed per `begin`: enough to keep up with the traffic
/// that makes them, small enough never to be noticed.
const SWEEP: i64 = 32;

pub(super) async fn begin(
    pool: &PgPool,
    owner: &str,
    key: &str,
    fingerprint: &[u8; 32],
    at: Timestamp,
    since: Timestamp,
) -> StoreResult<IdempotencyBegin> {
    let mut tx = pool.begin().await.map_err(db)?;
    // Inserts a fresh claim, or replaces an expired one. A live row is left
    // alone but locked (ON CONFLICT DO UPDATE locks the row even when its
    // WHERE is false), so it cannot change or vanish before we read it.
    let claimed = sqlx::query(
        "INSERT INTO idempotency_keys AS k (owner, key, fingerprint, status, body, created_at) \
         VALUES ($1, $2, $3, NULL, NULL, $4) \
         ON CONFLICT (owner, key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, \
             status = NULL, body = NULL, created_at = EXCLUDED.created_at \
         WHERE k.created_at < $5 \
         RETURNING 1",
    )
    .bind(owner)
    .bind(key)
    .bind(&fingerprint[..])
    .bind(at)
    .bind(since)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db)?;
    let outcome = if claimed.is_some() {
        IdempotencyBegin::Started
    } else {
        let row = sqlx::query(
            "SELECT fingerprint, status, body FROM idempotency_keys \
             WHERE owner = $1 AND key = $2 FOR UPDATE",
        )
        .bind(owner)
        .bind(key)
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
        let stored: Vec<u8> = row.try_get("fingerprint").map_err(db)?;
        let status: Option<i32> = row.try_get("status").map_err(db)?;
        if stored != fingerprint[..] {
            IdempotencyBegin::Mismatch
        } else if let Some(status) = status {
            let status = u16::try_from(status).map_err(|_| db(corrupt("idempotency status")))?;
            let body: Option<Vec<u8>> = row.try_get("body").map_err(db)?;
            IdempotencyBegin::Replay {
                status,
                body: body.unwrap_or_default(),
            }
        } else {
            IdempotencyBegin::InProgress
        }
    };
    // Opportunistic clean-up of claims nobody can replay any more; rows
    // another transaction holds are skipped, not waited for.
    sqlx::query(
        "DELETE FROM idempotency_keys WHERE (owner, key) IN ( \
             SELECT owner, key FROM idempotency_keys WHERE created_at < $1 \
             LIMIT $2 FOR UPDATE SKIP LOCKED)",
    )
    .bind(since)
    .bind(SWEEP)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    tx.commit().await.map_err(db)?;
    Ok(outcome)
}

pub(super) async fn finish(
    pool: &PgPool,
    owner: &str,
    key: &str,
    status: u16,
    body: &[u8],
) -> StoreResult<()> {
    sqlx::query("UPDATE idempotency_keys SET status = $3, body = $4 WHERE owner = $1 AND key = $2")
        .bind(owner)
        .bind(key)
        .bind(i32::from(status))
        .bind(body)
        .execute(pool)
        .await
        .map_err(db)?;
    Ok(())
}

pub(super) async fn abandon(pool: &PgPool, owner: &str, key: &str) -> StoreResult<()> {
    sqlx::query("DELETE FROM idempotency_keys WHERE owner = $1 AND key = $2")
        .bind(owner)
        .bind(key)
        .execute(pool)
        .await
        .map_err(db)?;
    Ok(())
}
