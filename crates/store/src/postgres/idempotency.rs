//! `Idempotency-Key` claims: one row per (owner, key), claimed under its
//! row lock so that two requests racing with one key cannot both start. A
//! claim carries a lease (renewed by its node while it works; any node may
//! take over an expired one) and, once the request's own write commits, the
//! mark of its effect ([`begin_write`] puts it in that write's transaction).

use super::error::{corrupt, db};
use spool_core::Timestamp;
use spool_core::query::IdempotencyBegin;
use spool_core::store::{Lease, StoreResult};
use sqlx::{PgConnection, PgPool, Postgres, Row, Transaction};

/// Expired claims removed per `begin`: enough to keep up with the traffic
/// that makes them, small enough never to be noticed.
const SWEEP: i64 = 32;

/// Begins a transaction for a write; under a request's `Idempotency-Key` it
/// also marks the key's effect, so the two commit together or not at all.
pub(super) async fn begin_write(pool: &PgPool) -> StoreResult<Transaction<'static, Postgres>> {
    let mut tx = pool.begin().await.map_err(db)?;
    mark_effect(&mut tx).await?;
    Ok(tx)
}

/// The first CTE of a write made in one statement: it marks the current
/// request's claim, bound by [`bind_claim`] as `$1`–`$3` (all `NULL`
/// without a claim: then it matches no row). The statement's own
/// parameters start at `$4`.
/// `mark_claim!(" AND …")` adds a condition (on the statement's other CTEs),
/// for a write that may find nothing to do.
macro_rules! mark_claim {
    () => {
        $crate::postgres::idempotency::mark_claim!("")
    };
    ($when:literal) => {
        concat!(
            "marked AS (UPDATE idempotency_keys \
             SET effect_at = coalesce(effect_at, now()), reference = coalesce($3, reference) \
             WHERE owner = $1 AND key = $2 AND status IS NULL",
            $when,
            ")"
        )
    };
}
pub(super) use mark_claim;

/// Binds the current request's claim for [`mark_claim`].
pub(super) fn bind_claim<'q>(
    query: sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>,
) -> sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments> {
    let claim = spool_core::idempotency::current();
    let (owner, key, reference) = match &claim {
        Some(claim) => (
            Some(claim.owner.clone()),
            Some(claim.key.clone()),
            claim.reference().map(|r| r.encode()),
        ),
        None => (None, None, None),
    };
    query.bind(owner).bind(key).bind(reference)
}

/// Marks the current request's claim (if any) in `conn`'s transaction.
pub(super) async fn mark_effect(conn: &mut PgConnection) -> StoreResult<()> {
    let Some(claim) = spool_core::idempotency::current() else {
        return Ok(());
    };
    sqlx::query(
        "UPDATE idempotency_keys \
         SET effect_at = coalesce(effect_at, now()), reference = coalesce($3, reference) \
         WHERE owner = $1 AND key = $2 AND status IS NULL",
    )
    .bind(&claim.owner)
    .bind(&claim.key)
    .bind(claim.reference().map(|r| r.encode()))
    .execute(conn)
    .await
    .map_err(db)?;
    Ok(())
}

pub(super) async fn begin(
    pool: &PgPool,
    owner: &str,
    key: &str,
    fingerprint: &[u8; 32],
    at: Timestamp,
    since: Timestamp,
    lease: Lease<'_>,
) -> StoreResult<IdempotencyBegin> {
    let mut tx = pool.begin().await.map_err(db)?;
    // Inserts a fresh claim, or replaces an expired one. A live row is left
    // alone but locked (ON CONFLICT DO UPDATE locks the row even when its
    // WHERE is false), so it cannot change or vanish before we read it.
    let claimed = sqlx::query(
        "INSERT INTO idempotency_keys AS k \
             (owner, key, fingerprint, status, body, created_at, lease_holder, lease_until) \
         VALUES ($1, $2, $3, NULL, NULL, $4, $6, $7) \
         ON CONFLICT (owner, key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, \
             status = NULL, body = NULL, created_at = EXCLUDED.created_at, \
             lease_holder = EXCLUDED.lease_holder, lease_until = EXCLUDED.lease_until, \
             effect_at = NULL, reference = NULL \
         WHERE k.created_at < $5 \
         RETURNING 1",
    )
    .bind(owner)
    .bind(key)
    .bind(&fingerprint[..])
    .bind(at)
    .bind(since)
    .bind(lease.holder)
    .bind(lease.until)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db)?;
    let outcome = if claimed.is_some() {
        IdempotencyBegin::Started
    } else {
        let row = sqlx::query(
            "SELECT fingerprint, status, body, lease_until, effect_at IS NOT NULL AS effect, \
                    reference \
             FROM idempotency_keys WHERE owner = $1 AND key = $2 FOR UPDATE",
        )
        .bind(owner)
        .bind(key)
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
        let stored: Vec<u8> = row.try_get("fingerprint").map_err(db)?;
        let status: Option<i32> = row.try_get("status").map_err(db)?;
        let lease_until: Option<Timestamp> = row.try_get("lease_until").map_err(db)?;
        if stored != fingerprint[..] {
            IdempotencyBegin::Mismatch
        } else if let Some(status) = status {
            let status = u16::try_from(status).map_err(|_| db(corrupt("idempotency status")))?;
            let body: Option<Vec<u8>> = row.try_get("body").map_err(db)?;
            IdempotencyBegin::Replay {
                status,
                body: body.unwrap_or_default(),
            }
        } else if lease_until.is_some_and(|until| until > at) {
            IdempotencyBegin::InProgress
        } else {
            // Its node is gone (or gave it up): the claim is the caller's now.
            sqlx::query(
                "UPDATE idempotency_keys SET lease_holder = $3, lease_until = $4 \
                 WHERE owner = $1 AND key = $2",
            )
            .bind(owner)
            .bind(key)
            .bind(lease.holder)
            .bind(lease.until)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
            if row.try_get::<bool, _>("effect").map_err(db)? {
                IdempotencyBegin::Resume {
                    reference: row.try_get("reference").map_err(db)?,
                }
            } else {
                IdempotencyBegin::Started
            }
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

pub(super) async fn renew(
    pool: &PgPool,
    owner: &str,
    key: &str,
    lease: Lease<'_>,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE idempotency_keys SET lease_until = $4 \
         WHERE owner = $1 AND key = $2 AND lease_holder = $3 AND status IS NULL",
    )
    .bind(owner)
    .bind(key)
    .bind(lease.holder)
    .bind(lease.until)
    .execute(pool)
    .await
    .map_err(db)?;
    Ok(())
}

pub(super) async fn finish(
    pool: &PgPool,
    owner: &str,
    key: &str,
    status: u16,
    body: &[u8],
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE idempotency_keys \
         SET status = $3, body = $4, lease_holder = NULL, lease_until = NULL \
         WHERE owner = $1 AND key = $2",
    )
    .bind(owner)
    .bind(key)
    .bind(i32::from(status))
    .bind(body)
    .execute(pool)
    .await
    .map_err(db)?;
    Ok(())
}

pub(super) async fn release(pool: &PgPool, owner: &str, key: &str) -> StoreResult<()> {
    let mut tx = pool.begin().await.map_err(db)?;
    sqlx::query(
        "DELETE FROM idempotency_keys \
         WHERE owner = $1 AND key = $2 AND status IS NULL AND effect_at IS NULL",
    )
    .bind(owner)
    .bind(key)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    sqlx::query(
        "UPDATE idempotency_keys SET lease_holder = NULL, lease_until = NULL \
         WHERE owner = $1 AND key = $2 AND status IS NULL",
    )
    .bind(owner)
    .bind(key)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    tx.commit().await.map_err(db)?;
    Ok(())
}

/// Several nodes share the database: a starting node cannot know which
/// claims belong to live ones, so it ends none (leases expire instead).
pub(super) async fn release_all(_pool: &PgPool) -> StoreResult<u64> {
    Ok(0)
}
