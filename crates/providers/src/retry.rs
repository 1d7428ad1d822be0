//! Retries with exponential backoff and full jitter, only while nothing of
//! the reply has reached the caller: once a `Delta` is out, a retry would
//! show the user the start of the reply twice.

use futures_util::StreamExt;
use rand::Rng;
use spool_core::provider::{ChatEvent, ChatRequest, ChatStream, Provider, ProviderError};
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Further attempts after the first.
    pub max_retries: u32,
    /// The backoff cap for the first retry; it doubles for each one after.
    pub base_delay: Duration,
    /// The backoff never exceeds this.
    pub max_delay: Duration,
    /// The longest `Retry-After` honoured; a provider asking for more fails
    /// at once (waiting less than asked would only earn another 429).
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 2,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// How long to wait before retry number `retry` (0-based) after `err`, or
    /// `None` when it is not worth another attempt.
    pub fn delay(&self, err: &ProviderError, retry: u32) -> Option<Duration> {
        if retry >= self.max_retries || !err.is_retryable() {
            return None;
        }
        if let ProviderError::Status {
            retry_after: Some(wait),
            ..
        } = err
        {
            return (*wait <= self.max_retry_after).then_some(*wait);
        }
        let cap = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(retry))
            .min(self.max_delay);
        Some(cap.mul_f64(rand::rng().random_range(0.0..=1.0)))
    }
}

/// Retries `P` per `policy`. `stream_chat` returns once the first `Delta`
/// (or a complete reply without any text) has arrived; errors after that
/// pass through the stream unchanged.
pub struct Retrying<P> {
    inner: P,
    policy: RetryPolicy,
    /// Names the upstream in logs.
    name: String,
}

impl<P: Provider> Retrying<P> {
    pub fn new(inner: P, policy: RetryPolicy, name: impl Into<String>) -> Self {
        Retrying {
            inner,
            policy,
            name: name.into(),
        }
    }
}

#[async_trait::async_trait]
impl<P: Provider> Provider for Retrying<P> {
    async fn stream_chat(&self, request: ChatRequest) -> Result<ChatStream, ProviderError> {
        let mut retry = 0;
        loop {
            let err = match self.inner.stream_chat(request.clone()).await {
                Ok(stream) => match until_first_delta(stream).await {
                    Ok(stream) => return Ok(counting_errors(stream, self.name.clone())),
                    Err(err) => err,
                },
                Err(err) => err,
            };
            spool_core::telemetry::upstream_error(&self.name, &err);
            let Some(wait) = self.policy.delay(&err, retry) else {
                return Err(err);
            };
            retry += 1;
            tracing::warn!(
                provider = %self.name,
                model = %request.model,
                retry,
                max_retries = self.policy.max_retries,
                wait_ms = wait.as_millis() as u64,
                error = %err,
                "retrying the provider request"
            );
            tokio::time::sleep(wait).await;
        }
    }
}

/// Counts the errors that end a stream once it has started (after a retry
/// could no longer hide them).
fn counting_errors(stream: ChatStream, provider: String) -> ChatStream {
    Box::pin(stream.inspect(move |item| {
        if let Err(err) = item {
            spool_core::telemetry::upstream_error(&provider, err);
        }
    }))
}

/// Reads `stream` up to its first `Delta`, holding back what came before (a
/// failed attempt's early events must not reach the caller), and answers a
/// stream that replays them and goes on. An error before then is answered
/// as the error.
async fn until_first_delta(mut stream: ChatStream) -> Result<ChatStream, ProviderError> {
    let mut held = Vec::new();
    loop {
        match stream.next().await {
            Some(Ok(event)) => {
                let is_delta = matches!(event, ChatEvent::Delta(_));
                held.push(Ok(event));
                if is_delta {
                    return Ok(Box::pin(futures_util::stream::iter(held).chain(stream)));
                }
            }
            Some(Err(err)) => return Err(err),
            None => return Ok(Box::pin(futures_util::stream::iter(held))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(status: u16, retry_after: Option<Duration>) -> ProviderError {
        ProviderError::Status {
            status,
            retry_after,
            message: String::new(),
        }
    }

    #[test]
    fn backoff_is_jittered_under_a_doubling_cap() {
        let policy = RetryPolicy {
            max_retries: 10,
            ..RetryPolicy::default()
        };
        for retry in 0..6 {
            let cap = (policy.base_delay * 2u32.pow(retry)).min(policy.max_delay);
            for _ in 0..50 {
                let wait = policy.delay(&status(500, None), retry).unwrap();
                assert!(wait <= cap, "retry {retry}: {wait:?} > {cap:?}");
            }
        }
    }

    #[test]
    fn only_retryable_errors_within_the_count_are_retried() {
        let policy = RetryPolicy::default();
        assert!(policy.delay(&status(500, None), 0).is_some());
        assert!(policy.delay(&status(500, None), 1).is_some());
        assert!(policy.delay(&status(500, None), 2).is_none());
        assert!(policy.delay(&status(400, None), 0).is_none());
        assert!(
            policy
                .delay(&ProviderError::Protocol("x".into()), 0)
                .is_none()
        );
    }

    #[test]
    fn retry_after_is_honoured_up_to_the_cap() {
        let policy = RetryPolicy::default();
        let asked = Duration::from_secs(3);
        assert_eq!(policy.delay(&status(429, Some(asked)), 0), Some(asked));
        let too_long = policy.max_retry_after + Duration::from_secs(1);
        assert_eq!(policy.delay(&status(429, Some(too_long)), 0), None);
    }
}
