//! A workspace's webhooks: made, listed and deleted by its owners and
//! admins (signed in: a leaked API key must not be able to send the
//! workspace's runs elsewhere). The secret is shown once, at creation.

use super::{Scope, Spool};
use crate::error::{CoreError, ValidationErrors};
use crate::model::Role;
use crate::paging::{Page, PageRequest};
use crate::webhooks::{Webhook, WebhookDelivery, WebhookEvent, generate_secret};
use crate::{WebhookId, now};

/// The longest webhook URL accepted.
pub const WEBHOOK_URL_MAX_CHARS: usize = 2048;
/// Most webhooks one workspace may have.
pub const WEBHOOKS_PER_WORKSPACE: u64 = 32;

pub struct NewWebhookInput {
    pub url: String,
    /// Event names; every event when `None`.
    pub events: Option<Vec<String>>,
}

impl Spool {
    pub async fn create_webhook(
        &self,
        scope: &Scope,
        input: NewWebhookInput,
    ) -> Result<Webhook, CoreError> {
        scope.require_role(Role::Admin, "manage webhooks")?;
        let mut errors = ValidationErrors::new();
        let url = input.url.trim().to_owned();
        if url.chars().count() > WEBHOOK_URL_MAX_CHARS {
            errors.add(
                "url",
                format!("The url may not be greater than {WEBHOOK_URL_MAX_CHARS} characters."),
            );
        } else if !(url.starts_with("https://") || url.starts_with("http://")) {
            errors.add("url", "The url must be an http or https URL.");
        }
        let events = match input.events {
            None => WebhookEvent::ALL.to_vec(),
            Some(names) => {
                let mut events = Vec::new();
                for (i, name) in names.iter().enumerate() {
                    match WebhookEvent::parse(name) {
                        Some(event) if !events.contains(&event) => events.push(event),
                        Some(_) => {}
                        None => errors.add(
                            format!("events.{i}"),
                            format!(
                                "The event must be one of: {}.",
                                WebhookEvent::ALL.map(WebhookEvent::as_str).join(", ")
                            ),
                        ),
                    }
                }
                if names.is_empty() {
                    errors.add("events", "The events field must name at least one event.");
                }
                events.sort();
                events
            }
        };
        errors.into_result()?;
        if let Some(sender) = self.webhook_sender()
            && let Err(why) = sender.check(&url).await
        {
            return Err(CoreError::invalid("url", why));
        }
        let existing = self
            .store
            .list_webhooks(scope.id(), PageRequest::default())
            .await?;
        if existing.total >= WEBHOOKS_PER_WORKSPACE {
            // The request is fine; the workspace's state refuses it.
            return Err(CoreError::Conflict(format!(
                "A workspace may have at most {WEBHOOKS_PER_WORKSPACE} webhooks; delete one first."
            )));
        }
        let at = now();
        let webhook = Webhook {
            id: WebhookId::new(),
            workspace_id: scope.id(),
            url,
            events,
            secret: generate_secret(),
            created_at: at,
            updated_at: at,
        };
        self.store.insert_webhook(webhook.clone()).await?;
        tracing::info!(workspace.id = %scope.id(), webhook.id = %webhook.id, "webhook created");
        Ok(webhook)
    }

    pub async fn list_webhooks(
        &self,
        scope: &Scope,
        page: PageRequest,
    ) -> Result<Page<Webhook>, CoreError> {
        scope.require_role(Role::Admin, "manage webhooks")?;
        Ok(self.store.list_webhooks(scope.id(), page).await?)
    }

    pub async fn webhook(&self, scope: &Scope, id: WebhookId) -> Result<Webhook, CoreError> {
        scope.require_role(Role::Admin, "manage webhooks")?;
        self.store
            .webhook(scope.id(), id)
            .await?
            .ok_or(CoreError::NotFound("Webhook"))
    }

    pub async fn delete_webhook(&self, scope: &Scope, id: WebhookId) -> Result<(), CoreError> {
        scope.require_role(Role::Admin, "manage webhooks")?;
        if self.store.delete_webhook(scope.id(), id).await? {
            tracing::info!(workspace.id = %scope.id(), webhook.id = %id, "webhook deleted");
            Ok(())
        } else {
            Err(CoreError::NotFound("Webhook"))
        }
    }

    pub async fn list_webhook_deliveries(
        &self,
        scope: &Scope,
        id: WebhookId,
        page: PageRequest,
    ) -> Result<Page<WebhookDelivery>, CoreError> {
        let webhook = self.webhook(scope, id).await?;
        Ok(self.store.list_webhook_deliveries(webhook.id, page).await?)
    }
}
