//! A workspace's webhooks and their delivery logs (owners and admins,
//! signed in). The secret is in the create answer only.

use super::wire::{Data, Paginated, data, time};
use super::{Athena, Result, WorkspaceParam, named_workspace, uuid_field};
use crate::AppState;
use crate::extract::{Auth, Json, Query};
use crate::paths::PathId;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use spool_core::WebhookId;
use spool_core::service::NewWebhookInput;
use spool_core::webhooks::{Webhook, WebhookDelivery};
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AthenaCreateWebhook)]
pub struct CreateWebhook {
    /// An `http` or `https` URL, at most 2048 characters, whose address is
    /// public (or allowed by the server's `allowed_webhook_hosts`).
    #[schema(
        example = "https://example.com/hooks/spool",
        max_length = 2048,
        pattern = r"^https?://[^/\s][^\s]*$"
    )]
    pub url: String,
    /// The events to send; every event when absent.
    #[schema(value_type = Option<Vec<WebhookEventName>>, min_items = 1)]
    pub events: Option<Vec<String>>,
    /// The workspace whose runs to report (else the query's, else the
    /// caller's primary workspace).
    #[schema(format = Uuid)]
    pub workspace_uuid: Option<String>,
}

/// An event a webhook is sent.
#[derive(ToSchema)]
#[schema(as = AthenaWebhookEvent)]
pub enum WebhookEventName {
    #[schema(rename = "run.completed")]
    RunCompleted,
    #[schema(rename = "run.failed")]
    RunFailed,
    #[schema(rename = "run.cancelled")]
    RunCancelled,
    #[schema(rename = "run.requires_action")]
    RunRequiresAction,
}

#[derive(Serialize, ToSchema)]
#[schema(as = AthenaWebhook)]
pub struct WebhookBody {
    #[schema(format = Uuid)]
    pub uuid: String,
    #[schema(format = Uuid)]
    pub workspace_uuid: String,
    pub url: String,
    #[schema(value_type = Vec<WebhookEventName>)]
    pub events: Vec<&'static str>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    /// The signing secret (`whsec_` and base64): only in the answer that
    /// created the webhook.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String, required = false, example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    pub secret: Option<String>,
}

impl From<Webhook> for WebhookBody {
    fn from(webhook: Webhook) -> Self {
        Self {
            uuid: webhook.id.to_string(),
            workspace_uuid: webhook.workspace_id.to_string(),
            url: webhook.url,
            events: webhook.events.iter().map(|e| e.as_str()).collect(),
            created_at: time(webhook.created_at),
            updated_at: time(webhook.updated_at),
            secret: None,
        }
    }
}

/// One event sent (or to be sent) to a webhook.
#[derive(Serialize, ToSchema)]
#[schema(as = AthenaWebhookDelivery)]
pub struct DeliveryBody {
    /// Also the `webhook-id` header, as `msg_` and the 32 hex digits.
    #[schema(format = Uuid)]
    pub uuid: String,
    #[schema(value_type = WebhookEventName)]
    pub event: String,
    #[schema(format = Uuid, required = true)]
    pub run_uuid: Option<String>,
    /// `pending` (not sent yet, or waiting for a retry), `delivered`, or
    /// `failed` (given up after a day of retries).
    #[schema(example = "delivered")]
    pub status: &'static str,
    pub attempts: u32,
    /// The receiver's status code at the last attempt, when it answered.
    #[schema(required = true)]
    pub response_status: Option<u16>,
    /// Why the last attempt failed.
    #[schema(required = true)]
    pub error: Option<String>,
    #[schema(format = DateTime, required = true)]
    pub next_attempt_at: Option<String>,
    #[schema(format = DateTime, required = true)]
    pub last_attempt_at: Option<String>,
    #[schema(format = DateTime, required = true)]
    pub delivered_at: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<WebhookDelivery> for DeliveryBody {
    fn from(delivery: WebhookDelivery) -> Self {
        Self {
            uuid: delivery.id.to_string(),
            event: delivery.event,
            run_uuid: delivery.run_id.map(|r| r.to_string()),
            status: delivery.status.as_str(),
            attempts: delivery.attempts,
            response_status: delivery.response_status,
            error: delivery.error,
            next_attempt_at: delivery.next_attempt_at.map(time),
            last_attempt_at: delivery.last_attempt_at.map(time),
            delivered_at: delivery.delivered_at.map(time),
            created_at: time(delivery.created_at),
        }
    }
}

/// Create a webhook
///
/// Runs of the workspace that end (or wait for tool outputs) are POSTed to
/// the URL, signed the Standard Webhooks way with the secret, which this
/// answer shows once.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "athena: webhooks", operation_id = "athena_create_webhook",
    params(WorkspaceParam), request_body = CreateWebhook, security(("bearer" = [])),
    responses((status = 201, description = "Created; `secret` is shown this once", body = super::openapi::AthenaWebhookResponse),
        (status = 403, description = "Not an owner or admin, or an API key", body = super::openapi::ErrorBody),
        (status = 409, description = "The workspace has as many webhooks as it may (32)", body = super::openapi::ErrorBody),
        (status = 404, description = "The workspace is not the caller's", body = super::openapi::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    Query(query, _): Query<Athena, WorkspaceParam>,
    Json(body, _): Json<Athena, CreateWebhook>,
) -> Result<(StatusCode, axum::Json<Data<WebhookBody>>)> {
    let named = named_workspace(body.workspace_uuid, query.workspace_uuid)?;
    let scope = state
        .spool
        .resolve_scope(&principal, uuid_field("workspace_uuid", named.as_deref())?)
        .await?;
    let input = NewWebhookInput {
        url: body.url,
        events: body.events,
    };
    let webhook = state.spool.create_webhook(&scope, input).await?;
    let secret = webhook.secret.clone();
    let mut body = WebhookBody::from(webhook);
    body.secret = Some(secret);
    Ok((StatusCode::CREATED, data(body)))
}

/// List webhooks
///
/// The workspace's webhooks, newest first, without their secrets.
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "athena: webhooks", operation_id = "athena_list_webhooks",
    params(super::WorkspacePageParams), security(("bearer" = [])),
    responses((status = 200, description = "A page of webhooks", body = super::openapi::AthenaWebhookPage),
        (status = 403, description = "Not an owner or admin, or an API key", body = super::openapi::ErrorBody),
        (status = 404, description = "The workspace is not the caller's", body = super::openapi::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    Query(query, _): Query<Athena, super::WorkspacePageParams>,
) -> Result<axum::Json<Paginated<WebhookBody>>> {
    let (page, scope) = query.resolve(&state, &principal).await?;
    let webhooks = state.spool.list_webhooks(&scope, page).await?;
    let body = Paginated::new(webhooks, "/api/v1/webhooks", WebhookBody::from);
    Ok(axum::Json(body.keeping(&query.kept())))
}

/// Show a webhook
#[utoipa::path(get, path = "/api/v1/webhooks/{uuid}", tag = "athena: webhooks", operation_id = "athena_show_webhook",
    params(("uuid" = String, Path, format = Uuid), WorkspaceParam), security(("bearer" = [])),
    responses((status = 200, description = "The webhook, without its secret", body = super::openapi::AthenaWebhookResponse),
        (status = 403, description = "Not an owner or admin, or an API key", body = super::openapi::ErrorBody),
        (status = 404, description = "No such webhook in the workspace", body = super::openapi::ErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    PathId(id, _): PathId<Athena, WebhookId>,
    Query(query, _): Query<Athena, WorkspaceParam>,
) -> Result<axum::Json<Data<WebhookBody>>> {
    let named = uuid_field("workspace_uuid", query.workspace_uuid.as_deref())?;
    let scope = state.spool.resolve_scope(&principal, named).await?;
    let webhook = state.spool.webhook(&scope, id).await?;
    Ok(data(WebhookBody::from(webhook)))
}

/// Delete a webhook
///
/// Its pending deliveries are dropped with its log.
#[utoipa::path(delete, path = "/api/v1/webhooks/{uuid}", tag = "athena: webhooks", operation_id = "athena_delete_webhook",
    params(("uuid" = String, Path, format = Uuid), WorkspaceParam), security(("bearer" = [])),
    responses((status = 204, description = "Deleted"),
        (status = 403, description = "Not an owner or admin, or an API key", body = super::openapi::ErrorBody),
        (status = 404, description = "No such webhook in the workspace", body = super::openapi::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    PathId(id, _): PathId<Athena, WebhookId>,
    Query(query, _): Query<Athena, WorkspaceParam>,
) -> Result<StatusCode> {
    let named = uuid_field("workspace_uuid", query.workspace_uuid.as_deref())?;
    let scope = state.spool.resolve_scope(&principal, named).await?;
    state.spool.delete_webhook(&scope, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// List a webhook's deliveries
///
/// Newest first: each event owed to the webhook, its attempts and how the
/// last one went.
#[utoipa::path(get, path = "/api/v1/webhooks/{uuid}/deliveries", tag = "athena: webhooks", operation_id = "athena_list_webhook_deliveries",
    params(("uuid" = String, Path, format = Uuid), super::WorkspacePageParams), security(("bearer" = [])),
    responses((status = 200, description = "A page of deliveries", body = super::openapi::AthenaWebhookDeliveryPage),
        (status = 403, description = "Not an owner or admin, or an API key", body = super::openapi::ErrorBody),
        (status = 404, description = "No such webhook in the workspace", body = super::openapi::ErrorBody)))]
pub async fn deliveries(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    PathId(id, _): PathId<Athena, WebhookId>,
    Query(query, _): Query<Athena, super::WorkspacePageParams>,
) -> Result<axum::Json<Paginated<DeliveryBody>>> {
    let (page, scope) = query.resolve(&state, &principal).await?;
    let deliveries = state
        .spool
        .list_webhook_deliveries(&scope, id, page)
        .await?;
    let path = format!("/api/v1/webhooks/{id}/deliveries");
    let body = Paginated::new(deliveries, &path, DeliveryBody::from);
    Ok(axum::Json(body.keeping(&query.kept())))
}
