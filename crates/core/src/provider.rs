//! What a run needs from a model provider: stream a chat completion. The
//! implementations (OpenAI-compatible, Anthropic, the offline `echo`) live in
//! `spool-providers`; the run engine in the core only sees this trait.

use futures_core::Stream;
use std::pin::Pin;
use std::sync::Arc;
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

/// Where a workspace provider's requests go, with its credentials opened:
/// it lives only while a provider is built. `Debug` shows no secret.
#[derive(Clone)]
pub struct ProviderEndpoint {
    pub name: String,
    pub kind: crate::model::ProviderKind,
    pub base_url: String,
    pub api_key: Option<String>,
    /// The header the key goes in raw; `None`: the kind's usual one.
    pub api_key_header: Option<String>,
    pub headers: std::collections::BTreeMap<String, String>,
}

impl std::fmt::Debug for ProviderEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderEndpoint")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("base_url", &self.base_url)
            .field("api_key_header", &self.api_key_header)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Builds the providers workspaces add (in `spool-providers`, under the
/// server's outbound-address rules).
#[async_trait::async_trait]
pub trait ProviderFactory: Send + Sync + 'static {
    /// Why requests to `base_url` may not be sent (not http(s), or an
    /// address the outbound rules refuse), checked when a provider is saved;
    /// calls are checked again when they connect.
    async fn refuse_base_url(&self, base_url: &str) -> Option<String>;

    /// A ready provider, with the server's timeouts and retries. The error
    /// names what in the endpoint is wrong.
    fn build(&self, endpoint: &ProviderEndpoint) -> Result<Arc<dyn Provider>, String>;
}
