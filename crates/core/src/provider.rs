//! What a run needs from a model provider: stream a chat completion. The
//! implementations (OpenAI-compatible, Anthropic, the offline `echo`) live in
//! `spool-providers`; the run engine in the core only sees this trait.

use futures_core::Stream;
use std::pin::Pin;
use std::time::Duration;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ChatRole {
    System,
    #[default]
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

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ChatMessage {
    pub role: ChatRole,
    pub content: String,
    /// An assistant message's tool calls.
    pub tool_calls: Vec<ToolCall>,
    /// A tool message: the call it answers.
    pub tool_call_id: Option<String>,
    /// A user message's attached images (for models that take them).
    pub images: Vec<ImagePart>,
}

/// An image given to a model with a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImagePart {
    /// `image/png`, `image/jpeg`, `image/gif` or `image/webp`.
    pub mime_type: String,
    pub data_base64: String,
}

impl ChatMessage {
    pub fn text(role: ChatRole, content: impl Into<String>) -> Self {
        Self {
            role,
            content: content.into(),
            ..Self::default()
        }
    }
}

/// A model's call of a tool, whole (providers assemble streamed pieces).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ToolCall {
    /// The provider's id of the call (`call_…`, `toolu_…`).
    pub id: String,
    pub name: String,
    /// The arguments as the model wrote them: JSON text, not always valid.
    pub arguments: String,
}

/// A tool as a model is offered it.
#[derive(Clone, Debug, PartialEq)]
pub struct ToolSpec {
    pub name: String,
    pub description: Option<String>,
    /// A JSON Schema of the arguments.
    pub parameters: serde_json::Map<String, serde_json::Value>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ChatRequest {
    /// The provider's own name for the model (e.g. `gpt-4o-mini`).
    pub model: String,
    /// In order; a system message, when present, comes first.
    pub messages: Vec<ChatMessage>,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub max_tokens: Option<u32>,
    /// What the model may call; empty: no tools.
    pub tools: Vec<ToolSpec>,
    pub tool_choice: crate::tools::ToolChoice,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FinishReason {
    /// The model ended its reply.
    Stop,
    /// The reply hit `max_tokens`.
    Length,
    /// The provider filtered the reply.
    ContentFilter,
    /// The model called tools and waits for their results.
    ToolCalls,
}

impl FinishReason {
    pub fn as_str(self) -> &'static str {
        match self {
            FinishReason::Stop => "stop",
            FinishReason::Length => "length",
            FinishReason::ContentFilter => "content_filter",
            FinishReason::ToolCalls => "tool_calls",
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
    /// A whole tool call (several may come, for parallel calls).
    ToolCall(ToolCall),
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
