//! OpenAI-compatible chat completions, streamed: OpenAI itself, Azure-style
//! deployments, vLLM, Ollama, llama.cpp, LM Studio, LiteLLM, OpenRouter, …

mod stream;

use crate::config::{ApiKey, ConfigError, Headers};
use crate::endpoint::{endpoint, extra_headers, header_name, secret_value};
use crate::http::send;
use crate::sse::decode;
use reqwest::header::{AUTHORIZATION, HeaderMap};
use serde_json::json;
use spool_core::provider::{ChatMessage, ChatRequest, ChatStream, Provider, ProviderError};
use spool_core::tools::ToolChoice;
use stream::Chunks;

pub struct OpenAi {
    client: reqwest::Client,
    endpoint: reqwest::Url,
    headers: HeaderMap,
    max_tokens_field: String,
    stream_usage: bool,
}

/// How an `OpenAi` provider reaches its upstream.
#[derive(Clone, Debug)]
pub struct OpenAiSettings {
    pub base_url: String,
    pub api_key: Option<ApiKey>,
    /// `None`: `Authorization: Bearer <key>`; `Some(name)`: the bare key in
    /// that header (Azure's `api-key`).
    pub api_key_header: Option<String>,
    pub headers: Headers,
    pub max_tokens_field: String,
    pub stream_usage: bool,
}

impl OpenAi {
    /// `provider` names the config table in errors.
    pub fn new(
        provider: &str,
        settings: OpenAiSettings,
        client: reqwest::Client,
    ) -> Result<Self, ConfigError> {
        let endpoint = endpoint(provider, &settings.base_url, "chat/completions")?;
        let mut headers = extra_headers(provider, &settings.headers)?;
        if let Some(key) = &settings.api_key {
            let (name, value) = match &settings.api_key_header {
                Some(name) => (
                    header_name(provider, "api_key_header", name)?,
                    key.expose().to_owned(),
                ),
                None => (AUTHORIZATION, format!("Bearer {}", key.expose())),
            };
            headers.insert(name, secret_value(provider, &value)?);
        }
        if !matches!(
            settings.max_tokens_field.as_str(),
            "max_tokens" | "max_completion_tokens"
        ) {
            return Err(ConfigError::new(
                format!("providers.{provider}.max_tokens_field"),
                "expected max_tokens or max_completion_tokens",
            ));
        }
        Ok(OpenAi {
            client,
            endpoint,
            headers,
            max_tokens_field: settings.max_tokens_field,
            stream_usage: settings.stream_usage,
        })
    }

    fn body(&self, request: &ChatRequest) -> serde_json::Value {
        let messages: Vec<_> = request.messages.iter().map(message).collect();
        let mut body = json!({"model": request.model, "messages": messages, "stream": true});
        if !request.tools.is_empty() {
            let tools: Vec<_> = request
                .tools
                .iter()
                .map(|t| {
                    let mut function = json!({"name": t.name, "parameters": t.parameters});
                    if let Some(description) = &t.description {
                        function["description"] = json!(description);
                    }
                    json!({"type": "function", "function": function})
                })
                .collect();
            body["tools"] = json!(tools);
            body["tool_choice"] = match &request.tool_choice {
                ToolChoice::Auto => json!("auto"),
                ToolChoice::None => json!("none"),
                ToolChoice::Required => json!("required"),
                ToolChoice::Named(name) => json!({"type": "function", "function": {"name": name}}),
            };
        }
        if self.stream_usage {
            body["stream_options"] = json!({"include_usage": true});
        }
        if let Some(temperature) = request.temperature {
            body["temperature"] = json!(temperature);
        }
        if let Some(top_p) = request.top_p {
            body["top_p"] = json!(top_p);
        }
        if let Some(max_tokens) = request.max_tokens {
            body[self.max_tokens_field.as_str()] = json!(max_tokens);
        }
        body
    }
}

/// A chat message in the chat-completions form: an assistant's tool calls
/// as `tool_calls`, a tool result with its `tool_call_id`.
fn message(m: &ChatMessage) -> serde_json::Value {
    if let Some(id) = &m.tool_call_id {
        return json!({"role": "tool", "tool_call_id": id, "content": m.content});
    }
    if !m.images.is_empty() {
        // Content parts: the text, then each image as a data URL.
        let mut parts = vec![json!({"type": "text", "text": m.content})];
        parts.extend(m.images.iter().map(|image| {
            let url = format!("data:{};base64,{}", image.mime_type, image.data_base64);
            json!({"type": "image_url", "image_url": {"url": url}})
        }));
        return json!({"role": m.role.as_str(), "content": parts});
    }
    if m.tool_calls.is_empty() {
        return json!({"role": m.role.as_str(), "content": m.content});
    }
    let calls: Vec<_> = m
        .tool_calls
        .iter()
        .map(|c| json!({"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}))
        .collect();
    let content = (!m.content.is_empty()).then_some(m.content.as_str());
    json!({"role": m.role.as_str(), "content": content, "tool_calls": calls})
}

#[async_trait::async_trait]
impl Provider for OpenAi {
    async fn stream_chat(&self, request: ChatRequest) -> Result<ChatStream, ProviderError> {
        let builder = self
            .client
            .post(self.endpoint.clone())
            .headers(self.headers.clone())
            .header("accept", "text/event-stream")
            .json(&self.body(&request));
        let response = send(builder).await?;
        Ok(decode(response, Chunks::default()))
    }
}
