//! Ending a run whose executor is gone: it ends `failed`, keeping the reply
//! its clients had already been sent (rebuilt from its stored deltas), and
//! the next queued run of its thread starts here.

use super::engine;
use super::event::RunEventKind;
use crate::error::CoreError;
use crate::model::{Message, Run, RunStatus};
use crate::store::Lease;
use crate::{Spool, Timestamp, markdown, now};

/// Events read per page while rebuilding a partial reply.
const PAGE: u32 = 1000;

impl Spool {
    /// Ends `run` as failed with `error`, if its lease ran out before
    /// `expired_at` (or, never leased, it started before `unleased_before`):
    /// `false` when its node renewed it meanwhile or someone else ended it.
    pub(crate) async fn abandon(
        &self,
        mut run: Run,
        error: &str,
        expired_at: Timestamp,
        unleased_before: Timestamp,
    ) -> Result<bool, CoreError> {
        let reply = self.partial_reply(&run).await?;
        run.status = RunStatus::Failed;
        run.error = Some(error.to_owned());
        run.finished_at = Some(now());
        run.message_id = reply.as_ref().map(|m| m.id);
        let Some(finished) = self
            .store()
            .finish_expired_run(&run, reply, expired_at, unleased_before)
            .await?
        else {
            return Ok(false);
        };
        tracing::warn!(run.id = %run.id, thread.id = %run.thread_id, error, "ended an abandoned run");
        if let Some(live) = self.runtime().hub.get(run.id) {
            live.publish(finished.events);
        }
        if let Some(next) = finished.next {
            engine::spawn(self.clone(), next);
        }
        Ok(true)
    }

    /// The reply as the run's stored events had it: the message they
    /// created with every delta after it, finish reason `error`. `None` when
    /// no text had been stored.
    async fn partial_reply(&self, run: &Run) -> Result<Option<Message>, CoreError> {
        let mut created = None;
        let mut content = String::new();
        let mut after = 0;
        loop {
            let rows = self.store().run_events(run.id, after, PAGE).await?;
            let Some(last) = rows.last() else { break };
            after = last.seq;
            for row in &rows {
                match super::codec::decode(&row.event, &row.data) {
                    Some(RunEventKind::MessageCreated(message)) => created = Some(message),
                    Some(RunEventKind::MessageDelta(piece)) => content.push_str(&piece),
                    _ => {}
                }
            }
        }
        let Some(mut message) = created.filter(|_| !content.is_empty()) else {
            return Ok(None);
        };
        let at = now();
        message.content_html = markdown::render(&content);
        message.content = content;
        message.run.finish_reason = Some("error".to_owned());
        message.created_at = at;
        message.updated_at = at;
        Ok(Some(message))
    }
}

impl Spool {
    /// Ends every run whose lease ran out before `at` (never leased: that
    /// started before `unleased_before`), except those this node executes.
    /// Returns how many it ended.
    pub(crate) async fn sweep_runs(
        &self,
        at: Timestamp,
        unleased_before: Timestamp,
        error: &str,
    ) -> Result<u64, CoreError> {
        let hub = &self.runtime().hub;
        let mut ended = 0;
        // One look: the runs these ends start are this node's own.
        for run in self.store().expired_runs(at, unleased_before, 1000).await? {
            if hub.get(run.id).is_some_and(|live| live.is_executing()) {
                continue;
            }
            if self.abandon(run, error, at, unleased_before).await? {
                ended += 1;
            }
        }
        Ok(ended)
    }

    /// Renews, in one statement, the lease on every run this node executes;
    /// a run it no longer holds (ended elsewhere) is stopped here.
    pub(crate) async fn renew_run_leases(&self) -> Result<(), CoreError> {
        let hub = &self.runtime().hub;
        let runs = hub.executing();
        if runs.is_empty() {
            return Ok(());
        }
        let until = now() + chrono::Duration::from_std(self.config().run_lease).unwrap_or_default();
        let lease = Lease {
            holder: crate::idempotency::node(),
            until,
        };
        let held = self.store().lease_runs(&runs, lease).await?;
        for run in runs.iter().filter(|run| !held.contains(run)) {
            if let Some(live) = hub.get(*run) {
                tracing::warn!(run.id = %run, "lost the lease on a run: stopping it here");
                live.cancel();
            }
        }
        Ok(())
    }
}
