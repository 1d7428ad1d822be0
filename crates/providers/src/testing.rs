//! `ScriptedUpstream`: a model server on 127.0.0.1 that speaks the real
//! OpenAI chat-completions and Anthropic messages streaming protocols, and
//! answers each request by the next `Script` — including the faults a real
//! upstream has (429, 500, stalls, dropped connections, garbage).
//!
//! Enable with the `testing` feature, as a dev-dependency:
//! `spool-providers = { workspace = true, features = ["testing"] }`.

mod mcp;
mod wire;

pub use mcp::McpTestServer;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use spool_core::provider::{FinishReason, ToolCall, Usage};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Semaphore, watch};

/// Which protocol a request spoke, told by its path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// `POST …/chat/completions`
    OpenAi,
    /// `POST …/v1/messages`
    Anthropic,
}

/// How to answer one request.
#[derive(Clone, Debug)]
pub enum Script {
    /// A streamed reply: `chunks` of text, `delay` apart, then usage (when
    /// `Some`; OpenAI only if the request asked for it) and the finish.
    Reply {
        chunks: Vec<String>,
        delay: Duration,
        usage: Option<Usage>,
        finish: FinishReason,
    },
    /// An error response with the protocol's JSON error body.
    Status {
        status: u16,
        retry_after: Option<String>,
        message: String,
    },
    /// Sends nothing at all (not even headers) for this long, then a reply.
    StallBeforeFirstByte(Duration),
    /// Sends `chunks`, goes quiet for `stall`, then finishes.
    StallMidStream {
        chunks: Vec<String>,
        stall: Duration,
    },
    /// Sends `before`, holds the reply open until the test calls
    /// [`ScriptedUpstream::release`], then sends `after` and finishes.
    HeldMidStream {
        before: Vec<String>,
        after: Vec<String>,
    },
    /// Sends `chunks`, then drops the connection without ending the body.
    DropMidStream { chunks: Vec<String> },
    /// Sends `chunks`, then an event whose JSON is cut off.
    MalformedChunk { chunks: Vec<String> },
    /// The model calls tools (in parallel when several): each call's
    /// arguments arrive in two fragments, sent as given (malformed JSON
    /// too); then finish `tool_calls` (`tool_use` blocks for Anthropic).
    ToolCalls { calls: Vec<ToolCall> },
}

fn strings<S: Into<String>>(chunks: impl IntoIterator<Item = S>) -> Vec<String> {
    chunks.into_iter().map(Into::into).collect()
}

impl Script {
    /// `chunks` with no delay, usage `{input: 10, output: chunks.len()}`,
    /// finish `Stop`.
    pub fn reply<S: Into<String>>(chunks: impl IntoIterator<Item = S>) -> Script {
        let chunks = strings(chunks);
        let usage = Usage {
            input_tokens: 10,
            output_tokens: chunks.len() as u32,
        };
        Script::Reply {
            chunks,
            delay: Duration::ZERO,
            usage: Some(usage),
            finish: FinishReason::Stop,
        }
    }

    /// A reply's pause between chunks.
    pub fn with_delay(mut self, between_chunks: Duration) -> Script {
        if let Script::Reply { delay, .. } = &mut self {
            *delay = between_chunks;
        }
        self
    }

    /// A reply's usage report; `None` for none.
    pub fn with_usage(mut self, reported: Option<Usage>) -> Script {
        if let Script::Reply { usage, .. } = &mut self {
            *usage = reported;
        }
        self
    }

    pub fn with_finish(mut self, reason: FinishReason) -> Script {
        if let Script::Reply { finish, .. } = &mut self {
            *finish = reason;
        }
        self
    }

    /// Tool calls `(id, name, arguments text)`.
    pub fn tool_calls<'a>(calls: impl IntoIterator<Item = (&'a str, &'a str, &'a str)>) -> Script {
        Script::ToolCalls {
            calls: calls
                .into_iter()
                .map(|(id, name, arguments)| ToolCall {
                    id: id.to_owned(),
                    name: name.to_owned(),
                    arguments: arguments.to_owned(),
                })
                .collect(),
        }
    }

    pub fn status(status: u16) -> Script {
        Script::Status {
            status,
            retry_after: None,
            message: format!("scripted {status}"),
        }
    }

    /// 429 with `Retry-After: {secs}`.
    pub fn rate_limited(secs: u64) -> Script {
        Script::Status {
            status: 429,
            retry_after: Some(secs.to_string()),
            message: "scripted rate limit".to_owned(),
        }
    }

    pub fn stall_before_first_byte(stall: Duration) -> Script {
        Script::StallBeforeFirstByte(stall)
    }

    pub fn stall_mid_stream<S: Into<String>>(
        chunks: impl IntoIterator<Item = S>,
        stall: Duration,
    ) -> Script {
        Script::StallMidStream {
            chunks: strings(chunks),
            stall,
        }
    }

    pub fn held<S: Into<String>, T: Into<String>>(
        before: impl IntoIterator<Item = S>,
        after: impl IntoIterator<Item = T>,
    ) -> Script {
        Script::HeldMidStream {
            before: strings(before),
            after: strings(after),
        }
    }

    pub fn drop_mid_stream<S: Into<String>>(chunks: impl IntoIterator<Item = S>) -> Script {
        Script::DropMidStream {
            chunks: strings(chunks),
        }
    }

    pub fn malformed_chunk<S: Into<String>>(chunks: impl IntoIterator<Item = S>) -> Script {
        Script::MalformedChunk {
            chunks: strings(chunks),
        }
    }
}

/// One request as the upstream received it.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    pub protocol: Option<Protocol>,
    /// Path and query, e.g. `/v1/chat/completions?api-version=1`.
    pub path_and_query: String,
    pub headers: Vec<(String, String)>,
    /// `Null` when the body was not JSON.
    pub body: serde_json::Value,
}

impl RecordedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

struct Shared {
    /// The next scripts; the last one answers every request after it.
    scripts: Mutex<VecDeque<Script>>,
    requests: Mutex<Vec<RecordedRequest>>,
    /// How many requests have arrived, for tests to wait on.
    arrived: watch::Sender<usize>,
    /// One permit per [`ScriptedUpstream::release`]; a held reply takes one.
    released: Arc<Semaphore>,
}

/// The fake upstream; it stops when dropped.
pub struct ScriptedUpstream {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl ScriptedUpstream {
    /// Listens on a free port of 127.0.0.1. With no scripts, every request
    /// gets a short default reply.
    pub async fn start(scripts: impl IntoIterator<Item = Script>) -> ScriptedUpstream {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let shared = Arc::new(Shared {
            scripts: Mutex::new(scripts.into_iter().collect()),
            requests: Mutex::new(Vec::new()),
            arrived: watch::channel(0).0,
            released: Arc::new(Semaphore::new(0)),
        });
        let app = Router::new().fallback(answer).with_state(shared.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        ScriptedUpstream {
            addr,
            shared,
            server,
        }
    }

    /// `http://127.0.0.1:{port}`: the Anthropic base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://127.0.0.1:{port}/v1`: the OpenAI-compatible base URL.
    pub fn openai_base_url(&self) -> String {
        format!("{}/v1", self.url())
    }

    /// Queues more scripts after the ones not yet used.
    pub fn push(&self, script: Script) {
        self.shared.scripts.lock().unwrap().push_back(script);
    }

    pub fn request_count(&self) -> usize {
        self.shared.requests.lock().unwrap().len()
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// Waits until at least `count` requests have arrived: the cue that the
    /// caller is now waiting on this upstream, without watching a clock.
    pub async fn wait_for_requests(&self, count: usize) {
        let mut arrived = self.shared.arrived.subscribe();
        arrived
            .wait_for(|&n| n >= count)
            .await
            .expect("the upstream outlives its own sender");
    }

    /// Lets one held reply ([`Script::held`]) go on, now or when it gets there.
    pub fn release(&self) {
        self.shared.released.add_permits(1);
    }
}

impl Drop for ScriptedUpstream {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn answer(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 16 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let path = parts.uri.path();
    let protocol = if path.ends_with("/chat/completions") {
        Some(Protocol::OpenAi)
    } else if path.ends_with("/v1/messages") {
        Some(Protocol::Anthropic)
    } else {
        None
    };
    let recorded = RecordedRequest {
        protocol,
        path_and_query: parts
            .uri
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_default(),
        headers: parts
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    n.to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
    };
    let request_body = recorded.body.clone();
    shared.requests.lock().unwrap().push(recorded);
    shared.arrived.send_modify(|n| *n += 1);
    let Some(protocol) = protocol else {
        return Response::builder()
            .status(404)
            .body(Body::from("not a chat endpoint"))
            .unwrap();
    };
    let script = {
        let mut scripts = shared.scripts.lock().unwrap();
        match scripts.len() {
            0 => Script::reply(["Hello", " from", " the", " scripted", " upstream."]),
            1 => scripts[0].clone(),
            _ => scripts.pop_front().expect("not empty"),
        }
    };
    wire::respond(protocol, &request_body, script, &shared.released).await
}
