//! `echo`: the offline development model. It answers "Echo: " and the last
//! user message, in pieces, with no network, so that the server can be tried
//! and tested without an upstream.

use spool_core::provider::{
    ChatEvent, ChatRequest, ChatRole, ChatStream, FinishReason, Provider, ProviderError, Tokenizer,
    Usage,
};
use std::sync::Arc;
use std::time::Duration;

/// How the echo model is shown wherever models are listed.
pub const ECHO_LABEL: &str = "echo (offline development model — replies by echoing the thread)";

/// The reply when the thread has no user message yet.
const NOTHING_TO_ECHO: &str = "Echo: there is no user message to echo yet.";

pub struct Echo {
    tokenizer: Arc<dyn Tokenizer>,
    piece_delay: Duration,
}

impl Echo {
    pub fn new(tokenizer: Arc<dyn Tokenizer>, piece_delay: Duration) -> Self {
        Echo {
            tokenizer,
            piece_delay,
        }
    }

    /// The whole reply, before any `max_tokens` cut.
    pub fn reply_for(request: &ChatRequest) -> String {
        request
            .messages
            .iter()
            .rev()
            .find(|m| m.role == ChatRole::User)
            .map(|m| format!("Echo: {}", m.content))
            .unwrap_or_else(|| NOTHING_TO_ECHO.to_owned())
    }

    /// The reply split after each run of whitespace: the pieces join back to
    /// the reply exactly.
    pub fn pieces(reply: &str) -> Vec<&str> {
        let mut pieces = Vec::new();
        let mut start = 0;
        let mut in_space = false;
        for (at, ch) in reply.char_indices() {
            if in_space && !ch.is_whitespace() {
                pieces.push(&reply[start..at]);
                start = at;
            }
            in_space = ch.is_whitespace();
        }
        if start < reply.len() {
            pieces.push(&reply[start..]);
        }
        pieces
    }

    /// The longest run of whole pieces within `max_tokens`, and whether the
    /// reply had to be cut.
    fn fit<'a>(&self, pieces: &[&'a str], max_tokens: Option<u32>) -> (Vec<&'a str>, bool) {
        let Some(max) = max_tokens.map(|m| m as usize) else {
            return (pieces.to_vec(), false);
        };
        let tokens = |n: usize| self.tokenizer.count(&pieces[..n].concat());
        if tokens(pieces.len()) <= max {
            return (pieces.to_vec(), false);
        }
        // Binary search on the number of pieces: a prefix never has more
        // tokens than a longer prefix.
        let (mut fits, mut too_many) = (0, pieces.len());
        while too_many - fits > 1 {
            let mid = (fits + too_many) / 2;
            if tokens(mid) <= max {
                fits = mid;
            } else {
                too_many = mid;
            }
        }
        (pieces[..fits].to_vec(), true)
    }
}

#[async_trait::async_trait]
impl Provider for Echo {
    async fn stream_chat(&self, request: ChatRequest) -> Result<ChatStream, ProviderError> {
        let reply = Echo::reply_for(&request);
        let (pieces, cut) = self.fit(&Echo::pieces(&reply), request.max_tokens);
        let text = pieces.concat();
        let usage = Usage {
            input_tokens: count(
                &*self.tokenizer,
                request.messages.iter().map(|m| m.content.as_str()),
            ),
            output_tokens: count(&*self.tokenizer, [text.as_str()]),
        };
        let finish = if cut {
            FinishReason::Length
        } else {
            FinishReason::Stop
        };
        let delay = self.piece_delay;
        let mut events: Vec<(Duration, ChatEvent)> = pieces
            .into_iter()
            .enumerate()
            .map(|(i, piece)| {
                (
                    if i == 0 { Duration::ZERO } else { delay },
                    ChatEvent::Delta(piece.to_owned()),
                )
            })
            .collect();
        events.push((Duration::ZERO, ChatEvent::Usage(usage)));
        events.push((Duration::ZERO, ChatEvent::Finished(finish)));
        Ok(Box::pin(futures_util::stream::unfold(
            events.into_iter(),
            |mut events| async move {
                let (wait, event) = events.next()?;
                if !wait.is_zero() {
                    tokio::time::sleep(wait).await;
                }
                Some((Ok(event), events))
            },
        )))
    }
}

fn count<'a>(tokenizer: &dyn Tokenizer, texts: impl IntoIterator<Item = &'a str>) -> u32 {
    let total: usize = texts.into_iter().map(|t| tokenizer.count(t)).sum();
    u32::try_from(total).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_join_back_to_the_reply() {
        for reply in ["Echo: hello  big\nworld ", "", "one", "  lead"] {
            assert_eq!(Echo::pieces(reply).concat(), reply);
        }
        assert_eq!(Echo::pieces("Echo: a  b"), ["Echo: ", "a  ", "b"]);
    }
}
