//! Reading a Server-Sent Events response into `ChatEvent`s. Each protocol
//! supplies a `Decode`; this file does the buffering and the error mapping.

use crate::http::describe;
use eventsource_stream::{Event, EventStreamError, Eventsource};
use futures_core::Stream;
use futures_util::StreamExt;
use spool_core::provider::{ChatEvent, ChatStream, ProviderError};
use std::collections::VecDeque;
use std::pin::Pin;

/// Whether a protocol's stream has said all it will say.
pub(crate) enum Step {
    More,
    Done,
}

pub(crate) trait Decode: Send + 'static {
    /// Decodes one event, pushing what it means for the caller onto `out`.
    fn event(
        &mut self,
        event: &Event,
        out: &mut VecDeque<ChatEvent>,
    ) -> Result<Step, ProviderError>;

    /// The response body ended without `Step::Done`: either finish the reply
    /// (pushing onto `out`) or say why it is incomplete.
    fn end(&mut self, out: &mut VecDeque<ChatEvent>) -> Result<(), ProviderError>;
}

type Events = Pin<Box<dyn Stream<Item = Result<Event, EventStreamError<reqwest::Error>>> + Send>>;

struct State<D> {
    events: Events,
    decoder: D,
    pending: VecDeque<ChatEvent>,
    /// No more reading: the protocol said it was done, or something failed.
    ended: bool,
}

/// The chat events in `response`'s body, as `decoder` reads them. The stream
/// ends after the first error.
pub(crate) fn decode<D: Decode>(response: reqwest::Response, decoder: D) -> ChatStream {
    let state = State {
        events: Box::pin(response.bytes_stream().eventsource()),
        decoder,
        pending: VecDeque::new(),
        ended: false,
    };
    Box::pin(futures_util::stream::unfold(
        state,
        |mut state| async move {
            loop {
                if let Some(event) = state.pending.pop_front() {
                    return Some((Ok(event), state));
                }
                if state.ended {
                    return None;
                }
                let outcome = match state.events.next().await {
                    Some(Ok(event)) => state.decoder.event(&event, &mut state.pending),
                    Some(Err(err)) => Err(stream_error(err)),
                    None => state.decoder.end(&mut state.pending).map(|()| Step::Done),
                };
                match outcome {
                    Ok(Step::More) => {}
                    Ok(Step::Done) => state.ended = true,
                    Err(err) => {
                        state.ended = true;
                        state.pending.clear();
                        return Some((Err(err), state));
                    }
                }
            }
        },
    ))
}

fn stream_error(err: EventStreamError<reqwest::Error>) -> ProviderError {
    match err {
        EventStreamError::Transport(err) => {
            ProviderError::Disconnected(describe(&err.without_url()))
        }
        EventStreamError::Utf8(err) => {
            ProviderError::Protocol(format!("the stream is not UTF-8: {err}"))
        }
        EventStreamError::Parser(err) => {
            ProviderError::Protocol(format!("not an event stream: {err}"))
        }
    }
}

/// Parses an event's JSON data, or says what was wrong with it.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(data: &str) -> Result<T, ProviderError> {
    serde_json::from_str(data).map_err(|err| {
        ProviderError::Protocol(format!(
            "malformed event ({err}): {}",
            crate::http::truncate(data, 200)
        ))
    })
}
