//! Server-Sent Events for runs, the same transport in every dialect: each
//! event with its `id:` and `event:` name, `data:` in the dialect's shape,
//! and a heartbeat comment on idle connections.

use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use spool_core::runs::{RunEventKind, Subscription};
use std::convert::Infallible;
use std::time::Duration;

/// Idle SSE connections get a comment line this often.
pub const HEARTBEAT: Duration = Duration::from_secs(15);

/// Streams `events`, with `data` rendered by the dialect. Rendering must
/// depend on the event alone, so that a resumed stream repeats the original
/// byte for byte.
pub fn stream(events: Subscription, data: fn(&RunEventKind) -> String) -> Response {
    let stream = futures_util::stream::unfold(events, move |mut events| async move {
        let event = events.next().await?;
        let rendered = Event::default()
            .id(event.id.to_string())
            .event(event.kind.name())
            .data(data(&event.kind));
        Some((Ok::<_, Infallible>(rendered), events))
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(HEARTBEAT).text("heartbeat"))
        .into_response()
}

/// Whether the client asked for a stream: `stream` in the body when given,
/// else `Accept: text/event-stream`.
pub fn wanted(headers: &axum::http::HeaderMap, stream: Option<bool>) -> bool {
    stream.unwrap_or_else(|| {
        headers
            .get(axum::http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("text/event-stream"))
    })
}
