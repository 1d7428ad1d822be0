//! The runs this node follows. A run's events live in the store (its log);
//! a follower reads them from there after any position and waits for more.
//! What it waits on is here: the highest event id known to be committed,
//! moved on by this node's event writer as its writes commit, by another
//! node's notification, or by whoever stores a run's end. Events this node
//! committed itself are also kept while the run is followed, so that local
//! followers need not read back what was just written.

use super::codec;
use super::event::{RunEvent, RunEventKind, RunOutcome};
use crate::RunId;
use crate::store::Store;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

/// Events read from the store at a time.
const PAGE: u32 = 256;
/// A follower that heard nothing for this long looks at the store anyway:
/// a notification lost with a dropped connection only delays it.
const LOOK_AGAIN: Duration = Duration::from_secs(5);

/// One followed run.
pub(crate) struct Live {
    /// Events this node committed, in order and without a gap.
    cache: Mutex<VecDeque<Arc<RunEvent>>>,
    /// The highest event id known to be committed.
    last: watch::Sender<u64>,
    /// Set while this node executes the run.
    executing: AtomicBool,
    cancel: watch::Sender<bool>,
    /// Rung when this node stores tool outputs for the run.
    tool_outputs: tokio::sync::Notify,
}

/// What the node's cache says about the events after an id.
enum Cached {
    Events(Vec<Arc<RunEvent>>),
    /// The cache holds every committed event after the id: there is none.
    Nothing,
    /// Read the store.
    Unknown,
}

impl Live {
    fn new() -> Self {
        Self {
            cache: Mutex::default(),
            last: watch::channel(0).0,
            executing: AtomicBool::new(false),
            cancel: watch::channel(false).0,
            tool_outputs: tokio::sync::Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Arc<RunEvent>>> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Events whose write has committed, in order: followers may see them.
    pub(crate) fn publish(&self, events: impl IntoIterator<Item = RunEvent>) {
        let mut cache = self.lock();
        let mut highest = 0;
        for event in events {
            highest = highest.max(event.id);
            match cache.back() {
                Some(last) if last.id + 1 != event.id => {
                    // Not following on (someone else wrote in between):
                    // start again from here; earlier ids come from the store.
                    cache.clear();
                }
                _ => {}
            }
            cache.push_back(Arc::new(event));
        }
        drop(cache);
        self.committed(highest);
    }

    /// Events up to `id` are committed (told by another node, or by a
    /// writer whose events this node did not keep).
    pub(crate) fn committed(&self, id: u64) {
        self.last.send_if_modified(|last| {
            let newer = id > *last;
            *last = (*last).max(id);
            newer
        });
    }

    fn cached_after(&self, after: u64) -> Cached {
        let cache = self.lock();
        let (Some(first), Some(newest)) = (cache.front(), cache.back()) else {
            return Cached::Unknown;
        };
        if first.id > after + 1 {
            return Cached::Unknown;
        }
        if newest.id <= after {
            // Another writer may have committed more than this node kept.
            return if *self.last.borrow() > newest.id {
                Cached::Unknown
            } else {
                Cached::Nothing
            };
        }
        let skip = usize::try_from(after + 1 - first.id).unwrap_or(usize::MAX);
        Cached::Events(cache.iter().skip(skip).cloned().collect())
    }

    pub(crate) fn set_executing(&self, executing: bool) {
        self.executing.store(executing, Ordering::SeqCst);
    }

    pub(crate) fn is_executing(&self) -> bool {
        self.executing.load(Ordering::SeqCst)
    }

    pub(crate) fn cancel(&self) {
        self.cancel.send_replace(true);
    }

    /// Wakes the run's executor (or its next wait) to take its tool outputs.
    pub(crate) fn tool_outputs_stored(&self) {
        self.tool_outputs.notify_one();
    }

    pub(crate) async fn tool_outputs_arrived(&self) {
        self.tool_outputs.notified().await;
    }

    pub(crate) fn cancel_signal(&self) -> watch::Receiver<bool> {
        self.cancel.subscribe()
    }
}

#[derive(Default)]
pub(crate) struct Hub {
    runs: Mutex<HashMap<RunId, Arc<Live>>>,
}

/// A hold on a followed run's entry; the last one dropped removes it.
pub(crate) struct LiveRef {
    hub: Arc<Hub>,
    run: RunId,
    live: Option<Arc<Live>>,
}

impl std::ops::Deref for LiveRef {
    type Target = Live;
    fn deref(&self) -> &Live {
        self.live.as_ref().expect("held until dropped")
    }
}

impl Drop for LiveRef {
    fn drop(&mut self) {
        // Every clone is made under the map's lock, so the count cannot
        // change while it is looked at.
        let mut map = self.hub.map();
        drop(self.live.take());
        if map
            .get(&self.run)
            .is_some_and(|entry| Arc::strong_count(entry) == 1)
        {
            map.remove(&self.run);
        }
    }
}

impl Hub {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<RunId, Arc<Live>>> {
        self.runs.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The run's entry, made if nobody follows it yet.
    pub(crate) fn live(self: &Arc<Self>, run: RunId) -> LiveRef {
        let live = self
            .map()
            .entry(run)
            .or_insert_with(|| Arc::new(Live::new()))
            .clone();
        LiveRef {
            hub: self.clone(),
            run,
            live: Some(live),
        }
    }

    /// The run's entry, if this node follows or executes it.
    pub(crate) fn get(self: &Arc<Self>, run: RunId) -> Option<LiveRef> {
        let live = self.map().get(&run).cloned()?;
        Some(LiveRef {
            hub: self.clone(),
            run,
            live: Some(live),
        })
    }

    /// Another node committed the run's events up to `id`.
    pub(crate) fn committed(&self, run: RunId, id: u64) {
        let live = self.map().get(&run).cloned();
        if let Some(live) = live {
            live.committed(id);
        }
    }

    /// The runs this node executes now.
    pub(crate) fn executing(&self) -> Vec<RunId> {
        self.map()
            .iter()
            .filter(|(_, live)| live.is_executing())
            .map(|(run, _)| *run)
            .collect()
    }

    #[cfg(test)]
    fn follows(&self, run: RunId) -> bool {
        self.map().contains_key(&run)
    }
}

/// Follows one run's events from a position: from the store, then as they
/// are committed. Every event it answers is stored.
pub struct Subscription {
    store: Arc<dyn Store>,
    run: RunId,
    live: LiveRef,
    seen: watch::Receiver<u64>,
    /// The id of the last event answered.
    after: u64,
    buffer: VecDeque<Arc<RunEvent>>,
    finished: bool,
}

impl Subscription {
    pub(crate) fn new(store: Arc<dyn Store>, hub: Arc<Hub>, run: RunId, after: u64) -> Self {
        let live = hub.live(run);
        let seen = live.last.subscribe();
        Self {
            store,
            run,
            live,
            seen,
            after,
            buffer: VecDeque::new(),
            finished: false,
        }
    }

    /// A subscription with nothing more to send.
    pub(crate) fn ended(mut self) -> Self {
        self.finished = true;
        self
    }

    /// Reads stored events after the last one answered; `false` when there
    /// are none (yet).
    pub(crate) async fn read_stored(&mut self) -> Result<bool, crate::StoreError> {
        let rows = self.store.run_events(self.run, self.after, PAGE).await?;
        for (expected, row) in (self.after + 1..).zip(rows) {
            if row.seq != expected {
                break;
            }
            let Some(kind) = codec::decode(&row.event, &row.data) else {
                tracing::error!(run.id = %self.run, seq = row.seq, "a stored run event does not decode");
                self.finished = true;
                break;
            };
            self.buffer
                .push_back(Arc::new(RunEvent { id: row.seq, kind }));
        }
        Ok(!self.buffer.is_empty())
    }

    /// The next event, waiting for it if need be; `None` after `done`.
    pub async fn next(&mut self) -> Option<Arc<RunEvent>> {
        let mut failures = 0u32;
        let mut look = false;
        loop {
            if let Some(event) = self.buffer.pop_front() {
                self.after = event.id;
                if event.kind == RunEventKind::Done {
                    self.finished = true;
                    self.buffer.clear();
                }
                return Some(event);
            }
            if self.finished {
                return None;
            }
            // Marked before looking, so a commit meanwhile still wakes us.
            self.seen.borrow_and_update();
            let cached = if look {
                Cached::Unknown
            } else {
                self.live.cached_after(self.after)
            };
            look = false;
            match cached {
                Cached::Events(events) => {
                    self.buffer.extend(events);
                    continue;
                }
                Cached::Nothing => {}
                Cached::Unknown => match self.read_stored().await {
                    Ok(true) => continue,
                    Ok(false) => {}
                    Err(err) => {
                        failures += 1;
                        tracing::warn!(error = %err, run.id = %self.run, failures, "could not read a run's events");
                        if failures >= 5 {
                            return None;
                        }
                        tokio::time::sleep(Duration::from_millis(100 << failures)).await;
                        continue;
                    }
                },
            }
            if self.finished {
                return None;
            }
            tokio::select! {
                changed = self.seen.changed() => {
                    if changed.is_err() {
                        look = true;
                    }
                }
                _ = tokio::time::sleep(LOOK_AGAIN) => look = true,
            }
        }
    }

    /// Passes over the events up to and including the run's `waits`-th
    /// `run.requires_action`: what the client answering that wait has
    /// seen. What follows is the run going on from its answer.
    pub async fn past_waits(mut self, waits: u64) -> Self {
        let mut seen = 0;
        while seen < waits {
            match self.next().await {
                Some(event) if matches!(event.kind, RunEventKind::RunRequiresAction(_)) => {
                    seen += 1
                }
                Some(_) => {}
                None => break,
            }
        }
        self
    }

    /// Follows the events to the end, or until the run waits for tool
    /// outputs; `None` only if the log held no run.
    pub async fn outcome(self) -> Option<RunOutcome> {
        self.outcome_after_waits(0).await
    }

    /// [`Subscription::outcome`] of a run resumed after its `waits`-th
    /// `run.requires_action`: what came before it does not count.
    pub async fn outcome_after_waits(mut self, waits: u64) -> Option<RunOutcome> {
        let (mut run, mut reply) = (None, None);
        let mut seen = 0;
        while let Some(event) = self.next().await {
            match &event.kind {
                RunEventKind::MessageCompleted(message) => reply = Some(message.clone()),
                RunEventKind::RunRequiresAction(r) => {
                    seen += 1;
                    run = Some(r.clone());
                    if seen > waits {
                        break;
                    }
                    reply = None;
                }
                RunEventKind::RunCreated(r)
                | RunEventKind::RunCompleted(r)
                | RunEventKind::RunFailed(r)
                | RunEventKind::RunCancelled(r) => run = Some(r.clone()),
                RunEventKind::MessageCreated(_)
                | RunEventKind::MessageDelta(_)
                | RunEventKind::ToolCallCreated(_)
                | RunEventKind::ToolCallCompleted(_)
                | RunEventKind::Done => {}
            }
        }
        Some(RunOutcome { run: run?, reply })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: u64) -> RunEvent {
        RunEvent {
            id,
            kind: RunEventKind::MessageDelta(format!("{id}")),
        }
    }

    #[test]
    fn the_cache_answers_only_what_it_holds_without_a_gap() {
        let live = Live::new();
        assert!(matches!(live.cached_after(0), Cached::Unknown));
        live.publish([event(2), event(3)]);
        assert!(
            matches!(live.cached_after(0), Cached::Unknown),
            "1 is not kept"
        );
        let Cached::Events(rest) = live.cached_after(2) else {
            panic!("kept")
        };
        assert_eq!(rest.iter().map(|e| e.id).collect::<Vec<_>>(), [3]);
        assert!(matches!(live.cached_after(3), Cached::Nothing));
        live.committed(5);
        assert!(
            matches!(live.cached_after(3), Cached::Unknown),
            "4 and 5 were committed elsewhere"
        );
        live.publish([event(7)]);
        assert!(matches!(live.cached_after(3), Cached::Unknown));
        assert!(matches!(live.cached_after(6), Cached::Events(_)));
    }

    #[test]
    fn the_last_follower_out_removes_the_entry() {
        let hub = Arc::new(Hub::default());
        let run = RunId::new();
        let (a, b) = (hub.live(run), hub.live(run));
        let looked = hub.get(run).expect("followed");
        drop(a);
        drop(looked);
        assert!(hub.follows(run));
        drop(b);
        assert!(!hub.follows(run));
    }
}
