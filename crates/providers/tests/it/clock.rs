//! When the timeouts fire and how long the retries wait, on tokio's paused
//! clock: the layers `build` wraps every upstream in, around an in-process
//! provider whose events come at set virtual instants. The times are exact
//! and no real time passes. (faults.rs drives the same layers over real
//! sockets, where a paused clock would jump ahead while bytes are in flight,
//! and asserts only outcomes.)

use crate::support::{Outcome, request, timed};
use futures_util::StreamExt;
use spool_core::provider::{
    ChatEvent, ChatRequest, ChatStream, FinishReason, Provider, ProviderError, TimeoutKind,
};
use spool_providers::{RetryPolicy, Retrying, Timeouts, WithTimeouts};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

fn secs(secs: f64) -> Duration {
    Duration::from_secs_f64(secs)
}

/// What the fake provider does on one call.
#[derive(Clone)]
enum Attempt {
    /// `stream_chat` fails at once.
    Fails(ProviderError),
    /// Each event after its pause; then the stream ends, or with `hangs`
    /// stays open without another word.
    Streams {
        events: Vec<(Duration, ChatEvent)>,
        hangs: bool,
    },
}

impl Attempt {
    fn hangs(events: Vec<(Duration, ChatEvent)>) -> Attempt {
        Attempt::Streams {
            events,
            hangs: true,
        }
    }

    fn replies(text: &str) -> Attempt {
        Attempt::Streams {
            events: vec![
                (Duration::ZERO, ChatEvent::Delta(text.to_owned())),
                (Duration::ZERO, ChatEvent::Finished(FinishReason::Stop)),
            ],
            hangs: false,
        }
    }
}

fn status(status: u16, retry_after: Option<Duration>) -> ProviderError {
    ProviderError::Status {
        status,
        retry_after,
        message: format!("fake {status}"),
    }
}

/// A provider that answers each call by the next `Attempt` (the last one
/// answers every call after it) and notes when each call came.
struct Fake {
    attempts: Mutex<VecDeque<Attempt>>,
    calls: Arc<Mutex<Vec<Instant>>>,
}

/// The fake, and the instants of its calls.
fn fake(attempts: impl IntoIterator<Item = Attempt>) -> (Fake, Arc<Mutex<Vec<Instant>>>) {
    let calls = Arc::default();
    let fake = Fake {
        attempts: Mutex::new(attempts.into_iter().collect()),
        calls: Arc::clone(&calls),
    };
    (fake, calls)
}

#[async_trait::async_trait]
impl Provider for Fake {
    async fn stream_chat(&self, _request: ChatRequest) -> Result<ChatStream, ProviderError> {
        self.calls.lock().unwrap().push(Instant::now());
        let attempt = {
            let mut attempts = self.attempts.lock().unwrap();
            match attempts.len() {
                1 => attempts[0].clone(),
                _ => attempts.pop_front().expect("an attempt is scripted"),
            }
        };
        let (events, hangs) = match attempt {
            Attempt::Fails(err) => return Err(err),
            Attempt::Streams { events, hangs } => (events, hangs),
        };
        let events = futures_util::stream::iter(events).then(|(pause, event)| async move {
            tokio::time::sleep(pause).await;
            Ok(event)
        });
        Ok(if hangs {
            Box::pin(events.chain(futures_util::stream::pending()))
        } else {
            Box::pin(events)
        })
    }
}

/// The time from the first call to each call.
fn call_times(calls: &Mutex<Vec<Instant>>) -> Vec<Duration> {
    let calls = calls.lock().unwrap();
    calls.iter().map(|at| *at - calls[0]).collect()
}

fn with_timeouts(fake: Fake, first_token: f64, between_chunks: f64) -> WithTimeouts<Fake> {
    let timeouts = Timeouts {
        first_token: secs(first_token),
        between_chunks: secs(between_chunks),
        ..Timeouts::default()
    };
    WithTimeouts::new(fake, timeouts)
}

fn policy(max_retries: u32, base_delay: f64) -> RetryPolicy {
    RetryPolicy {
        max_retries,
        base_delay: secs(base_delay),
        ..RetryPolicy::default()
    }
}

fn assert_timed_out(outcome: &Outcome, kind: TimeoutKind) {
    assert_eq!(
        outcome.error,
        Some(ProviderError::Timeout(kind)),
        "{outcome:?}"
    );
    assert_eq!(outcome.finish, None);
}

#[tokio::test(start_paused = true)]
async fn the_first_token_timeout_fires_at_its_deadline_and_not_before() {
    // Silence: the timeout ends the call at the deadline exactly.
    let (silent, _) = fake([Attempt::hangs(vec![])]);
    let (outcome, times) = timed(&with_timeouts(silent, 5.0, 30.0), request("Hi")).await;
    assert_timed_out(&outcome, TimeoutKind::FirstToken);
    assert_eq!(times.ended, secs(5.0));

    // Events before the first delta do not stop that clock.
    let usage = ChatEvent::Usage(Default::default());
    let (chatty, _) = fake([Attempt::hangs(vec![(secs(1.0), usage)])]);
    let (outcome, times) = timed(&with_timeouts(chatty, 5.0, 30.0), request("Hi")).await;
    assert_timed_out(&outcome, TimeoutKind::FirstToken);
    assert_eq!(times.ended, secs(5.0));

    // A first delta a millisecond before the deadline is in time.
    let (late, _) = fake([Attempt::Streams {
        events: vec![
            (secs(4.999), ChatEvent::Delta("just".into())),
            (Duration::ZERO, ChatEvent::Finished(FinishReason::Stop)),
        ],
        hangs: false,
    }]);
    let (outcome, times) = timed(&with_timeouts(late, 5.0, 30.0), request("Hi")).await;
    assert_eq!(outcome.error, None);
    assert_eq!(outcome.text(), "just");
    assert_eq!(times.deltas, [secs(4.999)]);
}

#[tokio::test(start_paused = true)]
async fn the_between_chunks_timeout_counts_from_the_last_chunk() {
    let (stalls, _) = fake([Attempt::hangs(vec![
        (secs(1.0), ChatEvent::Delta("Hel".into())),
        (secs(2.9), ChatEvent::Delta("lo".into())),
    ])]);
    let (outcome, times) = timed(&with_timeouts(stalls, 5.0, 3.0), request("Hi")).await;
    assert_eq!(
        outcome.deltas,
        ["Hel", "lo"],
        "a pause under the limit passes"
    );
    assert_eq!(times.deltas, [secs(1.0), secs(3.9)]);
    assert_timed_out(&outcome, TimeoutKind::BetweenChunks);
    assert_eq!(times.ended, secs(6.9), "3 s after the last chunk");
}

#[tokio::test(start_paused = true)]
async fn a_retry_waits_exactly_the_retry_after() {
    let (limited, calls) = fake([
        Attempt::Fails(status(429, Some(secs(7.0)))),
        Attempt::replies("after the wait"),
    ]);
    let retrying = Retrying::new(limited, policy(2, 0.5), "fake");
    let (outcome, times) = timed(&retrying, request("Hi")).await;
    assert_eq!(outcome.error, None);
    assert_eq!(outcome.text(), "after the wait");
    assert_eq!(call_times(&calls), [Duration::ZERO, secs(7.0)]);
    assert_eq!(times.deltas, [secs(7.0)]);
}

#[tokio::test(start_paused = true)]
async fn a_retry_after_beyond_the_cap_is_not_waited_for() {
    let (limited, calls) = fake([
        Attempt::Fails(status(429, Some(secs(31.0)))),
        Attempt::replies("never"),
    ]);
    let retrying = Retrying::new(limited, policy(2, 0.5), "fake");
    let (outcome, times) = timed(&retrying, request("Hi")).await;
    assert_eq!(outcome.error, Some(status(429, Some(secs(31.0)))));
    assert_eq!(call_times(&calls), [Duration::ZERO]);
    assert_eq!(times.ended, Duration::ZERO, "it fails at once");
}

#[tokio::test(start_paused = true)]
async fn backoff_stays_under_a_doubling_cap_and_ends_with_the_last_attempt() {
    let (failing, calls) = fake([Attempt::Fails(status(500, None))]);
    let retrying = Retrying::new(failing, policy(3, 1.0), "fake");
    let (outcome, times) = timed(&retrying, request("Hi")).await;
    assert_eq!(outcome.error, Some(status(500, None)));
    let at = call_times(&calls);
    assert_eq!(at.len(), 4, "one attempt and three retries");
    for (retry, pair) in at.windows(2).enumerate() {
        let cap = secs(1.0) * 2u32.pow(retry as u32);
        let wait = pair[1] - pair[0];
        assert!(wait <= cap, "retry {retry} waited {wait:?}, over {cap:?}");
    }
    assert_eq!(times.ended, at[3], "no wait after the last attempt");
}

/// As `build` stacks them: retries around the timeouts.
#[tokio::test(start_paused = true)]
async fn a_first_token_timeout_is_retried_after_a_backoff() {
    let (silent, calls) = fake([Attempt::hangs(vec![])]);
    let stacked = Retrying::new(with_timeouts(silent, 0.5, 30.0), policy(1, 0.5), "fake");
    let (outcome, times) = timed(&stacked, request("Hi")).await;
    assert_timed_out(&outcome, TimeoutKind::FirstToken);
    let at = call_times(&calls);
    assert_eq!(at.len(), 2);
    assert!(
        at[1] >= secs(0.5),
        "the first attempt ran its 0.5 s: {at:?}"
    );
    assert!(
        at[1] - secs(0.5) <= secs(0.5),
        "a backoff under 0.5 s: {at:?}"
    );
    assert_eq!(times.ended, at[1] + secs(0.5));
}
