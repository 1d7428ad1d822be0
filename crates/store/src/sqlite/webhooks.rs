//! Webhooks and their outbox of deliveries.

use super::engine::backend_error;
use super::rows::{Blob, instant, micros, opt_instant, parse_text};
use rusqlite::{Connection, OptionalExtension, Row, params};
use spool_core::model::Run;
use spool_core::paging::{Page, PageRequest};
use spool_core::store::Lease;
use spool_core::webhooks::{
    DeliveryAttempt, DeliveryStatus, DueDelivery, Webhook, WebhookDelivery, WebhookEvent,
    events_text, parse_events_text, payload,
};
use spool_core::{DeliveryId, RunId, StoreError, Timestamp, WebhookId, WorkspaceId};

type Result<T> = std::result::Result<T, StoreError>;

const WEBHOOK_COLUMNS: &str = "id, workspace_id, url, events, secret, created_at, updated_at";
const DELIVERY_COLUMNS: &str = "id, webhook_id, event, run_id, status, attempts, response_status, error, \
     next_attempt_at, last_attempt_at, delivered_at, created_at";

fn webhook_row(row: &Row<'_>) -> rusqlite::Result<Webhook> {
    let events: String = row.get(3)?;
    Ok(Webhook {
        id: WebhookId(row.get::<_, Blob>(0)?.0),
        workspace_id: WorkspaceId(row.get::<_, Blob>(1)?.0),
        url: row.get(2)?,
        events: parse_events_text(&events),
        secret: row.get(4)?,
        created_at: instant(row.get(5)?)?,
        updated_at: instant(row.get(6)?)?,
    })
}

fn delivery_row(row: &Row<'_>) -> rusqlite::Result<WebhookDelivery> {
    let status: String = row.get(4)?;
    Ok(WebhookDelivery {
        id: DeliveryId(row.get::<_, Blob>(0)?.0),
        webhook_id: WebhookId(row.get::<_, Blob>(1)?.0),
        event: row.get(2)?,
        run_id: row.get::<_, Option<Blob>>(3)?.map(|b| RunId(b.0)),
        status: parse_text(4, &status, DeliveryStatus::parse)?,
        attempts: u32::try_from(row.get::<_, i64>(5)?).unwrap_or(u32::MAX),
        response_status: row
            .get::<_, Option<i64>>(6)?
            .and_then(|s| u16::try_from(s).ok()),
        error: row.get(7)?,
        next_attempt_at: opt_instant(row.get(8)?)?,
        last_attempt_at: opt_instant(row.get(9)?)?,
        delivered_at: opt_instant(row.get(10)?)?,
        created_at: instant(row.get(11)?)?,
    })
}

pub(super) fn insert(conn: &Connection, webhook: &Webhook) -> Result<()> {
    conn.prepare_cached(&format!(
        "INSERT INTO webhooks ({WEBHOOK_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
    ))
    .and_then(|mut s| {
        s.execute(params![
            Blob(webhook.id.0),
            Blob(webhook.workspace_id.0),
            webhook.url,
            events_text(&webhook.events),
            webhook.secret,
            micros(webhook.created_at),
            micros(webhook.updated_at),
        ])
    })
    .map(drop)
    .map_err(backend_error)
}

pub(super) fn get(
    conn: &Connection,
    workspace: WorkspaceId,
    id: WebhookId,
) -> Result<Option<Webhook>> {
    conn.prepare_cached(&format!(
        "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = ?1 AND workspace_id = ?2"
    ))
    .and_then(|mut s| {
        s.query_row([Blob(id.0), Blob(workspace.0)], webhook_row)
            .optional()
    })
    .map_err(backend_error)
}

pub(super) fn list(
    conn: &Connection,
    workspace: WorkspaceId,
    page: PageRequest,
) -> Result<Page<Webhook>> {
    let total: i64 = conn
        .prepare_cached("SELECT count(*) FROM webhooks WHERE workspace_id = ?1")
        .and_then(|mut s| s.query_row([Blob(workspace.0)], |r| r.get(0)))
        .map_err(backend_error)?;
    let items = conn
        .prepare_cached(&format!(
            "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE workspace_id = ?1
             ORDER BY created_at DESC, id DESC LIMIT ?2 OFFSET ?3"
        ))
        .and_then(|mut s| {
            s.query_map(
                params![Blob(workspace.0), page.per_page, page.offset()],
                webhook_row,
            )?
            .collect()
        })
        .map_err(backend_error)?;
    Ok(Page {
        items,
        total: total.unsigned_abs(),
        request: page,
    })
}

pub(super) fn delete(conn: &Connection, workspace: WorkspaceId, id: WebhookId) -> Result<bool> {
    conn.prepare_cached("DELETE FROM webhooks WHERE id = ?1 AND workspace_id = ?2")
        .and_then(|mut s| s.execute([Blob(id.0), Blob(workspace.0)]))
        .map(|n| n == 1)
        .map_err(backend_error)
}

pub(super) fn deliveries(
    conn: &Connection,
    webhook: WebhookId,
    page: PageRequest,
) -> Result<Page<WebhookDelivery>> {
    let total: i64 = conn
        .prepare_cached("SELECT count(*) FROM webhook_deliveries WHERE webhook_id = ?1")
        .and_then(|mut s| s.query_row([Blob(webhook.0)], |r| r.get(0)))
        .map_err(backend_error)?;
    let items = conn
        .prepare_cached(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE webhook_id = ?1
             ORDER BY created_at DESC, id DESC LIMIT ?2 OFFSET ?3"
        ))
        .and_then(|mut s| {
            s.query_map(
                params![Blob(webhook.0), page.per_page, page.offset()],
                delivery_row,
            )?
            .collect()
        })
        .map_err(backend_error)?;
    Ok(Page {
        items,
        total: total.unsigned_abs(),
        request: page,
    })
}

/// Inside the transaction that moves `run` to `event`: one delivery for
/// each webhook of its workspace that asked for the event.
pub(super) fn enqueue(
    conn: &Connection,
    run: &Run,
    event: WebhookEvent,
    at: Timestamp,
) -> Result<()> {
    let hooks: Vec<(Blob, String)> = conn
        .prepare_cached("SELECT id, events FROM webhooks WHERE workspace_id = ?1")
        .and_then(|mut s| {
            s.query_map([Blob(run.workspace_id.0)], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect()
        })
        .map_err(backend_error)?;
    let mut body = None;
    for (hook, events) in hooks {
        if !parse_events_text(&events).contains(&event) {
            continue;
        }
        let body = body.get_or_insert_with(|| payload(event, run, at));
        conn.prepare_cached(
            "INSERT INTO webhook_deliveries (id, webhook_id, event, run_id, payload, status, next_attempt_at, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?6)",
        )
        .and_then(|mut s| {
            s.execute(params![
                Blob(DeliveryId::new().0),
                hook,
                event.as_str(),
                Blob(run.id.0),
                body.as_str(),
                micros(at),
            ])
        })
        .map_err(backend_error)?;
    }
    Ok(())
}

/// Whether any delivery is due at `at`.
pub(super) fn any_due(conn: &Connection, at: Timestamp) -> Result<bool> {
    conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM webhook_deliveries
                        WHERE status = 'pending' AND next_attempt_at <= ?1)",
    )
    .and_then(|mut s| s.query_row([micros(at)], |r| r.get(0)))
    .map_err(backend_error)
}

/// One node: a claim is the lease alone.
pub(super) fn claim(
    conn: &Connection,
    lease: Lease<'_>,
    at: Timestamp,
    limit: u32,
) -> Result<Vec<DueDelivery>> {
    conn.prepare_cached(
        "UPDATE webhook_deliveries SET lease_holder = ?1, lease_until = ?2
         WHERE id IN (SELECT id FROM webhook_deliveries
                      WHERE status = 'pending' AND next_attempt_at <= ?3
                        AND (lease_until IS NULL OR lease_until < ?3)
                      ORDER BY next_attempt_at LIMIT ?4)",
    )
    .and_then(|mut s| {
        s.execute(params![
            lease.holder,
            micros(lease.until),
            micros(at),
            limit
        ])
    })
    .map_err(backend_error)?;
    conn.prepare_cached(
        "SELECT d.id, w.url, w.secret, d.payload, d.attempts, d.created_at
         FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
         WHERE d.lease_holder = ?1 AND d.lease_until = ?2 AND d.status = 'pending'
         ORDER BY d.next_attempt_at",
    )
    .and_then(|mut s| {
        s.query_map(params![lease.holder, micros(lease.until)], |r| {
            Ok(DueDelivery {
                id: DeliveryId(r.get::<_, Blob>(0)?.0),
                url: r.get(1)?,
                secret: r.get(2)?,
                payload: r.get(3)?,
                attempts: u32::try_from(r.get::<_, i64>(4)?).unwrap_or(u32::MAX),
                created_at: instant(r.get(5)?)?,
            })
        })?
        .collect()
    })
    .map_err(backend_error)
}

pub(super) fn record(
    conn: &Connection,
    id: DeliveryId,
    holder: &str,
    attempt: &DeliveryAttempt,
) -> Result<bool> {
    let (status, response, error, at, next_at, delivered_at) = match attempt {
        DeliveryAttempt::Delivered { status, at } => {
            ("delivered", Some(*status), None, *at, None, Some(*at))
        }
        DeliveryAttempt::Retry {
            status,
            error,
            at,
            next_at,
        } => (
            "pending",
            *status,
            Some(error.as_str()),
            *at,
            Some(*next_at),
            None,
        ),
        DeliveryAttempt::GaveUp { status, error, at } => {
            ("failed", *status, Some(error.as_str()), *at, None, None)
        }
    };
    conn.prepare_cached(
        "UPDATE webhook_deliveries SET status = ?3, attempts = attempts + 1, response_status = ?4,
                error = ?5, last_attempt_at = ?6, next_attempt_at = ?7, delivered_at = ?8,
                lease_holder = NULL, lease_until = NULL
         WHERE id = ?1 AND lease_holder = ?2 AND status = 'pending'",
    )
    .and_then(|mut s| {
        s.execute(params![
            Blob(id.0),
            holder,
            status,
            response.map(i64::from),
            error,
            micros(at),
            next_at.map(micros),
            delivered_at.map(micros),
        ])
    })
    .map(|n| n == 1)
    .map_err(backend_error)
}
