//! S7 and S8: streamed runs. A scripted OpenAI-compatible upstream runs in
//! this process; spool is configured with it as a provider. S7 compares the
//! time to first and last token through spool with calling the upstream
//! directly; S8 holds many run streams open and watches spool's memory.

use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

/// 50 ms to the first token, then 20 chunks 10 ms apart (S7).
pub const FAST_MODEL: &str = "bench-fast";
/// 50 ms to the first token, then 20 chunks 200 ms apart: streams stay open
/// about 4 s (S8).
pub const SLOW_MODEL: &str = "bench-slow";
pub const ECHO_MODEL: &str = "echo";
const CHUNKS: usize = 20;

/// The config file spool runs with: the scripted upstream as an OpenAI
/// provider, its two models beside the built-in echo.
pub fn spool_toml(upstream: SocketAddr) -> String {
    format!(
        "[[providers]]\nkind = \"openai\"\nname = \"scripted\"\nbase_url = \"http://{upstream}/v1\"\n\
         api_key = \"bench\"\n\n\
         [[models]]\nname = \"{FAST_MODEL}\"\nprovider = \"scripted\"\ncontext_window = 128000\n\n\
         [[models]]\nname = \"{SLOW_MODEL}\"\nprovider = \"scripted\"\ncontext_window = 128000\n"
    )
}

/// Starts the scripted upstream on a free port; it lives as long as the runtime.
pub async fn start_upstream() -> anyhow::Result<SocketAddr> {
    use axum::routing::post;
    let app = axum::Router::new().route("/v1/chat/completions", post(completion));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(addr)
}

async fn completion(axum::Json(body): axum::Json<serde_json::Value>) -> axum::response::Response {
    let between = match body["model"].as_str() {
        Some(SLOW_MODEL) => Duration::from_millis(200),
        _ => Duration::from_millis(10),
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        for i in 0..CHUNKS {
            if i > 0 {
                tokio::time::sleep(between).await;
            }
            let chunk = json!({
                "id": "chatcmpl-bench", "object": "chat.completion.chunk", "model": "bench",
                "choices": [{"index": 0, "delta": {"content": format!("token{i} ")}, "finish_reason": null}]
            });
            if tx.send(Ok(sse(&chunk.to_string()))).await.is_err() {
                return;
            }
        }
        let end = json!({
            "id": "chatcmpl-bench", "object": "chat.completion.chunk", "model": "bench",
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]
        });
        let usage = json!({
            "id": "chatcmpl-bench", "object": "chat.completion.chunk", "model": "bench", "choices": [],
            "usage": {"prompt_tokens": 10, "completion_tokens": CHUNKS, "total_tokens": 10 + CHUNKS}
        });
        for data in [end.to_string(), usage.to_string(), "[DONE]".to_owned()] {
            if tx.send(Ok(sse(&data))).await.is_err() {
                return;
            }
        }
    });
    let body = axum::body::Body::from_stream(tokio_stream(rx));
    axum::response::Response::builder()
        .header(CONTENT_TYPE, "text/event-stream")
        .body(body)
        .expect("a valid response")
}

fn sse(data: &str) -> Bytes {
    Bytes::from(format!("data: {data}\n\n"))
}

/// A receiver as a `Stream`, without pulling in tokio-stream.
fn tokio_stream(
    mut rx: tokio::sync::mpsc::Receiver<Result<Bytes, std::io::Error>>,
) -> impl futures_core::Stream<Item = Result<Bytes, std::io::Error>> {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

/// Where a stream goes: through spool, or straight to the upstream.
#[derive(Clone)]
pub enum Target {
    Spool {
        addr: SocketAddr,
        key: String,
        threads: Arc<Vec<String>>,
        model: &'static str,
    },
    Direct {
        addr: SocketAddr,
        model: &'static str,
    },
}

impl Target {
    fn addr(&self) -> SocketAddr {
        match self {
            Target::Spool { addr, .. } | Target::Direct { addr, .. } => *addr,
        }
    }

    fn request(&self, worker: usize) -> Request<Full<Bytes>> {
        let (path, body, key) = match self {
            Target::Spool {
                key,
                threads,
                model,
                ..
            } => (
                format!("/api/v1/threads/{}/run", threads[worker % threads.len()]),
                json!({"stream": true, "model": model, "content": "Hello there, what can you do?"}),
                Some(key.as_str()),
            ),
            Target::Direct { model, .. } => (
                "/v1/chat/completions".to_owned(),
                json!({"model": model, "stream": true,
                       "messages": [{"role": "user", "content": "Hello there, what can you do?"}]}),
                None,
            ),
        };
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(HOST, self.addr().to_string())
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "text/event-stream");
        if let Some(key) = key {
            request = request.header(AUTHORIZATION, format!("Bearer {key}"));
        }
        request
            .body(Full::new(Bytes::from(body.to_string())))
            .expect("a valid request")
    }

    /// What marks the first token in this target's stream.
    fn first_marker(&self) -> &'static [u8] {
        match self {
            Target::Spool { .. } => b"message.delta",
            Target::Direct { .. } => b"\"content\":\"",
        }
    }

    /// What a stream that ended well contains.
    fn success_marker(&self) -> &'static [u8] {
        match self {
            Target::Spool { .. } => b"run.completed",
            Target::Direct { .. } => b"[DONE]",
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// One stream's timings, from sending the request.
pub struct Timing {
    pub first: Duration,
    pub last: Duration,
}

async fn connect(addr: SocketAddr) -> anyhow::Result<SendRequest<Full<Bytes>>> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

/// Sends one streamed request and reads it to the end. `opened` is called
/// once the first token has arrived.
async fn stream_once(
    sender: &mut SendRequest<Full<Bytes>>,
    target: &Target,
    worker: usize,
    opened: impl FnOnce(),
) -> Result<Timing, String> {
    sender.ready().await.map_err(|e| e.to_string())?;
    let began = Instant::now();
    let response = sender
        .send_request(target.request(worker))
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let mut body = response.into_body();
    let mut seen: Vec<u8> = Vec::new();
    let mut first = None;
    let mut opened = Some(opened);
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| e.to_string())?;
        if let Ok(data) = frame.into_data() {
            seen.extend_from_slice(&data);
            if first.is_none() && find(&seen, target.first_marker()) {
                first = Some(began.elapsed());
                if let Some(opened) = opened.take() {
                    opened();
                }
            }
        }
    }
    let last = began.elapsed();
    if !status.is_success() {
        return Err(format!("{status}: {}", String::from_utf8_lossy(&seen)));
    }
    if !find(&seen, target.success_marker()) {
        let tail = String::from_utf8_lossy(&seen[seen.len().saturating_sub(300)..]).into_owned();
        return Err(format!("the stream did not end well: …{tail}"));
    }
    let first = first.ok_or_else(|| "no token arrived".to_owned())?;
    Ok(Timing { first, last })
}

/// The outcome of S7 at one concurrency against one target.
pub struct StreamOutcome {
    pub first: Histogram<u64>,
    pub last: Histogram<u64>,
    pub errors: u64,
    pub first_error: Option<String>,
    pub window: Duration,
}

impl StreamOutcome {
    /// A percentile in milliseconds; `NaN` when no stream completed.
    pub fn ms(histogram: &Histogram<u64>, q: f64) -> f64 {
        if histogram.is_empty() {
            f64::NAN
        } else {
            histogram.value_at_quantile(q) as f64 / 1000.0
        }
    }

    pub fn runs_per_second(&self) -> f64 {
        self.first.len() as f64 / self.window.as_secs_f64()
    }
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 120_000_000, 3).expect("valid histogram bounds")
}

/// S7: `concurrency` workers, each streaming one run after another on its
/// own connection (and, through spool, its own thread) for the window.
pub async fn closed_loop(
    target: Target,
    concurrency: usize,
    warmup: Duration,
    duration: Duration,
) -> StreamOutcome {
    let start = Instant::now();
    let (measure_from, end) = (start + warmup, start + warmup + duration);
    let workers: Vec<_> = (0..concurrency)
        .map(|worker| {
            let target = target.clone();
            tokio::spawn(async move {
                let (mut first, mut last) = (histogram(), histogram());
                let (mut errors, mut first_error) = (0u64, None);
                let mut sender = None;
                while Instant::now() < end {
                    let mut conn = match sender.take() {
                        Some(conn) => conn,
                        None => match connect(target.addr()).await {
                            Ok(conn) => conn,
                            Err(err) => {
                                errors += 1;
                                first_error.get_or_insert(format!("connect: {err}"));
                                tokio::time::sleep(Duration::from_millis(10)).await;
                                continue;
                            }
                        },
                    };
                    let began = Instant::now();
                    let result = stream_once(&mut conn, &target, worker, || {}).await;
                    sender = Some(conn);
                    let done = Instant::now();
                    if began < measure_from || done > end {
                        continue;
                    }
                    match result {
                        Ok(t) => {
                            let _ = first.record((t.first.as_micros() as u64).max(1));
                            let _ = last.record((t.last.as_micros() as u64).max(1));
                        }
                        Err(err) => {
                            errors += 1;
                            first_error.get_or_insert(err);
                        }
                    }
                }
                (first, last, errors, first_error)
            })
        })
        .collect();
    let mut outcome = StreamOutcome {
        first: histogram(),
        last: histogram(),
        errors: 0,
        first_error: None,
        window: duration,
    };
    for worker in workers {
        match worker.await {
            Ok((first, last, errors, first_error)) => {
                let _ = outcome.first.add(&first);
                let _ = outcome.last.add(&last);
                outcome.errors += errors;
                if outcome.first_error.is_none() {
                    outcome.first_error = first_error;
                }
            }
            Err(err) => {
                outcome.errors += 1;
                outcome.first_error.get_or_insert(err.to_string());
            }
        }
    }
    outcome
}

/// What S8 saw.
pub struct OpenStreams {
    pub streams: usize,
    /// How many had their first token at the moment of `rss_all_open`.
    pub open_at_sample: usize,
    pub rss_before: u64,
    /// spool's RSS when every stream had its first token.
    pub rss_all_open: u64,
    /// The highest RSS seen from the first request to the last stream's end.
    pub rss_peak: u64,
    pub time_to_all_open: Duration,
    pub errors: u64,
    pub first_error: Option<String>,
}

/// S8: opens `n` streamed runs at once (each its own connection and thread)
/// and samples spool's memory while they are open.
pub async fn hold_open(target: Target, n: usize, spool_pid: u32) -> OpenStreams {
    let opened = Arc::new(tokio::sync::Semaphore::new(0));
    let rss_before = crate::process::rss_of(spool_pid).unwrap_or(0);
    let sampler = crate::process::RssSampler::start(spool_pid);
    let began = Instant::now();
    let tasks: Vec<_> = (0..n)
        .map(|worker| {
            let (target, opened) = (target.clone(), opened.clone());
            tokio::spawn(async move {
                let mut conn = connect(target.addr())
                    .await
                    .map_err(|e| format!("connect: {e}"))?;
                stream_once(&mut conn, &target, worker, || opened.add_permits(1)).await
            })
        })
        .collect();
    // Every stream has its first token, or 30 s have passed.
    let all = tokio::time::timeout(
        Duration::from_secs(30),
        opened.acquire_many(u32::try_from(n).unwrap_or(u32::MAX)),
    )
    .await;
    let time_to_all_open = began.elapsed();
    let open_at_sample = match &all {
        Ok(Ok(_)) => n,
        _ => opened.available_permits(),
    };
    let rss_all_open = crate::process::rss_of(spool_pid).unwrap_or(0);
    let (mut errors, mut first_error) = (0, None);
    for task in tasks {
        let result = task.await.unwrap_or_else(|e| Err(e.to_string()));
        if let Err(err) = result {
            errors += 1;
            first_error.get_or_insert(err);
        }
    }
    OpenStreams {
        streams: n,
        open_at_sample,
        rss_before,
        rss_all_open,
        rss_peak: sampler.finish().await,
        time_to_all_open,
        errors,
        first_error,
    }
}
