//! Sending the outbox: each node claims due deliveries under a lease (on
//! PostgreSQL with `FOR UPDATE SKIP LOCKED`, so two nodes never claim the
//! same one), sends them, and records how it went, compare-and-set on its
//! lease. A node that dies mid-send leaves the lease to run out; the next
//! claim sends the delivery again with the same `webhook-id`, for the
//! receiver to recognise.

use super::{DeliveryAttempt, DueDelivery};
use crate::store::Lease;
use crate::telemetry::{DeliveryLabels, metrics};
use crate::{Spool, now};
use std::sync::Arc;
use std::time::Duration;

/// Deliveries claimed at once; a full batch is followed by the next at once.
const BATCH: u32 = 16;

/// Sends a signed webhook request under the outbound address rules.
#[async_trait::async_trait]
pub trait WebhookSender: Send + Sync + 'static {
    /// Why spool will not send to `url`, checked when a webhook is saved:
    /// not an `http(s)` URL, or an address that is not public and not
    /// allowed. Sending checks again, after DNS resolution.
    async fn check(&self, url: &str) -> Result<(), String>;
    /// POSTs `body` with `headers`: the receiver's status code, or why it
    /// could not be reached (a refused address, a timeout).
    async fn send(
        &self,
        url: &str,
        headers: &[(&'static str, String)],
        body: &str,
    ) -> Result<u16, String>;
}

/// When deliveries are looked for and retried.
#[derive(Clone, Copy, Debug)]
pub struct DeliveryPlan {
    /// The wait after the first failed attempt; it doubles after each one.
    pub retry_base: Duration,
    /// The longest wait between two attempts.
    pub retry_max: Duration,
    /// No attempt is made later than this after the event.
    pub retry_window: Duration,
    /// How often a node looks for due deliveries.
    pub poll: Duration,
    /// How long a claimed delivery stays with its node (longer than an
    /// attempt can take).
    pub lease: Duration,
}

impl Default for DeliveryPlan {
    fn default() -> Self {
        Self {
            retry_base: Duration::from_secs(5),
            retry_max: Duration::from_secs(3600),
            retry_window: Duration::from_secs(24 * 3600),
            poll: Duration::from_secs(1),
            lease: Duration::from_secs(60),
        }
    }
}

impl DeliveryPlan {
    /// The wait after `failed` attempts (1 or more) have failed.
    pub fn backoff(&self, failed: u32) -> Duration {
        let doublings = failed.saturating_sub(1).min(30);
        self.retry_base
            .saturating_mul(1u32 << doublings)
            .min(self.retry_max)
    }
}

fn chrono(duration: Duration) -> chrono::Duration {
    chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::MAX)
}

impl Spool {
    /// Sends webhooks until the process ends; spawn it once per process.
    /// Without a sender (no outbound HTTP configured) there is nothing to do.
    pub async fn serve_webhooks(self) {
        let Some(sender) = self.webhook_sender().cloned() else {
            return;
        };
        let poll = self.config().webhooks.poll;
        loop {
            match self.deliver_due_webhooks(&sender).await {
                Ok(n) if n == BATCH as usize => continue,
                Ok(_) => {}
                Err(err) => tracing::warn!(error = %err, "could not look for due webhooks"),
            }
            tokio::time::sleep(poll).await;
        }
    }

    /// Claims and sends one batch of due deliveries; answers how many.
    async fn deliver_due_webhooks(
        &self,
        sender: &Arc<dyn WebhookSender>,
    ) -> Result<usize, crate::StoreError> {
        let plan = self.config().webhooks;
        let at = now();
        let holder = crate::idempotency::node();
        let lease = Lease {
            holder,
            until: at + chrono(plan.lease),
        };
        let due = self
            .store()
            .claim_webhook_deliveries(lease, at, BATCH)
            .await?;
        let claimed = due.len();
        let mut sending = tokio::task::JoinSet::new();
        for delivery in due {
            let (spool, sender) = (self.clone(), sender.clone());
            sending.spawn(async move { spool.deliver(sender.as_ref(), delivery).await });
        }
        while sending.join_next().await.is_some() {}
        Ok(claimed)
    }

    async fn deliver(&self, sender: &dyn WebhookSender, due: DueDelivery) {
        let plan = self.config().webhooks;
        let id = format!("msg_{}", due.id.0.simple());
        let timestamp = now().timestamp();
        let signature = super::sign(&due.secret, &id, timestamp, &due.payload);
        let headers = [
            ("webhook-id", id),
            ("webhook-timestamp", timestamp.to_string()),
            ("webhook-signature", signature),
        ];
        let sent = sender.send(&due.url, &headers, &due.payload).await;
        let at = now();
        let (status, error) = match sent {
            Ok(status) if (200..300).contains(&status) => {
                self.record_attempt(&due, DeliveryAttempt::Delivered { status, at })
                    .await;
                return;
            }
            Ok(status) => (Some(status), format!("The receiver answered {status}.")),
            Err(why) => (None, why),
        };
        let failed = due.attempts + 1;
        let next_at = at + chrono(plan.backoff(failed));
        let attempt = if next_at > due.created_at + chrono(plan.retry_window) {
            DeliveryAttempt::GaveUp { status, error, at }
        } else {
            DeliveryAttempt::Retry {
                status,
                error,
                at,
                next_at,
            }
        };
        self.record_attempt(&due, attempt).await;
    }

    async fn record_attempt(&self, due: &DueDelivery, attempt: DeliveryAttempt) {
        let outcome = match &attempt {
            DeliveryAttempt::Delivered { .. } => "delivered",
            DeliveryAttempt::Retry { .. } => "retrying",
            DeliveryAttempt::GaveUp { .. } => "failed",
        };
        metrics()
            .webhook_deliveries
            .get_or_create(&DeliveryLabels { outcome })
            .inc();
        let holder = crate::idempotency::node();
        match self
            .store()
            .record_webhook_attempt(due.id, holder, attempt)
            .await
        {
            Ok(true) => {}
            // The webhook was deleted meanwhile, or the lease ran out and
            // another node holds the delivery now.
            Ok(false) => tracing::info!(delivery.id = %due.id, "a webhook delivery changed hands"),
            Err(err) => {
                tracing::warn!(error = %err, delivery.id = %due.id, "could not record a webhook attempt")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let plan = DeliveryPlan::default();
        assert_eq!(plan.backoff(1), Duration::from_secs(5));
        assert_eq!(plan.backoff(2), Duration::from_secs(10));
        assert_eq!(plan.backoff(5), Duration::from_secs(80));
        assert_eq!(plan.backoff(12), Duration::from_secs(3600));
        assert_eq!(plan.backoff(u32::MAX), Duration::from_secs(3600));
    }
}
