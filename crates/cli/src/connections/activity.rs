//! What one connection is doing, and so which deadline applies to it:
//!
//! - from accept, the first request head must arrive within the header-read
//!   timeout;
//! - from the end of a response, the connection may sit idle for the idle
//!   timeout; once the next head's first byte arrives, the rest of it must
//!   follow within the header-read timeout;
//! - from a parsed head to the end of its response body, nothing: a run's
//!   SSE stream may last as long as the run.
//!
//! hyper's own `header_read_timeout` is not used: its timer also runs while
//! a kept-alive connection waits for its next request, so the idle timeout
//! could never be longer than the header-read one.

use axum::body::{Body, Bytes};
use hyper::body::{Frame, SizeHint};
use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, ready};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{Notify, OwnedSemaphorePermit};
use tokio::time::Instant;

#[derive(Clone, Copy, Debug)]
enum Phase {
    /// Reading a request head whose first byte came (or, for the first
    /// request, whose connection was accepted) at this instant.
    Head(Instant),
    /// No request since this instant: the end of the last response, or the
    /// last byte of it written.
    Idle(Instant),
    /// This many requests have a parsed head and an unfinished response.
    Busy(usize),
}

/// Why a connection is closed.
#[derive(Clone, Copy, Debug)]
pub enum Expired {
    HeaderRead(Duration),
    Idle(Duration),
}

impl fmt::Display for Expired {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expired::HeaderRead(d) => write!(f, "no complete request head within {}s", d.as_secs()),
            Expired::Idle(d) => write!(f, "no new request within {}s", d.as_secs()),
        }
    }
}

pub struct Activity {
    phase: Mutex<Phase>,
    /// Woken when a deadline appears or moves earlier.
    changed: Notify,
}

impl Activity {
    /// A connection accepted now.
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            phase: Mutex::new(Phase::Head(Instant::now())),
            changed: Notify::new(),
        })
    }

    fn phase(&self) -> MutexGuard<'_, Phase> {
        self.phase.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn read(&self, bytes: usize) {
        let mut phase = self.phase();
        if bytes > 0 && matches!(*phase, Phase::Idle(_)) {
            *phase = Phase::Head(Instant::now());
            self.changed.notify_one();
        }
    }

    fn wrote(&self, bytes: usize) {
        let mut phase = self.phase();
        // A response still being flushed to a slow reader is not idleness.
        if bytes > 0 && matches!(*phase, Phase::Idle(_)) {
            *phase = Phase::Idle(Instant::now());
        }
    }

    /// A request head was parsed; the connection is busy until the returned
    /// guard (carried by the response body) is dropped.
    pub fn request_started(self: &Arc<Self>) -> Busy {
        let mut phase = self.phase();
        *phase = match *phase {
            Phase::Busy(requests) => Phase::Busy(requests + 1),
            Phase::Head(_) | Phase::Idle(_) => Phase::Busy(1),
        };
        Busy(self.clone())
    }

    fn request_ended(&self) {
        let mut phase = self.phase();
        *phase = match *phase {
            Phase::Busy(requests) if requests > 1 => Phase::Busy(requests - 1),
            _ => Phase::Idle(Instant::now()),
        };
        self.changed.notify_one();
    }

    /// Resolves when the connection has outstayed its current deadline.
    pub async fn expired(&self, header_read: Duration, idle: Duration) -> Expired {
        loop {
            let phase = *self.phase();
            let deadline = match phase {
                Phase::Head(since) => Some((since + header_read, Expired::HeaderRead(header_read))),
                Phase::Idle(since) => Some((since + idle, Expired::Idle(idle))),
                Phase::Busy(_) => None,
            };
            match deadline {
                Some((at, why)) if Instant::now() >= at => return why,
                // Woken early or late, the loop looks at the phase again.
                Some((at, _)) => tokio::select! {
                    () = tokio::time::sleep_until(at) => {},
                    () = self.changed.notified() => {},
                },
                None => self.changed.notified().await,
            }
        }
    }
}

/// A request in progress; dropping it ends the request.
pub struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.request_ended();
    }
}

/// A response body that keeps its connection busy until hyper is done with
/// it: sent to the end, or dropped because the client went away.
pub struct Tracked {
    pub body: Body,
    pub _busy: Busy,
}

impl hyper::body::Body for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// A connection's socket, telling its [`Activity`] when bytes move, and
/// holding its connection slot. The slot goes first — at shutdown, or
/// before the socket when dropped (fields drop in order) — so that a client
/// which sees its connection end may count on the slot being free.
pub struct Watched<S> {
    pub slot: Option<OwnedSemaphorePermit>,
    pub io: S,
    pub activity: Arc<Activity>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.io).poll_read(cx, buf))?;
        this.activity.read(buf.filled().len() - before);
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let written = ready!(Pin::new(&mut this.io).poll_write(cx, buf))?;
        this.activity.wrote(written);
        Poll::Ready(Ok(written))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let written = ready!(Pin::new(&mut this.io).poll_write_vectored(cx, bufs))?;
        this.activity.wrote(written);
        Poll::Ready(Ok(written))
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        this.slot = None;
        Pin::new(&mut this.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: Duration = Duration::from_secs(10);
    const IDLE: Duration = Duration::from_secs(60);

    async fn expires_after(activity: &Activity) -> (Expired, Duration) {
        let start = Instant::now();
        let why = activity.expired(HEAD, IDLE).await;
        (why, start.elapsed())
    }

    #[tokio::test(start_paused = true)]
    async fn the_first_head_has_the_header_read_timeout() {
        let activity = Activity::new();
        let (why, after) = expires_after(&activity).await;
        assert!(matches!(why, Expired::HeaderRead(_)));
        assert_eq!(after, HEAD);
    }

    #[tokio::test(start_paused = true)]
    async fn idle_waits_longer_until_a_byte_of_the_next_head_arrives() {
        let activity = Activity::new();
        drop(activity.request_started());
        let waiter = {
            let activity = activity.clone();
            tokio::spawn(async move { expires_after(&activity).await })
        };
        tokio::time::sleep(Duration::from_secs(30)).await;
        activity.read(1);
        let (why, after) = waiter.await.unwrap();
        assert!(matches!(why, Expired::HeaderRead(_)), "{why}");
        assert_eq!(after, Duration::from_secs(30) + HEAD);

        let idle = Activity::new();
        drop(idle.request_started());
        let (why, after) = expires_after(&idle).await;
        assert!(matches!(why, Expired::Idle(_)), "{why}");
        assert_eq!(after, IDLE);
    }

    #[tokio::test(start_paused = true)]
    async fn a_busy_connection_has_no_deadline_until_its_response_ends() {
        let activity = Activity::new();
        let busy = activity.request_started();
        let waiter = {
            let activity = activity.clone();
            tokio::spawn(async move { expires_after(&activity).await })
        };
        // Reads during a request (its body) do not start a head deadline.
        activity.read(100);
        tokio::time::sleep(IDLE * 10).await;
        assert!(!waiter.is_finished());
        drop(busy);
        let (why, after) = waiter.await.unwrap();
        assert!(matches!(why, Expired::Idle(_)), "{why}");
        assert_eq!(after, IDLE * 11);
    }
}
