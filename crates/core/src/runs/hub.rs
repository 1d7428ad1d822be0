//! The event log of each live run, and its subscribers. A run belongs to the
//! server, not to a connection: its events are kept here while it runs and
//! for a while after, so that a client can leave and re-attach with
//! `Last-Event-ID` and see every event exactly once, in order.

use crate::RunId;
use crate::model::{Message, Run};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, watch};

/// How long a finished run's events stay available for re-attaching; after
/// that they are rebuilt from the stored run and reply.
pub const RETAIN_FINISHED: Duration = Duration::from_secs(600);

#[derive(Clone, Debug, PartialEq)]
pub enum RunEventKind {
    RunCreated(Run),
    MessageCreated(Message),
    MessageDelta(String),
    MessageCompleted(Message),
    RunCompleted(Run),
    RunFailed(Run),
    RunCancelled(Run),
    Done,
}

impl RunEventKind {
    /// The SSE `event:` name.
    pub fn name(&self) -> &'static str {
        match self {
            RunEventKind::RunCreated(_) => "run.created",
            RunEventKind::MessageCreated(_) => "message.created",
            RunEventKind::MessageDelta(_) => "message.delta",
            RunEventKind::MessageCompleted(_) => "message.completed",
            RunEventKind::RunCompleted(_) => "run.completed",
            RunEventKind::RunFailed(_) => "run.failed",
            RunEventKind::RunCancelled(_) => "run.cancelled",
            RunEventKind::Done => "done",
        }
    }
}

/// One event; `id` counts from 1 within its run.
#[derive(Clone, Debug, PartialEq)]
pub struct RunEvent {
    pub id: u64,
    pub kind: RunEventKind,
}

#[derive(Default)]
struct Log {
    events: Vec<Arc<RunEvent>>,
    finished: bool,
}

pub(crate) struct Channel {
    log: Mutex<Log>,
    notify: Notify,
    cancel: watch::Sender<bool>,
}

impl Channel {
    fn new() -> Self {
        Self {
            log: Mutex::default(),
            notify: Notify::new(),
            cancel: watch::channel(false).0,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Log> {
        self.log.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn push(&self, kind: RunEventKind) {
        let mut log = self.lock();
        let id = log.events.len() as u64 + 1;
        let done = kind == RunEventKind::Done;
        log.events.push(Arc::new(RunEvent { id, kind }));
        log.finished |= done;
        drop(log);
        self.notify.notify_waiters();
    }

    pub(crate) fn cancel(&self) {
        self.cancel.send_replace(true);
    }

    pub(crate) fn cancel_signal(&self) -> watch::Receiver<bool> {
        self.cancel.subscribe()
    }
}

/// Follows one run's events from a position.
pub struct Subscription {
    channel: Arc<Channel>,
    next_index: usize,
}

impl Subscription {
    /// The next event, waiting for it if need be; `None` after `done`.
    pub async fn next(&mut self) -> Option<Arc<RunEvent>> {
        loop {
            let notified = self.channel.notify.notified();
            {
                let log = self.channel.lock();
                if let Some(event) = log.events.get(self.next_index) {
                    self.next_index += 1;
                    return Some(event.clone());
                }
                if log.finished {
                    return None;
                }
            }
            notified.await;
        }
    }
}

/// How a run ended, as its events tell it.
#[derive(Clone, Debug, PartialEq)]
pub struct RunOutcome {
    /// The run as its last event showed it.
    pub run: Run,
    /// The stored reply, when there is one.
    pub reply: Option<Message>,
}

impl Subscription {
    /// Follows the events to the end; `None` only if the log held no run.
    pub async fn outcome(mut self) -> Option<RunOutcome> {
        let (mut run, mut reply) = (None, None);
        while let Some(event) = self.next().await {
            match &event.kind {
                RunEventKind::MessageCompleted(message) => reply = Some(message.clone()),
                RunEventKind::RunCreated(r)
                | RunEventKind::RunCompleted(r)
                | RunEventKind::RunFailed(r)
                | RunEventKind::RunCancelled(r) => run = Some(r.clone()),
                RunEventKind::MessageCreated(_)
                | RunEventKind::MessageDelta(_)
                | RunEventKind::Done => {}
            }
        }
        Some(RunOutcome { run: run?, reply })
    }
}

#[derive(Default)]
pub(crate) struct Hub {
    channels: Mutex<HashMap<RunId, Arc<Channel>>>,
}

impl Hub {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<RunId, Arc<Channel>>> {
        self.channels.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn open(&self, run: RunId) -> Arc<Channel> {
        self.map()
            .entry(run)
            .or_insert_with(|| Arc::new(Channel::new()))
            .clone()
    }

    pub(crate) fn get(&self, run: RunId) -> Option<Arc<Channel>> {
        self.map().get(&run).cloned()
    }

    /// Forgets a finished run's events after [`RETAIN_FINISHED`].
    pub(crate) fn retire(self: &Arc<Self>, run: RunId) {
        let hub = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(RETAIN_FINISHED).await;
            hub.map().remove(&run);
        });
    }

    /// Events after `last_event_id` (0: from the start).
    pub(crate) fn subscribe(&self, run: RunId, last_event_id: u64) -> Option<Subscription> {
        let channel = self.get(run)?;
        Some(Subscription {
            channel,
            next_index: usize::try_from(last_event_id).unwrap_or(usize::MAX),
        })
    }
}

/// A channel holding `events` already finished, for runs whose live log is
/// gone (finished long ago, or before a restart).
pub(crate) fn replay(events: Vec<RunEventKind>, last_event_id: u64) -> Subscription {
    let channel = Arc::new(Channel::new());
    for kind in events {
        channel.push(kind);
    }
    Subscription {
        channel,
        next_index: usize::try_from(last_event_id).unwrap_or(usize::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn subscribers_see_every_event_once_from_any_position() {
        let hub = Arc::new(Hub::default());
        let run = RunId::new();
        let channel = hub.open(run);
        channel.push(RunEventKind::MessageDelta("a".into()));
        let mut late = hub.subscribe(run, 0).unwrap();
        let mut resumed = hub.subscribe(run, 1).unwrap();
        let writer = tokio::spawn(async move {
            for piece in ["b", "c"] {
                tokio::task::yield_now().await;
                channel.push(RunEventKind::MessageDelta(piece.into()));
            }
            channel.push(RunEventKind::Done);
        });
        let mut seen = Vec::new();
        while let Some(event) = late.next().await {
            seen.push(event.id);
        }
        assert_eq!(seen, [1, 2, 3, 4]);
        let mut seen = Vec::new();
        while let Some(event) = resumed.next().await {
            seen.push(event.id);
        }
        assert_eq!(seen, [2, 3, 4]);
        writer.await.unwrap();
    }
}
