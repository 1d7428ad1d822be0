//! Model providers for runs: OpenAI-compatible chat completions, the Anthropic
//! Messages API, and the offline `echo` development model, all behind
//! `spool_core::provider::Provider`.
//!
//! Every stream these providers return keeps to one shape: `Delta`s, then at
//! most one `Usage`, then `Finished` as the last item — or an error, after
//! which the stream ends. `build` wraps each network provider in the
//! first-token/between-chunk timeouts and in retries, which happen only
//! before the first `Delta` has been handed out.

mod anthropic;
mod catalog;
mod config;
mod echo;
mod endpoint;
mod http;
mod openai;
mod outbound;
mod retry;
mod sse;
#[cfg(feature = "testing")]
pub mod testing;
mod timeouts;
mod tokenizer;
mod tool_http;
mod tool_mcp;
mod webhooks;
mod wiring;
mod workspace;

pub use anthropic::{Anthropic, AnthropicSettings};
pub use catalog::{Catalog, Model, ModelConfig, ProvidersConfig};
pub use config::{
    AnthropicConfig, ApiKey, ConfigError, EchoConfig, Headers, OpenAiConfig, ProviderConfig,
};
pub use echo::{ECHO_LABEL, Echo};
pub use openai::{OpenAi, OpenAiSettings};
pub use outbound::{OutboundRules, is_public};
pub use retry::{RetryPolicy, Retrying};
pub use timeouts::{Timeouts, WithTimeouts, shared_client};
pub use tokenizer::{O200kTokenizer, tokenizer};
pub use tool_http::{OutboundTools, TOOL_CALL_TIMEOUT, TOOL_RESPONSE_MAX_BYTES};
pub use tool_mcp::{MCP_CALL_TIMEOUT, MCP_LIST_TTL};
pub use webhooks::{HttpWebhooks, WEBHOOK_TIMEOUT};
pub use wiring::core_catalog;
pub use workspace::OutboundProviders;

use config::{resolve_key, retry_policy};
use spool_core::provider::Provider;
use std::sync::Arc;

/// A ready provider for `config`, keys read from the environment, wrapped in
/// its timeouts and retries. Fails on anything the config gets wrong.
pub fn build(config: &ProviderConfig) -> Result<Arc<dyn Provider>, ConfigError> {
    build_with_env(config, &|var| std::env::var(var).ok())
}

/// `build`, reading environment variables through `env`.
pub fn build_with_env(
    config: &ProviderConfig,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Arc<dyn Provider>, ConfigError> {
    let name = config.name();
    Ok(match config {
        ProviderConfig::OpenAi(c) => {
            let settings = OpenAiSettings {
                base_url: c.base_url.clone(),
                api_key: resolve_key(name, c.api_key.as_ref(), c.api_key_env.as_deref(), env)?,
                api_key_header: c.api_key_header.clone(),
                headers: c.headers.clone(),
                max_tokens_field: c.max_tokens_field.clone(),
                stream_usage: c.stream_usage,
            };
            let provider = OpenAi::new(name, settings, shared_client(c.timeouts.connect)?)?;
            let policy = retry_policy(c.max_retries, c.max_retry_wait);
            Arc::new(Retrying::new(
                WithTimeouts::new(provider, c.timeouts),
                policy,
                name,
            ))
        }
        ProviderConfig::Anthropic(c) => {
            let api_key = resolve_key(name, c.api_key.as_ref(), c.api_key_env.as_deref(), env)?;
            if api_key.is_none() {
                return Err(ConfigError::new(
                    format!("providers.{name}.api_key_env"),
                    "Anthropic needs a key: set api_key_env (or api_key)",
                ));
            }
            let settings = AnthropicSettings {
                base_url: c.base_url.clone(),
                api_key,
                headers: c.headers.clone(),
                default_max_tokens: c.default_max_tokens,
            };
            let provider = Anthropic::new(name, settings, shared_client(c.timeouts.connect)?)?;
            let policy = retry_policy(c.max_retries, c.max_retry_wait);
            Arc::new(Retrying::new(
                WithTimeouts::new(provider, c.timeouts),
                policy,
                name,
            ))
        }
        ProviderConfig::Echo(c) => Arc::new(Echo::new(tokenizer(), c.piece_delay)),
    })
}
