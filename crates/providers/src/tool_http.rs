//! `http` tools: spool calls the tool's URL with the model's arguments (a
//! JSON body; a query string for GET), with its headers (written, or read
//! from the environment), under the outbound address rules, a timeout and
//! a cap on the body it reads. A non-2xx answer is an error the model sees.

use crate::outbound::{CheckedResolver, OutboundRules};
use crate::tool_mcp::McpClient;
use futures_util::StreamExt;
use serde_json::Value;
use spool_core::tools::{HeaderValue, HttpMethod, McpTool, ToolCaller, ToolDefinition, ToolKind};
use std::sync::Arc;
use std::time::Duration;

/// Most bytes of a response body given to the model.
pub const TOOL_RESPONSE_MAX_BYTES: usize = 64 * 1024;
/// Most time one call may take, redirects included.
pub const TOOL_CALL_TIMEOUT: Duration = Duration::from_secs(15);
pub(crate) const MAX_REDIRECTS: usize = 5;

/// The tools spool calls itself: `http` tools, and MCP servers
/// ([`McpClient`]), both under the same address rules.
pub struct OutboundTools {
    client: reqwest::Client,
    rules: Arc<OutboundRules>,
    mcp: McpClient,
}

impl OutboundTools {
    /// A caller allowing the non-public `allowed_tool_hosts` (names or
    /// addresses) besides every public address.
    pub fn new(allowed_tool_hosts: impl IntoIterator<Item = impl Into<String>>) -> Self {
        let rules = Arc::new(OutboundRules::new(allowed_tool_hosts));
        let mcp = McpClient::new(rules.clone());
        let for_redirects = rules.clone();
        let redirects = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= MAX_REDIRECTS {
                return attempt.error(format!("more than {MAX_REDIRECTS} redirects"));
            }
            // Names are checked when they resolve; literals here.
            match for_redirects.refuse_literal(attempt.url()) {
                Some(why) => attempt.error(why),
                None => attempt.follow(),
            }
        });
        let client = reqwest::Client::builder()
            // A proxy would resolve names itself, past the rules.
            .no_proxy()
            .redirect(redirects)
            .dns_resolver(Arc::new(CheckedResolver {
                rules: rules.clone(),
            }))
            .timeout(TOOL_CALL_TIMEOUT)
            .build()
            .expect("a client with these settings builds");
        Self { client, rules, mcp }
    }
}

/// A header's value as sent: written, or read from the environment now.
pub(crate) fn header_value(name: &str, value: &HeaderValue) -> Result<String, String> {
    match value {
        HeaderValue::Literal(text) => Ok(text.clone()),
        HeaderValue::Env { env } => std::env::var(env).map_err(|_| {
            format!("The server has no environment variable {env} for the header {name}.")
        }),
    }
}

/// The error's own words and its causes (a refused address is deep inside).
fn describe(err: &reqwest::Error) -> String {
    let mut text = if err.is_timeout() {
        "The tool did not answer in time.".to_owned()
    } else if err.is_redirect() {
        "The tool's redirect was refused".to_owned()
    } else {
        "The tool could not be reached".to_owned()
    };
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[async_trait::async_trait]
impl ToolCaller for OutboundTools {
    async fn refuse_url(&self, url: &str) -> Option<String> {
        self.rules.refuse_url(url).await
    }

    async fn list_mcp(&self, server: &ToolDefinition) -> Result<Vec<McpTool>, String> {
        self.mcp.list(server).await
    }

    async fn call_mcp(
        &self,
        server: &ToolDefinition,
        name: &str,
        arguments: &Value,
    ) -> Result<String, String> {
        self.mcp.call(server, name, arguments).await
    }

    async fn call_http(&self, tool: &ToolDefinition, arguments: &Value) -> Result<String, String> {
        let ToolKind::Http {
            url,
            method,
            headers,
        } = &tool.kind
        else {
            return Err("Not an http tool.".into());
        };
        let url =
            reqwest::Url::parse(url).map_err(|e| format!("The tool's URL is not valid: {e}."))?;
        if let Some(why) = self.rules.refuse_literal(&url) {
            return Err(why);
        }
        let mut request = match method {
            HttpMethod::Get => {
                let mut url = url;
                if let Some(map) = arguments.as_object() {
                    let mut query = url.query_pairs_mut();
                    for (key, value) in map {
                        match value {
                            Value::String(text) => query.append_pair(key, text),
                            other => query.append_pair(key, &other.to_string()),
                        };
                    }
                }
                self.client.get(url)
            }
            HttpMethod::Post => self.client.post(url).json(arguments),
            HttpMethod::Put => self.client.put(url).json(arguments),
            HttpMethod::Patch => self.client.patch(url).json(arguments),
            HttpMethod::Delete => self.client.delete(url).json(arguments),
        };
        for (name, value) in headers {
            request = request.header(name.as_str(), header_value(name, value)?);
        }
        let response = request.send().await.map_err(|e| describe(&e))?;
        let status = response.status();
        let mut body = Vec::new();
        let mut truncated = false;
        let mut chunks = response.bytes_stream();
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk.map_err(|e| describe(&e))?;
            let room = TOOL_RESPONSE_MAX_BYTES - body.len();
            if chunk.len() > room {
                body.extend_from_slice(&chunk[..room]);
                truncated = true;
                break;
            }
            body.extend_from_slice(&chunk);
        }
        let mut text = String::from_utf8_lossy(&body).into_owned();
        if truncated {
            text.push_str(&cut_note());
        }
        if status.is_success() {
            Ok(text)
        } else {
            Err(format!("The tool answered {status}: {text}"))
        }
    }
}

/// What follows a result cut at [`TOOL_RESPONSE_MAX_BYTES`].
pub(crate) fn cut_note() -> String {
    format!("\n[cut: the answer was longer than {TOOL_RESPONSE_MAX_BYTES} bytes]")
}
