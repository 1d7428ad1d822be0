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
    // Counted open from here until the response body is dropped.
    let open = (events, spool_core::telemetry::OpenStream::start());
    let stream = futures_util::stream::unfold(open, move |(mut events, open)| async move {
        let event = events.next().await?;
        let rendered = Event::default()
            .id(event.id.to_string())
            .event(event.kind.name())
            .data(data(&event.kind));
        Some((Ok::<_, Infallible>(rendered), (events, open)))
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
/// neither is given. Each one given must be an event id, even the one that
/// does not count.
pub fn last_event_id(
    headers: &axum::http::HeaderMap,
    query: Option<&str>,
) -> Result<u64, crate::error::ApiError> {
    const HEADER: &str = "Last-Event-ID";
    let header = match headers.get(HEADER).map(|v| v.to_str()) {
        None => None,
        // An empty value says no event was seen, as if the header were absent.
        Some(Ok(text)) if text.trim().is_empty() => None,
        Some(Ok(text)) => Some(event_id(HEADER, text)?),
        Some(Err(_)) => return Err(not_an_event_id(HEADER)),
    };
    let query = query.map(|t| event_id("last_event_id", t)).transpose()?;
    Ok(header.or(query).unwrap_or(0))
}

/// An event id as a client sends it back: a number that fits the stored
/// 64-bit signed sequence.
fn event_id(field: &str, text: &str) -> Result<u64, crate::error::ApiError> {
    text.trim()
        .parse::<u64>()
        .ok()
        .filter(|n| i64::try_from(*n).is_ok())
        .ok_or_else(|| not_an_event_id(field))
}

fn not_an_event_id(field: &str) -> crate::error::ApiError {
    crate::error::ApiError::invalid(field, format!("The {field} must be an event id."))
}
