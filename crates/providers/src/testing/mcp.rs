//! `McpTestServer`: a Model Context Protocol server on 127.0.0.1 (rmcp's
//! streamable HTTP server), for the tests of `mcp` tools. Its tools:
//! `add` (`a` + `b`), `search` (echoes `query`) and `broken` (always an
//! error result). It counts its `tools/list` requests and records each
//! call with the headers it came with.

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde_json::{Map, Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// A call the server answered: the tool, its arguments, the request's
/// `Authorization` header.
#[derive(Clone, Debug)]
pub struct McpCall {
    pub tool: String,
    pub arguments: Value,
    pub authorization: Option<String>,
}

#[derive(Default)]
struct Seen {
    lists: AtomicUsize,
    calls: Mutex<Vec<McpCall>>,
}

pub struct McpTestServer {
    /// The server's endpoint, `http://127.0.0.1:PORT/mcp`.
    pub url: String,
    port: u16,
    seen: Arc<Seen>,
}

impl McpTestServer {
    pub async fn start() -> Self {
        let seen = Arc::new(Seen::default());
        let handler = Tools { seen: seen.clone() };
        let service: StreamableHttpService<Tools, LocalSessionManager> = StreamableHttpService::new(
            move || Ok(handler.clone()),
            Default::default(),
            StreamableHttpServerConfig::default(),
        );
        let app = axum::Router::new().nest_service("/mcp", service);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1");
        let port = listener.local_addr().expect("local address").port();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            url: format!("http://127.0.0.1:{port}/mcp"),
            port,
            seen,
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// How many `tools/list` requests it answered.
    pub fn lists(&self) -> usize {
        self.seen.lists.load(Ordering::SeqCst)
    }

    /// The calls it answered, in order.
    pub fn calls(&self) -> Vec<McpCall> {
        self.seen.calls.lock().expect("not poisoned").clone()
    }
}

#[derive(Clone)]
struct Tools {
    seen: Arc<Seen>,
}

fn schema(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => unreachable!("an object literal"),
    }
}

impl ServerHandler for Tools {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        self.seen.lists.fetch_add(1, Ordering::SeqCst);
        let number = json!({ "type": "number" });
        Ok(ListToolsResult::with_all_items(vec![
            Tool::new(
                "add",
                "Adds two numbers",
                schema(json!({ "type": "object",
                    "properties": { "a": number, "b": number }, "required": ["a", "b"] })),
            ),
            Tool::new(
                "search",
                "Searches the documents",
                schema(json!({ "type": "object",
                    "properties": { "query": { "type": "string" } } })),
            ),
            Tool::new(
                "broken",
                "Always fails",
                schema(json!({ "type": "object" })),
            ),
        ]))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let arguments = Value::Object(request.arguments.clone().unwrap_or_default());
        let authorization = context
            .extensions
            .get::<axum::http::request::Parts>()
            .and_then(|parts| parts.headers.get("authorization"))
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        self.seen.calls.lock().expect("not poisoned").push(McpCall {
            tool: request.name.to_string(),
            arguments: arguments.clone(),
            authorization,
        });
        let result = match request.name.as_ref() {
            "add" => {
                let sum =
                    arguments["a"].as_f64().unwrap_or(0.0) + arguments["b"].as_f64().unwrap_or(0.0);
                CallToolResult::success(vec![ContentBlock::text(sum.to_string())])
            }
            "search" => CallToolResult::success(vec![ContentBlock::text(format!(
                "found: {}",
                arguments["query"].as_str().unwrap_or("")
            ))]),
            "broken" => CallToolResult::error(vec![ContentBlock::text("the index is offline")]),
            other => return Err(ErrorData::invalid_params(format!("no tool {other}"), None)),
        };
        Ok(result.into())
    }
}
