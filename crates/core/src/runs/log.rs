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
//!
//! Writes start at most every [`TICK`], so a node's transactions stay a
//! hundred a second whether it streams ten runs or a thousand; up to
//! [`MAX_IN_FLIGHT`] are under way at once, each with other runs: a run
//! with a write under way waits for it (so its events commit in order),
//! but does not hold up the others.

use super::codec;
use super::event::{RunEvent, RunEventKind};
use super::hub::LiveRef;
use crate::RunId;
use crate::store::{NewRunEvent, Store};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;
use tokio::time::Instant;

/// Deltas of one run written at most this often.
pub const DELTA_WINDOW: Duration = Duration::from_millis(50);
/// Most events in one write.
const MAX_BATCH: usize = 4096;
/// Most writes under way at once (each a transaction; the cost stays per
/// node, not per run).
const MAX_IN_FLIGHT: usize = 4;
/// Writes start at most this often: a node's transactions per second stay
/// below 1 / TICK however many runs it streams (their events share the
/// writes). After a quiet spell the next write starts at once.
pub const TICK: Duration = Duration::from_millis(10);

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
    /// A write holding some of this run's events is under way.
    writing: bool,
}

impl Pending {
    /// Queues the event; `false` when it only joined the waiting delta
    /// (nothing about when to write changed).
    fn push(&mut self, kind: RunEventKind) -> bool {
        if let (RunEventKind::MessageDelta(piece), Some(RunEventKind::MessageDelta(waiting))) =
            (&kind, self.events.back_mut())
        {
            waiting.push_str(piece);
            return false;
        }
        self.events.push_back(kind);
        true
    }

    /// When the run's events may be written: now, later, or (nothing
    /// waiting) never.
    fn due(&self, now: Instant) -> Option<Instant> {
        if self.writing {
            return None;
        }
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
        if self.events.is_empty() && !self.writing {
            for done in self.flushes.drain(..) {
                let _ = done.send(());
            }
        }
    }
}

/// Which runs to look at, and when: those that may be due now, and the
/// moments held deltas become due. Looking at a run only when something
/// about it changed keeps the writer's work per event, not per run.
#[derive(Default)]
struct Schedule {
    ready: Vec<RunId>,
    timers: BinaryHeap<Reverse<(Instant, RunId)>>,
}

impl Schedule {
    fn look(&mut self, run: RunId) {
        self.ready.push(run);
    }

    /// Moves the timers that are due into `ready`.
    fn wake(&mut self, now: Instant) {
        while let Some(Reverse((at, run))) = self.timers.peek().copied() {
            if at > now {
                break;
            }
            self.timers.pop();
            self.ready.push(run);
        }
    }

    fn next_timer(&self) -> Option<Instant> {
        self.timers.peek().map(|Reverse((at, _))| *at)
    }
}

fn apply(runs: &mut HashMap<RunId, Pending>, schedule: &mut Schedule, command: Command) {
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
                    writing: false,
                },
            );
        }
        Command::Push(run, kind) => match runs.get_mut(&run) {
            Some(pending) => {
                if pending.push(*kind) {
                    schedule.look(run);
                }
            }
            None => tracing::warn!(run.id = %run, "an event for a run this node does not write"),
        },
        Command::Flush(run, done) => match runs.get_mut(&run) {
            Some(pending) => {
                pending.flushes.push(done);
                pending.answer_flushes();
                schedule.look(run);
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

type Batch = Vec<(RunId, RunEvent)>;

/// A write's events, when it was assembled, and what the store answered.
type Written = (Batch, Instant, crate::store::StoreResult<Vec<RunId>>);

async fn write(store: Arc<dyn Store>, batch: Batch, at: Instant) -> Written {
    let rows = batch
        .iter()
        .map(|(run, event)| NewRunEvent {
            run: *run,
            seq: event.id,
            event: event.kind.name(),
            data: codec::encode(&event.kind),
        })
        .collect();
    let answer = store.append_run_events(rows).await;
    (batch, at, answer)
}

fn by_run(batch: Batch) -> HashMap<RunId, Vec<RunEvent>> {
    let mut runs: HashMap<RunId, Vec<RunEvent>> = HashMap::new();
    for (run, event) in batch {
        runs.entry(run).or_default().push(event);
    }
    runs
}

/// A write is done: followers see what it stored; what failed goes back, in
/// order, to be tried again. `false` when it failed.
fn settle(
    runs: &mut HashMap<RunId, Pending>,
    schedule: &mut Schedule,
    (batch, at, answer): Written,
) -> bool {
    let failed = answer.as_ref().err().map(ToString::to_string);
    for (run, events) in by_run(batch) {
        let Some(pending) = runs.get_mut(&run) else {
            continue;
        };
        pending.writing = false;
        match &answer {
            Ok(refused) if refused.contains(&run) => {
                // Ended by someone else: nothing more of it is ours.
                pending.events.clear();
                pending.live.cancel();
            }
            Ok(_) => {
                if events
                    .iter()
                    .any(|e| matches!(e.kind, RunEventKind::MessageDelta(_)))
                {
                    pending.delta_written = Some(at);
                }
                pending.live.publish(events);
            }
            Err(_) => {
                pending.next = events[0].id;
                for event in events.into_iter().rev() {
                    pending.events.push_front(event.kind);
                }
            }
        }
        pending.answer_flushes();
        schedule.look(run);
    }
    if let Some(err) = failed {
        tracing::warn!(error = %err, "could not store run events; trying again");
    }
    answer.is_ok()
}

async fn write_loop(store: Arc<dyn Store>, mut commands: mpsc::UnboundedReceiver<Command>) {
    let mut runs: HashMap<RunId, Pending> = HashMap::new();
    let mut schedule = Schedule::default();
    let mut writing: JoinSet<Written> = JoinSet::new();
    let mut backoff = Duration::ZERO;
    let mut paused_until: Option<Instant> = None;
    let mut closed = false;
    let mut last_write: Option<Instant> = None;
    loop {
        let now = Instant::now();
        schedule.wake(now);
        let paced = last_write.map(|t| t + TICK).filter(|t| *t > now);
        let may_write = writing.len() < MAX_IN_FLIGHT
            && paused_until.is_none_or(|t| t <= now)
            && paced.is_none();
        if may_write && !schedule.ready.is_empty() {
            let mut batch = Vec::new();
            let mut looked = std::mem::take(&mut schedule.ready);
            looked.sort_unstable();
            looked.dedup();
            for run in looked {
                let Some(pending) = runs.get_mut(&run) else {
                    continue;
                };
                match pending.due(now) {
                    Some(due) if due <= now && batch.len() < MAX_BATCH => {
                        pending.take_due(now, &mut batch, run);
                        pending.writing = true;
                    }
                    Some(due) if due <= now => schedule.look(run),
                    Some(due) => schedule.timers.push(Reverse((due, run))),
                    None => {}
                }
            }
            if !batch.is_empty() {
                writing.spawn(write(store.clone(), batch, now));
                last_write = Some(now);
                continue;
            }
        }
        if closed && writing.is_empty() && runs.values().all(|p| p.events.is_empty()) {
            return;
        }
        let wake_at = if schedule.ready.is_empty() {
            schedule.next_timer()
        } else {
            // Ready runs wait for the pace, the end of a pause, or (none of
            // those: all writes under way) for a write to end.
            paced
                .into_iter()
                .chain(paused_until.filter(|t| *t > now))
                .max()
        };
        tokio::select! {
            command = commands.recv(), if !closed => match command {
                Some(command) => apply(&mut runs, &mut schedule, command),
                None => closed = true,
            },
            Some(done) = writing.join_next(), if !writing.is_empty() => match done {
                Ok(written) => {
                    if settle(&mut runs, &mut schedule, written) {
                        backoff = Duration::ZERO;
                        paused_until = None;
                    } else {
                        backoff = (backoff * 2).clamp(Duration::from_millis(50), Duration::from_secs(2));
                        paused_until = Some(Instant::now() + backoff);
                    }
                }
                Err(err) => tracing::error!(error = %err, "a run-event write panicked"),
            },
            _ = tokio::time::sleep_until(wake_at.unwrap_or(now)), if wake_at.is_some() => {}
        }
        while let Ok(command) = commands.try_recv() {
            apply(&mut runs, &mut schedule, command);
        }
    }
}
