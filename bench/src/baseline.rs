//! `spool-baseline`: bare axum on the routes the scenarios use, answering the
//! bytes spool answered (captured during setup) with no storage, no auth and
//! no middleware. Writes parse the same request JSON spool parses. This is
//! the ceiling spool's figures are divided by.
//!
//!     spool-baseline --listen 127.0.0.1:9000 --captures captures.json

use anyhow::Context;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use bytes::Bytes;
use clap::Parser;
use serde::Deserialize;
use serde_json::{Map, Value};
use spool_bench::captures::{Captured, Captures};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "spool-baseline",
    about = "Bare axum replaying spool's captured responses"
)]
struct Args {
    #[arg(long)]
    listen: SocketAddr,
    #[arg(long)]
    captures: PathBuf,
}

/// A prepared answer: cloning `Bytes` is a reference count, not a copy.
#[derive(Clone)]
struct Canned {
    status: StatusCode,
    content_type: HeaderValue,
    body: Bytes,
}

impl Canned {
    fn from(captured: &Captured) -> anyhow::Result<Self> {
        Ok(Self {
            status: StatusCode::from_u16(captured.status)?,
            content_type: HeaderValue::from_str(&captured.content_type)?,
            body: Bytes::from(captured.body.clone()),
        })
    }

    fn respond(&self) -> Response {
        let mut response = Response::new(Body::from(self.body.clone()));
        *response.status_mut() = self.status;
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, self.content_type.clone());
        response
    }
}

struct Replay {
    responses: HashMap<String, Canned>,
    message_threads: HashMap<String, String>,
}

type Shared = Arc<Replay>;

impl Replay {
    fn answer(&self, id: &str) -> Response {
        match self.responses.get(id) {
            Some(canned) => canned.respond(),
            None => {
                let mut response = Response::new(Body::from(format!("no capture for {id}")));
                *response.status_mut() = StatusCode::NOT_FOUND;
                response
            }
        }
    }
}

/// The fields spool's athena create-thread request has.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[expect(dead_code, reason = "parsed like spool parses it, then unused")]
struct CreateThread {
    workspace_uuid: Option<String>,
    name: Option<String>,
    agent_uuid: Option<String>,
    with: Option<String>,
    metadata: Option<Map<String, Value>>,
}

/// The fields spool's athena create-message request has.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[expect(dead_code, reason = "parsed like spool parses it, then unused")]
struct CreateMessage {
    thread_uuid: Option<String>,
    content: Option<String>,
    role: Option<String>,
    #[serde(default)]
    files: Vec<Value>,
    metadata: Option<Map<String, Value>>,
    workspace_uuid: Option<String>,
}

async fn create_thread(
    State(state): State<Shared>,
    axum::Json(_): axum::Json<CreateThread>,
) -> Response {
    state.answer("S1")
}

async fn create_message(
    State(state): State<Shared>,
    axum::Json(_): axum::Json<CreateMessage>,
) -> Response {
    state.answer("S2")
}

async fn show_thread(State(state): State<Shared>, Path(id): Path<String>) -> Response {
    match uuid::Uuid::parse_str(&id) {
        Ok(_) => state.answer("S3"),
        Err(_) => state.answer("none"),
    }
}

async fn list_messages(
    State(state): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let id = query
        .get("thread_uuid")
        .and_then(|t| state.message_threads.get(t))
        .map_or("none", String::as_str);
    state.answer(id)
}

async fn list_threads(
    State(state): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if query.contains_key("search") {
        state.answer("S6")
    } else if query.contains_key("cursor") {
        state.answer("S5-cursor")
    } else {
        state.answer("S5")
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let captures = Captures::read(&args.captures)
        .with_context(|| format!("reading {}", args.captures.display()))?;
    let responses = captures
        .responses
        .iter()
        .map(|(id, captured)| Ok((id.clone(), Canned::from(captured)?)))
        .collect::<anyhow::Result<_>>()?;
    let state = Arc::new(Replay {
        responses,
        message_threads: captures.message_threads.into_iter().collect(),
    });
    let app = Router::new()
        .route("/api/v1/threads", get(list_threads).post(create_thread))
        .route("/api/v1/threads/{uuid}", get(show_thread))
        .route("/api/v1/messages", get(list_messages).post(create_message))
        .route("/readyz", get(|| async { "ok" }))
        .with_state(state);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(async {
            let listener = tokio::net::TcpListener::bind(args.listen).await?;
            axum::serve(listener, app).await?;
            Ok(())
        })
}
