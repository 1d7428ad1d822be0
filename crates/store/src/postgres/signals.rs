//! Nodes wake each other on one channel, `spool_runs`. A payload is items
//! separated by commas: `<run>:<seq>` (the run's events up to seq are
//! committed) or `<run>:cancel` (a cancel was asked for); runs as 32 hex
//! digits. A node's write of all its runs' events sends as few
//! notifications as fit them (8000 bytes each, about 200 runs), in the
//! write's own transaction, so they arrive only once it has committed.

use super::error::db;
use spool_core::store::{RunSignal, RunSignals, StoreResult};
use spool_core::{RunId, StoreError};
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use std::collections::HashMap;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::mpsc;

pub(super) const CHANNEL: &str = "spool_runs";
/// PostgreSQL's limit is 8000 bytes.
const MAX_PAYLOAD: usize = 7900;

/// The payloads that tell every run's highest committed event.
pub(super) fn committed(events: impl IntoIterator<Item = (RunId, u64)>) -> Vec<String> {
    let mut latest: HashMap<RunId, u64> = HashMap::new();
    for (run, seq) in events {
        let at = latest.entry(run).or_default();
        *at = (*at).max(seq);
    }
    let mut payloads = Vec::new();
    let mut current = String::new();
    for (run, seq) in latest {
        let item = format!("{}:{seq}", run.0.simple());
        if !current.is_empty() && current.len() + 1 + item.len() > MAX_PAYLOAD {
            payloads.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(',');
        }
        current.push_str(&item);
    }
    if !current.is_empty() {
        payloads.push(current);
    }
    payloads
}

pub(super) fn cancel(run: RunId) -> String {
    format!("{}:cancel", run.0.simple())
}

fn parse(payload: &str) -> impl Iterator<Item = RunSignal> + '_ {
    payload.split(',').filter_map(|item| {
        let (run, what) = item.split_once(':')?;
        let run = RunId::parse(run)?;
        match what {
            "cancel" => Some(RunSignal::Cancel(run)),
            seq => Some(RunSignal::Committed {
                run,
                seq: seq.parse().ok()?,
            }),
        }
    })
}

struct Signals(mpsc::Receiver<RunSignal>);

impl futures_core::Stream for Signals {
    type Item = RunSignal;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<RunSignal>> {
        self.0.poll_recv(cx)
    }
}

/// Listens on its own connection; reconnects when it is lost.
pub(super) async fn listen(pool: &PgPool) -> StoreResult<RunSignals> {
    let mut listener = PgListener::connect_with(pool).await.map_err(db)?;
    listener.listen(CHANNEL).await.map_err(db)?;
    let (tx, rx) = mpsc::channel(1024);
    tokio::spawn(async move {
        loop {
            match listener.try_recv().await {
                Ok(Some(notification)) => {
                    for signal in parse(notification.payload()) {
                        if tx.send(signal).await.is_err() {
                            return;
                        }
                    }
                }
                // The connection was lost; the next call reconnects (and
                // listens again). Signals meanwhile are lost.
                Ok(None) => tracing::warn!("the PostgreSQL notification connection was lost"),
                Err(err) => {
                    let err: StoreError = db(err);
                    tracing::warn!(error = %err, "listening for other nodes failed; trying again");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
            if tx.is_closed() {
                return;
            }
        }
    });
    Ok(Box::pin(Signals(rx)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_round_trip_and_fit() {
        let runs: Vec<RunId> = (0..500).map(|_| RunId::new()).collect();
        let events = runs.iter().flat_map(|r| [(*r, 3), (*r, 7)]);
        let payloads = committed(events);
        assert!(payloads.len() > 1);
        assert!(payloads.iter().all(|p| p.len() <= MAX_PAYLOAD));
        let mut seen: Vec<RunSignal> = payloads
            .iter()
            .flat_map(|p| parse(p).collect::<Vec<_>>())
            .collect();
        seen.sort_by_key(|s| format!("{s:?}"));
        let mut expected: Vec<RunSignal> = runs
            .iter()
            .map(|r| RunSignal::Committed { run: *r, seq: 7 })
            .collect();
        expected.sort_by_key(|s| format!("{s:?}"));
        assert_eq!(seen, expected);
        let run = RunId::new();
        assert_eq!(
            parse(&cancel(run)).collect::<Vec<_>>(),
            [RunSignal::Cancel(run)]
        );
        assert_eq!(parse("junk,x:1").count(), 0);
    }
}
