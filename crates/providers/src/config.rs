//! What a `[[providers]]` table may say. Unknown keys are refused, secrets
//! never show in `Debug`, and everything is checked by `build`, at start.

use crate::retry::RetryPolicy;
use crate::timeouts::Timeouts;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// One upstream, tagged by `kind`.
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "kind")]
pub enum ProviderConfig {
    /// Any OpenAI-compatible chat-completions endpoint.
    #[serde(rename = "openai")]
    OpenAi(OpenAiConfig),
    /// The Anthropic Messages API.
    #[serde(rename = "anthropic")]
    Anthropic(AnthropicConfig),
    /// The built-in offline development model.
    #[serde(rename = "echo")]
    Echo(EchoConfig),
}

impl ProviderConfig {
    /// The name `[[models]]` tables refer to.
    pub fn name(&self) -> &str {
        match self {
            ProviderConfig::OpenAi(c) => &c.name,
            ProviderConfig::Anthropic(c) => &c.name,
            ProviderConfig::Echo(c) => &c.name,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            ProviderConfig::OpenAi(_) => "openai",
            ProviderConfig::Anthropic(_) => "anthropic",
            ProviderConfig::Echo(_) => "echo",
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenAiConfig {
    pub name: String,
    /// Up to and without `/chat/completions`; may carry a query string
    /// (Azure's `?api-version=…`).
    #[serde(default = "default_openai_base_url")]
    pub base_url: String,
    /// The key inline; prefer `api_key_env`.
    pub api_key: Option<ApiKey>,
    /// The environment variable holding the key.
    pub api_key_env: Option<String>,
    /// Send the key raw in this header instead of `Authorization: Bearer`
    /// (Azure: `api-key`).
    pub api_key_header: Option<String>,
    /// Extra headers on every request (OpenRouter's `HTTP-Referer`, …).
    #[serde(default)]
    pub headers: Headers,
    /// The request field for the reply limit: `max_tokens` (most servers) or
    /// `max_completion_tokens` (OpenAI's reasoning models).
    #[serde(default = "default_max_tokens_field")]
    pub max_tokens_field: String,
    /// Ask for usage at the end of the stream (`stream_options`); turn off
    /// for servers that reject the option.
    #[serde(default = "yes")]
    pub stream_usage: bool,
    #[serde(default)]
    pub timeouts: Timeouts,
    /// Further attempts after the first, only before any text has arrived.
    #[serde(default = "default_max_retries")]
    pub max_retries: u32,
    /// The longest `Retry-After` worth waiting for; a longer one fails at once.
    #[serde(
        default = "default_max_retry_wait",
        rename = "max_retry_wait_secs",
        deserialize_with = "secs::deserialize"
    )]
    pub max_retry_wait: Duration,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnthropicConfig {
    pub name: String,
    /// Up to and without `/v1/messages`.
    #[serde(default = "default_anthropic_base_url")]
    pub base_url: String,
    /// The key inline; prefer `api_key_env`.
    pub api_key: Option<ApiKey>,
    /// The environment variable holding the key.
    pub api_key_env: Option<String>,
    #[serde(default)]
    pub headers: Headers,
    /// Anthropic requires a reply limit; used when a request names none.
    #[serde(default = "default_anthropic_max_tokens")]
    pub default_max_tokens: u32,
    #[serde(default)]
    pub timeouts: Timeouts,
    /// Further attempts after the first, only before any text has arrived.
    #[serde(default = "default_max_retries")]
    pub max_retries: u32,
    /// The longest `Retry-After` worth waiting for; a longer one fails at once.
    #[serde(
        default = "default_max_retry_wait",
        rename = "max_retry_wait_secs",
        deserialize_with = "secs::deserialize"
    )]
    pub max_retry_wait: Duration,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EchoConfig {
    pub name: String,
    /// Pause between the reply's pieces, so a stream can be watched.
    #[serde(
        default = "default_echo_delay",
        rename = "piece_delay_ms",
        deserialize_with = "millis"
    )]
    pub piece_delay: Duration,
}

/// The retry policy a provider table describes.
pub(crate) fn retry_policy(max_retries: u32, max_retry_wait: Duration) -> RetryPolicy {
    RetryPolicy {
        max_retries,
        max_retry_after: max_retry_wait,
        ..RetryPolicy::default()
    }
}

/// A secret: `Debug` never shows it.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> Self {
        ApiKey(key.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

/// Extra request headers; `Debug` shows only their names, since some
/// deployments put credentials here.
#[derive(Clone, Default, Deserialize)]
#[serde(transparent)]
pub struct Headers(pub BTreeMap<String, String>);

impl fmt::Debug for Headers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

/// A configuration problem, naming the key at fault.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {message}")]
pub struct ConfigError {
    pub key: String,
    pub message: String,
}

impl ConfigError {
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError {
            key: key.into(),
            message: message.into(),
        }
    }
}

/// The key to send: inline, or read from the named variable through `env`.
/// Both set is a mistake worth refusing.
pub(crate) fn resolve_key(
    provider: &str,
    api_key: Option<&ApiKey>,
    api_key_env: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<ApiKey>, ConfigError> {
    let key = |field: &str| format!("providers.{provider}.{field}");
    match (api_key, api_key_env) {
        (Some(_), Some(_)) => Err(ConfigError::new(
            key("api_key"),
            "set either api_key or api_key_env, not both",
        )),
        (Some(api_key), None) => Ok(Some(api_key.clone())),
        (None, Some(var)) => match env(var) {
            Some(value) if !value.trim().is_empty() => Ok(Some(ApiKey(value.trim().to_owned()))),
            _ => Err(ConfigError::new(
                key("api_key_env"),
                format!("environment variable {var} is not set"),
            )),
        },
        (None, None) => Ok(None),
    }
}

fn default_openai_base_url() -> String {
    "https://api.openai.com/v1".to_owned()
}
fn default_anthropic_base_url() -> String {
    "https://api.anthropic.com".to_owned()
}
fn default_max_tokens_field() -> String {
    "max_tokens".to_owned()
}
fn default_anthropic_max_tokens() -> u32 {
    4096
}
fn default_echo_delay() -> Duration {
    Duration::from_millis(25)
}
fn default_max_retries() -> u32 {
    RetryPolicy::default().max_retries
}
fn default_max_retry_wait() -> Duration {
    RetryPolicy::default().max_retry_after
}
fn yes() -> bool {
    true
}

fn millis<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    Ok(Duration::from_millis(u64::deserialize(deserializer)?))
}

/// Durations written as seconds, fractions allowed (`first_token_secs = 0.5`).
pub(crate) mod secs {
    use serde::{Deserialize, Deserializer, de::Error};
    use std::time::Duration;

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        let secs = f64::deserialize(deserializer)?;
        if !(secs.is_finite() && secs > 0.0 && secs <= 86_400.0) {
            return Err(D::Error::custom(format!(
                "expected a number of seconds greater than 0 and at most 86400, got {secs}"
            )));
        }
        Ok(Duration::from_secs_f64(secs))
    }
}
