//! Webhooks: a workspace's URLs told when its runs end. A run's end and the
//! deliveries it owes are written in one transaction (the outbox), so a
//! delivery survives a crash; [`deliver`] sends them, signed the Standard
//! Webhooks way, and retries with backoff for a day.

mod deliver;
mod signature;

pub use deliver::{DeliveryPlan, WebhookSender};
pub use signature::{SECRET_PREFIX, generate_secret, sign};

use crate::model::{Run, RunStatus};
use crate::{DeliveryId, RunId, Timestamp, WebhookId, WorkspaceId};
use serde_json::json;

/// The events a webhook can ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WebhookEvent {
    RunCompleted,
    RunFailed,
    RunCancelled,
    RunRequiresAction,
}

impl WebhookEvent {
    pub const ALL: [WebhookEvent; 4] = [
        WebhookEvent::RunCompleted,
        WebhookEvent::RunFailed,
        WebhookEvent::RunCancelled,
        WebhookEvent::RunRequiresAction,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WebhookEvent::RunCompleted => "run.completed",
            WebhookEvent::RunFailed => "run.failed",
            WebhookEvent::RunCancelled => "run.cancelled",
            WebhookEvent::RunRequiresAction => "run.requires_action",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == text)
    }

    /// The event a run's end is: `None` for a status that is not an end.
    pub fn of_end(status: RunStatus) -> Option<Self> {
        match status {
            RunStatus::Completed => Some(WebhookEvent::RunCompleted),
            RunStatus::Failed => Some(WebhookEvent::RunFailed),
            RunStatus::Cancelled => Some(WebhookEvent::RunCancelled),
            RunStatus::RequiresAction => Some(WebhookEvent::RunRequiresAction),
            RunStatus::Queued | RunStatus::InProgress => None,
        }
    }
}

/// Events as stored: comma-separated, in a fixed order.
pub fn events_text(events: &[WebhookEvent]) -> String {
    let mut sorted = events.to_vec();
    sorted.sort();
    sorted.dedup();
    sorted
        .iter()
        .map(|e| e.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// Events as read back; names this version does not know are skipped.
pub fn parse_events_text(text: &str) -> Vec<WebhookEvent> {
    text.split(',').filter_map(WebhookEvent::parse).collect()
}

#[derive(Clone, Debug, PartialEq)]
pub struct Webhook {
    pub id: WebhookId,
    pub workspace_id: WorkspaceId,
    pub url: String,
    pub events: Vec<WebhookEvent>,
    /// `whsec_` and the base64 of the signing key: shown once, at creation.
    pub secret: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Not sent yet, or failed and waiting for its next attempt.
    Pending,
    Delivered,
    /// Given up: every attempt within the retry window failed.
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "pending" => Some(DeliveryStatus::Pending),
            "delivered" => Some(DeliveryStatus::Delivered),
            "failed" => Some(DeliveryStatus::Failed),
            _ => None,
        }
    }
}

/// One event owed to one webhook, and how sending it went.
#[derive(Clone, Debug, PartialEq)]
pub struct WebhookDelivery {
    pub id: DeliveryId,
    pub webhook_id: WebhookId,
    pub event: String,
    pub run_id: Option<RunId>,
    pub status: DeliveryStatus,
    pub attempts: u32,
    /// The receiver's status code at the last attempt, if it answered.
    pub response_status: Option<u16>,
    /// Why the last attempt failed.
    pub error: Option<String>,
    pub next_attempt_at: Option<Timestamp>,
    pub last_attempt_at: Option<Timestamp>,
    pub delivered_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

/// A delivery claimed for sending: what to send, where, signed with what.
#[derive(Clone, Debug, PartialEq)]
pub struct DueDelivery {
    pub id: DeliveryId,
    pub url: String,
    pub secret: String,
    pub payload: String,
    pub attempts: u32,
    pub created_at: Timestamp,
}

/// How an attempt went, as the store records it.
#[derive(Clone, Debug, PartialEq)]
pub enum DeliveryAttempt {
    Delivered {
        status: u16,
        at: Timestamp,
    },
    /// Failed; tried again at `next_at`.
    Retry {
        status: Option<u16>,
        error: String,
        at: Timestamp,
        next_at: Timestamp,
    },
    /// Failed for the last time.
    GaveUp {
        status: Option<u16>,
        error: String,
        at: Timestamp,
    },
}

fn rfc3339(at: Timestamp) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// The body sent for `event` about `run`: `{type, timestamp, data}`, with
/// the run as `data` (docs/webhooks.md). Built by the store inside the
/// transaction that ends the run, so the body says what was committed.
pub fn payload(event: WebhookEvent, run: &Run, at: Timestamp) -> String {
    let status = if event == WebhookEvent::RunRequiresAction {
        "requires_action"
    } else {
        run.status.as_str()
    };
    json!({
        "type": event.as_str(),
        "timestamp": rfc3339(at),
        "data": {
            "object": "run",
            "uuid": run.id,
            "thread_uuid": run.thread_id,
            "workspace_uuid": run.workspace_id,
            "agent_uuid": run.agent_id,
            "model": run.model,
            "status": status,
            "error": run.error,
            "message_uuid": run.message_id,
            "usage": {
                "input_tokens": run.input_tokens,
                "output_tokens": run.output_tokens,
            },
            "required_action": run.required_action,
            "created_at": rfc3339(run.created_at),
            "started_at": run.started_at.map(rfc3339),
            "finished_at": run.finished_at.map(rfc3339),
        }
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_stored_sorted_and_once() {
        let text = events_text(&[
            WebhookEvent::RunFailed,
            WebhookEvent::RunCompleted,
            WebhookEvent::RunFailed,
        ]);
        assert_eq!(text, "run.completed,run.failed");
        assert_eq!(
            parse_events_text(&text),
            [WebhookEvent::RunCompleted, WebhookEvent::RunFailed]
        );
        assert_eq!(
            parse_events_text("run.completed,run.someday"),
            [WebhookEvent::RunCompleted]
        );
    }
}
