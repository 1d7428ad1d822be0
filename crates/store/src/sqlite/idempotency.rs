//! `Idempotency-Key` claims: one row per (owner, key), decided inside one
//! write so that two requests racing on a key cannot both start. A claim
//! carries a lease (its process renews it while it works) and, once the
//! request's own write commits, the mark of its effect (`mark_effect`, run
//! in that write's transaction).

use super::engine::backend_error;
use super::rows::micros;
use rusqlite::{Connection, OptionalExtension, params};
use spool_core::idempotency::Claim;
use spool_core::query::IdempotencyBegin;
use spool_core::store::Lease;
use spool_core::{StoreError, Timestamp};

type Result<T> = std::result::Result<T, StoreError>;

/// Expired claims removed per claim made: enough to keep pace with new
/// keys without making any one write slow.
const SWEEP: i64 = 100;

struct Row {
    fingerprint: Vec<u8>,
    status: Option<i64>,
    body: Option<Vec<u8>>,
    lease_until: Option<i64>,
    effect: bool,
    reference: Option<String>,
}

pub(super) fn begin(
    conn: &Connection,
    owner: &str,
    key: &str,
    fingerprint: &[u8; 32],
    at: Timestamp,
    since: Timestamp,
    lease: Lease<'_>,
) -> Result<IdempotencyBegin> {
    let since = micros(since);
    let existing = conn
        .prepare_cached(
            "SELECT fingerprint, status, body, lease_until, effect_at IS NOT NULL, reference
             FROM idempotency_keys WHERE owner = ?1 AND key = ?2 AND created_at >= ?3",
        )
        .and_then(|mut s| {
            s.query_row(params![owner, key, since], |r| {
                Ok(Row {
                    fingerprint: r.get(0)?,
                    status: r.get(1)?,
                    body: r.get(2)?,
                    lease_until: r.get(3)?,
                    effect: r.get(4)?,
                    reference: r.get(5)?,
                })
            })
            .optional()
        })
        .map_err(backend_error)?;
    if let Some(row) = existing {
        if row.fingerprint != fingerprint[..] {
            return Ok(IdempotencyBegin::Mismatch);
        }
        if let Some(status) = row.status {
            return Ok(IdempotencyBegin::Replay {
                status: u16::try_from(status).unwrap_or(500),
                body: row.body.unwrap_or_default(),
            });
        }
        if row.lease_until.is_some_and(|until| until > micros(at)) {
            return Ok(IdempotencyBegin::InProgress);
        }
        // Its process is gone: the claim is the caller's now.
        conn.prepare_cached(
            "UPDATE idempotency_keys SET lease_holder = ?3, lease_until = ?4
             WHERE owner = ?1 AND key = ?2",
        )
        .and_then(|mut s| s.execute(params![owner, key, lease.holder, micros(lease.until)]))
        .map_err(backend_error)?;
        return Ok(if row.effect {
            IdempotencyBegin::Resume {
                reference: row.reference,
            }
        } else {
            IdempotencyBegin::Started
        });
    }
    conn.prepare_cached(
        "DELETE FROM idempotency_keys WHERE (owner, key) IN (
             SELECT owner, key FROM idempotency_keys WHERE created_at < ?1 LIMIT ?2)",
    )
    .and_then(|mut s| s.execute(params![since, SWEEP]))
    .map_err(backend_error)?;
    conn.prepare_cached(
        "INSERT OR REPLACE INTO idempotency_keys
             (owner, key, fingerprint, status, body, created_at, lease_holder, lease_until,
              effect_at, reference)
         VALUES (?1, ?2, ?3, NULL, NULL, ?4, ?5, ?6, NULL, NULL)",
    )
    .and_then(|mut s| {
        s.execute(params![
            owner,
            key,
            &fingerprint[..],
            micros(at),
            lease.holder,
            micros(lease.until)
        ])
    })
    .map_err(backend_error)?;
    Ok(IdempotencyBegin::Started)
}

/// Marks the claim's effect as committed, in the caller's transaction.
pub(super) fn mark_effect(conn: &Connection, claim: &Claim) -> Result<()> {
    let reference = claim.reference().map(|r| r.encode());
    conn.prepare_cached(
        "UPDATE idempotency_keys
         SET effect_at = coalesce(effect_at, ?3), reference = coalesce(?4, reference)
         WHERE owner = ?1 AND key = ?2 AND status IS NULL",
    )
    .and_then(|mut s| {
        s.execute(params![
            claim.owner,
            claim.key,
            micros(spool_core::now()),
            reference
        ])
    })
    .map(drop)
    .map_err(backend_error)
}

pub(super) fn renew(conn: &Connection, owner: &str, key: &str, lease: Lease<'_>) -> Result<()> {
    conn.prepare_cached(
        "UPDATE idempotency_keys SET lease_until = ?4
         WHERE owner = ?1 AND key = ?2 AND lease_holder = ?3 AND status IS NULL",
    )
    .and_then(|mut s| s.execute(params![owner, key, lease.holder, micros(lease.until)]))
    .map(drop)
    .map_err(backend_error)
}

pub(super) fn finish(
    conn: &Connection,
    owner: &str,
    key: &str,
    status: u16,
    body: &[u8],
) -> Result<()> {
    conn.prepare_cached(
        "UPDATE idempotency_keys
         SET status = ?3, body = ?4, lease_holder = NULL, lease_until = NULL
         WHERE owner = ?1 AND key = ?2",
    )
    .and_then(|mut s| s.execute(params![owner, key, status, body]))
    .map(drop)
    .map_err(backend_error)
}

pub(super) fn release(conn: &Connection, owner: &str, key: &str) -> Result<()> {
    conn.prepare_cached(
        "DELETE FROM idempotency_keys
         WHERE owner = ?1 AND key = ?2 AND status IS NULL AND effect_at IS NULL",
    )
    .and_then(|mut s| s.execute(params![owner, key]))
    .map_err(backend_error)?;
    conn.prepare_cached(
        "UPDATE idempotency_keys SET lease_holder = NULL, lease_until = NULL
         WHERE owner = ?1 AND key = ?2 AND status IS NULL",
    )
    .and_then(|mut s| s.execute(params![owner, key]))
    .map(drop)
    .map_err(backend_error)
}

pub(super) fn release_all(conn: &Connection) -> Result<u64> {
    let dropped = conn
        .prepare_cached("DELETE FROM idempotency_keys WHERE status IS NULL AND effect_at IS NULL")
        .and_then(|mut s| s.execute([]))
        .map_err(backend_error)?;
    let released = conn
        .prepare_cached(
            "UPDATE idempotency_keys SET lease_holder = NULL, lease_until = NULL
             WHERE status IS NULL AND lease_until IS NOT NULL",
        )
        .and_then(|mut s| s.execute([]))
        .map_err(backend_error)?;
    Ok((dropped + released) as u64)
}
