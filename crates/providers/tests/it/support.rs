//! Building providers against a `ScriptedUpstream` and reading their streams
//! to the end. No test here measures real time: a hang is nextest's to catch
//! (.config/nextest.toml), and when things happen is asserted only on tokio's
//! paused clock, through [`timed`].

use futures_util::StreamExt;
use spool_core::provider::{
    ChatEvent, ChatMessage, ChatRequest, ChatRole, FinishReason, Provider, ProviderError, Usage,
};
use spool_providers::testing::{Protocol, ScriptedUpstream};
use spool_providers::{ProviderConfig, build};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Past every timeout a test configures. On a paused clock it costs no real
/// time: with nothing else to wait for, the clock jumps to it.
const HANG: Duration = Duration::from_secs(3600);

/// Runs `test` once per protocol.
macro_rules! both_protocols {
    ($name:ident) => {
        mod $name {
            #[tokio::test]
            async fn openai() {
                super::$name(spool_providers::testing::Protocol::OpenAi).await
            }
            #[tokio::test]
            async fn anthropic() {
                super::$name(spool_providers::testing::Protocol::Anthropic).await
            }
        }
    };
}
pub(crate) use both_protocols;

/// A provider table for `upstream`, with `extra` TOML lines (`max_retries`,
/// `timeouts = {…}`, …).
pub fn config(protocol: Protocol, upstream: &ScriptedUpstream, extra: &str) -> ProviderConfig {
    let (kind, base_url) = match protocol {
        Protocol::OpenAi => ("openai", upstream.openai_base_url()),
        Protocol::Anthropic => ("anthropic", upstream.url()),
    };
    let text = format!(
        "kind = \"{kind}\"\nname = \"scripted\"\nbase_url = \"{base_url}\"\napi_key = \"sk-test\"\n{extra}"
    );
    toml::from_str(&text).unwrap_or_else(|err| panic!("{err}\n{text}"))
}

pub fn provider(protocol: Protocol, upstream: &ScriptedUpstream, extra: &str) -> Arc<dyn Provider> {
    build(&config(protocol, upstream, extra)).expect("the test config builds")
}

pub fn request(user: &str) -> ChatRequest {
    ChatRequest {
        model: "scripted-model".to_owned(),
        messages: vec![
            ChatMessage::text(ChatRole::System, "You are terse.".to_owned()),
            ChatMessage::text(ChatRole::User, user.to_owned()),
        ],
        temperature: Some(0.2),
        top_p: None,
        max_tokens: None,
        tools: Vec::new(),
        tool_choice: Default::default(),
    }
}

/// Everything a stream said, in the shape the providers promise.
#[derive(Debug, Default)]
pub struct Outcome {
    pub deltas: Vec<String>,
    pub usage: Option<Usage>,
    pub finish: Option<FinishReason>,
    pub error: Option<ProviderError>,
    pub tool_calls: Vec<spool_core::provider::ToolCall>,
}

/// When things happened, as time since `stream_chat` was called.
#[derive(Debug, Default)]
pub struct Times {
    /// Each delta's arrival, in order.
    pub deltas: Vec<Duration>,
    /// The end of the stream (or the failed call).
    pub ended: Duration,
}

impl Outcome {
    pub fn text(&self) -> String {
        self.deltas.concat()
    }
}

pub async fn run(provider: &dyn Provider, request: ChatRequest) -> Outcome {
    read(provider, request).await.0
}

/// [`run`], noting when each thing happened on tokio's clock: for tests whose
/// clock is paused (`#[tokio::test(start_paused = true)]`) and whose provider
/// does no real I/O, where those times are exact and owe nothing to the
/// machine. (A paused clock jumps ahead whenever the runtime is idle, also
/// while a socket is waiting for bytes, so it does not mix with real I/O.)
pub async fn timed(provider: &dyn Provider, request: ChatRequest) -> (Outcome, Times) {
    tokio::time::timeout(HANG, read(provider, request))
        .await
        .expect("the provider hung past every timeout")
}

async fn read(provider: &dyn Provider, request: ChatRequest) -> (Outcome, Times) {
    let started = Instant::now();
    let mut outcome = Outcome::default();
    let mut times = Times::default();
    let mut stream = match provider.stream_chat(request).await {
        Ok(stream) => stream,
        Err(err) => {
            outcome.error = Some(err);
            times.ended = started.elapsed();
            return (outcome, times);
        }
    };
    while let Some(item) = stream.next().await {
        assert!(outcome.finish.is_none(), "an item after Finished: {item:?}");
        assert!(outcome.error.is_none(), "an item after an error: {item:?}");
        match item {
            Ok(ChatEvent::Delta(text)) => {
                assert!(outcome.usage.is_none(), "a delta after the usage");
                outcome.deltas.push(text);
                times.deltas.push(started.elapsed());
            }
            Ok(ChatEvent::Usage(usage)) => {
                assert!(outcome.usage.is_none(), "usage reported twice");
                outcome.usage = Some(usage);
            }
            Ok(ChatEvent::Finished(reason)) => outcome.finish = Some(reason),
            Ok(ChatEvent::ToolCall(call)) => outcome.tool_calls.push(call),
            Err(err) => outcome.error = Some(err),
        }
    }
    times.ended = started.elapsed();
    (outcome, times)
}
