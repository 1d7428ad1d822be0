//! Building providers against a `ScriptedUpstream` and reading their streams
//! to the end, under an outer timeout so that a hang fails the test.

use futures_util::StreamExt;
use spool_core::provider::{
    ChatEvent, ChatMessage, ChatRequest, ChatRole, FinishReason, Provider, ProviderError, Usage,
};
use spool_providers::testing::{Protocol, ScriptedUpstream};
use spool_providers::{ProviderConfig, build};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Longer than any test should take; reaching it means something hung.
const HANG: Duration = Duration::from_secs(30);

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
            ChatMessage {
                role: ChatRole::System,
                content: "You are terse.".to_owned(),
            },
            ChatMessage {
                role: ChatRole::User,
                content: user.to_owned(),
            },
        ],
        temperature: Some(0.2),
        max_tokens: None,
    }
}

/// Everything a stream said, in the shape the providers promise.
#[derive(Debug, Default)]
pub struct Outcome {
    pub deltas: Vec<String>,
    pub usage: Option<Usage>,
    pub finish: Option<FinishReason>,
    pub error: Option<ProviderError>,
    pub elapsed: Duration,
}

impl Outcome {
    pub fn text(&self) -> String {
        self.deltas.concat()
    }
}

pub async fn run(provider: &dyn Provider, request: ChatRequest) -> Outcome {
    let started = Instant::now();
    let mut outcome = tokio::time::timeout(HANG, read(provider, request))
        .await
        .expect("the provider hung past every timeout");
    outcome.elapsed = started.elapsed();
    outcome
}

async fn read(provider: &dyn Provider, request: ChatRequest) -> Outcome {
    let mut outcome = Outcome::default();
    let mut stream = match provider.stream_chat(request).await {
        Ok(stream) => stream,
        Err(err) => {
            outcome.error = Some(err);
            return outcome;
        }
    };
    while let Some(item) = stream.next().await {
        assert!(outcome.finish.is_none(), "an item after Finished: {item:?}");
        assert!(outcome.error.is_none(), "an item after an error: {item:?}");
        match item {
            Ok(ChatEvent::Delta(text)) => {
                assert!(outcome.usage.is_none(), "a delta after the usage");
                outcome.deltas.push(text);
            }
            Ok(ChatEvent::Usage(usage)) => {
                assert!(outcome.usage.is_none(), "usage reported twice");
                outcome.usage = Some(usage);
            }
            Ok(ChatEvent::Finished(reason)) => outcome.finish = Some(reason),
            Err(err) => outcome.error = Some(err),
        }
    }
    outcome
}
