//! The accept loop, by hand rather than `axum::serve`, for what that lacks:
//! a deadline on request heads and one on idle keep-alive connections (see
//! [`activity`]), and a cap on connections at once (beyond it, [`refuse`]).
//! Shutdown is as with `axum::serve`: stop accepting, close idle
//! connections, let in-flight requests finish.

mod activity;
mod refuse;

use activity::{Activity, Tracked, Watched};
use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tower::ServiceExt;

/// After an accept error that is not one client's (EMFILE, most likely),
/// wait this long for descriptors to be freed, as hyper and axum do.
const ACCEPT_BACKOFF: Duration = Duration::from_secs(1);

#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub header_read: Duration,
    pub idle: Duration,
    /// At most `u32::MAX`: shutdown waits for all slots at once.
    pub max_connections: u32,
}

/// Serves `app` on `listener` until `shutdown` resolves, then until every
/// connection has closed.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections as usize));
    let mut refusals = refuse::Refusals::new(limits.max_connections.into());
    let (stop, stopping) = watch::channel(false);
    let mut http = http1::Builder::new();
    // Replaced by `activity`'s deadlines (see there for why).
    http.header_read_timeout(None);
    let mut shutdown = pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(err) if is_one_clients(&err) => continue,
            Err(err) => {
                tracing::error!(error = %err, "cannot accept a connection; retrying in a second");
                tokio::select! {
                    () = tokio::time::sleep(ACCEPT_BACKOFF) => continue,
                    () = &mut shutdown => break,
                }
            }
        };
        match slots.clone().try_acquire_owned() {
            Ok(slot) => {
                let connection = Connection {
                    app: app.clone(),
                    http: http.clone(),
                    limits,
                    slot,
                    stopping: stopping.clone(),
                };
                tokio::spawn(connection.serve(stream, peer));
            }
            Err(_) => refusals.refuse(stream, peer),
        }
    }
    drop(listener);
    stop.send_replace(true);
    // Each connection holds a slot until it is closed.
    let _all = slots.acquire_many(limits.max_connections).await;
}

fn is_one_clients(err: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    matches!(
        err.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    )
}

struct Connection {
    app: Router,
    http: http1::Builder,
    limits: Limits,
    slot: OwnedSemaphorePermit,
    stopping: watch::Receiver<bool>,
}

impl Connection {
    async fn serve(mut self, stream: TcpStream, peer: SocketAddr) {
        let activity = Activity::new();
        let io = TokioIo::new(Watched {
            slot: Some(self.slot),
            io: stream,
            activity: activity.clone(),
        });
        let app = self.app;
        let requests = activity.clone();
        let service = service_fn(move |mut request: hyper::Request<Incoming>| {
            // The peer's address, for limits kept per client (sign-in).
            request.extensions_mut().insert(ConnectInfo(peer));
            let busy = requests.request_started();
            let app = app.clone();
            async move {
                let response = app.oneshot(request).await.unwrap_or_else(|e| match e {});
                Ok::<_, Infallible>(response.map(|body| Tracked { body, _busy: busy }))
            }
        });
        let mut connection = pin!(self.http.serve_connection(io, service));
        let mut expired = pin!(activity.expired(self.limits.header_read, self.limits.idle));
        let mut draining = false;
        loop {
            tokio::select! {
                served = connection.as_mut() => {
                    if let Err(err) = served {
                        tracing::debug!(%peer, error = %err, "connection ended with an error");
                    }
                    break;
                }
                why = &mut expired => {
                    tracing::debug!(%peer, "closing a connection: {why}");
                    break;
                }
                _ = self.stopping.wait_for(|stop| *stop), if !draining => {
                    draining = true;
                    connection.as_mut().graceful_shutdown();
                }
            }
        }
    }
}
