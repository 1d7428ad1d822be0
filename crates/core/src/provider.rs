//! What a run needs from a model provider: stream a chat completion. The
//! implementations (OpenAI-compatible, Anthropic, the offline `echo`) live in
//! `spool-providers`; the run engine in the core only sees this trait.

use futures_core::Stream;
use std::pin::Pin;
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChatRole {
    System,
    User,
    Assistant,
    Tool,
}

impl ChatRole {
    pub fn as_str(self) -> &'static str {
        match self {
            ChatRole::System => "system",
            ChatRole::User => "user",
            ChatRole::Assistant => "assistant",
            ChatRole::Tool => "tool",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ChatMessage {
    pub role: ChatRole,
    pub content: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ChatRequest {
    /// The provider's own name for the model (e.g. `gpt-4o-mini`).
    pub model: String,
    /// In order; a system message, when present, comes first.
    pub messages: Vec<ChatMessage>,
    pub temperature: Option<f64>,
    pub max_tokens: Option<u32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FinishReason {
    /// The model ended its reply.
    Stop,
    /// The reply hit `max_tokens`.
    Length,
    /// The provider filtered the reply.
    ContentFilter,
}

impl FinishReason {
    pub fn as_str(self) -> &'static str {
        match self {
            FinishReason::Stop => "stop",
            FinishReason::Length => "length",
            FinishReason::ContentFilter => "content_filter",
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    pub input_tokens: u32,
    pub output_tokens: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ChatEvent {
    /// The next piece of the reply's text.
    Delta(String),
    /// Token counts as the provider reports them (usually once, near the end).
    Usage(Usage),
    /// The reply is complete.
    Finished(FinishReason),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeoutKind {
    Connect,
    FirstToken,
    BetweenChunks,
}

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ProviderError {
    #[error("could not reach the provider: {0}")]
    Connect(String),
    #[error("the provider did not answer in time ({0:?})")]
    Timeout(TimeoutKind),
    #[error("the provider answered {status}: {message}")]
    Status {
        status: u16,
        retry_after: Option<Duration>,
        message: String,
    },
    #[error("the provider's stream broke off: {0}")]
    Disconnected(String),
    #[error("the provider sent something unreadable: {0}")]
    Protocol(String),
}

impl ProviderError {
    /// Worth another attempt (when nothing has reached the client yet).
    pub fn is_retryable(&self) -> bool {
        match self {
            ProviderError::Connect(_)
            | ProviderError::Timeout(_)
            | ProviderError::Disconnected(_) => true,
            ProviderError::Status { status, .. } => *status == 429 || *status >= 500,
            ProviderError::Protocol(_) => false,
        }
    }
}

pub type ChatStream = Pin<Box<dyn Stream<Item = Result<ChatEvent, ProviderError>> + Send>>;

#[async_trait::async_trait]
pub trait Provider: Send + Sync + 'static {
    /// Starts a streamed completion. Connection problems may surface either
    /// here or as the stream's first item.
    async fn stream_chat(&self, request: ChatRequest) -> Result<ChatStream, ProviderError>;
}

/// Counts tokens the way the models do, for fitting prompts into context
/// windows and for usage when a provider reports none.
pub trait Tokenizer: Send + Sync + 'static {
    fn count(&self, text: &str) -> usize;
}
