//! The node's run-event writer: one task that stores the events of every
//! run this node executes, in one store write per turn (one multi-row insert
//! on PostgreSQL, one group commit on SQLite), and only then lets followers
//! see them.
//!
//! A run's deltas are coalesced: the first goes out at once (time to first
//! token), later ones wait until [`DELTA_WINDOW`] has passed since that
//! run's last delta write, so a stream is a few rows per second per run,
//! not one per token. Other events go out with the next write. A write that
//! fails is tried again, its events kept, in order.

use super::codec;
use super::event::{RunEvent, RunEventKind};
use super::hub::LiveRef;
use crate::RunId;
use crate::store::{NewRunEvent, Store};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

/// Deltas of one run written at most this often.
pub const DELTA_WINDOW: Duration = Duration::from_millis(50);
/// Most events in one write.
const MAX_BATCH: usize = 4096;

enum Command {
    /// The run's events from `next` on are this node's to write.
    Open {
        run: RunId,
        next: u64,
        live: LiveRef,
    },
    Push(RunId, Box<RunEventKind>),
    /// Answered once everything pushed for the run so far is stored (or
    /// refused: the run is no longer in progress).
    Flush(RunId, oneshot::Sender<()>),
    Close(RunId),
}

#[derive(Clone)]
pub(crate) struct EventWriter {
    commands: mpsc::UnboundedSender<Command>,
}

impl EventWriter {
    pub(crate) fn start(store: Arc<dyn Store>) -> Self {
        let (commands, received) = mpsc::unbounded_channel();
        tokio::spawn(write_loop(store, received));
        Self { commands }
    }

    pub(crate) fn open(&self, run: RunId, next: u64, live: LiveRef) {
        let _ = self.commands.send(Command::Open { run, next, live });
    }

    pub(crate) fn push(&self, run: RunId, kind: RunEventKind) {
        let _ = self.commands.send(Command::Push(run, Box::new(kind)));
    }

    /// Waits until every event pushed for `run` is stored or refused.
    pub(crate) async fn flush(&self, run: RunId) {
        let (done, stored) = oneshot::channel();
        if self.commands.send(Command::Flush(run, done)).is_ok() {
            let _ = stored.await;
        }
    }

    pub(crate) fn close(&self, run: RunId) {
        let _ = self.commands.send(Command::Close(run));
    }
}

struct Pending {
    live: LiveRef,
    /// The id the next written event gets.
    next: u64,
    events: VecDeque<RunEventKind>,
    /// When a delta of this run was last written.
    delta_written: Option<Instant>,
    flushes: Vec<oneshot::Sender<()>>,
}

impl Pending {
    fn push(&mut self, kind: RunEventKind) {
        if let (RunEventKind::MessageDelta(piece), Some(RunEventKind::MessageDelta(waiting))) =
            (&kind, self.events.back_mut())
        {
            waiting.push_str(piece);
            return;
        }
        self.events.push_back(kind);
    }

    /// When the run's events may be written: now, later, or (nothing
    /// waiting) never.
    fn due(&self, now: Instant) -> Option<Instant> {
        let last = self.events.back()?;
        let trailing_delta = matches!(last, RunEventKind::MessageDelta(_));
        if !trailing_delta || self.events.len() > 1 || !self.flushes.is_empty() {
            return Some(now);
        }
        Some(
            self.delta_written
                .map_or(now, |at| (at + DELTA_WINDOW).max(now)),
        )
    }

    /// Takes what is due now, each with its id.
    fn take_due(&mut self, now: Instant, into: &mut Vec<(RunId, RunEvent)>, run: RunId) {
        let holding = self.due(now).is_some_and(|due| due > now);
        let keep = usize::from(holding);
        while self.events.len() > keep && into.len() < MAX_BATCH {
            let kind = self.events.pop_front().expect("counted");
            into.push((
                run,
                RunEvent {
                    id: self.next,
                    kind,
                },
            ));
            self.next += 1;
        }
    }

    fn answer_flushes(&mut self) {
        if self.events.is_empty() {
            for done in self.flushes.drain(..) {
                let _ = done.send(());
            }
        }
    }
}

fn apply(runs: &mut HashMap<RunId, Pending>, command: Command) {
    match command {
        Command::Open { run, next, live } => {
            runs.insert(
                run,
                Pending {
                    live,
                    next,
                    events: VecDeque::new(),
                    delta_written: None,
                    flushes: Vec::new(),
                },
            );
        }
        Command::Push(run, kind) => match runs.get_mut(&run) {
            Some(pending) => pending.push(*kind),
            None => tracing::warn!(run.id = %run, "an event for a run this node does not write"),
        },
        Command::Flush(run, done) => match runs.get_mut(&run) {
            Some(pending) => {
                pending.flushes.push(done);
                pending.answer_flushes();
            }
            None => {
                let _ = done.send(());
            }
        },
        Command::Close(run) => {
            if let Some(mut pending) = runs.remove(&run) {
                pending.events.clear();
                pending.answer_flushes();
            }
        }
    }
}

async fn write_loop(store: Arc<dyn Store>, mut commands: mpsc::UnboundedReceiver<Command>) {
    let mut runs: HashMap<RunId, Pending> = HashMap::new();
    let mut backoff = Duration::ZERO;
    loop {
        let now = Instant::now();
        let due = runs.values().filter_map(|p| p.due(now)).min();
        if due.is_none_or(|due| due > now) {
            let command = match due {
                None => commands.recv().await,
                Some(due) => tokio::select! {
                    command = commands.recv() => command,
                    _ = tokio::time::sleep_until(due) => None,
                },
            };
            match (command, due) {
                (Some(command), _) => apply(&mut runs, command),
                (None, None) => return,
                // Closed: what is waiting still gets written.
                (None, Some(due)) => tokio::time::sleep_until(due).await,
            }
            while let Ok(command) = commands.try_recv() {
                apply(&mut runs, command);
            }
            continue;
        }

        let mut batch = Vec::new();
        for (run, pending) in runs.iter_mut() {
            pending.take_due(now, &mut batch, *run);
        }
        if batch.is_empty() {
            continue;
        }
        let rows = batch
            .iter()
            .map(|(run, event)| NewRunEvent {
                run: *run,
                seq: event.id,
                event: event.kind.name(),
                data: codec::encode(&event.kind),
            })
            .collect();
        match store.append_run_events(rows).await {
            Ok(refused) => {
                backoff = Duration::ZERO;
                let mut written: HashMap<RunId, Vec<RunEvent>> = HashMap::new();
                for (run, event) in batch {
                    written.entry(run).or_default().push(event);
                }
                for (run, events) in written {
                    let Some(pending) = runs.get_mut(&run) else {
                        continue;
                    };
                    if refused.contains(&run) {
                        // Ended by someone else: nothing more of it is ours.
                        pending.events.clear();
                        pending.live.cancel();
                    } else {
                        if events
                            .iter()
                            .any(|e| matches!(e.kind, RunEventKind::MessageDelta(_)))
                        {
                            pending.delta_written = Some(now);
                        }
                        pending.live.publish(events);
                    }
                    pending.answer_flushes();
                }
            }
            Err(err) => {
                // Put the events back, in order, and try again shortly.
                let mut taken: HashMap<RunId, Vec<RunEvent>> = HashMap::new();
                for (run, event) in batch {
                    taken.entry(run).or_default().push(event);
                }
                for (run, events) in taken {
                    if let Some(pending) = runs.get_mut(&run) {
                        pending.next = events[0].id;
                        for event in events.into_iter().rev() {
                            pending.events.push_front(event.kind);
                        }
                    }
                }
                backoff = (backoff * 2).clamp(Duration::from_millis(50), Duration::from_secs(2));
                tracing::warn!(error = %err, retry_in = ?backoff, "could not store run events");
                tokio::time::sleep(backoff).await;
                while let Ok(command) = commands.try_recv() {
                    apply(&mut runs, command);
                }
            }
        }
    }
}
