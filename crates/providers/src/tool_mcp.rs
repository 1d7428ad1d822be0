//! `mcp` tools: spool is a Model Context Protocol client (the official
//! SDK, `rmcp`) over the streamable HTTP transport. A run lists a server's
//! tools when it starts (remembered per server for [`MCP_LIST_TTL`]) and
//! calls them through the protocol, each list and each call in a session
//! of its own. Every connection goes through the outbound address rules:
//! the same resolver and redirect check as `http` tools.

use crate::outbound::{CheckedResolver, OutboundRules};
use crate::tool_http::{MAX_REDIRECTS, TOOL_RESPONSE_MAX_BYTES, cut_note, header_value};
use reqwest_mcp::header::{HeaderName, HeaderValue};
use rmcp::ServiceExt;
use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientCapabilities, ClientConfig, ContentBlock,
    Implementation,
};
use rmcp::service::{RoleClient, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use serde_json::Value;
use spool_core::tools::{McpTool, ToolDefinition, ToolKind};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a server's list of tools is reused by later runs.
pub const MCP_LIST_TTL: Duration = Duration::from_secs(60);
/// Most time one tool call may take, the session's set-up included.
pub const MCP_CALL_TIMEOUT: Duration = Duration::from_secs(60);
/// Most time listing a server's tools may take.
const MCP_LIST_TIMEOUT: Duration = Duration::from_secs(15);
/// Most bytes of one message a server may send.
const MCP_MESSAGE_MAX_BYTES: usize = 4 * 1024 * 1024;

type Session = RunningService<RoleClient, ClientConfig>;

pub(crate) struct McpClient {
    http: reqwest_mcp::Client,
    rules: Arc<OutboundRules>,
    /// By server URL and headers: when listed, and what.
    listed: Mutex<HashMap<String, (Instant, Vec<McpTool>)>>,
}

impl McpClient {
    pub(crate) fn new(rules: Arc<OutboundRules>) -> Self {
        let for_redirects = rules.clone();
        let redirects = reqwest_mcp::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= MAX_REDIRECTS {
                return attempt.error(format!("more than {MAX_REDIRECTS} redirects"));
            }
            match attempt
                .url()
                .host_str()
                .and_then(|h| for_redirects.refuse_host(h))
            {
                Some(why) => attempt.error(why),
                None => attempt.follow(),
            }
        });
        let http = reqwest_mcp::Client::builder()
            .no_proxy()
            .redirect(redirects)
            .dns_resolver(Arc::new(CheckedResolver {
                rules: rules.clone(),
            }))
            .connect_timeout(Duration::from_secs(10))
            .tls_backend_preconfigured(tls_config())
            .build()
            .expect("a client with these settings builds");
        Self {
            http,
            rules,
            listed: Mutex::default(),
        }
    }

    /// The server's tools, from the cache while it is fresh.
    pub(crate) async fn list(&self, server: &ToolDefinition) -> Result<Vec<McpTool>, String> {
        let (url, headers) = self.target(server)?;
        let key = cache_key(&url, &headers);
        if let Some((at, tools)) = self.listed.lock().expect("not poisoned").get(&key)
            && at.elapsed() < MCP_LIST_TTL
        {
            return Ok(tools.clone());
        }
        let listing = async {
            let session = self.connect(&url, headers).await?;
            let listed = session.list_all_tools().await;
            close(session).await;
            listed.map_err(|e| chain("The server refused to list its tools", &e))
        };
        let tools: Vec<McpTool> = tokio::time::timeout(MCP_LIST_TIMEOUT, listing)
            .await
            .map_err(|_| "The MCP server did not list its tools in time.".to_owned())??
            .into_iter()
            .map(|tool| McpTool {
                name: tool.name.into_owned(),
                description: tool.description.map(|d| d.into_owned()),
                parameters: (*tool.input_schema).clone(),
            })
            .collect();
        let mut listed = self.listed.lock().expect("not poisoned");
        listed.retain(|_, (at, _)| at.elapsed() < MCP_LIST_TTL);
        listed.insert(key, (Instant::now(), tools.clone()));
        Ok(tools)
    }

    /// Calls the server's tool `name`: its text, or the error the model sees.
    pub(crate) async fn call(
        &self,
        server: &ToolDefinition,
        name: &str,
        arguments: &Value,
    ) -> Result<String, String> {
        let (url, headers) = self.target(server)?;
        let mut params = CallToolRequestParams::new(name.to_owned());
        params.arguments = arguments.as_object().cloned();
        let calling = async {
            let session = self.connect(&url, headers).await?;
            let answer = session.call_tool(params).await;
            close(session).await;
            answer.map_err(|e| chain("The MCP tool call failed", &e))
        };
        let answer = tokio::time::timeout(MCP_CALL_TIMEOUT, calling)
            .await
            .map_err(|_| "The MCP tool did not answer in time.".to_owned())??;
        result_text(answer)
    }

    /// The server's URL (its address checked) and its headers as sent.
    fn target(&self, server: &ToolDefinition) -> Result<(String, Vec<(String, String)>), String> {
        let ToolKind::Mcp { url, headers } = &server.kind else {
            return Err("Not an MCP server.".into());
        };
        let parsed =
            reqwest::Url::parse(url).map_err(|e| format!("The server's URL is not valid: {e}."))?;
        if let Some(why) = self.rules.refuse_literal(&parsed) {
            return Err(why);
        }
        let headers = headers
            .iter()
            .map(|(name, value)| Ok((name.clone(), header_value(name, value)?)))
            .collect::<Result<_, String>>()?;
        Ok((url.clone(), headers))
    }

    async fn connect(&self, url: &str, headers: Vec<(String, String)>) -> Result<Session, String> {
        let mut custom = HashMap::new();
        for (name, value) in headers {
            let header = HeaderName::try_from(name.as_str())
                .map_err(|_| format!("The header name {name} is not valid."))?;
            let value = HeaderValue::try_from(value)
                .map_err(|_| format!("The value of the header {name} is not valid."))?;
            custom.insert(header, value);
        }
        let config = StreamableHttpClientTransportConfig::with_uri(url)
            .custom_headers(custom)
            .max_json_response_size(MCP_MESSAGE_MAX_BYTES)
            .max_sse_event_size(MCP_MESSAGE_MAX_BYTES);
        let transport = StreamableHttpClientTransport::with_client(self.http.clone(), config);
        let info = ClientConfig::new(
            ClientCapabilities::default(),
            Implementation::new("spool", env!("CARGO_PKG_VERSION")),
        );
        info.serve(transport)
            .await
            .map_err(|e| chain("The MCP server could not be reached", &e))
    }
}

/// Ends a session (the server is told, when it keeps sessions).
async fn close(session: Session) {
    if let Err(err) = session.cancel().await {
        tracing::debug!(error = %err, "an MCP session did not close cleanly");
    }
}

fn cache_key(url: &str, headers: &[(String, String)]) -> String {
    let mut key = url.to_owned();
    for (name, value) in headers {
        key.push('\n');
        key.push_str(name);
        key.push(':');
        key.push_str(value);
    }
    key
}

/// `what`, then the error and its causes (a refused address is deep inside).
fn chain(what: &str, err: &dyn std::error::Error) -> String {
    let mut text = format!("{what}: {err}");
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// The text a call's answer gives the model: its text blocks (other
/// blocks as their JSON), else its structured content; cut at
/// [`TOOL_RESPONSE_MAX_BYTES`]. An answer marked as an error is an error.
fn result_text(answer: CallToolResult) -> Result<String, String> {
    let mut parts: Vec<String> = answer
        .content
        .iter()
        .map(|block| match block {
            ContentBlock::Text(text) => text.text.clone(),
            other => serde_json::to_string(other).unwrap_or_default(),
        })
        .collect();
    if parts.is_empty()
        && let Some(structured) = &answer.structured_content
    {
        parts.push(structured.to_string());
    }
    let mut text = parts.join("\n");
    if text.len() > TOOL_RESPONSE_MAX_BYTES {
        let mut end = TOOL_RESPONSE_MAX_BYTES;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push_str(&cut_note());
    }
    if answer.is_error == Some(true) {
        Err(format!("The MCP tool answered with an error: {text}"))
    } else {
        Ok(text)
    }
}

/// TLS for MCP servers as for every other outbound call: rustls with ring,
/// the bundled Mozilla roots and the system's.
fn tls_config() -> rustls::ClientConfig {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("ring supports the default TLS versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config
}
