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
/// depend on the event alone: the events come from the run's stored log,
/// so a resumed stream — after a restart, from another node — repeats the
/// original byte for byte.
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

/// The event a client re-attaching saw last: `Last-Event-ID` (the header an
/// `EventSource` sends), else the `last_event_id` query parameter; 0 when
/// neither is given.
pub fn last_event_id(
    headers: &axum::http::HeaderMap,
    query: Option<&str>,
) -> Result<u64, crate::error::ApiError> {
    let last = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .or(query);
    match last {
        None => Ok(0),
        Some(text) => text.trim().parse().map_err(|_| {
            crate::error::ApiError::invalid(
                "Last-Event-ID",
                "The Last-Event-ID must be an event id.",
            )
        }),
    }
}
