//! The Anthropic Messages API, streamed.

mod request;
mod stream;

use crate::config::{ApiKey, ConfigError, Headers};
use crate::endpoint::{endpoint, extra_headers, secret_value};
use crate::http::send;
use crate::sse::decode;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::json;
use spool_core::provider::{ChatRequest, ChatRole, ChatStream, Provider, ProviderError};
use stream::Events;

const API_VERSION: &str = "2023-06-01";

pub struct Anthropic {
    client: reqwest::Client,
    endpoint: reqwest::Url,
    headers: HeaderMap,
    default_max_tokens: u32,
}

#[derive(Clone, Debug)]
pub struct AnthropicSettings {
    pub base_url: String,
    pub api_key: Option<ApiKey>,
    pub headers: Headers,
    /// Anthropic requires a reply limit; this one applies when a request
    /// names none.
    pub default_max_tokens: u32,
}

impl Anthropic {
    pub fn new(
        provider: &str,
        settings: AnthropicSettings,
        client: reqwest::Client,
    ) -> Result<Self, ConfigError> {
        if settings.default_max_tokens == 0 {
            return Err(ConfigError::new(
                format!("providers.{provider}.default_max_tokens"),
                "must be greater than 0",
            ));
        }
        let endpoint = endpoint(provider, &settings.base_url, "v1/messages")?;
        let mut headers = extra_headers(provider, &settings.headers)?;
        headers.insert(
            HeaderName::from_static("anthropic-version"),
            HeaderValue::from_static(API_VERSION),
        );
        if let Some(key) = &settings.api_key {
            headers.insert(
                HeaderName::from_static("x-api-key"),
                secret_value(provider, key.expose())?,
            );
        }
        Ok(Anthropic {
            client,
            endpoint,
            headers,
            default_max_tokens: settings.default_max_tokens,
        })
    }

    fn body(&self, request: &ChatRequest) -> serde_json::Value {
        let system: Vec<&str> = request
            .messages
            .iter()
            .filter(|m| m.role == ChatRole::System)
            .map(|m| m.content.as_str())
            .collect();
        let messages = request::turns(request);
        let mut body = json!({
            "model": request.model,
            "max_tokens": request.max_tokens.unwrap_or(self.default_max_tokens),
            "messages": messages,
            "stream": true,
        });
        if !system.is_empty() {
            body["system"] = json!(system.join("\n\n"));
        }
        if let Some(temperature) = request.temperature {
            body["temperature"] = json!(temperature);
        }
        if let Some(top_p) = request.top_p {
            body["top_p"] = json!(top_p);
        }
        request::add_tools(&mut body, request);
        body
    }
}

#[async_trait::async_trait]
impl Provider for Anthropic {
    async fn stream_chat(&self, request: ChatRequest) -> Result<ChatStream, ProviderError> {
        let builder = self
            .client
            .post(self.endpoint.clone())
            .headers(self.headers.clone())
            .header("accept", "text/event-stream")
            .json(&self.body(&request));
        let response = send(builder).await?;
        Ok(decode(response, Events::default()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spool_core::provider::ChatMessage;

    #[test]
    fn system_goes_to_the_top_and_turns_alternate() {
        let provider = Anthropic::new(
            "a",
            AnthropicSettings {
                base_url: "http://127.0.0.1:1".into(),
                api_key: None,
                headers: Headers::default(),
                default_max_tokens: 99,
            },
            reqwest::Client::new(),
        )
        .unwrap();
        let message = |role, content: &str| ChatMessage::text(role, content);
        let request = ChatRequest {
            model: "claude".into(),
            messages: vec![
                message(ChatRole::System, "be brief"),
                message(ChatRole::User, "a"),
                message(ChatRole::Tool, "b"),
                message(ChatRole::Assistant, "c"),
            ],
            temperature: None,
            top_p: None,
            max_tokens: None,
            tools: Vec::new(),
            tool_choice: Default::default(),
        };
        let body = provider.body(&request);
        assert_eq!(body["system"], "be brief");
        assert_eq!(body["max_tokens"], 99);
        assert_eq!(
            body["messages"],
            json!([{"role": "user", "content": "a\n\nb"}, {"role": "assistant", "content": "c"}])
        );
    }
}
