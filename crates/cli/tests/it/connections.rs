//! Slow and surplus clients: a request head that never completes is closed
//! after the header-read timeout, an idle keep-alive connection after the
//! idle timeout, connections beyond `max_connections` are answered 503 —
//! and meanwhile other clients are served and a streamed run is not cut.
//! Every wait is on an event (a read that ends when the server closes); the
//! read timeout is only a safety net against a hung test.

use crate::support::{
    ADMIN_EMAIL, ADMIN_PASSWORD, Server, Site, client, fails, ok, sign_in, spool,
};
use serde_json::{Value, json};
use spool_providers::testing::{Script, ScriptedUpstream};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

const SAFETY_NET: Duration = Duration::from_secs(60);
const HALF_A_HEAD: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: spool\r\nAccept: */";

fn serve(site: &Site, settings: &[(&str, &str)]) -> Server {
    let mut command = site.spool();
    command
        .env("SPOOL_ADMIN_EMAIL", ADMIN_EMAIL)
        .env("SPOOL_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .envs(settings.iter().copied());
    Server::start(command)
}

fn address(server: &Server) -> SocketAddr {
    server
        .base
        .trim_start_matches("http://")
        .parse()
        .expect("server address")
}

fn connect(server: &Server) -> TcpStream {
    let stream = TcpStream::connect(address(server)).expect("connect");
    stream.set_read_timeout(Some(SAFETY_NET)).unwrap();
    stream
}

/// A client that sends part of a request head and then nothing.
fn stalled(server: &Server) -> TcpStream {
    let mut stream = connect(server);
    stream.write_all(HALF_A_HEAD).expect("send half a head");
    stream
}

/// `GET /healthz` on a kept-alive connection; the status line.
fn healthz(stream: &mut TcpStream, close: bool) -> String {
    let connection = if close { "close" } else { "keep-alive" };
    write!(
        stream,
        "GET /healthz HTTP/1.1\r\nHost: spool\r\nConnection: {connection}\r\n\r\n"
    )
    .expect("send a request");
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            other => panic!(
                "the response head ended early ({other:?}): {}",
                String::from_utf8_lossy(&head)
            ),
        }
    }
    let head = String::from_utf8(head).expect("an ASCII head");
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|n| n.trim().parse().unwrap())
        })
        .unwrap_or_else(|| panic!("no content-length: {head}"));
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).expect("the response body");
    head.lines().next().unwrap().to_owned()
}

/// Blocks until the server closes the connection; what it sent before.
fn closed_by_server(mut stream: TcpStream) -> String {
    let mut received = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => received.extend_from_slice(&chunk[..n]),
            Err(err) if err.kind() == ErrorKind::ConnectionReset => break,
            Err(err) => panic!("the server did not close the connection: {err}"),
        }
    }
    String::from_utf8_lossy(&received).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn stalled_request_heads_are_closed_while_others_are_served() {
    let site = Site::new().await;
    let server = serve(
        &site,
        &[
            ("SPOOL_HEADER_READ_TIMEOUT_SECONDS", "1"),
            ("SPOOL_MAX_CONNECTIONS", "4"),
        ],
    );
    let slow: Vec<TcpStream> = (0..3).map(|_| stalled(&server)).collect();

    let mut served = connect(&server);
    assert_eq!(healthz(&mut served, false), "HTTP/1.1 200 OK");

    for stream in slow {
        assert_eq!(
            closed_by_server(stream),
            "",
            "a stalled head is closed without an answer"
        );
    }
    // Their slots are free again: three more clients at once, with the
    // first still open.
    let mut more: Vec<TcpStream> = (0..3).map(|_| connect(&server)).collect();
    for stream in &mut more {
        assert_eq!(healthz(stream, false), "HTTP/1.1 200 OK");
    }
    assert_eq!(healthz(&mut served, false), "HTTP/1.1 200 OK");
}

#[tokio::test(flavor = "multi_thread")]
async fn connections_beyond_the_limit_are_answered_503() {
    let site = Site::new().await;
    let server = serve(
        &site,
        &[
            ("SPOOL_MAX_CONNECTIONS", "2"),
            ("SPOOL_IDLE_TIMEOUT_SECONDS", "3600"),
        ],
    );
    let mut first = connect(&server);
    let mut second = connect(&server);
    assert_eq!(healthz(&mut first, false), "HTTP/1.1 200 OK");
    assert_eq!(healthz(&mut second, false), "HTTP/1.1 200 OK");

    for _ in 0..3 {
        let mut surplus = connect(&server);
        surplus
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: spool\r\n\r\n")
            .unwrap();
        let answer = closed_by_server(surplus);
        assert!(
            answer.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
            "{answer}"
        );
        let head = answer.to_ascii_lowercase();
        assert!(head.contains("\r\nretry-after: 1\r\n"), "{answer}");
        assert!(head.contains("\r\nconnection: close\r\n"), "{answer}");
    }
    // The connections inside the limit go on being served; once one ends,
    // its slot takes a new client.
    assert_eq!(healthz(&mut second, false), "HTTP/1.1 200 OK");
    assert_eq!(healthz(&mut first, true), "HTTP/1.1 200 OK");
    assert_eq!(closed_by_server(first), "");
    let mut next = connect(&server);
    assert_eq!(healthz(&mut next, false), "HTTP/1.1 200 OK");

    // Kept-alive idle connections do not hold up a shutdown.
    let (status, _, stderr) = server.terminate();
    assert!(status.success(), "{stderr}");
    assert!(stderr.contains("at the connection limit"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn idle_keep_alive_connections_are_closed() {
    let site = Site::new().await;
    let server = serve(&site, &[("SPOOL_IDLE_TIMEOUT_SECONDS", "1")]);
    let mut stream = connect(&server);
    assert_eq!(healthz(&mut stream, false), "HTTP/1.1 200 OK");
    assert_eq!(healthz(&mut stream, false), "HTTP/1.1 200 OK");
    assert_eq!(closed_by_server(stream), "");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_streamed_run_outlasts_both_timeouts() {
    // The model goes quiet for longer than either timeout mid-stream.
    let upstream = ScriptedUpstream::start([Script::stall_mid_stream(
        ["thinking "],
        Duration::from_secs(3),
    )])
    .await;
    let site = Site::new().await;
    let config = site.dir.path().join("spool.toml");
    std::fs::write(
        &config,
        format!(
            "default_model = \"slow\"\nheader_read_timeout_seconds = 1\nidle_timeout_seconds = 1\n\n\
             [[providers]]\nkind = \"openai\"\nname = \"scripted\"\nbase_url = \"{}\"\nmax_retries = 0\n\n\
             [[models]]\nname = \"slow\"\nprovider = \"scripted\"\ncontext_window = 8000\n",
            upstream.openai_base_url()
        ),
    )
    .unwrap();
    let server = serve(&site, &[("SPOOL_CONFIG", config.to_str().unwrap())]);
    let token = sign_in(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let http = client();
    let thread: Value = http
        .post(server.url("/api/v1/threads"))
        .bearer_auth(&token)
        .json(&json!({ "name": "slow" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let thread = thread["data"]["uuid"].as_str().unwrap().to_owned();
    let mut stream = http
        .post(server.url(&format!("/api/v1/threads/{thread}/run")))
        .bearer_auth(&token)
        .json(&json!({ "content": "take your time", "stream": true }))
        .send()
        .await
        .unwrap();
    let mut seen = String::new();
    while !seen.contains("message.delta") {
        let chunk = stream.chunk().await.unwrap().expect("a delta first");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    // The timeouts are in force on this server meanwhile.
    let slow = stalled(&server);
    assert_eq!(
        tokio::task::spawn_blocking(move || closed_by_server(slow))
            .await
            .unwrap(),
        ""
    );
    while let Some(chunk) = stream.chunk().await.expect("the stream is not cut") {
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(seen.contains("event: run.completed"), "{seen}");
}

#[test]
fn the_connection_settings_are_layered_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let text = ok(spool(dir.path()).arg("config"));
    let config: toml::Table = text.parse().unwrap();
    assert_eq!(config["header_read_timeout_seconds"].as_integer(), Some(10));
    assert_eq!(config["idle_timeout_seconds"].as_integer(), Some(60));
    assert!(!config.contains_key("max_connections"), "{text}");
    assert!(text.contains("# max_connections: unset"), "{text}");

    std::fs::write(
        dir.path().join("spool.toml"),
        "idle_timeout_seconds = 5\nmax_connections = 7\n",
    )
    .unwrap();
    let text = ok(spool(dir.path())
        .env("SPOOL_IDLE_TIMEOUT_SECONDS", "6")
        .args(["--header-read-timeout-seconds", "2", "config"]));
    let config: toml::Table = text.parse().unwrap();
    assert_eq!(config["header_read_timeout_seconds"].as_integer(), Some(2));
    assert_eq!(config["idle_timeout_seconds"].as_integer(), Some(6));
    assert_eq!(config["max_connections"].as_integer(), Some(7));

    for (name, value, expected) in [
        (
            "SPOOL_HEADER_READ_TIMEOUT_SECONDS",
            "0",
            "header_read_timeout_seconds: must be greater than 0 (from SPOOL_HEADER_READ_TIMEOUT_SECONDS)",
        ),
        (
            "SPOOL_IDLE_TIMEOUT_SECONDS",
            "soon",
            "idle_timeout_seconds: must be a whole number, not 'soon'",
        ),
        (
            "SPOOL_MAX_CONNECTIONS",
            "0",
            "max_connections: must be greater than 0",
        ),
    ] {
        let error = fails(spool(dir.path()).env(name, value).arg("serve"));
        assert!(error.contains(expected), "{name}={value}: {error}");
    }
}
