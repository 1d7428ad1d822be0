//! The `Idempotency-Key` a request is carried out under, visible to the
//! store for the request's whole task.
//!
//! A keyed request's claim row is written before it runs; every write the
//! request's task then makes also marks that row "effect committed" in the
//! same transaction (see each backend's `mark_effect`). So after a crash a
//! claim either has a committed effect (never run it again) or has none (it
//! is safe to run it afresh). A run admitted under a key also records the
//! run there, so a retry re-attaches to that run instead of starting one.
//!
//! Only the request's own task carries the claim: work it spawns (the run
//! itself, recording an API key's use) does not mark it.

use crate::RunId;
use std::sync::{Arc, Mutex, OnceLock};

/// This process's name as a lease holder: random per start, so a claim of
/// a process that is gone can never be mistaken for a live one's.
pub fn node() -> &'static str {
    static NODE: OnceLock<String> = OnceLock::new();
    NODE.get_or_init(|| uuid::Uuid::new_v4().simple().to_string())
}

tokio::task_local! {
    static CLAIM: Arc<Claim>;
}

/// The key a request runs under, and what it has recorded so far.
#[derive(Debug)]
pub struct Claim {
    pub owner: String,
    pub key: String,
    /// Set when retrying a request whose effect committed without its
    /// response: the run it had started.
    resume: Option<Reference>,
    reference: Mutex<Option<Reference>>,
}

/// What a keyed request made, kept with its claim so that a retry can find
/// it again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reference {
    Run(RunId),
}

impl Reference {
    pub fn encode(self) -> String {
        match self {
            Reference::Run(id) => format!("run:{id}"),
        }
    }

    pub fn decode(text: &str) -> Option<Self> {
        let (kind, id) = text.split_once(':')?;
        match kind {
            "run" => RunId::parse(id).map(Reference::Run),
            _ => None,
        }
    }
}

impl Claim {
    pub fn new(owner: String, key: String, resume: Option<Reference>) -> Arc<Self> {
        Arc::new(Self {
            owner,
            key,
            resume,
            reference: Mutex::new(None),
        })
    }

    /// What the effect-marking write records with the mark.
    pub fn reference(&self) -> Option<Reference> {
        *self.reference.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Runs `work` with `claim` visible to every store write it makes.
pub async fn carry<F: Future>(claim: Arc<Claim>, work: F) -> F::Output {
    CLAIM.scope(claim, work).await
}

/// The claim of the request this task serves, if it has one.
pub fn current() -> Option<Arc<Claim>> {
    CLAIM.try_with(Arc::clone).ok()
}

/// Remembers what the request is about to make; the next write records it.
pub fn refer(reference: Reference) {
    if let Some(claim) = current() {
        *claim.reference.lock().unwrap_or_else(|p| p.into_inner()) = Some(reference);
    }
}

/// The run a retried request had already started, if this is such a retry.
pub(crate) fn resumed_run() -> Option<RunId> {
    let claim = current()?;
    match claim.resume? {
        Reference::Run(id) => Some(id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_round_trip() {
        let run = Reference::Run(RunId::new());
        assert_eq!(Reference::decode(&run.encode()), Some(run));
        assert_eq!(Reference::decode("run:not-a-uuid"), None);
        assert_eq!(Reference::decode("thread:x"), None);
        assert_eq!(Reference::decode(""), None);
    }

    #[tokio::test]
    async fn only_the_carrying_task_sees_the_claim() {
        assert!(current().is_none());
        let claim = Claim::new("key:1".into(), "k".into(), None);
        carry(claim, async {
            refer(Reference::Run(RunId::new()));
            assert!(current().and_then(|c| c.reference()).is_some());
            let spawned = tokio::spawn(async { current().is_none() }).await.unwrap();
            assert!(spawned, "spawned work does not carry the claim");
        })
        .await;
        assert!(current().is_none());
    }
}
