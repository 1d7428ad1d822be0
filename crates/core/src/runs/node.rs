//! A node's background work for runs: it renews the leases on the runs it
//! executes (one statement for all of them), ends runs whose lease ran out
//! (their node stopped; any node does this, so a dead node's runs end
//! within about a lease), and removes run events and threads past their
//! retention.

use crate::Spool;
use crate::store::RunSignal;
use std::future::poll_fn;
use std::time::Duration;

/// Run events removed per statement, until none are left to remove.
const RETENTION_BATCH: u32 = 10_000;
/// Expired threads deleted per transaction (each with its messages, runs
/// and events), until none are left: a batch holds SQLite's one writer for
/// a bounded time.
const EXPIRED_THREADS_BATCH: u32 = 200;
/// How often old run events are looked for.
const RETENTION_EVERY: Duration = Duration::from_secs(3600);

/// The error a run ends with when its node stopped.
pub const NODE_STOPPED: &str = "The node running this run stopped before it finished.";

impl Spool {
    /// Runs until the process ends; spawn it once per process (`spool serve`).
    pub async fn serve_runs(self) {
        self.listen_to_other_nodes().await;
        let config = self.config().clone();
        let lease = chrono::Duration::from_std(config.run_lease).unwrap_or_default();
        let mut tick = tokio::time::interval(config.run_lease_renew);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut retention_due = tokio::time::Instant::now();
        loop {
            tick.tick().await;
            if let Err(err) = self.renew_run_leases().await {
                tracing::warn!(error = %err, "could not renew the leases on this node's runs");
            }
            let at = crate::now();
            match self.sweep_runs(at, at - lease, NODE_STOPPED).await {
                Ok(0) => {}
                Ok(ended) => tracing::warn!(ended, "ended runs whose node stopped"),
                Err(err) => {
                    tracing::warn!(error = %err, "could not look for runs whose node stopped")
                }
            }
            if tokio::time::Instant::now() >= retention_due {
                retention_due += RETENTION_EVERY;
                self.expire_run_events().await;
                self.expire_threads().await;
            }
        }
    }

    /// Wakes this node's followers of a run another node wrote to, and
    /// stops a run executing here that a cancel sent to another node asks to
    /// stop. Nothing to do where no other node shares the store.
    async fn listen_to_other_nodes(&self) {
        let mut signals = match self.store().run_signals().await {
            Ok(Some(signals)) => signals,
            Ok(None) => return,
            Err(err) => {
                // Followers still look at the store every few seconds, and
                // cancels still arrive with the next lease renewal.
                tracing::error!(error = %err, "cannot listen for other nodes");
                return;
            }
        };
        let hub = self.runtime().hub.clone();
        tokio::spawn(async move {
            while let Some(signal) = poll_fn(|cx| signals.as_mut().poll_next(cx)).await {
                match signal {
                    RunSignal::Committed { run, seq } => hub.committed(run, seq),
                    RunSignal::Cancel(run) => {
                        if let Some(live) = hub.get(run).filter(|live| live.is_executing()) {
                            tracing::info!(run.id = %run, "cancelled from another node");
                            live.cancel();
                        }
                    }
                }
            }
        });
    }

    /// Removes the run events stored before the retention period.
    pub async fn expire_run_events(&self) {
        let before = crate::now() - self.config().run_events_retention;
        let mut removed = 0;
        loop {
            match self
                .store()
                .delete_run_events(before, RETENTION_BATCH)
                .await
            {
                Ok(n) => {
                    removed += n;
                    if n < u64::from(RETENTION_BATCH) {
                        break;
                    }
                }
                Err(err) => {
                    tracing::warn!(error = %err, "could not remove old run events");
                    break;
                }
            }
        }
        if removed > 0 {
            tracing::info!(removed, "removed run events past their retention");
        }
    }

    /// Deletes the idle threads past their `expires_at`, or past their
    /// workspace's `thread_retention_days` since their last activity; answers
    /// how many.
    pub async fn expire_threads(&self) -> u64 {
        let mut deleted = 0;
        loop {
            match self
                .store()
                .delete_expired_threads(crate::now(), EXPIRED_THREADS_BATCH)
                .await
            {
                Ok(n) => {
                    deleted += n;
                    crate::telemetry::metrics().threads_expired.inc_by(n);
                    if n < u64::from(EXPIRED_THREADS_BATCH) {
                        break;
                    }
                }
                Err(err) => {
                    tracing::warn!(error = %err, "could not delete expired threads");
                    break;
                }
            }
        }
        if deleted > 0 {
            tracing::info!(deleted, "deleted threads past their retention");
        }
        deleted
    }
}
