//! The three upstream timeouts and the one HTTP client they share.
//!
//! Connect is a property of the client (reqwest has no per-request connect
//! timeout); first-token and between-chunk are enforced here, around the
//! provider's stream, so they hold for every provider alike.

use crate::config::{ConfigError, secs};
use futures_util::StreamExt;
use serde::Deserialize;
use spool_core::provider::{
    ChatEvent, ChatRequest, ChatStream, Provider, ProviderError, TimeoutKind,
};
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::Duration;
use tokio::time::{Instant, timeout, timeout_at};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Timeouts {
    /// TCP (and TLS) connection set-up.
    #[serde(rename = "connect_secs", deserialize_with = "secs::deserialize")]
    pub connect: Duration,
    /// From sending the request to the first piece of reply text.
    #[serde(rename = "first_token_secs", deserialize_with = "secs::deserialize")]
    pub first_token: Duration,
    /// Between two pieces of the reply once it has started.
    #[serde(rename = "between_chunks_secs", deserialize_with = "secs::deserialize")]
    pub between_chunks: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(10),
            first_token: Duration::from_secs(60),
            between_chunks: Duration::from_secs(30),
        }
    }
}

/// Every process talks to upstreams through one `reqwest::Client` (one
/// connection pool, one TLS set-up). reqwest fixes the connect timeout per
/// client, so a provider configured with an unusual connect timeout gets its
/// own; with the defaults there is exactly one.
pub fn shared_client(connect: Duration) -> Result<reqwest::Client, ConfigError> {
    static CLIENTS: LazyLock<Mutex<HashMap<Duration, reqwest::Client>>> =
        LazyLock::new(Default::default);
    let mut clients = CLIENTS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(client) = clients.get(&connect) {
        return Ok(client.clone());
    }
    let client = reqwest::Client::builder()
        .connect_timeout(connect)
        .user_agent(concat!("spool/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|err| ConfigError::new("providers", format!("cannot set up HTTP: {err}")))?;
    clients.insert(connect, client.clone());
    Ok(client)
}

/// Applies the first-token and between-chunk timeouts to `P`'s streams.
///
/// The first-token clock starts when `stream_chat` is called and covers
/// connecting, the response headers and any events before the first `Delta`;
/// after that, each next event must come within `between_chunks`. A timeout
/// ends the stream with `ProviderError::Timeout`.
pub struct WithTimeouts<P> {
    inner: P,
    timeouts: Timeouts,
}

impl<P: Provider> WithTimeouts<P> {
    pub fn new(inner: P, timeouts: Timeouts) -> Self {
        WithTimeouts { inner, timeouts }
    }
}

#[async_trait::async_trait]
impl<P: Provider> Provider for WithTimeouts<P> {
    async fn stream_chat(&self, request: ChatRequest) -> Result<ChatStream, ProviderError> {
        let first_token_deadline = Instant::now() + self.timeouts.first_token;
        let stream = timeout_at(first_token_deadline, self.inner.stream_chat(request))
            .await
            .map_err(|_| ProviderError::Timeout(TimeoutKind::FirstToken))??;
        Ok(guard(
            stream,
            first_token_deadline,
            self.timeouts.between_chunks,
        ))
    }
}

struct Guarded {
    stream: ChatStream,
    /// `Some` until the first `Delta` has arrived.
    first_token_deadline: Option<Instant>,
    between_chunks: Duration,
    ended: bool,
}

fn guard(
    stream: ChatStream,
    first_token_deadline: Instant,
    between_chunks: Duration,
) -> ChatStream {
    let state = Guarded {
        stream,
        first_token_deadline: Some(first_token_deadline),
        between_chunks,
        ended: false,
    };
    Box::pin(futures_util::stream::unfold(
        state,
        |mut state| async move {
            if state.ended {
                return None;
            }
            let next = match state.first_token_deadline {
                Some(deadline) => timeout_at(deadline, state.stream.next())
                    .await
                    .map_err(|_| TimeoutKind::FirstToken),
                None => timeout(state.between_chunks, state.stream.next())
                    .await
                    .map_err(|_| TimeoutKind::BetweenChunks),
            };
            let item = match next {
                Err(kind) => Err(ProviderError::Timeout(kind)),
                Ok(None) => return None,
                Ok(Some(item)) => item,
            };
            match &item {
                Ok(ChatEvent::Delta(_)) => state.first_token_deadline = None,
                Ok(_) => {}
                // An error ends the stream: nothing after it could be trusted.
                Err(_) => state.ended = true,
            }
            Some((item, state))
        },
    ))
}
