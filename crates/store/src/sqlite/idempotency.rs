//! `Idempotency-Key` claims: one row per (owner, key), decided inside one
//! write so that two requests racing on a key cannot both start.

use super::engine::backend_error;
use super::rows::micros;
use rusqlite::{Connection, OptionalExtension, params};
use spool_core::query::IdempotencyBegin;
use spool_core::{StoreError, Timestamp};

type Result<T> = std::result::Result<T, StoreError>;

/// Expired claims removed per claim made: enough to keep pace with new
/// keys without making any one write slow.
const SWEEP: i64 = 100;

/// A live claim: its fingerprint, and the response once there is one.
type Claim = (Vec<u8>, Option<i64>, Option<Vec<u8>>);

pub(super) fn begin(
    conn: &Connection,
    owner: &str,
    key: &str,
    fingerprint: &[u8; 32],
    at: Timestamp,
    since: Timestamp,
) -> Result<IdempotencyBegin> {
    let since = micros(since);
    let existing: Option<Claim> = conn
        .prepare_cached(
            "SELECT fingerprint, status, body FROM idempotency_keys
             WHERE owner = ?1 AND key = ?2 AND created_at >= ?3",
        )
        .and_then(|mut s| {
            s.query_row(params![owner, key, since], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()
        })
        .map_err(backend_error)?;
    if let Some((stored, status, body)) = existing {
        return Ok(if stored != fingerprint[..] {
            IdempotencyBegin::Mismatch
        } else {
            match status {
                None => IdempotencyBegin::InProgress,
                Some(status) => IdempotencyBegin::Replay {
                    status: u16::try_from(status).unwrap_or(500),
                    body: body.unwrap_or_default(),
                },
            }
        });
    }
    conn.prepare_cached(
        "DELETE FROM idempotency_keys WHERE (owner, key) IN (
             SELECT owner, key FROM idempotency_keys WHERE created_at < ?1 LIMIT ?2)",
    )
    .and_then(|mut s| s.execute(params![since, SWEEP]))
    .map_err(backend_error)?;
    conn.prepare_cached(
        "INSERT OR REPLACE INTO idempotency_keys (owner, key, fingerprint, status, body, created_at)
         VALUES (?1, ?2, ?3, NULL, NULL, ?4)",
    )
    .and_then(|mut s| s.execute(params![owner, key, &fingerprint[..], micros(at)]))
    .map_err(backend_error)?;
    Ok(IdempotencyBegin::Started)
}

pub(super) fn finish(
    conn: &Connection,
    owner: &str,
    key: &str,
    status: u16,
    body: &[u8],
) -> Result<()> {
    conn.prepare_cached(
        "UPDATE idempotency_keys SET status = ?3, body = ?4 WHERE owner = ?1 AND key = ?2",
    )
    .and_then(|mut s| s.execute(params![owner, key, status, body]))
    .map(drop)
    .map_err(backend_error)
}

pub(super) fn abandon(conn: &Connection, owner: &str, key: &str) -> Result<()> {
    conn.prepare_cached("DELETE FROM idempotency_keys WHERE owner = ?1 AND key = ?2")
        .and_then(|mut s| s.execute(params![owner, key]))
        .map(drop)
        .map_err(backend_error)
}
