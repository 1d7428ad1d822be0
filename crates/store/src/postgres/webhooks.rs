//! Webhooks and their outbox of deliveries. Nodes claim due deliveries
//! with `FOR UPDATE SKIP LOCKED` and a lease: a row one node is claiming is
//! skipped by the others, and a claimed row is not due again until its
//! lease runs out.

use super::error::{corrupt, db};
use super::rows;
use spool_core::model::Run;
use spool_core::paging::{Page, PageRequest};
use spool_core::store::{Lease, StoreResult};
use spool_core::webhooks::{
    DeliveryAttempt, DeliveryStatus, DueDelivery, Webhook, WebhookDelivery, WebhookEvent,
    events_text, parse_events_text, payload,
};
use spool_core::{DeliveryId, RunId, Timestamp, WebhookId, WorkspaceId};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Row};
use uuid::Uuid;

macro_rules! webhook_columns {
    () => {
        "id, workspace_id, url, events, secret, created_at, updated_at"
    };
}

fn webhook_row(row: &PgRow) -> sqlx::Result<Webhook> {
    let events: String = row.try_get("events")?;
    Ok(Webhook {
        id: WebhookId(row.try_get("id")?),
        workspace_id: WorkspaceId(row.try_get("workspace_id")?),
        url: row.try_get("url")?,
        events: parse_events_text(&events),
        secret: row.try_get("secret")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn delivery_row(row: &PgRow) -> sqlx::Result<WebhookDelivery> {
    let status: String = row.try_get("status")?;
    Ok(WebhookDelivery {
        id: DeliveryId(row.try_get("id")?),
        webhook_id: WebhookId(row.try_get("webhook_id")?),
        event: row.try_get("event")?,
        run_id: row.try_get::<Option<Uuid>, _>("run_id")?.map(RunId),
        status: DeliveryStatus::parse(&status).ok_or_else(|| corrupt("delivery status"))?,
        attempts: u32::try_from(row.try_get::<i32, _>("attempts")?).unwrap_or(0),
        response_status: row
            .try_get::<Option<i32>, _>("response_status")?
            .and_then(|s| u16::try_from(s).ok()),
        error: row.try_get("error")?,
        next_attempt_at: row.try_get("next_attempt_at")?,
        last_attempt_at: row.try_get("last_attempt_at")?,
        delivered_at: row.try_get("delivered_at")?,
        created_at: row.try_get("created_at")?,
    })
}

pub(super) async fn insert(pool: &PgPool, webhook: Webhook) -> StoreResult<()> {
    let mut tx = super::idempotency::begin_write(pool).await?;
    sqlx::query(concat!(
        "INSERT INTO webhooks (",
        webhook_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7)"
    ))
    .bind(webhook.id.0)
    .bind(webhook.workspace_id.0)
    .bind(&webhook.url)
    .bind(events_text(&webhook.events))
    .bind(&webhook.secret)
    .bind(webhook.created_at)
    .bind(webhook.updated_at)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    tx.commit().await.map_err(db)
}

pub(super) async fn get(
    pool: &PgPool,
    workspace: WorkspaceId,
    id: WebhookId,
) -> StoreResult<Option<Webhook>> {
    let row = sqlx::query(concat!(
        "SELECT ",
        webhook_columns!(),
        " FROM webhooks WHERE id = $1 AND workspace_id = $2"
    ))
    .bind(id.0)
    .bind(workspace.0)
    .fetch_optional(pool)
    .await
    .map_err(db)?;
    row.as_ref().map(webhook_row).transpose().map_err(db)
}

pub(super) async fn list(
    pool: &PgPool,
    workspace: WorkspaceId,
    page: PageRequest,
) -> StoreResult<Page<Webhook>> {
    let (limit, offset) = rows::limit_offset(page);
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM webhooks WHERE workspace_id = $1")
        .bind(workspace.0)
        .fetch_one(pool)
        .await
        .map_err(db)?;
    let found = sqlx::query(concat!(
        "SELECT ",
        webhook_columns!(),
        " FROM webhooks WHERE workspace_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"
    ))
    .bind(workspace.0)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    let items = found
        .iter()
        .map(webhook_row)
        .collect::<sqlx::Result<_>>()
        .map_err(db)?;
    Ok(Page {
        items,
        total: total.unsigned_abs(),
        request: page,
    })
}

pub(super) async fn delete(
    pool: &PgPool,
    workspace: WorkspaceId,
    id: WebhookId,
) -> StoreResult<bool> {
    let mut tx = super::idempotency::begin_write(pool).await?;
    let done = sqlx::query("DELETE FROM webhooks WHERE id = $1 AND workspace_id = $2")
        .bind(id.0)
        .bind(workspace.0)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    tx.commit().await.map_err(db)?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn deliveries(
    pool: &PgPool,
    webhook: WebhookId,
    page: PageRequest,
) -> StoreResult<Page<WebhookDelivery>> {
    let (limit, offset) = rows::limit_offset(page);
    let total: i64 =
        sqlx::query_scalar("SELECT count(*) FROM webhook_deliveries WHERE webhook_id = $1")
            .bind(webhook.0)
            .fetch_one(pool)
            .await
            .map_err(db)?;
    let found = sqlx::query(
        "SELECT id, webhook_id, event, run_id, status, attempts, response_status, error, \
                next_attempt_at, last_attempt_at, delivered_at, created_at \
         FROM webhook_deliveries WHERE webhook_id = $1 \
         ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3",
    )
    .bind(webhook.0)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    let items = found
        .iter()
        .map(delivery_row)
        .collect::<sqlx::Result<_>>()
        .map_err(db)?;
    Ok(Page {
        items,
        total: total.unsigned_abs(),
        request: page,
    })
}

/// Inside the transaction that moves `run` to `event`: one delivery for
/// each webhook of its workspace that asked for the event.
pub(super) async fn enqueue(
    conn: &mut PgConnection,
    run: &Run,
    event: WebhookEvent,
    at: Timestamp,
) -> StoreResult<()> {
    let hooks: Vec<(Uuid, String)> =
        sqlx::query_as("SELECT id, events FROM webhooks WHERE workspace_id = $1")
            .bind(run.workspace_id.0)
            .fetch_all(&mut *conn)
            .await
            .map_err(db)?;
    let wanted: Vec<Uuid> = hooks
        .into_iter()
        .filter(|(_, events)| parse_events_text(events).contains(&event))
        .map(|(id, _)| id)
        .collect();
    if wanted.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = wanted.iter().map(|_| DeliveryId::new().0).collect();
    sqlx::query(
        "INSERT INTO webhook_deliveries (id, webhook_id, event, run_id, payload, status, next_attempt_at, created_at) \
         SELECT d, w, $3, $4, $5, 'pending', $6, $6 FROM unnest($1::uuid[], $2::uuid[]) AS t(d, w)",
    )
    .bind(&ids)
    .bind(&wanted)
    .bind(event.as_str())
    .bind(run.id.0)
    .bind(payload(event, run, at))
    .bind(at)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    Ok(())
}

pub(super) async fn claim(
    pool: &PgPool,
    lease: Lease<'_>,
    at: Timestamp,
    limit: u32,
) -> StoreResult<Vec<DueDelivery>> {
    let found = sqlx::query(
        "WITH due AS (SELECT id FROM webhook_deliveries \
             WHERE status = 'pending' AND next_attempt_at <= $3 \
               AND (lease_until IS NULL OR lease_until < $3) \
             ORDER BY next_attempt_at LIMIT $4 FOR UPDATE SKIP LOCKED) \
         UPDATE webhook_deliveries d SET lease_holder = $1, lease_until = $2 \
         FROM due, webhooks w WHERE d.id = due.id AND w.id = d.webhook_id \
         RETURNING d.id, w.url, w.secret, d.payload, d.attempts, d.created_at, d.next_attempt_at",
    )
    .bind(lease.holder)
    .bind(lease.until)
    .bind(at)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(db)?;
    let mut due = found
        .iter()
        .map(|r| {
            Ok((
                r.try_get::<Option<Timestamp>, _>("next_attempt_at")?,
                DueDelivery {
                    id: DeliveryId(r.try_get("id")?),
                    url: r.try_get("url")?,
                    secret: r.try_get("secret")?,
                    payload: r.try_get("payload")?,
                    attempts: u32::try_from(r.try_get::<i32, _>("attempts")?).unwrap_or(0),
                    created_at: r.try_get("created_at")?,
                },
            ))
        })
        .collect::<sqlx::Result<Vec<_>>>()
        .map_err(db)?;
    due.sort_by_key(|(next, _)| *next);
    Ok(due.into_iter().map(|(_, d)| d).collect())
}

pub(super) async fn record(
    pool: &PgPool,
    id: DeliveryId,
    holder: &str,
    attempt: DeliveryAttempt,
) -> StoreResult<bool> {
    let (status, response, error, at, next_at, delivered_at) = match attempt {
        DeliveryAttempt::Delivered { status, at } => {
            ("delivered", Some(status), None, at, None, Some(at))
        }
        DeliveryAttempt::Retry {
            status,
            error,
            at,
            next_at,
        } => ("pending", status, Some(error), at, Some(next_at), None),
        DeliveryAttempt::GaveUp { status, error, at } => {
            ("failed", status, Some(error), at, None, None)
        }
    };
    let done = sqlx::query(
        "UPDATE webhook_deliveries SET status = $3, attempts = attempts + 1, response_status = $4, \
                error = $5, last_attempt_at = $6, next_attempt_at = $7, delivered_at = $8, \
                lease_holder = NULL, lease_until = NULL \
         WHERE id = $1 AND lease_holder = $2 AND status = 'pending'",
    )
    .bind(id.0)
    .bind(holder)
    .bind(status)
    .bind(response.map(i32::from))
    .bind(error)
    .bind(at)
    .bind(next_at)
    .bind(delivered_at)
    .execute(pool)
    .await
    .map_err(db)?;
    Ok(done.rows_affected() == 1)
}
