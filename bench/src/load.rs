//! The load generator: N connections, each its own HTTP/1.1 keep-alive
//! connection sending one request at a time (closed loop, like wrk), for a
//! fixed duration after a warm-up that is not recorded.

use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST, HeaderValue};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

/// One request of a scenario, ready to send many times.
#[derive(Clone, Debug)]
pub struct Template {
    pub method: Method,
    /// Path and query, e.g. `/api/v1/threads?per_page=20`.
    pub path: String,
    /// A JSON body for writes.
    pub body: Option<Bytes>,
}

impl Template {
    pub fn get(path: impl Into<String>) -> Self {
        Self {
            method: Method::GET,
            path: path.into(),
            body: None,
        }
    }

    pub fn post(path: impl Into<String>, body: &serde_json::Value) -> Self {
        Self {
            method: Method::POST,
            path: path.into(),
            body: Some(Bytes::from(body.to_string())),
        }
    }
}

/// What one load run sends: templates taken round-robin across all
/// connections, with one credential.
pub struct Plan {
    pub templates: Vec<Template>,
    pub api_key: String,
}

#[derive(Clone, Copy, Debug)]
pub struct Shape {
    pub connections: usize,
    pub warmup: Duration,
    pub duration: Duration,
}

/// The outcome of one run.
pub struct Outcome {
    /// Latency of every 2xx answer completed inside the measured window, µs.
    pub latency: Histogram<u64>,
    pub ok: u64,
    /// Non-2xx answers by status, inside the window.
    pub statuses: BTreeMap<u16, u64>,
    /// Connection or protocol failures (any time).
    pub transport_errors: u64,
    /// One failing answer or error, for the report.
    pub first_error: Option<String>,
    pub window: Duration,
}

impl Outcome {
    pub fn errors(&self) -> u64 {
        self.statuses.values().sum::<u64>() + self.transport_errors
    }

    pub fn per_second(&self) -> f64 {
        self.ok as f64 / self.window.as_secs_f64()
    }

    /// A percentile of the 2xx latency, in milliseconds.
    /// `NaN` when no request completed inside the window.
    pub fn percentile_ms(&self, q: f64) -> f64 {
        if self.latency.is_empty() {
            return f64::NAN;
        }
        self.latency.value_at_quantile(q) as f64 / 1000.0
    }
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 120_000_000, 3).expect("valid histogram bounds")
}

struct Shared {
    addr: SocketAddr,
    host: HeaderValue,
    auth: HeaderValue,
    plan: Plan,
    next: AtomicUsize,
    measure_from: Instant,
    end: Instant,
}

struct Tally {
    latency: Histogram<u64>,
    ok: u64,
    statuses: BTreeMap<u16, u64>,
    transport_errors: u64,
    first_error: Option<String>,
}

/// Runs `plan` against `addr` with `shape.connections` connections.
pub async fn run(addr: SocketAddr, plan: Plan, shape: Shape) -> anyhow::Result<Outcome> {
    anyhow::ensure!(!plan.templates.is_empty(), "a plan needs a request");
    let start = Instant::now();
    let shared = Arc::new(Shared {
        addr,
        host: HeaderValue::from_str(&addr.to_string())?,
        auth: HeaderValue::from_str(&format!("Bearer {}", plan.api_key))?,
        plan,
        next: AtomicUsize::new(0),
        measure_from: start + shape.warmup,
        end: start + shape.warmup + shape.duration,
    });
    let workers: Vec<_> = (0..shape.connections)
        .map(|_| tokio::spawn(connection(shared.clone())))
        .collect();
    let mut total = Tally {
        latency: histogram(),
        ok: 0,
        statuses: BTreeMap::new(),
        transport_errors: 0,
        first_error: None,
    };
    for worker in workers {
        let tally = worker.await?;
        total.latency.add(&tally.latency)?;
        total.ok += tally.ok;
        for (status, n) in tally.statuses {
            *total.statuses.entry(status).or_default() += n;
        }
        total.transport_errors += tally.transport_errors;
        if total.first_error.is_none() {
            total.first_error = tally.first_error;
        }
    }
    Ok(Outcome {
        latency: total.latency,
        ok: total.ok,
        statuses: total.statuses,
        transport_errors: total.transport_errors,
        first_error: total.first_error,
        window: shape.duration,
    })
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

async fn connection(shared: Arc<Shared>) -> Tally {
    let mut tally = Tally {
        latency: histogram(),
        ok: 0,
        statuses: BTreeMap::new(),
        transport_errors: 0,
        first_error: None,
    };
    let mut sender: Option<SendRequest<Full<Bytes>>> = None;
    let templates = &shared.plan.templates;
    while Instant::now() < shared.end {
        let mut conn = match sender.take() {
            Some(conn) => conn,
            None => match connect(shared.addr).await {
                Ok(conn) => conn,
                Err(err) => {
                    tally.fail(format!("connect: {err}"));
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        if conn.ready().await.is_err() {
            continue;
        }
        let template = &templates[shared.next.fetch_add(1, Ordering::Relaxed) % templates.len()];
        let request = build(&shared, template);
        let began = Instant::now();
        let answer = match conn.send_request(request).await {
            Ok(response) => {
                let status = response.status();
                match response.into_body().collect().await {
                    Ok(body) => Ok((status, body.to_bytes())),
                    Err(err) => Err(format!("reading the body: {err}")),
                }
            }
            Err(err) => Err(format!("request: {err}")),
        };
        let done = Instant::now();
        match answer {
            Ok((status, body)) => {
                sender = Some(conn);
                if began < shared.measure_from || done > shared.end {
                    continue;
                }
                if status.is_success() {
                    tally.ok += 1;
                    let micros = done.duration_since(began).as_micros() as u64;
                    let _ = tally.latency.record(micros.max(1));
                } else {
                    *tally.statuses.entry(status.as_u16()).or_default() += 1;
                    if tally.first_error.is_none() {
                        let text = String::from_utf8_lossy(&body);
                        tally.first_error = Some(format!(
                            "{} {} -> {status}: {}",
                            template.method,
                            template.path,
                            text.chars().take(300).collect::<String>()
                        ));
                    }
                }
            }
            Err(message) => tally.fail(message),
        }
    }
    tally
}

impl Tally {
    fn fail(&mut self, message: String) {
        self.transport_errors += 1;
        if self.first_error.is_none() {
            self.first_error = Some(message);
        }
    }
}

fn build(shared: &Shared, template: &Template) -> Request<Full<Bytes>> {
    let mut request = Request::new(Full::new(template.body.clone().unwrap_or_default()));
    *request.method_mut() = template.method.clone();
    *request.uri_mut() = template.path.parse().expect("a valid request path");
    let headers = request.headers_mut();
    headers.insert(HOST, shared.host.clone());
    headers.insert(AUTHORIZATION, shared.auth.clone());
    if template.body.is_some() {
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    request
}
