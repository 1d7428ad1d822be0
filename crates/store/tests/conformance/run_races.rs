//! Cancel, finish and promote hammered at once through the core, on a real
//! store: whatever the interleaving, a thread never executes two runs at
//! once and no run that ended changes its outcome afterwards.

use crate::builders::{insert_thread, thread};
use crate::fixtures::{at, insert_workspace, session, user};
use spool_core::catalog::{ModelCatalog, ModelEntry};
use spool_core::model::{Role, RunStatus, ThreadStatus};
use spool_core::provider::{
    ChatEvent, ChatRequest, ChatStream, FinishReason, Provider, ProviderError, Tokenizer,
};
use spool_core::runs::{RunInput, Runtime};
use spool_core::service::{Access, Principal, Scope};
use spool_core::{RunId, Spool, SpoolConfig, Store};
use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::sync::{Semaphore, mpsc};

const TRIALS: usize = 200;

/// A model that sends one piece, then waits for a permit of the current
/// trial's gate before it finishes; it counts the replies streaming at once.
struct Gated {
    gate: Mutex<Arc<Semaphore>>,
    streaming: Arc<AtomicUsize>,
    most: Arc<AtomicUsize>,
}

impl Gated {
    fn new() -> Self {
        Self {
            gate: Mutex::new(Arc::new(Semaphore::new(0))),
            streaming: Arc::default(),
            most: Arc::default(),
        }
    }

    /// A closed gate for the next trial.
    fn next_trial(&self) -> Arc<Semaphore> {
        let gate = Arc::new(Semaphore::new(0));
        *self.gate.lock().unwrap() = gate.clone();
        gate
    }
}

/// The reply's events, and the count of streams it keeps while alive.
struct Reply {
    events: mpsc::Receiver<Result<ChatEvent, ProviderError>>,
    streaming: Arc<AtomicUsize>,
}

impl futures_core::Stream for Reply {
    type Item = Result<ChatEvent, ProviderError>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.events.poll_recv(cx)
    }
}

impl Drop for Reply {
    fn drop(&mut self) {
        self.streaming.fetch_sub(1, Ordering::SeqCst);
    }
}

#[async_trait::async_trait]
impl Provider for Gated {
    async fn stream_chat(&self, _request: ChatRequest) -> Result<ChatStream, ProviderError> {
        let now = self.streaming.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
        let gate = self.gate.lock().unwrap().clone();
        let (tx, rx) = mpsc::channel(4);
        tokio::spawn(async move {
            if tx.send(Ok(ChatEvent::Delta("part ".into()))).await.is_err() {
                return;
            }
            tokio::select! {
                _ = tx.closed() => return,
                permit = gate.acquire_owned() => permit.expect("the gate stays open").forget(),
            }
            for event in [
                ChatEvent::Delta("end".into()),
                ChatEvent::Finished(FinishReason::Stop),
            ] {
                if tx.send(Ok(event)).await.is_err() {
                    return;
                }
            }
        });
        Ok(Box::pin(Reply {
            events: rx,
            streaming: self.streaming.clone(),
        }))
    }
}

struct Words;
impl Tokenizer for Words {
    fn count(&self, text: &str) -> usize {
        text.split_whitespace().count()
    }
}

fn input(content: &str, multitask: &str) -> RunInput {
    RunInput {
        content: Some(content.into()),
        model: Some("gated".into()),
        multitask: Some(multitask.into()),
        ..Default::default()
    }
}

pub async fn story_cancel_finish_promote_race(store: Arc<dyn Store>) {
    let owner = user(&store, "race@example.com").await;
    let workspace = insert_workspace(&store, "Race", owner.id).await;
    let gated = Arc::new(Gated::new());
    let providers: HashMap<String, Arc<dyn Provider>> =
        HashMap::from([("gated".to_owned(), gated.clone() as Arc<dyn Provider>)]);
    let config = SpoolConfig {
        catalog: ModelCatalog {
            models: vec![ModelEntry::new("gated", "gated", 8000, 64)],
            default_model: "gated".into(),
            naming_model: None,
            memory_model: None,
        },
        ..SpoolConfig::default()
    };
    let spool =
        Spool::new(store.clone(), config).with_runtime(Runtime::new(providers, Arc::new(Words)));
    let principal = Principal::Session {
        session: session(owner.id, at(0)),
        user: owner.clone(),
    };
    let scope = Scope {
        workspace: workspace.clone(),
        access: Access::Member(Role::Owner),
    };

    for trial in 0..TRIALS {
        let gate = gated.next_trial();
        let t = insert_thread(&store, thread(workspace.id, Some(owner.id), at(1))).await;
        let start = |content: &'static str, multitask: &'static str| {
            let (spool, principal, scope) = (spool.clone(), principal.clone(), scope.clone());
            async move {
                spool
                    .start_run(&principal, &scope, t.id, input(content, multitask), None)
                    .await
                    .expect("admitted")
                    .run
            }
        };
        let a = start("a", "reject").await;
        let b = start("b", "enqueue").await;
        let c = start("c", "enqueue").await;
        assert_eq!(
            (a.status, b.status, c.status),
            (RunStatus::InProgress, RunStatus::Queued, RunStatus::Queued)
        );

        // a's reply ends (promoting b) while b, c and sometimes a are
        // cancelled, from separate tasks.
        let cancel = |id: RunId| {
            let (spool, principal, scope) = (spool.clone(), principal.clone(), scope.clone());
            tokio::spawn(async move { spool.cancel_run(&principal, &scope, id).await })
        };
        let release = {
            let gate = gate.clone();
            tokio::spawn(async move { gate.add_permits(3) })
        };
        let mut cancels = vec![(b.id, cancel(b.id)), (c.id, cancel(c.id))];
        if trial % 3 == 0 {
            cancels.push((a.id, cancel(a.id)));
        }
        release.await.unwrap();
        let mut answered = HashMap::new();
        for (id, task) in cancels {
            let run = task.await.unwrap().expect("cancel answers");
            answered.insert(id, run.status);
        }

        // Every run ends, once: its events, its stored row and what its
        // cancel answered (when the run had ended by then) agree.
        for run in [a.id, b.id, c.id] {
            let events = spool.run_events(&principal, &scope, run, 0).await.unwrap();
            let told = events.outcome().await.expect("a run in the log").run.status;
            let stored = store.run(workspace.id, run).await.unwrap().unwrap().status;
            assert!(stored.is_terminal(), "trial {trial}: {run} is {stored:?}");
            assert_eq!(told, stored, "trial {trial}: {run}'s events and row");
            if let Some(status) = answered.get(&run).filter(|s| s.is_terminal()) {
                assert_eq!(*status, stored, "trial {trial}: {run} changed its outcome");
            }
        }
        assert_eq!(
            store
                .thread(workspace.id, t.id)
                .await
                .unwrap()
                .unwrap()
                .status,
            ThreadStatus::Idle,
            "trial {trial}"
        );
        assert!(
            gated.most.load(Ordering::SeqCst) <= 1,
            "trial {trial}: two runs of one thread streamed at once"
        );
    }
}

/// A model that sends `pieces` pieces `every` apart (on tokio's clock).
struct Paced {
    pieces: usize,
    every: std::time::Duration,
}

#[async_trait::async_trait]
impl Provider for Paced {
    async fn stream_chat(&self, _request: ChatRequest) -> Result<ChatStream, ProviderError> {
        let (tx, rx) = mpsc::channel(4);
        let (pieces, every) = (self.pieces, self.every);
        tokio::spawn(async move {
            for k in 0..pieces {
                tokio::time::sleep(every).await;
                if tx
                    .send(Ok(ChatEvent::Delta(format!("t{k} "))))
                    .await
                    .is_err()
                {
                    return;
                }
            }
            let _ = tx.send(Ok(ChatEvent::Finished(FinishReason::Stop))).await;
        });
        Ok(Box::pin(Reply {
            events: rx,
            streaming: Arc::new(AtomicUsize::new(1)),
        }))
    }
}

/// Sixty pieces 10 ms apart are stored as a handful of deltas — at most
/// one per `DELTA_WINDOW` after the first — and together they are the reply.
/// On tokio's paused clock: no wall-clock time is measured.
pub async fn story_deltas_are_coalesced(store: Arc<dyn Store>) {
    let owner = user(&store, "paced@example.com").await;
    let workspace = insert_workspace(&store, "Paced", owner.id).await;
    let every = std::time::Duration::from_millis(10);
    let providers: HashMap<String, Arc<dyn Provider>> = HashMap::from([(
        "paced".to_owned(),
        Arc::new(Paced { pieces: 60, every }) as Arc<dyn Provider>,
    )]);
    let config = SpoolConfig {
        catalog: ModelCatalog {
            models: vec![ModelEntry::new("paced", "paced", 8000, 64)],
            default_model: "paced".into(),
            naming_model: None,
            memory_model: None,
        },
        ..SpoolConfig::default()
    };
    let spool =
        Spool::new(store.clone(), config).with_runtime(Runtime::new(providers, Arc::new(Words)));
    let principal = Principal::Session {
        session: session(owner.id, at(0)),
        user: owner.clone(),
    };
    let scope = Scope {
        workspace: workspace.clone(),
        access: Access::Member(Role::Owner),
    };
    let t = insert_thread(&store, thread(workspace.id, Some(owner.id), at(1))).await;
    let started = spool
        .start_run(
            &principal,
            &scope,
            t.id,
            RunInput {
                content: Some("go".into()),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap();
    let outcome = started.events.outcome().await.expect("ended");
    assert_eq!(outcome.run.status, RunStatus::Completed);
    let stored = store.run_events(outcome.run.id, 0, 1000).await.unwrap();
    let deltas: Vec<String> = stored
        .iter()
        .filter_map(
            |e| match spool_core::runs::codec::decode(&e.event, &e.data) {
                Some(spool_core::runs::RunEventKind::MessageDelta(piece)) => Some(piece),
                _ => None,
            },
        )
        .collect();
    let expected: String = (0..60).map(|k| format!("t{k} ")).collect();
    assert_eq!(deltas.concat(), expected);
    // (The paused clock moves on while the store does real I/O, so a write
    // may hold many pieces: only the upper bound is the writer's.)
    assert!(deltas[0].starts_with("t0 "), "{deltas:?}");
    let window = spool_core::runs::DELTA_WINDOW;
    let most = (60 * every.as_millis() / window.as_millis()) as usize + 2;
    assert!(
        !deltas.is_empty() && deltas.len() <= most,
        "{} deltas for 60 pieces: {deltas:?}",
        deltas.len()
    );
}
