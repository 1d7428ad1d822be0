//! Connections beyond `max_connections` are accepted and answered
//! `503 Service Unavailable` with `Retry-After` and `Connection: close`,
//! without reading the request: a client (or a load balancer) learns why and
//! when to come back, rather than seeing a bare reset. Each answer is its
//! own short task, so the accept loop never waits on a client; when too
//! many answers are already under way, a connection is closed at once.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio::time::Instant;

/// Answers being written at once, beyond the connection limit.
const ANSWERING_AT_ONCE: usize = 64;
/// How long a refused client has to read the answer and hang up.
const LINGER: Duration = Duration::from_secs(2);
const RETRY_AFTER_SECONDS: u64 = 1;
/// Refusals are logged at most this often.
const WARN_EVERY: Duration = Duration::from_secs(10);
const BODY: &str = "spool is serving as many connections as it may (max_connections); \
                    retry shortly.\n";

pub struct Refusals {
    answering: Arc<Semaphore>,
    max_connections: u64,
    unlogged: u64,
    logged_at: Option<Instant>,
}

impl Refusals {
    pub fn new(max_connections: u64) -> Self {
        Self {
            answering: Arc::new(Semaphore::new(ANSWERING_AT_ONCE)),
            max_connections,
            unlogged: 0,
            logged_at: None,
        }
    }

    pub fn refuse(&mut self, stream: TcpStream, peer: SocketAddr) {
        self.unlogged += 1;
        if self.logged_at.is_none_or(|at| at.elapsed() >= WARN_EVERY) {
            tracing::warn!(
                refused = self.unlogged,
                max_connections = self.max_connections,
                %peer,
                "at the connection limit: answering new connections 503"
            );
            self.unlogged = 0;
            self.logged_at = Some(Instant::now());
        }
        let Ok(answering) = self.answering.clone().try_acquire_owned() else {
            return;
        };
        tokio::spawn(async move {
            let _answering = answering;
            let _ = tokio::time::timeout(LINGER, answer(stream)).await;
        });
    }
}

pub fn response() -> String {
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\n\
         retry-after: {RETRY_AFTER_SECONDS}\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{BODY}",
        BODY.len()
    )
}

async fn answer(mut stream: TcpStream) -> std::io::Result<()> {
    stream.write_all(response().as_bytes()).await?;
    stream.shutdown().await?;
    // Closing with the request unread would reset the connection, and a
    // reset can destroy the answer before the client reads it: read until
    // the client hangs up (or LINGER ends).
    let mut sink = [0u8; 1024];
    while stream.read(&mut sink).await? > 0 {}
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_is_a_complete_http_response() {
        let text = response();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 503 "));
        assert!(head.contains("\r\nretry-after: 1\r\n"));
        assert!(head.contains("\r\nconnection: close\r\n"));
        assert!(head.ends_with(&format!("content-length: {}", body.len())));
    }
}
